//! Cells of the CSV downloads, safe to open in a spreadsheet. A cell that
//! begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
//! formula by Excel, LibreOffice and Google Sheets (CSV injection); names
//! and addresses come from the SIS and from families, so such a cell gets a
//! leading `'`, which spreadsheets show as text. An E.164 number (`+` and
//! digits) is no formula and stays as it is.

use std::borrow::Cow;

/// The cell as a spreadsheet should read it (see the module docs).
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let e164 = cell.strip_prefix('+').is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
    if formula && !e164 { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_names_and_dates_stay_as_they_are() {
        for (cell, shown) in [
            ("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("+16175552345", "+16175552345"),
            ("Ana Diaz", "Ana Diaz"),
            ("2026-12-04T17:00:00+00:00", "2026-12-04T17:00:00+00:00"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), shown, "{cell}");
        }
    }
}
