//! Roles and permissions: a caller's effective [`Grants`] (read from the
//! store on every request, so a revoked role takes effect at once), the
//! district's roles, and role assignments one by one or in bulk from CSV.
//!
//! - [`RoleService::grants`]: the token's roles plus the stored assignments
//!   of the token's subject (one query; one more when a custom role is held).
//! - custom roles (`create_role`, `update_role`, `delete_role`): district
//!   admins only; built-in roles are fixed.
//! - assignments (`assign`, `unassign`, `assignments`, `assign_csv`): by
//!   callers who manage roles, within what [`Grants::may_grant`] allows.
//!
//! Every assignment is checked the same way, cheapest first: its cells
//! (malformed row), the role (unknown role), the caller's right to grant
//! it there (forbidden), then the school and the staff member in the
//! store (unknown school; unknown staff id, 404, for anyone who is not an
//! active staff member the caller may see, so that an id answers the same
//! whether it is a parent's, another school's or nobody's). The bulk CSV
//! applies every good row and reports each bad one with its 1-based line
//! (the header is line 1); re-applying a held role is fine.

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use crate::domain::roles::{Assignment, Grants, RoleDefinition, RoleInput, find_role};
use crate::domain::{DomainError, PersonId, PersonRole, Principal, Role, SchoolId};
use crate::ports::Clock;
use crate::services::ServiceError;
use crate::store::roles::RoleStore;
use crate::store::{RosterIndex, StoreError, Stores};

mod csv_rows;

pub use csv_rows::{ASSIGNMENT_COLUMNS, CsvRow, MAX_BULK_ROWS, parse_assignments_csv};

/// How many store reads or writes of a bulk upload are in flight at once.
const CONCURRENT_CALLS: usize = 16;

/// An assignment as a caller writes it (JSON body, query string, CSV row).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    /// The staff member's person id.
    pub staff_id: String,
    /// The school; blank or absent only for `district_admin`.
    #[serde(default)]
    pub school: Option<String>,
    /// The role: a built-in role's name, a custom role's id, or either's
    /// display name (any case).
    pub role: String,
}

/// Which assignments to list: a staff member's, a role's holders, or both filters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct AssignmentFilter {
    /// A staff member's person id.
    #[serde(default)]
    pub staff: Option<String>,
    /// A role id.
    #[serde(default)]
    pub role: Option<String>,
}

/// A row of a bulk upload that was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedAssignment {
    /// Its 1-based line in the file (the header is line 1).
    pub row: u64,
    /// Why (never contact data).
    pub message: String,
}

/// What a bulk upload did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct BulkOutcome {
    /// Rows applied (held already or newly assigned).
    pub applied: usize,
    /// Rows not applied, in file order.
    pub rejected: Vec<RejectedAssignment>,
}

/// Why one assignment cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowError {
    /// The cells do not make an assignment, or name what does not exist.
    Invalid(String),
    /// The caller may not grant that role there.
    Forbidden(String),
    /// No active staff member the caller may see has the id.
    NotFound(String),
}

impl RowError {
    fn message(self) -> String {
        match self {
            RowError::Invalid(message) | RowError::Forbidden(message) | RowError::NotFound(message) => message,
        }
    }
}

impl From<RowError> for ServiceError {
    fn from(error: RowError) -> Self {
        match error {
            RowError::Invalid(message) => ServiceError::Invalid(DomainError::Invalid(message)),
            RowError::Forbidden(message) => ServiceError::Forbidden(message),
            RowError::NotFound(message) => ServiceError::NotFound(message),
        }
    }
}

/// An assignment whose cells and grant are checked, not yet its school and staff member.
#[derive(Debug, Clone)]
struct Candidate {
    staff: PersonId,
    school: Option<SchoolId>,
    role: RoleDefinition,
}

/// What the store says of a staff id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StaffState {
    /// Nobody, or no active staff member.
    Missing,
    /// An active staff member of these schools.
    Staff(Vec<SchoolId>),
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Finds the role a caller names: an id first, then a display name (any case).
fn resolve_role(text: &str, custom: &[RoleDefinition]) -> Result<RoleDefinition, RowError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RowError::Invalid("malformed row: role is blank".into()));
    }
    if let Ok(portal @ (Role::Guardian | Role::Student)) = text.parse::<Role>() {
        return Err(RowError::Invalid(format!("unknown role `{portal}`: a portal role, which cannot be assigned")));
    }
    find_role(text, custom)
        .or_else(|| {
            RoleDefinition::built_ins()
                .into_iter()
                .chain(custom.iter().cloned())
                .find(|r| r.name.eq_ignore_ascii_case(text))
        })
        .ok_or_else(|| RowError::Invalid(format!("unknown role `{}`", clip(text))))
}

/// Checks an assignment's cells, its role and the caller's right to grant it.
fn candidate(grants: &Grants, custom: &[RoleDefinition], input: &AssignmentInput) -> Result<Candidate, RowError> {
    let staff_text = input.staff_id.trim();
    if staff_text.is_empty() {
        return Err(RowError::Invalid("malformed row: staff_id is blank".into()));
    }
    let staff = PersonId::parse(staff_text).map_err(|e| RowError::Invalid(format!("malformed row: staff_id: {e}")))?;
    let role = resolve_role(&input.role, custom)?;
    let school_text = input.school.as_deref().map(str::trim).unwrap_or_default();
    let school = match (role.is_district_admin(), school_text.is_empty()) {
        (true, true) => None,
        (true, false) => {
            return Err(RowError::Invalid(
                "malformed row: `district_admin` is district-wide: leave school blank".into(),
            ));
        }
        (false, true) => {
            return Err(RowError::Invalid(format!(
                "malformed row: school is blank (`{}` is held at a school)",
                role.id
            )));
        }
        (false, false) => {
            Some(SchoolId::parse(school_text).map_err(|e| RowError::Invalid(format!("malformed row: school: {e}")))?)
        }
    };
    if !grants.may_grant(&role, school.as_ref()) {
        let place = school.as_ref().map_or_else(|| "district-wide".to_string(), |s| format!("at school `{s}`"));
        return Err(RowError::Forbidden(format!("you may not grant or revoke `{}` {place}", role.id)));
    }
    Ok(Candidate { staff, school, role })
}

/// The role use cases.
#[derive(Clone)]
pub struct RoleService {
    store: RoleStore,
    index: RosterIndex,
    clock: Arc<dyn Clock>,
}

impl RoleService {
    /// A service over the stores; `clock` dates assignments and role changes.
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>) -> Self {
        Self { store: stores.roles.clone(), index: stores.roster.clone(), clock }
    }

    /// What the caller may do and where: their token's roles plus the roles
    /// stored for their subject, read now (never cached).
    pub async fn grants(&self, caller: &Principal) -> Result<Grants, ServiceError> {
        let token = Grants::from_token(caller);
        if token.is_district_admin() {
            return Ok(token);
        }
        let Ok(staff) = PersonId::parse(caller.subject.as_str()) else { return Ok(token) };
        let assignments = self.store.assignments_of(&caller.district, &staff).await?;
        let custom = if assignments.iter().any(|a| a.role.parse::<Role>().is_err()) {
            self.store.custom_roles(&caller.district).await?
        } else {
            Vec::new()
        };
        Ok(Grants::resolve(caller, &assignments, &custom))
    }

    async fn manager_grants(&self, caller: &Principal) -> Result<Grants, ServiceError> {
        let grants = self.grants(caller).await?;
        if grants.manages_roles_anywhere() {
            Ok(grants)
        } else {
            Err(ServiceError::Forbidden("your role does not manage roles".into()))
        }
    }

    async fn district_admin(&self, caller: &Principal) -> Result<(), ServiceError> {
        if self.grants(caller).await?.is_district_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only district admins define roles".into()))
        }
    }

    /// Every role of the district, built-in first, then custom by id.
    /// For callers who manage roles.
    pub async fn roles(&self, caller: &Principal) -> Result<Vec<RoleDefinition>, ServiceError> {
        self.manager_grants(caller).await?;
        let mut roles = RoleDefinition::built_ins();
        roles.extend(self.store.custom_roles(&caller.district).await?);
        Ok(roles)
    }

    /// Defines a custom role (district admins); 409 when the id is taken.
    pub async fn create_role(&self, caller: &Principal, input: RoleInput) -> Result<RoleDefinition, ServiceError> {
        self.district_admin(caller).await?;
        let id = input.id.clone().ok_or_else(|| ServiceError::Invalid(DomainError::Invalid("id: required".into())))?;
        let role = input.validate(&id, self.clock.now())?;
        match self.store.create_role(&caller.district, &role).await {
            Ok(()) => {
                tracing::info!(district = %caller.district, role = %role.id, permissions = role.permissions.iter().count(), "custom role created");
                Ok(role)
            }
            Err(StoreError::AlreadyExists) => Err(ServiceError::Conflict(format!("role `{}` already exists", role.id))),
            Err(other) => Err(other.into()),
        }
    }

    fn refuse_built_in(id: &str) -> Result<(), ServiceError> {
        if id.parse::<Role>().is_ok() {
            return Err(ServiceError::Conflict(format!("role `{id}` is built in: it cannot be changed or deleted")));
        }
        Ok(())
    }

    fn no_role(id: &str) -> ServiceError {
        ServiceError::NotFound(format!("no custom role `{}`", clip(id)))
    }

    /// Replaces a custom role's name and permissions (district admins);
    /// its holders have the new permissions at their next request.
    pub async fn update_role(
        &self,
        caller: &Principal,
        id: &str,
        input: RoleInput,
    ) -> Result<RoleDefinition, ServiceError> {
        self.district_admin(caller).await?;
        Self::refuse_built_in(id)?;
        let role = input.validate(id, self.clock.now())?;
        if !self.store.replace_role(&caller.district, &role).await? {
            return Err(Self::no_role(id));
        }
        tracing::info!(district = %caller.district, role = %role.id, permissions = role.permissions.iter().count(), "custom role changed");
        Ok(role)
    }

    /// Deletes a custom role and every assignment of it (district admins).
    pub async fn delete_role(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        self.district_admin(caller).await?;
        Self::refuse_built_in(id)?;
        let removed = self.store.delete_role(&caller.district, id).await?.ok_or_else(|| Self::no_role(id))?;
        tracing::info!(district = %caller.district, role = %clip(id), assignments_removed = removed, "custom role deleted");
        Ok(())
    }

    /// Assignments by staff member and/or role, limited to the schools
    /// where the caller manages roles (district admins: all).
    pub async fn assignments(
        &self,
        caller: &Principal,
        filter: &AssignmentFilter,
    ) -> Result<Vec<Assignment>, ServiceError> {
        let grants = self.manager_grants(caller).await?;
        let district = &caller.district;
        let staff = filter
            .staff
            .as_deref()
            .map(|id| PersonId::parse(id.trim()).map_err(|e| DomainError::Invalid(format!("staff: {e}"))))
            .transpose()?;
        let role = filter.role.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let found = match (&staff, role) {
            (Some(staff), _) => self.store.assignments_of(district, staff).await?,
            (None, Some(role)) => self.store.holders_of(district, role).await?,
            (None, None) => {
                return Err(ServiceError::Invalid(DomainError::Invalid("give `staff` or `role` to list by".into())));
            }
        };
        let visible = |a: &Assignment| match &a.school {
            Some(school) => grants.may_manage_roles(school),
            None => grants.is_district_admin(),
        };
        Ok(found.into_iter().filter(|a| role.is_none_or(|r| a.role == r) && visible(a)).collect())
    }

    async fn staff_state(&self, caller: &Principal, staff: &PersonId) -> Result<StaffState, ServiceError> {
        Ok(match self.index.profile(&caller.district, staff).await? {
            Some(profile) if profile.role == PersonRole::Staff && profile.active => StaffState::Staff(profile.schools),
            _ => StaffState::Missing,
        })
    }

    /// The check of a candidate against what the store knows of its school
    /// and staff member: one answer for an id that is nobody's, a parent's
    /// or a student's, or a staff member's the caller may not see.
    fn confirm(
        caller: &Principal,
        grants: &Grants,
        candidate: &Candidate,
        school_known: bool,
        staff: &StaffState,
    ) -> Result<(), RowError> {
        if let (Some(school), false) = (&candidate.school, school_known) {
            return Err(RowError::Invalid(format!("unknown school `{school}`")));
        }
        match staff {
            StaffState::Staff(schools) if caller.sees_person(grants, candidate.staff.as_str(), schools) => Ok(()),
            _ => Err(RowError::NotFound(format!(
                "unknown staff id `{}`: no active staff member you may see has it",
                candidate.staff
            ))),
        }
    }

    async fn record(&self, caller: &Principal, candidate: &Candidate) -> Result<Assignment, ServiceError> {
        let assignment = Assignment {
            staff_id: candidate.staff.clone(),
            school: candidate.school.clone(),
            role: candidate.role.id.clone(),
            assigned_by: caller.subject.clone(),
            assigned_at: self.clock.now(),
        };
        let created = self.store.assign(&caller.district, &assignment).await?;
        if created {
            tracing::info!(district = %caller.district, staff = %assignment.staff_id, school = ?assignment.school.as_ref().map(SchoolId::as_str), role = %assignment.role, "role assigned");
        }
        Ok(assignment)
    }

    /// Assigns a role to a staff member at a school (idempotent: a held
    /// role answers its first assignment).
    pub async fn assign(&self, caller: &Principal, input: &AssignmentInput) -> Result<Assignment, ServiceError> {
        let grants = self.manager_grants(caller).await?;
        let custom = self.store.custom_roles(&caller.district).await?;
        let candidate = candidate(&grants, &custom, input)?;
        let school_known = match &candidate.school {
            Some(school) => self.store.school_exists(&caller.district, school).await?,
            None => true,
        };
        let staff = self.staff_state(caller, &candidate.staff).await?;
        Self::confirm(caller, &grants, &candidate, school_known, &staff)?;
        let assignment = self.record(caller, &candidate).await?;
        let held = self.store.assignments_of(&caller.district, &candidate.staff).await?;
        Ok(held.into_iter().find(|a| a.school == assignment.school && a.role == assignment.role).unwrap_or(assignment))
    }

    /// Revokes a role; 404 when the staff member does not hold it there.
    /// The staff member need not exist any more.
    pub async fn unassign(&self, caller: &Principal, input: &AssignmentInput) -> Result<(), ServiceError> {
        let grants = self.manager_grants(caller).await?;
        let custom = self.store.custom_roles(&caller.district).await?;
        let candidate = candidate(&grants, &custom, input)?;
        let school = candidate.school.as_ref();
        if !self.store.unassign(&caller.district, &candidate.staff, school, &candidate.role.id).await? {
            return Err(ServiceError::NotFound(format!(
                "`{}` does not hold `{}` there",
                candidate.staff, candidate.role.id
            )));
        }
        tracing::info!(district = %caller.district, staff = %candidate.staff, school = ?school.map(SchoolId::as_str), role = %candidate.role.id, "role revoked");
        Ok(())
    }

    /// Applies a CSV of `staff_id,school,role` rows: every good row is
    /// assigned, every bad one reported. A body that is not such a CSV at
    /// all (empty, no header, unknown columns, too many rows) is refused
    /// whole. A backend failure midway leaves earlier rows applied;
    /// uploading the file again is safe.
    pub async fn assign_csv(&self, caller: &Principal, body: &[u8]) -> Result<BulkOutcome, ServiceError> {
        let grants = self.manager_grants(caller).await?;
        let rows = parse_assignments_csv(body)?;
        let custom = self.store.custom_roles(&caller.district).await?;
        let mut outcome = BulkOutcome::default();
        let mut checked: Vec<(u64, Candidate)> = Vec::with_capacity(rows.len());
        for row in rows {
            match row.cells.map_err(RowError::Invalid).and_then(|input| candidate(&grants, &custom, &input)) {
                Ok(candidate) => checked.push((row.row, candidate)),
                Err(error) => outcome.rejected.push(RejectedAssignment { row: row.row, message: error.message() }),
            }
        }
        let schools = self.schools_known(caller, &checked).await?;
        let staff = self.staff_known(caller, &checked).await?;
        let mut good = Vec::with_capacity(checked.len());
        for (row, candidate) in checked {
            let school_known = candidate.school.as_ref().is_none_or(|s| schools.get(s).copied().unwrap_or(false));
            let state = staff.get(&candidate.staff).unwrap_or(&StaffState::Missing);
            match Self::confirm(caller, &grants, &candidate, school_known, state) {
                Ok(()) => good.push(candidate),
                Err(error) => outcome.rejected.push(RejectedAssignment { row, message: error.message() }),
            }
        }
        outcome.applied = stream::iter(good)
            .map(|candidate| async move { self.record(caller, &candidate).await })
            .buffer_unordered(CONCURRENT_CALLS)
            .try_fold(0, |applied, _| async move { Ok(applied + 1) })
            .await?;
        outcome.rejected.sort_by_key(|r| r.row);
        tracing::info!(district = %caller.district, applied = outcome.applied, rejected = outcome.rejected.len(), "role assignments uploaded");
        Ok(outcome)
    }

    async fn schools_known(
        &self,
        caller: &Principal,
        checked: &[(u64, Candidate)],
    ) -> Result<HashMap<SchoolId, bool>, ServiceError> {
        let mut wanted: Vec<SchoolId> = checked.iter().filter_map(|(_, c)| c.school.clone()).collect();
        wanted.sort();
        wanted.dedup();
        stream::iter(wanted)
            .map(|school| async move {
                let known = self.store.school_exists(&caller.district, &school).await?;
                Ok::<_, ServiceError>((school, known))
            })
            .buffer_unordered(CONCURRENT_CALLS)
            .try_collect()
            .await
    }

    async fn staff_known(
        &self,
        caller: &Principal,
        checked: &[(u64, Candidate)],
    ) -> Result<HashMap<PersonId, StaffState>, ServiceError> {
        let mut wanted: Vec<PersonId> = checked.iter().map(|(_, c)| c.staff.clone()).collect();
        wanted.sort();
        wanted.dedup();
        stream::iter(wanted)
            .map(|staff| async move { Ok::<_, ServiceError>((staff.clone(), self.staff_state(caller, &staff).await?)) })
            .buffer_unordered(CONCURRENT_CALLS)
            .try_collect()
            .await
    }
}

#[cfg(test)]
mod tests;
