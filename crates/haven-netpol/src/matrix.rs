//! The connectivity matrix: every allowed flow between the cluster's workloads and its
//! external endpoints, with the rules that open it, as data (JSON) and as text, DOT and
//! Mermaid.

use std::fmt::Write as _;

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::eval::{Analysis, FlowSides, SideFlow, View};
use crate::ipset::IpSet;
use crate::ports::Connections;

/// One node of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixEndpoint {
    /// `namespace/name[Kind]` for a workload; the external endpoint's name, followed by the
    /// addresses in parentheses when policies treat parts of it differently.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// For an external endpoint (or the part of one): its addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<IpSet>,
}

impl MatrixEndpoint {
    pub fn is_external(&self) -> bool {
        self.addresses.is_some()
    }
}

/// One direction of a flow: who decides and which rules open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowSide {
    /// The workload whose policies decide; absent for an end outside the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforced_at: Option<String>,
    /// Policies isolating that end (empty: not isolated, everything allowed).
    pub isolated_by: Vec<crate::policy::PolicyId>,
    pub opened_by: Vec<crate::eval::OpenedBy>,
}

impl From<SideFlow> for FlowSide {
    fn from(s: SideFlow) -> Self {
        Self {
            enforced_at: s.enforced_at,
            isolated_by: s.isolated_by,
            opened_by: s.opened_by,
        }
    }
}

/// An allowed flow (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub connections: Connections,
    pub egress: FlowSide,
    pub ingress: FlowSide,
}

impl Flow {
    /// Whether both ends are the same workload (traffic between its own pods).
    pub fn is_self(&self) -> bool {
        self.from == self.to
    }
}

/// Every endpoint and every allowed flow, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub endpoints: Vec<MatrixEndpoint>,
    pub flows: Vec<Flow>,
}

impl Analysis {
    /// Computes the matrix. External endpoints are split where policies treat parts of their
    /// addresses differently (an `ipBlock` covering only part of "internet"), so that every
    /// flow printed holds for every address of its endpoint.
    pub fn matrix(&self) -> Matrix {
        struct Node {
            endpoint: MatrixEndpoint,
            workload: Option<usize>,
            addresses: Option<IpSet>,
        }
        let cluster = self.cluster();
        let mut nodes: Vec<Node> = cluster
            .workloads()
            .iter()
            .enumerate()
            .map(|(i, w)| Node {
                endpoint: MatrixEndpoint {
                    id: w.display_name(),
                    namespace: Some(w.namespace.clone()),
                    addresses: None,
                },
                workload: Some(i),
                addresses: None,
            })
            .collect();
        let workload_count = nodes.len();
        for ext in cluster.externals() {
            // Pieces that every workload treats alike in both directions form one node.
            let mut groups: Vec<(Vec<Connections>, IpSet)> = Vec::new();
            for atom in self.atoms(&ext.addresses) {
                let mut signature = Vec::with_capacity(workload_count * 2);
                for (i, w) in cluster.workloads().iter().enumerate() {
                    let to =
                        self.flow((Some(i), View::Workload(w)), (None, View::Addresses(&atom)));
                    let from =
                        self.flow((None, View::Addresses(&atom)), (Some(i), View::Workload(w)));
                    signature.push(to.connections);
                    signature.push(from.connections);
                }
                match groups.iter_mut().find(|(s, _)| *s == signature) {
                    Some((_, acc)) => *acc = acc.union(&atom),
                    None => groups.push((signature, atom)),
                }
            }
            let split = groups.len() > 1;
            for (_, addresses) in groups {
                let id = if split {
                    format!("{} ({addresses})", ext.name)
                } else {
                    ext.name.clone()
                };
                nodes.push(Node {
                    endpoint: MatrixEndpoint {
                        id,
                        namespace: None,
                        addresses: Some(addresses.clone()),
                    },
                    workload: None,
                    addresses: Some(addresses),
                });
            }
        }
        fn view<'a>(cluster: &'a crate::model::Cluster, n: &'a Node) -> (Option<usize>, View<'a>) {
            match (&n.workload, &n.addresses) {
                (Some(i), _) => (Some(*i), View::Workload(&cluster.workloads()[*i])),
                (None, Some(a)) => (None, View::Addresses(a)),
                (None, None) => unreachable!("a node is a workload or addresses"),
            }
        }
        let mut flows = Vec::new();
        for a in &nodes {
            for b in &nodes {
                if a.workload.is_none() && b.workload.is_none() {
                    continue;
                }
                let FlowSides {
                    connections,
                    egress,
                    ingress,
                } = self.flow(view(cluster, a), view(cluster, b));
                if connections.is_empty() {
                    continue;
                }
                flows.push(Flow {
                    from: a.endpoint.id.clone(),
                    to: b.endpoint.id.clone(),
                    connections,
                    egress: egress.into(),
                    ingress: ingress.into(),
                });
            }
        }
        let mut endpoints: Vec<MatrixEndpoint> = nodes.into_iter().map(|n| n.endpoint).collect();
        endpoints.sort_by(|a, b| (a.is_external(), &a.id).cmp(&(b.is_external(), &b.id)));
        endpoints.dedup_by(|a, b| a.id == b.id);
        flows.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        Matrix { endpoints, flows }
    }
}

fn side_summary(s: &FlowSide) -> String {
    if s.enforced_at.is_none() {
        return "outside".to_owned();
    }
    if s.isolated_by.is_empty() {
        return "not isolated".to_owned();
    }
    let rules: Vec<String> = s.opened_by.iter().map(|o| o.rule.to_string()).collect();
    rules.join(", ")
}

impl Matrix {
    /// One line per flow: `from => to : connections  [egress: …; ingress: …]`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.flows {
            let _ = writeln!(
                out,
                "{} => {} : {}  [egress: {}; ingress: {}]",
                f.from,
                f.to,
                f.connections,
                side_summary(&f.egress),
                side_summary(&f.ingress)
            );
        }
        out
    }

    /// The matrix as pretty JSON (the serde shape of [`Matrix`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a matrix serializes")
    }

    fn graph(&self) -> DiGraph<String, String> {
        let mut g = DiGraph::new();
        let index: std::collections::BTreeMap<&str, NodeIndex> = self
            .endpoints
            .iter()
            .map(|e| (e.id.as_str(), g.add_node(e.id.clone())))
            .collect();
        for f in &self.flows {
            g.add_edge(
                index[f.from.as_str()],
                index[f.to.as_str()],
                f.connections.to_string(),
            );
        }
        g
    }

    /// A Graphviz digraph: one node per endpoint (external ones as boxes), one edge per flow
    /// labelled with its connections. petgraph writes it and escapes the labels.
    pub fn to_dot(&self) -> String {
        let g = self.graph();
        let external: Vec<bool> = self.endpoints.iter().map(|e| e.is_external()).collect();
        let edge_attrs = |_, _| String::new();
        let node_attrs = |_, (i, _): (NodeIndex, &String)| {
            if external[i.index()] {
                "shape = box ".to_owned()
            } else {
                "shape = ellipse ".to_owned()
            }
        };
        let config = [Config::RankDir(petgraph::dot::RankDir::LR)];
        let dot = Dot::with_attr_getters(&g, &config, &edge_attrs, &node_attrs);
        dot.to_string()
    }

    /// A Mermaid flowchart. Node ids are generated (`n0`, `n1`, …); labels are quoted and the
    /// characters Mermaid would read as markup are written as its entity codes.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let id = |name: &str| {
            self.endpoints
                .iter()
                .position(|e| e.id == name)
                .expect("flows name known endpoints")
        };
        for (i, e) in self.endpoints.iter().enumerate() {
            let (open, close) = if e.is_external() {
                ("[", "]")
            } else {
                ("(", ")")
            };
            let _ = writeln!(out, "  n{i}{open}\"{}\"{close}", mermaid_escape(&e.id));
        }
        for f in &self.flows {
            let _ = writeln!(
                out,
                "  n{} -->|\"{}\"| n{}",
                id(&f.from),
                mermaid_escape(&f.connections.to_string()),
                id(&f.to)
            );
        }
        out
    }
}

/// Mermaid reads `"` as the end of a label, `<`/`>` as HTML and `#…;` as an entity, and
/// `|` ends an edge label; each becomes its numeric entity code (`#35;` style), which Mermaid
/// renders as the character itself.
pub fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '<' | '>' | '#' | '|' | '&' | '`' | '\\' => {
                let _ = write!(out, "#{};", c as u32);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
