//! `gen_district`: writes a synthetic but realistic OneRoster 1.1 CSV district
//! (bulk) into a directory, for load tests, demos and the roster reader's tests.
//!
//! What it writes, from a student count and a seed:
//! - `manifest.csv`: `oneroster.version` 1.1, the files below `bulk`, the
//!   other OneRoster 1.1 files `absent`.
//! - `orgs.csv`: one district and its schools (about 500 students each):
//!   elementary (KG–05), middle (06–08) and high (09–12) schools.
//! - `academicSessions.csv`: one school year (2025–26) and its two terms.
//! - `courses.csv`, `classes.csv`: per school and grade, one homeroom per ~25
//!   students; middle and high schools add four core subjects (sections of
//!   ~30) and high schools one multi-grade elective.
//! - `users.csv`: students, teachers (about one per 20 students) and
//!   guardians (1–3 per family, siblings share theirs), linked both ways in
//!   `agentSourcedIds` except ~10% of the links, which appear on one side only.
//! - `enrollments.csv`: teachers (one primary per class) and students.
//! - `demographics.csv`: one row per student, birth date consistent with grade.
//!
//! Phones come in the shapes real exports have (`(617) 555-2345`,
//! `617-555-2345`, `6175552345`, `+16175552345`): mostly mobiles in `sms`,
//! ~20% landline only, ~3% invalid, ~5% none, and ~2% of guardians get a
//! fictional `+1 617 555 01YY` number (YY 00–05) that the local simulated
//! carrier answers with a special outcome. Valid numbers never end in `99`.
//!
//! Bulk files leave `status` and `dateLastModified` blank, as the
//! specification asks. The same options always write byte-identical files.

mod build;
mod contact;
mod csv_file;
mod model;
mod names;
mod reference;
#[cfg(test)]
mod tests;
mod write_demographics;
mod write_enrollments;
mod write_structure;
mod write_users;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Context as _;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;

use self::build::build;
use self::model::Link;
use self::write_demographics::write_demographics;
use self::write_enrollments::write_enrollments;
use self::write_structure::{write_classes, write_courses, write_manifest, write_orgs, write_sessions};
use self::write_users::write_users;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of students in the district.
    pub students: usize,
    /// Seed of the random generator: the same options write the same bytes.
    pub seed: u64,
    /// Every guardian gets a valid mobile and an email (fan-out benchmarks);
    /// otherwise the realistic mix of [`PhoneMix`] and 85 % with email.
    pub reachable: bool,
}

/// How the guardians' phone numbers came out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PhoneMix {
    /// A valid mobile in `sms` (maybe a number in `phone` too).
    pub mobile: usize,
    /// Only a (valid) landline, in `phone`.
    pub landline_only: usize,
    /// An invalid number (7 or 9 digits) in `sms` or `phone`.
    pub invalid: usize,
    /// A fictional `+1 617 555 01YY` number (YY 00–05) in `sms`.
    pub magic: usize,
    /// No number at all.
    pub none: usize,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct GenSummary {
    /// Schools (orgs of type `school`; the district org is not counted).
    pub schools: usize,
    /// Student users.
    pub students: usize,
    /// Guardian users (roles `parent`, `guardian`, `relative`).
    pub guardians: usize,
    /// Teacher users.
    pub teachers: usize,
    pub courses: usize,
    /// Classes (sections).
    pub sections: usize,
    /// Enrollment rows (teachers and students).
    pub enrollments: usize,
    /// Distinct student–guardian pairs.
    pub relationships: usize,
    /// Of those, the pairs listed on one side only (student or guardian row).
    pub one_way_relationships: usize,
    /// Students who share their guardians with one or two siblings.
    pub students_with_siblings: usize,
    /// The guardians' phone numbers.
    pub guardian_phones: PhoneMix,
    /// Data rows written per file (the header row not counted).
    pub files: BTreeMap<String, usize>,
}

/// Writes a OneRoster 1.1 bulk CSV district of `options.students` students
/// into `out` (created if missing; files already there are overwritten) and
/// says what it wrote. The same options always write the same bytes.
pub fn generate(options: &GenOptions, out: &Path) -> anyhow::Result<GenSummary> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let district = build(options);

    let mut summary = GenSummary {
        schools: district.schools.len(),
        students: district.students.len(),
        guardians: district.guardians.len(),
        teachers: district.teachers.len(),
        courses: district.courses.len(),
        sections: district.sections.len(),
        guardian_phones: district.phones.clone(),
        ..GenSummary::default()
    };
    for household in &district.households {
        summary.relationships += household.links.len();
        summary.one_way_relationships += household.links.iter().filter(|l| **l != Link::Both).count();
        if household.students.len() > 1 {
            summary.students_with_siblings += household.students.len();
        }
    }

    write_manifest(out, &mut summary)?;
    write_orgs(out, &district, &mut summary)?;
    write_sessions(out, &mut summary)?;
    write_courses(out, &district, &mut summary)?;
    write_classes(out, &district, &mut summary)?;
    write_users(out, &district, &mut summary)?;
    write_enrollments(out, &district, &mut summary)?;
    // A stream of its own, so demographics never shift the rest of the district.
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0xD3A0_6CA9_0000_0001);
    write_demographics(out, &district, &mut rng, &mut summary)?;
    summary.enrollments = summary.files.get("enrollments.csv").copied().unwrap_or(0);
    Ok(summary)
}
