//! Who may change a list, what a teacher's list may hold, and the audit
//! entry every change and deletion leaves.
//!
//! Seeing a list ([`super::ListScope`]) is not owning it: a school viewer
//! sees every list of their school, and a broadcast scheduled by a
//! principal names lists of that school. So a list is changed or deleted
//! only by its owner or by whoever administers every school it covers, and
//! each change leaves a [`ListChange`] naming who did it and what the list
//! was before.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::super::named_enum::named_enum;
use super::{ListDefinition, ListId, ListTarget, PersonRole, RecipientList};
use crate::domain::{PersonId, Principal, Role};

named_enum!(
    /// What a change did to a list.
    ListAction, "list action" {
        /// Its definition was replaced.
        Updated => "updated",
        /// It was deleted.
        Deleted => "deleted",
    }
);

/// One entry of a list's audit trail: who changed or deleted it, when, and
/// the list as it was just before (so a change can be told and undone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChange {
    /// The list.
    pub list: ListId,
    /// What was done.
    pub action: ListAction,
    /// Who did it (the token's subject).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The list before the change.
    pub before: RecipientList,
}

impl RecipientList {
    /// Whether the caller may change or delete the list: its owner, or a
    /// caller who administers every school it covers — the same rule as
    /// managing a person of those schools (district admins: every list; a
    /// whole-district list: district admins only).
    pub fn may_change(&self, caller: &Principal) -> bool {
        self.owner == caller.subject || caller.may_manage_person(&self.schools)
    }
}

/// Whether the caller builds lists only over their own sections: a teacher
/// holding no other staff role. Teachers see their whole school, but what
/// they send reaches only their own students' families.
pub fn builds_only_own_sections(caller: &Principal) -> bool {
    let wider = [Role::DistrictAdmin, Role::SchoolAdmin, Role::TechnicalSchoolAdmin, Role::SchoolViewer];
    caller.has(Role::Teacher) && !wider.iter().any(|role| caller.has(*role))
}

/// A teacher's list definition, bound to their own sections: its rule
/// selects the students of `teacher`'s sections (a section, grade or
/// profile term narrows it further). Refused (the message says why) for
/// staff lists, guardians matched directly, or another teacher's sections.
pub fn pinned_to_teacher(mut definition: ListDefinition, teacher: &PersonId) -> Result<ListDefinition, String> {
    let refused = "teachers build lists of their own sections' students and families";
    if definition.target == ListTarget::Staff || definition.rule.matched_role(definition.target) != PersonRole::Student
    {
        return Err(format!("target: {refused}"));
    }
    if definition.rule.teacher.as_ref().is_some_and(|named| named != teacher) {
        return Err(format!("rule.teacher: {refused}"));
    }
    definition.rule.teacher = Some(teacher.clone());
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::test_principal;
    use crate::domain::{ListInput, SchoolId};

    fn list(owner: &str, schools: &[&str]) -> RecipientList {
        RecipientList {
            id: ListId::parse("l-1").unwrap(),
            name: "Lincoln 5".into(),
            target: ListTarget::Guardians,
            rule: super::super::ListRule::default(),
            includes: vec![],
            excludes: vec![],
            owner: owner.into(),
            schools: schools.iter().map(|s| SchoolId::parse(*s).unwrap()).collect(),
            version: 1,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    fn definition(value: serde_json::Value) -> ListDefinition {
        serde_json::from_value::<ListInput>(value).unwrap().validate().unwrap()
    }

    #[test]
    fn a_list_is_changed_by_its_owner_or_an_admin_of_every_school_it_covers() {
        let lincoln = list("principal", &["s-1"]);
        assert!(lincoln.may_change(&test_principal("principal", &[Role::Teacher], &["s-1"])));
        assert!(lincoln.may_change(&test_principal("other", &[Role::SchoolAdmin], &["s-1"])));
        assert!(lincoln.may_change(&test_principal("other", &[Role::DistrictAdmin], &[])));
        assert!(!lincoln.may_change(&test_principal("viewer", &[Role::SchoolViewer], &["s-1"])));
        assert!(!lincoln.may_change(&test_principal("teacher", &[Role::Teacher], &["s-1"])));
        let both = list("principal", &["s-1", "s-2"]);
        assert!(!both.may_change(&test_principal("other", &[Role::SchoolAdmin], &["s-1"])), "one school is not all");
        let district = list("admin", &[]);
        assert!(!district.may_change(&test_principal("other", &[Role::SchoolAdmin], &["s-1"])));
    }

    #[test]
    fn only_a_teacher_without_a_wider_role_builds_lists_of_their_own_sections() {
        assert!(builds_only_own_sections(&test_principal("t-1", &[Role::Teacher], &["s-1"])));
        assert!(!builds_only_own_sections(&test_principal("t-1", &[Role::Teacher, Role::SchoolAdmin], &["s-1"])));
        assert!(!builds_only_own_sections(&test_principal("v-1", &[Role::SchoolViewer], &["s-1"])));
    }

    #[test]
    fn a_teacher_s_list_is_bound_to_their_sections_and_never_reaches_staff_or_other_classes() {
        let teacher = PersonId::parse("t-1").unwrap();
        let pinned = pinned_to_teacher(
            definition(serde_json::json!({"name": "n", "target": "guardians", "rule": {"grades": ["5"]}})),
            &teacher,
        );
        assert_eq!(pinned.map(|d| d.rule.teacher), Ok(Some(teacher.clone())));
        for refused in [
            serde_json::json!({"name": "n", "target": "staff"}),
            serde_json::json!({"name": "n", "target": "guardians", "rule": {"role": "guardian"}}),
            serde_json::json!({"name": "n", "target": "students", "rule": {"teacher": "t-2"}}),
        ] {
            let error = pinned_to_teacher(definition(refused.clone()), &teacher).err().unwrap_or_default();
            assert!(error.contains("own sections"), "{refused}: {error}");
        }
    }
}
