//! The batch tool: sets reason × channel cells for every person a mode and
//! filter match, writing only what changes, and answers the results grid.
//!
//! A run visits the matched people a chunk at a time; a household phone
//! cell also reaches the other members of each matched person's household
//! (they take only the household phone cells). Text is never set in batch.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::{StreamExt as _, stream};
use serde::Deserialize;

use super::grid::BatchResult;
use super::{BatchFilter, BatchMode, CONCURRENT_READS, Loaded, PreferenceService};
use crate::domain::{
    CellAction, CellOutcome, Channel, ContactReason, DomainError, PersonId, PreferenceDefaults, PreferenceRecord,
    PreferenceSource, Principal, Setting, batch_outcome,
};
use crate::ports::table::BatchOp;
use crate::services::ServiceError;
use crate::store::{ChangedCell, PreferenceChange, PreferenceStore};

/// Write operations buffered before a batch flushes them.
const BATCH_FLUSH: usize = 5_000;
/// People read per step of a batch.
const LOAD_CHUNK: usize = 512;

/// The batch tool's request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Who it reaches.
    pub mode: BatchMode,
    /// Which of them.
    #[serde(default)]
    pub filter: BatchFilter,
    /// Reason → channel → no_change / on / off.
    pub cells: BTreeMap<ContactReason, BTreeMap<Channel, CellAction>>,
    /// Leave choices people made themselves alone.
    #[serde(default)]
    pub preserve_self_set: bool,
    /// Count only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

impl BatchRequest {
    /// Consent to texts is the person's own: any text cell refuses the batch.
    fn refuse_text(&self) -> Result<(), ServiceError> {
        for (reason, channels) in &self.cells {
            if channels.contains_key(&Channel::Text) {
                return Err(DomainError::Invalid(format!(
                    "cells.{reason}.text: text messaging cannot be set in batch; consent to texts is the person's own"
                ))
                .into());
            }
        }
        Ok(())
    }

    /// Whether some cell changes the household phone (members are then reached).
    fn touches_household(&self) -> bool {
        self.cells.values().any(|c| c.get(&Channel::HouseholdPhone).is_some_and(|a| *a != CellAction::NoChange))
    }
}

impl PreferenceService {
    /// The batch tool: sets the asked cells on every matched person who has
    /// the channel, writing only what changes, and answers the results grid.
    pub async fn batch(&self, caller: &Principal, request: &BatchRequest) -> Result<BatchResult, ServiceError> {
        request.refuse_text()?;
        let people = self.batch_people(caller, request).await?;
        let now = self.clock.now();
        let defaults = self.defaults_for(&caller.district).await?;
        let mut run = BatchRun::new(self, caller, request, defaults, now, people);
        while let Some(chunk) = run.next_chunk().await? {
            for (position, person) in chunk {
                run.visit(position, &person).await?;
            }
        }
        run.finish().await
    }
}

/// One batch as it runs: who is left to visit, what was counted, and the
/// writes waiting for the next flush.
struct BatchRun<'a> {
    service: &'a PreferenceService,
    caller: &'a Principal,
    request: &'a BatchRequest,
    defaults: PreferenceDefaults,
    now: DateTime<Utc>,
    /// The matched people, then household members reached through them.
    targets: Vec<PersonId>,
    /// Everyone in `targets`, so nobody is visited twice.
    seen: BTreeSet<PersonId>,
    /// How many of `targets` the filter matched (the rest came by household).
    matched: usize,
    /// The next target to read.
    next: usize,
    touches_household: bool,
    done_households: BTreeSet<String>,
    pending: Vec<BatchOp>,
    result: BatchResult,
}

impl<'a> BatchRun<'a> {
    fn new(
        service: &'a PreferenceService,
        caller: &'a Principal,
        request: &'a BatchRequest,
        defaults: PreferenceDefaults,
        now: DateTime<Utc>,
        people: BTreeSet<PersonId>,
    ) -> Self {
        let result = BatchResult::start(people.len() as u64, &request.cells, request.dry_run);
        let targets: Vec<PersonId> = people.into_iter().collect();
        Self {
            service,
            caller,
            request,
            defaults,
            now,
            seen: targets.iter().cloned().collect(),
            matched: targets.len(),
            targets,
            next: 0,
            touches_household: request.touches_household(),
            done_households: BTreeSet::new(),
            pending: Vec::new(),
            result,
        }
    }

    /// The next chunk of targets that exist, in target order; `None` once
    /// every target (household members found meanwhile too) was read.
    /// Several reads are in flight: DynamoDB answers in milliseconds.
    async fn next_chunk(&mut self) -> Result<Option<Vec<(usize, Loaded)>>, ServiceError> {
        if self.next >= self.targets.len() {
            return Ok(None);
        }
        let end = (self.next + LOAD_CHUNK).min(self.targets.len());
        let (service, district, targets) = (self.service, &self.caller.district, &self.targets);
        let reads: Vec<(usize, Result<Option<Loaded>, ServiceError>)> = stream::iter(self.next..end)
            .map(|i| async move { (i, service.load(district, &targets[i]).await) })
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        self.next = end;
        let mut chunk = Vec::with_capacity(reads.len());
        for (i, person) in reads {
            if let Some(person) = person? {
                chunk.push((i, person));
            }
        }
        chunk.sort_by_key(|(position, _)| *position);
        Ok(Some(chunk))
    }

    /// One person: reach their household if asked, set their cells, count
    /// and stage the write.
    async fn visit(&mut self, position: usize, person: &Loaded) -> Result<(), ServiceError> {
        if !person.active {
            return Ok(());
        }
        self.reach_household(person).await?;
        // Household members reached through a matched person take only the
        // household phone cells.
        let household_only = position >= self.matched;
        let (record, changed) = self.decide(person, household_only);
        if changed.is_empty() {
            return Ok(());
        }
        self.result.people_changed += 1;
        if !self.request.dry_run {
            self.stage(&person.id, record, changed).await?;
        }
        Ok(())
    }

    /// Adds the members of the person's household to the targets, once per household.
    async fn reach_household(&mut self, person: &Loaded) -> Result<(), ServiceError> {
        let new_household =
            person.household.clone().filter(|h| self.touches_household && self.done_households.insert(h.clone()));
        if let Some(household) = new_household {
            for member in self.service.people.household_members(&self.caller.district, &household).await? {
                if self.seen.insert(member.clone()) {
                    self.targets.push(member);
                }
            }
        }
        Ok(())
    }

    /// The person's record with the asked cells set and the cells that
    /// changed; counts changes and self-set choices into the result.
    fn decide(&mut self, person: &Loaded, household_only: bool) -> (PreferenceRecord, Vec<ChangedCell>) {
        let mut record = person.record.clone();
        let mut changed = Vec::new();
        for (reason, channels) in &self.request.cells {
            for (channel, action) in channels {
                if !person.channels.contains(channel) || (household_only && *channel != Channel::HouseholdPhone) {
                    continue;
                }
                let current = record.effective(&self.defaults, *channel, *reason);
                match batch_outcome(*action, &current, self.request.preserve_self_set) {
                    CellOutcome::Unchanged => {}
                    CellOutcome::PreservedSelfSet => self.result.self_set_preserved += 1,
                    CellOutcome::Changed { overwrote_self } => {
                        let on = *action == CellAction::On;
                        let setting = Setting {
                            on,
                            source: PreferenceSource::Batch,
                            updated_at: self.now,
                            by: self.caller.subject.clone(),
                        };
                        record.settings.entry(*channel).or_default().insert(*reason, setting);
                        changed.push(ChangedCell { channel: *channel, reason: *reason, from: current.on, to: on });
                        self.result.self_set_overwritten += u64::from(overwrote_self);
                        self.result.count_changed(*reason, *channel);
                    }
                }
            }
        }
        (record, changed)
    }

    /// Buffers the person's record and audit entry, flushing a full buffer.
    async fn stage(
        &mut self,
        person: &PersonId,
        mut record: PreferenceRecord,
        changed: Vec<ChangedCell>,
    ) -> Result<(), ServiceError> {
        record.version += 1;
        let change = PreferenceChange {
            at: self.now,
            by: self.caller.subject.clone(),
            source: PreferenceSource::Batch,
            cells: changed,
        };
        let district = &self.caller.district;
        self.pending.extend(PreferenceStore::write_ops(
            district,
            person,
            &record,
            &change,
            &self.service.ids.next_id(),
        )?);
        if self.pending.len() >= BATCH_FLUSH {
            self.service.store.save_many(std::mem::take(&mut self.pending)).await?;
        }
        Ok(())
    }

    /// Writes what is still buffered and answers the grid.
    async fn finish(self) -> Result<BatchResult, ServiceError> {
        if !self.pending.is_empty() {
            self.service.store.save_many(self.pending).await?;
        }
        let result = self.result;
        tracing::info!(district = %self.caller.district, matched = result.matched_people, changed = result.people_changed, dry_run = self.request.dry_run, "preference batch finished");
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, guardian};
    use super::super::{GridCell, PreferencesUpdate};
    use super::*;

    fn request(mode: BatchMode, reason: ContactReason, cells: &[(Channel, CellAction)]) -> BatchRequest {
        BatchRequest {
            mode,
            filter: BatchFilter::default(),
            cells: BTreeMap::from([(reason, cells.iter().copied().collect())]),
            preserve_self_set: false,
            dry_run: false,
        }
    }

    fn count(result: &BatchResult, reason: ContactReason, channel: Channel) -> GridCell {
        result.grid[&reason][&channel]
    }

    async fn on(world: &World, person: &str, channel: Channel, reason: ContactReason) -> bool {
        let view = world.service.view(&admin(), person).await.unwrap();
        view.channels[&channel][&reason].on
    }

    #[tokio::test]
    async fn a_batch_dry_run_changes_nothing() {
        let world = World::new().await;
        let mut off = request(BatchMode::Students, ContactReason::General, &[(Channel::Email, CellAction::Off)]);
        off.dry_run = true;
        let before = world.stats().items_written;
        let result = world.service.batch(&admin(), &off).await.unwrap();
        assert_eq!((result.matched_people, result.people_changed, result.dry_run), (3, 2, true), "st-3 has no email");
        assert_eq!(count(&result, ContactReason::General, Channel::Email), GridCell::Changed(2));
        assert_eq!(world.stats().items_written, before, "a dry run writes nothing");
        assert!(on(&world, "st-1", Channel::Email, ContactReason::General).await);
    }

    #[tokio::test]
    async fn a_batch_rerun_writes_nothing() {
        let world = World::new().await;
        let calls =
            request(BatchMode::StudentContacts, ContactReason::Behavior, &[(Channel::CellPhone, CellAction::On)]);
        let first = world.service.batch(&admin(), &calls).await.unwrap();
        assert_eq!((first.matched_people, first.people_changed), (2, 2), "g-1 and g-3, the messengers");
        assert_eq!(count(&first, ContactReason::Behavior, Channel::CellPhone), GridCell::Changed(2));
        assert!(on(&world, "g-3", Channel::CellPhone, ContactReason::Behavior).await);
        let before = world.stats().items_written;
        let again = world.service.batch(&admin(), &calls).await.unwrap();
        assert_eq!(
            (again.people_changed, count(&again, ContactReason::Behavior, Channel::CellPhone)),
            (0, GridCell::Changed(0))
        );
        assert_eq!(world.stats().items_written, before, "a rerun writes nothing");
    }

    #[tokio::test]
    async fn preserve_self_set_leaves_a_self_set_preference() {
        let world = World::new().await;
        let own = PreferencesUpdate {
            channels: BTreeMap::from([(Channel::Email, BTreeMap::from([(ContactReason::General, false)]))]),
            consent: None,
        };
        world.service.update(&guardian("g-1"), "g-1", &own).await.unwrap();
        let mut email =
            request(BatchMode::StudentContacts, ContactReason::General, &[(Channel::Email, CellAction::On)]);
        email.preserve_self_set = true;
        let kept = world.service.batch(&admin(), &email).await.unwrap();
        assert_eq!((kept.self_set_preserved, kept.self_set_overwritten, kept.people_changed), (1, 0, 0));
        assert!(!on(&world, "g-1", Channel::Email, ContactReason::General).await, "her own choice stays");
        email.preserve_self_set = false;
        let overwritten = world.service.batch(&admin(), &email).await.unwrap();
        assert_eq!((overwritten.self_set_preserved, overwritten.self_set_overwritten), (0, 1));
        assert!(on(&world, "g-1", Channel::Email, ContactReason::General).await);
    }

    #[tokio::test]
    async fn household_members_of_matched_people_take_only_the_household_phone_cells() {
        let world = World::new().await;
        let cells = [(Channel::HouseholdPhone, CellAction::On), (Channel::Email, CellAction::Off)];
        let mut both = request(BatchMode::StudentContacts, ContactReason::General, &cells);
        both.filter.grade = Some("05".into());
        let result = world.service.batch(&admin(), &both).await.unwrap();
        assert_eq!(result.matched_people, 1, "g-1 only; g-2 is not a messenger");
        assert_eq!(count(&result, ContactReason::General, Channel::HouseholdPhone), GridCell::Changed(2));
        assert_eq!(count(&result, ContactReason::General, Channel::Email), GridCell::Changed(1), "st-1's email stays");
        assert!(on(&world, "g-2", Channel::HouseholdPhone, ContactReason::General).await);
        assert!(on(&world, "st-1", Channel::Email, ContactReason::General).await);
        let history = world.service.history(&admin(), "g-2", 10).await.unwrap();
        assert_eq!(history.iter().map(|c| c.source).collect::<Vec<_>>(), [PreferenceSource::Batch]);
    }

    #[tokio::test]
    async fn text_cannot_be_set_in_batch() {
        let world = World::new().await;
        let texts =
            request(BatchMode::StudentContacts, ContactReason::General, &[(Channel::Text, CellAction::NoChange)]);
        let refused = world.service.batch(&admin(), &texts).await;
        assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{refused:?}");
    }
}
