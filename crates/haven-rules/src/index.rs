//! Lookups across the objects of one application, built once per check so that the
//! application rules stay linear in the number of objects (a 10,000-workload corpus must not
//! compare every workload with every Service, policy and monitor).

// foldhash (randomly seeded per process) rather than SipHash: the keys are short names from
// the objects, and SipHash was about 1% of checking a large corpus.
use foldhash::HashMap;

use haven_model::Object;
use serde_json::{Map, Value};

use crate::namespace::names_namespace;
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
    /// The namespace `--namespace` gave the release; `None` leaves it unnamed.
    release: Ns<'o>,
    by_name: HashMap<(&'o str, Ns<'o>, &'o str), &'o Object>,
    hpa_max: HashMap<(Ns<'o>, &'o str, &'o str), i64>,
    services: SelectorIndex<'o>,
    pdbs: SelectorIndex<'o>,
    network_policies: SelectorIndex<'o>,
    pod_monitors: SelectorIndex<'o>,
    service_monitors: SelectorIndex<'o>,
    /// Ingresses, Gateways, routes, Middlewares and TLS policies (`nl.*`): few per
    /// application, so scanned rather than indexed.
    traffic: Vec<&'o Object>,
}

impl<'o> AppIndex<'o> {
    /// The index of `objects`, already in their effective namespaces; `release` is the
    /// namespace `--namespace` gave, which a monitor's release-namespace entry names.
    pub fn new(objects: impl IntoIterator<Item = &'o Object>, release: Ns<'o>) -> Self {
        let mut ix = AppIndex {
            release,
            by_name: HashMap::default(),
            hpa_max: HashMap::default(),
            services: SelectorIndex::default(),
            pdbs: SelectorIndex::default(),
            network_policies: SelectorIndex::default(),
            pod_monitors: SelectorIndex::default(),
            service_monitors: SelectorIndex::default(),
            traffic: Vec::new(),
        };
        for o in objects {
            let ns = o.namespace.as_deref();
            ix.by_name.insert((o.kind.as_str(), ns, o.name.as_str()), o);
            if crate::nl::is_traffic_kind(&o.kind) {
                ix.traffic.push(o);
            }
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

    /// The traffic objects of the application (see [`crate::nl`]), in input order.
    pub fn traffic(&self) -> impl Iterator<Item = &'o Object> + '_ {
        self.traffic.iter().copied()
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
            .any(|(m, sel)| self.monitor_covers(m, ns) && label_selector_matches(sel, labels))
    }

    /// A ServiceMonitor covering `service`'s namespace that selects it.
    pub fn service_monitor_selects(&self, service: &Object) -> bool {
        let ns = service.namespace.as_deref();
        let labels = service.labels();
        self.service_monitors
            .candidates(ns, labels)
            .any(|(m, sel)| self.monitor_covers(m, ns) && label_selector_matches(sel, labels))
    }

    /// A monitor watches its own namespace unless `namespaceSelector` says otherwise.
    fn monitor_covers(&self, monitor: &Object, target: Ns<'_>) -> bool {
        match monitor.get("spec.namespaceSelector") {
            Some(ns) if ns.get("any").and_then(Value::as_bool) == Some(true) => true,
            Some(ns) if ns.get("matchNames").is_some() => {
                let names = ns.get("matchNames").and_then(Value::as_array);
                names.into_iter().flatten().any(|n| {
                    n.as_str()
                        .is_some_and(|n| names_namespace(n, target, self.release))
                })
            }
            _ => monitor.namespace.as_deref() == target,
        }
    }
}

/// Cuts a looked-up object down to what [`AppIndex`] and the application rules read of it:
/// metadata labels and annotations, the selectors, an HPA's target and maximum, a claim's
/// access modes and the keys of a ConfigMap's data. Its per-object rules must have run
/// already: the positions go too.
///
/// Half of a typical application's documents are looked up, and a whole parsed object is a
/// tree of maps many times the size of its text: on the benchmark corpus this takes peak memory
/// from 135 to 127 MiB (it does not change the time).
pub(crate) fn slim(object: &mut Object) {
    const SPEC_FIELDS: &[&str] = &[
        "selector",
        "podSelector",
        "namespaceSelector",
        "scaleTargetRef",
        "maxReplicas",
        "accessModes",
    ];
    let Value::Object(mut root) = std::mem::take(&mut object.value) else {
        return;
    };
    // The fields `keys` of the mapping at `field`, if it is one.
    let mut pick = |field: &str, keys: &[&str]| {
        let Some(Value::Object(mut from)) = root.remove(field) else {
            return None;
        };
        let picked: Map<String, Value> = keys
            .iter()
            .filter_map(|&k| Some((k.to_owned(), from.remove(k)?)))
            .collect();
        Some((field.to_owned(), Value::Object(picked)))
    };
    let mut kept: Map<String, Value> = [
        pick("metadata", &["labels", "annotations"]),
        pick("spec", SPEC_FIELDS),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The keys of a ConfigMap's or Secret's data, not their values (no secret stays in memory).
    for field in ["data", "stringData"] {
        if let Some(Value::Object(data)) = root.remove(field) {
            let keys = data.into_iter().map(|(k, _)| (k, Value::Null)).collect();
            kept.insert(field.to_owned(), Value::Object(keys));
        }
    }
    // A ServiceAccount's say on token mounting (`plus.sa-token-automount`).
    if let Some(automount) = root.remove("automountServiceAccountToken") {
        kept.insert("automountServiceAccountToken".to_owned(), automount);
    }
    object.value = Value::Object(kept);
    object.root = haven_model::Node::scalar(object.root.line, object.root.col);
    object.notes = Vec::new();
}

#[cfg(test)]
mod tests {
    use haven_model::{Origin, load_objects};
    use serde_json::json;

    use super::*;

    const APP: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: zaken
  labels: {app: web, team: a}
  annotations: {prometheus.io/scrape: "true", note: long text}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: zaken}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics: [{type: Resource}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: media, namespace: zaken}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: otel, namespace: zaken}
data:
  OTEL_EXPORTER_OTLP_ENDPOINT: http://collector:4317
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: zaken}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: zaken}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
  ingress: [{from: [{podSelector: {}}]}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: monitoring}
spec:
  namespaceSelector: {matchNames: [zaken]}
  selector: {matchLabels: {team: a}}
  endpoints: [{port: http}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: web, namespace: zaken}
spec:
  selector: {matchLabels: {app: web}}
  podMetricsEndpoints: [{port: metrics}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: zaken}
automountServiceAccountToken: false
imagePullSecrets: [{name: registry}]
---
apiVersion: v1
kind: Secret
metadata: {name: otel, namespace: zaken}
stringData: {OTEL_EXPORTER_OTLP_HEADERS: "secret"}
data: {TOKEN: c2VjcmV0}
"#;

    /// What the application rules can ask of the index, as plain data.
    fn answers(ix: &AppIndex<'_>) -> serde_json::Value {
        let web = json!({"app": "web"});
        let other = json!({"app": "other"});
        let labels = |v: &serde_json::Value| v.as_object().cloned();
        let (web, other) = (labels(&web), labels(&other));
        let ns = Some("zaken");
        let services: Vec<_> = ix
            .services_selecting(ns, web.as_ref())
            .into_iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "annotations": s.annotations(),
                    "monitored": ix.service_monitor_selects(s),
                })
            })
            .collect();
        json!({
            "services": services,
            "hpa": ix.hpa_max(ns, "Deployment", "web"),
            "pvc": ix.find("PersistentVolumeClaim", ns, "media").map(|o| o.get("spec.accessModes").cloned()),
            "configmap": ix.find("ConfigMap", ns, "otel").map(|o| o.get("data").and_then(|d| d.as_object()).map(|d| d.keys().cloned().collect::<Vec<_>>())),
            "pdb": [ix.pdb_selects(ns, web.as_ref()), ix.pdb_selects(ns, other.as_ref())],
            "netpol": [ix.network_policy_selects(ns, web.as_ref()), ix.network_policy_selects(ns, other.as_ref())],
            "podmonitor": [ix.pod_monitor_selects(ns, web.as_ref()), ix.pod_monitor_selects(ns, other.as_ref())],
            "secret": ix.find("Secret", ns, "otel").map(|o| [o.get("stringData").and_then(|d| d.as_object()).map(|d| d.keys().cloned().collect::<Vec<_>>()), o.get("data").and_then(|d| d.as_object()).map(|d| d.keys().cloned().collect::<Vec<_>>())]),
            "serviceaccount": ix.find("ServiceAccount", ns, "web").map(|o| o.get("automountServiceAccountToken").cloned()),
        })
    }

    #[test]
    fn slimmed_objects_answer_every_lookup_as_whole_ones() {
        let out = load_objects(Origin::File("app.yaml"), APP);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let whole = out.objects;
        let mut slimmed = whole.clone();
        slimmed.iter_mut().for_each(slim);
        let expected = answers(&AppIndex::new(&whole, None));
        assert_eq!(answers(&AppIndex::new(&slimmed, None)), expected);
        // The lookups found something: the comparison above is not between two empty answers.
        assert_eq!(expected["hpa"], json!(5));
        assert_eq!(expected["services"][0]["monitored"], json!(true));
        assert_eq!(expected["pdb"], json!([true, false]));
        assert_eq!(expected["netpol"], json!([true, false]));
        assert_eq!(expected["podmonitor"], json!([true, false]));
        assert_eq!(expected["serviceaccount"], json!(false));
        assert_eq!(
            expected["secret"],
            json!([["OTEL_EXPORTER_OTLP_HEADERS"], ["TOKEN"]])
        );
        let secret = slimmed.iter().find(|o| o.kind == "Secret").unwrap();
        assert_eq!(secret.get("data.TOKEN"), Some(&serde_json::Value::Null));
        // And the fields nothing looks up are gone.
        let service = &slimmed[0];
        assert!(service.get("spec.ports").is_none());
        assert!(
            slimmed[3]
                .get("data.OTEL_EXPORTER_OTLP_ENDPOINT")
                .unwrap()
                .is_null()
        );
    }
}
