//! A token bucket that shapes sending to a configured messages-per-second
//! (providers throttle per account: SNS's default is 20 SMS/s). In AWS the
//! send worker's event-source maximum concurrency bounds the fleet as well;
//! this bucket bounds one worker.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Hands out `per_second` permits a second, with a burst of one second's worth.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: Option<f64>,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// A limiter; `None` (or zero) never waits.
    pub fn new(per_second: Option<u32>) -> Self {
        let per_second = per_second.filter(|n| *n > 0).map(f64::from);
        Self { per_second, state: Mutex::new((per_second.unwrap_or(0.0), Instant::now())) }
    }

    /// Waits until a permit is free and takes it.
    pub async fn acquire(&self) {
        let Some(rate) = self.per_second else { return };
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (tokens, last) = &mut *state;
            let now = Instant::now();
            *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
            *last = now;
            *tokens -= 1.0;
            // A negative balance is this caller's place in the line.
            if *tokens < 0.0 { Duration::from_secs_f64(-*tokens / rate) } else { Duration::ZERO }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_limiter_spreads_permits_beyond_the_burst_over_time() {
        let limiter = RateLimiter::new(Some(10));
        let start = Instant::now();
        for _ in 0..30 {
            limiter.acquire().await;
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(2100), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unlimited_limiter_never_waits() {
        let limiter = RateLimiter::new(None);
        let start = Instant::now();
        for _ in 0..10_000 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
