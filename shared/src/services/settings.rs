//! District settings (name, time zone, quiet hours, the HELP answer and
//! support contact): any staff member of the district reads them, only
//! district admins change them. The district's sending numbers are shown
//! here but belong to the operator of the deployment, who assigns them
//! (`SendingNumberService`): a district cannot name a number, so it cannot
//! take another district's replies. A change of the text consent policy
//! (who is texted without recorded consent) is audited with the settings
//! write, and its trail is for district admins.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::{DistrictSettings, DomainError, Principal};
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{BroadcastStore, SendingNumberStore, SettingsChange, SettingsHistoryStore, Stores};

/// Most audited changes one read answers.
pub const MAX_SETTINGS_HISTORY: u32 = 200;

/// The district settings use cases.
#[derive(Clone)]
pub struct SettingsService {
    store: BroadcastStore,
    numbers: SendingNumberStore,
    history: SettingsHistoryStore,
    roles: RoleService,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

impl SettingsService {
    /// The service over the stores; `roles` answers who is a district
    /// admin; `clock` and `ids` date and name audit entries.
    pub fn new(stores: &Stores, roles: RoleService, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self {
            store: stores.broadcasts.clone(),
            numbers: stores.sending_numbers.clone(),
            history: stores.settings_history.clone(),
            roles,
            clock,
            ids,
        }
    }

    /// The district's settings (defaults when none were saved), with the
    /// numbers it texts from (its own, then the shared ones). For staff:
    /// a district admin or anyone granted something in a school (families
    /// and students read what concerns them elsewhere).
    pub async fn settings(&self, caller: &Principal) -> Result<DistrictSettings, ServiceError> {
        let grants = self.roles.grants(caller).await?;
        if !grants.is_district_admin() && grants.schools().is_empty() {
            return Err(ServiceError::Forbidden("district settings are for the district's staff".into()));
        }
        let settings = self.store.settings(&caller.district).await?;
        Ok(DistrictSettings { sms_numbers: self.numbers.numbers_of(&caller.district).await?, ..settings })
    }

    /// Replaces the district's settings (district admins), validated first.
    /// `sms_numbers` is read-only: the same numbers (or none) are accepted,
    /// any other list is refused and nothing changes.
    pub async fn save(&self, caller: &Principal, settings: DistrictSettings) -> Result<DistrictSettings, ServiceError> {
        if !self.roles.grants(caller).await?.is_district_admin() {
            return Err(ServiceError::Forbidden("only district admins change district settings".into()));
        }
        let settings = settings.validate()?;
        let assigned = self.numbers.numbers_of(&caller.district).await?;
        let asked: BTreeSet<&String> = settings.sms_numbers.iter().collect();
        if !asked.is_empty() && asked != assigned.iter().collect() {
            return Err(DomainError::invalid(
                "sms_numbers: sending numbers are assigned by the operator of the deployment \
                 (`schoolbell numbers assign`); they cannot be changed here",
            )
            .into());
        }
        let before = self.store.settings(&caller.district).await?;
        let mut changes = Vec::new();
        if before.text_consent != settings.text_consent {
            let change = SettingsChange {
                setting: "text_consent".into(),
                from: before.text_consent.as_str().into(),
                to: settings.text_consent.as_str().into(),
                by: caller.subject.clone(),
                at: self.clock.now(),
            };
            tracing::info!(district = %caller.district, to = %change.to, "text consent policy changed");
            changes.push((change, self.ids.next_id()));
        }
        let write = self.store.settings_op(&caller.district, &settings)?;
        self.history.save(&caller.district, write, &changes).await?;
        Ok(DistrictSettings { sms_numbers: assigned, ..settings })
    }

    /// The audited changes of the district's settings, newest first
    /// (district admins).
    pub async fn history(&self, caller: &Principal, limit: u32) -> Result<Vec<SettingsChange>, ServiceError> {
        if !self.roles.grants(caller).await?.is_district_admin() {
            return Err(ServiceError::Forbidden("only district admins read the settings' history".into()));
        }
        Ok(self.history.history(&caller.district, limit.clamp(1, MAX_SETTINGS_HISTORY)).await?)
    }
}
