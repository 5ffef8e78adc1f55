//! Outputs of `haven check` (the cluster compliancy check).
//!
//! | format | for | renderer |
//! | --- | --- | --- |
//! | `text` | people: upstream's tables and summary line, then haven's verdict, waivers, evidence (`-v`) | [`render_text`] |
//! | `json` | existing consumers of upstream's `--output=json`: the exact PascalCase shape | [`render_upstream_json`] |
//! | `haven-json` | scripts: everything, with evidence; schema `haven.cluster-check/v1` in `docs/report-schema/` | [`render_haven_json`] |
//! | `junit` | CI test views: one testcase per check | [`render_junit`] |
//! | `sarif` | code scanning: one rule per check, one result per check | [`render_sarif`] |
//! | `html` | people: one self-contained page, English or Dutch | [`crate::html::render_cluster_html`] |
//!
//! Plus [`compliancy_resource`] and [`compliancy_crd`]: upstream's `Compliancy` custom resource
//! for `--write-crd`. Renderers are pure: the clock and the cluster are read by the caller.

mod crd;
mod junit;
mod sarif;
mod text;

use haven_checks::{CheckResult, CheckRun, Verdict};
use serde::Serialize;
use serde_json::{Value, json};

pub use crd::{COMPLIANCY_GROUP, compliancy_crd, compliancy_resource};
pub use junit::render_junit;
pub use sarif::render_sarif;
pub use text::render_text;

/// Schema id of the native JSON.
pub const CLUSTER_JSON_SCHEMA_VERSION: &str = "haven.cluster-check/v1";

/// One `haven check` run, ready to be rendered.
#[derive(Debug, Clone)]
pub struct ClusterReport {
    pub tool_version: String,
    pub run: CheckRun,
    /// RFC 3339.
    pub started: String,
    pub stopped: String,
    /// API server URL, or `snapshot FILE`.
    pub target: String,
    pub context: Option<String>,
    /// The command line, for the `Compliancy` resource's `spec.input.commandline`.
    pub command_line: String,
    /// Where the data came from: `live` or `snapshot:<file>`.
    pub source: String,
    pub allow_writes: bool,
}

impl ClusterReport {
    /// Upstream's `Version` field: names this program and the upstream version it follows.
    pub fn upstream_version(&self) -> String {
        format!(
            "haven v{} (Haven Compliancy Checker v12.8 compatible)",
            self.tool_version
        )
    }

    /// The mandatory checks passed (raw results, no waivers): upstream's `HavenCompliant`. A
    /// self-built binary's skipped shavalidation does not count against it (see
    /// `CheckResult::passing`).
    pub fn upstream_compliant(&self) -> bool {
        self.run
            .results
            .iter()
            .all(haven_checks::CheckResult::passing)
    }

    /// Exit code: 0 compliant (with or without waivers), 1 not compliant.
    pub fn exit_code(&self) -> u8 {
        match self.run.verdict {
            Verdict::Compliant | Verdict::CompliantWithWaivers => 0,
            Verdict::NotCompliant => 1,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpCheck<'a> {
    name: &'a str,
    label: &'a str,
    category: &'a str,
    rationale: &'a str,
    result: &'a str,
}

fn up_check(r: &CheckResult) -> UpCheck<'_> {
    UpCheck {
        name: &r.name,
        label: &r.label,
        category: r.category.as_str(),
        rationale: &r.upstream_rationale,
        result: r.result.as_str(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpSummary {
    total: usize,
    unknown: usize,
    skipped: usize,
    failed: usize,
    passed: usize,
}

#[derive(Serialize)]
struct UpConfig {
    #[serde(rename = "CNCF")]
    cncf: bool,
    #[serde(rename = "CIS")]
    cis: bool,
    #[serde(rename = "KESC")]
    kesc: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpCompliancy<'a> {
    results: Vec<UpCheck<'a>>,
    summary: UpSummary,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpSuggested<'a> {
    results: Vec<UpCheck<'a>>,
}

/// Upstream's output in upstream's field order (Go's encoding/json writes struct fields in
/// declaration order), so that even a textual diff against upstream's output lines up.
#[derive(Serialize)]
struct UpReport<'a> {
    #[serde(rename = "Version")]
    version: String,
    #[serde(rename = "HavenCompliant")]
    haven_compliant: bool,
    #[serde(rename = "StartTS")]
    start_ts: &'a str,
    #[serde(rename = "StopTS")]
    stop_ts: &'a str,
    #[serde(rename = "Config")]
    config: UpConfig,
    #[serde(rename = "CompliancyChecks")]
    compliancy_checks: UpCompliancy<'a>,
    #[serde(rename = "SuggestedChecks")]
    suggested_checks: UpSuggested<'a>,
}

fn up_report(report: &ClusterReport) -> UpReport<'_> {
    let run = &report.run;
    UpReport {
        version: report.upstream_version(),
        haven_compliant: report.upstream_compliant(),
        start_ts: &report.started,
        stop_ts: &report.stopped,
        config: UpConfig {
            cncf: run.config_cncf,
            cis: run.config_cis,
            kesc: run.config_kubescape,
        },
        compliancy_checks: UpCompliancy {
            results: run.results.iter().map(up_check).collect(),
            summary: UpSummary {
                total: run.summary.total,
                unknown: run.summary.unknown,
                skipped: run.summary.skipped,
                failed: run.summary.failed,
                passed: run.summary.passed,
            },
        },
        suggested_checks: UpSuggested {
            results: run.suggested.iter().map(up_check).collect(),
        },
    }
}

/// Upstream's JSON (`--output json`): `Version`, `HavenCompliant`, `StartTS`, `StopTS`,
/// `Config{CNCF,CIS,KESC}`, `CompliancyChecks{Results,Summary}`, `SuggestedChecks{Results}`.
/// `HavenCompliant` is upstream's verdict: waivers do not change it (see the native JSON's
/// `verdict` for that).
pub fn upstream_json(report: &ClusterReport) -> Value {
    serde_json::to_value(up_report(report))
        .unwrap_or_else(|e| panic!("serialising JSON failed: {e}"))
}

fn pretty(v: &impl Serialize) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| panic!("serialising JSON failed: {e}"));
    s.push('\n');
    s
}

pub fn render_upstream_json(report: &ClusterReport) -> String {
    pretty(&up_report(report))
}

/// The native JSON: the whole run with evidence.
pub fn haven_json(report: &ClusterReport) -> Value {
    json!({
        "schemaVersion": CLUSTER_JSON_SCHEMA_VERSION,
        "tool": {"name": crate::TOOL_NAME, "version": report.tool_version},
        "target": {"server": report.target, "context": report.context, "source": report.source},
        "startedAt": report.started,
        "stoppedAt": report.stopped,
        "allowWrites": report.allow_writes,
        "verdict": report.run.verdict,
        "verdictLine": report.run.verdict_line(),
        "upstreamCompliant": report.upstream_compliant(),
        "summary": report.run.summary,
        "platform": report.run.platform,
        "releaseData": report.run.release_data,
        "checks": report.run.results,
        "suggestedChecks": report.run.suggested,
        "waiverNotes": report.run.waiver_notes,
        "readProblems": report.run.read_problems,
        "plus": report.run.plus,
    })
}

pub fn render_haven_json(report: &ClusterReport) -> String {
    pretty(&haven_json(report))
}

/// The summary line exactly as upstream prints it.
pub fn upstream_summary_line(report: &ClusterReport) -> String {
    let s = &report.run.summary;
    format!(
        "Results: {} out of {} checks passed, {} checks skipped, {} checks unknown. This is {} Haven Compliant cluster.",
        s.passed,
        s.total,
        s.skipped,
        s.unknown,
        if report.upstream_compliant() {
            "a"
        } else {
            "NOT a"
        }
    )
}
