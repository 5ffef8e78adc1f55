//! Observability (issue 21, item 4) on every provider × metrics backend × identity provider:
//! Alloy collects each log line and metric once (node-local selection, clustering), the
//! kubelet, cAdvisor, node and kube-state metrics are scraped, the rules and dashboards are
//! shipped and read only collected metrics, Grafana logs in with the chosen identity provider
//! with its client secret from the store, and tenants reach the OTLP receiver only with traces
//! on. Each render validates with zero errors, every proof included.

use std::collections::BTreeSet;

use haven_platform::config::{IdentityProvider, MetricsBackend, Tenant};
use haven_platform::observability::{self, Plan};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

mod common;

fn config(
    provider: Provider,
    backend: MetricsBackend,
    identity: IdentityProvider,
) -> PlatformConfig {
    let mut c = PlatformConfig::new("haven", "example.nl", provider);
    c.capabilities.metrics.backend = backend;
    c.capabilities.identity.provider = identity;
    c.tenants.push(Tenant {
        name: "zaken".to_owned(),
        group: "zaken-developers".to_owned(),
        repo: None,
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    });
    c
}

struct Tree {
    objects: Vec<Value>,
    notes: Vec<String>,
}

impl Tree {
    fn find(&self, kind: &str, name: &str) -> &Value {
        self.try_find(kind, name)
            .unwrap_or_else(|| panic!("no {kind}/{name}"))
    }

    fn try_find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find(|v| v["kind"] == kind && v["metadata"]["name"] == name)
    }

    fn policy(&self, ns: &str, name: &str) -> Option<&Value> {
        self.objects.iter().find(|v| {
            v["kind"] == "NetworkPolicy"
                && v["metadata"]["namespace"] == ns
                && v["metadata"]["name"] == name
        })
    }
}

/// Render, validate on the tree and run every proof: no error.
fn render_clean(label: &str, c: &PlatformConfig) -> Tree {
    let catalogue = Catalogue::builtin().unwrap();
    let rendered = render(c, &catalogue);
    common::assert_validates_and_proves(
        label,
        &rendered.files,
        &catalogue,
        &c.cluster.kubernetes_version,
    );
    let tree = haven_platform::charts::tree_objects(&rendered.files);
    Tree {
        objects: tree.into_iter().map(|o| o.value).collect(),
        notes: rendered.notes.clone(),
    }
}

fn exprs(t: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    let rule = t.find("PrometheusRule", "haven-platform");
    for g in rule["spec"]["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            out.push(r["expr"].as_str().unwrap().to_owned());
        }
    }
    for cm in t.objects.iter().filter(|v| {
        v["kind"] == "ConfigMap" && v["metadata"]["labels"][observability::DASHBOARD_LABEL] == "1"
    }) {
        for text in cm["data"].as_object().unwrap().values() {
            let board: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
            for p in board["panels"].as_array().unwrap() {
                out.push(p["targets"][0]["expr"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

#[test]
fn every_provider_and_metrics_backend_collects_once_and_ships_rules_and_dashboards() {
    for provider in Provider::ALL {
        for backend in [MetricsBackend::Mimir, MetricsBackend::KubePrometheusStack] {
            let label = format!("{} / {backend:?}", provider.name());
            let t = render_clean(
                &label,
                &config(provider, backend, IdentityProvider::Keycloak),
            );
            let alloy = &t.find("HelmRelease", "alloy")["spec"]["values"];
            assert_eq!(alloy["controller"]["type"], "daemonset", "{label}");
            let cfg = alloy["alloy"]["configMap"]["content"].as_str().unwrap();
            // Logs: each pod reads only its own node's pods.
            assert!(
                cfg.contains("field = \"spec.nodeName=\" + sys.env(\"HOSTNAME\")"),
                "{label}: {cfg}"
            );
            // The chart's RBAC without cluster-wide Secrets, never nodes/proxy.
            let rbac = serde_json::to_string(&alloy["rbac"]).unwrap();
            assert!(
                !rbac.contains("secrets") && !rbac.contains("nodes/proxy"),
                "{label}"
            );
            let rules = t.find("PrometheusRule", "haven-platform");
            let alerts: BTreeSet<&str> = rules["spec"]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| g["rules"].as_array().unwrap())
                .map(|r| r["alert"].as_str().unwrap())
                .collect();
            for a in [
                "FluxReconciliationFailing",
                "HelmReleaseNotReady",
                "KustomizationNotReady",
                "HavenAdmissionErrors",
                "HavenAdmissionSlow",
                "HavenAdmissionDenials",
                "CertificateExpiresSoon",
                "PersistentVolumeFillingUp",
                "PlatformPodCrashLooping",
            ] {
                assert!(alerts.contains(a), "{label}: no alert {a}");
            }
            let monitor = t.find("PodMonitor", "flux-system");
            assert_eq!(
                monitor["spec"]["namespaceSelector"]["matchNames"][0],
                "flux-system"
            );
            for board in ["nodes", "flux", "workloads", "admission"] {
                t.find("ConfigMap", &format!("dashboard-haven-{board}"));
            }
            // cert-manager is scraped for its certificates.
            assert_eq!(
                t.find("HelmRelease", "cert-manager")["spec"]["values"]["prometheus"]["servicemonitor"]
                    ["enabled"],
                true,
                "{label}"
            );
            // Flux's objects' Ready condition as metrics, with only list/watch on them.
            let ksm = match backend {
                MetricsBackend::Mimir => t.find("HelmRelease", "kube-state-metrics")["spec"]["values"].clone(),
                MetricsBackend::KubePrometheusStack => t.find("HelmRelease", "kube-prometheus-stack")["spec"]["values"]["kube-state-metrics"].clone(),
            };
            assert_eq!(ksm["customResourceState"]["enabled"], true, "{label}");
            let kinds: Vec<&str> = ksm["customResourceState"]["config"]["spec"]["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["groupVersionKind"]["kind"].as_str().unwrap())
                .collect();
            assert_eq!(kinds, ["HelmRelease", "Kustomization"]);
            assert_eq!(
                ksm["rbac"]["extraRules"][0]["verbs"],
                serde_json::json!(["list", "watch"])
            );
            let (collector_ns, plan) = match backend {
                MetricsBackend::Mimir => {
                    // Node-local kubelet, cAdvisor and node metrics; cluster-wide targets
                    // (kube-state-metrics among them) shared out by clustering.
                    for needle in [
                        "field = \"metadata.name=\" + sys.env(\"HOSTNAME\")",
                        "prometheus.scrape \"kubelet\"",
                        "metrics_path      = \"/metrics/cadvisor\"",
                        "prometheus.exporter.unix \"node\"",
                        "mimir.rules.kubernetes \"platform\"",
                        "\"X-Scope-OrgID\" = \"haven\"",
                    ] {
                        assert!(cfg.contains(needle), "{label}: no {needle}\n{cfg}");
                    }
                    assert_eq!(cfg.matches("clustering {\n    enabled = true").count(), 2);
                    assert_eq!(alloy["alloy"]["clustering"]["enabled"], true);
                    let mounts = serde_json::to_string(&alloy["alloy"]["mounts"]).unwrap();
                    assert!(mounts.contains("/host/proc") && mounts.contains("\"readOnly\":true"));
                    assert!(t.try_find("HelmRelease", "kube-state-metrics").is_some());
                    (
                        "alloy",
                        Plan {
                            mimir: Some("mimir"),
                            ..Plan::default()
                        },
                    )
                }
                MetricsBackend::KubePrometheusStack => {
                    // Prometheus scrapes: Alloy collects no metrics, kube-prometheus-stack's own
                    // kubelet ServiceMonitor, node exporter and kube-state-metrics do.
                    assert!(!cfg.contains("prometheus.scrape"), "{label}");
                    let kps = &t.find("HelmRelease", "kube-prometheus-stack")["spec"]["values"];
                    assert_eq!(
                        kps["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"],
                        false
                    );
                    assert_ne!(kps["kubelet"]["enabled"], false);
                    assert_ne!(kps["nodeExporter"]["enabled"], false);
                    assert_ne!(kps["kubeStateMetrics"]["enabled"], false);
                    assert_eq!(kps["prometheus-node-exporter"]["hostNetwork"], false);
                    (
                        "monitoring",
                        Plan {
                            prometheus: Some("monitoring"),
                            ..Plan::default()
                        },
                    )
                }
            };
            // The collector reaches the kubelets (:10250) through its namespace's policy.
            let kubelet = t
                .policy(collector_ns, "allow-kubelet")
                .unwrap_or_else(|| panic!("{label}: no allow-kubelet in {collector_ns}"));
            assert_eq!(kubelet["spec"]["egress"][0]["ports"][0]["port"], 10250);
            assert_eq!(rules["metadata"]["namespace"], collector_ns);
            // Every metric named in a rule or a panel is collected here.
            let have = observability::collected(&Plan {
                kube_state_metrics: true,
                cert_manager: true,
                admission: true,
                ..plan
            });
            for e in exprs(&t) {
                for name in observability::metric_names(&e) {
                    assert!(have.contains(name.as_str()), "{label}: {name} ({e})");
                }
            }
        }
    }
}

#[test]
fn tenants_reach_the_otlp_receiver_only_with_traces_on() {
    let mut c = config(
        Provider::Previder,
        MetricsBackend::Mimir,
        IdentityProvider::Keycloak,
    );
    let on = render_clean("traces on", &c);
    let cfg = |t: &Tree| {
        t.find("HelmRelease", "alloy")["spec"]["values"]["alloy"]["configMap"]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(cfg(&on).contains("otelcol.receiver.otlp"));
    let from = on.policy("alloy", "allow-from-tenants").expect("no policy");
    let ports: Vec<u64> = from["spec"]["ingress"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [4317, 4318]);
    assert!(on.policy("zaken", "allow-to-alloy").is_some());

    let flows = |c: &PlatformConfig| {
        let catalogue = Catalogue::builtin().unwrap();
        let rendered = render(c, &catalogue);
        let tree = haven_platform::charts::tree_objects(&rendered.files);
        let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
        let report = haven_platform::proofs::flows::analyse(&landscape, &catalogue, false);
        format!("{:?}", report.declared)
    };
    assert!(flows(&c).contains("alloy: network.fromTenants"));

    c.capabilities.traces.enabled = false;
    let off = render_clean("traces off", &c);
    assert!(!cfg(&off).contains("otelcol"));
    assert!(off.policy("alloy", "allow-from-tenants").is_none());
    assert!(off.policy("zaken", "allow-to-alloy").is_none());
    let alloy = &off.find("HelmRelease", "alloy")["spec"]["values"]["alloy"];
    assert_eq!(alloy["extraPorts"], serde_json::json!([]));
    // The flows proof has no tenant → Alloy flow to prove: none is declared.
    assert!(!flows(&c).contains("fromTenants"));
}

/// A default platform with the identity provider on logs Grafana in with it: with Keycloak and
/// Dex the client's secret is made in the cluster and copied to both ends (no person writes it,
/// no note asks for it); with Zitadel, whose clients are registered by hand, only when
/// `dashboards.sso: true` asks for it, the secret then from the store. `sso: false` turns it off.
#[test]
fn grafana_logs_in_with_each_identity_provider_by_default_where_its_secret_is_made() {
    for (identity, issuer, auth) in [
        (
            IdentityProvider::Keycloak,
            "https://keycloak.example.nl/realms/haven",
            "/protocol/openid-connect/auth",
        ),
        (IdentityProvider::Dex, "https://dex.example.nl", "/auth"),
        (
            IdentityProvider::Zitadel,
            "https://zitadel.example.nl",
            "/oauth/v2/authorize",
        ),
    ] {
        let label = format!("{identity:?}");
        let default = config(Provider::Cyso, MetricsBackend::Mimir, identity);
        assert_eq!(default.capabilities.dashboards.sso, None);
        let plain = render_clean(&label, &default);
        let values = &plain.find("HelmRelease", "grafana")["spec"]["values"];
        let on_by_default = identity != IdentityProvider::Zitadel;
        assert_eq!(
            values["grafana.ini"].get("auth.generic_oauth").is_some(),
            on_by_default,
            "{label}"
        );
        for n in &plain.notes {
            assert!(
                !n.contains("grafana-oidc") && !n.contains("`grafana` (confidential)"),
                "{label}: {n}"
            );
        }
        // Off when asked: the generated admin user only.
        let mut off = default.clone();
        off.capabilities.dashboards.sso = Some(false);
        let t = render_clean(&label, &off);
        let values = &t.find("HelmRelease", "grafana")["spec"]["values"];
        assert!(
            values["grafana.ini"].get("auth.generic_oauth").is_none(),
            "{label}"
        );
        assert!(values.get("envFromSecrets").is_none(), "{label}");
        assert!(t.try_find("ExternalSecret", "grafana-oidc").is_none());
        let mut sso = default.clone();
        sso.capabilities.dashboards.sso = Some(true);
        let t = render_clean(&label, &sso);
        let values = &t.find("HelmRelease", "grafana")["spec"]["values"];
        let oauth = &values["grafana.ini"]["auth.generic_oauth"];
        assert_eq!(oauth["enabled"], true, "{label}");
        assert_eq!(oauth["auth_url"], format!("{issuer}{auth}"), "{label}");
        // Platform admins only: any other user is refused (a Viewer could query every data
        // source through Grafana's API, every namespace's logs among them).
        assert_eq!(
            oauth["role_attribute_path"],
            "contains(groups[*], 'platform-admins') && 'Admin'"
        );
        assert_eq!(oauth["role_attribute_strict"], true, "{label}");
        assert!(
            oauth.get("client_secret").is_none(),
            "{label}: secret in clear"
        );
        assert_eq!(values["envFromSecrets"][0]["name"], "grafana-oidc");
        assert_eq!(values["admin"]["existingSecret"], "grafana-admin");
        let es = t.find("ExternalSecret", "grafana-oidc");
        assert_eq!(es["metadata"]["namespace"], "grafana");
        // The admin bootstrap secret is still made in the cluster.
        assert!(t.try_find("ExternalSecret", "grafana-admin").is_some());
        let idp_ns = match identity {
            IdentityProvider::Keycloak => "keycloak",
            IdentityProvider::Dex => "dex",
            IdentityProvider::Zitadel => "zitadel",
        };
        if identity != IdentityProvider::Zitadel {
            // Copied from the client's own Secret, made in the identity provider's namespace.
            assert_eq!(
                es["spec"]["secretStoreRef"]["name"], "oidc-client-grafana-reader",
                "{label}"
            );
            assert_eq!(
                es["spec"]["target"]["template"]["data"]["GF_AUTH_GENERIC_OAUTH_CLIENT_ID"],
                "grafana"
            );
            let made = t.find("ExternalSecret", "oidc-client-grafana");
            assert_eq!(made["metadata"]["namespace"], idp_ns);
            assert_eq!(made["spec"]["refreshPolicy"], "CreatedOnce");
        }
        // The identity provider knows the client, with the same secret.
        match identity {
            IdentityProvider::Keycloak => {
                let realm = t.find("ConfigMap", "keycloak-realm");
                let text = realm["data"]["haven.json"].as_str().unwrap();
                let realm: Value = serde_json::from_str(text).unwrap();
                let client = realm["clients"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["clientId"] == "grafana")
                    .expect("no grafana client");
                assert_eq!(
                    client["redirectUris"][0],
                    "https://grafana.example.nl/login/generic_oauth"
                );
                assert_eq!(client["secret"], "${GRAFANA_CLIENT_SECRET}");
                let kc = &t.find("HelmRelease", "keycloak")["spec"]["values"];
                assert!(
                    kc["extraEnvFrom"]
                        .as_str()
                        .unwrap()
                        .contains("name: oidc-client-grafana\n")
                );
            }
            IdentityProvider::Dex => {
                let dex = &t.find("HelmRelease", "dex")["spec"]["values"];
                let client = dex["config"]["staticClients"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["id"] == "grafana")
                    .expect("no grafana client");
                assert_eq!(client["secretEnv"], "GRAFANA_CLIENT_SECRET");
                assert_eq!(
                    client["redirectURIs"][0],
                    "https://grafana.example.nl/login/generic_oauth"
                );
                assert!(
                    dex["envFrom"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|e| e["secretRef"]["name"] == "oidc-client-grafana")
                );
            }
            IdentityProvider::Zitadel => {
                assert_eq!(es["spec"]["secretStoreRef"]["name"], "openbao");
                assert!(
                    t.notes
                        .iter()
                        .any(|n| n.contains("`grafana` (confidential)")),
                    "{:?}",
                    t.notes
                );
            }
        }
    }
}

#[test]
fn without_identity_grafana_needs_no_oidc_secret_and_without_metrics_no_rules() {
    let mut c = config(
        Provider::Previder,
        MetricsBackend::Mimir,
        IdentityProvider::Keycloak,
    );
    c.capabilities.identity.enabled = false;
    c.capabilities.metrics.enabled = false;
    let t = render_clean("bare", &c);
    assert!(t.try_find("ExternalSecret", "grafana-oidc").is_none());
    let values = &t.find("HelmRelease", "grafana")["spec"]["values"];
    assert!(values["grafana.ini"].get("auth.generic_oauth").is_none());
    assert!(t.try_find("PrometheusRule", "haven-platform").is_none());
}

/// Mimir runs the classic architecture, as written to the HelmRelease Flux applies: no bundled
/// Kafka (chart 6.x's default, "for demonstration and testing purposes only"), ingest storage
/// off and the ingesters' gRPC push on (Kafka off alone would leave no write path at all). No
/// value is a null: Flux applies the HelmRelease server-side, which drops a null added to an
/// existing object, so an upgraded platform would keep the chart's ingest-storage settings.
/// No rollout-operator, so no zone-aware StatefulSet (their `OnDelete` updates need it), and
/// the namespace opens neither the API server's way to a webhook nor the way to the API
/// server that the operator would need.
#[test]
fn mimir_runs_the_classic_architecture_without_kafka_zones_or_rollout_operator() {
    let catalogue = Catalogue::builtin().unwrap();
    for (label, c) in [
        (
            "default",
            config(
                Provider::Generic,
                MetricsBackend::Mimir,
                IdentityProvider::Keycloak,
            ),
        ),
        ("receivers", with_receivers(MetricsBackend::Mimir)),
    ] {
        let rendered = render(&c, &catalogue);
        let objects = haven_platform::charts::tree_objects(&rendered.files);
        let release = objects
            .iter()
            .map(|o| &o.value)
            .find(|v| v["kind"] == "HelmRelease" && v["metadata"]["name"] == "mimir")
            .unwrap_or_else(|| panic!("{label}: no HelmRelease mimir"));
        let values = &release["spec"]["values"];
        let mimir = &values["mimir"]["structuredConfig"];
        assert_eq!(values["kafka"]["enabled"], false, "{label}: {values:#}");
        assert_eq!(mimir["ingest_storage"]["enabled"], false, "{label}");
        assert_eq!(
            mimir["ingester"]["push_grpc_method_enabled"], true,
            "{label}"
        );
        assert_eq!(mimir["distributor"]["remote_timeout"], "2s", "{label}");
        let mut nulls = Vec::new();
        null_paths(values, "values", &mut nulls);
        assert!(
            nulls.is_empty(),
            "{label}: nulls Flux would drop: {nulls:?}"
        );

        assert_eq!(values["rollout_operator"]["enabled"], false, "{label}");
        let zoned: Vec<&String> = values
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v["zoneAwareReplication"]["enabled"] != false)
            .filter(|(_, v)| v.get("zoneAwareReplication").is_some())
            .map(|(k, _)| k)
            .collect();
        assert!(
            zoned.is_empty(),
            "{label}: zone-aware without rollout-operator: {zoned:?}"
        );
        for component in ["ingester", "store_gateway"] {
            assert_eq!(
                values[component]["zoneAwareReplication"]["enabled"], false,
                "{label}: {component}"
            );
        }
        assert_eq!(values["ingester"]["replicas"], 3, "{label}");
        // 6.1.0's 1 GiB ruler ballast, off (6.2.0 made it configurable).
        assert_eq!(values["ruler"]["memBallastSizeBytes"], 0, "{label}");
    }
    let network = &catalogue.get("mimir").unwrap().network;
    assert!(
        !network.kube_api && network.webhook_ports.is_empty(),
        "mimir opens the rollout-operator's flows: re-decide `rollout_operator.enabled`"
    );
}

fn null_paths(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_owned()),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| null_paths(c, &format!("{path}.{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| null_paths(c, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

/// A default platform (the mimir backend, nothing opted in) runs kube-state-metrics: the
/// crash-loop alert and the workloads dashboard have their metrics. Its chart makes a
/// ServiceMonitor that Alloy's clustered `prometheus.operator.servicemonitors` scrapes, the
/// flow Alloy → kube-state-metrics is declared and allowed, it runs Pod Security restricted,
/// and its RBAC is the chart's list/watch without Secrets. `enabled: false` leaves it out and
/// the render names what goes with it.
#[test]
fn a_default_mimir_platform_runs_kube_state_metrics_and_alloy_scrapes_it() {
    let c = PlatformConfig::new("haven", "example.nl", Provider::Generic);
    let t = render_clean("default", &c);
    let ksm = &t.find("HelmRelease", "kube-state-metrics")["spec"]["values"];
    assert_eq!(ksm["prometheus"]["monitor"]["enabled"], true);
    let collectors: Vec<&str> = ksm["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(collectors.contains(&"pods") && !collectors.contains(&"secrets"));
    assert_eq!(
        ksm["rbac"]["extraRules"][0]["verbs"],
        serde_json::json!(["list", "watch"])
    );
    let ns = t.find("Namespace", "kube-state-metrics");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let cfg = t.find("HelmRelease", "alloy")["spec"]["values"]["alloy"]["configMap"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cfg.contains("prometheus.operator.servicemonitors \"all\""),
        "{cfg}"
    );
    // Alloy may reach it: its namespace lets the collector in.
    assert!(t.policy("kube-state-metrics", "allow-from-alloy").is_some());
    // The proof (run by `render_clean`, no error) has the flow to prove: Alloy, which scrapes
    // every namespace, to kube-state-metrics, opened by the policy above.
    let catalogue = Catalogue::builtin().unwrap();
    let rendered = render(&c, &catalogue);
    let tree = haven_platform::charts::tree_objects(&rendered.files);
    let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
    let report = haven_platform::proofs::flows::analyse(&landscape, &catalogue, false);
    let flow = report
        .declared
        .iter()
        .find(|f| {
            f.from.to_string().contains("alloy") && f.to.to_string().contains("kube-state-metrics")
        })
        .unwrap_or_else(|| panic!("{:#?}", report.declared));
    assert!(flow.needed, "{flow:?}");
    assert!(
        flow.opened_by
            .contains(&"kube-state-metrics/allow-from-alloy".to_owned()),
        "{flow:?}"
    );
    let rules = serde_json::to_string(t.find("PrometheusRule", "haven-platform")).unwrap();
    assert!(rules.contains("PlatformPodCrashLooping") && rules.contains("gotk_resource_info"));
    t.find("ConfigMap", "dashboard-haven-workloads");
    assert!(
        !t.notes
            .iter()
            .any(|n| n.contains("kube-state-metrics is off")),
        "{:?}",
        t.notes
    );

    let mut off = c.clone();
    off.capabilities.kube_state_metrics.enabled = false;
    let t = render_clean("kube-state-metrics off", &off);
    assert!(t.try_find("HelmRelease", "kube-state-metrics").is_none());
    let rules = serde_json::to_string(t.find("PrometheusRule", "haven-platform")).unwrap();
    assert!(!rules.contains("kube_pod_container") && !rules.contains("gotk_resource_info"));
    let note = t
        .notes
        .iter()
        .find(|n| n.contains("kube-state-metrics is off"))
        .unwrap_or_else(|| panic!("{:?}", t.notes));
    for lost in [
        "alert PlatformPodCrashLooping",
        "alert KustomizationNotReady",
        "panel \"Container restarts per namespace\"",
        "panel \"Flux objects not Ready\"",
    ] {
        assert!(note.contains(lost), "{note}");
    }
    // With kube-prometheus-stack the opt-out turns off the chart's own copy.
    off.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack;
    let t = render_clean("kube-prometheus-stack without kube-state-metrics", &off);
    let kps = &t.find("HelmRelease", "kube-prometheus-stack")["spec"]["values"];
    assert_eq!(kps["kubeStateMetrics"]["enabled"], false);
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("kube-state-metrics is off"))
    );
}

fn with_receivers(backend: MetricsBackend) -> PlatformConfig {
    let mut c = config(Provider::Cyso, backend, IdentityProvider::Keycloak);
    c.capabilities.alerting = haven_platform::config::Alerting {
        email: Some(haven_platform::config::EmailReceiver {
            smarthost: "smtp.example.nl:587".to_owned(),
            from: "alerts@example.nl".to_owned(),
            to: vec!["platform@example.nl".to_owned()],
            username: Some("alerts@example.nl".to_owned()),
            require_tls: true,
        }),
        webhook: Some(haven_platform::config::WebhookReceiver {
            format: haven_platform::config::WebhookFormat::Slack,
            port: 443,
        }),
        heartbeat: true,
        ..Default::default()
    };
    c
}

/// Every `*_file` value of an Alertmanager config (`auth_password_file`, `api_url_file`,
/// `url_file`), and every key that would carry a credential inline.
fn files_and_inline_secrets(v: &Value, files: &mut Vec<String>, inline: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k.ends_with("_file") {
                    files.push(child.as_str().unwrap().to_owned());
                } else if [
                    "auth_password",
                    "api_url",
                    "url",
                    "webhook_url",
                    "smtp_auth_password",
                ]
                .contains(&k.as_str())
                {
                    inline.push(k.clone());
                }
                files_and_inline_secrets(child, files, inline);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| files_and_inline_secrets(i, files, inline)),
        _ => {}
    }
}

/// The schema-ish checks of a rendered Alertmanager config: every route names a receiver that
/// exists, every platform alert reaches e-mail and the webhook, `Watchdog` the heartbeat; the
/// credentials are files in `dir` named after the keys of the Secret `secret_keys`, none
/// inline.
fn assert_receivers(label: &str, am: &Value, dir: &str, secret_keys: &[String]) {
    let names: BTreeSet<&str> = am["receivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let route = &am["route"];
    assert_eq!(route["receiver"], "platform", "{label}");
    let mut routes = vec![route];
    routes.extend(route["routes"].as_array().unwrap());
    for r in &routes {
        assert!(
            names.contains(r["receiver"].as_str().unwrap()),
            "{label}: route to {} of {names:?}",
            r["receiver"]
        );
    }
    let watchdog = route["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["matchers"][0] == "alertname = \"Watchdog\"")
        .unwrap();
    assert_eq!(watchdog["receiver"], "heartbeat", "{label}");
    let platform = am["receivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "platform")
        .unwrap();
    let email = &platform["email_configs"][0];
    assert_eq!(email["smarthost"], "smtp.example.nl:587", "{label}");
    assert_eq!(email["to"], "platform@example.nl", "{label}");
    assert_eq!(email["auth_username"], "alerts@example.nl", "{label}");
    assert!(
        platform["slack_configs"][0]["api_url_file"].is_string(),
        "{label}"
    );
    let (mut files, mut inline) = (Vec::new(), Vec::new());
    files_and_inline_secrets(am, &mut files, &mut inline);
    assert!(inline.is_empty(), "{label}: inline {inline:?}");
    assert_eq!(files.len(), 3, "{label}: {files:?}");
    for f in &files {
        let key = f
            .strip_prefix(&format!("{dir}/"))
            .unwrap_or_else(|| panic!("{label}: {f} not under {dir}"));
        assert!(
            secret_keys.iter().any(|k| k == key),
            "{label}: {key} not in {secret_keys:?}"
        );
    }
}

/// With receivers configured, the Alertmanager the platform's alerts reach (Mimir's, through
/// its fallback configuration; kube-prometheus-stack's) sends them by e-mail and webhook, and
/// `Watchdog` to the dead man's switch; the credentials come from the store through an
/// ExternalSecret, mounted where the config names its files, with a note naming the
/// `bao kv put`; the Alertmanager pods may reach the receivers. Validates with every proof.
#[test]
fn receivers_reach_alertmanager_from_the_store_on_both_backends() {
    for backend in [MetricsBackend::Mimir, MetricsBackend::KubePrometheusStack] {
        let label = format!("{backend:?}");
        let t = render_clean(&label, &with_receivers(backend));
        let ns = match backend {
            MetricsBackend::Mimir => "mimir",
            MetricsBackend::KubePrometheusStack => "monitoring",
        };
        let es = t.find("ExternalSecret", observability::RECEIVERS_SECRET);
        assert_eq!(es["metadata"]["namespace"], ns, "{label}");
        assert_eq!(
            es["spec"]["target"]["name"],
            observability::RECEIVERS_SECRET
        );
        let keys: Vec<String> = es["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(
                    d["remoteRef"]["key"], "platform/alerting/receivers",
                    "{label}"
                );
                assert_eq!(d["remoteRef"]["property"], d["secretKey"], "{label}");
                d["secretKey"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            keys,
            ["smtp-password", "webhook-url", "heartbeat-url"],
            "{label}"
        );
        assert!(
            t.notes.iter().any(|n| n.contains(
                "bao kv put -mount=secret platform/alerting/receivers smtp-password=… webhook-url=… heartbeat-url=…"
            )),
            "{label}: {:?}",
            t.notes
        );
        assert!(
            !t.notes.iter().any(|n| n.contains("no alert receivers")),
            "{label}"
        );
        let rules = serde_json::to_string(t.find("PrometheusRule", "haven-platform")).unwrap();
        match backend {
            MetricsBackend::Mimir => {
                let values = &t.find("HelmRelease", "mimir")["spec"]["values"];
                let am_values = &values["alertmanager"];
                // The fallback configuration is text the chart writes into a ConfigMap:
                // parse it back as YAML, as Alertmanager does.
                let text = am_values["fallbackConfig"].as_str().unwrap();
                let am: Value = serde_yaml_ng::from_str(text).unwrap();
                let dir = observability::MIMIR_RECEIVERS_DIR;
                assert_receivers(&label, &am, dir, &keys);
                assert_eq!(
                    am_values["extraVolumes"][0]["secret"]["secretName"],
                    observability::RECEIVERS_SECRET
                );
                assert_eq!(am_values["extraVolumeMounts"][0]["mountPath"], dir);
                assert_eq!(am_values["extraVolumeMounts"][0]["readOnly"], true);
                assert_eq!(
                    am_values["extraVolumeMounts"][0]["name"],
                    am_values["extraVolumes"][0]["name"]
                );
                // The ruler keeps the chart's `alertmanager_url` (Mimir's Alertmanager), and
                // Alloy loads the rules as the tenant it writes the metrics as.
                assert!(values["mimir"]["structuredConfig"].get("ruler").is_none());
                let cfg = t.find("HelmRelease", "alloy")["spec"]["values"]["alloy"]["configMap"]
                    ["content"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let tenant = format!("tenant_id = \"{}\"", observability::TENANT);
                let header = format!("\"X-Scope-OrgID\" = \"{}\"", observability::TENANT);
                assert!(cfg.contains(&tenant) && cfg.contains(&header), "{cfg}");
                // Mimir has no Watchdog of its own: the platform's rules carry it.
                assert!(rules.contains("\"alert\":\"Watchdog\""), "{label}");
            }
            MetricsBackend::KubePrometheusStack => {
                let values = &t.find("HelmRelease", "kube-prometheus-stack")["spec"]["values"];
                let am = &values["alertmanager"]["config"];
                assert_receivers(&label, am, observability::KPS_RECEIVERS_DIR, &keys);
                assert_eq!(
                    values["alertmanager"]["alertmanagerSpec"]["secrets"],
                    serde_json::json!([observability::RECEIVERS_SECRET])
                );
                // The chart's own Watchdog (defaultRules) is the one: no second.
                assert!(!rules.contains("\"alert\":\"Watchdog\""), "{label}");
            }
        }
        let egress = t
            .policy(ns, "allow-alert-receivers")
            .unwrap_or_else(|| panic!("{label}: no allow-alert-receivers"));
        let ports: Vec<u64> = egress["spec"]["egress"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["ports"].as_array().unwrap())
            .map(|p| p["port"].as_u64().unwrap())
            .collect();
        assert_eq!(ports, [587, 443], "{label}");
    }
    // Without receivers the render says that alerts reach nobody.
    let t = render_clean(
        "no receivers",
        &config(
            Provider::Cyso,
            MetricsBackend::Mimir,
            IdentityProvider::Keycloak,
        ),
    );
    assert!(
        t.notes.iter().any(|n| n.contains("no alert receivers")),
        "{:?}",
        t.notes
    );
    assert!(
        t.try_find("ExternalSecret", observability::RECEIVERS_SECRET)
            .is_none()
    );
}
