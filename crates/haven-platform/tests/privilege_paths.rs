//! Issue #21's privilege paths and data-loss paths found in the operator review, for every
//! provider and every alternative: cluster-wide secret stores tenants could use, Flux's
//! lockdown patches that match nothing after bootstrap, platform host names tenants could take
//! at the Gateway, Flux pruning data, and the DNS flows DNS-01 and RFC 2136 need.

use std::path::PathBuf;

use haven_platform::validate::Severity;
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

mod common;

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
    for (label, config) in common::every_provider_and_alternative() {
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
    for (label, config) in common::every_provider_and_alternative() {
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
    let config = &common::every_provider_and_alternative()[0].1;
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

/// Whether a listener's `allowedRoutes.namespaces` admits a route from a namespace with these
/// labels (Gateway API: `Same`, `All`, or `Selector` with matchLabels / Exists expressions,
/// which is what the render writes; anything else counts as a failure of the test).
fn admits(
    listener: &Value,
    gateway_ns: &str,
    ns: &str,
    labels: &serde_json::Map<String, Value>,
) -> bool {
    let from = &listener["allowedRoutes"]["namespaces"];
    match from["from"].as_str().unwrap_or("Same") {
        "All" => true,
        "Same" => ns == gateway_ns,
        "Selector" => {
            let sel = &from["selector"];
            let by_labels = sel["matchLabels"]
                .as_object()
                .into_iter()
                .flatten()
                .all(|(k, v)| labels.get(k) == Some(v));
            let by_exprs = sel["matchExpressions"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|e| {
                    assert_eq!(e["operator"], "Exists", "{e}");
                    labels.contains_key(e["key"].as_str().unwrap())
                });
            by_labels && by_exprs
        }
        other => panic!("{other}"),
    }
}

/// Whether a listener hostname matches a request host (exact, or `*.` one label).
fn host_matches(listener: &str, host: &str) -> bool {
    match listener.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|h| h.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => listener == host,
    }
}

/// Item 3: a tenant's HTTPRoute for a platform host (`keycloak.<domain>`) gets none of that
/// host's traffic, for every ingress alternative: the host's most specific listener admits its
/// component's namespace only, and the tenant namespace is admitted only by the tenants'
/// wildcard listener, which never gets a platform host's requests.
#[test]
fn tenants_cannot_take_platform_hosts_at_the_gateway() {
    let catalogue = Catalogue::builtin().unwrap();
    let (mut checked, mut wildcards) = (0, 0);
    for (label, mut config) in common::every_provider_and_alternative() {
        // With and without DNS-01 (wildcard listener or one listener per host).
        for dns01 in [false, true] {
            if dns01 {
                config.capabilities.dns.zone = Some("example.nl".to_owned());
                config.capabilities.dns.rfc2136 = Some(haven_platform::config::Rfc2136 {
                    server: "ns1.example.nl".to_owned(),
                    port: 53,
                    tsig_key_name: "haven-plus".to_owned(),
                    tsig_algorithm: haven_platform::config::TsigAlgorithm::HmacSha512,
                });
            }
            let files = render(&config, &catalogue).files;
            let docs: Vec<Value> = docs_of(&files).into_iter().map(|(_, d)| d).collect();
            let Some(gw) = docs.iter().find(|d| d["kind"] == "Gateway") else {
                continue;
            };
            let gw_ns = gw["metadata"]["namespace"].as_str().unwrap();
            let listeners = gw["spec"]["listeners"].as_array().unwrap();
            let labels_of = |ns: &str| {
                docs.iter()
                    .find(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == ns)
                    .and_then(|d| d["metadata"]["labels"].as_object().cloned())
                    .unwrap_or_else(|| panic!("{label}: no Namespace {ns}"))
            };
            let tenant = labels_of("zaken");
            let routes: Vec<&Value> = docs
                .iter()
                .filter(|d| d["kind"] == "HTTPRoute" && d["metadata"]["name"] != "https-redirect")
                .collect();
            assert!(!routes.is_empty(), "{label}");
            for route in routes {
                let host = route["spec"]["hostnames"][0].as_str().unwrap();
                let owner = route["metadata"]["namespace"].as_str().unwrap();
                // The listener that gets this host's requests: the most specific match.
                let serving: Vec<&Value> = listeners
                    .iter()
                    .filter(|l| l["protocol"] == "HTTPS")
                    .filter(|l| host_matches(l["hostname"].as_str().unwrap(), host))
                    .collect();
                let best = serving
                    .iter()
                    .find(|l| l["hostname"] == host)
                    .or_else(|| serving.first())
                    .unwrap_or_else(|| panic!("{label}: no listener for {host}"));
                assert_eq!(
                    best["name"], route["spec"]["parentRefs"][0]["sectionName"],
                    "{label}: {host}"
                );
                assert!(
                    admits(best, gw_ns, owner, &labels_of(owner)),
                    "{label}: {host}"
                );
                assert!(
                    !admits(best, gw_ns, "zaken", &tenant),
                    "{label} dns01={dns01}: a tenant route for {host} attaches to {}",
                    best["name"]
                );
                checked += 1;
            }
            // The tenants' own hosts: with the wildcard, a listener admits them.
            // (OVH and Azure need their own DNS settings for DNS-01; these get the RFC 2136 ones.)
            if let Some(app) = listeners
                .iter()
                .find(|l| l["protocol"] == "HTTPS" && l["hostname"] == "*.example.nl")
            {
                wildcards += 1;
                assert!(admits(app, gw_ns, "zaken", &tenant), "{label}");
                assert!(
                    !admits(
                        app,
                        gw_ns,
                        owner_of_grafana(&docs),
                        &labels_of(owner_of_grafana(&docs))
                    ),
                    "{label}"
                );
            }
            let errors = tenancy_errors(&files, &catalogue);
            assert!(errors.is_empty(), "{label}: {errors:#?}");
        }
    }
    assert!(checked > 20, "{checked}");
    assert!(wildcards > 5, "{wildcards}");
}

fn owner_of_grafana(docs: &[Value]) -> &str {
    docs.iter()
        .find(|d| d["kind"] == "HTTPRoute" && d["metadata"]["name"] == "grafana")
        .and_then(|d| d["metadata"]["namespace"].as_str())
        .unwrap()
}

/// Item 5: Flux never deletes data when a capability is switched off or a tenant removed:
/// every Namespace the render writes (platform and tenants) and every object holding data
/// (CloudNativePG Clusters, PersistentVolumeClaims) carries `prune: disabled`.
#[test]
fn flux_does_not_prune_namespaces_or_data() {
    let catalogue = Catalogue::builtin().unwrap();
    let (mut namespaces, mut databases) = (0, 0);
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        for (path, d) in docs_of(&files) {
            let kind = d["kind"].as_str().unwrap_or_default();
            let data = matches!(kind, "Namespace" | "PersistentVolumeClaim")
                || (kind == "Cluster" && d["apiVersion"] == "postgresql.cnpg.io/v1");
            if !data {
                continue;
            }
            if kind == "Namespace" {
                namespaces += 1;
            } else {
                databases += 1;
            }
            assert_eq!(
                d["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"],
                "disabled",
                "{label}: {kind} {} in {}",
                d["metadata"]["name"],
                path.display()
            );
        }
    }
    assert!(namespaces > 50 && databases > 0, "{namespaces} {databases}");
}

/// Item 6: onboarding a tenant does not wait for Velero to be Ready (with an off-cluster
/// target, that waits for hand-written S3 credentials): the `tenants` unit does not depend on
/// it, and the tenants' backup Schedules live in a unit of their own after Velero's.
#[test]
fn tenants_do_not_wait_for_velero() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        let docs: Vec<(PathBuf, Value)> = docs_of(&files);
        let unit = |name: &str| {
            docs.iter()
                .map(|(_, d)| d)
                .find(|d| {
                    d["kind"] == "Kustomization"
                        && d["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
                        && d["metadata"]["name"] == name
                })
                .cloned()
        };
        let tenants = unit("tenants").unwrap_or_else(|| panic!("{label}"));
        let deps: Vec<&str> = tenants["spec"]["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert!(!deps.contains(&"velero"), "{label}: {deps:?}");
        let schedule = docs
            .iter()
            .find(|(_, d)| d["kind"] == "Schedule" && d["metadata"]["name"] == "tenant-zaken");
        let Some((path, _)) = schedule else {
            continue;
        };
        assert!(!path.starts_with("tenants"), "{label}: {}", path.display());
        let backups = unit("tenant-backups").unwrap_or_else(|| panic!("{label}"));
        assert_eq!(
            backups["spec"]["dependsOn"],
            serde_json::json!([{"name": "velero"}]),
            "{label}"
        );
        assert_eq!(
            backups["spec"]["path"], "./infrastructure/tenant-backups",
            "{label}"
        );
    }
}

/// Item 7: the Gateway and its Certificate are in a unit that waits for the gateway
/// controller, the Gateway API CRDs and cert-manager only (not for every SSO app), and the
/// platform's routes in a unit after it and their components.
#[test]
fn the_gateway_does_not_wait_for_the_apps_it_routes_to() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, config) in common::every_provider_and_alternative() {
        let files = render(&config, &catalogue).files;
        let docs: Vec<Value> = docs_of(&files).into_iter().map(|(_, d)| d).collect();
        let units: Vec<&Value> = docs
            .iter()
            .filter(|d| {
                d["kind"] == "Kustomization" && d["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
            })
            .collect();
        let deps = |name: &str| -> Vec<String> {
            let u = units
                .iter()
                .find(|u| u["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("{label}: no unit {name}"));
            u["spec"]["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect()
        };
        let gw_path = files
            .keys()
            .find(|p| p.ends_with("gateway.yaml") && p.starts_with("infrastructure"))
            .unwrap_or_else(|| panic!("{label}"));
        let unit = gw_path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let controller = unit.strip_suffix("-config").unwrap();
        for d in deps(unit) {
            assert!(
                [controller, "gateway-api", "cert-manager"].contains(&d.as_str()),
                "{label}: {unit} waits for {d}"
            );
        }
        let gw = &files[gw_path];
        assert!(
            gw.contains("kind: Gateway\n") && gw.contains("kind: Certificate\n"),
            "{label}"
        );
        let in_gateway_unit = haven_model::parse_stream("g", gw)
            .into_iter()
            .map(|d| d.unwrap().value)
            .any(|d| d["kind"] == "HTTPRoute" && d["metadata"]["name"] == "grafana");
        assert!(
            !in_gateway_unit,
            "{label}: platform routes in the Gateway's unit"
        );
        let routes = deps("platform-routes");
        assert!(routes.contains(&unit.to_owned()), "{label}: {routes:?}");
        assert!(
            routes.contains(&"grafana".to_owned()),
            "{label}: {routes:?}"
        );
    }
}

/// Item 4: ExternalDNS's TSIG updates and cert-manager's DNS-01 solver reach the configured
/// RFC 2136 server (UDP and TCP on its port, to its address when one is given), cert-manager's
/// self-check goes through the cluster DNS only, and the flows proof covers the flow: without
/// the policy it fails.
#[test]
fn dns01_and_rfc2136_updates_leave_the_cluster() {
    use haven_platform::config::{Rfc2136, TsigAlgorithm};
    let catalogue = Catalogue::builtin().unwrap();
    for (server, cidrs) in [
        ("192.0.2.53", vec!["192.0.2.53/32"]),
        ("ns1.example.nl", vec!["0.0.0.0/0", "::/0"]),
    ] {
        let mut c = PlatformConfig::new("haven", "example.nl", Provider::Previder);
        c.tenants.push(common::tenant("zaken"));
        c.capabilities.dns.zone = Some("example.nl".to_owned());
        c.capabilities.dns.rfc2136 = Some(Rfc2136 {
            server: server.to_owned(),
            port: 5353,
            tsig_key_name: "haven-plus".to_owned(),
            tsig_algorithm: TsigAlgorithm::HmacSha512,
        });
        let files = render(&c, &catalogue).files;
        let docs: Vec<(PathBuf, Value)> = docs_of(&files);
        for ns in ["cert-manager", "external-dns"] {
            let (path, pol) = docs
                .iter()
                .find(|(_, d)| {
                    d["kind"] == "NetworkPolicy"
                        && d["metadata"]["name"] == "allow-dns-server"
                        && d["metadata"]["namespace"] == ns
                })
                .unwrap_or_else(|| panic!("{server}: no allow-dns-server in {ns}"));
            let egress = &pol["spec"]["egress"][0];
            let to: Vec<&str> = egress["to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["ipBlock"]["cidr"].as_str().unwrap())
                .collect();
            assert_eq!(to, cidrs, "{server}: {ns}");
            assert_eq!(
                egress["ports"],
                serde_json::json!([{"protocol": "UDP", "port": 5353}, {"protocol": "TCP", "port": 5353}]),
                "{server}: {ns}"
            );
            // Without it, the flows proof finds the TSIG updates denied.
            let mut broken = files.clone();
            let text: String = files[path]
                .split("---\n")
                .filter(|d| !d.contains("name: allow-dns-server"))
                .collect::<Vec<_>>()
                .join("---\n");
            broken.insert(path.clone(), text);
            let tree = haven_platform::charts::tree_objects(&broken);
            let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
            let problems = haven_platform::proofs::prove(&landscape, &catalogue);
            assert!(
                problems.iter().any(|p| p.severity == Severity::Error
                    && p.message.contains("dnsServer")
                    && p.message.contains(ns)),
                "{server}: {ns}: {:#?}",
                problems.iter().map(|p| p.to_string()).collect::<Vec<_>>()
            );
        }
        let tree = haven_platform::charts::tree_objects(&files);
        let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
        let errors: Vec<String> = haven_platform::proofs::prove(&landscape, &catalogue)
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| p.to_string())
            .collect();
        assert!(errors.is_empty(), "{server}: {errors:#?}");
        let release = docs
            .iter()
            .map(|(_, d)| d)
            .find(|d| d["kind"] == "HelmRelease" && d["metadata"]["name"] == "cert-manager")
            .unwrap();
        assert_eq!(
            release["spec"]["values"]["dns01RecursiveNameserversOnly"],
            true
        );
    }
}

/// Operator review 2, finding 2: ExternalDNS publishes a record for any name in
/// `external-dns.alpha.kubernetes.io/hostname` on the objects its sources read, pointed
/// anywhere by `.../target`. It reads routes only (their names are judged by `plus.hostname`,
/// annotations included), never Services, which a tenant may create of any type but
/// LoadBalancer; and wherever ExternalDNS runs, a tenant Namespace says which names are its own.
#[test]
fn external_dns_reads_routes_only() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut seen = 0;
    for (label, mut config) in common::every_provider_and_alternative() {
        config.tenants = vec![common::tenant("zaken")];
        let files = render(&config, &catalogue).files;
        let docs: Vec<Value> = docs_of(&files).into_iter().map(|(_, d)| d).collect();
        let Some(release) = docs
            .iter()
            .find(|d| d["kind"] == "HelmRelease" && d["metadata"]["name"] == "external-dns")
        else {
            continue;
        };
        seen += 1;
        let sources = &release["spec"]["values"]["sources"];
        assert_eq!(
            sources,
            &serde_json::json!(["gateway-httproute", "gateway-grpcroute"]),
            "{label}"
        );
        let ns = docs
            .iter()
            .find(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == "zaken")
            .unwrap();
        let allowed = &ns["metadata"]["annotations"]["haven.commonground.nl/allowed-hostnames"];
        assert!(
            allowed.as_str().is_some_and(|a| a.starts_with("zaken.")),
            "{label}: {ns:#}"
        );
    }
    assert!(seen > 0, "no variant runs ExternalDNS");
}
