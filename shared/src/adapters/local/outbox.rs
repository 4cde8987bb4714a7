//! `Outbox`: the `EmailGateway` port for local use. Each email becomes an
//! RFC 5322 message, written as an `.eml` file into a directory (open it in
//! any mail client) or kept in memory, and answered with a simulated
//! delivery event. The outbox remembers the most recent emails
//! ([`KEPT_EMAILS`]) for tests and the demo; `.eml` files stay on disk.
//!
//! The magic addresses are those of the SES mailbox simulator
//! ([`MAGIC_ADDRESSES`]), so the same test data behaves alike locally and
//! on SES; every other address is delivered.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use mail_builder::MessageBuilder;
use tokio::sync::broadcast;

use super::recent::Recent;
use crate::domain::{EmailAddress, EmailStatus};
use crate::ports::{EmailGateway, GatewayError, OutboundEmail, SentEmail};

/// An address of the SES mailbox simulator and the status the outbox
/// reports for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagicAddress {
    /// The address (a `+label` before the `@` is allowed, as on SES).
    pub address: &'static str,
    /// What the delivery event says.
    pub status: EmailStatus,
    /// What the address stands for, for the README.
    pub meaning: &'static str,
}

/// The SES mailbox simulator's addresses. Any other address is delivered.
pub const MAGIC_ADDRESSES: &[MagicAddress] = &[
    MagicAddress { address: "success@simulator.amazonses.com", status: EmailStatus::Ok, meaning: "delivered" },
    MagicAddress {
        address: "bounce@simulator.amazonses.com",
        status: EmailStatus::BouncedPermanent,
        meaning: "hard bounce: the mailbox does not exist",
    },
    MagicAddress {
        address: "ooto@simulator.amazonses.com",
        status: EmailStatus::Ok,
        meaning: "delivered, with an out-of-office reply",
    },
    MagicAddress {
        address: "complaint@simulator.amazonses.com",
        status: EmailStatus::Complaint,
        meaning: "delivered, then marked as spam",
    },
    MagicAddress {
        address: "suppressionlist@simulator.amazonses.com",
        status: EmailStatus::BouncedPermanent,
        meaning: "hard bounce: the address is on the suppression list",
    },
];

/// The status the outbox reports for an address (see [`MAGIC_ADDRESSES`]).
/// Pure.
pub fn simulated_email_outcome(address: &EmailAddress) -> EmailStatus {
    let (local, domain) = address.as_str().rsplit_once('@').unwrap_or((address.as_str(), ""));
    let mailbox = local.split_once('+').map_or(local, |(mailbox, _label)| mailbox);
    MAGIC_ADDRESSES
        .iter()
        .find(|magic| magic.address.rsplit_once('@') == Some((mailbox, domain)))
        .map_or(EmailStatus::Ok, |magic| magic.status)
}

/// Where the outbox keeps an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The RFC 5322 text (in-memory outbox).
    Memory(String),
    /// The `.eml` file (directory outbox).
    File(PathBuf),
}

/// An email the outbox took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    /// The id the outbox answered with (`sim-<uuid>`, also in `Message-ID`).
    pub provider_message_id: String,
    /// The recipient.
    pub to: EmailAddress,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, if any.
    pub html: Option<String>,
    /// The simulated outcome.
    pub status: EmailStatus,
    /// The message itself.
    pub stored: Stored,
}

/// The event the outbox publishes for each email, as SES would through its
/// configuration set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEvent {
    /// The id [`EmailGateway::send`] answered with.
    pub provider_message_id: String,
    /// The recipient.
    pub to: EmailAddress,
    /// The outcome; `Ok` means delivered.
    pub status: EmailStatus,
}

const EVENT_BUFFER: usize = 4096;

/// How many emails the outbox remembers by default.
pub const KEPT_EMAILS: usize = 10_000;

/// The default sender, on a reserved test domain.
const DEFAULT_FROM: &str = "no-reply@schoolbell.test";

/// The local mail "provider". Sends fail only when the directory cannot be
/// written; the outcome arrives as an [`EmailEvent`] to every subscriber.
#[derive(Debug)]
pub struct Outbox {
    dir: Option<PathBuf>,
    /// `None` sends from [`DEFAULT_FROM`].
    from: Option<EmailAddress>,
    sent: Recent<OutboxEmail>,
    events: broadcast::Sender<EmailEvent>,
}

impl Outbox {
    fn with(dir: Option<PathBuf>) -> Self {
        Self { dir, from: None, sent: Recent::new(KEPT_EMAILS), events: broadcast::channel(EVENT_BUFFER).0 }
    }

    /// An outbox that writes each email as `<time>-<id>.eml` into `dir`
    /// (created on the first send).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self::with(Some(dir.into()))
    }

    /// An outbox that keeps each email in memory.
    pub fn in_memory() -> Self {
        Self::with(None)
    }

    /// Sends from `from` instead of `no-reply@schoolbell.test`.
    #[must_use]
    pub fn with_from(mut self, from: EmailAddress) -> Self {
        self.from = Some(from);
        self
    }

    /// Remembers only the last `kept` emails (at least one) instead of
    /// [`KEPT_EMAILS`].
    #[must_use]
    pub fn keeping(mut self, kept: usize) -> Self {
        self.sent = Recent::new(kept);
        self
    }

    /// The directory, for a directory outbox.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The emails taken, oldest first: the most recent only (see
    /// [`Self::keeping`]), so a long-running gateway keeps bounded memory.
    pub fn sent(&self) -> Vec<OutboxEmail> {
        self.sent.to_vec()
    }

    /// Events of the emails sent from now on. A subscriber that falls more
    /// than a few thousand events behind gets `RecvError::Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<EmailEvent> {
        self.events.subscribe()
    }

    fn render(&self, email: &OutboundEmail, id: &str, status: EmailStatus) -> Result<String, GatewayError> {
        let mut message = MessageBuilder::new()
            .from(self.from.as_ref().map_or(DEFAULT_FROM, EmailAddress::as_str))
            .to(email.to.as_str())
            .subject(email.subject.as_str())
            .message_id(format!("{id}@outbox.schoolbell.test"))
            .header("X-Schoolbell-Simulated-Status", mail_builder::headers::raw::Raw::new(status.as_str()))
            .text_body(email.text.as_str());
        if let Some(html) = &email.html {
            message = message.html_body(html.as_str());
        }
        message.write_to_string().map_err(|e| GatewayError::SenderError(format!("email could not be rendered: {e}")))
    }

    async fn write_file(dir: &Path, id: &str, eml: &str) -> std::io::Result<PathBuf> {
        tokio::fs::create_dir_all(dir).await?;
        let name = format!("{}-{id}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        let path = dir.join(&name);
        // Written aside and renamed, so a mail client watching the directory
        // never opens half a message.
        let partial = dir.join(format!(".{name}.partial"));
        tokio::fs::write(&partial, eml).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }
}

#[async_trait]
impl EmailGateway for Outbox {
    async fn send(&self, email: &OutboundEmail) -> Result<SentEmail, GatewayError> {
        let provider_message_id = format!("sim-{}", uuid::Uuid::now_v7());
        let status = simulated_email_outcome(&email.to);
        let eml = self.render(email, &provider_message_id, status)?;
        let stored = match &self.dir {
            None => Stored::Memory(eml),
            Some(dir) => Stored::File(Self::write_file(dir, &provider_message_id, &eml).await.map_err(|e| {
                tracing::warn!(dir = %dir.display(), error = %e, "outbox could not write an email");
                GatewayError::Unavailable(format!("outbox directory not writable: {e}"))
            })?),
        };
        self.sent.push(OutboxEmail {
            provider_message_id: provider_message_id.clone(),
            to: email.to.clone(),
            subject: email.subject.clone(),
            text: email.text.clone(),
            html: email.html.clone(),
            status,
            stored,
        });
        tracing::debug!(to = %email.to, %provider_message_id, status = %status, "outbox took an email");
        // No subscriber is fine: nobody is listening for events.
        let _ = self.events.send(EmailEvent {
            provider_message_id: provider_message_id.clone(),
            to: email.to.clone(),
            status,
        });
        Ok(SentEmail { provider_message_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainError;

    fn email(to: &str) -> Result<OutboundEmail, DomainError> {
        Ok(OutboundEmail {
            to: EmailAddress::parse(to)?,
            subject: "Snow day".into(),
            text: "School is closed tomorrow.".into(),
            html: Some("<p>School is <b>closed</b> tomorrow.</p>".into()),
        })
    }

    #[test]
    fn simulator_addresses_give_their_documented_status() -> Result<(), DomainError> {
        for magic in MAGIC_ADDRESSES {
            assert_eq!(
                simulated_email_outcome(&EmailAddress::parse(magic.address)?),
                magic.status,
                "{}",
                magic.address
            );
        }
        let labelled = EmailAddress::parse("bounce+run-7@simulator.amazonses.com")?;
        assert_eq!(simulated_email_outcome(&labelled), EmailStatus::BouncedPermanent);
        assert_eq!(simulated_email_outcome(&EmailAddress::parse("bounce@example.org")?), EmailStatus::Ok);
        Ok(())
    }

    #[tokio::test]
    async fn an_in_memory_outbox_keeps_the_message_and_publishes_its_event() -> Result<(), Box<dyn std::error::Error>> {
        let outbox = Outbox::in_memory().with_from(EmailAddress::parse("office@district.example.org")?);
        let mut events = outbox.subscribe();
        let sent = outbox.send(&email("complaint@simulator.amazonses.com")?).await?;
        let event = events.recv().await?;
        assert_eq!(event.provider_message_id, sent.provider_message_id);
        assert_eq!(event.status, EmailStatus::Complaint);
        let kept = outbox.sent();
        let Stored::Memory(eml) = &kept[0].stored else { panic!("an in-memory outbox keeps no files") };
        assert!(eml.contains("From: <office@district.example.org>"), "{eml}");
        assert!(eml.contains(&format!("Message-ID: <{}@outbox.schoolbell.test>", sent.provider_message_id)), "{eml}");
        assert!(eml.contains("multipart/alternative"), "{eml}");
        Ok(())
    }

    #[tokio::test]
    async fn the_outbox_remembers_only_its_most_recent_emails() -> Result<(), Box<dyn std::error::Error>> {
        let outbox = Outbox::in_memory().keeping(2);
        for subject in ["first", "second", "third"] {
            outbox.send(&OutboundEmail { subject: subject.into(), ..email("parent@example.org")? }).await?;
        }
        let subjects: Vec<String> = outbox.sent().into_iter().map(|email| email.subject).collect();
        assert_eq!(subjects, ["second", "third"]);
        assert_eq!(Outbox::in_memory().sent.capacity(), KEPT_EMAILS);
        Ok(())
    }
}
