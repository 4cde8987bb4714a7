//! Phone numbers (valid, invalid and the fictional carrier-test ones, in the
//! shapes real exports have) and the e-mail domains.

use rand::Rng;
use rand::rngs::StdRng;

use super::PhoneMix;
use super::reference::pick;

const AREA_CODES: &[u16] = &[617, 508, 781, 978, 413, 339, 857, 774, 351, 212, 415];
pub(super) const GUARDIAN_DOMAINS: &[&str] = &["example.org", "example.net", "example.com"];
pub(super) const STAFF_DOMAIN: &str = "district.example.org";
pub(super) const STUDENT_DOMAIN: &str = "students.example.org";

/// A valid US number (per libphonenumber) that does not end in 99, in the
/// 555 exchange never (that one holds the fictional numbers).
pub(super) fn valid_digits(rng: &mut StdRng) -> (u16, u16, u16) {
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

pub(super) fn format_phone(rng: &mut StdRng, (area, exchange, line): (u16, u16, u16)) -> String {
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
/// `reachable`: always a valid mobile (benchmarks that text everyone).
pub(super) fn guardian_phones(
    rng: &mut StdRng,
    landline: &mut Option<(u16, u16, u16)>,
    mix: &mut PhoneMix,
    reachable: bool,
) -> (String, String) {
    let r: f64 = if reachable { 1.0 } else { rng.random() };
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
