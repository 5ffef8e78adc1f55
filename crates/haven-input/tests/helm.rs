//! `helm template` that loops, never exits, leaves a child holding its output, prints without
//! end, or fails with pages of noise: each ends within its limits with an error that names the
//! chart and what happened. The helms here are shell scripts.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use haven_input::{ChartRenderer, HelmCommand, HelmOptions};
use haven_model::{InputError, InputErrorKind};

struct Fixture {
    _dir: tempfile::TempDir,
    chart: PathBuf,
    helm: PathBuf,
    pidfile: PathBuf,
}

/// A chart directory and a `helm` that runs `script` (`$PIDFILE` is a file it may write to).
fn fixture(script: &str) -> Fixture {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("app");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    )
    .unwrap();
    let pidfile = dir.path().join("pid");
    let helm = dir.path().join("helm");
    std::fs::write(
        &helm,
        format!("#!/bin/sh\nPIDFILE='{}'\n{script}\n", pidfile.display()),
    )
    .unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    Fixture {
        _dir: dir,
        chart,
        helm,
        pidfile,
    }
}

/// Renders on a thread and gives up after `within`: a render that hangs fails the test instead
/// of hanging it.
fn render(
    f: &Fixture,
    timeout: Duration,
    max_output: usize,
    within: Duration,
) -> Result<String, InputError> {
    let opts = HelmOptions {
        helm: Some(f.helm.clone()),
        release: "rel".into(),
        timeout,
        max_output,
        ..Default::default()
    };
    let chart = f.chart.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(HelmCommand.render(&chart, &opts));
    });
    rx.recv_timeout(within)
        .unwrap_or_else(|_| panic!("helm template was still running after {within:?}"))
}

fn alive(pidfile: &Path) -> bool {
    let pid = std::fs::read_to_string(pidfile).unwrap();
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z')),
        Err(_) => false,
    }
}

fn gone_soon(pidfile: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(pidfile) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn a_template_that_loops_is_stopped_at_the_helm_timeout() {
    let f = fixture("echo 'walk.go:42: rendering templates/loop.yaml' >&2\nwhile :; do :; done");
    let err = render(
        &f,
        Duration::from_millis(700),
        1 << 20,
        Duration::from_secs(20),
    )
    .unwrap_err();
    assert_eq!(err.kind, InputErrorKind::Render);
    assert!(err.file.ends_with("app"), "{}", err.file);
    assert!(
        err.message.starts_with(&format!(
            "`helm template` of {} did not finish within 700ms and was killed",
            f.chart.display()
        )),
        "{}",
        err.message
    );
    assert!(
        err.message.ends_with(
            "and was killed (--helm-timeout raises the limit); the end of its error output: walk.go:42: rendering templates/loop.yaml"
        ),
        "{}",
        err.message
    );
}

#[test]
fn a_helm_that_never_exits_is_killed_with_what_it_started() {
    let f = fixture("sleep 1000 &\necho $! > \"$PIDFILE\"\nwait");
    let err = render(
        &f,
        Duration::from_millis(500),
        1 << 20,
        Duration::from_secs(20),
    )
    .unwrap_err();
    assert!(
        err.message.contains("did not finish within 500ms"),
        "{}",
        err.message
    );
    assert!(gone_soon(&f.pidfile), "helm's child outlived it");
}

#[test]
fn a_child_left_holding_the_output_does_not_hang_the_render() {
    let f = fixture(
        "echo 'apiVersion: v1'\necho 'kind: ConfigMap'\nsleep 1000 &\necho $! > \"$PIDFILE\"\nexit 0",
    );
    let text = render(
        &f,
        Duration::from_secs(60),
        1 << 20,
        Duration::from_secs(20),
    )
    .unwrap();
    assert_eq!(text, "apiVersion: v1\nkind: ConfigMap\n");
    assert!(gone_soon(&f.pidfile), "helm's child outlived the render");
}

#[test]
fn endless_output_is_cut_at_the_cap() {
    let f = fixture("yes 'kind: ConfigMap'");
    let err = render(
        &f,
        Duration::from_secs(60),
        1 << 20,
        Duration::from_secs(30),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "`helm template` of {} printed more than 1 MiB on standard output and was stopped (--helm-max-output raises the limit)",
            f.chart.display()
        )
    );
}

#[test]
fn a_failure_quotes_only_the_end_of_the_error_output() {
    let f = fixture(
        "i=0; while [ $i -lt 5000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done\n\
         echo 'Error: template: app/templates/x.yaml:3: function \"nope\" not defined' >&2\nexit 1",
    );
    let err = render(
        &f,
        Duration::from_secs(60),
        1 << 20,
        Duration::from_secs(30),
    )
    .unwrap_err();
    assert!(
        err.message
            .starts_with("`helm template` failed (exit status: 1): … | noise line 4981 | "),
        "{}",
        err.message
    );
    assert!(
        err.message
            .ends_with(" | Error: template: app/templates/x.yaml:3: function \"nope\" not defined"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("noise line 0 "), "{}", err.message);
    // One line: a report shows one error per line.
    assert_eq!(err.message.lines().count(), 1, "{}", err.message);
}
