//! Reading fields out of provider bodies: form and query strings, JSON
//! values that may be strings or numbers, E.164 numbers, timestamps, and
//! labels that are safe to put in an error message.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::{Dialect, ReceiptError};

/// A decoded `application/x-www-form-urlencoded` body or query string.
#[derive(Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Decodes `a=1&b=two+words&c=%2B1`. A leading `?`, or a whole URL up
    /// to its `?`, is skipped, so a logged DLR URL decodes as well.
    pub(crate) fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut text = text.trim();
        if text.starts_with("http://") || text.starts_with("https://") || text.starts_with('/') {
            text = text.split_once('?').map_or("", |(_, query)| query);
        }
        let text = text.strip_prefix('?').unwrap_or(text);
        let pairs = text
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode_component(name), decode_component(value))
            })
            .collect();
        Form(pairs)
    }

    /// The first value of `name`, trimmed; `None` when absent or empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Percent-decodes one form component, `+` standing for a space. Invalid
/// escapes are kept as they are; invalid UTF-8 becomes U+FFFD.
fn decode_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a JSON body, reporting only where it fails (serde's own messages
/// can quote the body).
pub(crate) fn json(dialect: Dialect, body: &[u8]) -> Result<Value, ReceiptError> {
    serde_json::from_slice(body).map_err(|e| {
        ReceiptError::malformed(
            dialect,
            format!("not JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column()),
        )
    })
}

/// The value at `key` as text: a non-empty string (trimmed) or a number.
pub(crate) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(as_text)
}

/// A JSON string (trimmed, non-empty) or number as text.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The text at `key`, or a [`ReceiptError::MissingField`] naming `field`.
pub(crate) fn required(
    dialect: Dialect,
    value: &Value,
    key: &str,
    field: &'static str,
) -> Result<String, ReceiptError> {
    text(value, key).ok_or_else(|| ReceiptError::missing(dialect, field))
}

/// The object at `key`, or a [`ReceiptError::MissingField`] naming `field`.
pub(crate) fn object<'a>(
    dialect: Dialect,
    value: &'a Value,
    key: &str,
    field: &'static str,
) -> Result<&'a Value, ReceiptError> {
    value.get(key).filter(|v| v.is_object()).ok_or_else(|| ReceiptError::missing(dialect, field))
}

/// A provider's phone number in E.164 form: `+` (optional in the payload,
/// Vonage leaves it out) and 8 to 15 digits not starting with 0. Anything
/// else (national forms, masked numbers, short codes) gives `None`.
pub(crate) fn e164(raw: &str) -> Option<String> {
    let digits = raw.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    let valid =
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    valid.then(|| format!("+{digits}"))
}

/// An RFC 3339 timestamp (`2024-01-15T21:32:14.148+00:00`, `...Z`).
pub(crate) fn rfc3339(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Milliseconds since the Unix epoch, as a JSON number or numeric string.
pub(crate) fn epoch_millis(value: &Value) -> Option<DateTime<Utc>> {
    let millis = value.as_i64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    Utc.timestamp_millis_opt(millis).single()
}

/// A provider-documented UTC timestamp without an offset, in `format`
/// (`%Y-%m-%d %H:%M:%S%.f` for Vonage and SNS logs).
pub(crate) fn naive_utc(raw: &str, format: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw.trim(), format).ok().map(|t| t.and_utc())
}

/// A provider value shortened to something safe in an error message: at
/// most 40 characters, and `<redacted>` when it could be contact data (an
/// `@`, or a run of digits long enough to be a phone number).
pub(crate) fn safe_label(raw: &str) -> String {
    let digits = raw.bytes().filter(u8::is_ascii_digit).count();
    if raw.contains('@') || digits >= 7 {
        return "<redacted>".into();
    }
    raw.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_body_decodes_plus_and_percent_escapes() {
        let form = Form::parse(b"To=%2B15555550123&Body=hello+there&Bad=%zz&Empty=");
        assert_eq!(form.get("To"), Some("+15555550123"));
        assert_eq!(form.get("Body"), Some("hello there"));
        assert_eq!(form.get("Bad"), Some("%zz"));
        assert_eq!(form.get("Empty"), None);
        assert_eq!(form.get("Missing"), None);
    }

    #[test]
    fn a_logged_url_decodes_from_its_query_string() {
        let form = Form::parse(b"https://gw.example/dlr?id=abc&status=1");
        assert_eq!(form.get("id"), Some("abc"));
        assert_eq!(Form::parse(b"?status=8").get("status"), Some("8"));
    }

    #[test]
    fn numbers_normalize_to_e164_only_when_they_look_like_one() {
        assert_eq!(e164("447547232824").as_deref(), Some("+447547232824"));
        assert_eq!(e164(" +13125550002 ").as_deref(), Some("+13125550002"));
        assert_eq!(e164("+1XXX5550100"), None);
        assert_eq!(e164("0612345678"), None);
        assert_eq!(e164("12345"), None);
    }

    #[test]
    fn labels_that_could_be_contact_data_are_redacted() {
        assert_eq!(safe_label("Open"), "Open");
        assert_eq!(safe_label("a@b.example"), "<redacted>");
        assert_eq!(safe_label("+1 555 555 0123"), "<redacted>");
    }

    #[test]
    fn timestamps_parse_in_each_provider_form() {
        assert!(rfc3339("2024-01-15T21:32:14.148+00:00").is_some());
        assert!(epoch_millis(&serde_json::json!(1686975103470_i64)).is_some());
        assert!(naive_utc("2016-06-28 00:40:34.558", "%Y-%m-%d %H:%M:%S%.f").is_some());
        assert!(naive_utc("2018-10-25 12:10:29", "%Y-%m-%d %H:%M:%S%.f").is_some());
        assert!(rfc3339("yesterday").is_none());
    }
}
