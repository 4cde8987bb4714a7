//! Every typed store over one table: what the composition root hands the
//! services, so that no service holds the table itself.

use std::sync::Arc;

use super::{
    BroadcastStore, CallRetryStore, EmailStatusStore, ImportStore, ListStore, PeopleStore, PreferenceStore, ReplyStore,
    RosterIndex, SendingNumberStore, SettingsHistoryStore, SisEventStore, SmsPairStore, SmsStatusStore,
    UnmatchedReceiptStore, roles::RoleStore,
};
use crate::domain::{DistrictId, ImportId};
use crate::ports::Table;
use crate::store::RosterWriter;

/// The typed stores, each a cheap handle over the same table.
#[derive(Clone)]
pub struct Stores {
    /// People, contact points, links and what fan-out reads of a person.
    pub people: PeopleStore,
    /// Schools, memberships, sections and profiles, as lists read them.
    pub roster: RosterIndex,
    /// Saved lists.
    pub lists: ListStore,
    /// Broadcasts, deliveries, plan checkpoints, the schedule, district settings.
    pub broadcasts: BroadcastStore,
    /// Preferences, their audit trail and the district's defaults.
    pub preferences: PreferenceStore,
    /// Numbers' SMS statuses.
    pub sms_status: SmsStatusStore,
    /// Opt-outs by (sending number, recipient), and who last texted whom.
    pub sms_pairs: SmsPairStore,
    /// Audited changes of district settings.
    pub settings_history: SettingsHistoryStore,
    /// Addresses' email statuses.
    pub email_status: EmailStatusStore,
    /// Import definitions and runs.
    pub imports: ImportStore,
    /// Custom roles and assignments.
    pub roles: RoleStore,
    /// Inbound markers and kept replies.
    pub replies: ReplyStore,
    /// The deployment's sending numbers and who owns each.
    pub sending_numbers: SendingNumberStore,
    /// Receipts kept until their message is recorded.
    pub unmatched_receipts: UnmatchedReceiptStore,
    /// Busy and unanswered calls waiting for their next try.
    pub call_retries: CallRetryStore,
    /// SIS events seen, and each student's attendance message of the day.
    pub sis_events: SisEventStore,
    /// The district's saved message templates.
    pub templates: super::TemplateStore,
    /// SIS API keys and the key-id lookup.
    pub sis_keys: super::SisKeyStore,
    table: Arc<dyn Table>,
}

impl Stores {
    /// Every store over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self {
            people: PeopleStore::new(Arc::clone(&table)),
            roster: RosterIndex::new(Arc::clone(&table)),
            lists: ListStore::new(Arc::clone(&table)),
            broadcasts: BroadcastStore::new(Arc::clone(&table)),
            preferences: PreferenceStore::new(Arc::clone(&table)),
            sms_status: SmsStatusStore::new(Arc::clone(&table)),
            sms_pairs: SmsPairStore::new(Arc::clone(&table)),
            settings_history: SettingsHistoryStore::new(Arc::clone(&table)),
            email_status: EmailStatusStore::new(Arc::clone(&table)),
            imports: ImportStore::new(Arc::clone(&table)),
            roles: RoleStore::new(Arc::clone(&table)),
            replies: ReplyStore::new(Arc::clone(&table)),
            unmatched_receipts: UnmatchedReceiptStore::new(Arc::clone(&table)),
            sending_numbers: SendingNumberStore::new(Arc::clone(&table)),
            call_retries: CallRetryStore::new(Arc::clone(&table)),
            sis_events: SisEventStore::new(Arc::clone(&table)),
            templates: super::TemplateStore::new(Arc::clone(&table)),
            sis_keys: super::SisKeyStore::new(Arc::clone(&table)),
            table,
        }
    }

    /// A writer for one import run's records (buffers and batches its writes).
    pub fn roster_writer(&self, district: DistrictId, import: ImportId) -> RosterWriter {
        RosterWriter::new(Arc::clone(&self.table), district, import)
    }
}
