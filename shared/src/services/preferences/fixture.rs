//! A small district for the preference tests, written the way an import
//! writes it (profiles, contact points, memberships, households, links).
//!
//! - school `s-1`: students `st-1` (grade 05, household `h-1`) and `st-2`
//!   (grade 03); guardians `g-1` (cell, email and household phone, household
//!   `h-1`, messenger of `st-1`), `g-2` (household phone, household `h-1`,
//!   not a messenger of `st-1`) and `g-3` (cell phone, household `h-2`,
//!   messenger of `st-2`); staff `t-1` (email).
//! - school `s-2`: student `st-3` (grade 05).
//!
//! The table can run a piece of work right before a service's next write
//! ([`World::before_next_write`]), to race a batch against a parent.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::BoxFuture;

use super::PreferenceService;
use crate::adapters::local::{EmbeddedTable, HookedTable, Write, WriteHook};
use crate::domain::{
    Channel, ContactPoint, DistrictId, ImportId, PersonId, PersonRole, PreferenceDefaults, Principal, Region,
    Relationship, RelationshipKind, Role, RosterPerson, RosterSchool, SchoolId,
};
use crate::ports::{FixedClock, SequentialIds, Table, TableError, TableStats};
use crate::services::roles::RoleService;
use crate::store::Stores;

pub(super) fn district() -> DistrictId {
    DistrictId::parse("d-1").unwrap()
}

pub(super) fn id(person: &str) -> PersonId {
    PersonId::parse(person).unwrap()
}

pub(super) fn principal(subject: &str, roles: &[Role], schools: &[&str]) -> Principal {
    Principal {
        subject: subject.into(),
        district: district(),
        roles: roles.to_vec(),
        schools: schools.iter().map(|s| SchoolId::parse(*s).unwrap()).collect(),
    }
}

pub(super) fn admin() -> Principal {
    principal("admin", &[Role::DistrictAdmin], &[])
}

/// A guardian's own token.
pub(super) fn guardian(subject: &str) -> Principal {
    principal(subject, &[Role::Guardian], &[])
}

/// The seeded district and a preference service over it.
pub(super) struct World {
    table: Arc<HookedTable<Interleaving>>,
    pub service: PreferenceService,
    /// The same service straight over the table (its writes run no hook):
    /// what a parent does while a batch runs.
    pub direct: PreferenceService,
    /// The stores behind `service`.
    pub stores: Stores,
}

/// One piece of work that runs right before the next transaction or batch
/// write: another writer slipping in between a reader's read and its write.
#[derive(Default)]
struct Interleaving {
    before_next_write: Mutex<Option<BoxFuture<'static, ()>>>,
}

#[async_trait]
impl WriteHook for Interleaving {
    async fn before(&self, _: Write<'_>) -> Result<(), TableError> {
        let work = self.before_next_write.lock().ok().and_then(|mut next| next.take());
        if let Some(work) = work {
            work.await;
        }
        Ok(())
    }
}

struct Seed {
    id: &'static str,
    role: PersonRole,
    school: &'static str,
    grade: Option<&'static str>,
    household: Option<&'static str>,
    contacts: &'static [(Channel, &'static str)],
}

const PEOPLE: [Seed; 7] = [
    Seed {
        id: "st-1",
        role: PersonRole::Student,
        school: "s-1",
        grade: Some("05"),
        household: Some("h-1"),
        contacts: &[(Channel::Email, "st1@example.org")],
    },
    Seed {
        id: "st-2",
        role: PersonRole::Student,
        school: "s-1",
        grade: Some("03"),
        household: None,
        contacts: &[(Channel::Email, "st2@example.org")],
    },
    Seed { id: "st-3", role: PersonRole::Student, school: "s-2", grade: Some("05"), household: None, contacts: &[] },
    Seed {
        id: "g-1",
        role: PersonRole::Guardian,
        school: "s-1",
        grade: None,
        household: Some("h-1"),
        contacts: &[
            (Channel::CellPhone, "+16175550101"),
            (Channel::Email, "g1@example.org"),
            (Channel::HouseholdPhone, "+16175550100"),
        ],
    },
    Seed {
        id: "g-2",
        role: PersonRole::Guardian,
        school: "s-1",
        grade: None,
        household: Some("h-1"),
        contacts: &[(Channel::HouseholdPhone, "+16175550100")],
    },
    Seed {
        id: "g-3",
        role: PersonRole::Guardian,
        school: "s-1",
        grade: None,
        household: Some("h-2"),
        contacts: &[(Channel::CellPhone, "+16175550103")],
    },
    Seed {
        id: "t-1",
        role: PersonRole::Staff,
        school: "s-1",
        grade: None,
        household: None,
        contacts: &[(Channel::Email, "t1@example.org")],
    },
];

const LINKS: [(&str, &str, bool); 3] = [("st-1", "g-1", true), ("st-1", "g-2", false), ("st-2", "g-3", true)];

impl World {
    pub async fn new() -> Self {
        let inner = Arc::new(EmbeddedTable::in_memory().unwrap());
        let table = Arc::new(HookedTable::new(inner.clone(), Interleaving::default()));
        let stores = Stores::new(table.clone());
        let mut writer = stores.roster_writer(district(), ImportId::parse("seed").unwrap());
        for school in ["s-1", "s-2"] {
            writer
                .put_school(&RosterSchool { id: SchoolId::parse(school).unwrap(), name: school.into() })
                .await
                .unwrap();
        }
        for seed in &PEOPLE {
            writer.put_person(&person(seed), false).await.unwrap();
        }
        for (student, guardian, messenger) in LINKS {
            let link = Relationship {
                student: id(student),
                guardian: id(guardian),
                kind: RelationshipKind::Parent,
                messenger,
            };
            writer.put_relationship(&link).await.unwrap();
        }
        writer.flush().await.unwrap();
        let clock = Arc::new(FixedClock::midday_today());
        let ids = Arc::new(SequentialIds::new("pref"));
        let service_over = |stores: &Stores| {
            let roles = RoleService::new(stores, clock.clone());
            PreferenceService::new(stores, PreferenceDefaults::default(), roles, clock.clone(), ids.clone())
        };
        let (service, direct) = (service_over(&stores), service_over(&Stores::new(inner)));
        Self { table, service, direct, stores }
    }

    /// Runs `work` right before the next write of `service` reaches the table.
    pub fn before_next_write(&self, work: BoxFuture<'static, ()>) {
        if let Ok(mut next) = self.table.hook.before_next_write.lock() {
            *next = Some(work);
        }
    }

    /// Table counters, to tell whether a call wrote anything.
    pub fn stats(&self) -> TableStats {
        self.table.stats()
    }
}

fn person(seed: &Seed) -> RosterPerson {
    RosterPerson {
        grade: seed.grade.map(String::from),
        household: seed.household.map(String::from),
        contacts: seed
            .contacts
            .iter()
            .map(|(channel, value)| ContactPoint::parse(*channel, value, Region::US).unwrap())
            .collect(),
        ..RosterPerson::bare(seed.id, seed.role, &[seed.school])
    }
}
