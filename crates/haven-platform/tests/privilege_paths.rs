//! Issue #21's privilege paths and data-loss paths found in the operator review, for every
//! provider and every alternative: cluster-wide secret stores tenants could use, Flux's
//! lockdown patches that match nothing after bootstrap, platform host names tenants could take
//! at the Gateway, Flux pruning data, and the DNS flows DNS-01 and RFC 2136 need.

use std::path::PathBuf;

use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, SecretsBackend,
    Tenant,
};
use haven_platform::validate::Severity;
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

fn tenant(name: &str) -> Tenant {
    Tenant {
        name: name.to_owned(),
        group: format!("{name}-developers"),
        repo: Some(format!("https://git.example.nl/{name}/deploy.git")),
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
    }
}

/// Every provider (default choices) and every alternative, each with a tenant.
fn all_configs() -> Vec<(String, PlatformConfig)> {
    let mut out = Vec::new();
    for provider in Provider::ALL {
        let mut c = PlatformConfig::new("haven", "example.nl", provider);
        c.tenants.push(tenant("zaken"));
        out.push((provider.name().to_owned(), c));
    }
    for ingress in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut c = PlatformConfig::new("alt", "example.nl", Provider::Cyso);
        c.tenants.push(tenant("zaken"));
        c.capabilities.ingress.implementation = ingress;
        out.push((format!("{ingress:?}"), c));
    }
    let mut c = PlatformConfig::new("alt", "example.nl", Provider::Generic);
    c.tenants.push(tenant("zaken"));
    c.capabilities.admission.engine = AdmissionEngine::Kyverno;
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    c.capabilities.identity.provider = IdentityProvider::Zitadel;
    out.push(("kyverno+sealed+kps+zitadel".to_owned(), c));
    out
}

fn docs_of(files: &std::collections::BTreeMap<PathBuf, String>) -> Vec<(PathBuf, Value)> {
    files
        .iter()
        .flat_map(|(p, t)| {
            haven_model::parse_stream("t", t)
                .into_iter()
                .map(move |d| (p.clone(), d.unwrap().value))
        })
        .collect()
}

fn tenancy_errors(
    files: &std::collections::BTreeMap<PathBuf, String>,
    catalogue: &Catalogue,
) -> Vec<String> {
    let tree = haven_platform::charts::tree_objects(files);
    let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
    haven_platform::proofs::prove(&landscape, catalogue)
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .filter(|p| matches!(p.check, haven_platform::charts::Check::Tenancy))
        .map(|p| p.to_string())
        .collect()
}

/// Item 1: every ClusterSecretStore the render makes serves only the platform's namespaces,
/// never a tenant's, and the tenancy proof agrees; with the conditions removed it fails.
#[test]
fn no_tenant_can_use_a_cluster_secret_store() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut stores = 0;
    for (label, config) in all_configs() {
        let files = render(&config, &catalogue).files;
        for (path, d) in docs_of(&files) {
            if d["kind"] != "ClusterSecretStore" {
                continue;
            }
            stores += 1;
            let names: Vec<&str> = d["spec"]["conditions"][0]["namespaces"]
                .as_array()
                .unwrap_or_else(|| panic!("{label}: {} has no conditions", path.display()))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(!names.contains(&"zaken"), "{label}: {names:?}");
            assert!(
                names.contains(&"external-dns") || names.contains(&"loki"),
                "{label}: {names:?}"
            );
            let errors = tenancy_errors(&files, &catalogue);
            assert!(errors.is_empty(), "{label}:\n{}", errors.join("\n"));
            // The proof catches a store without them.
            let mut open = files.clone();
            let text = open.get(&path).unwrap().clone();
            let mut value: Value =
                serde_yaml_ng::from_str(text.split("---\n").nth(1).unwrap()).unwrap();
            value["spec"].as_object_mut().unwrap().remove("conditions");
            open.insert(
                path.clone(),
                format!("---\n{}", serde_yaml_ng::to_string(&value).unwrap()),
            );
            let errors = tenancy_errors(&open, &catalogue);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("ClusterSecretStore/openbao") && e.contains("zaken")),
                "{label}: {errors:?}"
            );
        }
    }
    assert!(stores > 0);
}

fn validate_errors(files: &std::collections::BTreeMap<PathBuf, String>) -> Vec<String> {
    use haven_platform::crds::BuiltinSchemas;
    use haven_platform::validate::{self, Options};
    let facts = validate::platform_facts(files);
    let schemas = BuiltinSchemas::new(facts.components);
    validate::validate(files, &schemas, &Options::default())
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect()
}

/// `flux bootstrap`'s controllers, as many as given.
fn gotk_components(controllers: &[&str]) -> String {
    let mut out = String::new();
    for c in controllers {
        out.push_str(&format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {c}\n  namespace: flux-system\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {c}}}\n  template:\n    metadata:\n      labels: {{app: {c}}}\n    spec:\n      containers:\n      - name: manager\n        image: ghcr.io/fluxcd/{c}:v1.7.0\n        args: [--log-level=info]\n"));
    }
    out
}

/// Item 2: the flux-system kustomization.yaml lists `gotk-components.yaml` before bootstrap
/// wrote it (bootstrap keeps an existing kustomization.yaml as it is), validate builds the
/// tree without it, and refuses a kustomization.yaml that does not list the file bootstrap
/// wrote or whose lockdown patches match none of its Deployments.
#[test]
fn flux_lockdown_survives_bootstrap() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in all_configs() {
        let files = render(&config, &catalogue).files;
        let k = PathBuf::from(format!(
            "clusters/{}/flux-system/kustomization.yaml",
            config.cluster.name
        ));
        let doc = &haven_model::parse_stream("k", &files[&k])
            .remove(0)
            .unwrap()
            .value;
        assert_eq!(
            doc["resources"],
            serde_json::json!(["gotk-components.yaml", "gotk-sync.yaml"]),
            "{label}"
        );
        let errors = validate_errors(&files);
        assert!(errors.is_empty(), "{label}: {errors:#?}");
    }
    let config = &all_configs()[0].1;
    let files = render(config, &catalogue).files;
    let dir = format!("clusters/{}/flux-system", config.cluster.name);
    let k = PathBuf::from(format!("{dir}/kustomization.yaml"));
    let all = [
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
    ];
    let mut bootstrapped = files.clone();
    bootstrapped.insert(
        PathBuf::from(format!("{dir}/gotk-components.yaml")),
        gotk_components(&all),
    );
    let errors = validate_errors(&bootstrapped);
    assert!(errors.is_empty(), "{errors:#?}");
    // The file bootstrap wrote is not listed: the patches apply to nothing.
    let mut unlisted = bootstrapped.clone();
    let text = unlisted[&k].replace("- gotk-components.yaml\n", "");
    unlisted.insert(k.clone(), text);
    let errors = validate_errors(&unlisted);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("gotk-components.yaml") && e.contains("not listed")),
        "{errors:#?}"
    );
    // Listed, but the patches' controllers are not in it.
    let mut partial = bootstrapped.clone();
    partial.insert(
        PathBuf::from(format!("{dir}/gotk-components.yaml")),
        gotk_components(&["source-controller", "notification-controller"]),
    );
    let errors = validate_errors(&partial);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("matches no Deployment") && e.contains("kustomize-controller")),
        "{errors:#?}"
    );
}
