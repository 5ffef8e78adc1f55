//! The components of issue 26 (Pinniped, Headlamp, kube-state-metrics, policy-reporter, MetalLB,
//! the NFS provisioner): every provider and identity provider with all of them on renders and
//! validates with zero problems, every proof included (flows, identities, references,
//! certificates, tenancy); their OIDC clients' secrets are made in the cluster and reach both
//! ends (Zitadel's through the secret store); the config
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
    if identity == IdentityProvider::Dex {
        caps.identity.dex = common::dex_connectors();
    }
    caps.kubectl_login = OptIn { enabled: true };
    caps.cluster_ui = OptIn { enabled: true };
    caps.policy_reports = OptIn { enabled: true };
    caps.dashboards.sso = Some(true);
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
        policy: Default::default(),
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

/// The objects of a rendered tree, for a lookup by kind and name.
fn finder(all: &[(String, Value)]) -> impl Fn(&str, &str) -> Value + '_ {
    move |kind: &str, name: &str| {
        all.iter()
            .find(|(_, v)| v["kind"] == kind && v["metadata"]["name"] == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
    }
}

/// No note asks a person for a confidential client's secret.
fn assert_no_client_secret_note(label: &str, notes: &[String]) {
    for s in ["grafana-oidc", "headlamp-oidc", "policy-reporter-oidc"] {
        assert!(
            !notes.iter().any(|n| n.contains(s)),
            "{label}: {s}: {notes:#?}"
        );
    }
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("client's id and secret in the secret store")),
        "{label}: {notes:#?}"
    );
}

#[test]
fn the_oidc_client_secrets_are_made_in_the_cluster_and_reach_headlamp_and_dex() {
    let config = all_on(Provider::Previder, IdentityProvider::Dex);
    let files = assert_clean("dex", &config);
    let all = docs(&files);
    let find = finder(&all);
    // Dex's namespace makes each confidential client's secret once, immutable…
    for id in ["headlamp", "policy-reporter", "grafana"] {
        let es = find("ExternalSecret", &format!("oidc-client-{id}"));
        assert_eq!(es["metadata"]["namespace"], "dex", "{id}");
        assert_eq!(es["spec"]["target"]["immutable"], true, "{id}");
        assert!(
            es["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"].is_object(),
            "{id}"
        );
    }
    assert!(
        !all.iter()
            .any(|(_, v)| v["metadata"]["name"] == "dex-clients")
    );
    // …Headlamp's reader copies its own into the Secret Headlamp reads…
    let es = find("ExternalSecret", "headlamp-oidc");
    assert_eq!(es["metadata"]["namespace"], "headlamp");
    assert_eq!(
        es["spec"]["secretStoreRef"],
        serde_json::json!({"kind": "SecretStore", "name": "oidc-client-headlamp-reader"})
    );
    assert_eq!(
        es["spec"]["data"][0]["remoteRef"],
        serde_json::json!({"key": "oidc-client-headlamp", "property": "HEADLAMP_CLIENT_SECRET"})
    );
    let template = &es["spec"]["target"]["template"]["data"];
    assert_eq!(template["OIDC_CLIENT_ID"], "headlamp");
    assert_eq!(template["OIDC_CLIENT_SECRET"], "{{ .clientSecret }}");
    let store = find("SecretStore", "oidc-client-headlamp-reader");
    assert_eq!(
        store["spec"]["provider"]["kubernetes"]["remoteNamespace"],
        "dex"
    );
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
    // …and Dex reads every client's Secret into its environment, where `secretEnv` looks.
    let dex_hr = find("HelmRelease", "dex");
    let clients = dex_hr["spec"]["values"]["config"]["staticClients"]
        .as_array()
        .unwrap();
    let headlamp = clients.iter().find(|c| c["id"] == "headlamp").unwrap();
    assert_eq!(headlamp["secretEnv"], "HEADLAMP_CLIENT_SECRET");
    assert!(headlamp.get("secret").is_none(), "a client secret in clear");
    let grafana = clients.iter().find(|c| c["id"] == "grafana").unwrap();
    assert_eq!(grafana["secretEnv"], "GRAFANA_CLIENT_SECRET");
    let cli = clients.iter().find(|c| c["id"] == "pinniped-cli").unwrap();
    assert_eq!(cli["public"], true);
    let from: Vec<&str> = dex_hr["spec"]["values"]["envFrom"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["secretRef"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        from,
        [
            "dex-connectors",
            "oidc-client-headlamp",
            "oidc-client-policy-reporter",
            "oidc-client-grafana"
        ]
    );
    // Headlamp waits for Dex's unit (its client's Secret and the Role to read it).
    let units = find("Kustomization", "headlamp");
    assert!(
        units["spec"]["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "dex"),
        "{units}"
    );
    let notes = render(&config, &Catalogue::builtin().unwrap()).notes;
    assert_no_client_secret_note("dex", &notes);
    // Pinniped trusts the same issuer for its public client.
    let jwt = find("JWTAuthenticator", "platform");
    assert_eq!(jwt["spec"]["issuer"], "https://dex.example.nl");
    assert_eq!(jwt["spec"]["audience"], "pinniped-cli");
    assert_eq!(jwt["spec"]["claims"]["groups"], "groups");
}

/// Zitadel makes a client's secret itself: its clients are registered by hand and their secrets
/// come from the secret store, which a note says; Grafana's SSO is off unless asked for.
#[test]
fn zitadel_clients_are_registered_by_hand_and_read_from_the_store() {
    let mut config = all_on(Provider::Previder, IdentityProvider::Zitadel);
    config.capabilities.dashboards.sso = None;
    let rendered = render(&config, &Catalogue::builtin().unwrap());
    let all = docs(&rendered.files);
    let find = finder(&all);
    let es = find("ExternalSecret", "headlamp-oidc");
    assert_eq!(es["spec"]["secretStoreRef"]["name"], "openbao");
    assert!(!all.iter().any(|(_, v)| v["kind"] == "SecretStore"));
    assert!(
        !all.iter()
            .any(|(_, v)| v["metadata"]["name"] == "grafana-oidc")
    );
    assert!(
        rendered
            .notes
            .iter()
            .any(|n| n.contains("register the OIDC clients") && n.contains("Zitadel")),
        "{:#?}",
        rendered.notes
    );
}

#[test]
fn keycloak_imports_the_realm_with_the_client_secrets_made_in_the_cluster() {
    let c = all_on(Provider::Cyso, IdentityProvider::Keycloak);
    assert_clean("keycloak", &c);
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
    // placeholder Keycloak fills from its environment, which the client's own Secret fills.
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
    assert_eq!(client("grafana")["secret"], "${GRAFANA_CLIENT_SECRET}");
    assert_eq!(client("pinniped-cli")["publicClient"], true);
    assert!(client("pinniped-cli").get("secret").is_none());
    assert_eq!(
        client("headlamp")["protocolMappers"][0]["config"]["claim.name"],
        "groups"
    );
    // Each placeholder's variable is a key of a Secret Keycloak reads by envFrom, made beside
    // it by a generator, in the unit Keycloak's release is in (so it exists before the pods
    // can start).
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
    let env_from = values["extraEnvFrom"].as_str().unwrap();
    for (id, key) in [
        ("headlamp", "HEADLAMP_CLIENT_SECRET"),
        ("policy-reporter", "POLICY_REPORTER_CLIENT_SECRET"),
        ("grafana", "GRAFANA_CLIENT_SECRET"),
    ] {
        let name = format!("oidc-client-{id}");
        assert!(env_from.contains(&format!("name: {name}\n")), "{env_from}");
        let (path, generator) = all
            .iter()
            .find(|(_, v)| v["kind"] == "Password" && v["metadata"]["name"] == name.as_str())
            .unwrap();
        assert_eq!(path, "infrastructure/keycloak/oidc-clients.yaml");
        assert_eq!(generator["metadata"]["namespace"], "keycloak");
        assert_eq!(generator["spec"]["secretKeys"], serde_json::json!([key]));
    }
    assert!(!env_from.contains("keycloak-clients"), "{env_from}");
    assert!(
        values["extraVolumes"]
            .as_str()
            .unwrap()
            .contains("keycloak-realm")
    );
    assert_no_client_secret_note("keycloak", &rendered.notes);
}

/// Each consumer's reader can get its own client's Secret and nothing else, which the
/// identities proof checks: a reader bound to one more Secret, or to another client's, is an
/// error, and so is one that cannot get its own.
#[test]
fn each_client_reader_can_get_exactly_its_own_secret() {
    let c = all_on(Provider::Cyso, IdentityProvider::Keycloak);
    let catalogue = Catalogue::builtin().unwrap();
    let files = render(&c, &catalogue).files;
    let path = PathBuf::from("infrastructure/keycloak/oidc-clients.yaml");
    let identity_errors = |files: &std::collections::BTreeMap<PathBuf, String>| {
        let tree = haven_platform::charts::tree_objects(files);
        let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
        haven_platform::proofs::prove(&landscape, &catalogue)
            .into_iter()
            .filter(|p| {
                p.severity == haven_platform::validate::Severity::Error
                    && p.check == haven_platform::charts::Check::Identities
            })
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(identity_errors(&files), Vec::<String>::new());
    let text = &files[&path];
    // Grafana's reader may also get Headlamp's secret.
    let wider = text.replacen(
        "  - oidc-client-grafana\n",
        "  - oidc-client-grafana\n  - oidc-client-headlamp\n",
        1,
    );
    assert_ne!(&wider, text);
    let mut broken = files.clone();
    broken.insert(path.clone(), wider);
    let errors = identity_errors(&broken);
    assert!(
        errors.iter().any(
            |e| e.contains("ServiceAccount grafana/oidc-client-grafana-reader")
                && e.contains("holds more than")
        ),
        "{errors:#?}"
    );
    // Headlamp's reader bound to Grafana's Role: more than its own, and not its own.
    let swapped = text.replacen(
        "  name: oidc-client-headlamp-reader\n  namespace: headlamp\n",
        "  name: oidc-client-headlamp-reader\n  namespace: grafana\n",
        1,
    );
    let mut broken = files.clone();
    broken.insert(path, swapped.clone());
    assert_ne!(&swapped, text);
    let errors = identity_errors(&broken);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cannot get Secret keycloak/oidc-client-headlamp")),
        "{errors:#?}"
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
fn the_new_capabilities_are_off_by_default_and_kube_state_metrics_follows_the_backend_and_is_on_with_mimir()
 {
    let catalogue = Catalogue::builtin().unwrap();
    let c = PlatformConfig::new("haven", "example.nl", Provider::Previder);
    let on: Vec<String> = catalogue
        .selected(&c)
        .iter()
        .map(|c| c.name.clone())
        .collect();
    for name in NEW {
        // kube-state-metrics follows the metrics backend: on with Mimir's default.
        let default_on = *name == "kube-state-metrics";
        assert_eq!(
            on.contains(&(*name).to_owned()),
            default_on,
            "{name} on by default: {default_on}"
        );
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

/// Keycloak refuses a scope its client does not know (`invalid_scope`): with Keycloak the
/// platform's clients ask for no `groups` scope (each client's mapper puts the claim in the
/// token), and the realm's clients keep Keycloak's default client scopes (`basic` carries
/// `sub`; a `defaultClientScopes` list would replace them). Dex needs the `groups` scope.
#[test]
fn the_clients_ask_for_scopes_their_identity_provider_knows() {
    let scopes = |identity: IdentityProvider| {
        let c = all_on(Provider::Cyso, identity);
        let all = docs(&render(&c, &Catalogue::builtin().unwrap()).files);
        let find = finder(&all);
        let grafana = find("HelmRelease", "grafana");
        let grafana = grafana["spec"]["values"]["grafana.ini"]["auth.generic_oauth"]["scopes"]
            .as_str()
            .unwrap()
            .to_owned();
        let headlamp = find("HelmRelease", "headlamp")["spec"]["values"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "OIDC_SCOPES")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned();
        drop(find);
        (grafana, headlamp, all)
    };
    let (grafana, headlamp, all) = scopes(IdentityProvider::Keycloak);
    assert_eq!(grafana, "openid profile email");
    assert_eq!(headlamp, "profile,email");
    let realm = finder(&all)("ConfigMap", "keycloak-realm");
    let json: Value = serde_json::from_str(realm["data"]["haven.json"].as_str().unwrap()).unwrap();
    for client in json["clients"].as_array().unwrap() {
        assert!(client.get("defaultClientScopes").is_none(), "{client}");
        assert_eq!(
            client["protocolMappers"][0]["config"]["claim.name"],
            "groups"
        );
    }
    let (grafana, headlamp, _) = scopes(IdentityProvider::Dex);
    assert_eq!(grafana, "openid profile email groups");
    assert_eq!(headlamp, "profile,email,groups");
}

/// Keycloak gets a first admin made in the cluster (a `Password` generator; Keycloak 26 reads
/// `KC_BOOTSTRAP_ADMIN_*` at first start), kept in its environment beside the OIDC clients' and
/// asked of nobody: without one, nobody could sign in to create the platform's users.
#[test]
fn keycloak_has_a_first_admin_nobody_types() {
    for clients in [true, false] {
        let mut c = all_on(Provider::Cyso, IdentityProvider::Keycloak);
        if !clients {
            c = PlatformConfig::new("haven", "example.nl", Provider::Cyso);
            c.capabilities.dashboards.sso = Some(false);
        }
        let rendered = render(&c, &Catalogue::builtin().unwrap());
        let all = docs(&rendered.files);
        let find = finder(&all);
        let env_from = find("HelmRelease", "keycloak")["spec"]["values"]["extraEnvFrom"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            env_from.starts_with("- secretRef:\n    name: keycloak-admin\n"),
            "{clients}: {env_from}"
        );
        let generator = find("Password", "keycloak-admin");
        assert_eq!(
            generator["spec"]["secretKeys"],
            serde_json::json!(["KC_BOOTSTRAP_ADMIN_USERNAME", "KC_BOOTSTRAP_ADMIN_PASSWORD"])
        );
        assert_eq!(
            find("ExternalSecret", "keycloak-admin")["spec"]["target"]["immutable"],
            true
        );
        assert!(
            !rendered.notes.iter().any(|n| n.contains("keycloak-admin")),
            "{:#?}",
            rendered.notes
        );
    }
}

/// Keycloak starts as the chart renders it and answers with its own public URL only: the cache
/// stack is Keycloak's own default (`jdbc-ping`; the chart's default `kubernetes` stops it at
/// start without `-Djgroups.dns.query`), and the hostname is fixed (strict), so that a client's
/// `Host` or `X-Forwarded-Host` cannot choose the issuer, redirects or e-mailed links.
#[test]
fn keycloak_has_a_fixed_hostname_and_a_cache_stack_that_starts() {
    let c = PlatformConfig::new("haven", "gemeente.nl", Provider::Cyso);
    let rendered = render(&c, &Catalogue::builtin().unwrap());
    let all = docs(&rendered.files);
    let find = finder(&all);
    let values = &find("HelmRelease", "keycloak")["spec"]["values"];
    assert_eq!(values["cache"]["stack"], "custom", "{values:#}");
    let command: Vec<&str> = values["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        command.contains(&"--hostname=https://keycloak.gemeente.nl"),
        "{command:?}"
    );
    assert!(
        !command.iter().any(|a| a.starts_with("--hostname-strict")),
        "{command:?}"
    );
    // No stack variable of our own either: the image's default applies.
    assert!(
        !serde_json::to_string(values)
            .unwrap()
            .contains("KC_CACHE_STACK"),
        "{values:#}"
    );
}
