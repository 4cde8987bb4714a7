//! `CsvFiles`: the CSV files of one import, by name, from a folder, a zip
//! archive or a single upload. Names are matched without regard to case
//! (`userProfiles.csv` and `userprofiles.csv` are the same file).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::domain::{FileRejected, RejectedRow};

/// Most bytes a zip archive may expand to (all entries together): 2 GiB.
pub const MAX_UNZIPPED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Most entries (files and folders) a zip archive may hold.
pub const MAX_ZIP_ENTRIES: usize = 1_000;

/// The first bytes of a zip archive (a local file header).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The first bytes of an empty zip archive (only an end-of-directory record).
const EMPTY_ZIP_MAGIC: &[u8] = b"PK\x05\x06";

/// A set of named CSV files: lower-case base name → bytes, plus the name as
/// it was given (for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvFiles {
    files: BTreeMap<String, (String, Vec<u8>)>,
}

impl CsvFiles {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file. Only the base name of `name` counts
    /// (`export/users.csv` is `users.csv`).
    pub fn insert(&mut self, name: &str, bytes: Vec<u8>) {
        let base = base_name(name).to_string();
        self.files.insert(base.to_lowercase(), (base, bytes));
    }

    /// The bytes of a file, by name, in any case.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(&name.to_lowercase()).map(|(_, bytes)| bytes.as_slice())
    }

    /// The name of a file as it was given (`userProfiles.csv`), by name in any case.
    pub fn display_name(&self, name: &str) -> Option<&str> {
        self.files.get(&name.to_lowercase()).map(|(given, _)| given.as_str())
    }

    /// Whether a file of that name (in any case) is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.files.contains_key(&name.to_lowercase())
    }

    /// The files' names as given, sorted by their lower-case form.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.values().map(|(given, _)| given.as_str())
    }

    /// How many files the set holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the set holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Reads every `*.csv` file directly in `dir` (not in its subfolders;
    /// other files are left alone).
    pub fn from_dir(dir: &Path) -> Result<Self, FileRejected> {
        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let entries =
            std::fs::read_dir(dir).map_err(|e| whole(&folder, format!("the folder cannot be read ({})", e.kind())))?;
        let mut files = Self::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(problem(&folder, format!("a folder entry cannot be read ({})", e.kind())));
                    continue;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !is_csv_name(&name) || !path.is_file() {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => files.add_unique(&name, bytes, &mut problems),
                Err(e) => problems.push(problem(&name, format!("the file cannot be read ({})", e.kind()))),
            }
        }
        if problems.is_empty() { Ok(files) } else { Err(FileRejected { problems }) }
    }

    /// Reads every `*.csv` entry of a zip archive, at its root or in
    /// folders (the base name counts; two entries with the same base name
    /// are an error). macOS resource forks (`__MACOSX/`, `._*`) are skipped.
    /// Refuses archives of more than [`MAX_ZIP_ENTRIES`] entries or that
    /// expand to more than [`MAX_UNZIPPED_BYTES`].
    pub fn from_zip(bytes: &[u8]) -> Result<Self, FileRejected> {
        Self::from_zip_limited(bytes, MAX_ZIP_ENTRIES, MAX_UNZIPPED_BYTES)
    }

    pub(crate) fn from_zip_limited(bytes: &[u8], max_entries: usize, max_bytes: u64) -> Result<Self, FileRejected> {
        const ZIP: &str = "(zip)";
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| whole(ZIP, format!("not a readable zip archive ({e})")))?;
        if archive.len() > max_entries {
            return Err(whole(
                ZIP,
                format!("the archive holds {} entries; at most {max_entries} are accepted", archive.len()),
            ));
        }
        let mut files = Self::new();
        let mut problems = Vec::new();
        let mut total: u64 = 0;
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(problem(ZIP, format!("entry {} cannot be read ({e})", index + 1)));
                    continue;
                }
            };
            let path = entry.name().to_string();
            let name = base_name(&path).to_string();
            if entry.is_dir() || !is_csv_name(&name) || path.starts_with("__MACOSX/") || name.starts_with("._") {
                continue;
            }
            if entry.encrypted() {
                problems.push(problem(&name, "the zip entry is encrypted".to_string()));
                continue;
            }
            let remaining = max_bytes.saturating_sub(total);
            // The declared size can lie: read at most one byte past the budget.
            let mut content = Vec::with_capacity(usize::try_from(entry.size().min(remaining)).unwrap_or(0));
            match (&mut entry).take(remaining.saturating_add(1)).read_to_end(&mut content) {
                Ok(read) => {
                    total = total.saturating_add(read as u64);
                    if total > max_bytes {
                        return Err(whole(
                            ZIP,
                            format!("the archive expands to more than {max_bytes} bytes; refused as a zip bomb"),
                        ));
                    }
                    files.add_unique(&name, content, &mut problems);
                }
                Err(e) => problems.push(problem(&name, format!("the zip entry cannot be decompressed ({e})"))),
            }
        }
        if problems.is_empty() { Ok(files) } else { Err(FileRejected { problems }) }
    }

    /// A zip archive (recognised by its first bytes, whatever `name` says)
    /// or else a single CSV file stored under `name`.
    pub fn from_bytes_auto(name: &str, bytes: &[u8]) -> Result<Self, FileRejected> {
        if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(EMPTY_ZIP_MAGIC) {
            return Self::from_zip(bytes);
        }
        let mut files = Self::new();
        files.insert(name, bytes.to_vec());
        Ok(files)
    }

    fn add_unique(&mut self, name: &str, bytes: Vec<u8>, problems: &mut Vec<RejectedRow>) {
        if self.contains(name) {
            problems.push(problem(name, "two files have this name (names are compared without case)".to_string()));
        } else {
            self.insert(name, bytes);
        }
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn is_csv_name(name: &str) -> bool {
    name.len() > 4 && name.is_char_boundary(name.len() - 4) && name[name.len() - 4..].eq_ignore_ascii_case(".csv")
}

fn problem(file: &str, reason: String) -> RejectedRow {
    RejectedRow { file: file.to_string(), row: 0, column: None, reason }
}

fn whole(file: &str, reason: String) -> FileRejected {
    FileRejected { problems: vec![problem(file, reason)] }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Result<Vec<u8>, zip::result::ZipError> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            if name.ends_with('/') {
                writer.add_directory(*name, options)?;
            } else {
                writer.start_file(*name, options)?;
                writer.write_all(bytes)?;
            }
        }
        Ok(writer.finish()?.into_inner())
    }

    #[test]
    fn zip_entries_in_folders_are_found_by_base_name_in_any_case() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = zip_of(&[
            ("export/", b""),
            ("export/Users.csv", b"sourcedId\n1\n"),
            ("manifest.csv", b"propertyName,value\n"),
            ("__MACOSX/export/._Users.csv", b"junk"),
            ("readme.txt", b"hello"),
        ])?;
        let files = CsvFiles::from_zip(&bytes)?;
        assert_eq!(files.len(), 2);
        assert_eq!(files.get("users.csv"), Some(&b"sourcedId\n1\n"[..]));
        assert_eq!(files.display_name("USERS.CSV"), Some("Users.csv"));
        assert!(files.contains("Manifest.csv"));
        Ok(())
    }

    #[test]
    fn a_zip_with_too_many_entries_or_bytes_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let big = vec![b'a'; 10_000];
        let bytes = zip_of(&[("a.csv", &big), ("b.csv", &big)])?;
        assert!(CsvFiles::from_zip_limited(&bytes, 1, 1 << 20).is_err());
        let refused = CsvFiles::from_zip_limited(&bytes, 10, 15_000).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("zip bomb"), "{refused}");
        assert!(CsvFiles::from_zip_limited(&bytes, 10, 20_000).is_ok());
        Ok(())
    }

    #[test]
    fn bytes_that_are_not_a_zip_are_one_csv_file_and_a_broken_zip_is_refused() -> Result<(), FileRejected> {
        let files = CsvFiles::from_bytes_auto("uploads/Students.CSV", b"a,b\n1,2\n")?;
        assert_eq!(files.get("students.csv"), Some(&b"a,b\n1,2\n"[..]));
        assert!(CsvFiles::from_bytes_auto("x.zip", b"PK\x03\x04garbage").is_err());
        Ok(())
    }

    #[test]
    fn two_entries_with_the_same_base_name_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = zip_of(&[("a/users.csv", b"x"), ("b/USERS.csv", b"y")])?;
        assert!(CsvFiles::from_zip(&bytes).is_err());
        Ok(())
    }

    #[test]
    fn a_folder_gives_its_csv_files_only() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("users.csv"), b"x")?;
        std::fs::write(dir.path().join("SOURCE.md"), b"y")?;
        std::fs::create_dir(dir.path().join("sub.csv"))?;
        let files = CsvFiles::from_dir(dir.path())?;
        assert_eq!(files.names().collect::<Vec<_>>(), vec!["users.csv"]);
        assert!(CsvFiles::from_dir(&dir.path().join("missing")).is_err());
        Ok(())
    }
}
