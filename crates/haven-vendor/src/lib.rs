//! `haven plus vendor`: every pinned chart of the platform fetched, verified against the content
//! digest the catalogue records, and written into one directory with the platform's image list
//! and a CycloneDX SBOM — what an air-gapped cluster needs, and what `validate --charts` reads.
//!
//! - [`chart`]: a chart as Helm loads it, from an archive or a folder; [`helmignore`]: Helm's
//!   ignore rules; [`digest`]: the content digest that is the same for every form of a chart.
//! - [`index`]: Helm repository indexes; [`fetch`]: the network and process edge (Helm
//!   repositories, OCI registries, Git, local mirrors), bounded in time and size.
//! - [`images`]: image references, those the values pin, and where they go in a mirror;
//!   [`sbom`]: the CycloneDX document; [`output`]: the directory, written in a temporary folder
//!   beside it and swapped into place, so an error leaves nothing half-written; [`mirror`]:
//!   `render --mirror`, the rendered tree pointed at one internal registry.

pub mod chart;
pub mod digest;
pub mod fetch;
pub mod helmignore;
pub mod images;
pub mod index;
pub mod mirror;
pub mod output;
pub mod sbom;

/// This repository's own chart, built into the binary.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/admission_chart.rs"));
}

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use haven_platform::catalogue::{Component, SourceKind, merge};
use serde::Serialize;
use serde_json::Value;

use crate::chart::{ChartError, ChartFiles};
use crate::fetch::{FetchError, Fetched, Fetcher, NetOptions};
use crate::images::ImageRef;

/// One component to vendor: the catalogue entry, the version to fetch, the values the platform
/// gives its release.
#[derive(Debug, Clone)]
pub struct Target {
    pub component: Component,
    pub version: String,
    pub values: Value,
}

/// How to vendor.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A local mirror instead of the network.
    pub from: Option<PathBuf>,
    /// Components left out on purpose.
    pub skip: Vec<String>,
    /// Vendor charts that have no recorded digest (marked unverified) instead of failing.
    pub allow_unverified: bool,
    /// Compute digests without checking them (for maintainers recording new pins).
    pub record_digests: bool,
    pub net: NetOptions,
    /// Charts fetched at once.
    pub parallel: usize,
}

/// Why a component could not be vendored. Every variant names the component and the source.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("{component} ({source_url}): {error}")]
    Fetch {
        component: String,
        source_url: String,
        #[source]
        error: FetchError,
    },
    #[error(
        "{component} ({source_url}): content digest {actual} does not match the catalogue's {expected}{}",
        note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default()
    )]
    DigestMismatch {
        component: String,
        source_url: String,
        expected: String,
        actual: String,
        note: Option<String>,
    },
    #[error(
        "{component} ({source_url}): no content digest is recorded for {version}{}, so it cannot be verified; pass --skip {component} to leave it out, or --allow-unverified to vendor it marked unverified",
        note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
    )]
    Unverified {
        component: String,
        source_url: String,
        version: String,
        note: Option<String>,
    },
    #[error("{component} ({source_url}): got chart {found}, expected {expected}")]
    WrongChart {
        component: String,
        source_url: String,
        found: String,
        expected: String,
    },
    #[error("{component} ({source_url}): {error}")]
    Chart {
        component: String,
        source_url: String,
        #[source]
        error: ChartError,
    },
    #[error("--skip {name}: no such component{}", hint.as_deref().map(|h| format!("; did you mean `{h}`?")).unwrap_or_default())]
    UnknownSkip { name: String, hint: Option<String> },
}

impl VendorError {
    /// A verification failure (the chart was had, but is not what the catalogue pins) rather
    /// than a chart that could not be had.
    pub fn is_verification(&self) -> bool {
        matches!(
            self,
            VendorError::DigestMismatch { .. } | VendorError::WrongChart { .. }
        )
    }
}

/// How a vendored chart was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verification {
    /// Its content digest equals the catalogue's.
    Catalogue,
    /// Built into this binary: it is this release's own chart.
    Embedded,
    /// No digest recorded (`--allow-unverified`), or `--record-digests`.
    Unverified,
}

/// One vendored chart, as `haven-vendor.json` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendoredChart {
    pub name: String,
    pub chart: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    pub source: SourceRecord,
    /// What was read: the archive URL, the OCI manifest digest, the mirror path.
    pub fetched_from: String,
    pub content_digest: String,
    pub verified: Verification,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Declared dependencies the chart does not carry (Helm will not render it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_dependencies: Vec<String>,
    /// Files in the source that `.helmignore` leaves out (neither written nor hashed).
    #[serde(skip_serializing_if = "is_zero")]
    pub ignored_files: usize,
    /// The container images the component runs: from its rendered manifests where the chart
    /// could be rendered (`imagesFrom: rendered`), else those its values (with the platform's
    /// values) pin.
    pub images: Vec<String>,
    pub images_from: ImagesFrom,
    /// Why the images come from the values only (the chart did not render).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images_note: Option<String>,
    #[serde(skip)]
    pub files: ChartFiles,
}

/// Where a vendored chart's image list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImagesFrom {
    /// Every container (init and ephemeral included) of the objects the chart renders with the
    /// platform's values, as `validate --charts` renders them: exact.
    Rendered,
    /// The image settings of the chart's values: images a template hard-codes are missed.
    Values,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceRecord {
    #[serde(rename = "type")]
    pub kind: SourceKind,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A component of plain manifests (the Gateway API CRDs): the directory a Flux Kustomization
/// applies from a Git tag, vendored as `DIR/<component>/`, verified like a chart (its
/// `contentDigest` is [`digest::files_digest`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VendoredManifests {
    pub name: String,
    /// The Git tag.
    pub version: String,
    pub source: SourceRecord,
    pub fetched_from: String,
    /// The commit of the tag, when fetched from Git.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub content_digest: String,
    pub verified: Verification,
    /// Path below the directory → bytes.
    #[serde(skip)]
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
}

/// A component with nothing to fetch (Flux, installed by `flux bootstrap`).
#[derive(Debug, Clone, Serialize)]
pub struct Bootstrapped {
    pub name: String,
    pub version: String,
    pub source: SourceRecord,
    pub note: String,
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What a vendor run produced.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub charts: Vec<VendoredChart>,
    /// Plain manifests from Git tags (the Gateway API CRDs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<VendoredManifests>,
    pub bootstrap: Vec<Bootstrapped>,
    pub skipped: Vec<Skipped>,
    /// Images of the tree's own workloads (not of a chart).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tree_images: Vec<String>,
}

impl Report {
    /// Every image of the platform, each once, sorted by its text (as `sort` orders
    /// images.txt).
    pub fn images(&self) -> Vec<ImageRef> {
        let mut set = BTreeSet::new();
        for c in &self.charts {
            set.extend(c.images.iter().filter_map(|i| ImageRef::parse(i)));
        }
        for b in &self.bootstrap {
            set.extend(b.images.iter().filter_map(|i| ImageRef::parse(i)));
        }
        set.extend(self.tree_images.iter().filter_map(|i| ImageRef::parse(i)));
        let mut images: Vec<ImageRef> = set.into_iter().collect();
        images.sort_by_cached_key(ToString::to_string);
        images
    }
}

fn source_record(c: &Component) -> SourceRecord {
    SourceRecord {
        kind: c.source.kind,
        url: c.source.url.clone(),
        path: c.source.path.clone(),
    }
}

/// Fetches and verifies every target. Errors of all components are returned together, so one
/// unreachable source does not hide another's digest mismatch.
pub fn vendor(
    targets: &[Target],
    all_names: &[String],
    opts: &Options,
) -> Result<Report, Vec<VendorError>> {
    let mut errors = Vec::new();
    for s in &opts.skip {
        if !all_names.contains(s) {
            errors.push(VendorError::UnknownSkip {
                name: s.clone(),
                hint: haven_model::did_you_mean(s, all_names).map(str::to_owned),
            });
        }
    }
    let mut report = Report::default();
    let mut work = Vec::new();
    let mut manifests = Vec::new();
    for t in targets {
        let c = &t.component;
        if opts.skip.contains(&c.name) {
            report.skipped.push(Skipped {
                name: c.name.clone(),
                reason: "--skip".to_owned(),
            });
            continue;
        }
        if c.source.kind == SourceKind::Bootstrap {
            report.bootstrap.push(Bootstrapped {
                name: c.name.clone(),
                version: t.version.clone(),
                source: source_record(c),
                note: format!(
                    "installed by `flux bootstrap` {} (the flux CLI of that version carries its manifests): nothing to fetch; air-gapped, mirror the images listed here and bootstrap with --registry <mirror>/fluxcd",
                    t.version
                ),
                images: c.images.clone(),
            });
            continue;
        }
        if c.source.kind == SourceKind::Manifests {
            manifests.push(t);
            continue;
        }
        work.push(t);
    }
    let fetcher = Fetcher::new(opts.net.clone());
    for t in manifests {
        match vendor_manifests(t, opts, &fetcher) {
            Ok(m) => report.manifests.push(m),
            Err(e) => errors.push(e),
        }
    }
    let results: Mutex<Vec<(usize, Result<VendoredChart, VendorError>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let threads = opts.parallel.clamp(1, 8).min(work.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(t) = work.get(i) else {
                        break;
                    };
                    let r = vendor_one(t, opts, &fetcher);
                    if let Ok(mut guard) = results.lock() {
                        guard.push((i, r));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    for (_, r) in results {
        match r {
            Ok(c) => report.charts.push(c),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors)
    }
}

/// The source URL as errors name it.
fn source_url(c: &Component, opts: &Options) -> String {
    match &opts.from {
        Some(dir) => format!("mirror {}", dir.display()),
        None => match (&c.source.kind, &c.source.path) {
            (SourceKind::Git, Some(p)) => format!("{} {p}", c.source.url),
            _ => c.source.url.clone(),
        },
    }
}

#[expect(
    clippy::result_large_err,
    reason = "one result per component, and errors are matched by variant in tests and callers"
)]
fn vendor_one(t: &Target, opts: &Options, fetcher: &Fetcher) -> Result<VendoredChart, VendorError> {
    let c = &t.component;
    let url = source_url(c, opts);
    let embedded = c.name == "haven-admission" && c.source.kind == SourceKind::Git;
    let expected = (t.version == c.version)
        .then(|| c.content_digest.clone())
        .flatten();
    if !embedded && expected.is_none() && !opts.allow_unverified && !opts.record_digests {
        return Err(VendorError::Unverified {
            component: c.name.clone(),
            source_url: url,
            version: t.version.clone(),
            note: c.digest_note.clone(),
        });
    }
    let fetched: Fetched = if embedded {
        let raw = embedded::FILES
            .iter()
            .map(|(p, b)| ((*p).to_owned(), b.to_vec()))
            .collect();
        let files = ChartFiles::load(raw, "built-in haven-admission chart").map_err(|error| {
            VendorError::Chart {
                component: c.name.clone(),
                source_url: "built-in".to_owned(),
                error,
            }
        })?;
        Fetched {
            files,
            location: format!(
                "built into haven {} (deploy/charts/haven-admission)",
                env!("CARGO_PKG_VERSION")
            ),
            archive_sha256: None,
        }
    } else {
        let r = match (&opts.from, c.source.kind) {
            (Some(dir), _) => fetch::from_mirror(dir, &c.name, &c.chart, &t.version),
            (None, SourceKind::Helm) => fetcher.helm(&c.source.url, &c.chart, &t.version),
            (None, SourceKind::Oci) => fetcher.oci(&c.source.url, &t.version),
            (None, SourceKind::Git) => fetcher.git(
                &c.source.url,
                &t.version,
                c.source.path.as_deref().unwrap_or("."),
            ),
            (None, SourceKind::Bootstrap | SourceKind::Manifests) => unreachable_bootstrap(),
        };
        r.map_err(|error| VendorError::Fetch {
            component: c.name.clone(),
            source_url: url.clone(),
            error,
        })?
    };
    let chart_err = |error: ChartError| VendorError::Chart {
        component: c.name.clone(),
        source_url: url.clone(),
        error,
    };
    let meta = fetched.files.metadata().map_err(chart_err)?;
    let strip = |v: &str| v.strip_prefix('v').unwrap_or(v).to_owned();
    // A Git source's pin is a tag of the repository, not the chart's version.
    let version_ok = c.source.kind == SourceKind::Git || strip(&meta.version) == strip(&t.version);
    if meta.name != c.chart && !(c.source.kind == SourceKind::Git) || !version_ok {
        return Err(VendorError::WrongChart {
            component: c.name.clone(),
            source_url: url,
            found: format!("{} {}", meta.name, meta.version),
            expected: format!("{} {}", c.chart, t.version),
        });
    }
    let actual = digest::content_digest(&fetched.files).map_err(chart_err)?;
    let verified = if embedded {
        Verification::Embedded
    } else {
        match &expected {
            Some(e) if !opts.record_digests => {
                if *e != actual {
                    return Err(VendorError::DigestMismatch {
                        component: c.name.clone(),
                        source_url: fetched.location.clone(),
                        expected: e.clone(),
                        actual,
                        note: c.digest_note.clone(),
                    });
                }
                Verification::Catalogue
            }
            _ => Verification::Unverified,
        }
    };
    let images = chart_images(&fetched.files, &t.values)
        .into_iter()
        .map(|i| i.to_string())
        .collect();
    Ok(VendoredChart {
        name: c.name.clone(),
        chart: meta.name.clone(),
        version: meta.version.clone(),
        app_version: meta.app_version.clone(),
        source: source_record(c),
        fetched_from: fetched.location,
        content_digest: actual,
        verified,
        archive_sha256: fetched.archive_sha256,
        license: meta.license.clone(),
        missing_dependencies: fetched.files.missing_dependencies(),
        ignored_files: fetched.files.ignored.len(),
        images,
        images_from: ImagesFrom::Values,
        images_note: None,
        files: fetched.files,
    })
}

/// Fetches and verifies the manifests directory of a `manifests` component: from the mirror's
/// `DIR/<component>/` with `--from` (an air-gapped run never reaches out), else from a shallow
/// clone of the pinned tag.
#[expect(
    clippy::result_large_err,
    reason = "one result per component, and errors are matched by variant in tests and callers"
)]
fn vendor_manifests(
    t: &Target,
    opts: &Options,
    fetcher: &Fetcher,
) -> Result<VendoredManifests, VendorError> {
    let c = &t.component;
    let url = source_url(c, opts);
    let expected = (t.version == c.version)
        .then(|| c.content_digest.clone())
        .flatten();
    if expected.is_none() && !opts.allow_unverified && !opts.record_digests {
        return Err(VendorError::Unverified {
            component: c.name.clone(),
            source_url: url,
            version: t.version.clone(),
            note: c.digest_note.clone(),
        });
    }
    let path = c.source.path.as_deref().unwrap_or(".");
    let fetched = match &opts.from {
        Some(dir) => fetch::manifests_from_mirror(dir, &c.name).map_err(|error| match error {
            FetchError::Mirror {
                path: folder,
                message,
            } => FetchError::Mirror {
                path: folder,
                message: format!(
                    "{message}: the mirror needs the directory {path} of {} at tag {} there",
                    c.source.url, t.version
                ),
            },
            other => other,
        }),
        None => fetcher.git_files(&c.source.url, &t.version, path),
    }
    .map_err(|error| VendorError::Fetch {
        component: c.name.clone(),
        source_url: url.clone(),
        error,
    })?;
    let actual = digest::files_digest(&fetched.files);
    let verified = match &expected {
        Some(e) if !opts.record_digests => {
            if *e != actual {
                return Err(VendorError::DigestMismatch {
                    component: c.name.clone(),
                    source_url: fetched.location,
                    expected: e.clone(),
                    actual,
                    note: c.digest_note.clone(),
                });
            }
            Verification::Catalogue
        }
        _ => Verification::Unverified,
    };
    Ok(VendoredManifests {
        name: c.name.clone(),
        version: t.version.clone(),
        source: source_record(c),
        fetched_from: fetched.location,
        commit: fetched.commit,
        content_digest: actual,
        verified,
        files: fetched.files,
    })
}

fn unreachable_bootstrap() -> Result<Fetched, FetchError> {
    // Bootstrap components are sorted out before fetching; keep the type honest anyway.
    Err(FetchError::Mirror {
        path: String::new(),
        message: "installed by flux bootstrap: nothing to fetch".to_owned(),
    })
}

/// The images the chart's values pin, with the release's values over the top chart's and each
/// subchart's values under its name (as Helm coalesces them).
pub fn chart_images(files: &ChartFiles, release_values: &Value) -> BTreeSet<ImageRef> {
    let mut out = BTreeSet::new();
    let values_at = |root: &str| -> Value {
        files
            .files
            .get(&format!("{root}values.yaml"))
            .and_then(|b| chart::parse_yaml(&format!("{root}values.yaml"), b).ok())
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(Default::default()))
    };
    let mut top = values_at("");
    merge(&mut top, release_values);
    let global = top.get("global").cloned();
    for root in &files.roots {
        let Ok(meta) = files.metadata_at(root) else {
            continue;
        };
        let mut values = if root.is_empty() {
            top.clone()
        } else {
            let mut v = values_at(root);
            let dependency = files.metadata().ok().and_then(|m| {
                m.dependencies
                    .into_iter()
                    .find(|d| root == &format!("charts/{}/", d.name))
            });
            // A subchart whose condition the values turn off does not run.
            if let Some(cond) = dependency.as_ref().and_then(|d| d.condition.as_deref())
                && condition_off(&top, cond)
            {
                continue;
            }
            // The parent's section for this subchart: the subchart's name, or its alias.
            let parent_key = dependency
                .map(|d| d.alias.unwrap_or(d.name))
                .unwrap_or_else(|| meta.name.clone());
            if let Some(section) = top.get(&parent_key) {
                merge(&mut v, section);
            }
            v
        };
        if let (Some(g), Some(map)) = (&global, values.as_object_mut()) {
            let mut merged = map.get("global").cloned().unwrap_or(Value::Null);
            if merged.is_null() {
                merged = g.clone();
            } else {
                merge(&mut merged, g);
            }
            map.insert("global".to_owned(), merged);
        }
        out.extend(images::images_in_values(
            &values,
            meta.app_version.as_deref(),
        ));
    }
    out
}

/// Helm's dependency `condition`: comma-separated value paths, the first that is a boolean
/// decides.
fn condition_off(values: &Value, condition: &str) -> bool {
    for path in condition.split(',') {
        let mut v = values;
        let mut found = true;
        for key in path.trim().split('.') {
            match v.get(key) {
                Some(next) => v = next,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found && let Some(b) = v.as_bool() {
            return !b;
        }
    }
    false
}
