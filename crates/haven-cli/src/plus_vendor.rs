//! `haven plus vendor`: the charts of the configured platform fetched (or read from a local
//! mirror), verified against the catalogue's digests, and written as one directory. The work is
//! `haven_vendor`'s; this module reads the config, prints and picks the exit code.

use std::collections::BTreeSet;
use std::time::Duration;

use haven_platform::catalogue::resolve;
use haven_vendor::{Options, Verification, fetch::NetOptions};

use crate::diag::{Diagnostic, Problem};
use crate::plus_cmd::{VendorArgs, load};
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};

pub fn run(a: &VendorArgs) -> Result<u8, Diagnostic> {
    let cat = haven_platform::Catalogue::builtin().map_err(|e| Diagnostic::from(e.to_string()))?;
    let (config, _) = load(&a.config, &cat)?;
    if let Some(dir) = &a.from
        && !dir.is_dir()
    {
        return Err(Problem::new("not a directory")
            .file(dir.display())
            .flag("--from")
            .into());
    }
    let mut targets: Vec<haven_vendor::Target> = resolve(&cat, &config)
        .into_iter()
        .map(|r| haven_vendor::Target {
            component: r.component.clone(),
            version: r.version,
            values: r.values,
        })
        .collect();
    if a.all_components {
        // The components the config does not select, at their pins with the catalogue's values.
        for c in &cat.components {
            if !targets.iter().any(|t| t.component.name == c.name) {
                targets.push(haven_vendor::Target {
                    component: c.clone(),
                    version: c.version.clone(),
                    values: serde_json::Value::Object(c.values.clone()),
                });
            }
        }
    }
    let opts = Options {
        from: a.from.clone(),
        skip: a.skip.clone(),
        allow_unverified: a.allow_unverified,
        record_digests: a.print_digests,
        net: NetOptions {
            timeout: Duration::from_secs(a.timeout.max(1)),
            plain_http: a.plain_http,
            ..NetOptions::default()
        },
        parallel: 4,
    };
    let report = match haven_vendor::vendor(&targets, &cat.names(), &opts) {
        Ok(r) => r,
        Err(errors) => {
            Diagnostic::new(errors.iter().map(|e| Problem::new(e.to_string())).collect())
                .print(&mut std::io::stderr().lock());
            eprintln!(
                "haven: nothing written to {} ({} component(s) failed)",
                a.output.display(),
                errors.len()
            );
            return Ok(if errors.iter().all(|e| e.is_verification()) {
                EXIT_FINDINGS
            } else {
                EXIT_ERROR
            });
        }
    };
    if a.print_digests {
        let mut text = String::new();
        for c in &report.charts {
            text.push_str(&format!(
                "{}: {} {} contentDigest: {}\n",
                c.name, c.chart, c.version, c.content_digest
            ));
        }
        for m in &report.manifests {
            text.push_str(&format!(
                "{}: manifests {} contentDigest: {}\n",
                m.name, m.version, m.content_digest
            ));
        }
        crate::plus_cmd::out(&text)?;
        return Ok(EXIT_OK);
    }
    let mut report = report;
    for w in rendered_images(&mut report, &config, &cat, a.helm.clone())? {
        eprintln!("haven: warning: {w}");
    }
    haven_vendor::output::write(&a.output, &config.cluster.name, &report)
        .map_err(|e| e.to_string())?;
    for c in &report.charts {
        if c.verified == Verification::Unverified {
            eprintln!(
                "haven: warning: {}: vendored unverified (no digest recorded in the catalogue for {} {})",
                c.name, c.chart, c.version
            );
        }
        for d in &c.missing_dependencies {
            eprintln!(
                "haven: warning: {}: dependency {d} is missing from the chart; Helm will not render it",
                c.name
            );
        }
    }
    for s in &report.skipped {
        eprintln!("haven: note: {}: skipped ({})", s.name, s.reason);
    }
    for b in &report.bootstrap {
        eprintln!("haven: note: {}: {}", b.name, b.note);
    }
    for m in &report.manifests {
        if m.verified == Verification::Unverified {
            eprintln!(
                "haven: warning: {}: vendored unverified (no digest recorded in the catalogue for {})",
                m.name, m.version
            );
        }
        let artifact = haven_vendor::mirror::manifests_artifact("REGISTRY", &m.name, &m.version);
        let revision = match &m.commit {
            Some(commit) => format!("{}@sha1:{commit}", m.version),
            None => m.version.clone(),
        };
        eprintln!(
            "haven: note: {}: plain manifests of {} at {} in {}; air-gapped, push them with `flux push artifact {artifact} --path {} --source {} --revision {revision}` (render --mirror REGISTRY points the unit there)",
            m.name,
            m.source.url,
            m.version,
            a.output.join(&m.name).display(),
            a.output.join(&m.name).display(),
            m.source.url,
        );
    }
    let verified = report
        .charts
        .iter()
        .map(|c| c.verified)
        .chain(report.manifests.iter().map(|m| m.verified))
        .filter(|v| *v != Verification::Unverified)
        .count();
    let manifests = match report.manifests.len() {
        0 => String::new(),
        1 => " and 1 manifests directory".to_owned(),
        n => format!(" and {n} manifests directories"),
    };
    eprintln!(
        "vendored {} charts{manifests} into {} ({verified} verified), {} images in {}, SBOM in {}",
        report.charts.len(),
        a.output.display(),
        report.images().len(),
        haven_vendor::output::IMAGES_FILE,
        haven_vendor::output::SBOM_FILE,
    );
    Ok(EXIT_OK)
}

/// Gives each vendored chart the images of its rendered manifests: the platform's tree is
/// rendered in memory, and every HelmRelease of it rendered from the vendored charts exactly as
/// `validate --charts` does (one renderer: `haven_platform::charts`), so images that only a
/// template names (a subchart's default, a hard-coded sidecar) are listed, with their digest
/// where one is pinned. A chart that does not render (a dependency missing, not in the tree)
/// keeps the images its values name, and the warnings returned say which and why.
fn rendered_images(
    report: &mut haven_vendor::Report,
    config: &haven_platform::PlatformConfig,
    cat: &haven_platform::Catalogue,
    helm: Option<std::path::PathBuf>,
) -> Result<Vec<String>, Diagnostic> {
    use haven_platform::charts::{self, Outcome, RenderOptions};
    use haven_vendor::ImagesFrom;
    let scratch = tempfile::Builder::new()
        .prefix("haven-vendor-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let dir = scratch.path().join("charts");
    haven_vendor::output::write_charts(&dir, report).map_err(|e| e.to_string())?;
    let source = crate::plus_charts::chart_source(&dir, scratch.path())?;
    let engine = crate::plus_charts::HelmEngine {
        helm,
        scratch: scratch.path().to_path_buf(),
    };
    let files = haven_platform::render(config, cat).files;
    let platform = charts::render_platform(
        &files,
        &source,
        &engine,
        &RenderOptions {
            kube_version: config.cluster.kubernetes_version.clone(),
            parallel: 0,
        },
    );
    let images = charts::images(&platform);
    let of = |component: &str| -> Vec<String> {
        let mut out: Vec<String> = images
            .iter()
            .filter(|i| i.components.contains(component))
            .filter_map(|i| haven_vendor::images::ImageRef::parse(&i.image))
            .map(|i| i.to_string())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let mut warnings = Vec::new();
    let mut unselected = Vec::new();
    // Helm missing or broken: one warning, not one per chart.
    let failed: Vec<&str> = platform
        .releases
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    let rendered = platform
        .releases
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Rendered(_)));
    if !rendered && let Some(first) = failed.first() {
        warnings.push(format!(
            "helm rendered none of the charts ({first}): images.txt lists the images the charts' values name, not those of their rendered manifests (pass --helm PATH)"
        ));
        for c in &mut report.charts {
            c.images_from = ImagesFrom::Values;
            c.images_note = Some(format!("helm rendered none of the charts: {first}"));
        }
        return Ok(warnings);
    }
    for c in &mut report.charts {
        let release = platform.releases.iter().find(|r| r.component == c.name);
        let why = match release.map(|r| &r.outcome) {
            Some(Outcome::Rendered(_)) => {
                let rendered = of(&c.name);
                let names: BTreeSet<String> = rendered
                    .iter()
                    .filter_map(|i| haven_vendor::images::ImageRef::parse(i))
                    .map(|i| i.name())
                    .collect();
                let text = release.and_then(|r| r.text.as_deref()).unwrap_or_default();
                // Images the platform runs that no pod template names: those a controller
                // starts from an argument or a ConfigMap (cert-manager's ACME solver, Trivy's
                // scanner). An image the values name counts when its repository is written
                // somewhere in the rendered manifests and no pod template already runs it.
                let started: Vec<String> = c
                    .images
                    .iter()
                    .filter_map(|i| haven_vendor::images::ImageRef::parse(i))
                    .filter(|i| !names.contains(&i.name()))
                    .filter(|i| {
                        let path = i.path.strip_prefix("library/").unwrap_or(&i.path);
                        text.contains(&i.name()) || (i.path.contains('/') && text.contains(path))
                    })
                    .map(|i| i.to_string())
                    .collect();
                c.images = rendered.into_iter().chain(started).collect();
                c.images.sort();
                c.images.dedup();
                c.images_from = ImagesFrom::Rendered;
                c.images_note = None;
                continue;
            }
            Some(Outcome::NotVerified(why)) => why.clone(),
            Some(Outcome::Failed(why)) => format!("Helm could not render it: {why}"),
            None => {
                // `--all-components`: listed once below, not a warning each.
                let why = "the config does not select it (no HelmRelease in the tree)";
                unselected.push(c.name.clone());
                c.images_from = ImagesFrom::Values;
                c.images_note = Some(why.to_owned());
                continue;
            }
        };
        warnings.push(format!(
            "{}: images.txt lists the images its values name, not those of its rendered manifests: {why}",
            c.name
        ));
        c.images_from = ImagesFrom::Values;
        c.images_note = Some(why);
    }
    if !unselected.is_empty() {
        warnings.push(format!(
            "images.txt lists the images the values of {} name: the config does not select {} (no HelmRelease to render)",
            unselected.join(", "),
            if unselected.len() == 1 { "it" } else { "them" }
        ));
    }
    report.tree_images = of("tree");
    Ok(warnings)
}

/// `render --mirror`: reads what `vendor` wrote (image list, each chart's registry values) and
/// rewrites the rendered tree.
pub fn mirror(
    rendered: &mut haven_platform::Rendered,
    config: &haven_platform::PlatformConfig,
    cat: &haven_platform::Catalogue,
    registry: &str,
    vendor_dir: Option<&std::path::Path>,
) -> Result<(), String> {
    use haven_vendor::mirror;
    let registry = mirror::registry(registry).map_err(|e| e.to_string())?;
    let vendored = match vendor_dir {
        None => None,
        Some(dir) => {
            let file = dir.join(haven_vendor::output::METADATA_FILE);
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| {
                format!(
                    "--vendor-dir: {name}: {e} (run `haven plus vendor -o {}` first)",
                    dir.display()
                )
            })?;
            let images = mirror::images_by_component(&name, &text).map_err(|e| e.to_string())?;
            let mut out = std::collections::BTreeMap::new();
            for (component, images) in images {
                let values_file = dir.join(&component).join("values.yaml");
                let registry_values = std::fs::read(&values_file)
                    .ok()
                    .and_then(|b| {
                        haven_vendor::chart::parse_yaml(&values_file.display().to_string(), &b).ok()
                    })
                    .map(|v| mirror::registry_values(&v))
                    .unwrap_or_default();
                out.insert(
                    component,
                    mirror::VendoredImages {
                        images,
                        registry_values,
                    },
                );
            }
            Some(out)
        }
    };
    let resolved = resolve(cat, config);
    mirror::apply(rendered, &resolved, &registry, vendored.as_ref()).map_err(|e| e.to_string())
}
