//! `schoolbell-send-worker`: sends broadcast chunks. Its SQS event source
//! hands send tasks; each chunk goes through SNS (texts), End User
//! Messaging (calls) and SESv2 (email) under the claim protocol of
//! `schoolbell::services::SendService`, and only chunks left with retryable
//! failures go back to the queue. It also places the next try of a busy or
//! unanswered call when the scheduler hands it over.
//!
//! Throughput is shaped twice: a token bucket per channel in each worker
//! (`SCHOOLBELL_SMS_PER_SECOND` for texts, `SCHOOLBELL_CALLS_PER_SECOND` for
//! calls, `SCHOOLBELL_EMAIL_PER_SECOND` for email) and the event source's
//! maximum concurrency in the template, which bounds how many workers run at once.

use std::time::Duration;

use schoolbell::config::Env;
use schoolbell::services::SendSettings;

/// Send settings from the environment: `SCHOOLBELL_SMS_PER_SECOND`,
/// `SCHOOLBELL_CALLS_PER_SECOND` and `SCHOOLBELL_EMAIL_PER_SECOND` (per
/// worker; unset or 0: no limit),
/// `SCHOOLBELL_CLAIM_LEASE_SECONDS` (the queue's visibility timeout),
/// `SCHOOLBELL_SEND_CONCURRENCY`.
pub fn send_settings<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<SendSettings, String> {
    let number = |name: &'static str| -> Result<Option<u64>, String> {
        env.optional(name).map(|v| v.trim().parse::<u64>().map_err(|e| format!("{name}: {e}"))).transpose()
    };
    let rate = |name: &'static str| -> Result<Option<u32>, String> {
        Ok(number(name)?.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0))
    };
    let defaults = SendSettings::default();
    Ok(SendSettings {
        texts_per_second: rate("SCHOOLBELL_SMS_PER_SECOND")?,
        emails_per_second: rate("SCHOOLBELL_EMAIL_PER_SECOND")?,
        calls_per_second: rate("SCHOOLBELL_CALLS_PER_SECOND")?,
        claim_lease: number("SCHOOLBELL_CLAIM_LEASE_SECONDS")?.map_or(defaults.claim_lease, Duration::from_secs),
        concurrency: number("SCHOOLBELL_SEND_CONCURRENCY")?.map_or(defaults.concurrency, |n| n.clamp(1, 256) as usize),
        ..defaults
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        schoolbell::config::env_of(pairs)
    }

    #[test]
    fn settings_come_from_the_environment_and_bad_numbers_are_refused() {
        let settings = send_settings(&env(&[
            ("SCHOOLBELL_SMS_PER_SECOND", "20"),
            ("SCHOOLBELL_EMAIL_PER_SECOND", "14"),
            ("SCHOOLBELL_CALLS_PER_SECOND", "5"),
            ("SCHOOLBELL_CLAIM_LEASE_SECONDS", "360"),
        ]));
        let settings = settings.unwrap();
        assert_eq!((settings.texts_per_second, settings.emails_per_second), (Some(20), Some(14)));
        assert_eq!(settings.calls_per_second, Some(5));
        assert_eq!(settings.claim_lease, Duration::from_secs(360));
        assert!(send_settings(&env(&[("SCHOOLBELL_SMS_PER_SECOND", "fast")])).is_err());
        assert!(send_settings(&env(&[("SCHOOLBELL_EMAIL_PER_SECOND", "-1")])).is_err());
        assert!(send_settings(&env(&[("SCHOOLBELL_CALLS_PER_SECOND", "many")])).is_err());
        let unset = send_settings(&env(&[])).unwrap();
        assert_eq!((unset.texts_per_second, unset.emails_per_second), (None, None));
    }
}
