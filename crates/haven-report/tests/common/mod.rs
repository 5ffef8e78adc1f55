//! Helpers shared by the format tests: where the workspace is, schema validation, and what to do
//! when an outside tool is missing.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A check that needs a tool from outside cargo: skip with a reason locally, fail on CI.
pub fn missing_tool(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} (required when CI is set)");
    }
    eprintln!("SKIPPED: {what}");
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
