//! Issue #21 item 6: the security components (Trivy Operator, Falco with Falcosidekick,
//! OpenBao) each in a namespace whose Pod Security level and NetworkPolicies let them run, with
//! the exemptions as narrow as the catalogue documents them; for every provider and every
//! alternative. What the charts and the operator-spawned pods do under those rules is proved
//! with the real charts in `haven-cli/tests/plus_charts.rs` (`validate --charts`).

use std::collections::BTreeMap;

use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, SecretsBackend,
};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

/// Every provider (default choices) and every alternative.
fn all_configs() -> Vec<(String, PlatformConfig)> {
    let mut out = Vec::new();
    for provider in Provider::ALL {
        let c = PlatformConfig::new("haven", "example.nl", provider);
        out.push((provider.name().to_owned(), c));
    }
    for ingress in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut c = PlatformConfig::new("alt", "example.nl", Provider::Cyso);
        c.capabilities.ingress.implementation = ingress;
        out.push((format!("{ingress:?}"), c));
    }
    let mut c = PlatformConfig::new("alt", "example.nl", Provider::Generic);
    c.capabilities.admission.engine = AdmissionEngine::Kyverno;
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    c.capabilities.identity.provider = IdentityProvider::Zitadel;
    out.push(("kyverno+sealed+kps+zitadel".to_owned(), c));
    out
}

/// The rendered documents, by `Kind/namespace/name`.
fn documents(config: &PlatformConfig, catalogue: &Catalogue) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for text in render(config, catalogue).files.values() {
        for d in haven_model::parse_stream("t", text) {
            let v = d.unwrap().value;
            let key = format!(
                "{}/{}/{}",
                v["kind"].as_str().unwrap_or_default(),
                v["metadata"]["namespace"].as_str().unwrap_or_default(),
                v["metadata"]["name"].as_str().unwrap_or_default()
            );
            out.insert(key, v);
        }
    }
    out
}

fn level(docs: &BTreeMap<String, Value>, ns: &str) -> String {
    docs[&format!("Namespace//{ns}")]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The names of the NetworkPolicies of a namespace.
fn policies(docs: &BTreeMap<String, Value>, ns: &str) -> Vec<String> {
    docs.values()
        .filter(|v| v["kind"] == "NetworkPolicy" && v["metadata"]["namespace"] == ns)
        .map(|v| v["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn values<'d>(docs: &'d BTreeMap<String, Value>, release: &str) -> &'d Value {
    &docs[&format!("HelmRelease/flux-system/{release}")]["spec"]["values"]
}

#[test]
fn security_components_run_under_their_namespaces_rules_on_every_platform() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in all_configs() {
        let docs = documents(&config, &catalogue);
        let at = label.as_str();

        // Trivy Operator: restricted, and so are the scan Jobs it spawns in its namespace; the
        // node collector (host PID, hostPath) is off rather than given a privileged namespace.
        assert_eq!(level(&docs, "trivy-system"), "restricted", "{at}");
        let trivy_ns = policies(&docs, "trivy-system");
        for p in [
            "default-deny",
            "allow-dns",
            "allow-internet",
            "allow-kube-api",
        ] {
            assert!(
                trivy_ns.iter().any(|n| n == p),
                "{at}: trivy-system lacks {p}: {trivy_ns:?}"
            );
        }
        assert!(
            !trivy_ns.iter().any(|n| n == "allow-same-namespace"),
            "{at}: trivy-system needs no flow between its pods: {trivy_ns:?}"
        );
        let trivy = values(&docs, "trivy-operator");
        let scan = &trivy["trivyOperator"]["scanJobPodTemplatePodSecurityContext"];
        assert_eq!(scan["runAsNonRoot"], true, "{at}: {scan}");
        assert_eq!(scan["seccompProfile"]["type"], "RuntimeDefault", "{at}");
        assert_eq!(
            trivy["operator"]["infraAssessmentScannerEnabled"], false,
            "{at}: the node collector would be refused in trivy-system"
        );
        let internet = &docs["NetworkPolicy/trivy-system/allow-internet"]["spec"]["egress"][0];
        assert!(
            internet["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["port"] == 443),
            "{at}: the scan Jobs download the DB over 443: {internet}"
        );

        // Falco: privileged for its DaemonSet only (the catalogue's exemption); its rules come
        // from ghcr.io, its events go to Falcosidekick (same namespace) and on to Loki.
        assert_eq!(level(&docs, "falco"), "privileged", "{at}");
        let falco_ns = policies(&docs, "falco");
        for p in [
            "default-deny",
            "allow-dns",
            "allow-internet",
            "allow-same-namespace",
            "allow-to-loki",
        ] {
            assert!(
                falco_ns.iter().any(|n| n == p),
                "{at}: falco lacks {p}: {falco_ns:?}"
            );
        }
        let sidekick = &values(&docs, "falco")["falcosidekick"];
        assert_eq!(sidekick["podSecurityContext"]["runAsNonRoot"], true, "{at}");
        assert_eq!(
            sidekick["securityContext"]["capabilities"]["drop"][0], "ALL",
            "{at}"
        );
        let falco = catalogue.get("falco").unwrap();
        assert_eq!(falco.pod_security_exempt, ["DaemonSet/falco"]);

        // OpenBao (where it is the secret store): restricted; raft between its own pods, the API
        // (8200 only) from External Secrets, the API server for TokenReview; HA as an operator
        // needs it.
        if config.capabilities.secrets.backend == SecretsBackend::Openbao {
            assert_eq!(level(&docs, "openbao"), "restricted", "{at}");
            let ns = policies(&docs, "openbao");
            for p in [
                "default-deny",
                "allow-same-namespace",
                "allow-kube-api",
                "allow-from-external-secrets",
            ] {
                assert!(ns.iter().any(|n| n == p), "{at}: openbao lacks {p}: {ns:?}");
            }
            let from_eso = &docs["NetworkPolicy/openbao/allow-from-external-secrets"]["spec"]["ingress"]
                [0]["ports"];
            assert_eq!(from_eso[0]["port"], 8200, "{at}: {from_eso}");
            assert_eq!(from_eso.as_array().unwrap().len(), 1, "{at}");
            let server = &values(&docs, "openbao")["server"];
            assert_eq!(server["ha"]["replicas"], 3, "{at}");
            assert_eq!(server["ha"]["raft"]["enabled"], true, "{at}");
            assert_eq!(
                server["ha"]["disruptionBudget"]["maxUnavailable"], 1,
                "{at}"
            );
            let live = server["livenessProbe"]["path"].as_str().unwrap();
            assert!(
                live.contains("sealedcode=204") && live.contains("standbyok=true"),
                "{at}: a sealed or standby pod must not fail liveness: {live}"
            );
            assert_eq!(
                server["topologySpreadConstraints"][0]["whenUnsatisfiable"], "ScheduleAnyway",
                "{at}"
            );
        } else {
            assert!(!docs.contains_key("Namespace//openbao"), "{at}");
        }
    }
}

/// The catalogue's exemptions and spawned pods are what docs/plus.md's table says: only falco
/// runs above restricted among the security components, and Trivy declares both pod kinds its
/// operator makes (the node collector switched off).
#[test]
fn the_catalogue_declares_the_operator_spawned_pods_and_the_exemptions() {
    let catalogue = Catalogue::builtin().unwrap();
    let trivy = catalogue.get("trivy-operator").unwrap();
    let spawned: Vec<&str> = trivy.spawns.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(spawned, ["scan-vulnerabilityreport", "node-collector"]);
    for c in &catalogue.components {
        let above = c.pod_security != haven_platform::catalogue::PodSecurity::Restricted;
        assert!(
            c.pod_security_exempt.is_empty() || above,
            "{}: podSecurityExempt on a restricted namespace",
            c.name
        );
    }
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/plus.md"),
    )
    .unwrap();
    for row in [
        "| trivy-operator | trivy-system | restricted |",
        "| falco (DaemonSet) | falco | privileged |",
        "| falco (Falcosidekick) | falco | restricted |",
        "| openbao | openbao | restricted |",
    ] {
        assert!(docs.contains(row), "docs/plus.md lacks the row {row}");
    }
}

/// OpenBao's pods go one per node: on kind (usually one node) the render says what to do, on
/// the other providers nothing; with one replica, nothing either.
#[test]
fn a_one_node_kind_cluster_is_told_about_openbaos_replicas() {
    let catalogue = Catalogue::builtin().unwrap();
    let note = |config: &PlatformConfig| {
        render(config, &catalogue)
            .notes
            .iter()
            .any(|n| n.contains("openbao runs 3 replicas, one per node"))
    };
    assert!(note(&PlatformConfig::new(
        "h",
        "example.nl",
        Provider::Kind
    )));
    assert!(!note(&PlatformConfig::new(
        "h",
        "example.nl",
        Provider::Previder
    )));
    let mut one = PlatformConfig::new("h", "example.nl", Provider::Kind);
    one.components.insert(
        "openbao".to_owned(),
        serde_json::from_value(serde_json::json!({"values": {"server": {"ha": {"replicas": 1}}}}))
            .unwrap(),
    );
    let notes = render(&one, &catalogue).notes;
    assert!(
        !notes.iter().any(|n| n.contains("openbao runs")),
        "{notes:?}"
    );
}

/// Garage's chart gives Garage a ClusterRole to patch every CRD of the cluster (no value narrows
/// it); the HelmRelease's post-renderer leaves get and patch on Garage's own CRD only, and the
/// create a server-side apply needs. Applied as helm-controller applies it, to the ClusterRole
/// as charts 0.8.0 to 0.10 render it by default (`templates/clusterrole.yaml`, restated here:
/// the chart is AGPL-3.0 and not vendored).
#[test]
fn garage_may_patch_its_own_crd_only() {
    use haven_model::{Origin, load_objects};
    use haven_rbac::{Defaults, Identity, Rbac, Request};
    let config = PlatformConfig::new("haven", "example.nl", Provider::Previder);
    let catalogue = Catalogue::builtin().unwrap();
    let files = render(&config, &catalogue).files;
    let release = files
        .iter()
        .flat_map(|(path, text)| load_objects(Origin::File(path.to_str().unwrap()), text).objects)
        .find(|o| o.kind == "HelmRelease" && o.name == "garage")
        .expect("garage's HelmRelease");
    let chart = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: manage-crds-garage-garage}
rules:
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["deuxfleurs.fr"]
  resources: ["garagenodes"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: allow-crds-for-garage-garage}
subjects: [{kind: ServiceAccount, name: garage, namespace: garage}]
roleRef: {kind: ClusterRole, name: manage-crds-garage-garage, apiGroup: rbac.authorization.k8s.io}
"#;
    let can = |objects: &[haven_model::Object], verb: &str, name: &str| {
        let rbac = Rbac::load(objects, Defaults::Kubernetes).rbac;
        let request = Request::resource(
            verb,
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None,
        )
        .named(name);
        rbac.authorize(&Identity::service_account("garage", "garage"), &request)
            .allowed
    };
    let mut objects = load_objects(Origin::File("chart.yaml"), chart).objects;
    assert!(can(
        &objects,
        "patch",
        "externalsecrets.external-secrets.io"
    ));
    let notes = haven_platform::charts::postrender::apply(&release, &mut objects);
    assert!(notes.is_empty(), "{notes:?}");
    assert!(!can(
        &objects,
        "patch",
        "externalsecrets.external-secrets.io"
    ));
    assert!(!can(&objects, "update", "garagenodes.deuxfleurs.fr"));
    assert!(can(&objects, "patch", "garagenodes.deuxfleurs.fr"));
    assert!(can(&objects, "get", "garagenodes.deuxfleurs.fr"));
    assert!(can(&objects, "create", "garagenodes.deuxfleurs.fr"));
    // Its discovery objects are untouched.
    assert_eq!(objects[0].value["rules"][1]["resources"][0], "garagenodes");
}
