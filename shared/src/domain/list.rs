//! Lists (recipient groups): a saved rule over imported people plus
//! explicit includes and excludes, and who the list reaches (its target).
//!
//! Everything here is pure: the shape of a list, its validation, whether a
//! person's profile meets the rule's profile conditions, and which schools a
//! caller may build lists over. Membership itself is computed on read by
//! `services::ListService` from the store's indexes, so a list stays right as
//! imports add, change and remove people.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{DomainError, ListId, PersonId, PersonRole, Principal, Role, SchoolId, validate_id};

mod rights;

pub use rights::{ListAction, ListChange, builds_only_own_sections, pinned_to_teacher};

/// Longest list name accepted.
pub const MAX_LIST_NAME_LEN: usize = 100;
/// Most explicit includes, and most excludes, a list holds.
pub const MAX_LIST_PEOPLE: usize = 1000;
/// Most grades, schools or profile conditions a rule names.
pub const MAX_RULE_TERMS: usize = 50;
/// Longest text value (bus route, language, condition value) a rule compares.
pub const MAX_RULE_VALUE_LEN: usize = 100;
/// The plus-data field the `bus_route` term of a rule reads.
pub const BUS_ROUTE_FIELD: &str = "bus_route";

named_enum!(
    /// Who a list reaches.
    ListTarget, "list target" {
        /// The matched students themselves.
        Students => "students",
        /// The messenger guardians of the matched students (or, with the
        /// rule's role `guardian`, the matched guardians themselves).
        Guardians => "guardians",
        /// The matched students and their messenger guardians.
        StudentsAndGuardians => "students_and_guardians",
        /// Matched staff members.
        Staff => "staff",
    }
);

named_enum!(
    /// How a profile condition compares a plus-data field.
    ConditionOp, "condition op" {
        /// The field equals `value`.
        Equals => "equals",
        /// The field equals one of `values`.
        In => "in",
        /// The field is present and not blank.
        Exists => "exists",
    }
);

/// A condition on one plus-data field (district-chosen imported data such
/// as meal status or locker). Values compare trimmed and ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldCondition {
    /// The plus-data field name (`meal_status`).
    pub field: String,
    /// `equals`, `in` or `exists`.
    pub op: ConditionOp,
    /// The value for `equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The values for `in`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The rule of a list. Every term given narrows it; a rule with no term
/// matches every person of the matched role in the list's schools.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRule {
    /// Schools; none means every school in the caller's scope (for a
    /// district admin: the whole district, including schools added later).
    #[serde(default)]
    pub schools: Vec<SchoolId>,
    /// Grade codes (`KG`, `05`, `12`); `5` is read as `05`. Students only.
    #[serde(default)]
    pub grades: Vec<String>,
    /// Whom the rule matches; defaults from the target (staff for `staff`,
    /// students otherwise). `guardian` matches guardians of the schools directly.
    #[serde(default)]
    pub role: Option<PersonRole>,
    /// A class section id: its students (or, for staff, its teachers).
    #[serde(default)]
    pub section: Option<String>,
    /// A staff member's id: the students of that teacher's sections.
    #[serde(default)]
    pub teacher: Option<PersonId>,
    /// The plus-data `bus_route` equals this.
    #[serde(default)]
    pub bus_route: Option<String>,
    /// The person's preferred language equals this (code or name as imported).
    #[serde(default)]
    pub language: Option<String>,
    /// Conditions on plus-data fields, all of which must hold.
    #[serde(default)]
    pub conditions: Vec<FieldCondition>,
}

/// A list as a caller writes it (create and replace).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// Name shown to users.
    pub name: String,
    /// Who the list reaches.
    pub target: ListTarget,
    /// The rule.
    #[serde(default)]
    pub rule: ListRule,
    /// People added whatever the rule says.
    #[serde(default)]
    pub includes: Vec<PersonId>,
    /// People removed whatever the rule and includes say.
    #[serde(default)]
    pub excludes: Vec<PersonId>,
    /// On replace: the version the caller read (409 when it changed since).
    #[serde(default)]
    pub version: Option<u64>,
}

/// A list's validated, normalized definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListDefinition {
    /// Trimmed name.
    pub name: String,
    /// Who the list reaches.
    pub target: ListTarget,
    /// The rule, with grades made uniform and values trimmed.
    pub rule: ListRule,
    /// Includes, sorted and deduplicated.
    pub includes: Vec<PersonId>,
    /// Excludes, sorted and deduplicated.
    pub excludes: Vec<PersonId>,
}

/// A saved list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct RecipientList {
    pub id: ListId,
    /// Name shown to users.
    pub name: String,
    /// Who the list reaches.
    pub target: ListTarget,
    pub rule: ListRule,
    /// People added whatever the rule says.
    pub includes: Vec<PersonId>,
    /// People removed whatever the rule and includes say.
    pub excludes: Vec<PersonId>,
    /// Who created it (the token's subject).
    pub owner: String,
    /// The schools the list covers: who may see it, and where its rule
    /// looks. Empty means the whole district (only district admins).
    pub schools: Vec<SchoolId>,
    /// Optimistic version: 1 on create, one more on every replace.
    pub version: u64,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// What a list's rule reads of a person: the profile item an import writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct MemberProfile {
    /// The person.
    pub id: PersonId,
    /// Student, guardian or staff.
    pub role: PersonRole,
    pub given_name: String,
    pub family_name: String,
    /// Grade code (students).
    #[serde(default)]
    pub grade: Option<String>,
    /// Schools.
    #[serde(default)]
    pub schools: Vec<SchoolId>,
    /// Preferred language.
    #[serde(default)]
    pub language: Option<String>,
    /// Plus data by field name.
    #[serde(default)]
    pub plus: BTreeMap<String, String>,
    /// False once an import found the person gone; never a list member then.
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// A grade code made uniform, as imports store it: `5` → `05`, `K`/`KG` →
/// `KG`, `pk`/`pre-k` → `PK`; other codes upper-cased.
pub fn uniform_grade(code: &str) -> String {
    let code = code.trim();
    if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) {
        let digits = code.trim_start_matches('0');
        return match digits.len() {
            0 => "00".to_string(),
            1 => format!("0{digits}"),
            _ => digits.to_string(),
        };
    }
    let upper = code.to_uppercase();
    match upper.as_str() {
        "K" | "KG" | "KINDERGARTEN" | "KINDER" => "KG".to_string(),
        "PREK" | "PRE-K" | "PRE-KINDERGARTEN" | "PREKINDERGARTEN" => "PK".to_string(),
        "OTHER" => "Other".to_string(),
        _ => upper,
    }
}

fn text_value(what: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        Err(DomainError::invalid(format!("{what}: must not be blank")))
    } else if value.chars().count() > MAX_RULE_VALUE_LEN {
        Err(DomainError::invalid(format!("{what}: must be at most {MAX_RULE_VALUE_LEN} characters")))
    } else if value.chars().any(char::is_control) {
        Err(DomainError::invalid(format!("{what}: must not hold control characters")))
    } else {
        Ok(value.to_string())
    }
}

fn same(left: &str, right: &str) -> bool {
    left.trim().eq_ignore_ascii_case(right.trim())
}

fn sorted_unique<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    items.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

impl FieldCondition {
    fn validated(&self, at: usize) -> Result<FieldCondition, DomainError> {
        let what = format!("rule.conditions[{at}]");
        let field = self.field.trim();
        if field.is_empty()
            || field.len() > 64
            || !field.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(DomainError::invalid(format!(
                "{what}.field: must be a plus-data field name of 1 to 64 ASCII letters, digits and _ - ."
            )));
        }
        let (value, values) = match self.op {
            ConditionOp::Equals => {
                if !self.values.is_empty() {
                    return Err(DomainError::invalid(format!("{what}: `equals` takes one `value`, not `values`")));
                }
                let value = self
                    .value
                    .as_deref()
                    .ok_or_else(|| DomainError::invalid(format!("{what}: `equals` needs a `value`")))?;
                (Some(text_value(&format!("{what}.value"), value)?), Vec::new())
            }
            ConditionOp::In => {
                if self.value.is_some() {
                    return Err(DomainError::invalid(format!("{what}: `in` takes `values` (a list), not `value`")));
                }
                if self.values.is_empty() || self.values.len() > MAX_RULE_TERMS {
                    return Err(DomainError::invalid(format!("{what}: `in` needs 1 to {MAX_RULE_TERMS} `values`")));
                }
                let values = self
                    .values
                    .iter()
                    .map(|v| text_value(&format!("{what}.values"), v))
                    .collect::<Result<Vec<_>, _>>()?;
                (None, values)
            }
            ConditionOp::Exists => {
                if self.value.is_some() || !self.values.is_empty() {
                    return Err(DomainError::invalid(format!("{what}: `exists` takes no value")));
                }
                (None, Vec::new())
            }
        };
        Ok(FieldCondition { field: field.to_string(), op: self.op, value, values })
    }

    /// Whether the plus data meets the condition.
    pub fn holds(&self, plus: &BTreeMap<String, String>) -> bool {
        let found = plus.get(&self.field).map(|v| v.trim()).filter(|v| !v.is_empty());
        match (self.op, found) {
            (_, None) => false,
            (ConditionOp::Exists, Some(_)) => true,
            (ConditionOp::Equals, Some(found)) => self.value.as_deref().is_some_and(|v| same(v, found)),
            (ConditionOp::In, Some(found)) => self.values.iter().any(|v| same(v, found)),
        }
    }
}

impl ListRule {
    /// The role of the people the rule matches before the target applies.
    pub fn matched_role(&self, target: ListTarget) -> PersonRole {
        self.role.unwrap_or(match target {
            ListTarget::Staff => PersonRole::Staff,
            _ => PersonRole::Student,
        })
    }

    /// Whether matching needs each candidate's profile beyond the indexes
    /// (language, bus route, plus-data conditions).
    pub fn reads_profiles(&self) -> bool {
        self.language.is_some() || self.bus_route.is_some() || !self.conditions.is_empty()
    }

    /// Whether a profile meets the rule's grade and profile terms (schools,
    /// sections and teachers are index terms, checked by the caller).
    pub fn matches(&self, profile: &MemberProfile) -> bool {
        (self.grades.is_empty() || profile.grade.as_ref().is_some_and(|g| self.grades.contains(g)))
            && self.language.as_deref().is_none_or(|want| profile.language.as_deref().is_some_and(|l| same(want, l)))
            && self
                .bus_route
                .as_deref()
                .is_none_or(|want| profile.plus.get(BUS_ROUTE_FIELD).is_some_and(|route| same(want, route)))
            && self.conditions.iter().all(|condition| condition.holds(&profile.plus))
    }

    /// Checks the rule against the target and makes it uniform: grades as
    /// imports store them, values trimmed, schools and grades deduplicated.
    pub fn validated(&self, target: ListTarget) -> Result<ListRule, DomainError> {
        let role = self.matched_role(target);
        let allowed: &[PersonRole] = match target {
            ListTarget::Staff => &[PersonRole::Staff],
            ListTarget::Students | ListTarget::StudentsAndGuardians => &[PersonRole::Student],
            ListTarget::Guardians => &[PersonRole::Student, PersonRole::Guardian],
        };
        if !allowed.contains(&role) {
            return Err(DomainError::invalid(format!(
                "rule.role: a `{target}` list matches {}, not {role}",
                allowed.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" or ")
            )));
        }
        if self.schools.len() > MAX_RULE_TERMS || self.grades.len() > MAX_RULE_TERMS {
            return Err(DomainError::invalid(format!(
                "rule: at most {MAX_RULE_TERMS} schools and {MAX_RULE_TERMS} grades"
            )));
        }
        if self.conditions.len() > MAX_RULE_TERMS {
            return Err(DomainError::invalid(format!("rule.conditions: at most {MAX_RULE_TERMS}")));
        }
        let mut grades = Vec::with_capacity(self.grades.len());
        for grade in &self.grades {
            let code = uniform_grade(&text_value("rule.grades", grade)?);
            if code.len() > 20 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(DomainError::invalid("rule.grades: a grade code is 1 to 20 letters, digits and -"));
            }
            grades.push(code);
        }
        if !grades.is_empty() && role != PersonRole::Student {
            return Err(DomainError::invalid(format!("rule.grades: grades select students; this rule matches {role}")));
        }
        if self.teacher.is_some() && role != PersonRole::Student {
            return Err(DomainError::invalid(format!(
                "rule.teacher: a teacher selects their students; this rule matches {role}"
            )));
        }
        if let Some(section) = &self.section {
            validate_id("section", section)?;
            if role == PersonRole::Guardian {
                return Err(DomainError::invalid("rule.section: a section holds students and teachers, not guardians"));
            }
        }
        let conditions =
            self.conditions.iter().enumerate().map(|(at, c)| c.validated(at)).collect::<Result<Vec<_>, _>>()?;
        Ok(ListRule {
            schools: sorted_unique(&self.schools),
            grades: sorted_unique(&grades),
            role: self.role,
            section: self.section.clone(),
            teacher: self.teacher.clone(),
            bus_route: self.bus_route.as_deref().map(|v| text_value("rule.bus_route", v)).transpose()?,
            language: self.language.as_deref().map(|v| text_value("rule.language", v)).transpose()?,
            conditions,
        })
    }
}

impl ListInput {
    /// Validates the whole definition: name, rule against target, includes
    /// and excludes (at most [`MAX_LIST_PEOPLE`] each, never the same person in both).
    pub fn validate(&self) -> Result<ListDefinition, DomainError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("name: must not be blank"));
        }
        if name.chars().count() > MAX_LIST_NAME_LEN {
            return Err(DomainError::invalid(format!("name: must be at most {MAX_LIST_NAME_LEN} characters")));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name: must not hold control characters"));
        }
        if self.includes.len() > MAX_LIST_PEOPLE || self.excludes.len() > MAX_LIST_PEOPLE {
            return Err(DomainError::invalid(format!("includes and excludes: at most {MAX_LIST_PEOPLE} people each")));
        }
        let includes = sorted_unique(&self.includes);
        let excludes = sorted_unique(&self.excludes);
        if let Some(both) = includes.iter().find(|id| excludes.binary_search(id).is_ok()) {
            return Err(DomainError::invalid(format!("person `{both}` is both included and excluded")));
        }
        Ok(ListDefinition {
            name: name.to_string(),
            target: self.target,
            rule: self.rule.validated(self.target)?,
            includes,
            excludes,
        })
    }
}

/// Where a caller may see and build lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// Every school (district admins).
    District,
    /// These schools only (school-level staff roles).
    Schools(Vec<SchoolId>),
}

impl ListScope {
    /// The caller's scope, or `None` when their roles build no lists
    /// (portal users, or school-level staff without a school).
    pub fn of(caller: &Principal) -> Option<ListScope> {
        if caller.has(Role::DistrictAdmin) {
            return Some(ListScope::District);
        }
        let staff = [Role::SchoolAdmin, Role::TechnicalSchoolAdmin, Role::SchoolViewer, Role::Teacher];
        if staff.iter().any(|role| caller.has(*role)) && !caller.schools.is_empty() {
            Some(ListScope::Schools(sorted_unique(&caller.schools)))
        } else {
            None
        }
    }

    /// Whether a list over `schools` (empty: the whole district) is in scope.
    pub fn covers(&self, schools: &[SchoolId]) -> bool {
        match self {
            ListScope::District => true,
            ListScope::Schools(mine) => !schools.is_empty() && schools.iter().all(|s| mine.contains(s)),
        }
    }

    /// Whether a person of these schools is someone the caller can see.
    pub fn sees_person(&self, schools: &[SchoolId]) -> bool {
        match self {
            ListScope::District => true,
            ListScope::Schools(mine) => schools.iter().any(|s| mine.contains(s)),
        }
    }

    /// The schools of a list whose rule names none: the whole district
    /// (empty) for district admins, the caller's schools otherwise.
    pub fn default_schools(&self) -> Vec<SchoolId> {
        match self {
            ListScope::District => Vec::new(),
            ListScope::Schools(mine) => mine.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: serde_json::Value) -> ListInput {
        serde_json::from_value(value).unwrap()
    }

    fn error_of(value: serde_json::Value) -> String {
        match input(value).validate() {
            Ok(definition) => panic!("expected an error, got {definition:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn profile(grade: Option<&str>, language: Option<&str>, plus: &[(&str, &str)]) -> MemberProfile {
        MemberProfile {
            id: PersonId::parse("st-1").unwrap(),
            role: PersonRole::Student,
            given_name: "Kid".into(),
            family_name: "One".into(),
            grade: grade.map(str::to_string),
            schools: vec![],
            language: language.map(str::to_string),
            plus: plus.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
            active: true,
        }
    }

    fn principal(roles: &[Role], schools: &[&str]) -> Principal {
        crate::domain::access::test_principal("u-1", roles, schools)
    }

    #[test]
    fn a_valid_list_is_trimmed_and_its_grades_made_uniform() {
        let definition = input(serde_json::json!({
            "name": "  Fifth grade ", "target": "guardians",
            "rule": {"schools": ["s-2", "s-1", "s-2"], "grades": ["5", "05", "k"], "bus_route": " 7 "},
            "includes": ["p-2", "p-1", "p-2"]
        }))
        .validate()
        .unwrap();
        assert_eq!(definition.name, "Fifth grade");
        assert_eq!(definition.rule.grades, ["05", "KG"]);
        assert_eq!(definition.rule.schools.iter().map(SchoolId::as_str).collect::<Vec<_>>(), ["s-1", "s-2"]);
        assert_eq!(definition.rule.bus_route.as_deref(), Some("7"));
        assert_eq!(definition.includes.iter().map(PersonId::as_str).collect::<Vec<_>>(), ["p-1", "p-2"]);
    }

    #[test]
    fn a_blank_or_overlong_name_is_refused() {
        assert!(error_of(serde_json::json!({"name": "  ", "target": "students"})).contains("name"));
        assert!(error_of(serde_json::json!({"name": "x".repeat(101), "target": "students"})).contains("name"));
    }

    #[test]
    fn grades_and_teachers_select_students_only() {
        let grades = error_of(serde_json::json!({"name": "n", "target": "staff", "rule": {"grades": ["05"]}}));
        assert!(grades.contains("rule.grades"), "{grades}");
        let teacher = error_of(serde_json::json!({"name": "n", "target": "staff", "rule": {"teacher": "t-1"}}));
        assert!(teacher.contains("rule.teacher"), "{teacher}");
        let guardians = error_of(
            serde_json::json!({"name": "n", "target": "guardians", "rule": {"role": "guardian", "grades": ["05"]}}),
        );
        assert!(guardians.contains("rule.grades"), "{guardians}");
    }

    #[test]
    fn a_role_that_contradicts_the_target_is_refused() {
        let staff = error_of(serde_json::json!({"name": "n", "target": "students", "rule": {"role": "staff"}}));
        assert!(staff.contains("rule.role") && staff.contains("`student`"), "{staff}");
        let guardian = error_of(serde_json::json!({"name": "n", "target": "staff", "rule": {"role": "guardian"}}));
        assert!(guardian.contains("rule.role"), "{guardian}");
        assert!(
            input(serde_json::json!({"name": "n", "target": "guardians", "rule": {"role": "guardian"}}))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn a_section_holds_no_guardians_and_its_id_must_be_valid() {
        let guardians = error_of(
            serde_json::json!({"name": "n", "target": "guardians", "rule": {"role": "guardian", "section": "c-1"}}),
        );
        assert!(guardians.contains("rule.section"), "{guardians}");
        let bad_id = error_of(serde_json::json!({"name": "n", "target": "students", "rule": {"section": "c#1"}}));
        assert!(bad_id.contains("section"), "{bad_id}");
    }

    #[test]
    fn each_condition_op_takes_exactly_its_values() {
        let cases = [
            (serde_json::json!({"field": "meal", "op": "equals"}), "needs a `value`"),
            (serde_json::json!({"field": "meal", "op": "equals", "values": ["a"]}), "not `values`"),
            (serde_json::json!({"field": "meal", "op": "in", "values": []}), "`in` needs"),
            (serde_json::json!({"field": "meal", "op": "in", "value": "a"}), "not `value`"),
            (serde_json::json!({"field": "meal", "op": "exists", "value": "a"}), "takes no value"),
            (serde_json::json!({"field": "meal status", "op": "exists"}), ".field"),
        ];
        for (condition, expected) in cases {
            let message =
                error_of(serde_json::json!({"name": "n", "target": "students", "rule": {"conditions": [condition]}}));
            assert!(message.contains(expected) && message.contains("rule.conditions[0]"), "{message}");
        }
    }

    #[test]
    fn unknown_fields_ops_and_targets_do_not_deserialize() {
        let parse = |value: serde_json::Value| serde_json::from_value::<ListInput>(value).is_err();
        assert!(parse(serde_json::json!({"name": "n", "target": "parents"})));
        assert!(parse(serde_json::json!({"name": "n", "target": "students", "rule": {"grade": "05"}})));
        assert!(parse(
            serde_json::json!({"name": "n", "target": "students", "rule": {"conditions": [{"field": "a", "op": "like"}]}})
        ));
        assert!(parse(serde_json::json!({"name": "n", "target": "students", "rule": {"schools": ["s#1"]}})));
    }

    #[test]
    fn a_person_cannot_be_both_included_and_excluded() {
        let message =
            error_of(serde_json::json!({"name": "n", "target": "students", "includes": ["p-1"], "excludes": ["p-1"]}));
        assert!(message.contains("both included and excluded"), "{message}");
    }

    #[test]
    fn profile_terms_compare_trimmed_and_ignoring_case() {
        let rule = input(serde_json::json!({"name": "n", "target": "students", "rule": {
            "grades": ["5"], "language": "ES", "bus_route": "route 7",
            "conditions": [{"field": "meal", "op": "in", "values": ["free", "reduced"]}, {"field": "locker", "op": "exists"}]
        }}))
        .validate()
        .unwrap()
        .rule;
        let matching =
            profile(Some("05"), Some("es"), &[("bus_route", "Route 7 "), ("meal", "Free"), ("locker", "12")]);
        assert!(rule.matches(&matching));
        assert!(!rule.matches(&profile(
            Some("04"),
            Some("es"),
            &[("bus_route", "Route 7"), ("meal", "free"), ("locker", "1")]
        )));
        assert!(!rule.matches(&profile(
            Some("05"),
            None,
            &[("bus_route", "Route 7"), ("meal", "free"), ("locker", "1")]
        )));
        assert!(!rule.matches(&profile(
            Some("05"),
            Some("es"),
            &[("bus_route", "Route 7"), ("meal", "full"), ("locker", "1")]
        )));
        assert!(!rule.matches(&profile(
            Some("05"),
            Some("es"),
            &[("bus_route", "Route 7"), ("meal", "free"), ("locker", " ")]
        )));
        assert!(rule.reads_profiles());
        assert!(!ListRule::default().reads_profiles());
    }

    #[test]
    fn the_target_decides_the_matched_role_unless_the_rule_names_one() {
        assert_eq!(ListRule::default().matched_role(ListTarget::Guardians), PersonRole::Student);
        assert_eq!(ListRule::default().matched_role(ListTarget::Staff), PersonRole::Staff);
        let guardians = ListRule { role: Some(PersonRole::Guardian), ..ListRule::default() };
        assert_eq!(guardians.matched_role(ListTarget::Guardians), PersonRole::Guardian);
    }

    #[test]
    fn district_admins_see_every_list_and_school_staff_only_lists_wholly_in_their_schools() {
        let district = ListScope::of(&principal(&[Role::DistrictAdmin], &[]));
        assert_eq!(district, Some(ListScope::District));
        assert!(district.is_some_and(|scope| scope.covers(&[]) && scope.default_schools().is_empty()));
        let Some(school) = ListScope::of(&principal(&[Role::Teacher], &["s-1"])) else {
            panic!("teachers build lists")
        };
        let ids = |ids: &[&str]| ids.iter().map(|s| SchoolId::parse(*s).unwrap()).collect::<Vec<_>>();
        assert!(school.covers(&ids(&["s-1"])));
        assert!(!school.covers(&ids(&["s-1", "s-2"])));
        assert!(!school.covers(&[]), "a whole-district list is not a school's");
        assert_eq!(school.default_schools(), ids(&["s-1"]));
        assert!(ListScope::of(&principal(&[Role::Guardian], &["s-1"])).is_none());
        assert!(ListScope::of(&principal(&[Role::SchoolAdmin], &[])).is_none());
    }

    #[test]
    fn grades_are_made_uniform_like_imports_store_them() {
        assert_eq!(uniform_grade("5"), "05");
        assert_eq!(uniform_grade("12"), "12");
        assert_eq!(uniform_grade("0"), "00");
        assert_eq!(uniform_grade(" kindergarten "), "KG");
        assert_eq!(uniform_grade("pre-k"), "PK");
        assert_eq!(uniform_grade("k-12"), "K-12");
    }
}
