//! `haven plus vendor` as a user runs it: from a local mirror laid out like `../shared/charts`,
//! with exit codes, messages naming the component, and nothing written on failure.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn haven(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .current_dir(dir)
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn init(dir: &Path, provider: &str) {
    let o = haven(
        dir,
        &[
            "plus",
            "init",
            "--provider",
            provider,
            "--domain",
            "example.nl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The components this copy of ../shared/charts cannot verify: not mirrored (garage and mimir,
/// AGPL; kube-state-metrics, which the default Mimir platform runs) or missing dependencies. A
/// user passes exactly these to vendor the rest.
const UNVERIFIABLE: [&str; 6] = [
    "garage",
    "mimir",
    "kube-state-metrics",
    "falco",
    "loki",
    "kube-prometheus-stack",
];

#[test]
#[ignore = "needs ../shared/charts (cargo test -- --include-ignored)"]
fn vendor_from_the_mirror_then_refuse_a_changed_chart() {
    let shared = haven_test_support::shared_path("charts");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir, "kind");
    let from = shared.to_str().unwrap();

    // Without --skip: every component that cannot be verified is named, nothing is written.
    let o = haven(dir, &["plus", "vendor", "--from", from]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    // Not in this mirror at all (its digest is recorded, the copy is missing).
    assert!(
        err.contains("haven: error: kube-state-metrics (mirror ")
            && err.contains("not in the mirror")
            && err.contains("pass --skip kube-state-metrics to leave it out"),
        "{err}"
    );
    for c in ["garage", "mimir", "falco", "loki"] {
        assert!(
            err.contains(&format!("haven: error: {c} (mirror ")),
            "{c} in {err}"
        );
        assert!(err.contains(&format!("pass --skip {c}")), "{err}");
    }
    assert!(!dir.join("vendor").exists());

    let mut args = vec!["plus", "vendor", "--from", from];
    for c in UNVERIFIABLE {
        args.extend(["--skip", c]);
    }
    let o = haven(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let vendor = dir.join("vendor");
    for f in ["haven-vendor.json", "images.txt", "sbom.cdx.json"] {
        assert!(vendor.join(f).is_file(), "{f}");
    }
    assert!(vendor.join("cert-manager/Chart.yaml").is_file());
    assert!(!vendor.join("falco").exists());
    assert!(stderr(&o).contains("haven: note: falco: skipped (--skip)"));
    let meta_before = std::fs::read(vendor.join("haven-vendor.json")).unwrap();

    // Air-gapped: the tree rendered against the mirror still validates, and pulls every chart
    // from it.
    let o = haven(
        dir,
        &[
            "plus",
            "render",
            "-o",
            "tree",
            "--mirror",
            "registry.internal:5000",
            "--vendor-dir",
            "vendor",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("--registry registry.internal:5000/fluxcd"));
    let schemas = haven_test_support::shared_path("schemas/crds");
    let o = haven(
        dir,
        &[
            "plus",
            "validate",
            "tree",
            "--crd-schemas",
            schemas.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let release =
        std::fs::read_to_string(dir.join("tree/infrastructure/metrics-server/release.yaml"))
            .unwrap();
    assert!(
        release.contains("newName: registry.internal:5000/metrics-server/metrics-server"),
        "{release}"
    );
    for entry in std::fs::read_dir(dir.join("tree/infrastructure")).unwrap() {
        let repo = entry.unwrap().path().join("repository.yaml");
        if let Ok(text) = std::fs::read_to_string(&repo) {
            assert!(
                text.contains("url: oci://registry.internal:5000/charts/"),
                "{text}"
            );
        }
    }

    // A mirror whose metrics-server differs by one byte: exit 1, the component named with both
    // digests, the earlier vendor directory untouched.
    let bad = tmp.path().join("bad-mirror");
    std::fs::create_dir(&bad).unwrap();
    for entry in std::fs::read_dir(&shared).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() && entry.file_name() != "metrics-server" {
            std::os::unix::fs::symlink(entry.path(), bad.join(entry.file_name())).unwrap();
        }
    }
    copy_dir(&shared.join("metrics-server"), &bad.join("metrics-server"));
    let values = bad.join("metrics-server/values.yaml");
    let mut text = std::fs::read_to_string(&values).unwrap();
    text.push_str("# changed\n");
    std::fs::write(&values, text).unwrap();
    let mut args = vec!["plus", "vendor", "--from", bad.to_str().unwrap()];
    for c in UNVERIFIABLE {
        args.extend(["--skip", c]);
    }
    let o = haven(dir, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("haven: error: metrics-server (")
            && err.contains("content digest sha256:")
            && err.contains("does not match the catalogue's sha256:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(vendor.join("haven-vendor.json")).unwrap(),
        meta_before
    );

    // A directory that is not a vendor directory is never replaced.
    std::fs::create_dir(dir.join("notes")).unwrap();
    std::fs::write(dir.join("notes/keep.txt"), "mine").unwrap();
    let mut args = vec!["plus", "vendor", "--from", from, "-o", "notes"];
    for c in UNVERIFIABLE {
        args.extend(["--skip", c]);
    }
    let o = haven(dir, &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not a vendor directory"),
        "{}",
        stderr(&o)
    );
    assert!(dir.join("notes/keep.txt").is_file());
}

/// images.txt is the inventory of the rendered platform, not of the charts' values: vendored
/// from the mirror with Helm's engine, it lists images only the rendered templates name
/// (Tempo's, whose values leave the tag to the template), the images a controller starts
/// from an argument (cert-manager's ACME solver), digests where pinned, and not the images of
/// things the platform never runs (a chart's test hooks); a chart that cannot render (falco,
/// whose subcharts this copy lacks) is marked as listed from its values, with why. The same
/// run with a helm that cannot render shows what the values alone give.
#[test]
#[ignore = "needs ../shared/charts and helm-python-sdk (cargo test -- --include-ignored)"]
fn images_txt_lists_what_the_rendered_charts_run() {
    common::require_helm();
    let shared = haven_test_support::shared_path("charts");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir, "generic");
    let from = shared.to_str().unwrap();
    let helm = common::repo().join("tools/helm");
    let vendor = |out: &str, helm: &str| -> (Vec<String>, serde_json::Value, String) {
        let args = [
            "plus",
            "vendor",
            "--from",
            from,
            "--skip",
            "garage",
            "--skip",
            "mimir",
            "--skip",
            "kube-state-metrics",
            "--allow-unverified",
            "--helm",
            helm,
            "-o",
            out,
        ];
        let o = haven(dir, &args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let images = std::fs::read_to_string(dir.join(out).join("images.txt"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let meta = serde_json::from_slice(
            &std::fs::read(dir.join(out).join("haven-vendor.json")).unwrap(),
        )
        .unwrap();
        (images, meta, stderr(&o))
    };
    let (rendered, meta, err) = vendor("rendered", helm.to_str().unwrap());
    let (values, _, values_err) = vendor("values", "/nonexistent/helm");
    assert!(
        values_err.contains("haven: warning: helm rendered none of the charts"),
        "{values_err}"
    );

    let tempo = format!(
        "docker.io/grafana/tempo:{}",
        std::fs::read_to_string(shared.join("tempo/Chart.yaml"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("appVersion: "))
            .unwrap()
            .trim()
    );
    assert!(rendered.contains(&tempo), "{rendered:#?}");
    assert!(!values.contains(&tempo), "only the render names {tempo}");
    assert!(
        rendered
            .iter()
            .any(|i| i.starts_with("quay.io/jetstack/cert-manager-acmesolver:")),
        "{rendered:#?}"
    );
    assert!(
        rendered
            .iter()
            .any(|i| i.contains(":v0.91.0@sha256:") && i.contains("prometheus-config-reloader")),
        "{rendered:#?}"
    );
    // A test-hook image the values name, which helm-controller never runs.
    assert!(values.iter().any(|i| i.starts_with("docker.io/bats/bats:")));
    assert!(
        !rendered
            .iter()
            .any(|i| i.starts_with("docker.io/bats/bats:"))
    );

    let chart = |name: &str| -> &serde_json::Value {
        meta["charts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
    };
    assert_eq!(chart("tempo")["imagesFrom"], "rendered");
    assert!(
        chart("tempo")["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| *i == *tempo.as_str())
    );
    assert_eq!(chart("falco")["imagesFrom"], "values");
    assert!(
        chart("falco")["imagesNote"]
            .as_str()
            .unwrap()
            .contains("falcosidekick"),
        "{}",
        chart("falco")
    );
    assert!(
        err.contains("haven: warning: falco: images.txt lists the images its values name"),
        "{err}"
    );
}

#[test]
fn vendor_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir, "kind");
    let o = haven(dir, &["plus", "vendor", "--from", "no-such-dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("haven: error: not a directory (no-such-dir, flag --from)"),
        "{}",
        stderr(&o)
    );
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = haven(
        dir,
        &["plus", "vendor", "--from", "empty", "--skip", "cert-manger"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--skip cert-manger: no such component; did you mean `cert-manager`?"),
        "{err}"
    );
    assert!(
        err.contains("haven: error: cert-manager (mirror empty): "),
        "{err}"
    );
    assert!(!dir.join("vendor").exists());
    let o = haven(
        dir,
        &["plus", "render", "--mirror", "https://registry.example"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--mirror https://registry.example: not a registry"),
        "{}",
        stderr(&o)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}
