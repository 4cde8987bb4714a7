//! People: create a person with contact points, read one back, within the
//! caller's district and scope.

use crate::domain::{Person, PersonId, PersonInput, Principal, Region};
use crate::services::ServiceError;
use crate::store::{PeopleStore, StoreError};

/// The people use cases.
#[derive(Clone)]
pub struct PeopleService {
    store: PeopleStore,
    region: Region,
}

impl PeopleService {
    /// A service over the store; `region` resolves national phone numbers.
    pub fn new(store: PeopleStore, region: Region) -> Self {
        Self { store, region }
    }

    /// Validates and creates a person in the caller's district. Needs a role
    /// that manages every school the person belongs to; 409 if the id exists.
    pub async fn create(&self, caller: &Principal, input: &PersonInput) -> Result<Person, ServiceError> {
        let person = Person::from_input(input, self.region)?;
        if !caller.may_manage_person(&person.schools) {
            return Err(ServiceError::Forbidden("your role may not create people in these schools".into()));
        }
        match self.store.create(&caller.district, &person).await {
            Ok(()) => {
                tracing::info!(district = %caller.district, person = %person.id, contacts = person.contacts.len(), "person created");
                Ok(person)
            }
            Err(StoreError::AlreadyExists) => {
                Err(ServiceError::Conflict(format!("person `{}` already exists", person.id)))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The person, if they are in the caller's district and the caller may
    /// read them (themself, a district admin, or staff of their school).
    /// Anyone else is answered as if they did not exist: the same 404.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<Person, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("no person `{id}`"));
        let id = PersonId::parse(id).map_err(|_| not_found())?;
        let person = self.store.get(&caller.district, &id).await?.ok_or_else(not_found)?;
        if !caller.may_read_person(id.as_str(), &person.schools) {
            return Err(not_found());
        }
        Ok(person)
    }
}
