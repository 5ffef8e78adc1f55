//! `haven plus validate --charts DIR`: the edge of `haven_platform::charts` — Helm's engine
//! through `helm template` ([`HelmEngine`]), the chart directory, the built-in haven-admission
//! chart written where helm can read it — and the conversion of its problems into the reports
//! of the other commands.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use haven_input::{ChartRenderer, HelmCommand, HelmOptions};
use haven_model::template_lines::TemplateFile;
use haven_model::{Finding, Location, ObjectRef, RuleGroup, RuleInfo, RuleScope, Severity};
use haven_platform::charts::check::{Check, PlatformOptions, Problem};
use haven_platform::charts::{
    self, ChartSource, HelmTemplate, RenderError, RenderOptions, RenderedPlatform, TemplateJob,
};
use haven_platform::validate::{self, SchemaSource};
use haven_platform::{Catalogue, fs};

/// Helm's engine as `helm template` (the one `haven app check` runs): the values go through a
/// file in a private temporary directory, Helm's schema validation is haven's.
#[derive(Debug)]
pub struct HelmEngine {
    pub helm: Option<PathBuf>,
    /// Where values files are written (removed with it).
    pub scratch: PathBuf,
}

impl HelmEngine {
    /// Runs `render` with the options of `job`; its values are in a temporary file meanwhile.
    fn with_options<R>(
        &self,
        job: &TemplateJob,
        render: impl FnOnce(&HelmOptions) -> Result<R, RenderError>,
    ) -> Result<R, RenderError> {
        let values_error = |e: std::io::Error| RenderError::engine(ValuesFileError(e));
        let mut file = tempfile::Builder::new()
            .prefix("values-")
            .suffix(".json")
            .tempfile_in(&self.scratch)
            .map_err(values_error)?;
        // JSON is YAML: Helm reads it as it reads any values file.
        let json = serde_json::to_vec(&job.values).map_err(RenderError::engine)?;
        file.write_all(&json)
            .and_then(|()| file.flush())
            .map_err(values_error)?;
        let opts = HelmOptions {
            helm: self.helm.clone(),
            values: vec![file.path().to_path_buf()],
            namespace: Some(job.namespace.clone()),
            release: job.release.clone(),
            kube_version: Some(job.kube_version.clone()),
            include_crds: job.include_crds,
            skip_schema_validation: true,
            ..HelmOptions::default()
        };
        render(&opts)
    }
}

impl HelmTemplate for HelmEngine {
    fn template(&self, job: &TemplateJob) -> Result<String, RenderError> {
        self.with_options(job, |opts| {
            HelmCommand
                .render(&job.chart_dir, opts)
                .map_err(|e| RenderError::engine(HelmMessage(e)))
        })
    }

    /// The tagged copy `haven app check` renders for its template lines (`haven_input`).
    fn template_tagged(
        &self,
        job: &TemplateJob,
    ) -> Result<(String, Vec<TemplateFile>), RenderError> {
        self.with_options(job, |opts| {
            haven_input::render_tagged(&job.chart_dir, &HelmCommand, opts)
                .map_err(RenderError::engine)
        })
    }
}

/// The values file for helm could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the values for helm: {0}")]
struct ValuesFileError(#[source] std::io::Error);

/// Helm's refusal as the report shows it: its message alone (the chart and release are the
/// report's component already).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
struct HelmMessage(#[source] haven_model::InputError);

/// The chart directory, with the built-in haven-admission chart written to `scratch` for the
/// component when the directory has none.
pub fn chart_source(dir: &Path, scratch: &Path) -> Result<fs::ChartDir, String> {
    if !dir.is_dir() {
        return Err(format!("--charts {}: not a directory", dir.display()));
    }
    let own = scratch.join(charts::embedded::HAVEN_ADMISSION);
    for (rel, text) in charts::embedded::HAVEN_ADMISSION_CHART {
        let path = own.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(fs::ChartDir {
        dir: dir.to_path_buf(),
        fallback: BTreeMap::from([(charts::embedded::HAVEN_ADMISSION.to_owned(), own)]),
    })
}

/// What the catalogue tells the platform validation: its waivers and Flux's CRD groups.
pub fn platform_options(catalogue: &Catalogue, kubernetes_version: &str) -> PlatformOptions {
    PlatformOptions {
        objects: validate::Options {
            kubernetes_version: kubernetes_version.to_owned(),
            check_workloads: true,
        },
        waivers: catalogue
            .components
            .iter()
            .filter(|c| !c.waivers.is_empty())
            .map(|c| (c.name.clone(), c.waivers.clone()))
            .collect(),
        bootstrap_groups: catalogue
            .components
            .iter()
            .filter(|c| c.source.kind == haven_platform::catalogue::SourceKind::Bootstrap)
            .flat_map(|c| c.crds.iter().cloned())
            .collect(),
        declared_crds: catalogue
            .components
            .iter()
            .filter(|c| !c.crds.is_empty())
            .map(|c| (c.name.clone(), c.crds.iter().cloned().collect()))
            .collect(),
        applied_crds: catalogue
            .components
            .iter()
            .filter(|c| c.source.kind == haven_platform::catalogue::SourceKind::Manifests)
            .map(|c| {
                let mut kinds: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
                for e in haven_platform::crds::Bundle::builtin().entries() {
                    if e.served && e.components.contains(&c.name) {
                        kinds
                            .entry((e.group.clone(), e.kind.clone()))
                            .or_default()
                            .insert(e.version.clone());
                    }
                }
                (c.name.clone(), kinds)
            })
            .collect(),
    }
}

/// Renders and validates the platform of a tree: the rendered platform and its problems.
pub fn validate_platform(
    files: &BTreeMap<PathBuf, String>,
    charts: &dyn ChartSource,
    helm: &dyn HelmTemplate,
    schemas: &dyn SchemaSource,
    opts: &PlatformOptions,
) -> (RenderedPlatform, Vec<Problem>) {
    let started = std::time::Instant::now();
    let platform = charts::render_platform(
        files,
        charts,
        helm,
        &RenderOptions {
            kube_version: opts.objects.kubernetes_version.clone(),
            parallel: 0,
        },
    );
    let mut platform = platform;
    let mut rendered = started.elapsed();
    let mut problems = charts::validate_platform(&platform, schemas, opts);
    // Problems inside a chart point at Helm's output until its objects have template lines:
    // those charts are rendered again as tagged copies and the platform validated again (a
    // clean platform pays nothing for it).
    let in_charts: BTreeSet<String> = platform
        .releases
        .iter()
        .filter(|r| {
            let Some(dir) = r.loaded.as_ref().map(|l| format!("{}/", l.chart.dir)) else {
                return false;
            };
            problems
                .iter()
                .any(|p| p.component == r.component && p.file.starts_with(&dir))
        })
        .map(|r| r.component.clone())
        .collect();
    if !in_charts.is_empty() {
        let again = std::time::Instant::now();
        charts::add_template_lines(&mut platform, &in_charts, helm, 0);
        rendered += again.elapsed();
        problems = charts::validate_platform(&platform, schemas, opts);
    }
    // `bench/plus.sh` sets HAVEN_TIMINGS to tell Helm's share from the validation's (the issue's
    // targets are on each); a stderr line, so that reports stay byte-for-byte reproducible.
    if std::env::var_os("HAVEN_TIMINGS").is_some() {
        eprintln!(
            "haven: timings: charts rendered in {:.3} s, the platform validated in {:.3} s",
            rendered.as_secs_f64(),
            (started.elapsed() - rendered).as_secs_f64()
        );
    }
    (platform, problems)
}

/// The rule metadata of every check, for SARIF and JUnit.
pub fn rules() -> Vec<RuleInfo> {
    Check::ALL
        .into_iter()
        .map(|c| RuleInfo {
            id: c.rule_id(),
            level: RuleGroup::HavenPlus,
            severity: Severity::High,
            scope: RuleScope::Application,
            title: c.title(),
            rationale: "`haven plus validate` checks the platform as the cluster will receive it.",
            fix: "See the message: it names the component, file, object and field.",
            help_uri: "https://haven.commonground.nl/techniek/aan-de-slag",
        })
        .collect()
}

/// The problems as findings of haven's report layer (SARIF, JUnit): errors are `high` (they
/// fail the run), warnings `low`, waived problems carry the catalogue's reason.
pub fn findings(problems: &[Problem]) -> Vec<Finding> {
    problems
        .iter()
        .map(|p| {
            let (kind, name) = p.object.split_once('/').unwrap_or(("", &p.object));
            let message = if p.component.is_empty() {
                p.message.clone()
            } else {
                format!("[{}] {}", p.component, p.message)
            };
            Finding {
                rule: p.check.rule_id(),
                severity: match p.severity {
                    validate::Severity::Error => Severity::High,
                    validate::Severity::Warning => Severity::Low,
                },
                message,
                object: Arc::new(ObjectRef {
                    api_version: String::new(),
                    kind: kind.to_owned(),
                    namespace: None,
                    name: name.to_owned(),
                }),
                container: None,
                path: p.path.clone(),
                location: Location {
                    file: Arc::from(p.file.as_str()),
                    line: p.line,
                    column: 0,
                    document_line: p.line,
                },
                waived: p.waived.as_ref().map(|reason| {
                    Box::new(haven_model::WaiverMark {
                        reason: reason.clone(),
                        expires: None,
                        source: haven_model::WaiverSource::File {
                            file: format!("catalogue/{}.yaml", p.component),
                            line: 0,
                        },
                        all: false,
                    })
                }),
            }
        })
        .collect()
}

/// The summary lines of a platform validation, for the text output.
pub fn summary(platform: &RenderedPlatform, problems: &[Problem]) -> String {
    let mut s = String::new();
    let rendered = platform
        .releases
        .iter()
        .filter(|r| matches!(r.outcome, charts::Outcome::Rendered(_)))
        .count();
    let objects: usize = platform.releases.iter().map(|r| r.objects().len()).sum();
    let images = charts::images(platform);
    s.push_str(&format!(
        "charts: {rendered} of {} components rendered ({objects} objects, {} container images)\n",
        platform.releases.len(),
        images.len()
    ));
    let not_verified = platform.not_verified();
    if !not_verified.is_empty() {
        s.push_str(&format!("not verified ({}):\n", not_verified.len()));
        for (c, why) in not_verified {
            s.push_str(&format!("  {c}: {why}\n"));
        }
    }
    for r in &platform.releases {
        if let Some(note) = &r.lines_note {
            s.push_str(&format!(
                "{}: problems in its chart point at Helm's output lines: {note}\n",
                r.component
            ));
        }
    }
    let waived: BTreeSet<&str> = problems
        .iter()
        .filter(|p| p.waived.is_some())
        .map(|p| p.component.as_str())
        .collect();
    if !waived.is_empty() {
        s.push_str(&format!(
            "waived in the catalogue: {} problems ({})\n",
            problems.iter().filter(|p| p.waived.is_some()).count(),
            waived.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    s
}
