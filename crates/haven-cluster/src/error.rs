//! Turning kube client errors into messages a cluster operator can act on.

use std::error::Error as _;

/// Why the cluster could not be checked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// No kubeconfig, a broken one, or a missing context.
    Config(String),
    /// A kubeconfig file that exists but cannot be used: which file, and why.
    Kubeconfig { path: String, detail: String },
    /// Nothing answered (DNS, refused, timeout).
    Unreachable { server: String, detail: String },
    /// TLS failed: the server's certificate is not trusted by the kubeconfig's CA.
    UntrustedCertificate { server: String, detail: String },
    /// 401: the credentials were rejected (expired token, revoked certificate).
    Unauthorized { server: String, detail: String },
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::Config(m) => write!(f, "cluster access: {m}"),
            ClusterError::Kubeconfig { path, detail } => {
                write!(f, "not a usable kubeconfig: {detail} ({path})")
            }
            ClusterError::Unreachable { server, detail } => write!(
                f,
                "cannot reach the API server at {server}: {detail} (is the cluster running, and is this the right kubeconfig/context?)"
            ),
            ClusterError::UntrustedCertificate { server, detail } => write!(
                f,
                "the API server at {server} presented a certificate that is not trusted: {detail} (check certificate-authority-data in the kubeconfig)"
            ),
            ClusterError::Unauthorized { server, detail } => write!(
                f,
                "the API server at {server} rejected the credentials (401 Unauthorized: {detail}); the token may have expired: log in again or refresh the kubeconfig"
            ),
            ClusterError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ClusterError {}

/// Why a write probe (or the `--write-crd` record) could not do its work. Matched by variant:
/// [`ProbeError::Interrupted`] ends the run as interrupted.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("interrupted (Ctrl-C)")]
    Interrupted,
    #[error("{what} timed out")]
    TimedOut { what: String },
    /// A request the API server refused or did not answer.
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    /// An object given as JSON that is not of its kind.
    #[error("{what}: {source}")]
    Decode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// The probe ran, but its output is not what it should be.
    #[error("{0}")]
    Output(String),
    /// The probe namespace may be left behind: the operator must delete it.
    #[error("could not delete namespace {namespace}: {detail}; delete it by hand")]
    Leftover { namespace: String, detail: String },
}

impl ProbeError {
    /// For `map_err`: a failed request, saying what it was.
    pub(crate) fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ProbeError {
        let what = what.into();
        move |source| ProbeError::Api { what, source }
    }

    pub(crate) fn timed_out(
        what: impl Into<String>,
    ) -> impl FnOnce(tokio::time::error::Elapsed) -> ProbeError {
        let what = what.into();
        move |_| ProbeError::TimedOut { what }
    }
}

/// An error and its sources, joined with `: ` (each only once, first line only: a YAML
/// parser's source snippet would break the one-line form): the message says why.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let first_line = |text: String| text.lines().next().unwrap_or_default().trim().to_owned();
    let mut parts = vec![first_line(e.to_string())];
    let mut source = e.source();
    while let Some(s) = source {
        let text = first_line(s.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The whole source chain of an error, joined, for pattern matching and for the message.
pub(crate) fn error_chain(e: &kube::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Classify a kube error that prevented any read.
pub fn describe_kube_error(e: &kube::Error, server: &str) -> ClusterError {
    let server = server.to_owned();
    if let kube::Error::Api(s) = e {
        if s.code == 401 {
            return ClusterError::Unauthorized {
                server,
                detail: s.message.clone(),
            };
        }
        return ClusterError::Other(format!(
            "API server at {server} answered HTTP {} {}: {}",
            s.code, s.reason, s.message
        ));
    }
    let mut detail = error_chain(e);
    let cause = Cause::of(e);
    if cause.timed_out {
        detail.push_str(" (no answer within --timeout)");
    }
    if cause.untrusted_certificate {
        ClusterError::UntrustedCertificate { server, detail }
    } else {
        ClusterError::Unreachable { server, detail }
    }
}

/// Whether a request failed because nothing answered in time (by the error types in its source
/// chain, not by their messages).
pub fn timed_out(e: &kube::Error) -> bool {
    Cause::of(e).timed_out
}

/// What the source chain of an error holds, found by type: a timer that ran out, a certificate
/// that rustls refused.
#[derive(Debug, Default)]
struct Cause {
    timed_out: bool,
    untrusted_certificate: bool,
}

impl Cause {
    fn of(e: &(dyn std::error::Error + 'static)) -> Cause {
        let mut cause = Cause::default();
        cause.walk(e);
        cause
    }

    fn walk(&mut self, e: &(dyn std::error::Error + 'static)) {
        let mut next = Some(e);
        while let Some(err) = next {
            if err.is::<tokio::time::error::Elapsed>() {
                self.timed_out = true;
            }
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                self.untrusted_certificate |= matches!(
                    tls,
                    rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
                );
            }
            // An `io::Error` hides the error it carries from `source()`: look inside.
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                self.timed_out |= io.kind() == std::io::ErrorKind::TimedOut;
                if let Some(inner) = io.get_ref() {
                    self.walk(inner);
                }
            }
            next = err.source();
        }
    }
}
