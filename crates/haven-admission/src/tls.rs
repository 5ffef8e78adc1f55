//! TLS for the webhook: rustls with ring, TLS 1.2 and 1.3 only, and a certificate that is
//! reloaded from disk when cert-manager rotates it, without dropping a single request.
//!
//! A pair is checked before it is used, at start and at every reload: the certificate must
//! match the private key (else the server would present a certificate whose handshakes all
//! fail, and with `failurePolicy: Fail` no Pod could be created), and its expiry is read so
//! that the server can warn ahead of it and export it as a metric. A reload that fails keeps
//! the pair in use and says why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate or key that could not be loaded or does not fit.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot read certificate: {message}")]
    ReadCertificate { path: String, message: String },
    #[error("{path}: no certificate in file")]
    NoCertificate { path: String },
    #[error("{path}: cannot read private key: {message}")]
    ReadKey { path: String, message: String },
    #[error("{path}: unsupported private key: {message}")]
    UnsupportedKey { path: String, message: String },
    #[error("{path}: cannot read the certificate's validity: {message}")]
    Validity { path: String, message: String },
    /// The end-entity certificate's public key is not the private key's.
    #[error("{cert} does not match the private key {key}: {message}")]
    Mismatch {
        cert: String,
        key: String,
        message: String,
    },
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// A certificate chain and its key, checked to belong together, with the end-entity
/// certificate's expiry.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    pub key: Arc<CertifiedKey>,
    /// `notAfter` of the end-entity certificate.
    pub not_after: jiff::Timestamp,
}

/// Reads a PEM certificate chain and private key, and checks that they belong together.
pub fn load(cert: &Path, key: &Path) -> Result<LoadedCert, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::ReadCertificate {
            path: shown(cert),
            message: e.to_string(),
        })?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::ReadCertificate {
            path: shown(cert),
            message: format!("invalid PEM certificate: {e}"),
        })?;
    let Some(end_entity) = chain.first() else {
        return Err(TlsError::NoCertificate { path: shown(cert) });
    };
    let not_after = not_after(end_entity).map_err(|e| TlsError::Validity {
        path: shown(cert),
        message: e.to_string(),
    })?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::ReadKey {
        path: shown(key),
        message: e.to_string(),
    })?;
    let signing =
        ring::sign::any_supported_type(&key_der).map_err(|e| TlsError::UnsupportedKey {
            path: shown(key),
            message: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    // Compares the certificate's SubjectPublicKeyInfo with the key's.
    certified.keys_match().map_err(|e| TlsError::Mismatch {
        cert: shown(cert),
        key: shown(key),
        message: e.to_string(),
    })?;
    Ok(LoadedCert {
        key: Arc::new(certified),
        not_after,
    })
}

/// Why a certificate's `notAfter` could not be read.
#[derive(Debug, thiserror::Error)]
enum NotAfterError {
    #[error("{0}")]
    Parse(#[from] x509_parser::nom::Err<x509_parser::error::X509Error>),
    #[error("notAfter out of range: {0}")]
    Range(#[from] jiff::Error),
}

/// `notAfter` of a DER certificate.
fn not_after(der: &CertificateDer<'_>) -> Result<jiff::Timestamp, NotAfterError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)?;
    Ok(jiff::Timestamp::from_second(
        cert.validity().not_after.timestamp(),
    )?)
}

/// How close a certificate is to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Valid for longer than the warning window.
    Valid,
    /// Expires within the warning window, in this many whole days (0: within a day).
    Expiring { days_left: i64 },
    /// Expired this many whole days ago (0: within the last day).
    Expired { days_ago: i64 },
}

impl Expiry {
    /// The state of a certificate valid until `not_after`, at `now`, warning `warn_days`
    /// days ahead.
    pub fn of(not_after: jiff::Timestamp, now: jiff::Timestamp, warn_days: u32) -> Self {
        const DAY: i64 = 86_400;
        let left = not_after.as_second() - now.as_second();
        if left <= 0 {
            Expiry::Expired {
                days_ago: -left / DAY,
            }
        } else if left <= i64::from(warn_days) * DAY {
            Expiry::Expiring {
                days_left: left / DAY,
            }
        } else {
            Expiry::Valid
        }
    }
}

/// Serves the current certificate and swaps in a new one when the files change on disk.
#[derive(Debug)]
pub struct ReloadingCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    state: RwLock<State>,
}

#[derive(Debug)]
struct State {
    loaded: LoadedCert,
    /// The files' contents (hashed) when the pair in use was loaded.
    in_use: (u64, u64),
    /// The contents of the last pair that failed to load: reported once, not at every call.
    failed: Option<(u64, u64)>,
}

/// A hash of a file's contents (`0` when unreadable). Contents, not modification times: two
/// writes within one tick of the kernel's clock (a few milliseconds) leave the same time.
fn contents(p: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    std::fs::read(p).ok().hash(&mut h);
    h.finish()
}

impl ReloadingCert {
    pub fn new(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let in_use = (contents(cert), contents(key));
        let loaded = load(cert, key)?;
        Ok(Self {
            cert_path: cert.to_owned(),
            key_path: key.to_owned(),
            state: RwLock::new(State {
                loaded,
                in_use,
                failed: None,
            }),
        })
    }

    /// Reloads when either file changed. A pair that does not load or whose certificate does
    /// not match its key is not used: the pair in use keeps serving, and the error says why,
    /// once for each such pair (a half-written pair, as cert-manager writes the files one by
    /// one, fails so until its second file is written). Returns whether a new certificate is
    /// now in use.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = (contents(&self.cert_path), contents(&self.key_path));
        {
            let state = self
                .state
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.in_use == now || state.failed == Some(now) {
                return Ok(false);
            }
        }
        let mut state = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match load(&self.cert_path, &self.key_path) {
            Ok(loaded) => {
                *state = State {
                    loaded,
                    in_use: now,
                    failed: None,
                };
                Ok(true)
            }
            Err(e) => {
                state.failed = Some(now);
                Err(e)
            }
        }
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .loaded
            .key
            .clone()
    }

    /// `notAfter` of the certificate in use.
    pub fn not_after(&self) -> jiff::Timestamp {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .loaded
            .not_after
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Server config: ring, TLS 1.2+, HTTP/2 and HTTP/1.1.
pub fn server_config(cert: Arc<ReloadingCert>) -> Result<rustls::ServerConfig, rustls::Error> {
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_judged_against_the_warning_window() {
        let t = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        let day = 86_400;
        let now = 1_800_000_000;
        assert_eq!(Expiry::of(t(now + 30 * day), t(now), 14), Expiry::Valid);
        assert_eq!(
            Expiry::of(t(now + 14 * day), t(now), 14),
            Expiry::Expiring { days_left: 14 }
        );
        assert_eq!(
            Expiry::of(t(now + day / 2), t(now), 14),
            Expiry::Expiring { days_left: 0 }
        );
        assert_eq!(
            Expiry::of(t(now), t(now), 14),
            Expiry::Expired { days_ago: 0 }
        );
        assert_eq!(
            Expiry::of(t(now - 3 * day - 1), t(now), 14),
            Expiry::Expired { days_ago: 3 }
        );
        // No window: only expiry warns.
        assert_eq!(Expiry::of(t(now + 1), t(now), 0), Expiry::Valid);
    }

    /// Writes a self-signed pair (its key, or another one with `mismatched`); returns the
    /// certificate's DER.
    fn write_pair(dir: &Path, mismatched: bool) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let written = if mismatched {
            rcgen::KeyPair::generate().unwrap()
        } else {
            key
        };
        std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
        std::fs::write(dir.join("tls.key"), written.serialize_pem()).unwrap();
        cert.der().to_vec()
    }

    #[test]
    fn pairs_are_reloaded_by_content_and_a_bad_pair_is_kept_out_and_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        write_pair(dir.path(), false);
        let reloading = ReloadingCert::new(&cert, &key).unwrap();
        assert!(!reloading.reload_if_changed().unwrap());
        // Rewritten at once (the same modification time, on most file systems): still seen.
        let second = write_pair(dir.path(), false);
        assert!(reloading.reload_if_changed().unwrap());
        assert_eq!(reloading.current().cert[0].as_ref(), second.as_slice());
        // A certificate with another key: refused, reported once, the pair in use kept.
        write_pair(dir.path(), true);
        let e = reloading.reload_if_changed().unwrap_err();
        assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
        assert!(!reloading.reload_if_changed().unwrap());
        assert_eq!(reloading.current().cert[0].as_ref(), second.as_slice());
        // And refused at start.
        assert!(matches!(
            ReloadingCert::new(&cert, &key).unwrap_err(),
            TlsError::Mismatch { .. }
        ));
    }
}
