//! Applying one file for a run: read it whole, diff it against the last
//! snapshot, hold it (or refuse a stale approval), or mark the run
//! `running`, write the changes (and the SIS's word on text consent of the
//! people written), then the new snapshot.

use std::collections::HashSet;
use std::time::Instant;

use bytes::Bytes;

use super::lease::HeldLease;
use super::records::{PersonRemoval, RecordRef, RecordSet, person_of, remove_record, students_without_messenger};
use super::{ImportService, snapshot_key};
use crate::domain::{
    Changes, DistrictId, IMPORT_CONSENT, ImportDefinition, ImportId, ImportRun, ImportStatus, MAX_REPORTED_ROWS,
    PersonId, PreferenceSource, RunState, Snapshot, TextConsent, diff, hold_reason, stale_reason,
};
use crate::services::ServiceError;
use crate::services::preferences::{ConsentAuthor, ConsentRecorder, ConsentWord};

/// What a run checks between its diff and its writes.
pub(super) enum Check {
    /// Hold it if it removes too much.
    Hold,
    /// Refuse it if it no longer is the held run that was reviewed.
    Stale(Box<ImportRun>),
    /// Nothing: it is a run that stopped midway, already decided, being
    /// finished (its counts stay those it recorded).
    Finish,
}

/// Records a run writes between checks of its lease.
const RECORDS_BETWEEN_LEASE_CHECKS: usize = 5_000;

impl ImportService {
    /// Reads, diffs, checks and applies one file for `run`; with
    /// `rewrite_all`, every record is written again (the data may differ
    /// from the snapshot).
    pub(super) async fn run_file(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        mut run: ImportRun,
        content: Bytes,
        (check, rewrite_all): (Check, bool),
        lease: &mut HeldLease,
    ) -> Result<ImportRun, ServiceError> {
        let clock = Instant::now();
        let outcome = match self.read(definition, &run.file_key, &content) {
            Ok(outcome) => outcome,
            Err(ServiceError::FileRejected(rejected)) => {
                run.state = RunState::Rejected;
                run.rejected_total = rejected.problems.len() as u64;
                run.rejected = rejected.problems.into_iter().take(MAX_REPORTED_ROWS).collect();
                return self.finish(district, definition, run, clock, ImportStatus::Failed).await;
            }
            Err(other) => return Err(other),
        };
        drop(content);
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), "import file read");
        run.rejected_total = outcome.rejected_total;
        run.rejected = outcome.rejected.iter().take(MAX_REPORTED_ROWS).cloned().collect();
        run.warnings.extend(outcome.warnings.iter().cloned());
        run.students_without_messenger = students_without_messenger(&outcome.roster);

        let previous = self.snapshot(district, &definition.id).await?;
        let base = previous.fingerprint();
        let records = RecordSet::of(&outcome.roster, &previous);
        let hashes = records.hashes();
        let mut changes = diff(&previous, &hashes, &records.modes, &records.deleted);
        if rewrite_all {
            changes = changes.rewriting_all(&hashes);
        }
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), upserts = changes.upserts.len(), "diffed");
        match check {
            Check::Hold => {
                run.counts = changes.counts.clone();
                run.base = Some(base);
                if let Some(reason) = hold_reason(&previous, &changes.counts, definition.hold_threshold_percent) {
                    tracing::warn!(%district, import = %definition.id, %reason, "import run held");
                    run.state = RunState::Held;
                    run.hold_reason = Some(reason);
                    return self.finish(district, definition, run, clock, ImportStatus::Held).await;
                }
            }
            Check::Stale(held) => {
                let hash = run.file_hash.clone().unwrap_or_default();
                if let Some(reason) = stale_reason(&held, &hash, &base, &changes.counts) {
                    return Err(ServiceError::Conflict(format!(
                        "stale: run `{}` cannot be approved as it was reviewed: {reason}; discard it and run the import again",
                        held.id
                    )));
                }
                run.counts = changes.counts.clone();
                run.base = Some(base);
            }
            Check::Finish => {}
        }
        if !changes.upserts.is_empty() || !changes.removals.is_empty() {
            // From here a death leaves this record `running`: the next run
            // under the lease finds it and finishes it before anything else.
            run.state = RunState::Running;
            self.store.save_run(district, &run).await?;
            self.keep(lease).await?;
            self.apply(district, &definition.id, &records, &changes, &previous, lease).await?;
            tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), "changes applied");
            self.keep(lease).await?;
        }
        self.files.put(&snapshot_key(district, &definition.id), Bytes::from(changes.next.encode())).await?;
        definition.last_run = Some(self.clock.now());
        run.state = RunState::Applied;
        self.finish(district, definition, run, clock, ImportStatus::Ok).await
    }

    pub(super) async fn finish(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        mut run: ImportRun,
        clock: Instant,
        status: ImportStatus,
    ) -> Result<ImportRun, ServiceError> {
        run.finished_at = self.clock.now();
        run.seconds = clock.elapsed().as_secs_f64();
        definition.status = status;
        self.store.save_run(district, &run).await?;
        self.store.save(district, definition).await?;
        let written: u64 = run.counts.named().iter().map(|(_, c)| c.writes()).sum();
        tracing::info!(%district, import = %definition.id, run = %run.id, state = %run.state, written, rejected = run.rejected_total, seconds = run.seconds, "import run finished");
        Ok(run)
    }

    /// Writes new and changed records, then removes what left the source
    /// (a person still there under another role stays). A person's record
    /// replaces what is stored of them (contact points and schools the file
    /// does not list go), whether it is new to this import or not: a person
    /// who left and came back, or whom staff or another import entered,
    /// keeps nothing stale.
    async fn apply(
        &self,
        district: &DistrictId,
        import: &ImportId,
        records: &RecordSet<'_>,
        changes: &Changes,
        previous: &Snapshot,
        lease: &mut HeldLease,
    ) -> Result<(), ServiceError> {
        let mut writer = self.stores.roster_writer(district.clone(), import.clone());
        let new_people: Vec<PersonId> = changes
            .upserts
            .iter()
            .filter(|key| !previous.0.contains_key(*key))
            .filter_map(|key| person_of(key))
            .collect();
        let stored: HashSet<PersonId> = writer.stored_people(&new_people).await?;
        for (done, key) in changes.upserts.iter().enumerate() {
            let Some((_, record)) = records.records.get(key) else { continue };
            let replace = previous.0.contains_key(key) || person_of(key).is_some_and(|id| stored.contains(&id));
            record.write(&mut writer, replace).await?;
            if done % RECORDS_BETWEEN_LEASE_CHECKS == RECORDS_BETWEEN_LEASE_CHECKS - 1 {
                self.keep(lease).await?;
            }
        }
        for key in &changes.removals {
            if !records.still_has_person(key) {
                remove_record(&mut writer, key, PersonRemoval::Deactivate).await?;
            }
        }
        writer.flush().await?;
        self.record_consents(district, import, records, changes, lease).await
    }

    /// The SIS's word on text consent, for the people this run writes (a
    /// changed consent cell changes the person's record, so it is among
    /// them; a run finished again says it again, which changes nothing):
    /// consent recorded (source `import`) unless one is, or the import's own
    /// withdrawn. Written after the people, before the snapshot, like them.
    async fn record_consents(
        &self,
        district: &DistrictId,
        import: &ImportId,
        records: &RecordSet<'_>,
        changes: &Changes,
        lease: &mut HeldLease,
    ) -> Result<(), ServiceError> {
        let words: Vec<(PersonId, ConsentWord)> = changes
            .upserts
            .iter()
            .filter_map(|key| match records.records.get(key) {
                Some((_, RecordRef::Person(person))) => person
                    .text_consent
                    .map(|given| (person.id.clone(), if given { ConsentWord::Give } else { ConsentWord::Withdraw })),
                _ => None,
            })
            .collect();
        if words.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let author = ConsentAuthor {
            consent: TextConsent { source: IMPORT_CONSENT.into(), at: now, recorded_by: import.to_string() },
            as_source: PreferenceSource::Import,
            by: import.to_string(),
            now,
            change_id: format!("import-{import}"),
        };
        let recorder = ConsentRecorder::new(&self.stores);
        let mut changed = 0;
        for group in words.chunks(RECORDS_BETWEEN_LEASE_CHECKS) {
            changed += recorder.apply(district, group, &author).await?;
            self.keep(lease).await?;
        }
        tracing::info!(%district, %import, said = words.len(), changed, "text consent from the import");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, district, id, mapped};
    use crate::domain::{ConsentChange, IMPORT_CONSENT, PreferenceRecord, PreferenceSource, TextConsent};
    use crate::ports::Clock as _;
    use crate::services::NewImport;

    const CONSENT_MAPPING: &str = r#"
        [student]
        id = "sid"
        given_name = "first"
        family_name = "last"
        [contact]
        id = "cid"
        given_name = "cfirst"
        family_name = "clast"
        cell_phone = "cell"
        text_consent = "Text Opt In"
    "#;

    const OPTED_IN: &str = "sid,first,last,cid,cfirst,clast,cell,Text Opt In
1001,Ana,Diaz,c-1,Maria,Diaz,6175550101,Y
1002,Leo,Park,c-2,Kim,Park,6175550102,Y
1003,Eva,Lee,c-3,Tom,Lee,6175550103,
";

    const OPTED_OUT: &str = "sid,first,last,cid,cfirst,clast,cell,Text Opt In
1001,Ana,Diaz,c-1,Maria,Diaz,6175550101,N
1002,Leo,Park,c-2,Kim,Park,6175550102,N
1003,Eva,Lee,c-3,Tom,Lee,6175550103,N
";

    async fn consent_of(world: &World, person: &str) -> Option<TextConsent> {
        world.stores.preferences.get(&district(), &id(person)).await.unwrap().text_consent
    }

    #[tokio::test]
    async fn the_sis_records_consent_once_and_withdraws_only_its_own() {
        let world = World::new().await;
        let new = NewImport { mapping: Some(CONSENT_MAPPING.into()), ..mapped("sis") };
        world.service.create(&admin(), new).await.unwrap();
        world.upload("sis", OPTED_IN).await;
        world.service.run(&admin(), "sis").await.unwrap();
        let maria = consent_of(&world, "c-1").await.unwrap();
        assert_eq!((maria.source.as_str(), maria.recorded_by.as_str()), (IMPORT_CONSENT, "sis"));
        assert_eq!(consent_of(&world, "c-3").await, None, "a blank cell says nothing");
        let history = world.stores.preferences.history(&district(), &id("c-1"), 10).await.unwrap();
        assert_eq!((history.len(), history[0].source), (1, PreferenceSource::Import));
        assert_eq!(history[0].text_consent, Some(ConsentChange::Recorded));

        // Kim recorded her own consent since; then the SIS says no for everyone.
        let own = TextConsent { source: "self".into(), at: world.clock.now(), recorded_by: "c-2".into() };
        let record = PreferenceRecord { text_consent: Some(own.clone()), version: 2, ..PreferenceRecord::default() };
        let change = crate::store::PreferenceChange {
            at: world.clock.now(),
            by: "c-2".into(),
            source: PreferenceSource::SelfSet,
            cells: vec![],
            text_consent: None,
        };
        world.stores.preferences.save(&district(), &id("c-2"), &record, &change, "own").await.unwrap();
        world.clock.advance(chrono::Duration::days(1));
        world.upload("sis", OPTED_OUT).await;
        world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(consent_of(&world, "c-1").await, None, "the SIS withdraws its own");
        assert_eq!(consent_of(&world, "c-2").await, Some(own), "never the person's own");
        assert_eq!(consent_of(&world, "c-3").await, None);
    }

    #[tokio::test]
    async fn a_held_run_records_no_consent_until_it_is_approved() {
        let world = World::new().await;
        let new = NewImport { mapping: Some(CONSENT_MAPPING.into()), ..mapped("sis") };
        world.service.create(&admin(), new).await.unwrap();
        world.upload("sis", OPTED_IN).await;
        world.service.run(&admin(), "sis").await.unwrap();
        // Two families of three leave and Kim's cell says yes again: held.
        world
            .upload(
                "sis",
                "sid,first,last,cid,cfirst,clast,cell,Text Opt In
1001,Ana,Diaz,c-1,Maria,Diaz,6175550101,N
",
            )
            .await;
        let held = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(held.state, crate::domain::RunState::Held, "{held:?}");
        assert!(consent_of(&world, "c-1").await.is_some(), "nothing applied while held");
    }

    #[tokio::test]
    async fn a_person_new_to_the_import_keeps_only_the_contacts_and_schools_the_file_lists() {
        let world = World::new().await;
        // Ana is on file already (entered by staff, or left by an earlier
        // import): a home phone and a school the SIS no longer lists.
        let input = crate::domain::PersonInput {
            id: "1001".into(),
            role: "student".into(),
            given_name: "Ana".into(),
            family_name: "Diaz".into(),
            schools: vec!["old-school".into()],
            contacts: vec![crate::domain::ContactInput { channel: "home_phone".into(), value: "617-555-0199".into() }],
        };
        let ana = crate::domain::Person::from_input(&input, crate::domain::Region::US).unwrap();
        world.stores.people.create(&district(), &ana).await.unwrap();
        world.define_and_run("sis", World::FAMILIES).await;

        let ana = world.stores.people.get(&district(), &id("1001")).await.unwrap().unwrap();
        assert!(ana.contacts.is_empty(), "the file lists no contact point of Ana: {:?}", ana.contacts.len());
        let items = world.stores.people.partition(&district(), &id("1001")).await.unwrap();
        let schools: Vec<&str> = items
            .iter()
            .filter_map(|item| item.get("sk").and_then(serde_json::Value::as_str))
            .filter(|sk| sk.starts_with("SCHOOL#"))
            .collect();
        assert_eq!(schools, ["SCHOOL#lincoln"]);
    }
}
