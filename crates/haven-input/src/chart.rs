//! Rendering a chart so that every finding can point at its template line: the chart is copied
//! with its template lines tagged, both are rendered by the same helm, and the tags of the one
//! are read back beside the text of the other (`haven_model::template_lines` explains why and
//! how, and when a document keeps lines counted from its `# Source:` comment instead).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use haven_model::template_lines::{TemplateFile, TemplateLines, tag_template};
use haven_model::{InputError, raw_documents};

use crate::{ChartRenderer, HelmOptions};

/// A chart's rendered text, and where its lines came from when that could be told.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub text: String,
    pub lines: Option<Arc<TemplateLines>>,
    /// Why some or all lines count from the `# Source:` comment, for the user.
    pub note: Option<String>,
}

/// How often a tagged render that helm refused is tried again without the template it named.
const RETRIES: usize = 3;

/// Renders `dir` and, at the same time, a tagged copy of it.
pub(crate) fn render(
    dir: &Path,
    renderer: &dyn ChartRenderer,
    opts: &HelmOptions,
) -> Result<Rendered, InputError> {
    let name = dir.display().to_string();
    let (plain, tagged) = std::thread::scope(|s| {
        let plain = s.spawn(|| renderer.render(dir, opts));
        let tagged = tagged_render(dir, renderer, opts);
        (
            plain
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            tagged,
        )
    });
    let text = plain?;
    let (tagged, files) = match tagged {
        Ok(t) => t,
        Err(why) => {
            return Ok(Rendered {
                text,
                lines: None,
                note: Some(format!(
                    "helm template {name}: findings point at lines counted from each document's \
                     `# Source:` comment, not at template lines: {why}"
                )),
            });
        }
    };
    let (lines, untrusted) = TemplateLines::build(&text, &tagged, &files);
    let note = untrusted.map(|u| {
        let example = u
            .example
            .map(|(source, line)| {
                format!(" (the first: {source}, line {line} of the rendered chart)")
            })
            .unwrap_or_default();
        format!(
            "helm template {name}: {} document{}{example} point at lines counted from the \
             `# Source:` comment, not at template lines: {}",
            u.documents,
            if u.documents == 1 { "" } else { "s" },
            u.reason
        )
    });
    Ok(Rendered {
        text,
        lines: Some(Arc::new(lines)),
        note,
    })
}

/// The render of a tagged copy of `dir`, and its files; the reason when there is none.
pub(crate) fn tagged_render(
    dir: &Path,
    renderer: &dyn ChartRenderer,
    opts: &HelmOptions,
) -> Result<(String, Vec<TemplateFile>), TaggedRenderError> {
    let files = template_files(dir);
    if files.is_empty() {
        return Err(TaggedRenderError::NoTemplates);
    }
    let copy = tempfile::Builder::new()
        .prefix("haven-chart-")
        .tempdir()
        .map_err(TaggedRenderError::TempDir)?;
    let root = copy
        .path()
        .join(dir.file_name().unwrap_or("chart".as_ref()));
    mirror(dir, &root).map_err(TaggedRenderError::Copy)?;
    let mut untagged: Vec<usize> = Vec::new();
    loop {
        for (id, file) in files.iter().enumerate() {
            let original = dir.join(&file.path);
            let text =
                std::fs::read_to_string(&original).map_err(|source| TaggedRenderError::Read {
                    path: original.clone(),
                    source,
                })?;
            let content = if untagged.contains(&id) {
                text
            } else {
                tag_template(&text, id as u32)
            };
            replace(&root.join(&file.path), &content)?;
        }
        match renderer.render(&root, opts) {
            Ok(text) => return Ok((text, files)),
            Err(e) => {
                // Helm parses each rendered document (to sort them): a tag that ended a plain
                // scalar makes one unreadable. Leave that template untagged and try again.
                let named = files.iter().position(|f| {
                    f.sources
                        .iter()
                        .any(|s| e.message.contains(&format!("error on {s}")))
                });
                match named {
                    Some(id) if untagged.len() < RETRIES && !untagged.contains(&id) => {
                        untagged.push(id);
                    }
                    _ => return Err(TaggedRenderError::Render(e)),
                }
            }
        }
    }
}

/// Why a chart has no tagged render ([`crate::render_tagged`]); its findings then keep the
/// lines counted from each document's `# Source:` comment.
#[derive(Debug, thiserror::Error)]
pub enum TaggedRenderError {
    #[error("the chart has no templates to tag")]
    NoTemplates,
    #[error("no temporary directory for a tagged copy: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("could not copy the chart: {0}")]
    Copy(#[source] std::io::Error),
    #[error("could not read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Helm refused the tagged copy (after leaving out the templates it named).
    #[error("the tagged copy did not render: {}", .0.message)]
    Render(#[source] InputError),
}

/// Writes `content` to a new file at `path` in the copy: the hard link to the original that
/// the copy holds there is removed first, so the original is never written to.
fn replace(path: &Path, content: &str) -> Result<(), TaggedRenderError> {
    use std::io::Write;
    let failed = |source: std::io::Error| TaggedRenderError::Write {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    std::fs::File::create_new(path)
        .and_then(|mut f| f.write_all(content.as_bytes()))
        .map_err(failed)
}

/// Creates `to` as a copy of `from`: directories created, files hard-linked (copied where a
/// link cannot be made), symbolic links followed as Helm follows them.
fn mirror(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(true) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .map_err(std::io::Error::other)?;
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Every template of the chart in `dir` and of its subcharts (unpacked in `charts/`), with the
/// `# Source:` paths Helm gives them. Subcharts packed as `.tgz` are not looked into.
pub(crate) fn template_files(dir: &Path) -> Vec<TemplateFile> {
    let mut files = Vec::new();
    if let Some(meta) = chart_meta(dir) {
        collect_templates(dir, "", std::slice::from_ref(&meta.name), &mut files);
    }
    files
}

/// What of a `Chart.yaml` (and a Helm 2 `requirements.yaml`) names charts.
struct ChartMeta {
    name: String,
    /// Dependencies: (chart name, alias).
    dependencies: Vec<(String, Option<String>)>,
}

fn chart_meta(dir: &Path) -> Option<ChartMeta> {
    let read = |file: &str| -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let doc = raw_documents(&text).first()?.parse(file)?.ok()?;
        Some(doc.value)
    };
    let chart = read("Chart.yaml")?;
    let name = chart.get("name")?.as_str()?.to_owned();
    let deps = |v: &serde_json::Value| -> Vec<(String, Option<String>)> {
        v.get("dependencies")
            .and_then(|d| d.as_array())
            .map(|d| {
                d.iter()
                    .filter_map(|dep| {
                        let name = dep.get("name")?.as_str()?.to_owned();
                        let alias = dep
                            .get("alias")
                            .and_then(|a| a.as_str())
                            .filter(|a| !a.is_empty())
                            .map(str::to_owned);
                        Some((name, alias))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut dependencies = deps(&chart);
    if let Some(req) = read("requirements.yaml") {
        dependencies.extend(deps(&req));
    }
    Some(ChartMeta { name, dependencies })
}

/// Adds the templates of the chart at `dir` (at `rel` below the top chart), which Helm names
/// by each of `helm_paths`.
fn collect_templates(dir: &Path, rel: &str, helm_paths: &[String], out: &mut Vec<TemplateFile>) {
    let Some(meta) = chart_meta(dir) else {
        return;
    };
    let templates = dir.join("templates");
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&templates)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    found.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !name.starts_with('_') && (name.ends_with(".yaml") || name.ends_with(".yml"))
    });
    for path in found {
        let Ok(inner) = path.strip_prefix(&templates) else {
            continue;
        };
        let inner = slashes(inner);
        out.push(TemplateFile {
            path: format!("{rel}templates/{inner}"),
            sources: helm_paths
                .iter()
                .map(|h| format!("{h}/templates/{inner}"))
                .collect(),
        });
    }
    let Ok(entries) = std::fs::read_dir(dir.join("charts")) else {
        return;
    };
    let mut subcharts: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    subcharts.sort();
    for sub in subcharts {
        let Some(sub_meta) = chart_meta(&sub) else {
            continue;
        };
        // Helm names a subchart by its dependency's alias, else by its own name.
        let mut names: Vec<String> = meta
            .dependencies
            .iter()
            .filter(|(name, _)| *name == sub_meta.name)
            .map(|(_, alias)| alias.clone().unwrap_or_else(|| sub_meta.name.clone()))
            .collect();
        if names.is_empty() {
            names.push(sub_meta.name.clone());
        }
        names.dedup();
        let sub_paths: Vec<String> = helm_paths
            .iter()
            .flat_map(|h| names.iter().map(move |n| format!("{h}/charts/{n}")))
            .collect();
        let dir_name = sub.file_name().map(|n| n.to_string_lossy().into_owned());
        let sub_rel = format!("{rel}charts/{}/", dir_name.unwrap_or_default());
        collect_templates(&sub, &sub_rel, &sub_paths, out);
    }
}

fn slashes(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Why there is no tagged render is told by variant: a chart without templates is never
    /// rendered, and helm's refusal of the copy keeps helm's error as the source.
    #[test]
    fn a_missing_tagged_render_says_why_by_variant() {
        struct Refuses;
        impl ChartRenderer for Refuses {
            fn render(&self, chart: &Path, _: &HelmOptions) -> Result<String, InputError> {
                Err(InputError::new(
                    haven_model::InputErrorKind::Render,
                    &chart.display().to_string(),
                    0,
                    "no",
                ))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("app");
        write(
            &c.join("Chart.yaml"),
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        );
        let opts = HelmOptions::default();
        assert!(matches!(
            tagged_render(&c, &Refuses, &opts),
            Err(TaggedRenderError::NoTemplates)
        ));
        write(&c.join("templates/cm.yaml"), "kind: ConfigMap\n");
        match tagged_render(&c, &Refuses, &opts) {
            Err(e @ TaggedRenderError::Render(_)) => {
                assert_eq!(e.to_string(), "the tagged copy did not render: no");
                assert!(std::error::Error::source(&e).is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn templates_of_subcharts_are_named_as_helm_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("app");
        write(
            &c.join("Chart.yaml"),
            "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: postgresql\n  alias: db\n- name: postgresql\n  alias: cache\n- name: redis\n",
        );
        write(&c.join("templates/deploy.yaml"), "kind: Deployment\n");
        write(
            &c.join("templates/_helpers.tpl"),
            "{{- define \"x\" }}{{ end }}\n",
        );
        write(&c.join("templates/NOTES.txt"), "hello\n");
        write(&c.join("templates/sub/cm.yml"), "kind: ConfigMap\n");
        write(
            &c.join("charts/postgresql-18.5.5/Chart.yaml"),
            "name: postgresql\nversion: 18.5.5\n",
        );
        write(
            &c.join("charts/postgresql-18.5.5/templates/sts.yaml"),
            "kind: StatefulSet\n",
        );
        write(&c.join("charts/redis/Chart.yaml"), "name: redis\n");
        write(
            &c.join("charts/redis/templates/svc.yaml"),
            "kind: Service\n",
        );
        let files = template_files(&c);
        assert_eq!(
            files,
            [
                TemplateFile {
                    path: "templates/deploy.yaml".into(),
                    sources: vec!["top/templates/deploy.yaml".into()],
                },
                TemplateFile {
                    path: "templates/sub/cm.yml".into(),
                    sources: vec!["top/templates/sub/cm.yml".into()],
                },
                TemplateFile {
                    path: "charts/postgresql-18.5.5/templates/sts.yaml".into(),
                    sources: vec![
                        "top/charts/db/templates/sts.yaml".into(),
                        "top/charts/cache/templates/sts.yaml".into()
                    ],
                },
                TemplateFile {
                    path: "charts/redis/templates/svc.yaml".into(),
                    sources: vec!["top/charts/redis/templates/svc.yaml".into()],
                },
            ]
        );
    }

    #[test]
    fn the_copy_is_the_chart_with_its_templates_tagged() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("app");
        write(&c.join("Chart.yaml"), "name: app\n");
        write(&c.join("templates/cm.yaml"), "kind: ConfigMap\n");
        write(&c.join("files/big.json"), "{}\n");
        struct Echo;
        impl ChartRenderer for Echo {
            fn render(&self, chart: &Path, _: &HelmOptions) -> Result<String, InputError> {
                let t = std::fs::read_to_string(chart.join("templates/cm.yaml")).unwrap();
                assert!(chart.join("files/big.json").is_file());
                Ok(format!("---\n# Source: app/templates/cm.yaml\n{t}"))
            }
        }
        let r = render(&c, &Echo, &HelmOptions::default()).unwrap();
        assert_eq!(
            r.text,
            "---\n# Source: app/templates/cm.yaml\nkind: ConfigMap\n"
        );
        assert_eq!(r.note, None);
        let lines = r.lines.unwrap();
        assert_eq!(
            lines.line(3),
            haven_model::template_lines::Mapped::Own { line: 1, cols: 15 }
        );
        // The original is untouched.
        assert_eq!(
            std::fs::read_to_string(c.join("templates/cm.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
    }
}
