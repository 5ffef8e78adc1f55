//! The HTTPS server: `/validate`, `/healthz`, `/readyz`, `/metrics`; connection limits, idle
//! timeouts and accept pacing (`connections.rs`), certificate reload with checks (`tls.rs`),
//! and a shutdown that drains.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Config;
use crate::connections::{
    AcceptBackoff, Connections, EVICTION_SLACK, Limits, Slot, Throttle, exhausted,
};
use crate::metrics::{Metrics, ReasonLabels, RequestLabels, RuleLabels};
use crate::policy::NamespaceLabels;
use crate::review::{Verdict, clip};
use crate::reviewer::{ReviewFn, Reviewer};
use crate::tls::{Expiry, ReloadingCert, TlsError, server_config};

/// How to run the server. Every limit has a default (`ServeOptions::new`) and a flag of
/// `haven admission serve` (docs/security.md lists them).
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
    /// Warn when the certificate expires within this many days (and when it has expired).
    pub cert_warning_days: u32,
    /// Largest request body accepted (the API server sends at most ~3 MiB).
    pub max_body: usize,
    /// Time allowed for the TLS handshake, for the first request's headers on a new
    /// connection, and for every HTTP/1 request's headers.
    pub header_timeout: Duration,
    /// Time allowed to receive the request body.
    pub body_timeout: Duration,
    /// A connection with no request in flight for this long is closed. Longer than the 90 s
    /// after which Go's HTTP client (the API server's) closes an idle connection itself, so
    /// that the server does not close a connection just as the client reuses it (an HTTP/1
    /// POST sent into that race fails and is not retried).
    pub idle_timeout: Duration,
    /// Connections open at once, at most; at the limit a new connection replaces the one idle
    /// longest. Lowered at start to what the process's file descriptor limit allows.
    pub max_connections: usize,
    /// Connections open at once from one client address, at most.
    pub max_connections_per_client: usize,
    /// After a shutdown signal: how long open connections keep being served (new requests
    /// included) while the endpoints that route to this pod are being removed; no new
    /// connection is accepted and `/readyz` fails meanwhile.
    pub drain_period: Duration,
    /// After the drain period: how long in-flight requests may take to finish once every
    /// connection has been asked to close.
    pub shutdown_grace: Duration,
    /// One log line per this interval for a repeated event (failed accepts, refused
    /// connections), with the count of those not logged.
    pub log_interval: Duration,
    /// Benchmarks only: allow everything without evaluating, on the same TLS and HTTP stack,
    /// to measure the ceiling the real webhook is compared with.
    #[cfg(feature = "bench")]
    pub null_responder: bool,
    /// Benchmarks only: review with the engine decoder alone (no fast decoder).
    #[cfg(feature = "bench")]
    pub engine_only: bool,
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
            cert_warning_days: 14,
            max_body: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
            max_connections_per_client: 128,
            drain_period: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(15),
            log_interval: Duration::from_secs(10),
            #[cfg(feature = "bench")]
            null_responder: false,
            #[cfg(feature = "bench")]
            engine_only: false,
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
    max_body: usize,
    body_timeout: Duration,
    /// Set by a shutdown signal: `/readyz` fails so that the pod leaves the endpoints.
    draining: AtomicBool,
    #[cfg(feature = "bench")]
    null_responder: bool,
}

/// A bound, not yet running server (tests read its address before running it).
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    cert: Arc<ReloadingCert>,
    state: Arc<AppState>,
    opts: ServeOptions,
}

impl Server {
    /// Loads and checks the certificate (a certificate that does not match its key is an
    /// error), binds, and starts the review threads.
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
        #[cfg(feature = "bench")]
        let review: ReviewFn = if opts.engine_only {
            crate::review::review_with_engine
        } else {
            crate::review::review
        };
        #[cfg(not(feature = "bench"))]
        let review: ReviewFn = crate::review::review;
        let reviewer = Reviewer::spawn(
            opts.config.clone(),
            namespaces.clone(),
            opts.own_namespace.clone(),
            review,
        )
        .map_err(ServeError::Reviewer)?;
        let registry = Metrics::default();
        certificate_checked(
            &cert,
            &registry,
            opts.cert_warning_days,
            "certificate-loaded",
        );
        let state = Arc::new(AppState {
            reviewer,
            namespaces,
            metrics: registry,
            max_body: opts.max_body,
            body_timeout: opts.body_timeout,
            draining: AtomicBool::new(false),
            #[cfg(feature = "bench")]
            null_responder: opts.null_responder,
        });
        let router = Router::new()
            .route("/validate", post(validate))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(state.clone());
        Ok(Self {
            listener,
            acceptor,
            router,
            cert,
            state,
            opts,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then stops accepting, keeps serving the open
    /// connections for the drain period, asks them to close, and waits up to the shutdown
    /// grace for their in-flight requests.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let Server {
            listener,
            acceptor,
            router,
            cert,
            state,
            opts,
        } = self;
        let reloader = tokio::spawn(reload_certificates(
            cert,
            state.clone(),
            opts.reload_interval,
            opts.cert_warning_days,
        ));
        let metrics = &state.metrics;
        let connections = Connections::new(
            Limits {
                total: opts.max_connections,
                per_client: opts.max_connections_per_client,
            },
            metrics.connections.clone(),
            metrics.connections_closed.clone(),
        );
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(opts.header_timeout);
        builder.http2().timer(TokioTimer::new());
        let timeouts = Timeouts {
            handshake: opts.header_timeout,
            first_request: opts.header_timeout,
            idle: opts.idle_timeout,
            close: opts.header_timeout + opts.body_timeout,
        };
        let mut tasks = JoinSet::new();
        let mut backoff = AcceptBackoff::default();
        let mut accept_log = Throttle::new(opts.log_interval);
        let mut refused_log = Throttle::new(opts.log_interval);
        tokio::pin!(shutdown);
        loop {
            // Reap finished connection tasks, so that the set holds only open ones.
            while tasks.try_join_next().is_some() {}
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (tcp, peer) = match accepted {
                Ok(c) => c,
                Err(e) => {
                    metrics.accept_errors.inc();
                    let pause = backoff.failed(&e);
                    // Out of descriptors: give up an idle connection to free one.
                    let evicted = exhausted(&e) && connections.evict_idle();
                    if let Some(suppressed) = accept_log.ready(Instant::now()) {
                        tracing::warn!(
                            event = "accept-failed",
                            error = %e,
                            retry_in_ms = pause.as_millis() as u64,
                            evicted_idle = evicted,
                            open = connections.open(),
                            not_logged_since_last = suppressed,
                        );
                    }
                    if !pause.is_zero() {
                        tokio::select! {
                            () = tokio::time::sleep(pause) => {}
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            };
            backoff.succeeded();
            let slot = match connections.admit(peer.ip(), Instant::now()) {
                Ok(slot) => slot,
                Err(refused) => {
                    metrics
                        .connections_refused
                        .get_or_create(&ReasonLabels {
                            reason: refused.as_str(),
                        })
                        .inc();
                    if let Some(suppressed) = refused_log.ready(Instant::now()) {
                        tracing::warn!(
                            event = "connection-refused",
                            reason = refused.as_str(),
                            peer = %peer.ip(),
                            open = connections.open(),
                            not_logged_since_last = suppressed,
                        );
                    }
                    continue;
                }
            };
            tasks.spawn(serve_connection(
                tcp,
                acceptor.clone(),
                builder.clone(),
                router.clone(),
                slot,
                timeouts,
            ));
        }
        drop(listener);
        state.draining.store(true, Ordering::Release);
        tracing::info!(
            event = "draining",
            connections = connections.open(),
            drain_ms = opts.drain_period.as_millis() as u64
        );
        tokio::select! {
            () = tokio::time::sleep(opts.drain_period) => {}
            () = connections.all_closed() => {}
        }
        tracing::info!(event = "shutting-down", connections = connections.open());
        connections.close_all();
        tokio::select! {
            () = connections.all_closed() => {}
            () = tokio::time::sleep(opts.shutdown_grace) => {
                tracing::warn!(event = "shutdown-grace-expired", connections = connections.open());
            }
        }
        tasks.shutdown().await;
        reloader.abort();
    }
}

/// The time limits of one connection.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    handshake: Duration,
    /// From the end of the handshake to the end of the first request.
    first_request: Duration,
    idle: Duration,
    /// After a connection is asked to close: how long it may take to finish its requests.
    close: Duration,
}

/// How long an HTTP/1 connection asked to close must have been idle before it is closed
/// (unless its next response, which says `Connection: close`, ends it first). Closing an HTTP/1
/// connection races with a request the client may be sending on it: that request is lost, and
/// clients do not retry a POST. HTTP/2 has no such race (GOAWAY names the last stream the
/// server will answer) and closes at once.
const HTTP1_QUIET: Duration = Duration::from_secs(1);

/// One connection: the TLS handshake, then HTTP until the client closes, the connection is
/// idle too long, or it is asked to close (evicted, or the end of the drain). A connection that
/// has never completed a request is then simply dropped; one that has gets a graceful close
/// (in-flight requests are answered; HTTP/1 connections first wait for [`HTTP1_QUIET`] or their
/// next response), and a hard one if that takes longer than `timeouts.close`.
async fn serve_connection(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    builder: auto::Builder<TokioExecutor>,
    router: Router,
    slot: Slot,
    timeouts: Timeouts,
) {
    // Plain HTTP, a slow or a broken client fails here and only loses its own connection.
    let tls = tokio::select! {
        tls = tokio::time::timeout(timeouts.handshake, acceptor.accept(tcp)) => match tls {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!(event = "tls-handshake-failed", error = %e);
                return;
            }
            Err(_) => return,
        },
        () = slot.close_requested() => return,
    };
    let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let activity = Arc::clone(slot.activity());
    let service = tower::service_fn(move |request: axum::http::Request<Incoming>| {
        let guard = activity.begin();
        let http1 = request.version() < axum::http::Version::HTTP_2;
        let answer = router.clone().oneshot(request);
        let activity = Arc::clone(&activity);
        async move {
            let mut response = answer.await;
            if http1
                && activity.is_closing()
                && let Ok(response) = &mut response
            {
                response.headers_mut().insert(
                    header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            drop(guard);
            response
        }
    });
    let conn = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let activity = slot.activity();
    // Set when the connection is to close: the hard deadline, and whether the graceful close
    // has begun.
    let mut closing: Option<(tokio::time::Instant, bool)> = None;
    loop {
        let now = Instant::now();
        let idle_at = activity
            .idle_deadline(timeouts.first_request, timeouts.idle)
            .unwrap_or(now + timeouts.idle);
        let quiet_at = activity
            .idle_since()
            .map_or(now + HTTP1_QUIET, |since| since + HTTP1_QUIET);
        let deadline = closing.map_or_else(tokio::time::Instant::now, |(d, _)| d);
        tokio::select! {
            _ = conn.as_mut() => break,
            () = slot.close_requested(), if closing.is_none() => {
                // Never used (evicted, or the drain ended): nothing to finish, nobody to tell.
                // (A graceful HTTP/2 close would wait for the client to answer a ping.)
                if !activity.served() && activity.idle_since().is_some() {
                    break;
                }
                activity.set_closing();
                // (Not `quiet_at`: computed when the loop last woke, which may be long ago.)
                let now_quiet = http2
                    || activity
                        .idle_since()
                        .is_some_and(|since| since + HTTP1_QUIET <= Instant::now());
                if now_quiet {
                    conn.as_mut().graceful_shutdown();
                }
                closing = Some((tokio::time::Instant::now() + timeouts.close, now_quiet));
            }
            () = tokio::time::sleep_until(idle_at.into()), if closing.is_none() => {
                let still_idle = activity
                    .idle_deadline(timeouts.first_request, timeouts.idle)
                    .is_some_and(|at| at <= Instant::now());
                if still_idle {
                    slot.connections().closed_idle();
                    if !activity.served() {
                        break;
                    }
                    activity.set_closing();
                    conn.as_mut().graceful_shutdown();
                    closing = Some((tokio::time::Instant::now() + timeouts.close, true));
                }
            }
            () = tokio::time::sleep_until(quiet_at.into()), if matches!(closing, Some((_, false))) => {
                if activity.idle_since().is_some_and(|since| since + HTTP1_QUIET <= Instant::now()) {
                    conn.as_mut().graceful_shutdown();
                    closing = Some((deadline, true));
                }
            }
            () = tokio::time::sleep_until(deadline), if closing.is_some() => break,
        }
    }
}

/// Checks the certificate files every `every`, swaps in a new pair that loads and matches,
/// and keeps the pair in use (saying why) when not; warns about expiry on every change and
/// once a day.
async fn reload_certificates(
    cert: Arc<ReloadingCert>,
    state: Arc<AppState>,
    every: Duration,
    warn_days: u32,
) {
    const REWARN: Duration = Duration::from_secs(24 * 3600);
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    let mut last_warned = Instant::now();
    loop {
        tick.tick().await;
        match cert.reload_if_changed() {
            Ok(true) => {
                certificate_checked(&cert, &state.metrics, warn_days, "certificate-reloaded");
                last_warned = Instant::now();
            }
            Ok(false) => {
                if last_warned.elapsed() >= REWARN {
                    last_warned = Instant::now();
                    warn_expiry(&cert, warn_days);
                }
            }
            Err(e) => {
                state.metrics.certificate_reload_errors.inc();
                tracing::error!(
                    event = "certificate-reload-failed",
                    error = %e,
                    kept_certificate_expiring = %cert.not_after(),
                    "the new certificate and key are not used; the previous pair keeps serving"
                );
            }
        }
    }
}

/// Logs a certificate just loaded (`event`), exports its expiry, and warns if it is near.
fn certificate_checked(cert: &ReloadingCert, metrics: &Metrics, warn_days: u32, event: &str) {
    let not_after = cert.not_after();
    metrics.certificate_expiry.set(not_after.as_second());
    tracing::info!(event, not_after = %not_after);
    warn_expiry(cert, warn_days);
}

fn warn_expiry(cert: &ReloadingCert, warn_days: u32) {
    let not_after = cert.not_after();
    match Expiry::of(not_after, jiff::Timestamp::now(), warn_days) {
        Expiry::Valid => {}
        Expiry::Expiring { days_left } => tracing::warn!(
            event = "certificate-expiring",
            not_after = %not_after,
            days_left,
            "the serving certificate expires soon: check that it is being renewed"
        ),
        Expiry::Expired { days_ago } => tracing::error!(
            event = "certificate-expired",
            not_after = %not_after,
            days_ago,
            "the serving certificate has expired: the API server rejects every handshake"
        ),
    }
}

/// Binds and serves until SIGTERM or Ctrl-C. Raises the process's soft limit on open files
/// to its hard limit first (as Go programs do at start), and lowers the connection limit to
/// what the descriptors left allow.
pub async fn serve(
    mut opts: ServeOptions,
    namespaces: Arc<dyn NamespaceLabels>,
) -> Result<(), ServeError> {
    if let Some(fit) = fd_limit::fit_connections(opts.max_connections) {
        tracing::warn!(
            event = "connection-limit-lowered",
            requested = opts.max_connections,
            used = fit.connections,
            open_files_limit = fit.open_files,
            "the open-files limit leaves room for fewer connections"
        );
        opts.max_connections = fit.connections;
    }
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

/// The process's limit on open files.
mod fd_limit {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

    /// Descriptors kept for everything but client connections: the listener, the API watch,
    /// certificate reads, stdio, the runtime, and connections closing after an eviction.
    const RESERVED: u64 = 64 + super::EVICTION_SLACK as u64;

    pub(super) struct Fit {
        pub connections: usize,
        pub open_files: u64,
    }

    /// Raises the soft limit to the hard one; `Some` with a lower connection count when
    /// `connections` would not fit in it.
    pub(super) fn fit_connections(connections: usize) -> Option<Fit> {
        let limit = getrlimit(Resource::Nofile);
        let mut soft = limit.current;
        if limit.current < limit.maximum
            && setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: limit.maximum,
                    maximum: limit.maximum,
                },
            )
            .is_ok()
        {
            soft = limit.maximum;
        }
        let soft = soft?;
        let room = usize::try_from(soft.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
        (connections > room).then(|| Fit {
            connections: room.max(1),
            open_files: soft,
        })
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
            // By type: `to_bytes` over its limit fails with http-body-util's own error.
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
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
    #[cfg(feature = "bench")]
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
                tracing::debug!(
                    uid = %clip(&d.uid, crate::log::MAX_FIELD),
                    kind = %clip(&d.kind, crate::log::MAX_FIELD),
                    verdict = d.verdict.as_str(),
                    micros
                );
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
            tracing::warn!(event = "bad-request", error = %clip(&e.0, 512));
            plain(StatusCode::BAD_REQUEST, e.0)
        }
    }
}

/// The benchmark ceiling: echo the uid, allow.
#[cfg(feature = "bench")]
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
    // The certificate is loaded by construction; readiness waits for the namespace cache, and
    // ends with a shutdown signal.
    if state.draining.load(Ordering::Acquire) {
        plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down".into())
    } else if state.namespaces.synced() {
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
