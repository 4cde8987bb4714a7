//! Reading a bulk assignment CSV (`staff_id,school,role`) into rows: pure,
//! so the whole-file rules and the row numbers are tested without a store.
//!
//! Whole-file problems (not UTF-8, empty, no header, a missing or unknown
//! column, too many rows) refuse the file; a row with the wrong number of
//! cells is a malformed row. Rows are numbered by the line they start on,
//! the header being line 1; lines that are blank or only commas are skipped.

use csv::ByteRecord;

use super::AssignmentInput;
use crate::domain::DomainError;
use crate::services::ServiceError;

/// The columns of a bulk assignment file, in the usual order (any order is read).
pub const ASSIGNMENT_COLUMNS: [&str; 3] = ["staff_id", "school", "role"];
/// Most data rows one upload holds.
pub const MAX_BULK_ROWS: usize = 10_000;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One data row: its line and its cells, or why it is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// 1-based line where the row starts (the header is line 1).
    pub row: u64,
    /// The assignment it writes, or the malformed-row message.
    pub cells: Result<AssignmentInput, String>,
}

fn refuse(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(DomainError::Invalid(message.into()))
}

/// Counts lines up to byte offsets that only grow.
struct Lines<'a> {
    bytes: &'a [u8],
    scanned: usize,
    newlines: u64,
}

impl Lines<'_> {
    /// The 1-based line of the record starting at `offset` (the parser's
    /// offset may point at line ends before it).
    fn at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let from = self.scanned.min(start);
        self.newlines += self.bytes[from..start].iter().filter(|&&b| b == b'\n').count() as u64;
        self.scanned = self.scanned.max(start);
        self.newlines + 1
    }
}

fn cell(record: &ByteRecord, at: usize) -> String {
    record.get(at).and_then(|c| std::str::from_utf8(c).ok()).map(str::trim).unwrap_or_default().to_string()
}

/// Reads the file into rows, or refuses it whole.
pub fn parse_assignments_csv(body: &[u8]) -> Result<Vec<CsvRow>, ServiceError> {
    let bytes = body.strip_prefix(BOM).unwrap_or(body);
    if std::str::from_utf8(bytes).is_err() {
        return Err(refuse("the file is not UTF-8 text (save it as UTF-8 CSV)"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(refuse("the file is empty: it needs the header `staff_id,school,role` and rows"));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = ByteRecord::new();
    let unreadable = |e: csv::Error| refuse(format!("the file cannot be read as CSV ({e})"));
    reader.read_byte_record(&mut record).map_err(unreadable)?;
    let header: Vec<String> = (0..record.len()).map(|at| cell(&record, at).to_lowercase()).collect();
    let position = |name: &str| header.iter().position(|h| h == name);
    if ASSIGNMENT_COLUMNS.iter().all(|name| position(name).is_none()) {
        return Err(refuse("the first line must be the header `staff_id,school,role`"));
    }
    if let Some(unknown) = header.iter().find(|h| !ASSIGNMENT_COLUMNS.contains(&h.as_str())) {
        let shown: String = unknown.chars().take(40).collect();
        return Err(refuse(format!("unknown column `{shown}` in the header; the columns are staff_id, school, role")));
    }
    let [Some(staff_at), Some(school_at), Some(role_at)] = ASSIGNMENT_COLUMNS.map(position) else {
        let missing: Vec<_> = ASSIGNMENT_COLUMNS.into_iter().filter(|name| position(name).is_none()).collect();
        return Err(refuse(format!("the header lacks the column(s): {}", missing.join(", "))));
    };
    if header.len() != ASSIGNMENT_COLUMNS.len() {
        return Err(refuse("the header names a column twice; the columns are staff_id, school, role"));
    }
    let mut lines = Lines { bytes, scanned: 0, newlines: 0 };
    let mut rows = Vec::new();
    while reader.read_byte_record(&mut record).map_err(unreadable)? {
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if rows.len() == MAX_BULK_ROWS {
            return Err(refuse(format!("the file holds more than {MAX_BULK_ROWS} rows: split it")));
        }
        let row = lines.at(record.position().map_or(0, csv::Position::byte));
        let cells = if record.len() == header.len() {
            Ok(AssignmentInput {
                staff_id: cell(&record, staff_at),
                school: Some(cell(&record, school_at)),
                role: cell(&record, role_at),
            })
        } else {
            Err(format!(
                "malformed row: expected {} cells (staff_id,school,role), found {}",
                header.len(),
                record.len()
            ))
        };
        rows.push(CsvRow { row, cells });
    }
    if rows.is_empty() {
        return Err(refuse("the file holds a header but no rows"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        match parse_assignments_csv(body.as_bytes()) {
            Ok(rows) => panic!("expected a refusal, got {rows:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn rows_are_numbered_by_line_with_the_header_as_line_one() {
        let body = "\u{feff}Staff_ID, school ,role\r\nt-1,s-1,teacher\r\n\r\n,,\r\n\"t-2\",s-1,\"School\nAdmin\"\r\nt-3,s-1\r\n";
        let rows = parse_assignments_csv(body.as_bytes()).unwrap();
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 5, 7]);
        assert_eq!(
            rows[0].cells,
            Ok(AssignmentInput { staff_id: "t-1".into(), school: Some("s-1".into()), role: "teacher".into() })
        );
        assert_eq!(rows[1].cells.as_ref().map(|c| c.role.as_str()), Ok("School\nAdmin"));
        assert!(rows[2].cells.as_ref().is_err_and(|m| m.contains("malformed row") && m.contains("found 2")));
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let rows = parse_assignments_csv(b"role,staff_id,school\nteacher,t-1,s-1\n").unwrap();
        assert_eq!(rows[0].cells.as_ref().map(|c| (c.staff_id.as_str(), c.role.as_str())), Ok(("t-1", "teacher")));
    }

    #[test]
    fn a_file_that_is_not_an_assignment_csv_is_refused_whole() {
        assert!(refused("").contains("empty"));
        assert!(refused(" \r\n").contains("empty"));
        assert!(refused("t-1,s-1,teacher\n").contains("header"));
        assert!(refused("staff_id,school\nt-1,s-1\n").contains("lacks the column(s): role"));
        assert!(refused("staff_id,school,role,action\n").contains("unknown column `action`"));
        assert!(refused("staff_id,school,role,role\n").contains("twice"));
        assert!(refused("staff_id,school,role\r\n").contains("no rows"));
        assert!(parse_assignments_csv(b"staff_id,school,role\n\xff,s,r\n").is_err(), "not UTF-8");
        let many = format!("staff_id,school,role\n{}", "t-1,s-1,teacher\n".repeat(MAX_BULK_ROWS + 1));
        assert!(refused(&many).contains("split it"));
    }
}
