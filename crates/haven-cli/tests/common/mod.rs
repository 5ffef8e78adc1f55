//! Helpers shared by the tests that render charts with Helm's real engine.

use std::path::{Path, PathBuf};

/// The repository root (examples, tools and deploy live there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Helm's engine is a Python package (`tools/helm` wraps it). The tests that render charts are
/// `#[ignore = "needs helm-python-sdk …"]` and call this first: run with `--include-ignored`
/// (as `.ci/run` does) without the package, they fail saying what to install.
pub fn require_helm() {
    haven_test_support::require_command(
        "python3",
        &["-c", "import helm_python"],
        "helm-python-sdk (pip install -r tools/requirements-test.txt)",
    );
}
