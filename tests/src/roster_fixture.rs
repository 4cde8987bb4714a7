//! A small OneRoster 1.1 district built in code, so tests can remove,
//! change and break exactly what they mean to.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

/// One student with one parent (linked from the student's side) and a
/// homeroom enrollment.
#[derive(Debug, Clone)]
pub struct FixtureStudent {
    /// Index: ids are `st-{n}` and `pa-{n}`.
    pub n: usize,
    /// The parent's cell phone as written in the file (`sms`; may be empty).
    pub parent_sms: String,
    /// The parent's other phone (`phone`; empty unless a test sets it).
    pub parent_phone: String,
    /// The parent's email address (`parent{n}@example.org` unless a test changes it).
    pub parent_email: String,
    /// Grade code.
    pub grade: String,
}

/// A district of one school, one teacher, one section.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // fields named for what they hold
pub struct RosterFixture {
    pub students: Vec<FixtureStudent>,
}

impl RosterFixture {
    /// `count` students, parents with valid distinct cell phones.
    pub fn district(count: usize) -> Self {
        let students = (1..=count)
            .map(|n| FixtureStudent {
                n,
                parent_sms: format!("(617) 5{:02}-{:04}", 20 + n % 70, 2000 + n),
                parent_phone: String::new(),
                parent_email: format!("parent{n}@example.org"),
                grade: "05".into(),
            })
            .collect();
        Self { students }
    }

    /// Drops the students with these indexes (and their parents).
    #[must_use]
    pub fn without(mut self, indexes: &[usize]) -> Self {
        self.students.retain(|s| !indexes.contains(&s.n));
        self
    }

    /// The CSV files by name.
    pub fn files(&self) -> BTreeMap<&'static str, String> {
        let mut users = String::from(
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n",
        );
        users.push_str(
            "t-1,active,2026-09-01,true,sch-1,teacher,tdoe,,Tess,Doe,,T1,tess.doe@district.example.org,,,,,\r\n",
        );
        let mut enrollments = String::from(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\r\n",
        );
        enrollments.push_str("e-t-1,active,2026-09-01,sec-1,sch-1,t-1,teacher,true,,\r\n");
        for s in &self.students {
            let n = s.n;
            users.push_str(&format!(
                "st-{n},active,2026-09-01,true,sch-1,student,stu{n},,Kid{n},Family{n},,S{n},,,,pa-{n},{},\r\n",
                s.grade
            ));
            users.push_str(&format!(
                "pa-{n},active,2026-09-01,true,sch-1,parent,par{n},,Parent{n},Family{n},,P{n},{},{},{},,,\r\n",
                s.parent_email, s.parent_sms, s.parent_phone
            ));
            enrollments.push_str(&format!("e-{n},active,2026-09-01,sec-1,sch-1,st-{n},student,false,,\r\n"));
        }
        BTreeMap::from([
            (
                "manifest.csv",
                "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\nfile.academicSessions,absent\r\nfile.categories,absent\r\nfile.classes,bulk\r\nfile.classResources,absent\r\nfile.courses,absent\r\nfile.courseResources,absent\r\nfile.demographics,absent\r\nfile.enrollments,bulk\r\nfile.lineItems,absent\r\nfile.orgs,bulk\r\nfile.resources,absent\r\nfile.results,absent\r\nfile.users,bulk\r\n".to_string(),
            ),
            (
                "orgs.csv",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\nd-1,active,2026-09-01,Test District,district,D1,\r\nsch-1,active,2026-09-01,Lincoln Elementary,school,S1,d-1\r\n".to_string(),
            ),
            (
                "classes.csv",
                "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\r\nsec-1,active,2026-09-01,Homeroom 5A,05,c-1,HR5A,homeroom,Room 5,sch-1,term-1,,,1\r\n".to_string(),
            ),
            ("users.csv", users),
            ("enrollments.csv", enrollments),
        ])
    }

    /// Writes the files into a folder.
    pub fn write_dir(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        for (name, content) in self.files() {
            std::fs::write(dir.join(name), content).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// The files as a zip.
    pub fn zip(&self) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in self.files() {
            writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            writer.write_all(content.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        }
        writer.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
    }
}

/// The OneRoster `users.csv` header and the staff of the two-school test
/// district: teachers t-1, t-2 (sch-1) and t-3 (sch-2), administrator ad-1
/// (sch-1). Tests append their students and parents.
pub fn two_school_staff_users() -> String {
    let mut users = String::from(
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n",
    );
    for (id, school, role) in [
        ("t-1", "sch-1", "teacher"),
        ("t-2", "sch-1", "teacher"),
        ("t-3", "sch-2", "teacher"),
        ("ad-1", "sch-1", "administrator"),
    ] {
        users.push_str(&format!(
            "{id},active,2026-09-01,true,{school},{role},{id},,Staff,{id},,{id},{id}@district.example.org,,,,,\r\n"
        ));
    }
    users
}
