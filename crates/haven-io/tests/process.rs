//! Child processes that loop, never exit, leave a helper holding their output, or print without
//! end: each is stopped within its deadline, with an error naming what ran and the end of its
//! error output, and leaves no process behind.
#![cfg(unix)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use haven_io::process::{Limits, Mode, ProcessError, run};

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(script);
    c
}

fn limits(ms: u64) -> Limits {
    Limits::new(Duration::from_millis(ms), 1 << 20)
}

/// Whether a process is still alive (a zombie counts as gone: it runs no code).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn pid_in(file: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(t) = std::fs::read_to_string(file)
            && let Ok(pid) = t.trim().parse()
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "no pid written to {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn a_loop_is_stopped_at_its_deadline_with_the_end_of_its_error_output() {
    let started = Instant::now();
    let err = run(
        sh("echo 'rendering templates/loop.yaml' >&2; while :; do :; done"),
        &limits(500),
        Mode::Captured,
        "helm template charts/loop",
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ProcessError::TimedOut {
        exited,
        ref stderr_tail,
        ..
    } = err
    else {
        panic!("{err}");
    };
    assert!(!exited);
    assert_eq!(stderr_tail, "rendering templates/loop.yaml");
    let msg = err.to_string();
    assert!(
        msg.starts_with("helm template charts/loop did not finish within 500ms and was killed"),
        "{msg}"
    );
    assert!(msg.contains("    rendering templates/loop.yaml"), "{msg}");
}

#[test]
fn a_process_that_never_exits_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("child.pid");
    let script = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
    let err = run(sh(&script), &limits(500), Mode::Captured, "plugin").unwrap_err();
    assert!(
        matches!(err, ProcessError::TimedOut { exited: false, .. }),
        "{err}"
    );
    let child = pid_in(&pidfile);
    assert!(gone_soon(child), "the plugin's child {child} outlived it");
}

#[test]
fn a_helper_left_holding_the_output_does_not_hold_us_up() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("helper.pid");
    // The shell prints, starts a helper that inherits standard output, and exits at once.
    let script = format!(
        "echo 'kind: ConfigMap'; sleep 1000 & echo $! > {}; exit 0",
        pidfile.display()
    );
    let started = Instant::now();
    let out = run(sh(&script), &limits(10_000), Mode::Captured, "helm").unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(out.status.success());
    assert_eq!(out.stdout, b"kind: ConfigMap\n");
    let helper = pid_in(&pidfile);
    assert!(gone_soon(helper), "the helper {helper} outlived the run");
}

#[test]
fn a_helper_that_left_the_process_group_is_named_when_it_holds_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("escaped.pid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 1000' & sleep 0.2; exit 0",
        pidfile.display()
    );
    let err = run(sh(&script), &limits(1500), Mode::Captured, "helm").unwrap_err();
    let escaped = pid_in(&pidfile);
    let _ = Command::new("kill")
        .arg("-9")
        .arg(escaped.to_string())
        .status();
    assert!(
        matches!(err, ProcessError::TimedOut { exited: true, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("helm exited, but a process it started still held its output open"),
        "{err}"
    );
}

#[test]
fn endless_output_is_cut_at_the_cap() {
    let started = Instant::now();
    let err = run(Command::new("yes"), &limits(20_000), Mode::Captured, "helm").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(err, ProcessError::OutputTooLarge { limit, .. } if limit == 1 << 20),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "helm printed more than 1 MiB on standard output and was stopped"
    );
}

#[test]
fn only_the_tail_of_a_long_error_output_is_kept() {
    // 4 MiB of noise on standard error, then the line that explains the failure.
    let out = run(
        sh("head -c 4194304 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'Error: the real reason' >&2; exit 3"),
        &limits(20_000),
        Mode::Captured,
        "helm",
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stderr.len() <= 16 * 1024, "{}", out.stderr.len());
    assert!(out.stderr_truncated);
    let tail = out.stderr_tail(1);
    assert_eq!(tail, "…\nError: the real reason");
}

#[test]
fn a_program_that_does_not_exist_is_named() {
    let err = run(
        Command::new("/nonexistent/helm"),
        &limits(1000),
        Mode::Captured,
        "helm",
    )
    .unwrap_err();
    assert!(matches!(err, ProcessError::Start { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("could not run /nonexistent/helm: "),
        "{err}"
    );
}

#[test]
fn a_quick_program_gives_its_output_and_status() {
    let out = run(
        sh("printf 'a\\nb'; echo warn >&2; exit 0"),
        &limits(10_000),
        Mode::Captured,
        "x",
    )
    .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"a\nb");
    assert_eq!(out.stderr_tail(5), "warn");
}
