//! Writes the district's structure: `manifest.csv`, `orgs.csv`,
//! `academicSessions.csv`, `courses.csv` and `classes.csv`.

use std::path::Path;

use schoolbell::import::oneroster::columns;

use super::GenSummary;
use super::csv_file::CsvFile;
use super::model::District;
use super::reference::{
    DISTRICT_ID, SCHOOL_YEAR_ID, TERM1_END, TERM1_ID, TERM2_ID, TERM2_START, YEAR_END, YEAR_START, school_id,
};

/// The 13 data files of OneRoster 1.1, in manifest order, and whether this
/// generator writes them.
const MANIFEST_FILES: [(&str, bool); 13] = [
    ("academicSessions", true),
    ("categories", false),
    ("classes", true),
    ("classResources", false),
    ("courses", true),
    ("courseResources", false),
    ("demographics", true),
    ("enrollments", true),
    ("lineItems", false),
    ("orgs", true),
    ("resources", false),
    ("results", false),
    ("users", true),
];

pub(super) fn write_manifest(dir: &Path, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "manifest.csv", columns::MANIFEST)?;
    csv.row(&["manifest.version", "1.0"])?;
    csv.row(&["oneroster.version", "1.1"])?;
    for (file, written) in MANIFEST_FILES {
        csv.row(&[&format!("file.{file}"), if written { "bulk" } else { "absent" }])?;
    }
    csv.row(&["source.systemName", "schoolbell gen-district"])?;
    csv.row(&["source.systemCode", "schoolbell"])?;
    csv.finish(summary)
}

pub(super) fn write_orgs(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "orgs.csv", columns::ORGS)?;
    csv.row(&[DISTRICT_ID, "", "", "Example Unified School District", "district", "2500001", ""])?;
    for (i, school) in district.schools.iter().enumerate() {
        let nces = format!("25000010{:04}", i + 1);
        csv.row(&[&school_id(i), "", "", &school.name, "school", &nces, DISTRICT_ID])?;
    }
    csv.finish(summary)
}

pub(super) fn write_sessions(dir: &Path, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "academicSessions.csv", columns::ACADEMIC_SESSIONS)?;
    csv.row(&[SCHOOL_YEAR_ID, "", "", "2025-2026", "schoolYear", YEAR_START, YEAR_END, "", "2026"])?;
    csv.row(&[TERM1_ID, "", "", "Fall 2025", "term", YEAR_START, TERM1_END, SCHOOL_YEAR_ID, "2026"])?;
    csv.row(&[TERM2_ID, "", "", "Spring 2026", "term", TERM2_START, YEAR_END, SCHOOL_YEAR_ID, "2026"])?;
    csv.finish(summary)
}

pub(super) fn write_courses(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "courses.csv", columns::COURSES)?;
    for (i, course) in district.courses.iter().enumerate() {
        let id = format!("crs-{:05}", i + 1);
        let school = school_id(course.school);
        let code = &course.code;
        csv.row(&[&id, "", "", SCHOOL_YEAR_ID, &course.title, code, &course.grades, &school, course.subjects, ""])?;
    }
    csv.finish(summary)
}

pub(super) fn write_classes(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "classes.csv", columns::CLASSES)?;
    for (i, section) in district.sections.iter().enumerate() {
        csv.row(&[
            &format!("sec-{:05}", i + 1),
            "",
            "",
            &section.title,
            &section.grades,
            &format!("crs-{:05}", section.course + 1),
            &section.code,
            section.class_type,
            &section.location,
            &school_id(section.school),
            section.terms,
            section.subjects,
            "",
            section.periods,
        ])?;
    }
    csv.finish(summary)
}
