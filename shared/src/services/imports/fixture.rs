//! What the import tests share: an import service over an in-memory table
//! and a file store in a temporary directory, and two small mapped files.

use std::sync::Arc;

use bytes::Bytes;

use super::{ImportService, NewImport};
use crate::adapters::local::{DirFileStore, EmbeddedTable};
use crate::domain::{DistrictId, ImportId, ImportMethod, ImportRun, ImportTrigger, PersonId, Principal, Region, Role};
use crate::ports::{FixedClock, SequentialIds, Table as _, TableStats};
use crate::store::{Contactable, Stores};

pub(super) fn district() -> DistrictId {
    DistrictId::parse("d-1").unwrap()
}

pub(super) fn id(person: &str) -> PersonId {
    PersonId::parse(person).unwrap()
}

/// The import most tests define.
pub(super) fn sis() -> ImportId {
    ImportId::parse("sis").unwrap()
}

pub(super) fn admin() -> Principal {
    Principal { subject: "admin".into(), district: district(), roles: vec![Role::DistrictAdmin], schools: vec![] }
}

/// A manual import of SchoolMessenger-style files.
pub(super) fn mapped(name: &str) -> NewImport {
    NewImport {
        name: name.into(),
        method: ImportMethod::Mapped,
        trigger: ImportTrigger::Manual,
        schedule: None,
        mapping: Some("schoolmessenger".into()),
        hold_threshold_percent: None,
    }
}

/// An import service with its table and files.
pub(super) struct World {
    pub service: ImportService,
    /// The clock every run reads (leases lapse when a test moves it).
    pub clock: Arc<FixedClock>,
    /// The stores over the same table, to look behind the service.
    pub stores: Stores,
    table: Arc<EmbeddedTable>,
    _files: tempfile::TempDir,
}

impl World {
    /// Ana (1001) and Leo (1002) at Lincoln, each with a messenger parent.
    pub const FAMILIES: &'static str = "\
Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route
1001,Ana,Diaz,5,lincoln,Maria,Diaz,Mother,Y,H-1,,,(617) 555-0101,,en,,
1002,Leo,Park,3,lincoln,Kim,Park,Mother,Y,H-2,,,(617) 555-0102,,en,,
";

    /// [`World::FAMILIES`] with Ana a grade up: a change that removes nothing.
    pub const FAMILIES_REGRADED: &'static str = "\
Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route
1001,Ana,Diaz,6,lincoln,Maria,Diaz,Mother,Y,H-1,,,(617) 555-0101,,en,,
1002,Leo,Park,3,lincoln,Kim,Park,Mother,Y,H-2,,,(617) 555-0102,,en,,
";

    /// Leo alone, as [`World::FAMILIES`] has him.
    pub const ONLY_LEO: &'static str = "\
Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route
1002,Leo,Park,3,lincoln,Kim,Park,Mother,Y,H-2,,,(617) 555-0102,,en,,
";

    pub async fn new() -> Self {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        let stores = Stores::new(table.clone());
        let files = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::midday_today());
        let roles = crate::services::roles::RoleService::new(&stores, clock.clone());
        let service = ImportService::new(
            &stores,
            Arc::new(DirFileStore::new(files.path())),
            (clock.clone(), Arc::new(SequentialIds::new("run"))),
            roles,
            Region::US,
        );
        Self { service, clock, stores, table, _files: files }
    }

    /// Table counters, to tell whether a call wrote anything.
    pub fn stats(&self) -> TableStats {
        self.table.stats()
    }

    /// Uploads a file for the import (a manual one: nothing runs).
    pub async fn upload(&self, import: &str, csv: &'static str) {
        self.service.upload(&admin(), import, "roster.csv", Bytes::from(csv)).await.unwrap();
    }

    /// Defines a mapped import, uploads the file and runs it.
    pub async fn define_and_run(&self, import: &str, csv: &'static str) -> ImportRun {
        self.service.create(&admin(), mapped(import)).await.unwrap();
        self.upload(import, csv).await;
        self.service.run(&admin(), import).await.unwrap()
    }

    /// The person as stored, if any.
    pub async fn person(&self, person: &str) -> Option<Contactable> {
        self.stores.people.with_preferences(&district(), &id(person)).await.unwrap()
    }

    /// Whether the person is stored and active.
    pub async fn active(&self, person: &str) -> bool {
        self.person(person).await.is_some_and(|p| p.active)
    }
}
