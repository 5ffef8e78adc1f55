//! The catalogue data: coherent, covering every capability and choice, Renovate-ready.

use haven_platform::catalogue::{self, Catalogue, FILES};
use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, PlatformConfig,
    Provider, SecretsBackend,
};

#[test]
fn parses_and_is_coherent() {
    let cat = Catalogue::builtin().unwrap();
    assert_eq!(cat.components.len(), FILES.len());
    let problems = catalogue::lint(&cat);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The catalogue is read as Helm reads values (YAML 1.1); a scalar that a YAML 1.2 reader (an
/// editor, Renovate) reads otherwise would make the file say two things.
#[test]
fn every_catalogue_file_reads_the_same_in_yaml_1_1_and_1_2() {
    for (name, text) in FILES {
        let doc = haven_model::load::single_document(name, text)
            .unwrap()
            .unwrap();
        assert!(
            doc.notes.is_empty(),
            "catalogue/{name}.yaml: {:#?}",
            doc.notes
        );
        let yaml12: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(doc.value, yaml12, "catalogue/{name}.yaml");
    }
}

#[test]
fn every_capability_and_choice_has_a_provider() {
    let cat = Catalogue::builtin().unwrap();
    let mut configs = vec![PlatformConfig::new("a", "example.nl", Provider::Generic)];
    let with = |f: &dyn Fn(&mut PlatformConfig)| {
        let mut c = PlatformConfig::new("a", "example.nl", Provider::Generic);
        f(&mut c);
        c
    };
    configs.push(with(&|c| {
        c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack
    }));
    configs.push(with(&|c| {
        c.capabilities.secrets.backend = SecretsBackend::SealedSecrets
    }));
    configs.push(with(&|c| {
        c.capabilities.identity.provider = IdentityProvider::Dex
    }));
    configs.push(with(&|c| {
        c.capabilities.identity.provider = IdentityProvider::Zitadel
    }));
    configs.push(with(&|c| {
        c.capabilities.admission.engine = AdmissionEngine::Kyverno
    }));
    for i in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        configs.push(with(&|c| c.capabilities.ingress.implementation = i));
    }
    // The capabilities that are off unless a config turns them on, each turned on.
    const OPT_IN: &[&str] = &[
        "kubectlLogin",
        "clusterUI",
        "kubeStateMetrics",
        "policyReports",
        "loadBalancer",
        "storage",
    ];
    configs.push(with(&|c| {
        let caps = &mut c.capabilities;
        caps.kubectl_login.enabled = true;
        caps.cluster_ui.enabled = true;
        caps.kube_state_metrics.enabled = true;
        caps.policy_reports.enabled = true;
        caps.load_balancer.enabled = true;
        caps.load_balancer.addresses = vec!["192.0.2.0/28".to_owned()];
        caps.storage.nfs = Some(haven_platform::config::NfsExport {
            server: "nfs.example.nl".to_owned(),
            path: "/exports".to_owned(),
        });
    }));
    for c in &configs {
        let selected = cat.selected(c);
        for cap in haven_platform::config::CAPABILITIES {
            let (on, choice) = c.capabilities.selection(cap).unwrap();
            if !on {
                // Off only where the config leaves an opt-in capability off (or the metrics
                // backend brings kube-state-metrics itself).
                assert!(OPT_IN.contains(cap), "{cap} is off by default");
                continue;
            }
            let served = selected.iter().any(|comp| {
                comp.provides
                    .iter()
                    .any(|p| p.capability == *cap && (p.choice.is_none() || p.choice == choice))
            });
            assert!(served, "nothing provides {cap} ({choice:?})");
        }
    }
    // Exactly one ingress implementation is ever selected.
    for c in &configs {
        let gateways = cat.selected(c).iter().filter(|x| x.network.gateway).count();
        assert_eq!(gateways, 1, "{:?}", c.capabilities.ingress);
    }
}

/// The regex manager in renovate.json matches `# renovate: ...` directly above `version:`.
#[test]
fn every_pin_is_renovate_ready() {
    let renovate = include_str!("../../../renovate.json");
    assert!(renovate.contains(r"# renovate: datasource=(?<datasource>\\S+) depName=(?<depName>\\S+)( registryUrl=(?<registryUrl>\\S+))?\\nversion: (?<currentValue>\\S+)"));
    let cat = Catalogue::builtin().unwrap();
    for ((name, text), c) in FILES.iter().zip(&cat.components) {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("version: "))
            .unwrap_or_else(|| panic!("{name}: no version line"));
        let comment = lines[at - 1];
        assert!(
            comment.starts_with("# renovate: datasource="),
            "{name}: {comment}"
        );
        let fields: Vec<&str> = comment
            .trim_start_matches("# renovate: ")
            .split(' ')
            .collect();
        assert!(fields[1].starts_with("depName="), "{name}");
        if c.source.kind == catalogue::SourceKind::Helm {
            assert_eq!(fields[0], "datasource=helm", "{name}");
            assert_eq!(fields[2], format!("registryUrl={}", c.source.url), "{name}");
            assert_eq!(fields[1], format!("depName={}", c.chart), "{name}");
        }
        if c.source.kind == catalogue::SourceKind::Oci {
            assert_eq!(fields[0], "datasource=docker", "{name}");
            assert_eq!(
                fields[1],
                format!("depName={}", c.source.url.trim_start_matches("oci://")),
                "{name}"
            );
        }
        assert_eq!(lines[at], format!("version: {}", c.version), "{name}");
        if !c.verified {
            assert!(
                text.contains("# unverified:"),
                "{name}: unverified pins say so in a comment"
            );
        }
    }
}
