//! The `EmailGateway` contract: what the outbox and SES must do alike.

use schoolbell::domain::EmailAddress;
use schoolbell::ports::{EmailGateway, OutboundEmail};

/// Each email sent, with or without an HTML part, gets its own non-empty
/// provider message id (bounce and complaint events find it by that id).
pub async fn each_sent_email_gets_its_own_provider_message_id(gateway: &dyn EmailGateway, to: &EmailAddress) {
    let mut ids = Vec::new();
    for html in [None, Some("<p>Early dismissal at <b>noon</b>.</p>".to_owned())] {
        let email = OutboundEmail {
            to: to.clone(),
            subject: "Early dismissal".into(),
            text: "Early dismissal at noon.".into(),
            html,
        };
        let sent = gateway.send(&email).await.unwrap_or_else(|e| panic!("send failed: {e}"));
        assert!(!sent.provider_message_id.trim().is_empty(), "a provider message id");
        ids.push(sent.provider_message_id);
    }
    assert_ne!(ids[0], ids[1], "each email has its own id");
}
