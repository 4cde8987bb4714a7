//! Who may do what: staff roles, a caller's scope and the rules over them.

use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::roles::Grants;
use super::{DistrictId, SchoolId};

named_enum!(
    /// A role a caller holds in a district (built-in roles; custom roles
    /// with permission sets come with the roles capability).
    Role, "role" {
        /// Everything in the district.
        DistrictAdmin => "district_admin",
        /// Runs their schools: people, broadcasts, personal messages.
        SchoolAdmin => "school_admin",
        /// Runs imports and data for their schools; no personal messages.
        TechnicalSchoolAdmin => "technical_school_admin",
        /// Reads their schools' data.
        SchoolViewer => "school_viewer",
        /// A teacher of their schools.
        Teacher => "teacher",
        /// A parent or guardian (portal): sees only themself and their students.
        Guardian => "guardian",
        /// A student (portal): sees only themself.
        Student => "student",
        /// The operator of the deployment (assigns sending numbers). Not a
        /// district role: only a token issued to the operator carries it,
        /// it grants nothing in a district, and it can never be assigned.
        Operator => "operator",
    }
);

/// The caller of a request, as their verified token describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user's id (a person id for parents, students and staff).
    pub subject: String,
    /// The only district the caller may touch.
    pub district: DistrictId,
    /// Roles held in that district.
    pub roles: Vec<Role>,
    /// Schools the school-level roles apply to.
    pub schools: Vec<SchoolId>,
}

impl Principal {
    /// The deployment's operator (from the token alone: stored role
    /// assignments never make one).
    pub fn is_operator(&self) -> bool {
        self.has(Role::Operator)
    }

    /// Holds the role.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn holds_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has(*role))
    }

    fn covers_all(&self, schools: &[SchoolId]) -> bool {
        !schools.is_empty() && schools.iter().all(|school| self.schools.contains(school))
    }

    fn covers_any(&self, schools: &[SchoolId]) -> bool {
        schools.iter().any(|school| self.schools.contains(school))
    }

    /// May create or change a person who belongs to `schools`: district
    /// admins always; school and technical admins when every school of the
    /// person is theirs (a person with no school is district-level).
    pub fn may_manage_person(&self, schools: &[SchoolId]) -> bool {
        self.has(Role::DistrictAdmin)
            || (self.holds_any(&[Role::SchoolAdmin, Role::TechnicalSchoolAdmin]) && self.covers_all(schools))
    }

    /// May define, run, approve and delete imports (district-wide data).
    pub fn may_manage_imports(&self) -> bool {
        self.has(Role::DistrictAdmin)
    }

    /// May read a person: district admins; staff roles sharing a school with
    /// them; and anyone reading themself.
    pub fn may_read_person(&self, person_id: &str, schools: &[SchoolId]) -> bool {
        self.subject == person_id
            || self.has(Role::DistrictAdmin)
            || (self.holds_any(&[Role::SchoolAdmin, Role::TechnicalSchoolAdmin, Role::SchoolViewer, Role::Teacher])
                && self.covers_any(schools))
    }

    /// May see a person of `schools`: what [`Self::may_read_person`]
    /// allows, or any permission the caller's grants (stored assignments
    /// included) hold at one of the person's schools. Whoever the caller may
    /// not see is answered as if they did not exist (404), so that nobody
    /// learns who is on file elsewhere from a 403 or a 422.
    pub fn sees_person(&self, grants: &Grants, person_id: &str, schools: &[SchoolId]) -> bool {
        self.may_read_person(person_id, schools)
            || grants.is_district_admin()
            || schools.iter().any(|school| !grants.permissions_at(school).is_empty())
    }
}

/// A principal of district `d-1` with these roles and schools, for tests.
#[cfg(test)]
pub(crate) fn test_principal(subject: &str, roles: &[Role], schools: &[&str]) -> Principal {
    Principal {
        subject: subject.into(),
        district: DistrictId::parse("d-1").unwrap_or_else(|e| panic!("{e}")),
        roles: roles.to_vec(),
        schools: schools.iter().map(|s| SchoolId::parse(*s).unwrap_or_else(|e| panic!("{e}"))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], schools: &[&str]) -> Principal {
        test_principal("u-1", roles, schools)
    }

    fn schools(ids: &[&str]) -> Vec<SchoolId> {
        ids.iter().map(|s| SchoolId::parse(*s).unwrap()).collect()
    }

    #[test]
    fn a_district_admin_manages_everyone() {
        assert!(principal(&[Role::DistrictAdmin], &[]).may_manage_person(&[]));
    }

    #[test]
    fn a_school_admin_manages_only_people_wholly_in_their_schools() {
        let admin = principal(&[Role::SchoolAdmin], &["s-1"]);
        assert!(admin.may_manage_person(&schools(&["s-1"])));
        assert!(!admin.may_manage_person(&schools(&["s-1", "s-2"])));
        assert!(!admin.may_manage_person(&[]));
    }

    #[test]
    fn viewers_read_but_do_not_manage_and_portal_users_read_only_themselves() {
        let viewer = principal(&[Role::SchoolViewer], &["s-1"]);
        assert!(viewer.may_read_person("p-9", &schools(&["s-1", "s-2"])));
        assert!(!viewer.may_manage_person(&schools(&["s-1"])));
        let parent = principal(&[Role::Guardian], &[]);
        assert!(parent.may_read_person("u-1", &[]));
        assert!(!parent.may_read_person("p-9", &schools(&["s-1"])));
    }

    #[test]
    fn a_stored_role_at_a_school_shows_its_people_and_nothing_shows_the_rest() {
        let caller = principal(&[Role::Teacher], &[]);
        let mut grants = Grants::from_token(&caller);
        assert!(!caller.sees_person(&grants, "p-9", &schools(&["s-2"])));
        grants.grant(&schools(&["s-2"])[0], &crate::domain::roles::Permissions::parse(["view_cleanup"]).unwrap());
        assert!(caller.sees_person(&grants, "p-9", &schools(&["s-1", "s-2"])));
        assert!(!caller.sees_person(&grants, "p-9", &schools(&["s-1"])));
        assert!(!caller.sees_person(&grants, "p-9", &[]), "a person of no school is district-level");
        assert!(caller.sees_person(&grants, "u-1", &[]), "everyone sees themself");
    }
}
