//! District settings (name, time zone, quiet hours, the HELP answer and
//! support contact, sending numbers): any staff member of the district
//! reads them, only district admins change them.

use crate::domain::{DistrictSettings, Principal};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{BroadcastStore, Stores};

/// The district settings use cases.
#[derive(Clone)]
pub struct SettingsService {
    store: BroadcastStore,
    roles: RoleService,
}

impl SettingsService {
    /// The service over the stores; `roles` answers who is a district admin.
    pub fn new(stores: &Stores, roles: RoleService) -> Self {
        Self { store: stores.broadcasts.clone(), roles }
    }

    /// The district's settings (defaults when none were saved).
    pub async fn settings(&self, caller: &Principal) -> Result<DistrictSettings, ServiceError> {
        Ok(self.store.settings(&caller.district).await?)
    }

    /// Replaces the district's settings (district admins), validated first.
    pub async fn save(&self, caller: &Principal, settings: DistrictSettings) -> Result<DistrictSettings, ServiceError> {
        if !self.roles.grants(caller).await?.is_district_admin() {
            return Err(ServiceError::Forbidden("only district admins change district settings".into()));
        }
        let settings = settings.validate()?;
        self.store.save_settings(&caller.district, &settings).await?;
        Ok(settings)
    }
}
