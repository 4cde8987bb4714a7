//! Reading one CSV file fast and forgivingly: UTF-8 checked once, BOM
//! stripped, CRLF or LF, headers matched by name (trimmed, any case), one
//! reused byte record per file, 1-based line numbers. Also the small value
//! parsers every reader shares (lists, grades, dates, booleans, names) and
//! the report of rejected rows and warnings.

use chrono::NaiveDate;
use csv::ByteRecord;

use crate::domain::{MAX_NAME_LEN, MAX_REPORTED_ROWS, RejectedRow};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One CSV file opened for reading: its header, indexed once.
pub(crate) struct Sheet<'a> {
    /// The file's name, for messages.
    pub name: &'a str,
    /// Header cells: trimmed, BOM removed, lower case.
    headers: Vec<String>,
    /// Header cells as written (trimmed), for messages.
    written: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
    record: ByteRecord,
    /// The bytes read (BOM removed), to count lines: the CSV parser's own
    /// line numbers miss CRLF line ends and blank lines.
    bytes: &'a [u8],
    /// Where line counting got to, and the newlines before it.
    scanned: usize,
    newlines: u64,
}

/// A data row of a [`Sheet`].
pub(crate) struct Row<'r> {
    record: &'r ByteRecord,
    /// 1-based line number where the row starts (the header is line 1).
    pub line: u64,
}

impl<'a> Sheet<'a> {
    /// Opens a file: refuses bytes that are not UTF-8 and a file without a
    /// header row. The error is a whole-file problem (row 0, or the line of
    /// the first invalid byte).
    pub fn open(name: &'a str, bytes: &'a [u8]) -> Result<Self, RejectedRow> {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        if let Err(e) = std::str::from_utf8(bytes) {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let hint = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                " (it looks like UTF-16: save it as UTF-8)"
            } else {
                " (save it as UTF-8)"
            };
            return Err(RejectedRow {
                file: name.to_string(),
                row: line,
                column: None,
                reason: format!("the file is not UTF-8 text{hint}"),
            });
        }
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut record = ByteRecord::new();
        let has_header = reader.read_byte_record(&mut record).map_err(|e| RejectedRow {
            file: name.to_string(),
            row: 1,
            column: None,
            reason: format!("the header cannot be read as CSV ({})", csv_error_kind(&e)),
        })?;
        if !has_header {
            return Err(RejectedRow {
                file: name.to_string(),
                row: 0,
                column: None,
                reason: "the file is empty: it has no header row".to_string(),
            });
        }
        let written: Vec<String> = record
            .iter()
            .map(|cell| {
                std::str::from_utf8(cell)
                    .unwrap_or("")
                    .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                    .to_string()
            })
            .collect();
        let headers = written.iter().map(|h| h.to_lowercase()).collect();
        Ok(Self { name, headers, written, reader, record, bytes, scanned: 0, newlines: 0 })
    }

    /// The index of the first column named `name` (any case).
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The first of `names` that the file has.
    pub fn col_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| self.col(name))
    }

    /// Header cells (as written) that are not in `known` (any case), and
    /// how many header cells are blank.
    pub fn unknown_columns(&self, known: &[&str]) -> (Vec<&str>, usize) {
        let mut unknown = Vec::new();
        let mut blank = 0;
        for (header, written) in self.headers.iter().zip(&self.written) {
            if header.is_empty() {
                blank += 1;
            } else if !known.iter().any(|k| k.eq_ignore_ascii_case(header)) {
                unknown.push(written.as_str());
            }
        }
        (unknown, blank)
    }

    /// Adds one warning naming the columns this reader does not use, if any.
    pub fn warn_unknown_columns(&self, known: &[&str], report: &mut Report) {
        let (unknown, blank) = self.unknown_columns(known);
        if !unknown.is_empty() {
            report.warn(format!("{}: columns ignored: {}", self.name, unknown.join(", ")));
        }
        if blank > 0 {
            report.warn(format!("{}: {blank} header cell(s) are blank; their columns are ignored", self.name));
        }
    }

    /// The next data row, reusing the record; `Err` for a row the CSV
    /// parser cannot read (a whole-file problem).
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, RejectedRow> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                let offset = self.record.position().map_or(0, |p| p.byte());
                let line = self.line_at(offset);
                Ok(Some(Row { record: &self.record, line }))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(RejectedRow {
                file: self.name.to_string(),
                row: e.position().map_or(0, |p| self.line_at(p.byte())),
                column: None,
                reason: format!("the file cannot be read as CSV ({})", csv_error_kind(&e)),
            }),
        }
    }
}

impl Sheet<'_> {
    /// The 1-based line of the record the parser says starts at `offset`
    /// (it may point at the line end or blank lines before the record).
    /// Offsets only grow, so counting is incremental.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.scanned {
            self.newlines += self.bytes[self.scanned..start].iter().filter(|&&b| b == b'\n').count() as u64;
            self.scanned = start;
            self.newlines + 1
        } else {
            self.bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1
        }
    }
}

fn csv_error_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.kind().to_string(),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_string(),
        _ => "malformed CSV".to_string(),
    }
}

impl Row<'_> {
    /// The cell of a column, trimmed; `""` when the column is absent, the
    /// row is short, or the cell is blank.
    pub fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.record.get(i)).and_then(|cell| std::str::from_utf8(cell).ok()).map_or("", str::trim)
    }

    /// Whether the row has no value in any cell (a line of commas).
    pub fn is_blank(&self) -> bool {
        self.record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace))
    }
}

/// Rows rejected and warnings, shared by the readers of one import.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The first [`MAX_REPORTED_ROWS`] rejections: what a run keeps.
    pub rejected: Vec<RejectedRow>,
    /// Every rejection, counted.
    pub rejected_total: u64,
    pub warnings: Vec<String>,
}

impl Report {
    /// Rejects a row or a cell of it. `reason` must not hold contact data or
    /// names. Past [`MAX_REPORTED_ROWS`] it is only counted, so a file of
    /// bad rows costs no memory for them.
    pub fn reject(&mut self, file: &str, row: u64, column: Option<&str>, reason: impl Into<String>) {
        self.rejected_total += 1;
        if self.rejected.len() >= MAX_REPORTED_ROWS {
            return;
        }
        self.rejected.push(RejectedRow {
            file: file.to_string(),
            row,
            column: column.map(str::to_string),
            reason: reason.into(),
        });
    }

    /// Adds a warning.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Adds a counted warning when `count` is not zero.
    pub fn warn_count(&mut self, file: &str, count: usize, what: &str) {
        if count > 0 {
            self.warnings.push(format!("{file}: {count} {what}"));
        }
    }
}

/// The items of a multi-value cell (`"09,10"`), trimmed, blanks skipped.
pub(crate) fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A grade code made uniform: `5` → `05`, `K`/`KG`/`kindergarten` → `KG`,
/// `pk` → `PK`; other codes are kept (upper-cased). `None` for a blank cell
/// or a code longer than 20 characters.
pub(crate) fn grade(cell: &str) -> Option<String> {
    let code = cell.trim();
    (!code.is_empty() && code.chars().count() <= 20).then(|| crate::domain::uniform_grade(code))
}

/// A date as `YYYY-MM-DD` (also `YYYY-MM-DDThh:mm...`), or US `M/D/YYYY`.
pub(crate) fn date(cell: &str) -> Option<NaiveDate> {
    let cell = cell.trim();
    let day = cell.split(['T', ' ']).next().unwrap_or(cell);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(day, "%m/%d/%Y")).ok()
}

/// A yes/no cell: `true/false`, `t/f`, `yes/no`, `y/n`, `1/0`, `on/off`, any case.
pub(crate) fn boolean(cell: &str) -> Option<bool> {
    const TRUE: &[&str] = &["true", "t", "yes", "y", "1", "on"];
    const FALSE: &[&str] = &["false", "f", "no", "n", "0", "off"];
    let cell = cell.trim();
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(cell)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(cell)) {
        Some(false)
    } else {
        None
    }
}

/// Checks a name cell; the error names the kind of problem, never the name.
pub(crate) fn name(cell: &str) -> Result<String, &'static str> {
    let name = cell.trim();
    if name.is_empty() {
        Err("is empty")
    } else if name.chars().count() > MAX_NAME_LEN {
        Err("is longer than 100 characters")
    } else if name.chars().any(char::is_control) {
        Err("holds control characters")
    } else {
        Ok(name.to_string())
    }
}

/// Truncates a value that may be echoed in a message (an id, a code word).
pub(crate) fn short(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_are_made_uniform_and_unknown_codes_are_kept() {
        assert_eq!(grade("5").as_deref(), Some("05"));
        assert_eq!(grade("05").as_deref(), Some("05"));
        assert_eq!(grade("12").as_deref(), Some("12"));
        assert_eq!(grade(" k ").as_deref(), Some("KG"));
        assert_eq!(grade("KG").as_deref(), Some("KG"));
        assert_eq!(grade("pk").as_deref(), Some("PK"));
        assert_eq!(grade("K-12").as_deref(), Some("K-12"));
        assert_eq!(grade(""), None);
    }

    #[test]
    fn dates_are_read_in_iso_and_us_forms() {
        let may = NaiveDate::from_ymd_opt(2012, 5, 6);
        assert_eq!(date("2012-05-06"), may);
        assert_eq!(date("5/6/2012"), may);
        assert_eq!(date("05/06/2012"), may);
        assert_eq!(date("2012-05-06T00:00:00Z"), may);
        assert_eq!(date("2012-13-06"), None);
        assert_eq!(date("soon"), None);
    }

    #[test]
    fn a_bom_and_crlf_do_not_reach_the_headers_or_cells() -> Result<(), RejectedRow> {
        let bytes = b"\xEF\xBB\xBF SourcedId ,Name\r\n\"a,b\",x\r\n";
        let mut sheet = Sheet::open("f.csv", bytes)?;
        assert_eq!(sheet.col("sourcedid"), Some(0));
        let name = sheet.col("name");
        let row = sheet.next_row()?;
        assert_eq!(row.as_ref().map(|r| (r.get(Some(0)), r.get(name), r.line)), Some(("a,b", "x", 2)));
        Ok(())
    }

    #[test]
    fn line_numbers_count_crlf_blank_lines_and_quoted_line_breaks() -> Result<(), RejectedRow> {
        let bytes = b"h1,h2\r\na,b\r\n\r\n\"c\r\nc\",d\r\ne,f";
        let mut sheet = Sheet::open("f.csv", bytes)?;
        let mut lines = Vec::new();
        while let Some(row) = sheet.next_row()? {
            lines.push(row.line);
        }
        assert_eq!(lines, vec![2, 4, 6]);
        Ok(())
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_with_their_line() {
        let refused = Sheet::open("f.csv", b"a,b\n1,2\n\xE9t\xE9,3\n").err();
        assert_eq!(refused.map(|r| r.row), Some(3));
    }
}
