//! Validates a [`RenderedPlatform`] as a whole:
//!
//! - every rendered object against the schema of its API version ([`crate::validate`]'s
//!   per-object checks, the same as the tree's own objects);
//! - every custom resource against the CRDs installed before it: in the same Kustomization unit
//!   or one before it in the `dependsOn` order, by the same chart's `crds/` (Flux applies those
//!   before the templates), by a HelmRelease it `dependsOn`, or by Flux's bootstrap;
//! - values against the chart's `values.schema.json` (and its subcharts'), without the network;
//! - value keys no template reads and no `values.yaml` has: likely typos, with "did you mean";
//! - every workload against the Pod Security level of the namespace it lands in, as the tree
//!   labels that namespace (a component its own namespace refuses is an error).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use haven_model::Object;
use serde::Serialize;
use serde_json::{Map, Value};

use super::chart::Chart;
use super::{Outcome, Release, RenderedPlatform};
use crate::validate::{Diagnostic, SchemaSource, Severity};

/// Which check found a problem (its rule in SARIF and JUnit: `plus.charts.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The tree's own validation (files, wiring, schemas of what the tree holds).
    Tree,
    /// A component whose chart could not be had or rendered from the chart directory.
    NotVerified,
    /// The chart in the directory against what the HelmRelease asks for.
    Chart,
    /// Helm refused the chart with these values, or rendered what Kubernetes cannot read.
    Render,
    /// `valuesFrom` references.
    Values,
    /// Values against the chart's `values.schema.json`.
    ValuesSchema,
    /// Value keys the chart never reads.
    UnreadValue,
    /// A rendered object against the schema of its API version.
    Schema,
    /// A custom resource whose CRD is not installed before it.
    CrdOrder,
    /// A workload its namespace's Pod Security level refuses.
    PodSecurity,
    /// A workload in a namespace nothing creates.
    Namespace,
    /// A post-renderer that could not be applied.
    PostRender,
    /// A declared flow the NetworkPolicies deny, or an undeclared one they open ([`crate::proofs`]).
    Flows,
    /// What an identity (a tenant's groups and service accounts, a controller) may do.
    Identities,
    /// A Secret, ConfigMap, ServiceAccount, ... referred to that nothing creates, or produced
    /// and never consumed.
    References,
    /// A certificate its issuer cannot issue.
    Certificates,
    /// Tenancy: reserved namespace names, Flux's multi-tenancy lockdown.
    Tenancy,
}

impl Check {
    pub const ALL: [Check; 17] = [
        Check::Tree,
        Check::NotVerified,
        Check::Chart,
        Check::Render,
        Check::Values,
        Check::ValuesSchema,
        Check::UnreadValue,
        Check::Schema,
        Check::CrdOrder,
        Check::PodSecurity,
        Check::Namespace,
        Check::PostRender,
        Check::Flows,
        Check::Identities,
        Check::References,
        Check::Certificates,
        Check::Tenancy,
    ];

    /// The kebab-case name (as in JSON and in catalogue waivers).
    pub fn name(self) -> &'static str {
        match self {
            Check::Tree => "tree",
            Check::NotVerified => "not-verified",
            Check::Chart => "chart",
            Check::Render => "render",
            Check::Values => "values",
            Check::ValuesSchema => "values-schema",
            Check::UnreadValue => "unread-value",
            Check::Schema => "schema",
            Check::CrdOrder => "crd-order",
            Check::PodSecurity => "pod-security",
            Check::Namespace => "namespace",
            Check::PostRender => "post-render",
            Check::Flows => "flows",
            Check::Identities => "identities",
            Check::References => "references",
            Check::Certificates => "certificates",
            Check::Tenancy => "tenancy",
        }
    }

    /// The rule id in SARIF and JUnit.
    pub fn rule_id(self) -> &'static str {
        match self {
            Check::Tree => "plus.validate.tree",
            Check::NotVerified => "plus.charts.not-verified",
            Check::Chart => "plus.charts.chart",
            Check::Render => "plus.charts.render",
            Check::Values => "plus.charts.values",
            Check::ValuesSchema => "plus.charts.values-schema",
            Check::UnreadValue => "plus.charts.unread-value",
            Check::Schema => "plus.charts.schema",
            Check::CrdOrder => "plus.charts.crd-order",
            Check::PodSecurity => "plus.charts.pod-security",
            Check::Namespace => "plus.charts.namespace",
            Check::PostRender => "plus.charts.post-render",
            Check::Flows => "plus.proofs.flows",
            Check::Identities => "plus.proofs.identities",
            Check::References => "plus.proofs.references",
            Check::Certificates => "plus.proofs.certificates",
            Check::Tenancy => "plus.proofs.tenancy",
        }
    }

    /// One line on what the check asks.
    pub fn title(self) -> &'static str {
        match self {
            Check::Tree => "The tree's files, wiring and objects are valid",
            Check::NotVerified => "Every component's chart is in the chart directory and renders",
            Check::Chart => "The chart directory holds the chart and version the HelmRelease pins",
            Check::Render => "Helm renders the chart with the platform's values",
            Check::Values => "valuesFrom references resolve",
            Check::ValuesSchema => "Values satisfy the chart's values.schema.json",
            Check::UnreadValue => "Every value key is one the chart reads",
            Check::Schema => "Rendered objects match the schema of their API version",
            Check::CrdOrder => "Custom resources come after the CRD they need",
            Check::PodSecurity => "Workloads pass their namespace's Pod Security level",
            Check::Namespace => "Workloads land in a namespace the platform creates",
            Check::PostRender => "Post-renderers apply as written",
            Check::Flows => "NetworkPolicies allow exactly the declared flows",
            Check::Identities => "Tenant identities stay inside their namespaces",
            Check::References => "Every referenced object exists or is produced",
            Check::Certificates => "Every certificate can be issued by its issuer",
            Check::Tenancy => "Tenants are locked down and use no reserved namespace",
        }
    }

    pub fn from_name(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem of the platform: the component, the file (a chart template for rendered
/// objects, from Helm's `# Source:` comment), the object and the field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub check: Check,
    /// The HelmRelease (component) it is about; empty for the tree's own problems.
    pub component: String,
    pub file: String,
    pub line: u32,
    /// `Kind/name`.
    pub object: String,
    /// Field path inside the object.
    pub path: String,
    pub message: String,
    /// The catalogue's reason when the problem is waived there (upstream's fault).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

impl Problem {
    /// Whether the problem fails the run: an error nobody waived.
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Error && self.waived.is_none()
    }

    pub fn from_diagnostic(d: Diagnostic, check: Check, component: &str) -> Self {
        Self {
            severity: d.severity,
            check,
            component: component.to_owned(),
            file: d.file,
            line: d.line,
            object: d.object,
            path: d.path,
            message: d.message,
            waived: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match (self.severity, &self.waived) {
            (_, Some(_)) => "waived",
            (Severity::Error, None) => "error",
            (Severity::Warning, None) => "warning",
        };
        if self.file.is_empty() {
            write!(f, "{sev}: ")?;
        } else {
            write!(f, "{}:{}: {sev}: ", self.file, self.line)?;
        }
        if !self.component.is_empty() {
            write!(f, "[{}] ", self.component)?;
        }
        if !self.object.is_empty() {
            write!(f, "{}: ", self.object)?;
        }
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            write!(f, " (field `{}`)", self.path)?;
        }
        if let Some(reason) = &self.waived {
            write!(f, " — waived in the catalogue: {reason}")?;
        }
        Ok(())
    }
}

/// A problem of a component that the catalogue accepts, with the reason (upstream's fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChartWaiver {
    /// The check (`pod-security`, `unread-value`, `values-schema`, `schema`, ...).
    pub check: String,
    /// `Kind/name` of the object, when the waiver is for one object only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Field path (or its beginning) the waiver is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why it is accepted: shown with every problem it waives.
    pub reason: String,
}

impl ChartWaiver {
    fn matches(&self, p: &Problem) -> bool {
        self.check == p.check.name()
            && self.object.as_deref().is_none_or(|o| o == p.object)
            && self.path.as_deref().is_none_or(|w| p.path.starts_with(w))
    }
}

/// Marks every problem a catalogue waiver of its component matches with the waiver's reason.
fn apply_waivers(problems: &mut [Problem], waivers: &BTreeMap<String, Vec<ChartWaiver>>) {
    for p in problems {
        if let Some(w) = waivers
            .get(&p.component)
            .and_then(|ws| ws.iter().find(|w| w.matches(p)))
        {
            p.waived = Some(w.reason.clone());
        }
    }
}

/// Options of a platform validation.
#[derive(Debug, Clone, Default)]
pub struct PlatformOptions {
    /// The per-object options (the Kubernetes minor).
    pub objects: crate::validate::Options,
    /// Catalogue waivers by component.
    pub waivers: BTreeMap<String, Vec<ChartWaiver>>,
    /// API groups Flux's bootstrap installs before anything else (the catalogue's `flux`).
    pub bootstrap_groups: BTreeSet<String>,
    /// API groups of the CRDs each component installs, as the catalogue declares them: for a
    /// component that is not verified (its chart is not in `DIR`), the only word on what it
    /// would install, so its custom resources are not reported as having no CRD.
    pub declared_crds: BTreeMap<String, BTreeSet<String>>,
    /// The CRDs (group and kind → served versions) that a `manifests` component's Flux
    /// Kustomization applies from its Git tag, by component: no chart to render, so they come
    /// from the built-in schemas, which carry that tag's CRDs. Its unit `flux-system/<component>`
    /// waits for them, so whatever comes after that unit finds them.
    pub applied_crds: BTreeMap<String, BTreeMap<(String, String), BTreeSet<String>>>,
}

/// Validates the whole platform; the problems of planning and rendering are included. Sorted
/// by component, file and line.
pub fn validate_platform(
    platform: &RenderedPlatform,
    schemas: &dyn SchemaSource,
    opts: &PlatformOptions,
) -> Vec<Problem> {
    let mut out = platform.problems.clone();
    for r in &platform.releases {
        let hr = &r.helm_release;
        let at_hr = |severity, check, message: String| {
            let loc = hr.location("");
            Problem {
                severity,
                check,
                component: r.component.clone(),
                file: loc.file.to_string(),
                line: loc.line,
                object: format!("HelmRelease/{}", hr.name),
                path: String::new(),
                message,
                waived: None,
            }
        };
        match &r.outcome {
            Outcome::NotVerified(why) => {
                out.push(at_hr(
                    Severity::Warning,
                    Check::NotVerified,
                    format!("not verified: {why}"),
                ));
                continue;
            }
            Outcome::Failed(why) => {
                out.push(at_hr(
                    Severity::Error,
                    Check::Render,
                    format!("Helm cannot render the chart with these values: {why}"),
                ));
            }
            Outcome::Rendered(objects) => {
                let report = crate::validate::validate_objects(objects, schemas, &opts.objects);
                out.extend(
                    report
                        .diagnostics
                        .into_iter()
                        .map(|d| Problem::from_diagnostic(d, Check::Schema, &r.component)),
                );
            }
        }
        if let Some(loaded) = &r.loaded {
            out.extend(values_problems(r, &loaded.chart));
        }
    }
    out.extend(crd_order(platform, opts));
    out.extend(pod_security(platform));
    apply_waivers(&mut out, &opts.waivers);
    out.sort_by(|a, b| {
        (
            &a.component,
            &a.file,
            a.line,
            &a.object,
            &a.path,
            &a.message,
        )
            .cmp(&(
                &b.component,
                &b.file,
                b.line,
                &b.object,
                &b.path,
                &b.message,
            ))
    });
    out.dedup();
    out
}

/// Where a value path is in the HelmRelease (for its line), as a field path.
fn values_field(path: &[String]) -> String {
    let mut p = "spec.values".to_owned();
    for k in path {
        haven_model::path::push_key(&mut p, k);
    }
    p
}

/// The values checks of one release: schema and unread keys.
fn values_problems(r: &Release, chart: &Chart) -> Vec<Problem> {
    let hr = &r.helm_release;
    let mut out = Vec::new();
    let mut push = |severity, check, path: String, message: String| {
        let loc = hr.location(&path);
        out.push(Problem {
            severity,
            check,
            component: r.component.clone(),
            file: loc.file.to_string(),
            line: loc.line,
            object: format!("HelmRelease/{}", hr.name),
            path,
            message,
            waived: None,
        });
    };
    let coalesced = chart.coalesce(&r.values);
    let skip_schema = hr
        .get("spec.install.disableSchemaValidation")
        .and_then(Value::as_bool)
        == Some(true);
    if !skip_schema {
        for (prefix, c, values) in schema_scopes(chart, &coalesced, Vec::new()) {
            let Some(schema) = &c.schema else { continue };
            let (schema, remote) = without_remote_refs(schema);
            if !remote.is_empty() {
                push(
                    Severity::Warning,
                    Check::ValuesSchema,
                    "spec.values".to_owned(),
                    format!(
                        "{}/values.schema.json refers to {}, which haven does not fetch (no network): the parts of the schema defined there were not checked",
                        c.dir,
                        remote.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            let validator = match jsonschema::validator_for(&schema) {
                Ok(v) => v,
                Err(e) => {
                    push(
                        Severity::Warning,
                        Check::ValuesSchema,
                        "spec.values".to_owned(),
                        format!("{}/values.schema.json cannot be used: {e}", c.dir),
                    );
                    continue;
                }
            };
            for e in validator.iter_errors(&values) {
                let mut path = prefix.clone();
                for seg in e.instance_path().iter() {
                    match seg {
                        jsonschema::paths::LocationSegment::Property(p) => path.push(p.to_string()),
                        jsonschema::paths::LocationSegment::Index(i) => {
                            if let Some(last) = path.last_mut() {
                                last.push_str(&format!("[{i}]"));
                            }
                        }
                    }
                }
                let msg = crate::validate::schema_message(&e);
                let shown = if path.is_empty() {
                    "the values".to_owned()
                } else {
                    format!("`{}`", path.join("."))
                };
                push(
                    Severity::Error,
                    Check::ValuesSchema,
                    values_field(&path),
                    format!("{shown} do not satisfy {}/values.schema.json: {msg}", c.dir),
                );
            }
        }
    }
    let scopes = read_scopes(chart, &coalesced, Vec::new());
    let mut unread = Vec::new();
    walk_unread(&scopes, &r.values, &mut Vec::new(), &mut unread);
    for (path, hint) in unread {
        let hint = hint
            .map(|h| format!("; did you mean `{h}`?"))
            .unwrap_or_default();
        push(
            Severity::Warning,
            Check::UnreadValue,
            values_field(&path),
            format!(
                "value `{}` is read by no template of {} and is not in its values.yaml: likely a typo{hint}",
                path.join("."),
                chart.dir
            ),
        );
    }
    out
}

/// The chart and each enabled subchart with the values it validates: `(prefix, chart, values)`.
fn schema_scopes<'c>(
    chart: &'c Chart,
    values: &Value,
    prefix: Vec<String>,
) -> Vec<(Vec<String>, &'c Chart, Value)> {
    let mut out = vec![(prefix.clone(), chart, values.clone())];
    for (dep, sub) in chart.enabled_subcharts(values) {
        let v = values
            .get(dep.key())
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let mut p = prefix.clone();
        p.push(dep.key().to_owned());
        out.extend(schema_scopes(sub, &v, p));
    }
    out
}

/// A schema without its `$ref`s to the network, and the URLs they named: Helm would fetch them,
/// haven validates offline and says what it could not check.
fn without_remote_refs(schema: &Value) -> (Value, BTreeSet<String>) {
    fn walk(v: &mut Value, found: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && (r.starts_with("http://") || r.starts_with("https://"))
                {
                    found.insert(r.split('#').next().unwrap_or(r).to_owned());
                    m.remove("$ref");
                }
                m.values_mut().for_each(|v| walk(v, found));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut s = schema.clone();
    let mut found = BTreeSet::new();
    walk(&mut s, &mut found);
    (s, found)
}

/// Where a chart (or an enabled subchart) reads its values: its key path in the top values.
struct Scope<'c> {
    prefix: Vec<String>,
    chart: &'c Chart,
}

fn read_scopes<'c>(chart: &'c Chart, values: &Value, prefix: Vec<String>) -> Vec<Scope<'c>> {
    let mut out = vec![Scope {
        prefix: prefix.clone(),
        chart,
    }];
    for (dep, sub) in chart.enabled_subcharts(values) {
        let v = values.get(dep.key()).cloned().unwrap_or(Value::Null);
        let mut p = prefix.clone();
        p.push(dep.key().to_owned());
        out.extend(read_scopes(sub, &v, p));
    }
    out
}

/// How much of a value path the charts read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    Unknown,
    /// A key read as one value.
    Leaf,
    /// A map read key by key: its keys are checked in turn.
    Structured,
    /// Everything under it may be read.
    All,
}

fn lookup<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn known(scopes: &[Scope<'_>], path: &[String]) -> Known {
    let mut best = Known::Unknown;
    for s in scopes {
        let Some(rest) = path.strip_prefix(s.prefix.as_slice()) else {
            // The key of a subchart (or a path leading to one) is structure, as is any key
            // whose dependency is only an archive: the chart reads it.
            if s.prefix.starts_with(path) {
                best = best.max(Known::Structured);
            }
            continue;
        };
        let c = s.chart;
        if rest.is_empty() {
            best = best.max(Known::Structured);
            continue;
        }
        // Conditions and tags of the chart's dependencies are read by Helm itself.
        let cond_read = c.dependencies.iter().any(|d| {
            d.condition.as_deref().is_some_and(|cond| {
                cond.split(',')
                    .any(|p| p.trim().split('.').eq(rest.iter().map(String::as_str)))
            }) || (rest.len() == 2 && rest[0] == "tags" && d.tags.contains(&rest[1]))
        });
        if cond_read {
            best = best.max(Known::Leaf);
        }
        // An archived dependency is not looked into.
        if c.dependencies
            .iter()
            .any(|d| d.key() == rest[0] && c.subchart(d).is_none() && c.has_dependency(d))
        {
            best = best.max(Known::All);
        }
        if c.reads.covers(rest) {
            return Known::All;
        }
        match lookup(&c.values, rest) {
            Some(Value::Object(m)) if m.is_empty() => return Known::All,
            Some(Value::Object(_)) => best = best.max(Known::Structured),
            Some(_) => best = best.max(Known::Leaf),
            None => {}
        }
        if c.reads.below(rest) {
            best = best.max(Known::Structured);
        }
    }
    // Globals are shared by the chart and every subchart.
    if path.first().map(String::as_str) == Some("global") {
        let rest = &path[1..];
        for s in scopes {
            let mut g = vec!["global".to_owned()];
            g.extend_from_slice(rest);
            if s.chart.reads.covers(&g) {
                return Known::All;
            }
            match lookup(&s.chart.values, &g) {
                Some(Value::Object(m)) if m.is_empty() => return Known::All,
                Some(Value::Object(_)) => best = best.max(Known::Structured),
                Some(_) => best = best.max(Known::Leaf),
                None => {}
            }
            if s.chart.reads.below(&g) || rest.is_empty() {
                best = best.max(Known::Structured);
            }
        }
    }
    best
}

/// The keys the charts know directly under `parent`, for "did you mean".
fn known_children(scopes: &[Scope<'_>], parent: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in scopes {
        if let Some(rest) = parent.strip_prefix(s.prefix.as_slice()) {
            if let Some(Value::Object(m)) = lookup(&s.chart.values, rest) {
                out.extend(m.keys().cloned());
            }
            out.extend(s.chart.reads.children(rest));
            if rest.is_empty() {
                out.extend(s.chart.dependencies.iter().map(|d| d.key().to_owned()));
            }
        }
    }
    out
}

fn walk_unread(
    scopes: &[Scope<'_>],
    v: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let Value::Object(m) = v else { return };
    for (k, child) in m {
        path.push(k.clone());
        match known(scopes, path) {
            Known::Unknown => {
                let parent = &path[..path.len() - 1];
                let candidates = known_children(scopes, parent);
                let hint = haven_model::did_you_mean(k, &candidates).map(str::to_owned);
                out.push((path.clone(), hint));
            }
            Known::Structured => walk_unread(scopes, child, path, out),
            Known::Leaf | Known::All => {}
        }
        path.pop();
    }
}

/// Who installs a CRD.
#[derive(Debug, Clone)]
enum Installer {
    /// The tree itself, in a unit (or none).
    Tree { unit: Option<String>, file: String },
    /// A release's chart: from `crds/` (applied before its templates) or as a template.
    Chart { release: usize, crds_dir: bool },
    /// A release that was not rendered (not verified) whose catalogue entry declares the group.
    Declared { release: usize },
    /// A `manifests` component: the unit that applies its Git tag's CRDs.
    Applied { unit: String, component: String },
}

#[derive(Debug, Clone)]
struct Crd {
    versions: BTreeSet<String>,
    installer: Installer,
}

/// Whether a rendered file is in a chart's (or subchart's) `crds/` folder rather than
/// `templates/`: the path under the chart directory, past every `charts/<sub>/`.
fn in_crds_dir(file: &str, chart_dir: &str) -> bool {
    let Some(rest) = file.strip_prefix(chart_dir) else {
        return false;
    };
    let mut parts = rest.trim_start_matches('/').split('/');
    loop {
        match parts.next() {
            Some("charts") => {
                parts.next();
            }
            Some("crds") => return true,
            _ => return false,
        }
    }
}

/// Whether an object is a Helm hook that runs after the release's resources exist.
fn is_post_hook(o: &Object) -> bool {
    o.annotations()
        .and_then(|a| a.get("helm.sh/hook"))
        .and_then(Value::as_str)
        .is_some_and(|h| {
            h.split(',')
                .all(|e| matches!(e.trim(), "post-install" | "post-upgrade"))
        })
}

fn crd_of(o: &Object) -> Option<((String, String), BTreeSet<String>)> {
    if o.api_group() != "apiextensions.k8s.io" || o.kind != "CustomResourceDefinition" {
        return None;
    }
    let group = o.get("spec.group")?.as_str()?.to_owned();
    let kind = o.get("spec.names.kind")?.as_str()?.to_owned();
    let versions = o
        .get("spec.versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool() != Some(false))
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        .collect();
    Some(((group, kind), versions))
}

/// The HelmReleases a release waits for (`spec.dependsOn`), transitively, by index.
fn helm_depends_on(platform: &RenderedPlatform, i: usize) -> BTreeSet<usize> {
    let key = |o: &Object| format!("{}/{}", o.namespace.clone().unwrap_or_default(), o.name);
    let by_key: BTreeMap<String, usize> = platform
        .releases
        .iter()
        .enumerate()
        .map(|(i, r)| (key(&r.helm_release), i))
        .collect();
    let mut seen = BTreeSet::new();
    let mut stack = vec![i];
    while let Some(n) = stack.pop() {
        let hr = &platform.releases[n].helm_release;
        let ns = hr.namespace.clone().unwrap_or_default();
        for d in hr
            .get("spec.dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = format!(
                "{}/{}",
                d["namespace"].as_str().unwrap_or(&ns),
                d["name"].as_str().unwrap_or_default()
            );
            if let Some(&j) = by_key.get(&k)
                && j != i
                && seen.insert(j)
            {
                stack.push(j);
            }
        }
    }
    seen
}

/// Every custom resource (the tree's and every chart's) has its CRD installed before it.
fn crd_order(platform: &RenderedPlatform, opts: &PlatformOptions) -> Vec<Problem> {
    let units = &platform.units;
    let unit_of = |file: &str| {
        units
            .unit_of(std::path::Path::new(file))
            .map(|u| u.key.clone())
    };
    let mut crds: BTreeMap<(String, String), Vec<Crd>> = BTreeMap::new();
    for o in &platform.tree {
        if let Some((id, versions)) = crd_of(o) {
            crds.entry(id).or_default().push(Crd {
                versions,
                installer: Installer::Tree {
                    unit: unit_of(&o.file),
                    file: o.file.to_string(),
                },
            });
        }
    }
    for (i, r) in platform.releases.iter().enumerate() {
        let dir = r
            .loaded
            .as_ref()
            .map(|l| l.chart.dir.clone())
            .unwrap_or_default();
        for o in r.objects() {
            if let Some((id, versions)) = crd_of(o) {
                crds.entry(id).or_default().push(Crd {
                    versions,
                    installer: Installer::Chart {
                        release: i,
                        crds_dir: in_crds_dir(&o.file, &dir),
                    },
                });
            }
        }
    }
    for (component, kinds) in &opts.applied_crds {
        let unit = format!("{}/{component}", crate::render::FLUX_NS);
        if !units.units.contains_key(&unit) {
            continue;
        }
        for (id, versions) in kinds {
            crds.entry(id.clone()).or_default().push(Crd {
                versions: versions.clone(),
                installer: Installer::Applied {
                    unit: unit.clone(),
                    component: component.clone(),
                },
            });
        }
    }
    let release_units: Vec<Option<String>> = platform
        .releases
        .iter()
        .map(|r| unit_of(&r.helm_release.file))
        .collect();
    let name_of = |inst: &Installer| match inst {
        Installer::Tree { unit, file } => match unit {
            Some(u) => format!("{file} (Kustomization {u})"),
            None => file.clone(),
        },
        Installer::Chart { release, .. } => {
            let r = &platform.releases[*release];
            match &release_units[*release] {
                Some(u) => format!("component {} (Kustomization {u})", r.component),
                None => format!("component {}", r.component),
            }
        }
        Installer::Applied { unit, component } => {
            format!("component {component} (Kustomization {unit})")
        }
        Installer::Declared { release } => {
            let r = &platform.releases[*release];
            match &release_units[*release] {
                Some(u) => format!(
                    "component {} (Kustomization {u}; not verified)",
                    r.component
                ),
                None => format!("component {} (not verified)", r.component),
            }
        }
    };
    // Releases not rendered, by the groups their catalogue entries declare.
    let declared: Vec<(usize, &BTreeSet<String>)> = platform
        .releases
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.outcome, super::Outcome::NotVerified(_)))
        .filter_map(|(i, r)| opts.declared_crds.get(&r.component).map(|g| (i, g)))
        .collect();
    let mut out = Vec::new();
    // (object, component, its release index, its unit)
    let mut consumers: Vec<(&Object, String, Option<usize>, Option<String>)> = platform
        .tree
        .iter()
        .map(|o| (o, String::new(), None, unit_of(&o.file)))
        .collect();
    for (i, r) in platform.releases.iter().enumerate() {
        for o in r.objects() {
            consumers.push((o, r.component.clone(), Some(i), release_units[i].clone()));
        }
    }
    for (o, component, release, unit) in consumers {
        let group = o.api_group();
        if crate::kubernetes::is_builtin_group(group) || opts.bootstrap_groups.contains(group) {
            continue;
        }
        // kustomize's own files are build input, not objects for the API server.
        if o.kind == "CustomResourceDefinition" || group == "kustomize.config.k8s.io" {
            continue;
        }
        let version = o.api_version.rsplit('/').next().unwrap_or_default();
        let id = (group.to_owned(), o.kind.clone());
        let problem = |message: String| {
            let loc = o.location("apiVersion");
            Problem {
                severity: Severity::Error,
                check: Check::CrdOrder,
                component: component.clone(),
                file: loc.file.to_string(),
                line: loc.line,
                object: format!("{}/{}", o.kind, o.name),
                path: "apiVersion".to_owned(),
                message,
                waived: None,
            }
        };
        // What a not-verified component would install is known only by group, in any version.
        let mut candidates: Vec<Crd> = crds.get(&id).cloned().unwrap_or_default();
        candidates.extend(
            declared
                .iter()
                .filter(|(_, groups)| groups.contains(group))
                .map(|(j, _)| Crd {
                    versions: BTreeSet::from([version.to_owned()]),
                    installer: Installer::Declared { release: *j },
                }),
        );
        if candidates.is_empty() {
            out.push(problem(format!(
                "no component of the platform installs the CRD of {} ({group}): the cluster refuses the object",
                o.kind
            )));
            continue;
        }
        let waits_for = release.map(|i| helm_depends_on(platform, i));
        // Another release is applied before this object: the HelmRelease waits for it, or its
        // Kustomization comes earlier.
        let release_before = |j: usize| {
            waits_for.as_ref().is_some_and(|w| w.contains(&j))
                || matches!((&unit, &release_units[j]), (Some(mine), Some(theirs)) if units.is_before(theirs, mine))
        };
        let in_time = |c: &Crd| -> bool {
            match &c.installer {
                Installer::Tree { unit: u, .. } => match (&unit, u) {
                    (Some(mine), Some(theirs)) => mine == theirs || units.is_before(theirs, mine),
                    (None, _) => true,
                    (Some(_), None) => false,
                },
                Installer::Chart {
                    release: j,
                    crds_dir,
                } => {
                    if Some(*j) == release {
                        *crds_dir || is_post_hook(o)
                    } else {
                        release_before(*j)
                    }
                }
                Installer::Declared { release: j } => release_before(*j),
                Installer::Applied { unit: theirs, .. } => match &unit {
                    Some(mine) => mine == theirs || units.is_before(theirs, mine),
                    None => true,
                },
            }
        };
        let ready: Vec<&Crd> = candidates.iter().filter(|c| in_time(c)).collect();
        if ready.is_empty() {
            let who: Vec<String> = candidates.iter().map(|c| name_of(&c.installer)).collect();
            let same_chart_template = candidates.iter().any(|c| {
                matches!(c.installer, Installer::Chart { release: j, crds_dir: false } if Some(j) == release)
            });
            let advice = if same_chart_template {
                "; the CRD is a template of the same chart, and Helm cannot map a custom resource whose CRD it installs in the same release (it needs the CRD in crds/ or in an earlier component)".to_owned()
            } else {
                match &unit {
                    Some(u) => format!(
                        ": add the installer's Kustomization to the dependsOn of Kustomization {u}"
                    ),
                    None => String::new(),
                }
            };
            out.push(problem(format!(
                "the CRD of {} ({group}) is installed by {}, which is not applied before {}{advice}",
                o.kind,
                who.join(", "),
                match (&unit, component.is_empty()) {
                    (_, false) => format!("component {component}"),
                    (Some(u), true) => format!("Kustomization {u}"),
                    (None, true) => "it".to_owned(),
                }
            )));
            continue;
        }
        if !ready.iter().any(|c| c.versions.contains(version)) {
            let served: BTreeSet<&String> = ready.iter().flat_map(|c| &c.versions).collect();
            out.push(problem(format!(
                "{} is not served by the CRD of {} installed before it (it serves {})",
                o.api_version,
                o.kind,
                served
                    .iter()
                    .map(|s| format!("{group}/{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    out
}

/// The Pod Security level a namespace enforces, from its labels.
#[derive(Debug, Clone)]
struct NamespacePolicy {
    level: Option<haven_pss::Level>,
    version: haven_pss::Version,
    /// Where its labels are written.
    file: String,
}

fn namespace_policy(o: &Object) -> NamespacePolicy {
    let label = |k: &str| {
        o.labels()
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let level = match label("pod-security.kubernetes.io/enforce").as_str() {
        "restricted" => Some(haven_pss::Level::Restricted),
        "baseline" => Some(haven_pss::Level::Baseline),
        _ => None,
    };
    let version = label("pod-security.kubernetes.io/enforce-version")
        .parse()
        .unwrap_or(haven_pss::Version::LATEST);
    NamespacePolicy {
        level,
        version,
        file: o.file.to_string(),
    }
}

/// Namespaces that exist in every cluster (nothing has to create them).
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Every workload of every chart against the Pod Security level of its namespace.
fn pod_security(platform: &RenderedPlatform) -> Vec<Problem> {
    let mut namespaces: BTreeMap<String, NamespacePolicy> = BTreeMap::new();
    let all = platform
        .tree
        .iter()
        .chain(platform.releases.iter().flat_map(|r| r.objects()));
    for o in all {
        if o.api_group().is_empty() && o.kind == "Namespace" {
            namespaces.insert(o.name.clone(), namespace_policy(o));
        }
    }
    let mut out = Vec::new();
    for r in &platform.releases {
        let mut by_ns: BTreeMap<String, Vec<Object>> = BTreeMap::new();
        for o in r.objects() {
            if haven_model::WorkloadKind::of(o).is_some() {
                let ns = o.namespace.clone().unwrap_or_else(|| r.namespace.clone());
                by_ns.entry(ns).or_default().push(o.clone());
            }
        }
        let creates = r
            .helm_release
            .get("spec.install.createNamespace")
            .and_then(Value::as_bool)
            == Some(true);
        for (ns, workloads) in by_ns {
            let Some(policy) = namespaces.get(&ns) else {
                if SYSTEM_NAMESPACES.contains(&ns.as_str()) {
                    continue;
                }
                let first = &workloads[0];
                let loc = first.location("metadata");
                let (severity, message) = if creates && ns == r.namespace {
                    (
                        Severity::Warning,
                        format!(
                            "namespace {ns} is created by Helm (install.createNamespace) without Pod Security labels: the cluster's default level applies to its pods"
                        ),
                    )
                } else {
                    (
                        Severity::Error,
                        format!(
                            "lands in namespace {ns}, which neither the tree nor a chart creates: the install fails"
                        ),
                    )
                };
                out.push(Problem {
                    severity,
                    check: Check::Namespace,
                    component: r.component.clone(),
                    file: loc.file.to_string(),
                    line: loc.line,
                    object: format!("{}/{}", first.kind, first.name),
                    path: "metadata.namespace".to_owned(),
                    message,
                    waived: None,
                });
                continue;
            };
            // A namespace above `restricted` is so for the workloads the catalogue names
            // (`podSecurityExempt`): every other pod of it is held to `restricted`.
            let exempt: &[String] = crate::catalogue::Catalogue::shared()
                .and_then(|c| c.get(&r.component))
                .filter(|_| ns == r.namespace)
                .map(|c| c.pod_security_exempt.as_slice())
                .unwrap_or_default();
            let (level, workloads, why) = match policy.level {
                Some(level) => (level, workloads, None),
                None if !exempt.is_empty() => {
                    let named = |o: &Object| format!("{}/{}", o.kind, o.name);
                    for e in exempt {
                        if !workloads.iter().any(|o| named(o) == *e) {
                            out.push(Problem {
                                severity: Severity::Error,
                                check: Check::PodSecurity,
                                component: r.component.clone(),
                                file: format!("catalogue/{}.yaml", r.component),
                                line: 1,
                                object: e.clone(),
                                path: "podSecurityExempt".to_owned(),
                                message: format!(
                                    "the catalogue exempts {e} from restricted in namespace {ns}, but the chart renders no such workload there"
                                ),
                                waived: None,
                            });
                        }
                    }
                    let rest: Vec<Object> = workloads
                        .into_iter()
                        .filter(|o| !exempt.contains(&named(o)))
                        .collect();
                    let why = format!(
                        "namespace {ns} is privileged ({}) only for {} (catalogue podSecurityExempt); every other pod of it is held to restricted",
                        policy.file,
                        exempt.join(", ")
                    );
                    (haven_pss::Level::Restricted, rest, Some(why))
                }
                None => continue,
            };
            let opts = haven_rules::CheckOptions {
                pss: Some((level, policy.version)),
                groups: haven_rules::Groups {
                    haven: false,
                    plus: false,
                    input: false,
                },
                scope: haven_model::RuleScope::Object,
                skip: Vec::new(),
                tags: Default::default(),
                internal_domains: Vec::new(),
                tenant: Default::default(),
            };
            let outcome = haven_rules::check(&workloads, &opts);
            for f in outcome.findings {
                out.push(Problem {
                    severity: Severity::Error,
                    check: Check::PodSecurity,
                    component: r.component.clone(),
                    file: f.location.file.to_string(),
                    line: f.location.line,
                    object: format!("{}/{}", f.object.kind, f.object.name),
                    path: f.path.clone(),
                    message: match &why {
                        None => format!(
                            "namespace {ns} enforces Pod Security {} ({}), which refuses this pod: {} {}",
                            level.as_str(),
                            policy.file,
                            f.rule,
                            f.message
                        ),
                        Some(why) => format!("{why}, which refuses this pod: {} {}", f.rule, f.message),
                    },
                    waived: None,
                });
            }
            for e in outcome.errors {
                out.push(Problem {
                    severity: Severity::Error,
                    check: Check::Schema,
                    component: r.component.clone(),
                    file: e.file.to_string(),
                    line: e.line,
                    object: String::new(),
                    path: e.field.clone().unwrap_or_default(),
                    message: e.message.clone(),
                    waived: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waivers_match_component_check_object_and_path_prefix_and_show_their_reason() {
        let problem = |component: &str, check, object: &str, path: &str| Problem {
            severity: Severity::Error,
            check,
            component: component.to_owned(),
            file: "charts/x/templates/d.yaml".to_owned(),
            line: 3,
            object: object.to_owned(),
            path: path.to_owned(),
            message: "refused".to_owned(),
            waived: None,
        };
        let path = "spec.template.spec.containers[0].securityContext.runAsNonRoot";
        let mut problems = vec![
            problem("x", Check::PodSecurity, "Deployment/a", path),
            problem("x", Check::PodSecurity, "Deployment/b", path),
            problem("x", Check::Schema, "Deployment/a", path),
            problem("y", Check::PodSecurity, "Deployment/a", path),
            problem(
                "x",
                Check::PodSecurity,
                "Deployment/a",
                "spec.template.spec.volumes",
            ),
        ];
        let waiver = ChartWaiver {
            check: "pod-security".to_owned(),
            object: Some("Deployment/a".to_owned()),
            path: Some("spec.template.spec.containers[0]".to_owned()),
            reason: "upstream runs it as root".to_owned(),
        };
        apply_waivers(
            &mut problems,
            &BTreeMap::from([("x".to_owned(), vec![waiver])]),
        );
        let waived: Vec<bool> = problems.iter().map(|p| p.waived.is_some()).collect();
        assert_eq!(waived, [true, false, false, false, false]);
        assert!(!problems[0].blocks());
        assert!(problems[1].blocks());
        let shown = problems[0].to_string();
        assert!(
            shown.contains("waived")
                && shown.ends_with("waived in the catalogue: upstream runs it as root"),
            "{shown}"
        );
    }

    /// Falco's namespace is privileged for its DaemonSet only (catalogue `podSecurityExempt`):
    /// another pod there is held to restricted, and an exemption naming a workload the chart
    /// does not render is reported, so the exemption cannot outlive what it was for.
    #[test]
    fn a_privileged_namespace_admits_only_the_exempt_workloads() {
        let load = |text: &str| {
            haven_model::load_objects(haven_model::Origin::File("t.yaml"), text).objects
        };
        let tree = load(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: falco\n  labels: {pod-security.kubernetes.io/enforce: privileged}\n",
        );
        let privileged = "spec: {selector: {}, template: {spec: {containers: [{name: c, image: i:1, securityContext: {privileged: true}}]}}}";
        let restricted = "spec: {selector: {}, template: {spec: {securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, image: i:1, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}}";
        let release = |objects: &str| {
            Release {
            component: "falco".to_owned(),
            helm_release: load("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: falco, namespace: flux-system}\n").remove(0),
            release_name: "falco".to_owned(),
            namespace: "falco".to_owned(),
            chart: None,
            loaded: None,
            values: Value::Null,
            crd_policy: super::super::flux::CrdPolicy::Create,
            outcome: Outcome::Rendered(load(objects)),
            job: None,
            text: None,
            lines_note: None,
        }
        };
        let platform = |objects: &str| RenderedPlatform {
            tree: tree.clone(),
            releases: vec![release(objects)],
            ..Default::default()
        };
        let ds = format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: falco, namespace: falco}}\n{privileged}\n"
        );
        let sidekick = |spec: &str| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: falco-falcosidekick, namespace: falco}}\n{spec}\n"
            )
        };
        assert!(pod_security(&platform(&format!("{ds}{}", sidekick(restricted)))).is_empty());
        let found = pod_security(&platform(&format!("{ds}{}", sidekick(privileged))));
        assert!(!found.is_empty());
        for p in &found {
            assert_eq!(p.object, "Deployment/falco-falcosidekick");
            assert!(
                p.message.contains("only for DaemonSet/falco"),
                "{}",
                p.message
            );
        }
        let found = pod_security(&platform(&sidekick(restricted)));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "podSecurityExempt");
    }

    #[test]
    fn crds_dirs_are_told_from_templates_and_subchart_names() {
        assert!(in_crds_dir("c/x/crds/a.yaml", "c/x"));
        assert!(in_crds_dir("c/x/charts/sub/crds/a.yaml", "c/x"));
        assert!(!in_crds_dir("c/x/charts/crds/templates/a.yaml", "c/x"));
        assert!(!in_crds_dir("c/x/templates/crds/a.yaml", "c/x"));
    }

    #[test]
    fn remote_refs_are_dropped_and_named() {
        let (s, found) = without_remote_refs(&serde_json::json!({
            "properties": {"a": {"$ref": "https://example.org/defs.json#/x", "description": "d"},
                           "b": {"$ref": "#/definitions/b"}}}));
        assert_eq!(
            found,
            BTreeSet::from(["https://example.org/defs.json".to_owned()])
        );
        assert_eq!(
            s["properties"]["a"],
            serde_json::json!({"description": "d"})
        );
        assert_eq!(s["properties"]["b"]["$ref"], "#/definitions/b");
    }
}
