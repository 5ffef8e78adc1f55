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
}

impl State {
    pub fn is_ready(&self) -> bool {
        matches!(self, State::Ready)
    }

    fn rank(&self) -> u8 {
        match self {
            State::Ready => 0,
            State::Progressing(_) => 1,
            State::Missing => 2,
            State::Failed(_) => 3,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Progressing(_) => "progressing",
            State::Failed(_) => "failed",
            State::Missing => "missing",
        }
    }
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
}

impl PlatformStatus {
    pub fn ready(&self) -> bool {
        self.components.iter().all(|c| c.state().is_ready())
            && self.units.iter().all(|(_, s)| s.is_ready())
    }

    pub fn counts(&self) -> (usize, usize) {
        let total = self.components.len() + self.units.len();
        let ready = self
            .components
            .iter()
            .filter(|c| c.state().is_ready())
            .count()
            + self.units.iter().filter(|(_, s)| s.is_ready()).count();
        (ready, total)
    }

    /// The table `haven plus status` prints.
    pub fn format(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<24} {:<12} {:<12} {}\n",
            "COMPONENT", "KUSTOMIZATION", "RELEASE", "MESSAGE"
        ));
        for c in &self.components {
            let msg = match c.state() {
                State::Progressing(m) | State::Failed(m) => m.as_str(),
                State::Missing => "not found on the cluster",
                State::Ready => "",
            };
            out.push_str(&format!(
                "{:<24} {:<13} {:<12} {}\n",
                c.name,
                c.kustomization.label(),
                c.release.as_ref().map_or("-", State::label),
                msg
            ));
        }
        for (name, s) in &self.units {
            let msg = match s {
                State::Progressing(m) | State::Failed(m) => m.as_str(),
                State::Missing => "not found on the cluster",
                State::Ready => "",
            };
            out.push_str(&format!("{name:<24} {:<13} {:<12} {msg}\n", s.label(), "-"));
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

/// Folds what the cluster shows into the platform the config describes.
pub fn status(
    config: &PlatformConfig,
    catalogue: &Catalogue,
    observed: &[Observed],
) -> PlatformStatus {
    let find = |kind: &str, ns: &str, name: &str| {
        observed
            .iter()
            .find(|o| o.kind == kind && o.namespace == ns && o.name == name)
            .map_or(State::Missing, |o| o.state.clone())
    };
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
    let mut components = Vec::new();
    let mut capabilities: BTreeMap<String, State> = BTreeMap::new();
    for r in resolve(catalogue, config) {
        let c = r.component;
        let (kustomization, release) = if c.source.kind == SourceKind::Bootstrap {
            (find("Kustomization", "flux-system", "flux-system"), None)
        } else if c.source.kind == SourceKind::Manifests {
            // No HelmRelease: its unit waits for the Kustomization that applies the manifests.
            (find("Kustomization", "flux-system", &c.name), None)
        } else {
            (
                find("Kustomization", "flux-system", &c.name),
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
    PlatformStatus {
        components,
        capabilities,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use serde_json::json;

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
        let s = status(&config, &cat, &all_ready);
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
        let s = status(&config, &cat, &more);
        assert!(s.ready(), "{}", s.format());
        // One failed release fails its capabilities.
        let i = more
            .iter()
            .position(|o| o.kind == "HelmRelease" && o.name == "tempo")
            .unwrap();
        more[i].state = State::Failed("UpgradeFailed: boom".into());
        let s = status(&config, &cat, &more);
        assert!(!s.ready());
        assert!(matches!(&s.capabilities["traces"], State::Failed(m) if m.contains("boom")));
        assert!(s.format().contains("UpgradeFailed: boom"));
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
        let s = status(&config, &cat, &observed);
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
        let s = status(&config, &cat, &own);
        let loki = s.components.iter().find(|c| c.name == "loki").unwrap();
        assert!(matches!(&loki.release, Some(State::Failed(m)) if m.starts_with("InstallFailed")));
        // Without one in flux-system, the component's namespace is read.
        own.retain(|o| !(o.name == "loki" && o.namespace == "flux-system"));
        let s = status(&config, &cat, &own);
        let loki = s.components.iter().find(|c| c.name == "loki").unwrap();
        assert_eq!(loki.release, Some(State::Ready));
    }
}
