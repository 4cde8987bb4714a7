//! Lists (recipient groups): saved rules over imported people, with their
//! membership.
//!
//! Staff build and see lists only within their school scope (district
//! admins: every list). Membership is never stored: it is computed on read
//! from the indexes imports keep up to date, so a list stays right as
//! imports add, change and remove people — a student who leaves drops out
//! of every list at the next read, a new fifth grader joins the fifth-grade
//! list without anyone touching it.
//!
//! How a rule is computed, cheapest source first (never a scan):
//! - a teacher: the teacher's `SECTION#` items, then each section's `ENR#`
//!   students; a section: that section's `ENR#` items;
//! - otherwise each school's gsi2 range: `ROLE#student#G#{grade}#` per
//!   grade, or `ROLE#{role}#` (school memberships are removed when a person
//!   leaves, so these are all active);
//! - profile items (`#PERSON`) are read only for candidates already
//!   narrowed that way, and only when needed: section and teacher
//!   candidates (grade, active flag) and rules on language, bus route or
//!   plus data. A one-grade list reads about one index item per member.
//!
//! Then includes are added (an included student counts as a matched
//! student, so a guardians list reaches their messenger guardians),
//! excludes removed (an excluded student takes with them the guardians who
//! were on the list only through them), and inactive people are never
//! members.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use serde::Serialize;

use crate::domain::{
    DistrictId, EnrollmentRole, ListDefinition, ListId, ListInput, ListScope, ListTarget, MemberProfile, PersonId,
    PersonRole, Principal, RecipientList, SchoolId,
};
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::store::{ListStore, PeopleStore, RosterIndex, StoreError, Stores};

/// Members per page when the caller names no limit.
pub const DEFAULT_MEMBERS_PAGE: u32 = 50;
/// Most members one page holds.
pub const MAX_MEMBERS_PAGE: u32 = 1000;
/// How many students' guardian links are read at a time.
const CONCURRENT_READS: usize = 16;

/// Who a list reaches, by role: each sorted, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ListMembers {
    pub students: Vec<PersonId>,
    /// Guardians (messenger guardians of matched students, and included guardians).
    pub guardians: Vec<PersonId>,
    /// Staff members.
    pub staff: Vec<PersonId>,
}

impl ListMembers {
    /// Members in all.
    pub fn count(&self) -> usize {
        self.students.len() + self.guardians.len() + self.staff.len()
    }

    /// Every member with their role, in id order.
    pub fn all(&self) -> Vec<(PersonId, PersonRole)> {
        let mut all: Vec<(PersonId, PersonRole)> = self
            .students
            .iter()
            .map(|id| (id.clone(), PersonRole::Student))
            .chain(self.guardians.iter().map(|id| (id.clone(), PersonRole::Guardian)))
            .chain(self.staff.iter().map(|id| (id.clone(), PersonRole::Staff)))
            .collect();
        all.sort();
        all
    }
}

/// Whom a list reaches, as fan-out needs it (see [`ListService::reach`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// Students whose messenger guardians are reached.
    pub via_students: Vec<PersonId>,
    /// Students reached themselves.
    pub students: Vec<PersonId>,
    /// Guardians reached directly.
    pub guardians: Vec<PersonId>,
    /// Staff reached.
    pub staff: Vec<PersonId>,
    /// People the list excludes (guardians among them are never reached).
    pub excluded: Vec<PersonId>,
}

/// One member as the members page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ListMember {
    /// The person.
    pub id: PersonId,
    /// Student, guardian or staff.
    pub role: PersonRole,
    pub given_name: String,
    pub family_name: String,
    /// Grade (students).
    pub grade: Option<String>,
    pub schools: Vec<SchoolId>,
}

/// A page of a list's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembersPage {
    /// Members of this page, in id order.
    pub members: Vec<ListMember>,
    /// Members of the whole list.
    pub count: usize,
    /// Give it back for the next page; `None` on the last.
    pub cursor: Option<String>,
}

/// What the rule matched, before the target applies.
#[derive(Debug, Default)]
struct Matched {
    /// Students the list is about (rule-matched students and included students).
    subjects: BTreeSet<PersonId>,
    /// Included students placed directly (on a staff list).
    students: BTreeSet<PersonId>,
    /// Matched or included guardians, members themselves.
    guardians: BTreeSet<PersonId>,
    /// Matched or included staff.
    staff: BTreeSet<PersonId>,
}

/// The list use cases.
#[derive(Clone)]
pub struct ListService {
    store: ListStore,
    index: RosterIndex,
    people: PeopleStore,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

fn scope_of(caller: &Principal) -> Result<ListScope, ServiceError> {
    ListScope::of(caller)
        .ok_or_else(|| ServiceError::Forbidden("your role does not build lists (staff of a school or district)".into()))
}

fn decode_cursor(token: &str) -> Result<PersonId, ServiceError> {
    let bad = || ServiceError::invalid("cursor: not a members cursor");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    PersonId::parse(String::from_utf8(bytes).map_err(|_| bad())?).map_err(|_| bad())
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no list `{}`", id.chars().take(40).collect::<String>()))
}

impl ListService {
    /// A service over the stores; `ids` names new lists.
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self { store: stores.lists.clone(), index: stores.roster.clone(), people: stores.people.clone(), clock, ids }
    }

    /// Checks a definition against the caller's scope and the roster, and
    /// answers the schools the list covers.
    async fn checked(
        &self,
        caller: &Principal,
        scope: &ListScope,
        definition: &ListDefinition,
    ) -> Result<Vec<SchoolId>, ServiceError> {
        let district = &caller.district;
        let rule = &definition.rule;
        let schools = if rule.schools.is_empty() {
            scope.default_schools()
        } else if scope.covers(&rule.schools) {
            rule.schools.clone()
        } else {
            return Err(ServiceError::Forbidden("rule.schools: you build lists only for your own schools".into()));
        };
        let in_list = |school: &SchoolId| schools.is_empty() || schools.contains(school);
        if let Some(section) = &rule.section {
            let school = self.index.section_school(district, section).await?;
            if !school.as_ref().is_some_and(in_list) {
                return Err(ServiceError::invalid(format!(
                    "rule.section: no section `{section}` in the list's schools"
                )));
            }
        }
        if let Some(teacher) = &rule.teacher {
            let profile = self.index.profile(district, teacher).await?;
            let fits = profile.is_some_and(|p| {
                p.role == PersonRole::Staff && p.active && (schools.is_empty() || p.schools.iter().any(in_list))
            });
            if !fits {
                return Err(ServiceError::invalid(format!(
                    "rule.teacher: no staff member `{teacher}` in the list's schools"
                )));
            }
        }
        let found = self.index.profiles(district, definition.includes.clone()).await?;
        if let Some(missing) =
            definition.includes.iter().find(|id| !found.get(*id).is_some_and(|p| scope.sees_person(&p.schools)))
        {
            return Err(ServiceError::invalid(format!("includes: no person `{missing}` in your schools")));
        }
        Ok(schools)
    }

    fn build(&self, id: ListId, definition: ListDefinition, owner: &str, schools: Vec<SchoolId>) -> RecipientList {
        let now = self.clock.now();
        RecipientList {
            id,
            name: definition.name,
            target: definition.target,
            rule: definition.rule,
            includes: definition.includes,
            excludes: definition.excludes,
            owner: owner.to_string(),
            schools,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// A list as `create` would save it, checked but not saved (id
    /// `draft`): for use cases that take an ad-hoc rule, to [`Self::resolve`].
    pub async fn draft(&self, caller: &Principal, input: &ListInput) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let definition = input.validate()?;
        let schools = self.checked(caller, &scope, &definition).await?;
        let id = ListId::parse("draft").map_err(ServiceError::Invalid)?;
        Ok(self.build(id, definition, &caller.subject, schools))
    }

    /// Saves a new list within the caller's scope (422 for a bad rule, 403
    /// for schools outside the scope).
    pub async fn create(&self, caller: &Principal, input: ListInput) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let definition = input.validate()?;
        let schools = self.checked(caller, &scope, &definition).await?;
        let id = ListId::parse(self.ids.next_id()).map_err(ServiceError::Invalid)?;
        let list = self.build(id, definition, &caller.subject, schools);
        match self.store.create(&caller.district, &list).await {
            Err(StoreError::AlreadyExists) => Err(ServiceError::Conflict(format!("list `{}` already exists", list.id))),
            other => other.map_err(ServiceError::from),
        }?;
        tracing::info!(district = %caller.district, list = %list.id, target = %list.target, "list created");
        Ok(list)
    }

    /// A list the caller may see; 404 for lists outside their scope.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let list_id = ListId::parse(id).map_err(|_| not_found(id))?;
        let list = self.store.get(&caller.district, &list_id).await?.ok_or_else(|| not_found(id))?;
        if scope.covers(&list.schools) { Ok(list) } else { Err(not_found(id)) }
    }

    /// Every list the caller may see, by id.
    pub async fn list(&self, caller: &Principal) -> Result<Vec<RecipientList>, ServiceError> {
        let scope = scope_of(caller)?;
        let mut lists = self.store.all(&caller.district).await?;
        lists.retain(|list| scope.covers(&list.schools));
        Ok(lists)
    }

    /// Replaces a list's definition. With `input.version`, 409 unless it is
    /// the stored version; either way 409 when it changed during the call.
    pub async fn update(&self, caller: &Principal, id: &str, input: ListInput) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let current = self.get(caller, id).await?;
        if input.version.is_some_and(|version| version != current.version) {
            return Err(ServiceError::Conflict(format!(
                "list `{}` is at version {}; read it again before changing it",
                current.id, current.version
            )));
        }
        let definition = input.validate()?;
        let schools = self.checked(caller, &scope, &definition).await?;
        let mut list = self.build(current.id.clone(), definition, &current.owner, schools);
        list.created_at = current.created_at;
        list.version = current.version + 1;
        if !self.store.replace(&caller.district, &list, current.version).await? {
            return Err(ServiceError::Conflict(format!("list `{}` changed meanwhile; read it again", current.id)));
        }
        tracing::info!(district = %caller.district, list = %list.id, version = list.version, "list updated");
        Ok(list)
    }

    /// Deletes a list the caller may see.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        let list = self.get(caller, id).await?;
        self.store.delete(&caller.district, &list.id).await?;
        tracing::info!(district = %caller.district, list = %list.id, "list deleted");
        Ok(())
    }

    /// A page of a list's members (in id order) with the total count.
    /// `cursor` is the one the previous page answered. Membership is
    /// computed for each page, so pages follow imports that happen between them.
    pub async fn members(
        &self,
        caller: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<MembersPage, ServiceError> {
        let list = self.get(caller, id).await?;
        let after = match cursor {
            Some(token) => Some(decode_cursor(token)?),
            None => None,
        };
        let limit = limit.unwrap_or(DEFAULT_MEMBERS_PAGE).clamp(1, MAX_MEMBERS_PAGE) as usize;
        let all = self.resolve(&caller.district, &list).await?.all();
        let count = all.len();
        let start = after.map_or(0, |after| all.partition_point(|(id, _)| *id <= after));
        let page = &all[start..(start + limit).min(count)];
        let more = start + page.len() < count;
        let profiles = self.index.profiles(&caller.district, page.iter().map(|(id, _)| id.clone()).collect()).await?;
        let members = page
            .iter()
            .map(|(id, role)| {
                let profile = profiles.get(id);
                ListMember {
                    id: id.clone(),
                    role: *role,
                    given_name: profile.map(|p| p.given_name.clone()).unwrap_or_default(),
                    family_name: profile.map(|p| p.family_name.clone()).unwrap_or_default(),
                    grade: profile.and_then(|p| p.grade.clone()),
                    schools: profile.map(|p| p.schools.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let cursor = page.last().filter(|_| more).map(|(id, _)| URL_SAFE_NO_PAD.encode(id.as_str()));
        Ok(MembersPage { members, count, cursor })
    }

    /// Who the list reaches now, computed from the store's indexes (see the
    /// module docs for what it reads). For other use cases (fan-out, the
    /// preference batch, benchmarks); it checks no caller.
    pub async fn resolve(&self, district: &DistrictId, list: &RecipientList) -> Result<ListMembers, ServiceError> {
        let reach = self.reach(district, list).await?;
        let excluded: BTreeSet<&PersonId> = list.excludes.iter().collect();
        let mut guardians: BTreeSet<PersonId> = reach.guardians.into_iter().collect();
        guardians.extend(
            self.messenger_guardians(district, &reach.via_students.into_iter().collect())
                .await?
                .into_iter()
                .filter(|id| !excluded.contains(id)),
        );
        Ok(ListMembers { students: reach.students, guardians: guardians.into_iter().collect(), staff: reach.staff })
    }

    /// Whom the list reaches, without reading guardian links: the students
    /// whose messenger guardians it reaches, and the people it reaches
    /// directly (excludes applied to all; an excluded guardian must also be
    /// left out by whoever expands `via_students`). For fan-out, which reads
    /// each student's links itself.
    pub async fn reach(&self, district: &DistrictId, list: &RecipientList) -> Result<Reach, ServiceError> {
        let matched = self.matched(district, list).await?;
        let excluded: BTreeSet<&PersonId> = list.excludes.iter().collect();
        let keep = |set: BTreeSet<PersonId>| set.into_iter().filter(|id| !excluded.contains(id)).collect::<Vec<_>>();
        let (via_students, students) = match list.target {
            ListTarget::Students => (BTreeSet::new(), matched.subjects),
            ListTarget::Guardians => (matched.subjects, BTreeSet::new()),
            ListTarget::StudentsAndGuardians => (matched.subjects.clone(), matched.subjects),
            ListTarget::Staff => (BTreeSet::new(), matched.students),
        };
        Ok(Reach {
            via_students: keep(via_students),
            students: keep(students),
            guardians: keep(matched.guardians),
            staff: keep(matched.staff),
            excluded: list.excludes.clone(),
        })
    }

    /// The students a list is about and its staff (excludes applied),
    /// whatever its target: what a batch over a list's people needs.
    pub async fn students_and_staff(
        &self,
        district: &DistrictId,
        list: &RecipientList,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError> {
        let matched = self.matched(district, list).await?;
        let excluded: BTreeSet<&PersonId> = list.excludes.iter().collect();
        let mut students = matched.subjects;
        students.extend(matched.students);
        let keep = |set: BTreeSet<PersonId>| set.into_iter().filter(|id| !excluded.contains(id)).collect::<Vec<_>>();
        Ok((keep(students), keep(matched.staff)))
    }

    async fn matched(&self, district: &DistrictId, list: &RecipientList) -> Result<Matched, ServiceError> {
        let rule = &list.rule;
        let role = rule.matched_role(list.target);
        let schools = if list.schools.is_empty() { self.index.schools(district).await? } else { list.schools.clone() };
        let excluded: BTreeSet<&PersonId> = list.excludes.iter().collect();

        // Candidates from the most selective index; `from_school_index`
        // says whether they are known active, in the schools and graded.
        let mut candidates = BTreeSet::new();
        let from_school_index = rule.teacher.is_none() && rule.section.is_none();
        if let Some(teacher) = &rule.teacher {
            for (section, part) in self.index.sections_of(district, teacher).await? {
                if part == EnrollmentRole::Teacher
                    && rule.section.as_ref().is_none_or(|only| *only == section)
                    && self.section_in(district, &section, &schools).await?
                {
                    candidates.extend(self.enrolled(district, &section, EnrollmentRole::Student).await?);
                }
            }
        } else if let Some(section) = &rule.section {
            if self.section_in(district, section, &schools).await? {
                let part = if role == PersonRole::Staff { EnrollmentRole::Teacher } else { EnrollmentRole::Student };
                candidates.extend(self.enrolled(district, section, part).await?);
            }
        } else {
            for school in &schools {
                if role == PersonRole::Student && !rule.grades.is_empty() {
                    for grade in &rule.grades {
                        candidates.extend(self.index.school_members(district, school, role, Some(grade)).await?);
                    }
                } else {
                    candidates.extend(self.index.school_members(district, school, role, None).await?);
                }
            }
        }
        candidates.retain(|id| !excluded.contains(id));
        if !from_school_index || rule.reads_profiles() {
            let profiles = self.index.profiles(district, candidates.iter().cloned().collect()).await?;
            candidates.retain(|id| profiles.get(id).is_some_and(|p| p.active && p.role == role && rule.matches(p)));
        }

        let mut matched = Matched::default();
        match role {
            PersonRole::Student => matched.subjects = candidates,
            PersonRole::Guardian => matched.guardians = candidates,
            PersonRole::Staff => matched.staff = candidates,
        }
        let includes: Vec<PersonId> = list.includes.iter().filter(|id| !excluded.contains(id)).cloned().collect();
        for (id, profile) in self.index.profiles(district, includes).await? {
            match profile.role {
                _ if !profile.active => {}
                PersonRole::Student if list.target != ListTarget::Staff => {
                    matched.subjects.insert(id);
                }
                PersonRole::Student => {
                    matched.students.insert(id);
                }
                PersonRole::Guardian => {
                    matched.guardians.insert(id);
                }
                PersonRole::Staff => {
                    matched.staff.insert(id);
                }
            }
        }
        Ok(matched)
    }

    async fn section_in(
        &self,
        district: &DistrictId,
        section: &str,
        schools: &[SchoolId],
    ) -> Result<bool, ServiceError> {
        Ok(self.index.section_school(district, section).await?.is_some_and(|school| schools.contains(&school)))
    }

    async fn enrolled(
        &self,
        district: &DistrictId,
        section: &str,
        part: EnrollmentRole,
    ) -> Result<Vec<PersonId>, ServiceError> {
        let enrolled = self.index.enrolled(district, section).await?;
        Ok(enrolled.into_iter().filter(|(_, role)| *role == part).map(|(id, _)| id).collect())
    }

    /// The active messenger guardians of the students.
    async fn messenger_guardians(
        &self,
        district: &DistrictId,
        students: &BTreeSet<PersonId>,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let people = &self.people;
        let links: Vec<Vec<(PersonId, bool)>> = stream::iter(students.iter().cloned().collect::<Vec<_>>())
            .map(|student| async move { people.guardians_of(district, &student).await })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let guardians: BTreeSet<PersonId> =
            links.into_iter().flatten().filter(|(_, messenger)| *messenger).map(|(id, _)| id).collect();
        let profiles: BTreeMap<PersonId, MemberProfile> =
            self.index.profiles(district, guardians.into_iter().collect()).await?.into_iter().collect();
        Ok(profiles.into_iter().filter(|(_, p)| p.active).map(|(id, _)| id).collect())
    }
}

#[async_trait::async_trait]
impl crate::services::ListResolver for ListService {
    async fn students_and_staff(
        &self,
        caller: &Principal,
        list: &str,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError> {
        let list = self.get(caller, list).await?;
        ListService::students_and_staff(self, &caller.district, &list).await
    }

    async fn rule_students_and_staff(
        &self,
        caller: &Principal,
        rule: &serde_json::Value,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError> {
        let input: crate::domain::ListInput =
            serde_json::from_value(serde_json::json!({"name": "ad hoc rule", "target": "students", "rule": rule}))
                .map_err(|e| crate::domain::DomainError::Invalid(format!("filter.rule: {e}")))?;
        let list = self.draft(caller, &input).await?;
        ListService::students_and_staff(self, &caller.district, &list).await
    }
}
