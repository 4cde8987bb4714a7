//! `SimulatedCalls`: the `VoiceGateway` port in process. Every call is
//! taken and remembered (the most recent [`KEPT_CALLS`], so a long-running
//! local gateway keeps bounded memory), and answered with a call event
//! whose outcome the number decides, so retries and the report's call
//! counts run without a voice service.
//!
//! With a directory ([`SimulatedCalls::writing_to`]) each call is also
//! written as one JSON file (to, from, script, outcome), as the carrier
//! writes texts.
//!
//! The magic numbers are the simulated carrier's fictional `+1 NPA
//! 555-01YY` lines ([`CALL_MAGIC_NUMBERS`]); every other number answers. A
//! text magic number that is out of service (`02`) is out of service for
//! calls too; a landline (`00`) answers calls.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::broadcast;

use super::SentFiles;
use super::recent::Recent;
use crate::domain::PhoneNumber;
use crate::ports::{GatewayError, OutboundCall, PlacedCall, VoiceGateway, VoiceScript};

/// How many calls are remembered.
pub const KEPT_CALLS: usize = 10_000;

/// How many call events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 4096;

/// What a simulated call comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimulatedCallOutcome {
    /// A person picked up and heard the script.
    Answered,
    /// An answering machine took it.
    Machine,
    /// The line was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The number is disconnected (out of service).
    Disconnected,
    /// The call did not go through.
    Failed,
}

impl SimulatedCallOutcome {
    /// The outcome's name, as the README and the call files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SimulatedCallOutcome::Answered => "answered",
            SimulatedCallOutcome::Machine => "machine",
            SimulatedCallOutcome::Busy => "busy",
            SimulatedCallOutcome::NoAnswer => "no_answer",
            SimulatedCallOutcome::Disconnected => "disconnected",
            SimulatedCallOutcome::Failed => "failed",
        }
    }
}

/// A magic number for calls: its line (`555-01YY`) and what a call to it comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallMagicNumber {
    /// The last two digits, `YY` in `555-01YY`.
    pub last_two: &'static str,
    /// An example number with that line (area code 617).
    pub example: &'static str,
    /// What the first call to it comes to.
    pub first: SimulatedCallOutcome,
    /// What every later call to it comes to.
    pub later: SimulatedCallOutcome,
    /// What the number stands for, for the README.
    pub meaning: &'static str,
}

/// The simulated voice service's magic numbers.
pub const CALL_MAGIC_NUMBERS: &[CallMagicNumber] = &[
    CallMagicNumber {
        last_two: "02",
        example: "+16175550102",
        first: SimulatedCallOutcome::Disconnected,
        later: SimulatedCallOutcome::Disconnected,
        meaning: "out of service (as for texts)",
    },
    CallMagicNumber {
        last_two: "10",
        example: "+16175550110",
        first: SimulatedCallOutcome::Machine,
        later: SimulatedCallOutcome::Machine,
        meaning: "an answering machine takes the call",
    },
    CallMagicNumber {
        last_two: "11",
        example: "+16175550111",
        first: SimulatedCallOutcome::Busy,
        later: SimulatedCallOutcome::Busy,
        meaning: "busy on every try",
    },
    CallMagicNumber {
        last_two: "12",
        example: "+16175550112",
        first: SimulatedCallOutcome::NoAnswer,
        later: SimulatedCallOutcome::NoAnswer,
        meaning: "rings out on every try",
    },
    CallMagicNumber {
        last_two: "13",
        example: "+16175550113",
        first: SimulatedCallOutcome::Disconnected,
        later: SimulatedCallOutcome::Disconnected,
        meaning: "disconnected",
    },
    CallMagicNumber {
        last_two: "14",
        example: "+16175550114",
        first: SimulatedCallOutcome::Failed,
        later: SimulatedCallOutcome::Failed,
        meaning: "the call fails",
    },
    CallMagicNumber {
        last_two: "15",
        example: "+16175550115",
        first: SimulatedCallOutcome::Busy,
        later: SimulatedCallOutcome::Answered,
        meaning: "busy on the first try, answered on the next",
    },
];

/// What the `try_number`-th call (1 for the first) to a number comes to
/// (see [`CALL_MAGIC_NUMBERS`]). Pure.
pub fn simulated_call_outcome(number: &PhoneNumber, try_number: u32) -> SimulatedCallOutcome {
    let e164 = number.as_e164();
    let magic = match (e164.len(), e164.get(..2), e164.get(5..10), e164.get(10..)) {
        (12, Some("+1"), Some("55501"), Some(last_two)) => {
            CALL_MAGIC_NUMBERS.iter().find(|magic| magic.last_two == last_two)
        }
        _ => None,
    };
    match magic {
        Some(magic) if try_number <= 1 => magic.first,
        Some(magic) => magic.later,
        None => SimulatedCallOutcome::Answered,
    }
}

/// A call the simulated voice service took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedCall {
    /// Who was called.
    pub to: PhoneNumber,
    /// The number it came from (`None`: the service's default).
    pub from: Option<PhoneNumber>,
    /// What was read.
    pub script: VoiceScript,
    /// The listener's language the voice was chosen for (`None`: the default voice).
    pub language: Option<String>,
    /// The id the service answered with (`call-<uuid>`).
    pub provider_message_id: String,
    /// What the call came to.
    pub outcome: SimulatedCallOutcome,
}

/// The event the simulated voice service posts when a call ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    /// The id [`VoiceGateway::call`] answered with.
    pub provider_message_id: String,
    /// What the call came to.
    pub outcome: SimulatedCallOutcome,
}

/// A call as its file says it.
#[derive(Serialize)]
struct CallFile<'a> {
    to: &'a PhoneNumber,
    from: Option<&'a PhoneNumber>,
    script: &'a str,
    ssml: bool,
    language: Option<&'a str>,
    provider_message_id: &'a str,
    outcome: &'static str,
}

/// The simulated voice service.
#[derive(Debug)]
pub struct SimulatedCalls {
    placed: Recent<SimulatedCall>,
    tries: Mutex<HashMap<String, u32>>,
    events: broadcast::Sender<CallEvent>,
    files: SentFiles,
}

impl Default for SimulatedCalls {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedCalls {
    /// A service that has placed no call yet.
    pub fn new() -> Self {
        Self {
            placed: Recent::new(KEPT_CALLS),
            tries: Mutex::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            files: SentFiles::nowhere(),
        }
    }

    /// The same service, writing each call as a file through `files`.
    #[must_use]
    pub fn writing_to(mut self, files: SentFiles) -> Self {
        self.files = files;
        self
    }

    /// The calls placed, oldest first (the most recent [`KEPT_CALLS`]).
    pub fn placed(&self) -> Vec<SimulatedCall> {
        self.placed.to_vec()
    }

    /// Events of the calls placed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallEvent> {
        self.events.subscribe()
    }

    /// Which try this is of calls to `to` (1 for the first). The count is
    /// kept for magic numbers only, so memory stays bounded.
    fn next_try(&self, to: &PhoneNumber) -> u32 {
        if simulated_call_outcome(to, 1) == simulated_call_outcome(to, 2) {
            return 1;
        }
        let mut tries = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
        let count = tries.entry(to.as_e164().to_string()).or_default();
        *count += 1;
        *count
    }
}

#[async_trait]
impl VoiceGateway for SimulatedCalls {
    async fn call(&self, call: &OutboundCall) -> Result<PlacedCall, GatewayError> {
        let provider_message_id = format!("call-{}", uuid::Uuid::now_v7());
        let outcome = simulated_call_outcome(&call.to, self.next_try(&call.to));
        let file = CallFile {
            to: &call.to,
            from: call.from.as_ref(),
            script: call.script.as_str(),
            ssml: matches!(call.script, VoiceScript::Ssml(_)),
            language: call.language.as_deref(),
            provider_message_id: &provider_message_id,
            outcome: outcome.as_str(),
        };
        self.files.write(&provider_message_id, &file).await.map_err(|e| {
            tracing::warn!(error = %e, "simulated voice service could not write a call's file");
            GatewayError::Unavailable(format!("calls directory not writable: {e}"))
        })?;
        self.placed.push(SimulatedCall {
            to: call.to.clone(),
            from: call.from.clone(),
            script: call.script.clone(),
            language: call.language.clone(),
            provider_message_id: provider_message_id.clone(),
            outcome,
        });
        tracing::debug!(to = %call.to, %provider_message_id, outcome = outcome.as_str(), "simulated call placed");
        // No subscriber is fine: nobody is listening for call events.
        let _ = self.events.send(CallEvent { provider_message_id: provider_message_id.clone(), outcome });
        Ok(PlacedCall { provider_message_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_to(number: &str, script: &str) -> OutboundCall {
        OutboundCall {
            to: PhoneNumber::parse_e164(number).unwrap(),
            from: None,
            script: VoiceScript::Text(script.into()),
            language: None,
        }
    }

    #[tokio::test]
    async fn each_call_is_kept_with_its_own_id_and_only_the_most_recent_are_kept() {
        let calls = SimulatedCalls::new();
        let mut ids = std::collections::HashSet::new();
        for n in 0..KEPT_CALLS + 5 {
            ids.insert(calls.call(&call_to("+16175550142", &format!("call {n}"))).await.unwrap().provider_message_id);
        }
        assert_eq!(ids.len(), KEPT_CALLS + 5, "a fresh id each");
        let placed = calls.placed();
        assert_eq!(placed.len(), KEPT_CALLS);
        assert_eq!(placed.first().map(|c| c.script.as_str().to_string()), Some("call 5".to_string()));
    }

    #[tokio::test]
    async fn magic_numbers_answer_as_documented_and_report_an_event_per_call() {
        let calls = SimulatedCalls::new();
        let mut events = calls.subscribe();
        let expected = [
            ("+16175550142", SimulatedCallOutcome::Answered),
            ("+16175550100", SimulatedCallOutcome::Answered),
            ("+16175550102", SimulatedCallOutcome::Disconnected),
            ("+16175550110", SimulatedCallOutcome::Machine),
            ("+16175550111", SimulatedCallOutcome::Busy),
            ("+16175550112", SimulatedCallOutcome::NoAnswer),
            ("+16175550113", SimulatedCallOutcome::Disconnected),
            ("+16175550114", SimulatedCallOutcome::Failed),
            ("+16175550115", SimulatedCallOutcome::Busy),
            ("+16175550115", SimulatedCallOutcome::Answered),
            ("+16175550111", SimulatedCallOutcome::Busy),
        ];
        for (number, outcome) in expected {
            let placed = calls.call(&call_to(number, "hello")).await.unwrap();
            let event = events.try_recv().unwrap();
            assert_eq!((event.provider_message_id, event.outcome), (placed.provider_message_id, outcome), "{number}");
        }
        for magic in CALL_MAGIC_NUMBERS {
            let number = PhoneNumber::parse_e164(magic.example).unwrap();
            assert_eq!(simulated_call_outcome(&number, 1), magic.first, "{}", magic.example);
        }
    }

    #[tokio::test]
    async fn each_call_is_written_as_one_json_file_with_its_script_and_outcome()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let clock = std::sync::Arc::new(crate::ports::FixedClock::midday_today());
        let calls = SimulatedCalls::new().writing_to(SentFiles::in_dir(dir.path().join("calls"), clock));
        let placed = calls.call(&call_to("+16175550111", "Schools close at noon.")).await?;
        let files: Vec<std::path::PathBuf> =
            std::fs::read_dir(dir.path().join("calls"))?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        assert_eq!(files.len(), 1);
        let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0])?)?;
        assert_eq!(written["to"], "+16175550111");
        assert_eq!(written["script"], "Schools close at noon.");
        assert_eq!((written["outcome"].as_str(), written["ssml"].as_bool()), (Some("busy"), Some(false)));
        assert_eq!(written["provider_message_id"], placed.provider_message_id.as_str());
        Ok(())
    }
}
