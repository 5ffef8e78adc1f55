//! Upgrades an installed platform must take in steps.
//!
//! Some upstream releases cannot be reached in one jump from an older install: Mimir 3.2 (chart
//! mimir-distributed 6.2.0) needs every querier on Mimir 3.1 (chart 6.1.0) first. The catalogue
//! names such versions (`upgradeStops`); before a render lands over an existing tree, each
//! HelmRelease of the tree is compared with the version the render pins, and a jump past a stop
//! is reported with the step that avoids it: pin the stop in `haven-plus.yaml`
//! (`components.<name>.version`), render, let Flux reconcile, then drop the pin.
//!
//! A version the config pins itself is the operator's choice: reported (as a warning by the
//! CLI), never refused, so the stop can be skipped deliberately. Pure: the CLI reads the tree.

use semver::Version;

use crate::catalogue::{self, Catalogue};
use crate::config::PlatformConfig;
use crate::migration::ClusterObjects;

/// One jump past an upgrade stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedStop {
    /// The catalogue component (`mimir`), which is also the `components:` key.
    pub component: String,
    pub chart: String,
    /// The HelmRelease of the existing tree, `namespace/name`, and the file it is in.
    pub release: String,
    pub file: String,
    /// The chart version the existing tree installs.
    pub installed: String,
    /// The version the render pins.
    pub target: String,
    /// The version to upgrade to first, and why.
    pub stop: String,
    pub reason: String,
    /// The config pins `target` itself (`components.<name>.version`): a deliberate choice.
    pub pinned: bool,
}

impl SkippedStop {
    /// The step that avoids the jump, as the operator runs it.
    pub fn step(&self) -> String {
        format!(
            "set `components: {{{c}: {{version: {s}}}}}` in haven-plus.yaml, render, commit and \
             wait until `haven plus status` shows {c} Ready (`flux get helmrelease {c} -n \
             flux-system` names the chart version {s}); then remove the pin and render again (docs/plus.md, \"Upgrading haven itself\")",
            c = self.component,
            s = self.stop,
        )
    }
}

impl std::fmt::Display for SkippedStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the tree installs {} {} (HelmRelease {}); {} {} would skip {}, which must run \
             first: {}",
            self.component,
            self.chart,
            self.installed,
            self.release,
            if self.pinned {
                "the pinned"
            } else {
                "this render's"
            },
            self.target,
            self.stop,
            self.reason
        )
    }
}

/// Every upgrade stop that landing a render of `config` over `existing` would jump past: a
/// HelmRelease of the tree, named as the component and installing its chart, whose version
/// is below a stop that is below the version the render pins. Versions that are not SemVer
/// (a range, a tag) are not judged.
pub fn skipped_stops(
    existing: &ClusterObjects,
    config: &PlatformConfig,
    catalogue: &Catalogue,
) -> Vec<SkippedStop> {
    let mut out = Vec::new();
    for resolved in catalogue::resolve(catalogue, config) {
        let c = resolved.component;
        if c.upgrade_stops.is_empty() {
            continue;
        }
        let Ok(target) = Version::parse(&resolved.version) else {
            continue;
        };
        let pinned = config
            .components
            .get(&c.name)
            .is_some_and(|o| o.version.is_some());
        for object in &existing.objects {
            let v = &object.value;
            let chart = &v["spec"]["chart"]["spec"];
            if object.id.group != "helm.toolkit.fluxcd.io"
                || object.id.kind != "HelmRelease"
                || object.id.name != c.name
                || chart["chart"].as_str() != Some(c.chart.as_str())
            {
                continue;
            }
            let Some(installed) = chart["version"].as_str() else {
                continue;
            };
            let Ok(from) = Version::parse(installed.trim_start_matches('v')) else {
                continue;
            };
            for stop in &c.upgrade_stops {
                let Ok(at) = Version::parse(&stop.version) else {
                    continue;
                };
                if from < at && at < target {
                    out.push(SkippedStop {
                        component: c.name.clone(),
                        chart: c.chart.clone(),
                        release: format!(
                            "{}/{}",
                            object.id.namespace.as_deref().unwrap_or("default"),
                            object.id.name
                        ),
                        file: object.file.clone(),
                        installed: installed.to_owned(),
                        target: resolved.version.clone(),
                        stop: stop.version.clone(),
                        reason: stop.reason.clone(),
                        pinned,
                    });
                }
            }
        }
    }
    out
}
