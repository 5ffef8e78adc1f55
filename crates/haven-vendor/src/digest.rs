//! The content digest of a chart: one sha256 that the same chart has whether it arrives as a
//! Helm repository archive, an OCI artifact or an unpacked mirror folder.
//!
//! The sha256 of a `.tgz` cannot be that: gzip and tar headers (timestamps, owners, order)
//! differ between packagings of identical content, an OCI registry may hold a re-packed copy, a
//! mirror holds no archive at all. So the digest is over the content Helm loads, in the way Go's
//! module `dirhash` (`h1:`) hashes a module:
//!
//! 1. the files of [`ChartFiles`] (what Helm's loader keeps after `.helmignore`, subcharts
//!    unpacked under `charts/<name>/`, a UTF-8 BOM removed);
//! 2. each file's bytes, except `Chart.yaml`, `Chart.lock`, `requirements.yaml` and
//!    `requirements.lock` at a chart root, which `helm package` re-serialises (comments, order
//!    and empty fields are lost): those are hashed as canonical JSON of the fields Helm keeps
//!    (keys sorted, empty values dropped, a lock file's `generated` time dropped);
//! 3. one line `<sha256 hex of the content>  <path>\n` per file, sorted by path (bytes);
//! 4. `sha256:` + the hex sha256 of those lines.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::chart::{ChartError, ChartFiles, parse_yaml};

/// The prefix of every content digest.
pub const PREFIX: &str = "sha256:";

/// The content digest of a chart.
pub fn content_digest(chart: &ChartFiles) -> Result<String, ChartError> {
    let mut lines = String::new();
    for (path, bytes) in &chart.files {
        let canonical;
        let content: &[u8] = match structured_kind(chart, path) {
            Some(kind) => {
                canonical = canonical_json(&filter(kind, parse_yaml(path, bytes)?));
                canonical.as_bytes()
            }
            None => bytes,
        };
        let _ = writeln!(lines, "{}  {path}", hex(&Sha256::digest(content)));
    }
    Ok(format!(
        "{PREFIX}{}",
        hex(&Sha256::digest(lines.as_bytes()))
    ))
}

/// The content digest of a directory of plain manifests (a `manifests` component: what a Flux
/// Kustomization applies from a Git tag): steps 3 and 4 over every file's bytes as they are.
/// Nothing repacks or re-serialises such files, so no file is canonicalised; an unchanged
/// directory has one digest whether it comes from a clone, an archive or a mirror folder.
pub fn files_digest(files: &std::collections::BTreeMap<String, Vec<u8>>) -> String {
    let mut lines = String::new();
    for (path, bytes) in files {
        let _ = writeln!(lines, "{}  {path}", hex(&Sha256::digest(bytes)));
    }
    format!("{PREFIX}{}", hex(&Sha256::digest(lines.as_bytes())))
}

/// Whether `digest` is written as this module writes digests.
pub fn is_well_formed(digest: &str) -> bool {
    digest.strip_prefix(PREFIX).is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[derive(Debug, Clone, Copy)]
enum Structured {
    Metadata,
    Requirements,
    Lock,
}

fn structured_kind(chart: &ChartFiles, path: &str) -> Option<Structured> {
    let (root, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), path),
    };
    if !chart.roots.contains(&root) {
        return None;
    }
    match name {
        "Chart.yaml" => Some(Structured::Metadata),
        "requirements.yaml" => Some(Structured::Requirements),
        "Chart.lock" | "requirements.lock" => Some(Structured::Lock),
        _ => None,
    }
}

/// The fields of Helm's `chart.Metadata`, `chart.Dependency`, `chart.Maintainer` and
/// `chart.Lock`: what survives `helm package`.
const METADATA: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];
const DEPENDENCY: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];
const MAINTAINER: &[&str] = &["name", "email", "url"];
const LOCK: &[&str] = &["digest", "dependencies"];

fn filter(kind: Structured, v: Value) -> Value {
    let keep = |v: &Value, fields: &[&str]| -> Map<String, Value> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| fields.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let list = |v: Option<&Value>, fields: &[&str]| -> Option<Value> {
        v.and_then(Value::as_array).map(|items| {
            Value::Array(
                items
                    .iter()
                    .map(|i| Value::Object(keep(i, fields)))
                    .collect(),
            )
        })
    };
    let mut top = match kind {
        Structured::Metadata => keep(&v, METADATA),
        Structured::Requirements => keep(&v, &["dependencies"]),
        Structured::Lock => keep(&v, LOCK),
    };
    let dep_fields = match kind {
        Structured::Lock => &["name", "version", "repository"][..],
        _ => DEPENDENCY,
    };
    if let Some(d) = list(v.get("dependencies"), dep_fields) {
        top.insert("dependencies".into(), d);
    }
    if let Some(m) =
        list(v.get("maintainers"), MAINTAINER).filter(|_| top.contains_key("maintainers"))
    {
        top.insert("maintainers".into(), m);
    }
    prune(Value::Object(top)).unwrap_or(Value::Null)
}

/// Drops what Go's `omitempty` drops: null, "", false, empty lists and maps. Numbers are kept
/// as their text, so `appVersion: 1.10` hashes as Helm reads it.
fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let items: Vec<Value> = items
                .into_iter()
                .map(|i| prune(i).unwrap_or(Value::Null))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(m) => {
            let m: Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
                .collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => Some(other),
    }
}

/// JSON with keys sorted at every level and no whitespace, independent of how serde_json's map
/// is configured in the build.
fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Number(n) => out.push_str(&Value::String(n.to_string()).to_string()),
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::tests::tgz;

    fn dir(list: &[(&str, &str)]) -> ChartFiles {
        ChartFiles::load(
            list.iter()
                .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
                .collect(),
            "dir",
        )
        .unwrap()
    }

    /// The same chart as a Git folder (comments, unpacked dependency under another folder name,
    /// files `.helmignore` drops) and as `helm package` writes it (Chart.yaml re-serialised,
    /// dependency as `charts/<name>/`): one digest.
    #[test]
    fn folder_and_package_of_one_chart_agree() {
        let folder = dir(&[
            (
                "Chart.yaml",
                "# the app\napiVersion: v2\nname: app\nversion: 1.0.0\nkeywords: []\nicon: ''\nmaintainers:\n  - name: x\n    email: ''\nunknownField: 1\n",
            ),
            (".helmignore", "ci/\n"),
            ("ci/x.yaml", "a: 1"),
            ("values.yaml", "# keep comments\na: 1\n"),
            ("templates/a.yaml", "kind: A\n"),
            ("charts/db-folder/Chart.yaml", "name: db\nversion: 2.0.0\n"),
            ("charts/db-folder/values.yaml", "b: 2\n"),
        ]);
        let package = ChartFiles::from_archive(
            &tgz(
                "app",
                &[
                    (
                        "Chart.yaml",
                        b"apiVersion: v2\nmaintainers:\n- name: x\nname: app\nversion: 1.0.0\n",
                    ),
                    (".helmignore", b"ci/\n"),
                    ("values.yaml", b"# keep comments\na: 1\n"),
                    ("templates/a.yaml", b"kind: A\n"),
                    ("charts/db/Chart.yaml", b"name: db\nversion: 2.0.0\n"),
                    ("charts/db/values.yaml", b"b: 2\n"),
                ],
            ),
            "package",
        )
        .unwrap();
        let a = content_digest(&folder).unwrap();
        assert!(is_well_formed(&a), "{a}");
        assert_eq!(a, content_digest(&package).unwrap());
    }

    /// Any change Helm would see changes the digest: a template byte, a value, a file added, a
    /// dependency's content, a field of Chart.yaml.
    #[test]
    fn every_loaded_change_changes_the_digest() {
        let base: Vec<(&str, &str)> = vec![
            ("Chart.yaml", "name: app\nversion: 1.0.0\n"),
            ("values.yaml", "a: 1\n"),
            ("templates/a.yaml", "kind: A\n"),
            ("charts/db/Chart.yaml", "name: db\nversion: 2.0.0\n"),
            ("charts/db/templates/b.yaml", "kind: B\n"),
        ];
        let d0 = content_digest(&dir(&base)).unwrap();
        let variants: Vec<Vec<(&str, &str)>> = vec![
            {
                let mut v = base.clone();
                v[2].1 = "kind: A \n";
                v
            },
            {
                let mut v = base.clone();
                v[1].1 = "a: 2\n";
                v
            },
            {
                let mut v = base.clone();
                v.push(("templates/evil.yaml", "kind: ClusterRoleBinding\n"));
                v
            },
            {
                let mut v = base.clone();
                v[4].1 = "kind: C\n";
                v
            },
            {
                let mut v = base.clone();
                v[0].1 = "name: app\nversion: 1.0.0\nkubeVersion: '>=1.30'\n";
                v
            },
            {
                let mut v = base.clone();
                // Moving a template between charts is a change too.
                v[4].0 = "templates/b.yaml";
                v
            },
        ];
        for v in variants {
            assert_ne!(d0, content_digest(&dir(&v)).unwrap(), "{v:?}");
        }
        // What Helm ignores does not count.
        let mut v = base.clone();
        v.push(("templates/.swp", "junk"));
        assert_eq!(d0, content_digest(&dir(&v)).unwrap());
    }

    /// The format, pinned: a change to it changes every digest in the catalogue.
    #[test]
    fn digest_format_is_stable() {
        let c = dir(&[("Chart.yaml", "name: a\nversion: 1.0.0\n")]);
        let meta = canonical_json(&filter(
            Structured::Metadata,
            serde_json::json!({"name": "a", "version": "1.0.0"}),
        ));
        assert_eq!(meta, r#"{"name":"a","version":"1.0.0"}"#);
        let line = format!("{}  Chart.yaml\n", hex(&Sha256::digest(meta.as_bytes())));
        assert_eq!(
            content_digest(&c).unwrap(),
            format!("sha256:{}", hex(&Sha256::digest(line.as_bytes())))
        );
    }
}
