//! What the integration tests of haven-platform share.

// Each test binary compiles this module and uses only the options it needs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use haven_platform::charts::Check;
use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, SecretsBackend,
    Tenant,
};
use haven_platform::crds::BuiltinSchemas;
use haven_platform::validate::{self, Options, Severity};
use haven_platform::{Catalogue, PlatformConfig, Provider};

/// Asserts that a rendered tree validates and passes every proof with no error, as
/// `haven plus validate` judges it (offline: schemas, wiring, rules, then the proofs of flows,
/// identities, references and certificates).
pub fn assert_validates_and_proves(
    label: &str,
    files: &BTreeMap<PathBuf, String>,
    catalogue: &Catalogue,
    kubernetes_version: &str,
) {
    Clean::new(label, files, catalogue, kubernetes_version).assert();
}

/// The one "validates and proves clean" check of a rendered tree, with the options some tests
/// hold it to beyond the default (no error from validate or from any proof, on one minor).
pub struct Clean<'a> {
    label: &'a str,
    files: &'a BTreeMap<PathBuf, String>,
    catalogue: &'a Catalogue,
    minors: Vec<String>,
    warnings_too: bool,
    spotless_references: bool,
    min_custom_resources: usize,
}

impl<'a> Clean<'a> {
    pub fn new(
        label: &'a str,
        files: &'a BTreeMap<PathBuf, String>,
        catalogue: &'a Catalogue,
        kubernetes_version: &str,
    ) -> Self {
        Self {
            label,
            files,
            catalogue,
            minors: vec![kubernetes_version.to_owned()],
            warnings_too: false,
            spotless_references: false,
            min_custom_resources: 0,
        }
    }

    /// Validate on each of these Kubernetes minors instead of the one given to `new`.
    pub fn on_minors(mut self, minors: &[&str]) -> Self {
        self.minors = minors.iter().map(|m| (*m).to_owned()).collect();
        self
    }

    /// No diagnostic of validate at all, warnings included.
    pub fn without_warnings(mut self) -> Self {
        self.warnings_too = true;
        self
    }

    /// The references and certificates proofs find nothing at all (no warning either): nothing
    /// made for no one, no certificate in doubt.
    pub fn spotless_references(mut self) -> Self {
        self.spotless_references = true;
        self
    }

    /// Validate checks more than `n` custom resources on each minor (the built-in schemas were
    /// found for the tree's components).
    pub fn more_custom_resources_than(mut self, n: usize) -> Self {
        self.min_custom_resources = n;
        self
    }

    pub fn assert(self) {
        let label = self.label;
        let facts = validate::platform_facts(self.files);
        let schemas = BuiltinSchemas::new(facts.components);
        for minor in &self.minors {
            let opts = Options {
                kubernetes_version: minor.clone(),
                ..Options::default()
            };
            let report = validate::validate(self.files, &schemas, &opts);
            let problems: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| self.warnings_too || d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect();
            assert!(
                problems.is_empty(),
                "{label} on Kubernetes {minor}: {} problems:\n{}",
                problems.len(),
                problems.join("\n")
            );
            if self.min_custom_resources > 0 {
                assert!(
                    report.custom_resources > self.min_custom_resources,
                    "{label}: {}",
                    report.custom_resources
                );
            }
        }
        let tree = haven_platform::charts::tree_objects(self.files);
        let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
        let proofs = haven_platform::proofs::prove(&landscape, self.catalogue);
        let errors: Vec<String> = proofs
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| p.to_string())
            .collect();
        assert!(errors.is_empty(), "{label}:\n{}", errors.join("\n"));
        if self.spotless_references {
            let refs: Vec<String> = proofs
                .iter()
                .filter(|p| matches!(p.check, Check::References | Check::Certificates))
                .map(|p| p.to_string())
                .collect();
            assert!(refs.is_empty(), "{label}:\n{}", refs.join("\n"));
        }
    }
}

/// A tenant with its own Git repository, as `haven plus tenant add` writes one.
pub fn tenant(name: &str) -> Tenant {
    Tenant {
        name: name.to_owned(),
        group: format!("{name}-developers"),
        repo: Some(format!("https://git.example.nl/{name}/deploy.git")),
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    }
}

/// Every provider (default choices) and every alternative, each with the tenant `zaken`.
pub fn every_provider_and_alternative() -> Vec<(String, PlatformConfig)> {
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

/// A Dex connector, as an operator gives one (Dex does not start without): an OIDC upstream
/// whose client secret comes from the secret store.
pub fn dex_connectors() -> haven_platform::config::DexSettings {
    serde_json::from_value(serde_json::json!({"connectors": [{
        "type": "oidc", "id": "entra", "name": "Entra ID",
        "config": {"issuer": "https://login.microsoftonline.com/t/v2.0", "clientID": "abc",
                   "redirectURI": "https://dex.example.nl/callback"},
        "secrets": ["clientSecret"],
    }]}))
    .unwrap()
}
