//! SIS API keys: each key's record under its district, and the one index
//! that does not start with a district, because a SIS request names none.
//!
//! The index maps a key id to its district and nothing else. A key id is
//! random (`sk-` and 24 hex digits), so naming one reaches no district's
//! data; the caller's district is always the one the key's own record sits
//! under, read through the index, never one the request says. The record
//! keeps the secret's SHA-256 (to check a bearer key) and the secret sealed
//! under the deployment's key (to check an HMAC signature, which needs the
//! secret itself); the store sees both as opaque text.
//!
//! Record and index are written in one transaction. A revocation marks the
//! record and deletes the index entry; a rotation gives the old index entry
//! a time to live at the end of its grace, so the lookup forgets it then.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | a key (id, created_at, created_by, revoked_at, secret_hash, sealed_secret, version) | `D#d#SISKEYS` | `sk-…` |
//! | the key's district (`{"district": d}`, `expires_at` after a rotation) | `SYSTEM#SISKEY` | `sk-…` |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{StoreError, get_record, query_all, record_from, record_item};
use crate::domain::{DistrictId, SisKeyId, SisKeyInfo};
use crate::ports::table::EXPIRES_AT;
use crate::ports::{Condition, Key, Query, Table, TableError, WriteOp};

/// Partition of the map from a key id to its district.
pub const SIS_KEY_INDEX_PK: &str = "SYSTEM#SISKEY";

/// Partition of a district's SIS keys.
pub fn sis_keys_pk(district: &DistrictId) -> String {
    format!("D#{district}#SISKEYS")
}

/// A key as stored: what an admin may read, and what checks a presented key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SisKeyRecord {
    /// The key's id.
    pub id: SisKeyId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When it stops (stopped) working.
    pub revoked_at: Option<DateTime<Utc>>,
    /// SHA-256 of the secret, hex: a bearer key is checked against it.
    pub secret_hash: String,
    /// The secret sealed under the deployment's key (signatures need it).
    pub sealed_secret: String,
    /// Bumped by every change, so two admins' changes cannot cross.
    pub version: u64,
}

impl SisKeyRecord {
    /// What an admin reads of it.
    pub fn info(&self) -> SisKeyInfo {
        SisKeyInfo {
            id: self.id.clone(),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            revoked_at: self.revoked_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct IndexItem {
    district: DistrictId,
}

/// The SIS keys of every district.
#[derive(Clone)]
pub struct SisKeyStore {
    table: Arc<dyn Table>,
}

impl SisKeyStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    fn record_op(district: &DistrictId, record: &SisKeyRecord, condition: Condition) -> Result<WriteOp, StoreError> {
        let item = record_item(sis_keys_pk(district), record.id.to_string(), record)?;
        Ok(WriteOp::Put { item, condition })
    }

    /// The index entry; `until` gives it a time to live (a rotated key's end).
    fn index_op(
        district: &DistrictId,
        id: &SisKeyId,
        until: Option<DateTime<Utc>>,
        condition: Condition,
    ) -> Result<WriteOp, StoreError> {
        let mut item = record_item(SIS_KEY_INDEX_PK.into(), id.to_string(), &IndexItem { district: district.clone() })?;
        if let Some(until) = until {
            item.insert(EXPIRES_AT.into(), Value::from(until.timestamp()));
        }
        Ok(WriteOp::Put { item, condition })
    }

    fn at_version(version: u64) -> Condition {
        Condition::AttributeEquals("version".into(), Value::from(version))
    }

    async fn transact(&self, ops: Vec<WriteOp>, lost: StoreError) -> Result<(), StoreError> {
        match self.table.transact_write(ops).await {
            Err(TableError::ConditionFailed { .. }) => Err(lost),
            other => Ok(other?),
        }
    }

    /// Saves a new key and its index entry, all or nothing; `AlreadyExists`
    /// when its id is taken (in any district).
    pub async fn create(&self, district: &DistrictId, record: &SisKeyRecord) -> Result<(), StoreError> {
        let ops = vec![
            Self::record_op(district, record, Condition::NotExists)?,
            Self::index_op(district, &record.id, None, Condition::NotExists)?,
        ];
        self.transact(ops, StoreError::AlreadyExists).await
    }

    /// A district's key by id.
    pub async fn get(&self, district: &DistrictId, id: &SisKeyId) -> Result<Option<SisKeyRecord>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(sis_keys_pk(district), id.as_str())).await
    }

    /// Every key of the district (revoked ones too), by id.
    pub async fn all(&self, district: &DistrictId) -> Result<Vec<SisKeyRecord>, StoreError> {
        let items = query_all(self.table.as_ref(), Query::partition(sis_keys_pk(district))).await?;
        items.into_iter().map(record_from).collect()
    }

    /// The district a key belongs to, if the lookup still knows the key (a
    /// revoked key, or a rotated one past its grace, is gone from it).
    pub async fn district_of(&self, id: &SisKeyId) -> Result<Option<DistrictId>, StoreError> {
        let Some(item) = self.table.get(&Key::new(SIS_KEY_INDEX_PK, id.as_str())).await? else { return Ok(None) };
        Ok(Some(record_from::<IndexItem>(item)?.district))
    }

    /// Writes `record` (its `revoked_at` set now) over the version read, and
    /// deletes its index entry: the key never authenticates again.
    /// `Conflict` when the record changed meanwhile.
    pub async fn revoke(&self, district: &DistrictId, record: &SisKeyRecord, read: u64) -> Result<(), StoreError> {
        let ops = vec![
            Self::record_op(district, record, Self::at_version(read))?,
            WriteOp::Delete { key: Key::new(SIS_KEY_INDEX_PK, record.id.as_str()), condition: Condition::None },
        ];
        self.transact(ops, StoreError::Conflict).await
    }

    /// A rotation in one transaction: `old` (its `revoked_at` set to the end
    /// of its grace) over the version read, its index entry given that end
    /// as a time to live, and the `new` key with its index entry.
    /// `Conflict` when the old record changed meanwhile.
    pub async fn rotate(
        &self,
        district: &DistrictId,
        old: &SisKeyRecord,
        read: u64,
        new: &SisKeyRecord,
    ) -> Result<(), StoreError> {
        let ops = vec![
            Self::record_op(district, old, Self::at_version(read))?,
            Self::index_op(district, &old.id, old.revoked_at, Condition::Exists)?,
            Self::record_op(district, new, Condition::NotExists)?,
            Self::index_op(district, &new.id, None, Condition::NotExists)?,
        ];
        self.transact(ops, StoreError::Conflict).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn district(id: &str) -> DistrictId {
        DistrictId::parse(id).unwrap()
    }

    fn record(id: &SisKeyId) -> SisKeyRecord {
        SisKeyRecord {
            id: id.clone(),
            created_at: Utc::now(),
            created_by: "admin".into(),
            revoked_at: None,
            secret_hash: "00".repeat(32),
            sealed_secret: "sealed".into(),
            version: 1,
        }
    }

    #[tokio::test]
    async fn a_key_is_found_by_id_alone_and_a_revoked_key_is_gone_from_the_lookup() {
        let store = SisKeyStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let (a, b) = (district("district-a"), district("district-b"));
        let (one, two) = (SisKeyId::generate(), SisKeyId::generate());
        store.create(&a, &record(&one)).await.unwrap();
        store.create(&b, &record(&two)).await.unwrap();
        assert_eq!(store.district_of(&one).await.unwrap(), Some(a.clone()));
        assert_eq!(store.district_of(&two).await.unwrap(), Some(b.clone()));
        assert!(store.get(&b, &one).await.unwrap().is_none(), "another district's key is not under b");
        assert!(matches!(store.create(&b, &record(&one)).await, Err(StoreError::AlreadyExists)));
        assert_eq!(store.district_of(&one).await.unwrap(), Some(a.clone()), "the refused write left nothing");

        let mut revoked = record(&one);
        revoked.revoked_at = Some(Utc::now());
        revoked.version = 2;
        store.revoke(&a, &revoked, 1).await.unwrap();
        assert_eq!(store.district_of(&one).await.unwrap(), None);
        assert_eq!(store.get(&a, &one).await.unwrap(), Some(revoked.clone()), "the record stays, marked");
        assert!(matches!(store.revoke(&a, &revoked, 1).await, Err(StoreError::Conflict)), "a stale version");
        assert_eq!(store.all(&a).await.unwrap(), [revoked]);
    }

    #[tokio::test]
    async fn a_rotation_writes_the_new_key_and_ends_the_old_one_s_lookup_with_its_grace() {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        let store = SisKeyStore::new(table.clone());
        let d = district("district-a");
        let (old_id, new_id) = (SisKeyId::generate(), SisKeyId::generate());
        store.create(&d, &record(&old_id)).await.unwrap();
        let mut old = record(&old_id);
        let end = Utc::now() + chrono::Duration::hours(24);
        (old.revoked_at, old.version) = (Some(end), 2);
        store.rotate(&d, &old, 1, &record(&new_id)).await.unwrap();
        assert_eq!(store.district_of(&old_id).await.unwrap(), Some(d.clone()), "still in its grace");
        assert_eq!(store.district_of(&new_id).await.unwrap(), Some(d.clone()));
        let index = table.get(&Key::new(SIS_KEY_INDEX_PK, old_id.as_str())).await.unwrap().unwrap();
        assert_eq!(index.get(EXPIRES_AT).and_then(Value::as_i64), Some(end.timestamp()));
        let again = store.rotate(&d, &old, 1, &record(&SisKeyId::generate())).await;
        assert!(matches!(again, Err(StoreError::Conflict)));
        assert_eq!(store.all(&d).await.unwrap().len(), 2, "the lost rotation wrote nothing");
    }
}
