//! Conformance against the upstream Pod Security Admission fixtures
//! (`k8s.io/pod-security-admission/test/testdata`), kept outside the repository in
//! `../shared/conformance/pod-security/`.
//!
//! Layout: `{baseline,restricted}/v1.N/{pass,fail}/<check><index>.yaml`, one v1 Pod each.
//! A `pass` file must yield no violation at that level and version; a `fail` file must yield
//! a violation of the check its file-name prefix names, whose `"{reason} ({detail})"`
//! contains the message substring of the table in the fixtures' README.
//!
//! One allowance, straight from upstream: when evaluating `restricted`, a baseline check that
//! a restricted check overrides at that version (upstream `OverrideCheckIDs`, see
//! [`haven_pss::overridden_by`]) does not run, so its fixture is denied by the overriding
//! check (e.g. `hostpathvolumes*` by `restrictedVolumes`). Upstream's own fixture test only
//! checks the message substring, which the overriding check's message contains.

use std::path::{Path, PathBuf};

use haven_pss::{Level, Version, evaluate, overridden_by};
use k8s_openapi::api::core::v1::{Pod, PodSpec};

/// File-name prefix -> (check id, substring of the denial message).
const TABLE: &[(&str, &str, &str)] = &[
    (
        "allowprivilegeescalation",
        "allowPrivilegeEscalation",
        "allowPrivilegeEscalation",
    ),
    (
        "apparmorprofile",
        "appArmorProfile",
        "forbidden AppArmor profile",
    ),
    (
        "capabilities_baseline",
        "capabilities_baseline",
        "capabilities",
    ),
    (
        "capabilities_restricted",
        "capabilities_restricted",
        "unrestricted capabilities",
    ),
    ("hostnamespaces", "hostNamespaces", "host namespaces"),
    ("hostpathvolumes", "hostPathVolumes", "hostPath"),
    ("hostports", "hostPorts", "hostPort"),
    (
        "hostprobesandhostlifecycle",
        "hostProbesAndHostLifecycle",
        "probe or lifecycle host",
    ),
    ("privileged", "privileged", "privileged"),
    ("procmount", "procMount", "procMount"),
    ("procmount_restricted", "procMount_restricted", "procMount"),
    (
        "restrictedvolumes",
        "restrictedVolumes",
        "restricted volume types",
    ),
    ("runasnonroot", "runAsNonRoot", "runAsNonRoot"),
    ("runasuser", "runAsUser", "runAsUser"),
    ("selinuxoptions", "seLinuxOptions", "seLinuxOptions"),
    (
        "seccompprofile_baseline",
        "seccompProfile_baseline",
        "seccompProfile",
    ),
    (
        "seccompprofile_restricted",
        "seccompProfile_restricted",
        "seccompProfile",
    ),
    ("sysctls", "sysctls", "forbidden sysctl"),
    ("windowshostprocess", "windowsHostProcess", "hostProcess"),
];

fn fixtures_root() -> PathBuf {
    haven_test_support::shared_path("conformance/pod-security")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    out.sort();
    out
}

fn load_pod(path: &Path) -> Result<Pod, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let name = path.display().to_string();
    let mut docs = haven_model::yaml::parse_stream(&name, &text);
    if docs.len() != 1 {
        return Err(format!("expected one YAML document, found {}", docs.len()));
    }
    let doc = docs
        .pop()
        .expect("one document")
        .map_err(|e| format!("YAML: {e}"))?;
    let pod: Pod = serde_json::from_value(doc.value).map_err(|e| format!("not a v1 Pod: {e}"))?;
    if pod.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
        return Err("pod has no containers".to_owned());
    }
    Ok(pod)
}

#[test]
#[ignore = "needs ../shared/conformance (cargo test -- --include-ignored)"]
fn pod_security_conformance() {
    let root = fixtures_root();

    let mut files = 0usize;
    let mut pass_allowed = 0usize;
    let mut fail_denied = 0usize;
    let mut via_override = 0usize;
    let mut disagreements: Vec<String> = Vec::new();
    let empty_spec = PodSpec::default();

    for (level, level_dir) in [
        (Level::Baseline, "baseline"),
        (Level::Restricted, "restricted"),
    ] {
        for version_dir in sorted_entries(&root.join(level_dir)) {
            let version_name = version_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let version: Version = version_name
                .parse()
                .unwrap_or_else(|e| panic!("{}: {e}", version_dir.display()));
            for outcome in ["pass", "fail"] {
                let dir = version_dir.join(outcome);
                if !dir.is_dir() {
                    continue;
                }
                for file in sorted_entries(&dir) {
                    if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    files += 1;
                    let rel = format!(
                        "{level_dir}/{version_name}/{outcome}/{}",
                        file.file_name()
                            .and_then(|n| n.to_str())
                            .unwrap_or_default()
                    );
                    let pod = match load_pod(&file) {
                        Ok(pod) => pod,
                        Err(e) => {
                            disagreements.push(format!("{rel}: {e}"));
                            continue;
                        }
                    };
                    let violations = evaluate(
                        level,
                        version,
                        &pod.metadata,
                        pod.spec.as_ref().unwrap_or(&empty_spec),
                    );
                    let summary = || {
                        violations
                            .iter()
                            .map(|v| format!("[{}] {} ({})", v.check, v.reason, v.detail))
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    if outcome == "pass" {
                        if violations.is_empty() {
                            pass_allowed += 1;
                        } else {
                            disagreements
                                .push(format!("{rel}: expected allowed, got {}", summary()));
                        }
                        continue;
                    }

                    let stem = file
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or_default();
                    let prefix = stem.trim_end_matches(|c: char| c.is_ascii_digit());
                    let Some(&(_, id, substring)) = TABLE.iter().find(|(p, _, _)| *p == prefix)
                    else {
                        disagreements.push(format!("{rel}: unknown file-name prefix {prefix:?}"));
                        continue;
                    };
                    let overriding = match level {
                        Level::Restricted => overridden_by(id, version),
                        Level::Baseline => None,
                    };
                    let matched = violations.iter().find(|v| {
                        (v.check == id || Some(v.check) == overriding)
                            && format!("{} ({})", v.reason, v.detail).contains(substring)
                    });
                    match matched {
                        Some(v) => {
                            fail_denied += 1;
                            if v.check != id {
                                via_override += 1;
                            }
                        }
                        None if violations.is_empty() => disagreements.push(format!(
                            "{rel}: expected denied by {id} ({substring:?}), got allowed"
                        )),
                        None => disagreements.push(format!(
                            "{rel}: expected denied by {id} ({substring:?}), got {}",
                            summary()
                        )),
                    }
                }
            }
        }
    }

    println!(
        "pod-security conformance: {files} files, {pass_allowed} pass-allowed, {fail_denied} fail-denied, {} disagreements",
        disagreements.len()
    );
    println!(
        "  ({via_override} fail files at restricted were denied by the restricted check that overrides theirs)"
    );
    for d in disagreements.iter().take(30) {
        println!("  {d}");
    }
    if disagreements.len() > 30 {
        println!("  ... and {} more", disagreements.len() - 30);
    }
    assert!(files > 0, "no fixture found under {}", root.display());
    assert!(
        disagreements.is_empty(),
        "{} pod-security conformance disagreements",
        disagreements.len()
    );
}
