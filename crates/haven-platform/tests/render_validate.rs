//! Every provider and every implementation choice renders and validates with zero errors against
//! the CRD schemas built into haven (no schema directory: what a user gets out of the box) and
//! against the API of every supported Kubernetes minor.

use std::path::PathBuf;

use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, SecretsBackend,
    Tenant,
};
use haven_platform::crds::BuiltinSchemas;
use haven_platform::validate::{self, Options};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};

mod common;

/// No secret in clear text: no Secret objects, no credential-named values, and sealed data
/// only as placeholders for kubeseal output.
fn assert_no_clear_secrets(label: &str, files: &std::collections::BTreeMap<PathBuf, String>) {
    let mut found = Vec::new();
    for (p, text) in files {
        for d in haven_model::parse_stream(&p.to_string_lossy(), text) {
            let v = d.unwrap().value;
            let at = format!("{}:{}/{}", p.display(), v["kind"], v["metadata"]["name"]);
            if v["kind"] == "Secret" {
                found.push(format!("{at} is a Secret"));
            }
            if v["kind"] == "SealedSecret" {
                for (k, sealed) in v["spec"]["encryptedData"].as_object().unwrap() {
                    if !sealed
                        .as_str()
                        .unwrap()
                        .starts_with("SEALED-PLACEHOLDER: kubeseal")
                    {
                        found.push(format!("{at} encryptedData.{k} is not a placeholder"));
                    }
                }
                continue;
            }
            // ExternalSecrets are references by definition (`secretKey` names a key to fill),
            // or values a generator makes in the cluster.
            if v["kind"] == "ExternalSecret" {
                let empty = Vec::new();
                let data = v["spec"]["data"].as_array().unwrap_or(&empty);
                let from = v["spec"]["dataFrom"].as_array().unwrap_or(&empty);
                assert!(!data.is_empty() || !from.is_empty(), "{label}: {at}");
                assert!(
                    data.iter()
                        .all(|d| d["remoteRef"]["key"].as_str().is_some())
                        && from
                            .iter()
                            .all(|d| d["sourceRef"]["generatorRef"]["kind"] == "Password"),
                    "{label}: {at}"
                );
                continue;
            }
            let api = v["apiVersion"].as_str().unwrap_or_default();
            let kind = v["kind"].as_str().unwrap_or_default();
            found.extend(
                haven_platform::secrets::scan_object(api, kind, &v)
                    .into_iter()
                    .map(|e| format!("{at} {}: {}", e.path, e.what)),
            );
        }
    }
    assert!(found.is_empty(), "{label}: {found:#?}");
}

/// Validates the render of `config` as `haven plus validate` does with no flag: the built-in
/// schemas, preferring the components the tree says it installs, on the minor it targets; and
/// on every other supported minor too.
fn assert_valid(label: &str, config: &PlatformConfig) {
    let catalogue = Catalogue::builtin().unwrap();
    let rendered = render(config, &catalogue);
    assert_no_clear_secrets(label, &rendered.files);
    assert!(
        rendered.files.len() > 20,
        "{label}: only {} files",
        rendered.files.len()
    );
    let facts = validate::platform_facts(&rendered.files);
    assert_eq!(
        facts.kubernetes_version.as_deref(),
        Some(config.cluster.kubernetes_version.as_str()),
        "{label}"
    );
    assert!(facts.components.len() > 10, "{label}: {facts:?}");
    // On every supported minor, not a warning, the built-in schemas found; every proof without
    // an error, and the references and certificates proofs on the tree alone: nothing missing,
    // nothing made for no one, every certificate issuable.
    common::Clean::new(
        label,
        &rendered.files,
        &catalogue,
        &config.cluster.kubernetes_version,
    )
    .on_minors(validate::SUPPORTED_KUBERNETES)
    .without_warnings()
    .more_custom_resources_than(10)
    .spotless_references()
    .assert();
}

#[test]
fn every_provider_renders_and_validates() {
    for provider in Provider::ALL {
        let mut config = PlatformConfig::new("haven", "example.nl", provider);
        config.tenants.push(common::tenant("zaken"));
        assert_valid(provider.name(), &config);
    }
}

#[test]
fn every_alternative_renders_and_validates() {
    let base = || {
        let mut c = PlatformConfig::new("alt", "example.nl", Provider::Cyso);
        c.tenants.push(common::tenant("zaken"));
        c
    };
    for ingress in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut c = base();
        c.capabilities.ingress.implementation = ingress;
        assert_valid(&format!("{ingress:?}"), &c);
    }
    let mut c = base();
    c.capabilities.admission.engine = AdmissionEngine::Kyverno;
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    c.capabilities.identity.provider = IdentityProvider::Zitadel;
    assert_valid("kyverno+sealed+kps+zitadel", &c);
    c.capabilities.identity.provider = IdentityProvider::Dex;
    c.capabilities.identity.dex = common::dex_connectors();
    assert_valid("dex", &c);
}

#[test]
fn render_is_deterministic_and_reads_back_as_kubernetes_reads_it() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Previder);
    config.tenants.push(common::tenant("zaken"));
    let a = render(&config, &catalogue);
    let b = render(&config, &catalogue);
    assert_eq!(a.files, b.files);
    for (path, text) in &a.files {
        let name = path.to_string_lossy();
        let ours: Vec<serde_json::Value> = haven_model::parse_stream(&name, text)
            .into_iter()
            .map(|d| {
                let d = d.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(d.notes.is_empty(), "{name}: YAML 1.1 notes {:?}", d.notes);
                d.value
            })
            .collect();
        let yaml12: Vec<serde_json::Value> = text
            .split("---\n")
            .filter(|d| {
                d.lines()
                    .any(|l| !l.starts_with('#') && !l.trim().is_empty())
            })
            .map(|d| serde_yaml_ng::from_str(d).unwrap())
            .collect();
        assert_eq!(ours, yaml12, "{name} reads differently as YAML 1.1 and 1.2");
    }
}

#[test]
fn layout_and_ordering() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut config = PlatformConfig::new("utrecht", "example.nl", Provider::Azure);
    config.tenants.push(common::tenant("zaken"));
    let files = render(&config, &catalogue).files;
    let has = |p: &str| files.contains_key(&PathBuf::from(p));
    for p in [
        "clusters/utrecht/flux-system/gotk-sync.yaml",
        "clusters/utrecht/infrastructure.yaml",
        "clusters/utrecht/tenants.yaml",
        "infrastructure/cert-manager/namespace.yaml",
        "infrastructure/cert-manager/repository.yaml",
        "infrastructure/cert-manager/release.yaml",
        "infrastructure/cert-manager/network-policies.yaml",
        "infrastructure/cert-manager/kustomization.yaml",
        "infrastructure/cert-manager-config/cluster-issuers.yaml",
        "infrastructure/velero-config/schedules.yaml",
        "infrastructure/grafana/datasources.yaml",
        "infrastructure/envoy-gateway-config/gateway.yaml",
        "tenants/zaken/namespace.yaml",
        "tenants/zaken/sync.yaml",
        "infrastructure/tenant-backups/schedules.yaml",
    ] {
        assert!(has(p), "missing {p}");
    }
    let infra = &files[&PathBuf::from("clusters/utrecht/infrastructure.yaml")];
    let units: Vec<serde_json::Value> = haven_model::parse_stream("i", infra)
        .into_iter()
        .map(|d| d.unwrap().value)
        .collect();
    let deps = |name: &str| -> Vec<String> {
        let u = units
            .iter()
            .find(|u| u["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no unit {name}"));
        u["spec"]["dependsOn"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| d["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(deps("cert-manager-config").contains(&"cert-manager".to_owned()));
    assert!(deps("velero").contains(&"garage".to_owned()));
    // Velero's S3 key is made in the cluster by External Secrets' generators (object store
    // bootstrap), not read from OpenBao's store; the bootstrap Job runs after Garage.
    assert!(deps("velero").contains(&"external-secrets".to_owned()));
    assert!(!deps("velero").contains(&"external-secrets-config".to_owned()));
    assert!(deps("garage-config").contains(&"garage".to_owned()));
    assert!(deps("keycloak").contains(&"cloudnative-pg".to_owned()));
    // Alloy discovers ServiceMonitors: their CRDs come first.
    assert!(deps("alloy").contains(&"prometheus-operator-crds".to_owned()));
    let alloy = &files[&PathBuf::from("infrastructure/alloy/release.yaml")];
    assert!(
        alloy.contains("loki.write")
            && alloy.contains("prometheus.remote_write")
            && alloy.contains("otelcol.exporter.otlp"),
        "{alloy}"
    );
    assert!(deps("envoy-gateway-config").contains(&"envoy-gateway".to_owned()));
    let info = &files[&PathBuf::from("clusters/utrecht/platform-info.yaml")];
    assert!(info.contains("rwxStorageClass: azurefile-csi"), "{info}");
    assert!(
        info.contains("gateway: envoy-gateway-system/platform"),
        "{info}"
    );
    // Azure defaults reach the values.
    let loki = &files[&PathBuf::from("infrastructure/loki/release.yaml")];
    assert!(loki.contains("storageClass: managed-csi"), "{loki}");
    let dns = &files[&PathBuf::from("infrastructure/external-dns/release.yaml")];
    assert!(dns.contains("name: azure"), "{dns}");
    // No secret values in the tree: only references.
    for (p, text) in &files {
        for d in haven_model::parse_stream("f", text) {
            let kind = d.unwrap().value["kind"].clone();
            assert_ne!(kind, "Secret", "{} holds a Secret", p.display());
        }
    }
    // DNS is wired: routes carry the hostnames ExternalDNS publishes.
    let gw = &files[&PathBuf::from("infrastructure/envoy-gateway-config/gateway.yaml")];
    assert!(
        gw.contains("- grafana.example.nl") && gw.contains("- keycloak.example.nl"),
        "{gw}"
    );
    // The platform's hosts get a certificate HTTP-01 can prove (no wildcard through gateway-shim).
    assert!(
        gw.contains("kind: Certificate") && gw.contains("name: letsencrypt-production"),
        "{gw}"
    );
    assert!(!gw.contains("cert-manager.io/cluster-issuer"), "{gw}");
    let tenant_sync = &files[&PathBuf::from("tenants/zaken/sync.yaml")];
    assert!(tenant_sync.contains("serviceAccountName: flux-reconciler"));
    assert!(tenant_sync.contains("name: haven-admission"));
}

fn example_config() -> PlatformConfig {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/platform/haven-plus.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let catalogue = Catalogue::builtin().unwrap();
    let (config, notes) =
        haven_platform::config::parse("haven-plus.yaml", &text, &catalogue).unwrap();
    assert!(notes.is_empty());
    config
}

#[test]
fn the_example_config_reads_without_notes() {
    assert_eq!(example_config().tenants.len(), 2);
}

#[test]
fn the_example_config_renders_and_validates() {
    assert_valid("example", &example_config());
}

/// The one chart we ship ourselves: the values we render for it satisfy its values.schema.json
/// (over the chart's defaults, as Helm merges them).
#[test]
fn haven_admission_values_satisfy_the_charts_schema() {
    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/charts/haven-admission"
    );
    let read = |f: &str| std::fs::read_to_string(format!("{chart}/{f}")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&read("values.schema.json")).unwrap();
    let defaults = haven_model::parse_stream("values.yaml", &read("values.yaml"))
        .remove(0)
        .unwrap()
        .value;
    let config = PlatformConfig::new("haven", "example.nl", Provider::Generic);
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    let release = &files[&PathBuf::from("infrastructure/haven-admission/release.yaml")];
    let hr = haven_model::parse_stream("r", release)
        .remove(0)
        .unwrap()
        .value;
    let mut values = defaults;
    haven_platform::catalogue::merge(&mut values, &hr["spec"]["values"]);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&values)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let unknown = haven_model::strict::unknown_properties(&schema, &hr["spec"]["values"]);
    assert!(unknown.is_empty(), "{unknown:#?}");
    let exempt = &values["config"]["exemptions"]["namespaces"];
    assert!(
        exempt.as_array().unwrap().iter().any(|n| n == "falco"),
        "{exempt}"
    );
}

#[test]
fn the_clear_text_scan_finds_credentials() {
    let v = serde_json::json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "spec": {"values": {"adminPassword": "hunter2",
        "s3": {"secret_access_key": "abc", "existingSecret": "ref"}, "token": ""}}});
    let found: Vec<String> =
        haven_platform::secrets::scan_object("helm.toolkit.fluxcd.io/v2", "HelmRelease", &v)
            .into_iter()
            .map(|e| e.path)
            .collect();
    assert_eq!(
        found,
        [
            "spec.values.adminPassword",
            "spec.values.s3.secret_access_key"
        ]
    );
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        PathBuf::from("x.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n".to_owned(),
    );
    let caught = std::panic::catch_unwind(|| assert_no_clear_secrets("t", &files));
    assert!(caught.is_err());
}

/// cert-manager runs with `enableGatewayAPI: true`, and its controller reads the Gateway API
/// CRDs when it starts: its unit waits for the `gateway-api` unit whenever the ingress choice
/// selects that component, and, where the choice brings its own CRDs (envoy-gateway), renders
/// without the ordering and without a "needs gateway-api" configuration error.
#[test]
fn cert_manager_waits_for_the_gateway_api_crds_when_they_are_selected() {
    let catalogue = Catalogue::builtin().unwrap();
    let cert_manager = catalogue.get("cert-manager").unwrap();
    assert_eq!(cert_manager.values["config"]["enableGatewayAPI"], true);
    for ingress in [
        IngressImplementation::EnvoyGateway,
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        let mut config = PlatformConfig::new("gw", "example.nl", Provider::Generic);
        config.capabilities.ingress.implementation = ingress;
        let problems = haven_platform::catalogue::check_choices(&config, &catalogue);
        assert!(problems.is_empty(), "{ingress:?}: {problems:?}");
        let files = render(&config, &catalogue).files;
        let infra = &files[&PathBuf::from("clusters/gw/infrastructure.yaml")];
        let units: Vec<serde_json::Value> = haven_model::parse_stream("i", infra)
            .into_iter()
            .map(|d| d.unwrap().value)
            .collect();
        let unit = units
            .iter()
            .find(|u| u["metadata"]["name"] == "cert-manager")
            .unwrap_or_else(|| panic!("{ingress:?}: no cert-manager unit"));
        let waits = unit["spec"]["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["name"] == "gateway-api");
        let selected = units.iter().any(|u| u["metadata"]["name"] == "gateway-api");
        assert_eq!(
            waits, selected,
            "{ingress:?}: gateway-api selected: {selected}, cert-manager waits for it: {waits}"
        );
        assert_eq!(selected, ingress != IngressImplementation::EnvoyGateway);
    }
}

/// The ingress choices whose charts lack the Gateway API CRDs get them from the catalogue's
/// `gateway-api` component (upstream's standard channel at the pinned tag, applied by a Flux
/// Kustomization that never prunes them), ordered before the implementation's HelmRelease and
/// its `-config` unit; envoy-gateway, whose chart installs them, does not.
#[test]
fn gateway_api_crds_come_before_the_ingress_alternatives() {
    let catalogue = Catalogue::builtin().unwrap();
    let pin = &catalogue.get("gateway-api").unwrap().version;
    for (ingress, component) in [
        (IngressImplementation::EnvoyGateway, "envoy-gateway"),
        (IngressImplementation::Traefik, "traefik"),
        (IngressImplementation::Cilium, "cilium"),
        (IngressImplementation::Istio, "istiod"),
    ] {
        let mut config = PlatformConfig::new("gw", "example.nl", Provider::Generic);
        config.capabilities.ingress.implementation = ingress;
        let files = render(&config, &catalogue).files;
        let infra = &files[&PathBuf::from("clusters/gw/infrastructure.yaml")];
        let units: Vec<serde_json::Value> = haven_model::parse_stream("i", infra)
            .into_iter()
            .map(|d| d.unwrap().value)
            .collect();
        let deps = |name: &str| -> Vec<String> {
            let u = units
                .iter()
                .find(|u| u["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("{ingress:?}: no unit {name}"));
            u["spec"]["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let has_unit = units.iter().any(|u| u["metadata"]["name"] == "gateway-api");
        if ingress == IngressImplementation::EnvoyGateway {
            assert!(!has_unit, "envoy-gateway's chart installs the CRDs itself");
            continue;
        }
        assert!(has_unit, "{ingress:?}: no gateway-api unit");
        let gateway = units
            .iter()
            .find(|u| u["metadata"]["name"] == "gateway-api")
            .unwrap();
        assert_eq!(gateway["spec"]["wait"], true, "{ingress:?}");
        for unit in [component.to_owned(), format!("{component}-config")] {
            assert!(
                deps(&unit).contains(&"gateway-api".to_owned()),
                "{ingress:?}: {unit} does not wait for gateway-api: {:?}",
                deps(&unit)
            );
        }
        let doc = |p: &str| -> serde_json::Value {
            let text = &files[&PathBuf::from(p)];
            haven_model::parse_stream(p, text)
                .into_iter()
                .next()
                .unwrap()
                .unwrap()
                .value
        };
        let repo = doc("infrastructure/gateway-api/repository.yaml");
        assert_eq!(repo["kind"], "GitRepository");
        assert_eq!(
            repo["spec"]["url"],
            "https://github.com/kubernetes-sigs/gateway-api"
        );
        assert_eq!(repo["spec"]["ref"]["tag"], pin.as_str());
        let apply = doc("infrastructure/gateway-api/manifests.yaml");
        assert_eq!(apply["kind"], "Kustomization");
        assert_eq!(apply["spec"]["path"], "./config/crd/standard");
        assert_eq!(apply["spec"]["prune"], false, "CRDs are never pruned");
        assert_eq!(apply["spec"]["wait"], true);
        assert_eq!(apply["spec"]["sourceRef"]["name"], "gateway-api");
        assert!(
            !files.contains_key(&PathBuf::from("infrastructure/gateway-api/release.yaml")),
            "{ingress:?}: not a chart"
        );
    }
    // Its CRDs are built in, as that component's.
    let bundle = haven_platform::crds::Bundle::builtin();
    let kinds: std::collections::BTreeSet<&str> = bundle
        .entries()
        .iter()
        .filter(|e| e.components.iter().any(|c| c == "gateway-api"))
        .map(|e| e.kind.as_str())
        .collect();
    for kind in [
        "GatewayClass",
        "Gateway",
        "HTTPRoute",
        "GRPCRoute",
        "ReferenceGrant",
    ] {
        assert!(kinds.contains(kind), "{kind} not built in: {kinds:?}");
    }
}

/// Dutch law by construction (issue #28): for every gateway alternative the platform Gateway's
/// plain-HTTP listener takes routes of its own namespace only and its one route redirects to
/// HTTPS, the platform's routes send HSTS for two years with subdomains, Envoy Gateway and
/// Traefik get a gateway-wide TLS 1.2+/NCSC-good-cipher policy and HSTS for tenants' routes,
/// and `plus validate` runs the `nl.*` rules on the tree: with the redirect and the HSTS
/// filters taken out, it reports them.
#[test]
fn every_gateway_alternative_serves_https_only_with_hsts_and_ncsc_tls() {
    let catalogue = Catalogue::builtin().unwrap();
    for (ingress, component) in [
        (IngressImplementation::EnvoyGateway, "envoy-gateway"),
        (IngressImplementation::Traefik, "traefik"),
        (IngressImplementation::Cilium, "cilium"),
        (IngressImplementation::Istio, "istiod"),
    ] {
        let mut config = PlatformConfig::new("gw", "example.nl", Provider::Generic);
        config.capabilities.ingress.implementation = ingress;
        config.tenants.push(common::tenant("zaken"));
        let rendered = render(&config, &catalogue);
        let path = PathBuf::from(format!("infrastructure/{component}-config/gateway.yaml"));
        let routes = PathBuf::from("infrastructure/platform-routes/routes.yaml");
        let docs: Vec<serde_json::Value> = [&path, &routes]
            .iter()
            .flat_map(|p| haven_model::parse_stream("g", &rendered.files[*p]))
            .map(|d| d.unwrap().value)
            .collect();
        let of = |kind: &str, name: &str| {
            docs.iter()
                .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("{ingress:?}: no {kind}/{name}"))
        };
        let gateway = of("Gateway", "platform");
        assert_eq!(gateway["spec"]["listeners"][0]["protocol"], "HTTP");
        assert_eq!(
            gateway["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["from"], "Same",
            "{ingress:?}: tenants' routes must not attach to plain HTTP"
        );
        let redirect = of("HTTPRoute", "https-redirect");
        assert_eq!(redirect["spec"]["parentRefs"][0]["sectionName"], "http");
        assert_eq!(
            redirect["spec"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"],
            "https"
        );
        let grafana = of("HTTPRoute", "grafana");
        assert_eq!(
            grafana["spec"]["rules"][0]["filters"][0]["responseHeaderModifier"]["set"][0]["value"],
            "max-age=63072000; includeSubDomains"
        );
        match ingress {
            IngressImplementation::EnvoyGateway => {
                let ctp = of("ClientTrafficPolicy", "platform");
                assert_eq!(ctp["spec"]["tls"]["minVersion"], "1.2");
                assert_eq!(
                    ctp["spec"]["headers"]["lateResponseHeaders"]["set"][0]["name"],
                    "Strict-Transport-Security"
                );
            }
            IngressImplementation::Traefik => {
                assert_eq!(
                    of("TLSOption", "default")["spec"]["minVersion"],
                    "VersionTLS12"
                );
                assert_eq!(
                    of("Middleware", "hsts")["spec"]["headers"]["stsSeconds"],
                    63_072_000
                );
                let release =
                    &rendered.files[&PathBuf::from("infrastructure/traefik/release.yaml")];
                assert!(
                    release.contains("traefik-hsts@kubernetescrd"),
                    "the websecure entry point applies the HSTS Middleware:\n{release}"
                );
            }
            _ => {}
        }
        // The same tree without the redirect route and the HSTS filters fails validation.
        let mut broken = rendered.files.clone();
        for p in [&path, &routes] {
            let stripped: Vec<String> = rendered.files[p]
                .split("---\n")
                .filter(|d| !d.contains("name: https-redirect"))
                .map(|d| d.replace("Strict-Transport-Security", "X-Removed"))
                .collect();
            broken.insert(p.clone(), stripped.join("---\n"));
        }
        let facts = validate::platform_facts(&broken);
        let schemas = BuiltinSchemas::new(facts.components);
        let report = validate::validate(&broken, &schemas, &Options::default());
        let found: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
        let has = |rule: &str| found.iter().any(|d| d.contains(rule));
        assert!(has("nl.http-redirect"), "{ingress:?}: {found:#?}");
        assert!(has("nl.hsts "), "{ingress:?}: {found:#?}");
    }
}

/// Item 7 of issue #21, Flux safety, on every HelmRelease and Kustomization rendered for every
/// provider and alternative: drift detection on; a failed install retried without an uninstall;
/// a failed upgrade retried and rolled back, never uninstalled; timeouts and retry intervals
/// set; health checks for the kinds `wait` cannot judge.
#[test]
fn flux_safety_on_every_helm_release_and_kustomization() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        let (mut releases, mut kustomizations, mut gateways, mut schedules) = (0, 0, 0, 0);
        for (path, text) in &files {
            let docs: Vec<serde_json::Value> = haven_model::parse_stream("t", text)
                .into_iter()
                .map(|d| d.unwrap().value)
                .collect();
            for v in &docs {
                let at = format!("{label}: {}: {}", path.display(), v["metadata"]["name"]);
                let spec = &v["spec"];
                match v["kind"].as_str() {
                    Some("HelmRelease") => {
                        releases += 1;
                        assert_eq!(spec["driftDetection"]["mode"], "enabled", "{at}");
                        assert_eq!(
                            spec["install"]["strategy"]["name"], "RetryOnFailure",
                            "{at}"
                        );
                        assert!(
                            spec["install"]["remediation"].is_null(),
                            "{at}: install remediation uninstalls"
                        );
                        let r = &spec["upgrade"]["remediation"];
                        assert!(r["retries"].as_u64().unwrap() >= 1, "{at}");
                        assert_eq!(r["strategy"], "rollback", "{at}");
                        assert_eq!(r["remediateLastFailure"], true, "{at}");
                        assert_ne!(
                            spec["upgrade"]["strategy"]["name"], "RetryOnFailure",
                            "{at}"
                        );
                        for f in ["interval", "timeout"] {
                            assert!(spec[f].is_string(), "{at}: no {f}");
                        }
                        assert!(spec["suspend"].is_null(), "{at}: rendered suspended");
                    }
                    Some("Kustomization")
                        if v["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1" =>
                    {
                        // `flux bootstrap` writes its own flux-system Kustomization over ours.
                        if v["metadata"]["name"] == "flux-system" {
                            continue;
                        }
                        kustomizations += 1;
                        for f in ["interval", "retryInterval", "timeout"] {
                            assert!(spec[f].is_string(), "{at}: no {f}");
                        }
                        assert!(spec["suspend"].is_null(), "{at}: rendered suspended");
                        let kinds: Vec<&str> = spec["healthCheckExprs"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
                            .unwrap_or_default();
                        // What the unit applies: the files its kustomization.yaml lists.
                        let dir = spec["path"].as_str().unwrap().trim_start_matches("./");
                        let applied: Vec<String> = files
                            .iter()
                            .filter(|(p, _)| {
                                p.starts_with(dir) && p.parent() == Some(std::path::Path::new(dir))
                            })
                            .map(|(_, t)| t.clone())
                            .collect();
                        let applies = |kind: &str| {
                            applied
                                .iter()
                                .any(|t| t.contains(&format!("\nkind: {kind}\n")))
                        };
                        if v["metadata"]["namespace"] == "flux-system"
                            && dir.starts_with("infrastructure/")
                        {
                            assert_eq!(spec["wait"], true, "{at}");
                        }
                        for kind in ["Gateway", "Schedule"] {
                            if applies(kind) {
                                assert!(
                                    kinds.contains(&kind),
                                    "{at}: applies a {kind} without a health check"
                                );
                                if kind == "Gateway" {
                                    gateways += 1
                                } else {
                                    schedules += 1
                                }
                            }
                        }
                        for e in spec["healthCheckExprs"].as_array().into_iter().flatten() {
                            assert!(
                                e["current"].is_string() && e["failed"].is_string(),
                                "{at}: {e}"
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(
            releases > 10 && kustomizations > 10,
            "{label}: {releases} {kustomizations}"
        );
        assert!(
            gateways >= 1 && schedules >= 1,
            "{label}: {gateways} {schedules}"
        );
    }
}

/// A provider's DNS settings, as an operator fills them in.
fn with_dns(provider: Provider, azure_auth: haven_platform::config::AzureAuth) -> PlatformConfig {
    use haven_platform::config::{AcmeChallengeZone, AzureDns, OvhDns, Rfc2136, TsigAlgorithm};
    let mut c = PlatformConfig::new("haven", "platform.example.nl", provider);
    c.tenants.push(common::tenant("zaken"));
    let server = |host: &str| Rfc2136 {
        server: host.to_owned(),
        port: 53,
        tsig_key_name: "haven-plus".to_owned(),
        tsig_algorithm: TsigAlgorithm::HmacSha512,
    };
    let dns = &mut c.capabilities.dns;
    dns.zone = Some("example.nl".to_owned());
    match provider {
        Provider::Azure => {
            dns.azure = Some(AzureDns {
                subscription_id: "00000000-0000-0000-0000-000000000001".to_owned(),
                resource_group: "dns".to_owned(),
                tenant_id: "00000000-0000-0000-0000-000000000002".to_owned(),
                client_id: "00000000-0000-0000-0000-000000000003".to_owned(),
                auth: azure_auth,
            })
        }
        Provider::Ovh => {
            dns.ovh = Some(OvhDns {
                endpoint: "ovh-eu".to_owned(),
                acme_challenge: Some(AcmeChallengeZone {
                    zone: "acme.example.nl".to_owned(),
                    server: server("2001:db8::53"),
                }),
            })
        }
        _ => dns.rfc2136 = Some(server("ns1.example.nl")),
    }
    c
}

fn docs_of(files: &std::collections::BTreeMap<PathBuf, String>) -> Vec<serde_json::Value> {
    files
        .values()
        .flat_map(|t| haven_model::parse_stream("t", t))
        .map(|d| d.unwrap().value)
        .collect()
}

/// Issue #21 item 3: for every provider with DNS, the provider's credentials reach both
/// ExternalDNS and cert-manager's DNS-01 solver from the secret store (both backends), the
/// references and certificates proofs find every Secret made and consumed, and the platform's
/// wildcard certificate is proved over DNS-01 in the configured zone.
#[test]
fn dns_credentials_reach_external_dns_and_cert_manager_and_the_wildcard_is_dns01() {
    use haven_platform::config::AzureAuth;
    let catalogue = Catalogue::builtin().unwrap();
    let cases = [
        (
            Provider::Previder,
            AzureAuth::WorkloadIdentity,
            "rfc2136",
            Some("tsig-secret"),
            Some("tsig-secret"),
        ),
        (
            Provider::Cyso,
            AzureAuth::WorkloadIdentity,
            "rfc2136",
            Some("tsig-secret"),
            Some("tsig-secret"),
        ),
        (
            Provider::Generic,
            AzureAuth::WorkloadIdentity,
            "rfc2136",
            Some("tsig-secret"),
            Some("tsig-secret"),
        ),
        (
            Provider::Ovh,
            AzureAuth::WorkloadIdentity,
            "rfc2136",
            Some("consumer-key"),
            Some("acme-tsig-secret"),
        ),
        (
            Provider::Azure,
            AzureAuth::WorkloadIdentity,
            "azureDNS",
            None,
            None,
        ),
        (
            Provider::Azure,
            AzureAuth::ServicePrincipal,
            "azureDNS",
            Some("client-secret"),
            Some("client-secret"),
        ),
    ];
    for (provider, auth, solver_key, dns_key, acme_key) in cases {
        for backend in [SecretsBackend::Openbao, SecretsBackend::SealedSecrets] {
            let mut config = with_dns(provider, auth);
            config.capabilities.secrets.backend = backend;
            let label = format!("{} {auth:?} {backend:?}", provider.name());
            assert_valid(&label, &config);
            let rendered = render(&config, &catalogue);
            assert!(
                !rendered
                    .notes
                    .iter()
                    .any(|n| n.contains("DNS-01") || n.contains("capabilities.dns")),
                "{label}: {:?}",
                rendered.notes
            );
            let docs = docs_of(&rendered.files);
            let find = |kind: &str, name: &str| {
                docs.iter()
                    .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
                    .unwrap_or_else(|| panic!("{label}: no {kind}/{name}"))
            };
            // The credentials' producers, from the store or sealed.
            let secret_kind = match backend {
                SecretsBackend::Openbao => "ExternalSecret",
                SecretsBackend::SealedSecrets => "SealedSecret",
            };
            let producer = |name: &str| {
                docs.iter()
                    .find(|d| d["kind"] == secret_kind && d["metadata"]["name"] == name)
            };
            let ours = |name: &str, key: Option<&str>, ns: &str| match (producer(name), key) {
                (None, None) => {}
                (Some(p), Some(key)) => {
                    assert_eq!(p["metadata"]["namespace"], ns, "{label}");
                    if backend == SecretsBackend::Openbao {
                        let data = p["spec"]["data"].as_array().unwrap();
                        assert!(
                            data.iter().all(|d| d["remoteRef"]["key"] == "platform/dns"),
                            "{label}: {p}"
                        );
                        assert!(data.iter().any(|d| d["secretKey"] == key), "{label}: {p}");
                    }
                }
                (p, k) => panic!("{label}: {name}: {p:?} for {k:?}"),
            };
            ours("external-dns-credentials", dns_key, "external-dns");
            // Azure's service principal: azure.json made from the store's client secret by
            // External Secrets' Go template, which must read it as a template (no escaped
            // quotes) and yield JSON.
            if auth == AzureAuth::ServicePrincipal && backend == SecretsBackend::Openbao {
                let es = producer("external-dns-credentials").unwrap();
                let file = es["spec"]["target"]["template"]["data"]["azure.json"]
                    .as_str()
                    .unwrap();
                assert!(!file.contains('\\'), "{label}: {file}");
                let json: serde_json::Value = serde_json::from_str(file).unwrap();
                assert_eq!(
                    json["aadClientSecret"], "{{ index . `client-secret` }}",
                    "{label}"
                );
                assert_eq!(
                    json["aadClientId"], "00000000-0000-0000-0000-000000000003",
                    "{label}"
                );
            }
            ours("cert-manager-dns-credentials", acme_key, "cert-manager");
            // ExternalDNS reads them (environment or azure.json) and gets the settings.
            let values = &find("HelmRelease", "external-dns")["spec"]["values"];
            let text = values.to_string();
            match provider {
                Provider::Azure => {
                    assert!(
                        values["extraVolumeMounts"][0]["mountPath"] == "/etc/kubernetes",
                        "{label}: {values}"
                    );
                    let volume = &values["extraVolumes"][0];
                    match auth {
                        AzureAuth::ServicePrincipal => assert_eq!(
                            volume["secret"]["secretName"], "external-dns-credentials",
                            "{label}"
                        ),
                        AzureAuth::WorkloadIdentity => {
                            assert_eq!(
                                volume["configMap"]["name"], "external-dns-azure",
                                "{label}"
                            );
                            assert_eq!(
                                values["podLabels"]["azure.workload.identity/use"], "true",
                                "{label}"
                            );
                        }
                    }
                }
                _ => {
                    assert!(
                        text.contains(&format!("\"key\":\"{}\"", dns_key.unwrap())),
                        "{label}: {text}"
                    );
                    assert!(text.contains("external-dns-credentials"), "{label}: {text}");
                }
            }
            if provider == Provider::Ovh {
                assert_eq!(values["extraArgs"]["ovh-endpoint"], "ovh-eu", "{label}");
            } else if provider != Provider::Azure {
                assert_eq!(
                    values["extraArgs"]["rfc2136-host"], "ns1.example.nl",
                    "{label}"
                );
                assert_eq!(
                    values["extraArgs"]["rfc2136-zone"][0], "example.nl",
                    "{label}"
                );
                assert_eq!(
                    values["extraArgs"]["rfc2136-tsig-secret-alg"], "hmac-sha512",
                    "{label}"
                );
            }
            // cert-manager: both issuers pick DNS-01 for the zone, wired to the credentials.
            for issuer in ["letsencrypt-staging", "letsencrypt-production"] {
                let solvers = find("ClusterIssuer", issuer)["spec"]["acme"]["solvers"]
                    .as_array()
                    .unwrap()
                    .clone();
                let dns01 = solvers
                    .iter()
                    .find(|s| s.get("dns01").is_some())
                    .unwrap_or_else(|| panic!("{label}: {issuer}"));
                assert_eq!(dns01["selector"]["dnsZones"][0], "example.nl", "{label}");
                let cfg = &dns01["dns01"][solver_key];
                assert!(cfg.is_object(), "{label}: {dns01}");
                match acme_key {
                    Some(k) => {
                        let r = if provider == Provider::Azure {
                            &cfg["clientSecretSecretRef"]
                        } else {
                            &cfg["tsigSecretSecretRef"]
                        };
                        assert_eq!(
                            (r["name"].as_str(), r["key"].as_str()),
                            (Some("cert-manager-dns-credentials"), Some(k)),
                            "{label}"
                        );
                    }
                    None => assert_eq!(
                        cfg["managedIdentity"]["clientID"], "00000000-0000-0000-0000-000000000003",
                        "{label}"
                    ),
                }
                if provider == Provider::Ovh {
                    assert_eq!(dns01["dns01"]["cnameStrategy"], "Follow", "{label}");
                    assert_eq!(cfg["nameserver"], "[2001:db8::53]:53", "{label}");
                }
            }
            // The wildcard: the tenants' HTTPS listener `*.<domain>` (each platform host has
            // its own, more specific one), all served by a certificate for the wildcard.
            let cert = find("Certificate", "platform-tls");
            assert_eq!(
                cert["spec"]["dnsNames"],
                serde_json::json!(["*.platform.example.nl"]),
                "{label}"
            );
            let gw = docs.iter().find(|d| d["kind"] == "Gateway").unwrap();
            let https: Vec<&serde_json::Value> = gw["spec"]["listeners"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["protocol"] == "HTTPS")
                .collect();
            let wildcards: Vec<&&serde_json::Value> = https
                .iter()
                .filter(|l| l["hostname"] == "*.platform.example.nl")
                .collect();
            assert_eq!(wildcards.len(), 1, "{label}");
            assert_eq!(wildcards[0]["name"], "https", "{label}");
            // Take the cert-manager credentials away: the certificates proof says so.
            let mut broken = rendered.files.clone();
            let removed = broken.remove(&PathBuf::from("infrastructure/cert-manager/secrets.yaml"));
            assert_eq!(removed.is_some(), acme_key.is_some(), "{label}");
            if acme_key.is_some() {
                let tree = haven_platform::charts::tree_objects(&broken);
                // As with `--charts`: cert-manager's chart is seen, so it is not what makes it.
                let mut landscape = haven_platform::proofs::Landscape::of_tree(&tree);
                landscape.unseen.remove("cert-manager");
                let problems = haven_platform::proofs::prove(&landscape, &catalogue);
                assert!(
                    problems
                        .iter()
                        .any(|p| p.message.starts_with("DNS-01 credentials not wired")),
                    "{label}: {problems:#?}"
                );
            }
        }
    }
}

/// Without DNS-01 (kind's in-memory DNS, or a provider without its settings) the Gateway has
/// one HTTPS listener per platform host, each served by the certificate for exactly those
/// hosts, proved over HTTP-01: never a wildcard listener with a certificate that does not
/// match it (which the certificates proof would report).
#[test]
fn without_dns01_each_platform_host_has_its_own_listener() {
    let catalogue = Catalogue::builtin().unwrap();
    for provider in [
        Provider::Kind,
        Provider::Previder,
        Provider::Azure,
        Provider::Ovh,
    ] {
        let mut config = PlatformConfig::new("haven", "example.nl", provider);
        config.tenants.push(common::tenant("zaken"));
        let rendered = render(&config, &catalogue);
        assert!(
            rendered
                .notes
                .iter()
                .any(|n| n.starts_with("no DNS-01 for example.nl")),
            "{:?}",
            rendered.notes
        );
        let docs = docs_of(&rendered.files);
        let gw = docs.iter().find(|d| d["kind"] == "Gateway").unwrap();
        let hosts: Vec<&str> = gw["spec"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["protocol"] == "HTTPS")
            .map(|l| l["hostname"].as_str().unwrap())
            .collect();
        assert_eq!(
            hosts,
            ["grafana.example.nl", "keycloak.example.nl"],
            "{}",
            provider.name()
        );
        let cert = docs.iter().find(|d| d["kind"] == "Certificate").unwrap();
        assert_eq!(cert["spec"]["dnsNames"], serde_json::json!(hosts));
        for d in docs.iter().filter(|d| d["kind"] == "ClusterIssuer") {
            assert!(
                d["spec"]["acme"]["solvers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s.get("dns01").is_none())
            );
        }
        // Each route attaches to its own listener.
        let grafana = docs
            .iter()
            .find(|d| d["kind"] == "HTTPRoute" && d["metadata"]["name"] == "grafana")
            .unwrap();
        assert_eq!(
            grafana["spec"]["parentRefs"][0]["sectionName"],
            "https-grafana"
        );
        assert!(
            !docs
                .iter()
                .any(|d| d["metadata"]["name"] == "cert-manager-dns-credentials")
        );
    }
}

/// A tenant with every part of the tenant policy set (issue #21 item 2), and one without.
fn policy_tenants() -> Vec<Tenant> {
    let mut strict = common::tenant("zaken");
    strict.policy = haven_platform::config::TenantPolicy {
        allowed_registries: vec!["ghcr.io/gemeente-x".to_owned()],
        load_balancer: false,
        hostnames: vec![
            "zaken.gemeente.nl".to_owned(),
            "*.zaken.gemeente.nl".to_owned(),
        ],
    };
    let mut open = common::tenant("open");
    open.policy.load_balancer = true;
    vec![strict, open]
}

fn tenant_namespace(
    files: &std::collections::BTreeMap<PathBuf, String>,
    t: &str,
) -> serde_json::Value {
    let text = &files[&PathBuf::from(format!("tenants/{t}/namespace.yaml"))];
    haven_model::parse_stream("ns", text)
        .remove(0)
        .unwrap()
        .value
}

/// The contract's annotations (docs/admission.md, "Tenant policy") on each tenant Namespace, from the
/// config: the tenant's registries, else the platform's; the load balancer only where allowed;
/// every platform host and every other tenant's names denied; the tenant's own names allowed,
/// `<tenant>.<domain>` and `*.<tenant>.<domain>` where it has none.
#[test]
fn tenant_namespaces_carry_the_policy_annotations() {
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Cyso);
    config.capabilities.admission.allowed_registries = vec!["registry.example.nl".to_owned()];
    config.tenants = policy_tenants();
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    let zaken = tenant_namespace(&files, "zaken");
    let a = &zaken["metadata"]["annotations"];
    assert_eq!(
        a["haven.commonground.nl/allowed-registries"],
        "ghcr.io/gemeente-x"
    );
    assert!(
        a["haven.commonground.nl/allow-load-balancer"].is_null(),
        "{a:#}"
    );
    assert_eq!(
        a["haven.commonground.nl/allowed-hostnames"],
        "zaken.gemeente.nl,*.zaken.gemeente.nl"
    );
    let denied: Vec<&str> = a["haven.commonground.nl/denied-hostnames"]
        .as_str()
        .unwrap()
        .split(',')
        .collect();
    // Every host the platform routes (its HTTPRoutes' hostnames), and the wildcard.
    let routed: std::collections::BTreeSet<String> = docs_of(&files)
        .iter()
        .filter(|d| d["kind"] == "HTTPRoute")
        .flat_map(|d| {
            d["spec"]["hostnames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    assert!(routed.contains("keycloak.example.nl"), "{routed:?}");
    for h in &routed {
        assert!(denied.contains(&h.as_str()), "{h} not in {denied:?}");
    }
    // Not the wildcard itself: the shared `*.<domain>` listener serves tenants' own hosts.
    assert!(!denied.contains(&"*.example.nl"), "{denied:?}");
    // Every other tenant's names (`open` has none given: its default), never its own.
    assert!(denied.contains(&"open.example.nl"), "{denied:?}");
    assert!(denied.contains(&"*.open.example.nl"), "{denied:?}");
    assert!(!denied.iter().any(|d| d.contains("zaken")), "{denied:?}");
    let open = tenant_namespace(&files, "open");
    let a = &open["metadata"]["annotations"];
    assert_eq!(
        a["haven.commonground.nl/allowed-registries"],
        "registry.example.nl"
    );
    assert_eq!(a["haven.commonground.nl/allow-load-balancer"], "true");
    // Without `policy.hostnames`: `<tenant>.<domain>` and below, never "any name".
    assert_eq!(
        a["haven.commonground.nl/allowed-hostnames"],
        "open.example.nl,*.open.example.nl"
    );
    let denied = a["haven.commonground.nl/denied-hostnames"]
        .as_str()
        .unwrap();
    assert!(
        denied.ends_with(",zaken.gemeente.nl,*.zaken.gemeente.nl")
            && denied.contains("keycloak.example.nl"),
        "{denied}"
    );
    // Without a platform default, no registry restriction.
    config.capabilities.admission.allowed_registries.clear();
    let files = render(&config, &Catalogue::builtin().unwrap()).files;
    assert!(
        tenant_namespace(&files, "open")["metadata"]["annotations"]
            ["haven.commonground.nl/allowed-registries"]
            .is_null()
    );
}

/// The haven webhook leaves kind's local-path provisioner alone (its helper Pods mount
/// hostPath: denied, every PVC stays Pending), and enforces only where a namespace is labelled
/// (every namespace the platform renders is): an unlabelled CNI or CSI namespace is not denied.
/// The Kyverno engine the same.
#[test]
fn admission_leaves_namespaces_the_platform_does_not_own_alone() {
    let catalogue = Catalogue::builtin().unwrap();
    for provider in Provider::ALL {
        let config = PlatformConfig::new("haven", "example.nl", provider);
        let files = render(&config, &catalogue).files;
        let release = &files[&PathBuf::from("infrastructure/haven-admission/release.yaml")];
        let hr = haven_model::parse_stream("r", release)
            .remove(0)
            .unwrap()
            .value;
        let cfg = &hr["spec"]["values"]["config"];
        let exempt: Vec<&str> = cfg["exemptions"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(
            exempt.contains(&"local-path-storage"),
            provider == Provider::Kind,
            "{}: {exempt:?}",
            provider.name()
        );
        // What repairs a broken webhook is never held up by it (the Pod webhook fails closed).
        for ns in ["flux-system", "cert-manager", "kube-system"] {
            assert!(
                exempt.contains(&ns),
                "{}: {ns} in {exempt:?}",
                provider.name()
            );
        }
        assert_eq!(
            cfg["defaults"]["enforce"],
            "privileged",
            "{}",
            provider.name()
        );

        let mut k = config.clone();
        k.capabilities.admission.engine = AdmissionEngine::Kyverno;
        let files = render(&k, &catalogue).files;
        let text = &files[&PathBuf::from("infrastructure/kyverno-config/pod-security.yaml")];
        let policy = haven_model::parse_stream("p", text)
            .remove(0)
            .unwrap()
            .value;
        let rule = &policy["spec"]["rules"][0];
        let excluded: Vec<&str> = rule["exclude"]["any"][0]["resources"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(
            excluded.contains(&"local-path-storage"),
            provider == Provider::Kind,
            "{}",
            provider.name()
        );
        assert_eq!(
            rule["match"]["any"][0]["resources"]["namespaceSelector"]["matchLabels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
    }
}

/// Issue #21 item 2 on the Kyverno engine: the same policy set as ClusterPolicies, and with
/// either engine every provider's render validates with zero errors (the CRD schemas of the
/// pinned Kyverno included).
#[test]
fn the_tenant_policy_renders_and_validates_on_every_provider_with_either_engine() {
    let catalogue = Catalogue::builtin().unwrap();
    for provider in Provider::ALL {
        for engine in [AdmissionEngine::HavenAdmission, AdmissionEngine::Kyverno] {
            let mut c = PlatformConfig::new("haven", "example.nl", provider);
            c.tenants = policy_tenants();
            c.capabilities.admission.engine = engine;
            c.capabilities.admission.allowed_registries = vec!["registry.example.nl".to_owned()];
            if engine == AdmissionEngine::Kyverno {
                c.capabilities.admission.image_verification =
                    Some(haven_platform::config::ImageVerification {
                        images: vec!["ghcr.io/gemeente-x/*".to_owned()],
                        public_keys: vec![
                            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----".to_owned(),
                        ],
                        keyless: Some(haven_platform::config::Keyless {
                            issuer: "https://token.actions.githubusercontent.com".to_owned(),
                            subject_regexp: "^https://github.com/gemeente-x/.+$".to_owned(),
                        }),
                    });
            }
            let label = format!("{}+{engine:?}", provider.name());
            assert_valid(&label, &c);
            let files = render(&c, &catalogue).files;
            let tenant_policy = PathBuf::from("infrastructure/kyverno-config/tenant-policy.yaml");
            if engine == AdmissionEngine::HavenAdmission {
                assert!(!files.contains_key(&tenant_policy), "{label}");
                continue;
            }
            let kustomization =
                &files[&PathBuf::from("infrastructure/kyverno-config/kustomization.yaml")];
            assert!(kustomization.contains("tenant-policy.yaml"), "{label}");
            assert!(kustomization.contains("pod-security.yaml"), "{label}");
            let policies: Vec<serde_json::Value> =
                haven_model::parse_stream("p", &files[&tenant_policy])
                    .into_iter()
                    .map(|d| d.unwrap().value)
                    .collect();
            let names: Vec<&str> = policies
                .iter()
                .map(|p| p["metadata"]["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                names,
                [
                    "haven-restrict-image-registries",
                    "haven-disallow-moving-tags",
                    "haven-require-requests",
                    "haven-restrict-load-balancers",
                    "haven-restrict-hostnames",
                    "haven-verify-image-signatures",
                ],
                "{label}"
            );
            for p in &policies {
                assert_eq!(p["kind"], "ClusterPolicy");
                for r in p["spec"]["rules"].as_array().unwrap() {
                    let action = r["validate"]["failureAction"]
                        .as_str()
                        .or(r["verifyImages"][0]["failureAction"].as_str());
                    assert_eq!(action, Some("Enforce"), "{label}: {r:#}");
                }
            }
            let by_name = |n: &str| {
                policies
                    .iter()
                    .find(|p| p["metadata"]["name"] == n)
                    .unwrap()
            };
            // Registries: the tenant's own list, the platform's for the other.
            let reg = by_name("haven-restrict-image-registries").to_string();
            assert!(reg.contains("ghcr.io/gemeente-x/") && reg.contains("registry.example.nl/"));
            // LoadBalancer: refused for zaken only.
            let lb = &by_name("haven-restrict-load-balancers")["spec"]["rules"][0];
            assert_eq!(
                lb["match"]["any"][0]["resources"]["namespaces"],
                serde_json::json!(["zaken"])
            );
            // Host names: the platform's for every tenant, zaken's own list for zaken.
            let hosts = by_name("haven-restrict-hostnames");
            let rules: Vec<&str> = hosts["spec"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            for want in [
                "platform-hosts-ingress",
                "platform-hosts-route",
                "platform-hosts-certificate",
                "tenant-zaken-route",
                // ExternalDNS's annotations, on Services too.
                "platform-hosts-dns",
                "tenant-zaken-dns",
                // A tenant without names of its own is held to its default ones.
                "tenant-open-route",
                "tenant-open-certificate",
                "tenant-open-dns",
            ] {
                assert!(rules.contains(&want), "{label}: {rules:?}");
            }
            // A claimed wildcard covering a platform host is refused.
            assert!(hosts.to_string().contains("'*.example.nl'"), "{label}");
            let rule = |n: &str| {
                hosts["spec"]["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["name"] == n)
                    .unwrap()
            };
            let deny = |r: &serde_json::Value| {
                r["validate"]["foreach"][0]["deny"]["conditions"]["any"][0]["key"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            // `open`: within open.example.nl and below, and never zaken's names.
            let open = deny(rule("tenant-open-route"));
            assert!(
                open.contains("element == 'zaken.gemeente.nl'")
                    && open.contains("ends_with(element, '.zaken.gemeente.nl')")
                    && open.contains(
                        "!(element == 'open.example.nl' || ends_with(element, '.open.example.nl'))"
                    ),
                "{label}: {open}"
            );
            assert_eq!(
                rule("tenant-open-route")["match"]["any"][0]["resources"]["namespaces"],
                serde_json::json!(["open"])
            );
            // A route without hostnames claims every name (`*`), as `plus.hostname` reads it:
            // on the shared listener it would take every other tenant's unmatched paths.
            assert_eq!(
                rule("tenant-open-route")["validate"]["foreach"][0]["list"],
                "request.object.spec.hostnames || ['*']"
            );
            assert!(
                deny(rule("platform-hosts-route")).contains("contains(['*', "),
                "{label}"
            );
            let dns = rule("tenant-zaken-dns");
            assert!(
                deny(dns).contains("element == 'open.example.nl'"),
                "{label}: {dns:#}"
            );
            let kinds = &dns["match"]["any"][0]["resources"]["kinds"];
            assert!(
                kinds.as_array().unwrap().contains(&"Service".into()),
                "{label}: {kinds}"
            );
            assert!(
                dns["validate"]["foreach"][0]["list"]
                    .as_str()
                    .unwrap()
                    .contains("annotations.\"external-dns.alpha.kubernetes.io/hostname\""),
                "{label}: {dns:#}"
            );
            let verify = &by_name("haven-verify-image-signatures")["spec"];
            assert_eq!(verify["background"], false);
            assert_eq!(
                verify["rules"][0]["verifyImages"][0]["attestors"][0]["entries"]
                    .as_array()
                    .unwrap()
                    .len(),
                2
            );
        }
    }
}

/// Without a load balancer (`cluster.loadBalancer: node-port`, kind's default) the Gateway's
/// Service must be a NodePort one, or it stays pending and the Gateway is never Programmed:
/// Envoy Gateway through an EnvoyProxy the GatewayClass names, Istio through its service-type
/// annotation; with a cloud load balancer neither. Both validate on every supported minor.
#[test]
fn without_a_load_balancer_the_gateway_gets_node_ports() {
    let catalogue = Catalogue::builtin().unwrap();
    let docs = |config: &PlatformConfig| -> Vec<serde_json::Value> {
        render(config, &catalogue)
            .files
            .values()
            .flat_map(|text| haven_model::parse_stream("t", text))
            .map(|d| d.unwrap().value)
            .collect()
    };
    let find = |docs: &[serde_json::Value], kind: &str| -> Option<serde_json::Value> {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == "platform")
            .cloned()
    };
    let kind = PlatformConfig::new("haven", "example.nl", Provider::Kind);
    let d = docs(&kind);
    let class = find(&d, "GatewayClass").unwrap();
    assert_eq!(
        class["spec"]["parametersRef"]["kind"], "EnvoyProxy",
        "{class}"
    );
    let proxy = find(&d, "EnvoyProxy").expect("an EnvoyProxy");
    assert_eq!(
        proxy["spec"]["provider"]["kubernetes"]["envoyService"]["type"],
        "NodePort"
    );
    assert_eq!(
        proxy["metadata"]["namespace"],
        class["spec"]["parametersRef"]["namespace"]
    );
    assert_valid("kind", &kind);

    let mut istio = kind.clone();
    istio.capabilities.ingress.implementation = IngressImplementation::Istio;
    let d = docs(&istio);
    let gateway = find(&d, "Gateway").unwrap();
    assert_eq!(
        gateway["metadata"]["annotations"]["networking.istio.io/service-type"],
        "NodePort"
    );
    assert!(find(&d, "EnvoyProxy").is_none());
    assert_valid("kind istio", &istio);

    let cloud = PlatformConfig::new("haven", "example.nl", Provider::Previder);
    let d = docs(&cloud);
    assert!(find(&d, "EnvoyProxy").is_none());
    assert!(find(&d, "GatewayClass").unwrap()["spec"]["parametersRef"].is_null());
}

/// `generic` expects MetalLB (`cluster.loadBalancer: metallb`): without the capability that
/// installs it the Gateway's LoadBalancer Service waits for a MetalLB the platform does not
/// bring, and render says so; with it, nothing to say.
#[test]
fn metallb_without_the_capability_is_noted() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Generic);
    let noted = |config: &PlatformConfig| {
        render(config, &catalogue).notes.iter().any(|n| {
            n.contains("cluster.loadBalancer is metallb and capabilities.loadBalancer is off")
        })
    };
    assert!(noted(&config));
    config.capabilities.load_balancer = haven_platform::config::LoadBalancerPool {
        enabled: true,
        addresses: vec!["192.0.2.32/27".to_owned()],
    };
    assert!(!noted(&config));
    // A cloud load balancer needs no MetalLB.
    assert!(!noted(&PlatformConfig::new(
        "haven",
        "example.nl",
        Provider::Azure
    )));
}

/// Traefik (operator review 2, finding 8): its Gateway provider attaches a listener to the
/// entryPoint whose address has the listener's port, and the chart's entryPoints are `web`
/// `:8000` and `websecure` `:8443`, so the platform Gateway listens on those (the Service
/// still exposes 80 and 443); the other implementations listen on 80 and 443. The Service
/// type is `service.spec.type`, the key the chart reads (`service.type` it ignores), NodePort
/// on a cluster without a load balancer.
#[test]
fn traefik_listeners_are_its_entry_points_and_its_service_type_is_read() {
    let catalogue = Catalogue::builtin().unwrap();
    for (provider, ingress, ports, service_type) in [
        (
            Provider::Kind,
            IngressImplementation::Traefik,
            [8000, 8443],
            Some("NodePort"),
        ),
        (
            Provider::Ovh,
            IngressImplementation::Traefik,
            [8000, 8443],
            Some("LoadBalancer"),
        ),
        (
            Provider::Ovh,
            IngressImplementation::EnvoyGateway,
            [80, 443],
            None,
        ),
        (
            Provider::Kind,
            IngressImplementation::Istio,
            [80, 443],
            None,
        ),
    ] {
        let mut config = PlatformConfig::new("gw", "example.nl", provider);
        config.capabilities.ingress.implementation = ingress;
        let files = render(&config, &catalogue).files;
        let component = match ingress {
            IngressImplementation::Traefik => "traefik",
            IngressImplementation::EnvoyGateway => "envoy-gateway",
            _ => "istiod",
        };
        let p = format!("infrastructure/{component}-config/gateway.yaml");
        let gateway = haven_model::parse_stream(&p, &files[&PathBuf::from(&p)])
            .into_iter()
            .map(|d| d.unwrap().value)
            .find(|v| v["kind"] == "Gateway")
            .unwrap();
        let listeners = gateway["spec"]["listeners"].as_array().unwrap();
        assert!(listeners.len() >= 2, "{ingress:?}: {listeners:?}");
        for l in listeners {
            let want = if l["protocol"] == "HTTP" {
                ports[0]
            } else {
                ports[1]
            };
            assert_eq!(l["port"], want, "{provider:?} {ingress:?}: {l}");
        }
        if let Some(t) = service_type {
            let p = "infrastructure/traefik/release.yaml";
            let release = haven_model::parse_stream(p, &files[&PathBuf::from(p)])
                .into_iter()
                .map(|d| d.unwrap().value)
                .find(|v| v["kind"] == "HelmRelease")
                .unwrap();
            let service = &release["spec"]["values"]["service"];
            assert_eq!(service["spec"]["type"], t, "{provider:?}: {service}");
            assert!(service.get("type").is_none(), "{provider:?}: {service}");
        }
    }
}

/// The Dex of `haven plus render` (operator review 2, finding 7): without a connector, render
/// notes and validate warns that Dex will not start; with connectors, they are Dex's
/// `config.connectors` as written, each secret key a `$VAR` Dex expands from the Secret
/// `dex-connectors`, which comes from OpenBao (`platform/dex/connector-<id>`, with its
/// `bao kv put` note) or is sealed; and the warning is gone.
#[test]
fn dex_gets_its_connectors_or_says_it_will_not_start() {
    let catalogue = Catalogue::builtin().unwrap();
    let dex_warnings = |files: &std::collections::BTreeMap<PathBuf, String>| {
        let facts = validate::platform_facts(files);
        let schemas = BuiltinSchemas::new(facts.components);
        let report = validate::validate(files, &schemas, &Options::default());
        assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
        report
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("no connector"))
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
    };
    let release = |files: &std::collections::BTreeMap<PathBuf, String>| {
        let p = "infrastructure/dex/release.yaml";
        haven_model::parse_stream(p, &files[&PathBuf::from(p)])
            .into_iter()
            .map(|d| d.unwrap().value)
            .find(|v| v["kind"] == "HelmRelease")
            .unwrap()
    };
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Azure);
    config.capabilities.identity.provider = IdentityProvider::Dex;
    let rendered = render(&config, &catalogue);
    assert!(
        rendered
            .notes
            .iter()
            .any(|n| n.contains("Dex has no connector")
                && n.contains("capabilities.identity.dex.connectors")),
        "{:#?}",
        rendered.notes
    );
    let warned = dex_warnings(&rendered.files);
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains("infrastructure/dex/release.yaml"),
        "{}",
        warned[0]
    );

    let connectors: haven_platform::config::DexSettings =
        serde_json::from_value(serde_json::json!({
            "connectors": [
                {"type": "oidc", "id": "entra", "name": "Entra ID",
                 "config": {"issuer": "https://login.microsoftonline.com/t/v2.0", "clientID": "abc",
                            "redirectURI": "https://dex.example.nl/callback"},
                 "secrets": ["clientSecret"]},
                {"type": "ldap", "id": "ad", "name": "AD", "config": {"host": "ad.example.nl:636"},
                 "secrets": ["bindPW"]},
            ]
        }))
        .unwrap();
    config.capabilities.identity.dex = connectors;
    for backend in [SecretsBackend::Openbao, SecretsBackend::SealedSecrets] {
        config.capabilities.secrets.backend = backend;
        let rendered = render(&config, &catalogue);
        let values = &release(&rendered.files)["spec"]["values"];
        let c = &values["config"]["connectors"];
        assert_eq!(c[0]["type"], "oidc", "{c}");
        assert_eq!(c[0]["id"], "entra");
        assert_eq!(c[0]["name"], "Entra ID");
        assert_eq!(c[0]["config"]["clientID"], "abc");
        assert_eq!(
            c[0]["config"]["clientSecret"],
            "$DEX_CONNECTOR_ENTRA_CLIENT_SECRET"
        );
        assert_eq!(c[1]["config"]["bindPW"], "$DEX_CONNECTOR_AD_BIND_P_W");
        assert!(
            values["envFrom"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["secretRef"]["name"] == "dex-connectors"),
            "{}",
            values["envFrom"]
        );
        let secrets = rendered
            .files
            .get(&PathBuf::from("infrastructure/dex/secrets.yaml"))
            .unwrap_or_else(|| {
                panic!(
                    "{backend:?}: {:#?} {:?}",
                    rendered.notes,
                    rendered
                        .files
                        .keys()
                        .filter(|k| k.starts_with("infrastructure/dex"))
                        .collect::<Vec<_>>()
                )
            });
        let doc = haven_model::parse_stream("s", secrets)
            .into_iter()
            .map(|d| d.unwrap().value)
            .find(|v| v["metadata"]["name"] == "dex-connectors")
            .unwrap_or_else(|| panic!("{backend:?}: no dex-connectors in\n{secrets}"));
        match backend {
            SecretsBackend::Openbao => {
                assert_eq!(doc["kind"], "ExternalSecret");
                assert_eq!(
                    doc["spec"]["data"][0],
                    serde_json::json!({"secretKey": "DEX_CONNECTOR_ENTRA_CLIENT_SECRET",
                        "remoteRef": {"key": "platform/dex/connector-entra", "property": "clientSecret"}})
                );
                assert!(
                    rendered.notes.iter().any(|n| n.contains(
                        "bao kv put -mount=secret platform/dex/connector-entra clientSecret=…"
                    )),
                    "{:#?}",
                    rendered.notes
                );
            }
            SecretsBackend::SealedSecrets => {
                assert_eq!(doc["kind"], "SealedSecret");
                assert!(
                    doc["spec"]["encryptedData"]["DEX_CONNECTOR_AD_BIND_P_W"]
                        .as_str()
                        .unwrap()
                        .starts_with("SEALED-PLACEHOLDER: kubeseal")
                );
            }
        }
        assert!(
            !rendered.notes.iter().any(|n| n.contains("no connector")),
            "{:#?}",
            rendered.notes
        );
        assert_no_clear_secrets("dex", &rendered.files);
        assert!(dex_warnings(&rendered.files).is_empty());
    }
}

/// Sealed Secrets (operator review 2, finding 12): every placeholder is the `kubeseal` that
/// works against this platform: the controller's namespace and name (kubeseal's defaults are
/// `kube-system`), the certificate from a file, and the Secret's own namespace and name; and
/// render says how to get the certificate without the API server's service proxy, which the
/// controller's NetworkPolicies do not admit.
#[test]
fn every_sealed_placeholder_names_the_platforms_controller() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut config = PlatformConfig::new("haven", "example.nl", Provider::Ovh);
    config.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    config.capabilities.identity.provider = IdentityProvider::Dex;
    config.capabilities.identity.dex = serde_json::from_value(serde_json::json!({
        "connectors": [{"type": "ldap", "id": "ad", "name": "AD", "secrets": ["bindPW"]}]
    }))
    .unwrap();
    let rendered = render(&config, &catalogue);
    let release = haven_model::parse_stream(
        "r",
        &rendered.files[&PathBuf::from("infrastructure/sealed-secrets/release.yaml")],
    )
    .into_iter()
    .map(|d| d.unwrap().value)
    .find(|v| v["kind"] == "HelmRelease")
    .unwrap();
    assert_eq!(release["spec"]["targetNamespace"], "sealed-secrets");
    assert_eq!(
        release["spec"]["values"]["fullnameOverride"],
        "sealed-secrets-controller"
    );
    let kubeseal = "kubeseal --controller-namespace sealed-secrets --controller-name sealed-secrets-controller --cert pub-cert.pem";
    let mut placeholders = 0;
    for (p, text) in &rendered.files {
        for d in haven_model::parse_stream(&p.to_string_lossy(), text) {
            let v = d.unwrap().value;
            if v["kind"] != "SealedSecret" {
                continue;
            }
            let (ns, name) = (&v["metadata"]["namespace"], &v["metadata"]["name"]);
            for (k, sealed) in v["spec"]["encryptedData"].as_object().unwrap() {
                let want = format!(
                    "SEALED-PLACEHOLDER: {kubeseal} --raw --namespace {} --name {} < {k}",
                    ns.as_str().unwrap(),
                    name.as_str().unwrap()
                );
                assert_eq!(sealed.as_str().unwrap(), want, "{}", p.display());
                placeholders += 1;
            }
        }
    }
    // Grafana's admin, the object store's consumers, Dex's clients and connectors at least.
    assert!(placeholders >= 4, "{placeholders}");
    assert!(
        rendered.notes.iter().any(|n| n.contains(
            "kubectl -n sealed-secrets port-forward svc/sealed-secrets-controller 8080:8080"
        ) && n.contains("/v1/cert.pem > pub-cert.pem")
            && n.contains(kubeseal)),
        "{:#?}",
        rendered.notes
    );
}

/// metrics-server per provider (operator review 2, finding 13): not rendered on azure (AKS
/// runs its own), told to skip verifying kind's self-signed kubelet certificates on kind only.
#[test]
fn metrics_server_fits_the_provider() {
    let catalogue = Catalogue::builtin().unwrap();
    for provider in Provider::ALL {
        let config = PlatformConfig::new("haven", "example.nl", provider);
        let files = render(&config, &catalogue).files;
        let p = PathBuf::from("infrastructure/metrics-server/release.yaml");
        if provider == Provider::Azure {
            assert!(!files.contains_key(&p), "azure: metrics-server rendered");
            continue;
        }
        let release = haven_model::parse_stream("r", &files[&p])
            .into_iter()
            .map(|d| d.unwrap().value)
            .find(|v| v["kind"] == "HelmRelease")
            .unwrap();
        let args = &release["spec"]["values"]["args"];
        if provider == Provider::Kind {
            assert_eq!(args, &serde_json::json!(["--kubelet-insecure-tls"]));
        } else {
            assert!(args.is_null(), "{}: {args}", provider.name());
        }
    }
}
