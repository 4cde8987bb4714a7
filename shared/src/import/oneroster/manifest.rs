//! `manifest.csv`: which files are bulk, delta or absent, and the OneRoster
//! version. Without a manifest every file present is read as bulk.

use std::collections::BTreeMap;

use crate::domain::{FileMode, RejectedRow};
use crate::import::CsvFiles;
use crate::import::sheet::{Report, Sheet, short};

/// The manifest's file name.
pub(super) const MANIFEST: &str = "manifest.csv";

/// What the manifest says.
#[derive(Debug, Default)]
pub(super) struct Manifest {
    /// `oneroster.version`, when given.
    pub version: Option<String>,
    /// Lower-case file name (`users.csv`) → mode, for every `file.*` key.
    modes: BTreeMap<String, FileMode>,
    /// False when there was no manifest: every file present is bulk.
    found: bool,
}

impl Manifest {
    /// The mode of a file (lower-case name).
    pub fn mode(&self, file: &str, files: &CsvFiles) -> FileMode {
        if self.found {
            self.modes.get(file).copied().unwrap_or(FileMode::Absent)
        } else if files.contains(file) {
            FileMode::Bulk
        } else {
            FileMode::Absent
        }
    }
}

/// Reads `manifest.csv`. Fatal problems (a file declared but missing, an
/// unknown mode, a manifest without its columns) go to `fatal`.
pub(super) fn read(files: &CsvFiles, fatal: &mut Vec<RejectedRow>, report: &mut Report) -> Manifest {
    let Some(bytes) = files.get(MANIFEST) else {
        report.warn("no manifest.csv: every file present is read as bulk (a full snapshot)");
        return Manifest::default();
    };
    let name = files.display_name(MANIFEST).unwrap_or(MANIFEST);
    let mut manifest = Manifest { found: true, ..Manifest::default() };
    let mut sheet = match Sheet::open(name, bytes) {
        Ok(sheet) => sheet,
        Err(problem) => {
            fatal.push(problem);
            return manifest;
        }
    };
    let (Some(key_col), Some(value_col)) = (sheet.col("propertyName"), sheet.col("value")) else {
        fatal.push(RejectedRow {
            file: name.to_string(),
            row: 1,
            column: None,
            reason: "required columns `propertyName` and `value` are missing".to_string(),
        });
        return manifest;
    };
    let mut empty = Vec::new();
    loop {
        let row = match sheet.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(problem) => {
                fatal.push(problem);
                break;
            }
        };
        let key = row.get(Some(key_col));
        let value = row.get(Some(value_col));
        if key.eq_ignore_ascii_case("oneroster.version") {
            manifest.version = Some(value.to_string());
        } else if let Some(file) = key.get(..5).filter(|p| p.eq_ignore_ascii_case("file.")).and_then(|_| key.get(5..)) {
            let mode = match value.to_ascii_lowercase().as_str() {
                "bulk" => FileMode::Bulk,
                "delta" => FileMode::Delta,
                "absent" => FileMode::Absent,
                "" => {
                    empty.push(key.to_string());
                    FileMode::Absent
                }
                _ => {
                    fatal.push(RejectedRow {
                        file: name.to_string(),
                        row: row.line,
                        column: Some("value".to_string()),
                        reason: format!(
                            "`{}` has the mode `{}`; expected bulk, delta or absent",
                            short(key),
                            short(value)
                        ),
                    });
                    FileMode::Absent
                }
            };
            manifest.modes.insert(format!("{}.csv", file.to_lowercase()), mode);
        }
    }
    if !empty.is_empty() {
        report.warn(format!("{name}: no mode for {}; read as absent", empty.join(", ")));
    }
    match manifest.version.as_deref() {
        Some("1.0" | "1.1" | "1.2") => {}
        Some(v) if v.starts_with("1.1.") || v.starts_with("1.2.") => {}
        Some(v) => report.warn(format!("{name}: oneroster.version `{}` is not 1.1 or 1.2; read as 1.1/1.2", short(v))),
        None => report.warn(format!("{name}: no oneroster.version; read as 1.1/1.2")),
    }
    for (file, mode) in &manifest.modes {
        if *mode != FileMode::Absent && !files.contains(file) {
            fatal.push(RejectedRow {
                file: file.clone(),
                row: 0,
                column: None,
                reason: format!("the manifest declares this file {} but it is missing", mode_word(*mode)),
            });
        }
    }
    for present in files.names() {
        let lower = present.to_lowercase();
        if lower != MANIFEST && manifest.mode(&lower, files) == FileMode::Absent {
            report.warn(format!("{present}: present but not declared bulk or delta in the manifest; ignored"));
        }
    }
    manifest
}

fn mode_word(mode: FileMode) -> &'static str {
    match mode {
        FileMode::Bulk => "bulk",
        FileMode::Delta => "delta",
        FileMode::Absent => "absent",
    }
}
