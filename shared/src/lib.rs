//! `schoolbell`: the messaging backbone of a school district, as a library.
//!
//! Every function crate (`functions/*`) is a thin handler around this crate.
//! It is laid out by what may call what:
//!
//! - [`domain`]: validated types (`PhoneNumber`, `EmailAddress`, ids) and
//!   pure rules (access, vocabulary). No I/O.
//! - [`ports`]: the traits services need (`Table`, `SmsGateway`,
//!   `EmailGateway`, `WorkQueue`, `FileStore`, `Clock`, `Ids`).
//! - [`receipts`]: carrier and SES delivery receipts in every provider's
//!   dialect, parsed and classified into one normalized `Receipt`. Pure.
//! - [`store`]: the single-table key design and every access pattern,
//!   written once over the `Table` port.
//! - [`services`]: one use case a module, calling the store and the ports.
//! - [`root`]: the composition root: ports in, every service out; the only
//!   place services are built.
//! - [`adapters`]: the ports' implementations, `local` (embedded table,
//!   simulated carrier, outbox, in-process queue, directory) and `aws`
//!   (DynamoDB, SNS, SESv2, SQS, S3; cargo feature `aws`).
//! - [`auth`]: bearer-token verification into a `domain::Principal`.
//! - [`http`]: the axum pieces every HTTP function shares (errors as
//!   `{code, message}`, the authenticated-caller extractor, JSON bodies).
//! - [`config`] and [`telemetry`]: start-up configuration and tracing.
//! - [`webhook_auth`]: carrier and AWS webhook signature checks (Twilio,
//!   Telnyx, Vonage, shared secrets, SNS), run on the raw request before
//!   anything reads the body, plus `WebhookConfig` and `Webhooks` (the
//!   providers a deployment turns on) and the request-level Twilio check
//!   delivery-receipts and inbound-sms share.

pub mod adapters;
pub mod auth;
pub mod config;
pub mod domain;
pub mod http;
pub mod import;
pub mod ports;
pub mod receipts;
pub mod root;
pub mod services;
pub mod store;
pub mod telemetry;
pub mod webhook_auth;
