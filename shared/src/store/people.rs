//! People and their contact points and school memberships.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::StoreError;
use super::items::{query_all, query_records, record_of};
use super::keys::{
    CONTACT_SK_PREFIX, GUARDIAN_SK_PREFIX, PERSON_SK, SCHOOL_SK_PREFIX, SECTION_SK_PREFIX, STUDENT_SK_PREFIX,
    contact_sk, contact_value_pk, contact_value_sk, person_pk, school_people_pk, school_people_sk, school_sk,
};
use crate::domain::{ContactPoint, ContactValue, DistrictId, Person, PersonId, PersonRole, SchoolId};
use crate::ports::table::{Condition, Index, Item, Query, SortKey, Table, TableError, WriteOp};

/// Most schools one person may belong to (keeps a person's write within one
/// transaction).
pub const MAX_SCHOOLS_PER_PERSON: usize = 50;

/// Items the roster keeps in a person's partition beside the profile and
/// contact points (schools, guardians, students, sections): read past, as
/// they are the roster's and not the person's own.
fn is_roster_link(sk: &str) -> bool {
    [SCHOOL_SK_PREFIX, GUARDIAN_SK_PREFIX, STUDENT_SK_PREFIX, SECTION_SK_PREFIX]
        .iter()
        .any(|prefix| sk.starts_with(prefix))
}

/// The profile item's attributes beyond its keys.
#[derive(Debug, Serialize, Deserialize)]
struct ProfileRecord {
    id: PersonId,
    role: PersonRole,
    given_name: String,
    family_name: String,
    schools: Vec<SchoolId>,
}

/// One direction of a student–guardian link, as the import writes it.
#[derive(Deserialize)]
struct LinkRow {
    #[serde(default)]
    student: Option<String>,
    #[serde(default)]
    guardian: Option<String>,
    #[serde(default)]
    messenger: Option<bool>,
    #[serde(default)]
    kind: Option<String>,
}

fn with_keys(pk: &str, sk: &str, body: Value) -> Result<Item, StoreError> {
    let mut item = match body {
        Value::Object(map) => map,
        _ => return Err(StoreError::Corrupt("record is not an object".into())),
    };
    item.insert("pk".into(), Value::String(pk.into()));
    item.insert("sk".into(), Value::String(sk.into()));
    Ok(item)
}

fn to_value<T: Serialize>(record: &T) -> Result<Value, StoreError> {
    serde_json::to_value(record).map_err(StoreError::corrupt)
}

/// Reads and writes people.
#[derive(Clone)]
pub struct PeopleStore {
    pub(super) table: Arc<dyn Table>,
}

impl PeopleStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates the person with their contact points and school memberships,
    /// all or nothing. `AlreadyExists` when the id is taken in the district.
    pub async fn create(&self, district: &DistrictId, person: &Person) -> Result<(), StoreError> {
        if person.schools.len() > MAX_SCHOOLS_PER_PERSON {
            return Err(StoreError::Table(TableError::Validation(format!(
                "a person belongs to at most {MAX_SCHOOLS_PER_PERSON} schools"
            ))));
        }
        let pk = person_pk(district, &person.id);
        let profile = ProfileRecord {
            id: person.id.clone(),
            role: person.role,
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            schools: person.schools.clone(),
        };
        let mut ops = vec![WriteOp::Put {
            item: with_keys(&pk, PERSON_SK, to_value(&profile)?)?,
            condition: Condition::NotExists,
        }];
        for contact in &person.contacts {
            let mut item = with_keys(&pk, &contact_sk(contact.channel), to_value(contact)?)?;
            item.insert("gsi1pk".into(), Value::String(contact_value_pk(district, &contact.value)));
            item.insert("gsi1sk".into(), Value::String(contact_value_sk(&person.id, contact.channel)));
            ops.push(WriteOp::Put { item, condition: Condition::None });
        }
        for school in &person.schools {
            let mut item = with_keys(&pk, &school_sk(school), json!({"school": school}))?;
            item.insert("gsi2pk".into(), Value::String(school_people_pk(district, school)));
            item.insert("gsi2sk".into(), Value::String(school_people_sk(person.role, &person.id)));
            ops.push(WriteOp::Put { item, condition: Condition::None });
        }
        match self.table.transact_write(ops).await {
            Err(TableError::ConditionFailed { operation: Some(0) }) => Err(StoreError::AlreadyExists),
            other => Ok(other?),
        }
    }

    /// The person with their contact points, or `None`.
    pub async fn get(&self, district: &DistrictId, id: &PersonId) -> Result<Option<Person>, StoreError> {
        let pk = person_pk(district, id);
        let mut profile: Option<ProfileRecord> = None;
        let mut contacts = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.table.query_json(&Query::partition(&pk).after(cursor)).await?;
            for item in &page.items {
                let sk = item.key.sk.as_str();
                if sk == PERSON_SK {
                    profile = Some(record_of(item)?);
                } else if sk.starts_with(CONTACT_SK_PREFIX) {
                    contacts.push(record_of::<ContactPoint>(item)?);
                } else if !is_roster_link(sk) {
                    tracing::warn!(item_kind = %sk.split('#').next().unwrap_or_default(), "unknown item in a person's partition");
                }
            }
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok(profile.map(|p| Person {
            id: p.id,
            role: p.role,
            given_name: p.given_name,
            family_name: p.family_name,
            schools: p.schools,
            contacts,
        }))
    }

    /// Ids of the people reachable at a number or address (with the channel
    /// they hold it in). An index query, never a scan.
    pub async fn people_at(&self, district: &DistrictId, value: &ContactValue) -> Result<Vec<PersonId>, StoreError> {
        let mut ids = Vec::new();
        let mut cursor = None;
        loop {
            let query = Query::on(Index::Gsi1, contact_value_pk(district, value)).after(cursor);
            let page = self.table.query(&query).await?;
            for item in &page.items {
                let pk = item.get("pk").and_then(Value::as_str).unwrap_or_default();
                let id = pk.rsplit_once("#P#").map(|(_, id)| id).unwrap_or_default();
                let id = PersonId::parse(id).map_err(StoreError::corrupt)?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(ids);
            }
        }
    }

    /// Guardians of a student with their messenger flag, in id order.
    pub async fn guardians_of(
        &self,
        district: &DistrictId,
        student: &PersonId,
    ) -> Result<Vec<(PersonId, bool)>, StoreError> {
        let links = self.links(district, student, super::keys::GUARDIAN_SK_PREFIX, "guardian").await?;
        Ok(links.into_iter().map(|(id, messenger, _)| (id, messenger)).collect())
    }

    /// Students of a guardian with the messenger flag of each link.
    pub async fn students_of(
        &self,
        district: &DistrictId,
        guardian: &PersonId,
    ) -> Result<Vec<(PersonId, bool)>, StoreError> {
        let links = self.links(district, guardian, super::keys::STUDENT_SK_PREFIX, "student").await?;
        Ok(links.into_iter().map(|(id, messenger, _)| (id, messenger)).collect())
    }

    /// Students of a guardian with the kind of each relationship (`parent`,
    /// `guardian` ... as imported), in id order.
    pub async fn students_with_relationship(
        &self,
        district: &DistrictId,
        guardian: &PersonId,
    ) -> Result<Vec<(PersonId, String)>, StoreError> {
        let links = self.links(district, guardian, super::keys::STUDENT_SK_PREFIX, "student").await?;
        Ok(links.into_iter().map(|(id, _, kind)| (id, kind)).collect())
    }

    async fn links(
        &self,
        district: &DistrictId,
        person: &PersonId,
        prefix: &str,
        other: &str,
    ) -> Result<Vec<(PersonId, bool, String)>, StoreError> {
        let query = Query::partition(person_pk(district, person)).sort(SortKey::BeginsWith(prefix.into()));
        query_records::<LinkRow>(self.table.as_ref(), query)
            .await?
            .into_iter()
            .map(|link| {
                let id = if other == "guardian" { link.guardian } else { link.student };
                let id = PersonId::parse(id.unwrap_or_default()).map_err(StoreError::corrupt)?;
                Ok((id, link.messenger.unwrap_or(false), link.kind.unwrap_or_default()))
            })
            .collect()
    }

    /// Ids of the active members of a household (an index query).
    pub async fn household_members(&self, district: &DistrictId, household: &str) -> Result<Vec<PersonId>, StoreError> {
        let query = Query::on(Index::Gsi1, super::keys::household_pk(district, household));
        query_all(self.table.as_ref(), query)
            .await?
            .iter()
            .filter(|item| item.get("active") != Some(&Value::Bool(false)))
            .map(|item| {
                PersonId::parse(item.get("id").and_then(Value::as_str).unwrap_or_default()).map_err(StoreError::corrupt)
            })
            .collect()
    }

    /// Every item of a person's partition (profile, contact points,
    /// memberships, links, preferences), for use cases that need several.
    pub async fn partition(
        &self,
        district: &DistrictId,
        person: &PersonId,
    ) -> Result<Vec<crate::ports::Item>, StoreError> {
        query_all(self.table.as_ref(), Query::partition(person_pk(district, person))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;
    use crate::domain::{ContactInput, PersonInput, Region};

    fn person(id: &str, school: &str, cell: &str) -> Person {
        let input = PersonInput {
            id: id.into(),
            role: "guardian".into(),
            given_name: "Ana".into(),
            family_name: "Diaz".into(),
            schools: vec![school.into()],
            contacts: vec![ContactInput { channel: "cell_phone".into(), value: cell.into() }],
        };
        Person::from_input(&input, Region::US).unwrap()
    }

    fn store() -> PeopleStore {
        PeopleStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()))
    }

    fn district(id: &str) -> DistrictId {
        DistrictId::parse(id).unwrap()
    }

    /// Log lines written while `f` runs on this thread.
    async fn logs_while<F: std::future::Future>(f: F) -> (F::Output, String) {
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let output = {
            let _guard = tracing::subscriber::set_default(subscriber);
            f.await
        };
        let text = String::from_utf8_lossy(&lines.0.lock().unwrap()).into_owned();
        (output, text)
    }

    #[tokio::test]
    async fn a_person_with_guardians_students_and_sections_reads_back_without_a_warning() -> Result<(), StoreError> {
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
        let store = PeopleStore::new(table.clone());
        let ana = person("g-1", "s-1", "617-555-0199");
        store.create(&district("d-1"), &ana).await?;
        let pk = person_pk(&district("d-1"), &ana.id);
        for sk in ["GUARDIAN#g-2", "STUDENT#stu-1", "SECTION#c-1"] {
            let item = with_keys(&pk, sk, json!({}))?;
            table.put(item, Condition::None).await?;
        }
        let (read, logs) = logs_while(store.get(&district("d-1"), &ana.id)).await;
        assert_eq!(read?, Some(ana));
        assert!(!logs.contains("unknown item"), "{logs}");
        Ok(())
    }

    #[tokio::test]
    async fn a_created_person_reads_back_whole() -> Result<(), StoreError> {
        let store = store();
        let ana = person("g-1", "s-1", "617-555-0199");
        store.create(&district("d-1"), &ana).await?;
        assert_eq!(store.get(&district("d-1"), &ana.id).await?, Some(ana));
        Ok(())
    }

    #[tokio::test]
    async fn another_district_never_sees_the_person() -> Result<(), StoreError> {
        let store = store();
        let ana = person("g-1", "s-1", "617-555-0199");
        store.create(&district("d-1"), &ana).await?;
        assert_eq!(store.get(&district("d-2"), &ana.id).await?, None);
        assert!(store.people_at(&district("d-2"), &ana.contacts[0].value).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn creating_an_existing_id_fails_and_changes_nothing() -> Result<(), StoreError> {
        let store = store();
        store.create(&district("d-1"), &person("g-1", "s-1", "617-555-0199")).await?;
        let again = store.create(&district("d-1"), &person("g-1", "s-2", "617-555-0142")).await;
        assert!(matches!(again, Err(StoreError::AlreadyExists)));
        let kept = store.get(&district("d-1"), &PersonId::parse("g-1").unwrap()).await?;
        assert_eq!(kept.map(|p| p.contacts[0].value.as_raw().to_string()), Some("+16175550199".to_string()));
        Ok(())
    }

    #[tokio::test]
    async fn people_are_found_by_number_and_by_school() -> Result<(), StoreError> {
        let store = store();
        let d = district("d-1");
        store.create(&d, &person("g-1", "s-1", "617-555-0199")).await?;
        store.create(&d, &person("g-2", "s-1", "617-555-0199")).await?;
        store.create(&d, &person("g-3", "s-2", "617-555-0142")).await?;
        let shared_phone = person("x", "s-1", "617-555-0199").contacts[0].value.clone();
        let ids: Vec<String> = store.people_at(&d, &shared_phone).await?.iter().map(|i| i.to_string()).collect();
        assert_eq!(ids, ["g-1", "g-2"]);
        let school = SchoolId::parse("s-1").unwrap();
        let roster = crate::store::RosterIndex::new(Arc::clone(&store.table));
        assert_eq!(roster.school_members(&d, &school, PersonRole::Guardian, None).await?.len(), 2);
        assert!(roster.school_members(&d, &school, PersonRole::Student, None).await?.is_empty());
        Ok(())
    }
}
