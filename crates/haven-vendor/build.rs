//! Embeds this repository's own chart (`deploy/charts/haven-admission`) in the binary, so that
//! `haven plus vendor` always has the chart of the webhook this binary is (no network, no
//! second source of truth): one `(path, bytes)` entry per file, generated with `include_bytes!`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let chart = manifest.join("../../deploy/charts/haven-admission");
    println!("cargo:rerun-if-changed={}", chart.display());
    let mut files = Vec::new();
    collect(&chart, &chart, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The files of `deploy/charts/haven-admission`, by path.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("admission_chart.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).expect("the chart folder is readable");
    for entry in entries {
        let entry = entry.expect("readable entry");
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("below the root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}
