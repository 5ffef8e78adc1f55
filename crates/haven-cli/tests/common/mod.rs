//! Helpers shared by the tests that render charts with Helm's real engine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (examples, tools and deploy live there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Helm's engine is a Python package; without it these tests cannot run. They say so, and in CI
/// (where `.ci/run` installs it) its absence is a failure, not a skip.
pub fn helm_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import helm_python"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "helm-python-sdk is not installed; .ci/run must install tools/requirements-test.txt"
        );
        eprintln!(
            "SKIPPED: helm-python-sdk is not installed (pip install -r tools/requirements-test.txt)"
        );
    }
    ok
}
