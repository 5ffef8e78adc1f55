//! The workspace's `rust-version` (its MSRV) is true of the dependency graph.
//!
//! The honest check would be a build with that toolchain (`cargo +1.89 check`), but CI has one
//! toolchain, the current stable, and cannot fetch another. What can be checked with it:
//!
//! - here: every crate of the workspace declares the workspace's `rust-version`, it is at least
//!   what our own code's language features need (let-chains: 1.88), and no dependency that is
//!   built for this platform declares a newer one (the versions in Cargo.lock);
//! - in clippy (`.ci/run`): `clippy::incompatible_msrv` (on by default, `-D warnings`) rejects
//!   any standard library item stabilised after the declared `rust-version`. It reads the
//!   version from each package, which is why every crate must inherit it.
//!
//! Not covered: a language feature newer than 1.88 other than those listed would pass both
//! (none is used today); a dependency that states no `rust-version` is taken at its word.

use std::process::Command;

use serde_json::Value;

/// What our own code needs: let-chains (`if let … && let …`), stable since 1.88.
const LANGUAGE_FEATURES: (u64, u64) = (1, 88);

fn version(v: &str) -> (u64, u64) {
    let mut parts = v
        .split('.')
        .map(|p| p.parse::<u64>().expect("numeric rust-version"));
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

fn host() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

#[test]
fn rust_version_covers_our_code_and_every_dependency() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host()])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let packages = metadata["packages"].as_array().unwrap();
    let (ours, theirs): (Vec<&Value>, Vec<&Value>) = packages
        .iter()
        .partition(|p| members.contains(&p["id"].as_str().unwrap()));

    let declared: Vec<(&str, Option<&str>)> = ours
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["rust_version"].as_str()))
        .collect();
    let msrv = declared[0]
        .1
        .expect("the workspace declares a rust-version");
    let differing: Vec<_> = declared.iter().filter(|(_, v)| *v != Some(msrv)).collect();
    assert!(
        differing.is_empty(),
        "every crate inherits `rust-version.workspace = true` ({msrv}); these do not: {differing:?}"
    );
    assert!(
        version(msrv) >= LANGUAGE_FEATURES,
        "rust-version {msrv} is older than our code needs ({LANGUAGE_FEATURES:?})"
    );

    let mut newer: Vec<String> = theirs
        .iter()
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            (version(v) > version(msrv)).then(|| {
                format!(
                    "{} {} needs Rust {v}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                )
            })
        })
        .collect();
    newer.sort();
    assert!(
        newer.is_empty(),
        "our rust-version is {msrv}, but:\n{}\n(raise `rust-version` in the root Cargo.toml, or \
         keep the older dependency)",
        newer.join("\n")
    );
    // The bound is tight: some dependency (or our own code) needs exactly this version, so
    // the number is not raised without a reason.
    let needed = theirs
        .iter()
        .filter_map(|p| p["rust_version"].as_str().map(version))
        .chain([LANGUAGE_FEATURES])
        .max()
        .unwrap();
    assert_eq!(
        version(msrv),
        needed,
        "rust-version {msrv} is higher than anything needs ({needed:?}); lower it, or say in \
         this test which feature of ours needs it"
    );
}
