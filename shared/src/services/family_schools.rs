//! The schools a person belongs to as school scope reads them: a student's
//! or a staff member's own, a guardian's through their students (guardians
//! hold no school memberships of their own). Replies, reports and audiences
//! are scoped by them.

use std::collections::{BTreeSet, HashMap};

use crate::domain::{DistrictId, PersonId, PersonRole, SchoolId};
use crate::store::{PeopleStore, RosterIndex, StoreError, Stores};

/// Reads people's schools, guardians' through their students.
#[derive(Clone)]
pub struct FamilySchools {
    roster: RosterIndex,
    people: PeopleStore,
}

impl FamilySchools {
    /// Over the stores.
    pub fn new(stores: &Stores) -> Self {
        Self { roster: stores.roster.clone(), people: stores.people.clone() }
    }

    /// Each known person's schools (a person who does not exist is left
    /// out; one with no school at all maps to an empty set). One profile read
    /// per person, and per guardian one read of their students and their
    /// students' profiles.
    pub async fn of(
        &self,
        district: &DistrictId,
        people: Vec<PersonId>,
    ) -> Result<HashMap<PersonId, BTreeSet<SchoolId>>, StoreError> {
        let profiles = self.roster.profiles(district, people).await?;
        let mut schools = HashMap::with_capacity(profiles.len());
        for (id, profile) in profiles {
            let mut found: BTreeSet<SchoolId> = profile.schools.iter().cloned().collect();
            if profile.role == PersonRole::Guardian && found.is_empty() {
                let students: Vec<PersonId> =
                    self.people.students_of(district, &id).await?.into_iter().map(|(s, _)| s).collect();
                let of_students = self.roster.profiles(district, students).await?;
                found.extend(of_students.into_values().flat_map(|p| p.schools));
            }
            schools.insert(id, found);
        }
        Ok(schools)
    }
}
