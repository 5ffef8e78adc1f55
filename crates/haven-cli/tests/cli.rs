//! The `haven` binary as users run it: exit codes, inputs, bad input, waivers, rules.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A small application that satisfies every rule.
const CLEAN_APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: zaken
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: registry.example.nl/web:1.2.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        ports:
        - {name: http, containerPort: 8080}
        - {name: metrics, containerPort: 9090}
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 256Mi}
        livenessProbe: {httpGet: {path: /healthz, port: http}}
        readinessProbe: {httpGet: {path: /ready, port: http}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: zaken}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: zaken}
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - ports: [{port: 8080}]
"#;

const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: zaken}
spec:
  containers:
  - name: c
    image: busybox:1.36
    securityContext: {privileged: true}
";

fn haven(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .env_remove("HAVEN_HELM")
        .env("HAVEN_TODAY", "2026-11-25")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run haven");
    let mut pipe = child.stdin.take().unwrap();
    // A run that stops before it reads its input (a usage error) may close the pipe first.
    if let Err(e) = pipe.write_all(stdin.unwrap_or_default().as_bytes()) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "haven's stdin: {e}"
        );
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn json_check(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let mut all = vec!["app", "check", "--format", "json"];
    all.extend_from_slice(args);
    let out = haven(&all, stdin);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out.status.code().unwrap(), v)
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_clean_application_passes_with_exit_0() {
    let (code, v) = json_check(&["-"], Some(CLEAN_APP));
    assert_eq!(v["findings"], serde_json::json!([]), "{v:#}");
    assert_eq!(code, 0);
    assert_eq!(v["passed"], Value::Bool(true));
}

#[test]
fn blocking_findings_exit_1_and_fail_on_moves_the_threshold() {
    let (code, v) = json_check(&["-"], Some(PRIVILEGED_POD));
    assert_eq!(code, 1);
    let rules = rules_of(&v);
    assert!(rules.contains(&"pss.privileged".to_owned()), "{rules:?}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pss.privileged")
        .unwrap();
    assert_eq!(f["path"], "spec.containers[0].securityContext.privileged");
    assert_eq!(f["location"]["file"], "<stdin>");
    assert_eq!(f["location"]["line"], 8);
    // Restricted findings are `high`, the baseline `privileged` one is `critical`.
    let (code, _) = json_check(
        &[
            "-",
            "--pss-level",
            "baseline",
            "--no-plus",
            "--no-haven",
            "--fail-on",
            "critical",
        ],
        Some(PRIVILEGED_POD),
    );
    assert_eq!(code, 1);
    let ok = PRIVILEGED_POD.replace("privileged: true", "privileged: false");
    let (code, v) = json_check(&["-", "--fail-on", "critical"], Some(&ok));
    assert_eq!(code, 0, "{v:#}");
    assert!(rules_of(&v).contains(&"pss.runAsNonRoot".to_owned()));
}

/// A path that is a pipe (`/dev/stdin` here; `<(helm template ...)` alike) is read once and
/// kept for the second pass: it gives the findings of `-`, not a "changed" error.
#[cfg(unix)]
#[test]
fn a_pipe_given_as_a_path_is_read_once() {
    let workload = format!("{PRIVILEGED_POD}---\n{CLEAN_APP}");
    let (code, piped) = json_check(&["/dev/stdin"], Some(&workload));
    assert!(piped["errors"].as_array().unwrap().is_empty(), "{piped:#}");
    assert_eq!(code, 1);
    let (_, dashed) = json_check(&["-"], Some(&workload));
    assert_eq!(rules_of(&piped), rules_of(&dashed));
    assert!(rules_of(&piped).contains(&"pss.privileged".to_owned()));
}

#[test]
fn text_output_groups_by_resource_and_summarises() {
    let out = haven(
        &["app", "check", "-", "--color", "never"],
        Some(PRIVILEGED_POD),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("<stdin>:1: Pod/bad (zaken)"), "{text}");
    assert!(text.contains("pss.privileged"));
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes with --color never"
    );
    let last = text.lines().rev().find(|l| !l.is_empty()).unwrap();
    assert!(last.contains("FAIL"), "{text}");
}

#[test]
fn controllers_cron_jobs_and_ephemeral_containers_are_checked() {
    let cron = "apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: zaken}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: job, image: 'job:1', securityContext: {privileged: true}}
          ephemeralContainers:
          - {name: debug, image: 'busybox:1', securityContext: {capabilities: {add: [SYS_ADMIN]}}}
";
    let (_, v) = json_check(&["-", "--pss-level", "baseline"], Some(cron));
    let paths: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("pss."))
        .map(|f| (f["rule"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        [
            (
                "pss.privileged",
                "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"
            ),
            (
                "pss.capabilities_baseline",
                "spec.jobTemplate.spec.template.spec.ephemeralContainers[0].securityContext.capabilities.add[0]"
            ),
        ]
    );
}

#[test]
fn bad_documents_are_reported_with_file_and_line_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let syntax = write(
        d,
        "a-syntax.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n---\n",
    );
    let not_object = write(d, "b-scalar.yaml", "just a string\n---\n- a list\n");
    let unknown = write(
        d,
        "c-kind.yaml",
        "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: y}\n",
    );
    let wrong_type = write(
        d,
        "d-type.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: t}\nspec:\n  containers:\n  - name: c\n    image: i:1\n    ports:\n    - containerPort: eighty\n",
    );
    let deep = write(
        d,
        "e-deep.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}1{}\n",
            "[".repeat(300),
            "]".repeat(300)
        ),
    );
    let good = write(
        d,
        "f-good.yaml",
        &format!(
            "{PRIVILEGED_POD}---\n{}",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: z\n"
        ),
    );
    let (code, v) = json_check(
        &[&syntax, &not_object, &unknown, &wrong_type, &deep, &good],
        None,
    );
    assert_eq!(code, 2, "unreadable input means exit 2");
    let errors: Vec<(String, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap();
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                name,
                e["line"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("a-syntax.yaml".into(), 4, "syntax".into()),
            ("b-scalar.yaml".into(), 1, "not-an-object".into()),
            ("b-scalar.yaml".into(), 3, "not-an-object".into()),
            ("c-kind.yaml".into(), 2, "unknown-kind".into()),
            ("d-type.yaml".into(), 9, "field-type".into()),
            ("e-deep.yaml".into(), 4, "limit".into()),
            ("f-good.yaml".into(), 13, "syntax".into()),
        ],
        "{v:#}"
    );
    let typed = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "field-type")
        .unwrap();
    assert_eq!(typed["field"], "spec.containers[0].ports[0].containerPort");
    // The good document in the same file as a broken one is still checked.
    assert!(rules_of(&v).contains(&"pss.privileged".to_owned()));
}

#[test]
fn a_very_large_document_is_read_without_trouble() {
    let mut big = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: zaken}\ndata:\n",
    );
    for i in 0..200_000 {
        big.push_str(&format!("  key{i}: value-{i}\n"));
    }
    big.push_str("---\n");
    big.push_str(PRIVILEGED_POD);
    let (code, v) = json_check(&["-"], Some(&big));
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["objects"], 2);
}

#[test]
fn yaml_1_1_readings_are_reported_where_they_are_written() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: zaken}\ndata:\n  mode: \"x\"\nbinaryData: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: zaken}\nspec:\n  containers:\n  - name: c\n    image: i:1\n  volumes:\n  - name: v\n    configMap: {name: c, defaultMode: 0644}\n  - name: w\n    emptyDir: {sizeLimit: 0644}\n";
    let (_, v) = json_check(
        &["-", "--pss-level", "none", "--no-plus", "--no-haven"],
        Some(text),
    );
    // The octal file mode is read as meant and not reported; the octal elsewhere is news.
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v:#}");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "input.yaml11");
    assert_eq!(f["location"]["line"], 19);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("number 420 (octal)"),
        "{f}"
    );
}

#[test]
fn waivers_from_a_file_and_annotations_mark_findings_and_expired_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(
        dir.path(),
        "waivers.yaml",
        "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- rule: pss.*\n  kind: Pod\n  name: bad\n  container: c\n  reason: legacy image, tracked in ZAAK-12\n  expires: 2027-01-31\n- rule: plus.image-digest\n  reason: digests come with the next release\n  expires: 2026-01-01\n",
    );
    let annotated = PRIVILEGED_POD.replace(
        "metadata: {name: bad, namespace: zaken}",
        "metadata:\n  name: bad\n  namespace: zaken\n  annotations:\n    waive.haven.commonground.nl/plus.network-policy: the namespace policy allows it",
    );
    let (code, v) = json_check(&["-", "--waivers", &waivers], Some(&annotated));
    let findings = v["findings"].as_array().unwrap();
    let pss: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("pss."))
        .collect();
    assert!(!pss.is_empty());
    assert!(
        pss.iter()
            .all(|f| f["waived"]["reason"] == "legacy image, tracked in ZAAK-12"),
        "{v:#}"
    );
    let np = findings
        .iter()
        .find(|f| f["rule"] == "plus.network-policy")
        .unwrap();
    assert_eq!(np["waived"]["source"]["type"], "annotation");
    let digest = findings
        .iter()
        .find(|f| f["rule"] == "plus.image-digest")
        .unwrap();
    assert!(
        digest.get("waived").is_none(),
        "an expired waiver no longer waives"
    );
    let expired = findings
        .iter()
        .find(|f| f["rule"] == "input.waiver-expired")
        .unwrap();
    assert_eq!(expired["location"]["line"], 10);
    // Nothing left that blocks at `high`: PSS findings are waived.
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn a_bad_waiver_file_is_a_usage_error_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let w = write(
        dir.path(),
        "w.yaml",
        "waivers:\n- rule: pss.privileged\n  reason: x\n  expire: 2027-01-01\n",
    );
    let out = haven(
        &["app", "check", "-", "--waivers", &w],
        Some(PRIVILEGED_POD),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("w.yaml:4") && err.contains("unknown field `expire`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `expires`?") && err.contains("waivers[0].expire"),
        "{err}"
    );
    let w = write(
        dir.path(),
        "w2.yaml",
        "waivers:\n- rule: pss.nope\n  reason: x\n",
    );
    let err =
        String::from_utf8(haven(&["app", "check", "-", "--waivers", &w], Some("")).stderr).unwrap();
    assert!(
        err.contains("w2.yaml:2") && err.contains("unknown rule `pss.nope`"),
        "{err}"
    );
}

#[test]
fn the_second_document_of_a_waiver_file_is_an_error_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    // The second document would waive everything that blocks; it must not be silently dropped,
    // nor silently used.
    let w = write(
        dir.path(),
        "w.yaml",
        "kind: WaiverList\nwaivers:\n- rule: haven.scalable\n  reason: x\n---\nkind: WaiverList\nwaivers:\n- rule: pss.*\n  reason: y\n",
    );
    let out = haven(
        &["app", "check", "-", "--waivers", &w],
        Some(PRIVILEGED_POD),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("haven: error: a second YAML document")
            && err.lines().next().unwrap().ends_with(&format!("({w}:6)")),
        "{err}"
    );
}

#[test]
fn a_waiver_of_everything_needs_all_true_and_every_format_flags_it() {
    let dir = tempfile::tempdir().unwrap();
    let every = "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- rule: \"*\"\n  reason: throwaway demo\n";
    let w = write(dir.path(), "w.yaml", every);
    let out = haven(
        &["app", "check", "-", "--waivers", &w],
        Some(PRIVILEGED_POD),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("haven: error: this waiver matches every rule")
            && err.contains(&format!("({w}:4, field `waivers[0]`)")),
        "{err}"
    );
    assert!(err.contains("`all: true`"), "{err}");

    let w = write(dir.path(), "all.yaml", &format!("{every}  all: true\n"));
    let (code, v) = json_check(&["-", "--waivers", &w], Some(PRIVILEGED_POD));
    assert_eq!(code, 0, "{v:#}");
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["waived"]["all"] == true), "{v:#}");
    let text = haven(
        &["app", "check", "-", "--waivers", &w],
        Some(PRIVILEGED_POD),
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("accepted by a waiver of everything (all: true)"),
        "{text}"
    );
    let sarif = haven(
        &["app", "check", "-", "--waivers", &w, "--format", "sarif"],
        Some(PRIVILEGED_POD),
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["properties"]["waivedByAll"],
        findings.len()
    );
}

#[test]
fn a_chart_without_helm_says_how_to_pipe() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    let chart = dir.path().join("chart").display().to_string();
    let out = haven(
        &["app", "check", &chart, "--helm", "/nonexistent/helm"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    // Input errors go to stderr in the one voice; the report on stdout counts them.
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("haven: error: "), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        err.contains("the helm given by --helm (or HAVEN_HELM), /nonexistent/helm, is no file"),
        "{err}"
    );
    assert!(err.contains("| haven app check -`"), "{err}");
    assert!(text.contains("1 input error"), "{text}");
}

#[test]
fn rules_are_listed_and_explained() {
    let out = haven(&["rules"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    for id in [
        "pss.privileged",
        "pss.seccompProfile_restricted",
        "haven.metrics-endpoint",
        "plus.pdb",
        "input.yaml11",
    ] {
        assert!(text.contains(id), "{id} missing from `haven rules`");
    }
    let out = haven(&["rules", "explain", "haven.scalable"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("severity:  medium")
            && text.contains("waive.haven.commonground.nl/haven.scalable"),
        "{text}"
    );
    // What the admission webhook can judge of a rule that reads a second object.
    let out = haven(&["rules", "explain", "plus.sa-token-automount"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap().replace("\n  ", " ");
    assert!(
        text.contains("the admission webhook judges one object and cannot see the ServiceAccount"),
        "{text}"
    );
    let out = haven(&["rules", "explain", "scalable"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("did you mean `haven.scalable`?")
    );
    let out = haven(&["rules", "--json"], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().len() > 30);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(haven(&["app", "check"], None).status.code(), Some(2));
    assert_eq!(
        haven(&["app", "check", "-", "--pss-version", "v1.99"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        haven(&["app", "check", "-", "--fail-on", "severe"], None)
            .status
            .code(),
        Some(2)
    );
    let missing = haven(
        &[
            "app",
            "check",
            "/nonexistent/manifests.yaml",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = String::from_utf8(haven(&["completions", "bash"], None).stdout).unwrap();
    assert!(
        bash.contains("--pss-version") && bash.contains("haven__subcmd__app__subcmd__check"),
        "bash completion"
    );
    let man = String::from_utf8(haven(&["man"], None).stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH haven"),
        "{}",
        &man[..man.len().min(200)]
    );
}

#[test]
fn admission_serve_without_cluster_access_says_how_to_run_without_the_watch() {
    let dir = tempfile::tempdir().unwrap();
    let cert = write(
        dir.path(),
        "tls.crt",
        "not used before the kubeconfig is read",
    );
    let missing = dir.path().join("no-such-kubeconfig");
    let out = haven(
        &[
            "admission",
            "serve",
            "--cert",
            &cert,
            "--key",
            &cert,
            "--kubeconfig",
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-kubeconfig") && stderr.contains("--no-watch"),
        "{stderr}"
    );

    // Without any configuration at all, the hint names the flag that needs no cluster.
    let out = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["admission", "serve", "--cert", &cert, "--key", &cert])
        .env("KUBECONFIG", &missing)
        .env("HOME", dir.path())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--no-watch"), "{stderr}");
}

/// The tenant policy as flags (issue #21 item 2): `--allowed-registry` (exit 1 outside it),
/// `--allow-load-balancer` (a LoadBalancer Service is a medium finding, not blocking, unless
/// allowed), `--denied-hostname`/`--allowed-hostname` (a route on a platform host blocks);
/// bad values are usage errors (exit 2) naming the flag.
#[test]
fn tenant_policy_flags_decide_registries_load_balancers_and_host_names() {
    let (code, v) = json_check(
        &["-", "--allowed-registry", "ghcr.io/gemeente-x"],
        Some(CLEAN_APP),
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(rules_of(&v), ["plus.image-registry"]);
    let message = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("registry.example.nl/web:1.2.3"),
        "{message}"
    );
    let (code, v) = json_check(
        &[
            "-",
            "--allowed-registry",
            "ghcr.io/gemeente-x",
            "--allowed-registry",
            "registry.example.nl",
        ],
        Some(CLEAN_APP),
    );
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");

    let load_balancer = format!(
        "{CLEAN_APP}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: zaken}}\n\
         spec:\n  type: LoadBalancer\n  selector: {{app: web}}\n  ports: [{{port: 80, targetPort: http}}]\n"
    );
    let (code, v) = json_check(&["-"], Some(&load_balancer));
    assert_eq!(
        code, 0,
        "medium: not blocking at the default --fail-on high; {v:#}"
    );
    assert_eq!(rules_of(&v), ["plus.service-load-balancer"]);
    assert_eq!(v["findings"][0]["severity"], "medium");
    let (code, _) = json_check(&["-", "--fail-on", "medium"], Some(&load_balancer));
    assert_eq!(code, 1);
    let (code, v) = json_check(&["-", "--allow-load-balancer"], Some(&load_balancer));
    assert_eq!((code, rules_of(&v)), (0, vec![]), "{v:#}");

    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
                 metadata: {name: web, namespace: zaken}\nspec:\n  hostnames: [keycloak.example.nl]\n";
    let app = format!("{CLEAN_APP}---\n{route}");
    let (code, v) = json_check(&["-", "--skip", "nl.*"], Some(&app));
    assert_eq!((code, rules_of(&v)), (0, vec![]), "no names given: {v:#}");
    let (code, v) = json_check(
        &["-", "--skip", "nl.*", "--denied-hostname", "*.example.nl"],
        Some(&app),
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(rules_of(&v), ["plus.hostname"]);
    assert_eq!(v["findings"][0]["path"], "spec.hostnames[0]");
    let (code, v) = json_check(
        &[
            "-",
            "--skip",
            "nl.*",
            "--allowed-hostname",
            "*.gemeente-x.nl",
        ],
        Some(&app),
    );
    assert_eq!(
        (code, rules_of(&v)),
        (1, vec!["plus.hostname".to_owned()]),
        "{v:#}"
    );

    for (flag, value) in [
        ("--allowed-registry", "ghcr.io/x/app:1"),
        ("--allowed-registry", ""),
        ("--denied-hostname", "https://keycloak.example.nl"),
        ("--allowed-hostname", "*"),
    ] {
        let out = haven(&["app", "check", "-", flag, value], Some(CLEAN_APP));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value:?}: {stderr}");
        assert!(
            stderr.starts_with("haven: error:") && stderr.contains(flag),
            "{flag} {value:?}: {stderr}"
        );
    }
}

/// `haven rules explain` knows the three tenant rules, with why and fix.
#[test]
fn rules_explain_the_tenant_rules() {
    for (id, needle) in [
        ("plus.image-registry", "docker.io/library/nginx"),
        ("plus.service-load-balancer", "allow-load-balancer"),
        ("plus.hostname", "keycloak"),
    ] {
        let out = haven(&["rules", "explain", id], None);
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{id}: {text}");
        assert!(text.contains(id) && text.contains(needle), "{id}: {text}");
    }
}

/// The help of one option in `haven <args> --help`, whitespace collapsed (commands wrap it at
/// different columns).
fn option_help(args: &[&str], option: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    let help = String::from_utf8(out.stdout).unwrap();
    let mut entry = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        // The next option, or the next heading (`Exit codes:`), ends the entry; long help
        // (`haven check`) puts blank lines inside it.
        let heading = !line.is_empty() && !line.starts_with(' ');
        if !entry.is_empty() && (trimmed.starts_with('-') || heading) {
            break;
        }
        if !entry.is_empty() || trimmed.starts_with(&format!("{option} ")) {
            entry.push(trimmed);
        }
    }
    assert!(
        !entry.is_empty(),
        "{args:?} --help has no {option}:\n{help}"
    );
    entry
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every command that talks to a cluster finds it with the same flags, meaning the same thing
/// (one `ClusterArgs`); `admission serve` said in-cluster came first, which is not the order
/// `haven_cluster::connect` (kubectl's) uses.
#[test]
fn cluster_flags_are_one_definition() {
    let commands: [&[&str]; 5] = [
        &["check"],
        &["snapshot"],
        &["admission", "serve"],
        &["plus", "status"],
        &["plus", "backups", "check"],
    ];
    for option in ["--kubeconfig", "--context"] {
        let first = option_help(commands[0], option);
        for command in &commands[1..] {
            assert_eq!(option_help(command, option), first, "{command:?} {option}");
        }
    }
    let kubeconfig = option_help(&["admission", "serve"], "--kubeconfig");
    let (env, in_cluster) = (
        kubeconfig.find("$KUBECONFIG").unwrap(),
        kubeconfig.find("in-cluster").unwrap(),
    );
    assert!(env < in_cluster, "{kubeconfig}");
    // The plus commands share `--request-timeout`; `check` and `snapshot` keep `--timeout`.
    assert_eq!(
        option_help(&["plus", "status"], "--request-timeout"),
        option_help(&["plus", "backups", "check"], "--request-timeout")
    );
    assert_eq!(
        option_help(&["check"], "--timeout"),
        option_help(&["snapshot"], "--timeout")
    );
    // `--no-watch` still refuses cluster flags (the conflict now sits on `--no-watch`).
    for flag in ["--kubeconfig", "--context"] {
        let out = Command::new(env!("CARGO_BIN_EXE_haven"))
            .args([
                "admission",
                "serve",
                "--cert",
                "c",
                "--key",
                "k",
                "--no-watch",
                flag,
                "x",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }
}
