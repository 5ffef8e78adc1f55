//! The evaluator against the Kubernetes NetworkPolicy semantics, one rule of the API at a time.

use haven_model::{Origin, load_objects};
use haven_netpol::objects::load;
use haven_netpol::{Analysis, Endpoint, IpSet, PortQuery, Protocol};

/// Two namespaces with a web and a db workload each, plus the given policies.
fn analysis(policies: &str) -> Analysis {
    analysis_with(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: blue}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: red}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: web
        image: web
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090, protocol: UDP}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: db, ports: [{name: pg, containerPort: 5432}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: other}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: other}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: db}]
"#,
        policies,
    )
}

fn analysis_with(objects: &str, policies: &str) -> Analysis {
    let text = format!("{objects}\n---\n{policies}");
    let loaded_objects = load_objects(Origin::File("test.yaml"), &text);
    assert!(
        loaded_objects.errors.is_empty(),
        "{:?}",
        loaded_objects.errors
    );
    let mut loaded = load(&loaded_objects.objects);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .cluster
        .add_external("internet", IpSet::from_cidr("0.0.0.0/0").unwrap());
    loaded
        .cluster
        .add_external("api-server", IpSet::parse("10.96.0.1").unwrap());
    loaded
        .cluster
        .add_external("v6-world", IpSet::from_cidr("::/0").unwrap());
    Analysis::new(loaded.cluster, loaded.policies)
}

fn ep(a: &Analysis, name: &str) -> Endpoint {
    let c = a.cluster();
    match name.split_once('/') {
        Some((ns, n)) => c.find_workload(ns, n),
        None => c.find_external(name),
    }
    .unwrap_or_else(|| panic!("no endpoint {name}"))
}

fn allowed(a: &Analysis, from: &str, to: &str, proto: Protocol, port: u16) -> bool {
    a.check(ep(a, from), ep(a, to), proto, PortQuery::Number(port))
        .unwrap()
        .allowed
}

const TCP: Protocol = Protocol::Tcp;

#[test]
fn without_policies_everything_is_allowed() {
    let a = analysis("");
    assert!(allowed(&a, "shop/web", "other/db", TCP, 1234));
    assert!(allowed(&a, "internet", "shop/db", Protocol::Udp, 53));
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "shop/db"),
            TCP,
            PortQuery::Number(5432),
        )
        .unwrap();
    assert!(v.egress.isolated_by.is_empty() && v.ingress.isolated_by.is_empty());
    assert!(v.to_string().contains("not isolated"), "{v}");
}

const DENY_ALL_INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: shop}
spec:
  podSelector: {}
"#;

#[test]
fn a_selected_pod_is_isolated_and_others_are_not() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
"#,
    );
    assert!(!allowed(&a, "shop/web", "shop/db", TCP, 5432));
    assert!(
        allowed(&a, "shop/db", "shop/web", TCP, 8080),
        "web is not selected"
    );
    assert!(allowed(&a, "other/web", "other/db", TCP, 1));
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "shop/db"),
            TCP,
            PortQuery::Number(5432),
        )
        .unwrap();
    assert_eq!(v.ingress.isolated_by[0].to_string(), "shop/db-only");
    assert!(
        v.to_string()
            .contains("ingress at shop/db[StatefulSet]: denied: isolated by shop/db-only"),
        "{v}"
    );
}

#[test]
fn egress_and_ingress_must_both_allow() {
    let allow_ingress = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web-to-db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
"#;
    let deny_egress = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
"#;
    let a = analysis(allow_ingress);
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 5432));
    assert!(!allowed(&a, "shop/web", "shop/db", TCP, 5433));
    let a = analysis(&format!("{allow_ingress}\n---\n{deny_egress}"));
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "shop/db"),
            TCP,
            PortQuery::Number(5432),
        )
        .unwrap();
    assert!(!v.allowed);
    assert!(v.ingress.allowed && !v.egress.allowed);
    assert_eq!(
        v.ingress.allowed_by[0].to_string(),
        "shop/allow-web-to-db (ingress rule 1)"
    );
    assert_eq!(v.egress.isolated_by[0].to_string(), "shop/deny-egress");
}

#[test]
fn the_union_of_policies_allows_and_every_allowing_rule_is_named() {
    let a = analysis(&format!(
        "{DENY_ALL_INGRESS}\n---\n{}",
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {tier: front}}}]
    ports: [{port: 5000, endPort: 6000}]
  - from: [{namespaceSelector: {matchLabels: {team: red}}}]
"#
    ));
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "shop/db"),
            TCP,
            PortQuery::Number(5432),
        )
        .unwrap();
    assert!(v.allowed);
    let isolating: Vec<String> = v
        .ingress
        .isolated_by
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(isolating, ["shop/a", "shop/b", "shop/deny-ingress"]);
    let rules: Vec<String> = v
        .ingress
        .allowed_by
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        rules,
        ["shop/a (ingress rule 1)", "shop/b (ingress rule 1)"]
    );
    // endPort is inclusive; the range rule alone admits 6000, not 6001.
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 6000));
    assert!(!allowed(&a, "shop/web", "shop/db", TCP, 6001));
    // Another namespace by label, every port.
    assert!(allowed(&a, "other/web", "shop/db", TCP, 1));
    assert!(
        !allowed(&a, "other/web", "shop/web", TCP, 8080),
        "deny-ingress"
    );
}

#[test]
fn namespace_and_pod_selectors_in_one_peer_are_anded() {
    let and = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
      podSelector: {matchLabels: {app: web}}
"#;
    let a = analysis(and);
    assert!(allowed(&a, "other/web", "shop/db", TCP, 5432));
    assert!(!allowed(&a, "other/db", "shop/db", TCP, 5432));
    assert!(
        !allowed(&a, "shop/web", "shop/db", TCP, 5432),
        "not in namespace other"
    );
    // Two list entries are ORed.
    let or = and.replace(
        "      podSelector: {matchLabels: {app: web}}",
        "    - podSelector: {matchLabels: {app: web}}",
    );
    let a = analysis(&or);
    assert!(allowed(&a, "other/db", "shop/db", TCP, 5432));
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 5432));
    assert!(!allowed(&a, "internet", "shop/db", TCP, 5432));
}

#[test]
fn namespace_selector_alone_selects_every_pod_of_matching_namespaces() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions: [{key: team, operator: NotIn, values: [blue]}]
"#,
    );
    assert!(allowed(&a, "other/db", "shop/web", TCP, 1));
    assert!(
        !allowed(&a, "shop/db", "shop/web", TCP, 1),
        "shop is team blue"
    );
    assert!(
        !allowed(&a, "internet", "shop/web", TCP, 1),
        "namespaceSelector never matches outside"
    );
}

#[test]
fn match_expressions_exists_and_does_not_exist() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}
  ingress:
  - from: [{podSelector: {matchExpressions: [{key: tier, operator: Exists}]}}]
"#,
    );
    // db (no tier label) is isolated and admits pods with a tier label: web.
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 5432));
    assert!(
        !allowed(&a, "other/web", "shop/db", TCP, 5432),
        "own namespace only"
    );
    // web has a tier label: not selected, open.
    assert!(allowed(&a, "shop/db", "shop/web", TCP, 8080));
}

#[test]
fn ip_blocks_with_except_split_external_endpoints() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.96.0.0/12]}}]
    ports: [{port: 443}]
  - to: [{ipBlock: {cidr: 10.96.0.1/32}}]
    ports: [{port: 443}]
  - to: [{ipBlock: {cidr: "fd00::/8"}}]
"#,
    );
    assert!(allowed(&a, "shop/web", "api-server", TCP, 443));
    assert!(!allowed(&a, "shop/web", "api-server", TCP, 6443));
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "internet"),
            TCP,
            PortQuery::Number(443),
        )
        .unwrap();
    assert!(!v.allowed, "only part of the internet is allowed");
    let part = v.allowed_addresses.clone().expect("partly allowed");
    assert!(part.contains("10.1.2.3".parse().unwrap()));
    assert!(part.contains("10.96.0.1".parse().unwrap()));
    assert!(!part.contains("10.96.0.2".parse().unwrap()), "excepted");
    assert!(!part.contains("8.8.8.8".parse().unwrap()));
    assert!(v.to_string().contains("partly allowed"), "{v}");
    // IPv6: an ipBlock of fd00::/8 does not cover ::/0, so not every address is allowed.
    let v = a
        .check(
            ep(&a, "shop/web"),
            ep(&a, "v6-world"),
            Protocol::Sctp,
            PortQuery::Number(9),
        )
        .unwrap();
    assert!(!v.allowed);
    assert_eq!(v.allowed_addresses.unwrap().to_string(), "fd00::/8");
    // ipBlock never matches pods (pod addresses are not modelled).
    assert!(!allowed(&a, "shop/web", "shop/db", TCP, 443));
}

#[test]
fn named_ports_resolve_on_the_destination_with_their_protocol() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: http}, {port: metrics}]
"#,
    );
    assert!(allowed(&a, "other/web", "shop/web", TCP, 8080));
    assert!(
        !allowed(&a, "other/web", "shop/web", TCP, 9090),
        "metrics is a UDP port"
    );
    assert!(
        !allowed(&a, "other/web", "shop/web", Protocol::Udp, 9090),
        "rule asks TCP"
    );
    assert!(
        !allowed(&a, "other/web", "shop/db", TCP, 8080),
        "db has no port named http"
    );
    let v = a
        .check(
            ep(&a, "other/web"),
            ep(&a, "shop/web"),
            TCP,
            PortQuery::Named("http".into()),
        )
        .unwrap();
    assert!(v.allowed && v.port == 8080);
    assert!(
        a.check(
            ep(&a, "other/web"),
            ep(&a, "shop/db"),
            TCP,
            PortQuery::Named("http".into())
        )
        .is_err()
    );
}

#[test]
fn named_ports_in_egress_resolve_on_the_destination_pod() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: other}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: pg}]}]
"#,
    );
    assert!(allowed(&a, "other/web", "shop/db", TCP, 5432));
    assert!(!allowed(&a, "other/web", "shop/web", TCP, 5432));
    assert!(
        !allowed(&a, "other/web", "internet", TCP, 5432),
        "named ports match no address"
    );
}

#[test]
fn protocols_default_to_tcp_and_are_kept_apart() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports: [{port: 53, protocol: UDP}, {port: 53}]
  - ports: [{protocol: SCTP}]
"#,
    );
    assert!(allowed(&a, "shop/web", "internet", Protocol::Udp, 53));
    assert!(allowed(&a, "shop/web", "internet", TCP, 53));
    assert!(!allowed(&a, "shop/web", "internet", TCP, 54));
    assert!(!allowed(&a, "shop/web", "internet", Protocol::Udp, 54));
    assert!(allowed(&a, "shop/web", "internet", Protocol::Sctp, 60000));
}

#[test]
fn an_egress_only_policy_leaves_ingress_open_and_empty_egress_denies_all() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress]
"#,
    );
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 5432));
    assert!(!allowed(&a, "shop/db", "shop/web", TCP, 8080));
    assert!(!allowed(&a, "shop/db", "internet", TCP, 443));
    assert!(allowed(&a, "internet", "shop/db", TCP, 5432));
}

#[test]
fn external_to_external_and_unknown_endpoints_are_errors() {
    let a = analysis("");
    assert!(
        a.check(
            ep(&a, "internet"),
            ep(&a, "api-server"),
            TCP,
            PortQuery::Number(1)
        )
        .is_err()
    );
    assert!(
        a.check(
            Endpoint::Workload(99),
            ep(&a, "internet"),
            TCP,
            PortQuery::Number(1)
        )
        .is_err()
    );
    assert!(
        a.check(
            ep(&a, "shop/web"),
            ep(&a, "internet"),
            TCP,
            PortQuery::Number(0)
        )
        .is_err()
    );
}

#[test]
fn bad_policies_are_reported_with_file_line_and_field_and_the_rest_is_read() {
    let text = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/33
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: good, namespace: shop}
spec:
  podSelector: {}
"#;
    let objects = load_objects(Origin::File("p.yaml"), text);
    let loaded = load(&objects.objects);
    assert_eq!(loaded.policies.len(), 1);
    assert_eq!(loaded.policies[0].id.name, "good");
    let e = &loaded.errors[0];
    assert_eq!(e.file, "p.yaml");
    assert_eq!(e.line, 10);
    assert_eq!(
        e.field.as_deref(),
        Some("spec.ingress[0].from[0].ipBlock.cidr")
    );
    assert!(
        e.message.contains("shop/bad") && e.message.contains("10.0.0.0/33"),
        "{}",
        e.message
    );
}

#[test]
fn a_pod_selector_alone_selects_pods_of_the_policys_own_namespace_only() {
    let a = analysis(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"#,
    );
    assert!(allowed(&a, "shop/web", "shop/db", TCP, 5432));
    // other/web carries the same labels, in another namespace.
    assert!(!allowed(&a, "other/web", "shop/db", TCP, 5432));
}
