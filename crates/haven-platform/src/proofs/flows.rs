//! Declared flows, proved against the NetworkPolicies the cluster receives.
//!
//! Each catalogue component declares the traffic it needs in its `network:` section
//! ([`crate::catalogue::Network`]), the same data `haven plus render` writes its NetworkPolicies
//! from; tenants need DNS, their own namespace, the Gateway, the metrics collector and the
//! telemetry endpoints, and nothing of another tenant. This proof evaluates the policies of the
//! landscape (the tree's, and with `--charts` the charts' own too) with `haven-netpol`'s
//! Kubernetes semantics and reports:
//!
//! - an **error** for every declared flow the policies deny, naming source, destination, port,
//!   the policy that isolates the denying end and the policy the render writes to open it;
//! - an **error** for any flow between two tenants' namespaces;
//! - a **warning** for a flow the policies open that nobody declared and that crosses a
//!   namespace or leaves the cluster, naming the policy that opens it;
//! - a **warning** for a workload of a namespace the platform manages that no policy isolates
//!   (its default-deny is gone).
//!
//! What is not known offline is modelled conservatively and said so: a release whose chart was
//! not rendered (the tree alone, or not verified) is one workload with no labels standing for
//! its pods; tenants' own workloads are one such workload per tenant; the API server and the
//! nodes have no known address, so their flows are declared to and from every address (which
//! is also what the render's policies must open); the outside world is IPv4 (`internet`: every
//! public address; `private-networks`: RFC 1918).

use std::collections::{BTreeMap, BTreeSet};

use haven_model::Object;
use haven_netpol::objects;
use haven_netpol::{
    Analysis, Connections, Endpoint, IpSet, Matrix, PortQuery, Protocol, Verdict, Workload,
};
use serde::Serialize;

use super::{Landscape, Placed};
use crate::catalogue::{Catalogue, Component, Network};
use crate::charts::{Check, Problem};
use crate::render::{TENANT_LABEL, allow_from_name, allow_to_name};
use crate::validate::Severity;

/// The external endpoint of every public IPv4 address.
pub const INTERNET: &str = "internet";
/// The external endpoint of the RFC 1918 ranges (nodes, control planes, load balancers).
pub const PRIVATE: &str = "private-networks";
const PRIVATE_RANGES: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// One end of a declared flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum Party {
    /// The pods of a catalogue component.
    Component(String),
    /// The data-plane pods of a Gateway component (catalogue `gatewayPods`): what receives
    /// traffic from outside and forwards it. With Envoy Gateway and Istio the controller makes
    /// them at run time, so no chart renders them: a stand-in with their labels takes their
    /// place.
    GatewayProxies(String),
    /// The pods of a tenant's namespace.
    Tenant(String),
    /// The cluster's DNS (`kube-system` pods labelled `k8s-app: kube-dns`).
    Dns,
    /// Every public address.
    Internet,
    /// The authoritative DNS server a component sends updates to (RFC 2136), as the tree
    /// configures it for that component: its address, or every address for a host name.
    DnsServer(String),
    /// Every address outside the pod network (the API server, the nodes, clients of the
    /// Gateway): public and private.
    Outside,
    /// Every pod of the cluster.
    AllPods,
    /// Every pod and every address: a policy that cannot name its peer (the API server's
    /// address is not known offline) opens the port to all of them.
    Anyone,
    /// Every pod of a namespace: the render's policies name namespaces, so a flow declared
    /// between two components is open to every pod of their namespaces (a gateway in
    /// `kube-system` opens the route to every pod there).
    Namespace(String),
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Party::Component(c) => f.write_str(c),
            Party::GatewayProxies(c) => write!(f, "the gateway proxies of {c}"),
            Party::Tenant(t) => write!(f, "tenant {t}"),
            Party::Dns => f.write_str("cluster DNS"),
            Party::Internet => f.write_str(INTERNET),
            Party::DnsServer(c) => write!(f, "the DNS server of {c}"),
            Party::Outside => f.write_str("outside the cluster"),
            Party::AllPods => f.write_str("every pod"),
            Party::Anyone => f.write_str("any pod or address"),
            Party::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

/// A flow the catalogue declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclaredFlow {
    pub from: Party,
    pub to: Party,
    pub connections: Connections,
    /// Needed (an error when denied), or only permitted (no warning when open).
    pub needed: bool,
    /// The declaration: `loki: network.ingressFrom`.
    pub declared_by: String,
    /// `namespace/name` of the NetworkPolicies `haven plus render` writes to open it.
    pub opened_by: Vec<String>,
}

/// What the proof found and the matrix it found it on (for `--flows`).
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    #[serde(skip)]
    pub problems: Vec<Problem>,
    pub declared: Vec<DeclaredFlow>,
    pub matrix: Matrix,
}

/// Runs the proof: the problems only.
pub fn prove(landscape: &Landscape<'_>, catalogue: &Catalogue) -> Vec<Problem> {
    analyse(landscape, catalogue, false).problems
}

/// A component the tree installs.
struct Installed<'c, 'a> {
    component: &'c Component,
    namespace: String,
    release: Placed<'a>,
}

/// Runs the proof; `want_matrix` also keeps the matrix for `--flows` (it is computed for the
/// undeclared flows anyway, but only kept when asked).
pub fn analyse(landscape: &Landscape<'_>, catalogue: &Catalogue, want_matrix: bool) -> FlowReport {
    let mut problems = Vec::new();
    let installed = installed(landscape, catalogue);
    let tenants: BTreeMap<String, Placed<'_>> = landscape
        .of_kind("", "Namespace")
        .filter(|p| {
            p.object
                .labels()
                .is_some_and(|l| l.contains_key(TENANT_LABEL))
        })
        .map(|p| (p.object.name.clone(), p))
        .collect();
    let empty = FlowReport {
        problems: Vec::new(),
        declared: Vec::new(),
        matrix: Matrix {
            endpoints: Vec::new(),
            flows: Vec::new(),
        },
    };
    // Not a Haven+ tree: nothing is declared, so nothing to prove.
    if installed.is_empty() && tenants.is_empty() {
        return empty;
    }

    // The model: every namespace, workload and policy of the landscape.
    let loaded = objects::load(landscape.objects.iter().map(|p| p.object));
    for e in loaded.errors {
        problems.push(Problem {
            severity: Severity::Warning,
            check: Check::Flows,
            component: String::new(),
            file: e.file.clone(),
            line: e.line,
            object: String::new(),
            path: e.field.clone().unwrap_or_default(),
            message: format!("not evaluated: {}", e.message),
            waived: None,
        });
    }
    let mut cluster = loaded.cluster;
    // Which component each real workload belongs to.
    let owner: BTreeMap<(String, String, String), &str> = landscape
        .objects
        .iter()
        .filter(|p| !p.component.is_empty())
        .map(|p| {
            (
                (
                    p.object
                        .namespace
                        .clone()
                        .unwrap_or_else(|| "default".into()),
                    p.object.kind.clone(),
                    p.object.name.clone(),
                ),
                p.component,
            )
        })
        .collect();
    let mut members: BTreeMap<Party, Vec<Endpoint>> = BTreeMap::new();
    for (i, w) in cluster.workloads().iter().enumerate() {
        members
            .entry(Party::Namespace(w.namespace.clone()))
            .or_default()
            .push(Endpoint::Workload(i));
        let key = (w.namespace.clone(), w.kind.clone(), w.name.clone());
        if let Some(c) = owner.get(&key) {
            members
                .entry(Party::Component((*c).to_owned()))
                .or_default()
                .push(Endpoint::Workload(i));
        }
        if tenants.contains_key(&w.namespace) {
            members
                .entry(Party::Tenant(w.namespace.clone()))
                .or_default()
                .push(Endpoint::Workload(i));
        }
        if w.namespace == "kube-system"
            && w.labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
        {
            members
                .entry(Party::Dns)
                .or_default()
                .push(Endpoint::Workload(i));
        }
    }
    // Stand-ins for what the landscape does not show.
    for c in &installed {
        let name = &c.component.name;
        if landscape.unseen.contains(name.as_str()) && c.component.network != Network::default() {
            let e = cluster.add_workload(Workload {
                namespace: c.namespace.clone(),
                name: name.clone(),
                kind: "HelmRelease".into(),
                labels: Default::default(),
                ports: Vec::new(),
            });
            members
                .entry(Party::Component(name.clone()))
                .or_default()
                .push(e);
            members
                .entry(Party::Namespace(c.namespace.clone()))
                .or_default()
                .push(e);
        }
    }
    // Each Gateway's proxies: the workloads of its namespace its `gatewayPods` selects, or a
    // stand-in with their labels when none is rendered (made by the controller at run time, or
    // the chart not rendered).
    for c in installed.iter().filter(|c| c.component.network.gateway) {
        let Some(selector) = &c.component.network.gateway_pods else {
            continue;
        };
        let name = &c.component.name;
        let mut found: Vec<Endpoint> = cluster
            .workloads()
            .iter()
            .enumerate()
            .filter(|(_, w)| w.namespace == c.namespace && selector.matches(&w.labels))
            .map(|(i, _)| Endpoint::Workload(i))
            .collect();
        if found.is_empty() {
            let e = cluster.add_workload(Workload {
                namespace: c.namespace.clone(),
                name: format!("{name}-proxies"),
                kind: "gateway proxies".into(),
                labels: selector.example_labels("platform"),
                ports: Vec::new(),
            });
            for party in [
                Party::Component(name.clone()),
                Party::Namespace(c.namespace.clone()),
            ] {
                members.entry(party).or_default().push(e);
            }
            found.push(e);
        }
        members.insert(Party::GatewayProxies(name.clone()), found);
    }
    for t in tenants.keys() {
        let e = cluster.add_workload(Workload {
            namespace: t.clone(),
            name: "*".into(),
            kind: "tenant workloads".into(),
            labels: Default::default(),
            ports: Vec::new(),
        });
        members.entry(Party::Tenant(t.clone())).or_default().push(e);
        members
            .entry(Party::Namespace(t.clone()))
            .or_default()
            .push(e);
    }
    if let std::collections::btree_map::Entry::Vacant(dns) = members.entry(Party::Dns) {
        let e = cluster.add_workload(Workload {
            namespace: "kube-system".into(),
            name: "coredns".into(),
            kind: "cluster DNS".into(),
            labels: [("k8s-app".to_owned(), "kube-dns".to_owned())].into(),
            ports: Vec::new(),
        });
        dns.insert(vec![e]);
        members
            .entry(Party::Namespace("kube-system".into()))
            .or_default()
            .push(e);
    }
    let (internet_set, private) = outside();
    let internet = cluster.add_external(INTERNET, internet_set.clone());
    let private = cluster.add_external(PRIVATE, private);
    members.insert(Party::Internet, vec![internet]);
    members.insert(Party::Outside, vec![internet, private]);
    let all_pods: Vec<Endpoint> = (0..cluster.workloads().len())
        .map(Endpoint::Workload)
        .collect();
    members.insert(Party::AllPods, all_pods.clone());
    let mut anyone = all_pods;
    anyone.extend([internet, private]);
    members.insert(Party::Anyone, anyone);

    let servers = dns_servers(landscape);
    for (component, list) in &servers {
        let mut set = IpSet::empty();
        for (host, _) in list {
            set = set.union(&match host.parse::<std::net::IpAddr>() {
                Ok(a) => IpSet::from_cidr(&format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 }))
                    .unwrap_or_else(|_| IpSet::empty()),
                // A host name: its address is not known offline.
                Err(_) => {
                    let (public, private) = outside();
                    public.union(&private)
                }
            });
        }
        let e = cluster.add_external(&format!("dns-server-{component}"), set);
        members.insert(Party::DnsServer(component.clone()), vec![e]);
    }
    let analysis = Analysis::new(cluster, loaded.policies);
    let policies: BTreeMap<(String, String), Placed<'_>> = landscape
        .of_kind("networking.k8s.io", "NetworkPolicy")
        .map(|p| {
            (
                (
                    p.object
                        .namespace
                        .clone()
                        .unwrap_or_else(|| "default".into()),
                    p.object.name.clone(),
                ),
                p,
            )
        })
        .collect();
    let declared = declarations(&installed, tenants.keys().map(String::as_str), &servers);
    let release_of: BTreeMap<&str, &Installed<'_, '_>> = installed
        .iter()
        .map(|c| (c.component.name.as_str(), c))
        .collect();

    // Every needed flow must be allowed.
    for d in declared.iter().filter(|d| d.needed) {
        let from = members.get(&d.from).map(Vec::as_slice).unwrap_or_default();
        let to = members.get(&d.to).map(Vec::as_slice).unwrap_or_default();
        let mut denied: Vec<(Endpoint, Endpoint, Connections)> = Vec::new();
        for &f in from {
            for &t in to {
                let Ok(allowed) = analysis.allowed(f, t) else {
                    continue; // both outside: not a pod flow
                };
                let missing = d.connections.difference(&allowed);
                if !missing.is_empty() {
                    denied.push((f, t, missing));
                }
            }
        }
        let Some((f, t, missing)) = denied.first() else {
            continue;
        };
        let verdict = first_port(missing)
            .and_then(|(proto, port)| analysis.check(*f, *t, proto, PortQuery::Number(port)).ok());
        let mut p = denied_problem(
            d,
            &analysis,
            (*f, *t, missing),
            denied.len(),
            verdict.as_ref(),
            &policies,
            &release_of,
        );
        // The tree alone: a chart not rendered here whose values turn on its own
        // NetworkPolicies, in a namespace that denies, might open the flow. Not proved either
        // way, so not an error.
        let denying: BTreeSet<&str> = verdict
            .iter()
            .flat_map(|v| [&v.egress, &v.ingress])
            .filter(|s| !s.allowed)
            .flat_map(|s| s.isolated_by.iter().map(|p| p.namespace.as_str()))
            .collect();
        if let Some(c) = installed.iter().find(|c| {
            denying.contains(c.namespace.as_str())
                && landscape.unseen.contains(c.component.name.as_str())
                && c.release
                    .object
                    .get("spec.values")
                    .is_some_and(enables_network_policies)
        }) {
            p.severity = Severity::Warning;
            p.message.push_str(&format!(
                " (not proved: the values of {} turn on its chart's own NetworkPolicies, which \
                 only `--charts` renders)",
                c.component.name
            ));
        }
        problems.push(p);
    }

    // Flows nobody declared, and flows between tenants.
    let matrix = analysis.matrix();
    let by_name: BTreeMap<String, Endpoint> = (0..analysis.cluster().workloads().len())
        .map(|i| {
            let e = Endpoint::Workload(i);
            (analysis.cluster().name_of(e), e)
        })
        .collect();
    let outside_sets = [
        (Party::Internet, internet_set),
        (Party::Outside, IpSet::everything()),
    ];
    let in_party = |party: &Party, id: &str, addresses: Option<&IpSet>| -> bool {
        match addresses {
            Some(a) => match party {
                Party::Anyone => true,
                _ => outside_sets
                    .iter()
                    .any(|(p, set)| p == party && a.is_subset(set)),
            },
            None => by_name
                .get(id)
                .is_some_and(|e| members.get(party).is_some_and(|m| m.contains(e))),
        }
    };
    let endpoint_info: BTreeMap<&str, (Option<&str>, Option<&IpSet>)> = matrix
        .endpoints
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                (e.namespace.as_deref(), e.addresses.as_ref()),
            )
        })
        .collect();
    for flow in &matrix.flows {
        let (from_ns, from_addr) = endpoint_info
            .get(flow.from.as_str())
            .copied()
            .unwrap_or_default();
        let (to_ns, to_addr) = endpoint_info
            .get(flow.to.as_str())
            .copied()
            .unwrap_or_default();
        if from_ns.is_some() && from_ns == to_ns {
            continue;
        }
        let opening: Vec<String> = flow
            .egress
            .opened_by
            .iter()
            .chain(&flow.ingress.opened_by)
            .map(|o| o.rule.to_string())
            .collect();
        let object = flow
            .egress
            .opened_by
            .iter()
            .chain(&flow.ingress.opened_by)
            .map(|o| &o.rule.policy)
            .find(|p| !is_default(&p.name))
            .and_then(|p| policies.get(&(p.namespace.clone(), p.name.clone())))
            .copied();
        if let (Some(a), Some(b)) = (from_ns, to_ns)
            && tenants.contains_key(a)
            && tenants.contains_key(b)
        {
            problems.push(flow_problem(
                Severity::Error,
                object,
                format!(
                    "tenant {a} can reach tenant {b} ({} -> {} on {}): opened by {}",
                    flow.from,
                    flow.to,
                    flow.connections,
                    describe(&opening, flow)
                ),
            ));
            continue;
        }
        let mut covered = Connections::none();
        for d in &declared {
            if in_party(&d.from, &flow.from, from_addr) && in_party(&d.to, &flow.to, to_addr) {
                covered.union_with(&d.connections);
            }
        }
        let rest = flow.connections.difference(&covered);
        // Only what a policy opens: a namespace without any policy (kube-system) is not ours.
        if rest.is_empty() || opening.is_empty() {
            continue;
        }
        let where_ = if from_addr.is_some() || to_addr.is_some() {
            "leaves the cluster"
        } else {
            "crosses namespaces"
        };
        problems.push(flow_problem(
            Severity::Warning,
            object,
            format!(
                "undeclared flow {} -> {} on {rest} {where_}: opened by {}",
                flow.from,
                flow.to,
                describe(&opening, flow)
            ),
        ));
    }

    // Declared ports the chart's pods do not list (only where the chart was rendered and
    // runs pods of its own: an operator's pods are not in the landscape).
    for c in &installed {
        let n = &c.component.network;
        let tenant_ports =
            n.tenant_ports(|other| installed.iter().any(|i| i.component.name == other));
        let declared: BTreeSet<u16> = n.ports.iter().chain(tenant_ports).copied().collect();
        if declared.is_empty() || landscape.unseen.contains(c.component.name.as_str()) {
            continue;
        }
        let mut listed: BTreeSet<u16> = BTreeSet::new();
        let mut pods = 0;
        for p in landscape
            .objects
            .iter()
            .filter(|p| p.component == c.component.name)
        {
            if let Some(Ok(t)) = haven_model::workload::pod_template(p.object) {
                pods += 1;
                let sidecars = t.spec.init_containers.iter().flatten();
                for ctr in t.spec.containers.iter().chain(sidecars) {
                    listed.extend(
                        ctr.ports
                            .iter()
                            .flatten()
                            .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
                            .filter_map(|p| u16::try_from(p.container_port).ok()),
                    );
                }
            }
        }
        let missing: Vec<String> = declared
            .iter()
            .filter(|p| !listed.contains(p))
            .map(u16::to_string)
            .collect();
        if pods > 0 && !missing.is_empty() {
            let listed: Vec<String> = listed.iter().map(u16::to_string).collect();
            let mut p = flow_problem(
                Severity::Error,
                Some(c.release),
                format!(
                    "the catalogue declares that {} serves TCP {} (network.ports, fromTenants), but \
                     no container of its chart's pods lists {} (they list TCP {}): the flows \
                     towards it are opened on ports it does not serve",
                    c.component.name,
                    missing.join(", "),
                    if missing.len() == 1 { "it" } else { "them" },
                    if listed.is_empty() {
                        "none".to_owned()
                    } else {
                        listed.join(", ")
                    },
                ),
            );
            p.component = c.component.name.clone();
            problems.push(p);
        }
    }

    // Managed namespaces whose workloads no policy isolates.
    let managed: BTreeSet<&str> = installed
        .iter()
        .map(|c| c.namespace.as_str())
        .filter(|ns| *ns != "kube-system" && *ns != "default" && *ns != "flux-system")
        .chain(tenants.keys().map(String::as_str))
        .collect();
    for (i, w) in analysis.cluster().workloads().iter().enumerate() {
        if !managed.contains(w.namespace.as_str()) {
            continue;
        }
        let e = Endpoint::Workload(i);
        let probe = analysis.check(e, internet, Protocol::Tcp, PortQuery::Number(1));
        let probe_in = analysis.check(internet, e, Protocol::Tcp, PortQuery::Number(1));
        for (v, dir) in [(probe, "egress"), (probe_in, "ingress")] {
            let Ok(v) = v else { continue };
            let side = if dir == "egress" {
                &v.egress
            } else {
                &v.ingress
            };
            if side.isolated_by.is_empty() {
                let ns_obj = landscape
                    .of_kind("", "Namespace")
                    .find(|p| p.object.name == w.namespace);
                problems.push(flow_problem(
                    Severity::Warning,
                    ns_obj,
                    format!(
                        "{} is not isolated for {dir}: no NetworkPolicy of namespace {} selects \
                         it (haven plus render writes {}/default-deny), so it may {} anything",
                        w.display_name(),
                        w.namespace,
                        w.namespace,
                        if dir == "egress" {
                            "reach"
                        } else {
                            "be reached from"
                        }
                    ),
                ));
            }
        }
    }
    FlowReport {
        problems,
        declared,
        matrix: if want_matrix { matrix } else { empty.matrix },
    }
}

/// Whether Helm values turn on a chart's own NetworkPolicies: a key such as `networkPolicy`,
/// `networkPolicies` or `network_policy` set to `true` or to a map with `enabled: true`.
fn enables_network_policies(values: &serde_json::Value) -> bool {
    match values {
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            let key = k.to_ascii_lowercase().replace(['_', '-'], "");
            let named = key.starts_with("networkpolic");
            (named
                && (v.as_bool() == Some(true)
                    || v.get("enabled").and_then(serde_json::Value::as_bool) == Some(true)))
                || enables_network_policies(v)
        }),
        serde_json::Value::Array(items) => items.iter().any(enables_network_policies),
        _ => false,
    }
}

fn is_default(name: &str) -> bool {
    name == "default-deny"
}

fn describe(opening: &[String], flow: &haven_netpol::Flow) -> String {
    let mut parts: Vec<String> = opening.to_vec();
    for (side, dir) in [(&flow.egress, "egress"), (&flow.ingress, "ingress")] {
        if let Some(at) = &side.enforced_at
            && side.isolated_by.is_empty()
        {
            parts.push(format!("{at} not isolated for {dir}"));
        }
    }
    parts.join(", ")
}

fn flow_problem(severity: Severity, object: Option<Placed<'_>>, message: String) -> Problem {
    let (file, line, name, component) = match object {
        Some(p) => {
            let at = p.object.location("metadata.name");
            (
                at.file.to_string(),
                at.line,
                object_name(p.object),
                p.component.to_owned(),
            )
        }
        None => (String::new(), 0, String::new(), String::new()),
    };
    Problem {
        severity,
        check: Check::Flows,
        component,
        file,
        line,
        object: name,
        path: String::new(),
        message,
        waived: None,
    }
}

fn object_name(o: &Object) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

fn first_port(c: &Connections) -> Option<(Protocol, u16)> {
    c.ranges()
        .find_map(|(p, r)| r.first().map(|r| (p, *r.start())))
}

fn denied_problem(
    d: &DeclaredFlow,
    analysis: &Analysis,
    (from, to, missing): (Endpoint, Endpoint, &Connections),
    pairs: usize,
    verdict: Option<&Verdict>,
    policies: &BTreeMap<(String, String), Placed<'_>>,
    releases: &BTreeMap<&str, &Installed<'_, '_>>,
) -> Problem {
    let cluster = analysis.cluster();
    let mut why = String::new();
    if let Some(v) = verdict {
        for side in [&v.egress, &v.ingress] {
            if !side.allowed {
                why.push_str(&format!("; {side}"));
            }
        }
    }
    let expected: Vec<&String> = d.opened_by.iter().collect();
    let missing_policies: Vec<&String> = expected
        .iter()
        .copied()
        .filter(|p| {
            let (ns, name) = p.split_once('/').unwrap_or_default();
            !policies.contains_key(&(ns.to_owned(), name.to_owned()))
        })
        .collect();
    let remedy = match (expected.is_empty(), missing_policies.is_empty()) {
        (true, _) => String::new(),
        (false, false) => format!(
            "; missing: NetworkPolicy {} (haven plus render writes it)",
            join(&missing_policies)
        ),
        (false, true) => format!(
            "; haven plus render opens it with NetworkPolicy {}",
            join(&expected)
        ),
    };
    let more = if pairs > 1 {
        format!(" (and {} more pairs)", pairs - 1)
    } else {
        String::new()
    };
    let message = format!(
        "declared flow {} -> {} on {} ({}) is denied: {} -> {} on {missing}{why}{remedy}{more}",
        d.from,
        d.to,
        d.connections,
        d.declared_by,
        cluster.name_of(from),
        cluster.name_of(to),
    );
    // Name the policy that should open it when it is there (then it is wrong), else the policy
    // that isolates the denying end, else the release.
    let isolating = verdict.and_then(|v| {
        [&v.ingress, &v.egress]
            .into_iter()
            .filter(|s| !s.allowed)
            .flat_map(|s| {
                let mut by: Vec<_> = s.isolated_by.iter().collect();
                by.sort_by_key(|p| !is_default(&p.name));
                by
            })
            .find_map(|p| {
                policies
                    .get(&(p.namespace.clone(), p.name.clone()))
                    .copied()
            })
    });
    let present = expected.iter().find_map(|p| {
        let (ns, name) = p.split_once('/')?;
        policies.get(&(ns.to_owned(), name.to_owned())).copied()
    });
    let present = present.filter(|_| isolating.is_none());
    let component = match (&d.from, &d.to) {
        (_, Party::Component(c)) | (Party::Component(c), _) => Some(c.as_str()),
        _ => None,
    };
    let release = component.and_then(|c| releases.get(c)).map(|r| r.release);
    let mut p = flow_problem(Severity::Error, present.or(isolating).or(release), message);
    if let Some(c) = component {
        p.component = c.to_owned();
    }
    p
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every public IPv4 address, and the private ranges.
fn outside() -> (IpSet, IpSet) {
    let private = PRIVATE_RANGES
        .iter()
        .map(|c| IpSet::from_cidr(c).expect("a valid CIDR"))
        .fold(IpSet::empty(), |a, b| a.union(&b));
    let v4 = IpSet::from_cidr("0.0.0.0/0").expect("a valid CIDR");
    (v4.difference(&private), private)
}

/// The components the tree installs: a HelmRelease of a catalogue component's name.
fn installed<'c, 'a>(
    landscape: &Landscape<'a>,
    catalogue: &'c Catalogue,
) -> Vec<Installed<'c, 'a>> {
    let mut out = Vec::new();
    for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
        let Some(component) = catalogue
            .components
            .iter()
            .find(|c| c.name == p.object.name)
        else {
            continue;
        };
        let namespace = p
            .object
            .get("spec.targetNamespace")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| p.object.namespace.clone())
            .unwrap_or_else(|| component.namespace.clone());
        out.push(Installed {
            component,
            namespace,
            release: p,
        });
    }
    out
}

fn tcp(ports: &[u16]) -> Connections {
    let mut c = Connections::none();
    for p in ports {
        c.add(Protocol::Tcp, *p..=*p);
    }
    c
}

/// The flows the catalogue declares for the installed components and the tenants.
/// The authoritative DNS servers (host, port) each component sends updates to, as the tree
/// configures them: cert-manager the `rfc2136.nameserver` of its issuers' DNS-01 solvers,
/// ExternalDNS its `rfc2136-host`/`rfc2136-port` arguments.
fn dns_servers(landscape: &Landscape<'_>) -> BTreeMap<String, Vec<(String, u16)>> {
    let mut out: BTreeMap<String, Vec<(String, u16)>> = BTreeMap::new();
    for kind in ["ClusterIssuer", "Issuer"] {
        for p in landscape.of_kind("cert-manager.io", kind) {
            for solver in p
                .object
                .get("spec.acme.solvers")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(ns) = solver
                    .pointer("/dns01/rfc2136/nameserver")
                    .and_then(serde_json::Value::as_str)
                else {
                    continue;
                };
                // host:port, an IPv6 address in brackets; the port defaults to 53.
                let (host, port) = match ns.rsplit_once(':') {
                    Some((h, p)) if !h.is_empty() && (h.starts_with('[') || !h.contains(':')) => (
                        h.trim_matches(['[', ']']).to_owned(),
                        p.parse().unwrap_or(53),
                    ),
                    _ => (ns.trim_matches(['[', ']']).to_owned(), 53),
                };
                let list = out.entry("cert-manager".to_owned()).or_default();
                if !list.contains(&(host.clone(), port)) {
                    list.push((host, port));
                }
            }
        }
    }
    for p in landscape.of_kind("helm.toolkit.fluxcd.io", "HelmRelease") {
        if p.object.name != "external-dns" {
            continue;
        }
        let args = p.object.get("spec.values.extraArgs");
        if let Some(host) = args
            .and_then(|a| a.get("rfc2136-host"))
            .and_then(serde_json::Value::as_str)
        {
            let port = args
                .and_then(|a| a.get("rfc2136-port"))
                .and_then(|p| {
                    p.as_str()
                        .and_then(|s| s.parse().ok())
                        .or(p.as_u64().map(|n| n as u16))
                })
                .unwrap_or(53);
            out.entry("external-dns".to_owned())
                .or_default()
                .push((host.to_owned(), port));
        }
    }
    out
}

fn declarations<'t>(
    installed: &[Installed<'_, '_>],
    tenants: impl Iterator<Item = &'t str>,
    dns_servers: &BTreeMap<String, Vec<(String, u16)>>,
) -> Vec<DeclaredFlow> {
    let tenants: Vec<&str> = tenants.collect();
    let ns_of: BTreeMap<&str, &str> = installed
        .iter()
        .map(|c| (c.component.name.as_str(), c.namespace.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut flow = |from: Party,
                    to: Party,
                    connections: Connections,
                    needed: bool,
                    declared_by: String,
                    opened_by: Vec<String>| {
        out.push(DeclaredFlow {
            from,
            to,
            connections,
            needed,
            declared_by,
            opened_by,
        })
    };
    let dns = || {
        let mut c = Connections::single(Protocol::Udp, 53..=53);
        c.add(Protocol::Tcp, 53..=53);
        c
    };
    let gateways: Vec<&Installed<'_, '_>> = installed
        .iter()
        .filter(|c| c.component.network.gateway)
        .collect();
    let collectors: Vec<&Installed<'_, '_>> = installed
        .iter()
        .filter(|c| c.component.network.scrapes_all)
        .collect();
    let cnpg = installed
        .iter()
        .find(|c| c.component.name == "cloudnative-pg");
    // What a server offers: its declared ports, else every port.
    let offered = |name: &str| {
        installed
            .iter()
            .find(|c| c.component.name == name)
            .map(|c| &c.component.network.ports)
            .filter(|p| !p.is_empty())
            .map_or_else(Connections::all, |p| tcp(p))
    };
    for c in installed {
        let n = &c.component.network;
        let me = Party::Component(c.component.name.clone());
        let ns = c.namespace.as_str();
        let name = c.component.name.as_str();
        let by = |field: &str| format!("{name}: network.{field}");
        let pol = |n: &str, p: &str| format!("{n}/{p}");
        if *n == Network::default() {
            continue;
        }
        flow(
            me.clone(),
            Party::Dns,
            dns(),
            true,
            format!("{name}: every component"),
            vec![pol(ns, "allow-dns")],
        );
        if n.kube_api || n.postgres {
            let field = if n.kube_api { "kubeApi" } else { "postgres" };
            flow(
                me.clone(),
                Party::Outside,
                tcp(&[443, 6443]),
                true,
                by(field),
                vec![pol(ns, "allow-kube-api")],
            );
            flow(
                me.clone(),
                Party::Anyone,
                tcp(&[443, 6443]),
                false,
                by(field),
                vec![pol(ns, "allow-kube-api")],
            );
        }
        if n.internet {
            flow(
                me.clone(),
                Party::Internet,
                tcp(&[80, 443]),
                true,
                by("internet"),
                vec![pol(ns, "allow-internet")],
            );
        }
        if n.dns_server
            && let Some(servers) = dns_servers.get(name)
        {
            let mut c = Connections::none();
            for (_, port) in servers {
                c.add(Protocol::Udp, *port..=*port);
                c.add(Protocol::Tcp, *port..=*port);
            }
            flow(
                me.clone(),
                Party::DnsServer(name.to_owned()),
                c,
                true,
                by("dnsServer"),
                vec![pol(ns, "allow-dns-server")],
            );
        }
        if n.nodes {
            flow(
                me.clone(),
                Party::Outside,
                tcp(&[10250]),
                true,
                by("nodes"),
                vec![pol(ns, "allow-kubelet")],
            );
            flow(
                me.clone(),
                Party::Anyone,
                tcp(&[10250]),
                false,
                by("nodes"),
                vec![pol(ns, "allow-kubelet")],
            );
        }
        if !n.webhook_ports.is_empty() {
            let ports = tcp(&n.webhook_ports);
            flow(
                Party::Outside,
                me.clone(),
                ports.clone(),
                true,
                by("webhookPorts"),
                vec![pol(ns, "allow-webhooks")],
            );
            flow(
                Party::Anyone,
                me.clone(),
                ports,
                false,
                by("webhookPorts"),
                vec![pol(ns, "allow-webhooks")],
            );
        }
        if n.own_pods || n.postgres {
            let field = if n.own_pods { "ownPods" } else { "postgres" };
            flow(
                me.clone(),
                me.clone(),
                Connections::all(),
                true,
                by(field),
                vec![pol(ns, "allow-same-namespace")],
            );
        }
        for from in &n.ingress_from {
            if let Some(from_ns) = ns_of.get(from.as_str()) {
                flow(
                    Party::Component(from.clone()),
                    me.clone(),
                    offered(name),
                    true,
                    by("ingressFrom"),
                    cross(from_ns, ns),
                );
            }
        }
        for to in &n.egress_to {
            if let Some(to_ns) = ns_of.get(to.as_str()) {
                flow(
                    me.clone(),
                    Party::Component(to.clone()),
                    offered(to),
                    true,
                    by("egressTo"),
                    cross(ns, to_ns),
                );
            }
        }
        if n.from_gateway {
            for g in &gateways {
                flow(
                    Party::GatewayProxies(g.component.name.clone()),
                    me.clone(),
                    offered(name),
                    true,
                    by("fromGateway"),
                    vec![
                        pol(&g.namespace, "allow-gateway"),
                        pol(ns, &allow_from_name(&g.namespace)),
                    ],
                );
            }
        }
        if n.gateway {
            let proxies = Party::GatewayProxies(name.to_owned());
            flow(
                Party::Outside,
                proxies.clone(),
                Connections::all(),
                true,
                by("gateway"),
                vec![pol(ns, "allow-gateway")],
            );
            flow(
                Party::Anyone,
                proxies.clone(),
                Connections::all(),
                false,
                by("gateway"),
                vec![pol(ns, "allow-gateway")],
            );
            flow(
                proxies,
                Party::AllPods,
                Connections::all(),
                false,
                by("gateway"),
                vec![pol(ns, "allow-gateway")],
            );
        }
        if n.scrapes_all {
            flow(
                me.clone(),
                Party::AllPods,
                Connections::all(),
                false,
                by("scrapesAll"),
                vec![pol(ns, "allow-scrape-all")],
            );
            for other in installed {
                if other.component.network != Network::default()
                    && other.namespace != ns
                    && other.namespace != "kube-system"
                {
                    flow(
                        me.clone(),
                        Party::Component(other.component.name.clone()),
                        Connections::all(),
                        true,
                        by("scrapesAll"),
                        vec![
                            pol(ns, "allow-scrape-all"),
                            pol(&other.namespace, &allow_from_name(ns)),
                        ],
                    );
                }
            }
        }
        if n.postgres
            && let Some(op) = cnpg
            && op.namespace != ns
        {
            flow(
                Party::Component(op.component.name.clone()),
                me.clone(),
                tcp(&[5432, 8000]),
                true,
                by("postgres"),
                vec![
                    pol(&op.namespace, "allow-to-postgres-instances"),
                    pol(ns, &allow_from_name(&op.namespace)),
                ],
            );
        }
        if name == "cloudnative-pg" {
            flow(
                me.clone(),
                Party::AllPods,
                tcp(&[5432, 8000]),
                false,
                format!("{name}: the operator reaches every PostgreSQL instance"),
                vec![pol(ns, "allow-to-postgres-instances")],
            );
        }
        let tenant_ports =
            n.tenant_ports(|other| installed.iter().any(|i| i.component.name == other));
        for t in &tenants {
            if !tenant_ports.is_empty() {
                flow(
                    Party::Tenant((*t).to_owned()),
                    me.clone(),
                    tcp(tenant_ports),
                    true,
                    by("fromTenants"),
                    vec![pol(t, &allow_to_name(ns)), pol(ns, "allow-from-tenants")],
                );
            }
        }
    }
    for t in &tenants {
        let me = Party::Tenant((*t).to_owned());
        let by = format!("tenant {t}");
        flow(
            me.clone(),
            Party::Dns,
            dns(),
            true,
            by.clone(),
            vec![format!("{t}/allow-dns")],
        );
        flow(
            me.clone(),
            me.clone(),
            Connections::all(),
            true,
            by.clone(),
            vec![format!("{t}/allow-same-namespace")],
        );
        for g in &gateways {
            flow(
                Party::GatewayProxies(g.component.name.clone()),
                me.clone(),
                Connections::all(),
                true,
                format!("{by}: from the gateway"),
                vec![
                    format!("{}/allow-gateway", g.namespace),
                    format!("{t}/{}", allow_from_name(&g.namespace)),
                ],
            );
        }
        for m in &collectors {
            flow(
                Party::Component(m.component.name.clone()),
                me.clone(),
                Connections::all(),
                true,
                format!("{by}: scraped by the metrics collector"),
                vec![
                    format!("{}/allow-scrape-all", m.namespace),
                    format!("{t}/{}", allow_from_name(&m.namespace)),
                ],
            );
        }
        if let Some(op) = cnpg {
            // Its databases' instance managers watch their Cluster (only the pods labelled
            // `cnpg.io/cluster`, which the stand-in for the tenant's workloads is not).
            flow(
                me.clone(),
                Party::Anyone,
                tcp(&[443, 6443]),
                false,
                format!("{by}: its PostgreSQL clusters reach the API server"),
                vec![format!("{t}/allow-kube-api")],
            );
            flow(
                Party::Component(op.component.name.clone()),
                me.clone(),
                tcp(&[5432, 8000]),
                true,
                format!("{by}: its PostgreSQL clusters"),
                vec![
                    format!("{}/allow-to-postgres-instances", op.namespace),
                    format!("{t}/{}", allow_from_name(&op.namespace)),
                ],
            );
        }
    }
    // Each pair once, with every declaration that asks for it.
    let mut merged: Vec<DeclaredFlow> = Vec::new();
    for d in out {
        match merged
            .iter_mut()
            .find(|m| m.needed == d.needed && m.from == d.from && m.to == d.to)
        {
            Some(m) => {
                m.connections.union_with(&d.connections);
                if !m.declared_by.split(", ").any(|x| x == d.declared_by) {
                    m.declared_by = format!("{}, {}", m.declared_by, d.declared_by);
                }
                for p in d.opened_by {
                    if !m.opened_by.contains(&p) {
                        m.opened_by.push(p);
                    }
                }
            }
            None => merged.push(d),
        }
    }
    // The render opens component flows for their whole namespaces.
    let namespace_of = |p: &Party| match p {
        Party::Component(c) | Party::GatewayProxies(c) => ns_of
            .get(c.as_str())
            .map(|ns| Party::Namespace((*ns).to_owned())),
        Party::Tenant(t) => Some(Party::Namespace(t.clone())),
        _ => None,
    };
    let mut wide = Vec::new();
    for d in merged.iter().filter(|d| d.needed) {
        if let (Some(from), Some(to)) = (namespace_of(&d.from), namespace_of(&d.to)) {
            wide.push(DeclaredFlow {
                from,
                to,
                needed: false,
                ..d.clone()
            });
        }
    }
    merged.extend(wide);
    merged
}

/// The policies that open a flow from namespace `a` to namespace `b`: egress at `a`, ingress
/// at `b` (none inside one namespace: `allow-same-namespace` is its own declaration).
fn cross(a: &str, b: &str) -> Vec<String> {
    if a == b {
        return vec![format!("{a}/allow-same-namespace")];
    }
    vec![
        format!("{a}/{}", allow_to_name(b)),
        format!("{b}/{}", allow_from_name(a)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_that_turn_on_a_charts_own_network_policies() {
        for (v, on) in [
            (json!({"networkPolicy": {"enabled": true}}), true),
            (
                json!({"webhook": {"networkPolicy": {"enabled": true}}}),
                true,
            ),
            (json!({"network_policy": true}), true),
            (
                json!({"networkPolicies": {"enabled": true, "ingress": []}}),
                true,
            ),
            (json!({"networkPolicy": {"enabled": false}}), false),
            (json!({"networkPolicy": {"ingress": []}}), false),
            (
                json!({"list": [{"networkPolicy": {"enabled": true}}]}),
                true,
            ),
            (json!({"enabled": true}), false),
        ] {
            assert_eq!(enables_network_policies(&v), on, "{v}");
        }
    }

    #[test]
    fn the_outside_is_split_into_public_and_private_ipv4() {
        let (public, private) = outside();
        assert!(private.contains("10.1.2.3".parse().unwrap()));
        assert!(!public.contains("10.1.2.3".parse().unwrap()));
        assert!(public.contains("8.8.8.8".parse().unwrap()));
        assert!(!public.overlaps(&private));
    }
}
