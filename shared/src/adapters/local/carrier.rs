//! `SimulatedCarrier`: the `SmsGateway` port for local use. It keeps the most
//! recent texts ([`KEPT_TEXTS`]) in memory and answers each with a delivery receipt whose status the
//! number decides, so the whole receipt pipeline runs without a carrier.
//! Given [`SentFiles`] (the local gateway's `DIR/texts/`), it also writes
//! each text as one JSON file there, so the local world shows what was sent.
//!
//! The magic numbers are fictional NANP numbers `+1 NPA 555-01YY` (555-0100
//! to 555-0199 are reserved for fiction): the last two digits `YY` pick the
//! outcome from [`MAGIC_NUMBERS`]; every other number is delivered.

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::broadcast;

use super::recent::Recent;
use super::sent_files::SentFiles;

use crate::domain::{PhoneNumber, SmsStatus};
use crate::ports::{GatewayError, OutboundSms, SentSms, SmsGateway};

/// A magic number: its line (`555-01YY`, any area code) and the status the
/// simulated carrier reports for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagicNumber {
    /// The last two digits, `YY` in `555-01YY`.
    pub last_two: &'static str,
    /// An example number with that line (area code 617).
    pub example: &'static str,
    /// What the carrier's receipt says.
    pub status: SmsStatus,
    /// What the number stands for, for the README.
    pub meaning: &'static str,
}

/// The simulated carrier's magic numbers. Any other number, including every
/// other `555-01YY` (e.g. `+16175550199`), is delivered (`SmsStatus::Ok`).
pub const MAGIC_NUMBERS: &[MagicNumber] = &[
    MagicNumber {
        last_two: "00",
        example: "+16175550100",
        status: SmsStatus::Landline,
        meaning: "a fixed line that cannot take texts",
    },
    MagicNumber {
        last_two: "01",
        example: "+16175550101",
        status: SmsStatus::Blocked,
        meaning: "the carrier or the person blocks our messages",
    },
    MagicNumber {
        last_two: "02",
        example: "+16175550102",
        status: SmsStatus::Inactive,
        meaning: "out of service, disconnected or reassigned",
    },
    MagicNumber {
        last_two: "03",
        example: "+16175550103",
        status: SmsStatus::TurnedOff,
        meaning: "handset off or out of coverage",
    },
    MagicNumber {
        last_two: "04",
        example: "+16175550104",
        status: SmsStatus::Unconfirmed,
        meaning: "the carrier could not confirm delivery",
    },
    MagicNumber {
        last_two: "05",
        example: "+16175550105",
        status: SmsStatus::OptOut,
        meaning: "the person has opted out with the carrier",
    },
];

/// The status the simulated carrier reports for a number (see
/// [`MAGIC_NUMBERS`]). Pure.
pub fn simulated_outcome(number: &PhoneNumber) -> SmsStatus {
    // `+1` `NPA` `55501` `YY`: twelve characters.
    let e164 = number.as_e164();
    match (e164.len(), e164.get(..2), e164.get(5..10), e164.get(10..)) {
        (12, Some("+1"), Some("55501"), Some(last_two)) => {
            MAGIC_NUMBERS.iter().find(|magic| magic.last_two == last_two).map_or(SmsStatus::Ok, |magic| magic.status)
        }
        _ => SmsStatus::Ok,
    }
}

/// A text the simulated carrier took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedSms {
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: String,
    /// The number it went from (`None`: the carrier's default).
    pub from: Option<PhoneNumber>,
    /// The id the carrier answered with (`sim-<uuid>`).
    pub provider_message_id: String,
}

/// The delivery receipt the simulated carrier posts for each text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierReceipt {
    /// The id [`SmsGateway::send`] answered with.
    pub provider_message_id: String,
    /// The recipient.
    pub to: PhoneNumber,
    /// The outcome; `Ok` means delivered.
    pub status: SmsStatus,
}

/// How many receipts a slow subscriber may fall behind before it misses some.
const RECEIPT_BUFFER: usize = 4096;

/// How many texts the carrier remembers by default.
pub const KEPT_TEXTS: usize = 10_000;

/// A text as its file under `DIR/texts/` has it (`at` is added by
/// [`SentFiles`]). The number is in full: the file is on its owner's own
/// disk, as the outbox's emails are.
#[derive(Serialize)]
struct TextFile<'a> {
    to: &'a PhoneNumber,
    from: Option<&'a PhoneNumber>,
    body: &'a str,
    provider_message_id: &'a str,
    /// What the carrier's receipt says (`ok` is delivered).
    status: SmsStatus,
}

/// The simulated carrier. Sends fail only when its text files cannot be
/// written; the outcome arrives as a [`CarrierReceipt`] to every
/// [`SimulatedCarrier::subscribe`]r.
#[derive(Debug)]
pub struct SimulatedCarrier {
    sent: Recent<SimulatedSms>,
    receipts: broadcast::Sender<CarrierReceipt>,
    files: SentFiles,
}

impl Default for SimulatedCarrier {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedCarrier {
    /// A carrier that has sent nothing yet and remembers the last [`KEPT_TEXTS`].
    pub fn new() -> Self {
        Self::keeping(KEPT_TEXTS)
    }

    /// A carrier that remembers only the last `kept` texts (at least one).
    pub fn keeping(kept: usize) -> Self {
        Self { sent: Recent::new(kept), receipts: broadcast::channel(RECEIPT_BUFFER).0, files: SentFiles::nowhere() }
    }

    /// Also writes each text as one JSON file through `files` (the local
    /// gateway's `DIR/texts/`): `to`, `from`, `body`,
    /// `provider_message_id`, `status` (what the receipt says) and `at`.
    #[must_use]
    pub fn writing_to(mut self, files: SentFiles) -> Self {
        self.files = files;
        self
    }

    /// The texts taken, oldest first: the most recent only (see
    /// [`Self::keeping`]), so a long-running gateway keeps bounded memory.
    pub fn sent(&self) -> Vec<SimulatedSms> {
        self.sent.to_vec()
    }

    /// Receipts of the texts sent from now on. A subscriber that falls more
    /// than a few thousand receipts behind gets `RecvError::Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<CarrierReceipt> {
        self.receipts.subscribe()
    }
}

#[async_trait]
impl SmsGateway for SimulatedCarrier {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError> {
        let provider_message_id = format!("sim-{}", uuid::Uuid::now_v7());
        let status = simulated_outcome(&sms.to);
        let file = TextFile {
            to: &sms.to,
            from: sms.from.as_ref(),
            body: &sms.body,
            provider_message_id: &provider_message_id,
            status,
        };
        self.files.write(&provider_message_id, &file).await.map_err(|e| {
            tracing::warn!(error = %e, "simulated carrier could not write a text's file");
            GatewayError::Unavailable(format!("texts directory not writable: {e}"))
        })?;
        self.sent.push(SimulatedSms {
            to: sms.to.clone(),
            body: sms.body.clone(),
            from: sms.from.clone(),
            provider_message_id: provider_message_id.clone(),
        });
        tracing::debug!(to = %sms.to, %provider_message_id, status = %status, "simulated carrier took a text");
        // No subscriber is fine: nobody is listening for receipts.
        let _ = self.receipts.send(CarrierReceipt {
            provider_message_id: provider_message_id.clone(),
            to: sms.to.clone(),
            status,
        });
        Ok(SentSms { provider_message_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainError;
    use crate::ports::Clock as _;

    #[test]
    fn magic_numbers_give_their_documented_status() -> Result<(), DomainError> {
        for magic in MAGIC_NUMBERS {
            let number = PhoneNumber::parse_e164(magic.example)?;
            assert_eq!(simulated_outcome(&number), magic.status, "{}", magic.example);
            let other_area = PhoneNumber::parse_e164(&format!("+121255501{}", magic.last_two))?;
            assert_eq!(simulated_outcome(&other_area), magic.status);
        }
        Ok(())
    }

    #[test]
    fn every_other_number_is_delivered() -> Result<(), DomainError> {
        for written in ["+16175550199", "+16175550106", "+16175551200", "+442079460000"] {
            assert_eq!(simulated_outcome(&PhoneNumber::parse_e164(written)?), SmsStatus::Ok, "{written}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn each_send_is_recorded_and_receipted_with_a_fresh_id() -> Result<(), Box<dyn std::error::Error>> {
        let carrier = SimulatedCarrier::new();
        let mut receipts = carrier.subscribe();
        let to = PhoneNumber::parse_e164("+16175550101")?;
        let first = carrier.send(&OutboundSms { to: to.clone(), body: "hi".into(), from: None }).await?;
        let second = carrier.send(&OutboundSms { to: to.clone(), body: "again".into(), from: None }).await?;
        assert_ne!(first.provider_message_id, second.provider_message_id);
        assert!(first.provider_message_id.starts_with("sim-"));
        let receipt = receipts.recv().await?;
        assert_eq!(
            receipt,
            CarrierReceipt { provider_message_id: first.provider_message_id, to, status: SmsStatus::Blocked }
        );
        assert_eq!(carrier.sent().len(), 2);
        assert_eq!(carrier.sent()[1].body, "again");
        Ok(())
    }

    #[tokio::test]
    async fn each_simulated_text_is_written_as_one_json_file_under_its_directory()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let clock = std::sync::Arc::new(crate::ports::FixedClock::midday_today());
        let texts = dir.path().join("texts");
        let carrier = SimulatedCarrier::new().writing_to(SentFiles::in_dir(&texts, clock.clone()));
        let to = PhoneNumber::parse_e164("+16175550100")?;
        let from = PhoneNumber::parse_e164("+18005550123")?;
        let first = carrier.send(&OutboundSms { to: to.clone(), body: "Snow day".into(), from: Some(from) }).await?;
        let first_at = clock.now();
        clock.advance(chrono::Duration::seconds(1));
        let second = carrier.send(&OutboundSms { to, body: "Still snowing".into(), from: None }).await?;

        let mut files: Vec<std::path::PathBuf> =
            std::fs::read_dir(&texts)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
        files.sort();
        assert_eq!(files.len(), 2, "one file a text: {files:?}");
        let read = |path: &std::path::Path| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
            Ok(serde_json::from_slice(&std::fs::read(path)?)?)
        };
        assert_eq!(
            read(&files[0])?,
            serde_json::json!({
                "to": "+16175550100", "from": "+18005550123", "body": "Snow day",
                "provider_message_id": first.provider_message_id, "status": "landline", "at": first_at,
            })
        );
        let name = files[0].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        assert_eq!(name, SentFiles::file_name(first_at, &first.provider_message_id));
        assert_eq!(read(&files[1])?["provider_message_id"], second.provider_message_id.as_str());
        assert_eq!(read(&files[1])?["from"], serde_json::Value::Null);
        Ok(())
    }

    #[tokio::test]
    async fn a_carrier_without_a_directory_writes_no_file() -> Result<(), Box<dyn std::error::Error>> {
        let carrier = SimulatedCarrier::new();
        assert!(carrier.files.dir().is_none());
        carrier
            .send(&OutboundSms { to: PhoneNumber::parse_e164("+16175550199")?, body: "hi".into(), from: None })
            .await?;
        assert_eq!(carrier.sent().len(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn the_carrier_remembers_only_its_most_recent_texts() -> Result<(), Box<dyn std::error::Error>> {
        let carrier = SimulatedCarrier::keeping(3);
        let to = PhoneNumber::parse_e164("+16175550199")?;
        for n in 0..5 {
            carrier.send(&OutboundSms { to: to.clone(), body: format!("text {n}"), from: None }).await?;
        }
        let bodies: Vec<String> = carrier.sent().into_iter().map(|sms| sms.body).collect();
        assert_eq!(bodies, ["text 2", "text 3", "text 4"]);
        assert_eq!(SimulatedCarrier::new().sent.capacity(), KEPT_TEXTS);
        Ok(())
    }
}
