//! `cargo xtask crd-schemas`: the CRD schemas built into haven
//! (`crates/haven-platform/crds/schemas.json.gz`, read by `haven_platform::crds`).
//!
//! Sources, in this order (a kind two components install with different schemas keeps both;
//! `haven plus validate` uses the one of the component the tree installs):
//!
//! - every chart of [`CHARTS`] in the chart mirror (`../shared/charts`, laid out as `haven plus
//!   vendor` writes it), rendered by Helm's engine (`tools/helm template --include-crds`, with the
//!   values that turn a chart's CRDs on where they are behind a value): the CRDs of `crds/`
//!   folders and the ones templates render, of the chart and its subcharts;
//! - Flux's CRDs at the versions Flux v2.9.2 installs (`xtask/crd-sources/flux/`, see its
//!   `SOURCES.md`);
//! - the Gateway API standard CRDs the `gateway-api` component applies
//!   (`xtask/crd-sources/gateway-api/`, see its `SOURCES.md`);
//! - the CRDs of charts not in the mirror that haven renders objects of: MetalLB's
//!   `IPAddressPool`/`L2Advertisement`, Pinniped's `JWTAuthenticator` and `CredentialIssuer`
//!   (`xtask/crd-sources/{metallb,pinniped}/`, each `SOURCES.md` names chart, tag and commit).
//!
//! Not here, and why: cilium's CRDs are created by its operator at run time and its repository
//! is too large to mirror (haven renders no `cilium.io` kind); garage and mimir are not mirrored
//! (AGPL) and install no CRDs haven renders objects of.
//!
//! The bundle: gzip of one JSON line (the sources and, per CRD version, its group, kind,
//! version, scope, served/deprecated, component and the index of its schema) followed by one line
//! per distinct schema (the `openAPIV3Schema` without `description`s, compact JSON), so that a
//! validation parses only the schemas it uses. The test below fails when the committed bundle
//! differs from what this generator makes of the mirror.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// A chart whose CRDs are built in: catalogue component, chart directory under the mirror,
/// `--set` values that turn its CRDs on, and why the directory or values are what they are.
pub struct ChartSource {
    pub component: &'static str,
    pub dir: &'static str,
    pub set: &'static [&'static str],
}

/// Listed in the order a kind's schemas are preferred when the tree installs neither component
/// (prometheus-operator-crds before kube-prometheus-stack: the default metrics backend, mimir,
/// comes with the former).
pub const CHARTS: &[ChartSource] = &[
    ChartSource {
        component: "alloy",
        dir: "alloy",
        set: &[],
    },
    // CRDs are templates behind `crds.enabled`, off by default; the catalogue turns them on.
    ChartSource {
        component: "cert-manager",
        dir: "cert-manager",
        set: &["crds.enabled=true"],
    },
    ChartSource {
        component: "cloudnative-pg",
        dir: "cloudnative-pg",
        set: &[],
    },
    ChartSource {
        component: "envoy-gateway",
        dir: "envoy-gateway",
        set: &[],
    },
    ChartSource {
        component: "external-dns",
        dir: "external-dns",
        set: &[],
    },
    ChartSource {
        component: "external-secrets",
        dir: "external-secrets",
        set: &[],
    },
    ChartSource {
        component: "istio-base",
        dir: "istio-base",
        set: &[],
    },
    // openreports' CRDs are off by default (`openreports.installCrds`, which needs the feature
    // on): on, so that a platform that enables them is validated too.
    ChartSource {
        component: "kyverno",
        dir: "kyverno",
        set: &["openreports.enabled=true", "openreports.installCrds=true"],
    },
    ChartSource {
        component: "prometheus-operator-crds",
        dir: "prometheus-operator-crds",
        set: &[],
    },
    // Its CRDs are its `crds` subchart; the chart as a whole does not render from a mirror that
    // lacks its other subcharts (kube-state-metrics, node-exporter, grafana, windows-exporter),
    // and Helm installs the subchart's `crds/` whatever the parent's values.
    ChartSource {
        component: "kube-prometheus-stack",
        dir: "kube-prometheus-stack/charts/crds",
        set: &[],
    },
    ChartSource {
        component: "sealed-secrets",
        dir: "sealed-secrets",
        set: &[],
    },
    ChartSource {
        component: "traefik",
        dir: "traefik",
        set: &[],
    },
    ChartSource {
        component: "trivy-operator",
        dir: "trivy-operator",
        set: &[],
    },
    ChartSource {
        component: "velero",
        dir: "velero",
        set: &[],
    },
];

/// The committed bundle.
pub fn bundle_path() -> PathBuf {
    repo().join("crates/haven-platform/crds/schemas.json.gz")
}

/// Flux's CRD files.
pub fn flux_dir() -> PathBuf {
    repo().join("xtask/crd-sources/flux")
}

/// The Gateway API CRD files the `gateway-api` component applies.
pub fn gateway_api_dir() -> PathBuf {
    repo().join("xtask/crd-sources/gateway-api")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

type Error = Box<dyn std::error::Error>;

pub fn cmd(args: &[String]) -> Result<(), Error> {
    let mut charts = repo().join("../shared/charts");
    let mut helm = repo().join("tools/helm");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--charts" => charts = PathBuf::from(value()?),
            "--helm" => helm = PathBuf::from(value()?),
            other => return Err(format!("crd-schemas: unknown argument {other}").into()),
        }
    }
    let text = generate(&charts, &helm)?;
    let path = bundle_path();
    std::fs::write(&path, compress(&text)?)?;
    let kinds = text.lines().next().map_or(0, |h| {
        serde_json::from_str::<Value>(h).map_or(0, |v| v["crds"].as_array().map_or(0, Vec::len))
    });
    println!(
        "wrote crates/haven-platform/crds/schemas.json.gz ({kinds} CRD versions, {} schemas, {} \
         bytes)",
        text.lines().count() - 1,
        std::fs::metadata(&path)?.len()
    );
    Ok(())
}

/// gzip with a fixed header (no name, no time), so equal text gives equal bytes.
pub fn compress(text: &str) -> Result<Vec<u8>, Error> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(text.as_bytes())?;
    Ok(gz.finish()?)
}

#[cfg(test)]
fn decompress(bytes: &[u8]) -> Result<String, Error> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut text)?;
    Ok(text)
}

/// One CRD version found in a source.
struct Found {
    group: String,
    kind: String,
    version: String,
    namespaced: bool,
    served: bool,
    deprecated: Option<String>,
    component: String,
    schema: String,
}

/// The bundle's text (before compression) from the chart mirror `charts`, rendered by `helm`.
pub fn generate(charts: &Path, helm: &Path) -> Result<String, Error> {
    let catalogue = haven_platform::Catalogue::builtin()?;
    let mut sources = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    for c in CHARTS {
        let component = catalogue
            .get(c.component)
            .ok_or_else(|| format!("{} is not a catalogue component", c.component))?;
        let dir = charts.join(c.dir);
        // The chart of the component: the mirror must hold the pinned version.
        let top = charts.join(c.dir.split('/').next().unwrap_or(c.dir));
        let version = chart_version(&top)?;
        if version != component.version {
            return Err(format!(
                "{}: the mirror has chart {} {version}, the catalogue pins {}",
                top.display(),
                component.chart,
                component.version
            )
            .into());
        }
        let stream = render(helm, &dir, c.set)?;
        let before = found.len();
        let rendered_from = crds_in(&stream, c.dir, c.component, &mut found)?;
        check_complete(&dir, c.dir, &rendered_from)?;
        let mut from = format!("chart {} {version}", component.chart);
        if c.dir != top.file_name().and_then(|n| n.to_str()).unwrap_or_default() {
            from.push_str(&format!(" (its `{}` subchart)", c.dir));
        }
        if !c.set.is_empty() {
            from.push_str(&format!(", with {}", c.set.join(", ")));
        }
        sources.push(json!({
            "component": c.component,
            "version": version,
            "from": from,
            "licence": licence(&top),
            "crdVersions": found.len() - before,
        }));
    }
    for (component, dir, what) in [
        (
            "flux",
            flux_dir(),
            "Flux {} controllers' CRDs (xtask/crd-sources/flux/SOURCES.md)",
        ),
        (
            "gateway-api",
            gateway_api_dir(),
            "Gateway API {} standard channel (xtask/crd-sources/gateway-api/SOURCES.md)",
        ),
        (
            "metallb",
            repo().join("xtask/crd-sources/metallb"),
            "MetalLB chart {}: the CRDs haven renders objects of (xtask/crd-sources/metallb/SOURCES.md)",
        ),
        (
            "pinniped",
            repo().join("xtask/crd-sources/pinniped"),
            "Bitnami pinniped chart {}: the Concierge CRDs haven and the chart render objects of (xtask/crd-sources/pinniped/SOURCES.md)",
        ),
    ] {
        let pinned = catalogue
            .get(component)
            .ok_or_else(|| format!("{component} is not a catalogue component"))?;
        let before = found.len();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            let name = format!(
                "{component}/{}",
                file.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
            );
            crds_in(&text, &name, component, &mut found)?;
        }
        sources.push(json!({
            "component": component,
            "version": pinned.version,
            "from": what.replace("{}", &pinned.version),
            "licence": "Apache-2.0",
            "crdVersions": found.len() - before,
        }));
    }

    // Distinct schemas, in order of first appearance; a CRD version that two components
    // install alike is listed once with both.
    let mut schemas: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut crds: Vec<Value> = Vec::new();
    for f in &found {
        let i = *index.entry(f.schema.clone()).or_insert_with(|| {
            schemas.push(f.schema.clone());
            schemas.len() - 1
        });
        let same = crds.iter_mut().find(|c| {
            c["group"] == f.group.as_str()
                && c["kind"] == f.kind.as_str()
                && c["version"] == f.version.as_str()
                && c["schema"] == i
        });
        if let Some(c) = same {
            if let Some(list) = c["components"].as_array_mut()
                && !list.iter().any(|x| x == f.component.as_str())
            {
                list.push(Value::from(f.component.clone()));
            }
            continue;
        }
        let mut entry = json!({
            "group": f.group,
            "kind": f.kind,
            "version": f.version,
            "namespaced": f.namespaced,
            "served": f.served,
            "components": [f.component],
            "schema": i,
        });
        if let Some(d) = &f.deprecated {
            entry["deprecated"] = Value::from(d.clone());
        }
        crds.push(entry);
    }
    let header = json!({
        "generatedBy": "cargo xtask crd-schemas",
        "sources": sources,
        "crds": crds,
    });
    let mut out = serde_json::to_string(&header)?;
    out.push('\n');
    for s in schemas {
        out.push_str(&s);
        out.push('\n');
    }
    Ok(out)
}

fn chart_version(chart: &Path) -> Result<String, Error> {
    let path = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc = haven_model::load::single_document(&path.display().to_string(), &text)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .ok_or_else(|| format!("{}: empty", path.display()))?;
    doc.value["version"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no version", path.display()).into())
}

/// The licence a chart's folder carries, as its SPDX name (by the licence text's first lines).
fn licence(chart: &Path) -> &'static str {
    for name in ["LICENSE", "LICENSE.md", "LICENSE.txt"] {
        if let Ok(text) = std::fs::read_to_string(chart.join(name)) {
            let head: String = text.chars().take(400).collect();
            if head.contains("Apache License") {
                return "Apache-2.0";
            }
            if head.contains("Mozilla Public License") {
                return "MPL-2.0";
            }
            if head.contains("MIT License") || head.contains("Permission is hereby granted") {
                return "MIT";
            }
        }
    }
    "see the chart"
}

fn render(helm: &Path, chart: &Path, set: &[&str]) -> Result<String, Error> {
    let mut cmd = std::process::Command::new(helm);
    cmd.args(["template", "crds"])
        .arg(chart)
        .arg("--include-crds");
    for s in set {
        cmd.arg("--set").arg(s);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {}: {e}", helm.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} template {}: {}",
            helm.display(),
            chart.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The CRDs of a YAML stream (read as Kubernetes reads YAML), added to `found`; returns the
/// `# Source:` templates they came from.
fn crds_in(
    stream: &str,
    name: &str,
    component: &str,
    found: &mut Vec<Found>,
) -> Result<Vec<String>, Error> {
    // Helm prints a file of `crds/` as its `# Source:` comment followed by the file, which
    // often starts with its own `---`: the comment then heads an empty document, and belongs to
    // the next one.
    let mut sources = Vec::new();
    let mut pending: Option<String> = None;
    for raw in haven_model::raw_documents(stream) {
        let source = raw
            .text
            .lines()
            .take(3)
            .find_map(|l| l.strip_prefix("# Source: ").map(|s| s.trim().to_owned()));
        let doc = match raw.parse(name) {
            None => {
                pending = source.or(pending);
                continue;
            }
            Some(Ok(doc)) => doc,
            Some(Err(e)) => return Err(format!("{name}: {e}").into()),
        };
        let source = source.or(pending.take()).unwrap_or_else(|| name.to_owned());
        if doc.value["kind"] != "CustomResourceDefinition" {
            continue;
        }
        sources.push(source);
        let o = doc;
        let spec = &o.value["spec"];
        let group = spec["group"]
            .as_str()
            .ok_or(format!("{name}: CRD without group"))?;
        let kind = spec["names"]["kind"]
            .as_str()
            .ok_or(format!("{name}: CRD without names.kind"))?;
        let namespaced = spec["scope"] == "Namespaced";
        for v in spec["versions"].as_array().into_iter().flatten() {
            let version = v["name"]
                .as_str()
                .ok_or(format!("{name}: version without name"))?;
            let schema = v["schema"]["openAPIV3Schema"].clone();
            if !schema.is_object() {
                return Err(
                    format!("{name}: {group}/{version} {kind} has no openAPIV3Schema").into(),
                );
            }
            let deprecated = (v["deprecated"] == true).then(|| {
                v["deprecationWarning"].as_str().map_or_else(
                    || format!("{group}/{version} {kind} is deprecated"),
                    str::to_owned,
                )
            });
            found.push(Found {
                group: group.to_owned(),
                kind: kind.to_owned(),
                version: version.to_owned(),
                namespaced,
                served: v["served"] != false,
                deprecated,
                component: component.to_owned(),
                schema: serde_json::to_string(&strip(&schema))?,
            });
        }
    }
    Ok(sources)
}

/// Every file Helm renders from (`crds/` and `templates/` of the chart and its subcharts) that
/// defines a CRD was rendered: a CRD behind a value this generator does not set would otherwise
/// be missed silently. (Files a template includes, such as istio-base's `files/`, show up as
/// that template.)
fn check_complete(dir: &Path, name: &str, rendered: &[String]) -> Result<(), Error> {
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type().is_file()
            || path.extension().is_none_or(|e| e != "yaml" && e != "yml")
            || path.components().any(|c| c.as_os_str() == "tests")
            || !path
                .components()
                .any(|c| c.as_os_str() == "crds" || c.as_os_str() == "templates")
        {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text
            .lines()
            .any(|l| l.trim() == "kind: CustomResourceDefinition")
        {
            continue;
        }
        let rel = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
        let shown = format!("{name}/{rel}");
        if !rendered.iter().any(|r| r.ends_with(&rel)) {
            return Err(format!(
                "{shown} defines a CRD that the render did not produce: turn it on in CHARTS \
                 (xtask/src/crd_schemas.rs), or say there why it is left out"
            )
            .into());
        }
    }
    Ok(())
}

/// The schema without `description`s (of schema nodes only: a property named `description`
/// stays), which validation does not read and which are four fifths of the text.
fn strip(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        let v = match k.as_str() {
            "description" => continue,
            "properties" | "patternProperties" | "definitions" | "dependencies" => match v {
                Value::Object(children) => Value::Object(
                    children
                        .iter()
                        .map(|(n, c)| (n.clone(), strip(c)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "additionalItems" | "not" => match v {
                Value::Array(children) => Value::Array(children.iter().map(strip).collect()),
                other => strip(other),
            },
            "allOf" | "anyOf" | "oneOf" => match v {
                Value::Array(children) => Value::Array(children.iter().map(strip).collect()),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What differs between two bundles, for the staleness message: the CRD versions added,
    /// removed or whose schema changed, else that the sources differ.
    fn difference(old: &str, new: &str) -> String {
        let read = |text: &str| -> BTreeMap<String, String> {
            let mut lines = text.lines();
            let header: Value = serde_json::from_str(lines.next().unwrap_or("{}")).unwrap();
            let schemas: Vec<&str> = lines.collect();
            header["crds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let name = format!(
                        "{}/{} {} ({})",
                        c["group"].as_str().unwrap_or_default(),
                        c["version"].as_str().unwrap_or_default(),
                        c["kind"].as_str().unwrap_or_default(),
                        c["components"]
                    );
                    let schema = c["schema"]
                        .as_u64()
                        .and_then(|i| schemas.get(usize::try_from(i).ok()?))
                        .copied()
                        .unwrap_or_default();
                    (name, format!("{c}{schema}"))
                })
                .collect()
        };
        let (old, new) = (read(old), read(new));
        let mut out: Vec<String> = Vec::new();
        for (k, v) in &new {
            match old.get(k) {
                None => out.push(format!("new {k}")),
                Some(o) if o != v => out.push(format!("changed {k}")),
                Some(_) => {}
            }
        }
        out.extend(
            old.keys()
                .filter(|k| !new.contains_key(*k))
                .map(|k| format!("gone {k}")),
        );
        if out.is_empty() {
            return "the sources or their order differ".to_owned();
        }
        out.join(", ")
    }

    #[test]
    fn strip_keeps_properties_named_description() {
        let s = json!({"type": "object", "description": "x", "properties": {
            "description": {"type": "string", "description": "y"},
            "list": {"type": "array", "items": {"type": "string", "description": "z"}}}});
        assert_eq!(
            strip(&s),
            json!({"type": "object", "properties": {
                "description": {"type": "string"},
                "list": {"type": "array", "items": {"type": "string"}}}})
        );
    }

    /// The committed bundle is what the generator makes of the chart mirror and Flux's CRDs:
    /// a chart or catalogue pin that changes fails here until `cargo xtask crd-schemas` runs.
    #[test]
    #[ignore = "needs ../shared/charts and helm-python-sdk (cargo test -- --include-ignored)"]
    fn committed_crd_schemas_are_current() {
        let charts = haven_test_support::shared_path("charts");
        let helm = repo().join("tools/helm");
        haven_test_support::require_command(
            &helm.to_string_lossy(),
            &["version"],
            "helm-python-sdk (pip install -r tools/requirements-test.txt)",
        );
        let fresh = generate(&charts, &helm).expect("generate");
        let committed =
            decompress(&std::fs::read(bundle_path()).expect("committed bundle")).expect("gzip");
        assert!(
            fresh == committed,
            "crates/haven-platform/crds/schemas.json.gz is stale ({}): run `cargo xtask crd-schemas`",
            difference(&committed, &fresh)
        );
    }
}
