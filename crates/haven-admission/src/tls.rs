//! TLS for the webhook: rustls with ring, TLS 1.2 and 1.3 only, and a certificate that is
//! reloaded from disk when cert-manager rotates it, without dropping a single request.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate or key that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path, message: impl Into<String>) -> TlsError {
    TlsError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Reads a PEM certificate chain and private key.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| err(cert, format!("cannot read certificate: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(cert, format!("invalid PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(err(cert, "no certificate in file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| err(key, format!("cannot read private key: {e}")))?;
    let signing = ring::sign::any_supported_type(&key_der)
        .map_err(|e| err(key, format!("unsupported private key: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

/// Serves the current certificate and swaps in a new one when the files change on disk.
#[derive(Debug)]
pub struct ReloadingCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    state: RwLock<(Arc<CertifiedKey>, Option<SystemTime>, Option<SystemTime>)>,
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl ReloadingCert {
    pub fn new(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let loaded = load(cert, key)?;
        Ok(Self {
            cert_path: cert.to_owned(),
            key_path: key.to_owned(),
            state: RwLock::new((loaded, modified(cert), modified(key))),
        })
    }

    /// Reloads when either file changed. A half-written pair (cert-manager writes the secret's
    /// files one by one) fails to load and is retried at the next call; the old certificate
    /// keeps serving meanwhile. Returns whether a new certificate is now in use.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let (cert_m, key_m) = (modified(&self.cert_path), modified(&self.key_path));
        {
            let state = self
                .state
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.1 == cert_m && state.2 == key_m {
                return Ok(false);
            }
        }
        let loaded = load(&self.cert_path, &self.key_path)?;
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (loaded, cert_m, key_m);
        Ok(true)
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .clone()
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
