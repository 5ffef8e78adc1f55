//! The components of issue 26 (Pinniped, Headlamp, kube-state-metrics, policy-reporter, MetalLB,
//! the NFS provisioner): every provider and identity provider with all of them on renders and
//! validates with zero problems, every proof included (flows, identities, references,
//! certificates, tenancy); their OIDC clients reach them through the secret store; the config
//! refuses what a render cannot guess.

use std::path::PathBuf;

use haven_platform::config::{
    IdentityProvider, LoadBalancerPool, MetricsBackend, NfsExport, OptIn, SecretsBackend, Tenant,
};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

mod common;

const NEW: &[&str] = &[
    "pinniped",
    "headlamp",
    "kube-state-metrics",
    "policy-reporter",
    "metallb",
    "nfs-subdir-external-provisioner",
];

fn all_on(provider: Provider, identity: IdentityProvider) -> PlatformConfig {
    let mut c = PlatformConfig::new("haven", "example.nl", provider);
    let caps = &mut c.capabilities;
    caps.identity.provider = identity;
    caps.kubectl_login = OptIn { enabled: true };
    caps.cluster_ui = OptIn { enabled: true };
    caps.kube_state_metrics = OptIn { enabled: true };
    caps.policy_reports = OptIn { enabled: true };
    caps.dashboards.sso = true;
    caps.load_balancer = LoadBalancerPool {
        enabled: true,
        addresses: vec![
            "192.0.2.32/27".to_owned(),
            "192.0.2.100-192.0.2.110".to_owned(),
        ],
    };
    caps.storage.nfs = Some(NfsExport {
        server: "nfs.example.nl".to_owned(),
        path: "/exports/haven".to_owned(),
    });
    c.tenants.push(Tenant {
        name: "zaken".to_owned(),
        group: "zaken-developers".to_owned(),
        repo: Some("https://git.example.nl/zaken/deploy.git".to_owned()),
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
    });
    c
}

fn docs(files: &std::collections::BTreeMap<PathBuf, String>) -> Vec<(String, Value)> {
    haven_platform::charts::tree_objects(files)
        .into_iter()
        .map(|o| (o.file.to_string(), o.value))
        .collect()
}

/// Render, check the config, validate on the tree alone and run every proof: nothing at all.
fn assert_clean(
    label: &str,
    config: &PlatformConfig,
) -> std::collections::BTreeMap<PathBuf, String> {
    let catalogue = Catalogue::builtin().unwrap();
    let choices = haven_platform::catalogue::check_choices(config, &catalogue);
    assert!(choices.is_empty(), "{label}: {choices:?}");
    let rendered = render(config, &catalogue);
    // No credential in clear text anywhere in the tree.
    let mut clear = Vec::new();
    for (path, o) in docs(&rendered.files) {
        let api = o["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = o["kind"].as_str().unwrap_or_default().to_owned();
        clear.extend(
            haven_platform::secrets::scan_object(&api, &kind, &o)
                .into_iter()
                .map(|e| format!("{path} {}: {}", e.path, e.what)),
        );
    }
    assert!(clear.is_empty(), "{label}: {clear:#?}");
    // Not a warning from validate; nothing made for no one, no certificate in doubt: as strict
    // as the default platform.
    common::Clean::new(
        label,
        &rendered.files,
        &catalogue,
        &config.cluster.kubernetes_version,
    )
    .without_warnings()
    .spotless_references()
    .assert();
    for name in NEW {
        assert!(
            rendered.files.contains_key(&PathBuf::from(format!(
                "infrastructure/{name}/release.yaml"
            ))),
            "{label}: {name} not rendered"
        );
    }
    rendered.files
}

#[test]
fn every_provider_and_identity_provider_with_the_new_components_validates() {
    for provider in Provider::ALL {
        for identity in [
            IdentityProvider::Keycloak,
            IdentityProvider::Dex,
            IdentityProvider::Zitadel,
        ] {
            let label = format!("{} / {identity:?}", provider.name());
            assert_clean(&label, &all_on(provider, identity));
        }
    }
}

#[test]
fn sealed_secrets_backend_with_the_new_components_validates() {
    let mut c = all_on(Provider::Previder, IdentityProvider::Dex);
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    assert_clean("previder / sealed-secrets", &c);
}

#[test]
fn the_oidc_client_secrets_reach_headlamp_and_dex_through_the_secret_store() {
    let files = assert_clean("dex", &all_on(Provider::Previder, IdentityProvider::Dex));
    let all = docs(&files);
    let find = |kind: &str, name: &str| {
        all.iter()
            .find(|(_, v)| v["kind"] == kind && v["metadata"]["name"] == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
    };
    // Headlamp reads its client id and secret from the Secret the store fills…
    let es = find("ExternalSecret", "headlamp-oidc");
    assert_eq!(es["metadata"]["namespace"], "headlamp");
    assert_eq!(es["spec"]["secretStoreRef"]["name"], "openbao");
    let keys: Vec<&str> = es["spec"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["remoteRef"]["property"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"]);
    let hr = find("HelmRelease", "headlamp");
    let oidc = &hr["spec"]["values"]["config"]["oidc"];
    assert_eq!(oidc["externalSecret"]["name"], "headlamp-oidc");
    assert_eq!(oidc["externalSecret"]["enabled"], true);
    assert_eq!(oidc["secret"]["create"], false);
    assert_eq!(hr["spec"]["values"]["clusterRoleBinding"]["create"], false);
    let env = hr["spec"]["values"]["env"].as_array().unwrap();
    assert!(
        env.iter()
            .any(|e| e["name"] == "OIDC_ISSUER_URL" && e["value"] == "https://dex.example.nl")
    );
    // …and Dex reads the same value of the store for the client it registers.
    let dex = find("ExternalSecret", "dex-clients");
    let refs: Vec<(String, String)> = dex["spec"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["remoteRef"]["key"].as_str().unwrap().to_owned(),
                d["remoteRef"]["property"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(refs.contains(&(
        "platform/headlamp/headlamp-oidc".to_owned(),
        "OIDC_CLIENT_SECRET".to_owned()
    )));
    assert!(refs.contains(&(
        "platform/policy-reporter/policy-reporter-oidc".to_owned(),
        "clientSecret".to_owned()
    )));
    let dex_hr = find("HelmRelease", "dex");
    let clients = dex_hr["spec"]["values"]["config"]["staticClients"]
        .as_array()
        .unwrap();
    let headlamp = clients.iter().find(|c| c["id"] == "headlamp").unwrap();
    assert_eq!(headlamp["secretEnv"], "HEADLAMP_CLIENT_SECRET");
    assert!(headlamp.get("secret").is_none(), "a client secret in clear");
    let cli = clients.iter().find(|c| c["id"] == "pinniped-cli").unwrap();
    assert_eq!(cli["public"], true);
    assert_eq!(
        dex_hr["spec"]["values"]["envFrom"][0]["secretRef"]["name"],
        "dex-clients"
    );
    // Pinniped trusts the same issuer for its public client.
    let jwt = find("JWTAuthenticator", "platform");
    assert_eq!(jwt["spec"]["issuer"], "https://dex.example.nl");
    assert_eq!(jwt["spec"]["audience"], "pinniped-cli");
    assert_eq!(jwt["spec"]["claims"]["groups"], "groups");
}

#[test]
fn keycloak_issuer_is_the_platform_realm_and_the_clients_are_named_in_a_note() {
    let c = all_on(Provider::Cyso, IdentityProvider::Keycloak);
    let rendered = render(&c, &Catalogue::builtin().unwrap());
    let all = docs(&rendered.files);
    let jwt = all
        .iter()
        .find(|(_, v)| v["kind"] == "JWTAuthenticator")
        .unwrap();
    assert_eq!(
        jwt.1["spec"]["issuer"],
        "https://keycloak.example.nl/realms/haven"
    );
    // The realm Keycloak imports holds the clients, a confidential one's secret only as a
    // placeholder Keycloak fills from its environment, which the secret store fills.
    let realm = all
        .iter()
        .find(|(_, v)| v["kind"] == "ConfigMap" && v["metadata"]["name"] == "keycloak-realm")
        .unwrap();
    assert_eq!(realm.0, "infrastructure/keycloak/realm.yaml");
    let json: Value =
        serde_json::from_str(realm.1["data"]["haven.json"].as_str().unwrap()).unwrap();
    assert_eq!(json["realm"], "haven");
    let client = |id: &str| {
        json["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clientId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(client("headlamp")["secret"], "${HEADLAMP_CLIENT_SECRET}");
    assert_eq!(
        client("policy-reporter")["secret"],
        "${POLICY_REPORTER_CLIENT_SECRET}"
    );
    assert_eq!(client("pinniped-cli")["publicClient"], true);
    assert!(client("pinniped-cli").get("secret").is_none());
    assert_eq!(
        client("headlamp")["protocolMappers"][0]["config"]["claim.name"],
        "groups"
    );
    let es = all
        .iter()
        .find(|(_, v)| v["kind"] == "ExternalSecret" && v["metadata"]["name"] == "keycloak-clients")
        .unwrap();
    assert_eq!(es.1["metadata"]["namespace"], "keycloak");
    let keys: Vec<&str> = es.1["spec"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["remoteRef"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "platform/headlamp/headlamp-oidc",
            "platform/policy-reporter/policy-reporter-oidc",
            "platform/grafana/grafana-oidc"
        ]
    );
    let hr = all
        .iter()
        .find(|(_, v)| v["kind"] == "HelmRelease" && v["metadata"]["name"] == "keycloak")
        .unwrap();
    let values = &hr.1["spec"]["values"];
    assert!(
        values["command"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--import-realm")
    );
    assert!(
        values["extraEnvFrom"]
            .as_str()
            .unwrap()
            .contains("keycloak-clients")
    );
    assert!(
        values["extraVolumes"]
            .as_str()
            .unwrap()
            .contains("keycloak-realm")
    );
    assert!(
        rendered
            .notes
            .iter()
            .any(|n| n.contains("`pinniped-cli`") && n.contains("`headlamp`")),
        "{:?}",
        rendered.notes
    );
}

#[test]
fn metallb_pool_nfs_export_and_storage_classes_follow_the_config() {
    let c = all_on(Provider::Kind, IdentityProvider::Dex);
    let files = assert_clean("kind", &c);
    let all = docs(&files);
    let pool = all
        .iter()
        .find(|(_, v)| v["kind"] == "IPAddressPool")
        .unwrap();
    assert_eq!(pool.0, "infrastructure/metallb-config/address-pool.yaml");
    assert_eq!(pool.1["spec"]["addresses"][1], "192.0.2.100-192.0.2.110");
    assert!(all.iter().any(
        |(_, v)| v["kind"] == "L2Advertisement" && v["spec"]["ipAddressPools"][0] == "platform"
    ));
    let nfs = all
        .iter()
        .find(|(_, v)| {
            v["kind"] == "HelmRelease" && v["metadata"]["name"] == "nfs-subdir-external-provisioner"
        })
        .unwrap();
    assert_eq!(nfs.1["spec"]["values"]["nfs"]["server"], "nfs.example.nl");
    assert_eq!(nfs.1["spec"]["values"]["nfs"]["path"], "/exports/haven");
    // kind's Gateways become LoadBalancer Services MetalLB serves; RWX is the NFS class.
    assert_eq!(
        c.load_balancer(),
        haven_platform::config::LoadBalancer::Metallb
    );
    assert_eq!(c.rwx_storage_class(), "nfs-client");
    let info = all
        .iter()
        .find(|(_, v)| v["kind"] == "ConfigMap" && v["metadata"]["name"] == "haven-plus")
        .unwrap();
    assert_eq!(info.1["data"]["rwxStorageClass"], "nfs-client");
    // MetalLB's speaker needs the host network: its namespace alone is privileged, and the
    // admission webhook leaves it to its label.
    let ns = all
        .iter()
        .find(|(_, v)| v["kind"] == "Namespace" && v["metadata"]["name"] == "metallb-system")
        .unwrap();
    assert_eq!(
        ns.1["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "privileged"
    );
    for name in [
        "headlamp",
        "pinniped",
        "kube-state-metrics",
        "policy-reporter",
    ] {
        let ns = all
            .iter()
            .find(|(_, v)| v["kind"] == "Namespace" && v["metadata"]["name"] == name)
            .unwrap();
        assert_eq!(
            ns.1["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted",
            "{name}"
        );
    }
}

#[test]
fn the_new_capabilities_are_off_by_default_and_kube_state_metrics_follows_the_backend() {
    let catalogue = Catalogue::builtin().unwrap();
    let c = PlatformConfig::new("haven", "example.nl", Provider::Previder);
    let on: Vec<String> = catalogue
        .selected(&c)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    for name in NEW {
        assert!(!on.contains(&(*name).to_owned()), "{name} on by default");
    }
    let mut c = all_on(Provider::Previder, IdentityProvider::Keycloak);
    c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    let on: Vec<String> = catalogue
        .selected(&c)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert!(!on.contains(&"kube-state-metrics".to_owned()), "{on:?}");
    assert_clean_without("kube-prometheus-stack", &c, "kube-state-metrics");
}

fn assert_clean_without(label: &str, config: &PlatformConfig, absent: &str) {
    let rendered = render(config, &Catalogue::builtin().unwrap());
    assert!(
        !rendered
            .files
            .keys()
            .any(|p| p.starts_with(format!("infrastructure/{absent}"))),
        "{label}"
    );
}

#[test]
fn the_config_refuses_what_a_render_cannot_guess() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut c = all_on(Provider::Generic, IdentityProvider::Keycloak);
    c.capabilities.identity.enabled = false;
    c.capabilities.load_balancer.addresses = vec![
        "192.0.2.0/33".to_owned(),
        "192.0.2.9-192.0.2.1".to_owned(),
        "lb".to_owned(),
    ];
    c.capabilities.storage.nfs = Some(NfsExport {
        server: "nfs.example.nl".to_owned(),
        path: "exports".to_owned(),
    });
    let paths: Vec<String> = haven_platform::catalogue::check_choices(&c, &catalogue)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    for want in [
        "capabilities.kubectlLogin.enabled",
        "capabilities.clusterUI.enabled",
        "capabilities.policyReports.enabled",
        "capabilities.loadBalancer.addresses[0]",
        "capabilities.loadBalancer.addresses[1]",
        "capabilities.loadBalancer.addresses[2]",
        "capabilities.storage.nfs.path",
    ] {
        assert!(paths.contains(&want.to_owned()), "{want} not in {paths:?}");
    }
    c.capabilities.load_balancer.addresses.clear();
    let paths: Vec<String> = haven_platform::catalogue::check_choices(&c, &catalogue)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert!(paths.contains(&"capabilities.loadBalancer.addresses".to_owned()));
}

#[test]
fn the_config_file_reads_the_new_keys() {
    let text = "version: 1\ncluster:\n  name: haven\n  domain: example.nl\n  provider: previder\ncapabilities:\n  kubectlLogin: {enabled: true}\n  clusterUI: {enabled: true}\n  kubeStateMetrics: {enabled: true}\n  policyReports: {enabled: true}\n  loadBalancer:\n    enabled: true\n    addresses: [192.0.2.32/27]\n  storage:\n    nfs: {server: nfs.example.nl, path: /exports/haven}\n";
    let catalogue = Catalogue::builtin().unwrap();
    let (c, _notes) = haven_platform::config::parse("haven-plus.yaml", text, &catalogue).unwrap();
    assert!(c.capabilities.kubectl_login.enabled && c.capabilities.cluster_ui.enabled);
    assert_eq!(c.capabilities.load_balancer.addresses, ["192.0.2.32/27"]);
    assert_eq!(
        c.capabilities.storage.nfs.as_ref().unwrap().path,
        "/exports/haven"
    );
    let on: Vec<String> = catalogue
        .selected(&c)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    for name in NEW {
        assert!(on.contains(&(*name).to_owned()), "{name} not selected");
    }
}

#[test]
fn every_ingress_alternative_with_the_new_components_validates() {
    use haven_platform::config::IngressImplementation;
    for i in [
        IngressImplementation::EnvoyGateway,
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut c = all_on(Provider::Generic, IdentityProvider::Keycloak);
        c.capabilities.ingress.implementation = i;
        let files = assert_clean(&format!("{i:?}"), &c);
        // Headlamp reaches the identity provider's public URL through the Gateway's pods.
        let gateway_ns = match i {
            IngressImplementation::EnvoyGateway => Some("envoy-gateway-system"),
            IngressImplementation::Traefik => Some("traefik"),
            IngressImplementation::Istio => Some("istio-system"),
            IngressImplementation::Cilium => None,
        };
        let all = docs(&files);
        let egress_to = |ns: &str| {
            all.iter().any(|(_, v)| {
                v["kind"] == "NetworkPolicy"
                    && v["metadata"]["namespace"] == "headlamp"
                    && v["metadata"]["name"] != "allow-dns"
                    && v["spec"]["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"]
                        ["kubernetes.io/metadata.name"]
                        == ns
            })
        };
        if let Some(ns) = gateway_ns {
            assert!(egress_to(ns), "{i:?}: no egress from headlamp to {ns}");
        }
        // DNS aside (allow-dns), nothing of kube-system.
        assert!(
            !egress_to("kube-system"),
            "{i:?}: headlamp may reach kube-system"
        );
    }
}
