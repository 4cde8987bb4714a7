//! Validated types and pure rules. No I/O: everything here is a value or a
//! function of values, so it is tested without adapters.

mod access;
mod email;
mod error;
mod ids;
mod import_run;
mod named_enum;
mod person;
mod phone;
mod roster;
mod schedule;
mod vocabulary;

pub use access::{Principal, Role};
pub use email::EmailAddress;
pub use error::DomainError;
pub use ids::{BroadcastId, DistrictId, ImportId, ListId, MAX_ID_LEN, PersonId, SchoolId, validate_id};
pub use import_run::{
    Changes, DEFAULT_HOLD_THRESHOLD_PERCENT, EntityCounts, ImportDefinition, ImportMethod, ImportRun, ImportStatus,
    ImportTrigger, MAX_REPORTED_ROWS, RecordKind, RunCounts, RunState, Snapshot, diff, hold_reason,
};
pub use person::{ContactInput, ContactPoint, ContactValue, MAX_NAME_LEN, Person, PersonInput, PersonRole};
pub use phone::{PhoneNumber, Region};
pub use roster::{
    Batch, Enrollment, EnrollmentRole, FileMode, FileRejected, ReadOutcome, RejectedRow, Relationship,
    RelationshipKind, Roster, RosterPerson, RosterSchool, Section,
};
pub use schedule::Schedule;
pub use vocabulary::{Channel, ContactReason, EmailStatus, Severity, SmsStatus};
