//! What the integration tests of haven-platform share.

use std::collections::BTreeMap;
use std::path::PathBuf;

use haven_platform::Catalogue;
use haven_platform::crds::BuiltinSchemas;
use haven_platform::validate::{self, Options, Severity};

/// Asserts that a rendered tree validates and passes every proof with no error, as
/// `haven plus validate` judges it (offline: schemas, wiring, rules, then the proofs of flows,
/// identities, references and certificates).
pub fn assert_validates_and_proves(
    label: &str,
    files: &BTreeMap<PathBuf, String>,
    catalogue: &Catalogue,
    kubernetes_version: &str,
) {
    let facts = validate::platform_facts(files);
    let schemas = BuiltinSchemas::new(facts.components);
    let opts = Options {
        kubernetes_version: kubernetes_version.to_owned(),
        ..Options::default()
    };
    let report = validate::validate(files, &schemas, &opts);
    let problems: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    let tree = haven_platform::charts::tree_objects(files);
    let landscape = haven_platform::proofs::Landscape::of_tree(&tree);
    let errors: Vec<String> = haven_platform::proofs::prove(&landscape, catalogue)
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.to_string())
        .collect();
    assert!(errors.is_empty(), "{label}:\n{}", errors.join("\n"));
}
