//! The HTTPS server: `/validate`, `/healthz`, `/readyz`, `/metrics`.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::metrics::{Metrics, RequestLabels, RuleLabels};
use crate::policy::NamespaceLabels;
use crate::review::Verdict;
use crate::reviewer::Reviewer;
use crate::tls::{ReloadingCert, TlsError, server_config};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub config: Config,
    /// The webhook's own namespace: always exempt.
    pub own_namespace: String,
    /// How often the certificate files are checked for rotation.
    pub reload_interval: Duration,
    /// Largest request body accepted (the API server sends at most ~3 MiB).
    pub max_body: usize,
    /// Time allowed for the TLS handshake and the request headers.
    pub header_timeout: Duration,
    /// Time allowed to receive the request body.
    pub body_timeout: Duration,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Benchmarks only: allow everything without evaluating, on the same TLS and HTTP stack,
    /// to measure the ceiling the real webhook is compared with.
    pub null_responder: bool,
}

impl ServeOptions {
    pub fn new(listen: SocketAddr, cert: PathBuf, key: PathBuf) -> Self {
        Self {
            listen,
            cert,
            key,
            config: Config::default(),
            own_namespace: "haven-system".into(),
            reload_interval: Duration::from_secs(10),
            max_body: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
            null_responder: false,
        }
    }
}

/// A failure to start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the review thread: {0}")]
    Reviewer(std::io::Error),
}

struct AppState {
    reviewer: Reviewer,
    namespaces: Arc<dyn NamespaceLabels>,
    metrics: Metrics,
    cert: Arc<ReloadingCert>,
    max_body: usize,
    body_timeout: Duration,
    null_responder: bool,
}

/// A bound, not yet running server (tests read its address before running it).
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    cert: Arc<ReloadingCert>,
    opts: ServeOptions,
}

impl Server {
    pub async fn bind(
        opts: ServeOptions,
        namespaces: Arc<dyn NamespaceLabels>,
    ) -> Result<Self, ServeError> {
        let cert = Arc::new(ReloadingCert::new(&opts.cert, &opts.key)?);
        let acceptor = TlsAcceptor::from(Arc::new(server_config(cert.clone())?));
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.listen,
                source,
            })?;
        let reviewer = Reviewer::spawn(
            opts.config.clone(),
            namespaces.clone(),
            opts.own_namespace.clone(),
        )
        .map_err(ServeError::Reviewer)?;
        let state = Arc::new(AppState {
            reviewer,
            namespaces,
            metrics: Metrics::default(),
            cert: cert.clone(),
            max_body: opts.max_body,
            body_timeout: opts.body_timeout,
            null_responder: opts.null_responder,
        });
        let router = Router::new()
            .route("/validate", post(validate))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(state);
        Ok(Self {
            listener,
            acceptor,
            router,
            cert,
            opts,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight requests
    /// finish (up to `shutdown_grace`).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let Server {
            listener,
            acceptor,
            router,
            cert,
            opts,
        } = self;
        let reloader = tokio::spawn({
            let cert = cert.clone();
            let every = opts.reload_interval;
            async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    match cert.reload_if_changed() {
                        Ok(true) => tracing::info!(event = "certificate-reloaded"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(event = "certificate-reload-failed", error = %e),
                    }
                }
            }
        });
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(opts.header_timeout);
        builder.http2().timer(TokioTimer::new());
        tokio::pin!(shutdown);
        loop {
            let (tcp, _peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(event = "accept-failed", error = %e);
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(router.clone());
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let handshake = opts.header_timeout;
            tokio::spawn(async move {
                // Plain HTTP, a slow or a broken client fails here and only loses its own connection.
                let tls = match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(event = "tls-handshake-failed", error = %e);
                        return;
                    }
                    Err(_) => return,
                };
                let conn = builder
                    .serve_connection(TokioIo::new(tls), service)
                    .into_owned();
                let _ = watcher.watch(conn).await;
            });
        }
        drop(listener);
        tracing::info!(event = "shutting-down");
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(opts.shutdown_grace) => tracing::warn!(event = "shutdown-grace-expired"),
        }
        reloader.abort();
    }
}

/// Binds and serves until SIGTERM or Ctrl-C.
pub async fn serve(
    opts: ServeOptions,
    namespaces: Arc<dyn NamespaceLabels>,
) -> Result<(), ServeError> {
    let server = Server::bind(opts, namespaces).await?;
    tracing::info!(event = "listening", addr = %server.local_addr().map(|a| a.to_string()).unwrap_or_default());
    server.run(shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn validate(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let started = Instant::now();
    let bytes = match tokio::time::timeout(
        state.body_timeout,
        axum::body::to_bytes(body, state.max_body),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"));
            let code = if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return plain(code, format!("cannot read request body: {e}"));
        }
        Err(_) => {
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time".into(),
            );
        }
    };
    if state.null_responder {
        return null_response(&bytes);
    }
    let decision = match state.reviewer.review(bytes).await {
        Ok(decision) => decision,
        Err(e) => {
            tracing::error!(event = "review-failed", error = %e);
            return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    };
    let elapsed = started.elapsed();
    state.metrics.latency.observe(elapsed.as_secs_f64());
    match decision {
        Ok(d) => {
            state
                .metrics
                .requests
                .get_or_create(&RequestLabels::new(d.verdict.as_str(), &d.kind))
                .inc();
            // Findings come sorted by rule: one counter update per rule.
            for same in d.rules.chunk_by(|a, b| a == b) {
                state
                    .metrics
                    .violations
                    .get_or_create(&RuleLabels {
                        rule: Cow::Borrowed(same[0]),
                    })
                    .inc_by(same.len() as u64);
            }
            // Denials and warnings are logged at info; the allowed bulk only at debug.
            let quiet = matches!(
                d.verdict,
                Verdict::Allowed | Verdict::Skipped | Verdict::Exempt
            );
            let micros = elapsed.as_micros() as u64;
            if quiet {
                tracing::debug!(uid = %d.uid, kind = %d.kind, verdict = d.verdict.as_str(), micros);
            } else if crate::log::verdicts_enabled() {
                // The line `tracing::info!` would write, without its JSON formatter's cost.
                crate::log::write(&crate::log::verdict_line(
                    std::time::SystemTime::now(),
                    &d.uid,
                    &d.kind,
                    d.verdict.as_str(),
                    &d.rules,
                    micros,
                ));
            }
            ([(header::CONTENT_TYPE, "application/json")], d.response).into_response()
        }
        Err(e) => {
            state
                .metrics
                .requests
                .get_or_create(&RequestLabels::new("bad-request", ""))
                .inc();
            tracing::warn!(event = "bad-request", error = %e);
            plain(StatusCode::BAD_REQUEST, e.0)
        }
    }
}

/// The benchmark ceiling: echo the uid, allow.
fn null_response(body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    struct Envelope {
        request: Option<Uid>,
    }
    #[derive(serde::Deserialize)]
    struct Uid {
        uid: String,
    }
    let uid = serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.request)
        .map(|r| r.uid)
        .unwrap_or_default();
    let body = serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": uid, "allowed": true}});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    // The certificate is loaded by construction; readiness waits for the namespace cache.
    let _ = state.cert.current();
    if state.namespaces.synced() {
        plain(StatusCode::OK, "ready".into())
    } else {
        plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "namespace cache not synced".into(),
        )
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

fn plain(code: StatusCode, message: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}
