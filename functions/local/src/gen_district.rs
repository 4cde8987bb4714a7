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

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of students in the district.
    pub students: usize,
    /// Seed of the random generator: the same options write the same bytes.
    pub seed: u64,
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
pub struct GenSummary {
    /// Schools (orgs of type `school`; the district org is not counted).
    pub schools: usize,
    /// Student users.
    pub students: usize,
    /// Guardian users (roles `parent`, `guardian`, `relative`).
    pub guardians: usize,
    /// Teacher users.
    pub teachers: usize,
    /// Courses.
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

// ---------------------------------------------------------------------------
// Fixed vocabulary

type Name = (&'static str, &'static str); // (as written, ASCII for addresses)

const FEMALE: &[Name] = &[
    ("Emma", "emma"),
    ("Olivia", "olivia"),
    ("Ava", "ava"),
    ("Sophia", "sophia"),
    ("Isabella", "isabella"),
    ("Mia", "mia"),
    ("Charlotte", "charlotte"),
    ("Amelia", "amelia"),
    ("Harper", "harper"),
    ("Evelyn", "evelyn"),
    ("Abigail", "abigail"),
    ("Emily", "emily"),
    ("Madison", "madison"),
    ("Chloé", "chloe"),
    ("María", "maria"),
    ("Sofía", "sofia"),
    ("Zoë", "zoe"),
    ("Renée", "renee"),
    ("Anne-Marie", "anne-marie"),
    ("Siobhán", "siobhan"),
    ("Aaliyah", "aaliyah"),
    ("Fatima", "fatima"),
    ("Priya", "priya"),
    ("Mei", "mei"),
    ("Linh", "linh"),
    ("Ana", "ana"),
    ("Camila", "camila"),
    ("Valentina", "valentina"),
    ("Grace", "grace"),
    ("Nora", "nora"),
    ("Hannah", "hannah"),
    ("Jennifer", "jennifer"),
    ("Jessica", "jessica"),
    ("Sarah", "sarah"),
    ("Ashley", "ashley"),
    ("Elizabeth", "elizabeth"),
    ("Lauren", "lauren"),
    ("Nicole", "nicole"),
    ("Rachel", "rachel"),
    ("Michelle", "michelle"),
    ("Kimberly", "kimberly"),
    ("Patricia", "patricia"),
    ("Linda", "linda"),
    ("Susan", "susan"),
    ("Karen", "karen"),
    ("Lisa", "lisa"),
];

const MALE: &[Name] = &[
    ("Liam", "liam"),
    ("Noah", "noah"),
    ("Oliver", "oliver"),
    ("Elijah", "elijah"),
    ("James", "james"),
    ("William", "william"),
    ("Benjamin", "benjamin"),
    ("Lucas", "lucas"),
    ("Henry", "henry"),
    ("Alexander", "alexander"),
    ("Mason", "mason"),
    ("Michael", "michael"),
    ("Ethan", "ethan"),
    ("Daniel", "daniel"),
    ("Jacob", "jacob"),
    ("Logan", "logan"),
    ("Jackson", "jackson"),
    ("Sebastian", "sebastian"),
    ("Mateo", "mateo"),
    ("José", "jose"),
    ("André", "andre"),
    ("François", "francois"),
    ("Jesús", "jesus"),
    ("Jean-Luc", "jean-luc"),
    ("Seán", "sean"),
    ("Muhammad", "muhammad"),
    ("Omar", "omar"),
    ("Wei", "wei"),
    ("Minh", "minh"),
    ("Raj", "raj"),
    ("Diego", "diego"),
    ("Carlos", "carlos"),
    ("Luis", "luis"),
    ("David", "david"),
    ("John", "john"),
    ("Robert", "robert"),
    ("Christopher", "christopher"),
    ("Matthew", "matthew"),
    ("Joshua", "joshua"),
    ("Andrew", "andrew"),
    ("Joseph", "joseph"),
    ("Anthony", "anthony"),
    ("Kevin", "kevin"),
    ("Brian", "brian"),
];

const FAMILY: &[Name] = &[
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("García", "garcia"),
    ("Miller", "miller"),
    ("Davis", "davis"),
    ("Rodríguez", "rodriguez"),
    ("Martínez", "martinez"),
    ("Hernández", "hernandez"),
    ("López", "lopez"),
    ("Gonzalez", "gonzalez"),
    ("Wilson", "wilson"),
    ("Anderson", "anderson"),
    ("Thomas", "thomas"),
    ("Taylor", "taylor"),
    ("Moore", "moore"),
    ("Jackson", "jackson"),
    ("Martin", "martin"),
    ("Lee", "lee"),
    ("Pérez", "perez"),
    ("Thompson", "thompson"),
    ("White", "white"),
    ("Harris", "harris"),
    ("Sánchez", "sanchez"),
    ("Clark", "clark"),
    ("Ramírez", "ramirez"),
    ("Lewis", "lewis"),
    ("Robinson", "robinson"),
    ("Walker", "walker"),
    ("Young", "young"),
    ("Allen", "allen"),
    ("King", "king"),
    ("Wright", "wright"),
    ("Scott", "scott"),
    ("Torres", "torres"),
    ("Nguyễn", "nguyen"),
    ("Nguyen", "nguyen"),
    ("Hill", "hill"),
    ("Flores", "flores"),
    ("Green", "green"),
    ("Adams", "adams"),
    ("Nelson", "nelson"),
    ("Baker", "baker"),
    ("Hall", "hall"),
    ("Rivera", "rivera"),
    ("Campbell", "campbell"),
    ("Mitchell", "mitchell"),
    ("Carter", "carter"),
    ("Roberts", "roberts"),
    ("O'Brien", "obrien"),
    ("O'Connor", "oconnor"),
    ("Smith-Jones", "smith-jones"),
    ("López-Ramírez", "lopez-ramirez"),
    ("Murphy", "murphy"),
    ("Sullivan", "sullivan"),
    ("Kelly", "kelly"),
    ("Patel", "patel"),
    ("Kim", "kim"),
    ("Chen", "chen"),
    ("Wang", "wang"),
    ("Tran", "tran"),
    ("Pham", "pham"),
    ("Cohen", "cohen"),
    ("Müller", "muller"),
    ("D'Angelo", "dangelo"),
    ("Silva", "silva"),
    ("Santos", "santos"),
    ("Fitzgerald", "fitzgerald"),
    ("MacDonald", "macdonald"),
];

const NAMESAKES: &[&str] = &[
    "Lincoln",
    "Washington",
    "Jefferson",
    "Roosevelt",
    "Adams",
    "Franklin",
    "Kennedy",
    "Madison",
    "Hamilton",
    "Emerson",
    "Hawthorne",
    "Longfellow",
    "Whittier",
    "Thoreau",
    "Alcott",
    "Dickinson",
    "Revere",
    "Hancock",
    "Bradford",
    "Winthrop",
    "Lowell",
    "Tubman",
    "Douglass",
    "Parks",
    "Curie",
    "Edison",
    "Carver",
    "Keller",
    "Earhart",
    "Ride",
    "Clemente",
    "Chávez",
];
const QUARTERS: &[&str] = &["North", "South", "East", "West", "Central"];

const AREA_CODES: &[u16] = &[617, 508, 781, 978, 413, 339, 857, 774, 351, 212, 415];
const GUARDIAN_DOMAINS: &[&str] = &["example.org", "example.net", "example.com"];
const STAFF_DOMAIN: &str = "district.example.org";
const STUDENT_DOMAIN: &str = "students.example.org";

const GRADES: [&str; 13] = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"];
/// Core subjects of middle and high schools: (title, code).
const SUBJECTS: [(&str, &str); 4] =
    [("English Language Arts", "ELA"), ("Mathematics", "MATH"), ("Science", "SCI"), ("Social Studies", "SOC")];
const CITIES_MA: &[&str] = &["Boston", "Worcester", "Springfield", "Lowell", "Cambridge", "Quincy", "Lynn", "Newton"];
const OTHER_STATES: &[&str] = &["NY", "CA", "NH", "RI", "CT", "FL", "TX"];
const OTHER_COUNTRIES: &[&str] = &["MX", "DO", "BR", "CN", "VN", "HT", "IN", "GT", "SV"];

const DISTRICT_ID: &str = "dis-001";
const SCHOOL_YEAR_ID: &str = "as-2026";
const TERM1_ID: &str = "as-2026-t1";
const TERM2_ID: &str = "as-2026-t2";
const BOTH_TERMS: &str = "as-2026-t1,as-2026-t2";
const YEAR_START: &str = "2025-08-27";
const TERM1_END: &str = "2026-01-23";
const TERM2_START: &str = "2026-01-26";
const YEAR_END: &str = "2026-06-19";
/// Calendar year in which the kindergarteners of 2025–26 turned 5 by 1 September.
const KG_CUTOFF_YEAR: i32 = 2025;

// ---------------------------------------------------------------------------
// OneRoster 1.1 headers, in specification order

const MANIFEST_HEADER: &[&str] = &["propertyName", "value"];
const ORGS_HEADER: &[&str] =
    &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"];
const SESSIONS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
];
const COURSES_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "schoolYearSourcedId",
    "title",
    "courseCode",
    "grades",
    "orgSourcedId",
    "subjects",
    "subjectCodes",
];
const CLASSES_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
];
const USERS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
];
const ENROLLMENTS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
];
const DEMOGRAPHICS_HEADER: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "birthDate",
    "sex",
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
    "countryOfBirthCode",
    "stateOfBirthAbbreviation",
    "cityOfBirth",
    "publicSchoolResidenceStatus",
];

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

// ---------------------------------------------------------------------------
// The district in memory (small records; rows are formatted while writing)

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Elementary,
    Middle,
    High,
}

impl Level {
    fn grades(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Level::Elementary => 0..=5,
            Level::Middle => 6..=8,
            Level::High => 9..=12,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Level::Elementary => "Elementary School",
            Level::Middle => "Middle School",
            Level::High => "High School",
        }
    }
}

struct School {
    level: Level,
    name: String,
    /// (grade, first student index, count) for each grade of the school.
    grades: Vec<(usize, usize, usize)>,
    students: usize,
}

struct Student {
    school: usize,
    grade: usize,
    household: usize,
    given: Name,
    family: Name,
    middle: &'static str,
    female: bool,
    username: String,
    sms: String,
}

struct Guardian {
    household: usize,
    role: &'static str,
    given: Name,
    family: Name,
    middle: &'static str,
    email: String,
    sms: String,
    phone: String,
}

struct Teacher {
    school: usize,
    given: Name,
    family: Name,
    local: String,
}

/// Which rows carry a student–guardian link.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    Both,
    StudentOnly,
    GuardianOnly,
}

struct Household {
    students: Vec<usize>,
    first_guardian: usize,
    guardians: usize,
    /// `links[s * guardians + g]`: student `s` and guardian `g` of the household.
    links: Vec<Link>,
}

impl Household {
    fn link(&self, student: usize, guardian: usize) -> Link {
        self.links[student * self.guardians + guardian]
    }
}

struct Course {
    school: usize,
    title: String,
    code: String,
    grades: String,
    subjects: &'static str,
}

enum Members {
    /// `start + first`, `start + first + step`, ... below `start + count`.
    Stride {
        start: usize,
        count: usize,
        first: usize,
        step: usize,
    },
    List(Vec<usize>),
}

impl Members {
    fn for_each(&self, mut f: impl FnMut(usize) -> anyhow::Result<()>) -> anyhow::Result<()> {
        match self {
            Members::Stride { start, count, first, step } => {
                let mut i = *first;
                while i < *count {
                    f(start + i)?;
                    i += step;
                }
            }
            Members::List(list) => {
                for &i in list {
                    f(i)?;
                }
            }
        }
        Ok(())
    }
}

struct Section {
    school: usize,
    course: usize,
    title: String,
    code: String,
    grades: String,
    class_type: &'static str,
    terms: &'static str,
    subjects: &'static str,
    periods: &'static str,
    location: String,
    teacher: usize,
    co_teachers: Vec<usize>,
    members: Members,
    begin: &'static str,
    end: &'static str,
}

struct District {
    schools: Vec<School>,
    students: Vec<Student>,
    guardians: Vec<Guardian>,
    teachers: Vec<Teacher>,
    households: Vec<Household>,
    courses: Vec<Course>,
    sections: Vec<Section>,
    phones: PhoneMix,
}

// ---------------------------------------------------------------------------
// Generation

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn school_id(index: usize) -> String {
    format!("sch-{:03}", index + 1)
}

fn student_id(index: usize) -> String {
    format!("stu-{:06}", index + 1)
}

fn guardian_id(index: usize) -> String {
    format!("gdn-{:06}", index + 1)
}

fn teacher_id(index: usize) -> String {
    format!("tch-{:05}", index + 1)
}

/// `base`, then `base2`, `base3`, ... for the later holders of the same base.
fn unique(seen: &mut HashMap<String, u32>, base: String) -> String {
    let count = seen.entry(base.clone()).or_insert(0);
    *count += 1;
    if *count == 1 { base } else { format!("{base}{count}") }
}

fn person_name(rng: &mut StdRng, female: bool) -> Name {
    pick(rng, if female { FEMALE } else { MALE })
}

/// A middle name (40%), an initial (10%) or none; never the given name again.
fn middle_name(rng: &mut StdRng, female: bool, given: Name) -> &'static str {
    match rng.random_range(0..10) {
        0..=3 => Some(person_name(rng, female).0).filter(|m| *m != given.0).unwrap_or(""),
        4 => ["A", "B", "C", "D", "E", "J", "L", "M", "R", "S"][rng.random_range(0..10)],
        _ => "",
    }
}

/// A valid US number (per libphonenumber) that does not end in 99, in the
/// 555 exchange never (that one holds the fictional numbers).
fn valid_digits(rng: &mut StdRng) -> (u16, u16, u16) {
    let area = pick(rng, AREA_CODES);
    let exchange = loop {
        let e: u16 = rng.random_range(200..1000);
        if e % 100 != 11 && e != 555 {
            break e;
        }
    };
    let line = loop {
        let l: u16 = rng.random_range(0..10000);
        if l % 100 != 99 {
            break l;
        }
    };
    (area, exchange, line)
}

fn format_phone(rng: &mut StdRng, (area, exchange, line): (u16, u16, u16)) -> String {
    match rng.random_range(0..10) {
        0..=2 => format!("({area}) {exchange}-{line:04}"),
        3..=5 => format!("{area}-{exchange}-{line:04}"),
        6..=7 => format!("{area}{exchange}{line:04}"),
        _ => format!("+1{area}{exchange}{line:04}"),
    }
}

fn invalid_phone(rng: &mut StdRng) -> String {
    let (area, exchange, line) = valid_digits(rng);
    match rng.random_range(0..3) {
        0 => format!("555-{line:04}"),
        1 => format!("{exchange}{line:04}"),
        // A 10-digit number with its last digit lost: 9 digits.
        _ => format!("{area}{exchange}{:03}", line / 10),
    }
}

fn magic_phone(rng: &mut StdRng) -> String {
    let yy: u16 = rng.random_range(0..=5);
    match rng.random_range(0..4) {
        0 => format!("+1 617 555 01{yy:02}"),
        1 => format!("(617) 555-01{yy:02}"),
        2 => format!("617-555-01{yy:02}"),
        _ => format!("+161755501{yy:02}"),
    }
}

/// Sets `sms` and `phone` of a guardian; returns which kind it got.
fn guardian_phones(rng: &mut StdRng, landline: &mut Option<(u16, u16, u16)>, mix: &mut PhoneMix) -> (String, String) {
    let r: f64 = rng.random();
    if r < 0.05 {
        mix.none += 1;
        (String::new(), String::new())
    } else if r < 0.08 {
        mix.invalid += 1;
        let number = invalid_phone(rng);
        if rng.random_bool(0.7) { (number, String::new()) } else { (String::new(), number) }
    } else if r < 0.10 {
        mix.magic += 1;
        (magic_phone(rng), String::new())
    } else if r < 0.30 {
        mix.landline_only += 1;
        let digits = *landline.get_or_insert_with(|| valid_digits(rng));
        (String::new(), format_phone(rng, digits))
    } else {
        mix.mobile += 1;
        let mobile = valid_digits(rng);
        let sms = format_phone(rng, mobile);
        let phone = match rng.random_range(0..20) {
            0..=4 => format_phone(rng, mobile),
            5..=8 => {
                let digits = match *landline {
                    Some(digits) => digits,
                    None => valid_digits(rng),
                };
                format_phone(rng, digits)
            }
            _ => String::new(),
        };
        (sms, phone)
    }
}

fn build(options: &GenOptions) -> District {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let n = options.students;

    // Students per grade: about n / 13, give or take 6%.
    let weights: Vec<f64> = (0..GRADES.len()).map(|_| rng.random_range(0.94..1.06)).collect();
    let total: f64 = weights.iter().sum();
    let mut per_grade = [0usize; 13];
    let mut cumulative = 0.0;
    let mut placed = 0usize;
    for (g, w) in weights.iter().enumerate() {
        cumulative += w;
        let upto = if g + 1 == GRADES.len() { n } else { ((n as f64) * cumulative / total).round() as usize };
        per_grade[g] = upto.saturating_sub(placed);
        placed += per_grade[g];
    }

    // Schools: ~500 students each, at least one per level.
    let mut schools = Vec::new();
    let mut students = Vec::with_capacity(n);
    for level in [Level::Elementary, Level::Middle, Level::High] {
        let level_students: usize = level.grades().map(|g| per_grade[g]).sum();
        let count = ((level_students + 250) / 500).max(1);
        for k in 0..count {
            let index = schools.len();
            let same_level = schools.iter().filter(|s: &&School| s.level == level).count();
            let namesake = NAMESAKES[same_level % NAMESAKES.len()];
            let name = match same_level / NAMESAKES.len() {
                0 => format!("{namesake} {}", level.label()),
                q if q <= QUARTERS.len() => format!("{} {namesake} {}", QUARTERS[q - 1], level.label()),
                q => format!("{namesake} {} {q}", level.label()),
            };
            let mut grades = Vec::new();
            for g in level.grades() {
                let here = per_grade[g] * (k + 1) / count - per_grade[g] * k / count;
                grades.push((g, students.len(), here));
                for _ in 0..here {
                    students.push(Student {
                        school: index,
                        grade: g,
                        household: 0,
                        given: ("", ""),
                        family: ("", ""),
                        middle: "",
                        female: false,
                        username: String::new(),
                        sms: String::new(),
                    });
                }
            }
            let enrolled = grades.iter().map(|(_, _, c)| c).sum();
            schools.push(School { level, name, grades, students: enrolled });
        }
    }

    // Households: ~30% of students share theirs with one or two siblings.
    let mut order: Vec<usize> = (0..students.len()).collect();
    order.shuffle(&mut rng);
    let mut households = Vec::new();
    let mut guardians = Vec::new();
    let mut phones = PhoneMix::default();
    let mut usernames = HashMap::new();
    let mut emails = HashMap::new();
    let mut rest = &order[..];
    while !rest.is_empty() {
        let size = match rng.random_range(0..100) {
            0..=83 => 1,
            84..=95 => 2,
            _ => 3,
        }
        .min(rest.len());
        let (members, tail) = rest.split_at(size);
        rest = tail;
        let mut members = members.to_vec();
        members.sort_unstable();
        let household = households.len();
        let family = pick(&mut rng, FAMILY);

        for &s in &members {
            let female = rng.random_bool(0.5);
            let given = person_name(&mut rng, female);
            let student = &mut students[s];
            student.household = household;
            student.family = family;
            student.given = given;
            student.female = female;
            student.middle = middle_name(&mut rng, female, given);
            student.username = unique(&mut usernames, format!("{}.{}", given.1, family.1));
            if student.grade >= 9 && rng.random_bool(0.3) {
                let digits = valid_digits(&mut rng);
                student.sms = format_phone(&mut rng, digits);
            }
        }

        let count = match rng.random_range(0..100) {
            0..=19 => 1,
            20..=91 => 2,
            _ => 3,
        };
        let first_guardian = guardians.len();
        let mut landline = if rng.random_bool(0.35) { Some(valid_digits(&mut rng)) } else { None };
        let first_female = rng.random_bool(0.65);
        for g in 0..count {
            let roll = rng.random_range(0..100);
            let role = match g {
                0 | 1 if roll < 88 => "parent",
                0 | 1 if roll < 95 => "guardian",
                0 | 1 => "relative",
                _ if roll < 40 => "guardian",
                _ => "relative",
            };
            let female = match g {
                0 => first_female,
                1 => first_female ^ rng.random_bool(0.9),
                _ => rng.random_bool(0.6),
            };
            let own_family = match g {
                0 => rng.random_bool(0.9),
                1 => rng.random_bool(0.55),
                _ => rng.random_bool(0.3),
            };
            let given = person_name(&mut rng, female);
            let family_name = if own_family { family } else { pick(&mut rng, FAMILY) };
            let email = if rng.random_bool(0.85) {
                let local = format!("{}.{}", given.1, family_name.1);
                let number = emails.entry(local.clone()).or_insert(0u32);
                *number += 1;
                format!("{local}{number}@{}", pick(&mut rng, GUARDIAN_DOMAINS))
            } else {
                String::new()
            };
            let (sms, phone) = guardian_phones(&mut rng, &mut landline, &mut phones);
            let middle = middle_name(&mut rng, female, given);
            guardians.push(Guardian { household, role, given, family: family_name, middle, email, sms, phone });
        }

        let links = (0..members.len() * count)
            .map(|_| match rng.random_range(0..100) {
                0..=4 => Link::StudentOnly,
                5..=9 => Link::GuardianOnly,
                _ => Link::Both,
            })
            .collect();
        households.push(Household { students: members, first_guardian, guardians: count, links });
    }

    // Teachers, courses and sections, school by school.
    let mut teachers = Vec::new();
    let mut courses = Vec::new();
    let mut sections = Vec::new();
    for (si, school) in schools.iter().enumerate() {
        let first_teacher = teachers.len();
        let count = ((school.students + 10) / 20).max(1);
        for _ in 0..count {
            let female = rng.random_bool(0.7);
            let given = person_name(&mut rng, female);
            let family = pick(&mut rng, FAMILY);
            let local = unique(&mut usernames, format!("{}.{}", given.1, family.1));
            teachers.push(Teacher { school: si, given, family, local });
        }
        let teacher = |k: usize| first_teacher + k % count;
        let mut homerooms = 0usize;
        let mut department_next = [0usize; 4];
        let mut room = 100usize;
        let first_section = sections.len();
        for &(g, start, n) in &school.grades {
            if n == 0 {
                continue;
            }
            let grade = GRADES[g];
            let course = courses.len();
            courses.push(Course {
                school: si,
                title: format!("Homeroom Grade {grade}"),
                code: format!("HR-{grade}"),
                grades: grade.to_string(),
                subjects: "",
            });
            let h = n.div_ceil(25);
            for k in 0..h {
                room += 1;
                sections.push(Section {
                    school: si,
                    course,
                    title: format!("Homeroom {grade}-{}", k + 1),
                    code: format!("HR-{grade}-{}", k + 1),
                    grades: grade.to_string(),
                    class_type: "homeroom",
                    terms: BOTH_TERMS,
                    subjects: "",
                    periods: "HR",
                    location: format!("Room {room}"),
                    teacher: teacher(homerooms),
                    co_teachers: Vec::new(),
                    members: Members::Stride { start, count: n, first: k, step: h },
                    begin: YEAR_START,
                    end: YEAR_END,
                });
                homerooms += 1;
            }
            if school.level == Level::Elementary {
                continue;
            }
            let s = n.div_ceil(30);
            for (d, (subject, code)) in SUBJECTS.iter().enumerate() {
                let course = courses.len();
                courses.push(Course {
                    school: si,
                    title: format!("{subject} {grade}"),
                    code: format!("{code}-{grade}"),
                    grades: grade.to_string(),
                    subjects: subject,
                });
                for k in 0..s {
                    // Departments: teachers k with k % 4 == d (all of them in tiny schools).
                    let t = if count >= 4 {
                        let in_department = (count - d).div_ceil(4);
                        first_teacher + d + 4 * (department_next[d] % in_department)
                    } else {
                        teacher(department_next[d] + d)
                    };
                    department_next[d] += 1;
                    room += 1;
                    sections.push(Section {
                        school: si,
                        course,
                        title: format!("{subject} {grade} - Section {}", k + 1),
                        code: format!("{code}-{grade}-{}", k + 1),
                        grades: grade.to_string(),
                        class_type: "scheduled",
                        terms: BOTH_TERMS,
                        subjects: subject,
                        periods: ["1", "2", "3", "4", "5", "6"][(k + d) % 6],
                        location: format!("Room {room}"),
                        teacher: t,
                        co_teachers: Vec::new(),
                        members: Members::Stride { start, count: n, first: k, step: s },
                        begin: YEAR_START,
                        end: YEAR_END,
                    });
                }
            }
        }
        // Elementary schools: teachers without a homeroom co-teach one.
        if school.level == Level::Elementary && homerooms > 0 {
            for extra in homerooms..count {
                let section = first_section + (extra - homerooms) % homerooms;
                sections[section].co_teachers.push(first_teacher + extra);
            }
        }
        // High schools: a spring chorus open to every grade (multi-grade class).
        if school.level == Level::High && school.students > 0 {
            let course = courses.len();
            courses.push(Course {
                school: si,
                title: "Chorus".to_string(),
                code: "MUS-CHOR".to_string(),
                grades: "09,10,11,12".to_string(),
                subjects: "Music",
            });
            let mut members = Vec::new();
            for &(_, start, n) in &school.grades {
                members.extend((start..start + n).filter(|_| rng.random_bool(0.04)));
            }
            sections.push(Section {
                school: si,
                course,
                title: "Chorus".to_string(),
                code: "MUS-CHOR-1".to_string(),
                grades: "09,10,11,12".to_string(),
                class_type: "scheduled",
                terms: TERM2_ID,
                subjects: "Music",
                periods: "7,8",
                location: "Auditorium".to_string(),
                teacher: first_teacher + count - 1,
                co_teachers: Vec::new(),
                members: Members::List(members),
                begin: TERM2_START,
                end: YEAR_END,
            });
        }
    }

    District { schools, students, guardians, teachers, households, courses, sections, phones }
}

// ---------------------------------------------------------------------------
// Writing

/// One CSV file, written row by row (RFC 4180 quoting, LF line ends).
struct CsvFile {
    name: &'static str,
    width: usize,
    out: BufWriter<File>,
    rows: usize,
}

impl CsvFile {
    fn create(dir: &Path, name: &'static str, header: &[&str]) -> anyhow::Result<Self> {
        let path = dir.join(name);
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut csv = CsvFile { name, width: header.len(), out: BufWriter::with_capacity(1 << 16, file), rows: 0 };
        csv.write_record(header)?;
        Ok(csv)
    }

    fn write_record(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        anyhow::ensure!(
            fields.len() == self.width,
            "{}: {} fields for {} columns",
            self.name,
            fields.len(),
            self.width
        );
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            if field.contains([',', '"', '\n', '\r']) {
                self.out.write_all(b"\"")?;
                self.out.write_all(field.replace('"', "\"\"").as_bytes())?;
                self.out.write_all(b"\"")?;
            } else {
                self.out.write_all(field.as_bytes())?;
            }
        }
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn row(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        self.write_record(fields)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self, summary: &mut GenSummary) -> anyhow::Result<()> {
        self.out.flush().with_context(|| format!("writing {}", self.name))?;
        summary.files.insert(self.name.to_string(), self.rows);
        Ok(())
    }
}

fn write_manifest(dir: &Path, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "manifest.csv", MANIFEST_HEADER)?;
    csv.row(&["manifest.version", "1.0"])?;
    csv.row(&["oneroster.version", "1.1"])?;
    for (file, written) in MANIFEST_FILES {
        csv.row(&[&format!("file.{file}"), if written { "bulk" } else { "absent" }])?;
    }
    csv.row(&["source.systemName", "schoolbell gen-district"])?;
    csv.row(&["source.systemCode", "schoolbell"])?;
    csv.finish(summary)
}

fn write_orgs(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "orgs.csv", ORGS_HEADER)?;
    csv.row(&[DISTRICT_ID, "", "", "Example Unified School District", "district", "2500001", ""])?;
    for (i, school) in district.schools.iter().enumerate() {
        let nces = format!("25000010{:04}", i + 1);
        csv.row(&[&school_id(i), "", "", &school.name, "school", &nces, DISTRICT_ID])?;
    }
    csv.finish(summary)
}

fn write_sessions(dir: &Path, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "academicSessions.csv", SESSIONS_HEADER)?;
    csv.row(&[SCHOOL_YEAR_ID, "", "", "2025-2026", "schoolYear", YEAR_START, YEAR_END, "", "2026"])?;
    csv.row(&[TERM1_ID, "", "", "Fall 2025", "term", YEAR_START, TERM1_END, SCHOOL_YEAR_ID, "2026"])?;
    csv.row(&[TERM2_ID, "", "", "Spring 2026", "term", TERM2_START, YEAR_END, SCHOOL_YEAR_ID, "2026"])?;
    csv.finish(summary)
}

fn write_courses(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "courses.csv", COURSES_HEADER)?;
    for (i, course) in district.courses.iter().enumerate() {
        let id = format!("crs-{:05}", i + 1);
        let school = school_id(course.school);
        let code = &course.code;
        csv.row(&[&id, "", "", SCHOOL_YEAR_ID, &course.title, code, &course.grades, &school, course.subjects, ""])?;
    }
    csv.finish(summary)
}

fn write_classes(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "classes.csv", CLASSES_HEADER)?;
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

fn write_users(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "users.csv", USERS_HEADER)?;
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

fn write_enrollments(dir: &Path, district: &District, summary: &mut GenSummary) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "enrollments.csv", ENROLLMENTS_HEADER)?;
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

fn write_demographics(
    dir: &Path,
    district: &District,
    rng: &mut StdRng,
    summary: &mut GenSummary,
) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "demographics.csv", DEMOGRAPHICS_HEADER)?;
    for (i, student) in district.students.iter().enumerate() {
        // Turned 5 + grade by 1 September 2025 (3% a year older: held back).
        let age = 5 + student.grade as i32 + i32::from(rng.random_bool(0.03));
        let earliest = NaiveDate::from_ymd_opt(KG_CUTOFF_YEAR - age - 1, 9, 2).context("birth date range")?;
        let born = earliest.checked_add_days(Days::new(rng.random_range(0..365))).context("birth date")?;
        let mut race = [false; 6]; // AIAN, Asian, Black, NHPI, White, two or more
        match rng.random_range(0..1000) {
            0..=9 => race[0] = true,
            10..=94 => race[1] = true,
            95..=214 => race[2] = true,
            215..=219 => race[3] = true,
            220..=279 => {
                let a = rng.random_range(0..5);
                let b = (a + rng.random_range(1..5)) % 5;
                race[a] = true;
                race[b] = true;
                race[5] = true;
            }
            _ => race[4] = true,
        }
        let hispanic = rng.random_bool(0.25);
        let (country, state, city) = match rng.random_range(0..100) {
            0..=71 => ("US", "MA", pick(rng, CITIES_MA)),
            72..=91 => ("US", pick(rng, OTHER_STATES), ""),
            _ => (pick(rng, OTHER_COUNTRIES), "", ""),
        };
        let flag = |b: bool| if b { "true" } else { "false" };
        csv.row(&[
            &student_id(i),
            "",
            "",
            &born.format("%Y-%m-%d").to_string(),
            if student.female { "female" } else { "male" },
            flag(race[0]),
            flag(race[1]),
            flag(race[2]),
            flag(race[3]),
            flag(race[4]),
            flag(race[5]),
            flag(hispanic),
            country,
            state,
            city,
            "",
        ])?;
    }
    csv.finish(summary)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    use anyhow::ensure;
    use schoolbell::domain::{PhoneNumber, Region};

    type Row = HashMap<String, String>;
    type Pairs = HashSet<(String, String)>;

    fn district(students: usize, seed: u64) -> anyhow::Result<(tempfile::TempDir, GenSummary)> {
        let dir = tempfile::tempdir()?;
        let summary = generate(&GenOptions { students, seed }, dir.path())?;
        Ok((dir, summary))
    }

    fn table(dir: &Path, file: &str) -> anyhow::Result<(Vec<String>, Vec<Row>)> {
        let mut reader = csv::Reader::from_path(dir.join(file))?;
        let headers: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record?;
            rows.push(headers.iter().cloned().zip(record.iter().map(str::to_string)).collect());
        }
        Ok((headers, rows))
    }

    fn rows(dir: &Path, file: &str) -> anyhow::Result<Vec<Row>> {
        Ok(table(dir, file)?.1)
    }

    fn cell<'a>(row: &'a Row, column: &str) -> &'a str {
        row.get(column).map_or("", String::as_str)
    }

    fn list(value: &str) -> impl Iterator<Item = &str> {
        value.split(',').filter(|v| !v.is_empty())
    }

    fn ids(rows: &[Row]) -> HashSet<String> {
        rows.iter().map(|r| cell(r, "sourcedId").to_string()).collect()
    }

    fn is_guardian(role: &str) -> bool {
        matches!(role, "parent" | "guardian" | "relative")
    }

    /// (student, guardian) pairs as listed on student rows and on guardian rows.
    fn links(users: &[Row]) -> (Pairs, Pairs) {
        let mut from_students = HashSet::new();
        let mut from_guardians = HashSet::new();
        for user in users {
            let id = cell(user, "sourcedId").to_string();
            for agent in list(cell(user, "agentSourcedIds")) {
                if cell(user, "role") == "student" {
                    from_students.insert((id.clone(), agent.to_string()));
                } else {
                    from_guardians.insert((agent.to_string(), id.clone()));
                }
            }
        }
        (from_students, from_guardians)
    }

    #[test]
    fn the_same_students_and_seed_write_byte_identical_files() -> anyhow::Result<()> {
        let (a, first) = district(700, 7)?;
        let (b, second) = district(700, 7)?;
        ensure!(first == second);
        let mut names: Vec<_> = fs::read_dir(a.path())?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
        names.sort();
        ensure!(names.len() == 8, "{names:?}");
        for name in &names {
            ensure!(fs::read(a.path().join(name))? == fs::read(b.path().join(name))?, "{name:?} differs");
        }
        let (c, _) = district(700, 8)?;
        ensure!(fs::read(a.path().join("users.csv"))? != fs::read(c.path().join("users.csv"))?);
        Ok(())
    }

    #[test]
    fn headers_and_manifest_follow_oneroster_1_1() -> anyhow::Result<()> {
        let (dir, _) = district(300, 1)?;
        let expected: [(&str, &str); 8] = [
            ("manifest.csv", "propertyName,value"),
            ("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"),
            (
                "academicSessions.csv",
                "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
            ),
            (
                "courses.csv",
                "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,\
                 subjectCodes",
            ),
            (
                "classes.csv",
                "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,\
                 schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
            ),
            (
                "users.csv",
                "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,\
                 familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
            ),
            (
                "enrollments.csv",
                "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,\
                 beginDate,endDate",
            ),
            (
                "demographics.csv",
                "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,\
                 blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,\
                 hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,\
                 publicSchoolResidenceStatus",
            ),
        ];
        for (file, header) in expected {
            let (headers, rows) = table(dir.path(), file)?;
            ensure!(headers.join(",") == header, "{file}: {headers:?}");
            if file != "manifest.csv" {
                ensure!(!rows.is_empty(), "{file} is empty");
                for row in &rows {
                    ensure!(
                        cell(row, "status").is_empty() && cell(row, "dateLastModified").is_empty(),
                        "{file}: {row:?}"
                    );
                }
            }
        }

        let manifest: HashMap<String, String> = rows(dir.path(), "manifest.csv")?
            .iter()
            .map(|r| (cell(r, "propertyName").to_string(), cell(r, "value").to_string()))
            .collect();
        ensure!(manifest.get("oneroster.version").map(String::as_str) == Some("1.1"));
        let mut declared = 0;
        for (key, value) in &manifest {
            let Some(file) = key.strip_prefix("file.") else { continue };
            declared += 1;
            let present = dir.path().join(format!("{file}.csv")).exists();
            match value.as_str() {
                "bulk" => ensure!(present, "{file} declared bulk but missing"),
                "absent" => ensure!(!present, "{file} declared absent but present"),
                other => anyhow::bail!("{file}: {other}"),
            }
        }
        ensure!(declared == 13, "{declared} file.* keys");
        for entry in fs::read_dir(dir.path())? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".csv");
            ensure!(stem == "manifest" || manifest.get(&format!("file.{stem}")).map(String::as_str) == Some("bulk"));
        }

        // Multi-value cells are quoted; a parse gives them back whole.
        let classes = fs::read_to_string(dir.path().join("classes.csv"))?;
        ensure!(classes.contains("\"as-2026-t1,as-2026-t2\"") && classes.contains("\"09,10,11,12\""));
        let users = fs::read_to_string(dir.path().join("users.csv"))?;
        ensure!(users.contains(",\"gdn-") && users.contains(",\"stu-") && users.contains(",\"{SIS:"));
        Ok(())
    }

    #[test]
    fn every_reference_points_to_a_row_that_exists() -> anyhow::Result<()> {
        let (dir, _) = district(1500, 42)?;
        let dir = dir.path();
        let orgs = rows(dir, "orgs.csv")?;
        let org_ids = ids(&orgs);
        let schools: HashSet<String> =
            orgs.iter().filter(|o| cell(o, "type") == "school").map(|o| cell(o, "sourcedId").to_string()).collect();
        let districts: Vec<&Row> = orgs.iter().filter(|o| cell(o, "type") == "district").collect();
        ensure!(districts.len() == 1 && schools.len() + 1 == orgs.len());
        for org in &orgs {
            let parent = cell(org, "parentSourcedId");
            ensure!(parent.is_empty() || org_ids.contains(parent));
        }

        let sessions = ids(&rows(dir, "academicSessions.csv")?);
        let courses = rows(dir, "courses.csv")?;
        for course in &courses {
            ensure!(
                schools.contains(cell(course, "orgSourcedId"))
                    && sessions.contains(cell(course, "schoolYearSourcedId"))
            );
        }
        let course_ids = ids(&courses);

        let classes = rows(dir, "classes.csv")?;
        let mut class_school = HashMap::new();
        for class in &classes {
            ensure!(schools.contains(cell(class, "schoolSourcedId")), "{class:?}");
            ensure!(course_ids.contains(cell(class, "courseSourcedId")), "{class:?}");
            ensure!(list(cell(class, "termSourcedIds")).all(|t| sessions.contains(t)), "{class:?}");
            ensure!(matches!(cell(class, "classType"), "homeroom" | "scheduled"));
            class_school.insert(cell(class, "sourcedId").to_string(), cell(class, "schoolSourcedId").to_string());
        }

        let users = rows(dir, "users.csv")?;
        let role: HashMap<String, String> =
            users.iter().map(|u| (cell(u, "sourcedId").to_string(), cell(u, "role").to_string())).collect();
        ensure!(role.len() == users.len(), "duplicate user ids");
        let usernames: HashSet<&str> = users.iter().map(|u| cell(u, "username")).collect();
        ensure!(usernames.len() == users.len(), "duplicate usernames");
        for user in &users {
            ensure!(list(cell(user, "orgSourcedIds")).all(|o| schools.contains(o)), "{user:?}");
            let own = cell(user, "role");
            for agent in list(cell(user, "agentSourcedIds")) {
                let other = role.get(agent).map_or("", String::as_str);
                let fits = if own == "student" { is_guardian(other) } else { is_guardian(own) && other == "student" };
                ensure!(fits, "{own} {} lists {other} {agent}", cell(user, "sourcedId"));
            }
        }
        let (from_students, from_guardians) = links(&users);
        let linked: HashSet<&String> = from_students.iter().chain(&from_guardians).map(|(s, _)| s).collect();
        let students: Vec<&String> = role.iter().filter(|(_, r)| *r == "student").map(|(id, _)| id).collect();
        ensure!(!students.is_empty() && students.iter().all(|s| linked.contains(s)), "a student without a guardian");

        let enrollments = rows(dir, "enrollments.csv")?;
        ensure!(ids(&enrollments).len() == enrollments.len());
        let mut primaries: HashMap<&str, usize> = HashMap::new();
        let mut homerooms: HashMap<&str, usize> = HashMap::new();
        let homeroom_ids: HashSet<&str> =
            classes.iter().filter(|c| cell(c, "classType") == "homeroom").map(|c| cell(c, "sourcedId")).collect();
        for enrollment in &enrollments {
            let class = cell(enrollment, "classSourcedId");
            let user = cell(enrollment, "userSourcedId");
            ensure!(class_school.get(class).map(String::as_str) == Some(cell(enrollment, "schoolSourcedId")));
            ensure!(role.get(user).map(String::as_str) == Some(cell(enrollment, "role")), "{enrollment:?}");
            if cell(enrollment, "primary") == "true" {
                *primaries.entry(class).or_default() += 1;
            }
            if cell(enrollment, "role") == "student" && homeroom_ids.contains(class) {
                *homerooms.entry(user).or_default() += 1;
            }
        }
        ensure!(classes.iter().all(|c| primaries.get(cell(c, "sourcedId")) == Some(&1)), "one primary per class");
        ensure!(students.iter().all(|s| homerooms.get(s.as_str()) == Some(&1)), "one homeroom per student");

        let demographics = rows(dir, "demographics.csv")?;
        ensure!(demographics.len() == students.len());
        ensure!(demographics.iter().all(|d| role.get(cell(d, "sourcedId")).map(String::as_str) == Some("student")));
        Ok(())
    }

    #[test]
    fn links_run_both_ways_except_about_one_in_ten() -> anyhow::Result<()> {
        let (dir, summary) = district(5000, 3)?;
        let users = rows(dir.path(), "users.csv")?;
        let (from_students, from_guardians) = links(&users);
        let all: HashSet<_> = from_students.union(&from_guardians).collect();
        let one_way = from_students.symmetric_difference(&from_guardians).count();
        ensure!(all.len() == summary.relationships && one_way == summary.one_way_relationships);
        let share = one_way as f64 / all.len() as f64;
        ensure!((0.07..0.13).contains(&share), "one-way share {share}");

        let mut per_student: HashMap<&str, usize> = HashMap::new();
        for (student, _) in &all {
            *per_student.entry(student.as_str()).or_default() += 1;
        }
        ensure!(per_student.len() == summary.students && per_student.values().all(|n| (1..=3).contains(n)));
        let two = per_student.values().filter(|n| **n == 2).count() as f64 / summary.students as f64;
        ensure!(two > 0.6, "two guardians: {two}");
        let siblings = summary.students_with_siblings as f64 / summary.students as f64;
        ensure!((0.22..0.38).contains(&siblings), "siblings {siblings}");

        let guardians: Vec<&Row> = users.iter().filter(|u| is_guardian(cell(u, "role"))).collect();
        ensure!(guardians.len() == summary.guardians);
        let share_of =
            |r: &str| guardians.iter().filter(|g| cell(g, "role") == r).count() as f64 / guardians.len() as f64;
        ensure!(share_of("parent") > 0.75 && share_of("guardian") > 0.03 && share_of("relative") > 0.01);
        Ok(())
    }

    #[test]
    fn phones_are_mostly_mobiles_with_some_landlines_invalid_magic_and_none() -> anyhow::Result<()> {
        let (dir, summary) = district(5000, 11)?;
        let users = rows(dir.path(), "users.csv")?;
        let mix = &summary.guardian_phones;
        let total = summary.guardians as f64;
        let share = |n: usize| n as f64 / total;
        ensure!(mix.mobile + mix.landline_only + mix.invalid + mix.magic + mix.none == summary.guardians);
        ensure!((0.62..0.78).contains(&share(mix.mobile)), "{mix:?}");
        ensure!((0.16..0.24).contains(&share(mix.landline_only)), "{mix:?}");
        ensure!((0.015..0.045).contains(&share(mix.invalid)), "{mix:?}");
        ensure!((0.01..0.03).contains(&share(mix.magic)), "{mix:?}");
        ensure!((0.03..0.07).contains(&share(mix.none)), "{mix:?}");

        let (mut invalid, mut magic, mut none, mut landline_only) = (0, 0, 0, 0);
        let mut shapes = [false; 4];
        for user in users.iter().filter(|u| is_guardian(cell(u, "role")) || cell(u, "role") == "student") {
            let guardian = is_guardian(cell(user, "role"));
            let (sms, phone) = (cell(user, "sms"), cell(user, "phone"));
            if guardian && sms.is_empty() && phone.is_empty() {
                none += 1;
            }
            let mut bad = false;
            for number in [sms, phone].into_iter().filter(|n| !n.is_empty()) {
                shapes[0] |= number.starts_with('(');
                shapes[1] |= number.len() == 12 && number.chars().filter(|c| *c == '-').count() == 2;
                shapes[2] |= number.len() == 10 && number.chars().all(|c| c.is_ascii_digit());
                shapes[3] |= number.starts_with("+1") && number.len() == 12;
                match PhoneNumber::parse(number, Region::US) {
                    Ok(parsed) => {
                        let e164 = parsed.as_e164();
                        if e164.starts_with("+1617555010") {
                            ensure!(guardian && e164 <= "+16175550105", "{e164}");
                            magic += 1;
                        } else {
                            ensure!(!e164.ends_with("99") && !e164[5..].starts_with("555"), "{e164}");
                        }
                    }
                    Err(_) => bad = true,
                }
            }
            ensure!(guardian || !bad, "a student with an invalid number");
            if guardian && bad {
                invalid += 1;
            }
            if guardian && sms.is_empty() && !phone.is_empty() && !bad {
                landline_only += 1;
            }
        }
        ensure!(shapes.iter().all(|s| *s), "{shapes:?}");
        ensure!(invalid == mix.invalid && magic == mix.magic && none == mix.none, "{invalid} {magic} {none} {mix:?}");
        ensure!(landline_only == mix.landline_only);
        let students_with_sms = users.iter().filter(|u| cell(u, "role") == "student" && !cell(u, "sms").is_empty());
        ensure!(students_with_sms.clone().count() > 0);
        ensure!(students_with_sms.clone().all(|u| ["09", "10", "11", "12"].contains(&cell(u, "grades"))));
        Ok(())
    }

    #[test]
    fn emails_use_reserved_domains_only() -> anyhow::Result<()> {
        let (dir, _) = district(2000, 5)?;
        let users = rows(dir.path(), "users.csv")?;
        let mut guardians_with_email = 0usize;
        let mut guardians = 0usize;
        for user in &users {
            let email = cell(user, "email");
            let role = cell(user, "role");
            if !email.is_empty() {
                ensure!(email.is_ascii() && email.matches('@').count() == 1, "{email}");
            }
            match role {
                "teacher" => ensure!(email.ends_with("@district.example.org"), "{email}"),
                "student" if cell(user, "grades") >= "06" && cell(user, "grades") != "KG" => {
                    ensure!(email.ends_with("@students.example.org"), "{email}")
                }
                "student" => ensure!(email.is_empty(), "{email}"),
                _ => {
                    guardians += 1;
                    if !email.is_empty() {
                        guardians_with_email += 1;
                        let domain = email.rsplit('@').next().unwrap_or("");
                        ensure!(GUARDIAN_DOMAINS.contains(&domain), "{email}");
                    }
                }
            }
        }
        let share = guardians_with_email as f64 / guardians as f64;
        ensure!((0.8..0.9).contains(&share), "{share}");
        Ok(())
    }

    #[test]
    fn birth_dates_match_grades() -> anyhow::Result<()> {
        let (dir, _) = district(1300, 9)?;
        let grade: HashMap<String, String> = rows(dir.path(), "users.csv")?
            .iter()
            .filter(|u| cell(u, "role") == "student")
            .map(|u| (cell(u, "sourcedId").to_string(), cell(u, "grades").to_string()))
            .collect();
        let cutoff = NaiveDate::from_ymd_opt(2025, 9, 1).context("date")?;
        for row in rows(dir.path(), "demographics.csv")? {
            let born = NaiveDate::parse_from_str(cell(&row, "birthDate"), "%Y-%m-%d")?;
            let code = grade.get(cell(&row, "sourcedId")).context("student")?;
            let g = GRADES.iter().position(|c| c == code).context("grade code")? as u32;
            let age = cutoff.years_since(born).context("age")?;
            ensure!(age == 5 + g || age == 6 + g, "grade {code}, born {born}, {age} on {cutoff}");
            ensure!(matches!(cell(&row, "sex"), "male" | "female"));
        }
        Ok(())
    }

    #[test]
    fn the_summary_counts_the_rows_written() -> anyhow::Result<()> {
        let (dir, summary) = district(3000, 2)?;
        for (file, count) in &summary.files {
            ensure!(rows(dir.path(), file)?.len() == *count, "{file}");
        }
        let files = |f: &str| summary.files.get(f).copied().unwrap_or(0);
        ensure!(files("users.csv") == summary.students + summary.guardians + summary.teachers);
        ensure!(files("orgs.csv") == summary.schools + 1 && files("classes.csv") == summary.sections);
        ensure!(files("enrollments.csv") == summary.enrollments && files("courses.csv") == summary.courses);
        ensure!(summary.students == 3000 && files("demographics.csv") == 3000);
        ensure!((5..=7).contains(&summary.schools), "{} schools", summary.schools);
        ensure!((135..=165).contains(&summary.teachers), "{} teachers", summary.teachers);
        ensure!(summary.guardians > summary.students, "{} guardians", summary.guardians);
        Ok(())
    }

    #[test]
    fn a_district_without_students_still_writes_valid_files() -> anyhow::Result<()> {
        let (dir, summary) = district(0, 1)?;
        ensure!(summary.students == 0 && summary.guardians == 0 && summary.schools == 3);
        for file in summary.files.keys() {
            rows(dir.path(), file)?;
        }
        Ok(())
    }
}
