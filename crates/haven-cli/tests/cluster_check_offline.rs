//! `haven check` without a cluster: `--rationale`, offline checks of snapshot files, waivers,
//! configuration and release data files, and the errors for bad files and unreachable clusters.
//! (The live end-to-end tests against the in-process API server are in `cluster_check_live.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use haven_cluster::*;
use serde_json::Value;

fn haven(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap()
}

/// `haven` with a test release-data key (trusted by debug builds only).
fn haven_with_key(args: &[&str], key: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", std::env::temp_dir())
        .env("HAVEN_TEST_RELEASE_KEY", key)
        .output()
        .unwrap()
}

/// Sign `text` with a fresh test key; returns the key's `.pub` text and the signature.
fn sign(text: &str) -> (String, String) {
    let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let sig = minisign::sign(Some(&kp.pk), &kp.sk, text.as_bytes(), None, None).unwrap();
    (kp.pk.to_box().unwrap().into_string(), sig.into_string())
}

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("haven-check-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A one-node dev cluster, recorded.
fn dev_snapshot() -> ClusterSnapshot {
    let mut s = ClusterSnapshot::empty();
    s.server = "https://dev.example:6443".into();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "35".into(),
        git_version: "v1.35.0".into(),
        platform: String::new(),
    });
    s.api_groups = Read::ok(vec!["v1".into(), "rbac.authorization.k8s.io/v1".into()]);
    s.nodes = Read::ok(vec![NodeRecord {
        name: "kind-control-plane".into(),
        labels: [(
            "node-role.kubernetes.io/control-plane".to_owned(),
            String::new(),
        )]
        .into(),
        provider_id: Some("kind://docker/kind/kind-control-plane".into()),
        os_image: "Debian GNU/Linux 12 (bookworm)".into(),
        ..Default::default()
    }]);
    s.access = Read::ok(vec![AccessRecord {
        verb: "*".into(),
        group: "*".into(),
        resource: "*".into(),
        allowed: true,
        reason: String::new(),
    }]);
    s
}

const ALL_WAIVED: &str = "apiVersion: haven.commonground.nl/v1alpha1
kind: WaiverList
waivers:
- {rule: multiaz, reason: dev cluster, expires: 2099-01-01}
- {rule: hamasters, reason: dev cluster, expires: 2099-01-01}
- {rule: haworkers, reason: dev cluster, expires: 2099-01-01}
- {rule: rwxvolumes, reason: dev cluster, expires: 2099-01-01}
- {rule: cncf, reason: kind is a test tool, expires: 2099-01-01}
- {rule: autocerts, reason: dev cluster, expires: 2099-01-01}
- {rule: logs, reason: dev cluster, expires: 2099-01-01}
- {rule: metrics, reason: dev cluster, expires: 2099-01-01}
- {rule: shavalidation, reason: self-built, expires: 2099-01-01}
";

#[test]
fn rationale_lists_every_check_without_a_cluster() {
    let o = haven(&["check", "--rationale"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for name in [
        "havenversion",
        "clusteradmin",
        "multiaz",
        "hamasters",
        "haworkers",
        "nodehardening",
        "privatenetworking",
        "kubernetesversion",
        "rbac",
        "rwxvolumes",
        "cncf",
        "autocerts",
        "logs",
        "metrics",
        "shavalidation",
        "cis",
        "kubescape",
    ] {
        assert!(text.contains(&format!("{name} (")), "{name} missing");
    }
    let o = haven(&["check", "--rationale", "-o", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 17);
}

#[test]
fn a_snapshot_is_checked_offline_and_waivers_decide_the_exit_code() {
    let d = Dir::new("offline");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    let o = haven(&["check", "--snapshot", &snap]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("This is NOT a Haven Compliant cluster."),
        "{text}"
    );
    assert!(
        text.contains("Kubernetes host platform: kind (from node providerID kind://"),
        "{text}"
    );

    let waivers = d.write("waivers.yaml", ALL_WAIVED);
    let o = haven(&[
        "check",
        "--snapshot",
        &snap,
        "--waivers",
        &waivers,
        "-o",
        "haven-json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "compliant-with-waivers", "{v:#}");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        v["upstreamCompliant"], false,
        "upstream's verdict ignores waivers"
    );
    assert_eq!(v["target"]["source"], format!("snapshot:{snap}"));
    let hamasters = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hamasters")
        .unwrap();
    assert_eq!(hamasters["result"], "NO");
    assert_eq!(hamasters["waiver"]["reason"], "dev cluster");

    let o = haven(&[
        "check",
        "--snapshot",
        &snap,
        "--waivers",
        &waivers,
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["HavenCompliant"], false);
    assert_eq!(v["CompliancyChecks"]["Summary"]["Total"], 15);
    for format in ["junit", "sarif"] {
        let o = haven(&["check", "--snapshot", &snap, "-o", format]);
        assert_eq!(o.status.code(), Some(1));
        assert!(!o.stdout.is_empty());
    }
}

#[test]
fn old_check_waiver_lists_still_work_with_a_deprecation_warning() {
    let d = Dir::new("old-waivers");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    let old = ALL_WAIVED
        .replace("kind: WaiverList", "kind: CheckWaiverList")
        .replace("{rule:", "{check:");
    let waivers = d.write("old.yaml", &old);
    let o = haven(&["check", "--snapshot", &snap, "--waivers", &waivers]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("haven: warning: ")
            && stderr(&o).contains("write `kind: WaiverList` and `rule:`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_waiver_of_every_check_needs_all_true_and_is_flagged() {
    let d = Dir::new("all-waiver");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    let every = "kind: WaiverList\nwaivers:\n- rule: \"*\"\n  reason: throwaway demo\n  expires: 2099-01-01\n";
    let w = d.write("w.yaml", every);
    let o = haven(&["check", "--snapshot", &snap, "--waivers", &w]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("haven: error: this waiver matches every check")
            && stderr(&o).contains(&format!("({w}:3, field `waivers[0]`)")),
        "{}",
        stderr(&o)
    );
    let w = d.write("w2.yaml", &format!("{every}  all: true\n"));
    let o = haven(&["check", "--snapshot", &snap, "--waivers", &w]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("NO (waived: all)"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("a waiver of every check (`all: true`"),
        "{}",
        stdout(&o)
    );
    let o = haven(&[
        "check",
        "--snapshot",
        &snap,
        "--waivers",
        &w,
        "-o",
        "haven-json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let hamasters = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "hamasters")
        .unwrap();
    assert_eq!(hamasters["waiver"]["all"], true);
    let o = haven(&["check", "--snapshot", &snap, "--waivers", &w, "-o", "sarif"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("waived by a waiver of everything (all: true)")
    );
}

#[test]
fn config_and_release_data_files_change_the_rules_and_are_named() {
    let d = Dir::new("config");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    // A config that knows Debian as unhardened is not possible (it is in the defaults); replace
    // the list: now the node is not recognised and nodehardening is UNKNOWN.
    let config = d.write(
        "config.yaml",
        "hardenedOs: [{pattern: Flatcar, reason: Flatcar only}]\n",
    );
    let o = haven(&[
        "check",
        "--snapshot",
        &snap,
        "--config",
        &config,
        "-o",
        "haven-json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let nh = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "nodehardening")
        .unwrap();
    assert_eq!(nh["result"], "UNKNOWN");
    // Release data: ours, dated, signed with a test key, with kind's 1.35 submission removed.
    let mut rd: Value =
        serde_json::from_str(include_str!("../../haven-checks/data/release-data.json")).unwrap();
    rd["date"] = "2027-01-15".into();
    rd["cncf"]["products"]["kind"] = serde_json::json!(["1.33"]);
    let text = rd.to_string();
    let (key, sig) = sign(&text);
    let rd_file = d.write("rd.json", &text);
    d.write("rd.json.minisig", &sig);
    let haven = |args: &[&str]| haven_with_key(args, &key);
    let o = haven(&[
        "check",
        "--snapshot",
        &snap,
        "--release-data",
        &rd_file,
        "-o",
        "haven-json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["releaseData"]["origin"], rd_file.as_str());
    assert_eq!(v["releaseData"]["date"], "2027-01-15");
    let cncf = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cncf")
        .unwrap();
    assert_eq!(cncf["result"], "NO", "{cncf}");
    assert!(
        stdout(&haven(&[
            "check",
            "--snapshot",
            &snap,
            "--release-data",
            &rd_file
        ]))
        .contains(&format!("Release data: {rd_file}, dated 2027-01-15"))
    );
}

#[test]
fn bad_files_exit_2_naming_file_line_and_field() {
    let d = Dir::new("bad");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    let waivers = d.write("w.yaml", "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- rule: hamsters\n  reason: typo\n  expires: 2099-01-01\n");
    let o = haven(&["check", "--snapshot", &snap, "--waivers", &waivers]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("haven: error: unknown check `hamsters`; did you mean `hamasters`?")
            && stderr(&o).contains(&format!("({waivers}:4, field `waivers[0].rule`)")),
        "{}",
        stderr(&o)
    );
    // Every problem at once, each with its line; a second document is one of them.
    let waivers = d.write("w2.yaml", "kind: WaiverList\nwaivers:\n- rule: hamasters\n  reason: x\n- rule: multiaz\n  expires: 2099-01-01\n");
    let err = stderr(&haven(&[
        "check",
        "--snapshot",
        &snap,
        "--waivers",
        &waivers,
    ]));
    assert!(
        err.contains("haven: error: a check waiver needs `expires`")
            && err.contains(&format!("({waivers}:3, field `waivers[0]`)")),
        "{err}"
    );
    assert!(
        err.contains("haven: error: a waiver needs a `reason`")
            && err.contains(&format!("({waivers}:5, field `waivers[1].reason`)")),
        "{err}"
    );
    let waivers = d.write("w3.yaml", &format!("{ALL_WAIVED}---\n{ALL_WAIVED}"));
    let err = stderr(&haven(&[
        "check",
        "--snapshot",
        &snap,
        "--waivers",
        &waivers,
    ]));
    assert!(
        err.contains("haven: error: a second YAML document")
            && err.contains(&format!("({waivers}:14)")),
        "{err}"
    );
    let bad_snap = d.write(
        "bad.json",
        "{\"apiVersion\": \"haven.commonground.nl/v1alpha1\", \"kind\": \"ClusterSnapshot\"}",
    );
    let o = haven(&["check", "--snapshot", &bad_snap]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json:1:"), "{}", stderr(&o));
    let config = d.write("c.yaml", "logAgents:\n  - {name: x, imagez: [y]}\n");
    let o = haven(&["check", "--snapshot", &snap, "--config", &config]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("haven: error: unknown field `imagez`; did you mean `images`?")
            && stderr(&o).contains("c.yaml:2, field `logAgents[0].imagez`)"),
        "{}",
        stderr(&o)
    );
    let text = "{\"kind\": \"ReleaseData\"}";
    let rd = d.write("rd.json", text);
    let o = haven(&["check", "--snapshot", &snap, "--release-data", &rd]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rd.json.minisig not found"),
        "unsigned: {}",
        stderr(&o)
    );
    let (key, sig) = sign(text);
    d.write("rd.json.minisig", &sig);
    let o = haven_with_key(&["check", "--snapshot", &snap, "--release-data", &rd], &key);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rd.json:1: field"), "{}", stderr(&o));
    let o = haven(&["check", "--snapshot", "/nonexistent/snap.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/snap.json"));
}

#[test]
fn no_cluster_and_unreachable_cluster_are_clear_errors() {
    let o = haven(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no cluster configured: KUBECONFIG is not set")
            && stderr(&o).contains("set KUBECONFIG or pass --kubeconfig"),
        "{}",
        stderr(&o)
    );
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = Dir::new("unreachable");
    let kc = d.write(
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"),
    );
    let o = haven(&["check", "--kubeconfig", &kc, "--timeout", "3s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!(
            "cannot reach the API server at https://127.0.0.1:{port}"
        )),
        "{}",
        stderr(&o)
    );
    let o = haven(&["check", "--kubeconfig", &kc, "--context", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    assert!(
        Path::new(env!("CARGO_BIN_EXE_kubectl-haven")).is_file(),
        "kubectl plugin binary built"
    );
}

#[test]
fn suggested_checks_report_a_missing_tool_as_unknown() {
    let d = Dir::new("tools");
    let snap = d.write("dev.json", &dev_snapshot().to_json());
    let o = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args([
            "check",
            "--snapshot",
            &snap,
            "--cis",
            "--kubescape",
            "-o",
            "haven-json",
        ])
        .env("PATH", &d.0)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ks = &v["suggestedChecks"][1];
    assert_eq!(ks["result"], "UNKNOWN");
    assert!(
        ks["reason"].as_str().unwrap().contains("is not installed"),
        "{ks}"
    );
    assert_eq!(v["suggestedChecks"][0]["result"], "UNKNOWN");
    // kube-bench belongs on the nodes, not on this machine: a kube-bench on PATH is not run, and
    // --cis says why it could not run on a snapshot (live runs: cluster_check_live.rs).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ran = d.0.join("kube-bench.ran");
        let script = d.write(
            "kube-bench",
            &format!(
                "#!/bin/sh\necho ran > '{}'\necho '{{\"Totals\": {{\"total_pass\": 90, \"total_fail\": 0}}}}'\n",
                ran.display()
            ),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_haven"))
            .args(["check", "--snapshot", &snap, "--cis", "-o", "haven-json"])
            .env("PATH", &d.0)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let cis = &v["suggestedChecks"][0];
        assert_eq!(cis["result"], "UNKNOWN", "{cis}");
        assert_eq!(cis["method"], "not run");
        assert!(
            cis["reason"]
                .as_str()
                .unwrap()
                .contains("not possible on a snapshot"),
            "{cis}"
        );
        assert!(
            !ran.exists(),
            "kube-bench must not run on the operator's machine"
        );
        assert_eq!(v["suggestedChecks"][1]["result"], "SKIPPED");
        // kubescape: its exit status decides (it exits non-zero below --compliance-threshold).
        // PATH holds only the temporary directory: the script uses shell built-ins only.
        let args_file = d.0.join("kubescape.args");
        let script = d.write(
            "kubescape",
            &format!(
                "#!/bin/sh\necho \"$@\" > '{}'\necho '{{\"summaryDetails\": {{\"complianceScore\": 91.5}}}}'\n",
                args_file.display()
            ),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_haven"))
            .args([
                "check",
                "--snapshot",
                &snap,
                "--kubescape",
                "-o",
                "haven-json",
            ])
            .env("PATH", &d.0)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let ks = &v["suggestedChecks"][1];
        assert_eq!(ks["result"], "YES", "{ks}");
        assert_eq!(
            ks["reason"],
            "kubescape compliance score 91.5% (threshold 80%)"
        );
        let args = std::fs::read_to_string(&args_file).unwrap();
        assert!(
            args.starts_with("scan --compliance-threshold 80 --format json"),
            "{args}"
        );
    }
}
