//! The edges of the binary under hostile conditions: a kubeconfig credential plugin that never
//! returns, an API server that accepts connections and never answers, and output paths that are
//! symbolic links out of the tree. Every run must end within its timeout with an error that names
//! what timed out, and write nothing outside the tree.
#![cfg(unix)]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::{Value, json};

fn fixture(name: &str) -> FakeCluster {
    FakeCluster::named(name)
}

fn haven(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd`, failing the test (instead of hanging it) when it is still running after
/// `within`.
fn run_within(mut cmd: Command, within: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipes = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pipes.0.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pipes.1.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`haven` was still running after {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let out = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (out, elapsed)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z')),
        Err(_) => false,
    }
}

fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The kubeconfig of `server` with its user's token replaced by a credential plugin running
/// `script`.
fn kubeconfig_with_plugin(dir: &Path, server: &ApiServer, script: &str) -> PathBuf {
    let plugin = dir.join("credential-plugin");
    std::fs::write(&plugin, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut kc: Value = serde_yaml_ng::from_str(&server.kubeconfig_yaml("fake")).unwrap();
    kc["users"][0]["user"] = json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": plugin.to_str().unwrap(),
        "args": ["get-token", "--cluster", "fake"],
        "interactiveMode": "IfAvailable",
    }});
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_yaml_ng::to_string(&kc).unwrap()).unwrap();
    path
}

fn hanging_plugin(dir: &Path) -> String {
    format!(
        "echo 'waiting for the browser login' >&2\nsleep 1000 &\necho $! > {}\nwait",
        dir.join("plugin.pid").display()
    )
}

fn plugin_child(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("plugin.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_credential_plugin_gives_the_token_check_uses() {
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let token = server.token().to_owned();
    let kc = kubeconfig_with_plugin(
        tmp.path(),
        &server,
        &format!(
            "[ \"$1 $2 $3\" = 'get-token --cluster fake' ] || exit 9\n\
             case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 8;; esac\n\
             printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}'"
        ),
    );
    let (out, _) = run_within(
        haven(
            tmp.path(),
            &[
                "snapshot",
                "-o",
                "snap.json",
                "--kubeconfig",
                kc.to_str().unwrap(),
            ],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("snap.json")).unwrap())
            .unwrap();
    assert_eq!(snap["nodes"]["status"], "ok", "{}", snap["nodes"]);
    assert_eq!(
        snap["nodes"]["value"][0]["name"], "cp-1",
        "{}",
        snap["nodes"]
    );
}

#[test]
fn a_credential_plugin_that_never_returns_is_stopped_at_the_timeout() {
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let kc = kubeconfig_with_plugin(tmp.path(), &server, &hanging_plugin(tmp.path()));
    let kc = kc.to_str().unwrap();
    for args in [
        vec!["check", "--timeout", "2s", "--kubeconfig", kc],
        vec![
            "snapshot",
            "-o",
            "s.json",
            "--timeout",
            "2s",
            "--kubeconfig",
            kc,
        ],
    ] {
        let (out, elapsed) = run_within(haven(tmp.path(), &args), Duration::from_secs(30));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("the kubeconfig's credential plugin `")
                && err.contains("did not finish within 2s and was killed"),
            "{args:?}: {err}"
        );
        assert!(err.contains("waiting for the browser login"), "{err}");
        assert!(
            elapsed < Duration::from_secs(15),
            "{args:?} took {elapsed:?}"
        );
        let pid = plugin_child(tmp.path());
        assert!(
            gone_soon(pid),
            "{args:?}: the plugin's child {pid} outlived haven"
        );
    }
    assert!(!tmp.path().join("s.json").exists());
}

const FLUX_CRDS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: kustomizations.kustomize.toolkit.fluxcd.io}
spec:
  group: kustomize.toolkit.fluxcd.io
  names: {kind: Kustomization, listKind: KustomizationList, plural: kustomizations, singular: kustomization}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
";

fn plus_config(dir: &Path) {
    let (code, err) = {
        let (o, _) = run_within(
            haven(
                dir,
                &[
                    "plus",
                    "init",
                    "--provider",
                    "kind",
                    "--domain",
                    "example.nl",
                ],
            ),
            Duration::from_secs(30),
        );
        (o.status.code(), stderr(&o))
    };
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn plus_status_gives_up_on_an_api_server_that_never_answers() {
    let server =
        ApiServer::start_background(FakeCluster::from_yaml("flux.yaml", FLUX_CRDS).unwrap())
            .unwrap();
    server
        .faults()
        .delay("kustomizations", Duration::from_secs(3600));
    let tmp = tempfile::tempdir().unwrap();
    plus_config(tmp.path());
    std::fs::write(
        tmp.path().join("kubeconfig"),
        server.kubeconfig_yaml("fake"),
    )
    .unwrap();

    // --wait --timeout: the overall deadline ends the hung request.
    let (out, elapsed) = run_within(
        haven(
            tmp.path(),
            &[
                "plus",
                "status",
                "--kubeconfig",
                "kubeconfig",
                "--wait",
                "--timeout",
                "2",
            ],
        ),
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--timeout 2s ran out while listing kustomizations.kustomize.toolkit.fluxcd.io from https://127.0.0.1:"),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");

    // Without --wait, one request is bounded by --request-timeout.
    let (out, elapsed) = run_within(
        haven(
            tmp.path(),
            &[
                "plus",
                "status",
                "--kubeconfig",
                "kubeconfig",
                "--request-timeout",
                "1s",
            ],
        ),
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the API server did not answer within 1s (--request-timeout)"),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn a_server_that_accepts_and_never_speaks_is_given_up_on() {
    // TCP accepted, then silence: not even a TLS handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let server = ApiServer::start_background(fixture("compliant.yaml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    plus_config(tmp.path());
    let kc = server.kubeconfig_yaml("fake").replace(
        server.url().trim_end_matches('/'),
        &format!("https://{addr}"),
    );
    assert!(kc.contains(&addr.to_string()), "{kc}");
    std::fs::write(tmp.path().join("kubeconfig"), kc).unwrap();
    for args in [
        vec!["check", "--timeout", "1s", "--kubeconfig", "kubeconfig"],
        vec![
            "snapshot",
            "-o",
            "s.json",
            "--timeout",
            "1s",
            "--kubeconfig",
            "kubeconfig",
        ],
        vec![
            "plus",
            "status",
            "--kubeconfig",
            "kubeconfig",
            "--wait",
            "--timeout",
            "2s",
        ],
    ] {
        let (out, elapsed) = run_within(haven(tmp.path(), &args), Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&addr.to_string()), "{args:?}: {err}");
        assert!(
            elapsed < Duration::from_secs(30),
            "{args:?} took {elapsed:?}"
        );
    }
}

/// A checkout whose tree carries links out of it: `plus render` writes none of them, and says
/// which link it refused.
#[test]
fn plus_render_refuses_links_out_of_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    plus_config(&repo);
    // A clean render shows where the files go.
    let (out, _) = run_within(haven(&repo, &["plus", "render"]), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let victim = outside.join("victim.yaml");
    type Plant<'a> = Box<dyn Fn() + 'a>;
    let cases: [(&str, Plant<'_>); 4] = [
        (
            "symlinked file",
            Box::new(|| {
                std::fs::write(&victim, "precious").unwrap();
                let f = repo.join("infrastructure/loki/release.yaml");
                std::fs::remove_file(&f).unwrap();
                symlink(&victim, &f).unwrap();
            }),
        ),
        (
            "symlinked directory",
            Box::new(|| {
                let d = repo.join("infrastructure/cert-manager");
                std::fs::remove_dir_all(&d).unwrap();
                symlink(&outside, &d).unwrap();
            }),
        ),
        (
            "relative link climbing out with ..",
            Box::new(|| {
                let d = repo.join("infrastructure/grafana");
                std::fs::remove_dir_all(&d).unwrap();
                symlink("../../outside", &d).unwrap();
            }),
        ),
        (
            "dangling link",
            Box::new(|| {
                let f = repo.join("clusters/haven/infrastructure.yaml");
                std::fs::remove_file(&f).unwrap();
                symlink(outside.join("does-not-exist.yaml"), &f).unwrap();
            }),
        ),
    ];
    for (name, plant) in cases {
        // Fresh tree, one planted link, nothing else in `outside`.
        let _ = std::fs::remove_dir_all(&outside);
        std::fs::create_dir_all(&outside).unwrap();
        for d in ["clusters", "infrastructure", "tenants"] {
            let p = repo.join(d);
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(&p).unwrap();
            } else {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
        let (out, _) = run_within(haven(&repo, &["plus", "render"]), Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        plant();
        let before: Vec<_> = walk(&outside);
        let (out, _) = run_within(haven(&repo, &["plus", "render"]), Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("is a symbolic link"), "{name}: {err}");
        assert_eq!(
            walk(&outside),
            before,
            "{name}: something was written outside"
        );
        if victim.exists() {
            assert_eq!(
                std::fs::read_to_string(&victim).unwrap(),
                "precious",
                "{name}"
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

/// `-o FILE` where FILE is a link a checkout carries: refused, the target untouched; a link to a
/// device (`/dev/stdout` is one) is written to.
#[test]
fn output_files_are_not_written_through_links() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("authorized_keys");
    std::fs::write(&target, "ssh-ed25519 AAAA").unwrap();
    std::fs::write(
        tmp.path().join("app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n",
    )
    .unwrap();
    symlink(&target, tmp.path().join("report.json")).unwrap();
    symlink(&target, tmp.path().join("haven-plus.yaml")).unwrap();
    let (out, _) = run_within(
        haven(
            tmp.path(),
            &["plus", "init", "--domain", "example.nl", "-o", "cfg.yaml"],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs: [&[&str]; 3] = [
        &[
            "app",
            "check",
            "app.yaml",
            "--format",
            "json",
            "-o",
            "report.json",
        ],
        &["plus", "init", "--domain", "example.nl", "--force"],
        &["plus", "migrate", "-c", "cfg.yaml", "-o", "report.json"],
    ];
    for args in runs {
        let (out, _) = run_within(haven(tmp.path(), args), Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is a symbolic link"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "ssh-ed25519 AAAA"
        );
    }
    // The report replaces a regular file atomically, and goes into a device through a link.
    let (out, _) = run_within(
        haven(
            tmp.path(),
            &[
                "app",
                "check",
                "app.yaml",
                "--format",
                "json",
                "-o",
                "plain.json",
            ],
        ),
        Duration::from_secs(60),
    );
    assert!(out.status.code() != Some(2), "{}", stderr(&out));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("plain.json")).unwrap())
            .unwrap();
    assert!(report.is_object());
    symlink("/dev/null", tmp.path().join("null.json")).unwrap();
    let (out, _) = run_within(
        haven(tmp.path(), &["app", "check", "app.yaml", "-o", "null.json"]),
        Duration::from_secs(60),
    );
    assert!(out.status.code() != Some(2), "{}", stderr(&out));
}

#[test]
fn plus_validate_names_clear_credentials_without_printing_them() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("apps")).unwrap();
    std::fs::write(
        tmp.path().join("apps/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: hunter2\n",
    )
    .unwrap();
    let (out, _) = run_within(
        haven(tmp.path(), &["plus", "validate", "."]),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(&out));
    assert!(
        stdout.contains(
            "apps/secret.yaml:7: error: Secret/db: Secret key `password` is in clear text"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

/// Waiting, the platform not Ready, then the API server stops answering: when `--timeout` runs
/// out in the middle of a poll, the last status seen is the answer (exit 1), not a hang.
#[test]
fn plus_status_wait_reports_the_last_status_when_a_poll_hangs_at_the_deadline() {
    let crds = format!(
        "{FLUX_CRDS}---\n{}",
        FLUX_CRDS
            .replace("kustomizations.kustomize", "helmreleases.helm")
            .replace("group: kustomize.toolkit.fluxcd.io", "group: helm.toolkit.fluxcd.io")
            .replace(
                "{kind: Kustomization, listKind: KustomizationList, plural: kustomizations, singular: kustomization}",
                "{kind: HelmRelease, listKind: HelmReleaseList, plural: helmreleases, singular: helmrelease}"
            )
            .replace("name: v1,", "name: v2,")
    );
    let server =
        ApiServer::start_background(FakeCluster::from_yaml("flux.yaml", &crds).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    plus_config(tmp.path());
    std::fs::write(
        tmp.path().join("kubeconfig"),
        server.kubeconfig_yaml("fake"),
    )
    .unwrap();
    let cmd = haven(
        tmp.path(),
        &[
            "plus",
            "status",
            "--kubeconfig",
            "kubeconfig",
            "--wait",
            "--interval",
            "1",
            "--timeout",
            "4",
        ],
    );
    let (out, elapsed) = std::thread::scope(|scope| {
        scope.spawn(|| {
            // A first poll answered (nothing Ready yet), then silence.
            std::thread::sleep(Duration::from_millis(1500));
            server
                .faults()
                .delay("kustomizations", Duration::from_secs(3600));
        });
        run_within(cmd, Duration::from_secs(30))
    });
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("timed out after 4s waiting for the platform to be Ready"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("missing"),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}
