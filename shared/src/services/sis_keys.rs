//! SIS API keys: a district admin creates, lists, rotates and revokes the
//! keys the district's SIS posts events with, and [`SisKeyService::authenticate`]
//! turns a presented key or signature into the district it belongs to.
//!
//! A key is shown once, at creation or rotation; the store keeps its
//! secret's SHA-256 (bearer keys are checked against it) and the secret
//! sealed under the deployment's key (an HMAC signature can only be checked
//! with the secret itself). Listing shows ids and dates, never a key or a
//! hash. Nothing here logs a key, a secret or a signature.
//!
//! Rotation keeps the old key working for [`ROTATION_GRACE_HOURS`] beside
//! the new one, then it stops by itself: a SIS is reconfigured by a person,
//! often through a vendor, and events posted in between must not be lost.
//! A key that may have leaked is revoked instead, which stops it at once.

mod seal;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::sis_key::{ROTATION_GRACE_HOURS, check_timestamp};
use crate::domain::{DistrictId, Principal, SisKey, SisKeyId, SisKeyInfo};
use crate::ports::Clock;
use crate::services::ServiceError;
use crate::services::cursors::CursorKey;
use crate::services::roles::RoleService;
use crate::store::{SisKeyRecord, SisKeyStore, StoreError, Stores};
use seal::SecretSealer;

/// A key as its admin is shown it, once: `{"id", "key"}`. `Debug` shows
/// the id only.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IssuedSisKey {
    /// The key's id (to list, rotate or revoke it).
    pub id: SisKeyId,
    /// The whole key, `sbk_<id>_<secret>`: never shown again.
    pub key: String,
}

impl fmt::Debug for IssuedSisKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedSisKey({}, ..)", self.id)
    }
}

/// How a SIS request presents its key (see `schoolbell::http::sis_credential`
/// for reading it from headers). `Debug` shows the key id only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SisCredential<'a> {
    /// The whole key, as `Authorization: Bearer <key>`.
    Bearer(&'a str),
    /// An HMAC-SHA256 signature of `"{timestamp}.{body}"` under the key.
    Signed {
        /// `X-Schoolbell-Key-Id`: the key's id.
        key_id: &'a str,
        /// `X-Schoolbell-Timestamp`: unix seconds when it was signed.
        timestamp: &'a str,
        /// `X-Schoolbell-Signature`: `v1=<hex>`.
        signature: &'a str,
    },
}

impl fmt::Debug for SisCredential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SisCredential::Bearer(_) => f.write_str("Bearer(..)"),
            SisCredential::Signed { key_id, .. } => write!(f, "Signed({key_id}, ..)"),
        }
    }
}

/// The SIS key use cases.
#[derive(Clone)]
pub struct SisKeyService {
    store: SisKeyStore,
    roles: RoleService,
    clock: Arc<dyn Clock>,
    sealer: SecretSealer,
}

/// The one answer for a key that does not authenticate, whatever the reason
/// (unknown, wrong, revoked, unsealable): the caller learns nothing more.
fn refused() -> ServiceError {
    ServiceError::Unauthorized("the SIS key is not valid (unknown, wrong or revoked)".into())
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("no such SIS key in this district".into())
}

impl SisKeyService {
    /// The service over the stores; `roles` answers who is a district admin,
    /// `clock` dates keys and judges timestamps, `deployment_key` (the
    /// cursor key) is what the sealing key is derived from.
    pub fn new(stores: &Stores, roles: RoleService, clock: Arc<dyn Clock>, deployment_key: &CursorKey) -> Self {
        Self { store: stores.sis_keys.clone(), roles, clock, sealer: SecretSealer::new(deployment_key) }
    }

    async fn district_admin(&self, caller: &Principal) -> Result<(), ServiceError> {
        if self.roles.grants(caller).await?.is_district_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only district admins manage SIS keys".into()))
        }
    }

    /// The stored record of a fresh key.
    fn record_of(&self, district: &DistrictId, key: &SisKey, by: &str, now: DateTime<Utc>) -> SisKeyRecord {
        SisKeyRecord {
            id: key.id().clone(),
            created_at: now,
            created_by: by.to_string(),
            revoked_at: None,
            secret_hash: key.secret().hash(),
            sealed_secret: self.sealer.seal(district, key.id(), key.secret()),
            version: 1,
        }
    }

    /// A new key for the caller's district (district admins), shown once.
    pub async fn create(&self, caller: &Principal) -> Result<IssuedSisKey, ServiceError> {
        self.district_admin(caller).await?;
        self.issue(&caller.district, &caller.subject).await
    }

    /// A new key for `district`, made by `by`, with no caller to check: the
    /// local command line's act (`schoolbell sis-keys create`), on the
    /// machine that holds the data.
    pub async fn issue(&self, district: &DistrictId, by: &str) -> Result<IssuedSisKey, ServiceError> {
        let key = SisKey::generate();
        let record = self.record_of(district, &key, by, self.clock.now());
        self.store.create(district, &record).await.map_err(|e| match e {
            StoreError::AlreadyExists => ServiceError::Conflict("a key id collided; create the key again".into()),
            other => other.into(),
        })?;
        tracing::info!(%district, key_id = %key.id(), by, "SIS key created");
        Ok(IssuedSisKey { id: key.id().clone(), key: key.expose() })
    }

    /// The district's keys, revoked ones too, by id: ids and dates only.
    pub async fn list(&self, caller: &Principal) -> Result<Vec<SisKeyInfo>, ServiceError> {
        self.district_admin(caller).await?;
        Ok(self.store.all(&caller.district).await?.iter().map(SisKeyRecord::info).collect())
    }

    /// The caller's district's key `id`; 404 for a malformed id, another
    /// district's key or none.
    async fn own(&self, caller: &Principal, id: &str) -> Result<SisKeyRecord, ServiceError> {
        let id = SisKeyId::parse(id).map_err(|_| not_found())?;
        self.store.get(&caller.district, &id).await?.ok_or_else(not_found)
    }

    fn lost_race(error: StoreError) -> ServiceError {
        match error {
            StoreError::Conflict => ServiceError::Conflict("the key changed meanwhile; read it again".into()),
            other => other.into(),
        }
    }

    /// Stops a key at once (district admins): it never authenticates again.
    /// Revoking a revoked key changes nothing; a rotated key still in its
    /// grace stops now.
    pub async fn revoke(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        self.district_admin(caller).await?;
        let record = self.own(caller, id).await?;
        let now = self.clock.now();
        if !record.info().is_active_at(now) {
            return Ok(());
        }
        let revoked = SisKeyRecord { revoked_at: Some(now), version: record.version + 1, ..record.clone() };
        self.store.revoke(&caller.district, &revoked, record.version).await.map_err(Self::lost_race)?;
        tracing::info!(district = %caller.district, key_id = %record.id, by = %caller.subject, "SIS key revoked");
        Ok(())
    }

    /// A new key in place of `id` (district admins), shown once; the old one
    /// keeps working for [`ROTATION_GRACE_HOURS`] (or less, if an earlier
    /// rotation ends it sooner), then stops. A revoked key is not rotated
    /// (409): create a new one.
    pub async fn rotate(&self, caller: &Principal, id: &str) -> Result<IssuedSisKey, ServiceError> {
        self.district_admin(caller).await?;
        let old = self.own(caller, id).await?;
        let now = self.clock.now();
        if !old.info().is_active_at(now) {
            return Err(ServiceError::Conflict("the key is revoked; create a new one".into()));
        }
        let grace_end = now + Duration::hours(ROTATION_GRACE_HOURS);
        let end = old.revoked_at.map_or(grace_end, |earlier| earlier.min(grace_end));
        let ending = SisKeyRecord { revoked_at: Some(end), version: old.version + 1, ..old.clone() };
        let key = SisKey::generate();
        let new = self.record_of(&caller.district, &key, &caller.subject, now);
        self.store.rotate(&caller.district, &ending, old.version, &new).await.map_err(Self::lost_race)?;
        tracing::info!(
            district = %caller.district, key_id = %old.id, new_key_id = %key.id(), by = %caller.subject, until = %end,
            "SIS key rotated"
        );
        Ok(IssuedSisKey { id: key.id().clone(), key: key.expose() })
    }

    /// The district whose SIS presented `credential` for a request with
    /// `body`; [`ServiceError::Unauthorized`] for anything that is not a
    /// live key of a district: a malformed, unknown, wrong or revoked key
    /// (a staff JWT is not a SIS key), a timestamp more than five minutes
    /// from now either way, or a signature that does not match the body.
    /// The district is always the one the key's record sits under.
    pub async fn authenticate(&self, credential: SisCredential<'_>, body: &[u8]) -> Result<DistrictId, ServiceError> {
        let now = self.clock.now();
        match credential {
            SisCredential::Bearer(text) => {
                let key = SisKey::parse(text.trim()).map_err(|e| ServiceError::Unauthorized(e.to_string()))?;
                let (district, record) = self.live_record(key.id(), now).await?;
                if !key.secret().matches_hash(&record.secret_hash) {
                    tracing::warn!(key_id = %record.id, "SIS request refused: wrong secret for the key id");
                    return Err(refused());
                }
                Ok(district)
            }
            SisCredential::Signed { key_id, timestamp, signature } => {
                let id = SisKeyId::parse(key_id).map_err(|e| ServiceError::Unauthorized(e.to_string()))?;
                check_timestamp(timestamp, now).map_err(|e| ServiceError::Unauthorized(e.to_string()))?;
                let (district, record) = self.live_record(&id, now).await?;
                let Some(secret) = self.sealer.open(&district, &id, &record.sealed_secret) else {
                    tracing::error!(
                        key_id = %id,
                        "a SIS key's sealed secret does not open: was the deployment's cursor key changed? \
                         Bearer keys still work; rotate the key"
                    );
                    return Err(refused());
                };
                let key = SisKey::new(id, secret);
                key.verify_signature(timestamp, body, signature, now).map_err(|e| {
                    tracing::warn!(key_id = %key.id(), reason = %e, "SIS request refused");
                    ServiceError::Unauthorized(e.to_string())
                })?;
                Ok(district)
            }
        }
    }

    /// The district and record of a key that works at `now`, or the one refusal.
    async fn live_record(&self, id: &SisKeyId, now: DateTime<Utc>) -> Result<(DistrictId, SisKeyRecord), ServiceError> {
        let Some(district) = self.store.district_of(id).await? else {
            tracing::warn!(key_id = %id, "SIS request refused: unknown or revoked key");
            return Err(refused());
        };
        match self.store.get(&district, id).await? {
            Some(record) if record.info().is_active_at(now) => Ok((district, record)),
            _ => {
                tracing::warn!(key_id = %id, "SIS request refused: revoked or expired key");
                Err(refused())
            }
        }
    }
}
