//! Use cases, one a module. Each takes a `domain::Principal` (who asks),
//! checks what they may do, and works through the store and the ports.
//!
//! - `people`: create and read people with their contact points.
//! - `cleanup`: the contact clean-up list (students whose contacts cannot be texted).
//! - `imports`: import definitions, files, runs, holds and deletion.
//! - `lists`: saved recipient lists and their membership, computed on read.
//! - `preferences`: one person's preferences, the batch tool, the audit trail.

mod cleanup;
mod error;
mod imports;
mod lists;
mod people;
mod preferences;

pub use cleanup::{CleanupFilter, CleanupItem, CleanupPage, CleanupService, cleanup_csv};
pub use error::ServiceError;
pub use imports::{DeletionPlan, ImportService, NewImport, counts_json, parse_upload_key, upload_key};
pub use lists::{DEFAULT_MEMBERS_PAGE, ListMember, ListMembers, ListService, MAX_MEMBERS_PAGE, MembersPage};
pub use people::PeopleService;
pub use preferences::{
    BatchFilter, BatchMode, BatchRequest, BatchResult, ConsentInput, GridCell, ListResolver, PreferenceService,
    PreferencesUpdate, PreferencesView,
};
