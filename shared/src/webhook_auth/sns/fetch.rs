//! SNS signing certificates over HTTPS: [`HttpsCertificates`] GETs a
//! `SigningCertURL` only after [`check_cert_url`] accepts it (https, an AWS
//! SNS host, a `.pem` path), with no redirects, a timeout and a size limit;
//! [`FallbackCertificates`] tries an operator's directory first. Wrap either
//! in [`CachedCertificates`](super::CachedCertificates) so each URL is
//! fetched once per process.

use std::time::Duration;

use async_trait::async_trait;

use super::{CertificateSource, check_cert_url, rsa_key_from_certificate};
use crate::webhook_auth::VerifyError;

/// Largest certificate accepted (SNS's are about 2 KB).
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// How long one fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Certificates fetched from AWS over HTTPS (rustls, the system's roots).
///
/// Only URLs that pass [`check_cert_url`] are ever requested; the client
/// refuses plain http and does not follow redirects, so the bytes come from
/// the SNS host named in the signed message or not at all. The body must be
/// an X.509 certificate with an RSA key, or it is refused before any cache
/// keeps it.
#[derive(Debug, Clone)]
pub struct HttpsCertificates {
    client: reqwest::Client,
}

impl HttpsCertificates {
    /// A fetcher with its own HTTPS client.
    pub fn new() -> Result<Self, VerifyError> {
        let client = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(FETCH_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|_| VerifyError::Configuration("the HTTPS client for SNS certificates could not be built"))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl CertificateSource for HttpsCertificates {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        check_cert_url(url)?;
        let mut response = self.client.get(url).send().await.map_err(|e| fetch_error(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            return Err(VerifyError::UnknownCertificate);
        }
        if !status.is_success() {
            return Err(VerifyError::CertificateFetch(format!("the certificate host answered {}", status.as_u16())));
        }
        if response.content_length().is_some_and(|length| length > MAX_CERTIFICATE_BYTES as u64) {
            return Err(VerifyError::BadCertificate("larger than a certificate"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fetch_error(&e))? {
            if body.len() + chunk.len() > MAX_CERTIFICATE_BYTES {
                return Err(VerifyError::BadCertificate("larger than a certificate"));
            }
            body.extend_from_slice(&chunk);
        }
        rsa_key_from_certificate(&body)?;
        Ok(body)
    }
}

fn fetch_error(error: &reqwest::Error) -> VerifyError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    VerifyError::CertificateFetch(what.to_string())
}

/// Asks `first`; when it knows no certificate for the URL
/// ([`VerifyError::UnknownCertificate`]), asks `then`. Any other error of
/// `first` is final. For a directory of pinned certificates in front of
/// [`HttpsCertificates`].
#[derive(Debug, Clone)]
pub struct FallbackCertificates<A, B> {
    first: A,
    then: B,
}

impl<A: CertificateSource, B: CertificateSource> FallbackCertificates<A, B> {
    /// `first`, then `then`.
    pub fn new(first: A, then: B) -> Self {
        Self { first, then }
    }
}

#[async_trait]
impl<A: CertificateSource, B: CertificateSource> CertificateSource for FallbackCertificates<A, B> {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        match self.first.certificate(url).await {
            Err(VerifyError::UnknownCertificate) => self.then.certificate(url).await,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook_auth::DirCertificates;

    struct Fixed(Result<Vec<u8>, VerifyError>);

    #[async_trait]
    impl CertificateSource for Fixed {
        async fn certificate(&self, _url: &str) -> Result<Vec<u8>, VerifyError> {
            self.0.clone()
        }
    }

    const URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem";

    #[tokio::test]
    async fn untrusted_urls_are_refused_before_any_request() -> Result<(), VerifyError> {
        let https = HttpsCertificates::new()?;
        for url in [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
            "https://127.0.0.1/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.txt",
        ] {
            assert!(matches!(https.certificate(url).await, Err(VerifyError::UntrustedCertificateUrl(_))), "{url}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn the_fallback_is_asked_only_when_the_first_source_knows_nothing() {
        let unknown = FallbackCertificates::new(Fixed(Err(VerifyError::UnknownCertificate)), Fixed(Ok(b"b".to_vec())));
        assert_eq!(unknown.certificate(URL).await, Ok(b"b".to_vec()));
        let found = FallbackCertificates::new(Fixed(Ok(b"a".to_vec())), Fixed(Ok(b"b".to_vec())));
        assert_eq!(found.certificate(URL).await, Ok(b"a".to_vec()));
        let broken =
            FallbackCertificates::new(Fixed(Err(VerifyError::CertificateFetch("io".into()))), Fixed(Ok(b"b".to_vec())));
        assert!(matches!(broken.certificate(URL).await, Err(VerifyError::CertificateFetch(_))));
    }

    #[tokio::test]
    async fn a_directory_in_front_serves_its_file_without_the_network() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("SimpleNotificationService-x.pem"), b"pem")?;
        let sources = FallbackCertificates::new(DirCertificates::new(dir.path()), HttpsCertificates::new()?);
        assert_eq!(sources.certificate(URL).await?, b"pem".to_vec());
        Ok(())
    }
}
