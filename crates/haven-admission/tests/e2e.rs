//! The webhook end to end over real HTTPS on loopback, with certificates made by rcgen:
//! verdicts, policy from namespace labels, exemptions, bad input, certificate rotation under load,
//! health, metrics and graceful shutdown; and namespace labels from a watch on an in-process
//! Kubernetes-style API server (haven-test-support) through the real kube client. Then what
//! keeps the webhook from being starved: idle and silent connections closed, connection limits
//! per client and in all, the drain on shutdown, certificates checked before use, and responses
//! of bounded size.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use haven_admission::server::{ServeError, Server};
use haven_admission::tls::TlsError;
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
        self.issue_with(dir, None, false)
    }

    /// [`Pki::issue`], valid until `not_after` (y, m, d) when given; with `mismatched`, the key
    /// written is not the certificate's.
    fn issue_with(
        &self,
        dir: &Path,
        not_after: Option<(i32, u8, u8)>,
        mismatched: bool,
    ) -> CertificateDer<'static> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        if let Some((y, m, d)) = not_after {
            params.not_after = rcgen::date_time_ymd(y, m, d);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let written_key = if mismatched {
            rcgen::KeyPair::generate().unwrap()
        } else {
            key
        };
        // Write to temporary names and rename, as a Kubernetes secret volume update does.
        std::fs::write(dir.join("tls.key.tmp"), written_key.serialize_pem()).unwrap();
        std::fs::write(dir.join("tls.crt.tmp"), cert.pem()).unwrap();
        std::fs::rename(dir.join("tls.key.tmp"), dir.join("tls.key")).unwrap();
        std::fs::rename(dir.join("tls.crt.tmp"), dir.join("tls.crt")).unwrap();
        cert.der().clone()
    }

    fn connector(&self) -> TlsConnector {
        self.connector_for(&[b"http/1.1"])
    }

    /// A connector that offers these ALPN protocols.
    fn connector_for(&self, alpn: &[&[u8]]) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut config = config;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
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
    start_tuned(config, watched, |_| {}).await
}

/// [`start_with`], with the test's options changed by `tune` after the defaults below.
async fn start_tuned(
    config: Config,
    watched: Option<Arc<dyn NamespaceLabels>>,
    tune: impl FnOnce(&mut ServeOptions),
) -> Running {
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
    opts.drain_period = Duration::from_millis(200);
    opts.shutdown_grace = Duration::from_secs(2);
    tune(&mut opts);
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

/// Dutch law at the door (issue #28): with the Haven+ group on, an Ingress that serves a host
/// over plain HTTP is denied naming `nl.https` and the law; with TLS it is admitted; with the
/// group off (the default) Ingresses pass; an update that removes TLS is judged again.
#[tokio::test]
async fn ingresses_without_tls_are_denied_where_the_plus_group_is_enforced() {
    let r = start(Config::default()).await;
    let ingress = |tls: bool| {
        let mut o = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web"},
            "spec": {"rules": [{"host": "app.example.nl"}]}
        });
        if tls {
            o["spec"]["tls"] = json!([{"hosts": ["app.example.nl"], "secretName": "web-tls"}]);
        }
        o
    };
    let kind = ("networking.k8s.io", "Ingress");
    assert_eq!(
        admit(&r, &review("a", "team", kind, ingress(false))).await["allowed"],
        true,
        "the Haven+ group is off by default"
    );
    let labels: BTreeMap<String, String> = [(
        "haven.commonground.nl/plus".to_owned(),
        "enforce".to_owned(),
    )]
    .into();
    r.namespaces.set("team", labels);
    let denied = admit(&r, &review("b", "team", kind, ingress(false))).await;
    assert_eq!(denied["allowed"], false, "{denied}");
    let message = denied["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("nl.https at spec.rules[0].host")
            && message.contains("Wet digitale overheid, Stb. 2023, 179"),
        "{message}"
    );
    assert_eq!(
        admit(&r, &review("c", "team", kind, ingress(true))).await["allowed"],
        true
    );
    // An update that drops TLS is not "unchanged": the spec changed.
    let mut update = review("d", "team", kind, ingress(false));
    update["request"]["operation"] = json!("UPDATE");
    update["request"]["oldObject"] = ingress(true);
    assert_eq!(admit(&r, &update).await["allowed"], false);
    // A relabel of a compliant one is.
    let mut relabel = review("e", "team", kind, ingress(true));
    relabel["request"]["operation"] = json!("UPDATE");
    let mut old = ingress(true);
    old["metadata"]["labels"] = json!({"old": "label"});
    relabel["request"]["oldObject"] = old;
    assert_eq!(admit(&r, &relabel).await["allowed"], true);
    // Envoy Gateway's TLS policy, judged on the object alone.
    let policy = json!({
        "apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "ClientTrafficPolicy",
        "metadata": {"name": "tls"},
        "spec": {"tls": {"minVersion": "1.0"}}
    });
    let denied = admit(
        &r,
        &review(
            "f",
            "team",
            ("gateway.envoyproxy.io", "ClientTrafficPolicy"),
            policy,
        ),
    )
    .await;
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(
        denied["status"]["message"]
            .as_str()
            .unwrap()
            .contains("nl.tls-version at spec.tls.minVersion"),
        "{denied}"
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
    // The server's own timeouts (5 s), not the 500 ms the other tests shorten them to: a
    // request that fails here must be one the rotation failed. With 500 ms, a machine under
    // load (a load average of 11 on two cores, or this test under valgrind) closed a slow
    // connection at its first-request deadline, which this test took for a rotation failure.
    let defaults = ServeOptions::new("127.0.0.1:0".parse().unwrap(), "c".into(), "k".into());
    let r = Arc::new(
        start_tuned(Config::default(), None, |o| {
            o.header_timeout = defaults.header_timeout;
            o.body_timeout = defaults.body_timeout;
        })
        .await,
    );
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
    // New connections get the new certificate once the reload interval (50 ms) has passed;
    // waited for up to 10 s, so a slow machine is not taken for a reload that never came.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut now = request(&r, "GET", "/healthz", Vec::new()).await.2;
    while now != rotated && tokio::time::Instant::now() < deadline {
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

/// The tenant policy's annotations come through the same metadata-only watch: a LoadBalancer
/// Service is denied in a namespace with the Haven+ group enforced, and admitted once the
/// platform team annotates the namespace `allow-load-balancer: "true"`.
#[tokio::test]
async fn namespace_annotations_come_from_the_watch_and_changes_are_picked_up() {
    let tenant = |annotations: Value| {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "team", "labels": {"haven.commonground.nl/plus": "enforce"},
            "annotations": annotations}})
    };
    let cluster = FakeCluster::new();
    cluster
        .apply(tenant(
            json!({"haven.commonground.nl/denied-hostnames": "keycloak.example.nl"}),
        ))
        .unwrap();
    let api = ApiServer::start(cluster).await.unwrap();
    let watched = WatchedNamespaces::spawn(api.client());
    let r = start_with(Config::default(), Some(watched)).await;
    eventually("the namespace cache has synced", || async {
        request(&r, "GET", "/readyz", Vec::new()).await.0 == 200
    })
    .await;
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge"},
                         "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}});
    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                       "metadata": {"name": "steal"}, "spec": {"hostnames": ["keycloak.example.nl"]}});
    let kind = ("gateway.networking.k8s.io", "HTTPRoute");
    let denied = admit(&r, &review("a", "team", kind, route.clone())).await;
    assert_eq!(denied["allowed"], false, "{denied}");
    assert!(
        denied["status"]["message"]
            .as_str()
            .unwrap()
            .contains("plus.hostname"),
        "{denied}"
    );
    let denied = admit(&r, &review("b", "team", ("", "Service"), service.clone())).await;
    assert_eq!(denied["allowed"], false, "{denied}");
    api.cluster()
        .apply(tenant(
            json!({"haven.commonground.nl/allow-load-balancer": "true"}),
        ))
        .unwrap();
    eventually("the annotation change is seen", || async {
        admit(&r, &review("c", "team", ("", "Service"), service.clone())).await["allowed"] == true
    })
    .await;
    // The denied host names went with the old annotations.
    let allowed = admit(&r, &review("d", "team", kind, route.clone())).await;
    let message = allowed["status"]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("plus.hostname"), "{allowed}");
    api.shutdown().await;
}

/// A TLS connection to the webhook offering `alpn`, from `from` (a loopback address) when
/// given; `None` when the server refuses it (the handshake fails).
async fn tls_connection(
    r: &Running,
    alpn: &[&[u8]],
    from: Option<&str>,
) -> Option<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = match from {
        Some(ip) => {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
            socket.connect(r.addr).await.unwrap()
        }
        None => TcpStream::connect(r.addr).await.unwrap(),
    };
    tokio::time::timeout(
        Duration::from_secs(5),
        r.pki
            .connector_for(alpn)
            .connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .expect("the handshake ends")
    .ok()
}

/// Whether the server closes `stream` within `within` (reading and dropping what it sends).
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// An HTTP/1.1 request on an open connection.
async fn send_h1(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(u16, String), hyper::Error> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

#[tokio::test]
async fn a_connection_that_sends_nothing_after_the_handshake_is_closed() {
    // header_timeout is 500 ms: TLS done and then no request (HTTP/1.1 or HTTP/2 by ALPN), or
    // the HTTP/2 preface and settings and then silence, are closed soon after.
    let r = start(Config::default()).await;
    for alpn in [&b"http/1.1"[..], b"h2"] {
        let mut tls = tls_connection(&r, &[alpn], None).await.unwrap();
        assert!(
            closed_within(&mut tls, Duration::from_secs(3)).await,
            "a silent {} connection stays open",
            String::from_utf8_lossy(alpn)
        );
    }
    let mut h2 = tls_connection(&r, &[b"h2"], None).await.unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    // An empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
    h2.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    h2.flush().await.unwrap();
    assert!(
        closed_within(&mut h2, Duration::from_secs(3)).await,
        "an HTTP/2 connection silent after its preface stays open"
    );
    // The server is none the worse.
    assert_eq!(request(&r, "GET", "/healthz", Vec::new()).await.0, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout_and_busy_ones_are_not() {
    let r = start_tuned(Config::default(), None, |o| {
        o.idle_timeout = Duration::from_millis(800);
    })
    .await;
    // HTTP/2, as an API server talks to its webhooks.
    let tls = tls_connection(&r, &[b"h2"], None).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    let mut conn = tokio::spawn(conn);
    // A request every 300 ms for 2.4 s: the connection is never idle for 800 ms.
    for i in 0..8 {
        let body = serde_json::to_vec(&review(
            &format!("h2-{i}"),
            "zaken",
            ("", "Pod"),
            pod(restricted()),
        ))
        .unwrap();
        let req = hyper::Request::builder()
            .method("POST")
            .uri("https://localhost/validate")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let resp = sender
            .send_request(req)
            .await
            .expect("a busy connection is kept");
        assert_eq!(resp.status(), 200);
        resp.into_body().collect().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(!conn.is_finished());
    // Then silence: closed (GOAWAY) after the idle timeout.
    let ended = tokio::time::timeout(Duration::from_secs(3), &mut conn).await;
    assert!(ended.is_ok(), "an idle HTTP/2 connection stays open");

    // HTTP/1.1 keep-alive likewise.
    let tls = tls_connection(&r, &[b"http/1.1"], None).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    assert_eq!(
        send_h1(&mut sender, "GET", "/healthz", Vec::new())
            .await
            .unwrap()
            .0,
        200
    );
    let ended = tokio::time::timeout(Duration::from_secs(3), conn).await;
    assert!(ended.is_ok(), "an idle HTTP/1.1 connection stays open");

    let (_, metrics, _) = request(&r, "GET", "/metrics", Vec::new()).await;
    assert!(
        metrics.contains(r#"haven_admission_connections_closed_total{reason="idle"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn one_client_cannot_hold_every_connection() {
    let r = start_tuned(Config::default(), None, |o| {
        o.max_connections_per_client = 3;
        // Held connections send nothing: keep them open for the test's length.
        o.header_timeout = Duration::from_secs(20);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            tls_connection(&r, &[b"http/1.1"], Some("127.0.0.1"))
                .await
                .unwrap(),
        );
    }
    // A fourth from the same address is refused; another address is served.
    assert!(
        tls_connection(&r, &[b"http/1.1"], Some("127.0.0.1"))
            .await
            .is_none(),
        "a fourth connection from one client was accepted"
    );
    let mut other = tls_connection(&r, &[b"http/1.1"], Some("127.0.0.2"))
        .await
        .unwrap();
    other
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    other.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(r#"haven_admission_connections_refused_total{reason="per-client"} 1"#),
        "{text}"
    );
    assert!(text.contains("haven_admission_connections 4"), "{text}");
    // A connection closed by the client gives its place back.
    held.pop();
    eventually("the client may connect again", || async {
        tls_connection(&r, &[b"http/1.1"], Some("127.0.0.1"))
            .await
            .is_some()
    })
    .await;
}

#[tokio::test]
async fn at_the_global_limit_idle_connections_make_room_for_new_ones() {
    let r = start_tuned(Config::default(), None, |o| {
        o.max_connections = 3;
        o.header_timeout = Duration::from_secs(20);
    })
    .await;
    // Three connections from three clients that connect and send nothing fill the server.
    let mut idle = Vec::new();
    for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        idle.push(tls_connection(&r, &[b"http/1.1"], Some(ip)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // An ordinary request still gets through: the oldest idle connection makes room.
    let resp = admit(
        &r,
        &review("limit", "zaken", ("", "Pod"), pod(restricted())),
    )
    .await;
    assert_eq!(resp["allowed"], true);
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(3)).await,
        "the oldest idle connection was kept"
    );
    let (_, metrics, _) = request(&r, "GET", "/metrics", Vec::new()).await;
    assert!(
        metrics.contains(r#"haven_admission_connections_closed_total{reason="evicted"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn on_shutdown_open_connections_are_served_for_the_drain_period_then_closed() {
    let mut r = start_tuned(Config::default(), None, |o| {
        o.drain_period = Duration::from_millis(1500);
        // HTTP/1.1 keep-alive connections are closed after the header timeout without a new
        // request (hyper's header read timeout): longer than the test, so that the close seen
        // is the drain's.
        o.header_timeout = Duration::from_secs(20);
    })
    .await;
    let tls = tls_connection(&r, &[b"http/1.1"], None).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let body = |uid: &str| {
        serde_json::to_vec(&review(uid, "zaken", ("", "Pod"), pod(restricted()))).unwrap()
    };
    assert_eq!(
        send_h1(&mut sender, "POST", "/validate", body("before"))
            .await
            .unwrap()
            .0,
        200
    );

    r.stop.take().unwrap().send(()).unwrap();
    let stopped = std::time::Instant::now();
    // No new connections...
    eventually("new connections are refused", || async {
        TcpStream::connect(r.addr).await.is_err()
    })
    .await;
    // ... but the open one is still served, new requests included, and says it is not ready.
    let (status, text) = send_h1(&mut sender, "POST", "/validate", body("during"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""allowed":true"#), "{text}");
    let (status, text) = send_h1(&mut sender, "GET", "/readyz", Vec::new())
        .await
        .unwrap();
    assert_eq!((status, text.as_str()), (503, "shutting down"));
    // After the drain period the server closes it (an idle HTTP/1 connection simply ends), and
    // stops.
    let _closed = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the connection is closed after the drain period")
        .unwrap();
    assert!(
        stopped.elapsed() >= Duration::from_millis(1400),
        "closed {:?} after the signal, before the drain period ended",
        stopped.elapsed()
    );
    tokio::time::timeout(Duration::from_secs(5), &mut r.task)
        .await
        .expect("server stops")
        .unwrap();
}

#[tokio::test]
async fn a_certificate_that_does_not_match_its_key_is_refused_at_start() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.issue_with(dir.path(), None, true);
    let opts = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    let err = Server::bind(opts, Arc::new(StaticNamespaces::new()))
        .await
        .err()
        .expect("a mismatched pair is refused");
    assert!(
        matches!(err, ServeError::Tls(TlsError::Mismatch { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("does not match the private key"),
        "{err}"
    );
}

/// Log lines written while `f` runs on this thread (the server's tasks included, on a
/// current-thread runtime), as `haven admission serve` writes them (JSON).
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::INFO)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        // Callsites first hit on other tests' threads, before this subscriber existed, may
        // have cached that nobody listens: ask them again.
        tracing::callsite::rebuild_interest_cache();
        guard
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_rotated_pair_that_does_not_match_is_not_used_and_the_log_says_why() {
    let logs = Captured::default();
    let _guard = logs.install();
    let r = start(Config::default()).await;
    let first = request(&r, "GET", "/healthz", Vec::new()).await.2;
    r.pki.issue_with(r.dir.path(), None, true);
    eventually("the failed reload is counted", || async {
        request(&r, "GET", "/metrics", Vec::new())
            .await
            .1
            .contains("haven_admission_certificate_reload_errors_total 1")
            || logs.text().contains("certificate-reload-failed")
    })
    .await;
    // The old pair still serves every handshake.
    for _ in 0..5 {
        let (status, _, served) = request(&r, "GET", "/healthz", Vec::new()).await;
        assert_eq!((status, &served), (200, &first));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("certificate-reload-failed"))
        .unwrap_or_else(|| panic!("no reload failure logged:\n{text}"));
    assert!(line.contains("does not match the private key"), "{line}");
    // A good pair is then picked up.
    let good = r.pki.issue(r.dir.path());
    eventually("the good pair is served", || async {
        request(&r, "GET", "/healthz", Vec::new()).await.2 == good
    })
    .await;
}

#[tokio::test]
async fn certificate_expiry_is_a_metric_and_near_expiry_a_warning() {
    let logs = Captured::default();
    let _guard = logs.install();
    let utc = jiff::tz::Offset::UTC;
    let in_3_days = utc
        .to_datetime(
            jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(72))
                .unwrap(),
        )
        .date();
    let (y, m, d) = (
        i32::from(in_3_days.year()),
        in_3_days.month() as u8,
        in_3_days.day() as u8,
    );
    let r = start_tuned(Config::default(), None, |_| {}).await;
    r.pki.issue_with(r.dir.path(), Some((y, m, d)), false);
    let expected = utc
        .to_timestamp(in_3_days.to_datetime(jiff::civil::Time::midnight()))
        .unwrap()
        .as_second();
    eventually("the expiring certificate is loaded", || async {
        request(&r, "GET", "/metrics", Vec::new())
            .await
            .1
            .contains(&format!(
                "haven_admission_certificate_expiry_timestamp_seconds {expected}"
            ))
    })
    .await;
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("certificate-expiring"))
        .unwrap_or_else(|| panic!("no expiry warning:\n{text}"));
    assert!(line.contains(r#""level":"WARN""#), "{line}");
    assert!(line.contains("days_left"), "{line}");
}

#[tokio::test]
async fn a_pod_of_125000_containers_gets_a_response_of_bounded_size() {
    let r = start_tuned(Config::default(), None, |o| {
        o.max_body = 8 * 1024 * 1024;
        o.body_timeout = Duration::from_secs(30);
    })
    .await;
    let containers: Vec<Value> = (0..125_000)
        .map(|i| json!({"name": format!("c{i}"), "image": "x"}))
        .collect();
    let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wide"}, "spec": {"containers": containers}});
    let body = serde_json::to_vec(&review("wide", "zaken", ("", "Pod"), object)).unwrap();
    let (status, text, _) = request(&r, "POST", "/validate", body).await;
    assert_eq!(status, 200);
    assert!(text.len() < 64 * 1024, "a response of {} bytes", text.len());
    let resp: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(resp["response"]["allowed"], false);
    let message = resp["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("and 124990 more violations of pss.runAsNonRoot"),
        "{message}"
    );
}

#[tokio::test]
async fn metric_labels_are_bounded_whatever_the_kinds_requested() {
    let r = start(Config::default()).await;
    for i in 0..3 {
        let kind = format!("Widget{i}");
        let object =
            json!({"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "w"}});
        let mut req = review(&format!("k{i}"), "zaken", ("example.com", "Widget"), object);
        req["request"]["kind"]["kind"] = json!(kind);
        assert_eq!(admit(&r, &req).await["allowed"], true);
    }
    let (_, text, _) = request(&r, "GET", "/metrics", Vec::new()).await;
    assert!(
        text.contains(r#"haven_admission_requests_total{verdict="skipped",kind="other"} 3"#),
        "{text}"
    );
    assert!(!text.contains("Widget"), "{text}");
}

#[tokio::test]
async fn at_the_end_of_the_drain_a_busy_http1_connection_is_told_to_close_not_cut() {
    // A client sending a request every 250 ms on a keep-alive connection: when the drain ends,
    // the server must not close the connection between two requests (the next one, already on
    // its way, would be lost), but answer it with `Connection: close`.
    let mut r = start_tuned(Config::default(), None, |o| {
        o.drain_period = Duration::from_millis(600);
        o.header_timeout = Duration::from_secs(20);
    })
    .await;
    let tls = tls_connection(&r, &[b"http/1.1"], None).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let body = |uid: String| {
        serde_json::to_vec(&review(&uid, "zaken", ("", "Pod"), pod(restricted()))).unwrap()
    };
    let mut told_to_close = false;
    for i in 0..12 {
        if i == 2 {
            r.stop.take().unwrap().send(()).unwrap();
        }
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/validate")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body(format!("busy-{i}")))))
            .unwrap();
        let resp = sender
            .send_request(req)
            .await
            .unwrap_or_else(|e| panic!("request {i} was cut: {e}"));
        assert_eq!(resp.status(), 200);
        told_to_close = resp
            .headers()
            .get("connection")
            .is_some_and(|v| v == "close");
        resp.into_body().collect().await.unwrap();
        if told_to_close {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(told_to_close, "the server never said Connection: close");
    let _ = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the connection ends after its last response");
    tokio::time::timeout(Duration::from_secs(5), &mut r.task)
        .await
        .expect("server stops")
        .unwrap();
}
