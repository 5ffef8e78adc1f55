//! The upstream charts of `../shared/charts` (the Haven+ catalogue's components) as a corpus:
//! each is rendered by the `haven` binary through `tools/helm` (Helm v4's engine) with its
//! default values, or the minimal values its README entry names, and checked. No input errors,
//! no dropped documents (every document `helm template` prints is an object of the report),
//! and the findings of each chart are a reviewed snapshot in `tests/real-charts/<chart>.json`:
//! any change in what haven finds on real charts shows up in review.
//!
//! A changed snapshot fails the test with the lines that differ; after reviewing them,
//! `HAVEN_BLESS=1 cargo test -p haven-cli --test real_charts -- --include-ignored` writes the
//! new ones. Takes about 70 s in a debug build on one core (two renders of 25 charts).
//!
//! Cilium and grafana generate certificates and passwords on every render: base64 runs of 40
//! characters or more in a finding are masked, so that no random text can reach a snapshot.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo;
use serde_json::{Value, json};

/// One chart of the corpus and how it is rendered.
struct Chart {
    dir: &'static str,
    /// The minimal values its README entry names (YAML), if the defaults do not render.
    values: Option<&'static str>,
    /// Render without `values.schema.json`, as the README entry says (zitadel's schema `$ref`s
    /// a URL Helm fetches; offline it cannot).
    drop_schema: bool,
}

const fn chart(dir: &'static str) -> Chart {
    Chart {
        dir,
        values: None,
        drop_schema: false,
    }
}

const CHARTS: &[Chart] = &[
    chart("alloy"),
    chart("cert-manager"),
    chart("cilium"),
    chart("cloudnative-pg"),
    chart("dex"),
    chart("envoy-gateway"),
    chart("external-dns"),
    chart("external-secrets"),
    chart("falco"),
    chart("grafana"),
    chart("istio-base"),
    chart("istiod"),
    chart("keycloak"),
    chart("kube-prometheus-stack"),
    chart("kyverno"),
    Chart {
        values: Some(
            "loki: {useTestSchema: true, storage: {bucketNames: {chunks: chunks, ruler: ruler}}}\n",
        ),
        ..chart("loki")
    },
    chart("metrics-server"),
    chart("openbao"),
    chart("prometheus-operator-crds"),
    chart("sealed-secrets"),
    chart("tempo"),
    chart("traefik"),
    chart("trivy-operator"),
    chart("velero"),
    Chart {
        values: Some("zitadel: {masterkey: x8Ks3bq0ZtW2dYv9LmNpQr5TuVw7XyA1}\n"),
        drop_schema: true,
        ..chart("zitadel")
    },
];

/// Folders of `../shared/charts` that are no Helm chart, with the reason.
const NOT_CHARTS: &[(&str, &str)] = &[("flux", "kustomize manifests, not a chart")];

#[test]
#[ignore = "needs ../shared/charts and helm-python-sdk (cargo test -- --include-ignored)"]
fn upstream_charts_render_and_check_as_their_snapshots() {
    common::require_helm();
    let shared = haven_test_support::shared_path("charts");
    let listed: BTreeSet<&str> = CHARTS
        .iter()
        .map(|c| c.dir)
        .chain(NOT_CHARTS.iter().map(|(d, _)| *d))
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&shared)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.file_type()
                .unwrap()
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    let unlisted: Vec<&String> = present
        .iter()
        .filter(|d| !listed.contains(d.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "charts in ../shared/charts the corpus does not list: {unlisted:?}"
    );

    let bless = std::env::var_os("HAVEN_BLESS").is_some();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real-charts");
    let mut failures = Vec::new();
    for c in CHARTS {
        let got = check_chart(&shared, c);
        let file = snapshots.join(format!("{}.json", c.dir));
        let text = format!("{}\n", serde_json::to_string_pretty(&got).unwrap());
        if bless {
            std::fs::create_dir_all(&snapshots).unwrap();
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        if want != text {
            failures.push(format!(
                "{}: findings differ from {} (review, then HAVEN_BLESS=1):\n{}",
                c.dir,
                file.display(),
                line_diff(&want, &text)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Renders and checks one chart; the snapshot of what was found.
fn check_chart(shared: &Path, c: &Chart) -> Value {
    let work = tempfile::tempdir().unwrap();
    let (dir, missing) = prepare(shared, c, work.path());
    let mut values: Vec<PathBuf> = Vec::new();
    if let Some(v) = c.values {
        let f = work.path().join("values.yaml");
        std::fs::write(&f, v).unwrap();
        values.push(f);
    }
    if !missing.is_empty() {
        // The dependencies the mirror lacks are turned off, as their templates are gone.
        let f = work.path().join("missing.yaml");
        let mut off = json!({});
        for (_, condition) in &missing {
            disable(&mut off, condition);
        }
        std::fs::write(&f, off.to_string()).unwrap();
        values.push(f);
    }
    let value_args: Vec<String> = values
        .iter()
        .flat_map(|v| ["-f".to_owned(), v.display().to_string()])
        .collect();

    // What `helm template` prints, rendered as haven renders it (release namespace placeholder).
    let rendered = Command::new(repo().join("tools/helm"))
        .args(["template", "release-name"])
        .arg(&dir)
        .args(["--namespace", "hvn-rns"])
        .args(&value_args)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}: helm template failed: {}",
        c.dir,
        String::from_utf8_lossy(&rendered.stderr)
    );
    let documents = documents(&String::from_utf8_lossy(&rendered.stdout));

    let out = Command::new(env!("CARGO_BIN_EXE_haven"))
        .current_dir(repo())
        .args(["app", "check", "--format", "json", "--helm", "tools/helm"])
        .arg(&dir)
        .args(&value_args)
        .env("HAVEN_TODAY", "2026-12-07")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nstderr: {}",
            c.dir,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["errors"], json!([]), "{}: input errors", c.dir);
    let summary = &report["summary"];
    assert_eq!(
        summary["objects"].as_u64(),
        Some(documents as u64),
        "{}: {documents} documents rendered, but the report counts {} objects",
        c.dir,
        summary["objects"]
    );
    assert!(documents > 0, "{}: nothing rendered", c.dir);

    let root = format!("{}/", dir.display());
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            let file = s(&f["location"]["file"]);
            let file = file.strip_prefix(&root).unwrap_or(&file);
            let object = &f["object"];
            let ns = object["namespace"]
                .as_str()
                .map_or(String::new(), |n| format!("{n}/"));
            mask(&format!(
                "{} {} {ns}{}/{} {} {file}:{}: {}",
                s(&f["severity"]),
                s(&f["rule"]),
                s(&object["kind"]),
                s(&object["name"]),
                s(&f["path"]),
                f["location"]["line"],
                s(&f["message"]),
            ))
        })
        .collect();
    json!({
        "chart": c.dir,
        "values": c.values,
        "missingDependencies": missing.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "documents": documents,
        "workloads": summary["workloads"],
        "findings": findings,
    })
}

/// The chart folder to render: the shared one, or a copy when the README's procedure or the
/// mirror needs changes. Dependencies in `Chart.yaml` that its `charts/` lacks are taken from
/// `../shared/charts` when the same chart and version are there, else left out (returned with
/// their condition). `helm template` refuses a chart with a dependency missing, enabled or not.
fn prepare(shared: &Path, c: &Chart, work: &Path) -> (PathBuf, Vec<(String, String)>) {
    let src = shared.join(c.dir);
    let chart_yaml = std::fs::read_to_string(src.join("Chart.yaml")).unwrap();
    let mut meta = haven_model::load::single_document("Chart.yaml", &chart_yaml)
        .unwrap()
        .unwrap()
        .value;
    let mut missing = Vec::new();
    let mut borrowed = Vec::new();
    if let Some(Value::Array(deps)) = meta.get_mut("dependencies") {
        deps.retain(|d| {
            let name = d["name"].as_str().unwrap_or_default();
            if src.join("charts").join(name).is_dir() {
                return true;
            }
            let version = d["version"].as_str().unwrap_or_default();
            let elsewhere = shared.join(name);
            if chart_version(&elsewhere).as_deref() == Some(version) {
                borrowed.push((name.to_owned(), elsewhere));
                return true;
            }
            let condition = d["condition"].as_str().unwrap_or_default();
            missing.push((name.to_owned(), condition.to_owned()));
            false
        });
    }
    if missing.is_empty() && borrowed.is_empty() && !c.drop_schema {
        return (src, missing);
    }
    let dir = work.join(c.dir);
    copy_dir(&src, &dir);
    // JSON is YAML: Helm reads the edited Chart.yaml as it reads the original.
    replace(
        &dir.join("Chart.yaml"),
        &serde_json::to_string(&meta).unwrap(),
    );
    for (name, from) in borrowed {
        copy_dir(&from, &dir.join("charts").join(name));
    }
    if c.drop_schema {
        std::fs::remove_file(dir.join("values.schema.json")).unwrap();
    }
    (dir, missing)
}

fn chart_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let doc = haven_model::load::single_document("Chart.yaml", &text).ok()??;
    Some(doc.value["version"].as_str()?.to_owned())
}

/// Sets `condition` (`a.b.enabled`, the first of a comma list) to false in `values`.
fn disable(values: &mut Value, condition: &str) {
    let first = condition.split(',').next().unwrap_or_default().trim();
    assert!(
        !first.is_empty(),
        "a missing dependency without a condition"
    );
    let mut keys: Vec<&str> = first.split('.').collect();
    let last = keys.pop().unwrap();
    let mut at = values;
    for key in keys {
        at = at
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert_with(|| json!({}));
    }
    at.as_object_mut()
        .unwrap()
        .insert(last.to_owned(), json!(false));
}

/// Copies a folder; the shared files are read-only, and so are their copies.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn replace(file: &Path, text: &str) {
    std::fs::remove_file(file).unwrap();
    std::fs::write(file, text).unwrap();
}

/// Base64 runs of 40 characters or more (generated keys, certificates, passwords) as
/// `<masked>`.
fn mask(line: &str) -> String {
    let re = regex::Regex::new("[A-Za-z0-9+/]{40,}={0,2}").unwrap();
    re.replace_all(line, "<masked>").into_owned()
}

/// The documents of `helm template` output that hold more than comments (templates that
/// render only a licence header print such documents, and they are no objects).
fn documents(stream: &str) -> usize {
    stream
        .split("\n---")
        .filter(|d| {
            d.lines().any(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with('#') && l != "---"
            })
        })
        .count()
}

/// The lines only in `want` (`-`) and only in `got` (`+`).
fn line_diff(want: &str, got: &str) -> String {
    let w: BTreeSet<&str> = want.lines().collect();
    let g: BTreeSet<&str> = got.lines().collect();
    let gone = w.difference(&g).map(|l| format!("- {}", l.trim()));
    let new = g.difference(&w).map(|l| format!("+ {}", l.trim()));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}
