//! The scheduler's hand-off: broadcasts waiting for their `send_at`, or for
//! the end of the district's quiet hours (their texts), are queued for
//! planning once their time has come on the clock, and busy or unanswered
//! calls whose next try is due go to the send queue. Run every minute (the
//! fan-out worker's EventBridge rule on AWS; the local gateway's tick).

use std::sync::Arc;

use crate::domain::{BroadcastId, DistrictId, Task};
use crate::ports::{Clock, WorkQueue};
use crate::services::ServiceError;
use crate::store::{BroadcastStore, CallRetryStore, Stores};

/// Queues one broadcast's plan task: what creating a broadcast and the
/// scheduler both do.
pub(crate) async fn queue_plan(
    queue: &dyn WorkQueue,
    district: &DistrictId,
    broadcast: &BroadcastId,
) -> Result<(), ServiceError> {
    let task = Task::PlanV1 { district: district.clone(), broadcast: broadcast.clone() };
    Ok(queue.send(vec![task.to_body()]).await?)
}

/// Releases waiting broadcasts.
#[derive(Clone)]
pub struct SchedulerService {
    store: BroadcastStore,
    call_retries: CallRetryStore,
    plan_queue: Arc<dyn WorkQueue>,
    send_queue: Arc<dyn WorkQueue>,
    clock: Arc<dyn Clock>,
}

impl SchedulerService {
    /// The scheduler over the stores; plan tasks go to `plan_queue`, calls
    /// to place again to `send_queue`.
    pub fn new(
        stores: &Stores,
        plan_queue: Arc<dyn WorkQueue>,
        send_queue: Arc<dyn WorkQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store: stores.broadcasts.clone(),
            call_retries: stores.call_retries.clone(),
            plan_queue,
            send_queue,
            clock,
        }
    }

    /// Queues the plan of every broadcast whose time has come, and every
    /// call whose next try is due; answers how many broadcasts. An entry
    /// leaves its index only once its task is queued, so a failure midway
    /// leaves the rest for the next run.
    pub async fn run_due(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let due = self.store.due(now).await?;
        for entry in &due {
            queue_plan(self.plan_queue.as_ref(), &entry.district, &entry.broadcast).await?;
            self.store.unschedule(&entry.entry).await?;
        }
        for call in self.call_retries.due(now).await? {
            let task = Task::CallAgainV1 {
                district: call.district.clone(),
                broadcast: call.broadcast.clone(),
                point: call.point.clone(),
                attempt: call.attempt,
            };
            self.send_queue.send(vec![task.to_body()]).await?;
            self.call_retries.remove(&call.entry).await?;
        }
        Ok(due.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::{EmbeddedTable, LocalQueue};
    use crate::ports::FixedClock;

    #[tokio::test]
    async fn a_waiting_broadcast_is_queued_once_when_its_time_comes_and_not_before() {
        let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let clock = Arc::new(FixedClock::midday_today());
        let queue = Arc::new(LocalQueue::new());
        let scheduler = SchedulerService::new(&stores, queue.clone(), Arc::new(LocalQueue::new()), clock.clone());
        let district = DistrictId::parse("d-1").unwrap();
        let broadcast = BroadcastId::parse("b-1").unwrap();
        let at = clock.now() + chrono::Duration::hours(1);
        stores.broadcasts.schedule(&district, &broadcast, at).await.unwrap();

        assert_eq!(scheduler.run_due().await.unwrap(), 0, "an hour early");
        clock.set(at);
        assert_eq!(scheduler.run_due().await.unwrap(), 1);
        assert_eq!(scheduler.run_due().await.unwrap(), 0, "queued once");
        let queued = queue.receive(10, std::time::Duration::ZERO).await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(Task::from_body(&queued[0].body), Ok(Task::PlanV1 { district, broadcast }));
    }

    #[tokio::test]
    async fn a_call_to_place_again_goes_to_the_send_queue_once_its_try_is_due() {
        let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let clock = Arc::new(FixedClock::midday_today());
        let send_queue = Arc::new(LocalQueue::new());
        let scheduler = SchedulerService::new(&stores, Arc::new(LocalQueue::new()), send_queue.clone(), clock.clone());
        let call = crate::store::DueCall {
            district: DistrictId::parse("d-1").unwrap(),
            broadcast: BroadcastId::parse("b-1").unwrap(),
            point: crate::domain::DeliveryPoint::parse("voice:+16175550111").unwrap(),
            attempt: 2,
            entry: String::new(),
        };
        let at = clock.now() + chrono::Duration::minutes(5);
        stores.call_retries.schedule(&call, at).await.unwrap();
        scheduler.run_due().await.unwrap();
        assert!(send_queue.receive(10, std::time::Duration::ZERO).await.unwrap().is_empty(), "not yet");
        clock.set(at);
        scheduler.run_due().await.unwrap();
        scheduler.run_due().await.unwrap();
        let queued = send_queue.receive(10, std::time::Duration::ZERO).await.unwrap();
        assert_eq!(queued.len(), 1, "queued once");
        let expected =
            Task::CallAgainV1 { district: call.district, broadcast: call.broadcast, point: call.point, attempt: 2 };
        assert_eq!(Task::from_body(&queued[0].body), Ok(expected));
    }
}
