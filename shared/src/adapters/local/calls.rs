//! `SimulatedCalls`: the `VoiceGateway` port in process. Every call is
//! taken and remembered (the most recent [`KEPT_CALLS`], so a long-running
//! local gateway keeps bounded memory), so a test or the demo can see which
//! number was called, from which number, with which script.

use async_trait::async_trait;

use super::recent::Recent;
use crate::domain::PhoneNumber;
use crate::ports::{GatewayError, OutboundCall, PlacedCall, VoiceGateway, VoiceScript};

/// How many calls are remembered.
pub const KEPT_CALLS: usize = 10_000;

/// A call the simulated voice service took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedCall {
    /// Who was called.
    pub to: PhoneNumber,
    /// The number it came from (`None`: the service's default).
    pub from: Option<PhoneNumber>,
    /// What was read.
    pub script: VoiceScript,
    /// The id the service answered with (`call-<uuid>`).
    pub provider_message_id: String,
}

/// The simulated voice service.
#[derive(Debug)]
pub struct SimulatedCalls {
    placed: Recent<SimulatedCall>,
}

impl Default for SimulatedCalls {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedCalls {
    /// A service that has placed no call yet.
    pub fn new() -> Self {
        Self { placed: Recent::new(KEPT_CALLS) }
    }

    /// The calls placed, oldest first (the most recent [`KEPT_CALLS`]).
    pub fn placed(&self) -> Vec<SimulatedCall> {
        self.placed.to_vec()
    }
}

#[async_trait]
impl VoiceGateway for SimulatedCalls {
    async fn call(&self, call: &OutboundCall) -> Result<PlacedCall, GatewayError> {
        let provider_message_id = format!("call-{}", uuid::Uuid::new_v4());
        self.placed.push(SimulatedCall {
            to: call.to.clone(),
            from: call.from.clone(),
            script: call.script.clone(),
            provider_message_id: provider_message_id.clone(),
        });
        tracing::debug!(to = %call.to, %provider_message_id, "simulated call placed");
        Ok(PlacedCall { provider_message_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_call_is_kept_with_its_own_id_and_only_the_most_recent_are_kept() {
        let calls = SimulatedCalls::new();
        let to = PhoneNumber::parse_e164("+16175550142").unwrap();
        let mut ids = std::collections::HashSet::new();
        for n in 0..KEPT_CALLS + 5 {
            let call = OutboundCall {
                to: to.clone(),
                from: None,
                script: VoiceScript::Text(format!("call {n}")),
                language: None,
            };
            ids.insert(calls.call(&call).await.unwrap().provider_message_id);
        }
        assert_eq!(ids.len(), KEPT_CALLS + 5, "a fresh id each");
        let placed = calls.placed();
        assert_eq!(placed.len(), KEPT_CALLS);
        assert_eq!(placed.first().map(|c| c.script.as_str().to_string()), Some("call 5".to_string()));
    }
}
