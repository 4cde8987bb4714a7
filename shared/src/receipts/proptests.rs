//! Property: no body, however broken, makes any dialect panic; every body
//! either parses into well-formed receipts or gives an error.

use proptest::prelude::*;

use super::{Dialect, ReceiptStatus, parse};

fn check(dialect: Dialect, body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(receipts) = parse(dialect, body) {
        for receipt in receipts {
            prop_assert!(!receipt.provider_message_id.is_empty());
            prop_assert_eq!(receipt.is_final && receipt.status == ReceiptStatus::Pending, false);
        }
    }
    Ok(())
}

/// Bodies that look a little like each dialect, so parsing gets past the
/// first check more often than random bytes do.
fn near_misses() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("id:".to_owned()),
        Just(" stat:".to_owned()),
        Just("&status=".to_owned()),
        Just("MessageSid=".to_owned()),
        Just("{\"Type\":\"Notification\",\"Message\":".to_owned()),
        Just("[{\"type\":\"message-failed\",\"message\":{\"id\":".to_owned()),
        Just("%".to_owned()),
        Just("\"".to_owned()),
        "[a-zA-Z0-9:=&{}\\[\\] ]{0,12}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat().into_bytes())
}

proptest! {
    #[test]
    fn random_bytes_never_panic_any_dialect(body in prop::collection::vec(any::<u8>(), 0..256)) {
        for dialect in Dialect::ALL {
            check(*dialect, &body)?;
        }
    }

    #[test]
    fn near_miss_bodies_never_panic_any_dialect(body in near_misses()) {
        for dialect in Dialect::ALL {
            check(*dialect, &body)?;
        }
    }
}
