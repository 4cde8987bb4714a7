//! Receipts on the command line and in the local gateway:
//!
//! - `schoolbell receipts parse --dialect D FILE`: the operator's tool to see
//!   what a provider's receipt body means, as the normalized JSON array the
//!   webhooks would act on ([`parse_file`]);
//! - `schoolbell receipts verify --dialect sns FILE [--cert-dir DIR]`:
//!   whether an SNS message is genuinely signed ([`verify_file`]);
//! - the delivery-receipt webhooks the local gateway mounts
//!   ([`webhook_routes`]), configured by [`local_webhook_config`].

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use schoolbell::receipts::{Dialect, parse};
use schoolbell::webhook_auth::sns::{FallbackCertificates, HttpsCertificates};
use schoolbell::webhook_auth::{CertificateSource, DirCertificates, SnsMessage, VerifyError, verify_sns};
use schoolbell_delivery_receipts::{ReceiptsState, WebhookConfig, Webhooks};
use serde_json::Value;

use crate::{DataDir, LocalGateway};

/// Reads the body in `path` as `dialect` (a `--dialect` name such as
/// `twilio` or `aws-eum`) and returns its receipts as a pretty JSON array.
pub fn parse_file(dialect: &str, path: &Path) -> anyhow::Result<String> {
    let dialect: Dialect = dialect.parse()?;
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let receipts = parse(dialect, &body)?;
    Ok(serde_json::to_string_pretty(&receipts)?)
}

/// The local gateway's webhook configuration: the same variables as on
/// AWS (`schoolbell::webhook_auth::config`), and for Twilio, Vonage,
/// Bandwidth, Kannel and Jasmin, when their variable is unset, development
/// secrets derived from the data directory's signing secret
/// ([`WebhookConfig::with_development_secrets`]): whoever can mint tokens
/// for this data directory (tests, `bench receipts`) can sign receipts.
/// Telnyx and SNS are off unless their variables are set. The simulated
/// carrier needs none of this: its receipts are applied in process.
pub fn local_webhook_config(data: &DataDir) -> anyhow::Result<WebhookConfig> {
    let config = WebhookConfig::from_env(&schoolbell::config::process_env())?;
    Ok(config.with_development_secrets(&data.signing_secret()?))
}

/// The delivery-receipt and inbound-SMS webhook routes over the gateway's table, configured
/// by [`local_webhook_config`] for the gateway's data directory (the parent
/// of its file store). A configuration that cannot be used is logged and
/// the webhooks are left out (their paths answer 404), so `serve` still
/// starts.
pub fn webhook_routes(gateway: &LocalGateway) -> axum::Router {
    let built = gateway
        .files
        .root()
        .parent()
        .context("the file store has no data directory above it")
        .and_then(|root| Ok(DataDir::open(root)?))
        .and_then(|data| local_webhook_config(&data))
        .and_then(|config| {
            tracing::info!(providers = ?config.providers(), "delivery-receipt webhooks");
            Ok(Webhooks::from_config(&config)?)
        });
    match built {
        Ok(webhooks) => {
            let clock = gateway.clock();
            let webhooks = Arc::new(webhooks);
            let state = ReceiptsState {
                receipts: gateway.receipt_service(),
                webhooks: Arc::clone(&webhooks),
                clock,
                replies: Some(gateway.reply_service()),
            };
            let inbound = schoolbell_inbound_sms::InboundState { replies: gateway.reply_service(), webhooks };
            schoolbell_delivery_receipts::routes(state).merge(schoolbell_inbound_sms::routes(inbound))
        }
        Err(error) => {
            tracing::error!(%error, "delivery-receipt webhooks are off");
            axum::Router::new()
        }
    }
}

/// The messages a file holds: an SNS HTTPS body, a Lambda SNS event
/// (`Records[].Sns`), or either after an HTTP request's header lines.
fn sns_messages(bytes: &[u8]) -> Result<Vec<SnsMessage>, VerifyError> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let mut body = &bytes[start..];
    if !body.starts_with(b"{") {
        let blank = body.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        let blank = blank.or_else(|| body.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
        body = blank.map_or(body, |i| &body[i..]);
    }
    let root: Value = serde_json::from_slice(body).map_err(|_| VerifyError::BadEncoding("SNS message"))?;
    match root.get("Records").and_then(Value::as_array) {
        Some(records) if !records.is_empty() => records
            .iter()
            .map(|record| {
                let sns = record.get("Sns").ok_or(VerifyError::Missing("Records[].Sns"))?;
                serde_json::from_value(sns.clone()).map_err(|_| VerifyError::BadEncoding("SNS message"))
            })
            .collect(),
        _ => SnsMessage::from_json(body).map(|message| vec![message]),
    }
}

/// Verifies the SNS message(s) in `path`. `Ok(Ok(()))`: every message is
/// signed by the certificate its `SigningCertURL` names, taken from
/// `cert_dir` by that URL's file name, else fetched from AWS over HTTPS
/// (only after the URL passes the SNS host check). `Ok(Err(reason))`: not
/// genuine, or not checkable. `Err`: the command itself failed (dialect,
/// file).
pub async fn verify_file(
    dialect: &str,
    path: &Path,
    cert_dir: Option<&Path>,
) -> anyhow::Result<Result<(), VerifyError>> {
    let dialect: Dialect = dialect.parse()?;
    anyhow::ensure!(
        dialect == Dialect::Sns,
        "only `--dialect sns` can be verified from a file: the other providers sign request headers with a secret"
    );
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let messages = match sns_messages(&bytes) {
        Ok(messages) => messages,
        Err(reason) => return Ok(Err(reason)),
    };
    let https = HttpsCertificates::new()?;
    let source: Box<dyn CertificateSource> = match cert_dir {
        Some(dir) => Box::new(FallbackCertificates::new(DirCertificates::new(dir), https)),
        None => Box::new(https),
    };
    for message in &messages {
        if let Err(reason) = verify_sns(message, source.as_ref()).await {
            return Ok(Err(reason));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_prints_as_the_contract_json_array() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("dlr.txt");
        std::fs::write(
            &path,
            "id:4411 sub:001 dlvrd:000 submit date:2402011200 done date:2402011201 stat:EXPIRED err:000",
        )?;
        let printed: serde_json::Value = serde_json::from_str(&parse_file("smpp", &path)?)?;
        assert_eq!(printed[0]["provider_message_id"], "4411");
        assert_eq!(printed[0]["status"], "turned_off");
        assert_eq!(printed[0]["final"], true);
        assert_eq!(printed[0]["kind"], "sms");
        Ok(())
    }

    #[test]
    fn an_unknown_dialect_or_a_missing_file_is_an_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("absent.json");
        assert!(parse_file("carrier-pigeon", &path).is_err());
        assert!(parse_file("twilio", &path).is_err());
        Ok(())
    }
}
