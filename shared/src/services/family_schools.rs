//! The schools a person belongs to as school scope reads them: a student's
//! or a staff member's own, a guardian's through their students (guardians
//! hold no school memberships of their own). Replies, reports and audiences
//! are scoped by them.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt as _, TryStreamExt as _, stream};

use crate::domain::{DistrictId, PersonId, PersonRole, SchoolId};
use crate::store::{PeopleStore, RosterIndex, StoreError, Stores};

/// Guardians whose students are read at once.
const CONCURRENT_READS: usize = 16;

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
    /// out; one with no school at all maps to an empty set). Their profiles
    /// are read in one batch, then the students of guardians without schools
    /// (a few reads in flight) and those students' profiles in another.
    pub async fn of(
        &self,
        district: &DistrictId,
        people: impl IntoIterator<Item = PersonId>,
    ) -> Result<HashMap<PersonId, BTreeSet<SchoolId>>, StoreError> {
        let profiles = self.roster.profiles(district, people.into_iter().collect()).await?;
        let guardians: Vec<PersonId> = profiles
            .values()
            .filter(|p| p.role == PersonRole::Guardian && p.schools.is_empty())
            .map(|p| p.id.clone())
            .collect();
        let families: Vec<(PersonId, Vec<PersonId>)> = stream::iter(guardians)
            .map(|guardian| async move {
                let students = self.people.students_of(district, &guardian).await?;
                Ok::<_, StoreError>((guardian, students.into_iter().map(|(student, _)| student).collect()))
            })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let students: BTreeSet<PersonId> = families.iter().flat_map(|(_, students)| students.iter().cloned()).collect();
        let of_students = self.roster.profiles(district, students.into_iter().collect()).await?;
        let mut schools: HashMap<PersonId, BTreeSet<SchoolId>> =
            profiles.into_iter().map(|(id, profile)| (id, profile.schools.into_iter().collect())).collect();
        for (guardian, students) in families {
            let found = students.iter().filter_map(|s| of_students.get(s)).flat_map(|p| p.schools.iter().cloned());
            schools.entry(guardian).or_default().extend(found);
        }
        Ok(schools)
    }
}
