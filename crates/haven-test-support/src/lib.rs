//! An in-process Kubernetes-style API server over HTTPS, for tests and benchmarks of the parts
//! of haven that talk to a cluster (`haven check`, the admission webhook's namespace cache,
//! `haven plus status`).
//!
//! The real `kube::Client` talks to it over real TLS with a bearer token, so discovery, paging,
//! watches, errors and timeouts go through exactly the code paths they take against a cluster.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use haven_test_support::{ApiServer, FakeCluster};
//! let cluster = FakeCluster::from_yaml("cluster.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n")
//!     .expect("valid fixture");
//! let server = ApiServer::start(cluster).await?;
//! let client = server.client();          // trusts the server's CA, sends its token
//! # let _ = client;
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Fixture format
//!
//! A fixture is a multi-document YAML stream read with `haven_model::yaml` (as Kubernetes
//! reads YAML). Every document is an object of a built-in kind (see [`resources::builtin`]) or
//! of a kind defined by a `CustomResourceDefinition` in the same fixture (CRDs are stored first,
//! so order does not matter). Namespaced objects without `metadata.namespace` go to `default`;
//! `default`, `kube-system`, `kube-public` and `kube-node-lease` always exist. `uid`,
//! `resourceVersion` and `creationTimestamp` are filled in unless given. An unknown kind or a
//! broken document is an error naming file and line.
//!
//! One optional document configures the server itself:
//!
//! ```yaml
//! apiVersion: test.haven.commonground.nl/v1
//! kind: FakeClusterInfo
//! serverVersion:            # merged over a Kubernetes v1.33.4 version.Info
//!   major: "1"
//!   minor: "31"
//!   gitVersion: v1.31.2
//!   platform: linux/arm64
//! user: system:serviceaccount:haven:checker   # named in Forbidden messages
//! access:                   # "cluster-admin" (default) or RBAC-style rules; the rest is 403
//! - verbs: [get, list, watch]
//!   apiGroups: ["", apps]
//!   resources: [nodes, pods, namespaces, deployments]
//! - verbs: [get]
//!   apiGroups: [""]
//!   resources: [configmaps]
//!   namespaces: [kube-system]   # optional: only in these namespaces
//! ```
//!
//! `fixtures/example.yaml` in this crate is a small complete example.

pub mod charts;
mod cluster;
pub mod fuzz;
mod patch;
pub mod resources;
mod selector;
mod server;
mod synthetic;
mod tls;

pub use cluster::{Access, AccessRule, ApiError, FakeCluster};
pub use selector::{FieldSelector, LabelSelector};
pub use server::{ApiServer, FaultAction, Faults};
pub use synthetic::synthetic;
pub use tls::{IssuedCert, TestCa};

/// Data under `../shared` (beside the repository: upstream fixtures, charts, CRD schemas) that a
/// test reads in place.
///
/// Tests that need anything from outside the repository (this data, Helm's engine, a Python
/// package, Go) follow one convention, so that a skipped test never looks like a passed one:
///
/// - the test is `#[ignore = "needs <what> (cargo test -- --include-ignored)"]`: a plain
///   `cargo test` on a machine without it stays green and lists the test as *ignored*, with
///   its reason, in the run's summary;
/// - `cargo test -- --include-ignored` (what `.ci/run` runs, and what a developer with the
///   data runs) includes it, and then a missing prerequisite fails the test with what to
///   install ([`shared_path`], [`require_command`]); nothing returns early as a pass.
///
/// # Panics
/// When the path does not exist.
pub fn shared_path(relative: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    assert!(
        path.exists(),
        "test data missing: {} (this test needs ../shared beside the repository; without it \
         run `cargo test` without --include-ignored, and it is reported as ignored)",
        path.display()
    );
    path
}

/// Requires a tool from outside cargo for a test marked `#[ignore = "needs …"]` (see
/// [`shared_path`]): runs `program args…` and fails the test, naming `install`, unless it
/// succeeds.
///
/// # Panics
/// When the command cannot be started or exits unsuccessfully.
pub fn require_command(program: &str, args: &[&str], install: &str) {
    let status = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`{program} {}` failed ({s}): this test needs {install}",
            args.join(" ")
        ),
        Err(e) => panic!("cannot run `{program}` ({e}): this test needs {install}"),
    }
}
