//! Membership: who a saved list reaches, computed from the store's indexes
//! on every read (never stored).
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

use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use serde::Serialize;

use super::ListService;
use crate::domain::{
    DistrictId, EnrollmentRole, ListTarget, MemberProfile, PersonId, PersonRole, RecipientList, SchoolId,
};
use crate::services::ServiceError;

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

impl ListService {
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
            candidates.extend(self.teacher_students(district, teacher, rule.section.as_deref(), Some(&schools)).await?);
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

    /// The students of the sections `teacher` teaches: all a list bound
    /// to that teacher, or a broadcast of theirs, may reach.
    pub async fn students_of_teacher(
        &self,
        district: &DistrictId,
        teacher: &PersonId,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        self.teacher_students(district, teacher, None, None).await
    }

    /// [`Self::students_of_teacher`], of one section only and of sections
    /// in `schools` only, when given.
    async fn teacher_students(
        &self,
        district: &DistrictId,
        teacher: &PersonId,
        only_section: Option<&str>,
        schools: Option<&[SchoolId]>,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let mut students = BTreeSet::new();
        for (section, part) in self.index.sections_of(district, teacher).await? {
            let wanted = part == EnrollmentRole::Teacher && only_section.is_none_or(|only| only == section);
            let placed = match schools {
                Some(schools) => self.section_in(district, &section, schools).await?,
                None => true,
            };
            if wanted && placed {
                students.extend(self.enrolled(district, &section, EnrollmentRole::Student).await?);
            }
        }
        Ok(students)
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
