//! The local gateway: every HTTP function's routes in one axum server, over
//! the embedded table, with the local adapters for everything else.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use schoolbell::adapters::local::{
    DirFileStore, EmbeddedTable, LocalQueue, Outbox, QueueFile, SentFiles, SimulatedCalls, SimulatedCarrier,
};
use schoolbell::auth::Authenticator;
use schoolbell::domain::{DistrictId, Region};
use schoolbell::http::{no_route, wrong_method};
use schoolbell::ports::{Clock, SystemClock, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::{
    BroadcastService, CursorKey, ImportService, ListService, PreferenceService, ReceiptService, ReplyService,
    SchedulerService, SendSettings, TaskRunner,
};
use schoolbell_api::ApiState;
use schoolbell_sis_events::SisEventsState;
use tokio::net::TcpListener;

use crate::DataDir;

/// Visibility timeout of the local queues, and the send claims' lease.
pub const QUEUE_VISIBILITY: std::time::Duration = std::time::Duration::from_secs(30);

/// How [`LocalGateway::open`] builds the world.
#[derive(Clone)]
pub struct GatewayOptions {
    /// Region that resolves national phone numbers.
    pub region: Region,
    /// What time it is for every service (tests hand in a clock they move).
    pub clock: Arc<dyn Clock>,
    /// Keep the store and the queues in memory instead of the data
    /// directory (benchmarks): queued work is then lost when the process ends.
    pub in_memory: bool,
    /// `serve` runs the queues, receipts and scheduler in the background;
    /// off, whoever holds a [`LocalGateway::drainer`] runs them (tests).
    pub background_workers: bool,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self { region: Region::US, clock: Arc::new(SystemClock), in_memory: false, background_workers: true }
    }
}

/// Everything the local process runs on, built from a data directory: the
/// local adapter of every port, shared by every function mounted here, and
/// the composition root over them.
pub struct LocalGateway {
    /// The embedded store.
    pub table: Arc<EmbeddedTable>,
    /// The simulated carrier (SMS): each text a JSON file in the data
    /// directory's `texts/`; its receipts arrive on `subscribe()`.
    pub carrier: Arc<SimulatedCarrier>,
    /// The email outbox: `.eml` files in the data directory's `outbox/`.
    pub outbox: Arc<Outbox>,
    /// The simulated voice service: every call placed.
    pub calls: Arc<SimulatedCalls>,
    /// Plan tasks (API → fan-out).
    pub plan_queue: Arc<LocalQueue>,
    /// Send tasks (fan-out → send).
    pub send_queue: Arc<LocalQueue>,
    /// Import files, in the data directory's `files/`.
    pub files: Arc<DirFileStore>,
    /// The composition root over the ports above.
    pub services: Services,
    mounted: Mounted,
    auth: Arc<Authenticator>,
    background_workers: bool,
}

/// The services that need optional ports, built once at open (the local
/// gateway has every port, so building them cannot fail later).
#[derive(Clone)]
struct Mounted {
    api: ApiState,
    broadcasts: BroadcastService,
    scheduler: SchedulerService,
    imports: ImportService,
    replies: ReplyService,
    runner: TaskRunner,
    sis_events: SisEventsState,
}

impl LocalGateway {
    /// Opens the store, the signing secret and the cursor key in the data directory.
    pub fn open(data: &DataDir, options: GatewayOptions) -> anyhow::Result<Self> {
        let table = Arc::new(if options.in_memory {
            EmbeddedTable::in_memory()?
        } else {
            let table = EmbeddedTable::open(&data.store_path())?;
            data.secure_store()?;
            table
        });
        let auth = Arc::new(Authenticator::hs256(&data.signing_secret()?)?);
        let texts = SentFiles::in_dir(data.texts_dir(), Arc::clone(&options.clock));
        let carrier = Arc::new(SimulatedCarrier::new().writing_to(texts));
        let outbox = Arc::new(Outbox::in_dir(data.outbox_dir()));
        let calls =
            Arc::new(SimulatedCalls::new().writing_to(SentFiles::in_dir(data.calls_dir(), Arc::clone(&options.clock))));
        let (plan_queue, send_queue) = local_queues(data, options.in_memory)?;
        let files = Arc::new(DirFileStore::new(data.files_dir()));
        let ports = Ports::new(table.clone(), options.clock, Arc::new(TimeOrderedIds))
            .with_sms(carrier.clone())
            .with_email(outbox.clone())
            .with_voice(calls.clone())
            .with_plan_queue(plan_queue.clone())
            .with_send_queue(send_queue.clone())
            .with_files(files.clone());
        let wiring = Wiring {
            region: options.region,
            send: SendSettings { claim_lease: QUEUE_VISIBILITY, ..SendSettings::default() },
            default_district: default_district(),
            cursor_key: CursorKey::new(data.cursor_key()?),
            ..Wiring::default()
        };
        let services = Services::new(ports, wiring);
        let mounted = Mounted {
            api: ApiState::new(&services, Arc::clone(&auth))?,
            broadcasts: services.broadcasts()?,
            scheduler: services.scheduler()?,
            imports: services.imports()?,
            replies: services.replies()?,
            runner: services.task_runner()?,
            sis_events: SisEventsState { keys: services.sis_keys(), events: services.sis_events()? },
        };
        let background_workers = options.background_workers;
        Ok(Self {
            table,
            carrier,
            outbox,
            calls,
            plan_queue,
            send_queue,
            files,
            services,
            mounted,
            auth,
            background_workers,
        })
    }

    /// The region that resolves national phone numbers.
    pub fn region(&self) -> Region {
        self.services.wiring().region
    }

    /// The clock every service reads.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.services.ports().clock)
    }

    /// Every function's routes, `/healthz`, and JSON fallbacks.
    pub fn router(&self) -> Router {
        let api = schoolbell_api::routes(self.mounted.api.clone());
        Router::new()
            .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
            .merge(api)
            .merge(self.preferences_routes())
            .merge(schoolbell_sis_events::routes(self.mounted.sis_events.clone()))
            .merge(crate::receipts_cmd::webhook_routes(self))
            .fallback(no_route)
            .method_not_allowed_fallback(wrong_method)
    }

    /// The preference service over the gateway's table.
    pub fn preference_service(&self) -> PreferenceService {
        self.services.preferences()
    }

    /// The broadcast service: plan tasks go to the plan queue.
    pub fn broadcast_service(&self) -> BroadcastService {
        self.mounted.broadcasts.clone()
    }

    /// The scheduler's hand-off of waiting broadcasts (to the plan queue).
    pub fn scheduler(&self) -> SchedulerService {
        self.mounted.scheduler.clone()
    }

    /// The import service over the gateway's store and files.
    pub fn import_service(&self) -> ImportService {
        self.mounted.imports.clone()
    }

    /// Runs plan and send tasks over the local adapters.
    pub fn task_runner(&self) -> TaskRunner {
        self.mounted.runner.clone()
    }

    /// [`Self::task_runner`] with other send settings (benchmarks, fault tests).
    pub fn task_runner_with(&self, settings: SendSettings) -> anyhow::Result<TaskRunner> {
        Ok(self.services.clone().with_send_settings(settings).task_runner()?)
    }

    /// Handles SMS replies; confirmations go out through the simulated
    /// carrier. Replies to a number no district lists go to the district
    /// named by `SCHOOLBELL_DEFAULT_DISTRICT`, if set.
    pub fn reply_service(&self) -> ReplyService {
        self.mounted.replies.clone()
    }

    /// Applies receipts to deliveries and contact statuses.
    pub fn receipt_service(&self) -> ReceiptService {
        self.services.receipts()
    }

    /// The background work run by hand, for the demo and tests (see
    /// [`crate::workers::Drainer`]); make it before sending anything.
    pub fn drainer(&self) -> crate::workers::Drainer {
        crate::workers::Drainer::new(self)
    }

    /// The list service over the gateway's table.
    pub fn list_service(&self) -> ListService {
        self.services.lists()
    }

    fn preferences_routes(&self) -> Router {
        let state = schoolbell_preferences::PreferencesState {
            preferences: self.preference_service(),
            auth: Arc::clone(&self.auth),
        };
        schoolbell_preferences::routes(state)
    }

    /// Serves on the listener until `shutdown` completes, then finishes
    /// in-flight requests. The store is closed when the gateway is dropped.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = listener.local_addr()?;
        tracing::info!(%address, "schoolbell local gateway listening");
        let background = self
            .background_workers
            .then(|| (tokio::spawn(run_scheduler(self.import_service())), crate::workers::Workers::start(&self)));
        let served = axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await;
        if let Some((scheduler, workers)) = background {
            scheduler.abort();
            workers.stop();
        }
        served?;
        tracing::info!(stats = ?self.table_stats(), "schoolbell local gateway stopped");
        Ok(())
    }

    fn table_stats(&self) -> schoolbell::ports::TableStats {
        schoolbell::ports::Table::stats(self.table.as_ref())
    }
}

/// The plan and send queues: kept in the data directory's queue file, so
/// work queued before a stop (Ctrl-C, a crash) is done after the next start;
/// in memory, they die with the process.
fn local_queues(data: &DataDir, in_memory: bool) -> anyhow::Result<(Arc<LocalQueue>, Arc<LocalQueue>)> {
    let queue = |queue: LocalQueue| Arc::new(queue.with_visibility_timeout(QUEUE_VISIBILITY));
    if in_memory {
        return Ok((queue(LocalQueue::new()), queue(LocalQueue::new())));
    }
    let file = QueueFile::open(&data.queues_path())?;
    Ok((queue(LocalQueue::durable(&file, "plan")?), queue(LocalQueue::durable(&file, "send")?)))
}

/// How often the local gateway looks for scheduled imports that are due
/// (the EventBridge rule's rate on AWS).
pub const SCHEDULER_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// `SCHOOLBELL_DEFAULT_DISTRICT`, if set and valid: the district that takes
/// replies to numbers no district lists.
fn default_district() -> Option<DistrictId> {
    std::env::var("SCHOOLBELL_DEFAULT_DISTRICT").ok().and_then(|d| DistrictId::parse(d).ok())
}

async fn run_scheduler(imports: schoolbell::services::ImportService) {
    let mut tick = tokio::time::interval(SCHEDULER_TICK);
    loop {
        tick.tick().await;
        match imports.run_due().await {
            Ok(runs) if !runs.is_empty() => tracing::info!(runs = runs.len(), "scheduled imports ran"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "scheduled imports failed"),
        }
    }
}
