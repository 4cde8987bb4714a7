//! Who a batch reaches: its mode and filter, the schools the caller may
//! manage, the students or staff the filter picks there (by school and
//! grade, a saved list, or an ad hoc rule), and for the contacts mode their
//! messenger guardians.

use std::collections::BTreeSet;

use futures::{StreamExt as _, stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BatchRequest, CONCURRENT_READS, PreferenceService};
use crate::domain::{DistrictId, DomainError, PersonId, PersonRole, Principal, SchoolId};
use crate::services::ServiceError;
use crate::store::StoreError;

/// Who a batch reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    /// Messenger guardians of the matched students.
    StudentContacts,
    /// The students themselves.
    Students,
    /// Staff.
    Staff,
}

/// Which people a batch matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFilter {
    /// One school (default: every school in the caller's scope).
    #[serde(default)]
    pub school: Option<String>,
    /// One grade code (`05`, `KG`).
    #[serde(default)]
    pub grade: Option<String>,
    /// A saved list (its students, or its staff for the staff mode).
    #[serde(default)]
    pub list: Option<String>,
    /// An ad hoc rule, as a list's `rule` (schools, grades, section,
    /// teacher, bus route, language, conditions).
    #[serde(default)]
    pub rule: Option<Value>,
}

/// Students and staff a filter picked, before the mode chooses between them.
type Picked = (Vec<PersonId>, Vec<PersonId>);

impl PreferenceService {
    /// The schools a batch may touch: `None` for the whole district (a
    /// district admin without a school filter).
    pub(super) async fn batch_schools(
        &self,
        caller: &Principal,
        filter: &BatchFilter,
    ) -> Result<Option<Vec<SchoolId>>, ServiceError> {
        let grants = self.roles.grants(caller).await?;
        let admin = grants.is_district_admin();
        let mine: Vec<SchoolId> = grants.schools().into_iter().filter(|s| grants.may_manage_preferences(s)).collect();
        if !admin && mine.is_empty() {
            return Err(ServiceError::Forbidden("your roles do not manage preferences (the batch tool)".into()));
        }
        match &filter.school {
            Some(school) => {
                let school =
                    SchoolId::parse(school.clone()).map_err(|e| DomainError::Invalid(format!("filter.school: {e}")))?;
                if !admin && !mine.contains(&school) {
                    return Err(ServiceError::Forbidden(format!("school `{school}` is not in your scope")));
                }
                Ok(Some(vec![school]))
            }
            None if admin => Ok(None),
            None => Ok(Some(mine)),
        }
    }

    /// Every person the batch's mode and filter match, each once.
    pub(super) async fn batch_people(
        &self,
        caller: &Principal,
        request: &BatchRequest,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let district = &caller.district;
        let scope = self.batch_schools(caller, &request.filter).await?;
        let (students, staff) = self.picked(caller, request, scope).await?;
        Ok(match request.mode {
            BatchMode::Students => students.into_iter().collect(),
            BatchMode::Staff => staff.into_iter().collect(),
            BatchMode::StudentContacts => self.messenger_guardians(district, students).await?,
        })
    }

    /// The students and staff of a saved list, of a rule, or of the schools in scope.
    async fn picked(
        &self,
        caller: &Principal,
        request: &BatchRequest,
        scope: Option<Vec<SchoolId>>,
    ) -> Result<Picked, ServiceError> {
        let lists =
            || self.lists.as_ref().ok_or_else(|| DomainError::Invalid("filter: lists are not available".into()));
        let listed = match (&request.filter.list, &request.filter.rule) {
            (Some(_), Some(_)) => {
                return Err(DomainError::Invalid("filter: give a list or a rule, not both".into()).into());
            }
            (Some(list), None) => lists()?.students_and_staff(caller, list).await?,
            (None, Some(rule)) => lists()?.rule_students_and_staff(caller, rule).await?,
            (None, None) => {
                let schools = match scope {
                    Some(schools) => schools,
                    None => self.roster.schools(&caller.district).await?,
                };
                return self.school_people(&caller.district, &schools, request).await;
            }
        };
        match scope {
            None => Ok(listed),
            Some(schools) => self.within(&caller.district, listed, &schools).await,
        }
    }

    /// Keeps the people who belong to one of `schools`. A list or rule
    /// reaches what its caller may *see*, which can be more than where they
    /// manage preferences (a viewer's school, a list's explicit includes).
    async fn within(
        &self,
        district: &DistrictId,
        picked: Picked,
        schools: &[SchoolId],
    ) -> Result<Picked, ServiceError> {
        let (students, staff) = picked;
        let everyone: Vec<PersonId> = students.iter().chain(&staff).cloned().collect();
        let profiles = self.roster.profiles(district, everyone).await?;
        let keep = |people: Vec<PersonId>| -> Vec<PersonId> {
            let in_scope =
                |id: &PersonId| profiles.get(id).is_some_and(|p| p.schools.iter().any(|s| schools.contains(s)));
            people.into_iter().filter(in_scope).collect()
        };
        Ok((keep(students), keep(staff)))
    }

    /// The students (of the filter's grade) or the staff of each school.
    async fn school_people(
        &self,
        district: &DistrictId,
        schools: &[SchoolId],
        request: &BatchRequest,
    ) -> Result<Picked, ServiceError> {
        let grade = request.filter.grade.as_deref().map(crate::domain::uniform_grade);
        let mut students = Vec::new();
        let mut staff = Vec::new();
        for school in schools {
            if request.mode == BatchMode::Staff {
                staff.extend(self.roster.school_members(district, school, PersonRole::Staff, None).await?);
            } else {
                let members = self.roster.school_members(district, school, PersonRole::Student, grade.as_deref());
                students.extend(members.await?);
            }
        }
        Ok((students, staff))
    }

    /// The guardians who get messages about the students (several reads in flight).
    async fn messenger_guardians(
        &self,
        district: &DistrictId,
        students: Vec<PersonId>,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let unique: BTreeSet<PersonId> = students.into_iter().collect();
        let links: Vec<Result<Vec<(PersonId, bool)>, StoreError>> = stream::iter(unique)
            .map(|student| {
                let (people, district) = (self.people.clone(), district.clone());
                async move { people.guardians_of(&district, &student).await }
            })
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        let mut guardians = BTreeSet::new();
        for found in links {
            guardians.extend(found?.into_iter().filter(|(_, messenger)| *messenger).map(|(guardian, _)| guardian));
        }
        Ok(guardians)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::fixture::{World, admin, id, principal};
    use super::*;
    use crate::domain::Role;

    /// Whom a batch in `mode` with `filter` reaches for `caller`.
    async fn reached(
        world: &World,
        caller: &Principal,
        mode: BatchMode,
        filter: BatchFilter,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let request = BatchRequest { mode, filter, cells: BTreeMap::new(), preserve_self_set: false, dry_run: true };
        world.service.batch_people(caller, &request).await
    }

    fn ids(people: &[&str]) -> BTreeSet<PersonId> {
        people.iter().map(|person| id(person)).collect()
    }

    fn at(school: &str, grade: Option<&str>) -> BatchFilter {
        BatchFilter { school: Some(school.into()), grade: grade.map(String::from), ..BatchFilter::default() }
    }

    #[tokio::test]
    async fn a_district_admin_without_a_filter_reaches_every_school() {
        let world = World::new().await;
        let students = reached(&world, &admin(), BatchMode::Students, BatchFilter::default()).await;
        assert_eq!(students.unwrap(), ids(&["st-1", "st-2", "st-3"]));
        let staff = reached(&world, &admin(), BatchMode::Staff, BatchFilter::default()).await;
        assert_eq!(staff.unwrap(), ids(&["t-1"]));
    }

    #[tokio::test]
    async fn the_contacts_mode_reaches_only_messenger_guardians_of_the_matched_students() {
        let world = World::new().await;
        let grade_five = reached(&world, &admin(), BatchMode::StudentContacts, at("s-1", Some("5"))).await;
        assert_eq!(grade_five.unwrap(), ids(&["g-1"]), "g-2 is not a messenger");
        let school = reached(&world, &admin(), BatchMode::StudentContacts, at("s-1", None)).await;
        assert_eq!(school.unwrap(), ids(&["g-1", "g-3"]));
    }

    #[tokio::test]
    async fn school_staff_reach_only_schools_where_they_manage_preferences() {
        let world = World::new().await;
        let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
        let mine = reached(&world, &school_admin, BatchMode::Students, BatchFilter::default()).await;
        assert_eq!(mine.unwrap(), ids(&["st-1", "st-2"]));
        let other = reached(&world, &school_admin, BatchMode::Students, at("s-2", None)).await;
        assert!(matches!(other, Err(ServiceError::Forbidden(_))), "{other:?}");
        let teacher = principal("t-1", &[Role::Teacher], &["s-1"]);
        let refused = reached(&world, &teacher, BatchMode::Students, BatchFilter::default()).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    }

    /// Lists that answer people of both schools, whoever asks: the batch
    /// must not trust a list's reach to stay within what it may manage.
    struct BothSchools;

    #[async_trait::async_trait]
    impl crate::services::ListResolver for BothSchools {
        async fn students_and_staff(&self, _: &Principal, _: &str) -> Result<Picked, ServiceError> {
            Ok((vec![id("st-1"), id("st-3")], vec![id("t-1")]))
        }

        async fn rule_students_and_staff(&self, _: &Principal, _: &Value) -> Result<Picked, ServiceError> {
            Ok((vec![id("st-1"), id("st-3")], vec![id("t-1")]))
        }
    }

    #[tokio::test]
    async fn a_list_or_rule_filter_reaches_only_people_of_schools_where_the_caller_manages_preferences() {
        let mut world = World::new().await;
        world.service = world.service.clone().with_lists(std::sync::Arc::new(BothSchools));
        let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
        let list = BatchFilter { list: Some("l-1".into()), ..BatchFilter::default() };
        let rule = BatchFilter { rule: Some(serde_json::json!({"grades": ["05"]})), ..BatchFilter::default() };
        for filter in [list.clone(), rule] {
            let students = reached(&world, &school_admin, BatchMode::Students, filter.clone()).await;
            assert_eq!(students.unwrap(), ids(&["st-1"]), "st-3 is of s-2");
            let contacts = reached(&world, &school_admin, BatchMode::StudentContacts, filter).await;
            assert_eq!(contacts.unwrap(), ids(&["g-1"]));
        }
        let everyone = reached(&world, &admin(), BatchMode::Students, list.clone()).await;
        assert_eq!(everyone.unwrap(), ids(&["st-1", "st-3"]), "a district admin manages every school");
        let narrowed = BatchFilter { school: Some("s-2".into()), ..list };
        let s2 = reached(&world, &admin(), BatchMode::Students, narrowed).await;
        assert_eq!(s2.unwrap(), ids(&["st-3"]), "a school filter narrows a list too");
    }

    #[tokio::test]
    async fn a_list_filter_needs_lists_and_never_comes_with_a_rule() {
        let world = World::new().await;
        let list = BatchFilter { list: Some("l-1".into()), ..BatchFilter::default() };
        let unavailable = reached(&world, &admin(), BatchMode::Students, list.clone()).await;
        assert!(matches!(unavailable, Err(ServiceError::Invalid(_))), "{unavailable:?}");
        let both = BatchFilter { rule: Some(serde_json::json!({"grades": ["05"]})), ..list };
        let refused = reached(&world, &admin(), BatchMode::Students, both).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("not both")));
    }
}
