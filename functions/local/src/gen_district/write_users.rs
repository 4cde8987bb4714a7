//! Writes `users.csv`: teachers, then students, then guardians, with the
//! student–guardian links in `agentSourcedIds`.

use std::path::Path;

use schoolbell::import::oneroster::columns;

use super::GenSummary;
use super::contact::{STAFF_DOMAIN, STUDENT_DOMAIN};
use super::csv_file::CsvFile;
use super::model::{District, Link};
use super::reference::{GRADES, guardian_id, school_id, student_id, teacher_id};

pub(super) fn write_users(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "users.csv", columns::USERS)?;
    for (i, teacher) in district.teachers.iter().enumerate() {
        let email = format!("{}@{STAFF_DOMAIN}", teacher.local);
        csv.row(&[
            &teacher_id(i),
            "",
            "",
            "true",
            &school_id(teacher.school),
            "teacher",
            &teacher.local,
            "",
            teacher.given.0,
            teacher.family.0,
            "",
            &format!("E{:05}", i + 1),
            &email,
            "",
            "",
            "",
            "",
            "",
        ])?;
    }

    let mut agents = String::new();
    for (i, student) in district.students.iter().enumerate() {
        let household = &district.households[student.household];
        let position = household.students.iter().position(|&s| s == i).unwrap_or(0);
        agents.clear();
        for g in 0..household.guardians {
            if household.link(position, g) != Link::GuardianOnly {
                if !agents.is_empty() {
                    agents.push(',');
                }
                agents.push_str(&guardian_id(household.first_guardian + g));
            }
        }
        let number = format!("{:08}", i + 1);
        let (user_ids, email) = if student.grade >= 6 {
            (
                format!("{{SIS:{number}}},{{LDAP:{}}}", student.username),
                format!("{}@{STUDENT_DOMAIN}", student.username),
            )
        } else {
            (format!("{{SIS:{number}}}"), String::new())
        };
        csv.row(&[
            &student_id(i),
            "",
            "",
            "true",
            &school_id(student.school),
            "student",
            &student.username,
            &user_ids,
            student.given.0,
            student.family.0,
            student.middle,
            &number,
            &email,
            &student.sms,
            "",
            &agents,
            GRADES[student.grade],
            "",
        ])?;
    }

    let mut orgs: Vec<usize> = Vec::new();
    let mut org_list = String::new();
    for (i, guardian) in district.guardians.iter().enumerate() {
        let household = &district.households[guardian.household];
        let g = i - household.first_guardian;
        agents.clear();
        orgs.clear();
        for (position, &s) in household.students.iter().enumerate() {
            orgs.push(district.students[s].school);
            if household.link(position, g) != Link::StudentOnly {
                if !agents.is_empty() {
                    agents.push(',');
                }
                agents.push_str(&student_id(s));
            }
        }
        orgs.sort_unstable();
        orgs.dedup();
        org_list.clear();
        for &o in &orgs {
            if !org_list.is_empty() {
                org_list.push(',');
            }
            org_list.push_str(&school_id(o));
        }
        let id = guardian_id(i);
        let username = if guardian.email.is_empty() { &id } else { &guardian.email };
        csv.row(&[
            &id,
            "",
            "",
            "true",
            &org_list,
            guardian.role,
            username,
            "",
            guardian.given.0,
            guardian.family.0,
            guardian.middle,
            "",
            &guardian.email,
            &guardian.sms,
            &guardian.phone,
            &agents,
            "",
            "",
        ])?;
    }
    csv.finish(summary)
}
