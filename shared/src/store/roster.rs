//! Writes what an import brings: schools, people (profile, contact points,
//! school memberships), relationships (both directions), sections and
//! enrollments (both directions). Each record is written as a whole and
//! removed with every item that depends on it, so no orphan stays behind.
//!
//! Writes are buffered into batch writes of [`FLUSH_AT`] operations: an
//! import is not atomic across records, but it converges: running the same
//! file again rewrites the same items.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::StoreError;
use super::keys::{
    CONTACT_SK_PREFIX, ENROLLMENT_SK_PREFIX, GUARDIAN_SK_PREFIX, PERSON_SK, SCHOOL_SK_PREFIX, SECTION_SK,
    SECTION_SK_PREFIX, STUDENT_SK_PREFIX, contact_sk, contact_value_pk, contact_value_sk, household_pk, person_pk,
    school_people_pk, school_sk, schools_pk, section_pk,
};
use crate::domain::{
    DistrictId, Enrollment, ImportId, PersonId, PersonRole, Relationship, RosterPerson, RosterSchool, Section,
};
use crate::ports::table::{BatchOp, Item, Key, Query, SortKey, Table};

/// Buffered operations are written when this many are waiting.
pub const FLUSH_AT: usize = 50_000;

fn item(pk: String, sk: String, body: Value) -> Item {
    let mut item = match body {
        Value::Object(map) => map,
        _ => Item::new(),
    };
    item.insert("pk".into(), Value::String(pk));
    item.insert("sk".into(), Value::String(sk));
    item
}

fn index(mut item: Item, index: &str, pk: String, sk: String) -> Item {
    item.insert(format!("{index}pk"), Value::String(pk));
    item.insert(format!("{index}sk"), Value::String(sk));
    item
}

/// The index sort key of a person in their school: students carry their
/// grade so lists by grade are one index range.
pub fn school_member_sk(role: PersonRole, grade: Option<&str>, person: &PersonId) -> String {
    match (role, grade) {
        (PersonRole::Student, Some(grade)) => format!("ROLE#student#G#{grade}#P#{person}"),
        _ => format!("ROLE#{role}#P#{person}"),
    }
}

/// Writes an import's records for one district.
pub struct RosterWriter {
    table: Arc<dyn Table>,
    district: DistrictId,
    import: ImportId,
    pending: Vec<BatchOp>,
}

impl RosterWriter {
    /// A writer for the district's import.
    pub fn new(table: Arc<dyn Table>, district: DistrictId, import: ImportId) -> Self {
        Self { table, district, import, pending: Vec::new() }
    }

    async fn push(&mut self, op: BatchOp) -> Result<(), StoreError> {
        self.pending.push(op);
        if self.pending.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes everything buffered.
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            let ops = std::mem::take(&mut self.pending);
            self.table.batch_write(ops).await?;
        }
        Ok(())
    }

    /// Keys of the items under a sort-key prefix of a partition.
    async fn keys_under(&mut self, pk: &str, prefix: &str) -> Result<Vec<Key>, StoreError> {
        self.flush().await?;
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(&Query::partition(pk).sort(SortKey::BeginsWith(prefix.to_string())).after(cursor))
                .await?;
            for found in &page.items {
                keys.push(Key::of(found)?);
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Which of these people already have a profile in the district (in
    /// batched reads): a record new to an import replaces what is stored of
    /// those, and only those pay for reading their items first.
    pub async fn stored_people(&self, ids: &[PersonId]) -> Result<HashSet<PersonId>, StoreError> {
        let keys: Vec<Key> = ids.iter().map(|id| Key::new(person_pk(&self.district, id), PERSON_SK)).collect();
        let found = self.table.get_many(&keys).await?;
        Ok(ids.iter().zip(found).filter(|(_, item)| item.is_some()).map(|(id, _)| id.clone()).collect())
    }

    /// Writes a school.
    pub async fn put_school(&mut self, school: &RosterSchool) -> Result<(), StoreError> {
        let body = json!({"id": school.id, "name": school.name, "import": self.import});
        self.push(BatchOp::Put(item(schools_pk(&self.district), school.id.to_string(), body))).await
    }

    /// Removes a school (its sections and memberships go with their own records).
    pub async fn remove_school(&mut self, id: &str) -> Result<(), StoreError> {
        self.push(BatchOp::Delete(Key::new(schools_pk(&self.district), id))).await
    }

    /// Writes a person: profile, contact points and school memberships.
    /// With `replace`, items of an earlier version that the new one lacks
    /// (a removed phone, a school left) are deleted.
    pub async fn put_person(&mut self, person: &RosterPerson, replace: bool) -> Result<(), StoreError> {
        let pk = person_pk(&self.district, &person.id);
        let mut wanted: Vec<Item> = Vec::with_capacity(2 + person.contacts.len() + person.schools.len());
        let profile = json!({
            "id": person.id, "role": person.role, "sis_role": person.sis_role,
            "given_name": person.given_name, "family_name": person.family_name, "schools": person.schools,
            "grade": person.grade, "household": person.household, "language": person.language,
            "birth_date": person.birth_date, "plus": person.plus, "active": true, "import": self.import,
        });
        let mut profile = item(pk.clone(), PERSON_SK.to_string(), profile);
        if let Some(household) =
            person.household.as_deref().filter(|h| crate::domain::validate_id("household", h).is_ok())
        {
            profile = index(profile, "gsi1", household_pk(&self.district, household), format!("P#{}", person.id));
        }
        wanted.push(profile);
        for contact in &person.contacts {
            let body = serde_json::to_value(contact).map_err(StoreError::corrupt)?;
            wanted.push(index(
                item(pk.clone(), contact_sk(contact.channel), body),
                "gsi1",
                contact_value_pk(&self.district, &contact.value),
                contact_value_sk(&person.id, contact.channel),
            ));
        }
        for school in &person.schools {
            wanted.push(index(
                item(pk.clone(), school_sk(school), json!({"school": school, "grade": person.grade})),
                "gsi2",
                school_people_pk(&self.district, school),
                school_member_sk(person.role, person.grade.as_deref(), &person.id),
            ));
        }
        if replace {
            let mut stale = self.keys_under(&pk, CONTACT_SK_PREFIX).await?;
            stale.extend(self.keys_under(&pk, SCHOOL_SK_PREFIX).await?);
            for key in stale {
                if !wanted.iter().any(|w| w.get("sk").and_then(Value::as_str) == Some(key.sk.as_str())) {
                    self.push(BatchOp::Delete(key)).await?;
                }
            }
        }
        for put in wanted {
            self.push(BatchOp::Put(put)).await?;
        }
        Ok(())
    }

    /// Deactivates a person who left the source: the profile stays (history,
    /// receipts by number) marked inactive; school memberships go, so lists
    /// and fan-out no longer find them.
    pub async fn deactivate_person(&mut self, id: &PersonId) -> Result<(), StoreError> {
        let pk = person_pk(&self.district, id);
        self.flush().await?;
        if let Some(mut profile) = self.table.get(&Key::new(pk.clone(), PERSON_SK)).await? {
            profile.insert("active".into(), Value::Bool(false));
            self.push(BatchOp::Put(profile)).await?;
        }
        for key in self.keys_under(&pk, SCHOOL_SK_PREFIX).await? {
            self.push(BatchOp::Delete(key)).await?;
        }
        Ok(())
    }

    /// Deletes every item of a person's partition (import deletion).
    pub async fn delete_person(&mut self, id: &PersonId) -> Result<(), StoreError> {
        let pk = person_pk(&self.district, id);
        for key in self.keys_under(&pk, "").await? {
            self.push(BatchOp::Delete(key)).await?;
        }
        Ok(())
    }

    /// Writes both directions of a student–guardian link.
    pub async fn put_relationship(&mut self, link: &Relationship) -> Result<(), StoreError> {
        let body =
            json!({"student": link.student, "guardian": link.guardian, "kind": link.kind, "messenger": link.messenger});
        let student_pk = person_pk(&self.district, &link.student);
        let guardian_pk = person_pk(&self.district, &link.guardian);
        self.push(BatchOp::Put(item(student_pk, format!("{GUARDIAN_SK_PREFIX}{}", link.guardian), body.clone())))
            .await?;
        self.push(BatchOp::Put(item(guardian_pk, format!("{STUDENT_SK_PREFIX}{}", link.student), body))).await
    }

    /// Removes both directions of a link, given its `student>guardian` id.
    pub async fn remove_relationship(&mut self, id: &str) -> Result<(), StoreError> {
        let Some((student, guardian)) = id.split_once('>') else { return Ok(()) };
        let student_pk = format!("D#{}#P#{student}", self.district);
        let guardian_pk = format!("D#{}#P#{guardian}", self.district);
        self.push(BatchOp::Delete(Key::new(student_pk, format!("{GUARDIAN_SK_PREFIX}{guardian}")))).await?;
        self.push(BatchOp::Delete(Key::new(guardian_pk, format!("{STUDENT_SK_PREFIX}{student}")))).await
    }

    /// Writes a section (indexed under its school).
    pub async fn put_section(&mut self, section: &Section) -> Result<(), StoreError> {
        let body = json!({"id": section.id, "school": section.school, "title": section.title, "import": self.import});
        let put = index(
            item(section_pk(&self.district, &section.id), SECTION_SK.to_string(), body),
            "gsi2",
            school_people_pk(&self.district, &section.school),
            format!("SECTION#{}", section.id),
        );
        self.push(BatchOp::Put(put)).await
    }

    /// Removes a section's own item (its enrollments are records of their own).
    pub async fn remove_section(&mut self, id: &str) -> Result<(), StoreError> {
        self.push(BatchOp::Delete(Key::new(section_pk(&self.district, id), SECTION_SK))).await
    }

    /// Writes both directions of an enrollment.
    pub async fn put_enrollment(&mut self, enrollment: &Enrollment) -> Result<(), StoreError> {
        let body = json!({"section": enrollment.section, "person": enrollment.person, "role": enrollment.role});
        let section = section_pk(&self.district, &enrollment.section);
        let person = person_pk(&self.district, &enrollment.person);
        self.push(BatchOp::Put(item(section, format!("{ENROLLMENT_SK_PREFIX}{}", enrollment.person), body.clone())))
            .await?;
        self.push(BatchOp::Put(item(person, format!("{SECTION_SK_PREFIX}{}", enrollment.section), body))).await
    }

    /// Removes both directions of an enrollment, given its `section>person` id.
    pub async fn remove_enrollment(&mut self, id: &str) -> Result<(), StoreError> {
        let Some((section, person)) = id.split_once('>') else { return Ok(()) };
        self.push(BatchOp::Delete(Key::new(
            section_pk(&self.district, section),
            format!("{ENROLLMENT_SK_PREFIX}{person}"),
        )))
        .await?;
        let person_pk = format!("D#{}#P#{person}", self.district);
        self.push(BatchOp::Delete(Key::new(person_pk, format!("{SECTION_SK_PREFIX}{section}")))).await
    }
}
