//! The snapshot of an import's records and the pure rules over it: the
//! diff of a roster against the previous run's snapshot, the counts it
//! reports, and the hold rule that stops a file from removing an abnormal
//! share of records.

use std::collections::{BTreeMap, HashMap};

use super::{RecordKind, RunCounts};
use crate::domain::FileMode;

/// The content hash of every record an import brought in, by snapshot key.
/// Stored after each applied run; the next run diffs against it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(pub BTreeMap<String, u64>);

impl Snapshot {
    /// A stable 64-bit hash of a record's serialized content.
    pub fn hash(bytes: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64(bytes)
    }

    /// Text form: one `key<TAB>hash` line each, sorted.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.0.len() * 40);
        for (key, hash) in &self.0 {
            out.push_str(key);
            out.push('\t');
            out.push_str(&format!("{hash:016x}"));
            out.push('\n');
        }
        out
    }

    /// Parses the text form; `None` if it is corrupt (the caller then
    /// treats every record as new, which converges).
    pub fn decode(text: &str) -> Option<Self> {
        let mut map = BTreeMap::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let (key, hash) = line.split_once('\t')?;
            map.insert(key.to_string(), u64::from_str_radix(hash, 16).ok()?);
        }
        Some(Self(map))
    }

    /// A fingerprint of the whole snapshot (hex): equal fingerprints, equal data.
    pub fn fingerprint(&self) -> String {
        format!("{:016x}", Self::hash(self.encode().as_bytes()))
    }

    /// Records of a kind.
    pub fn count(&self, kind: RecordKind) -> u64 {
        let prefix = format!("{}:", kind.prefix());
        self.0.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count() as u64
    }
}

/// What a run changes, record by record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Changes {
    /// Keys of new or changed records to write.
    pub upserts: Vec<String>,
    /// Keys of records to remove (or deactivate, for people).
    pub removals: Vec<String>,
    pub counts: RunCounts,
    /// The snapshot after the run.
    pub next: Snapshot,
}

/// Diffs the records a file brings (key → hash, with each kind's file mode
/// and delta deletions) against the previous snapshot.
pub fn diff(
    previous: &Snapshot,
    incoming: &HashMap<String, u64>,
    modes: &HashMap<RecordKind, FileMode>,
    deleted: &[String],
) -> Changes {
    let mut changes = Changes { next: previous.clone(), ..Changes::default() };
    for (key, hash) in incoming {
        let Some(kind) = RecordKind::of_key(key) else { continue };
        let counts = changes.counts.of_kind_mut(kind);
        match previous.0.get(key) {
            Some(old) if old == hash => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                changes.upserts.push(key.clone());
            }
            None => {
                counts.added += 1;
                changes.upserts.push(key.clone());
            }
        }
        changes.next.0.insert(key.clone(), *hash);
    }
    for key in previous.0.keys() {
        let Some(kind) = RecordKind::of_key(key) else { continue };
        let mode = modes.get(&kind).copied().unwrap_or(FileMode::Absent);
        let gone = match mode {
            FileMode::Bulk => !incoming.contains_key(key),
            FileMode::Delta => deleted.contains(key) && !incoming.contains_key(key),
            FileMode::Absent => false,
        };
        if gone {
            changes.counts.of_kind_mut(kind).removed += 1;
            changes.removals.push(key.clone());
            changes.next.0.remove(key);
        }
    }
    changes.upserts.sort_unstable_by(|a, b| apply_order(a).cmp(&apply_order(b)));
    changes.removals.sort_unstable_by(|a, b| apply_order(b).cmp(&apply_order(a)));
    changes
}

impl Changes {
    /// The same change, but writing every incoming record again: for when
    /// the stored data may differ from the snapshot (a run stopped midway
    /// and could not be finished).
    pub fn rewriting_all(mut self, incoming: &HashMap<String, u64>) -> Self {
        self.upserts = incoming.keys().cloned().collect();
        self.upserts.sort_unstable_by(|a, b| apply_order(a).cmp(&apply_order(b)));
        self
    }
}

fn apply_order(key: &str) -> (usize, &str) {
    let position = RecordKind::of_key(key).and_then(|kind| RecordKind::ALL.iter().position(|k| *k == kind));
    (position.unwrap_or(usize::MAX), key)
}

/// Why a run must be held, if it must: some kind would lose more than
/// `threshold_percent` of the records the import had of it.
pub fn hold_reason(previous: &Snapshot, counts: &RunCounts, threshold_percent: f64) -> Option<String> {
    let kinds = [
        (RecordKind::Student, "students"),
        (RecordKind::Guardian, "guardians"),
        (RecordKind::Staff, "staff"),
        (RecordKind::Relationship, "relationships"),
        (RecordKind::Enrollment, "enrollments"),
        (RecordKind::Section, "sections"),
        (RecordKind::School, "schools"),
    ];
    let mut reasons = Vec::new();
    let mut counts = counts.clone();
    for (kind, name) in kinds {
        let before = previous.count(kind);
        let removed = counts.of_kind_mut(kind).removed;
        if before > 0 && removed > 0 {
            let share = removed as f64 * 100.0 / before as f64;
            if share > threshold_percent {
                reasons.push(format!("would remove {removed} of {before} {name} ({share:.1}%)"));
            }
        }
    }
    (!reasons.is_empty()).then(|| format!("{}, above the {threshold_percent}% threshold", reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntityCounts;

    fn snapshot(pairs: &[(&str, u64)]) -> Snapshot {
        Snapshot(pairs.iter().map(|(k, h)| ((*k).to_string(), *h)).collect())
    }

    fn incoming(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
        pairs.iter().map(|(k, h)| ((*k).to_string(), *h)).collect()
    }

    fn bulk() -> HashMap<RecordKind, FileMode> {
        RecordKind::ALL.into_iter().map(|k| (k, FileMode::Bulk)).collect()
    }

    #[test]
    fn an_unchanged_file_changes_nothing() {
        let before = snapshot(&[("P:1", 10), ("G:2", 20), ("R:1>2", 30)]);
        let changes = diff(&before, &incoming(&[("P:1", 10), ("G:2", 20), ("R:1>2", 30)]), &bulk(), &[]);
        assert!(changes.upserts.is_empty() && changes.removals.is_empty());
        assert_eq!(changes.counts.students.unchanged, 1);
        assert_eq!(changes.next, before);
    }

    #[test]
    fn bulk_removes_what_is_missing_and_delta_only_what_it_deletes() {
        let before = snapshot(&[("P:1", 10), ("P:2", 20), ("P:3", 30)]);
        let changes = diff(&before, &incoming(&[("P:1", 11), ("P:4", 40)]), &bulk(), &[]);
        assert_eq!(changes.counts.students, EntityCounts { added: 1, updated: 1, unchanged: 0, removed: 2 });
        let delta = HashMap::from([(RecordKind::Student, FileMode::Delta)]);
        let changes = diff(&before, &incoming(&[("P:4", 40)]), &delta, &["P:2".to_string()]);
        assert_eq!(changes.counts.students, EntityCounts { added: 1, updated: 0, unchanged: 0, removed: 1 });
        assert!(changes.next.0.contains_key("P:1") && !changes.next.0.contains_key("P:2"));
    }

    #[test]
    fn an_absent_file_leaves_its_records_alone() {
        let before = snapshot(&[("E:1", 10)]);
        let changes = diff(&before, &incoming(&[]), &HashMap::new(), &[]);
        assert!(changes.removals.is_empty());
        assert_eq!(changes.next, before);
    }

    #[test]
    fn removals_beyond_the_threshold_hold_the_run() {
        let before = Snapshot((0..20).map(|i| (format!("P:{i:02}"), 1)).collect());
        let keep: HashMap<String, u64> = before.0.keys().take(17).map(|k| (k.clone(), 1)).collect();
        let changes = diff(&before, &keep, &bulk(), &[]);
        let reason = hold_reason(&before, &changes.counts, 10.0);
        assert_eq!(reason.as_deref(), Some("would remove 3 of 20 students (15.0%), above the 10% threshold"));
        assert_eq!(hold_reason(&before, &changes.counts, 20.0), None);
    }

    #[test]
    fn upserts_run_parents_first_and_removals_children_first() {
        let changes =
            diff(&Snapshot::default(), &incoming(&[("E:1", 1), ("P:1", 1), ("R:1>2", 1), ("O:1", 1)]), &bulk(), &[]);
        assert_eq!(changes.upserts, ["O:1", "P:1", "R:1>2", "E:1"]);
    }

    #[test]
    fn rewriting_all_writes_every_incoming_record_parents_first() {
        let before = snapshot(&[("P:1", 1), ("O:1", 1)]);
        let incoming = incoming(&[("P:1", 1), ("O:1", 1), ("E:1", 1)]);
        let changes = diff(&before, &incoming, &bulk(), &[]).rewriting_all(&incoming);
        assert_eq!(changes.upserts, ["O:1", "P:1", "E:1"]);
        assert_eq!(changes.counts.students.unchanged, 1, "the counts still say what changed");
    }

    #[test]
    fn a_fingerprint_changes_with_any_record() {
        let before = snapshot(&[("P:1", 1)]);
        assert_eq!(before.fingerprint(), snapshot(&[("P:1", 1)]).fingerprint());
        assert_ne!(before.fingerprint(), snapshot(&[("P:1", 2)]).fingerprint());
    }

    #[test]
    fn snapshots_round_trip_their_text_form() {
        let before = snapshot(&[("P:1", u64::MAX), ("R:a>b", 0)]);
        assert_eq!(Snapshot::decode(&before.encode()), Some(before));
        assert_eq!(Snapshot::decode("P:1\tnot-hex\n"), None);
    }
}
