//! The Haven compliancy checks as pure functions over a cluster snapshot.
//!
//! [`run_checks`] takes a [`ClusterSnapshot`](haven_snapshot::ClusterSnapshot), the rule inputs
//! ([`CheckConfig`]), the dated [`ReleaseData`], the time and the facts about this run
//! ([`RunInputs`]), and returns a [`CheckRun`]: for each of upstream's 15 mandatory and 2
//! suggested checks (same names and categories as the Haven Compliancy Checker v12.8) a result,
//! the method used and the evidence; the verdict with waivers applied; and, with `--plus`, the
//! Haven+ capability report. No I/O happens here: the CLI reads files and the cluster, this crate
//! decides.

pub mod catalogue;
mod checks;
pub mod config;
pub mod plus;
pub mod release;
mod transport;
pub mod upstream;
pub mod waivers;

use std::collections::BTreeMap;

use haven_snapshot::ClusterSnapshot;
use serde::{Deserialize, Serialize};

pub use catalogue::{CHECKS, Category, CheckInfo, check_info};
pub use checks::detect_platform;
pub use config::{CheckConfig, ConfigError};
pub use plus::{CapabilityReport, CapabilityStatus, ComponentReport};
pub use release::{CncfAnswer, ReleaseData, ReleaseDataError, TrustedKey};
pub use waivers::{Waiver, WaiverList, parse_waivers};

/// Result of one check, in upstream's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    Yes,
    No,
    Skipped,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Yes => "YES",
            Outcome::No => "NO",
            Outcome::Skipped => "SKIPPED",
            Outcome::Unknown => "UNKNOWN",
        }
    }
}

/// A waiver that applies to a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedWaiver {
    pub reason: String,
    pub expires: String,
    /// Expired waivers are shown but waive nothing.
    pub expired: bool,
    /// The waiver matches every check (`all: true` in its file): reports flag it, since such a
    /// run has in effect not been checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// Why a check was SKIPPED, for the verdict: only a self-built binary's shavalidation is a skip
/// that does not count against compliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// shavalidation of a binary that is no published release: nothing to compare with.
    SelfBuilt,
    /// A suggested check that was not asked for.
    NotRequested,
    /// Switched off on the command line (`--no-cncf`).
    Disabled,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub name: String,
    pub category: Category,
    /// Upstream's label, verbatim.
    pub label: String,
    /// haven's wording of the question.
    pub description: String,
    /// haven's rationale.
    pub rationale: String,
    /// Upstream's rationale, verbatim.
    pub upstream_rationale: String,
    pub suggested: bool,
    pub result: Outcome,
    /// How the result was decided, e.g. `read-only: ...` or `write probe: ...`.
    pub method: String,
    /// One line: why this result.
    pub reason: String,
    /// Structured evidence (zones seen, nodes with ExternalIP, agent found and where, ...).
    pub evidence: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// Set when the result is SKIPPED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
}

impl CheckResult {
    /// Passed, or skipped for a reason that does not count against compliance (a self-built
    /// binary's shavalidation).
    pub fn passing(&self) -> bool {
        self.result == Outcome::Yes
            || (self.result == Outcome::Skipped && self.skipped == Some(SkipReason::SelfBuilt))
    }

    /// Passing, or accepted by a waiver that has not expired.
    pub fn accepted(&self) -> bool {
        self.passing() || self.waiver.as_ref().is_some_and(|w| !w.expired)
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Compliant,
    CompliantWithWaivers,
    NotCompliant,
}

impl CheckRun {
    /// The verdict with what qualifies it: `compliant; shavalidation skipped: self-built binary`.
    pub fn verdict_line(&self) -> String {
        let mut line = self.verdict.describe().to_owned();
        for n in &self.verdict_notes {
            line.push_str("; ");
            line.push_str(n);
        }
        line
    }
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::CompliantWithWaivers => "compliant with waivers",
            Verdict::NotCompliant => "NOT compliant",
        }
    }
}

/// Upstream's summary counts over the mandatory checks (raw results, waivers not applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total: usize,
    pub unknown: usize,
    pub skipped: usize,
    pub failed: usize,
    pub passed: usize,
}

/// The platform detected from node labels or the server version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub name: String,
    pub cncf_name: String,
    pub managed: bool,
    /// What identified it, e.g. `node label eks.amazonaws.com/nodegroup`.
    pub determined_by: String,
}

/// Which release data was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseDataInfo {
    pub origin: String,
    pub date: String,
    pub source: String,
    /// The key whose signature verified; none for the built-in copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// Age in days on the day of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<i32>,
    /// Set when the data is too old to decide the version checks (they are UNKNOWN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_old: Option<String>,
}

/// `--online`: what the live `cncf/k8s-conformance` repository said (looked up by the CLI before
/// the checks run, through [`upstream::cncf_online`], so that they stay pure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CncfOnline {
    /// Where it looked, e.g. `https://api.github.com/repos/cncf/k8s-conformance/contents/v1.37/rke2?ref=master`.
    pub source: String,
    /// `1.37`
    pub minor: String,
    /// The product directory found for the platform, if any.
    pub found: Option<String>,
    /// The directories asked for.
    pub asked: Vec<String>,
    /// The found submission's `e2e.log` summary, as upstream reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e: Option<E2eSummary>,
    /// Why the `e2e.log` could not be read (the directory still counts, as in the offline list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set when the lookup failed (network, timeout, HTTP error): the offline list decides.
    pub error: Option<String>,
}

/// The summary line of a conformance run's `e2e.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct E2eSummary {
    pub passed: u64,
    pub failed: u64,
}

/// State of an external tool for a suggested check.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum ExternalTool {
    /// Not asked for: the check is SKIPPED.
    #[default]
    NotRequested,
    /// Asked for, but the program is not on PATH.
    Missing { program: String },
    /// Ran: `passed` from its exit status, `detail` a short summary of its output.
    Ran {
        program: String,
        passed: bool,
        detail: String,
    },
    /// Asked for and found, but it could not be run or read.
    Failed { program: String, message: String },
    /// Asked for, but not run: `reason` says what it needs (`--cis` without `--allow-writes`).
    NotRun { reason: String },
    /// Ran on the cluster as a write probe; its record (check `cis`) is in the snapshot's probes.
    Probed,
}

/// Facts about this run that are not in the cluster.
#[derive(Debug, Clone, Default)]
pub struct RunInputs {
    /// This program's version (`CARGO_PKG_VERSION` of the CLI).
    pub tool_version: String,
    /// SHA-256 (hex) of the running binary; `None` when it could not be read.
    pub binary_sha256: Option<String>,
    /// Built by the release pipeline (`HAVEN_RELEASE_BUILD` set at compile time). A binary built
    /// otherwise is self-built: it has no published hash, so shavalidation is SKIPPED for it.
    pub release_build: bool,
    /// `--online`: the live CNCF lookup.
    pub cncf_online: Option<CncfOnline>,
    pub cis: ExternalTool,
    pub kubescape: ExternalTool,
    pub cncf: bool,
    pub plus: bool,
    pub waivers: Vec<Waiver>,
    /// Recorded in the output: whether write probes were allowed.
    pub allow_writes: bool,
}

/// Everything one run decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckRun {
    pub results: Vec<CheckResult>,
    pub suggested: Vec<CheckResult>,
    pub summary: Summary,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    pub release_data: ReleaseDataInfo,
    /// Waivers that named a check which passed anyway, or that expired.
    pub waiver_notes: Vec<String>,
    /// What qualifies the verdict, e.g. `shavalidation skipped: self-built binary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdict_notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus: Option<Vec<CapabilityReport>>,
    /// Reads that failed, for the report's footer (`list nodes (core)`: forbidden ...).
    pub read_problems: Vec<String>,
    pub config_cncf: bool,
    pub config_cis: bool,
    pub config_kubescape: bool,
}

/// Run every check on a snapshot. Pure: same inputs, same output.
pub fn run_checks(
    snapshot: &ClusterSnapshot,
    config: &CheckConfig,
    release: &ReleaseData,
    now: jiff::Timestamp,
    inputs: &RunInputs,
) -> CheckRun {
    let ctx = checks::Ctx::new(snapshot, config, release, now, inputs);
    let mut results: Vec<CheckResult> = CHECKS
        .iter()
        .filter(|c| !c.suggested)
        .map(|c| checks::run(c, &ctx))
        .collect();
    let mut suggested: Vec<CheckResult> = CHECKS
        .iter()
        .filter(|c| c.suggested)
        .map(|c| checks::run(c, &ctx))
        .collect();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut notes = Vec::new();
    // A waiver may name several checks (a pattern); the first waiver of a check decides.
    for r in results.iter_mut().chain(suggested.iter_mut()) {
        let Some(w) = inputs
            .waivers
            .iter()
            .find(|w| haven_model::waiver::glob(&w.rule, &r.name))
        else {
            continue;
        };
        let expires = w.expires_text().unwrap_or_default();
        let expired = w.expired(today);
        if expired {
            notes.push(format!(
                "waiver for {} expired on {expires}: it waives nothing",
                r.name
            ));
        } else if r.result == Outcome::Yes && !w.all {
            notes.push(format!(
                "waiver for {} is not needed: the check passed",
                r.name
            ));
        }
        r.waiver = Some(AppliedWaiver {
            reason: w.reason.clone(),
            expires,
            expired,
            all: w.all,
        });
    }
    if let Some(w) = inputs.waivers.iter().find(|w| w.all && !w.expired(today)) {
        notes.push(format!(
            "a waiver of every check (`all: true`, line {}) is in force: \"{}\"; this run \
             waives whatever fails",
            w.line, w.reason
        ));
    }
    let summary = summarise(&results);
    let mut verdict_notes: Vec<String> = results
        .iter()
        .filter(|r| r.result == Outcome::Skipped && r.skipped == Some(SkipReason::SelfBuilt))
        .map(|r| format!("{} skipped: self-built binary", r.name))
        .collect();
    if let Some(why) = release.too_old(today) {
        verdict_notes.push(why);
    } else if let Some(why) = release.checker_too_old(today) {
        verdict_notes.push(why);
    }
    let verdict = if results.iter().all(CheckResult::passing) {
        Verdict::Compliant
    } else if results.iter().all(CheckResult::accepted) {
        Verdict::CompliantWithWaivers
    } else {
        Verdict::NotCompliant
    };
    let plus = inputs.plus.then(|| plus::report(snapshot, config));
    CheckRun {
        results,
        suggested,
        summary,
        verdict,
        platform: ctx.platform.clone(),
        release_data: ReleaseDataInfo {
            origin: release.origin.clone(),
            date: release.date.clone(),
            source: release.source.clone(),
            signed_by: release.signed_by.clone(),
            age_days: release.age_days(today),
            too_old: release.too_old(today),
        },
        waiver_notes: notes,
        verdict_notes,
        plus,
        read_problems: read_problems(snapshot),
        config_cncf: inputs.cncf,
        config_cis: inputs.cis != ExternalTool::NotRequested,
        config_kubescape: inputs.kubescape != ExternalTool::NotRequested,
    }
}

fn summarise(results: &[CheckResult]) -> Summary {
    let count = |o: Outcome| results.iter().filter(|r| r.result == o).count();
    Summary {
        total: results.len(),
        unknown: count(Outcome::Unknown),
        skipped: count(Outcome::Skipped),
        failed: count(Outcome::No),
        passed: count(Outcome::Yes),
    }
}

fn read_problems(s: &ClusterSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |what: &str, p: Option<String>| {
        if let Some(p) = p {
            out.push(format!("{what}: {p}"));
        }
    };
    add("server version", s.server_version.problem());
    add("discovery", s.api_groups.problem());
    add("nodes", s.nodes.problem());
    add("namespaces", s.namespaces.problem());
    add("storage classes", s.storage_classes.problem());
    add(
        "persistent volume claims",
        s.persistent_volume_claims.problem(),
    );
    add("deployments", s.deployments.problem());
    add("daemon sets", s.daemon_sets.problem());
    add("stateful sets", s.stateful_sets.problem());
    add("API services", s.api_services.problem());
    add("custom resource definitions", s.crds.problem());
    add("access reviews", s.access.problem());
    for (k, r) in &s.custom_resources {
        add(k, r.problem());
    }
    out
}
