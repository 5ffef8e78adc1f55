//! Lookups across the objects of one application, built once per check so that the
//! application rules stay linear in the number of objects (a 10,000-workload corpus must not
//! compare every workload with every Service, policy and monitor).

use std::collections::HashMap;

use haven_model::Object;
use serde_json::{Map, Value};

use crate::selector::{label_selector_matches, map_selector_matches};

type Ns<'o> = Option<&'o str>;
type Labels = Map<String, Value>;
/// An object with the selector it carries.
type Selecting<'o> = (&'o Object, &'o Value);

/// Objects carrying a selector, indexed by one `key=value` pair every match must contain.
#[derive(Default)]
struct SelectorIndex<'o> {
    /// By `(namespace, key, value)` of the selector's first required label.
    keyed: HashMap<(Ns<'o>, &'o str, &'o str), Vec<Selecting<'o>>>,
    /// Selectors without a required label (`{}`, expressions only), by namespace.
    unkeyed: HashMap<Ns<'o>, Vec<Selecting<'o>>>,
    /// Monitors that look beyond their own namespace (`namespaceSelector`).
    cross_namespace: Vec<Selecting<'o>>,
}

impl<'o> SelectorIndex<'o> {
    fn insert(
        &mut self,
        object: &'o Object,
        selector: &'o Value,
        required: Option<(&'o str, &'o str)>,
        cross: bool,
    ) {
        let ns = object.namespace.as_deref();
        if cross {
            self.cross_namespace.push((object, selector));
        } else if let Some((k, v)) = required {
            self.keyed
                .entry((ns, k, v))
                .or_default()
                .push((object, selector));
        } else {
            self.unkeyed.entry(ns).or_default().push((object, selector));
        }
    }

    /// Objects whose selector might select `labels` in `ns`; callers still run the matcher.
    fn candidates<'a>(
        &'a self,
        ns: Ns<'a>,
        labels: Option<&'a Labels>,
    ) -> impl Iterator<Item = (&'o Object, &'o Value)> + 'a {
        let keyed = labels.into_iter().flatten().filter_map(move |(k, v)| {
            let v = v.as_str()?;
            self.keyed.get(&(ns, k.as_str(), v))
        });
        keyed
            .flatten()
            .chain(self.unkeyed.get(&ns).into_iter().flatten())
            .chain(self.cross_namespace.iter())
            .copied()
    }
}

/// The first `matchLabels` pair of a LabelSelector.
fn first_match_label(selector: &Value) -> Option<(&str, &str)> {
    let (k, v) = selector.get("matchLabels")?.as_object()?.iter().next()?;
    Some((k.as_str(), v.as_str()?))
}

/// Everything the application rules look up, by kind.
pub(crate) struct AppIndex<'o> {
    by_name: HashMap<(&'o str, Ns<'o>, &'o str), &'o Object>,
    hpa_max: HashMap<(Ns<'o>, &'o str, &'o str), i64>,
    services: SelectorIndex<'o>,
    pdbs: SelectorIndex<'o>,
    network_policies: SelectorIndex<'o>,
    pod_monitors: SelectorIndex<'o>,
    service_monitors: SelectorIndex<'o>,
}

impl<'o> AppIndex<'o> {
    pub fn new(objects: &'o [Object]) -> Self {
        let mut ix = AppIndex {
            by_name: HashMap::new(),
            hpa_max: HashMap::new(),
            services: SelectorIndex::default(),
            pdbs: SelectorIndex::default(),
            network_policies: SelectorIndex::default(),
            pod_monitors: SelectorIndex::default(),
            service_monitors: SelectorIndex::default(),
        };
        for o in objects {
            let ns = o.namespace.as_deref();
            ix.by_name.insert((o.kind.as_str(), ns, o.name.as_str()), o);
            let group = o.api_group();
            match (group, o.kind.as_str()) {
                ("", "Service") => {
                    // A Service without selector selects nothing: its endpoints are managed by hand.
                    if let Some(sel) = o
                        .get("spec.selector")
                        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                    {
                        let first = sel
                            .as_object()
                            .and_then(|m| m.iter().next())
                            .and_then(|(k, v)| Some((k.as_str(), v.as_str()?)));
                        ix.services.insert(o, sel, first, false);
                    }
                }
                ("autoscaling", "HorizontalPodAutoscaler") => {
                    let target = (
                        o.get("spec.scaleTargetRef.kind"),
                        o.get("spec.scaleTargetRef.name"),
                    );
                    if let (Some(Value::String(kind)), Some(Value::String(name))) = target {
                        let max = o
                            .get("spec.maxReplicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        let entry = ix
                            .hpa_max
                            .entry((ns, kind.as_str(), name.as_str()))
                            .or_insert(max);
                        *entry = (*entry).max(max);
                    }
                }
                ("policy", "PodDisruptionBudget") => {
                    if let Some(sel) = o.get("spec.selector") {
                        ix.pdbs.insert(o, sel, first_match_label(sel), false);
                    }
                }
                ("networking.k8s.io", "NetworkPolicy") => {
                    if let Some(sel) = o.get("spec.podSelector") {
                        ix.network_policies
                            .insert(o, sel, first_match_label(sel), false);
                    }
                }
                ("monitoring.coreos.com", kind @ ("PodMonitor" | "ServiceMonitor")) => {
                    static EMPTY: Value = Value::Null;
                    let sel = o.get("spec.selector").unwrap_or(&EMPTY);
                    let cross = o
                        .get("spec.namespaceSelector")
                        .is_some_and(|n| n.get("any").is_some() || n.get("matchNames").is_some());
                    let target = if kind == "PodMonitor" {
                        &mut ix.pod_monitors
                    } else {
                        &mut ix.service_monitors
                    };
                    target.insert(o, sel, first_match_label(sel), cross);
                }
                _ => {}
            }
        }
        ix
    }

    /// An object by kind, namespace and name.
    pub fn find(&self, kind: &str, ns: Ns<'_>, name: &str) -> Option<&'o Object> {
        self.by_name.get(&(kind, ns, name)).copied()
    }

    /// The highest `maxReplicas` of HPAs targeting `kind/name` in `ns`.
    pub fn hpa_max(&self, ns: Ns<'_>, kind: &str, name: &str) -> Option<i64> {
        self.hpa_max.get(&(ns, kind, name)).copied()
    }

    /// Services in `ns` whose selector selects pods with `labels`.
    pub fn services_selecting(&self, ns: Ns<'o>, labels: Option<&'o Labels>) -> Vec<&'o Object> {
        let mut out: Vec<&Object> = self
            .services
            .candidates(ns, labels)
            .filter(|(_, sel)| map_selector_matches(Some(sel), labels))
            .map(|(o, _)| o)
            .collect();
        out.dedup_by(|a, b| std::ptr::eq(*a, *b));
        out
    }

    pub fn pdb_selects(&self, ns: Ns<'_>, labels: Option<&Labels>) -> bool {
        self.pdbs
            .candidates(ns, labels)
            .any(|(_, sel)| label_selector_matches(sel, labels))
    }

    pub fn network_policy_selects(&self, ns: Ns<'_>, labels: Option<&Labels>) -> bool {
        self.network_policies
            .candidates(ns, labels)
            .any(|(_, sel)| label_selector_matches(sel, labels))
    }

    /// A PodMonitor covering `ns` that selects pods with `labels`.
    pub fn pod_monitor_selects(&self, ns: Ns<'_>, labels: Option<&Labels>) -> bool {
        self.pod_monitors
            .candidates(ns, labels)
            .any(|(m, sel)| monitor_covers_namespace(m, ns) && label_selector_matches(sel, labels))
    }

    /// A ServiceMonitor covering `service`'s namespace that selects it.
    pub fn service_monitor_selects(&self, service: &Object) -> bool {
        let ns = service.namespace.as_deref();
        let labels = service.labels();
        self.service_monitors
            .candidates(ns, labels)
            .any(|(m, sel)| monitor_covers_namespace(m, ns) && label_selector_matches(sel, labels))
    }
}

/// A monitor watches its own namespace unless `namespaceSelector` says otherwise.
fn monitor_covers_namespace(monitor: &Object, target: Ns<'_>) -> bool {
    match monitor.get("spec.namespaceSelector") {
        Some(ns) if ns.get("any").and_then(Value::as_bool) == Some(true) => true,
        Some(ns) if ns.get("matchNames").is_some() => {
            let names = ns.get("matchNames").and_then(Value::as_array);
            names
                .into_iter()
                .flatten()
                .any(|n| n.as_str() == Some(target.unwrap_or_default()))
        }
        _ => monitor.namespace.as_deref() == target,
    }
}
