//! Every subcommand speaks in one voice when it fails: the first line on stderr starts with
//! `haven: error: `, names where (file:line, file, flag or key), and the exit code is 2. The
//! cases are checked against clap's command tree: a subcommand without a case fails the test.
//! Also: every subcommand's `--help` lists its own exit codes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// One failing run of one subcommand.
struct Case {
    /// The subcommand path as clap names it (`plus tenant add`).
    command: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// What the first line must name: a file:line, a file, a flag, a key.
    names: String,
}

fn case(command: &'static str, args: &[&str], names: impl Into<String>) -> Case {
    Case {
        command,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        env: Vec::new(),
        names: names.into(),
    }
}

fn haven(args: &[String], env: &[(&'static str, String)], dir: &Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    cmd.args(args).current_dir(dir);
    // Nothing of the machine this runs on: no cluster, no helm, no colours.
    for var in [
        "KUBECONFIG",
        "HAVEN_HELM",
        "HAVEN_CRD_SCHEMAS",
        "POD_NAMESPACE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", dir).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Every subcommand path of the CLI that a user can run (leaves, and parents whose subcommand
/// is optional), without clap's own `help`.
fn runnable(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let path = if prefix.is_empty() {
            sub.get_name().to_owned()
        } else {
            format!("{prefix} {}", sub.get_name())
        };
        if !sub.has_subcommands() || !sub.is_subcommand_required_set() {
            out.insert(path.clone());
        }
        runnable(sub, &path, out);
    }
}

const APP_CHECK_CODES: &str = "1  blocking findings (unwaived, severity >= --fail-on)";

fn cases(dir: &Path) -> Vec<Case> {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap();
        name.to_owned()
    };
    // Broken at line 6 (an unclosed flow sequence).
    write(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  bad: [\n",
    );
    write("values.yaml", "replicas: 2\n");
    write(
        "good.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: y\n",
    );
    write("kubeconfig", "apiVersion: v1\nclusters: [\n");
    // An unknown key at line 3 and a wrong value at line 4, then a second document at line 6.
    write(
        "plus.yaml",
        "version: 1\ncluster:\n  nmae: x\n  provider: previdr\n---\nfoo: 1\n",
    );
    let ok = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["plus", "init", "--domain", "example.nl", "-o"])
        .arg(dir.join("valid.yaml"))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    write("waivers.yaml", "kind: WaiverList\nwaivers:\n  - nope: 1\n");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let kubeconfig = dir.join("kubeconfig").display().to_string();

    let mut cases = vec![
        case(
            "app check",
            &["app", "check", "missing.yaml"],
            "missing.yaml",
        ),
        case("app check", &["app", "check", "bad.yaml"], "bad.yaml:6"),
        case(
            "app check",
            &["app", "check", "--format", "nope", "good.yaml"],
            "--format",
        ),
        case(
            "app check",
            &["app", "check", "-f", "values.yaml", "good.yaml"],
            "--values",
        ),
        case(
            "app check",
            &["app", "check", "-w", "waivers.yaml", "good.yaml"],
            "waivers.yaml:",
        ),
        case(
            "app check",
            &["app", "check", "--helm-timeout", "0", "good.yaml"],
            "--helm-timeout",
        ),
        case(
            "check",
            &["check", "--snapshot", "missing.json"],
            "missing.json",
        ),
        case("check", &["check", "--timeout", "5x"], "--timeout"),
        case(
            "check",
            &["check", "--kubeconfig", "kubeconfig"],
            "kubeconfig:",
        ),
        case(
            "snapshot",
            &["snapshot", "-o", "s.json", "--kubeconfig", "kubeconfig"],
            "kubeconfig:",
        ),
        case("snapshot", &["snapshot"], "--output"),
        case(
            "admission serve",
            &[
                "admission",
                "serve",
                "--cert",
                "c.pem",
                "--key",
                "k.pem",
                "--no-watch",
            ],
            "c.pem",
        ),
        case(
            "admission serve",
            &["admission", "serve", "--cert", "c.pem"],
            "--key",
        ),
        case("rules", &["rules", "--bogus"], "--bogus"),
        case(
            "rules explain",
            &["rules", "explain", "haven.nope"],
            "haven.nope",
        ),
        case("completions", &["completions", "nosh"], "nosh"),
        case("man", &["man", "extra"], "extra"),
        case(
            "plus init",
            &["plus", "init", "--domain", "x.nl", "-o", "valid.yaml"],
            "valid.yaml",
        ),
        case(
            "plus init",
            &["plus", "init", "--domain", "x.nl", "--provider", "mars"],
            "--provider",
        ),
        case(
            "plus explain",
            &["plus", "explain", "capabilities.nope"],
            "capabilities.nope",
        ),
        case(
            "plus render",
            &["plus", "render", "-c", "missing.yaml"],
            "missing.yaml",
        ),
        case(
            "plus render",
            &["plus", "render", "-c", "plus.yaml", "-o", "out"],
            "plus.yaml:2",
        ),
        case("plus validate", &["plus", "validate", "nodir"], "nodir"),
        case("plus validate", &["plus", "validate", "empty"], "empty"),
        case(
            "plus validate",
            &["plus", "validate", "--kubernetes-version", "0.1", "."],
            "--kubernetes-version",
        ),
        case(
            "plus validate",
            &["plus", "validate", "--flows", "--format", "junit", "."],
            "--flows",
        ),
        case(
            "plus diff",
            &["plus", "diff", "-c", "plus.yaml", "."],
            "plus.yaml:2",
        ),
        case(
            "plus status",
            &["plus", "status", "-c", "missing.yaml"],
            "missing.yaml",
        ),
        case(
            "plus status",
            &[
                "plus",
                "status",
                "-c",
                "valid.yaml",
                "--kubeconfig",
                "kubeconfig",
            ],
            "kubeconfig:",
        ),
        case(
            "plus backups check",
            &["plus", "backups", "check", "--kubeconfig", "kubeconfig"],
            "kubeconfig:",
        ),
        case(
            "plus backups check",
            &["plus", "backups", "check", "--max-age", "0"],
            "--max-age",
        ),
        case(
            "plus tenant add",
            &[
                "plus",
                "tenant",
                "add",
                "t",
                "--group",
                "g",
                "-c",
                "missing.yaml",
            ],
            "missing.yaml",
        ),
        case(
            "plus vendor",
            &["plus", "vendor", "-c", "missing.yaml"],
            "missing.yaml",
        ),
        case(
            "plus vendor",
            &["plus", "vendor", "-c", "valid.yaml", "--from", "nodir"],
            "--from",
        ),
        case(
            "plus migrate",
            &["plus", "migrate", "-c", "missing.yaml"],
            "missing.yaml",
        ),
        case(
            "plus import",
            &["plus", "import", "no-reference.yaml"],
            "no-reference.yaml",
        ),
    ];
    // A kubeconfig named by $KUBECONFIG that does not exist: named, not "no cluster".
    let mut c = case("check", &["check"], "nothere.yaml");
    c.env
        .push(("KUBECONFIG", dir.join("nothere.yaml").display().to_string()));
    cases.push(c);
    // A malformed kubeconfig named by $KUBECONFIG: reported as that file, not as "no cluster".
    for (command, args) in [
        ("check", &["check"][..]),
        ("snapshot", &["snapshot", "-o", "s.json"][..]),
        ("plus status", &["plus", "status", "-c", "valid.yaml"][..]),
        ("plus backups check", &["plus", "backups", "check"][..]),
    ] {
        let mut c = case(command, args, kubeconfig.clone());
        c.env.push(("KUBECONFIG", kubeconfig.clone()));
        cases.push(c);
    }
    cases
}

#[test]
fn every_subcommand_fails_in_one_voice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = cases(dir);

    let mut commands = BTreeSet::new();
    runnable(&haven_cli::command(), "", &mut commands);
    let covered: BTreeSet<String> = cases.iter().map(|c| c.command.to_owned()).collect();
    let missing: Vec<&String> = commands.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "subcommands without an error-form case: {missing:?}"
    );
    let unknown: Vec<&String> = covered.difference(&commands).collect();
    assert!(unknown.is_empty(), "cases for no subcommand: {unknown:?}");

    let mut failures = Vec::new();
    for c in &cases {
        let out = haven(&c.args, &c.env, dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        let ok = out.status.code() == Some(2)
            && first.starts_with("haven: error: ")
            && first.contains(&c.names)
            // One voice: no line of another voice.
            && !stderr.lines().any(|l| l.starts_with("error:") || l.starts_with("Error"))
            // Every line that starts an error is in the one form.
            && stderr
                .lines()
                .filter(|l| l.contains("error:") && !l.starts_with(' '))
                .all(|l| l.starts_with("haven: error: "));
        if !ok {
            failures.push(format!(
                "haven {}: exit {:?}, expected 2 and a first line `haven: error: …` naming {:?}:\n{stderr}",
                c.args.join(" "),
                out.status.code(),
                c.names
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn config_errors_are_all_reported_in_file_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let _ = cases(dir);
    let out = haven(
        &["plus", "render", "-c", "plus.yaml", "-o", "out"].map(String::from),
        &[],
        dir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("haven: error: "))
        .collect();
    // The unknown key (3), the wrong value (4) and the second document (6), in that order: the
    // second document does not hide the first one's errors.
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no error at {needle}:\n{stderr}"))
    };
    assert!(at("plus.yaml:3") < at("plus.yaml:4"), "{stderr}");
    assert!(at("plus.yaml:4") < at("plus.yaml:6"), "{stderr}");
    assert!(
        lines[at("plus.yaml:3")].contains("unknown key `nmae`"),
        "{stderr}"
    );
    assert!(
        lines[at("plus.yaml:6")].contains("second YAML document"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_subcommand_lists_its_own_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut commands = BTreeSet::new();
    runnable(&haven_cli::command(), "", &mut commands);
    let mut failures = Vec::new();
    for command in &commands {
        let mut args: Vec<String> = command.split(' ').map(String::from).collect();
        args.push("--help".into());
        let out = haven(&args, &[], tmp.path());
        let help = String::from_utf8_lossy(&out.stdout);
        let app_check_codes = help.contains(APP_CHECK_CODES);
        if !out.status.success()
            || !help.contains("Exit codes")
            || app_check_codes != (command == "app check")
        {
            failures.push(format!("haven {command} --help:\n{help}"));
        }
    }
    // The top level points at each command's own list rather than repeating app check's.
    let top = haven(&["--help".into()], &[], tmp.path());
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(!top.contains(APP_CHECK_CODES), "{top}");
    assert!(top.contains("each command's --help lists its own"), "{top}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
