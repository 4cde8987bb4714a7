//! Where SNS signing certificates come from: the `SigningCertURL` rule, the
//! [`CertificateSource`] trait, a directory source for offline and local
//! runs, and a cache that fetches each URL once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::sync::OnceCell;

use crate::webhook_auth::VerifyError;

/// The environment variable naming the certificate directory.
pub const CERT_DIR_ENV: &str = "SCHOOLBELL_SNS_CERT_DIR";

/// Checks that `url` may be fetched as an SNS signing certificate and
/// returns its file name.
///
/// Allowed: `https://sns.<region>.amazonaws.com/<path>.pem` and
/// `https://sns.<region>.amazonaws.com.cn/<path>.pem`, where the region is
/// three or more of `a-z`, `0-9` and `-` (host case is ignored). Refused:
/// any other scheme, host or lookalike, userinfo (`@`), a port, a query or
/// fragment, percent escapes, backslashes, `.`/`..` segments and any path
/// character outside `A-Z a-z 0-9 . _ - /`.
pub fn check_cert_url(url: &str) -> Result<&str, VerifyError> {
    let rest = url.strip_prefix("https://").ok_or(VerifyError::UntrustedCertificateUrl("not https"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => return Err(VerifyError::UntrustedCertificateUrl("no path")),
    };
    if !is_sns_host(host) {
        return Err(VerifyError::UntrustedCertificateUrl("not an AWS SNS host"));
    }
    let path_ok = path.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    if !path_ok {
        return Err(VerifyError::UntrustedCertificateUrl("unexpected characters in the path"));
    }
    let segments = path[1..].split('/');
    if segments.clone().any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(VerifyError::UntrustedCertificateUrl("unexpected path segments"));
    }
    let file_name = path.rsplit('/').next().unwrap_or_default();
    if !file_name.ends_with(".pem") || file_name.starts_with('.') {
        return Err(VerifyError::UntrustedCertificateUrl("not a .pem file"));
    }
    Ok(file_name)
}

/// `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, any
/// case, with nothing else (no userinfo, no port).
fn is_sns_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let Some(rest) = host.strip_prefix("sns.") else {
        return false;
    };
    let region = rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn"));
    match region {
        Some(region) => {
            region.len() >= 3 && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        }
        None => false,
    }
}

/// Supplies the PEM bytes of the certificate at a `SigningCertURL` that
/// has passed [`check_cert_url`].
///
/// Implementations: [`DirCertificates`] (a local directory),
/// [`CachedCertificates`] (a cache over another source), and the HTTPS
/// fetcher of the `fetch` module (GET the checked URL, https only, no
/// redirects, a size limit and a timeout, failures as
/// [`VerifyError::CertificateFetch`]).
#[async_trait]
pub trait CertificateSource: Send + Sync {
    /// The certificate at `url`, as PEM bytes.
    ///
    /// Errors: [`VerifyError::UnknownCertificate`] when the source has none
    /// for this URL, [`VerifyError::CertificateFetch`] when it could not be
    /// read now (retryable), [`VerifyError::UntrustedCertificateUrl`] for a
    /// URL that fails [`check_cert_url`].
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError>;
}

#[async_trait]
impl<T: CertificateSource + ?Sized> CertificateSource for Arc<T> {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        (**self).certificate(url).await
    }
}

/// Certificates from a directory, each under its URL's file name (for
/// `https://sns.us-east-2.amazonaws.com/SimpleNotificationService-abc.pem`,
/// the file `SimpleNotificationService-abc.pem`). For offline and local
/// runs; configured by `SCHOOLBELL_SNS_CERT_DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirCertificates {
    dir: PathBuf,
}

impl DirCertificates {
    /// Certificates from `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Certificates from the directory named by `SCHOOLBELL_SNS_CERT_DIR`,
    /// if that is set and not blank.
    pub fn from_env() -> Option<Self> {
        crate::config::process_env().optional(CERT_DIR_ENV).map(Self::new)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl CertificateSource for DirCertificates {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        let file_name = check_cert_url(url)?;
        match tokio::fs::read(self.dir.join(file_name)).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VerifyError::UnknownCertificate),
            Err(e) => Err(VerifyError::CertificateFetch(e.kind().to_string())),
        }
    }
}

/// How many certificate URLs [`CachedCertificates`] keeps (SNS uses a
/// handful; the bound only stops a flood of distinct URLs).
pub const CACHE_CAPACITY: usize = 64;

/// A thread-safe cache over another source: each URL is fetched once, even
/// when many requests ask at the same time; failures are not kept, so the
/// next request tries again.
pub struct CachedCertificates<S> {
    inner: S,
    cells: Mutex<HashMap<String, Arc<OnceCell<Vec<u8>>>>>,
}

impl<S> std::fmt::Debug for CachedCertificates<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.cells.lock().map_or(0, |cells| cells.len());
        f.debug_struct("CachedCertificates").field("cached", &cached).finish_non_exhaustive()
    }
}

impl<S: CertificateSource> CachedCertificates<S> {
    /// A cache over `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner, cells: Mutex::new(HashMap::new()) }
    }

    fn cell(&self, url: &str) -> Arc<OnceCell<Vec<u8>>> {
        let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = cells.get(url) {
            return cell.clone();
        }
        if cells.len() >= CACHE_CAPACITY {
            cells.retain(|_, cell| cell.initialized());
            if cells.len() >= CACHE_CAPACITY {
                cells.clear();
            }
        }
        cells.entry(url.to_string()).or_default().clone()
    }

    fn forget_failed(&self, url: &str, cell: &Arc<OnceCell<Vec<u8>>>) {
        let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        if cells.get(url).is_some_and(|c| Arc::ptr_eq(c, cell) && !c.initialized()) {
            cells.remove(url);
        }
    }
}

#[async_trait]
impl<S: CertificateSource> CertificateSource for CachedCertificates<S> {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        check_cert_url(url)?;
        let cell = self.cell(url);
        match cell.get_or_try_init(|| self.inner.certificate(url)).await {
            Ok(pem) => Ok(pem.clone()),
            Err(e) => {
                self.forget_failed(url, &cell);
                Err(e)
            }
        }
    }
}
