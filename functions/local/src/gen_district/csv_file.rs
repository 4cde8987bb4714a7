//! `CsvFile`: writes one CSV file row by row and counts its data rows.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;

use super::GenSummary;

/// One CSV file, written row by row (RFC 4180 quoting, LF line ends).
pub(super) struct CsvFile {
    name: &'static str,
    width: usize,
    out: BufWriter<File>,
    rows: usize,
}

impl CsvFile {
    pub(super) fn create(dir: &Path, name: &'static str, header: &[&str]) -> anyhow::Result<Self> {
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

    pub(super) fn row(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        self.write_record(fields)?;
        self.rows += 1;
        Ok(())
    }

    pub(super) fn finish(mut self, summary: &mut GenSummary) -> anyhow::Result<()> {
        self.out.flush().with_context(|| format!("writing {}", self.name))?;
        summary.files.insert(self.name.to_string(), self.rows);
        Ok(())
    }
}
