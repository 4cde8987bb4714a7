//! Larger reads: the saved sample sets (when present) and a synthetic
//! district, with a timing check to run by hand in release mode.

use std::error::Error;

use super::{read, set};
use crate::domain::FileRejected;
use crate::import::CsvFiles;

#[test]
fn the_saved_sample_sets_read_as_folders_and_as_zips_with_their_counts() -> Result<(), Box<dyn Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/oneroster");
    if !root.is_dir() {
        eprintln!("SKIPPED: no sample data at {}", root.display());
        return Ok(());
    }
    // (folder, zip, people, relationships, schools, sections, enrollments)
    let samples = [
        ("catalyst-moodle-v1p1-full", "Test_full_data_set.zip", 6, 1, 1, 1, 3),
        ("catalyst-moodle-v1p2-full", "v1p2_full_dataset.zip", 6, 2, 1, 1, 3),
    ];
    for (folder, zip, people, relationships, schools, sections, enrollments) in samples {
        let dir = root.join(folder);
        let from_dir = read(&CsvFiles::from_dir(&dir)?)?;
        let from_zip = read(&CsvFiles::from_zip(&std::fs::read(dir.join(zip))?)?)?;
        assert_eq!(from_dir, from_zip, "{folder}");
        let roster = &from_dir.roster;
        let counts = (
            roster.people.records.len(),
            roster.relationships.records.len(),
            roster.schools.records.len(),
            roster.sections.records.len(),
            roster.enrollments.records.len(),
        );
        assert_eq!(counts, (people, relationships, schools, sections, enrollments), "{folder}: {from_dir:#?}");
    }
    Ok(())
}

/// A synthetic district: `students` students with two parents each (one
/// listed by the student, one listing the student), 1 teacher per 20
/// students, 25 students a class.
fn district(students: usize) -> CsvFiles {
    use std::fmt::Write;
    let phone = |n: usize| format!("(617) {}-{:04}", 200 + (n / 10_000) % 700, n % 10_000);
    let mut orgs = String::from(
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd,,,District,district,,\n",
    );
    for s in 0..20 {
        let _ = writeln!(orgs, "sch{s},,,School {s},school,,d");
    }
    let mut users = String::from(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n",
    );
    let mut classes = String::from(
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds\n",
    );
    let mut enrollments = String::from(
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n",
    );
    for i in 0..students {
        let school = i % 20;
        let _ = writeln!(
            users,
            "s{i},active,2024-08-01,true,sch{school},student,stu{i},{{LDAP:{i}}},Given{i},Family{i},,{i:08},s{i}@students.example.org,,,\"p{i}a\",{},",
            i % 12 + 1
        );
        let _ = writeln!(
            users,
            "p{i}a,active,2024-08-01,true,sch{school},parent,par{i}a,,Mother{i},Family{i},,,p{i}a@example.org,{},{},,,",
            phone(2 * i),
            phone(2 * i + 1)
        );
        let _ = writeln!(
            users,
            "p{i}b,active,2024-08-01,true,sch{school},guardian,par{i}b,,Father{i},Family{i},,,p{i}b@example.org,{},,s{i},,",
            phone(2 * i + 7)
        );
        let class = i / 25;
        if i % 25 == 0 {
            let _ = writeln!(classes, "c{class},active,,Class {class},05,crs,,homeroom,,sch{school},t1");
            let _ = writeln!(
                users,
                "t{class},active,,true,sch{school},teacher,t{class},,Teach{class},Er,,,t{class}@school.example.org,,,,,"
            );
            let _ = writeln!(enrollments, "et{class},active,,c{class},sch{school},t{class},teacher,true,,");
        }
        let _ = writeln!(enrollments, "e{i},active,,c{class},sch{school},s{i},student,false,,");
    }
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\nfile.classes,bulk\nfile.enrollments,bulk\n";
    set(&[
        ("manifest.csv", manifest),
        ("orgs.csv", &orgs),
        ("users.csv", &users),
        ("classes.csv", &classes),
        ("enrollments.csv", &enrollments),
    ])
}

#[test]
fn a_synthetic_district_reads_without_rejections() -> Result<(), FileRejected> {
    let outcome = read(&district(500))?;
    assert_eq!(outcome.rejected, vec![]);
    assert_eq!(outcome.roster.people.records.len(), 1_520);
    assert_eq!(outcome.roster.relationships.records.len(), 1_000);
    assert_eq!(outcome.roster.enrollments.records.len(), 520);
    Ok(())
}

/// `cargo test --release -p schoolbell --lib import::oneroster::tests::a_50k -- --ignored --nocapture`
#[test]
#[ignore = "a timing check: run it in release mode"]
fn a_50k_student_district_reads_at_100k_rows_a_second() -> Result<(), FileRejected> {
    let files = district(50_000);
    let rows: usize = ["orgs.csv", "users.csv", "classes.csv", "enrollments.csv"]
        .iter()
        .filter_map(|f| files.get(f))
        .map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
        .sum();
    let started = std::time::Instant::now();
    let outcome = read(&files)?;
    let elapsed = started.elapsed();
    let rate = rows as f64 / elapsed.as_secs_f64();
    eprintln!("{rows} rows in {elapsed:?}: {rate:.0} rows/s; {} rejected", outcome.rejected.len());
    assert!(rate >= 100_000.0, "{rate:.0} rows/s");
    Ok(())
}
