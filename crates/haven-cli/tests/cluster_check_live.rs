//! `haven check` and `haven snapshot` as subprocesses against the in-process fake API server:
//! KUBECONFIG and --kubeconfig/--context, exit codes, every output format, snapshot → offline
//! check with the same verdicts, rejected credentials, an untrusted certificate, the kubectl
//! plugin binary, --write-crd and --allow-writes.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::{Value, json};

fn fixture(name: &str) -> FakeCluster {
    FakeCluster::named(name)
}

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("haven-live-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(bin: &str, args: &[&str], kubeconfig: &str) -> Output {
    Command::new(bin)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap()
}

fn haven(args: &[&str], kubeconfig: &str) -> Output {
    run(env!("CARGO_BIN_EXE_haven"), args, kubeconfig)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn verdicts(upstream: &Value) -> Vec<(String, String)> {
    upstream["CompliancyChecks"]["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["Name"].as_str().unwrap().to_owned(),
                c["Result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn check_via_kubeconfig_then_snapshot_and_offline_check_agree() {
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let d = Dir::new("agree");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));

    let o = haven(&["check", "-o", "json"], &kc);
    assert_eq!(
        o.status.code(),
        Some(0),
        "compliant: a self-built binary's shavalidation is skipped: {}",
        err(&o)
    );
    let live: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(live["HavenCompliant"], true);
    let v = verdicts(&live);
    assert_eq!(v.len(), 15);
    assert!(
        v.iter().all(|(n, r)| if n == "shavalidation" {
            r == "SKIPPED"
        } else {
            r == "YES"
        }),
        "{v:?}"
    );

    let o = haven(&["snapshot", "-o", &d.path("snap.json")], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = std::fs::read_to_string(d.path("snap.json")).unwrap();
    assert!(text.contains("\"kind\": \"ClusterSnapshot\""));
    let o = haven(
        &["check", "--snapshot", &d.path("snap.json"), "-o", "json"],
        "/nonexistent",
    );
    let offline: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verdicts(&offline), v, "same verdicts offline");

    let o = haven(&["check"], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("│ Validation     │ SHA has been validated                                                   │ SKIPPED │"),
        "{text}"
    );
    assert!(
        text.contains("Verdict: compliant; shavalidation skipped: self-built binary"),
        "{text}"
    );
    assert!(text.contains("Results: 14 out of 15 checks passed, 1 checks skipped, 0 checks unknown. This is a Haven Compliant cluster."), "{text}");

    for format in ["haven-json", "junit", "sarif", "text"] {
        let o = haven(&["check", "-o", format, "-v", "--plus"], &kc);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", err(&o));
        assert!(!o.stdout.is_empty());
    }
    // Not a terminal: no progress output on stderr.
    let o = haven(&["check", "-o", "json"], &kc);
    assert!(o.stderr.is_empty(), "{}", err(&o));
    // The kubectl plugin is the same program.
    let o = run(
        env!("CARGO_BIN_EXE_kubectl-haven"),
        &["check", "-o", "json"],
        &kc,
    );
    let plugin: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verdicts(&plugin), v);
}

#[test]
fn kubeconfig_flag_and_context_select_the_cluster() {
    let server = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let d = Dir::new("context");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("dev"));
    let o = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args([
            "check",
            "--kubeconfig",
            &kc,
            "--context",
            "dev",
            "-o",
            "haven-json",
        ])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", err(&o)));
    assert_eq!(v["target"]["server"], server.url());
    assert_eq!(v["target"]["context"], "dev");
    assert_eq!(v["platform"]["name"], "kind");
    let o = haven(&["check", "--context", "prod"], &kc);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("prod"), "{}", err(&o));
}

#[test]
fn rejected_token_and_untrusted_certificate_are_clear_errors() {
    let server = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let d = Dir::new("auth");
    let good = server.kubeconfig_yaml("fake");
    let bad_token = d.write("bad-token", &good.replace(server.token(), "expired-token"));
    let o = haven(&["check"], &bad_token);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("rejected the credentials (401 Unauthorized"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("token may have expired"), "{}", err(&o));

    // A kubeconfig trusting another CA.
    let other = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let other_kc: Value = serde_yaml_ng::from_str(&other.kubeconfig_yaml("x")).unwrap();
    let mut kc: Value = serde_yaml_ng::from_str(&good).unwrap();
    kc["clusters"][0]["cluster"]["certificate-authority-data"] =
        other_kc["clusters"][0]["cluster"]["certificate-authority-data"].clone();
    let untrusted = d.write("untrusted", &serde_yaml_ng::to_string(&kc).unwrap());
    let o = haven(&["check"], &untrusted);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("certificate that is not trusted"),
        "{}",
        err(&o)
    );
}

#[test]
fn unreachable_hung_and_failing_servers_cannot_be_judged() {
    let server = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let d = Dir::new("unreachable");
    let good = server.kubeconfig_yaml("fake");
    let url = server.url();

    // Nothing listens: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("https://{}", closed.local_addr().unwrap());
    drop(closed);
    let kc = d.write("refused", &good.replace(&url, &closed_url));
    let o = haven(&["check", "--timeout", "2s"], &kc);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains(&format!("cannot reach the API server at {closed_url}")),
        "{}",
        err(&o)
    );

    // Accepts connections, never answers: a clear "could not run" after --timeout, not fifteen
    // UNKNOWNs and "NOT compliant".
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_url = format!("https://{}", hung.local_addr().unwrap());
    let kc = d.write("hung", &good.replace(&url, &hung_url));
    let started = std::time::Instant::now();
    let o = haven(&["check", "--timeout", "1s"], &kc);
    drop(hung);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    // Whichever fires first (the client's connect timeout, or haven's per-request timeout on
    // /version and discovery), the run stops with the same kind of message.
    assert!(
        err(&o).contains(&format!("cannot reach the API server at {hung_url}")),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).contains("within 1s") || err(&o).contains("within --timeout"),
        "{}",
        err(&o)
    );
    assert!(o.stdout.is_empty(), "no report without evidence");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // Answers every request with 500: nothing to judge either.
    server.faults().fail("/", 500);
    let kc = d.write("failing", &good);
    let o = haven(&["check", "-o", "json"], &kc);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("no read of the API server") && err(&o).contains("HTTP 500"),
        "{}",
        err(&o)
    );
}

#[test]
fn write_crd_is_opt_in_and_writes_upstreams_compliancy() {
    let server = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let d = Dir::new("crd");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let o = haven(&["check", "-o", "json"], &kc);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.starts_with("POST") || r.contains("selfsubjectaccessreviews")),
        "read-only by default"
    );
    let o = haven(&["check", "--write-crd", "-o", "json"], &kc);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("wrote Compliancy haven-"), "{}", err(&o));
    assert!(
        server
            .cluster()
            .get(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                None,
                "compliancies.haven.commonground.nl"
            )
            .is_some()
    );
    assert_eq!(
        server
            .cluster()
            .count("haven.commonground.nl/v1alpha1", "Compliancy"),
        1
    );
}

#[test]
fn allow_writes_probes_rwx_and_cleans_up() {
    let cluster = fixture("kind-dev.yaml");
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound"})
    });
    cluster.on_create("pods", |pod| {
        pod["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "lsm", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "message": "capability,apparmor"}}}]});
    });
    let server = ApiServer::start_background(cluster).unwrap();
    let d = Dir::new("writes");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let o = haven(
        &[
            "check",
            "--allow-writes",
            "--probe-timeout",
            "10s",
            "-o",
            "haven-json",
        ],
        &kc,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", err(&o)));
    let rwx = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rwxvolumes")
        .unwrap();
    assert_eq!(rwx["result"], "YES", "{rwx}");
    assert_eq!(rwx["method"], "write probe (--allow-writes)");
    assert!(
        rwx["evidence"]["cleanup"]
            .as_str()
            .unwrap()
            .contains("deleted"),
        "{rwx}"
    );
    assert_eq!(v["allowWrites"], true);
    let ns = rwx["evidence"]["namespace"].as_str().unwrap();
    assert!(
        server.cluster().get("v1", "Namespace", None, ns).is_none(),
        "probe namespace {ns} removed"
    );
    let nh = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "nodehardening")
        .unwrap();
    assert_eq!(nh["result"], "YES", "{nh}");
    assert_eq!(
        nh["evidence"]["node/kind-control-plane"],
        "security modules: capability,apparmor"
    );
    let ns = nh["evidence"]["namespace"].as_str().unwrap();
    assert!(
        server.cluster().get("v1", "Namespace", None, ns).is_none(),
        "probe namespace {ns} removed"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_write_probe_cleans_up_and_exits_2() {
    // No provisioner: the claim stays Pending until we interrupt.
    let server = ApiServer::start_background(fixture("kind-dev.yaml")).unwrap();
    let d = Dir::new("ctrlc");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let child = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "--allow-writes", "--probe-timeout", "60s"])
        .env("KUBECONFIG", &kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let created = |s: &ApiServer| {
        s.requests()
            .iter()
            .any(|r| r.starts_with("POST") && r.contains("/persistentvolumeclaims"))
    };
    for _ in 0..200 {
        if created(&server) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        created(&server),
        "the probe claim was never created: {:?}",
        server.requests()
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).contains("interrupted; the probe namespace was cleaned up"),
        "{}",
        err(&out)
    );
    let deleted: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE /api/v1/namespaces/haven-check-rwx-"))
        .collect();
    assert_eq!(deleted.len(), 1, "{:?}", server.requests());
    let ns = deleted[0]
        .trim_start_matches("DELETE /api/v1/namespaces/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_owned();
    assert!(
        server.cluster().get("v1", "Namespace", None, &ns).is_none(),
        "{ns} left behind"
    );
}

#[test]
fn ctrl_c_during_the_node_probe_cleans_up_and_exits_2() {
    // The claim binds at once; the node pods never finish (no kubelet) until we interrupt.
    let cluster = fixture("kind-dev.yaml");
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound", "accessModes": ["ReadWriteMany"]});
    });
    let server = ApiServer::start_background(cluster).unwrap();
    let d = Dir::new("ctrlc-nodes");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let child = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "--allow-writes", "--probe-timeout", "60s"])
        .env("KUBECONFIG", &kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let created = |s: &ApiServer| {
        s.requests().iter().any(|r| {
            r.starts_with("POST /api/v1/namespaces/haven-check-nodes-") && r.contains("/pods")
        })
    };
    for _ in 0..300 {
        if created(&server) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        created(&server),
        "no probe pod was created: {:?}",
        server.requests()
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).contains("interrupted; the probe namespace was cleaned up"),
        "{}",
        err(&out)
    );
    assert!(out.stdout.is_empty(), "no report after Ctrl-C");
    for prefix in ["haven-check-rwx-", "haven-check-nodes-"] {
        let deleted: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|r| r.starts_with(&format!("DELETE /api/v1/namespaces/{prefix}")))
            .collect();
        assert_eq!(deleted.len(), 1, "{prefix}: {:?}", server.requests());
        let ns = deleted[0]
            .trim_start_matches("DELETE /api/v1/namespaces/")
            .split(['?', '/'])
            .next()
            .unwrap()
            .to_owned();
        assert!(
            server.cluster().get("v1", "Namespace", None, &ns).is_none(),
            "{ns} left behind"
        );
    }
}

/// Sign `text` with a fresh test key; returns the key's `.pub` text and the signature.
fn sign(text: &str) -> (String, String) {
    let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let sig = minisign::sign(Some(&kp.pk), &kp.sk, text.as_bytes(), None, None).unwrap();
    (kp.pk.to_box().unwrap().into_string(), sig.into_string())
}

fn own_sha256() -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_haven")).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// End to end: release data signed with a test key (trusted only by debug builds, through
/// HAVEN_TEST_RELEASE_KEY) that lists this binary's SHA-256 makes shavalidation YES; the same
/// file with a changed byte, or without its signature, is refused.
#[test]
fn signed_release_data_listing_the_binary_validates_its_sha() {
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let d = Dir::new("signed");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let mut rd: Value =
        serde_json::from_str(include_str!("../../haven-checks/data/release-data.json")).unwrap();
    rd["checker"]["releases"][0]["sha256"] = serde_json::json!([own_sha256()]);
    let text = serde_json::to_string_pretty(&rd).unwrap();
    let (key, sig) = sign(&text);
    let file = d.write("haven-release-data.json", &text);
    d.write("haven-release-data.json.minisig", &sig);
    let with_key = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_haven"))
            .args(args)
            .env("KUBECONFIG", &kc)
            .env("HOME", std::env::temp_dir())
            .env("HAVEN_TEST_RELEASE_KEY", &key)
            .output()
            .unwrap()
    };
    let o = with_key(&["check", "--release-data", &file, "-o", "haven-json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sha = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "shavalidation")
        .unwrap();
    assert_eq!(sha["result"], "YES", "{sha}");
    assert_eq!(v["verdictLine"], "compliant");
    assert_eq!(
        v["releaseData"]["signedBy"],
        "HAVEN_TEST_RELEASE_KEY (debug build)"
    );
    let o = with_key(&["check", "--release-data", &file]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("15 out of 15 checks passed"), "{out}");
    assert!(out.contains("signed by HAVEN_TEST_RELEASE_KEY"), "{out}");
    // Without the test key, the signature matches no trusted key: exit 2, named.
    let o = haven(&["check", "--release-data", &file], &kc);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("does not verify"), "{}", err(&o));
    // A changed byte: refused.
    let tampered = d.write("t.json", &text.replacen("1.37", "1.39", 1));
    d.write("t.json.minisig", &sig);
    let o = with_key(&["check", "--release-data", &tampered]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("t.json: the signature does not verify"),
        "{}",
        err(&o)
    );
    // No signature: refused, naming the file it looked for.
    let unsigned = d.write("u.json", &text);
    let o = with_key(&["check", "--release-data", &unsigned]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("u.json.minisig not found"), "{}", err(&o));
    // The per-user data directory is a default location.
    let xdg = d.path("xdg");
    std::fs::create_dir_all(format!("{xdg}/haven")).unwrap();
    std::fs::copy(&file, format!("{xdg}/haven/haven-release-data.json")).unwrap();
    std::fs::write(format!("{xdg}/haven/haven-release-data.json.minisig"), &sig).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "-o", "haven-json"])
        .env("KUBECONFIG", &kc)
        .env("XDG_DATA_HOME", &xdg)
        .env("HAVEN_TEST_RELEASE_KEY", &key)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdictLine"], "compliant", "{}", err(&o));
    assert!(
        v["releaseData"]["origin"]
            .as_str()
            .unwrap()
            .ends_with("xdg/haven/haven-release-data.json")
    );
}

/// kube-bench's `--json` line for a node: `fail` failed items.
fn kube_bench_json(fail: u64) -> String {
    let results: Vec<Value> = (0..fail)
        .map(|i| json!({"test_number": format!("1.1.{}", i + 1), "status": "FAIL"}))
        .chain([json!({"test_number": "4.2.1", "status": "PASS"})])
        .collect();
    json!({"Controls": [{"id": "1", "tests": [{"section": "1.1", "results": results}]}],
           "Totals": {"total_pass": 50, "total_fail": fail, "total_warn": 7, "total_info": 0}})
    .to_string()
}

/// A Job controller and kubelet for the fake cluster: each Job gets its pod (labelled
/// `job-name`, on the Job's node) with kube-bench's output as its log (`fail_on`: the node whose
/// run reports failures), and succeeds. The Jobs created are kept for inspection.
fn run_jobs(cluster: &FakeCluster, fail_on: Option<&'static str>) -> Arc<Mutex<Vec<Value>>> {
    let jobs = Arc::new(Mutex::new(Vec::new()));
    let seen = jobs.clone();
    cluster.after_create("jobs", move |c, job| {
        seen.lock().unwrap().push(job.clone());
        let ns = job["metadata"]["namespace"].as_str().unwrap();
        let name = job["metadata"]["name"].as_str().unwrap();
        let node = job["spec"]["template"]["spec"]["nodeName"].as_str().unwrap();
        let pod = format!("{name}-abcde");
        c.apply(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "namespace": ns, "labels": {"job-name": name, "batch.kubernetes.io/job-name": name}},
            "spec": job["spec"]["template"]["spec"].clone()}))
            .unwrap();
        let fail = if Some(node) == fail_on { 2 } else { 0 };
        c.set_pod_log(
            ns,
            &pod,
            &format!("W1207 util.go:293] kubernetes version not detected\n{}\n", kube_bench_json(fail)),
        );
        let mut done = job.clone();
        done["status"] = json!({"succeeded": 1});
        c.apply(done).unwrap();
    });
    jobs
}

fn probing_cluster(name: &str) -> FakeCluster {
    let cluster = fixture(name);
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound"})
    });
    cluster.on_create("pods", |pod| {
        if pod["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("haven-lsm-")) {
            pod["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "lsm", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "message": "capability,apparmor"}}}]});
        }
    });
    cluster
}

fn suggested(v: &Value, name: &str) -> Value {
    v["suggestedChecks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap()
}

/// `--cis --allow-writes`: kube-bench as a Job on every node, shaped as kube-bench's job.yaml,
/// its JSON read from the pod log; a failure on one node is NO naming the node and the items;
/// the namespace is gone afterwards.
#[test]
fn cis_runs_kube_bench_as_a_job_on_every_node_and_cleans_up() {
    let cluster = probing_cluster("compliant.yaml");
    let jobs = run_jobs(&cluster, Some("worker-2"));
    let server = ApiServer::start_background(cluster).unwrap();
    let d = Dir::new("cis");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let o = haven(
        &[
            "check",
            "--allow-writes",
            "--cis",
            "--probe-timeout",
            "20s",
            "-o",
            "haven-json",
        ],
        &kc,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", err(&o)));
    let cis = suggested(&v, "cis");
    assert_eq!(cis["result"], "NO", "{cis}");
    assert!(
        cis["method"]
            .as_str()
            .unwrap()
            .contains("kube-bench --json as a Job on every node"),
        "{cis}"
    );
    assert_eq!(
        cis["reason"],
        "kube-bench on 6 node(s): 300 passed, 2 failed, 42 warnings; failures on worker-2"
    );
    assert_eq!(
        cis["evidence"]["node/worker-2"],
        "50 passed, 2 failed, 7 warnings (failed: 1.1.1, 1.1.2)"
    );
    assert_eq!(
        cis["evidence"]["node/cp-1"],
        "50 passed, 0 failed, 7 warnings"
    );
    // One Job per node, as kube-bench's job.yaml: hostPID, the node's directories read-only.
    let jobs = jobs.lock().unwrap().clone();
    let mut nodes: Vec<&str> = jobs
        .iter()
        .map(|j| j["spec"]["template"]["spec"]["nodeName"].as_str().unwrap())
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
    );
    let spec = &jobs[0]["spec"]["template"]["spec"];
    assert_eq!(spec["hostPID"], true);
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(
        spec["containers"][0]["image"],
        "docker.io/aquasec/kube-bench:v0.15.6"
    );
    assert_eq!(
        spec["containers"][0]["command"],
        json!(["kube-bench", "--json"])
    );
    let mounts = spec["containers"][0]["volumeMounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 12);
    assert!(mounts.iter().all(|m| m["readOnly"] == true));
    assert!(mounts.iter().any(|m| m["mountPath"] == "/etc/kubernetes"));
    assert_eq!(jobs[0]["spec"]["backoffLimit"], 0);
    let ns = cis["evidence"]["namespace"].as_str().unwrap();
    assert!(ns.starts_with("haven-check-cis-"), "{ns}");
    assert!(
        server.cluster().get("v1", "Namespace", None, ns).is_none(),
        "probe namespace {ns} removed"
    );
    assert!(
        server.requests().iter().any(|r| r
            .starts_with(&format!("GET /api/v1/namespaces/{ns}/pods/"))
            && r.contains("/log")),
        "the result comes from the pod log"
    );
}

/// Without `--allow-writes`, `--cis` writes nothing and says what it needs; kube-bench is never
/// run on the operator's machine.
#[test]
fn cis_without_allow_writes_says_it_needs_them() {
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let d = Dir::new("cis-ro");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let o = haven(&["check", "--cis", "-o", "haven-json"], &kc);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", err(&o)));
    let cis = suggested(&v, "cis");
    assert_eq!(cis["result"], "UNKNOWN", "{cis}");
    assert!(
        cis["reason"]
            .as_str()
            .unwrap()
            .contains("it needs --allow-writes"),
        "{cis}"
    );
    let writes: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET ") && !r.contains("selfsubjectaccessreviews"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// Ctrl-C while kube-bench runs (the Jobs never finish here): the namespace is deleted, exit 2.
#[cfg(unix)]
#[test]
fn ctrl_c_during_kube_bench_cleans_up_and_exits_2() {
    let server = ApiServer::start_background(probing_cluster("kind-dev.yaml")).unwrap();
    let d = Dir::new("ctrlc-cis");
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let child = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "--allow-writes", "--cis", "--probe-timeout", "60s"])
        .env("KUBECONFIG", &kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let created = |s: &ApiServer| {
        s.requests().iter().any(|r| {
            r.starts_with("POST /apis/batch/v1/namespaces/haven-check-cis-") && r.contains("/jobs")
        })
    };
    for _ in 0..300 {
        if created(&server) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        created(&server),
        "no kube-bench job: {:?}",
        server.requests()
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).contains("interrupted; the probe namespace was cleaned up"),
        "{}",
        err(&out)
    );
    let deleted: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE /api/v1/namespaces/haven-check-cis-"))
        .collect();
    assert_eq!(deleted.len(), 1, "{:?}", server.requests());
}
/// `--kubescape` scans the cluster the checks ran on: the same kubeconfig (as KUBECONFIG) and
/// context (as --kube-context).
#[cfg(unix)]
#[test]
fn kubescape_gets_the_same_kubeconfig_and_context() {
    use std::os::unix::fs::PermissionsExt;
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let d = Dir::new("kubescape");
    let kc = d.write("prod.kubeconfig", &server.kubeconfig_yaml("prod"));
    let bin = d.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = d.path("kubescape.record");
    let script = format!("{bin}/kubescape");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"args=$*\" > '{record}'\necho \"KUBECONFIG=$KUBECONFIG\" >> '{record}'\necho '{{\"summaryDetails\": {{\"complianceScore\": 84.0}}}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args([
            "check",
            "--kubeconfig",
            &kc,
            "--context",
            "prod",
            "--kubescape",
            "-o",
            "haven-json",
        ])
        // A different KUBECONFIG in the environment must not win over --kubeconfig.
        .env("KUBECONFIG", "/nonexistent/other.kubeconfig")
        .env("HOME", std::env::temp_dir())
        .env("PATH", &bin)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", err(&o)));
    let ks = suggested(&v, "kubescape");
    assert_eq!(ks["result"], "YES", "{ks}");
    let recorded = std::fs::read_to_string(&record).unwrap();
    assert!(recorded.contains("--kube-context prod"), "{recorded}");
    assert!(
        recorded.contains(&format!("KUBECONFIG={kc}\n")),
        "{recorded}"
    );
}

/// `examples/demo.sh` shows the compliant fixture reading compliant: its `haven check` must not
/// hide the exit code (the check above proves that cluster exits 0 with a self-built binary).
#[test]
fn the_demo_lets_haven_check_fail() {
    let demo = include_str!("../../../examples/demo.sh");
    let line = demo
        .lines()
        .find(|l| l.contains("\"$haven\" check"))
        .expect("demo.sh runs haven check");
    assert!(!line.contains("||"), "{line}");
    assert!(demo.contains("set -euo pipefail"));
    assert!(demo.contains("fixtures/clusters/compliant.yaml"));
}
