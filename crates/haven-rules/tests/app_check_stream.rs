//! `AppCheck` reads documents in two passes and keeps only the objects other rules look up;
//! `check` has every object in memory. Both must find exactly the same: same findings (with
//! positions, messages and waiver marks), same errors, same counts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use haven_model::{Finding, InputError, InputErrorKind, LoadOutcome, Source, SourceText};
use haven_rules::{AppCheck, CheckOptions, WaiverFile, apply_waivers, check, sort_findings};
use jiff::civil::date;

struct Result {
    findings: Vec<Finding>,
    errors: Vec<String>,
    objects: usize,
    workloads: usize,
}

fn batch(sources: &[Source], ns: Option<&str>, waivers: &[WaiverFile]) -> Result {
    let mut loaded = LoadOutcome::default();
    for s in sources {
        loaded.extend(s.load());
    }
    for o in &mut loaded.objects {
        if o.is_namespaced() && o.namespace.is_none() {
            o.namespace = ns.map(str::to_owned);
        }
    }
    let opts = CheckOptions::default();
    let checked = check(&loaded.objects, &opts);
    let mut findings = checked.findings;
    apply_waivers(&mut findings, &loaded.objects, waivers, date(2026, 11, 25));
    sort_findings(&mut findings);
    let mut errors: Vec<InputError> = loaded.errors;
    errors.extend(checked.errors);
    Result {
        findings,
        errors: sorted_errors(errors),
        objects: loaded.objects.len(),
        workloads: checked.workloads,
    }
}

fn streamed(sources: &[Source], ns: Option<&str>, waivers: &[WaiverFile]) -> Result {
    let opts = CheckOptions::default();
    let mut app = AppCheck::new(&opts, ns.map(str::to_owned));
    for s in sources {
        app.add(s.clone());
    }
    let out = app.finish(waivers, date(2026, 11, 25));
    Result {
        findings: out.findings,
        errors: sorted_errors(out.errors),
        objects: out.objects,
        workloads: out.workloads,
    }
}

/// Hands the texts back for the second pass, as a file reader would, and records what it was
/// asked for.
struct Texts {
    texts: HashMap<String, String>,
    asked: Vec<String>,
}

impl Texts {
    fn of(sources: &[Source]) -> Self {
        Self {
            texts: sources
                .iter()
                .map(|s| (s.name.clone(), s.text.clone()))
                .collect(),
            asked: Vec::new(),
        }
    }
}

impl SourceText for Texts {
    fn text(&mut self, source: &Source) -> std::result::Result<String, InputError> {
        assert!(source.text.is_empty(), "{}: the text was kept", source.name);
        self.asked.push(source.name.clone());
        self.texts.get(&source.name).cloned().ok_or_else(|| {
            InputError::new(InputErrorKind::Io, &source.name, 0, "cannot be read again")
        })
    }
}

/// Like [`streamed`], with every source's text let go after the first pass and read again.
fn streamed_rereading(
    sources: &[Source],
    texts: &mut Texts,
    ns: Option<&str>,
    waivers: &[WaiverFile],
) -> Result {
    let opts = CheckOptions::default();
    let mut app = AppCheck::new(&opts, ns.map(str::to_owned));
    for s in sources {
        app.add_rereadable(s.clone());
    }
    let out = app.finish_rereading(waivers, date(2026, 11, 25), texts);
    Result {
        findings: out.findings,
        errors: sorted_errors(out.errors),
        objects: out.objects,
        workloads: out.workloads,
    }
}

fn sorted_errors(errors: Vec<InputError>) -> Vec<String> {
    let mut e: Vec<String> = errors.iter().map(InputError::describe).collect();
    e.sort();
    e
}

/// The batch check, the streaming check, and the streaming check that reads each source's text
/// again for its second pass all find the same.
fn assert_same(what: &str, sources: &[Source], ns: Option<&str>, waivers: &[WaiverFile]) -> usize {
    let a = batch(sources, ns, waivers);
    let mut texts = Texts::of(sources);
    let streams = [
        ("streamed", streamed(sources, ns, waivers)),
        (
            "streamed, rereading",
            streamed_rereading(sources, &mut texts, ns, waivers),
        ),
    ];
    for (how, b) in streams {
        assert_eq!(a.errors, b.errors, "{what}, {how}: errors differ");
        assert_eq!(a.objects, b.objects, "{what}, {how}: object counts differ");
        assert_eq!(
            a.workloads, b.workloads,
            "{what}, {how}: workload counts differ"
        );
        assert_eq!(
            a.findings.len(),
            b.findings.len(),
            "{what}, {how}: finding counts differ"
        );
        for (x, y) in a.findings.iter().zip(&b.findings) {
            assert_eq!(x, y, "{what}, {how}: findings differ");
        }
    }
    // Each text was read again at most once: one source's text at a time.
    let mut asked = texts.asked.clone();
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), texts.asked.len(), "{what}: {:?}", texts.asked);
    a.findings.len()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_dir_sources(dir: &Path) -> Vec<Source> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            Source::file(p.display().to_string(), text)
        })
        .collect()
}

/// A made-up application that exercises every cross-object rule, in the orders and styles that
/// decide what the first pass keeps: objects looked up before and after the workloads that need
/// them, a `List`, JSON, a quoted `kind`, a broken document, and waiver annotations.
const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    waive.haven.commonground.nl/plus.image-digest: images are pinned by tag in this test
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: web-data}
      containers:
      - name: web
        image: registry.example/web:1.2.3
        envFrom:
        - configMapRef: {name: otel}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: web-data}
spec:
  accessModes: [ReadWriteOnce]
---
kind: "ConfigMap"
apiVersion: v1
metadata: {name: otel}
data:
  OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4317
---
{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
 "spec": {"selector": {"matchLabels": {"app": "web"}}, "minAvailable": 1}}
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db}
  spec:
    serviceName: db
    selector: {matchLabels: {app: db}}
    template:
      metadata: {labels: {app: db}}
      spec:
        containers:
        - {name: db, image: postgres:17, ports: [{name: metrics, containerPort: 9187}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: db}
  spec:
    podSelector: {matchLabels: {app: db}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: jobs}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            waive.haven.commonground.nl/pss.*: legacy batch image, tracked in ticket 42
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "report:latest"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: worker@sha256:0000000000000000000000000000000000000000000000000000000000000000
        ports: [{containerPort: 8080}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  minReplicas: 1
  maxReplicas: 4
---
apiVersion: v1
kind: Service
metadata: {name: worker, labels: {app: worker}}
spec:
  selector: {app: worker}
  ports: [{name: http-metrics, port: 8080}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  endpoints: [{port: http-metrics}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken
spec: {}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
"#;

#[test]
fn streaming_matches_the_batch_check_on_a_made_up_application() {
    let waivers = haven_rules::parse_waiver_file(
        "waivers.yaml",
        "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n\
         - {rule: plus.probes, name: worker, reason: probes come with the next release}\n\
         - {rule: plus.pdb, reason: old, expires: 2020-01-01}\n",
    )
    .unwrap();
    let sources = [Source::file("app.yaml", APP.to_owned())];
    let n = assert_same("app", &sources, None, std::slice::from_ref(&waivers));
    assert!(n > 10, "the made-up application yields findings ({n})");
    assert_same("app in a namespace", &sources, Some("team-a"), &[]);

    // The same objects split over several streams, looked-up objects last.
    let docs: Vec<&str> = APP.split("\n---\n").collect();
    let mut reordered: Vec<Source> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| Source::file(format!("part-{i}.yaml"), (*d).to_owned()))
        .collect();
    reordered.reverse();
    assert_same("app over many files", &reordered, Some("team-a"), &[]);
}

#[test]
fn streaming_matches_the_batch_check_without_workloads() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  annotations:\n    \
                waive.haven.commonground.nl/haven.manifests: config only\n---\n\
                apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
    let sources = [Source::file("config.yaml", text.to_owned())];
    let n = assert_same("no workloads", &sources, None, &[]);
    assert!(n >= 1);
    let streamed = streamed(&sources, None, &[]);
    let manifests = streamed
        .findings
        .iter()
        .find(|f| f.rule == "haven.manifests")
        .expect("haven.manifests reported");
    assert!(
        manifests.waived.is_some(),
        "waived by the Secret's annotation"
    );
}

#[test]
fn streaming_matches_the_batch_check_on_the_examples() {
    let sources = read_dir_sources(&workspace().join("examples/manifests"));
    assert!(sources.len() >= 3);
    let waivers = haven_rules::parse_waiver_file(
        "worker-beat.yaml",
        &std::fs::read_to_string(workspace().join("examples/waivers/worker-beat.yaml")).unwrap(),
    )
    .unwrap();
    let n = assert_same("examples", &sources, None, std::slice::from_ref(&waivers));
    assert!(n > 0);
}

#[test]
#[ignore = "needs ../shared/conformance (cargo test -- --include-ignored)"]
fn streaming_matches_the_batch_check_on_the_pod_security_fixtures() {
    let dir = haven_test_support::shared_path("conformance/pod-security");
    let mut sources = Vec::new();
    for entry in walk(&dir) {
        let text = std::fs::read_to_string(&entry).unwrap();
        sources.push(Source::file(entry.display().to_string(), text));
    }
    assert!(sources.len() > 4000, "{} fixtures", sources.len());
    let n = assert_same("pod-security fixtures", &sources, None, &[]);
    assert!(n > 1000);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn cross_object_rules_see_objects_written_after_the_workload() {
    let sources = [Source::file("app.yaml", APP.to_owned())];
    let out = streamed(&sources, None, &[]);
    let has = |rule: &str, name: &str| {
        out.findings
            .iter()
            .any(|f| f.rule == rule && f.object.name == name)
    };
    // The claim, the ConfigMap with the OTLP endpoint and the PDB all come after `web`.
    assert!(has("haven.rwo-blocks-scaling", "web"));
    assert!(!has("haven.metrics-endpoint", "web"));
    assert!(!has("plus.pdb", "web"));
    // The HPA, the Service and its ServiceMonitor come after `worker`.
    assert!(!has("haven.scalable", "worker"));
    assert!(!has("haven.metrics-endpoint", "worker"));
    assert!(has("plus.pdb", "worker"));
    // The NetworkPolicy sits in a List beside `db`.
    assert!(!has("plus.network-policy", "db"));
    assert!(has("plus.network-policy", "worker"));
    // Annotation waivers on the object and on the pod template.
    let waived = |rule: &str, name: &str| {
        out.findings
            .iter()
            .filter(|f| f.object.name == name && f.rule.starts_with(rule))
            .all(|f| f.waived.is_some())
    };
    assert!(waived("plus.image-digest", "web") && waived("pss.", "report"));
    assert!(!waived("plus.probes", "web"));
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    assert!(
        out.errors[0].starts_with("app.yaml:112:"),
        "{}",
        out.errors[0]
    );
    assert_eq!((out.objects, out.workloads), (12, 4));
}

/// A file that changed between the passes, or cannot be read again, is an input error; its
/// documents left for the second pass are not checked, and every other file still is.
#[test]
fn a_file_changed_or_gone_before_the_second_pass_is_reported_and_the_others_are_checked() {
    let workload = |name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: a}}\n\
             spec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    \
             metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      \
             - {{name: c, image: 'r.example/{name}:1'}}\n"
        )
    };
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: a}\n\
                   spec: {selector: {app: one}}\n";
    let sources = [
        Source::file("one.yaml", format!("{}---\n{service}", workload("one"))),
        Source::file("two.yaml", workload("two")),
        Source::file("three.yaml", workload("three")),
        Source::file("four.yaml", format!("{service}---\n{}", workload("four"))),
    ];
    let mut texts = Texts::of(&sources);
    // Same length, but a two-byte character now straddles the start of the workload's document:
    // it is no longer where the first pass found it.
    let four = &sources[3].text;
    let start = four.find("\n---\n").unwrap() + 1;
    let edited = format!("{}é{}", &four[..start - 1], &four[start + 1..]);
    assert_eq!(edited.len(), four.len());
    texts.texts.insert("four.yaml".into(), edited);
    texts
        .texts
        .insert("one.yaml".into(), format!("{}# edited\n", sources[0].text));
    texts.texts.remove("three.yaml");
    let out = streamed_rereading(&sources, &mut texts, None, &[]);
    assert_eq!(out.errors.len(), 3, "{:#?}", out.errors);
    assert!(
        out.errors[0].starts_with("four.yaml")
            && out.errors[0].contains("changed while it was being checked"),
        "{}",
        out.errors[0]
    );
    let errors = &out.errors[1..];
    assert!(
        errors[0].starts_with("one.yaml")
            && errors[0].contains("changed while it was being checked"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("three.yaml") && errors[1].contains("cannot be read again"),
        "{}",
        errors[1]
    );
    let on = |name: &str| {
        out.findings
            .iter()
            .filter(|f| f.object.name == name)
            .count()
    };
    assert_eq!(on("one"), 0, "the changed file's workload is not checked");
    assert_eq!(on("four"), 0, "the workload that moved is not checked");
    assert_eq!(
        on("three"),
        0,
        "the unreadable file's workload is not checked"
    );
    assert!(on("two") > 0, "the other file's workload is checked");
    // The Services were checked in the first pass, from the text as first read.
    assert_eq!(out.objects, 3);
}
