//! Writes `enrollments.csv`: each class's teachers (primary first), then its
//! students.

use std::path::Path;

use schoolbell::import::oneroster::columns;

use super::GenSummary;
use super::csv_file::CsvFile;
use super::model::District;
use super::reference::{school_id, student_id, teacher_id};

pub(super) fn write_enrollments(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "enrollments.csv", columns::ENROLLMENTS)?;
    let mut next = 0usize;
    for (i, section) in district.sections.iter().enumerate() {
        let class = format!("sec-{:05}", i + 1);
        let school = school_id(section.school);
        let teachers =
            std::iter::once((section.teacher, "true")).chain(section.co_teachers.iter().map(|&t| (t, "false")));
        for (teacher, primary) in teachers {
            next += 1;
            let id = format!("enr-{next:07}");
            let user = teacher_id(teacher);
            csv.row(&[&id, "", "", &class, &school, &user, "teacher", primary, section.begin, section.end])?;
        }
        section.members.for_each(|s| {
            next += 1;
            let id = format!("enr-{next:07}");
            let user = student_id(s);
            csv.row(&[&id, "", "", &class, &school, &user, "student", "false", section.begin, section.end])
        })?;
    }
    csv.finish(summary)
}
