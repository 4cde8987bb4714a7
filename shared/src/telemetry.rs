//! Tracing set-up: pretty lines locally, JSON on Lambda (through the
//! runtime's own subscriber, see the function mains), silent in tests
//! unless `TEST_LOG` is set. Filter with `RUST_LOG` (default `info`).
//!
//! Log fields carry ids and masked values only: `PhoneNumber` and
//! `EmailAddress` mask themselves when displayed.

use tracing_subscriber::EnvFilter;

/// Human-readable logs for the local gateway and CLI (to stderr).
pub fn init_local() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// For tests: logs only when `TEST_LOG` is set, captured per test.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("debug"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}
