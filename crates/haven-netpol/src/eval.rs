//! The evaluator: is a connection allowed, by which policies, and what may flow between two
//! endpoints.
//!
//! Kubernetes semantics (networking.k8s.io/v1, "Network Policies" concept page):
//! - a pod is isolated for a direction when at least one policy of its namespace selects it and
//!   has that policy type; a pod no policy isolates allows everything in that direction;
//! - an isolated pod allows what the union of the rules of its selecting policies allows;
//! - a connection needs egress from the source AND ingress at the destination to allow it;
//!   endpoints outside the cluster have no policies, so only the pod side decides;
//! - `ipBlock` peers match endpoints outside the cluster only: pod addresses are not modelled
//!   (they change with every restart; the API reference calls ipBlock meant for
//!   cluster-external IPs).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ipset::IpSet;
use crate::model::{Cluster, Endpoint, NamedPort, Workload};
use crate::policy::{Direction, NamespaceMatch, NetworkPolicy, Peer, PolicyId, Rule, RuleRef};
use crate::ports::{Connections, Protocol};

/// A port to ask about: a number, or a name resolved against the destination's container ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortQuery {
    Number(u16),
    Named(String),
}

/// A question the evaluator cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{0} is not an endpoint of this cluster model")]
    NoSuchEndpoint(Endpoint),
    #[error(
        "both ends ({from} and {to}) are outside the cluster: NetworkPolicy does not govern that"
    )]
    BothExternal { from: String, to: String },
    #[error("{endpoint} has no {protocol} container port named `{name}`")]
    UnknownNamedPort {
        endpoint: String,
        protocol: Protocol,
        name: String,
    },
    #[error("port 0 is not a port")]
    PortZero,
}

/// One side's answer: the source's egress or the destination's ingress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideVerdict {
    pub direction: Direction,
    /// The workload whose policies decide; `None` when that end is outside the cluster.
    pub enforced_at: Option<String>,
    /// The policies that select the workload for this direction (empty: not isolated).
    pub isolated_by: Vec<PolicyId>,
    /// The rules that admit the connection.
    pub allowed_by: Vec<RuleRef>,
    pub allowed: bool,
}

impl fmt::Display for SideVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = self.direction.as_str();
        let Some(at) = &self.enforced_at else {
            return write!(
                f,
                "{dir}: allowed (that end is outside the cluster, no policy applies)"
            );
        };
        if self.isolated_by.is_empty() {
            let kind = match self.direction {
                Direction::Ingress => "Ingress",
                Direction::Egress => "Egress",
            };
            return write!(
                f,
                "{dir} at {at}: allowed (no {kind} policy selects it, so it is not isolated)"
            );
        }
        if self.allowed {
            write!(f, "{dir} at {at}: allowed by ")?;
            join(f, &self.allowed_by)
        } else {
            write!(f, "{dir} at {at}: denied: isolated by ")?;
            join(f, &self.isolated_by)?;
            f.write_str(" and none of their rules allows it")
        }
    }
}

fn join<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

/// The answer to "may `from` connect to `to` on `port`/`protocol`?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub from: String,
    pub to: String,
    pub protocol: Protocol,
    pub port: u16,
    /// Allowed for every address of an external endpoint.
    pub allowed: bool,
    pub egress: SideVerdict,
    pub ingress: SideVerdict,
    /// For an external endpoint allowed for some of its addresses only: those addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_addresses: Option<IpSet>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match (&self.allowed_addresses, self.allowed) {
            (_, true) => "allowed",
            (Some(_), false) => "partly allowed",
            (None, false) => "denied",
        };
        writeln!(
            f,
            "{} -> {} {}/{}: {word}",
            self.from, self.to, self.protocol, self.port
        )?;
        if let Some(a) = &self.allowed_addresses {
            writeln!(f, "  allowed only to/from {a}")?;
        }
        writeln!(f, "  {}", self.egress)?;
        write!(f, "  {}", self.ingress)
    }
}

/// What one direction admits between two endpoints, and which rules open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideFlow {
    pub enforced_at: Option<String>,
    pub isolated_by: Vec<PolicyId>,
    /// Each admitting rule with what it admits (after named ports are resolved).
    pub opened_by: Vec<OpenedBy>,
    pub allowed: Connections,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenedBy {
    pub rule: RuleRef,
    pub connections: Connections,
}

/// The other end, as a rule's peer sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum View<'a> {
    Workload(&'a Workload),
    /// Addresses that every `ipBlock` of every policy treats alike (see `Analysis::atoms`).
    Addresses(&'a IpSet),
}

/// Policies over a cluster model, ready for questions.
#[derive(Debug, Clone)]
pub struct Analysis {
    cluster: Cluster,
    policies: Vec<NetworkPolicy>,
    /// Per workload: indexes of the policies that isolate it, per direction.
    selecting: Vec<[Vec<usize>; 2]>,
    /// Every `ipBlock` of every policy, for splitting external endpoints.
    blocks: Vec<IpSet>,
    cuts: (Vec<u32>, Vec<u128>),
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

impl Analysis {
    /// Policies with the same namespace and name replace earlier ones, as applying them would.
    pub fn new(cluster: Cluster, policies: Vec<NetworkPolicy>) -> Self {
        let mut by_id: BTreeMap<PolicyId, NetworkPolicy> = BTreeMap::new();
        for p in policies {
            by_id.insert(p.id.clone(), p);
        }
        let policies: Vec<NetworkPolicy> = by_id.into_values().collect();
        let selecting = cluster
            .workloads()
            .iter()
            .map(|w| {
                let mut s: [Vec<usize>; 2] = Default::default();
                for (i, p) in policies.iter().enumerate() {
                    if p.id.namespace != w.namespace || !p.pod_selector.matches(&w.labels) {
                        continue;
                    }
                    for d in [Direction::Ingress, Direction::Egress] {
                        if p.rules(d).is_some() {
                            s[dir_index(d)].push(i);
                        }
                    }
                }
                s
            })
            .collect();
        let blocks: Vec<IpSet> = policies
            .iter()
            .flat_map(|p| p.address_blocks().cloned())
            .collect();
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for b in &blocks {
            let (a, c) = b.boundaries();
            v4.extend(a);
            v6.extend(c);
        }
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        Self {
            cluster,
            policies,
            selecting,
            blocks,
            cuts: (v4, v6),
        }
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn policies(&self) -> &[NetworkPolicy] {
        &self.policies
    }

    /// Splits `set` into the fewest pieces that every `ipBlock` treats alike (each piece lies
    /// wholly inside or wholly outside each block), so one evaluation per piece is exact.
    pub fn atoms(&self, set: &IpSet) -> Vec<IpSet> {
        let pieces = set.split_at(&self.cuts.0, &self.cuts.1);
        let mut groups: Vec<(Vec<bool>, IpSet)> = Vec::new();
        for piece in pieces {
            let signature: Vec<bool> = self.blocks.iter().map(|b| piece.is_subset(b)).collect();
            match groups.iter_mut().find(|(s, _)| *s == signature) {
                Some((_, acc)) => *acc = acc.union(&piece),
                None => groups.push((signature, piece)),
            }
        }
        groups.into_iter().map(|(_, s)| s).collect()
    }

    fn workload(&self, e: Endpoint) -> Result<Option<(usize, &Workload)>, EvalError> {
        match e {
            Endpoint::Workload(i) => self
                .cluster
                .workloads()
                .get(i)
                .map(|w| Some((i, w)))
                .ok_or(EvalError::NoSuchEndpoint(e)),
            Endpoint::External(i) => self
                .cluster
                .externals()
                .get(i)
                .map(|_| None)
                .ok_or(EvalError::NoSuchEndpoint(e)),
        }
    }

    /// May `from` open a connection to `to` on `port`/`protocol`? The answer names the
    /// policies that isolate each end and the rules that allow it.
    pub fn check(
        &self,
        from: Endpoint,
        to: Endpoint,
        protocol: Protocol,
        port: PortQuery,
    ) -> Result<Verdict, EvalError> {
        let src = self.workload(from)?;
        let dst = self.workload(to)?;
        let (from_name, to_name) = (self.cluster.name_of(from), self.cluster.name_of(to));
        let port = match port {
            PortQuery::Number(0) => return Err(EvalError::PortZero),
            PortQuery::Number(n) => n,
            PortQuery::Named(name) => dst
                .and_then(|(_, w)| {
                    w.ports
                        .iter()
                        .find(|p| p.name == name && p.protocol == protocol)
                })
                .map(|p| p.port)
                .ok_or_else(|| EvalError::UnknownNamedPort {
                    endpoint: to_name.clone(),
                    protocol,
                    name: name.clone(),
                })?,
        };
        let asked = Connections::single(protocol, port..=port);
        let external = match (src, dst, from, to) {
            (None, None, _, _) => {
                return Err(EvalError::BothExternal {
                    from: from_name,
                    to: to_name,
                });
            }
            (None, _, Endpoint::External(i), _) | (_, None, _, Endpoint::External(i)) => {
                Some(&self.cluster.externals()[i].addresses)
            }
            _ => None,
        };
        // One evaluation per address piece of an external end (a single one for two pods).
        let pieces = external.map(|a| self.atoms(a));
        let mut sides: Option<(SideVerdict, SideVerdict)> = None;
        let mut allowed_addresses = IpSet::empty();
        let mut all_allowed = true;
        let views: Vec<(View<'_>, View<'_>)> = match &pieces {
            None => vec![(
                View::Workload(src.map(|s| s.1).expect("both are workloads")),
                View::Workload(dst.map(|d| d.1).expect("both are workloads")),
            )],
            Some(pieces) => pieces
                .iter()
                .map(|a| match (src, dst) {
                    (Some((_, s)), _) => (View::Workload(s), View::Addresses(a)),
                    (None, Some((_, d))) => (View::Addresses(a), View::Workload(d)),
                    (None, None) => unreachable!("both external is refused above"),
                })
                .collect(),
        };
        for (s, d) in views {
            let egress = self.side_verdict(src.map(|x| x.0), Direction::Egress, d, d, &asked);
            let ingress = self.side_verdict(dst.map(|x| x.0), Direction::Ingress, s, d, &asked);
            let ok = egress.allowed && ingress.allowed;
            all_allowed &= ok;
            if ok && let View::Addresses(a) = if src.is_none() { s } else { d } {
                allowed_addresses = allowed_addresses.union(a);
            }
            sides = Some(match sides {
                None => (egress, ingress),
                Some((e, i)) => (merge(e, egress), merge(i, ingress)),
            });
        }
        let (egress, ingress) = sides.expect("at least one piece: an external has addresses");
        let partial = external.is_some() && !all_allowed && !allowed_addresses.is_empty();
        Ok(Verdict {
            from: from_name,
            to: to_name,
            protocol,
            port,
            allowed: all_allowed,
            egress,
            ingress,
            allowed_addresses: partial.then_some(allowed_addresses),
        })
    }

    /// Everything `from` may open to `to` (for an external endpoint: what holds for every one
    /// of its addresses). Two workloads may be the same one: traffic between its own pods.
    pub fn allowed(&self, from: Endpoint, to: Endpoint) -> Result<Connections, EvalError> {
        let src = self.workload(from)?;
        let dst = self.workload(to)?;
        let external = |e: Endpoint| match e {
            Endpoint::External(i) => Some(&self.cluster.externals()[i].addresses),
            Endpoint::Workload(_) => None,
        };
        match (src, dst) {
            (Some((i, s)), Some((j, d))) => Ok(self
                .flow((Some(i), View::Workload(s)), (Some(j), View::Workload(d)))
                .connections),
            (Some((i, s)), None) => {
                let atoms = self.atoms(external(to).expect("an external end"));
                Ok(atoms
                    .iter()
                    .map(|a| {
                        self.flow((Some(i), View::Workload(s)), (None, View::Addresses(a)))
                            .connections
                    })
                    .reduce(|a, b| a.intersection(&b))
                    .unwrap_or_default())
            }
            (None, Some((j, d))) => {
                let atoms = self.atoms(external(from).expect("an external end"));
                Ok(atoms
                    .iter()
                    .map(|a| {
                        self.flow((None, View::Addresses(a)), (Some(j), View::Workload(d)))
                            .connections
                    })
                    .reduce(|a, b| a.intersection(&b))
                    .unwrap_or_default())
            }
            (None, None) => Err(EvalError::BothExternal {
                from: self.cluster.name_of(from),
                to: self.cluster.name_of(to),
            }),
        }
    }

    fn side_verdict(
        &self,
        target: Option<usize>,
        direction: Direction,
        peer: View<'_>,
        dst: View<'_>,
        asked: &Connections,
    ) -> SideVerdict {
        let flow = self.side_flow(target, direction, peer, dst);
        let allowed_by: Vec<RuleRef> = flow
            .opened_by
            .iter()
            .filter(|o| o.connections.intersection(asked) == *asked)
            .map(|o| o.rule.clone())
            .collect();
        SideVerdict {
            direction,
            allowed: flow.isolated_by.is_empty()
                || flow.enforced_at.is_none()
                || !allowed_by.is_empty(),
            enforced_at: flow.enforced_at,
            isolated_by: flow.isolated_by,
            allowed_by,
        }
    }

    /// What the policies of `target` (a workload index; `None` for an end outside the cluster)
    /// admit in `direction` from/to `peer`; `dst` is the destination, for named ports.
    pub(crate) fn side_flow(
        &self,
        target: Option<usize>,
        direction: Direction,
        peer: View<'_>,
        dst: View<'_>,
    ) -> SideFlow {
        let Some(t) = target else {
            return SideFlow {
                enforced_at: None,
                isolated_by: Vec::new(),
                opened_by: Vec::new(),
                allowed: Connections::all(),
            };
        };
        let workload = &self.cluster.workloads()[t];
        let selecting = &self.selecting[t][dir_index(direction)];
        let enforced_at = Some(workload.display_name());
        if selecting.is_empty() {
            return SideFlow {
                enforced_at,
                isolated_by: Vec::new(),
                opened_by: Vec::new(),
                allowed: Connections::all(),
            };
        }
        let named = match dst {
            View::Workload(w) => Some(w.ports.as_slice()),
            View::Addresses(_) => None,
        };
        let mut opened_by = Vec::new();
        let mut allowed = Connections::none();
        for &pi in selecting {
            let policy = &self.policies[pi];
            for (index, rule) in policy
                .rules(direction)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                if !self.rule_selects(policy, rule, peer) {
                    continue;
                }
                let c = rule_connections(rule, named);
                if c.is_empty() {
                    continue;
                }
                allowed.union_with(&c);
                opened_by.push(OpenedBy {
                    rule: RuleRef {
                        policy: policy.id.clone(),
                        direction,
                        index,
                    },
                    connections: c,
                });
            }
        }
        SideFlow {
            enforced_at,
            isolated_by: selecting
                .iter()
                .map(|&i| self.policies[i].id.clone())
                .collect(),
            opened_by,
            allowed,
        }
    }

    fn rule_selects(&self, policy: &NetworkPolicy, rule: &Rule, peer: View<'_>) -> bool {
        if rule.peers.is_empty() {
            return true;
        }
        rule.peers.iter().any(|p| match (p, peer) {
            (Peer::Pods { namespaces, pods }, View::Workload(w)) => {
                let ns_ok = match namespaces {
                    NamespaceMatch::Own => w.namespace == policy.id.namespace,
                    NamespaceMatch::Labels(sel) => self
                        .cluster
                        .namespace_labels(&w.namespace)
                        .is_some_and(|l| sel.matches(l)),
                };
                ns_ok && pods.matches(&w.labels)
            }
            (Peer::Addresses { set, .. }, View::Addresses(a)) => a.is_subset(set),
            _ => false,
        })
    }

    /// Everything `from` may open to `to`: egress of the source intersected with ingress at
    /// the destination. Either end may be outside the cluster (given as an address piece).
    pub(crate) fn flow(
        &self,
        from: (Option<usize>, View<'_>),
        to: (Option<usize>, View<'_>),
    ) -> FlowSides {
        let egress = self.side_flow(from.0, Direction::Egress, to.1, to.1);
        let ingress = self.side_flow(to.0, Direction::Ingress, from.1, to.1);
        FlowSides {
            connections: egress.allowed.intersection(&ingress.allowed),
            egress,
            ingress,
        }
    }
}

pub(crate) struct FlowSides {
    pub connections: Connections,
    pub egress: SideFlow,
    pub ingress: SideFlow,
}

fn rule_connections(rule: &Rule, named: Option<&[NamedPort]>) -> Connections {
    if rule.ports.is_empty() {
        return Connections::all();
    }
    let mut c = Connections::none();
    for p in &rule.ports {
        c.union_with(&p.connections(named));
    }
    c
}

/// Joins the answers for several address pieces of one external end.
fn merge(mut a: SideVerdict, b: SideVerdict) -> SideVerdict {
    a.allowed &= b.allowed;
    for r in b.allowed_by {
        if !a.allowed_by.contains(&r) {
            a.allowed_by.push(r);
        }
    }
    a.allowed_by.sort();
    a
}
