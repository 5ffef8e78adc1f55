//! Helpers shared by the format tests: where the workspace is, schema validation, and the
//! outside tools some tests need.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tests that run Python's `xmlschema` are `#[ignore = "needs python3 xmlschema …"]` and
/// call this first (see `haven_test_support::shared_path` for the convention).
pub fn require_xmlschema() {
    haven_test_support::require_command(
        "python3",
        &["-c", "import xmlschema"],
        "the Python package xmlschema (pip install -r tools/requirements-test.txt)",
    );
}

/// The SARIF 2.1.0 schema, which cargo fetched with `serde-sarif` (see [`sarif_schema`]).
pub fn require_sarif_schema() -> (PathBuf, Value) {
    sarif_schema().expect(
        "the SARIF 2.1.0 schema was not found in cargo's registry sources \
         (set HAVEN_SARIF_SCHEMA to sarif-schema-2.1.0.json)",
    )
}

/// Asserts that `instance` validates against the JSON Schema `schema` (formats checked too).
pub fn validate(schema: &Value, instance: &Value, what: &str) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema for {what} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate:\n{}",
        errors.join("\n")
    );
}

/// The OASIS SARIF 2.1.0 schema (`sarif-schema-2.1.0.json`): `HAVEN_SARIF_SCHEMA`, else the copy
/// that the `serde-sarif` crate from crates.io ships as `src/schema.json`, in cargo's registry
/// sources (the version pinned in Cargo.lock; the crate is a dependency, so cargo fetched it).
pub fn sarif_schema() -> Option<(PathBuf, Value)> {
    let path = match std::env::var_os("HAVEN_SARIF_SCHEMA") {
        Some(p) => PathBuf::from(p),
        None => serde_sarif_schema()?,
    };
    let text = std::fs::read_to_string(&path).ok()?;
    // The OASIS schema's `language` pattern has a stray `]`: "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$".
    // ECMA-262 (Annex B) reads a lone `]` as a literal, Rust's regex engines reject it, and so
    // the jsonschema crate refuses to compile the schema. Escaping it keeps the meaning.
    let text = text.replace("[a-zA-Z]{2}]?$", "[a-zA-Z]{2}\\\\]?$");
    let schema: Value = serde_json::from_str(&text).ok()?;
    Some((path, schema))
}

fn serde_sarif_schema() -> Option<PathBuf> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).ok()?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"serde-sarif\"\n"))?
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))?
        .trim_end_matches('"')
        .to_owned();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let mut registries: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    registries.sort();
    registries
        .into_iter()
        .map(|r| r.join(format!("serde-sarif-{version}/src/schema.json")))
        .find(|p| p.is_file())
}
