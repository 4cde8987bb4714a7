//! Writes `demographics.csv`: one row per student, birth date consistent
//! with the grade, from a random stream of its own.

use std::path::Path;

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;
use schoolbell::import::oneroster::columns;

use super::GenSummary;
use super::csv_file::CsvFile;
use super::model::District;
use super::reference::{CITIES_MA, KG_CUTOFF_YEAR, OTHER_COUNTRIES, OTHER_STATES, pick, student_id};

pub(super) fn write_demographics(
    dir: &Path,
    district: &District,
    rng: &mut StdRng,
    summary: &mut GenSummary,
) -> anyhow::Result<()> {
    let mut csv = CsvFile::create(dir, "demographics.csv", columns::DEMOGRAPHICS)?;
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
