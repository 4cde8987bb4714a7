//! The local gateway: every HTTP function's routes in one axum server, over
//! the embedded table, with the local adapters for everything else.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use schoolbell::adapters::local::{DirFileStore, EmbeddedTable, LocalQueue, Outbox, SimulatedCarrier};
use schoolbell::auth::Authenticator;
use schoolbell::domain::Region;
use schoolbell::http::{no_route, wrong_method};
use schoolbell::services::PeopleService;
use schoolbell::store::PeopleStore;
use schoolbell_api::ApiState;
use tokio::net::TcpListener;

use schoolbell::services::SendSettings;

use crate::DataDir;

/// Visibility timeout of the local queues, and the send claims' lease.
pub const QUEUE_VISIBILITY: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything the local process runs on, built from a data directory: the
/// local adapter of every port, shared by every function mounted here.
pub struct LocalGateway {
    /// The embedded store.
    pub table: Arc<EmbeddedTable>,
    /// The simulated carrier (SMS); its receipts arrive on `subscribe()`.
    pub carrier: Arc<SimulatedCarrier>,
    /// The email outbox: `.eml` files in the data directory's `outbox/`.
    pub outbox: Arc<Outbox>,
    /// Plan tasks (API → fan-out).
    pub plan_queue: Arc<LocalQueue>,
    /// Send tasks (fan-out → send).
    pub send_queue: Arc<LocalQueue>,
    /// Import files, in the data directory's `files/`.
    pub files: Arc<DirFileStore>,
    auth: Arc<Authenticator>,
    region: Region,
}

impl LocalGateway {
    /// Opens the store and the signing secret in the data directory.
    pub fn open(data: &DataDir, region: Region) -> anyhow::Result<Self> {
        let table = Arc::new(EmbeddedTable::open(&data.store_path())?);
        let auth = Arc::new(Authenticator::hs256(&data.signing_secret()?)?);
        Ok(Self {
            table,
            carrier: Arc::new(SimulatedCarrier::new()),
            outbox: Arc::new(Outbox::in_dir(data.outbox_dir())),
            plan_queue: Arc::new(LocalQueue::new().with_visibility_timeout(QUEUE_VISIBILITY)),
            send_queue: Arc::new(LocalQueue::new().with_visibility_timeout(QUEUE_VISIBILITY)),
            files: Arc::new(DirFileStore::new(data.files_dir())),
            auth,
            region,
        })
    }

    /// The region that resolves national phone numbers.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Every function's routes, `/healthz`, and JSON fallbacks.
    pub fn router(&self) -> Router {
        let people = PeopleService::new(PeopleStore::new(self.table.clone()), self.region);
        let imports = crate::import_cmd::service(self);
        let api = schoolbell_api::routes(ApiState {
            people,
            cleanup: schoolbell::services::CleanupService::new(self.table.clone()),
            imports,
            lists: self.list_service(),
            roles: schoolbell::services::roles::RoleService::new(
                self.table.clone(),
                Arc::new(schoolbell::ports::SystemClock),
            ),
            broadcasts: self.broadcast_service(),
            personal: schoolbell::services::PersonalMessageService::new(
                self.broadcast_service(),
                PeopleStore::new(self.table.clone()),
            ),
            auth: Arc::clone(&self.auth),
        });
        Router::new()
            .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
            .merge(api)
            .merge(self.preferences_routes())
            .merge(crate::receipts_cmd::webhook_routes(self))
            .fallback(no_route)
            .method_not_allowed_fallback(wrong_method)
    }

    /// The preference service over the gateway's table.
    pub fn preference_service(&self) -> schoolbell::services::PreferenceService {
        schoolbell::services::PreferenceService::new(
            self.table.clone(),
            schoolbell::domain::PreferenceDefaults::default(),
            Arc::new(schoolbell::ports::SystemClock),
            Arc::new(schoolbell::ports::RandomIds),
        )
        .with_lists(Arc::new(self.list_service()))
    }

    /// The broadcast service: plan tasks go to the plan queue.
    pub fn broadcast_service(&self) -> schoolbell::services::BroadcastService {
        schoolbell::services::BroadcastService::new(
            self.table.clone(),
            self.list_service(),
            self.plan_queue.clone(),
            Arc::new(schoolbell::ports::SystemClock),
            Arc::new(schoolbell::ports::RandomIds),
        )
    }

    /// Runs plan and send tasks over the local adapters.
    pub fn task_runner(&self) -> schoolbell::services::TaskRunner {
        self.task_runner_with(SendSettings { claim_lease: QUEUE_VISIBILITY, ..SendSettings::default() })
    }

    /// [`Self::task_runner`] with other send settings (benchmarks, fault tests).
    pub fn task_runner_with(&self, settings: SendSettings) -> schoolbell::services::TaskRunner {
        let clock = Arc::new(schoolbell::ports::SystemClock);
        let fanout = schoolbell::services::FanoutService::new(
            self.table.clone(),
            self.list_service(),
            self.send_queue.clone(),
            clock.clone(),
        );
        let send = schoolbell::services::SendService::new(
            self.table.clone(),
            self.carrier.clone(),
            self.outbox.clone(),
            clock,
            settings,
        );
        schoolbell::services::TaskRunner::new(fanout, send)
    }

    /// Handles SMS replies; confirmations go out through the simulated
    /// carrier. Replies to a number no district lists go to the district
    /// named by `SCHOOLBELL_DEFAULT_DISTRICT`, if set.
    pub fn reply_service(&self) -> schoolbell::services::ReplyService {
        let default_district = std::env::var("SCHOOLBELL_DEFAULT_DISTRICT")
            .ok()
            .and_then(|d| schoolbell::domain::DistrictId::parse(d).ok());
        schoolbell::services::ReplyService::new(
            self.table.clone(),
            self.carrier.clone(),
            Arc::new(schoolbell::ports::SystemClock),
            default_district,
        )
    }

    /// Applies receipts to deliveries and contact statuses.
    pub fn receipt_service(&self) -> schoolbell::services::ReceiptService {
        schoolbell::services::ReceiptService::new(self.table.clone(), Arc::new(schoolbell::ports::SystemClock))
    }

    /// Runs both queues to empty in this task (see [`crate::workers::drain`]).
    pub async fn drain(&self) -> usize {
        crate::workers::drain(&self.plan_queue, &self.send_queue, &self.task_runner()).await
    }

    /// The list service over the gateway's table.
    pub fn list_service(&self) -> schoolbell::services::ListService {
        schoolbell::services::ListService::new(
            self.table.clone(),
            Arc::new(schoolbell::ports::SystemClock),
            Arc::new(schoolbell::ports::RandomIds),
        )
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
        let scheduler = tokio::spawn(run_scheduler(crate::import_cmd::service(&self)));
        let workers = crate::workers::Workers::start(&self);
        let served = axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await;
        scheduler.abort();
        workers.stop();
        served?;
        tracing::info!(stats = ?self.table_stats(), "schoolbell local gateway stopped");
        Ok(())
    }

    fn table_stats(&self) -> schoolbell::ports::TableStats {
        schoolbell::ports::Table::stats(self.table.as_ref())
    }
}

/// How often the local gateway looks for scheduled imports that are due
/// (the EventBridge rule's rate on AWS).
pub const SCHEDULER_TICK: std::time::Duration = std::time::Duration::from_secs(60);

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
