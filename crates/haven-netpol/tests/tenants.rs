//! A platform of 50 tenants with the usual tenant policies: the matrix proves tenants are
//! isolated from each other and still reach DNS, and the gateway reaches them. Also keeps the
//! matrix's cost in view (the time is printed, not asserted: the machine is shared).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use haven_model::{Origin, load_objects};
use haven_netpol::objects::load;
use haven_netpol::{Analysis, IpSet};

const TENANTS: usize = 50;

fn platform() -> String {
    let mut y = String::from(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: coredns, image: coredns, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: gateway, labels: {haven.example/role: gateway}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: envoy, namespace: gateway}
spec:
  selector: {matchLabels: {app: envoy}}
  template:
    metadata: {labels: {app: envoy}}
    spec: {containers: [{name: envoy, image: envoy}]}
"#,
    );
    for t in 0..TENANTS {
        let _ = write!(
            y,
            r#"
---
apiVersion: v1
kind: Namespace
metadata: {{name: tenant-{t}, labels: {{haven.example/tenant: tenant-{t}}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: tenant-{t}}}
spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: same-namespace, namespace: tenant-{t}}}
spec:
  podSelector: {{}}
  ingress: [{{from: [{{podSelector: {{}}}}]}}]
  egress: [{{to: [{{podSelector: {{}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: dns, namespace: tenant-{t}}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress:
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}]
    ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: from-gateway, namespace: tenant-{t}}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{haven.example/role: gateway}}}}}}], ports: [{{port: http}}]}}]
"#
        );
        for w in ["web", "api", "worker", "db"] {
            let _ = write!(
                y,
                r#"
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {w}, namespace: tenant-{t}}}
spec:
  selector: {{matchLabels: {{app: {w}}}}}
  template:
    metadata: {{labels: {{app: {w}}}}}
    spec: {{containers: [{{name: {w}, image: {w}, ports: [{{name: http, containerPort: 8080}}]}}]}}
"#
            );
        }
    }
    y
}

#[test]
fn fifty_tenants_are_isolated_from_each_other_and_reach_what_they_need() {
    let text = platform();
    let objects = load_objects(Origin::File("platform.yaml"), &text);
    assert!(objects.errors.is_empty(), "{:?}", objects.errors);
    let mut loaded = load(&objects.objects);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .cluster
        .add_external("internet", IpSet::from_cidr("0.0.0.0/0").unwrap());
    let analysis = Analysis::new(loaded.cluster, loaded.policies);
    let started = std::time::Instant::now();
    let m = analysis.matrix();
    println!(
        "matrix of {} endpoints, {} flows in {:?}",
        m.endpoints.len(),
        m.flows.len(),
        started.elapsed()
    );
    let ns = |id: &str| id.split('/').next().unwrap_or_default().to_owned();
    let mut dns = BTreeSet::new();
    let mut gateway_in = BTreeSet::new();
    for f in &m.flows {
        let (from, to) = (ns(&f.from), ns(&f.to));
        if from.starts_with("tenant-") && to.starts_with("tenant-") {
            assert_eq!(from, to, "{} => {} crosses tenants", f.from, f.to);
        }
        if from.starts_with("tenant-") && to == "kube-system" {
            assert_eq!(f.connections.to_string(), "TCP 53; UDP 53");
            assert_eq!(f.egress.opened_by[0].rule.policy.name, "dns");
            dns.insert(f.from.clone());
        }
        if from == "gateway" && to.starts_with("tenant-") {
            assert!(f.to.contains("/web["), "{}", f.to);
            assert_eq!(f.connections.to_string(), "TCP 8080");
            gateway_in.insert(to);
        }
        assert!(
            !(from.starts_with("tenant-") && f.to == "internet"),
            "{} reaches the internet",
            f.from
        );
    }
    assert_eq!(dns.len(), TENANTS * 4, "every tenant workload reaches DNS");
    assert_eq!(
        gateway_in.len(),
        TENANTS,
        "the gateway reaches every tenant's web"
    );
}
