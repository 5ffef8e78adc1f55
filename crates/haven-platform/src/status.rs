//! Is the rendered platform running? Flux Kustomization and HelmRelease `Ready` conditions, read
//! from a live cluster by the caller, folded into a state per component and per capability.
//!
//! Pure: the CLI lists the objects (kube client) and hands their JSON here, so the logic is
//! tested on data and `--wait` is just "list again until `ready`".

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::{Catalogue, SourceKind, resolve};
use crate::config::PlatformConfig;

/// The state of one Flux object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "message", rename_all = "kebab-case")]
pub enum State {
    Ready,
    /// Reconciling, or Ready for an older generation.
    Progressing(String),
    /// `Ready=False`: the reason and message Flux gives.
    Failed(String),
    /// Not on the cluster at all.
    Missing,
    /// Not known: the read that would show it was refused (`could not read … (forbidden)`).
    /// Never counted as Ready: a Ready haven could not see is not claimed.
    Unknown(String),
}

impl State {
    pub fn is_ready(&self) -> bool {
        matches!(self, State::Ready)
    }

    fn rank(&self) -> u8 {
        match self {
            State::Ready => 0,
            State::Progressing(_) => 1,
            State::Unknown(_) => 2,
            State::Missing => 3,
            State::Failed(_) => 4,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Progressing(_) => "progressing",
            State::Failed(_) => "failed",
            State::Missing => "missing",
            State::Unknown(_) => "unknown",
        }
    }

    /// The text of the MESSAGE column.
    fn message(&self) -> &str {
        match self {
            State::Progressing(m) | State::Failed(m) | State::Unknown(m) => m,
            State::Missing => "not found on the cluster",
            State::Ready => "",
        }
    }
}

/// One list `haven plus status` makes ([`reads`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    /// The one namespace listed; `None`: every namespace, or a cluster-scoped kind.
    pub namespace: Option<String>,
    /// A required read that fails ends the command (exit 2). An optional one is skipped when its
    /// kind is not served (External Secrets' CRDs arrive after Flux), and when it is forbidden
    /// what it would have shown becomes [`State::Unknown`] ([`Unread`]).
    pub required: bool,
}

impl Read {
    /// `jobs.batch in namespace garage`, `kustomizations.kustomize.toolkit.fluxcd.io` (every
    /// namespace).
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}.{} in namespace {ns}", self.plural, self.group),
            None => format!("{}.{}", self.plural, self.group),
        }
    }
}

/// An optional read the cluster refused: the objects of `kind` it would have shown (in
/// `namespace`, or anywhere when `None`) are [`State::Unknown`] with `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub kind: String,
    pub namespace: Option<String>,
    pub message: String,
}

impl Unread {
    /// A read refused with 403 Forbidden.
    pub fn forbidden(read: &Read) -> Self {
        Self {
            kind: read.kind.to_owned(),
            namespace: read.namespace.clone(),
            message: format!("could not read {} (forbidden)", read.describe()),
        }
    }
}

/// What `haven plus status` lists, and no more. Flux's Kustomizations and HelmReleases in every
/// namespace (required: a HelmRelease is also found by name outside flux-system, a tenant's
/// Kustomization sits in its namespace), the ClusterSecretStores (cluster-scoped); the
/// ExternalSecrets, SecretStores and Jobs only in the namespaces where the tree puts them (today
/// the object store's bootstrap Job in `garage`), so a person with rights on the platform's namespaces
/// only needs no cluster-wide list of Jobs or ExternalSecrets.
pub fn reads(config: &PlatformConfig, catalogue: &Catalogue) -> Vec<Read> {
    let read = |group, version, kind, plural, namespace, required| Read {
        group,
        version,
        kind,
        plural,
        namespace,
        required,
    };
    let mut out = vec![
        read(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "Kustomization",
            "kustomizations",
            None,
            true,
        ),
        read(
            "helm.toolkit.fluxcd.io",
            "v2",
            "HelmRelease",
            "helmreleases",
            None,
            true,
        ),
        read(
            "external-secrets.io",
            "v1",
            "ClusterSecretStore",
            "clustersecretstores",
            None,
            false,
        ),
    ];
    let rendered = crate::render::render(config, catalogue);
    let mut external_secrets = std::collections::BTreeSet::new();
    let mut secret_stores = std::collections::BTreeSet::new();
    let mut jobs = std::collections::BTreeSet::new();
    for (path, text) in &rendered.files {
        for doc in haven_model::parse_stream(&path.to_string_lossy(), text)
            .into_iter()
            .flatten()
        {
            let v = &doc.value;
            let ns = v["metadata"]["namespace"].as_str().unwrap_or_default();
            match (v["apiVersion"].as_str(), v["kind"].as_str()) {
                (Some(a), Some("ExternalSecret")) if a.starts_with("external-secrets.io/") => {
                    external_secrets.insert(ns.to_owned());
                }
                // The OIDC clients' readers (`crate::oidc_clients`).
                (Some(a), Some("SecretStore")) if a.starts_with("external-secrets.io/") => {
                    secret_stores.insert(ns.to_owned());
                }
                (Some("batch/v1"), Some("Job")) => {
                    jobs.insert(ns.to_owned());
                }
                _ => {}
            }
        }
    }
    for ns in external_secrets {
        out.push(read(
            "external-secrets.io",
            "v1",
            "ExternalSecret",
            "externalsecrets",
            Some(ns),
            false,
        ));
    }
    for ns in secret_stores {
        out.push(read(
            "external-secrets.io",
            "v1",
            "SecretStore",
            "secretstores",
            Some(ns),
            false,
        ));
    }
    for ns in jobs {
        out.push(read("batch", "v1", "Job", "jobs", Some(ns), false));
    }
    out
}

/// A Flux object as listed from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub state: State,
}

/// Reads the Ready condition of a Flux object (any Kubernetes object with conditions).
pub fn observe(object: &Value) -> Observed {
    let s = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64);
    if s("/kind") == "Job" {
        return Observed {
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
            state: job_state(object),
        };
    }
    let ready = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
    let state = match ready {
        None => State::Progressing("no Ready condition yet".to_owned()),
        Some(c) => {
            let reason = c["reason"].as_str().unwrap_or_default();
            let message = c["message"].as_str().unwrap_or_default();
            let text = if message.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason}: {message}")
            };
            let observed = c["observedGeneration"].as_i64().or_else(|| {
                object
                    .pointer("/status/observedGeneration")
                    .and_then(Value::as_i64)
            });
            let stale = matches!((generation, observed), (Some(g), Some(o)) if o < g);
            match c["status"].as_str() {
                Some("True") if stale => State::Progressing(format!(
                    "generation {} not reconciled yet",
                    generation.unwrap_or(0)
                )),
                Some("True") => State::Ready,
                Some("False") if reason == "Progressing" || reason == "DependencyNotReady" => {
                    State::Progressing(text)
                }
                Some("False") => State::Failed(text),
                _ => State::Progressing(text),
            }
        }
    };
    Observed {
        kind: s("/kind"),
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
        state,
    }
}

/// A Job of the tree (the object store's bootstrap): Ready once `Complete`, failed once
/// `Failed` (its backoff or deadline ran out), running otherwise.
fn job_state(job: &Value) -> State {
    let conditions = job
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is = |t: &str| {
        conditions
            .iter()
            .find(|c| c["type"] == t && c["status"] == "True")
    };
    if is("Complete").is_some() {
        return State::Ready;
    }
    if let Some(c) = is("Failed") {
        return State::Failed(format!(
            "{}: {} (its log: kubectl -n {} logs job/{})",
            c["reason"].as_str().unwrap_or("Failed"),
            c["message"].as_str().unwrap_or_default(),
            job.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            job.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ));
    }
    let n = |f: &str| {
        job.pointer(&format!("/status/{f}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    State::Progressing(format!(
        "running ({} active, {} failed attempts)",
        n("active"),
        n("failed")
    ))
}

/// One component: its Flux Kustomization and HelmRelease.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub capabilities: Vec<String>,
    pub kustomization: State,
    /// `None` for components without a HelmRelease (Flux itself).
    pub release: Option<State>,
}

impl ComponentStatus {
    /// The worse of the two.
    pub fn state(&self) -> &State {
        match &self.release {
            Some(r) if r.rank() > self.kustomization.rank() => r,
            _ => &self.kustomization,
        }
    }
}

/// The platform's state.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformStatus {
    pub components: Vec<ComponentStatus>,
    /// Capability → the worst state of its components.
    pub capabilities: BTreeMap<String, State>,
    /// Flux Kustomizations that are not a component's own (`-config` units, tenants).
    pub units: Vec<(String, State)>,
    /// The secret store and the ExternalSecrets the tree declares: what every component with a
    /// credential waits for on a fresh cluster, named one by one.
    pub secrets: Vec<SecretStatus>,
}

/// A ClusterSecretStore or ExternalSecret of the tree, as the cluster shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretStatus {
    pub kind: String,
    /// Empty for a cluster-scoped store.
    pub namespace: String,
    pub name: String,
    pub state: State,
    /// When it is not Ready and its values are read from OpenBao: where a person writes them.
    /// Secrets made in the cluster (generators) and the store never wait for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

impl SecretStatus {
    fn label(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl PlatformStatus {
    pub fn ready(&self) -> bool {
        self.components.iter().all(|c| c.state().is_ready())
            && self.units.iter().all(|(_, s)| s.is_ready())
            && self.secrets.iter().all(|s| s.state.is_ready())
    }

    /// Nothing left to wait for: everything is Ready, or could not be read (a refused read does
    /// not change by waiting). `--wait` stops here.
    pub fn settled(&self) -> bool {
        let settled = |s: &State| matches!(s, State::Ready | State::Unknown(_));
        self.components.iter().all(|c| settled(c.state()))
            && self.units.iter().all(|(_, s)| settled(s))
            && self.secrets.iter().all(|s| settled(&s.state))
    }

    pub fn counts(&self) -> (usize, usize) {
        let total = self.components.len() + self.units.len() + self.secrets.len();
        let ready = self
            .components
            .iter()
            .filter(|c| c.state().is_ready())
            .count()
            + self.units.iter().filter(|(_, s)| s.is_ready()).count()
            + self.secrets.iter().filter(|s| s.state.is_ready()).count();
        (ready, total)
    }

    /// What is not Ready yet, by name: components, units, secrets.
    pub fn waiting(&self) -> Vec<String> {
        self.components
            .iter()
            .filter(|c| !c.state().is_ready())
            .map(|c| c.name.clone())
            .chain(
                self.units
                    .iter()
                    .filter(|(_, s)| !s.is_ready())
                    .map(|(n, _)| n.clone()),
            )
            .chain(
                self.secrets
                    .iter()
                    .filter(|s| !s.state.is_ready())
                    .map(SecretStatus::label),
            )
            .collect()
    }

    /// The table `haven plus status` prints.
    pub fn format(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<24} {:<12} {:<12} {}\n",
            "COMPONENT", "KUSTOMIZATION", "RELEASE", "MESSAGE"
        ));
        for c in &self.components {
            let msg = c.state().message();
            out.push_str(&format!(
                "{:<24} {:<13} {:<12} {}\n",
                c.name,
                c.kustomization.label(),
                c.release.as_ref().map_or("-", State::label),
                msg
            ));
        }
        for (name, s) in &self.units {
            let msg = s.message();
            out.push_str(&format!("{name:<24} {:<13} {:<12} {msg}\n", s.label(), "-"));
        }
        if !self.secrets.is_empty() {
            out.push_str(
                "\nSECRET                                             STATE        MESSAGE\n",
            );
            for sec in &self.secrets {
                let mut msg = sec.state.message().to_owned();
                if let Some(needs) = &sec.needs {
                    msg.push_str(&format!(" (needs: {needs})"));
                }
                out.push_str(&format!(
                    "{:<50} {:<12} {msg}\n",
                    sec.label(),
                    sec.state.label()
                ));
            }
        }
        out.push_str("\nCAPABILITY           STATE\n");
        for (cap, s) in &self.capabilities {
            out.push_str(&format!("{cap:<20} {}\n", s.label()));
        }
        let (ready, total) = self.counts();
        out.push_str(&format!("\n{ready}/{total} ready\n"));
        out
    }
}

/// The state of one object: as listed, else unknown when the read that would show it was
/// refused, else missing.
fn state_of(observed: &[Observed], unread: &[Unread], kind: &str, ns: &str, name: &str) -> State {
    if let Some(o) = observed
        .iter()
        .find(|o| o.kind == kind && o.namespace == ns && o.name == name)
    {
        return o.state.clone();
    }
    unread
        .iter()
        .find(|u| u.kind == kind && u.namespace.as_deref().is_none_or(|n| n == ns))
        .map_or(State::Missing, |u| State::Unknown(u.message.clone()))
}

/// Folds what the cluster shows into the platform the config describes. `unread`: the optional
/// reads the cluster refused ([`reads`]).
pub fn status(
    config: &PlatformConfig,
    catalogue: &Catalogue,
    observed: &[Observed],
    unread: &[Unread],
) -> PlatformStatus {
    let find = |kind: &str, ns: &str, name: &str| state_of(observed, unread, kind, ns, name);
    // Our tree puts each HelmRelease in flux-system (trees rendered before the lockdown, in its
    // component's namespace); other layouts elsewhere: same name, another namespace.
    let find_release = |ns: &str, name: &str| {
        let exact = find("HelmRelease", ns, name);
        if exact != State::Missing {
            return exact;
        }
        observed
            .iter()
            .filter(|o| o.kind == "HelmRelease" && o.name == name)
            .min_by_key(|o| (o.namespace != "flux-system", o.namespace.clone()))
            .map_or(State::Missing, |o| o.state.clone())
    };
    // A component's own Kustomization: `<component>` in haven's flat layout and for a component
    // of one unit in the reference layout, `<component>-controller` when the reference layout
    // splits it into controller and config (`crate::layout`).
    let find_unit = |name: &str| {
        let own = find("Kustomization", "flux-system", name);
        if own != State::Missing {
            return own;
        }
        find(
            "Kustomization",
            "flux-system",
            &format!("{name}-controller"),
        )
    };
    let mut components = Vec::new();
    let mut capabilities: BTreeMap<String, State> = BTreeMap::new();
    for r in resolve(catalogue, config) {
        let c = r.component;
        let (kustomization, release) = if c.source.kind == SourceKind::Bootstrap {
            (find("Kustomization", "flux-system", "flux-system"), None)
        } else if c.source.kind == SourceKind::Manifests {
            // No HelmRelease: its unit waits for the Kustomization that applies the manifests.
            (find_unit(&c.name), None)
        } else {
            (
                find_unit(&c.name),
                Some(find_release(crate::render::FLUX_NS, &c.name)),
            )
        };
        let caps: Vec<String> = c
            .provides
            .iter()
            .filter(|p| {
                matches!(config.capabilities.selection(&p.capability),
                    Some((true, chosen)) if p.choice.is_none() || p.choice == chosen)
            })
            .map(|p| p.capability.clone())
            .collect();
        let cs = ComponentStatus {
            name: c.name.clone(),
            capabilities: caps.clone(),
            kustomization,
            release,
        };
        for cap in caps {
            let entry = capabilities.entry(cap).or_insert(State::Ready);
            if cs.state().rank() > entry.rank() {
                *entry = cs.state().clone();
            }
        }
        components.push(cs);
    }
    let own: Vec<String> = components.iter().map(|c| c.name.clone()).collect();
    let rendered = crate::render::render(config, catalogue);
    let mut units = Vec::new();
    for (path, text) in &rendered.files {
        let p = path.to_string_lossy();
        for doc in haven_model::parse_stream(&p, text).into_iter().flatten() {
            let v = &doc.value;
            if v["kind"] == "Job" && v["apiVersion"] == "batch/v1" {
                // The object store's bootstrap: the platform is not Ready before it ran.
                let ns = v["metadata"]["namespace"].as_str().unwrap_or_default();
                let name = v["metadata"]["name"].as_str().unwrap_or_default();
                let label = format!("Job/{ns}/{name}");
                if !units.iter().any(|(n, _)| *n == label) {
                    units.push((label, find("Job", ns, name)));
                }
            }
        }
        if !(p.ends_with("/infrastructure.yaml") || p.ends_with("/tenants.yaml")) {
            continue;
        }
        for doc in haven_model::parse_stream(&p, text).into_iter().flatten() {
            let name = doc.value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !own.contains(&name) {
                let state = find("Kustomization", "flux-system", &name);
                units.push((name, state));
            }
        }
    }
    // Each tenant's own sync: the Kustomization in its namespace that applies its repository.
    for t in config.tenants.iter().filter(|t| t.repo.is_some()) {
        units.push((
            format!("tenant/{}", t.name),
            find("Kustomization", &t.name, &t.name),
        ));
    }
    let secrets = secrets(&rendered.files, observed, unread);
    PlatformStatus {
        components,
        capabilities,
        units,
        secrets,
    }
}

/// The ClusterSecretStores, SecretStores and ExternalSecrets of the tree, each with its state on
/// the cluster;
/// an ExternalSecret that reads OpenBao and is not Ready names the path a person must write.
fn secrets(
    files: &crate::render::Tree,
    observed: &[Observed],
    unread: &[Unread],
) -> Vec<SecretStatus> {
    let mut out = Vec::new();
    for (path, text) in files {
        let p = path.to_string_lossy();
        for doc in haven_model::parse_stream(&p, text).into_iter().flatten() {
            let v = &doc.value;
            let kind = v["kind"].as_str().unwrap_or_default();
            if v["apiVersion"]
                .as_str()
                .is_none_or(|a| !a.starts_with("external-secrets.io/"))
                || !matches!(
                    kind,
                    "ExternalSecret" | "ClusterSecretStore" | "SecretStore"
                )
            {
                continue;
            }
            let namespace = v["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let name = v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let state = state_of(observed, unread, kind, &namespace, &name);
            // Unknown: it may well be synced; nobody is sent to write it on a guess.
            let needs = (!state.is_ready() && !matches!(state, State::Unknown(_)))
                .then(|| openbao_paths(v))
                .flatten();
            out.push(SecretStatus {
                kind: kind.to_owned(),
                namespace,
                name,
                state,
                needs,
            });
        }
    }
    out
}

/// Where the values of an ExternalSecret that reads OpenBao live: `bao kv put` paths and keys.
/// `None` for one that reads another store (an OIDC client's secret through a `SecretStore` of
/// the identity provider's namespace, `crate::oidc_clients`): nobody writes those.
fn openbao_paths(es: &Value) -> Option<String> {
    let store = &es["spec"]["secretStoreRef"];
    if store["kind"] != "ClusterSecretStore" || store["name"] != "openbao" {
        return None;
    }
    let mut keys: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in es["spec"]["data"].as_array()? {
        if let Some(key) = d["remoteRef"]["key"].as_str() {
            let entry = keys.entry(key).or_default();
            if let Some(p) = d["remoteRef"]["property"].as_str() {
                entry.push(p);
            }
        }
    }
    if keys.is_empty() {
        return None;
    }
    let paths: Vec<String> = keys
        .iter()
        .map(|(k, props)| {
            format!(
                "bao kv put -mount={} {k} {}",
                crate::secret_backend::KV_MOUNT,
                props
                    .iter()
                    .map(|p| format!("{p}=…"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
        .collect();
    Some(format!(
        "{} (once, as platform-admin: docs/plus.md, \"Unattended bootstrap\")",
        paths.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use serde_json::json;

    /// The OIDC clients' readers (`crate::oidc_clients`) are what a fresh platform waits for
    /// too, and nobody writes their values; with Zitadel, whose clients are registered by hand,
    /// Grafana's client secret is one a person writes, and `status` says where.
    #[test]
    fn the_oidc_client_readers_are_counted_and_wait_for_nobody() {
        let cat = crate::Catalogue::builtin().unwrap();
        let config = crate::PlatformConfig::new("c", "example.nl", Provider::Azure);
        let s = status(&config, &cat, &[], &[]);
        let store = s
            .secrets
            .iter()
            .find(|x| x.kind == "SecretStore" && x.name == "oidc-client-grafana-reader")
            .unwrap();
        assert_eq!(store.state, State::Missing);
        assert!(
            s.waiting()
                .contains(&"SecretStore/grafana/oidc-client-grafana-reader".to_owned()),
            "{:?}",
            s.waiting()
        );
        for name in ["grafana-oidc", "oidc-client-grafana"] {
            let es = s.secrets.iter().find(|x| x.name == name).unwrap();
            assert_eq!(es.needs, None, "{name}: made in the cluster");
        }
        let mut zitadel = config.clone();
        zitadel.capabilities.identity.provider = crate::config::IdentityProvider::Zitadel;
        zitadel.capabilities.dashboards.sso = Some(true);
        let s = status(&zitadel, &cat, &[], &[]);
        let es = s.secrets.iter().find(|x| x.name == "grafana-oidc").unwrap();
        assert!(
            es.needs.as_deref().is_some_and(
                |n| n.contains("bao kv put -mount=secret platform/grafana/grafana-oidc")
            ),
            "{:?}",
            es.needs
        );
    }

    fn flux(kind: &str, ns: &str, name: &str, status: &str, reason: &str) -> Value {
        json!({"kind": kind, "metadata": {"name": name, "namespace": ns, "generation": 2},
               "status": {"conditions": [{"type": "Ready", "status": status, "reason": reason,
                                          "message": "m", "observedGeneration": 2}]}})
    }

    #[test]
    fn reads_ready_conditions() {
        assert_eq!(
            observe(&flux("HelmRelease", "a", "b", "True", "Succeeded")).state,
            State::Ready
        );
        assert!(
            matches!(observe(&flux("HelmRelease", "a", "b", "False", "InstallFailed")).state, State::Failed(m) if m == "InstallFailed: m")
        );
        assert!(matches!(
            observe(&flux("HelmRelease", "a", "b", "Unknown", "Progressing")).state,
            State::Progressing(_)
        ));
        let mut stale = flux("HelmRelease", "a", "b", "True", "Succeeded");
        stale["metadata"]["generation"] = json!(3);
        assert!(matches!(observe(&stale).state, State::Progressing(_)));
        assert!(matches!(
            observe(&json!({"kind": "HelmRelease", "metadata": {"name": "x"}})).state,
            State::Progressing(_)
        ));
    }

    #[test]
    fn folds_into_components_and_capabilities() {
        let mut config = PlatformConfig::new("c", "example.nl", Provider::Kind);
        config.capabilities.logs.enabled = false;
        let cat = Catalogue::builtin().unwrap();
        let all_ready: Vec<Observed> = resolve(&cat, &config)
            .iter()
            .flat_map(|r| {
                [
                    observe(&flux(
                        "Kustomization",
                        "flux-system",
                        &r.component.name,
                        "True",
                        "ReconciliationSucceeded",
                    )),
                    observe(&flux(
                        "HelmRelease",
                        &r.namespace,
                        &r.component.name,
                        "True",
                        "InstallSucceeded",
                    )),
                ]
            })
            .collect();
        let s = status(&config, &cat, &all_ready, &[]);
        // Units (-config, tenants, flux-system) are missing: not ready yet.
        assert!(!s.ready());
        assert!(
            s.units
                .iter()
                .any(|(n, st)| n == "cert-manager-config" && *st == State::Missing)
        );
        assert_eq!(s.capabilities["certificates"], State::Ready);
        assert!(!s.capabilities.contains_key("logs"));
        let mut more = all_ready.clone();
        for (n, _) in &s.units {
            more.push(observe(&flux(
                "Kustomization",
                "flux-system",
                n,
                "True",
                "ReconciliationSucceeded",
            )));
        }
        more.push(observe(&flux(
            "Kustomization",
            "flux-system",
            "flux-system",
            "True",
            "ok",
        )));
        // The store and the ExternalSecrets are not on the cluster yet: not ready, and the
        // ones whose values a person writes into OpenBao say which `bao kv put`.
        let s = status(&config, &cat, &more, &[]);
        assert!(!s.ready());
        let store = s
            .secrets
            .iter()
            .find(|x| x.kind == "ClusterSecretStore")
            .unwrap();
        assert_eq!(
            (store.state.clone(), store.needs.clone()),
            (State::Missing, None)
        );
        let grafana = s
            .secrets
            .iter()
            .find(|x| x.name == "grafana-admin")
            .unwrap();
        assert_eq!(grafana.needs, None, "made in the cluster: nobody writes it");
        // The object store's credentials are made in the cluster, and imported into Garage by
        // its bootstrap Job, which the platform waits for.
        let mimir = s.secrets.iter().find(|x| x.name == "mimir-s3").unwrap();
        assert_eq!(mimir.needs, None, "made in the cluster: nobody writes it");
        let (job, state) = s
            .units
            .iter()
            .find(|(n, _)| n.starts_with("Job/garage/garage-bootstrap-"))
            .cloned()
            .unwrap();
        assert_eq!(state, State::Missing);
        assert!(s.waiting().contains(&job));
        assert!(
            s.format().contains("ExternalSecret/mimir/mimir-s3"),
            "{}",
            s.format()
        );
        assert!(
            s.waiting()
                .contains(&"ExternalSecret/mimir/mimir-s3".to_owned())
        );
        for x in s.secrets.clone() {
            let mut o = flux(&x.kind, &x.namespace, &x.name, "True", "SecretSynced");
            o["metadata"].as_object_mut().unwrap().remove("generation");
            more.push(observe(&o));
        }
        let s = status(&config, &cat, &more, &[]);
        assert!(!s.ready(), "the bootstrap has not run");
        let name = job.rsplit('/').next().unwrap();
        let mut running = json!({"kind": "Job", "metadata": {"name": name, "namespace": "garage"},
                                 "status": {"active": 1, "failed": 2}});
        more.push(observe(&running));
        let s = status(&config, &cat, &more, &[]);
        assert!(
            s.format().contains("running (1 active, 2 failed attempts)"),
            "{}",
            s.format()
        );
        running["status"]["conditions"] = json!([{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]);
        more.pop();
        more.push(observe(&running));
        let s = status(&config, &cat, &more, &[]);
        assert!(
            s.format().contains("BackoffLimitExceeded"),
            "{}",
            s.format()
        );
        assert!(!s.ready());
        running["status"]["conditions"] = json!([{"type": "Complete", "status": "True"}]);
        more.pop();
        more.push(observe(&running));
        let s = status(&config, &cat, &more, &[]);
        assert!(s.ready(), "{}", s.format());
        assert!(s.secrets.iter().all(|x| x.needs.is_none()));
        // One failed release fails its capabilities.
        let i = more
            .iter()
            .position(|o| o.kind == "HelmRelease" && o.name == "tempo")
            .unwrap();
        more[i].state = State::Failed("UpgradeFailed: boom".into());
        let s = status(&config, &cat, &more, &[]);
        assert!(!s.ready());
        assert!(matches!(&s.capabilities["traces"], State::Failed(m) if m.contains("boom")));
        assert!(s.format().contains("UpgradeFailed: boom"));
    }

    /// Jobs and ExternalSecrets are read in the tree's namespaces only; a refused read makes
    /// what it would have shown unknown: not Ready, but nothing to wait for.
    #[test]
    fn reads_only_the_trees_namespaces_and_folds_a_refused_read() {
        let config = PlatformConfig::new("c", "example.nl", Provider::Kind);
        let cat = Catalogue::builtin().unwrap();
        let reads = reads(&config, &cat);
        let jobs: Vec<&Read> = reads.iter().filter(|r| r.kind == "Job").collect();
        assert_eq!(jobs.len(), 1, "{reads:?}");
        assert_eq!(jobs[0].namespace.as_deref(), Some("garage"));
        assert!(!jobs[0].required);
        assert!(
            reads
                .iter()
                .filter(|r| r.kind == "ExternalSecret" || r.kind == "SecretStore")
                .all(|r| r.namespace.is_some())
        );
        // Grafana's OIDC client reader (`crate::oidc_clients`), a namespaced SecretStore.
        assert!(
            reads
                .iter()
                .any(|r| r.kind == "SecretStore" && r.namespace.as_deref() == Some("grafana")),
            "{reads:?}"
        );
        assert!(
            reads
                .iter()
                .filter(|r| r.required)
                .all(|r| matches!(r.kind, "Kustomization" | "HelmRelease"))
        );
        let unread = [Unread::forbidden(jobs[0])];
        let s = status(&config, &cat, &[], &unread);
        let (_, job) = s
            .units
            .iter()
            .find(|(n, _)| n.starts_with("Job/garage/garage-bootstrap-"))
            .unwrap();
        assert_eq!(
            *job,
            State::Unknown("could not read jobs.batch in namespace garage (forbidden)".into())
        );
        assert!(!s.ready());
        assert!(!s.settled(), "the rest is missing");
        // An ExternalSecret of another namespace is not made unknown by it.
        assert!(s.secrets.iter().all(|x| x.state == State::Missing));
    }

    #[test]
    fn controller_kustomizations_of_the_reference_layout_are_read() {
        let mut config = PlatformConfig::new("c", "example.nl", Provider::Kind);
        config.cluster.layout = crate::config::Layout::Reference;
        let cat = Catalogue::builtin().unwrap();
        // The reference layout renders exactly these Flux Kustomizations.
        let flat = crate::render::render(&config, &cat);
        let tree = crate::layout::to_reference(&flat, &config, &cat).unwrap();
        let mut observed: Vec<Observed> = Vec::new();
        for (path, text) in &tree.files {
            if !path.starts_with("clusters/c/infrastructure") && !path.ends_with("tenants.yaml") {
                continue;
            }
            for doc in haven_model::parse_stream("t", text).into_iter().flatten() {
                if doc.value["kind"] == "Kustomization"
                    && doc.value["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
                {
                    let name = doc.value["metadata"]["name"].as_str().unwrap();
                    observed.push(observe(&flux(
                        "Kustomization",
                        "flux-system",
                        name,
                        "True",
                        "ok",
                    )));
                }
            }
        }
        assert!(observed.iter().any(|o| o.name == "cert-manager-controller"));
        observed.push(observe(&flux(
            "Kustomization",
            "flux-system",
            "flux-system",
            "True",
            "ok",
        )));
        for r in resolve(&cat, &config) {
            observed.push(observe(&flux(
                "HelmRelease",
                "flux-system",
                &r.component.name,
                "True",
                "InstallSucceeded",
            )));
        }
        let s = status(&config, &cat, &observed, &[]);
        // Every component's and unit's Kustomization is found (secrets are folded apart).
        assert!(
            s.components.iter().all(|c| c.kustomization == State::Ready),
            "{}",
            s.format()
        );
        // (The object store's bootstrap Job is no Kustomization: `folds_into_…` covers it.)
        assert!(
            s.units
                .iter()
                .filter(|(n, _)| !n.starts_with("Job/"))
                .all(|(_, st)| *st == State::Ready),
            "{}",
            s.format()
        );
        let cm = s
            .components
            .iter()
            .find(|c| c.name == "cert-manager")
            .unwrap();
        assert_eq!(cm.kustomization, State::Ready);
    }

    #[test]
    fn releases_in_the_reference_layout_and_tenant_syncs_are_read() {
        let mut config = PlatformConfig::new("c", "example.nl", Provider::Kind);
        config.tenants.push(crate::config::Tenant {
            name: "zaken".into(),
            group: "zaken-devs".into(),
            repo: Some("https://git.example.nl/zaken.git".into()),
            repo_secret_ref: None,
            branch: None,
            path: None,
            quota: Default::default(),
            admission: Default::default(),
            policy: Default::default(),
        });
        let cat = Catalogue::builtin().unwrap();
        // HelmReleases in flux-system, as the public reference has them: found by name.
        let observed = vec![
            observe(&flux(
                "HelmRelease",
                "flux-system",
                "loki",
                "False",
                "InstallFailed",
            )),
            observe(&flux(
                "HelmRelease",
                "other",
                "loki",
                "True",
                "InstallSucceeded",
            )),
            observe(&flux(
                "HelmRelease",
                "flux-system",
                "tempo",
                "True",
                "InstallSucceeded",
            )),
            observe(&flux(
                "Kustomization",
                "zaken",
                "zaken",
                "False",
                "BuildFailed",
            )),
        ];
        let s = status(&config, &cat, &observed, &[]);
        let release = |n: &str| {
            s.components
                .iter()
                .find(|c| c.name == n)
                .unwrap()
                .release
                .clone()
                .unwrap()
        };
        assert!(matches!(release("loki"), State::Failed(m) if m.starts_with("InstallFailed")));
        assert_eq!(release("tempo"), State::Ready);
        assert_eq!(release("mimir"), State::Missing);
        let tenant = s.units.iter().find(|(n, _)| n == "tenant/zaken").unwrap();
        assert!(matches!(&tenant.1, State::Failed(m) if m.starts_with("BuildFailed")));
        // In flux-system, where the tree puts it, the release wins over one of the same name in
        // its component's namespace (left from a tree rendered before the lockdown).
        let mut own = observed.clone();
        let ns = resolve(&cat, &config)
            .into_iter()
            .find(|r| r.component.name == "loki")
            .unwrap()
            .namespace;
        own.push(observe(&flux(
            "HelmRelease",
            &ns,
            "loki",
            "True",
            "InstallSucceeded",
        )));
        let s = status(&config, &cat, &own, &[]);
        let loki = s.components.iter().find(|c| c.name == "loki").unwrap();
        assert!(matches!(&loki.release, Some(State::Failed(m)) if m.starts_with("InstallFailed")));
        // Without one in flux-system, the component's namespace is read.
        own.retain(|o| !(o.name == "loki" && o.namespace == "flux-system"));
        let s = status(&config, &cat, &own, &[]);
        let loki = s.components.iter().find(|c| c.name == "loki").unwrap();
        assert_eq!(loki.release, Some(State::Ready));
    }
}
