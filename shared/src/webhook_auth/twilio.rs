//! Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the account's
//! auth token, over the full public URL followed by every POST parameter
//! (names sorted; for each name its values sorted: `name + value`).
//!
//! Twilio's SDKs accept a signature computed over any of three forms of the
//! URL: as received, with the port removed, and with the scheme's default
//! port added. JSON-body webhooks instead carry `bodySHA256` (hex SHA-256 of
//! the raw body) in the query string and sign the URL alone. The URL must be
//! the public one Twilio called (configured, since a proxy or API Gateway
//! changes the Host), query string included.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{Headers, VerifyError, body_hash_matches, form_pairs, query_of};

/// The header carrying Twilio's signature.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The query parameter carrying the hex SHA-256 of a JSON body.
pub const BODY_HASH_PARAM: &str = "bodySHA256";

type HmacSha1 = Hmac<Sha1>;

/// Verifies a Twilio webhook from its raw parts: `public_url` as Twilio
/// called it (query string included), the raw body (form-encoded, empty for
/// GET, or JSON when the URL carries `bodySHA256`) and the
/// `X-Twilio-Signature` header value.
///
/// `Ok` guarantees that someone holding `auth_token` signed exactly this URL
/// (in one of its three port forms) and exactly these parameters, or, for a
/// JSON body, this URL and a body with this SHA-256. It says nothing about
/// freshness: Twilio signs no timestamp, so replays must be harmless.
pub fn verify_twilio(
    auth_token: &str,
    public_url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), VerifyError> {
    match body_hash_param(public_url) {
        Some(hash) => {
            verify_url_and_params(auth_token, public_url, &[] as &[(String, String)], signature)?;
            if body_hash_matches(&hash, body) { Ok(()) } else { Err(VerifyError::BodyHashMismatch) }
        }
        None => verify_url_and_params(auth_token, public_url, &form_pairs(body), signature),
    }
}

/// [`verify_twilio`] with the signature taken from the request's headers.
pub fn verify_twilio_request<H: Headers + ?Sized>(
    auth_token: &str,
    public_url: &str,
    headers: &H,
    body: &[u8],
) -> Result<(), VerifyError> {
    verify_twilio(auth_token, public_url, body, headers.header(SIGNATURE_HEADER))
}

/// Verifies a Twilio signature over already-decoded form parameters (for
/// callers that received them decoded, such as a framework's form map).
/// Same guarantee as [`verify_twilio`] for form bodies.
pub fn verify_twilio_params<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    public_url: &str,
    params: &[(N, V)],
    signature: Option<&str>,
) -> Result<(), VerifyError> {
    verify_url_and_params(auth_token, public_url, params, signature)
}

/// Computes the signature Twilio would send for `url` and `params`
/// (base64), for tests and the local load generator.
pub fn sign_twilio<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(N, V)],
) -> Result<String, VerifyError> {
    let mac = signed_mac(auth_token, url, params)?;
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `application/x-www-form-urlencoded` body Twilio posts for these
/// parameters (spaces as `+`), for tests and the local load generator that
/// post what [`sign_twilio`] signed.
pub fn form_encode<N: AsRef<str>, V: AsRef<str>>(params: &[(N, V)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
                b' ' => "+".to_string(),
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    params.iter().map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref()))).collect::<Vec<_>>().join("&")
}

fn verify_url_and_params<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    public_url: &str,
    params: &[(N, V)],
    signature: Option<&str>,
) -> Result<(), VerifyError> {
    if auth_token.is_empty() {
        return Err(VerifyError::Configuration("the Twilio auth token is empty"));
    }
    let signature = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(VerifyError::Missing(SIGNATURE_HEADER))?;
    let signature = STANDARD.decode(signature).map_err(|_| VerifyError::BadEncoding(SIGNATURE_HEADER))?;
    let mut matched = false;
    for url in url_variants(public_url) {
        let mac = signed_mac(auth_token, &url, params)?;
        // Every variant is checked, so the time taken does not depend on
        // which one (if any) matched.
        matched |= mac.verify_slice(&signature).is_ok();
    }
    if matched { Ok(()) } else { Err(VerifyError::Mismatch) }
}

fn signed_mac<N: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(N, V)],
) -> Result<HmacSha1, VerifyError> {
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes())
        .map_err(|_| VerifyError::Configuration("the Twilio auth token is not a usable HMAC key"))?;
    mac.update(url.as_bytes());
    let mut sorted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in params {
        sorted.entry(name.as_ref()).or_default().push(value.as_ref());
    }
    for (name, mut values) in sorted {
        // As twilio-python: each distinct value once, sorted.
        values.sort_unstable();
        values.dedup();
        for value in values {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
    }
    Ok(mac)
}

fn body_hash_param(url: &str) -> Option<String> {
    let query = query_of(url)?;
    form_pairs(query.as_bytes()).into_iter().find(|(name, _)| name == BODY_HASH_PARAM).map(|(_, value)| value)
}

/// The forms of `url` Twilio may have signed: as given, then without its
/// port (when it has one) or with the scheme's default port (when it has
/// none and the scheme is http or https).
fn url_variants(url: &str) -> Vec<Cow<'_, str>> {
    let mut variants = vec![Cow::Borrowed(url)];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = split_port(host_port);
    let rebuild = |host_port: &str| {
        let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
        Cow::Owned(format!("{scheme}://{userinfo}{host_port}{tail}"))
    };
    match port {
        Some(_) => variants.push(rebuild(host)),
        None => {
            let default_port = match scheme.to_ascii_lowercase().as_str() {
                "https" => Some("443"),
                "http" => Some("80"),
                _ => None,
            };
            if let Some(port) = default_port {
                variants.push(rebuild(&format!("{host}:{port}")));
            }
        }
    }
    variants
}

/// Splits `host[:port]` (IPv6 hosts in brackets); a port is one or more
/// digits after the last colon.
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    let host_end = match (host_port.starts_with('['), host_port.find(']')) {
        (false, _) => 0,
        (true, Some(i)) => i + 1,
        (true, None) => return (host_port, None),
    };
    match host_port[host_end..].rfind(':') {
        Some(i) => {
            let (host, port) = host_port.split_at(host_end + i);
            let port = &port[1..];
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                (host, Some(port))
            } else {
                (host_port, None)
            }
        }
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), VerifyError>;

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const PARAMS: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ];
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const FORM_BODY: &[u8] =
        b"To=%2B18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";

    #[test]
    fn the_published_vector_signs_and_verifies() -> TestResult {
        assert_eq!(sign_twilio(TOKEN, URL, &PARAMS)?, EXPECTED);
        verify_twilio_params(TOKEN, URL, &PARAMS, Some(EXPECTED))?;
        verify_twilio(TOKEN, URL, FORM_BODY, Some(EXPECTED))
    }

    #[test]
    fn the_published_port_vectors_verify_in_every_url_form() -> TestResult {
        let with_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(sign_twilio(TOKEN, with_443, &PARAMS)?, "kvajT1Ptam85bY51eRf/AJRuM3w=");
        // Signed with the port, received without it, and the other way round.
        verify_twilio(TOKEN, URL, FORM_BODY, Some("kvajT1Ptam85bY51eRf/AJRuM3w="))?;
        verify_twilio(TOKEN, with_443, FORM_BODY, Some(EXPECTED))?;
        let http_80 = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
        assert_eq!(sign_twilio(TOKEN, http_80, &PARAMS)?, "0ZXoZLH/DfblKGATFgpif+LLRf4=");
        verify_twilio(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            FORM_BODY,
            Some("0ZXoZLH/DfblKGATFgpif+LLRf4="),
        )?;
        let http_1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(sign_twilio(TOKEN, http_1234, &PARAMS)?, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
        verify_twilio(TOKEN, http_1234, FORM_BODY, Some("Zmvh+3yNM1Phv2jhDCwEM3q5ebU="))
    }

    #[test]
    fn the_published_vector_with_a_repeated_parameter_name_verifies() -> TestResult {
        let params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")];
        assert_eq!(sign_twilio(TOKEN, URL, &params)?, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        verify_twilio(
            TOKEN,
            URL,
            b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
            Some("IK+Dwps556ElfBT0I3Rgjkr1wJU="),
        )
    }

    #[test]
    fn the_published_json_body_vector_verifies_by_its_body_hash() -> TestResult {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(super::super::sha256_hex(body), hash);
        let url = format!("{URL}&bodySHA256={hash}");
        verify_twilio(TOKEN, &url, body, Some("a9nBmqA0ju/hNViExpshrM61xv4="))?;
        let tampered = br#"{"property": "value", "boolean": false}"#;
        assert_eq!(
            verify_twilio(TOKEN, &url, tampered, Some("a9nBmqA0ju/hNViExpshrM61xv4=")),
            Err(VerifyError::BodyHashMismatch)
        );
        let other_hash = url.replace("0a1ff", "0a1fe");
        assert_eq!(
            verify_twilio(TOKEN, &other_hash, body, Some("a9nBmqA0ju/hNViExpshrM61xv4=")),
            Err(VerifyError::Mismatch)
        );
        Ok(())
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let tampered =
            b"To=%2B18005551213&From=%2B14158675309&Digits=1234&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
        assert_eq!(verify_twilio(TOKEN, URL, tampered, Some(EXPECTED)), Err(VerifyError::Mismatch));
        let extra = [FORM_BODY, b"&MessageStatus=delivered"].concat();
        assert_eq!(verify_twilio(TOKEN, URL, &extra, Some(EXPECTED)), Err(VerifyError::Mismatch));
        assert_eq!(
            verify_twilio(TOKEN, "https://mycompany.com/myapp.php?foo=1&bar=3", FORM_BODY, Some(EXPECTED)),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        assert_eq!(
            verify_twilio(TOKEN, URL, FORM_BODY, Some("RSOYDt4T1cUTdK1PDd93/VVr9B8=")),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_twilio(TOKEN, URL, FORM_BODY, Some("not base64!")),
            Err(VerifyError::BadEncoding(SIGNATURE_HEADER))
        );
        assert_eq!(verify_twilio(TOKEN, URL, FORM_BODY, Some(" ")), Err(VerifyError::Missing(SIGNATURE_HEADER)));
        assert_eq!(verify_twilio(TOKEN, URL, FORM_BODY, None), Err(VerifyError::Missing(SIGNATURE_HEADER)));
    }

    #[test]
    fn a_wrong_auth_token_is_refused() {
        assert_eq!(verify_twilio("54321", URL, FORM_BODY, Some(EXPECTED)), Err(VerifyError::Mismatch));
        assert!(matches!(verify_twilio("", URL, FORM_BODY, Some(EXPECTED)), Err(VerifyError::Configuration(_))));
    }

    #[test]
    fn the_signature_is_read_from_the_headers() -> TestResult {
        let headers = [("X-Twilio-Signature", EXPECTED)];
        verify_twilio_request(TOKEN, URL, &headers[..], FORM_BODY)?;
        assert_eq!(
            verify_twilio_request(TOKEN, URL, &[] as &[(&str, &str)], FORM_BODY),
            Err(VerifyError::Missing(SIGNATURE_HEADER))
        );
        Ok(())
    }

    #[test]
    fn url_variants_handle_userinfo_ipv6_and_odd_urls() {
        let variants = url_variants("https://user:pw@example.com:8443/a?b=1");
        assert_eq!(variants, ["https://user:pw@example.com:8443/a?b=1", "https://user:pw@example.com/a?b=1"]);
        let variants = url_variants("http://[::1]/x");
        assert_eq!(variants, ["http://[::1]/x", "http://[::1]:80/x"]);
        let variants = url_variants("https://[::1]:9000");
        assert_eq!(variants, ["https://[::1]:9000", "https://[::1]"]);
        assert_eq!(url_variants("not a url"), ["not a url"]);
        assert_eq!(url_variants("ftp://host/x"), ["ftp://host/x"]);
        assert_eq!(url_variants("https://[::1"), ["https://[::1", "https://[::1:443"]);
    }
}
