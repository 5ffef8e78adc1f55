//! The HTTPS front of the fake API server: authentication, fault injection, the request log,
//! discovery, and the REST verbs over [`FakeCluster`].

use crate::cluster::{ApiError, Event, FakeCluster, ListQuery, Write};
use crate::patch;
use crate::resources::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::tls::TestCa;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_rustls::TlsAcceptor;

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with a Kubernetes `Status` of this HTTP code (403, 429, 500, 503, ...).
    Status(u16),
    /// Wait this long before handling the request normally (for client timeouts).
    Delay(Duration),
}

#[derive(Debug, Clone)]
struct Fault {
    method: Option<String>,
    path_contains: String,
    action: FaultAction,
    remaining: Option<u64>,
}

/// Injected failures: the first matching rule applies to a request.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
}

impl Faults {
    /// `method` None matches every method; `path_contains` is matched against
    /// `path?query`; `times` None means always.
    pub fn add(
        &self,
        method: Option<&str>,
        path_contains: &str,
        action: FaultAction,
        times: Option<u64>,
    ) {
        self.lock().push(Fault {
            method: method.map(str::to_ascii_uppercase),
            path_contains: path_contains.to_owned(),
            action,
            remaining: times,
        });
    }

    /// Every request whose path contains `path_contains` gets a `code` Status.
    pub fn fail(&self, path_contains: &str, code: u16) {
        self.add(None, path_contains, FaultAction::Status(code), None);
    }

    /// Every request whose path contains `path_contains` waits `delay` first.
    pub fn delay(&self, path_contains: &str, delay: Duration) {
        self.add(None, path_contains, FaultAction::Delay(delay), None);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, method: &str, target: &str) -> Option<FaultAction> {
        let mut rules = self.lock();
        let i = rules.iter().position(|f| {
            f.method.as_deref().is_none_or(|m| m == method)
                && target.contains(&f.path_contains)
                && f.remaining != Some(0)
        })?;
        let f = &mut rules[i];
        if let Some(n) = &mut f.remaining {
            *n -= 1;
        }
        Some(f.action.clone())
    }
}

struct State {
    cluster: FakeCluster,
    token: String,
    faults: Faults,
    log: Mutex<Vec<String>>,
    count: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

/// A running fake API server on 127.0.0.1 with its own CA and bearer token.
pub struct ApiServer {
    addr: SocketAddr,
    ca_pem: String,
    ca_der: Vec<u8>,
    state: Arc<State>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("url", &self.url())
            .finish()
    }
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl ApiServer {
    /// Binds 127.0.0.1 on a free port and serves `cluster` over TLS.
    pub async fn start(cluster: FakeCluster) -> std::io::Result<ApiServer> {
        Self::start_on(cluster, "127.0.0.1:0".parse().expect("address")).await
    }

    /// Like [`ApiServer::start`] on a given address (the benchmark binary's `--listen`).
    pub async fn start_on(cluster: FakeCluster, listen: SocketAddr) -> std::io::Result<ApiServer> {
        let ca = TestCa::new("haven-test-support CA").map_err(io_err)?;
        let leaf = ca
            .issue(&["127.0.0.1", "localhost", "::1"])
            .map_err(io_err)?;
        let acceptor = TlsAcceptor::from(Arc::new(leaf.server_config().map_err(io_err)?));
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let token = format!("haven-test-{:016x}", rand_u64());
        let state = Arc::new(State {
            cluster,
            token,
            faults: Faults::default(),
            log: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
            shutdown: shutdown_rx.clone(),
        });
        let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), shutdown_rx));
        Ok(ApiServer {
            addr,
            ca_pem: ca.cert_pem(),
            ca_der: ca.cert_der(),
            state,
            shutdown_tx,
            task: Some(task),
            runtime: None,
        })
    }

    /// Starts the server on a runtime of its own, for synchronous tests that run the `haven`
    /// binary as a subprocess.
    pub fn start_background(cluster: FakeCluster) -> std::io::Result<ApiServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-apiserver")
            .enable_all()
            .build()?;
        let mut server = runtime.block_on(Self::start(cluster))?;
        server.runtime = Some(runtime);
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// A client configuration that trusts this server's CA and sends its token.
    pub fn client_config(&self) -> kube::Config {
        let mut config = kube::Config::new(self.url().parse().expect("server URL is a valid URI"));
        config.root_cert = Some(vec![self.ca_der.clone()]);
        config.auth_info.token = Some(SecretString::from(self.state.token.clone()));
        config.default_namespace = "default".into();
        config
    }

    /// A kube client for this server (call inside a tokio runtime).
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.client_config()).expect("client for the fake API server")
    }

    /// A kubeconfig with one cluster, user and context named `context`.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url(), "certificate-authority-data": ca}}],
            "users": [{"name": context, "user": {"token": self.state.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
            "current-context": context,
            "preferences": {},
        });
        serde_yaml_ng::to_string(&config).expect("kubeconfig serializes")
    }

    pub fn cluster(&self) -> &FakeCluster {
        &self.state.cluster
    }

    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    pub fn request_count(&self) -> u64 {
        self.state.count.load(Ordering::Relaxed)
    }

    /// Every request so far as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear_requests(&self) {
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Stops accepting, ends open watches and closes connections.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take()
            && self.runtime.is_none()
        {
            let _ = task.await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let state = state.clone();
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

fn respond(code: u16, body: impl Into<Body>, content_type: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .body(body.into())
        .expect("response")
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    respond(
        code,
        serde_json::to_vec(v).expect("JSON"),
        "application/json",
    )
}

fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.status())
}

fn object_response(code: u16, bytes: Bytes) -> Response<Body> {
    respond(code, bytes, "application/json")
}

fn query_map(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let target = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    state.count.fetch_add(1, Ordering::Relaxed);
    state
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!("{method} {target}"));

    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t == state.token);
    if !authorized {
        return error_response(&ApiError::new(401, "Unauthorized", "Unauthorized"));
    }
    match state.faults.take(method.as_str(), &target) {
        Some(FaultAction::Status(code)) => {
            let reason = match code {
                400 => "BadRequest",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "NotFound",
                409 => "Conflict",
                410 => "Expired",
                429 => "TooManyRequests",
                503 => "ServiceUnavailable",
                504 => "Timeout",
                _ => "InternalError",
            };
            return error_response(&ApiError::new(
                code,
                reason,
                format!("injected fault: {reason} for {method} {path}"),
            ));
        }
        Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let accept = req
        .headers()
        .get("accept")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = match axum::body::to_bytes(Body::new(req.into_body()), 64 << 20).await {
        Ok(b) => b,
        Err(e) => {
            return error_response(&ApiError::bad_request(format!("cannot read body: {e}")));
        }
    };
    let q = query_map(&query);
    match route(&state, &method, &path, &q, &accept, &content_type, &body).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

fn discovery_aggregated(accept: &str) -> bool {
    accept.contains("as=APIGroupDiscoveryList")
}

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Groups and their versions in discovery order (core first).
fn groups(types: &[ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for t in types {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, versions)) => {
                if !versions.contains(&t.version) {
                    versions.push(t.version.clone());
                }
            }
            None => out.push((t.group.clone(), vec![t.version.clone()])),
        }
    }
    out
}

/// Kubernetes orders versions v1 > v1beta1 > v1alpha1; enough for picking the preferred one.
fn preferred(versions: &[String]) -> String {
    let rank = |v: &str| {
        let stable = !v.contains("alpha") && !v.contains("beta");
        let beta = v.contains("beta");
        let num: u32 = v
            .trim_start_matches('v')
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        (stable, beta, num)
    };
    versions
        .iter()
        .max_by_key(|v| rank(v))
        .cloned()
        .unwrap_or_default()
}

fn aggregated_list(types: &[ResourceType], core: bool) -> Value {
    let items: Vec<Value> = groups(types)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let pref = preferred(&versions);
            let mut ordered = versions.clone();
            ordered.sort_by_key(|v| *v != pref);
            let versions: Vec<Value> = ordered
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = types
                        .iter()
                        .filter(|t| t.group == g && t.version == *v)
                        .map(ResourceType::aggregated)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn verb_for(method: &Method, has_name: bool, watch: bool) -> &'static str {
    match *method {
        Method::GET if watch => "watch",
        Method::GET if has_name => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if has_name => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

fn forbidden(
    user: &str,
    verb: &str,
    rt: &ResourceType,
    sub: Option<&str>,
    name: Option<&str>,
    ns: Option<&str>,
) -> ApiError {
    let resource = match sub {
        Some(s) => format!("{}/{s}", rt.plural),
        None => rt.plural.clone(),
    };
    let what = match name {
        Some(n) => format!("{} \"{n}\"", qualified_name(rt)),
        None => qualified_name(rt),
    };
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    ApiError {
        details: Some((
            rt.plural.clone(),
            name.unwrap_or_default().to_owned(),
            rt.group.clone(),
        )),
        ..ApiError::new(
            403,
            "Forbidden",
            format!(
                "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
                rt.group
            ),
        )
    }
}

fn qualified_name(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.plural.clone()
    } else {
        format!("{}.{}", rt.plural, rt.group)
    }
}

fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
        serde_yaml_ng::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("cannot decode YAML body: {e}")))
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("cannot decode JSON body: {e}")))
    }
}

#[allow(clippy::too_many_arguments)]
async fn route(
    state: &Arc<State>,
    method: &Method,
    path: &str,
    q: &HashMap<String, String>,
    accept: &str,
    content_type: &str,
    body: &Bytes,
) -> Result<Response<Body>, ApiError> {
    let cluster = &state.cluster;
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let types: Vec<ResourceType> = cluster.read().types().cloned().collect();
    let not_found = || {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    let get_only = |m: &Method| {
        if *m == Method::GET {
            Ok(())
        } else {
            Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    match segs.as_slice() {
        ["version"] => {
            get_only(method)?;
            return Ok(json_response(200, &cluster.read().version));
        }
        ["api"] => {
            get_only(method)?;
            if discovery_aggregated(accept) {
                let v = aggregated_list(&types, true);
                return Ok(respond(
                    200,
                    serde_json::to_vec(&v).expect("JSON"),
                    AGGREGATED_CT,
                ));
            }
            return Ok(json_response(
                200,
                &json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
                }),
            ));
        }
        ["apis"] => {
            get_only(method)?;
            if discovery_aggregated(accept) {
                let v = aggregated_list(&types, false);
                return Ok(respond(
                    200,
                    serde_json::to_vec(&v).expect("JSON"),
                    AGGREGATED_CT,
                ));
            }
            let list: Vec<Value> = groups(&types)
                .into_iter()
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, versions)| group_value(&g, &versions))
                .collect();
            return Ok(json_response(
                200,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}),
            ));
        }
        ["apis", group] => {
            get_only(method)?;
            let (g, versions) = groups(&types)
                .into_iter()
                .find(|(g, _)| g == group)
                .ok_or_else(not_found)?;
            let mut v = group_value(&g, &versions);
            v["kind"] = json!("APIGroup");
            v["apiVersion"] = json!("v1");
            return Ok(json_response(200, &v));
        }
        ["api", version] | ["apis", _, version] if *method == Method::GET => {
            let group = if segs[0] == "api" { "" } else { segs[1] };
            let resources: Vec<Value> = types
                .iter()
                .filter(|t| t.group == group && t.version == *version)
                .flat_map(ResourceType::api_resources)
                .collect();
            if resources.is_empty() {
                return Err(not_found());
            }
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            return Ok(json_response(
                200,
                &json!({
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": gv,
                    "resources": resources,
                }),
            ));
        }
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => ("", *version, rest),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
        _ => return Err(not_found()),
    };
    // /namespaces/{ns}/{plural}/... unless it is the Namespace object's own subresource.
    let (namespace, rest): (Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, plural, more @ ..]
            if !(group.is_empty()
                && more.is_empty()
                && matches!(*plural, "status" | "finalize")) =>
        {
            (Some(*ns), &rest[2..])
        }
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(not_found()),
    };
    let rt = types
        .iter()
        .find(|t| t.group == group && t.version == version && t.plural == plural)
        .cloned()
        .ok_or_else(not_found)?;
    if namespace.is_some() && !rt.namespaced {
        return Err(not_found());
    }
    let pod_log = sub == Some("log") && rt.plural == "pods" && rt.group.is_empty();
    if let Some(s) = sub
        && !(s == "status" && rt.status_subresource)
        && !pod_log
    {
        return Err(not_found());
    }
    let watch = matches!(q.get("watch").map(String::as_str), Some("true" | "1"));
    let verb = verb_for(method, name.is_some(), watch);
    let (access_ok, user) = {
        let inner = cluster.read();
        let resource = match sub {
            Some(s) => format!("{}/{s}", rt.plural),
            None => rt.plural.clone(),
        };
        (
            inner.access.allows(verb, &rt.group, &resource, namespace),
            inner.user.clone(),
        )
    };
    if rt.plural == "selfsubjectaccessreviews" && rt.group == "authorization.k8s.io" {
        if *method != Method::POST {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "only create is allowed on selfsubjectaccessreviews",
            ));
        }
        let mut review = parse_body(body, content_type)?;
        let attrs = &review["spec"]["resourceAttributes"];
        let allowed = {
            let inner = cluster.read();
            let mut resource = attrs["resource"].as_str().unwrap_or_default().to_owned();
            if let Some(s) = attrs["subresource"].as_str().filter(|s| !s.is_empty()) {
                resource = format!("{resource}/{s}");
            }
            let ns = attrs["namespace"].as_str().filter(|s| !s.is_empty());
            attrs.is_object()
                && inner.access.allows(
                    attrs["verb"].as_str().unwrap_or_default(),
                    attrs["group"].as_str().unwrap_or_default(),
                    &resource,
                    ns,
                )
        };
        review["status"] = if allowed {
            json!({"allowed": true, "reason": "allowed by the fake cluster's access rules"})
        } else {
            json!({"allowed": false})
        };
        review["apiVersion"] = json!("authorization.k8s.io/v1");
        review["kind"] = json!("SelfSubjectAccessReview");
        return Ok(json_response(201, &review));
    }
    if !access_ok {
        return Err(forbidden(&user, verb, &rt, sub, name, namespace));
    }
    // kube sends DeleteOptions (with their dryRun) in the body of a DELETE.
    let dry_run = q.contains_key("dryRun")
        || (*method == Method::DELETE
            && serde_json::from_slice::<Value>(body)
                .is_ok_and(|v| v["dryRun"].as_array().is_some_and(|a| !a.is_empty())));
    let ns_key = if rt.namespaced {
        namespace.unwrap_or("default")
    } else {
        ""
    };
    if pod_log {
        get_only(method)?;
        let pod = name.unwrap_or_default();
        cluster.get_bytes(&rt, ns_key, pod)?;
        return match cluster.pod_log(ns_key, pod) {
            Some(log) => Ok(respond(200, log, "text/plain")),
            None => Err(ApiError::bad_request(format!(
                "container in pod \"{pod}\" is waiting to start: ContainerCreating"
            ))),
        };
    }
    match (method.clone(), name) {
        (Method::GET, None) if watch => start_watch(state, &rt, namespace, q),
        (Method::GET, None) => {
            let query = ListQuery {
                namespace: namespace.map(str::to_owned),
                labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
                fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
                limit: q.get("limit").and_then(|l| l.parse().ok()),
                continue_token: q.get("continue").filter(|c| !c.is_empty()).cloned(),
            };
            let page = cluster.list(&rt, &query)?;
            let mut meta = json!({"resourceVersion": page.resource_version.to_string()});
            if let Some(c) = &page.continue_token {
                meta["continue"] = json!(c);
            }
            if let Some(r) = page.remaining {
                meta["remainingItemCount"] = json!(r);
            }
            let head = json!({"apiVersion": rt.api_version(), "kind": format!("{}List", rt.kind), "metadata": meta});
            let head = serde_json::to_vec(&head).expect("JSON");
            let total: usize = page.items.iter().map(|b| b.len() + 1).sum();
            let mut out = Vec::with_capacity(head.len() + total + 16);
            out.extend_from_slice(&head[..head.len() - 1]);
            out.extend_from_slice(b",\"items\":[");
            for (i, item) in page.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(item);
            }
            out.extend_from_slice(b"]}");
            Ok(respond(200, out, "application/json"))
        }
        (Method::GET, Some(n)) => Ok(object_response(200, cluster.get_bytes(&rt, ns_key, n)?)),
        (Method::POST, None) => {
            let obj = parse_body(body, content_type)?;
            check_kind(&rt, &obj)?;
            if rt.namespaced && !cluster.read().namespace_exists(ns_key) {
                return Err(ApiError {
                    details: Some(("namespaces".into(), ns_key.into(), String::new())),
                    ..ApiError::new(
                        404,
                        "NotFound",
                        format!("namespaces \"{ns_key}\" not found"),
                    )
                });
            }
            if let Some(ons) = obj["metadata"]["namespace"].as_str()
                && rt.namespaced
                && ons != ns_key
            {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            let bytes = cluster.with_write(|c, inner| {
                c.store(inner, &rt, ns_key, obj, Some(Write::Create), dry_run)
            })?;
            if !dry_run && let Ok(created) = serde_json::from_slice::<Value>(&bytes) {
                cluster.run_after_create(&rt.plural, &created);
            }
            Ok(object_response(201, bytes))
        }
        (Method::PUT, Some(n)) => {
            let mut obj = parse_body(body, content_type)?;
            check_kind(&rt, &obj)?;
            if obj["metadata"]["name"].as_str() != Some(n) {
                return Err(ApiError::bad_request(
                    "the name of the object does not match the name on the URL",
                ));
            }
            let bytes = cluster.with_write(|c, inner| {
                let current = inner.current(&rt, ns_key, n);
                if let Some(cur) = &current {
                    keep_status_split(&rt, sub, cur, &mut obj);
                }
                c.store(inner, &rt, ns_key, obj, Some(Write::Replace), dry_run)
            })?;
            Ok(object_response(200, bytes))
        }
        (Method::PATCH, Some(n)) => {
            let apply = content_type.starts_with("application/apply-patch");
            let json_patch = content_type.starts_with("application/json-patch");
            if !(apply
                || json_patch
                || content_type.starts_with("application/merge-patch")
                || content_type.starts_with("application/strategic-merge-patch"))
            {
                return Err(ApiError::new(
                    415,
                    "UnsupportedMediaType",
                    format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
                    ),
                ));
            }
            let p = parse_body(body, if apply { "yaml" } else { "json" })?;
            let (code, bytes) = cluster.with_write(|c, inner| {
                let current = inner.current(&rt, ns_key, n);
                let Some(cur) = current else {
                    if apply && sub.is_none() {
                        check_kind(&rt, &p)?;
                        let mut obj = p.clone();
                        obj["metadata"]["name"] = json!(n);
                        return c
                            .store(inner, &rt, ns_key, obj, Some(Write::Create), dry_run)
                            .map(|b| (201, b));
                    }
                    return Err(ApiError::not_found(&rt, n));
                };
                let mut obj = cur.clone();
                if json_patch {
                    patch::json_patch(&mut obj, &p)
                        .map_err(|e| ApiError::new(422, "Invalid", format!("json patch: {e}")))?;
                } else {
                    patch::merge(&mut obj, &p);
                }
                obj["metadata"]["name"] = json!(n);
                obj["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"].clone();
                keep_status_split(&rt, sub, &cur, &mut obj);
                c.store(inner, &rt, ns_key, obj, Some(Write::Replace), dry_run)
                    .map(|b| (200, b))
            })?;
            Ok(object_response(code, bytes))
        }
        (Method::DELETE, Some(n)) if sub.is_none() => {
            let bytes = if dry_run {
                cluster.get_bytes(&rt, ns_key, n)?
            } else {
                cluster.with_write(|c, inner| c.remove(inner, &rt, ns_key, n))?
            };
            Ok(object_response(200, bytes))
        }
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({method} {path})"
            ),
        )),
    }
}

/// A write to the main resource keeps the stored status; a write to `/status` changes only
/// the status — as the API server does for types with a status subresource.
fn keep_status_split(rt: &ResourceType, sub: Option<&str>, current: &Value, new: &mut Value) {
    if !rt.status_subresource {
        return;
    }
    if sub == Some("status") {
        let status = new.get("status").cloned();
        *new = current.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    } else if let Some(m) = new.as_object_mut() {
        match current.get("status") {
            Some(s) => {
                m.insert("status".into(), s.clone());
            }
            None => {
                m.remove("status");
            }
        }
    }
}

fn check_kind(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    if let Some(kind) = obj["kind"].as_str()
        && kind != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind of the object ({kind}) does not match the resource ({})",
            rt.kind
        )));
    }
    Ok(())
}

fn group_value(group: &str, versions: &[String]) -> Value {
    let pref = preferred(versions);
    let gv = |v: &str| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
        "preferredVersion": gv(&pref),
    })
}

fn start_watch(
    state: &Arc<State>,
    rt: &ResourceType,
    namespace: Option<&str>,
    q: &HashMap<String, String>,
) -> Result<Response<Body>, ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let send_initial = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let from = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(_) if send_initial => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {rv:?}")))?,
        ),
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    }));
    let response = respond(200, body, "application/json");
    match state
        .cluster
        .watch_start(rt, namespace, &labels, &fields, from)
    {
        Ok((initial, rv, live)) => {
            let rt = rt.clone();
            let namespace = namespace.map(str::to_owned);
            let shutdown = state.shutdown.clone();
            tokio::spawn(async move {
                let ctx = WatchCtx {
                    rt,
                    namespace,
                    labels,
                    fields,
                    bookmarks,
                };
                ctx.run(tx, initial, rv, send_initial, live, timeout, shutdown)
                    .await;
            });
        }
        Err(e) => {
            // Kubernetes reports an expired resourceVersion as an ERROR event in a 200 stream.
            let line = json!({"type": "ERROR", "object": e.status()});
            let mut bytes = serde_json::to_vec(&line).expect("JSON");
            bytes.push(b'\n');
            let _ = tx.try_send(Bytes::from(bytes));
        }
    }
    Ok(response)
}

struct WatchCtx {
    rt: ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    bookmarks: bool,
}

impl WatchCtx {
    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let line = json!({
            "type": "BOOKMARK",
            "object": {"apiVersion": self.rt.api_version(), "kind": self.rt.kind, "metadata": meta},
        });
        let mut bytes = serde_json::to_vec(&line).expect("JSON");
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        self,
        tx: mpsc::Sender<Bytes>,
        initial: Vec<Bytes>,
        mut rv: u64,
        send_initial: bool,
        mut live: broadcast::Receiver<Arc<Event>>,
        timeout: u64,
        mut shutdown: watch::Receiver<bool>,
    ) {
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        if send_initial && tx.send(self.bookmark(rv, true)).await.is_err() {
            return;
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
                _ = tick.tick(), if self.bookmarks => {
                    if tx.send(self.bookmark(rv, false)).await.is_err() {
                        return;
                    }
                }
                event = live.recv() => match event {
                    Ok(e) => {
                        if e.rv <= rv {
                            continue;
                        }
                        rv = e.rv;
                        if let Some(line) = FakeCluster::event_line(&e, &self.rt, self.namespace.as_deref(), &self.labels, &self.fields)
                            && tx.send(line).await.is_err()
                        {
                            return;
                        }
                    }
                    // A watcher that fell behind is closed; the client re-watches from its
                    // last resourceVersion, which the history still holds.
                    Err(_) => return,
                },
            }
        }
    }
}
