//! The edge: reading and writing trees and schema directories on disk. Everything else in this
//! crate works on in-memory data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{SchemaError, TreeError};
use crate::validate::SchemaSource;

/// A tree as read from disk, and the files that could not be read (reported, not fatal: one
/// unreadable file does not hide the others).
#[derive(Debug, Default)]
pub struct ReadTree {
    pub files: BTreeMap<PathBuf, String>,
    pub unreadable: Vec<TreeError>,
}

/// Reads every `*.yaml`/`*.yml` file under the managed roots of `dir` (or under `dir` itself
/// when it has none of them), keyed by path relative to `dir`.
pub fn read_tree(dir: &Path) -> Result<BTreeMap<PathBuf, String>, TreeError> {
    let t = read_tree_lenient(dir)?;
    match t.unreadable.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(t.files),
    }
}

/// Like [`read_tree`], collecting unreadable files instead of stopping at the first.
pub fn read_tree_lenient(dir: &Path) -> Result<ReadTree, TreeError> {
    if !dir.is_dir() {
        return Err(TreeError::NotADirectory(dir.to_path_buf()));
    }
    // A GitOps repository also holds haven-plus.yaml, CI files and docs: only the rendered roots
    // are Kubernetes objects.
    let restrict = crate::diff::MANAGED_ROOTS
        .iter()
        .any(|r| dir.join(r).is_dir());
    let mut out = ReadTree::default();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|source| TreeError::Walk {
            dir: dir.to_path_buf(),
            source,
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_path_buf();
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let yaml = rel.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if hidden || !yaml || (restrict && !crate::diff::is_managed(&rel)) {
            continue;
        }
        match std::fs::read_to_string(entry.path()) {
            Ok(text) => {
                out.files.insert(rel, text);
            }
            Err(source) => out.unreadable.push(TreeError::Read {
                path: entry.path().to_path_buf(),
                source,
            }),
        }
    }
    Ok(out)
}

/// Only the files `haven plus render` owns.
pub fn read_managed(dir: &Path) -> Result<BTreeMap<PathBuf, String>, TreeError> {
    if !dir.exists() {
        return Ok(BTreeMap::new());
    }
    Ok(read_tree(dir)?
        .into_iter()
        .filter(|(p, _)| crate::diff::is_managed(p))
        .collect())
}

/// Writes rendered files under `dir`, creating directories; unchanged files are not touched
/// (their modification time stays, which keeps editors and build tools quiet). Each file is
/// replaced atomically, and nothing is written through a symbolic link (file or directory) that
/// leads out of `dir`: a Git repository can carry such links (`haven_io::files::Tree`).
pub fn write_tree(dir: &Path, files: &BTreeMap<PathBuf, String>) -> Result<usize, TreeError> {
    let mut tree = haven_io::files::Tree::open(dir)?;
    // Every path first: a refused link leaves the tree as it was, not half rendered.
    for rel in files.keys() {
        tree.check(rel)?;
    }
    let mut written = 0;
    for (rel, text) in files {
        if tree.write(rel, text.as_bytes())? {
            written += 1;
        }
    }
    tree.finish()?;
    Ok(written)
}

/// CRD schemas in a directory laid out as `<group>/<kind>_<version>.json` (the CRDs-catalog
/// layout kubeconform uses).
#[derive(Debug, Clone)]
pub struct DirSchemas {
    pub dir: PathBuf,
}

impl SchemaSource for DirSchemas {
    fn crd_schema(
        &self,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Option<Value>, SchemaError> {
        let path = self.dir.join(group).join(format!("{kind}_{version}.json"));
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|source| SchemaError::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SchemaError::Read { path, source }),
        }
    }
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// The files of a chart directory that `validate --charts` reads (`Chart.yaml`,
/// `values.yaml`, `values.schema.json`, every file under `templates/`, and the same for each
/// subchart under `charts/`), keyed by path relative to `dir` with `/`; subchart archives
/// (`charts/*.tgz`) are listed with empty text. Anything else (docs, dashboards, `crds/`,
/// which Helm reads itself) is left alone.
pub fn read_chart_files(
    dir: &Path,
) -> Result<BTreeMap<String, String>, crate::charts::ChartSourceError> {
    use crate::charts::ChartSourceError;
    fn wanted(rel: &str) -> bool {
        let mut parts: Vec<&str> = rel.split('/').collect();
        // Strip `charts/<sub>/` prefixes: a subchart's files are wanted as its parent's are.
        while parts.len() > 2 && parts[0] == "charts" {
            parts.drain(..2);
        }
        match parts.as_slice() {
            ["Chart.yaml" | "values.yaml" | "values.yml" | "values.schema.json"] => true,
            ["charts", archive] => archive.ends_with(".tgz"),
            ["templates", ..] => true,
            _ => false,
        }
    }
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|source| ChartSourceError::List {
            dir: dir.to_path_buf(),
            source,
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if !wanted(&rel) {
            continue;
        }
        if rel.ends_with(".tgz") {
            out.insert(rel, String::new());
            continue;
        }
        match std::fs::read(entry.path()) {
            Ok(bytes) => {
                // A template that is not text (an image under templates/) is not a template.
                if let Ok(text) = String::from_utf8(bytes) {
                    out.insert(rel, text);
                }
            }
            Err(source) => {
                return Err(ChartSourceError::Read {
                    path: entry.path().to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(out)
}

/// Charts laid out as `DIR/<component>/Chart.yaml` (what `haven plus vendor` writes, and
/// `../shared/charts`), with charts that are not in `DIR` supplied from elsewhere (the
/// haven-admission chart built into the binary, written to a temporary directory).
#[derive(Debug, Clone)]
pub struct ChartDir {
    pub dir: PathBuf,
    /// Component → a chart directory used when `DIR` has no folder for it.
    pub fallback: BTreeMap<String, PathBuf>,
}

impl ChartDir {
    fn load(
        &self,
        location: &Path,
        shown: &str,
    ) -> Result<crate::charts::LoadedChart, crate::charts::ChartSourceError> {
        let files = read_chart_files(location)?;
        Ok(crate::charts::LoadedChart {
            chart: crate::charts::chart::from_files(shown, &files),
            location: location.to_path_buf(),
        })
    }
}

impl crate::charts::ChartSource for ChartDir {
    fn find(
        &self,
        component: &str,
        chart: &str,
    ) -> Result<Option<crate::charts::LoadedChart>, crate::charts::ChartSourceError> {
        let shown = |p: &Path| p.display().to_string();
        let own = self.dir.join(component);
        if own.join("Chart.yaml").is_file() {
            return self.load(&own, &shown(&own)).map(Some);
        }
        if let Some(fallback) = self.fallback.get(component) {
            return self
                .load(fallback, &format!("{component} (built into haven)"))
                .map(Some);
        }
        // A folder named otherwise that holds the chart of that name.
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(None);
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("Chart.yaml").is_file())
            .collect();
        dirs.sort();
        for d in dirs {
            let text = std::fs::read_to_string(d.join("Chart.yaml")).unwrap_or_default();
            let name = haven_model::parse_stream("Chart.yaml", &text)
                .into_iter()
                .next()
                .and_then(Result::ok)
                .and_then(|doc| {
                    doc.value
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            if name.as_deref() == Some(chart) {
                return self.load(&d, &shown(&d)).map(Some);
            }
        }
        Ok(None)
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart folder that cannot be listed is a typed error naming the folder.
    #[test]
    fn an_unlistable_chart_folder_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        match read_chart_files(&gone) {
            Err(e @ crate::charts::ChartSourceError::List { .. }) => {
                assert!(
                    e.to_string().starts_with(&gone.display().to_string()),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    /// A schema file that is not JSON is an error naming the file; an absent one is no schema.
    #[test]
    fn dir_schemas_tell_a_broken_file_from_an_absent_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("example.com")).unwrap();
        std::fs::write(dir.path().join("example.com/widget_v1.json"), "{not json").unwrap();
        let schemas = DirSchemas {
            dir: dir.path().to_path_buf(),
        };
        match schemas.crd_schema("example.com", "widget", "v1") {
            Err(SchemaError::Json { path, .. }) => assert!(path.ends_with("widget_v1.json")),
            other => panic!("expected a JSON error, got {other:?}"),
        }
        assert!(matches!(
            schemas.crd_schema("example.com", "widget", "v2"),
            Ok(None)
        ));
    }
}
