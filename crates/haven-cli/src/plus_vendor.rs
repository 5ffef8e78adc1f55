//! `haven plus vendor`: the charts of the configured platform fetched (or read from a local
//! mirror), verified against the catalogue's digests, and written as one directory. The work is
//! `haven_vendor`'s; this module reads the config, prints and picks the exit code.

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
        crate::plus_cmd::out(&text)?;
        return Ok(EXIT_OK);
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
    let verified = report
        .charts
        .iter()
        .filter(|c| c.verified != Verification::Unverified)
        .count();
    eprintln!(
        "vendored {} charts into {} ({verified} verified), {} images in {}, SBOM in {}",
        report.charts.len(),
        a.output.display(),
        report.images().len(),
        haven_vendor::output::IMAGES_FILE,
        haven_vendor::output::SBOM_FILE,
    );
    Ok(EXIT_OK)
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
