//! Which numbers and addresses a delivery report shows: each delivery's
//! contact is unmasked only for a caller who may see contacts (the
//! clean-up list) in a school of that delivery's people — a student's or
//! staff member's own schools, a guardian's through their students.
//! District admins see every contact. A broadcast may span schools, so this
//! is decided per delivery, never once for the whole broadcast.

use std::collections::BTreeSet;

use super::BroadcastService;
use crate::domain::roles::Grants;
use crate::domain::{Delivery, DistrictId, PersonId, SchoolId};
use crate::services::ServiceError;

/// Where a caller may see contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ContactScope {
    /// Everywhere (district admins).
    Everywhere,
    /// In these schools (none: every contact is masked).
    At(BTreeSet<SchoolId>),
}

impl ContactScope {
    /// The caller's scope, from their grants.
    pub(super) fn of(grants: &Grants) -> Self {
        if grants.is_district_admin() {
            return ContactScope::Everywhere;
        }
        ContactScope::At(grants.schools().into_iter().filter(|s| grants.may_view_cleanup(s)).collect())
    }

    /// Whether the caller sees some contact in one of `schools`.
    pub(super) fn covers_any(&self, schools: &[SchoolId]) -> bool {
        match self {
            ContactScope::Everywhere => true,
            ContactScope::At(mine) => schools.iter().any(|s| mine.contains(s)),
        }
    }
}

impl BroadcastService {
    /// For each delivery, in order, whether `scope` shows its contact
    /// unmasked: when one of its people belongs to a school of the scope.
    /// The people's schools are read once for all the deliveries (profiles,
    /// and for guardians their students', a few reads in flight).
    pub(super) async fn unmasked(
        &self,
        district: &DistrictId,
        scope: &ContactScope,
        deliveries: &[Delivery],
    ) -> Result<Vec<bool>, ServiceError> {
        let ContactScope::At(mine) = scope else { return Ok(vec![true; deliveries.len()]) };
        if mine.is_empty() {
            return Ok(vec![false; deliveries.len()]);
        }
        let people: BTreeSet<PersonId> =
            deliveries.iter().filter(|d| d.point.contact().is_some()).flat_map(|d| d.people.iter().cloned()).collect();
        let schools = self.family.of(district, people).await?;
        let sees = |person: &PersonId| schools.get(person).is_some_and(|of| of.iter().any(|s| mine.contains(s)));
        Ok(deliveries.iter().map(|d| d.people.iter().any(sees)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Principal, Role};

    fn test_principal(subject: &str, roles: &[Role], schools: &[&str]) -> Principal {
        Principal {
            subject: subject.into(),
            district: DistrictId::parse("d-1").unwrap(),
            roles: roles.to_vec(),
            schools: schools.iter().map(|s| SchoolId::parse(*s).unwrap()).collect(),
        }
    }

    fn schools(ids: &[&str]) -> Vec<SchoolId> {
        ids.iter().map(|s| SchoolId::parse(*s).unwrap()).collect()
    }

    #[test]
    fn contacts_are_seen_where_the_clean_up_list_is_and_everywhere_by_district_admins() {
        let viewer = ContactScope::of(&Grants::from_token(&test_principal("u", &[Role::SchoolViewer], &["s-1"])));
        assert!(viewer.covers_any(&schools(&["s-2", "s-1"])));
        assert!(!viewer.covers_any(&schools(&["s-2"])));
        let teacher = ContactScope::of(&Grants::from_token(&test_principal("u", &[Role::Teacher], &["s-1"])));
        assert_eq!(teacher, ContactScope::At(BTreeSet::new()), "teachers see no contacts");
        let admin = ContactScope::of(&Grants::from_token(&test_principal("u", &[Role::DistrictAdmin], &[])));
        assert!(admin.covers_any(&[]));
    }
}
