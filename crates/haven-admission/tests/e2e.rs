//! The webhook end to end over real HTTPS on loopback, with certificates made by rcgen:
//! verdicts, policy from namespace labels, exemptions, bad input, certificate rotation under load,
//! health, metrics and graceful shutdown; and namespace labels from a watch on an in-process
//! Kubernetes-style API server (haven-test-support) through the real kube client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use haven_admission::server::Server;
use haven_admission::{Config, NamespaceLabels, ServeOptions, StaticNamespaces, WatchedNamespaces};
use haven_test_support::{ApiServer, FakeCluster};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Pki {
    ca: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "haven test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let ca_der = ca.der().clone();
        Self { ca, ca_der }
    }

    /// Writes a fresh serving certificate for 127.0.0.1 and returns its DER.
    fn issue(&self, dir: &Path) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        // Write to temporary names and rename, as a Kubernetes secret volume update does.
        std::fs::write(dir.join("tls.key.tmp"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("tls.crt.tmp"), cert.pem()).unwrap();
        std::fs::rename(dir.join("tls.key.tmp"), dir.join("tls.key")).unwrap();
        std::fs::rename(dir.join("tls.crt.tmp"), dir.join("tls.crt")).unwrap();
        cert.der().clone()
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

struct Running {
    addr: SocketAddr,
    pki: Pki,
    dir: tempfile::TempDir,
    namespaces: Arc<StaticNamespaces>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(config: Config) -> Running {
    start_with(config, None).await
}

/// Starts the webhook; its namespace labels come from `watched` when given (the served
/// configuration), else from the in-memory `Running::namespaces`.
async fn start_with(config: Config, watched: Option<Arc<dyn NamespaceLabels>>) -> Running {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.issue(dir.path());
    let mut opts = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    opts.config = config;
    opts.reload_interval = Duration::from_millis(50);
    opts.header_timeout = Duration::from_millis(500);
    opts.body_timeout = Duration::from_millis(500);
    opts.max_body = 64 * 1024;
    let namespaces = Arc::new(StaticNamespaces::new());
    let source: Arc<dyn NamespaceLabels> = watched.unwrap_or_else(|| namespaces.clone());
    let server = Server::bind(opts, source).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        pki,
        dir,
        namespaces,
        stop: Some(stop),
        task,
    }
}

/// One HTTPS request on a new connection: status, body and the server's certificate.
async fn request(
    r: &Running,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (u16, String, CertificateDer<'static>) {
    let tcp = TcpStream::connect(r.addr).await.unwrap();
    let tls = r
        .pki
        .connector()
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let peer = tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned(), peer)
}

async fn admit(r: &Running, review: &Value) -> Value {
    let (status, body, _) =
        request(r, "POST", "/validate", serde_json::to_vec(review).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["response"].clone()
}

fn review(uid: &str, namespace: &str, kind: (&str, &str), object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": kind.0, "version": "v1", "kind": kind.1},
            "resource": {"group": kind.0, "version": "v1", "resource": format!("{}s", kind.1.to_lowercase())},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": object,
            "dryRun": false
        }
    })
}

fn pod(security: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app", "image": "registry.example.nl/app:1.0", "securityContext": security}]}
    })
}

fn restricted() -> Value {
    json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
}

fn deployment(security: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod(security)["spec"].clone()}}
    })
}

#[tokio::test]
async fn allows_compliant_pods_and_denies_others_with_rule_ids_and_paths() {
    let r = start(Config::default()).await;
    let ok = admit(&r, &review("u1", "zaken", ("", "Pod"), pod(restricted()))).await;
    assert_eq!(ok["uid"], "u1");
    assert_eq!(ok["allowed"], true);
    assert!(ok.get("warnings").is_none(), "{ok}");

    let bad = admit(
        &r,
        &review("u2", "zaken", ("", "Pod"), pod(json!({"privileged": true}))),
    )
    .await;
    assert_eq!(bad["uid"], "u2");
    assert_eq!(bad["allowed"], false);
    assert_eq!(bad["status"]["code"], 403);
    let message = bad["status"]["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("pods \"web\" is forbidden: violates haven policy \"restricted:v1.37\""),
        "{message}"
    );
    for needle in [
        "pss.privileged at spec.containers[0].securityContext.privileged",
        "pss.allowPrivilegeEscalation at spec.containers[0].securityContext.allowPrivilegeEscalation",
        "pss.runAsNonRoot",
        "pss.seccompProfile_restricted",
        "pss.capabilities_restricted",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }
}

#[tokio::test]
async fn controllers_get_warnings_not_denials() {
    let r = start(Config::default()).await;
    let resp = admit(
        &r,
        &review("u3", "zaken", ("apps", "Deployment"), deployment(json!({}))),
    )
    .await;
    assert_eq!(resp["allowed"], true);
    let warnings: Vec<&str> = resp["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains(
            "pss.runAsNonRoot at spec.template.spec.containers[0].securityContext.runAsNonRoot"
        )),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn namespace_labels_choose_level_version_and_modes_and_changes_are_picked_up() {
    let r = start(Config::default()).await;
    let hostile = pod(json!({"runAsNonRoot": false}));
    // Default: restricted enforced.
    assert_eq!(
        admit(&r, &review("a", "team", ("", "Pod"), hostile.clone())).await["allowed"],
        false
    );
    // The namespace relaxes enforcement to baseline but audits and warns at restricted.
    let labels: BTreeMap<String, String> = [
        ("pod-security.kubernetes.io/enforce", "baseline"),
        ("pod-security.kubernetes.io/audit", "restricted"),
        ("pod-security.kubernetes.io/warn", "restricted"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    r.namespaces.set("team", labels);
    let resp = admit(&r, &review("b", "team", ("", "Pod"), hostile.clone())).await;
    assert_eq!(resp["allowed"], true, "{resp}");
    let audit = resp["auditAnnotations"]["haven.commonground.nl/audit-violations"]
        .as_str()
        .unwrap();
    assert!(audit.contains("pss.runAsNonRoot"), "{audit}");
    assert!(
        resp["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("pss.runAsNonRoot"))
    );
    // Turning on the Haven+ group at enforce makes the missing resources block.
    let mut labels = haven_admission::NamespaceLabels::labels(&*r.namespaces, "team").unwrap();
    labels.insert("haven.commonground.nl/plus".into(), "enforce".into());
    r.namespaces.set("team", labels);
    let resp = admit(&r, &review("c", "team", ("", "Pod"), pod(restricted()))).await;
    assert_eq!(resp["allowed"], false);
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("plus.resources"),
        "{resp}"
    );
}

#[tokio::test]
async fn exemptions_and_waiver_annotations() {
    let mut config = Config::default();
    config
        .exemptions
        .usernames
        .push("system:serviceaccount:ops:deployer".into());
    config.exemptions.runtime_classes.push("kata".into());
    let r = start(config).await;
    let bad = pod(json!({"privileged": true}));
    for ns in ["kube-system", "haven-system"] {
        let resp = admit(&r, &review("x", ns, ("", "Pod"), bad.clone())).await;
        assert_eq!(resp["allowed"], true, "{ns} is exempt");
        assert_eq!(
            resp["auditAnnotations"]["haven.commonground.nl/exempt"],
            "true"
        );
    }
    let mut by_user = review("y", "zaken", ("", "Pod"), bad.clone());
    by_user["request"]["userInfo"]["username"] = json!("system:serviceaccount:ops:deployer");
    assert_eq!(admit(&r, &by_user).await["allowed"], true);
    let mut kata = bad.clone();
    kata["spec"]["runtimeClassName"] = json!("kata");
    assert_eq!(
        admit(&r, &review("z", "zaken", ("", "Pod"), kata)).await["allowed"],
        true
    );
    // The waiver annotation of `haven app check` is honoured at the door too.
    let mut waived = pod(
        json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
    );
    waived["metadata"]["annotations"] = json!({"waive.haven.commonground.nl/pss.seccompProfile_restricted": "profile set by the node"});
    assert_eq!(
        admit(&r, &review("w", "zaken", ("", "Pod"), waived)).await["allowed"],
        true
    );
}

#[tokio::test]
async fn unchanged_updates_other_kinds_and_dry_runs() {
    let r = start(Config::default()).await;
    let bad = pod(json!({"privileged": true}));
    let mut update = review("u", "zaken", ("", "Pod"), bad.clone());
    update["request"]["operation"] = json!("UPDATE");
    let mut relabelled = bad.clone();
    relabelled["metadata"]["labels"] = json!({"new": "label"});
    update["request"]["object"] = relabelled;
    update["request"]["oldObject"] = bad.clone();
    assert_eq!(
        admit(&r, &update).await["allowed"],
        true,
        "a label change does not re-evaluate the pod"
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    assert_eq!(
        admit(&r, &review("c", "zaken", ("", "ConfigMap"), cm)).await["allowed"],
        true
    );
    let mut dry = review("d", "zaken", ("", "Pod"), bad);
    dry["request"]["dryRun"] = json!(true);
    assert_eq!(
        admit(&r, &dry).await["allowed"],
        false,
        "dry runs are answered normally"
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_never_stop_the_server() {
    let r = start(Config::default()).await;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "not an AdmissionReview"),
        (serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}})).unwrap(), 400, "expected apiVersion"),
        (serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})).unwrap(), 400, "no request"),
        (serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}}})).unwrap(), 400, "no uid"),
        (
            serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE"}})).unwrap(),
            400,
            "has no object",
        ),
        (vec![b' '; 200 * 1024], 413, "length limit"),
    ];
    for (body, code, needle) in cases {
        let (status, text, _) = request(&r, "POST", "/validate", body).await;
        assert_eq!(status, code, "{text}");
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
    // Wrong field types inside the object: an AdmissionReview error, not a crash.
    let mut typed = review("t", "zaken", ("", "Pod"), pod(json!({})));
    typed["request"]["object"]["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": "eighty"}]);
    let resp = admit(&r, &typed).await;
    assert_eq!(
        (resp["allowed"].clone(), resp["status"]["code"].clone()),
        (json!(false), json!(400))
    );

    // Plain HTTP on the TLS port: the connection fails, the server carries on.
    let mut plain = TcpStream::connect(r.addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
    // A client that connects and says nothing is dropped after the handshake timeout.
    let mut silent = TcpStream::connect(r.addr).await.unwrap();
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut [0u8; 16])).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "silent client must be disconnected: {read:?}"
    );
    assert_eq!(request(&r, "GET", "/healthz", Vec::new()).await.0, 200);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let r = start(Config::default()).await;
    assert_eq!(request(&r, "GET", "/healthz", Vec::new()).await.0, 200);
    assert_eq!(request(&r, "GET", "/readyz", Vec::new()).await.0, 200);
    admit(
        &r,
        &review("m1", "zaken", ("", "Pod"), pod(json!({"privileged": true}))),
    )
    .await;
    admit(&r, &review("m2", "zaken", ("", "Pod"), pod(restricted()))).await;
    let (status, text, _) = request(&r, "GET", "/metrics", Vec::new()).await;
    assert_eq!(status, 200);
    assert!(
        text.contains(r#"haven_admission_requests_total{verdict="denied",kind="Pod"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"haven_admission_requests_total{verdict="allowed",kind="Pod"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"haven_admission_violations_total{rule="pss.privileged"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("haven_admission_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_under_load_fails_no_request() {
    let r = Arc::new(start(Config::default()).await);
    let first = request(&r, "GET", "/healthz", Vec::new()).await.2;
    let load: Vec<_> = (0..8)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(async move {
                let mut ok = 0;
                for j in 0..25 {
                    let resp = admit(
                        &r,
                        &review(&format!("{i}-{j}"), "zaken", ("", "Pod"), pod(restricted())),
                    )
                    .await;
                    assert_eq!(resp["allowed"], true);
                    ok += 1;
                }
                ok
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let rotated = r.pki.issue(r.dir.path());
    let mut served = 0;
    for l in load {
        served += l.await.unwrap();
    }
    assert_eq!(served, 200, "every request under rotation succeeded");
    // New connections get the new certificate once the reload interval has passed.
    let mut now = request(&r, "GET", "/healthz", Vec::new()).await.2;
    for _ in 0..40 {
        if now == rotated {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        now = request(&r, "GET", "/healthz", Vec::new()).await.2;
    }
    assert_ne!(first, rotated);
    assert_eq!(now, rotated, "the rotated certificate is served");
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests() {
    let mut r = start(Config::default()).await;
    // A request whose body arrives slowly is in flight when the shutdown starts.
    let tcp = TcpStream::connect(r.addr).await.unwrap();
    let mut tls = r
        .pki
        .connector()
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let body = serde_json::to_vec(&review("s", "zaken", ("", "Pod"), pod(restricted()))).unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body[..10]).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    r.stop.take().unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tls.write_all(&body[10..]).await.unwrap();
    tls.flush().await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), tls.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "in-flight request completed: {text}"
    );
    assert!(text.contains("\"allowed\":true"));
    tokio::time::timeout(Duration::from_secs(5), &mut r.task)
        .await
        .expect("server stops")
        .unwrap();
    assert!(
        TcpStream::connect(r.addr).await.is_err(),
        "no longer accepting"
    );
}

/// Polls `cond` every 20 ms for up to 10 s.
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

#[tokio::test]
async fn namespace_labels_come_from_a_watch_and_label_changes_are_picked_up() {
    let cluster = FakeCluster::new();
    cluster
        .apply(namespace(
            "team",
            json!({"pod-security.kubernetes.io/enforce": "baseline"}),
        ))
        .unwrap();
    let api = ApiServer::start(cluster).await.unwrap();
    // The first namespace list is slow: /readyz must say "not ready" until the cache synced.
    api.faults()
        .delay("/api/v1/namespaces", Duration::from_millis(700));
    let watched = WatchedNamespaces::spawn(api.client());
    let r = start_with(Config::default(), Some(watched)).await;

    let (status, body, _) = request(&r, "GET", "/readyz", Vec::new()).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("namespace cache"), "{body}");
    eventually("the namespace cache has synced", || async {
        request(&r, "GET", "/readyz", Vec::new()).await.0 == 200
    })
    .await;
    api.faults().clear();

    // `team` enforces baseline: a pod that only breaks restricted rules is admitted.
    let hostile = pod(json!({"runAsNonRoot": false}));
    let resp = admit(&r, &review("a", "team", ("", "Pod"), hostile.clone())).await;
    assert_eq!(resp["allowed"], true, "{resp}");

    // Answers come from the cache: many reviews, no API request per review.
    api.clear_requests();
    for i in 0..20 {
        admit(
            &r,
            &review(&format!("n{i}"), "team", ("", "Pod"), hostile.clone()),
        )
        .await;
    }
    let gets: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|line| line.starts_with("GET") && !line.contains("watch"))
        .collect();
    assert!(
        gets.is_empty(),
        "reviews must not call the API server: {gets:?}"
    );

    // The platform team tightens `team` to restricted: the watch delivers it, the pod is denied.
    api.cluster()
        .apply(namespace(
            "team",
            json!({"pod-security.kubernetes.io/enforce": "restricted"}),
        ))
        .unwrap();
    eventually("the label change is enforced", || async {
        admit(&r, &review("b", "team", ("", "Pod"), hostile.clone())).await["allowed"] == false
    })
    .await;
    let resp = admit(&r, &review("c", "team", ("", "Pod"), hostile.clone())).await;
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("pss.runAsNonRoot"),
        "{resp}"
    );

    // A namespace created later is seen too; an exempt label set (privileged) admits.
    api.cluster()
        .apply(namespace(
            "lab",
            json!({"pod-security.kubernetes.io/enforce": "privileged"}),
        ))
        .unwrap();
    eventually("the new namespace is seen", || async {
        admit(&r, &review("d", "lab", ("", "Pod"), hostile.clone())).await["allowed"] == true
    })
    .await;
    api.shutdown().await;
}
