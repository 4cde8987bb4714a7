//! The key format, hashing and signatures, at a fixed instant.

use super::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

fn key() -> SisKey {
    SisKey::new(SisKeyId::parse("sk-0123456789abcdef01234567").unwrap(), SisSecret::from_bytes([0xfb; 32]))
}

#[test]
fn a_key_shown_once_parses_back_to_the_same_id_and_secret() {
    let key = SisKey::generate();
    let text = key.expose();
    assert!(text.starts_with("sbk_sk-"), "{text}");
    assert_eq!(text.len(), 4 + 27 + 1 + 43);
    assert_eq!(SisKey::parse(&text), Ok(key.clone()));
    // A secret of 0xfb bytes encodes with `-` and `_`: the id still ends at the first `_`.
    let tricky = key_with_underscores();
    assert_eq!(SisKey::parse(&tricky.expose()), Ok(tricky));
    assert_ne!(SisKey::generate().expose(), text, "random each time");
    assert!(!format!("{key:?}").contains(&text[32..]), "Debug shows no secret");
}

fn key_with_underscores() -> SisKey {
    let key = key();
    assert!(key.expose()[32..].contains('_'), "{}", key.expose());
    key
}

#[test]
fn a_jwt_a_truncated_key_or_one_with_anything_extra_is_not_a_sis_key() {
    let good = key().expose();
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
    let bad = [
        jwt.to_string(),
        String::new(),
        good[..good.len() - 1].to_string(),
        format!("{good}A"),
        format!(" {good}"),
        good.replace("sbk_", "sbx_"),
        good.replace("sk-", "sk_"),
        good.replacen("0123", "ABCD", 1),
        format!("{}_{}", &good[..31], "!".repeat(43)),
    ];
    for text in bad {
        assert!(matches!(SisKey::parse(&text), Err(SisKeyError::Malformed(_))), "{text}");
    }
    assert!(SisKeyId::parse("sk-0123456789abcdef0123456").is_err());
    assert!(SisKeyId::parse("sk-0123456789abcdef01234567#x").is_err());
}

#[test]
fn a_secret_is_stored_as_its_sha256_and_only_its_own_secret_matches() {
    let secret = SisSecret::from_bytes([0; 32]);
    // SHA-256 of 32 zero bytes.
    assert_eq!(secret.hash(), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
    assert!(secret.matches_hash(&secret.hash()));
    assert!(!SisSecret::from_bytes([1; 32]).matches_hash(&secret.hash()));
    assert!(!secret.matches_hash(""));
    assert_eq!(format!("{secret:?}"), "SisSecret(..)");
}

#[test]
fn a_signature_made_now_over_the_body_verifies() {
    let (key, ts) = (key(), now().timestamp().to_string());
    let body = br#"{"events": []}"#;
    let signature = key.sign(&ts, body);
    assert!(signature.starts_with("v1=") && signature.len() == 67, "{signature}");
    assert_eq!(key.verify_signature(&ts, body, &signature, now()), Ok(()));
    assert_eq!(key.verify_signature(&ts, body, &signature.to_uppercase().replace("V1=", "v1="), now()), Ok(()));
}

#[test]
fn a_signature_is_what_openssl_computes_from_the_readme_s_recipe() {
    // printf '%s.%s' 1790000000 '{"events": []}' | openssl dgst -sha256 -hmac "$KEY"
    let key = key();
    assert_eq!(key.expose(), "sbk_sk-0123456789abcdef01234567_-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s");
    let expected = "v1=fe4acc91d063495619de353be0d92afefaaee6dbe80176332460ad2489d524e6";
    assert_eq!(key.sign("1790000000", br#"{"events": []}"#), expected);
}

#[test]
fn a_signature_within_five_minutes_either_way_verifies_and_beyond_is_stale() {
    let key = key();
    for (offset, fresh) in [(-300, true), (300, true), (-301, false), (301, false), (-86_400, false)] {
        let ts = (now().timestamp() + offset).to_string();
        let outcome = key.verify_signature(&ts, b"{}", &key.sign(&ts, b"{}"), now());
        let expected = if fresh { Ok(()) } else { Err(SisKeyError::StaleTimestamp) };
        assert_eq!(outcome, expected, "{offset}");
    }
    for bad in ["", "-1", "1.5", "2026-01-01T00:00:00Z", "1790000000000000"] {
        assert_eq!(check_timestamp(bad, now()), Err(SisKeyError::BadTimestamp), "{bad}");
    }
}

#[test]
fn a_tampered_body_another_timestamp_or_another_key_fails_the_signature() {
    let (key, ts) = (key(), now().timestamp().to_string());
    let signature = key.sign(&ts, b"{\"events\": [1]}");
    assert_eq!(key.verify_signature(&ts, b"{\"events\": [2]}", &signature, now()), Err(SisKeyError::BadSignature));
    let other_ts = (now().timestamp() - 1).to_string();
    assert_eq!(
        key.verify_signature(&other_ts, b"{\"events\": [1]}", &signature, now()),
        Err(SisKeyError::BadSignature)
    );
    let other = SisKey::generate();
    assert_eq!(other.verify_signature(&ts, b"{\"events\": [1]}", &signature, now()), Err(SisKeyError::BadSignature));
    for malformed in ["", "v1=", "v2=00", &signature[3..], &format!("{signature}00"), &format!("{}g", &signature[..66])]
    {
        let outcome = key.verify_signature(&ts, b"{\"events\": [1]}", malformed, now());
        assert!(matches!(outcome, Err(SisKeyError::Malformed(_) | SisKeyError::BadSignature)), "{malformed}");
    }
}

#[test]
fn a_rotated_key_works_until_its_end_and_a_revoked_one_not_at_all() {
    let info =
        |revoked_at| SisKeyInfo { id: key().id().clone(), created_at: now(), created_by: "admin".into(), revoked_at };
    assert!(info(None).is_active_at(now()));
    assert!(info(Some(now() + chrono::Duration::seconds(1))).is_active_at(now()));
    assert!(!info(Some(now())).is_active_at(now()));
}
