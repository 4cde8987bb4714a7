//! The composition root: the one place that turns ports into services.
//!
//! Every Lambda `main.rs`, the local gateway, the benchmarks and the tests
//! hand [`Ports`] (and [`Wiring`]) to [`Services`] and take the services
//! they mount from it. No service builds another service, a clock or an id
//! generator: what a service needs comes from here, so a test that hands in
//! a [`crate::ports::FixedClock`] decides what time it is for every rule at
//! once (quiet hours, schedules, ages, audit stamps, TTLs).
//!
//! A function that runs without some port (the API sends no texts) leaves it
//! `None`; asking for a service that needs it answers [`MissingPort`] at
//! start-up, never a half-wired service at the first request.

use std::sync::Arc;

use crate::domain::{DistrictId, PreferenceDefaults, Region};
use crate::ports::{Clock, EmailGateway, FileStore, Ids, SmsGateway, Table, VoiceGateway, WorkQueue};
use crate::services::cursors::{CursorKey, Cursors};
use crate::services::roles::RoleService;
use crate::services::{
    BroadcastService, CleanupService, FanoutService, ImportService, InboxService, ListService, PeopleService,
    PersonalMessageService, PreferenceService, ReceiptService, RecipientResolver, ReplyService, SchedulerService,
    SendService, SendSettings, SendingNumberService, SettingsService, TaskRunner,
};
use crate::store::{PeopleStore, Stores};

/// The outside world a deployment runs on: the AWS adapters on Lambda, the
/// local ones in `schoolbell serve`, fixed ones in tests.
#[derive(Clone)]
pub struct Ports {
    /// The store's table.
    pub table: Arc<dyn Table>,
    /// What time it is, for every service.
    pub clock: Arc<dyn Clock>,
    /// Fresh identifiers (broadcasts, lists, runs, events).
    pub ids: Arc<dyn Ids>,
    /// Texts out (send worker, keyword answers).
    pub sms: Option<Arc<dyn SmsGateway>>,
    /// Email out (send worker).
    pub email: Option<Arc<dyn EmailGateway>>,
    /// Calls out (send worker); without it, a call fails as the sender's error.
    pub voice: Option<Arc<dyn VoiceGateway>>,
    /// Plan tasks: the API and the scheduler queue broadcasts here.
    pub plan_queue: Option<Arc<dyn WorkQueue>>,
    /// Send tasks: fan-out queues chunks here.
    pub send_queue: Option<Arc<dyn WorkQueue>>,
    /// Import files.
    pub files: Option<Arc<dyn FileStore>>,
}

impl Ports {
    /// The three ports every function has; the rest are added with the `with_` methods.
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self { table, clock, ids, sms: None, email: None, voice: None, plan_queue: None, send_queue: None, files: None }
    }

    /// Adds the SMS gateway.
    #[must_use]
    pub fn with_sms(mut self, sms: Arc<dyn SmsGateway>) -> Self {
        self.sms = Some(sms);
        self
    }

    /// Adds the email gateway.
    #[must_use]
    pub fn with_email(mut self, email: Arc<dyn EmailGateway>) -> Self {
        self.email = Some(email);
        self
    }

    /// Adds the plan queue.
    #[must_use]
    pub fn with_plan_queue(mut self, queue: Arc<dyn WorkQueue>) -> Self {
        self.plan_queue = Some(queue);
        self
    }

    /// Adds the send queue.
    #[must_use]
    pub fn with_send_queue(mut self, queue: Arc<dyn WorkQueue>) -> Self {
        self.send_queue = Some(queue);
        self
    }

    /// Adds the voice gateway.
    #[must_use]
    pub fn with_voice(mut self, voice: Arc<dyn VoiceGateway>) -> Self {
        self.voice = Some(voice);
        self
    }

    /// Adds the file store.
    #[must_use]
    pub fn with_files(mut self, files: Arc<dyn FileStore>) -> Self {
        self.files = Some(files);
        self
    }
}

/// Deployment settings the services are built with (not ports: plain values).
#[derive(Debug, Clone)]
pub struct Wiring {
    /// Region that resolves national phone numbers.
    pub region: Region,
    /// Rate, lease and retries of the send step.
    pub send: SendSettings,
    /// Takes SMS replies to numbers no district lists.
    pub default_district: Option<DistrictId>,
    /// Preferences of districts that set no defaults.
    pub preference_defaults: PreferenceDefaults,
    /// Seals the page cursors the API hands out; the same in every process
    /// of a deployment, or a cursor from one is refused by the next.
    pub cursor_key: CursorKey,
}

impl Default for Wiring {
    fn default() -> Self {
        Self {
            region: Region::US,
            send: SendSettings::default(),
            default_district: None,
            preference_defaults: PreferenceDefaults::default(),
            cursor_key: CursorKey::default(),
        }
    }
}

/// A service was asked for whose port this process was not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this process has no {0} port; it cannot run the services that need one")]
pub struct MissingPort(pub &'static str);

impl MissingPort {
    /// Never: a missing port is a deployment mistake, fixed by configuration.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

fn need<T: ?Sized>(port: &Option<Arc<T>>, name: &'static str) -> Result<Arc<T>, MissingPort> {
    port.clone().ok_or(MissingPort(name))
}

/// Builds every service from the ports. Cheap to call again: services are
/// handles over the shared ports.
#[derive(Clone)]
pub struct Services {
    ports: Ports,
    wiring: Wiring,
    stores: Stores,
}

impl Services {
    /// The root over `ports`, with `wiring`.
    pub fn new(ports: Ports, wiring: Wiring) -> Self {
        let stores = Stores::new(Arc::clone(&ports.table));
        Self { ports, wiring, stores }
    }

    /// The same root with other send settings (the send worker's, a benchmark's).
    #[must_use]
    pub fn with_send_settings(mut self, send: SendSettings) -> Self {
        self.wiring.send = send;
        self
    }

    /// The ports it was given.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The settings it was given.
    pub fn wiring(&self) -> &Wiring {
        &self.wiring
    }

    /// People and their contact points.
    pub fn people(&self) -> PeopleService {
        PeopleService::new(self.people_store(), self.wiring.region)
    }

    /// The people store (services that read people, tests that look behind the API).
    pub fn people_store(&self) -> PeopleStore {
        self.stores.people.clone()
    }

    /// Every typed store over the table (benchmarks and tests that look behind the services).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Roles, custom roles and assignments; the grants every check reads.
    pub fn roles(&self) -> RoleService {
        RoleService::new(&self.stores, Arc::clone(&self.ports.clock))
    }

    /// Saved recipient lists.
    pub fn lists(&self) -> ListService {
        ListService::new(&self.stores, Arc::clone(&self.ports.clock), Arc::clone(&self.ports.ids), self.cursors())
    }

    /// Seals and opens page cursors with the deployment's key.
    pub fn cursors(&self) -> Cursors {
        Cursors::new(&self.wiring.cursor_key)
    }

    /// The contact clean-up list.
    pub fn cleanup(&self) -> CleanupService {
        CleanupService::new(&self.stores, self.roles(), self.cursors())
    }

    /// Preferences, the batch tool (lists as filters) and the audit trail.
    pub fn preferences(&self) -> PreferenceService {
        PreferenceService::new(
            &self.stores,
            self.wiring.preference_defaults.clone(),
            self.roles(),
            Arc::clone(&self.ports.clock),
            Arc::clone(&self.ports.ids),
        )
        .with_lists(Arc::new(self.lists()))
    }

    /// Imports: definitions, files, runs (needs the file store).
    pub fn imports(&self) -> Result<ImportService, MissingPort> {
        Ok(ImportService::new(
            &self.stores,
            need(&self.ports.files, "file store")?,
            (Arc::clone(&self.ports.clock), Arc::clone(&self.ports.ids)),
            self.roles(),
            self.wiring.region,
        ))
    }

    /// District settings.
    pub fn settings(&self) -> SettingsService {
        SettingsService::new(&self.stores, self.roles(), Arc::clone(&self.ports.clock), Arc::clone(&self.ports.ids))
    }

    /// The operator's sending numbers.
    pub fn sending_numbers(&self) -> SendingNumberService {
        SendingNumberService::new(&self.stores, self.wiring.region)
    }

    /// The replies inbox staff read.
    pub fn inbox(&self) -> InboxService {
        InboxService::new(&self.stores, self.roles())
    }

    /// SIS API keys; their secrets are sealed under a key derived from the cursor key.
    pub fn sis_keys(&self) -> crate::services::SisKeyService {
        crate::services::SisKeyService::new(
            &self.stores,
            self.roles(),
            Arc::clone(&self.ports.clock),
            &self.wiring.cursor_key,
        )
    }

    /// The district's saved message templates.
    pub fn templates(&self) -> crate::services::TemplateService {
        crate::services::TemplateService::new(
            &self.stores,
            self.roles(),
            Arc::clone(&self.ports.clock),
            Arc::clone(&self.ports.ids),
        )
    }

    /// SIS events into broadcasts, exactly once (needs the plan queue).
    pub fn sis_events(&self) -> Result<crate::services::SisEventService, MissingPort> {
        Ok(crate::services::SisEventService::new(
            &self.stores,
            need(&self.ports.plan_queue, "plan queue")?,
            Arc::clone(&self.ports.clock),
            Arc::clone(&self.ports.ids),
        ))
    }

    /// The scheduler's hand-off of waiting broadcasts and calls to place
    /// again (needs the plan and send queues).
    pub fn scheduler(&self) -> Result<SchedulerService, MissingPort> {
        Ok(SchedulerService::new(
            &self.stores,
            need(&self.ports.plan_queue, "plan queue")?,
            need(&self.ports.send_queue, "send queue")?,
            Arc::clone(&self.ports.clock),
        ))
    }

    /// Broadcasts and their reports (needs the plan queue).
    pub fn broadcasts(&self) -> Result<BroadcastService, MissingPort> {
        Ok(BroadcastService::new(
            &self.stores,
            self.lists(),
            self.roles(),
            need(&self.ports.plan_queue, "plan queue")?,
            Arc::clone(&self.ports.clock),
            Arc::clone(&self.ports.ids),
            self.cursors(),
        ))
    }

    /// Staff members' 1:1 messages (through the broadcast path).
    pub fn personal(&self) -> Result<PersonalMessageService, MissingPort> {
        Ok(PersonalMessageService::new(self.broadcasts()?, self.people_store(), Arc::clone(&self.ports.clock)))
    }

    /// Fan-out: a broadcast into send chunks (needs the send queue).
    pub fn fanout(&self) -> Result<FanoutService, MissingPort> {
        Ok(FanoutService::new(
            &self.stores,
            RecipientResolver::new(&self.stores, self.lists(), Arc::clone(&self.ports.clock)),
            self.roles(),
            need(&self.ports.send_queue, "send queue")?,
            Arc::clone(&self.ports.clock),
        ))
    }

    /// The send step (needs the SMS and email gateways; calls go through
    /// the voice gateway when there is one).
    pub fn send(&self) -> Result<SendService, MissingPort> {
        Ok(SendService::new(
            &self.stores,
            need(&self.ports.sms, "SMS gateway")?,
            need(&self.ports.email, "email gateway")?,
            self.ports.voice.clone(),
            Arc::clone(&self.ports.clock),
            Arc::clone(&self.ports.ids),
            self.wiring.send,
        ))
    }

    /// Receipts applied to deliveries and contact statuses.
    pub fn receipts(&self) -> ReceiptService {
        ReceiptService::new(&self.stores, Arc::clone(&self.ports.clock))
    }

    /// SMS replies: keywords answered through the SMS gateway, others kept for staff.
    pub fn replies(&self) -> Result<ReplyService, MissingPort> {
        Ok(ReplyService::new(
            &self.stores,
            need(&self.ports.sms, "SMS gateway")?,
            Arc::clone(&self.ports.clock),
            self.wiring.default_district.clone(),
        ))
    }

    /// Runs plan and send tasks (the local gateway).
    pub fn task_runner(&self) -> Result<TaskRunner, MissingPort> {
        Ok(TaskRunner::new(self.fanout()?, self.send()?))
    }

    /// Runs plan tasks only (the fan-out worker).
    pub fn planner(&self) -> Result<TaskRunner, MissingPort> {
        Ok(TaskRunner::planner(self.fanout()?))
    }

    /// Runs send tasks only (the send worker).
    pub fn sender(&self) -> Result<TaskRunner, MissingPort> {
        Ok(TaskRunner::sender(self.send()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;
    use crate::ports::{FixedClock, SequentialIds};

    fn bare() -> Services {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        let clock = Arc::new(FixedClock::new(chrono::DateTime::UNIX_EPOCH));
        Services::new(Ports::new(table, clock, Arc::new(SequentialIds::new("t"))), Wiring::default())
    }

    #[test]
    fn a_service_whose_port_is_missing_is_refused_by_name_and_the_others_build() {
        let services = bare();
        assert_eq!(services.broadcasts().err(), Some(MissingPort("plan queue")));
        assert_eq!(services.send().err(), Some(MissingPort("SMS gateway")));
        assert_eq!(services.imports().err(), Some(MissingPort("file store")));
        assert_eq!(services.fanout().err(), Some(MissingPort("send queue")));
        let _ = (services.people(), services.lists(), services.cleanup(), services.preferences(), services.receipts());
    }
}
