//! SIS events through Amazon EventBridge: the stack's SIS event bus takes
//! events with source `schoolbell.sis` and detail-type `SIS Events`, whose
//! detail is `{"district": "...", "events": [...]}` (the same events as the
//! HTTP route's), and a rule hands them to this function.
//!
//! Trust: no SIS key travels with them; only the principals the operator
//! lets put events on the bus (its resource policy: one integration per
//! district) can send them, so the district named in the detail is the
//! operator's word. Rejected events are logged (they are permanent); a
//! failure of ours answers an error, so Lambda retries the invocation and
//! the events' ids keep a retry from sending twice.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use schoolbell::domain::DistrictId;
use schoolbell::services::{EventsAnswer, ServiceError, SisEventService};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The events' source on the bus.
pub const SOURCE: &str = "schoolbell.sis";
/// The events' detail type.
pub const DETAIL_TYPE: &str = "SIS Events";
/// What the broadcasts record as their sender for events from the bus.
pub const BRIDGE_SENDER: &str = "eventbridge";

/// The detail of a bus event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SisEventsDetail {
    /// The district the events are for.
    pub district: String,
    /// The events.
    pub events: Vec<Value>,
}

/// Why a bus event was not handled.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// Not an event of ours (another source or detail type, a bad district):
    /// retrying cannot help.
    #[error("{0}")]
    Refused(String),
    /// Handling it failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl BridgeError {
    /// Whether Lambda's retry of the invocation may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            BridgeError::Refused(_) => false,
            BridgeError::Service(error) => error.is_retryable(),
        }
    }
}

/// Handles one bus event; answers what its events came to.
pub async fn handle_bridge_event(
    events: &SisEventService,
    event: EventBridgeEvent<SisEventsDetail>,
) -> Result<EventsAnswer, BridgeError> {
    if event.source != SOURCE || event.detail_type != DETAIL_TYPE {
        return Err(BridgeError::Refused(format!(
            "expected source `{SOURCE}` and detail-type `{DETAIL_TYPE}`, got `{}` / `{}`",
            event.source, event.detail_type
        )));
    }
    let district =
        DistrictId::parse(&event.detail.district).map_err(|e| BridgeError::Refused(format!("detail.district: {e}")))?;
    let answer = events.receive(&district, BRIDGE_SENDER, &event.detail.events).await?;
    for rejected in &answer.rejected {
        tracing::warn!(%district, index = rejected.index, code = rejected.code, message = %rejected.message,
            "SIS event from the bus rejected");
    }
    Ok(answer)
}
