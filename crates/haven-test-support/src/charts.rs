//! In-process chart sources for tests of `haven plus vendor`: a classic Helm repository
//! (`index.yaml` + archives) and an OCI registry (the read side of the distribution API: `/v2/`,
//! manifests by tag or digest, blobs by digest), served over plain HTTP on 127.0.0.1 by one
//! [`ChartServer`]. Content is whatever the test puts in; [`helm_repository`] and
//! [`oci_chart`] lay it out as Helm and `helm push` do. Every request is logged, and a path
//! can be made to fail ([`ChartServer::fail`]) to test unreachable or broken sources.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use sha2::{Digest as _, Sha256};

/// Media type of a Helm chart's layer in an OCI artifact.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of a Helm chart's config blob in an OCI artifact.
pub const HELM_CHART_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One file the server serves.
#[derive(Debug, Clone)]
pub struct Served {
    pub content_type: String,
    pub body: Vec<u8>,
    /// `Docker-Content-Digest` (registries send it with manifests and blobs).
    pub digest: Option<String>,
}

/// A chart archive to publish.
#[derive(Debug, Clone)]
pub struct ChartArchive {
    pub name: String,
    pub version: String,
    pub app_version: Option<String>,
    pub tgz: Vec<u8>,
}

#[derive(Default)]
struct State {
    files: BTreeMap<String, Served>,
    failing: BTreeMap<String, u16>,
    log: Vec<String>,
}

/// A static HTTP server on 127.0.0.1 with its own runtime thread; stops when dropped.
pub struct ChartServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ChartServer {
    /// Starts serving `files` (absolute paths such as `/helm/index.yaml`).
    pub fn start(files: BTreeMap<String, Served>) -> std::io::Result<ChartServer> {
        let state = Arc::new(Mutex::new(State {
            files,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().fallback(move |req: Request<Body>| {
                    let state = served.clone();
                    async move { respond(&state, &req) }
                });
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(ChartServer {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:<port>`, the registry host of OCI references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Answers `path` with `status` from now on.
    pub fn fail(&self, path: &str, status: u16) {
        if let Ok(mut s) = self.state.lock() {
            s.failing.insert(path.to_owned(), status);
        }
    }

    /// Replaces (or adds) one served file.
    pub fn put(&self, path: &str, served: Served) {
        if let Ok(mut s) = self.state.lock() {
            s.files.insert(path.to_owned(), served);
        }
    }

    /// Every request so far, as `METHOD /path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().map(|s| s.log.clone()).unwrap_or_default()
    }
}

impl Drop for ChartServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(state: &Mutex<State>, req: &Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let Ok(mut s) = state.lock() else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    s.log.push(format!("{} {path}", req.method()));
    if let Some(code) = s.failing.get(&path) {
        return status(StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    if path == "/v2/" || path == "/v2" {
        // The API version check every registry client makes first; no auth asked.
        let mut r = Response::new(Body::from("{}"));
        r.headers_mut().insert(
            "Docker-Distribution-API-Version",
            HeaderValue::from_static("registry/2.0"),
        );
        return r;
    }
    let Some(f) = s.files.get(&path) else {
        return status(StatusCode::NOT_FOUND);
    };
    let body = if req.method() == Method::HEAD {
        Body::empty()
    } else {
        Body::from(f.body.clone())
    };
    let mut r = Response::new(body);
    if let Ok(v) = HeaderValue::from_str(&f.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&f.body.len().to_string()) {
        r.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    if let Some(d) = f
        .digest
        .as_deref()
        .and_then(|d| HeaderValue::from_str(d).ok())
    {
        r.headers_mut().insert("Docker-Content-Digest", d);
    }
    r
}

fn status(code: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::from(code.to_string()));
    *r.status_mut() = code;
    r
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Helm repository at `prefix` (`/helm`): `prefix/index.yaml` listing every archive (relative
/// URL, sha256 digest, as `helm repo index` writes them) and `prefix/<name>-<version>.tgz`.
pub fn helm_repository(prefix: &str, charts: &[ChartArchive]) -> BTreeMap<String, Served> {
    let prefix = prefix.trim_end_matches('/');
    let mut files = BTreeMap::new();
    let mut entries: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for c in charts {
        let file = format!("{}-{}.tgz", c.name, c.version);
        let mut entry = serde_json::json!({
            "apiVersion": "v2",
            "name": c.name,
            "version": c.version,
            "digest": sha256_hex(&c.tgz),
            "created": "2026-01-01T00:00:00Z",
            "urls": [file],
        });
        if let Some(a) = &c.app_version {
            entry["appVersion"] = a.clone().into();
        }
        entries.entry(c.name.clone()).or_default().push(entry);
        files.insert(
            format!("{prefix}/{file}"),
            Served {
                content_type: "application/gzip".to_owned(),
                body: c.tgz.clone(),
                digest: None,
            },
        );
    }
    let index = serde_json::json!({
        "apiVersion": "v1",
        "entries": entries,
        "generated": "2026-01-01T00:00:00Z",
    });
    files.insert(
        format!("{prefix}/index.yaml"),
        Served {
            content_type: "text/yaml".to_owned(),
            body: serde_yaml_ng::to_string(&index)
                .unwrap_or_default()
                .into_bytes(),
            digest: None,
        },
    );
    files
}

/// A chart pushed to an OCI registry as `helm push` does: repository `repository` (`charts/x`),
/// tag = version with `+` as `_`, a config blob with the chart's metadata, one chart layer.
/// The manifest is served by tag and by digest; blobs by digest.
pub fn oci_chart(repository: &str, chart: &ChartArchive) -> BTreeMap<String, Served> {
    let mut files = BTreeMap::new();
    let config = serde_json::to_vec(&serde_json::json!({
        "name": chart.name,
        "version": chart.version,
        "appVersion": chart.app_version,
        "apiVersion": "v2",
    }))
    .unwrap_or_default();
    let config_digest = format!("sha256:{}", sha256_hex(&config));
    let layer_digest = format!("sha256:{}", sha256_hex(&chart.tgz));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CHART_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": HELM_CHART_LAYER, "digest": layer_digest, "size": chart.tgz.len()}],
        "annotations": {
            "org.opencontainers.image.title": chart.name,
            "org.opencontainers.image.version": chart.version,
        },
    }))
    .unwrap_or_default();
    let manifest_digest = format!("sha256:{}", sha256_hex(&manifest));
    let repository = repository.trim_matches('/');
    let tag = chart.version.replace('+', "_");
    for reference in [tag.as_str(), manifest_digest.as_str()] {
        files.insert(
            format!("/v2/{repository}/manifests/{reference}"),
            Served {
                content_type: OCI_MANIFEST.to_owned(),
                body: manifest.clone(),
                digest: Some(manifest_digest.clone()),
            },
        );
    }
    for (digest, body) in [(config_digest, config), (layer_digest, chart.tgz.clone())] {
        files.insert(
            format!("/v2/{repository}/blobs/{digest}"),
            Served {
                content_type: "application/octet-stream".to_owned(),
                body,
                digest: Some(digest),
            },
        );
    }
    files
}
