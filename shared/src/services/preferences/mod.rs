//! Preferences: read and change one person's (themself, or staff for them),
//! and the batch tool that sets reason × channel cells for many people.
//!
//! Rules kept here: only channels the person has; text is switched on only
//! by the person, or by an admin for one person with the consent recorded,
//! never in batch; household phone settings reach every active member of the
//! household; every change is written with an audit entry. The district's
//! defaults may name text reasons: they apply to people whose consent is
//! recorded and, under `number_provided`, to everybody (see
//! [`crate::domain::TextRule`]).
//!
//! - this file: the service, what it reads of a person, the district's defaults.
//! - `person`: one person's view (with the text verdict per reason), update and audit trail.
//! - `consent`: consent recorded by the SIS's consent column or a text saying YES.
//! - `audience`: who a batch reaches (its mode and filter, the caller's scope).
//! - `batch`: the batch tool's request and its run, step by step.
//! - `grid`: the batch tool's answer, the results grid.

mod audience;
mod batch;
mod consent;
mod grid;
mod person;

#[cfg(test)]
mod fixture;

use std::sync::Arc;

use serde_json::Value;

use crate::domain::{
    Channel, DistrictId, PersonId, PreferenceDefaults, PreferenceRecord, Principal, SchoolId, channels_of,
};
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{BroadcastStore, PeopleStore, PreferenceStore, RosterIndex, Stores};

pub use audience::{BatchFilter, BatchMode};
pub use batch::BatchRequest;
pub use consent::{ConsentAuthor, ConsentRecorder, ConsentWord};
pub use grid::{BatchResult, GridCell};
pub use person::{ConsentInput, PreferencesUpdate, PreferencesView};

/// Reads a batch keeps in flight.
const CONCURRENT_READS: usize = 16;

/// What a use case needs to know about one person.
struct Loaded {
    id: PersonId,
    schools: Vec<SchoolId>,
    household: Option<String>,
    active: bool,
    channels: Vec<Channel>,
    record: PreferenceRecord,
}

/// Resolves a saved list into people, for the batch tool's `list` filter.
#[async_trait::async_trait]
pub trait ListResolver: Send + Sync {
    /// The list's students and staff, if the caller may see it.
    async fn students_and_staff(
        &self,
        caller: &Principal,
        list: &str,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError>;

    /// The students and staff an ad hoc list rule matches, within the caller's scope.
    async fn rule_students_and_staff(
        &self,
        caller: &Principal,
        rule: &Value,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError>;
}

/// The preference use cases.
#[derive(Clone)]
pub struct PreferenceService {
    people: PeopleStore,
    roster: RosterIndex,
    store: PreferenceStore,
    /// The district's settings (its text consent policy).
    settings: BroadcastStore,
    /// Who may manage whose preferences (token roles and stored assignments).
    roles: RoleService,
    defaults: PreferenceDefaults,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    lists: Option<Arc<dyn ListResolver>>,
}

impl PreferenceService {
    /// A service over the stores; `defaults` serve districts that set none.
    pub fn new(
        stores: &Stores,
        defaults: PreferenceDefaults,
        roles: RoleService,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
    ) -> Self {
        Self {
            people: stores.people.clone(),
            roster: stores.roster.clone(),
            store: stores.preferences.clone(),
            settings: stores.broadcasts.clone(),
            roles,
            defaults,
            clock,
            ids,
            lists: None,
        }
    }

    /// Lets batches filter by saved lists.
    #[must_use]
    pub fn with_lists(mut self, lists: Arc<dyn ListResolver>) -> Self {
        self.lists = Some(lists);
        self
    }

    /// Reads what preferences need of a person (profile, contact points and
    /// preferences; never the audit trail or the links).
    async fn load(&self, district: &DistrictId, id: &PersonId) -> Result<Option<Loaded>, ServiceError> {
        Ok(self.people.with_preferences(district, id).await?.map(|person| Loaded {
            channels: channels_of(&person.contacts),
            id: person.id,
            schools: person.schools,
            household: person.household,
            active: person.active,
            record: person.preferences,
        }))
    }

    /// The district's defaults: stored by its admin, or the built-in ones.
    async fn defaults_for(&self, district: &DistrictId) -> Result<PreferenceDefaults, ServiceError> {
        Ok(self.store.defaults(district).await?.unwrap_or_else(|| self.defaults.clone()))
    }

    /// The defaults that fill what nobody set, for the caller's district.
    pub async fn district_defaults(&self, caller: &Principal) -> Result<PreferenceDefaults, ServiceError> {
        self.defaults_for(&caller.district).await
    }

    /// Replaces the district's defaults (district admins). Text defaults
    /// (`on.text`) may be named: they never text anyone whose consent the
    /// district's policy still waits for (see [`crate::domain::TextRule`]);
    /// without them, text follows the cell phone's defaults.
    pub async fn set_district_defaults(
        &self,
        caller: &Principal,
        defaults: &PreferenceDefaults,
    ) -> Result<PreferenceDefaults, ServiceError> {
        if !self.roles.grants(caller).await?.is_district_admin() {
            return Err(ServiceError::Forbidden("only district admins set the district's defaults".into()));
        }
        self.store.set_defaults(&caller.district, defaults).await?;
        tracing::info!(district = %caller.district, by = %caller.subject, "preference defaults replaced");
        Ok(defaults.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::fixture::{World, admin, id, principal};
    use super::*;
    use crate::domain::ContactReason;
    use crate::domain::Role;

    #[tokio::test]
    async fn a_district_without_defaults_of_its_own_gets_the_built_in_ones() {
        let world = World::new().await;
        assert_eq!(world.service.district_defaults(&admin()).await.unwrap(), PreferenceDefaults::default());
    }

    #[tokio::test]
    async fn defaults_an_admin_stores_serve_the_district_from_then_on() {
        let world = World::new().await;
        let defaults = PreferenceDefaults { on: BTreeMap::from([(Channel::Email, vec![ContactReason::Emergency])]) };
        world.service.set_district_defaults(&admin(), &defaults).await.unwrap();
        assert_eq!(world.service.district_defaults(&admin()).await.unwrap(), defaults);
    }

    #[tokio::test]
    async fn a_district_names_text_defaults_and_only_district_admins_set_defaults() {
        let world = World::new().await;
        let texts = PreferenceDefaults { on: BTreeMap::from([(Channel::Text, vec![ContactReason::General])]) };
        world.service.set_district_defaults(&admin(), &texts).await.unwrap();
        assert_eq!(world.service.district_defaults(&admin()).await.unwrap(), texts);
        world.service.set_district_defaults(&admin(), &PreferenceDefaults::default()).await.unwrap();
        let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
        let refused = world.service.set_district_defaults(&school_admin, &PreferenceDefaults::default()).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
        assert_eq!(world.service.district_defaults(&admin()).await.unwrap(), PreferenceDefaults::default());
    }

    #[tokio::test]
    async fn a_loaded_person_has_text_when_they_have_a_cell_phone() {
        let world = World::new().await;
        let parent = world.service.load(&admin().district, &id("g-1")).await.unwrap().unwrap();
        assert!(parent.active && parent.channels.contains(&Channel::Text), "{:?}", parent.channels);
        assert_eq!(parent.household.as_deref(), Some("h-1"));
        assert!(world.service.load(&admin().district, &id("nobody")).await.unwrap().is_none());
    }
}
