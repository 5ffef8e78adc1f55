//! Release chores: `cargo xtask dist` writes shell completions and the man page, generated from
//! the CLI definition, into `target/dist/`; `cargo xtask release-data` writes and signs the
//! release data with the SHA-256 of the release binaries (docs/check.md, "The release step");
//! `cargo xtask cncf-data` refreshes the CNCF list in the built-in release data from a clone of
//! `cncf/k8s-conformance`; `cargo xtask crd-schemas` regenerates the CRD schemas built into haven
//! from the chart mirror and Flux's CRDs ([`crd_schemas`]).
//! (The admission webhook's shape table and the per-minor API tables have their own
//! generator, `cargo shapes`, in `xtask/shapegen`: it must not depend on the crate it writes.)

use std::path::{Path, PathBuf};

mod crd_schemas;

const USAGE: &str = "usage: cargo xtask dist\n       cargo xtask release-data --key SECRET_KEY --version X.Y.Z BINARY...\n       cargo xtask release-data-keygen DIR\n       cargo xtask cncf-data (--repo GIT_DIR | --listing FILE [--commit SHA] [--source TEXT]) [--from 1.30] [--listed-on YYYY-MM-DD]\n       cargo xtask crd-schemas [--charts DIR] [--helm PATH]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist(),
        Some("release-data") => release_data_cmd(&args[1..]),
        Some("release-data-keygen") if args.len() == 2 => keygen(Path::new(&args[1])),
        Some("cncf-data") => cncf_data_cmd(&args[1..]),
        Some("crd-schemas") => crd_schemas::cmd(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// `release-data-keygen DIR`: a new minisign key pair for release data, unencrypted (the release
/// pipeline's secret store protects it): `DIR/haven-release.key` (secret, mode 0600 is the
/// caller's job) and `DIR/haven-release.pub` (replaces `crates/haven-checks/data/release-key.pub`).
fn keygen(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let kp = minisign::KeyPair::generate_unencrypted_keypair()?;
    std::fs::write(
        dir.join("haven-release.key"),
        kp.sk
            .to_box(Some("haven release-data signing key"))?
            .into_string(),
    )?;
    std::fs::write(dir.join("haven-release.pub"), kp.pk.to_box()?.into_string())?;
    println!("wrote {}/haven-release.{{key,pub}}", dir.display());
    Ok(())
}

/// The release data of a release: the built-in data with this release's entry (version, today,
/// the SHA-256 of every binary) added or replaced. Its bytes are what gets signed.
fn release_data(
    version: &str,
    today: &str,
    hashes: &[String],
) -> Result<String, Box<dyn std::error::Error>> {
    let mut v: serde_json::Value =
        serde_json::from_str(haven_checks::release::EMBEDDED_RELEASE_DATA)?;
    let releases = v["checker"]["releases"]
        .as_array_mut()
        .ok_or("release-data.json: checker.releases is not a list")?;
    releases.retain(|r| r["version"] != version);
    releases.insert(
        0,
        serde_json::json!({"version": version, "released": today, "sha256": hashes}),
    );
    v["date"] = today.into();
    let mut text = serde_json::to_string_pretty(&v)?;
    text.push('\n');
    Ok(text)
}

fn sha256_hex(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Sign `text` with an unencrypted minisign secret key.
fn sign(text: &str, secret_key: &str) -> Result<String, Box<dyn std::error::Error>> {
    let sk = minisign::SecretKey::from_unencrypted_box(minisign::SecretKeyBox::from_string(
        secret_key,
    )?)?;
    let sig = minisign::sign(None, &sk, text.as_bytes(), None, None)?;
    Ok(sig.into_string())
}

/// `release-data --key KEY --version X.Y.Z BINARY...`: writes and signs
/// `target/dist/haven-release-data.json` (+ `.minisig`).
fn release_data_cmd(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (mut key, mut version, mut binaries) = (None, None, Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--key" => key = it.next().cloned(),
            "--version" => version = it.next().cloned(),
            other => binaries.push(PathBuf::from(other)),
        }
    }
    let (Some(key), Some(version)) = (key, version) else {
        return Err(USAGE.into());
    };
    if binaries.is_empty() {
        return Err("release-data: name the release binaries to hash".into());
    }
    let hashes = binaries
        .iter()
        .map(|b| sha256_hex(b))
        .collect::<Result<Vec<_>, _>>()?;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let text = release_data(&version, &today, &hashes)?;
    let secret = std::fs::read_to_string(&key).map_err(|e| format!("{key}: {e}"))?;
    let signature = sign(&text, &secret)?;
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/dist");
    std::fs::create_dir_all(&out)?;
    let file = out.join(haven_checks::release::RELEASE_DATA_FILE);
    std::fs::write(&file, &text)?;
    std::fs::write(
        out.join(format!(
            "{}.minisig",
            haven_checks::release::RELEASE_DATA_FILE
        )),
        signature,
    )?;
    println!(
        "wrote {} (+ .minisig), {} hash(es)",
        file.display(),
        hashes.len()
    );
    Ok(())
}

/// The built-in release data this xtask edits.
fn embedded_release_data_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/haven-checks/data/release-data.json")
}

/// Where the CNCF list comes from: a clone of `cncf/k8s-conformance`, or a listing already made.
struct CncfListing {
    /// `v1.37/rke2`, one per product directory (more is ignored).
    paths: Vec<String>,
    commit: Option<String>,
    source: String,
}

/// `git ls-tree` of every `v1.*` directory at HEAD. A tree-only clone is enough and small:
/// `git clone --filter=blob:none --no-checkout https://github.com/cncf/k8s-conformance`.
fn listing_from_git(repo: &Path) -> Result<CncfListing, Box<dyn std::error::Error>> {
    let git = |args: &[&str]| -> Result<String, Box<dyn std::error::Error>> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .map_err(|e| format!("git: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git {} in {}: {}",
                args.join(" "),
                repo.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8(out.stdout)?)
    };
    let commit = git(&["rev-parse", "HEAD"])?.trim().to_owned();
    let top = git(&["ls-tree", "-d", "--name-only", "HEAD"])?;
    let mut paths = Vec::new();
    for dir in top.lines().filter(|d| d.starts_with("v1.")) {
        let listing = git(&["ls-tree", "-d", "--name-only", "HEAD", &format!("{dir}/")])?;
        paths.extend(listing.lines().map(str::to_owned));
    }
    Ok(CncfListing {
        paths,
        source: format!(
            "github.com/cncf/k8s-conformance at commit {commit}: the product directories v1.NN/* (derived: directory names per minor only)"
        ),
        commit: Some(commit),
    })
}

/// Replace the CNCF list of the release data `text` with one made from `listing`; aliases and
/// upstream installers (haven's own mapping) are kept.
fn with_cncf_list(
    text: &str,
    listing: &CncfListing,
    from: Option<(u32, u32)>,
    listed_on: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut data = haven_checks::ReleaseData::from_json("release-data.json", text)?;
    let oldest = match from {
        Some(m) => m,
        None => data
            .cncf
            .minors
            .iter()
            .filter_map(|m| haven_checks::release::parse_minor(m))
            .min()
            .ok_or("release-data.json: the CNCF list names no minor; give --from")?,
    };
    let (minors, products) = haven_checks::release::products_from_listing(
        listing.paths.iter().map(String::as_str),
        oldest,
    );
    if minors.is_empty() {
        return Err(format!(
            "the listing has no product directory of v{}.{} or later",
            oldest.0, oldest.1
        )
        .into());
    }
    data.cncf.minors = minors;
    data.cncf.products = products;
    data.cncf.commit = listing.commit.clone();
    data.cncf.source = listing.source.clone();
    data.cncf.listed_on = listed_on.to_owned();
    Ok(data.to_json_text())
}

/// `cncf-data`: refresh the CNCF list of `crates/haven-checks/data/release-data.json`.
fn cncf_data_cmd(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (mut repo, mut listing, mut commit, mut source, mut from, mut listed_on) =
        (None, None, None, None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--repo" => repo = Some(PathBuf::from(value()?)),
            "--listing" => listing = Some(PathBuf::from(value()?)),
            "--commit" => commit = Some(value()?),
            "--source" => source = Some(value()?),
            "--from" => {
                let v = value()?;
                from = Some(
                    haven_checks::release::parse_minor(&v)
                        .ok_or_else(|| format!("--from {v}: not a minor like 1.30"))?,
                );
            }
            "--listed-on" => listed_on = Some(value()?),
            other => return Err(format!("cncf-data: unknown argument {other}\n{USAGE}").into()),
        }
    }
    let listing = match (repo, listing) {
        (Some(r), None) => listing_from_git(&r)?,
        (None, Some(f)) => {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            CncfListing {
                paths: text.lines().map(str::to_owned).collect(),
                source: source.unwrap_or_else(|| {
                    format!(
                        "github.com/cncf/k8s-conformance: the product directories v1.NN/* listed in {} (derived: directory names per minor only)",
                        f.display()
                    )
                }),
                commit,
            }
        }
        _ => return Err(format!("cncf-data: give --repo or --listing\n{USAGE}").into()),
    };
    let listed_on = listed_on.unwrap_or_else(|| {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string()
    });
    let path = embedded_release_data_path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let new = with_cncf_list(&text, &listing, from, &listed_on)?;
    let data = haven_checks::ReleaseData::from_json("new release data", &new)?;
    std::fs::write(&path, &new)?;
    println!(
        "wrote {}: {} products over {} (listed {listed_on}); the data's date is still {}: refresh the Kubernetes releases too and set it",
        path.display(),
        data.cncf.products.len(),
        data.cncf.minors.join(", "),
        data.date
    );
    Ok(())
}

fn dist() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/dist");
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
        clap_complete::Shell::PowerShell,
        clap_complete::Shell::Elvish,
    ] {
        let path =
            clap_complete::generate_to(shell, &mut haven_cli::command(), "haven", &completions)?;
        println!("wrote {}", path.display());
    }
    let man = out.join("haven.1");
    let mut buf = Vec::new();
    clap_mangen::Man::new(haven_cli::command()).render(&mut buf)?;
    std::fs::write(&man, buf)?;
    println!("wrote {}", man.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing becomes the CNCF list: directories per minor, nothing else, older minors cut,
    /// aliases kept, and the file reads back as the same data.
    #[test]
    fn cncf_list_from_a_listing() {
        let listing = CncfListing {
            paths: [
                "v1.29/rke2",
                "v1.36/rke2",
                "v1.37/rke2",
                "v1.37/talos",
                "v1.37/talos/PRODUCT.yaml",
                "v1.37/",
                "docs/index",
                "v1.37/Taikun CloudWorks",
            ]
            .map(String::from)
            .to_vec(),
            commit: Some("0123abc".into()),
            source: "test listing".into(),
        };
        let text = with_cncf_list(
            haven_checks::release::EMBEDDED_RELEASE_DATA,
            &listing,
            Some((1, 30)),
            "2026-12-07",
        )
        .unwrap();
        let d = haven_checks::ReleaseData::from_json("rd", &text).unwrap();
        assert_eq!(d.cncf.minors, ["1.36", "1.37"]);
        assert_eq!(d.cncf.products["rke2"], ["1.36", "1.37"]);
        assert_eq!(d.cncf.products["talos"], ["1.37"]);
        assert_eq!(d.cncf.products["Taikun CloudWorks"], ["1.37"]);
        assert_eq!(d.cncf.products.len(), 3);
        assert_eq!(d.cncf.commit.as_deref(), Some("0123abc"));
        assert_eq!(d.cncf.aliases["rke2"], ["rke2", "rke-government", "rke"]);
        assert_eq!(
            d.to_json_text(),
            text,
            "the written text is the canonical form"
        );
        // No product directory in range: an error, not an empty list.
        let old = CncfListing {
            paths: vec!["v1.29/rke2".into()],
            ..listing
        };
        assert!(
            with_cncf_list(
                haven_checks::release::EMBEDDED_RELEASE_DATA,
                &old,
                Some((1, 30)),
                "x"
            )
            .is_err()
        );
    }

    /// The command runs `git ls-tree` on a real repository.
    #[test]
    fn cncf_listing_from_git() {
        let dir = std::env::temp_dir().join(format!("haven-xtask-git-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("v1.37/talos")).unwrap();
        std::fs::create_dir_all(dir.join("v1.36/rke2")).unwrap();
        std::fs::write(dir.join("v1.37/talos/PRODUCT.yaml"), "vendor: Sidero\n").unwrap();
        std::fs::write(dir.join("v1.36/rke2/PRODUCT.yaml"), "vendor: SUSE\n").unwrap();
        std::fs::write(dir.join("README.md"), "x\n").unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-qm", "x"]);
        let listing = listing_from_git(&dir).unwrap();
        let mut paths = listing.paths.clone();
        paths.sort();
        assert_eq!(paths, ["v1.36/rke2", "v1.37/talos"]);
        assert_eq!(listing.commit.as_ref().map(String::len), Some(40));
        assert!(listing.source.contains(listing.commit.as_deref().unwrap()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What the xtask writes verifies with the key pair it made, and lists the hashes.
    #[test]
    fn signed_release_data_round_trips() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let secret = kp.sk.to_box(None).unwrap().into_string();
        let text = release_data("9.9.9", "2026-12-07", &["ab".repeat(32)]).unwrap();
        let sig = sign(&text, &secret).unwrap();
        let key =
            haven_checks::TrustedKey::from_text("test", &kp.pk.to_box().unwrap().into_string())
                .unwrap();
        let d = haven_checks::ReleaseData::from_signed("rd", &text, "rd.minisig", &sig, &[key])
            .unwrap();
        assert_eq!(d.date, "2026-12-07");
        assert_eq!(
            d.release_with_hash(&"ab".repeat(32))
                .map(|r| r.version.as_str()),
            Some("9.9.9")
        );
        // The built-in key does not verify a test signature.
        assert!(
            haven_checks::ReleaseData::from_signed(
                "rd",
                &text,
                "rd.minisig",
                &sig,
                &[haven_checks::TrustedKey::release()]
            )
            .is_err()
        );
    }
}
