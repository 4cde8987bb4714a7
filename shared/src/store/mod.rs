//! The store: schoolbell's single-table key design and its access patterns,
//! written once over the `Table` port, so the embedded table and DynamoDB
//! run the very same keys, queries and conditions.
//!
//! - `keys`: every key and index key, and the layout table.
//! - `people`: people, contact points, school memberships.
//! - `contactable`: the one reader of what fan-out, personal messages and
//!   preferences need of a person.
//! - `roster`: what an import writes and removes, record by record.
//! - `imports`: import definitions and their runs.
//! - `sms_status`: each number's SMS status, history, and the not-Ok index.
//! - `broadcasts`: broadcasts, deliveries, plan checkpoints, the schedule, district settings.
//! - `lists`: list definitions, and the roster indexes list membership reads.
//! - `preferences`: preference records, their audit trail, district defaults.
//! - `email_status`: each address's email status and the not-Ok index.
//! - `roles`: custom roles and role assignments.
//! - `sending_numbers`: the deployment's sending numbers and their owners.
//! - `replies`: inbound markers and replies kept for staff or the operator.
//! - `settings_history`: audited changes of district settings (the text consent policy).
//! - `sis_keys`: SIS API keys of a district, and the key-id lookup a SIS request is authenticated by.
//! - `sms_pairs`: opt-outs by (sending number, recipient), and who last texted whom.
//! - `call_retries`: busy and unanswered calls waiting for their next try.
//! - `sis_events`: what makes SIS events exactly-once (event ids, one attendance message a day).
//! - `templates`: a district's saved message templates.
//! - `unmatched_receipts`: receipts kept until their message is recorded.
//! - `stores`: every store over one table, as the composition root hands them out.

mod broadcasts;
mod call_retries;
mod contactable;
mod email_status;
mod error;
mod imports;
mod items;
pub mod keys;
mod lists;
mod people;
mod preferences;
mod replies;
pub mod roles;
mod roster;
mod sending_numbers;
mod settings_history;
mod sis_events;
mod sis_keys;
mod sms_pairs;
mod sms_status;
mod stores;
mod templates;
mod unmatched_receipts;

pub use broadcasts::{
    BroadcastStore, ChunkClaim, ChunkState, DELIVERY_SK_PREFIX, DeliveryPage, DueBroadcast, SCHEDULED_BROADCASTS_PK,
    broadcast_pk,
};
pub use call_retries::{CALL_RETRIES_PK, CallRetryStore, DueCall};
pub use contactable::{CONTACTABLES_PER_BATCH, Contactable};
pub use email_status::{AddressStatus, EmailStatusStore, TRANSIENT_BOUNCES_TO_PERMANENT};
pub use error::StoreError;
pub use imports::ImportStore;
pub use items::{get_record, query_all, query_records, query_stored, record_from, record_item, record_of};
pub use lists::{ListStore, RosterIndex, lists_pk};
pub use people::{MAX_SCHOOLS_PER_PERSON, PeopleStore};
pub use preferences::{
    ChangedCell, GroupSave, MAX_GROUP_WRITES, PREFLOG_SK_PREFIX, PREFS_SK, PreferenceChange, PreferenceStore,
    PreferenceWrite,
};
pub use replies::{ReplyStore, StoredReply};
pub use roster::{FLUSH_AT, RosterWriter, school_member_sk};
pub use sending_numbers::{NumberOwner, SMS_NUMBERS_PK, SendingNumberStore, TextingNumber};
pub use settings_history::{SettingsChange, SettingsHistoryStore};
pub use sis_events::{EVENT_KEPT_DAYS, EventOutcome, SeenEvent, SisEventStore, event_type_name};
pub use sis_keys::{SIS_KEY_INDEX_PK, SisKeyRecord, SisKeyStore, sis_keys_pk};
pub use sms_pairs::{PairOptOut, SmsPairStore};
pub use sms_status::{NumberStatus, REPLY_EVENT_PREFIX, SmsStatusStore, not_ok_pk};
pub use stores::Stores;
pub use templates::TemplateStore;
pub use unmatched_receipts::{KeptReceipt, UnmatchedReceiptStore};
