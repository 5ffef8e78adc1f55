//! The flow proof of `haven plus validate` (issue 20, items 1 and 2): every provider and every
//! alternative renders a tree whose NetworkPolicies allow every declared flow and nothing
//! between tenants, and each seeded defect is caught with a message naming the objects.

use std::path::PathBuf;

use haven_platform::charts::{Check, Problem, tree_objects};
use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, SecretsBackend,
    Tenant,
};
use haven_platform::proofs::{Landscape, flows};
use haven_platform::render::Tree;
use haven_platform::validate::Severity;
use haven_platform::{Catalogue, PlatformConfig, Provider, render};

fn tenant(name: &str) -> Tenant {
    Tenant {
        name: name.to_owned(),
        group: format!("{name}-developers"),
        repo: None,
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    }
}

fn config(provider: Provider) -> PlatformConfig {
    let mut c = PlatformConfig::new("haven", "example.nl", provider);
    c.tenants.push(tenant("zaken"));
    c.tenants.push(tenant("meldingen"));
    c
}

fn tree(config: &PlatformConfig) -> Tree {
    render(config, &Catalogue::builtin().unwrap()).files
}

fn prove(files: &Tree) -> Vec<Problem> {
    let objects = tree_objects(files);
    let landscape = Landscape::of_tree(&objects);
    let found = flows::prove(&landscape, &Catalogue::builtin().unwrap());
    assert!(found.iter().all(|p| p.check == Check::Flows));
    found
}

fn errors(found: &[Problem]) -> Vec<String> {
    found
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

fn warnings(found: &[Problem]) -> Vec<String> {
    found
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .map(ToString::to_string)
        .collect()
}

fn alternatives() -> Vec<(String, PlatformConfig)> {
    let mut out = Vec::new();
    for provider in Provider::ALL {
        out.push((provider.name().to_owned(), config(provider)));
    }
    for ingress in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut c = config(Provider::Generic);
        c.capabilities.ingress.implementation = ingress;
        out.push((format!("{ingress:?}"), c));
    }
    let mut c = config(Provider::Generic);
    c.capabilities.admission.engine = AdmissionEngine::Kyverno;
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    c.capabilities.identity.provider = IdentityProvider::Zitadel;
    out.push(("kyverno+sealed+kps+zitadel".into(), c.clone()));
    c.capabilities.identity.provider = IdentityProvider::Dex;
    out.push(("dex".into(), c));
    out
}

#[test]
fn every_provider_and_alternative_allows_every_declared_flow() {
    for (label, c) in alternatives() {
        let found = prove(&tree(&c));
        let e = errors(&found);
        assert!(
            e.is_empty(),
            "{label}: {} errors:\n{}",
            e.len(),
            e.join("\n")
        );
        // The rendered policies open nothing undeclared: no warning either.
        let w = warnings(&found);
        assert!(
            w.is_empty(),
            "{label}: {} warnings:\n{}",
            w.len(),
            w.join("\n")
        );
    }
}

/// Removes one document (by kind and name) from a file of the tree.
fn remove_doc(files: &mut Tree, file: &str, name: &str) {
    let path = PathBuf::from(file);
    let text = &files[&path];
    let docs: Vec<&str> = text.split("\n---\n").collect();
    let kept: Vec<&str> = docs
        .iter()
        .copied()
        .filter(|d| !d.contains(&format!("name: {name}\n")))
        .collect();
    assert_eq!(kept.len() + 1, docs.len(), "{name} in {file}:\n{text}");
    files.insert(path, kept.join("\n---\n"));
}

fn add_doc(files: &mut Tree, file: &str, doc: &str) {
    let path = PathBuf::from(file);
    let text = files.get(&path).cloned().unwrap_or_default();
    files.insert(path, format!("{text}\n---\n{doc}"));
}

#[test]
fn a_removed_allow_policy_is_an_error_naming_it() {
    let mut files = tree(&config(Provider::Generic));
    assert!(errors(&prove(&files)).is_empty());
    remove_doc(
        &mut files,
        "infrastructure/loki/network-policies.yaml",
        "allow-from-alloy",
    );
    let e = errors(&prove(&files));
    assert_eq!(e.len(), 1, "{e:#?}");
    let m = &e[0];
    for part in [
        "declared flow alloy -> loki",
        "loki: network.ingressFrom",
        "alloy/alloy[HelmRelease] -> loki/loki[HelmRelease] on all ports",
        "loki/default-deny and none of their rules allows it",
        "missing: NetworkPolicy loki/allow-from-alloy",
        "NetworkPolicy/loki/default-deny",
        "infrastructure/loki/network-policies.yaml:",
    ] {
        assert!(m.contains(part), "`{part}` not in: {m}");
    }
}

#[test]
fn a_removed_dns_policy_is_an_error_per_flow_naming_port_53() {
    let mut files = tree(&config(Provider::Generic));
    remove_doc(
        &mut files,
        "tenants/zaken/network-policies.yaml",
        "allow-dns",
    );
    let e = errors(&prove(&files));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].contains("declared flow tenant zaken -> cluster DNS on TCP 53; UDP 53")
            && e[0].contains("egress at zaken/*[tenant workloads]: denied")
            && e[0].contains("missing: NetworkPolicy zaken/allow-dns"),
        "{}",
        e[0]
    );
}

const OPEN_443: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-https-anywhere
  namespace: loki
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0}
    ports:
    - {protocol: TCP, port: 443}
";

#[test]
fn a_flow_opened_to_the_world_on_443_is_a_warning_naming_the_policy() {
    let mut files = tree(&config(Provider::Generic));
    assert!(warnings(&prove(&files)).is_empty());
    add_doc(
        &mut files,
        "infrastructure/loki/network-policies.yaml",
        OPEN_443,
    );
    let found = prove(&files);
    assert!(errors(&found).is_empty(), "{:#?}", errors(&found));
    let w = warnings(&found);
    assert!(!w.is_empty());
    // Both the internet and the private networks are opened, by the one policy.
    for (i, to) in ["internet", "private-networks"].iter().enumerate() {
        let m = w
            .iter()
            .find(|m| m.contains(&format!("loki/loki[HelmRelease] -> {to} on TCP 443")))
            .unwrap_or_else(|| panic!("no warning for {to} ({i}): {w:#?}"));
        assert!(
            m.contains("NetworkPolicy/loki/allow-https-anywhere")
                && m.contains("leaves the cluster")
                && m.contains("loki/allow-https-anywhere (egress rule 1)"),
            "{m}"
        );
    }
    assert!(
        w.iter().all(|m| m.contains("allow-https-anywhere")),
        "{w:#?}"
    );
}

#[test]
fn a_flow_between_tenants_is_an_error() {
    let mut files = tree(&config(Provider::Generic));
    add_doc(
        &mut files,
        "tenants/zaken/network-policies.yaml",
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-meldingen, namespace: zaken}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: meldingen}}}]}]
",
    );
    add_doc(
        &mut files,
        "tenants/meldingen/network-policies.yaml",
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-to-zaken, namespace: meldingen}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {haven.commonground.nl/tenant: zaken}}}], ports: [{port: 8080}]}]
",
    );
    let e = errors(&prove(&files));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].contains("tenant meldingen can reach tenant zaken")
            && e[0].contains("on TCP 8080")
            && e[0].contains("meldingen/allow-to-zaken (egress rule 1)")
            && e[0].contains("zaken/allow-from-meldingen (ingress rule 1)"),
        "{}",
        e[0]
    );
}

#[test]
fn a_removed_default_deny_is_a_warning_naming_the_namespace() {
    let mut files = tree(&config(Provider::Generic));
    // Every allow policy isolates too: only a namespace without any policy is open.
    files.insert(
        PathBuf::from("infrastructure/grafana/network-policies.yaml"),
        String::new(),
    );
    let found = prove(&files);
    let w = warnings(&found);
    assert!(
        w.iter().any(|m| m.contains(
            "grafana/grafana[HelmRelease] is not isolated for ingress: no NetworkPolicy of namespace grafana"
        ) && m.contains("Namespace/grafana")),
        "{w:#?}"
    );
}

#[test]
fn a_tree_without_the_platform_is_not_proved() {
    let objects = haven_model::load_objects(
        haven_model::Origin::File("app.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: a}\nspec: {podSelector: {}, egress: [{}]}\n",
    )
    .objects;
    let found = flows::prove(
        &Landscape::of_tree(&objects),
        &Catalogue::builtin().unwrap(),
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_matrix_shows_declared_flows_and_reads_as_json_and_mermaid() {
    let files = tree(&config(Provider::Generic));
    let objects = tree_objects(&files);
    let landscape = Landscape::of_tree(&objects);
    let report = flows::analyse(&landscape, &Catalogue::builtin().unwrap(), true);
    let text = report.matrix.to_text();
    assert!(
        text.contains(
            "zaken/*[tenant workloads] => kube-system/coredns[cluster DNS] : TCP 53; UDP 53"
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.starts_with("zaken/") && l.contains("=> meldingen/"))
            .count()
            == 0
    );
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert!(json["declared"].as_array().unwrap().len() > 20);
    assert!(!json["matrix"]["flows"].as_array().unwrap().is_empty());
    let mermaid = report.matrix.to_mermaid();
    assert!(mermaid.starts_with("flowchart LR\n"));
}

/// With `--charts`, a component's declared ports are checked against its chart's pods: a port
/// no container lists is an error naming the release (the flows towards it would be opened on
/// a port nothing serves), and the chart's workloads replace the release's stand-in.
#[test]
fn a_declared_port_the_charts_pods_do_not_list_is_an_error() {
    let files = tree(&config(Provider::Generic));
    let objects = tree_objects(&files);
    let chart = |port: u16| {
        haven_model::load_objects(
            haven_model::Origin::File("grafana/templates/deployment.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: grafana, namespace: grafana}}\n\
                 spec:\n  selector: {{matchLabels: {{app: grafana}}}}\n  template:\n    metadata: {{labels: {{app: grafana}}}}\n    \
                 spec: {{containers: [{{name: grafana, image: grafana, ports: [{{name: http, containerPort: {port}}}]}}]}}\n"
            ),
        )
        .objects
    };
    let catalogue = Catalogue::builtin().unwrap();
    for (port, expect_error) in [(3000, false), (8080, true)] {
        let rendered = chart(port);
        let mut landscape = Landscape::of_tree(&objects);
        landscape.unseen.remove("grafana");
        landscape.objects.extend(
            rendered
                .iter()
                .map(|object| haven_platform::proofs::Placed {
                    object,
                    component: "grafana",
                }),
        );
        let report = flows::analyse(&landscape, &catalogue, true);
        let e = errors(&report.problems);
        if expect_error {
            assert_eq!(e.len(), 1, "{e:#?}");
            assert!(
                e[0].contains("[grafana] HelmRelease/flux-system/grafana: the catalogue declares that grafana serves TCP 3000")
                    && e[0].contains("they list TCP 8080"),
                "{}",
                e[0]
            );
        } else {
            assert!(e.is_empty(), "{e:#?}");
            assert!(warnings(&report.problems).is_empty());
            let text = report.matrix.to_text();
            // The Gateway's proxies reach the UI; the controller beside them does not.
            assert!(
                text.contains("envoy-gateway-system/envoy-gateway-proxies[gateway proxies] => grafana/grafana[Deployment] : TCP 3000"),
                "{text}"
            );
            assert!(
                !text.contains("envoy-gateway-system/envoy-gateway[HelmRelease] => grafana"),
                "{text}"
            );
        }
    }
}

/// The tree alone cannot see what a chart's own NetworkPolicies add: where the values of a
/// release not rendered turn them on in the namespace that denies, the denial is a warning
/// saying it is not proved.
#[test]
fn a_denial_a_charts_own_policies_might_lift_is_not_proved_on_the_tree_alone() {
    let mut files = tree(&config(Provider::Generic));
    remove_doc(
        &mut files,
        "infrastructure/loki/network-policies.yaml",
        "allow-from-alloy",
    );
    let release = PathBuf::from("infrastructure/loki/release.yaml");
    let text = files[&release].replace(
        "  values:\n",
        "  values:\n    networkPolicy:\n      enabled: true\n",
    );
    assert_ne!(text, files[&release]);
    files.insert(release, text);
    let found = prove(&files);
    assert!(errors(&found).is_empty(), "{:#?}", errors(&found));
    let w = warnings(&found);
    assert!(
        w.iter().any(|m| m.contains("declared flow alloy -> loki")
            && m.contains(
                "not proved: the values of loki turn on its chart's own NetworkPolicies"
            )),
        "{w:#?}"
    );
}

/// Operator review 2, finding 6: `allow-gateway` selects the Gateway's proxies only. Evaluated
/// on each implementation's rendered policies with a model of its pods as upstream labels them:
/// the proxies take traffic from anywhere and reach every namespace; the controller beside
/// them (istiod's plaintext xDS 15010 and debug 15014, Envoy Gateway's xDS 18000) is closed to
/// other namespaces and the outside, keeps its webhook, serves xDS to its own proxies, and
/// reaches no other namespace.
#[test]
fn allow_gateway_opens_the_proxies_not_the_controller() {
    use haven_netpol::{Analysis, Endpoint, IpSet, PortQuery, Protocol, Workload, objects};
    let pod = |ns: &str, name: &str, labels: &[(&str, &str)]| Workload {
        namespace: ns.into(),
        name: name.into(),
        kind: "Pod".into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ports: Vec::new(),
    };
    /// One implementation's pods, as upstream labels them.
    struct Case {
        implementation: IngressImplementation,
        ns: &'static str,
        /// The controller's labels (none: the controller is the proxy).
        controller: Vec<(&'static str, &'static str)>,
        /// Ports of the controller that must not be open to the world.
        closed: Vec<u16>,
        webhook: Option<u16>,
        proxy: Vec<(&'static str, &'static str)>,
        /// The controller port the proxies take xDS from.
        xds: Option<u16>,
    }
    let cases = [
        Case {
            implementation: IngressImplementation::EnvoyGateway,
            ns: "envoy-gateway-system",
            controller: vec![
                ("control-plane", "envoy-gateway"),
                ("app.kubernetes.io/name", "gateway-helm"),
            ],
            closed: vec![18000, 18001, 18002, 19001],
            webhook: Some(9443),
            proxy: vec![
                ("app.kubernetes.io/name", "envoy"),
                ("app.kubernetes.io/component", "proxy"),
                ("gateway.envoyproxy.io/owning-gateway-name", "platform"),
            ],
            xds: Some(18000),
        },
        Case {
            implementation: IngressImplementation::Istio,
            ns: "istio-system",
            controller: vec![("app", "istiod"), ("istio", "pilot")],
            closed: vec![15010, 15012, 15014],
            webhook: Some(15017),
            proxy: vec![
                ("gateway.networking.k8s.io/gateway-name", "platform"),
                ("gateway.istio.io/managed", "istio.io-gateway-controller"),
            ],
            xds: Some(15012),
        },
        Case {
            implementation: IngressImplementation::Traefik,
            ns: "traefik",
            // Traefik's controller is its proxy: no other pod in its namespace.
            controller: vec![],
            closed: vec![],
            webhook: None,
            proxy: vec![
                ("app.kubernetes.io/name", "traefik"),
                ("app.kubernetes.io/instance", "traefik-traefik"),
            ],
            xds: None,
        },
    ];
    for Case {
        implementation,
        ns,
        controller: controller_labels,
        closed,
        webhook,
        proxy: proxy_labels,
        xds,
    } in cases
    {
        let mut c = config(Provider::Generic);
        c.capabilities.ingress.implementation = implementation;
        let files = tree(&c);
        let objects_ = tree_objects(&files);
        let loaded = objects::load(objects_.iter());
        let mut cluster = loaded.cluster;
        let proxy = cluster.add_workload(pod(ns, "proxy", &proxy_labels));
        let controller = (!controller_labels.is_empty())
            .then(|| cluster.add_workload(pod(ns, "controller", &controller_labels)));
        // A pod in a namespace without policies: anything a tenant (or a platform pod with
        // broad egress) could send from.
        let elsewhere = cluster.add_workload(pod("somewhere", "client", &[]));
        let tenant_pod = cluster.add_workload(pod("zaken", "web", &[("app", "web")]));
        let outside = cluster.add_external("outside", IpSet::from_cidr("203.0.113.7/32").unwrap());
        let analysis = Analysis::new(cluster, loaded.policies);
        let allowed = |from: Endpoint, to: Endpoint, port: u16| {
            analysis
                .check(from, to, Protocol::Tcp, PortQuery::Number(port))
                .unwrap()
                .allowed
        };
        let label = format!("{implementation:?}");
        // The proxies: from anywhere, to the tenants' pods.
        for from in [outside, elsewhere] {
            assert!(
                allowed(from, proxy, 443),
                "{label}: clients reach the proxy"
            );
            assert!(allowed(from, proxy, 10443), "{label}: any listener port");
        }
        assert!(
            allowed(proxy, tenant_pod, 8080),
            "{label}: proxy to a tenant"
        );
        let Some(controller) = controller else {
            continue;
        };
        for port in closed {
            for from in [outside, elsewhere] {
                assert!(
                    !allowed(from, controller, port),
                    "{label}: the controller's port {port} is open to {}",
                    analysis.cluster().name_of(from)
                );
            }
        }
        if let Some(w) = webhook {
            assert!(allowed(outside, controller, w), "{label}: its webhook");
        }
        if let Some(x) = xds {
            assert!(allowed(proxy, controller, x), "{label}: xDS to its proxies");
        }
        assert!(
            !allowed(controller, tenant_pod, 8080),
            "{label}: the controller reaches a tenant's pods"
        );
        assert!(
            !allowed(controller, elsewhere, 8080),
            "{label}: the controller reaches every namespace"
        );
    }
}
