//! Tenancy: Flux's multi-tenancy lockdown is on, the platform's own Flux objects reconcile
//! under it, and no tenant is named like a system or platform namespace.
//!
//! The lockdown is read as Flux applies it: the controllers' arguments in their Deployments
//! (`gotk-components.yaml`, once `flux bootstrap` wrote it) plus the kustomize patches of
//! `clusters/<name>/flux-system/kustomization.yaml` that target them (bootstrap applies them,
//! before and after it wrote the Deployments). The same patches may set a Flux object's
//! `serviceAccountName` (the flux-system Kustomization's, whose `gotk-sync.yaml` bootstrap
//! rewrites), so [`Lockdown::service_account`] reads them too.
//!
//! Which identity a Kustomization or HelmRelease is reconciled as ([`Reconciler`]) is the
//! question [`super::identities`] builds on: its `serviceAccountName`, else the controller's
//! `--default-service-account` in the object's namespace, else the controller itself.

use std::collections::{BTreeMap, BTreeSet};

use crate::validate::Severity;
use haven_model::Object;
use serde_json::Value;

use super::{Landscape, Placed};
use crate::charts::{Check, Problem};
use crate::render::{FLUX_NS, HELM_CONTROLLER, KUSTOMIZE_CONTROLLER};
use crate::tenant::TENANT_LABEL;

/// A tenant as the tree shows it: a Namespace labelled `haven.commonground.nl/tenant`, or one
/// written under `tenants/`.
#[derive(Debug, Clone, Copy)]
pub struct TenantNamespace<'a> {
    pub name: &'a str,
    pub namespace: Placed<'a>,
}

/// The tenants of the landscape, by name.
pub fn tenants<'a>(landscape: &Landscape<'a>) -> Vec<TenantNamespace<'a>> {
    let mut out: BTreeMap<&'a str, TenantNamespace<'a>> = BTreeMap::new();
    for p in landscape.of_kind("", "Namespace") {
        let labelled = p
            .object
            .labels()
            .is_some_and(|l| l.contains_key(TENANT_LABEL));
        let under_tenants = p.component.is_empty() && p.object.file.starts_with("tenants/");
        if labelled || under_tenants {
            out.entry(p.object.name.as_str())
                .or_insert(TenantNamespace {
                    name: p.object.name.as_str(),
                    namespace: p,
                });
        }
    }
    out.into_values().collect()
}

/// The Flux controllers the lockdown concerns, and the flags each must run with.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        KUSTOMIZE_CONTROLLER,
        &[
            "--no-cross-namespace-refs",
            "--no-remote-bases",
            "--default-service-account",
        ],
    ),
    (
        HELM_CONTROLLER,
        &["--no-cross-namespace-refs", "--default-service-account"],
    ),
    ("notification-controller", &["--no-cross-namespace-refs"]),
];

/// Why each flag matters, for the message.
fn why(flag: &str) -> &'static str {
    match flag {
        "--no-cross-namespace-refs" => {
            "a tenant's Flux objects could use the platform's sources and another tenant's"
        }
        "--no-remote-bases" => {
            "a tenant's kustomization could pull remote bases from outside its repository"
        }
        _ => {
            "a tenant's Kustomization or HelmRelease without serviceAccountName is reconciled as the controller itself (cluster-admin)"
        }
    }
}

/// One kustomize patch of the flux-system `kustomization.yaml`.
#[derive(Debug, Clone)]
struct Patch {
    kind: String,
    /// Kustomize matches the name as an anchored regular expression.
    name: Option<regex::Regex>,
    ops: Vec<(String, String, Value)>,
}

impl Patch {
    fn targets(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name.as_ref().is_none_or(|re| re.is_match(name))
    }
}

/// What the tree says about Flux's lockdown.
#[derive(Debug, Clone, Default)]
pub struct Lockdown<'a> {
    /// The flux-system `kustomization.yaml` (the kustomize Kustomization listing `gotk-sync.yaml`).
    pub kustomization: Option<Placed<'a>>,
    patches: Vec<Patch>,
    /// Controller → its arguments, Deployment's first and the patches' after them.
    args: BTreeMap<String, Vec<String>>,
    /// The controllers' Deployments the landscape holds.
    deployments: BTreeMap<String, Placed<'a>>,
}

/// Who a Kustomization or HelmRelease is reconciled as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciler {
    /// A service account in the object's namespace; `defaulted` when the controller's
    /// `--default-service-account` chose it.
    ServiceAccount {
        namespace: String,
        name: String,
        defaulted: bool,
    },
    /// The controller's own identity: no `serviceAccountName` and no lockdown.
    Controller(&'static str),
}

impl<'a> Lockdown<'a> {
    pub fn of(landscape: &Landscape<'a>) -> Self {
        let mut l = Lockdown::default();
        for p in landscape.objects.iter().copied() {
            let o = p.object;
            if o.api_group() == "kustomize.config.k8s.io"
                && o.kind == "Kustomization"
                && p.component.is_empty()
                && o.file.ends_with("flux-system/kustomization.yaml")
            {
                l.kustomization = Some(p);
                l.patches = read_patches(p);
            }
            if o.kind == "Deployment"
                && o.namespace.as_deref() == Some(FLUX_NS)
                && REQUIRED.iter().any(|(c, _)| *c == o.name)
            {
                l.deployments.insert(o.name.clone(), p);
            }
        }
        for (controller, _) in REQUIRED {
            let mut args: Vec<String> = l
                .deployments
                .get(*controller)
                .and_then(|d| d.object.get("spec.template.spec.containers"))
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("args"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect();
            for patch in l
                .patches
                .iter()
                .filter(|p| p.targets("Deployment", controller))
            {
                for (op, path, value) in &patch.ops {
                    if (op == "add" || op == "replace")
                        && path.starts_with("/spec/template/spec/containers/0/args/")
                        && let Some(v) = value.as_str()
                    {
                        args.push(v.to_owned());
                    }
                }
            }
            l.args.insert((*controller).to_owned(), args);
        }
        l
    }

    /// The value a controller runs with for a flag (the last occurrence, as Go's `flag` reads
    /// them); a boolean flag given bare is `true`.
    pub fn flag(&self, controller: &str, flag: &str) -> Option<String> {
        self.args.get(controller)?.iter().rev().find_map(|a| {
            let rest = a.strip_prefix(flag)?;
            if rest.is_empty() {
                Some("true".to_owned())
            } else {
                rest.strip_prefix('=').map(str::to_owned)
            }
        })
    }

    fn flag_on(&self, controller: &str, flag: &str) -> bool {
        match self.flag(controller, flag) {
            None => false,
            Some(v) if flag == "--default-service-account" => !v.is_empty(),
            Some(v) => v == "true",
        }
    }

    /// `spec.serviceAccountName` of a Flux object, as written or as a patch of the
    /// flux-system kustomization sets it.
    pub fn service_account(&self, o: &Object) -> Option<String> {
        let patched = self
            .patches
            .iter()
            .filter(|p| p.targets(&o.kind, &o.name))
            .flat_map(|p| p.ops.iter())
            .filter(|(op, path, _)| {
                (op == "add" || op == "replace") && path == "/spec/serviceAccountName"
            })
            .filter_map(|(_, _, v)| v.as_str())
            .next_back()
            .map(str::to_owned);
        patched.or_else(|| {
            o.get("spec.serviceAccountName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
    }

    /// Who reconciles a Flux Kustomization or HelmRelease.
    pub fn reconciler(&self, o: &Object) -> Reconciler {
        let namespace = o.namespace.clone().unwrap_or_default();
        let controller = if o.kind == "HelmRelease" {
            HELM_CONTROLLER
        } else {
            KUSTOMIZE_CONTROLLER
        };
        if let Some(name) = self.service_account(o) {
            return Reconciler::ServiceAccount {
                namespace,
                name,
                defaulted: false,
            };
        }
        match self
            .flag(controller, "--default-service-account")
            .filter(|s| !s.is_empty())
        {
            Some(name) => Reconciler::ServiceAccount {
                namespace,
                name,
                defaulted: true,
            },
            None => Reconciler::Controller(controller),
        }
    }
}

fn read_patches(at: Placed<'_>) -> Vec<Patch> {
    let mut out = Vec::new();
    let Some(patches) = at.object.get("patches").and_then(Value::as_array) else {
        return out;
    };
    for p in patches {
        let Some(target) = p.get("target") else {
            continue;
        };
        let kind = target
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = target
            .get("name")
            .and_then(Value::as_str)
            .and_then(|n| regex::Regex::new(&format!("^(?:{n})$")).ok());
        let ops = p
            .get("patch")
            .and_then(Value::as_str)
            .and_then(|text| serde_yaml_ng::from_str::<Value>(text).ok())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|op| {
                Some((
                    op.get("op")?.as_str()?.to_owned(),
                    op.get("path")?.as_str()?.to_owned(),
                    op.get("value").cloned().unwrap_or(Value::Null),
                ))
            })
            .collect();
        out.push(Patch { kind, name, ops });
    }
    out
}

/// A problem about `at`'s object (its file and the line of `path`), named `object`.
pub(super) fn problem(
    severity: Severity,
    check: Check,
    at: Placed<'_>,
    path: &str,
    object: &str,
    message: String,
) -> Problem {
    let loc = at.object.location(path);
    Problem {
        severity,
        check,
        component: at.component.to_owned(),
        file: loc.file.to_string(),
        line: loc.line,
        object: object.to_owned(),
        path: path.to_owned(),
        message,
        waived: None,
    }
}

pub(super) fn is_flux_consumer(o: &Object) -> bool {
    (o.kind == "Kustomization" && o.api_group() == "kustomize.toolkit.fluxcd.io")
        || (o.kind == "HelmRelease" && o.api_group() == "helm.toolkit.fluxcd.io")
}

/// The lockdown flags, the platform's Flux objects under it, reserved tenant names.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let mut out = Vec::new();
    let lockdown = Lockdown::of(landscape);
    let tenants = tenants(landscape);
    lockdown_flags(&lockdown, !tenants.is_empty(), &mut out);
    platform_reconcilers(landscape, &lockdown, &tenants, &mut out);
    cross_namespace_sources(landscape, &lockdown, &mut out);
    reserved_names(landscape, catalogue, &tenants, &mut out);
    cluster_secret_stores(landscape, &tenants, &mut out);
    out
}

/// Whether External Secrets lets an ExternalSecret in `namespace` (labelled `labels`) use a
/// ClusterSecretStore with these `spec.conditions`, as its client manager decides
/// (`isNamespaceAllowed`): no conditions admit every namespace; otherwise any condition admits
/// a namespace its `namespaceSelector` selects, its `namespaces` names or one of its
/// `namespaceRegexes` matches (Go's `regexp.MatchString`, unanchored).
fn store_admits(
    conditions: Option<&Value>,
    namespace: &str,
    labels: &haven_selector::Labels,
) -> bool {
    let Some(conditions) = conditions
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    else {
        return true;
    };
    conditions.iter().any(|c| {
        let by_selector = c.get("namespaceSelector").is_some_and(|sel| {
            serde_json::from_value::<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>(
                sel.clone(),
            )
            .ok()
            .and_then(|sel| haven_selector::Selector::from_label_selector(Some(&sel)).ok())
            // A selector the API server would refuse: the store errors, it admits no one;
            // the schema check reports it.
            .is_some_and(|sel| sel.matches(labels))
        });
        let by_name = c
            .get("namespaces")
            .and_then(Value::as_array)
            .is_some_and(|n| n.iter().any(|n| n.as_str() == Some(namespace)));
        let by_regex = c
            .get("namespaceRegexes")
            .and_then(Value::as_array)
            .is_some_and(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|r| regex::Regex::new(r).ok())
                    .any(|r| r.is_match(namespace))
            });
        by_selector || by_name || by_regex
    })
}

/// No tenant namespace can use a cluster-wide secret store or generator. External Secrets'
/// chart aggregates `create` on ExternalSecrets into `admin`, which each tenant's reconciler
/// holds; a ClusterSecretStore that admits a tenant namespace lets the tenant read every
/// secret the store's identity can (the platform's), and a ClusterGenerator (which has no
/// conditions) lets it mint what the generator mints. Tenants use their own SecretStore.
fn cluster_secret_stores(
    landscape: &Landscape<'_>,
    tenants: &[TenantNamespace<'_>],
    out: &mut Vec<Problem>,
) {
    let labelled = |t: &TenantNamespace<'_>| -> haven_selector::Labels {
        let mut labels: haven_selector::Labels = t
            .namespace
            .object
            .labels()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        // The API server sets it on every Namespace.
        labels.insert("kubernetes.io/metadata.name".to_owned(), t.name.to_owned());
        labels
    };
    for p in landscape.of_kind("external-secrets.io", "ClusterSecretStore") {
        let conditions = p.object.get("spec.conditions");
        let admitted: Vec<&str> = tenants
            .iter()
            .filter(|t| store_admits(conditions, t.name, &labelled(t)))
            .map(|t| t.name)
            .collect();
        let object = format!("ClusterSecretStore/{}", p.object.name);
        if !admitted.is_empty() {
            out.push(problem(
                Severity::Error,
                Check::Tenancy,
                p,
                if conditions.is_some() { "spec.conditions" } else { "spec" },
                &object,
                format!(
                    "tenant namespace(s) {} can use this cluster-wide store (a tenant's reconciler                      may create ExternalSecrets), so a tenant could read every secret the store                      reads: limit it with spec.conditions to the platform's namespaces; tenants                      use a SecretStore of their own",
                    admitted.join(", ")
                ),
            ));
        } else if conditions
            .and_then(Value::as_array)
            .is_none_or(|c| c.is_empty())
        {
            out.push(problem(
                Severity::Warning,
                Check::Tenancy,
                p,
                "spec",
                &object,
                "has no spec.conditions: every namespace, any tenant added later included, can \
                 use it; limit it to the platform's namespaces"
                    .to_owned(),
            ));
        }
    }
    for p in landscape.of_kind("generators.external-secrets.io", "ClusterGenerator") {
        if tenants.is_empty() {
            continue;
        }
        out.push(problem(
            Severity::Error,
            Check::Tenancy,
            p,
            "spec",
            &format!("ClusterGenerator/{}", p.object.name),
            "a ClusterGenerator has no namespace conditions: every tenant namespace can use it \
             from an ExternalSecret; use a namespaced generator in the namespace that needs it"
                .to_owned(),
        ));
    }
}

fn lockdown_flags(lockdown: &Lockdown<'_>, has_tenants: bool, out: &mut Vec<Problem>) {
    let Some(k) = lockdown.kustomization else {
        if lockdown.deployments.is_empty() && has_tenants {
            out.push(Problem {
                severity: Severity::Warning,
                check: Check::Tenancy,
                component: String::new(),
                file: String::new(),
                line: 0,
                object: String::new(),
                path: String::new(),
                message: "Flux's multi-tenancy lockdown is not proved: the tree has no clusters/<name>/flux-system/kustomization.yaml and no Flux controller Deployments".to_owned(),
                waived: None,
            });
        }
        return;
    };
    for (controller, flags) in REQUIRED {
        // A controller the cluster does not run needs no flag: only when its Deployment is
        // in the tree can that be seen; `flux bootstrap` installs all three by default.
        if !lockdown.deployments.is_empty() && !lockdown.deployments.contains_key(*controller) {
            continue;
        }
        for flag in *flags {
            if lockdown.flag_on(controller, flag) {
                continue;
            }
            let wanted = if *flag == "--default-service-account" {
                "--default-service-account=default".to_owned()
            } else {
                format!("{flag}=true")
            };
            let (at, path) = match lockdown.deployments.get(*controller) {
                Some(d) if lockdown.patches.is_empty() => (*d, "spec.template.spec.containers"),
                _ => (k, "patches"),
            };
            out.push(problem(
                Severity::Error,
                Check::Tenancy,
                at,
                path,
                &format!("Deployment/{FLUX_NS}/{controller}"),
                format!(
                    "{controller} runs without `{wanted}` (Flux's multi-tenancy lockdown): {}; \
                     `haven plus render` writes the patch into clusters/<name>/flux-system/kustomization.yaml",
                    why(flag)
                ),
            ));
        }
    }
}

/// The platform's own Kustomizations and HelmReleases (outside tenant namespaces) must name a
/// service account that can apply them: under the lockdown the default one holds no rights.
fn platform_reconcilers(
    landscape: &Landscape<'_>,
    lockdown: &Lockdown<'_>,
    tenants: &[TenantNamespace<'_>],
    out: &mut Vec<Problem>,
) {
    let tenant_ns: BTreeSet<&str> = tenants.iter().map(|t| t.name).collect();
    let accounts: BTreeSet<(String, String)> = landscape
        .of_kind("", "ServiceAccount")
        .map(|p| {
            (
                p.object.namespace.clone().unwrap_or_default(),
                p.object.name.clone(),
            )
        })
        .collect();
    for p in landscape.objects.iter().copied() {
        let o = p.object;
        let ns = o.namespace.as_deref().unwrap_or_default();
        if !is_flux_consumer(o) || tenant_ns.contains(ns) {
            continue;
        }
        let object = format!("{}/{ns}/{}", o.kind, o.name);
        match lockdown.reconciler(o) {
            Reconciler::Controller(_) => {}
            Reconciler::ServiceAccount {
                namespace,
                name,
                defaulted,
            } => {
                let controller_sa = namespace == FLUX_NS
                    && (name == KUSTOMIZE_CONTROLLER || name == HELM_CONTROLLER);
                if controller_sa || accounts.contains(&(namespace.clone(), name.clone())) {
                    continue;
                }
                let message = if defaulted {
                    format!(
                        "has no serviceAccountName: under Flux's lockdown it is reconciled as \
                         ServiceAccount {namespace}/{name}, which holds no rights, so nothing it \
                         applies lands; a platform object names `{}` and lives in {FLUX_NS}",
                        if o.kind == "HelmRelease" {
                            HELM_CONTROLLER
                        } else {
                            KUSTOMIZE_CONTROLLER
                        }
                    )
                } else {
                    format!(
                        "is reconciled as ServiceAccount {namespace}/{name}, which the platform \
                         does not create (only flux-system's {KUSTOMIZE_CONTROLLER} and \
                         {HELM_CONTROLLER} reconcile the platform)"
                    )
                };
                out.push(problem(
                    Severity::Error,
                    Check::Tenancy,
                    p,
                    "spec.serviceAccountName",
                    &object,
                    message,
                ));
            }
        }
    }
}

/// Under `--no-cross-namespace-refs` a Flux object whose source is in another namespace is
/// refused by its controller: it never reconciles.
fn cross_namespace_sources(
    landscape: &Landscape<'_>,
    lockdown: &Lockdown<'_>,
    out: &mut Vec<Problem>,
) {
    for p in landscape.objects.iter().copied() {
        let o = p.object;
        if !is_flux_consumer(o) {
            continue;
        }
        let controller = if o.kind == "HelmRelease" {
            HELM_CONTROLLER
        } else {
            KUSTOMIZE_CONTROLLER
        };
        if !lockdown.flag_on(controller, "--no-cross-namespace-refs") {
            continue;
        }
        let own = o.namespace.as_deref().unwrap_or_default();
        for path in [
            "spec.sourceRef",
            "spec.chartRef",
            "spec.chart.spec.sourceRef",
        ] {
            let Some(r) = o.get(path) else { continue };
            let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            let ns = field("namespace");
            if ns.is_empty() || ns == own {
                continue;
            }
            out.push(problem(
                Severity::Error,
                Check::Tenancy,
                p,
                &format!("{path}.namespace"),
                &format!("{}/{own}/{}", o.kind, o.name),
                format!(
                    "refers to {} {ns}/{} in another namespace: Flux's lockdown                      (`--no-cross-namespace-refs` on {controller}) refuses it, so it never                      reconciles; keep the source in {own}",
                    field("kind"),
                    field("name")
                ),
            ));
        }
    }
}

fn reserved_names(
    landscape: &Landscape<'_>,
    catalogue: &crate::Catalogue,
    tenants: &[TenantNamespace<'_>],
    out: &mut Vec<Problem>,
) {
    let mut platform: Vec<(&str, &str)> = catalogue
        .components
        .iter()
        .map(|c| (c.namespace.as_str(), c.name.as_str()))
        .collect();
    // Namespaces the tree gives components (a config may move one).
    for p in landscape.of_kind("", "Namespace") {
        if let Some(c) = p
            .object
            .labels()
            .and_then(|l| l.get("haven.commonground.nl/component"))
            .and_then(Value::as_str)
        {
            platform.push((p.object.name.as_str(), c));
        }
    }
    for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
        if let Some(ns) = p.object.get("spec.targetNamespace").and_then(Value::as_str) {
            platform.push((ns, p.object.name.as_str()));
        }
    }
    for t in tenants {
        if let Some(why) = crate::tenant::reserved(t.name, platform.iter().copied()) {
            out.push(problem(
                Severity::Error,
                Check::Tenancy,
                t.namespace,
                "metadata.name",
                &format!("Namespace/{}", t.name),
                format!(
                    "tenant `{}` is named like a system or platform namespace: {why}; its \
                     labels, quota, policies and reconciler would land on that namespace",
                    t.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_model::{Origin, load_objects};

    fn objects(files: &[(&str, &str)]) -> Vec<Object> {
        files
            .iter()
            .flat_map(|(f, t)| load_objects(Origin::File(f), t).objects)
            .collect()
    }

    const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [gotk-sync.yaml]\npatches:\n- patch: |\n    - op: add\n      path: /spec/template/spec/containers/0/args/-\n      value: --no-cross-namespace-refs=true\n  target: {kind: Deployment, name: \"(kustomize-controller|helm-controller)\"}\n- patch: |\n    - op: add\n      path: /spec/serviceAccountName\n      value: kustomize-controller\n  target: {kind: Kustomization, name: flux-system}\n";

    #[test]
    fn patches_give_flags_and_service_accounts() {
        let tree = objects(&[
            ("clusters/c/flux-system/kustomization.yaml", KUSTOMIZATION),
            (
                "clusters/c/flux-system/gotk-sync.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: flux-system, namespace: flux-system}\nspec: {path: ./c}\n",
            ),
        ]);
        let l = Landscape::of_tree(&tree);
        let lock = Lockdown::of(&l);
        assert_eq!(
            lock.flag(KUSTOMIZE_CONTROLLER, "--no-cross-namespace-refs")
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            lock.flag("notification-controller", "--no-cross-namespace-refs"),
            None
        );
        assert_eq!(
            lock.flag(KUSTOMIZE_CONTROLLER, "--default-service-account"),
            None
        );
        let sync = tree.iter().find(|o| o.name == "flux-system").unwrap();
        assert_eq!(
            lock.reconciler(sync),
            Reconciler::ServiceAccount {
                namespace: FLUX_NS.into(),
                name: KUSTOMIZE_CONTROLLER.into(),
                defaulted: false
            }
        );
        let problems = prove(&l, &crate::Catalogue::builtin().unwrap());
        let missing: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        // no-remote-bases and default-service-account on kustomize-controller, the default
        // service account on helm-controller, cross-namespace refs on notification-controller.
        assert_eq!(problems.len(), 4, "{missing:#?}");
        assert!(
            problems
                .iter()
                .all(|p| p.check == Check::Tenancy && p.blocks())
        );
    }

    #[test]
    fn a_source_in_another_namespace_is_refused_under_the_lockdown() {
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: zaken}\nspec: {serviceAccountName: flux-reconciler, chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}}}}\n";
        let tree = objects(&[
            ("clusters/c/flux-system/kustomization.yaml", KUSTOMIZATION),
            ("apps.yaml", hr),
        ]);
        let problems = prove(
            &Landscape::of_tree(&tree),
            &crate::Catalogue::builtin().unwrap(),
        );
        let cross: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.path == "spec.chart.spec.sourceRef.namespace")
            .collect();
        assert_eq!(cross.len(), 1, "{problems:#?}");
        assert_eq!(cross[0].object, "HelmRelease/zaken/podinfo");
        assert!(
            cross[0]
                .message
                .contains("HelmRepository flux-system/podinfo")
        );
        assert_eq!(cross[0].line, 4);
    }

    #[test]
    fn a_bare_bool_flag_is_true_and_the_last_one_wins() {
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: helm-controller, namespace: flux-system}\nspec: {template: {spec: {containers: [{name: manager, args: [--no-cross-namespace-refs, --default-service-account=default, --default-service-account=]}]}}}\n";
        let tree = objects(&[("clusters/c/flux-system/gotk-components.yaml", deploy)]);
        let l = Landscape::of_tree(&tree);
        let lock = Lockdown::of(&l);
        assert!(lock.flag_on(HELM_CONTROLLER, "--no-cross-namespace-refs"));
        assert!(!lock.flag_on(HELM_CONTROLLER, "--default-service-account"));
    }

    fn store_findings(store: &str) -> Vec<Problem> {
        let tree = objects(&[
            (
                "tenants/zaken/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: zaken\n  labels: {haven.commonground.nl/tenant: zaken}\n",
            ),
            ("infrastructure/external-secrets-config/store.yaml", store),
        ]);
        let l = Landscape::of_tree(&tree);
        let mut out = Vec::new();
        cluster_secret_stores(&l, &tenants(&l), &mut out);
        out
    }

    #[test]
    fn a_cluster_store_a_tenant_can_use_is_an_error() {
        let head = "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata: {name: openbao}\nspec:\n  provider: {vault: {server: http://x}}\n";
        let errors = |extra: &str| {
            store_findings(&format!("{head}{extra}"))
                .into_iter()
                .filter(|p| p.severity == Severity::Error)
                .count()
        };
        // No conditions: every namespace.
        assert_eq!(errors(""), 1);
        assert_eq!(errors("  conditions: [{namespaces: [zaken, loki]}]\n"), 1);
        assert_eq!(errors("  conditions: [{namespaceRegexes: ['^z']}]\n"), 1);
        assert_eq!(
            errors(
                "  conditions: [{namespaceSelector: {matchLabels: {haven.commonground.nl/tenant: zaken}}}]\n"
            ),
            1
        );
        assert_eq!(
            errors(
                "  conditions: [{namespaces: [loki]}, {namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [zaken]}]}}]\n"
            ),
            1
        );
        // Only the platform's namespaces.
        assert_eq!(errors("  conditions: [{namespaces: [loki, grafana]}]\n"), 0);
        assert_eq!(
            errors(
                "  conditions: [{namespaceSelector: {matchLabels: {haven.commonground.nl/component: loki}}}]\n"
            ),
            0
        );
        let generator = store_findings(
            "apiVersion: generators.external-secrets.io/v1alpha1\nkind: ClusterGenerator\nmetadata: {name: pw}\nspec: {kind: Password, generator: {passwordSpec: {length: 32}}}\n",
        );
        assert_eq!(generator.len(), 1, "{generator:?}");
    }
}
