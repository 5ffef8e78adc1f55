//! The vendor directory, written all at once: everything goes into a temporary folder beside the
//! target, which then takes the target's place (one `renameat2(RENAME_EXCHANGE)` where the file
//! system has it, else two renames). A failure at any point removes the temporary folder and
//! leaves the target as it was; a reader never sees half a vendor directory.
//!
//! Files are only ever created inside the fresh temporary folder, at paths made of normal
//! components (checked in [`crate::chart`]), so nothing is written through a link. The target
//! itself may be missing, empty, or an earlier vendor directory (it has `haven-vendor.json`);
//! anything else is refused rather than replaced.
//!
//! `haven-io`'s `files` writes single files atomically into a tree; this module swaps a
//! whole directory, which that writer does not do.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Report;
use crate::images::ImageRef;

/// The metadata file that marks a vendor directory.
pub const METADATA_FILE: &str = "haven-vendor.json";
pub const IMAGES_FILE: &str = "images.txt";
pub const SBOM_FILE: &str = "sbom.cdx.json";

/// Why the directory was not written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0}: exists and is not a vendor directory (no {METADATA_FILE}); remove it or choose another -o"
    )]
    NotVendorDir(String),
    #[error("{0}: is a symbolic link; pass the directory it points to")]
    Link(String),
    #[error("{0}")]
    Sbom(#[from] crate::sbom::SbomError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata<'a> {
    /// Format of this file.
    kind: &'static str,
    version: u32,
    generated_by: String,
    platform: &'a str,
    /// How `contentDigest` is computed.
    digest: &'static str,
    /// Where the image list comes from.
    images_from: &'static str,
    #[serde(flatten)]
    report: &'a Report,
}

/// Writes `report` (charts, metadata, images, SBOM) as the directory `dir`.
pub fn write(dir: &Path, platform: &str, report: &Report) -> Result<(), OutputError> {
    if dir
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(OutputError::Link(dir.display().to_string()));
    }
    let replaces = match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() && !dir.join(METADATA_FILE).is_file() {
                return Err(OutputError::NotVendorDir(dir.display().to_string()));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(dir)(e)),
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vendor".to_owned());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    fill(tmp.path(), platform, report)?;
    if replaces {
        // tmp now holds the old directory; dropping `tmp` removes it.
        swap(tmp.path(), dir)?;
        drop(tmp);
    } else {
        let path = tmp.keep();
        if let Err(e) = std::fs::rename(&path, dir) {
            let _ = std::fs::remove_dir_all(&path);
            return Err(io(dir)(e));
        }
    }
    Ok(())
}

/// Writes each chart of `report` as `root/<component>/` (the layout `validate --charts` reads).
pub fn write_charts(root: &Path, report: &Report) -> Result<(), OutputError> {
    for c in &report.charts {
        let base = root.join(&c.name);
        for (rel, bytes) in &c.files.files {
            let path = base.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(io(p))?;
            }
            std::fs::write(&path, bytes).map_err(io(&path))?;
        }
    }
    // Paths of manifests come from a walk of a directory or a checkout: relative, made of
    // normal components; checked again so nothing is written outside `root`.
    for m in &report.manifests {
        let base = root.join(&m.name);
        for (rel, bytes) in &m.files {
            if !Path::new(rel)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
            {
                return Err(io(&base)(std::io::Error::other(format!(
                    "{rel}: not a plain relative path"
                ))));
            }
            let path = base.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(io(p))?;
            }
            std::fs::write(&path, bytes).map_err(io(&path))?;
        }
    }
    Ok(())
}

fn fill(root: &Path, platform: &str, report: &Report) -> Result<(), OutputError> {
    write_charts(root, report)?;
    let meta = Metadata {
        kind: "HavenVendor",
        version: 1,
        generated_by: format!("haven {}", env!("CARGO_PKG_VERSION")),
        platform,
        digest: "chart content digest v1: sha256 over `<sha256>  <path>` lines of the files Helm loads (docs/plus.md, Chart digests)",
        images_from: "each chart's rendered manifests (every container, init and ephemeral ones included) where it rendered with the platform's values, else its values (per chart: imagesFrom); Flux's from the catalogue",
        report,
    };
    let mut json = serde_json::to_string_pretty(&meta).map_err(|e| OutputError::Io {
        path: METADATA_FILE.to_owned(),
        source: std::io::Error::other(e),
    })?;
    json.push('\n');
    let path = root.join(METADATA_FILE);
    std::fs::write(&path, json).map_err(io(&path))?;
    let images = report.images();
    let path = root.join(IMAGES_FILE);
    std::fs::write(&path, images_txt(&images)).map_err(io(&path))?;
    let charts: Vec<crate::sbom::ChartEntry> = report
        .charts
        .iter()
        .map(|c| crate::sbom::ChartEntry {
            component: c.name.clone(),
            chart: c.chart.clone(),
            version: c.version.clone(),
            app_version: c.app_version.clone(),
            description: c.files.metadata().ok().and_then(|m| m.description),
            source: c.source.url.clone(),
            content_digest: c.content_digest.clone(),
            archive_sha256: c.archive_sha256.clone(),
            license: c.license.clone(),
        })
        .collect();
    let manifests: Vec<crate::sbom::ManifestsEntry> = report
        .manifests
        .iter()
        .map(|m| crate::sbom::ManifestsEntry {
            component: m.name.clone(),
            version: m.version.clone(),
            source: m.source.url.clone(),
            content_digest: m.content_digest.clone(),
            commit: m.commit.clone(),
        })
        .collect();
    let sbom = crate::sbom::sbom_json(platform, &charts, &manifests, &images)?;
    let path = root.join(SBOM_FILE);
    std::fs::write(&path, sbom).map_err(io(&path))?;
    Ok(())
}

/// One image a line, sorted: what `skopeo`, `crane` or a mirroring script reads.
pub fn images_txt(images: &[ImageRef]) -> String {
    let mut s = String::new();
    for i in images {
        s.push_str(&i.to_string());
        s.push('\n');
    }
    s
}

/// Puts `new` at `target` and the old `target` at `new`.
fn swap(new: &Path, target: &Path) -> Result<(), OutputError> {
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        new,
        rustix::fs::CWD,
        target,
        rustix::fs::RenameFlags::EXCHANGE,
    ) {
        Ok(()) => Ok(()),
        Err(_) => {
            // No RENAME_EXCHANGE here (some file systems): old aside, new in, old to `new`.
            let aside = new.with_extension("old");
            std::fs::rename(target, &aside).map_err(io(target))?;
            if let Err(e) = std::fs::rename(new, target) {
                let _ = std::fs::rename(&aside, target);
                return Err(io(target)(e));
            }
            std::fs::rename(&aside, new).map_err(io(new))
        }
    }
}
