//! Use cases, one a module. Each takes a `domain::Principal` (who asks),
//! checks what they may do, and works through the store and the ports.
//!
//! - `people`: create and read people with their contact points.
//! - `cleanup`: the contact clean-up list (students whose contacts cannot be texted).
//! - `cursors`: the page cursors the API hands out, sealed with the deployment's key.
//! - `imports`: import definitions, files, runs, holds and deletion.
//! - `lists`: saved recipient lists and their membership, computed on read.
//! - `preferences`: one person's preferences, the batch tool, the audit trail.
//! - `roles`: built-in and custom roles, assignments, each caller's grants.
//! - `broadcasts`: create, report and list broadcasts.
//! - `scheduler`: waiting broadcasts queued when their time comes.
//! - `personal`: a staff member's 1:1 message (through the broadcast path).
//! - `recipients`: an audience resolved to people, with what fan-out needs.
//! - `fanout`: a broadcast into send chunks (quiet hours, dedupe, suppression).
//! - `send`: one chunk through the gateways, exactly once per point.
//! - `tasks`: the one entry point of the plan and send queues.
//! - `receipts`: carrier and mail receipts applied to deliveries and statuses.
//! - `replies`: inbound texts (STOP, START, HELP, others kept).
//! - `inbox`: the replies kept for staff.
//! - `family_schools`: a person's schools as scope reads them (guardians' through their students).
//! - `settings`: district settings.
//! - `sis_keys`: SIS API keys (create, list, rotate, revoke) and authenticating a SIS request by one.
//! - `numbers`: the operator's sending numbers (assign, share, release).

mod broadcasts;
mod cleanup;
pub mod cursors;
#[cfg(test)]
mod down_queue;
mod error;
mod family_schools;
mod fanout;
mod imports;
mod inbox;
mod lists;
mod numbers;
mod people;
mod personal;
mod preferences;
mod rate;
mod receipts;
mod recipients;
mod replies;
pub mod roles;
mod scheduler;
mod send;
mod settings;
mod sis_events;
mod sis_keys;
mod spreadsheet;
mod tasks;
mod templates;

pub use broadcasts::{
    BroadcastReport, BroadcastService, CallCounts, ChannelCounts, DEFAULT_DELIVERIES_PAGE, DEFAULT_SENDER,
    DeliveriesPage, DeliveryView, MAX_DELIVERIES_PAGE, PartProgress, Totals, build_report,
};
pub use cleanup::{CleanupFilter, CleanupItem, CleanupPage, CleanupService, MAX_CLEANUP_PAGE, cleanup_csv};
pub use cursors::{CursorError, CursorKey, CursorKeyError, Cursors};
pub use error::ServiceError;
pub use family_schools::FamilySchools;
pub use fanout::{CHUNK_SIZE, FanoutService, Plan, PlanOutcome, Suppressions, plan_deliveries};
pub use imports::{DeletionPlan, ImportService, NewImport, counts_json, parse_upload_key, upload_key};
pub use inbox::{InboxService, MAX_INBOX_PAGE};
pub use lists::{DEFAULT_MEMBERS_PAGE, ListMember, ListMembers, ListService, MAX_MEMBERS_PAGE, MembersPage, Reach};
pub use numbers::{NumberAssignment, SendingNumberService};
pub use people::PeopleService;
pub use personal::{MIN_STUDENT_AGE, PersonalMessageInput, PersonalMessageService, age_on};
pub use preferences::{
    BatchFilter, BatchMode, BatchRequest, BatchResult, ConsentInput, GridCell, ListResolver, PreferenceService,
    PreferencesUpdate, PreferencesView,
};
pub use receipts::{Applied, ReceiptEvent, ReceiptService};
pub use recipients::{Contactable, Recipient, RecipientResolver, Recipients};
pub use replies::{AnswerRoute, HandledReply, InboundSms, ReplyOutcome, ReplyService};
pub use scheduler::SchedulerService;
pub use send::{CallAgain, ChunkReport, SendService, SendSettings};
pub use settings::SettingsService;
pub use sis_events::{EventsAnswer, MAX_EVENTS_PER_BATCH, RejectedEvent, SisEventService};
pub use sis_keys::{IssuedSisKey, SisCredential, SisKeyService};
pub use spreadsheet::spreadsheet_safe;
pub use tasks::{TaskError, TaskRunner};
pub use templates::{MAX_TEMPLATES, TemplateService};
