//! The contact clean-up list: students whose contacts cannot be texted,
//! with each number's SMS status, read from the not-Ok index (never a scan)
//! and joined to the people at each number and their students.
//!
//! It corrects itself: when an import changes a contact's number, the old
//! number no longer leads to that contact; when a delivery succeeds, the
//! number's status becomes Ok and it leaves the index.
//!
//! A page's cursor is the sort key of its last row (sealed, see
//! `services::cursors`), so a page starts after that row even when rows
//! came or went meanwhile; the CSV download is built in one pass.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{
    ContactValue, DistrictId, DomainError, EnrollmentRole, MemberProfile, PersonId, PersonRole, Principal, SchoolId,
    Severity, SmsStatus,
};
use crate::services::cursors::{CursorError, CursorScope, Cursors, PageKind};
use crate::services::{ServiceError, spreadsheet_safe};
use crate::store::{NumberStatus, PeopleStore, RosterIndex, SmsStatusStore, Stores};
use serde::{Deserialize, Serialize};

/// Filters of the clean-up list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CleanupFilter {
    /// Part of the student's name (case-insensitive).
    #[serde(default)]
    pub student: Option<String>,
    /// Grade code.
    #[serde(default)]
    pub grade: Option<String>,
    /// SMS statuses (comma-separated in the query string).
    #[serde(default)]
    pub status: Option<String>,
    /// A teacher's id: only students in that teacher's sections.
    #[serde(default)]
    pub teacher: Option<String>,
    /// One school.
    #[serde(default)]
    pub school: Option<String>,
}

/// One row: a student, a contact of theirs, and the number's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct CleanupItem {
    /// Student's id.
    pub student_id: PersonId,
    /// Student's name.
    pub student: String,
    pub grade: String,
    /// School (name when known).
    pub school: String,
    /// The contact's name (the student for their own phone).
    pub contact: String,
    /// What the contact is to the student (`parent`, `self` ...).
    pub relationship: String,
    pub number: String,
    /// Its SMS status.
    pub status: SmsStatus,
    /// Yellow (may not receive) or red (no longer valid).
    pub severity: Option<Severity>,
    /// When the carrier said so.
    pub last_event_at: chrono::DateTime<chrono::Utc>,
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanupPage {
    /// Rows, by student name.
    pub items: Vec<CleanupItem>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// Most rows one page holds.
pub const MAX_CLEANUP_PAGE: u32 = 1000;

#[derive(Debug, Clone)]
struct Profile {
    id: PersonId,
    role: PersonRole,
    name: String,
    grade: String,
    schools: Vec<SchoolId>,
    active: bool,
}

impl Profile {
    fn of(profile: MemberProfile) -> Self {
        Self {
            name: format!("{} {}", profile.given_name, profile.family_name).trim().to_string(),
            grade: profile.grade.unwrap_or_default(),
            id: profile.id,
            role: profile.role,
            schools: profile.schools,
            active: profile.active,
        }
    }
}

/// The clean-up list use case.
#[derive(Clone)]
pub struct CleanupService {
    people: PeopleStore,
    roster: RosterIndex,
    statuses: SmsStatusStore,
    roles: crate::services::roles::RoleService,
    cursors: Cursors,
}

impl CleanupService {
    /// A service over the stores; `roles` answers who may see the list
    /// where; `cursors` seals the pages' cursors.
    pub fn new(stores: &Stores, roles: crate::services::roles::RoleService, cursors: Cursors) -> Self {
        Self {
            people: stores.people.clone(),
            roster: stores.roster.clone(),
            statuses: stores.sms_status.clone(),
            roles,
            cursors,
        }
    }

    /// A profile, read once per pass: a student behind several bad numbers
    /// (or a guardian at several) is read the first time only.
    async fn profile(
        &self,
        district: &DistrictId,
        id: &PersonId,
        read: &mut BTreeMap<PersonId, Option<Profile>>,
    ) -> Result<Option<Profile>, ServiceError> {
        if let Some(known) = read.get(id) {
            return Ok(known.clone());
        }
        let profile = self.roster.profile(district, id).await?.map(Profile::of);
        read.insert(id.clone(), profile.clone());
        Ok(profile)
    }

    /// Students in a teacher's sections.
    async fn teachers_students(
        &self,
        district: &DistrictId,
        teacher: &PersonId,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let mut students = BTreeSet::new();
        for (section, _) in self.roster.sections_of(district, teacher).await? {
            let enrolled = self.roster.enrolled(district, &section).await?;
            students
                .extend(enrolled.into_iter().filter(|(_, role)| *role == EnrollmentRole::Student).map(|(id, _)| id));
        }
        Ok(students)
    }

    /// A page of the list for the caller's district and scope, filtered;
    /// `cursor` is the `next` of the page before (400 for any other).
    pub async fn list(
        &self,
        caller: &Principal,
        filter: &CleanupFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<CleanupPage, ServiceError> {
        let scope = CursorScope { district: &caller.district, kind: PageKind::Cleanup, of: "" };
        let refused = || CursorError::refused(PageKind::Cleanup);
        let after: Option<Vec<String>> = cursor
            .map(|token| serde_json::from_slice(&self.cursors.open(scope, token)?).map_err(|_| refused()))
            .transpose()?;
        let items = self.rows(caller, filter).await?;
        let start = after.map_or(0, |after| {
            let after: Vec<&str> = after.iter().map(String::as_str).collect();
            items.partition_point(|item| order(item).as_slice() <= after.as_slice())
        });
        let end = start.saturating_add(limit.clamp(1, MAX_CLEANUP_PAGE) as usize).min(items.len());
        let page = items.get(start..end).map(<[CleanupItem]>::to_vec).unwrap_or_default();
        let next = match page.last() {
            Some(last) if end < items.len() => {
                let position = serde_json::to_vec(&order(last)).map_err(ServiceError::internal)?;
                Some(self.cursors.seal(scope, &position))
            }
            _ => None,
        };
        Ok(CleanupPage { items: page, next })
    }

    /// The whole list as CSV (the download), read in one pass.
    pub async fn csv(&self, caller: &Principal, filter: &CleanupFilter) -> Result<String, ServiceError> {
        cleanup_csv(&self.rows(caller, filter).await?)
    }

    /// Every row the caller may see that the filter keeps, in page order
    /// (by student name), each once.
    async fn rows(&self, caller: &Principal, filter: &CleanupFilter) -> Result<Vec<CleanupItem>, ServiceError> {
        // The caller's grants (token roles and stored assignments, read now):
        // who holds `view_cleanup` where.
        let grants = self.roles.grants(caller).await?;
        let visible: Vec<SchoolId> = grants.schools().into_iter().filter(|s| grants.may_view_cleanup(s)).collect();
        if !grants.is_district_admin() && visible.is_empty() {
            return Err(ServiceError::Forbidden("your role may not view the contact clean-up list".into()));
        }
        let district = &caller.district;
        let statuses = match filter.status.as_deref() {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::parse)
                .collect::<Result<Vec<SmsStatus>, _>>()?,
            None => Vec::new(),
        };
        let school = filter
            .school
            .as_deref()
            .map(|s| SchoolId::parse(s).map_err(|e| DomainError::Invalid(format!("school: {e}"))))
            .transpose()?;
        let teacher_students = match filter.teacher.as_deref() {
            Some(teacher) => {
                let teacher = PersonId::parse(teacher).map_err(|e| DomainError::Invalid(format!("teacher: {e}")))?;
                Some(self.teachers_students(district, &teacher).await?)
            }
            None => None,
        };
        let grade = filter.grade.as_deref().map(crate::domain::uniform_grade);
        let name = filter.student.as_deref().map(str::to_lowercase);
        let school_names = self.roster.school_names(district).await?;
        let scope = |schools: &[SchoolId]| grants.is_district_admin() || schools.iter().any(|s| visible.contains(s));

        let mut items = Vec::new();
        let mut read = BTreeMap::new();
        for number in self.statuses.not_ok(district, &statuses).await? {
            for holder in self.people.people_at(district, &ContactValue::Phone(number.number.clone())).await? {
                let Some(contact) = self.profile(district, &holder, &mut read).await? else { continue };
                if !contact.active {
                    continue;
                }
                let students: Vec<(PersonId, String)> = match contact.role {
                    PersonRole::Student => vec![(contact.id.clone(), "self".into())],
                    PersonRole::Staff => continue,
                    PersonRole::Guardian => self.people.students_with_relationship(district, &contact.id).await?,
                };
                for (student_id, relationship) in students {
                    let Some(student) = self.profile(district, &student_id, &mut read).await? else { continue };
                    let keep = student.active
                        && scope(&student.schools)
                        && school.as_ref().is_none_or(|s| student.schools.contains(s))
                        && grade.as_ref().is_none_or(|g| &student.grade == g)
                        && name.as_ref().is_none_or(|n| student.name.to_lowercase().contains(n))
                        && teacher_students.as_ref().is_none_or(|set| set.contains(&student.id));
                    if keep {
                        items.push(row(&student, &contact, relationship, &number, &school_names));
                    }
                }
            }
        }
        items.sort_by(|a, b| order(a).cmp(&order(b)));
        items.dedup_by(|a, b| order(a) == order(b));
        Ok(items)
    }
}

/// The rows' order, and a page's position: unique once duplicates are
/// dropped (the rest of a row follows from its student and number).
fn order(item: &CleanupItem) -> [&str; 5] {
    [&item.student, item.student_id.as_str(), &item.contact, &item.number, &item.relationship]
}

fn row(
    student: &Profile,
    contact: &Profile,
    relationship: String,
    number: &NumberStatus,
    names: &BTreeMap<SchoolId, String>,
) -> CleanupItem {
    let school = student
        .schools
        .first()
        .map(|s| names.get(s).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| s.to_string()))
        .unwrap_or_default();
    CleanupItem {
        student_id: student.id.clone(),
        student: student.name.clone(),
        grade: student.grade.clone(),
        school,
        contact: contact.name.clone(),
        relationship,
        number: number.number.as_e164().to_string(),
        status: number.status,
        severity: number.status.severity(),
        last_event_at: number.last_event_at,
    }
}

/// The rows as CSV with a header row (the download).
pub fn cleanup_csv(items: &[CleanupItem]) -> Result<String, ServiceError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let corrupt = ServiceError::internal;
    writer
        .write_record([
            "student",
            "grade",
            "school",
            "contact",
            "relationship",
            "number",
            "status",
            "severity",
            "last_event_at",
        ])
        .map_err(corrupt)?;
    for item in items {
        let severity = match item.severity {
            Some(Severity::Yellow) => "yellow",
            Some(Severity::Red) => "red",
            None => "",
        };
        writer
            .write_record([
                &*spreadsheet_safe(&item.student),
                &spreadsheet_safe(&item.grade),
                &spreadsheet_safe(&item.school),
                &spreadsheet_safe(&item.contact),
                &spreadsheet_safe(&item.relationship),
                &spreadsheet_safe(&item.number),
                item.status.as_str(),
                severity,
                &item.last_event_at.to_rfc3339(),
            ])
            .map_err(corrupt)?;
    }
    let bytes = writer.into_inner().map_err(ServiceError::internal)?;
    String::from_utf8(bytes).map_err(ServiceError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_shows_formula_like_names_as_text_and_keeps_numbers() {
        let item = CleanupItem {
            student_id: PersonId::parse("s-1").unwrap(),
            student: "=HYPERLINK(\"http://evil.example\")".into(),
            grade: "05".into(),
            school: "@Maple".into(),
            contact: "-Ana".into(),
            relationship: "parent".into(),
            number: "+16175552345".into(),
            status: SmsStatus::Landline,
            severity: SmsStatus::Landline.severity(),
            last_event_at: chrono::DateTime::UNIX_EPOCH,
        };
        let csv = cleanup_csv(&[item]).unwrap();
        let row = csv.lines().nth(1).unwrap();
        assert!(
            row.starts_with("\"'=HYPERLINK(\"\"http://evil.example\"\")\",05,'@Maple,'-Ana,parent,+16175552345,"),
            "{row}"
        );
    }
}
