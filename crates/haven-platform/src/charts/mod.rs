//! `haven plus validate --charts DIR`: the platform as the cluster will receive it.
//!
//! Every HelmRelease of the tree is rendered as Flux's helm-controller would install it
//! ([`render_platform`]): its chart from `DIR/<component>/` (matched by chart name and version),
//! its values (`spec.values` and `spec.valuesFrom`, [`flux::values`]), release name and target
//! namespace ([`flux::release_name`]), CRD policy (the chart's `crds/` installed or not), then its
//! post-renderers ([`postrender`]). Helm's own engine renders, behind [`HelmTemplate`], which the
//! CLI implements with `helm template`; charts render concurrently. [`check::validate_platform`]
//! then validates the whole: every object against its schema, custom resources against the CRDs
//! installed before them, values against the chart's schema and keys, workloads against their
//! namespace's Pod Security level. [`images`] lists every container image.
//!
//! A component whose chart is not in `DIR`, or cannot be rendered from it, is reported "not
//! verified": a warning, never a silent pass.

pub mod chart;
pub mod check;
pub mod embedded;
pub mod error;
pub mod flux;
pub mod postrender;
pub mod spawned;
pub mod strvals;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use haven_model::template_lines::{TemplateFile, TemplateLines};
use haven_model::{Object, Origin, load_objects};
use serde::Serialize;
use serde_json::Value;

pub use chart::Chart;
pub use check::{Check, Problem, validate_platform};
pub use error::{ChartSourceError, RenderError};
pub use flux::{ChartSpec, CrdPolicy};

use crate::validate::Severity;

/// One `helm template` run, as helm-controller's install action would render.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateJob {
    /// Where the engine finds the chart (a directory).
    pub chart_dir: PathBuf,
    pub release: String,
    pub namespace: String,
    /// The values (Flux's merge of `valuesFrom` and `spec.values`): the user-supplied values.
    pub values: Value,
    /// Render the chart's `crds/` too (the CRD policy is not `Skip`).
    pub include_crds: bool,
    /// `--kube-version`: the cluster's minor, `1.37`.
    pub kube_version: String,
}

/// Helm's engine: renders a chart to a stream of documents, each under Helm's
/// `# Source: <chart>/templates/<file>` comment, hooks included. Schema validation of the
/// values is haven's (it runs without network, see [`check`]), so the engine skips Helm's.
pub trait HelmTemplate: Sync {
    fn template(&self, job: &TemplateJob) -> Result<String, RenderError>;

    /// The same render of a copy of the chart whose template lines carry tags
    /// (`haven_model::template_lines`), and the template files the tags name: with it, a problem
    /// in a chart points at the template line holding the field rather than at a line of
    /// Helm's output. `Err` says why there is none (the problems then keep Helm's lines).
    fn template_tagged(
        &self,
        job: &TemplateJob,
    ) -> Result<(String, Vec<TemplateFile>), RenderError> {
        let _ = job;
        Err(RenderError::TaggedUnsupported)
    }
}

/// A chart found for a component, and where the engine can read it.
#[derive(Debug, Clone)]
pub struct LoadedChart {
    pub chart: Chart,
    pub location: PathBuf,
}

/// Where charts come from (`DIR`): the folder of a component, or else one holding the chart of
/// that name.
pub trait ChartSource: Sync {
    /// The chart for `component` whose chart is named `chart`; `Ok(None)` when there is none.
    fn find(&self, component: &str, chart: &str) -> Result<Option<LoadedChart>, ChartSourceError>;
    /// For messages: the directory.
    fn describe(&self) -> String;
}

/// What became of one HelmRelease.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Rendered (and post-rendered): the objects, each attributed to its chart template.
    Rendered(Vec<Object>),
    /// Not rendered: why (chart not in `DIR`, a dependency missing, ...). A warning.
    NotVerified(String),
    /// Helm refused to render with these values: an error.
    Failed(String),
}

/// One HelmRelease of the tree as helm-controller would install it.
#[derive(Debug, Clone)]
pub struct Release {
    /// The HelmRelease's name: the component.
    pub component: String,
    pub helm_release: Object,
    pub release_name: String,
    pub namespace: String,
    pub chart: Option<ChartSpec>,
    pub loaded: Option<LoadedChart>,
    /// The user-supplied values (Flux's merge).
    pub values: Value,
    pub crd_policy: CrdPolicy,
    pub outcome: Outcome,
    /// The render that produced [`Outcome::Rendered`], and Helm's output, kept so that its
    /// objects can be given template lines later ([`add_template_lines`]).
    pub job: Option<TemplateJob>,
    pub text: Option<String>,
    /// Where the objects' lines come from when they are not template lines, for the user.
    pub lines_note: Option<String>,
}

impl Release {
    pub fn objects(&self) -> &[Object] {
        match &self.outcome {
            Outcome::Rendered(o) => o,
            _ => &[],
        }
    }
}

/// The tree and every HelmRelease rendered.
#[derive(Debug, Clone, Default)]
pub struct RenderedPlatform {
    /// The tree's own objects (Kustomizations, HelmReleases, Namespaces, policies, ...).
    pub tree: Vec<Object>,
    pub units: flux::Units,
    pub releases: Vec<Release>,
    /// What planning and rendering found (values references, chart versions, post-renderers).
    pub problems: Vec<Problem>,
}

impl RenderedPlatform {
    /// Components not verified, with why.
    pub fn not_verified(&self) -> Vec<(&str, &str)> {
        self.releases
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::NotVerified(why) => Some((r.component.as_str(), why.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// Options of a platform render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub kube_version: String,
    /// Renders at once; `0` is one per available core.
    pub parallel: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            kube_version: "1.37".to_owned(),
            parallel: 0,
        }
    }
}

/// The objects of the tree's YAML files (path → text). Unreadable documents are the tree
/// validation's to report, so they are left out here.
pub fn tree_objects(files: &BTreeMap<PathBuf, String>) -> Vec<Object> {
    // Overlays are built as Flux builds them (`crate::kustomize`); their errors are reported
    // by `validate`, which reads the tree the same way.
    crate::kustomize::tree_objects(files).objects
}

/// Renders every HelmRelease of `files` (the tree, path → text).
pub fn render_platform(
    files: &BTreeMap<PathBuf, String>,
    charts: &dyn ChartSource,
    helm: &dyn HelmTemplate,
    opts: &RenderOptions,
) -> RenderedPlatform {
    let tree = tree_objects(files);
    let units = flux::Units::new(files, &tree);
    let sources: BTreeMap<String, Object> = tree
        .iter()
        .filter(|o| o.api_group() == "source.toolkit.fluxcd.io")
        .map(|o| {
            (
                format!(
                    "{}/{}/{}",
                    o.kind,
                    o.namespace.clone().unwrap_or_default(),
                    o.name
                ),
                o.clone(),
            )
        })
        .collect();
    let values_sources = flux::values_sources(&tree);
    let mut problems = Vec::new();
    let mut releases = Vec::new();
    let mut jobs: Vec<(usize, TemplateJob)> = Vec::new();
    for hr in tree
        .iter()
        .filter(|o| o.api_group() == "helm.toolkit.fluxcd.io" && o.kind == "HelmRelease")
    {
        let component = hr.name.clone();
        let at = |path: &str, severity: Severity, check: Check, message: String| {
            let loc = hr.location(path);
            Problem {
                severity,
                check,
                component: component.clone(),
                file: loc.file.to_string(),
                line: loc.line,
                object: format!("HelmRelease/{}", hr.name),
                path: path.to_owned(),
                message,
                waived: None,
            }
        };
        let (values, notes) = flux::values(hr, &values_sources);
        for n in notes {
            let sev = if n.error {
                Severity::Error
            } else {
                Severity::Warning
            };
            problems.push(at(&n.path, sev, Check::Values, n.message));
        }
        let crd_policy = match flux::install_crd_policy(hr) {
            Ok(p) => p,
            Err(e) => {
                problems.push(at(
                    "spec.install.crds",
                    Severity::Error,
                    Check::Chart,
                    e.to_string(),
                ));
                flux::CrdPolicy::Create
            }
        };
        for unsupported in ["spec.chart.spec.valuesFiles", "spec.kubeConfig"] {
            if hr.get(unsupported).is_some() {
                problems.push(at(
                    unsupported,
                    Severity::Warning,
                    Check::Chart,
                    format!("`{unsupported}` is not supported by `validate --charts`: rendered without it"),
                ));
            }
        }
        let mut release = Release {
            component: component.clone(),
            helm_release: hr.clone(),
            release_name: flux::release_name(hr),
            namespace: flux::release_namespace(hr),
            chart: None,
            loaded: None,
            values,
            crd_policy,
            outcome: Outcome::NotVerified(String::new()),
            job: None,
            text: None,
            lines_note: None,
        };
        let spec = match flux::chart_spec(hr, &sources) {
            Ok(s) => s,
            Err(e) => {
                release.outcome = Outcome::NotVerified(format!("its chart is unknown: {e}"));
                releases.push(release);
                continue;
            }
        };
        release.chart = Some(spec.clone());
        match charts.find(&component, &spec.name) {
            Ok(None) => {
                release.outcome = Outcome::NotVerified(format!(
                    "chart {} {} is not in {}",
                    spec.name,
                    spec.version,
                    charts.describe()
                ));
            }
            Err(e) => release.outcome = Outcome::NotVerified(e.to_string()),
            Ok(Some(loaded)) => {
                let c = &loaded.chart;
                let version_field = match spec.source_kind.as_str() {
                    "OCIRepository" => "spec.chartRef",
                    _ => "spec.chart.spec.version",
                };
                if spec.source_kind != "GitRepository" && spec.source_kind != "Bucket" {
                    if c.name != spec.name {
                        problems.push(at(
                            spec.field,
                            Severity::Error,
                            Check::Chart,
                            format!(
                                "asks for chart `{}`, but {} holds chart `{}`",
                                spec.name, c.dir, c.name
                            ),
                        ));
                    }
                    match flux::version_matches(&spec.version, &c.version) {
                        flux::VersionMatch::Same => {}
                        flux::VersionMatch::Differs => problems.push(at(
                            version_field,
                            Severity::Error,
                            Check::Chart,
                            format!(
                                "asks for {} {}, but {} holds version {}: vendor the pinned version",
                                spec.name, spec.version, c.dir, c.version
                            ),
                        )),
                        flux::VersionMatch::NotChecked => problems.push(at(
                            version_field,
                            Severity::Warning,
                            Check::Chart,
                            format!(
                                "version `{}` is a range: haven rendered {} {} from {} without checking it is the one Flux picks",
                                spec.version, c.name, c.version, c.dir
                            ),
                        )),
                    }
                }
                let broken = c.all_problems();
                let missing = c.missing_dependencies();
                if !broken.is_empty() {
                    release.outcome = Outcome::NotVerified(broken.join("; "));
                } else if c.chart_type != "application" {
                    release.outcome = Outcome::Failed(format!(
                        "{} is a {} chart, which Helm does not install",
                        c.dir, c.chart_type
                    ));
                } else if let Some((parent, dep)) = missing.first() {
                    let all: Vec<String> = missing
                        .iter()
                        .map(|(p, d)| {
                            if p == &c.name {
                                d.clone()
                            } else {
                                format!("{d} (of {p})")
                            }
                        })
                        .collect();
                    release.outcome = Outcome::NotVerified(if missing.len() == 1 {
                        format!(
                            "dependency {dep} of chart {parent} is missing from {}",
                            c.dir
                        )
                    } else {
                        format!(
                            "dependencies {} of chart {} are missing from {}",
                            all.join(", "),
                            c.name,
                            c.dir
                        )
                    });
                } else {
                    jobs.push((
                        releases.len(),
                        TemplateJob {
                            chart_dir: loaded.location.clone(),
                            release: release.release_name.clone(),
                            namespace: release.namespace.clone(),
                            values: release.values.clone(),
                            include_crds: release.crd_policy != flux::CrdPolicy::Skip,
                            kube_version: opts.kube_version.clone(),
                        },
                    ));
                }
                release.loaded = Some(loaded);
            }
        }
        releases.push(release);
    }

    let outputs = run_jobs(&jobs, opts.parallel, |job| helm.template(job));
    for ((i, job), output) in jobs.iter().zip(outputs) {
        let release = &mut releases[*i];
        release.outcome = match output {
            Err(e) => Outcome::Failed(e.to_string()),
            Ok(text) => {
                let text = attribute_sources(&text);
                let objects = load_release(release, &text, None, &mut problems);
                release.text = Some(text);
                Outcome::Rendered(objects)
            }
        };
        release.job = Some(job.clone());
    }
    RenderedPlatform {
        tree,
        units,
        releases,
        problems,
    }
}

/// The objects of one release's rendered `text` (sources attributed), with their template lines
/// where `lines` has them: Helm's test hooks left out unless the HelmRelease runs them, the
/// release namespace filled in, the post-renderers applied. What could not be read or
/// post-rendered goes to `problems`.
fn load_release(
    release: &Release,
    text: &str,
    lines: Option<Arc<TemplateLines>>,
    problems: &mut Vec<Problem>,
) -> Vec<Object> {
    let dir = release
        .loaded
        .as_ref()
        .map(|l| l.chart.dir.clone())
        .unwrap_or_default();
    let loaded = load_objects(
        Origin::Helm {
            stream: &format!("helm template {dir}"),
            chart_dir: &dir,
            lines: lines.as_ref(),
        },
        text,
    );
    for e in loaded.errors {
        problems.push(Problem {
            severity: Severity::Error,
            check: Check::Render,
            component: release.component.clone(),
            file: e.file.to_string(),
            line: e.line,
            object: String::new(),
            path: e.field.clone().unwrap_or_default(),
            message: format!(
                "the chart renders a document Kubernetes cannot read: {}",
                e.message
            ),
            waived: None,
        });
    }
    let mut objects = loaded.objects;
    // helm-controller installs test hooks only to run them on request
    // (`spec.test.enable`): until then they never reach the cluster.
    let tests_on = release
        .helm_release
        .get("spec.test.enable")
        .and_then(Value::as_bool)
        == Some(true);
    if !tests_on {
        objects.retain(|o| !is_test_hook(o));
    }
    for o in &mut objects {
        // Helm installs namespaced objects that name no namespace into the release's.
        if o.namespace.is_none() && o.is_namespaced() {
            o.namespace = Some(release.namespace.clone());
        }
    }
    for n in postrender::apply(&release.helm_release, &mut objects) {
        let loc = release.helm_release.location(&n.path);
        problems.push(Problem {
            // A patch kustomize stops on fails helm-controller's post-render: no release.
            severity: if n.fails_release {
                Severity::Error
            } else {
                Severity::Warning
            },
            check: Check::PostRender,
            component: release.component.clone(),
            file: loc.file.to_string(),
            line: loc.line,
            object: format!("HelmRelease/{}", release.helm_release.name),
            path: n.path,
            message: n.message,
            waived: None,
        });
    }
    // The pods the component's operator creates at run time, modelled on this render (catalogue
    // `spawns`) and checked as its rendered pods are; after the post-renderers, which patch the
    // release, not what the operator makes.
    if let Some(c) = crate::catalogue::Catalogue::shared().and_then(|c| c.get(&release.component))
        && !c.spawns.is_empty()
    {
        let spawned = spawned::model(
            &release.component,
            &release.namespace,
            &c.spawns,
            &objects,
            problems,
        );
        objects.extend(spawned);
    }
    objects
}

/// Whether an object is a Helm test hook (`helm.sh/hook: test`).
fn is_test_hook(o: &Object) -> bool {
    o.annotations()
        .and_then(|a| a.get("helm.sh/hook"))
        .and_then(Value::as_str)
        .is_some_and(|h| {
            h.split(',')
                .any(|e| matches!(e.trim(), "test" | "test-success"))
        })
}

/// Gives every document of Helm's output the `# Source:` of the file it came from. Helm writes
/// a file of `crds/` as `# Source:` and then the file's text, so a CRD file that starts with
/// `---` (most do), or holds several documents, leaves its documents without the comment.
/// Only the line right after a separator is Helm's: a file may open with a `# Source:` comment
/// of its own (Bitnami's pinniped CRDs: `# Source: https://raw.githubusercontent.com/…`), which
/// says nothing about where Helm took the document from.
pub fn attribute_sources(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1024);
    let mut current: Option<&str> = None;
    let mut after_separator = true;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if line.trim_end() != "---" {
            if after_separator && let Some(src) = line.strip_prefix("# Source: ") {
                current = Some(src.trim_end());
            }
            after_separator = false;
            continue;
        }
        after_separator = true;
        match lines.peek() {
            Some(next) if next.starts_with("# Source: ") => {}
            _ => {
                if let Some(src) = current {
                    out.push_str("# Source: ");
                    out.push_str(src);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Runs the renders on up to `parallel` threads (one per core when 0): charts are independent,
/// and each render is a child process that mostly waits on its own CPU.
fn run_jobs<R: Send>(
    jobs: &[(usize, TemplateJob)],
    parallel: usize,
    render: impl Fn(&TemplateJob) -> Result<R, RenderError> + Sync,
) -> Vec<Result<R, RenderError>> {
    let workers = if parallel == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        parallel
    }
    .min(jobs.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<R, RenderError>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, job)) = jobs.get(i) else { break };
                    let out = render(job);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(out);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or(Err(RenderError::Unfinished)))
        .collect()
}

/// Gives the objects of the rendered releases of `components` their template lines, so that a
/// problem in a chart names the template line holding its field: each chart is rendered again
/// as a tagged copy (concurrently) and lined up with the render already done
/// (`haven_model::template_lines`). Done only for the charts a validation found problems in,
/// so a clean platform costs one render per chart; the caller validates again. A release whose
/// tagged copy could not be rendered (or lined up) keeps Helm's lines, with why in
/// `lines_note`; what reloading finds was found by the first load and is not repeated.
pub fn add_template_lines(
    platform: &mut RenderedPlatform,
    components: &BTreeSet<String>,
    helm: &dyn HelmTemplate,
    parallel: usize,
) {
    let jobs: Vec<(usize, TemplateJob)> = platform
        .releases
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            components.contains(&r.component)
                && matches!(r.outcome, Outcome::Rendered(_))
                && r.text.is_some()
        })
        .filter_map(|(i, r)| Some((i, r.job.clone()?)))
        .collect();
    let outputs = run_jobs(&jobs, parallel, |job| helm.template_tagged(job));
    for ((i, _), output) in jobs.iter().zip(outputs) {
        let release = &mut platform.releases[*i];
        let (tagged, files) = match output {
            Ok(t) => t,
            Err(why) => {
                release.lines_note = Some(why.to_string());
                continue;
            }
        };
        let text = release.text.clone().unwrap_or_default();
        let (lines, untrusted) = TemplateLines::build(&text, &attribute_sources(&tagged), &files);
        if let Some(u) = untrusted {
            release.lines_note = Some(format!(
                "{} document{} point at lines of Helm's output, not at template lines: {}",
                u.documents,
                if u.documents == 1 { "" } else { "s" },
                u.reason
            ));
        }
        let objects = load_release(release, &text, Some(Arc::new(lines)), &mut Vec::new());
        release.outcome = Outcome::Rendered(objects);
    }
}

/// One container image the platform runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImageRef {
    /// As written in the pod template: `docker.io/grafana/loki:3.7.6`.
    pub image: String,
    /// Without tag and digest: `docker.io/grafana/loki`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Components that run it (`tree` for the tree's own objects).
    pub components: BTreeSet<String>,
}

/// Every container image of the rendered platform (init, regular and ephemeral containers of
/// every workload, the tree's own and every chart's), sorted, each once.
pub fn images(platform: &RenderedPlatform) -> Vec<ImageRef> {
    let mut out: BTreeMap<String, ImageRef> = BTreeMap::new();
    let mut add = |component: &str, objects: &[Object]| {
        for o in objects {
            let Some(Ok(pod)) = haven_model::workload::pod_template(o) else {
                continue;
            };
            let ephemeral = pod
                .spec
                .ephemeral_containers
                .iter()
                .flatten()
                .filter_map(|c| c.image.clone());
            let images = pod
                .containers()
                .filter_map(|(_, c)| c.image.clone())
                .chain(ephemeral);
            for image in images {
                let (name, tag, digest) = postrender::split_image(&image);
                out.entry(image.clone())
                    .or_insert_with(|| ImageRef {
                        image: image.clone(),
                        name: name.to_owned(),
                        tag: tag.map(str::to_owned),
                        digest: digest.map(str::to_owned),
                        components: BTreeSet::new(),
                    })
                    .components
                    .insert(component.to_owned());
            }
        }
    };
    add("tree", &platform.tree);
    for r in &platform.releases {
        add(&r.component, r.objects());
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image inventory (images.txt, the report's `images`) has every container of every
    /// workload: init, regular and ephemeral ones, each image once with its components, and
    /// the tag and digest split as pinned.
    #[test]
    fn images_lists_init_regular_and_ephemeral_containers() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: i, image: 'busybox:1.36'}\n      containers:\n      - {name: c, image: 'quay.io/x/app:v1@sha256:0123456789012345678901234567890123456789012345678901234567890123'}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: 'quay.io/x/app:v1@sha256:0123456789012345678901234567890123456789012345678901234567890123'}\n  ephemeralContainers:\n  - {name: e, image: 'registry.k8s.io/debug:2'}\n";
        let objects = load_objects(Origin::File("x.yaml"), text).objects;
        let release = Release {
            component: "app".into(),
            helm_release: objects[0].clone(),
            release_name: "app".into(),
            namespace: "app".into(),
            chart: None,
            loaded: None,
            values: Value::Null,
            crd_policy: CrdPolicy::Create,
            outcome: Outcome::Rendered(objects),
            job: None,
            text: None,
            lines_note: None,
        };
        let platform = RenderedPlatform {
            releases: vec![release],
            ..RenderedPlatform::default()
        };
        let images = images(&platform);
        let listed: Vec<(&str, Option<&str>, Option<&str>)> = images
            .iter()
            .map(|i| (i.image.as_str(), i.tag.as_deref(), i.digest.as_deref()))
            .collect();
        assert_eq!(
            listed,
            [
                ("busybox:1.36", Some("1.36"), None),
                (
                    "quay.io/x/app:v1@sha256:0123456789012345678901234567890123456789012345678901234567890123",
                    Some("v1"),
                    Some("sha256:0123456789012345678901234567890123456789012345678901234567890123")
                ),
                ("registry.k8s.io/debug:2", Some("2"), None),
            ]
        );
        assert!(images.iter().all(|i| i.components.contains("app")));
    }

    /// Garage's post-renderer narrows the CRD rule of its ClusterRole by index (`rules/0`), which
    /// is that rule only while `garage.kubernetesSkipCrd` is false: from chart 0.9.3 on, the
    /// chart leaves it out when true, and `rules/0` is then the garagenodes rule. The patch's
    /// `test` operations make kustomize, and so helm-controller, refuse the release; `validate
    /// --charts` reports that as an error of the component, and nothing is replaced.
    #[test]
    fn garages_clusterrole_patch_refuses_a_rule_it_does_not_expect() {
        let config = crate::PlatformConfig::new("haven", "example.nl", crate::Provider::Kind);
        let files = crate::render::render(&config, &crate::Catalogue::builtin().unwrap()).files;
        let hr = tree_objects(&files)
            .into_iter()
            .find(|o| o.kind == "HelmRelease" && o.name == "garage")
            .expect("garage's HelmRelease");
        let release = Release {
            component: "garage".into(),
            helm_release: hr,
            release_name: "garage".into(),
            namespace: "garage".into(),
            chart: None,
            loaded: None,
            values: Value::Null,
            crd_policy: CrdPolicy::Create,
            outcome: Outcome::NotVerified(String::new()),
            job: None,
            text: None,
            lines_note: None,
        };
        // templates/clusterrole.yaml of chart 0.9.3, restated (the chart is AGPL-3.0, not
        // vendored): with `kubernetesSkipCrd: false`, then with `true`.
        let crd_rule = "- apiGroups: [\"apiextensions.k8s.io\"]\n  resources: [\"customresourcedefinitions\"]\n  verbs: [\"get\", \"list\", \"watch\", \"create\", \"patch\"]\n";
        let role = |rules: &str| {
            format!(
                "# Source: garage/templates/clusterrole.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: manage-crds-garage-garage\nrules:\n{rules}- apiGroups: [\"deuxfleurs.fr\"]\n  resources: [\"garagenodes\"]\n  verbs: [\"get\", \"list\", \"watch\", \"create\", \"update\", \"patch\", \"delete\"]\n"
            )
        };

        let mut problems = Vec::new();
        let objects = load_release(&release, &role(crd_rule), None, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let rules = &objects[0].value["rules"];
        assert_eq!(
            rules[0]["resourceNames"],
            serde_json::json!(["garagenodes.deuxfleurs.fr"])
        );
        assert_eq!(rules[1]["resources"], serde_json::json!(["garagenodes"]));

        let mut problems = Vec::new();
        let objects = load_release(&release, &role(""), None, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.severity, Severity::Error);
        assert_eq!(p.check, Check::PostRender);
        assert_eq!(p.component, "garage");
        assert_eq!(p.path, "spec.postRenderers[0].kustomize.patches[0]");
        assert!(p.message.contains("value did not match"), "{}", p.message);
        let rules = &objects[0].value["rules"];
        assert_eq!(rules.as_array().map(Vec::len), Some(1));
        assert_eq!(rules[0]["resources"], serde_json::json!(["garagenodes"]));
        assert!(rules[0].get("resourceNames").is_none());
    }

    /// A `crds/` file that opens with a `# Source:` comment of its own (Bitnami's pinniped
    /// chart) keeps Helm's `# Source:`: its CRD is from `crds/`, installed before the templates.
    #[test]
    fn a_files_own_source_comment_is_not_helms() {
        let helm = "---\n# Source: p/crds/c.yaml\n# Source: https://example.com/c.yaml\n# Version: 1\n---\nkind: CustomResourceDefinition\n---\n# Source: p/templates/x.yaml\nkind: X\n";
        assert_eq!(
            attribute_sources(helm),
            "---\n# Source: p/crds/c.yaml\n# Source: https://example.com/c.yaml\n# Version: 1\n---\n# Source: p/crds/c.yaml\nkind: CustomResourceDefinition\n---\n# Source: p/templates/x.yaml\nkind: X\n"
        );
    }

    #[test]
    fn every_document_gets_its_source() {
        let helm = "---\n# Source: c/crds/a.yaml\n---\nkind: A\n---\nkind: B\n---\n# Source: c/templates/x.yaml\nkind: X\n";
        assert_eq!(
            attribute_sources(helm),
            "---\n# Source: c/crds/a.yaml\n---\n# Source: c/crds/a.yaml\nkind: A\n---\n# Source: c/crds/a.yaml\nkind: B\n---\n# Source: c/templates/x.yaml\nkind: X\n"
        );
        let helm = helm.replace(
            "kind: ",
            "apiVersion: example.com/v1\nmetadata: {name: obj}\nkind: ",
        );
        let objects = load_objects(
            Origin::Helm {
                stream: "s",
                chart_dir: "charts/c",
                lines: None,
            },
            &attribute_sources(&helm),
        );
        assert!(objects.errors.is_empty(), "{:?}", objects.errors);
        let objects = objects.objects;
        let files: Vec<&str> = objects.iter().map(|o| o.file.as_ref()).collect();
        assert_eq!(
            files,
            [
                "charts/c/crds/a.yaml",
                "charts/c/crds/a.yaml",
                "charts/c/templates/x.yaml"
            ]
        );
    }
}
