//! Release chores: `cargo xtask dist` writes shell completions and the man page, generated from
//! the CLI definition, into `target/dist/`; `cargo xtask release-data` writes and signs the
//! release data with the SHA-256 of the release binaries (docs/check.md, "The release step").
//! (The admission webhook's shape table has its own
//! generator, `cargo shapes`, in `xtask/shapegen`: it must not depend on the crate it writes.)

use std::path::{Path, PathBuf};

const USAGE: &str = "usage: cargo xtask dist\n       cargo xtask release-data --key SECRET_KEY --version X.Y.Z BINARY...\n       cargo xtask release-data-keygen DIR";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => dist(),
        Some("release-data") => release_data_cmd(&args[1..]),
        Some("release-data-keygen") if args.len() == 2 => keygen(Path::new(&args[1])),
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
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
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
