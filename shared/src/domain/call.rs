//! Automated calls: what a call came to (answered by a person or a
//! machine, busy, no answer, failed), what a call delivery keeps so that a
//! busy or unanswered call can be placed again, and the district's retry
//! rule (how many more tries, how far apart).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{DeliveryReason, DeliveryState};

named_enum!(
    /// Who took an answered call. The voice service reads the script to
    /// either; an answering machine records it.
    AnsweredBy, "answered by" {
        /// A person picked up.
        Person => "person",
        /// An answering machine or voicemail took it.
        Machine => "machine",
    }
);

named_enum!(
    /// What a call came to, as the delivery report counts it.
    CallOutcome, "call outcome" {
        /// A person picked up and heard the script.
        Answered => "answered",
        /// An answering machine took the script.
        Machine => "machine",
        /// The line was busy on every try.
        Busy => "busy",
        /// Nobody answered on any try.
        NoAnswer => "no_answer",
        /// The call did not go through (disconnected number, provider refusal ...).
        Failed => "failed",
    }
);

/// What a call delivery keeps beyond a text's record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallDetail {
    /// Who took the call, once answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<AnsweredBy>,
    /// The listener's first name the script was rendered with: a retry
    /// reads the same script without resolving the audience again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The students' first names the script was rendered with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    /// The school's name the script was rendered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// When the next try is due (busy or unanswered, with tries left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

/// The district's rule for calling again a line that was busy or did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRetryRule {
    /// More tries after the first.
    pub retries: u32,
    /// Time between tries.
    pub spacing: Duration,
}

impl CallRetryRule {
    /// When a call that was busy or unanswered on its `attempts`-th try
    /// (1 for the first) is placed again, or `None` when its tries are spent.
    pub fn next_try(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (attempts <= self.retries).then(|| now + self.spacing)
    }
}

/// The outcome of a call delivery by its state, reason and detail; `None`
/// while it is still in progress (placed, or waiting for its next try) or
/// when it is no call.
pub fn call_outcome(
    state: DeliveryState,
    reason: Option<DeliveryReason>,
    detail: Option<&CallDetail>,
) -> Option<CallOutcome> {
    match (state, reason) {
        (DeliveryState::Delivered, _) => Some(match detail.and_then(|d| d.answered_by) {
            Some(AnsweredBy::Machine) => CallOutcome::Machine,
            _ => CallOutcome::Answered,
        }),
        (DeliveryState::Failed, Some(DeliveryReason::Busy)) => Some(CallOutcome::Busy),
        (DeliveryState::Failed, Some(DeliveryReason::NoAnswer)) => Some(CallOutcome::NoAnswer),
        (DeliveryState::Failed, _) => Some(CallOutcome::Failed),
        (DeliveryState::Sent | DeliveryState::Skipped, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_line_is_tried_again_until_its_retries_are_spent() {
        let rule = CallRetryRule { retries: 2, spacing: Duration::minutes(5) };
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(rule.next_try(1, now), Some(now + Duration::minutes(5)));
        assert_eq!(rule.next_try(2, now), Some(now + Duration::minutes(5)));
        assert_eq!(rule.next_try(3, now), None, "the first try and two more");
        let never = CallRetryRule { retries: 0, ..rule };
        assert_eq!(never.next_try(1, now), None);
    }

    #[test]
    fn a_call_s_outcome_follows_its_state_reason_and_who_answered() {
        let machine = CallDetail { answered_by: Some(AnsweredBy::Machine), ..CallDetail::default() };
        assert_eq!(call_outcome(DeliveryState::Delivered, None, Some(&machine)), Some(CallOutcome::Machine));
        assert_eq!(call_outcome(DeliveryState::Delivered, None, None), Some(CallOutcome::Answered));
        let busy = call_outcome(DeliveryState::Failed, Some(DeliveryReason::Busy), None);
        assert_eq!(busy, Some(CallOutcome::Busy));
        let failed = call_outcome(DeliveryState::Failed, Some(DeliveryReason::Inactive), None);
        assert_eq!(failed, Some(CallOutcome::Failed));
        let waiting = call_outcome(DeliveryState::Sent, Some(DeliveryReason::NoAnswer), None);
        assert_eq!(waiting, None, "waiting for its next try");
    }
}
