//! Every command that reads YAML through haven-model is bound by its limits (issue 25): one
//! large string aliased thousands of times is refused with an error naming the file and line,
//! quickly and in little memory, and inputs without a size neither hang nor fill memory.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A 1 MB file whose one 1 MB string is aliased 5,000 times: 5 GB once expanded.
fn alias_bomb(dir: &Path, head: &str) -> String {
    let mut text = format!("{head}bomb: &s {}\nlist: [", "x".repeat(1_000_000));
    text.push_str(&vec!["*s"; 5000].join(", "));
    text.push_str("]\n");
    let path = dir.join("bomb.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs haven with its address space capped at 2 GiB: expanding the bomb would abort it.
fn haven_capped(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .stdin(Stdio::null());
    let out = command.output().expect("run haven");
    (out, started.elapsed())
}

fn assert_refused(what: &str, (out, took): (Output, Duration)) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{what}: {all}");
    assert!(
        all.contains("bomb.yaml:") && all.contains("repeat more than 16 MiB"),
        "{what}: {all}"
    );
    assert!(took < Duration::from_secs(30), "{what} took {took:?}");
}

#[test]
fn an_alias_bomb_is_refused_by_every_command_that_reads_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let bomb = alias_bomb(
        d,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  ",
    );
    assert_refused("app check", haven_capped(&["app", "check", &bomb]));

    let pod = d.join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .unwrap();
    let waivers = alias_bomb(d, "");
    assert_refused(
        "app check --waivers",
        haven_capped(&[
            "app",
            "check",
            "--waivers",
            &waivers,
            &pod.display().to_string(),
        ]),
    );

    let config = alias_bomb(d, "");
    assert_refused(
        "admission serve --config",
        haven_capped(&[
            "admission",
            "serve",
            "--config",
            &config,
            "--cert",
            "/nonexistent.crt",
            "--key",
            "/nonexistent.key",
            "--listen",
            "127.0.0.1:0",
            "--no-watch",
        ]),
    );

    let config = alias_bomb(d, "");
    let out = d.join("out");
    assert_refused(
        "plus render --config",
        haven_capped(&[
            "plus",
            "render",
            "--config",
            &config,
            "--output",
            &out.display().to_string(),
        ]),
    );
}

/// A FIFO in a checked directory would block the walk for ever: it is skipped with a note.
/// `/dev/zero` named on the command line is cut off at the input limit.
#[cfg(unix)]
#[test]
fn inputs_without_a_size_neither_hang_nor_fill_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(d.join("pipe.yaml"))
            .status()
            .unwrap()
            .success()
    );
    let (out, took) = haven_capped(&["app", "check", &d.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Checked (0: clean, 1: findings), not an input error.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    assert!(
        stderr.contains("haven: note: skipped")
            && stderr.contains("pipe.yaml: not a regular file (a FIFO)"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");

    let (out, took) = haven_capped(&["app", "check", "/dev/zero"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("/dev/zero") && all.contains("larger than 256 MiB"),
        "{all}"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}
