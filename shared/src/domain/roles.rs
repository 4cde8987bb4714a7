//! Staff roles and what they permit: the permission vocabulary, the
//! built-in roles, custom roles a district defines, role assignments, and a
//! caller's effective [`Grants`].
//!
//! A role is a named [`Permissions`] set. Built-in roles are fixed here;
//! custom roles are stored per district (`store::roles`). Every role except
//! `district_admin` is held *at a school*: an assignment names a staff
//! member, a school and a role; `district_admin` is district-wide and its
//! assignment names no school.
//!
//! | permission (`name`) | district_admin | school_admin | technical_school_admin | school_viewer | teacher |
//! | --- | --- | --- | --- | --- | --- |
//! | send broadcasts, per contact reason (`broadcast:<reason>`) | every reason | every reason | every reason | — | `teacher` only |
//! | personal messages (`personal_messages`) | yes | yes | — | — | — |
//! | manage imports (`manage_imports`) | yes | — | yes | — | — |
//! | manage preferences (`manage_preferences`) | yes | yes | yes | — | — |
//! | view the clean-up list (`view_cleanup`) | yes | yes | yes | yes | — |
//! | manage roles (`manage_roles`) | yes, any role | yes, see below | — | — | — |
//!
//! `district_admin` holds everything in every school, and alone defines
//! custom roles. A school-level holder of `manage_roles` assigns and revokes
//! roles only at the schools where they hold it, and only roles whose
//! permissions they hold themselves there ([`Grants::may_grant`]): so a
//! school admin never grants `district_admin`, nor a role with
//! `manage_imports`. The portal roles `guardian` and `student` grant nothing
//! and cannot be assigned.
//!
//! A caller's [`Grants`] are the union of the roles in their verified token
//! (for the token's schools; `district_admin` district-wide) and the
//! assignments stored for them, resolved by [`Grants::resolve`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ContactReason, DomainError, PersonId, Principal, Role, SchoolId, validate_id};

/// Longest role name accepted.
pub const MAX_ROLE_NAME_LEN: usize = 100;
/// Ids a custom role may not take: the routes under `/v1/roles/` use them.
pub const RESERVED_ROLE_IDS: &[&str] = &["assignments", "assignments.csv", "me"];

/// One thing a role allows, at the schools where it is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Send broadcasts for this contact reason (`broadcast:<reason>`).
    Broadcast(ContactReason),
    /// Send 1:1 personal messages to families and students of the school.
    PersonalMessages,
    /// Define and run imports.
    ManageImports,
    /// Set people's preferences (one by one and the batch tool).
    ManagePreferences,
    /// See the contact clean-up list.
    ViewCleanup,
    /// Assign and revoke roles.
    ManageRoles,
}

const BROADCAST_PREFIX: &str = "broadcast:";

impl Permission {
    /// Every permission: each broadcast reason, then the others.
    pub fn all() -> impl Iterator<Item = Permission> {
        ContactReason::ALL.iter().map(|reason| Permission::Broadcast(*reason)).chain([
            Permission::PersonalMessages,
            Permission::ManageImports,
            Permission::ManagePreferences,
            Permission::ViewCleanup,
            Permission::ManageRoles,
        ])
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Broadcast(reason) => write!(f, "{BROADCAST_PREFIX}{reason}"),
            Permission::PersonalMessages => f.write_str("personal_messages"),
            Permission::ManageImports => f.write_str("manage_imports"),
            Permission::ManagePreferences => f.write_str("manage_preferences"),
            Permission::ViewCleanup => f.write_str("view_cleanup"),
            Permission::ManageRoles => f.write_str("manage_roles"),
        }
    }
}

impl FromStr for Permission {
    type Err = DomainError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if let Some(reason) = value.strip_prefix(BROADCAST_PREFIX) {
            return Ok(Permission::Broadcast(reason.parse()?));
        }
        Permission::all().find(|p| p.to_string() == value).ok_or_else(|| DomainError::UnknownName {
            kind: "permission",
            value: value.chars().take(40).collect(),
            expected: "broadcast:<contact reason>, broadcast:*, personal_messages, manage_imports, \
                       manage_preferences, view_cleanup, manage_roles"
                .into(),
        })
    }
}

/// A set of permissions. It travels as a list of names
/// (`["broadcast:teacher", "personal_messages"]`); on input
/// `broadcast:*` stands for every contact reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions(BTreeSet<Permission>);

impl Permissions {
    /// No permission.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every permission.
    pub fn everything() -> Self {
        Permission::all().collect()
    }

    /// Parses names; `broadcast:*` is every reason. Duplicates are fine.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, DomainError> {
        let mut set = BTreeSet::new();
        for name in names {
            if name.trim() == "broadcast:*" {
                set.extend(ContactReason::ALL.iter().map(|reason| Permission::Broadcast(*reason)));
            } else {
                set.insert(name.parse()?);
            }
        }
        Ok(Self(set))
    }

    /// Holds the permission.
    pub fn contains(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    /// Holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Holds everything `other` holds.
    pub fn covers(&self, other: &Permissions) -> bool {
        other.0.is_subset(&self.0)
    }

    /// Adds every permission of `other`.
    pub fn extend(&mut self, other: &Permissions) {
        self.0.extend(other.0.iter().copied());
    }

    /// The permissions, in order.
    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Serialize for Permissions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Permissions::parse(names.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

/// The permissions of a built-in role; `None` for the portal roles, which
/// grant nothing.
pub fn built_in_permissions(role: Role) -> Option<Permissions> {
    let every_reason = || ContactReason::ALL.iter().map(|reason| Permission::Broadcast(*reason));
    let set: Permissions = match role {
        Role::DistrictAdmin => Permissions::everything(),
        Role::SchoolAdmin => every_reason()
            .chain([
                Permission::PersonalMessages,
                Permission::ManagePreferences,
                Permission::ViewCleanup,
                Permission::ManageRoles,
            ])
            .collect(),
        Role::TechnicalSchoolAdmin => every_reason()
            .chain([Permission::ManagePreferences, Permission::ManageImports, Permission::ViewCleanup])
            .collect(),
        Role::SchoolViewer => [Permission::ViewCleanup].into_iter().collect(),
        Role::Teacher => [Permission::Broadcast(ContactReason::Teacher)].into_iter().collect(),
        Role::Guardian | Role::Student | Role::Operator => return None,
    };
    Some(set)
}

fn built_in_name(role: Role) -> &'static str {
    match role {
        Role::DistrictAdmin => "District Admin",
        Role::SchoolAdmin => "School Admin",
        Role::TechnicalSchoolAdmin => "Technical School Admin",
        Role::SchoolViewer => "School Viewer",
        Role::Teacher => "Teacher",
        Role::Guardian => "Guardian",
        Role::Student => "Student",
        Role::Operator => "Operator",
    }
}

/// A role: built in, or defined by the district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// Its id: a built-in role's name (`school_admin`) or the custom id.
    pub id: String,
    /// Name shown to users.
    pub name: String,
    /// What it allows where it is held.
    pub permissions: Permissions,
    /// Built in (fixed) or custom.
    pub built_in: bool,
    /// When a custom role last changed; `None` for built-in roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

impl RoleDefinition {
    /// The definition of a built-in staff role; `None` for portal roles.
    pub fn built_in(role: Role) -> Option<RoleDefinition> {
        Some(RoleDefinition {
            id: role.as_str().to_string(),
            name: built_in_name(role).to_string(),
            permissions: built_in_permissions(role)?,
            built_in: true,
            updated_at: None,
        })
    }

    /// Every built-in staff role, in [`Role`] order.
    pub fn built_ins() -> Vec<RoleDefinition> {
        Role::ALL.iter().filter_map(|role| RoleDefinition::built_in(*role)).collect()
    }

    /// Whether this is the district-wide `district_admin` role.
    pub fn is_district_admin(&self) -> bool {
        self.built_in && self.id == Role::DistrictAdmin.as_str()
    }
}

/// A custom role as a caller writes it (create and replace; on replace the
/// id comes from the path and may be omitted).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// The id (`counselor`): an id of letters, digits and `-_.:@`, not a
    /// built-in role's name nor a reserved word.
    #[serde(default)]
    pub id: Option<String>,
    /// Name shown to users.
    pub name: String,
    /// What it allows.
    #[serde(default)]
    pub permissions: Permissions,
}

/// Checks a custom role id: a valid id, not a built-in name, not reserved.
pub fn validate_custom_role_id(id: &str) -> Result<(), DomainError> {
    validate_id("role", id)?;
    if id.parse::<Role>().is_ok() {
        return Err(DomainError::invalid(format!("id: `{id}` is a built-in role")));
    }
    if RESERVED_ROLE_IDS.contains(&id) {
        return Err(DomainError::invalid(format!("id: `{id}` is reserved")));
    }
    Ok(())
}

impl RoleInput {
    /// The custom role this input defines, with the id given (`id` on
    /// create, the path's id on replace; a body id must then match it).
    pub fn validate(&self, id: &str, updated_at: DateTime<Utc>) -> Result<RoleDefinition, DomainError> {
        if self.id.as_deref().is_some_and(|given| given != id) {
            return Err(DomainError::invalid("id: the body's id differs from the role's id"));
        }
        validate_custom_role_id(id)?;
        let name = self.name.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("name: must not be blank"));
        }
        if name.chars().count() > MAX_ROLE_NAME_LEN {
            return Err(DomainError::invalid(format!("name: must be at most {MAX_ROLE_NAME_LEN} characters")));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name: must not hold control characters"));
        }
        Ok(RoleDefinition {
            id: id.to_string(),
            name: name.to_string(),
            permissions: self.permissions.clone(),
            built_in: false,
            updated_at: Some(updated_at),
        })
    }
}

/// A role held by a staff member at a school (or, for `district_admin`,
/// district-wide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The staff member (a person id).
    pub staff_id: PersonId,
    /// The school; `None` only for the district-wide `district_admin`.
    pub school: Option<SchoolId>,
    /// The role's id (built-in name or custom id).
    pub role: String,
    /// Who assigned it (the token subject).
    pub assigned_by: String,
    /// When it was first assigned.
    pub assigned_at: DateTime<Utc>,
}

/// What a caller may do, and where: the union of their token's roles and
/// their stored assignments. Built per request, so a revoked role is gone
/// at the next request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// Holds everything in every school.
    district_admin: bool,
    /// School-level permissions.
    schools: BTreeMap<SchoolId, Permissions>,
}

impl Grants {
    /// Everything, district-wide.
    pub fn district_wide() -> Self {
        Self { district_admin: true, schools: BTreeMap::new() }
    }

    /// Adds permissions at a school.
    pub fn grant(&mut self, school: &SchoolId, permissions: &Permissions) {
        if !permissions.is_empty() {
            self.schools.entry(school.clone()).or_default().extend(permissions);
        }
    }

    /// What the roles of a verified token grant: `district_admin`
    /// district-wide, every other staff role at each of the token's schools.
    pub fn from_token(caller: &Principal) -> Self {
        let mut grants = Self::default();
        for role in &caller.roles {
            if *role == Role::DistrictAdmin {
                grants.district_admin = true;
            } else if let Some(permissions) = built_in_permissions(*role) {
                for school in &caller.schools {
                    grants.grant(school, &permissions);
                }
            }
        }
        grants
    }

    /// The token's grants plus those of the stored assignments, resolving
    /// each role among the built-ins and the district's `custom` roles. An
    /// assignment of a role that no longer exists grants nothing; a
    /// school-level role assigned without a school grants nothing.
    pub fn resolve(caller: &Principal, assignments: &[Assignment], custom: &[RoleDefinition]) -> Self {
        let mut grants = Self::from_token(caller);
        for assignment in assignments {
            let Some(role) = find_role(&assignment.role, custom) else { continue };
            match &assignment.school {
                _ if role.is_district_admin() => grants.district_admin = true,
                Some(school) => grants.grant(school, &role.permissions),
                None => {}
            }
        }
        grants
    }

    /// Holds everything in every school.
    pub fn is_district_admin(&self) -> bool {
        self.district_admin
    }

    /// The permissions held at a school (everything for district admins).
    pub fn permissions_at(&self, school: &SchoolId) -> Permissions {
        if self.district_admin {
            Permissions::everything()
        } else {
            self.schools.get(school).cloned().unwrap_or_default()
        }
    }

    /// Holds the permission at the school.
    pub fn may(&self, permission: Permission, school: &SchoolId) -> bool {
        self.district_admin || self.schools.get(school).is_some_and(|set| set.contains(permission))
    }

    /// May send broadcasts for the reason to the school's people.
    pub fn may_send_broadcast(&self, reason: ContactReason, school: &SchoolId) -> bool {
        self.may(Permission::Broadcast(reason), school)
    }

    /// May send personal messages to the school's families and students.
    pub fn may_send_personal(&self, school: &SchoolId) -> bool {
        self.may(Permission::PersonalMessages, school)
    }

    /// May define and run imports for the school.
    pub fn may_manage_imports(&self, school: &SchoolId) -> bool {
        self.may(Permission::ManageImports, school)
    }

    /// May set the preferences of the school's people.
    pub fn may_manage_preferences(&self, school: &SchoolId) -> bool {
        self.may(Permission::ManagePreferences, school)
    }

    /// May see the school's contact clean-up list.
    pub fn may_view_cleanup(&self, school: &SchoolId) -> bool {
        self.may(Permission::ViewCleanup, school)
    }

    /// May assign and revoke roles at the school.
    pub fn may_manage_roles(&self, school: &SchoolId) -> bool {
        self.may(Permission::ManageRoles, school)
    }

    /// May manage roles at some school (or district-wide).
    pub fn manages_roles_anywhere(&self) -> bool {
        self.district_admin || self.schools.values().any(|set| set.contains(Permission::ManageRoles))
    }

    /// May assign or revoke `role` at `school` (`None`: district-wide).
    /// District admins may grant any role; others only at schools where
    /// they manage roles, and only roles whose every permission they hold
    /// there — so never `district_admin`.
    pub fn may_grant(&self, role: &RoleDefinition, school: Option<&SchoolId>) -> bool {
        if self.district_admin {
            return true;
        }
        match school {
            Some(school) if !role.is_district_admin() => {
                self.may_manage_roles(school) && self.permissions_at(school).covers(&role.permissions)
            }
            _ => false,
        }
    }

    /// Schools where the caller holds any school-level grant (empty for district admins, who hold all).
    pub fn schools(&self) -> Vec<SchoolId> {
        if self.district_admin {
            return Vec::new();
        }
        self.schools.iter().filter(|(_, set)| !set.is_empty()).map(|(school, _)| school.clone()).collect()
    }
}

/// A role by id among the built-ins and the district's custom roles.
pub fn find_role(id: &str, custom: &[RoleDefinition]) -> Option<RoleDefinition> {
    match id.parse::<Role>() {
        Ok(role) => RoleDefinition::built_in(role),
        Err(_) => custom.iter().find(|definition| definition.id == id).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(id: &str) -> SchoolId {
        SchoolId::parse(id).unwrap()
    }

    fn principal(roles: &[Role], schools: &[&str]) -> Principal {
        crate::domain::access::test_principal("t-1", roles, schools)
    }

    fn assignment(school_id: Option<&str>, role: &str) -> Assignment {
        Assignment {
            staff_id: PersonId::parse("t-1").unwrap(),
            school: school_id.map(school),
            role: role.into(),
            assigned_by: "admin".into(),
            assigned_at: Utc::now(),
        }
    }

    fn custom(id: &str, permissions: &[&str]) -> RoleDefinition {
        RoleInput {
            id: None,
            name: format!("Role {id}"),
            permissions: Permissions::parse(permissions.iter().copied()).unwrap(),
        }
        .validate(id, Utc::now())
        .unwrap()
    }

    #[test]
    fn school_admins_send_personal_messages_and_technical_admins_and_viewers_do_not() {
        let s1 = school("s-1");
        let grants = |role| Grants::from_token(&principal(&[role], &["s-1"]));
        assert!(grants(Role::SchoolAdmin).may_send_personal(&s1));
        assert!(!grants(Role::TechnicalSchoolAdmin).may_send_personal(&s1));
        assert!(!grants(Role::SchoolViewer).may_send_personal(&s1));
        assert!(!grants(Role::Teacher).may_send_personal(&s1));
        assert!(grants(Role::TechnicalSchoolAdmin).may_manage_imports(&s1));
        assert!(!grants(Role::SchoolAdmin).may_manage_imports(&s1));
    }

    #[test]
    fn the_built_in_sets_match_the_documented_table() {
        let s1 = school("s-1");
        let viewer = Grants::from_token(&principal(&[Role::SchoolViewer], &["s-1"]));
        assert!(viewer.may_view_cleanup(&s1) && !viewer.may_send_broadcast(ContactReason::General, &s1));
        assert!(!viewer.may_manage_preferences(&s1) && !viewer.may_manage_roles(&s1));
        let teacher = Grants::from_token(&principal(&[Role::Teacher], &["s-1"]));
        assert!(teacher.may_send_broadcast(ContactReason::Teacher, &s1));
        assert!(!teacher.may_send_broadcast(ContactReason::Emergency, &s1) && !teacher.may_view_cleanup(&s1));
        let admin = Grants::from_token(&principal(&[Role::SchoolAdmin], &["s-1"]));
        assert!(ContactReason::ALL.iter().all(|reason| admin.may_send_broadcast(*reason, &s1)));
        assert!(admin.may_manage_roles(&s1) && admin.may_manage_preferences(&s1) && admin.may_view_cleanup(&s1));
        assert!(!admin.may_send_personal(&school("s-2")), "grants hold only at the token's schools");
        let ids: Vec<_> = RoleDefinition::built_ins().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["district_admin", "school_admin", "technical_school_admin", "school_viewer", "teacher"]);
    }

    #[test]
    fn a_district_admin_holds_everything_everywhere_and_portal_roles_hold_nothing() {
        let district = Grants::from_token(&principal(&[Role::DistrictAdmin], &[]));
        assert!(district.is_district_admin() && district.may_send_personal(&school("any")));
        assert!(district.schools().is_empty());
        let parent = Grants::from_token(&principal(&[Role::Guardian, Role::Student], &["s-1"]));
        assert_eq!(parent, Grants::default());
        assert!(parent.schools().is_empty() && !parent.manages_roles_anywhere());
    }

    #[test]
    fn stored_assignments_add_to_the_token_and_custom_roles_grant_their_set() {
        let counselor = custom("counselor", &["personal_messages", "broadcast:behavior"]);
        let caller = principal(&[Role::Teacher], &["s-1"]);
        let assignments = [assignment(Some("s-2"), "counselor"), assignment(Some("s-3"), "school_viewer")];
        let grants = Grants::resolve(&caller, &assignments, std::slice::from_ref(&counselor));
        assert!(grants.may_send_personal(&school("s-2")) && !grants.may_send_personal(&school("s-1")));
        assert!(grants.may_send_broadcast(ContactReason::Behavior, &school("s-2")));
        assert!(grants.may_send_broadcast(ContactReason::Teacher, &school("s-1")));
        assert!(grants.may_view_cleanup(&school("s-3")));
        assert_eq!(grants.schools(), [school("s-1"), school("s-2"), school("s-3")]);
        let gone = Grants::resolve(&caller, &assignments[..1], &[]);
        assert!(!gone.may_send_personal(&school("s-2")), "a deleted custom role grants nothing");
        let district = Grants::resolve(&caller, &[assignment(None, "district_admin")], &[]);
        assert!(district.is_district_admin());
        let schoolless = Grants::resolve(&principal(&[], &[]), &[assignment(None, "school_admin")], &[]);
        assert_eq!(schoolless, Grants::default());
    }

    #[test]
    fn a_school_manager_grants_only_what_they_hold_where_they_hold_it() {
        let admin = Grants::from_token(&principal(&[Role::SchoolAdmin], &["s-1"]));
        let s1 = school("s-1");
        let built_in = |role| RoleDefinition::built_in(role).unwrap_or_else(|| panic!("built in"));
        assert!(admin.may_grant(&built_in(Role::Teacher), Some(&s1)));
        assert!(admin.may_grant(&built_in(Role::SchoolAdmin), Some(&s1)));
        assert!(!admin.may_grant(&built_in(Role::Teacher), Some(&school("s-2"))));
        assert!(!admin.may_grant(&built_in(Role::DistrictAdmin), Some(&s1)));
        assert!(!admin.may_grant(&built_in(Role::DistrictAdmin), None));
        assert!(!admin.may_grant(&built_in(Role::TechnicalSchoolAdmin), Some(&s1)), "it holds manage_imports");
        assert!(admin.may_grant(&custom("messenger", &["personal_messages"]), Some(&s1)));
        let district = Grants::district_wide();
        assert!(district.may_grant(&built_in(Role::DistrictAdmin), None));
    }

    #[test]
    fn permissions_travel_as_names_and_broadcast_star_means_every_reason() -> Result<(), serde_json::Error> {
        let set: Permissions = serde_json::from_str(r#"["broadcast:*", "view_cleanup", "view_cleanup"]"#)?;
        assert!(ContactReason::ALL.iter().all(|reason| set.contains(Permission::Broadcast(*reason))));
        let json = serde_json::to_value(&set)?;
        assert_eq!(json.as_array().map(Vec::len), Some(ContactReason::ALL.len() + 1));
        assert_eq!(json[0], "broadcast:emergency");
        let back: Permissions = serde_json::from_value(json)?;
        assert_eq!(back, set);
        let error = serde_json::from_str::<Permissions>(r#"["fly"]"#).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("unknown permission `fly`")));
        assert!(serde_json::from_str::<Permissions>(r#"["broadcast:fax"]"#).is_err());
        Ok(())
    }

    #[test]
    fn a_custom_role_needs_a_free_id_and_a_name() {
        let input = |id: Option<&str>, name: &str| RoleInput {
            id: id.map(str::to_string),
            name: name.into(),
            permissions: Permissions::none(),
        };
        let error = |id, input: RoleInput| input.validate(id, Utc::now()).err().map(|e| e.to_string());
        assert!(error("school_admin", input(None, "n")).is_some_and(|e| e.contains("built-in")));
        assert!(error("guardian", input(None, "n")).is_some_and(|e| e.contains("built-in")));
        assert!(error("assignments", input(None, "n")).is_some_and(|e| e.contains("reserved")));
        assert!(error("a#b", input(None, "n")).is_some_and(|e| e.contains("role id")));
        assert!(error("x", input(None, " ")).is_some_and(|e| e.contains("name")));
        assert!(error("x", input(Some("y"), "n")).is_some_and(|e| e.contains("differs")));
        let made = input(Some("x"), " Helper ").validate("x", Utc::now()).unwrap();
        assert_eq!((made.name.as_str(), made.built_in), ("Helper", false));
    }
}
