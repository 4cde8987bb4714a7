//! Fixed reference data: grades, subjects, the 2025–26 calendar, places of
//! birth and the `sourcedId` formats, and `pick` to draw from a list.

use rand::Rng;
use rand::rngs::StdRng;

pub(super) const GRADES: [&str; 13] = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"];
/// Core subjects of middle and high schools: (title, code).
pub(super) const SUBJECTS: [(&str, &str); 4] =
    [("English Language Arts", "ELA"), ("Mathematics", "MATH"), ("Science", "SCI"), ("Social Studies", "SOC")];
pub(super) const CITIES_MA: &[&str] =
    &["Boston", "Worcester", "Springfield", "Lowell", "Cambridge", "Quincy", "Lynn", "Newton"];
pub(super) const OTHER_STATES: &[&str] = &["NY", "CA", "NH", "RI", "CT", "FL", "TX"];
pub(super) const OTHER_COUNTRIES: &[&str] = &["MX", "DO", "BR", "CN", "VN", "HT", "IN", "GT", "SV"];

pub(super) const DISTRICT_ID: &str = "dis-001";
pub(super) const SCHOOL_YEAR_ID: &str = "as-2026";
pub(super) const TERM1_ID: &str = "as-2026-t1";
pub(super) const TERM2_ID: &str = "as-2026-t2";
pub(super) const BOTH_TERMS: &str = "as-2026-t1,as-2026-t2";
pub(super) const YEAR_START: &str = "2025-08-27";
pub(super) const TERM1_END: &str = "2026-01-23";
pub(super) const TERM2_START: &str = "2026-01-26";
pub(super) const YEAR_END: &str = "2026-06-19";
/// Calendar year in which the kindergarteners of 2025–26 turned 5 by 1 September.
pub(super) const KG_CUTOFF_YEAR: i32 = 2025;

pub(super) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

pub(super) fn school_id(index: usize) -> String {
    format!("sch-{:03}", index + 1)
}

pub(super) fn student_id(index: usize) -> String {
    format!("stu-{:06}", index + 1)
}

pub(super) fn guardian_id(index: usize) -> String {
    format!("gdn-{:06}", index + 1)
}

pub(super) fn teacher_id(index: usize) -> String {
    format!("tch-{:05}", index + 1)
}
