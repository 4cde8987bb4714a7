//! The batch tool: sets reason × channel cells for every person a mode and
//! filter match, writing only what changes, and answers the results grid.
//!
//! A run visits the matched people a chunk at a time; a household phone
//! cell also reaches the other members of each matched person's household
//! (they take only the household phone cells). Text is never set in batch.
//!
//! Writes are saved a group at a time, each record on the condition that it
//! still holds the version the batch read: a person who changed their own
//! preferences meanwhile is read again and decided anew (their other cells
//! kept, their new self-set choice preserved when the batch preserves
//! those), so the batch never overwrites a change it did not see. What the
//! results grid counts is what was written.

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
use crate::services::ServiceError;
use crate::store::{ChangedCell, GroupSave, MAX_GROUP_WRITES, PreferenceChange, PreferenceWrite};

/// People read per step of a batch.
const LOAD_CHUNK: usize = 512;
/// People whose writes wait for a save: several groups, saved concurrently.
const SAVE_BUFFER: usize = 8 * MAX_GROUP_WRITES;
/// Times one person's write may find their record changed before the batch
/// gives up (a person changing their own choices faster than that is rare).
const SAVE_ATTEMPTS: usize = 3;

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
    pending: Vec<Staged>,
    result: BatchResult,
}

/// What a batch decided for one person: their record with the asked cells
/// set, the cells that changed, and the self-set choices kept or overwritten.
struct Decision {
    record: PreferenceRecord,
    changed: Vec<ChangedCell>,
    preserved: u64,
    overwritten: u64,
}

/// A person's decided change waiting to be saved, with what it needs to be
/// decided again should their record change first.
struct Staged {
    person: PersonId,
    household_only: bool,
    decision: Decision,
    change_id: String,
    attempts: usize,
}

/// A staged write after its record changed: decided again, or nothing left to write.
enum Redone {
    Write(Staged),
    Unchanged(Decision),
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

    /// One person: reach their household if asked, set their cells, and
    /// count a dry run or stage the write.
    async fn visit(&mut self, position: usize, person: &Loaded) -> Result<(), ServiceError> {
        if !person.active {
            return Ok(());
        }
        self.reach_household(person).await?;
        // Household members reached through a matched person take only the
        // household phone cells.
        let household_only = position >= self.matched;
        let decision = self.decide(person, household_only);
        if decision.changed.is_empty() || self.request.dry_run {
            self.count(&decision);
            return Ok(());
        }
        let staged = self.stage(person.id.clone(), household_only, decision, 0);
        self.pending.push(staged);
        if self.pending.len() >= SAVE_BUFFER {
            self.flush().await?;
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

    /// The person's record with the asked cells set, and what changed (pure).
    fn decide(&self, person: &Loaded, household_only: bool) -> Decision {
        let mut record = person.record.clone();
        let (mut changed, mut preserved, mut overwritten) = (Vec::new(), 0, 0);
        for (reason, channels) in &self.request.cells {
            for (channel, action) in channels {
                if !person.channels.contains(channel) || (household_only && *channel != Channel::HouseholdPhone) {
                    continue;
                }
                let current = record.effective(&self.defaults, *channel, *reason);
                match batch_outcome(*action, &current, self.request.preserve_self_set) {
                    CellOutcome::Unchanged => {}
                    CellOutcome::PreservedSelfSet => preserved += 1,
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
                        overwritten += u64::from(overwrote_self);
                    }
                }
            }
        }
        Decision { record, changed, preserved, overwritten }
    }

    /// Counts a decision into the results grid (once written, or a dry run's).
    fn count(&mut self, decision: &Decision) {
        self.result.people_changed += u64::from(!decision.changed.is_empty());
        self.result.self_set_preserved += decision.preserved;
        self.result.self_set_overwritten += decision.overwritten;
        for cell in &decision.changed {
            self.result.count_changed(cell.reason, cell.channel);
        }
    }

    /// A decision ready to save: the record's next version and an audit entry id.
    fn stage(&self, person: PersonId, household_only: bool, mut decision: Decision, attempts: usize) -> Staged {
        decision.record.version += 1;
        Staged { person, household_only, decision, change_id: self.service.ids.next_id(), attempts }
    }

    /// Saves every staged write, a group per transaction, several groups in
    /// flight, and counts what was written.
    async fn flush(&mut self) -> Result<(), ServiceError> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut groups = Vec::new();
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(MAX_GROUP_WRITES));
            groups.push(std::mem::replace(&mut pending, rest));
        }
        let this = &*self;
        let saved: Vec<Result<Vec<Decision>, ServiceError>> =
            stream::iter(groups).map(|group| this.save_group(group)).buffer_unordered(CONCURRENT_READS).collect().await;
        for decisions in saved {
            for decision in decisions? {
                self.count(&decision);
            }
        }
        Ok(())
    }

    /// Saves one group; a write whose record changed since it was read is
    /// decided again on the fresh record and the group saved again. Answers
    /// the decisions as they stand once saved.
    async fn save_group(&self, mut group: Vec<Staged>) -> Result<Vec<Decision>, ServiceError> {
        let mut settled = Vec::with_capacity(group.len());
        while !group.is_empty() {
            let changes: Vec<PreferenceChange> = group.iter().map(|staged| self.change(&staged.decision)).collect();
            let writes: Vec<PreferenceWrite<'_>> = group
                .iter()
                .zip(&changes)
                .map(|(staged, change)| PreferenceWrite {
                    person: &staged.person,
                    record: &staged.decision.record,
                    change,
                    change_id: &staged.change_id,
                })
                .collect();
            let stale = match self.service.store.save_all(&self.caller.district, &writes).await? {
                GroupSave::Saved => {
                    settled.extend(group.into_iter().map(|staged| staged.decision));
                    return Ok(settled);
                }
                GroupSave::Changed(Some(index)) => vec![index],
                GroupSave::Changed(None) => (0..group.len()).collect(),
            };
            let mut again = Vec::with_capacity(stale.len());
            for index in stale.into_iter().rev() {
                match self.redo(group.swap_remove(index)).await? {
                    Redone::Write(staged) => again.push(staged),
                    Redone::Unchanged(decision) => settled.push(decision),
                }
            }
            group.extend(again);
        }
        Ok(settled)
    }

    /// Reads a person whose record changed meanwhile and decides again.
    async fn redo(&self, staged: Staged) -> Result<Redone, ServiceError> {
        if staged.attempts + 1 >= SAVE_ATTEMPTS {
            tracing::warn!(district = %self.caller.district, person = %staged.person, "preference batch gave up on a record that kept changing");
            return Err(ServiceError::Conflict(
                "preferences kept changing while the batch ran; run it again (what it wrote stays, a rerun writes only what is left)".into(),
            ));
        }
        let unchanged =
            || Decision { record: PreferenceRecord::default(), changed: Vec::new(), preserved: 0, overwritten: 0 };
        let Some(person) = self.service.load(&self.caller.district, &staged.person).await? else {
            return Ok(Redone::Unchanged(unchanged()));
        };
        if !person.active {
            return Ok(Redone::Unchanged(unchanged()));
        }
        let decision = self.decide(&person, staged.household_only);
        if decision.changed.is_empty() {
            return Ok(Redone::Unchanged(decision));
        }
        Ok(Redone::Write(self.stage(staged.person, staged.household_only, decision, staged.attempts + 1)))
    }

    /// The audit entry of a decision.
    fn change(&self, decision: &Decision) -> PreferenceChange {
        PreferenceChange {
            at: self.now,
            by: self.caller.subject.clone(),
            source: PreferenceSource::Batch,
            cells: decision.changed.clone(),
            text_consent: None,
        }
    }

    /// Saves what is still staged and answers the grid.
    async fn finish(mut self) -> Result<BatchResult, ServiceError> {
        self.flush().await?;
        let result = self.result;
        tracing::info!(district = %self.caller.district, matched = result.matched_people, changed = result.people_changed, dry_run = self.request.dry_run, "preference batch finished");
        Ok(result)
    }
}

#[cfg(test)]
mod tests;
