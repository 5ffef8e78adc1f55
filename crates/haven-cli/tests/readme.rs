//! Every command in README.md runs as written.
//!
//! The commands are taken from the README's ```sh blocks (one command per line, `\` continues a
//! line, a trailing `# comment` is not part of the command). Each one is either in [`RUN`], with
//! the exit code it must end with and what it needs, or in [`NOT_RUN`], with the reason it cannot
//! run in a test. A README command in neither list fails the test, and so does a listed command
//! that is no longer in the README: the lists and the README cannot drift apart.
//!
//! The commands run in README order, with `bash`, in one scratch directory that looks like the
//! repository to them (`examples`, `tools`, `deploy`, `crates` and `docs` link to the real ones,
//! `../shared` to the shared data) so that what they write stays out of the checkout. `haven` on
//! `PATH` is the binary under test. The cluster is the in-process fake API server serving the
//! compliant fixture through `KUBECONFIG`, its context named `prod` (the README's
//! `--context prod`); it stands in for the cluster's controllers too, so that `--allow-writes`'s
//! probe claims bind and probe pods finish.
//!
//! `readme_commands_run` runs the commands that need nothing from outside the repository;
//! `readme_commands_run_with_helm` (ignored unless asked for, see
//! `haven_test_support::shared_path`) runs all of them, with Helm's engine. A command that needs
//! `../shared` would get a `Needs` of its own and the ignored test a `shared_path` call.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::json;

/// What a command needs beyond the `haven` binary, the repository and the fake cluster.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Needs {
    Nothing,
    /// Helm's engine (`tools/helm`, PyPI `helm-python-sdk`).
    Helm,
}

/// The README commands the tests run, in README order: command, exit code, what it needs.
const RUN: &[(&str, i32, Needs)] = &[
    (
        "haven app check examples/charts/zaakregister -n zaken",
        1,
        Needs::Helm,
    ),
    (
        "haven app check examples/charts/zaakregister -n zaken -f examples/values/zaakregister-prod.yaml --set replicaCount=2",
        0,
        Needs::Helm,
    ),
    (
        "tools/helm template demo examples/charts/frontend | haven app check -",
        0,
        Needs::Helm,
    ),
    (
        "haven app check examples/manifests/brp-proxy.yaml --format sarif > haven.sarif",
        1,
        Needs::Nothing,
    ),
    (
        "haven app check examples/charts/worker-beat --waivers examples/waivers/worker-beat.yaml --fail-on medium",
        1,
        Needs::Helm,
    ),
    ("haven rules", 0, Needs::Nothing),
    ("haven rules explain pss.runAsNonRoot", 0, Needs::Nothing),
    ("haven check", 0, Needs::Nothing),
    ("haven check --context prod -o json", 0, Needs::Nothing),
    ("haven check -v", 0, Needs::Nothing),
    ("haven check -o haven-json", 0, Needs::Nothing),
    (
        "haven check --waivers examples/waivers/cluster.yaml",
        0,
        Needs::Nothing,
    ),
    ("haven check --plus", 0, Needs::Nothing),
    ("haven check --allow-writes", 0, Needs::Nothing),
    ("haven check --rationale", 0, Needs::Nothing),
    (
        "haven snapshot -o cluster.json && haven check --snapshot cluster.json",
        0,
        Needs::Nothing,
    ),
    (
        "haven app check examples/charts/zaakregister -n zaken --format html -o zaakregister.html",
        1,
        Needs::Helm,
    ),
    (
        "haven check -o html --lang nl > cluster.html",
        0,
        Needs::Nothing,
    ),
    (
        "haven plus init --provider previder --domain platform.example.nl",
        0,
        Needs::Nothing,
    ),
    ("haven plus render", 0, Needs::Nothing),
    ("haven plus validate", 0, Needs::Nothing),
    (
        "haven plus tenant add zaken --group gemeente:team-zaken --repo https://git.example.nl/zaken.git",
        0,
        Needs::Nothing,
    ),
    ("haven plus diff", 0, Needs::Nothing),
    (
        "haven plus explain capabilities.backups.ttl",
        0,
        Needs::Nothing,
    ),
    (
        "haven plus render -c examples/platform/haven-plus.yaml -o platform",
        0,
        Needs::Nothing,
    ),
    ("haven plus validate platform", 0, Needs::Nothing),
];

/// The README commands no test can run, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "haven plus import ../gitops-flux --cluster previder",
        "needs a checkout of the reference repository; plus.rs runs it on the committed copy (haven-platform/tests/fixtures/havenplus-reference)",
    ),
    (
        "examples/demo.sh",
        "a release build of haven (minutes); timed by hand, docs/benchmarks.md",
    ),
    (
        "cargo install --locked --path crates/haven-cli",
        "a release build, installed into ~/.cargo/bin",
    ),
    (
        "haven completions bash > /etc/bash_completion.d/haven",
        "writes to /etc; the completions themselves are tested in cli.rs",
    ),
    (
        "haven man > /usr/local/share/man/man1/haven.1",
        "writes to /usr/local; the man page itself is tested in cli.rs",
    ),
    (
        "haven check --online",
        "needs the internet (GitHub: cncf/k8s-conformance)",
    ),
    (
        "haven check --update-release-data",
        "needs the internet (GitHub); tested against a local server in cluster_check_offline.rs",
    ),
    (
        "kubectl haven check",
        "needs kubectl; the kubectl-haven binary is tested in cluster_check_live.rs",
    ),
    (
        "haven plus vendor -o vendor",
        "fetches every pinned chart from the internet; plus_vendor.rs and haven-vendor's tests serve them from an in-process Helm repository and OCI registry",
    ),
    (
        "haven plus validate --charts vendor",
        "needs the vendored charts; plus_charts.rs runs it on ../shared/charts",
    ),
    (
        "haven plus render --mirror registry.internal:5000 --vendor-dir vendor",
        "needs the vendored charts; plus_vendor.rs runs it on a vendor directory of ../shared/charts",
    ),
    (
        "haven plus status --wait",
        "needs a cluster running the rendered platform's Flux; plus_status.rs tests it against the fake API server",
    ),
    (
        "haven plus backups check --max-age 26h",
        "needs a cluster running Velero and CloudNativePG; plus_backups.rs tests it against the fake API server",
    ),
    (
        "haven admission serve --cert tls.crt --key tls.key --config config.yaml",
        "a server that runs until stopped; admission_serve.rs starts it with real certificates",
    ),
    (
        "helm install haven-admission deploy/charts/haven-admission -n haven-system --create-namespace --wait",
        "needs a real cluster and helm; the chart is rendered and checked in admission_chart.rs",
    ),
    (
        "python3 -m pip install -q -r tools/requirements-test.txt && cargo test --workspace -- --include-ignored",
        "the test suite itself, this test included",
    ),
];

/// The commands of the README's ```sh blocks, in order.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim();
        if !in_sh {
            in_sh = trimmed == "```sh";
            continue;
        }
        if trimmed == "```" {
            assert!(pending.is_empty(), "README: a `\\` ends a sh block");
            in_sh = false;
            continue;
        }
        let code = strip_comment(line).trim_end();
        if let Some(start) = code.strip_suffix('\\') {
            pending.push_str(start.trim());
            pending.push(' ');
            continue;
        }
        pending.push_str(code.trim());
        let command = std::mem::take(&mut pending);
        if !command.is_empty() {
            commands.push(command);
        }
    }
    assert!(!in_sh, "README: a ```sh block is not closed");
    commands
}

/// The line without a trailing `# comment` (a `#` after whitespace, outside quotes), as the
/// shell reads it.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

#[test]
fn commands_are_read_as_the_shell_reads_them() {
    let readme = "text\n```sh\na --x 'y # z'   # comment\n# only a comment\nb \\\n  --c  # d\n```\n\
                  ```yaml\nnot: a command\n```\n";
    assert_eq!(readme_commands(readme), ["a --x 'y # z'", "b --c"]);
}

/// Fails naming every README command that is in neither list, and every listed command that is
/// not in the README.
fn check_lists_match(commands: &[String]) {
    let run: Vec<&str> = RUN.iter().map(|r| r.0).collect();
    let not_run: Vec<&str> = NOT_RUN.iter().map(|r| r.0).collect();
    let unlisted: Vec<&String> = commands
        .iter()
        .filter(|c| !run.contains(&c.as_str()) && !not_run.contains(&c.as_str()))
        .collect();
    let stale: Vec<&&str> = run
        .iter()
        .chain(&not_run)
        .filter(|l| !commands.iter().any(|c| c == *l))
        .collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "README commands in neither RUN nor NOT_RUN of {}: {unlisted:#?}\n\
         listed there but not in the README: {stale:#?}",
        file!()
    );
    let in_order: Vec<&str> = commands
        .iter()
        .map(String::as_str)
        .filter(|c| run.contains(c))
        .collect();
    assert_eq!(in_order, run, "RUN is not in README order");
}

/// A scratch directory shaped like the repository, with `haven` (and a `helm`) on `PATH`.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let repo = common::repo();
        let root = std::env::temp_dir().join(format!("haven-readme-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let work = root.join("repo");
        let bin = root.join("bin");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        for dir in ["examples", "tools", "deploy", "crates", "docs"] {
            std::os::unix::fs::symlink(repo.join(dir), work.join(dir)).unwrap();
        }
        let shared = repo.join("../shared");
        if shared.exists() {
            std::os::unix::fs::symlink(shared.canonicalize().unwrap(), root.join("shared"))
                .unwrap();
        }
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_haven"), bin.join("haven")).unwrap();
        std::os::unix::fs::symlink(repo.join("tools/helm"), bin.join("helm")).unwrap();
        Scratch { root }
    }
    fn work(&self) -> PathBuf {
        self.root.join("repo")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The compliant fixture, with the controllers' work `--allow-writes` waits for: claims bind,
/// probe pods finish (as `cluster_check_live.rs` does).
fn cluster() -> FakeCluster {
    let path = common::repo().join("crates/haven-test-support/fixtures/clusters/compliant.yaml");
    let cluster = FakeCluster::from_fixture(&path).unwrap_or_else(|e| panic!("{e}"));
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound"})
    });
    cluster.on_create("pods", |pod| {
        pod["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "lsm",
            "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "message": "capability,apparmor"}}}]});
    });
    cluster
}

/// Runs the README's commands that `runs` selects, in order, and fails naming each command that
/// ended with another exit code than listed (with its output).
fn run_readme_commands(name: &str, runs: impl Fn(Needs) -> bool) {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let commands = readme_commands(&readme);
    check_lists_match(&commands);

    let scratch = Scratch::new(name);
    let server = ApiServer::start_background(cluster()).unwrap();
    let kubeconfig = scratch.root.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("prod")).unwrap();
    let path = format!(
        "{}:{}",
        scratch.root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut failures = Vec::new();
    let mut ran = 0;
    for &(command, expected, _) in RUN.iter().filter(|r| runs(r.2)) {
        let started = std::time::Instant::now();
        let output = Command::new("bash")
            .args(["-o", "pipefail", "-c", command])
            .current_dir(scratch.work())
            .env("PATH", &path)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &scratch.root)
            .env_remove("HAVEN_HELM")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        ran += 1;
        let code = output.status.code().unwrap_or(-1);
        eprintln!(
            "{code} ({:.1} s)  {command}",
            started.elapsed().as_secs_f64()
        );
        if code != expected {
            failures.push(format!(
                "`{command}`: exit code {code}, README expects {expected}\n--- stdout\n{}\n--- stderr\n{}",
                tail(&output.stdout),
                tail(&output.stderr)
            ));
        }
    }
    assert!(ran > 0, "no README command ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The last 40 lines of a command's output.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn readme_commands_run() {
    run_readme_commands("plain", |needs| needs == Needs::Nothing);
}

#[test]
#[ignore = "needs helm-python-sdk (cargo test -- --include-ignored)"]
fn readme_commands_run_with_helm() {
    common::require_helm();
    run_readme_commands("all", |_| true);
}

/// The README's own claims about itself.
#[test]
fn readme_is_short() {
    let readme = common::repo().join("README.md");
    let size = std::fs::metadata(Path::new(&readme)).unwrap().len();
    assert!(
        size < 15 * 1024,
        "README.md is {size} bytes: keep it under 15 KB (details belong in docs/)"
    );
}

/// The demo's recorded cluster (`examples/cluster/compliant.json`) is what `haven snapshot`
/// records of the compliant fixture today: a change of the snapshot format or of the fixture
/// cannot leave the quick start checking a stale file.
#[test]
fn demo_snapshot_is_the_compliant_fixtures() {
    let scratch = Scratch::new("snapshot");
    let server = ApiServer::start_background(cluster()).unwrap();
    let kubeconfig = scratch.root.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("prod")).unwrap();
    let fresh = scratch.root.join("fresh.json");
    let output = Command::new(env!("CARGO_BIN_EXE_haven"))
        .arg("snapshot")
        .arg("-o")
        .arg(&fresh)
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", &scratch.root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |path: &Path| -> serde_json::Value {
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        // Where and when it was recorded differ from run to run.
        value["server"] = json!("https://127.0.0.1:6443");
        value["collectedAt"] = json!("2026-12-07T09:00:00Z");
        value
    };
    let checked_in = common::repo().join("examples/cluster/compliant.json");
    assert!(
        read(&checked_in) == read(&fresh),
        "{} is not what `haven snapshot` records of the compliant fixture today: record it \
         again (haven-fake-apiserver --fixture crates/haven-test-support/fixtures/clusters/\
         compliant.yaml, then `haven snapshot`) and set server and collectedAt as they are",
        checked_in.display()
    );
}
