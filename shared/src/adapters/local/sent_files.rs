//! `SentFiles`: what a simulated provider sent, one JSON document a message
//! in a directory of the local data directory (`texts/` for the simulated
//! carrier, `calls/` for the simulated voice service), beside the email
//! outbox's `.eml` files, so whoever runs the local world can open each text
//! and call that went out. Without a directory (in-memory tests and
//! benchmarks) it writes nothing.
//!
//! A file is named `<UTC time>-<provider id>.json`
//! (`20261204T170000.123456Z-sim-….json`), so a directory listing sorts by
//! time, and it is written aside and then linked into place under a name no
//! other file has, so a file is never overwritten nor seen half written.
//! Like the outbox's `.eml` files, the files stay: delete the directory to
//! start afresh.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ports::Clock;

/// Why a sent message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SentFilesError {
    /// The record is not a JSON object (or not serializable at all).
    #[error("sent message could not be written as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// The directory or the file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The directory or file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// How many other names are tried when a file's name is taken (only ever
/// when a provider id is reused within the same microsecond).
const MAX_NAME_TRIES: u32 = 1_000;

/// A directory that takes one JSON file per message sent, or nowhere.
#[derive(Clone)]
pub struct SentFiles {
    place: Option<(PathBuf, Arc<dyn Clock>)>,
}

impl std::fmt::Debug for SentFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentFiles").field("dir", &self.dir()).finish()
    }
}

impl Default for SentFiles {
    fn default() -> Self {
        Self::nowhere()
    }
}

/// What is written: the record's own fields, then `at`.
#[derive(Serialize)]
struct Stamped<'a, T: ?Sized> {
    #[serde(flatten)]
    record: &'a T,
    at: DateTime<Utc>,
}

impl SentFiles {
    /// Writes into `dir` (created, owner only, on the first write), stamping
    /// each file with `clock`'s time.
    pub fn in_dir(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        Self { place: Some((dir.into(), clock)) }
    }

    /// Writes nothing.
    pub fn nowhere() -> Self {
        Self { place: None }
    }

    /// The directory written to, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.place.as_ref().map(|(dir, _)| dir.as_path())
    }

    /// The file name of a message taken at `at` (pure): the time to the
    /// microsecond, so names sort by time, then the provider id, reduced
    /// to characters that are safe in a file name.
    pub fn file_name(at: DateTime<Utc>, provider_id: &str) -> String {
        let id: String = provider_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        format!("{}-{id}.json", at.format("%Y%m%dT%H%M%S%.6fZ"))
    }

    /// Writes `record` (anything that serializes as a JSON object; `at`,
    /// the clock's time, is added to it) as one file named for the time and
    /// `provider_id`; answers its path, or `None` when writing nowhere.
    pub async fn write<T: Serialize + ?Sized>(
        &self,
        provider_id: &str,
        record: &T,
    ) -> Result<Option<PathBuf>, SentFilesError> {
        let Some((dir, clock)) = &self.place else { return Ok(None) };
        let at = clock.now();
        let mut json = serde_json::to_vec_pretty(&Stamped { record, at })?;
        json.push(b'\n');
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SentFilesError::Io { path, source }
        };
        let mut builder = tokio::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir).await.map_err(io(dir))?;

        let name = Self::file_name(at, provider_id);
        // Written aside, then linked under a name nobody has, so no file is
        // overwritten and nobody watching the directory reads half of one.
        let partial = dir.join(format!(".{}.partial", uuid::Uuid::new_v4()));
        tokio::fs::write(&partial, &json).await.map_err(io(&partial))?;
        let placed = Self::link_under_a_free_name(dir, &name, &partial).await;
        let _ = tokio::fs::remove_file(&partial).await;
        placed
    }

    async fn link_under_a_free_name(dir: &Path, name: &str, partial: &Path) -> Result<Option<PathBuf>, SentFilesError> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        let mut tries = 0;
        loop {
            let path = match tries {
                0 => dir.join(name),
                n => dir.join(format!("{stem}-{n}.json")),
            };
            match tokio::fs::hard_link(partial, &path).await {
                Ok(()) => return Ok(Some(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < MAX_NAME_TRIES => tries += 1,
                Err(source) => return Err(SentFilesError::Io { path, source }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::FixedClock;

    #[derive(Serialize)]
    struct Note {
        to: &'static str,
        body: &'static str,
    }

    fn read(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn each_message_is_one_json_file_named_for_its_time_and_id() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::midday_today());
        let files = SentFiles::in_dir(dir.path().join("texts"), clock.clone());
        let first = files.write("sim-1", &Note { to: "+16175550199", body: "one" }).await.unwrap().unwrap();
        clock.advance(chrono::Duration::milliseconds(1));
        let second = files.write("sim-2", &Note { to: "+16175550199", body: "two" }).await.unwrap().unwrap();

        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("texts"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "one file a message, nothing left aside: {names:?}");
        assert_eq!(dir.path().join("texts").join(&names[0]), first, "sorted by time");
        assert_eq!(dir.path().join("texts").join(&names[1]), second);
        let at = clock.now() - chrono::Duration::milliseconds(1);
        assert_eq!(names[0], SentFiles::file_name(at, "sim-1"));
        assert!(names[0].starts_with(&at.format("%Y%m%dT%H%M%S").to_string()), "{}", names[0]);
        assert_eq!(read(&first), serde_json::json!({"to": "+16175550199", "body": "one", "at": at}));
    }

    #[tokio::test]
    async fn a_reused_id_at_the_same_instant_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let files = SentFiles::in_dir(dir.path(), Arc::new(FixedClock::midday_today()));
        let first = files.write("sim-1", &Note { to: "a", body: "one" }).await.unwrap().unwrap();
        let second = files.write("sim-1", &Note { to: "a", body: "two" }).await.unwrap().unwrap();
        assert_ne!(first, second);
        assert_eq!(read(&first)["body"], "one", "never overwritten");
        assert_eq!(read(&second)["body"], "two");
    }

    #[tokio::test]
    async fn without_a_directory_nothing_is_written() {
        let files = SentFiles::nowhere();
        assert_eq!(files.write("sim-1", &Note { to: "a", body: "one" }).await.unwrap(), None);
        assert!(files.dir().is_none());
    }

    #[test]
    fn an_id_cannot_lead_a_file_out_of_its_directory() {
        let name = SentFiles::file_name(chrono::DateTime::UNIX_EPOCH, "../../etc/passwd");
        assert_eq!(name, "19700101T000000.000000Z-______etc_passwd.json");
    }

    #[tokio::test]
    async fn a_record_that_is_not_an_object_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = SentFiles::in_dir(dir.path(), Arc::new(FixedClock::midday_today()));
        assert!(matches!(files.write("sim-1", "just a string").await, Err(SentFilesError::Encode(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }
}
