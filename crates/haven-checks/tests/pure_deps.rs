//! The pure crates stay pure: neither `haven-checks` nor `haven-report` (nor the snapshot types
//! they share) may depend, directly or through another crate, on the network stack. A snapshot
//! type moved back into `haven-cluster`, or a convenience dependency on it, would pull kube,
//! hyper, rustls and tokio into every build of the judging code; this test fails when that
//! happens. It asks Cargo itself (`cargo tree -e normal`, offline, from the committed lock file).

use std::process::Command;

/// Crates that mean network I/O. `tokio-*`, `hyper-*` and `kube-*` are caught by prefix.
const FORBIDDEN: &[&str] = &["kube", "hyper", "rustls", "tokio", "reqwest", "openssl"];

fn normal_dependencies(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo can be run");
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn assert_pure(package: &str) {
    let deps = normal_dependencies(package);
    assert!(
        deps.iter().any(|d| d == package),
        "cargo tree did not list {package} itself: {deps:?}"
    );
    assert!(
        deps.iter().any(|d| d == "serde"),
        "cargo tree -p {package} lists no serde: the parse of its output is wrong ({deps:?})"
    );
    let bad: Vec<&String> = deps
        .iter()
        .filter(|d| {
            FORBIDDEN.iter().any(|f| {
                *d == f || d.starts_with(&format!("{f}-")) || d.starts_with(&format!("{f}_"))
            })
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{package} must stay free of network crates, but depends on {bad:?} (run `cargo tree -p {package} -e normal -i {}`)",
        bad[0]
    );
}

#[test]
fn haven_snapshot_is_serde_only() {
    assert_pure("haven-snapshot");
}

#[test]
fn haven_checks_has_no_network_stack() {
    assert_pure("haven-checks");
}

#[test]
fn haven_report_has_no_network_stack() {
    assert_pure("haven-report");
}

#[test]
fn the_check_can_fail() {
    // haven-cluster is the edge: it must show up as impure, or the filter above sees nothing.
    let deps = normal_dependencies("haven-cluster");
    assert!(deps.iter().any(|d| d == "kube"), "{deps:?}");
    assert!(deps.iter().any(|d| d == "tokio"), "{deps:?}");
}
