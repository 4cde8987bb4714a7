//! What passes between one of the deployment's sending numbers and one
//! recipient, as carriers see it: the recipient's opt-out of that number,
//! and the district that last texted them from it.
//!
//! Carriers keep opt-outs per pair (sending number, recipient): a STOP to a
//! number shared by several districts stops every district that texts from
//! it, and a STOP to a number nobody holds is still a STOP. So these items
//! are the operator's, keyed by the recipient (one partition holds all of a
//! recipient's pairs, and the send step reads a group of recipients in one
//! batched query), never by a district.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | the recipient's word on a sending number | `SYSTEM#SMSPAIR#+1…` | `OPTOUT#+1…` |
//! | the district that last texted the recipient from a number (TTL 1 year) | `SYSTEM#SMSPAIR#+1…` | `LAST#+1…` or `LAST#*` |
//!
//! `LAST#*` is a text that went from the provider's default number (the
//! district has none assigned, so the adapter's own origination applies).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::items::record_text;
use super::{StoreError, record_from, record_item};
use crate::domain::{DistrictId, PhoneNumber};
use crate::ports::{BatchOp, Condition, Item, Key, Query, SortKey, Table, WriteOp};

const OPT_OUT_PREFIX: &str = "OPTOUT#";
const LAST_PREFIX: &str = "LAST#";
/// The sending number of a text that went from the provider's default.
const DEFAULT_NUMBER: &str = "*";
/// How long the last texting district is remembered for routing replies.
const LAST_TEXTED_TTL_SECONDS: i64 = 365 * 24 * 3600;
/// How old the record of the district that texted a recipient last may
/// grow before the same district texting them again writes it anew. Until
/// then nothing changes for their replies, so nothing is written: a
/// district that texts the same families every day would otherwise rewrite
/// one record per text (a write unit each on DynamoDB). A week keeps the
/// year-long expiry far away.
const LAST_TEXTED_REFRESH_SECONDS: i64 = 7 * 24 * 3600;

fn pair_pk(recipient: &PhoneNumber) -> String {
    format!("SYSTEM#SMSPAIR#{}", recipient.as_e164())
}

/// A recipient's last word on one sending number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairOptOut {
    /// Whether they are opted out of texts from that number now.
    pub opted_out: bool,
    /// When they said so.
    pub at: DateTime<Utc>,
    /// What they said (`reply:STOP`, `reply:START`).
    pub event: String,
}

#[derive(Serialize, Deserialize)]
struct LastTexted {
    district: DistrictId,
    at: DateTime<Utc>,
    expires_at: i64,
}

/// Opt-outs by (sending number, recipient) and who last texted whom.
#[derive(Clone)]
pub struct SmsPairStore {
    table: Arc<dyn Table>,
}

impl SmsPairStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The write of a recipient's word on a sending number (`sending` as
    /// the provider reported the number they texted), for the transaction
    /// that records the reply it came in.
    pub fn opt_out_op(&self, recipient: &PhoneNumber, sending: &str, word: &PairOptOut) -> Result<WriteOp, StoreError> {
        let item = record_item(pair_pk(recipient), format!("{OPT_OUT_PREFIX}{sending}"), word)?;
        Ok(WriteOp::Put { item, condition: Condition::None })
    }

    /// Which of these recipients opted out of texts from `sending`: one
    /// batched read. A text from the provider's
    /// default number (`sending` is `None`) cannot be matched to a pair, so
    /// an opt-out of any number counts unless `held_elsewhere` says another
    /// district holds that number.
    pub async fn opted_out(
        &self,
        recipients: &[PhoneNumber],
        sending: Option<&PhoneNumber>,
        held_elsewhere: &HashSet<String>,
    ) -> Result<HashSet<PhoneNumber>, StoreError> {
        if recipients.is_empty() {
            return Ok(HashSet::new());
        }
        let items: Vec<Vec<Item>> = match sending {
            // One key each: a batched get (DynamoDB reads 100 a request).
            Some(number) => {
                let sk = format!("{OPT_OUT_PREFIX}{}", number.as_e164());
                let keys: Vec<Key> = recipients.iter().map(|r| Key::new(pair_pk(r), sk.clone())).collect();
                self.table.get_many(&keys).await?.into_iter().map(|item| item.into_iter().collect()).collect()
            }
            None => {
                let prefix = SortKey::BeginsWith(OPT_OUT_PREFIX.into());
                let queries: Vec<Query> =
                    recipients.iter().map(|r| Query::partition(pair_pk(r)).sort(prefix.clone())).collect();
                self.table.query_many(&queries).await?.into_iter().map(|page| page.items).collect()
            }
        };
        let mut out = HashSet::new();
        for (recipient, items) in recipients.iter().zip(items) {
            for item in items {
                let number = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default();
                let number = number.strip_prefix(OPT_OUT_PREFIX).unwrap_or_default().to_string();
                let word: PairOptOut = record_from(item)?;
                if word.opted_out && !held_elsewhere.contains(&number) {
                    out.insert(recipient.clone());
                }
            }
        }
        Ok(out)
    }

    /// Remembers that `district` texted these recipients from `sending`
    /// (`None`: the provider's default number), so their replies to that
    /// number reach it. Written before the texts go, in batches, and only
    /// where it changes something: a recipient this district texted last
    /// from that number within [`LAST_TEXTED_REFRESH_SECONDS`] is left as
    /// it is (one batched read finds them). Two districts texting one
    /// recipient from one shared number at the same moment race here as
    /// they did when every text wrote: either may end up the one replies go to.
    pub async fn texted(
        &self,
        district: &DistrictId,
        recipients: &[PhoneNumber],
        sending: Option<&PhoneNumber>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sk = format!("{LAST_PREFIX}{}", sending.map_or(DEFAULT_NUMBER, PhoneNumber::as_e164));
        let keys: Vec<Key> = recipients.iter().map(|r| Key::new(pair_pk(r), sk.clone())).collect();
        let stored = self.table.get_many(&keys).await?;
        let last =
            LastTexted { district: district.clone(), at: now, expires_at: now.timestamp() + LAST_TEXTED_TTL_SECONDS };
        let ops = keys
            .into_iter()
            .zip(stored)
            .filter(|(_, stored)| {
                // A record that no longer reads is written anew.
                let stored = stored.clone().and_then(|item| record_from::<LastTexted>(item).ok());
                !stored.is_some_and(|stored| {
                    stored.district == *district && (now - stored.at).num_seconds() < LAST_TEXTED_REFRESH_SECONDS
                })
            })
            .map(|(key, _)| Ok(BatchOp::PutText(record_text(key, &last)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if !ops.is_empty() {
            self.table.batch_write(ops).await?;
        }
        Ok(())
    }

    /// The district that last texted the recipient from `sending` (as the
    /// provider reports the number they texted), else the one that last
    /// texted them from the provider's default number.
    pub async fn last_texted_by(
        &self,
        recipient: &PhoneNumber,
        sending: &str,
    ) -> Result<Option<DistrictId>, StoreError> {
        for number in [sending, DEFAULT_NUMBER] {
            let key = Key::new(pair_pk(recipient), format!("{LAST_PREFIX}{number}"));
            if let Some(item) = self.table.get(&key).await? {
                return Ok(Some(record_from::<LastTexted>(item)?.district));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(text).unwrap()
    }

    fn word(opted_out: bool) -> PairOptOut {
        PairOptOut { opted_out, at: Utc.with_ymd_and_hms(2026, 12, 4, 17, 0, 0).unwrap(), event: "reply:STOP".into() }
    }

    #[tokio::test]
    async fn an_opt_out_holds_for_its_sending_number_only() {
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
        let store = SmsPairStore::new(Arc::clone(&table));
        let (ana, ben) = (number("+16175552345"), number("+16175552346"));
        let (ours, theirs) = (number("+18005550000"), number("+18005550001"));
        table.transact_write(vec![store.opt_out_op(&ana, ours.as_e164(), &word(true)).unwrap()]).await.unwrap();
        let none = HashSet::new();
        let both = [ana.clone(), ben.clone()];
        assert_eq!(store.opted_out(&both, Some(&ours), &none).await.unwrap(), HashSet::from([ana.clone()]));
        assert!(store.opted_out(&both, Some(&theirs), &none).await.unwrap().is_empty());
        // From the provider's default number: any opt-out counts, but not one of a number another district holds.
        assert_eq!(store.opted_out(&both, None, &none).await.unwrap(), HashSet::from([ana.clone()]));
        let held = HashSet::from([ours.as_e164().to_string()]);
        assert!(store.opted_out(&both, None, &held).await.unwrap().is_empty());

        table.transact_write(vec![store.opt_out_op(&ana, ours.as_e164(), &word(false)).unwrap()]).await.unwrap();
        assert!(store.opted_out(&both, Some(&ours), &none).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_last_district_to_text_a_recipient_from_a_number_is_remembered() {
        let store = SmsPairStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let (a, b) = (DistrictId::parse("a").unwrap(), DistrictId::parse("b").unwrap());
        let ana = number("+16175552345");
        let shared = number("+18005550000");
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 17, 0, 0).unwrap();
        assert_eq!(store.last_texted_by(&ana, shared.as_e164()).await.unwrap(), None);
        store.texted(&a, std::slice::from_ref(&ana), Some(&shared), now).await.unwrap();
        store.texted(&b, std::slice::from_ref(&ana), None, now).await.unwrap();
        assert_eq!(store.last_texted_by(&ana, shared.as_e164()).await.unwrap(), Some(a.clone()));
        assert_eq!(store.last_texted_by(&ana, "+18005550009").await.unwrap(), Some(b.clone()));
        store.texted(&b, std::slice::from_ref(&ana), Some(&shared), now).await.unwrap();
        assert_eq!(store.last_texted_by(&ana, shared.as_e164()).await.unwrap(), Some(b));
    }

    #[tokio::test]
    async fn texting_again_writes_only_when_the_district_changed_or_its_record_is_a_week_old() {
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
        let store = SmsPairStore::new(Arc::clone(&table));
        let (a, b) = (DistrictId::parse("a").unwrap(), DistrictId::parse("b").unwrap());
        let both = [number("+16175552345"), number("+16175552346")];
        let shared = number("+18005550000");
        let monday = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
        let writes = |table: &Arc<dyn Table>| table.stats().items_written;
        let texted = |district: &DistrictId, recipients: &[PhoneNumber], at: DateTime<Utc>| {
            let (store, district, recipients, shared) =
                (store.clone(), district.clone(), recipients.to_vec(), shared.clone());
            async move { store.texted(&district, &recipients, Some(&shared), at).await.unwrap() }
        };

        texted(&a, &both, monday).await;
        let first = writes(&table);
        assert_eq!(first, 2, "both recipients are new");
        texted(&a, &both, monday + chrono::Duration::days(6)).await;
        assert_eq!(writes(&table), first, "same district within the week: nothing written");
        texted(&b, &both[..1], monday + chrono::Duration::days(6)).await;
        assert_eq!(writes(&table), first + 1, "another district: written");
        assert_eq!(store.last_texted_by(&both[0], shared.as_e164()).await.unwrap(), Some(b.clone()));
        texted(&a, &both, monday + chrono::Duration::days(6)).await;
        assert_eq!(writes(&table), first + 2, "back to the first district for the one b texted; the other unchanged");
        assert_eq!(store.last_texted_by(&both[0], shared.as_e164()).await.unwrap(), Some(a.clone()));
        texted(&a, &both, monday + chrono::Duration::days(7)).await;
        assert_eq!(writes(&table), first + 3, "the untouched record is a week old: refreshed; the other is a day old");
    }
}
