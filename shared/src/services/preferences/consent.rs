//! Text consent that nobody types into a preference screen: the SIS's
//! consent column (an import records or withdraws it) and a text saying YES
//! (the person records it). The rules are the record's own
//! ([`PreferenceRecord::record_consent`], [`PreferenceRecord::withdraw_consent`]):
//! the first consent stays, and the SIS withdraws only its own. Each change
//! is written with its audit entry, from the version it was read at, so a
//! person's own change made meanwhile is never overwritten unseen.

use chrono::{DateTime, Utc};
use futures::{StreamExt as _, stream};

use super::CONCURRENT_READS;
use crate::domain::{ConsentChange, DistrictId, PersonId, PreferenceRecord, PreferenceSource, TextConsent};
use crate::services::ServiceError;
use crate::store::{
    GroupSave, MAX_GROUP_WRITES, PreferenceChange, PreferenceStore, PreferenceWrite, StoreError, Stores,
};

/// Reads and saves lost to concurrent changes before a group gives up.
const SAVE_ATTEMPTS: usize = 3;

/// What a source says of one person's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentWord {
    /// Consent given: recorded unless one is.
    Give,
    /// The source's own consent withdrawn (never another source's).
    Withdraw,
}

/// Who records consent, and when: the consent itself and its audit entry.
#[derive(Debug, Clone)]
pub struct ConsentAuthor {
    /// The consent recorded for a [`ConsentWord::Give`] (its `source` is
    /// also the one a [`ConsentWord::Withdraw`] takes back).
    pub consent: TextConsent,
    /// As what the audit entry says it was changed.
    pub as_source: PreferenceSource,
    /// Who the audit entry says changed it (an import id, a masked number).
    pub by: String,
    /// When.
    pub now: DateTime<Utc>,
    /// Names the audit entry, unique for the person at `now` (the import
    /// run, the inbound message), so a repeat writes the same key.
    pub change_id: String,
}

/// Records and withdraws text consent for many people at a time.
#[derive(Clone)]
pub struct ConsentRecorder {
    store: PreferenceStore,
}

impl ConsentRecorder {
    /// A recorder over the preference store.
    pub fn new(stores: &Stores) -> Self {
        Self { store: stores.preferences.clone() }
    }

    /// Applies each person's word, in groups written all or nothing;
    /// answers how many records changed. Safe to repeat: what is already
    /// so writes nothing.
    pub async fn apply(
        &self,
        district: &DistrictId,
        words: &[(PersonId, ConsentWord)],
        author: &ConsentAuthor,
    ) -> Result<usize, ServiceError> {
        let mut changed = 0;
        for group in words.chunks(MAX_GROUP_WRITES) {
            changed += self.apply_group(district, group, author).await?;
        }
        Ok(changed)
    }

    async fn apply_group(
        &self,
        district: &DistrictId,
        group: &[(PersonId, ConsentWord)],
        author: &ConsentAuthor,
    ) -> Result<usize, ServiceError> {
        for _attempt in 0..SAVE_ATTEMPTS {
            // Owned reads: the webhook's future must be `Send` for any lifetime.
            let reads: Vec<_> = group
                .iter()
                .map(|(person, _)| {
                    let (store, district, person) = (self.store.clone(), district.clone(), person.clone());
                    async move { store.get(&district, &person).await }
                })
                .collect();
            let records: Vec<Result<PreferenceRecord, StoreError>> =
                stream::iter(reads).buffered(CONCURRENT_READS).collect().await;
            let mut staged = Vec::new();
            for ((person, word), record) in group.iter().zip(records) {
                let mut record = record?;
                let change = match word {
                    ConsentWord::Give => record.record_consent(author.consent.clone()),
                    ConsentWord::Withdraw => record.withdraw_consent(&author.consent.source),
                };
                if change.is_some() {
                    record.version += 1;
                    staged.push((person, record, audit(author, change)));
                }
            }
            let writes: Vec<PreferenceWrite<'_>> = staged
                .iter()
                .map(|(person, record, change)| PreferenceWrite {
                    person,
                    record,
                    change,
                    change_id: &author.change_id,
                })
                .collect();
            match self.store.save_all(district, &writes).await? {
                GroupSave::Saved => return Ok(writes.len()),
                GroupSave::Changed(_) => continue,
            }
        }
        Err(ServiceError::Conflict("preferences changed meanwhile; try again".into()))
    }
}

fn audit(author: &ConsentAuthor, change: Option<ConsentChange>) -> PreferenceChange {
    PreferenceChange {
        at: author.now,
        by: author.by.clone(),
        source: author.as_source,
        cells: Vec::new(),
        text_consent: change,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, district, id};
    use super::*;
    use crate::domain::{IMPORT_CONSENT, TEXT_CONSENT};

    fn author(source: &str, as_source: PreferenceSource) -> ConsentAuthor {
        let now = DateTime::UNIX_EPOCH;
        ConsentAuthor {
            consent: TextConsent { source: source.into(), at: now, recorded_by: "sis".into() },
            as_source,
            by: "sis".into(),
            now,
            change_id: format!("{source}-1"),
        }
    }

    #[tokio::test]
    async fn consent_is_recorded_once_audited_and_withdrawn_only_by_its_own_source() {
        let world = World::new().await;
        let recorder = ConsentRecorder::new(&world.stores);
        let import = author(IMPORT_CONSENT, PreferenceSource::Import);
        let give = [(id("g-1"), ConsentWord::Give), (id("g-3"), ConsentWord::Give)];
        assert_eq!(recorder.apply(&district(), &give, &import).await.unwrap(), 2);
        assert_eq!(recorder.apply(&district(), &give, &import).await.unwrap(), 0, "already so");
        let history = world.stores.preferences.history(&district(), &id("g-1"), 10).await.unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(
            (history[0].source, history[0].text_consent),
            (PreferenceSource::Import, Some(ConsentChange::Recorded))
        );

        let text = author(TEXT_CONSENT, PreferenceSource::SelfSet);
        let withdraw_text = [(id("g-1"), ConsentWord::Withdraw)];
        assert_eq!(recorder.apply(&district(), &withdraw_text, &text).await.unwrap(), 0, "not the text's consent");
        let withdraw = [(id("g-1"), ConsentWord::Withdraw)];
        assert_eq!(recorder.apply(&district(), &withdraw, &import).await.unwrap(), 1);
        let record = world.stores.preferences.get(&district(), &id("g-1")).await.unwrap();
        assert_eq!((record.text_consent, record.version), (None, 2));
    }
}
