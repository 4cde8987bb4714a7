//! District settings (name, time zone, quiet hours, the HELP answer and
//! support contact): any staff member of the district reads them, only
//! district admins change them. The district's sending numbers are shown
//! here but belong to the operator of the deployment, who assigns them
//! (`SendingNumberService`): a district cannot name a number, so it cannot
//! take another district's replies.

use std::collections::BTreeSet;

use crate::domain::{DistrictSettings, DomainError, Principal};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{BroadcastStore, SendingNumberStore, Stores};

/// The district settings use cases.
#[derive(Clone)]
pub struct SettingsService {
    store: BroadcastStore,
    numbers: SendingNumberStore,
    roles: RoleService,
}

impl SettingsService {
    /// The service over the stores; `roles` answers who is a district admin.
    pub fn new(stores: &Stores, roles: RoleService) -> Self {
        Self { store: stores.broadcasts.clone(), numbers: stores.sending_numbers.clone(), roles }
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
        self.store.save_settings(&caller.district, &settings).await?;
        Ok(DistrictSettings { sms_numbers: assigned, ..settings })
    }
}
