//! A chart as Helm loads it, from any of the forms it comes in: a `.tgz` from a Helm repository,
//! the same archive as an OCI layer, or an unpacked folder (a local mirror, a Git checkout, the
//! chart built into this binary).
//!
//! The three forms hold the same chart differently: `helm package` drops what `.helmignore`
//! names and stores dependencies as folders under `charts/<name>/`, a Git checkout keeps
//! everything and may hold dependencies as `charts/<name>-<version>.tgz`, and a mirror may
//! unpack them under any folder name. [`ChartFiles`] is the one view of all three: the files
//! Helm's loader keeps (`.helmignore` of the chart and of every chart above it, plus Helm's
//! default `templates/.?*`; a UTF-8 BOM removed), nested archives unpacked, every subchart
//! under `charts/<its Chart.yaml name>/`. Both the content digest ([`crate::digest`]) and the
//! vendored folder are made from it, so what is written is exactly what was verified.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::Value;

use crate::helmignore::{IgnoreError, Rules};

/// What Helm accepts, decompressed (`MaxDecompressedChartSize`).
pub const MAX_CHART_BYTES: u64 = 100 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a chart could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("not a gzip-compressed tar archive: {0}")]
    NotAnArchive(String),
    #[error("archive entry `{0}` is a link; charts hold regular files only")]
    Link(String),
    #[error("archive entry `{0}` leaves the chart directory")]
    Escapes(String),
    #[error("the chart is larger than {} MiB unpacked", MAX_CHART_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("no Chart.yaml at the root of {0}")]
    NoChartYaml(String),
    #[error("{file}: {message}")]
    BadChartYaml { file: String, message: String },
    #[error("{file}: {source}")]
    Ignore {
        file: String,
        #[source]
        source: IgnoreError,
    },
    #[error("`{0}` is not a chart (Helm only loads chart folders and .tgz archives in charts/)")]
    StrayFile(String),
    #[error("two subcharts named `{name}` in {dir}")]
    DuplicateSubchart { name: String, dir: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// One dependency as `Chart.yaml` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: Option<String>,
    pub alias: Option<String>,
}

/// What vendoring reads from a `Chart.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub app_version: Option<String>,
    pub description: Option<String>,
    pub home: Option<String>,
    /// The SPDX expression of `annotations["artifacthub.io/license"]`, where the chart says.
    pub license: Option<String>,
    pub dependencies: Vec<Dependency>,
}

/// The files Helm loads from one chart and its subcharts, by canonical path (`/`-separated,
/// subcharts at `charts/<name>/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartFiles {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Chart roots: `""` and `charts/<name>/` prefixes.
    pub roots: BTreeSet<String>,
    /// Files present in the source that `.helmignore` leaves out (not written, not hashed).
    pub ignored: Vec<String>,
}

impl ChartFiles {
    /// Loads a chart from files as found in a folder or archive (paths relative to the chart
    /// root, `/`-separated). `origin` names the source in errors.
    pub fn load(raw: Vec<(String, Vec<u8>)>, origin: &str) -> Result<Self, ChartError> {
        let mut out = ChartFiles::default();
        load_level(raw, origin, &[], "", &mut out)?;
        Ok(out)
    }

    /// A `.tgz` chart archive, as `helm pull` or an OCI layer gives it.
    pub fn from_archive(bytes: &[u8], origin: &str) -> Result<Self, ChartError> {
        Self::load(read_archive(bytes, origin)?, origin)
    }

    /// The top chart's metadata.
    pub fn metadata(&self) -> Result<Metadata, ChartError> {
        self.metadata_at("")
    }

    /// The metadata of the chart rooted at `root` (`""` or `charts/<name>/`).
    pub fn metadata_at(&self, root: &str) -> Result<Metadata, ChartError> {
        let file = format!("{root}Chart.yaml");
        let bytes = self
            .files
            .get(&file)
            .ok_or_else(|| ChartError::NoChartYaml(root.to_owned()))?;
        parse_metadata(&file, bytes)
    }

    /// Declared dependencies with no subchart of that name (Helm refuses to render then).
    pub fn missing_dependencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        for root in &self.roots {
            let Ok(meta) = self.metadata_at(root) else {
                continue;
            };
            for d in &meta.dependencies {
                if !self.roots.contains(&format!("{root}charts/{}/", d.name)) {
                    out.push(format!(
                        "{} {} (of chart {})",
                        d.name,
                        d.version,
                        if root.is_empty() {
                            meta.name.clone()
                        } else {
                            format!("{} at {root}", meta.name)
                        }
                    ));
                }
            }
        }
        out
    }

    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.files.values().map(|v| v.len() as u64).sum()
    }
}

/// Reads the YAML of a `Chart.yaml` (haven's one YAML reader, as Kubernetes reads YAML).
pub fn parse_yaml(file: &str, bytes: &[u8]) -> Result<Value, ChartError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ChartError::BadChartYaml {
        file: file.to_owned(),
        message: "not UTF-8".to_owned(),
    })?;
    match haven_model::load::single_document(file, text) {
        Ok(Some(doc)) => Ok(doc.value),
        Ok(None) => Ok(Value::Null),
        Err(e) => Err(ChartError::BadChartYaml {
            file: file.to_owned(),
            message: e.describe(),
        }),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_metadata(file: &str, bytes: &[u8]) -> Result<Metadata, ChartError> {
    let v = parse_yaml(file, bytes)?;
    let bad = |message: &str| ChartError::BadChartYaml {
        file: file.to_owned(),
        message: message.to_owned(),
    };
    if !v.is_object() {
        return Err(bad("not a mapping"));
    }
    let name = v
        .get("name")
        .and_then(scalar)
        .ok_or_else(|| bad("no `name`"))?;
    let version = v
        .get("version")
        .and_then(scalar)
        .ok_or_else(|| bad("no `version`"))?;
    let dependencies = v
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|deps| {
            deps.iter()
                .map(|d| Dependency {
                    name: d.get("name").and_then(scalar).unwrap_or_default(),
                    version: d.get("version").and_then(scalar).unwrap_or_default(),
                    repository: d.get("repository").and_then(scalar).unwrap_or_default(),
                    condition: d.get("condition").and_then(scalar),
                    alias: d.get("alias").and_then(scalar),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Metadata {
        name,
        version,
        app_version: v.get("appVersion").and_then(scalar),
        description: v.get("description").and_then(scalar),
        home: v.get("home").and_then(scalar),
        license: v
            .get("annotations")
            .and_then(|a| a.get("artifacthub.io/license"))
            .and_then(scalar),
        dependencies,
    })
}

/// An ancestor's `.helmignore`, with where this chart sits below it.
struct Ancestor<'a> {
    rules: &'a Rules,
    prefix: String,
}

fn load_level(
    raw: Vec<(String, Vec<u8>)>,
    origin: &str,
    ancestors: &[Ancestor<'_>],
    prefix: &str,
    out: &mut ChartFiles,
) -> Result<(), ChartError> {
    let rules = match raw.iter().find(|(p, _)| p == ".helmignore") {
        Some((_, bytes)) => {
            Rules::parse(&String::from_utf8_lossy(bytes)).map_err(|source| ChartError::Ignore {
                file: format!("{origin}: {prefix}.helmignore"),
                source,
            })?
        }
        None => Rules::defaults(),
    };
    if !raw.iter().any(|(p, _)| p == "Chart.yaml") {
        return Err(ChartError::NoChartYaml(format!("{origin} {prefix}")));
    }
    let ignored = |path: &str| {
        rules.ignore_file(path)
            || ancestors
                .iter()
                .any(|a| a.rules.ignore_file(&format!("{}{path}", a.prefix)))
    };
    let mut subcharts: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (path, mut bytes) in raw {
        if ignored(&path) {
            out.ignored.push(format!("{prefix}{path}"));
            continue;
        }
        if bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        match path.strip_prefix("charts/") {
            Some(rest) if !path.ends_with(".prov") => {
                let (cname, inner) = match rest.split_once('/') {
                    Some((c, inner)) => (c, Some(inner)),
                    None => (rest, None),
                };
                if cname.starts_with(['_', '.']) {
                    continue;
                }
                match inner {
                    Some(inner) => subcharts
                        .entry(cname.to_owned())
                        .or_default()
                        .push((inner.to_owned(), bytes)),
                    None if cname.ends_with(".tgz") => {
                        let files = read_archive(&bytes, &format!("{origin}: {prefix}{path}"))?;
                        subcharts.insert(cname.to_owned(), files);
                    }
                    None => return Err(ChartError::StrayFile(format!("{prefix}{path}"))),
                }
            }
            _ => {
                out.files.insert(format!("{prefix}{path}"), bytes);
            }
        }
    }
    out.roots.insert(prefix.to_owned());
    let mut chain: Vec<Ancestor<'_>> = ancestors
        .iter()
        .map(|a| Ancestor {
            rules: a.rules,
            prefix: a.prefix.clone(),
        })
        .collect();
    chain.push(Ancestor {
        rules: &rules,
        prefix: String::new(),
    });
    for (cname, files) in subcharts {
        let chart_yaml = files
            .iter()
            .find(|(p, _)| p == "Chart.yaml")
            .ok_or_else(|| ChartError::NoChartYaml(format!("{origin} {prefix}charts/{cname}")))?;
        let name =
            parse_metadata(&format!("{prefix}charts/{cname}/Chart.yaml"), &chart_yaml.1)?.name;
        let sub_prefix = format!("{prefix}charts/{name}/");
        if out.roots.contains(&sub_prefix) {
            return Err(ChartError::DuplicateSubchart {
                name,
                dir: format!("{prefix}charts/"),
            });
        }
        let below: Vec<Ancestor<'_>> = chain
            .iter()
            .map(|a| Ancestor {
                rules: a.rules,
                prefix: format!("{}charts/{name}/", a.prefix),
            })
            .collect();
        load_level(files, origin, &below, &sub_prefix, out)?;
    }
    Ok(())
}

/// The files of a `.tgz` chart archive, paths without the top folder, checked as Helm's
/// `LoadArchiveFiles` checks them (no absolute paths, nothing above the chart, `Chart.yaml`
/// not at the top level, 100 MiB at most); links are refused rather than read as empty files.
pub fn read_archive(bytes: &[u8], origin: &str) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    if !bytes.starts_with(b"\x1f\x8b") {
        return Err(ChartError::NotAnArchive(format!(
            "{origin} does not start with the gzip magic bytes"
        )));
    }
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut archive = tar::Archive::new(gz);
    let mut out = Vec::new();
    let mut remaining = MAX_CHART_BYTES;
    let entries = archive
        .entries()
        .map_err(|e| ChartError::NotAnArchive(format!("{origin}: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ChartError::NotAnArchive(format!("{origin}: {e}")))?;
        let kind = entry.header().entry_type();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(ChartError::Link(name));
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            return Err(ChartError::NotAnArchive(format!(
                "{origin}: entry `{name}` is not a regular file"
            )));
        }
        let normalized = name.replace('\\', "/");
        let mut parts = normalized.split('/');
        let first = parts.next().unwrap_or_default();
        if first == "Chart.yaml" {
            return Err(ChartError::NotAnArchive(format!(
                "{origin}: Chart.yaml is not inside the chart's folder"
            )));
        }
        let rel = clean(&parts.collect::<Vec<_>>().join("/"))
            .ok_or_else(|| ChartError::Escapes(name.clone()))?;
        let size = entry.header().size().unwrap_or(0);
        if size > remaining {
            return Err(ChartError::TooLarge);
        }
        let mut data = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(remaining + 1)
            .read_to_end(&mut data)
            .map_err(|e| ChartError::NotAnArchive(format!("{origin}: {name}: {e}")))?;
        if data.len() as u64 > remaining {
            return Err(ChartError::TooLarge);
        }
        remaining -= data.len() as u64;
        out.push((rel, data));
    }
    if out.is_empty() {
        return Err(ChartError::NotAnArchive(format!(
            "{origin}: no files in chart archive"
        )));
    }
    Ok(out)
}

/// `path.Clean` for a relative archive path; `None` when it is absolute, empty or climbs out.
fn clean(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() || (parts[0].len() == 2 && parts[0].ends_with(':')) {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `.tgz` of `files` under the folder `top`, as `helm package` writes it.
    pub(crate) fn tgz(top: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            // The name is written raw (not through `set_path`, which refuses `..`), so tests
            // can build the hostile archives the reader must refuse.
            let name = format!("{top}/{path}");
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            builder.append(&h, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn helmignore_and_subcharts_are_applied_as_helm_loads() {
        let sub = tgz(
            "db",
            &[
                ("Chart.yaml", b"name: db\nversion: 1.0.0\n"),
                ("templates/a.yaml", b"kind: A\n"),
                ("ci/test.yaml", b"x: 1\n"),
            ],
        );
        let mut raw = files(&[
            (
                "Chart.yaml",
                "\u{feff}name: app\nversion: 0.1.0\ndependencies:\n  - name: db\n    version: 1.0.0\n  - name: cache\n    version: 2.0.0\n",
            ),
            (".helmignore", "ci/\n*.orig\n"),
            ("values.yaml", "a: 1\n"),
            ("templates/.hidden.yaml", "x"),
            ("templates/x.yaml.orig", "x"),
            ("ci/values.yaml", "x"),
            ("charts/local/Chart.yaml", "name: crds\nversion: 0.0.0\n"),
            ("charts/local/crds/a.yaml", "kind: CRD\n"),
        ]);
        raw.push(("charts/db-1.0.0.tgz".to_owned(), sub));
        let c = ChartFiles::load(raw, "test").unwrap();
        let paths: Vec<&str> = c.files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                ".helmignore",
                "Chart.yaml",
                "charts/crds/Chart.yaml",
                "charts/crds/crds/a.yaml",
                "charts/db/Chart.yaml",
                "charts/db/templates/a.yaml",
                "values.yaml",
            ]
        );
        assert!(!c.files["Chart.yaml"].starts_with(BOM));
        // The parent's `ci/` reaches into the archive's subchart too.
        assert!(c.ignored.contains(&"charts/db/ci/test.yaml".to_owned()));
        assert_eq!(c.metadata().unwrap().name, "app");
        assert_eq!(c.missing_dependencies(), ["cache 2.0.0 (of chart app)"]);
    }

    #[test]
    fn archives_that_escape_or_link_are_refused() {
        let escape = tgz(
            "x",
            &[("Chart.yaml", b"name: x\n"), ("../../etc/passwd", b"")],
        );
        assert!(matches!(
            ChartFiles::from_archive(&escape, "t"),
            Err(ChartError::Escapes(_))
        ));
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_cksum();
        builder
            .append_link(&mut h, "x/templates/a.yaml", "/etc/passwd")
            .unwrap();
        let link = builder.into_inner().unwrap().finish().unwrap();
        assert!(matches!(
            ChartFiles::from_archive(&link, "t"),
            Err(ChartError::Link(_))
        ));
        assert!(matches!(
            ChartFiles::from_archive(b"<html>not found</html>", "t"),
            Err(ChartError::NotAnArchive(_))
        ));
        let no_chart = tgz("x", &[("values.yaml", b"a: 1\n")]);
        assert!(matches!(
            ChartFiles::from_archive(&no_chart, "t"),
            Err(ChartError::NoChartYaml(_))
        ));
    }
}
