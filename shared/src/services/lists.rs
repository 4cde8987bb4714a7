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
//! Seeing a list is not owning it: a list is changed or deleted only by
//! its owner or an admin of every school it covers, and each change and
//! deletion leaves an audit entry (`history`). A teacher (with no wider
//! role) builds lists of their own sections' students and families only.
//!
//! How membership is computed: see `membership`.

use std::sync::Arc;

use serde::Serialize;

use crate::domain::{
    ListAction, ListChange, ListDefinition, ListId, ListInput, ListScope, PersonId, PersonRole, Principal,
    RecipientList, SchoolId, builds_only_own_sections, pinned_to_teacher,
};
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::services::cursors::{CursorError, CursorScope, Cursors, PageKind};
use crate::store::{ListStore, PeopleStore, RosterIndex, StoreError, Stores};

mod membership;

pub use membership::{ListMembers, Reach};

/// Members per page when the caller names no limit.
pub const DEFAULT_MEMBERS_PAGE: u32 = 50;
/// Most members one page holds.
pub const MAX_MEMBERS_PAGE: u32 = 1000;
/// Most audit entries `history` answers.
pub const MAX_HISTORY: u32 = 100;

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

/// The list use cases.
#[derive(Clone)]
pub struct ListService {
    store: ListStore,
    index: RosterIndex,
    people: PeopleStore,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    cursors: Cursors,
}

fn scope_of(caller: &Principal) -> Result<ListScope, ServiceError> {
    ListScope::of(caller)
        .ok_or_else(|| ServiceError::Forbidden("your role does not build lists (staff of a school or district)".into()))
}

/// The member a members cursor of `scope` stopped at (sealed: it names a
/// person, and must not page another list).
fn decode_cursor(cursors: &Cursors, scope: CursorScope<'_>, token: &str) -> Result<PersonId, ServiceError> {
    let id = cursors.open_text(scope, token)?;
    Ok(PersonId::parse(id).map_err(|_| CursorError::refused(PageKind::ListMembers))?)
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no list `{}`", id.chars().take(40).collect::<String>()))
}

impl ListService {
    /// A service over the stores; `ids` names new lists.
    /// `cursors` seals the members pages' cursors.
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>, cursors: Cursors) -> Self {
        let (store, index, people) = (stores.lists.clone(), stores.roster.clone(), stores.people.clone());
        Self { store, index, people, clock, ids, cursors }
    }

    /// The caller's definition, validated; a teacher's is bound to their
    /// own sections (403 for what a teacher's list may not reach, or when
    /// the caller is no staff member who could have sections).
    async fn definition(&self, caller: &Principal, input: &ListInput) -> Result<ListDefinition, ServiceError> {
        let definition = input.validate()?;
        if !builds_only_own_sections(caller) {
            return Ok(definition);
        }
        let no_sections =
            || ServiceError::Forbidden("teachers build lists of their own sections; you have none".into());
        let teacher = PersonId::parse(caller.subject.as_str()).map_err(|_| no_sections())?;
        let profile = self.index.profile(&caller.district, &teacher).await?;
        if !profile.is_some_and(|p| p.role == PersonRole::Staff && p.active) {
            return Err(no_sections());
        }
        pinned_to_teacher(definition, &teacher).map_err(ServiceError::Forbidden)
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
        if let (Some(teacher), true) = (&rule.teacher, builds_only_own_sections(caller)) {
            let mine = self.students_of_teacher(district, teacher).await?;
            if let Some(other) = definition.includes.iter().find(|id| !mine.contains(*id)) {
                return Err(ServiceError::invalid(format!("includes: no student `{other}` in your sections")));
            }
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
        let definition = self.definition(caller, input).await?;
        let schools = self.checked(caller, &scope, &definition).await?;
        let id = ListId::parse("draft").map_err(ServiceError::Invalid)?;
        Ok(self.build(id, definition, &caller.subject, schools))
    }

    /// Saves a new list within the caller's scope (422 for a bad rule, 403
    /// for schools outside the scope).
    pub async fn create(&self, caller: &Principal, input: ListInput) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let definition = self.definition(caller, &input).await?;
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

    /// A list the caller may change: 404 when they may not see it, 403 when
    /// they see it but neither own it nor administer all its schools.
    async fn changeable(&self, caller: &Principal, id: &str) -> Result<RecipientList, ServiceError> {
        let list = self.get(caller, id).await?;
        if list.may_change(caller) {
            Ok(list)
        } else {
            Err(ServiceError::Forbidden(format!(
                "list `{}` is changed only by its owner or an admin of all its schools",
                list.id
            )))
        }
    }

    /// The audit entry of what the caller does to `before`, with its id.
    fn change(&self, caller: &Principal, action: ListAction, before: RecipientList) -> (ListChange, String) {
        let change =
            ListChange { list: before.id.clone(), action, by: caller.subject.clone(), at: self.clock.now(), before };
        (change, self.ids.next_id())
    }

    fn changed_meanwhile(id: &ListId) -> ServiceError {
        ServiceError::Conflict(format!("list `{id}` changed meanwhile; read it again"))
    }

    /// Every list the caller may see, by id.
    pub async fn list(&self, caller: &Principal) -> Result<Vec<RecipientList>, ServiceError> {
        let scope = scope_of(caller)?;
        let mut lists = self.store.all(&caller.district).await?;
        lists.retain(|list| scope.covers(&list.schools));
        Ok(lists)
    }

    /// Replaces a list's definition (its owner or an admin of all its
    /// schools), with an audit entry. With `input.version`, 409 unless it is
    /// the stored version; either way 409 when it changed during the call.
    pub async fn update(&self, caller: &Principal, id: &str, input: ListInput) -> Result<RecipientList, ServiceError> {
        let scope = scope_of(caller)?;
        let current = self.changeable(caller, id).await?;
        if input.version.is_some_and(|version| version != current.version) {
            return Err(ServiceError::Conflict(format!(
                "list `{}` is at version {}; read it again before changing it",
                current.id, current.version
            )));
        }
        let definition = self.definition(caller, &input).await?;
        let schools = self.checked(caller, &scope, &definition).await?;
        let mut list = self.build(current.id.clone(), definition, &current.owner, schools);
        list.created_at = current.created_at;
        list.version = current.version + 1;
        let (change, change_id) = self.change(caller, ListAction::Updated, current);
        if !self.store.replace(&caller.district, &list, &change, &change_id).await? {
            return Err(Self::changed_meanwhile(&list.id));
        }
        tracing::info!(district = %caller.district, list = %list.id, version = list.version, "list updated");
        Ok(list)
    }

    /// Deletes a list (its owner or an admin of all its schools), with an
    /// audit entry. Broadcasts already accepted keep the list as it was.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        let list = self.changeable(caller, id).await?;
        let list_id = list.id.clone();
        let (change, change_id) = self.change(caller, ListAction::Deleted, list);
        if !self.store.delete(&caller.district, &change, &change_id).await? {
            return Err(Self::changed_meanwhile(&list_id));
        }
        tracing::info!(district = %caller.district, list = %list_id, "list deleted");
        Ok(())
    }

    /// A list's audit trail, newest first, for those who may change it.
    pub async fn history(&self, caller: &Principal, id: &str) -> Result<Vec<ListChange>, ServiceError> {
        let list = self.changeable(caller, id).await?;
        Ok(self.store.history(&caller.district, &list.id, MAX_HISTORY).await?)
    }

    /// A page of a list's members (in id order) with the total count.
    /// `cursor` is the one the previous page answered, sealed to this list
    /// (400 for any other). Membership is computed once a page (the count
    /// needs all of it), so pages follow imports that happen between them;
    /// only the page's own members' profiles are read.
    pub async fn members(
        &self,
        caller: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<MembersPage, ServiceError> {
        let list = self.get(caller, id).await?;
        let scope = CursorScope { district: &caller.district, kind: PageKind::ListMembers, of: list.id.as_str() };
        let after = cursor.map(|token| decode_cursor(&self.cursors, scope, token)).transpose()?;
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
        let cursor = page.last().filter(|_| more).map(|(id, _)| self.cursors.seal_text(scope, id.as_str()));
        Ok(MembersPage { members, count, cursor })
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
