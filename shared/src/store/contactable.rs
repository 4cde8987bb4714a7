//! The one reader of a person's partition for the use cases that need
//! more than the profile: fan-out (profile, contact points, guardian links,
//! preferences), personal messages and the preference service. Every
//! decoding of the profile item for them lives here.

use serde::Deserialize;

use super::keys::{CONTACT_SK_PREFIX, GUARDIAN_SK_PREFIX, PERSON_SK, person_pk};
use super::{PREFS_SK, PeopleStore, StoreError, query_stored, record_of};
use crate::domain::{ContactPoint, DistrictId, PersonId, PersonRole, PreferenceRecord, SchoolId};
use crate::ports::{Key, Query, SortKey, StoredItem};

/// People read per batch of queries ([`PeopleStore::contactables`]).
pub const CONTACTABLES_PER_BATCH: usize = 128;

/// What fan-out reads of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Contactable {
    /// The person.
    pub id: PersonId,
    /// Student, guardian or staff.
    pub role: PersonRole,
    pub given_name: String,
    pub family_name: String,
    pub schools: Vec<SchoolId>,
    /// False once an import found them gone.
    pub active: bool,
    /// Birth date as imported (`YYYY-MM-DD`).
    pub birth_date: Option<String>,
    /// The household whose shared phone settings reach them, if any.
    pub household: Option<String>,
    /// Their language as a code (`es` ...), from what the import gave.
    pub language: Option<String>,
    /// Contact points.
    pub contacts: Vec<ContactPoint>,
    /// Explicit preferences.
    pub preferences: PreferenceRecord,
    /// Guardians with their messenger flag (students).
    pub guardians: Vec<(PersonId, bool)>,
}

/// The profile item as fan-out reads it (the import writes more).
#[derive(Deserialize)]
struct ProfileRow {
    role: PersonRole,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    schools: Vec<SchoolId>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    household: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// A student's link to one guardian.
#[derive(Deserialize)]
struct GuardianRow {
    guardian: String,
    #[serde(default)]
    messenger: Option<bool>,
}

/// What fan-out needs of a person, from their partition's items.
fn contactable_from(id: &PersonId, items: Vec<StoredItem>) -> Result<Option<Contactable>, StoreError> {
    let mut found: Option<Contactable> = None;
    let mut contacts = Vec::new();
    let mut preferences = PreferenceRecord::default();
    let mut guardians = Vec::new();
    for item in &items {
        let sk = item.key.sk.as_str();
        if sk == PERSON_SK {
            let profile: ProfileRow = record_of(item)?;
            found = Some(Contactable {
                id: id.clone(),
                role: profile.role,
                given_name: profile.given_name.unwrap_or_default(),
                family_name: profile.family_name.unwrap_or_default(),
                schools: profile.schools,
                active: profile.active != Some(false),
                birth_date: profile.birth_date,
                household: profile.household,
                language: profile.language.as_deref().and_then(crate::domain::language_code),
                contacts: Vec::new(),
                preferences: PreferenceRecord::default(),
                guardians: Vec::new(),
            });
        } else if sk.starts_with(CONTACT_SK_PREFIX) {
            contacts.push(record_of::<ContactPoint>(item)?);
        } else if sk == PREFS_SK {
            preferences = record_of(item)?;
        } else if sk.starts_with(GUARDIAN_SK_PREFIX) {
            let link: GuardianRow = record_of(item)?;
            let guardian = PersonId::parse(&link.guardian).map_err(StoreError::corrupt)?;
            guardians.push((guardian, link.messenger.unwrap_or(false)));
        }
    }
    Ok(found.map(|mut person| {
        person.contacts = contacts;
        person.preferences = preferences;
        person.guardians = guardians;
        person
    }))
}

impl PeopleStore {
    /// Everything fan-out needs of a person, from their whole partition
    /// (`None`: no such person).
    pub async fn contactable(&self, district: &DistrictId, id: &PersonId) -> Result<Option<Contactable>, StoreError> {
        contactable_from(id, query_stored(self.table.as_ref(), Query::partition(person_pk(district, id))).await?)
    }

    /// [`Self::contactable`] for many people in one request (up to
    /// [`CONTACTABLES_PER_BATCH`]): each partition only from the profile to
    /// the preferences — contact points and guardian links sort between them;
    /// memberships, sections and students after them are not read.
    pub async fn contactables(
        &self,
        district: &DistrictId,
        ids: &[PersonId],
    ) -> Result<Vec<(PersonId, Option<Contactable>)>, StoreError> {
        let range = || SortKey::Between(PERSON_SK.into(), PREFS_SK.into());
        let queries: Vec<Query> =
            ids.iter().map(|id| Query::partition(person_pk(district, id)).sort(range())).collect();
        let pages = self.table.query_many_json(&queries).await?;
        let mut read = Vec::with_capacity(ids.len());
        for ((id, query), page) in ids.iter().zip(queries).zip(pages) {
            let mut items = page.items;
            if page.cursor.is_some() {
                // A partition past one page (a long preference history): read the rest.
                items.extend(query_stored(self.table.as_ref(), query.after(page.cursor)).await?);
            }
            read.push((id.clone(), contactable_from(id, items)?));
        }
        Ok(read)
    }

    /// What the preference service needs of a person: the profile and
    /// contact points (one range, `#PERSON` to `CP#…`) and the preferences
    /// item — never the growing audit trail or the links.
    pub async fn with_preferences(
        &self,
        district: &DistrictId,
        id: &PersonId,
    ) -> Result<Option<Contactable>, StoreError> {
        let pk = person_pk(district, id);
        let query = Query::partition(pk.clone()).sort(SortKey::Between(PERSON_SK.into(), "CP$".into()));
        let mut items = self.table.query_json(&query).await?.items;
        let key = Key::new(pk, PREFS_SK);
        if let Some(json) = self.table.get_json(&key).await? {
            items.push(StoredItem { key, json });
        }
        contactable_from(id, items)
    }
}
