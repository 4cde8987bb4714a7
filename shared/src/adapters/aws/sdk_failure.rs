//! What an SDK call's failure boils down to, before each adapter maps it to
//! its port's error: a transport failure, or a service answer with an error
//! code. Kept apart from the SDK types so the mappings are pure functions.

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// An SDK failure reduced to what the mappings look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SdkFailure {
    /// The request was never built (a bad parameter of ours).
    Construction(String),
    /// The request never got an answer: connection, DNS, timeout, or an
    /// answer that could not be read.
    Transport(String),
    /// The service answered with an error.
    Service {
        /// The error code (`Throttling`, `InvalidParameter` ...), or `""`.
        code: String,
        /// The service's message, scrubbed of phone numbers and addresses.
        message: String,
        /// The HTTP status.
        status: u16,
    },
}

impl SdkFailure {
    /// Reduces any SDK error (every SDK crate shares the `SdkError` type).
    pub(crate) fn from_sdk<E: ProvideErrorMetadata>(error: &SdkError<E>) -> Self {
        match error {
            SdkError::ConstructionFailure(_) => SdkFailure::Construction("request could not be built".into()),
            SdkError::TimeoutError(_) => SdkFailure::Transport("request timed out".into()),
            SdkError::DispatchFailure(failure) => SdkFailure::Transport(if failure.is_timeout() {
                "request timed out".into()
            } else if failure.is_io() {
                "connection failed".into()
            } else {
                "request could not be dispatched".into()
            }),
            SdkError::ResponseError(_) => SdkFailure::Transport("response could not be read".into()),
            SdkError::ServiceError(service) => SdkFailure::Service {
                code: error.code().unwrap_or_default().to_owned(),
                message: scrub(error.message().unwrap_or_default()),
                status: service.raw().status().as_u16(),
            },
            _ => SdkFailure::Transport("unknown SDK failure".into()),
        }
    }

    /// A short description for error messages and logs.
    pub(crate) fn describe(&self) -> String {
        match self {
            SdkFailure::Construction(what) | SdkFailure::Transport(what) => what.clone(),
            SdkFailure::Service { code, message, status } if message.is_empty() => format!("{code} (HTTP {status})"),
            SdkFailure::Service { code, message, status } => format!("{code} (HTTP {status}): {message}"),
        }
    }
}

/// What a provider's send call (`Publish`, `SendEmail`, `SendVoiceMessage`)
/// came to: the message id it answered (an answer without one is an
/// outage), or its failure mapped by `map` to the port's error and logged
/// for operators (never with the recipient).
pub(crate) fn message_id_of<E: ProvideErrorMetadata>(
    operation: &'static str,
    outcome: Result<Option<String>, SdkError<E>>,
    map: fn(&SdkFailure) -> crate::ports::GatewayError,
) -> Result<String, crate::ports::GatewayError> {
    match outcome {
        Ok(id) => id.filter(|id| !id.is_empty()).ok_or_else(|| {
            crate::ports::GatewayError::Unavailable(format!("{operation} answered without a message id"))
        }),
        Err(error) => {
            let failure = SdkFailure::from_sdk(&error);
            let mapped = map(&failure);
            tracing::warn!(operation, failure = %failure.describe(), retryable = mapped.is_retryable(), "provider call failed");
            Err(mapped)
        }
    }
}

/// Whether an error code says "slow down", whatever the service's spelling.
pub(crate) fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "Throttled"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "ProvisionedThroughputExceededException"
            | "SlowDown"
            | "KMSThrottling"
            | "KMSThrottlingException"
    )
}

/// Replaces anything that may be a phone number (five digits or more, also
/// when written in groups with spaces, dashes, dots or parentheses) or an
/// email address in a provider's message, so error strings can be logged.
pub(crate) fn scrub(message: &str) -> String {
    let digits = |word: &str| word.chars().filter(char::is_ascii_digit).count();
    // A word of digits and the punctuation numbers are written with.
    let number_part = |word: &str| digits(word) > 0 && word.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c));
    let words: Vec<&str> = message.split(' ').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if number_part(word) {
            // The run of number parts is one number: `+1 617 555 0123`.
            let run = words[i..].iter().take_while(|w| number_part(w)).count();
            let group = &words[i..i + run];
            if group.iter().map(|w| digits(w)).sum::<usize>() >= 5 {
                kept.push("•");
            } else {
                kept.extend_from_slice(group);
            }
            i += run;
            continue;
        }
        kept.push(if word.contains('@') || digits(word) >= 5 { "•" } else { word });
        i += 1;
    }
    kept.join(" ").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_hides_numbers_and_addresses_but_keeps_the_words() {
        assert_eq!(
            scrub("Invalid parameter: PhoneNumber +16175550123 for ana@example.org"),
            "Invalid parameter: PhoneNumber • for •"
        );
        assert_eq!(scrub("Rate exceeded 429"), "Rate exceeded 429");
        assert_eq!(scrub("Invalid number +1 617 555 0123 here"), "Invalid number • here");
        assert_eq!(scrub("Invalid number (617) 555-0123."), "Invalid number •");
        assert_eq!(scrub("to 617.555.0123 failed"), "to • failed");
        assert_eq!(scrub("error 400 - code 12"), "error 400 - code 12", "short numbers are no phone number");
    }

    #[test]
    fn every_spelling_of_throttling_is_recognised() {
        for code in ["Throttling", "Throttled", "TooManyRequestsException", "SlowDown"] {
            assert!(is_throttling_code(code), "{code}");
        }
        assert!(!is_throttling_code("InvalidParameter"));
    }
}
