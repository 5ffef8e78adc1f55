//! The connectivity matrix and its renderings (text, JSON, DOT, Mermaid).

use haven_model::{Origin, load_objects};
use haven_netpol::objects::load;
use haven_netpol::{Analysis, IpSet, Matrix};
use layout::gv::DotParser;
use layout::gv::parser::ast;

const PLATFORM: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
    ports: [{port: 443}]
"#;

fn matrix(external_name: &str) -> Matrix {
    let objects = load_objects(Origin::File("p.yaml"), PLATFORM);
    let mut loaded = load(&objects.objects);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .cluster
        .add_external(external_name, IpSet::from_cidr("0.0.0.0/0").unwrap());
    Analysis::new(loaded.cluster, loaded.policies).matrix()
}

#[test]
fn the_matrix_lists_each_allowed_flow_with_the_rules_that_open_it() {
    let m = matrix("internet");
    assert_eq!(
        m.to_text(),
        "shop/web[Deployment] => internet (0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/1) : TCP 443  [egress: shop/web-egress (egress rule 2); ingress: outside]\n\
         shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432  [egress: shop/web-egress (egress rule 1); ingress: shop/web-to-db (ingress rule 1)]\n"
    );
    // The internet was split where the ipBlock's except cuts it.
    let ids: Vec<&str> = m.endpoints.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    assert!(ids.contains(&"internet (10.0.0.0/8)"));
    // No self flows here: default-deny isolates both directions of both workloads.
    assert!(m.flows.iter().all(|f| !f.is_self()));
}

#[test]
fn json_carries_the_flows_and_their_rules() {
    let m = matrix("internet");
    let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    let flows = v["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 2);
    let db = &flows[1];
    assert_eq!(db["from"], "shop/web[Deployment]");
    assert_eq!(db["to"], "shop/db[StatefulSet]");
    assert_eq!(db["connections"], serde_json::json!({"TCP": ["5432"]}));
    assert_eq!(
        db["ingress"]["opened_by"][0]["rule"]["policy"]["name"],
        "web-to-db"
    );
    assert_eq!(
        db["ingress"]["opened_by"][0]["rule"]["direction"],
        "Ingress"
    );
    assert_eq!(db["ingress"]["isolated_by"].as_array().unwrap().len(), 2);
    assert_eq!(v["endpoints"][2]["addresses"][0], "0.0.0.0/5");
}

/// Names with the characters DOT and Mermaid treat specially survive both formats.
const TRICKY: &str = "the \"internet\" \\ <all> | #1; a&b";

/// Node (id, label) pairs and edge (from, to, label) triples.
type DotLabels = (Vec<(String, String)>, Vec<(String, String, String)>);

fn dot_labels(g: &ast::Graph) -> DotLabels {
    let label = |l: &ast::AttributeList| {
        l.iter()
            .find(|(k, _)| k == "label")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for s in &g.list.list {
        match s {
            ast::Stmt::Node(n) => nodes.push((n.id.name.clone(), label(&n.list))),
            ast::Stmt::Edge(e) => {
                edges.push((e.from.name.clone(), e.to[0].0.name.clone(), label(&e.list)))
            }
            _ => {}
        }
    }
    (nodes, edges)
}

#[test]
fn dot_parses_and_keeps_every_label() {
    let m = matrix(TRICKY);
    let dot = m.to_dot();
    let mut parser = DotParser::new(&dot);
    let g = parser.process().unwrap_or_else(|e| panic!("{e}\n{dot}"));
    let (nodes, edges) = dot_labels(&g);
    let labels: Vec<&str> = nodes.iter().map(|(_, l)| l.as_str()).collect();
    let ids: Vec<&str> = m.endpoints.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(labels, ids, "{dot}");
    assert!(labels.iter().any(|l| l.starts_with(TRICKY)));
    assert_eq!(edges.len(), m.flows.len());
    for (f, (from, to, label)) in m.flows.iter().zip(&edges) {
        let name = |id: &str| nodes.iter().find(|(n, _)| n == id).unwrap().1.clone();
        assert_eq!((name(from), name(to)), (f.from.clone(), f.to.clone()));
        assert_eq!(label, &f.connections.to_string());
    }
}

#[test]
fn mermaid_quotes_every_label_and_escapes_markup() {
    let m = matrix(TRICKY);
    let text = m.to_mermaid();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut nodes = 0;
    let mut edges = 0;
    for line in lines {
        let line = line.trim();
        if let Some((from, rest)) = line.split_once(" -->|\"") {
            let (label, to) = rest.split_once("\"| ").expect("edge label closes");
            assert!(from.starts_with('n') && to.starts_with('n'), "{line}");
            assert!(!label.contains(['"', '|', '<', '>']), "{line}");
            edges += 1;
        } else {
            let open = line.find(['(', '[']).expect("node shape");
            let label = &line[open + 2..line.len() - 2];
            assert!(line[open + 1..].starts_with('"') && line.ends_with(['"', ')', ']']));
            assert!(!label.contains(['"', '|', '<', '>', '\\']), "{line}");
            nodes += 1;
        }
    }
    assert_eq!((nodes, edges), (m.endpoints.len(), m.flows.len()));
    assert!(
        text.contains("the #34;internet#34; #92; #60;all#62; #124; #35;1; a#38;b"),
        "{text}"
    );
}
