//! Import definitions, runs, the lease one run of an import holds at a
//! time, and (in `changes`) the snapshot, the diff and the hold rule.

mod changes;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use changes::{Changes, Snapshot, diff, hold_reason};

use super::named_enum::named_enum;
use super::{ImportId, RejectedRow};

named_enum!(
    /// How an import reads its file.
    ImportMethod, "import method" {
        /// OneRoster 1.1/1.2 CSV, a folder or a zip.
        OneRoster => "oneroster",
        /// A flat CSV with a column mapping.
        Mapped => "mapped",
    }
);

named_enum!(
    /// What starts a run.
    ImportTrigger, "import trigger" {
        /// Only a person (API "run now", CLI).
        Manual => "manual",
        /// Every uploaded file (S3 ObjectCreated, or a local upload).
        OnUpload => "on_upload",
        /// A schedule (the `schedule` field); also runs on demand.
        Scheduled => "scheduled",
    }
);

named_enum!(
    /// Where an import stands.
    ImportStatus, "import status" {
        /// Defined, never run.
        New => "new",
        /// The last run was applied.
        Ok => "ok",
        /// The last run is held for review.
        Held => "held",
        /// The last file could not be imported.
        Failed => "failed",
    }
);

named_enum!(
    /// How a run ended.
    RunState, "run state" {
        /// Its changes were written.
        Applied => "applied",
        /// It would remove too much; waiting for an admin.
        Held => "held",
        /// An admin discarded the held run.
        Discarded => "discarded",
        /// The file could not be imported at all.
        Rejected => "rejected",
        /// Its changes are being written. A run found in this state by
        /// another run (which holds the lease) stopped midway, and is
        /// finished before anything else is applied.
        Running => "running",
    }
);

/// Default share of an entity's records a run may remove before it is held.
pub const DEFAULT_HOLD_THRESHOLD_PERCENT: f64 = 10.0;

/// A named import: where a district's data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportDefinition {
    /// The import's id (its name, as an id).
    pub id: ImportId,
    /// OneRoster or mapped CSV.
    pub method: ImportMethod,
    /// What starts a run.
    pub trigger: ImportTrigger,
    /// For scheduled imports: when (e.g. `daily 02:00`), in the district's time zone.
    #[serde(default)]
    pub schedule: Option<String>,
    /// For mapped imports: a preset name (`schoolmessenger`, `clever`) or a TOML mapping.
    #[serde(default)]
    pub mapping: Option<String>,
    /// Percent of an entity's records a run may remove before it is held.
    pub hold_threshold_percent: f64,
    /// When the last file arrived.
    #[serde(default)]
    pub file_date: Option<DateTime<Utc>>,
    /// When changes were last applied.
    #[serde(default)]
    pub last_run: Option<DateTime<Utc>>,
    /// Where it stands.
    pub status: ImportStatus,
    /// The file store key of the last uploaded file.
    #[serde(default)]
    pub file_key: Option<String>,
    /// The last schedule slot the scheduler acted on.
    #[serde(default)]
    pub last_scheduled_slot: Option<DateTime<Utc>>,
}

/// Added / updated / unchanged / removed records of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntityCounts {
    /// New records.
    pub added: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records exactly as before.
    pub unchanged: u64,
    /// Records gone (removed, or people deactivated).
    pub removed: u64,
}

impl EntityCounts {
    /// Records that will be written.
    pub fn writes(&self) -> u64 {
        self.added + self.updated + self.removed
    }
}

/// The counts of a run, per kind of record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct RunCounts {
    pub schools: EntityCounts,
    pub students: EntityCounts,
    pub guardians: EntityCounts,
    pub staff: EntityCounts,
    /// Student–guardian relationships.
    pub relationships: EntityCounts,
    pub sections: EntityCounts,
    pub enrollments: EntityCounts,
}

impl RunCounts {
    /// Each kind with its name, in report order.
    pub fn named(&self) -> [(&'static str, &EntityCounts); 7] {
        [
            ("schools", &self.schools),
            ("students", &self.students),
            ("guardians", &self.guardians),
            ("staff", &self.staff),
            ("relationships", &self.relationships),
            ("sections", &self.sections),
            ("enrollments", &self.enrollments),
        ]
    }

    /// The counts of a kind, by the kind's record-key prefix.
    pub fn of_kind_mut(&mut self, kind: RecordKind) -> &mut EntityCounts {
        match kind {
            RecordKind::School => &mut self.schools,
            RecordKind::Student => &mut self.students,
            RecordKind::Guardian => &mut self.guardians,
            RecordKind::Staff => &mut self.staff,
            RecordKind::Relationship => &mut self.relationships,
            RecordKind::Section => &mut self.sections,
            RecordKind::Enrollment => &mut self.enrollments,
        }
    }
}

/// One run of an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ImportRun {
    /// Sortable id: start time then a random suffix.
    pub id: String,
    pub import: ImportId,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (applied, held, rejected) or was decided (approved, discarded).
    pub finished_at: DateTime<Utc>,
    /// How it ended.
    pub state: RunState,
    /// Why it is held.
    #[serde(default)]
    pub hold_reason: Option<String>,
    /// What changed (or would change, for a held run).
    pub counts: RunCounts,
    /// Rows skipped, at most [`MAX_REPORTED_ROWS`] kept.
    pub rejected: Vec<RejectedRow>,
    /// How many rows were skipped in all.
    pub rejected_total: u64,
    /// Conformance notes.
    pub warnings: Vec<String>,
    /// Students with no messenger contact after this run (count).
    pub students_without_messenger: u64,
    /// The file it read.
    pub file_key: String,
    /// The content hash of that file (hex): with the key, which file this
    /// run took, so the same file arriving twice is not run twice, and an
    /// approval knows the file did not change under it.
    #[serde(default)]
    pub file_hash: Option<String>,
    /// The fingerprint of the snapshot it was diffed against: an approval
    /// applies a held run only if the import's data is still what it was.
    #[serde(default)]
    pub base: Option<String>,
    /// Seconds it took.
    pub seconds: f64,
}

/// Most rejected rows a run keeps in its record (the rest are counted).
pub const MAX_REPORTED_ROWS: usize = 500;

/// The kinds of record an import writes, each with a key prefix in snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// `O:` schools.
    School,
    /// `P:` students.
    Student,
    /// `G:` guardians.
    Guardian,
    /// `T:` staff.
    Staff,
    /// `R:` relationships.
    Relationship,
    /// `S:` sections.
    Section,
    /// `E:` enrollments.
    Enrollment,
}

impl RecordKind {
    /// Every kind, in apply order (parents before children).
    pub const ALL: [RecordKind; 7] = [
        RecordKind::School,
        RecordKind::Student,
        RecordKind::Guardian,
        RecordKind::Staff,
        RecordKind::Section,
        RecordKind::Relationship,
        RecordKind::Enrollment,
    ];

    /// The one-letter snapshot prefix.
    pub fn prefix(self) -> char {
        match self {
            RecordKind::School => 'O',
            RecordKind::Student => 'P',
            RecordKind::Guardian => 'G',
            RecordKind::Staff => 'T',
            RecordKind::Relationship => 'R',
            RecordKind::Section => 'S',
            RecordKind::Enrollment => 'E',
        }
    }

    /// The kind of a snapshot key.
    pub fn of_key(key: &str) -> Option<RecordKind> {
        let prefix = key.chars().next()?;
        RecordKind::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }

    /// The snapshot key of a record id of this kind.
    pub fn key(self, id: &str) -> String {
        format!("{}:{id}", self.prefix())
    }
}

/// How long a run holds its import's lease without renewing it. Longer
/// than a Lambda may live (15 min), so a lease only expires on a run that
/// died (or stalled); a live run renews it well before.
pub const IMPORT_LEASE_MINUTES: i64 = 15;

/// The right to run an import: held by one run at a time, until it ends
/// (released) or `until` passes (its holder died, and another run may take
/// over and finish what it left).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLease {
    /// The run holding it.
    pub holder: String,
    /// The file that run reads (a second arrival of it is recognised).
    pub file_key: String,
    /// When it lapses unless renewed.
    pub until: DateTime<Utc>,
}

impl ImportLease {
    /// A lease for `holder` from `now` for [`IMPORT_LEASE_MINUTES`].
    pub fn new(holder: impl Into<String>, file_key: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self { holder: holder.into(), file_key: file_key.into(), until: now + lease_length() }
    }

    /// Whether its holder may still be running at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }

    /// Whether its holder should renew it at `now`: a third of its length
    /// has passed, so a renewal comes long before it could lapse.
    pub fn needs_renewal(&self, now: DateTime<Utc>) -> bool {
        self.until - now <= lease_length() * 2 / 3
    }

    /// The same lease, renewed at `now`.
    pub fn renewed(&self, now: DateTime<Utc>) -> Self {
        Self { until: now + lease_length(), ..self.clone() }
    }
}

fn lease_length() -> chrono::Duration {
    chrono::Duration::minutes(IMPORT_LEASE_MINUTES)
}

/// Which run took a file: the key and the content hash it had then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRun {
    /// The file store key.
    pub file_key: String,
    /// Its content hash (hex), as [`ImportRun::file_hash`].
    pub file_hash: String,
    /// The run that took it.
    pub run: String,
}

/// The hex content hash of a file, as runs record it.
pub fn file_hash(content: &[u8]) -> String {
    format!("{:016x}", Snapshot::hash(content))
}

/// Why a held run may no longer be applied as it was reviewed, if so: its
/// file, the data it was diffed against, or what it would change differ now.
pub fn stale_reason(held: &ImportRun, file_hash: &str, base: &str, counts: &RunCounts) -> Option<&'static str> {
    if held.file_hash.as_deref().is_some_and(|hash| hash != file_hash) {
        Some("its file changed since it was held")
    } else if held.base.as_deref().is_some_and(|held_base| held_base != base) {
        Some("the import's data changed since it was held")
    } else if held.counts != *counts {
        Some("what it would change is not what was reviewed")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn a_lease_lapses_after_its_length_and_asks_for_renewal_a_third_of_the_way() {
        let lease = ImportLease::new("run-1", "imports/d/i/f.csv", at(0));
        assert!(lease.is_live(at(IMPORT_LEASE_MINUTES - 1)));
        assert!(!lease.is_live(at(IMPORT_LEASE_MINUTES)));
        assert!(!lease.needs_renewal(at(4)));
        assert!(lease.needs_renewal(at(5)));
        assert_eq!(lease.renewed(at(5)).until, at(5 + IMPORT_LEASE_MINUTES));
    }

    fn held() -> ImportRun {
        ImportRun {
            id: "r".into(),
            import: ImportId::parse("sis").unwrap(),
            started_at: at(0),
            finished_at: at(0),
            state: RunState::Held,
            hold_reason: None,
            counts: RunCounts::default(),
            rejected: vec![],
            rejected_total: 0,
            warnings: vec![],
            students_without_messenger: 0,
            file_key: "k".into(),
            file_hash: Some("f".into()),
            base: Some("b".into()),
            seconds: 0.0,
        }
    }

    #[test]
    fn a_held_run_is_stale_when_its_file_its_base_or_its_change_differ() {
        let counts = RunCounts::default();
        assert_eq!(stale_reason(&held(), "f", "b", &counts), None);
        assert!(stale_reason(&held(), "g", "b", &counts).is_some_and(|r| r.contains("file")));
        assert!(stale_reason(&held(), "f", "c", &counts).is_some_and(|r| r.contains("data")));
        let mut other = counts.clone();
        other.students.removed = 1;
        assert!(stale_reason(&held(), "f", "b", &other).is_some());
        let unknown = ImportRun { file_hash: None, base: None, ..held() };
        assert_eq!(stale_reason(&unknown, "x", "y", &counts), None, "older records compare their change only");
    }
}
