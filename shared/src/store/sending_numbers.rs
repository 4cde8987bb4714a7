//! Sending numbers and who owns them. A number belongs to the operator of
//! the deployment, who assigns it to one district or marks it shared by
//! every district; the assignment is a conditional write, so no district can
//! take a number another one holds. Replies, STOPs and HELPs arrive by the
//! number they were sent to and follow this map.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | a sending number (`{"district": d}` or `{"shared": true}`) | `SYSTEM#SMS_NUMBERS` | `+1…` |

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{StoreError, query_all, record_from, record_item};
use crate::domain::{DistrictId, PhoneNumber};
use crate::ports::{Condition, Key, Query, Table, TableError};

/// Partition of the map from a sending number to its owner.
pub const SMS_NUMBERS_PK: &str = "SYSTEM#SMS_NUMBERS";

/// Who a sending number belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberOwner {
    /// One district texts from it; its replies are that district's.
    District(DistrictId),
    /// Every district may text from it (the deployment's shared number).
    Shared,
}

/// Where a district's texts go from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextingNumber {
    /// The number (`None`: the provider's default origination).
    pub number: Option<PhoneNumber>,
    /// Whether it is the district's own: replies to it are the district's
    /// without remembering who texted whom.
    pub own: bool,
    /// Numbers other districts hold (E.164): an opt-out of one of those is
    /// not an opt-out of this district's texts.
    pub held_elsewhere: std::collections::HashSet<String>,
}

/// The stored form: `{"district": "d"}` (as every item written before
/// shared numbers existed) or `{"shared": true}`.
#[derive(Serialize, Deserialize)]
struct OwnerItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    district: Option<DistrictId>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    shared: bool,
}

impl OwnerItem {
    fn of(owner: &NumberOwner) -> Self {
        match owner {
            NumberOwner::District(district) => Self { district: Some(district.clone()), shared: false },
            NumberOwner::Shared => Self { district: None, shared: true },
        }
    }

    fn owner(self) -> Result<NumberOwner, StoreError> {
        match (self.district, self.shared) {
            (Some(district), false) => Ok(NumberOwner::District(district)),
            (None, true) => Ok(NumberOwner::Shared),
            _ => Err(StoreError::corrupt("a sending number is neither a district's nor shared")),
        }
    }
}

/// The sending numbers of the deployment.
#[derive(Clone)]
pub struct SendingNumberStore {
    table: Arc<dyn Table>,
}

impl SendingNumberStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Assigns a number: one conditional write. Assigning it again to the
    /// same owner is a no-op; a number someone else holds is `AlreadyExists`
    /// (release it first).
    pub async fn assign(&self, number: &PhoneNumber, owner: &NumberOwner) -> Result<(), StoreError> {
        let item = record_item(SMS_NUMBERS_PK.into(), number.as_e164().to_string(), &OwnerItem::of(owner))?;
        match self.table.put(item, Condition::NotExists).await {
            Ok(()) => Ok(()),
            Err(TableError::ConditionFailed { .. }) if self.owner_of(number).await?.as_ref() == Some(owner) => Ok(()),
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::AlreadyExists),
            Err(other) => Err(other.into()),
        }
    }

    /// Releases a number (no district texts from it any more).
    pub async fn release(&self, number: &PhoneNumber) -> Result<(), StoreError> {
        Ok(self.table.delete(&Key::new(SMS_NUMBERS_PK, number.as_e164()), Condition::None).await?)
    }

    /// Who a number belongs to, if anyone. `number` is E.164 as a provider
    /// reports the number a text was sent to.
    pub async fn owner_of_raw(&self, number: &str) -> Result<Option<NumberOwner>, StoreError> {
        let Some(item) = self.table.get(&Key::new(SMS_NUMBERS_PK, number)).await? else { return Ok(None) };
        record_from::<OwnerItem>(item)?.owner().map(Some)
    }

    /// Who a number belongs to, if anyone.
    pub async fn owner_of(&self, number: &PhoneNumber) -> Result<Option<NumberOwner>, StoreError> {
        self.owner_of_raw(number.as_e164()).await
    }

    /// Every assigned number with its owner, in number order (a deployment
    /// has a handful: one partition).
    pub async fn all(&self) -> Result<Vec<(String, NumberOwner)>, StoreError> {
        let items = query_all(self.table.as_ref(), Query::partition(SMS_NUMBERS_PK)).await?;
        items
            .into_iter()
            .map(|item| {
                let number = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
                Ok((number, record_from::<OwnerItem>(item)?.owner()?))
            })
            .collect()
    }

    /// The number a district's texts go from: its own, else the first
    /// shared one, else none (the provider's default) — with the numbers
    /// other districts hold, whose opt-outs are theirs.
    pub async fn texting_number(&self, district: &DistrictId) -> Result<TextingNumber, StoreError> {
        let all = self.all().await?;
        let own = all.iter().find(|(_, o)| matches!(o, NumberOwner::District(d) if d == district));
        let shared = all.iter().find(|(_, o)| *o == NumberOwner::Shared);
        let number =
            own.or(shared).map(|(n, _)| PhoneNumber::parse_e164(n).map_err(StoreError::corrupt)).transpose()?;
        let held_elsewhere = all
            .iter()
            .filter(|(_, o)| matches!(o, NumberOwner::District(d) if d != district))
            .map(|(n, _)| n.clone())
            .collect();
        Ok(TextingNumber { number, own: own.is_some(), held_elsewhere })
    }

    /// The numbers a district texts from: its own, then the shared ones.
    pub async fn numbers_of(&self, district: &DistrictId) -> Result<Vec<String>, StoreError> {
        let all = self.all().await?;
        let own = all.iter().filter(|(_, o)| matches!(o, NumberOwner::District(d) if d == district));
        let shared = all.iter().filter(|(_, o)| *o == NumberOwner::Shared);
        Ok(own.chain(shared).map(|(number, _)| number.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(text).unwrap()
    }

    #[tokio::test]
    async fn a_number_held_by_one_district_cannot_be_taken_by_another() {
        let store = SendingNumberStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let (demo, evil) = (DistrictId::parse("demo").unwrap(), DistrictId::parse("evil").unwrap());
        let n = number("+16175550000");
        store.assign(&n, &NumberOwner::District(demo.clone())).await.unwrap();
        store.assign(&n, &NumberOwner::District(demo.clone())).await.unwrap();
        assert!(matches!(store.assign(&n, &NumberOwner::District(evil.clone())).await, Err(StoreError::AlreadyExists)));
        assert!(matches!(store.assign(&n, &NumberOwner::Shared).await, Err(StoreError::AlreadyExists)));
        assert_eq!(store.owner_of(&n).await.unwrap(), Some(NumberOwner::District(demo.clone())));

        let shared = number("+18005550123");
        store.assign(&shared, &NumberOwner::Shared).await.unwrap();
        assert_eq!(store.numbers_of(&demo).await.unwrap(), ["+16175550000", "+18005550123"]);
        assert_eq!(store.numbers_of(&evil).await.unwrap(), ["+18005550123"]);
        let demo_texts = store.texting_number(&demo).await.unwrap();
        assert_eq!((demo_texts.number, demo_texts.own), (Some(n.clone()), true));
        let evil_texts = store.texting_number(&evil).await.unwrap();
        assert_eq!((evil_texts.number, evil_texts.own), (Some(shared.clone()), false));
        assert!(evil_texts.held_elsewhere.contains(n.as_e164()));

        store.release(&n).await.unwrap();
        store.assign(&n, &NumberOwner::District(evil.clone())).await.unwrap();
        assert_eq!(store.owner_of(&n).await.unwrap(), Some(NumberOwner::District(evil)));
    }

    #[tokio::test]
    async fn numbers_mapped_before_ownership_existed_read_as_their_district_s() {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        let item = record_item(SMS_NUMBERS_PK.into(), "+16175550000".into(), &serde_json::json!({"district": "demo"}));
        table.put(item.unwrap(), Condition::None).await.unwrap();
        let store = SendingNumberStore::new(table);
        let owner = store.owner_of(&number("+16175550000")).await.unwrap();
        assert_eq!(owner, Some(NumberOwner::District(DistrictId::parse("demo").unwrap())));
    }
}
