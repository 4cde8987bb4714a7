//! Validated types and pure rules. No I/O: everything here is a value or a
//! function of values, so it is tested without adapters.

mod access;
mod broadcast;
mod call;
mod delivery;
mod email;
mod error;
mod event_messages;
mod ids;
mod import_run;
mod language;
mod list;
mod message_template;
mod named_enum;
mod person;
mod phone;
mod preferences;
pub mod quiet_hours;
mod replies;
pub mod roles;
mod roster;
mod schedule;
pub mod segments;
mod settings;
mod sis_event;
pub mod sis_key;
mod task;
pub mod template;
mod text_consent;
mod vocabulary;

pub use access::{Principal, Role};
pub use broadcast::{
    Acceptance, Audience, Broadcast, BroadcastChannel, BroadcastContent, BroadcastInput, BroadcastKind, BroadcastState,
    EmailContent, EventRef, MAX_AUDIENCE_LISTS, MAX_SMS_CHARS, MAX_VOICE_SSML_CHARS, MAX_VOICE_TEXT_CHARS, PlanSummary,
    Unallowed, ValidBroadcast, is_ssml, parse_channels, reaches_only_own_sections, unallowed,
};
pub use call::{AnsweredBy, CallDetail, CallOutcome, CallRetryRule, call_outcome};
pub use delivery::{Delivery, DeliveryPoint, DeliveryReason, DeliveryState, PlannedDelivery, ReportGroup};
pub use email::EmailAddress;
pub use error::DomainError;
pub use event_messages::{EVENT_LANGUAGES, event_content, event_content_from, fact_stand_ins, fill_facts, school_day};
pub use ids::{BroadcastId, DistrictId, ImportId, ListId, MAX_ID_LEN, PersonId, SchoolId, validate_id};
pub use import_run::{
    Changes, DEFAULT_HOLD_THRESHOLD_PERCENT, EntityCounts, FileRun, IMPORT_LEASE_MINUTES, ImportDefinition,
    ImportLease, ImportMethod, ImportRun, ImportStatus, ImportTrigger, MAX_REPORTED_ROWS, RecordKind, RunCounts,
    RunState, Snapshot, diff, file_hash, hold_reason, stale_reason,
};
pub use language::language_code;
pub use list::{
    BUS_ROUTE_FIELD, ConditionOp, FieldCondition, ListAction, ListChange, ListDefinition, ListInput, ListRule,
    ListScope, ListTarget, MAX_LIST_NAME_LEN, MAX_LIST_PEOPLE, MAX_RULE_TERMS, MAX_RULE_VALUE_LEN, MemberProfile,
    RecipientList, builds_only_own_sections, pinned_to_teacher, uniform_grade,
};
pub use message_template::{MAX_TEMPLATE_NAME, MessageTemplate, TemplateInput};
pub use person::{ContactInput, ContactPoint, ContactValue, MAX_NAME_LEN, Person, PersonInput, PersonRole};
pub use phone::{PhoneNumber, Region};
pub use preferences::{
    CellAction, CellOutcome, ConsentChange, Effective, IMPORT_CONSENT, PreferenceDefaults, PreferenceRecord,
    PreferenceSource, Setting, TEXT_CONSENT, TextConsent, batch_outcome, channels_of,
};
pub use replies::{ReplyIntent, classify_reply};
pub use roster::{
    Batch, Enrollment, EnrollmentRole, FileMode, FileRejected, ReadOutcome, RejectedRow, Relationship,
    RelationshipKind, Roster, RosterPerson, RosterSchool, Section,
};
pub use schedule::Schedule;
pub use settings::{DEFAULT_TIME_ZONE, DistrictSettings, SisEventSettings};
pub use sis_event::{EventDetails, EventRejection, MAX_EVENT_TEXT, SisEvent, SisEventType, read_event};
pub use sis_key::{SisKey, SisKeyError, SisKeyId, SisKeyInfo, SisSecret};
pub use task::Task;
pub use text_consent::{TextConsentPolicy, TextRule, TextVerdict, consent_confirmation, gives_text_consent};
pub use vocabulary::{Channel, ContactReason, EmailStatus, Severity, SmsStatus};
