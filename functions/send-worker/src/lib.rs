//! `schoolbell-send-worker`: sends broadcast chunks. Its SQS event source
//! hands send tasks; each chunk goes through SNS (texts) and SESv2 (email)
//! under the claim protocol of `schoolbell::services::SendService`, and
//! only chunks left with retryable failures go back to the queue.
//!
//! Throughput is shaped twice: the token bucket in each worker
//! (`SCHOOLBELL_SMS_PER_SECOND`) and the event source's maximum concurrency
//! in the template, which bounds how many workers run at once.

use std::time::Duration;

use schoolbell::config::Env;
use schoolbell::services::SendSettings;

/// Send settings from the environment: `SCHOOLBELL_SMS_PER_SECOND` (per
/// worker; unset or 0: no limit), `SCHOOLBELL_CLAIM_LEASE_SECONDS` (the
/// queue's visibility timeout), `SCHOOLBELL_SEND_CONCURRENCY`.
pub fn send_settings<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<SendSettings, String> {
    let number = |name: &'static str| -> Result<Option<u64>, String> {
        env.optional(name).map(|v| v.trim().parse::<u64>().map_err(|e| format!("{name}: {e}"))).transpose()
    };
    let defaults = SendSettings::default();
    Ok(SendSettings {
        per_second: number("SCHOOLBELL_SMS_PER_SECOND")?.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
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
        let settings =
            send_settings(&env(&[("SCHOOLBELL_SMS_PER_SECOND", "20"), ("SCHOOLBELL_CLAIM_LEASE_SECONDS", "360")]));
        let settings = settings.unwrap();
        assert_eq!((settings.per_second, settings.claim_lease), (Some(20), Duration::from_secs(360)));
        assert!(send_settings(&env(&[("SCHOOLBELL_SMS_PER_SECOND", "fast")])).is_err());
        assert_eq!(send_settings(&env(&[])).map(|s| s.per_second), Ok(None));
    }
}
