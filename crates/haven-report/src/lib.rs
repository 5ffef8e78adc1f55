//! Renders the result of `haven app check` for people and for CI systems.
//!
//! Every renderer is a pure function of a [`Report`]: no clock, no file system, no environment.
//! The same report always renders to the same bytes, so outputs can be diffed and cached.
//!
//! | format | for | renderer |
//! | --- | --- | --- |
//! | `text` | a terminal | [`render_text`] |
//! | `json` | scripts; schema `haven.app-check/v1`, see `docs/report-schema/` | [`render_json`] |
//! | `sarif` | code scanning (GitHub, GitLab, IDEs): SARIF 2.1.0 | [`render_sarif`] |
//! | `junit` | test report widgets of CI systems: JUnit XML | [`render_junit`] |
//! | `gitlab` | GitLab Code Quality widget | [`render_gitlab`] |
//! | `html` | people who do not read JSON: one self-contained page, English or Dutch | [`html::render_app_html`] |

use std::fmt;
use std::str::FromStr;

use haven_model::{Finding, InputError, RuleInfo, Severity};

pub mod cluster_check;
mod gitlab;
pub mod html;
mod json;
mod junit;
mod pretty;
mod sarif;
mod text;
mod util;

pub use gitlab::render_gitlab;
pub use json::{
    JSON_SCHEMA_VERSION, JsonError, JsonFinding, JsonLocation, JsonObject, JsonReport, JsonRule,
    JsonSeverityCounts, JsonSummary, JsonTool, JsonWaiver, JsonWaiverSource, SchemaVersion,
    json_report, json_schema, render_json,
};
pub use junit::render_junit;
pub use sarif::{INFORMATION_URI, SARIF_SCHEMA_URI, render_sarif, sarif_log};
pub use text::{TextOptions, render_text};

/// Name of the tool as it appears in every machine-readable format.
pub const TOOL_NAME: &str = "haven";

/// Everything one `haven app check` run found, ready to be rendered.
#[derive(Debug, Clone)]
pub struct Report {
    /// Version of haven that produced the report, e.g. `0.1.0`.
    pub tool_version: String,
    /// Findings, in the order they are to be shown (the caller sorts them).
    pub findings: Vec<Finding>,
    /// Documents or files that could not be read; any of them fails the run.
    pub errors: Vec<InputError>,
    /// Metadata of every rule that ran.
    pub rules: Vec<RuleInfo>,
    /// Unwaived findings with a severity at or above this block.
    pub fail_on: Severity,
    /// Which Pod Security profile and version ran, e.g. `restricted:v1.37`.
    pub pss: String,
    /// How many Kubernetes objects were checked.
    pub objects: usize,
    /// How many of those objects carry a pod template (workloads).
    pub workloads: usize,
    /// How many files (or streams) were read.
    pub files: usize,
}

impl Report {
    /// Findings that make the run fail: unwaived, and at or above [`Report::fail_on`].
    pub fn blocking(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.blocks(self.fail_on))
            .count()
    }

    /// Findings accepted by a waiver.
    pub fn waived(&self) -> usize {
        self.findings.iter().filter(|f| f.waived.is_some()).count()
    }

    /// Findings accepted by a waiver of everything (`all: true`): every format flags them.
    pub fn waived_by_all(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.waived.as_ref().is_some_and(|w| w.all))
            .count()
    }

    /// The verdict: no blocking finding and no input error.
    pub fn passed(&self) -> bool {
        self.errors.is_empty() && self.blocking() == 0
    }

    /// How many findings (waived or not) have exactly this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The metadata of a rule, by id, when that rule is among [`Report::rules`].
    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// An output format of `haven app check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Human-readable text, grouped by resource.
    #[default]
    Text,
    /// The versioned JSON document `haven.app-check/v1`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// One self-contained HTML page (see [`html`]).
    Html,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 6] = [
        Self::Text,
        Self::Json,
        Self::Sarif,
        Self::Junit,
        Self::Gitlab,
        Self::Html,
    ];

    /// The lower-case name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::Gitlab => "gitlab",
            Self::Html => "html",
        }
    }

    /// One line on what the format is for (for `--help` and shell completion).
    pub fn description(self) -> &'static str {
        match self {
            Self::Text => "human-readable, grouped by resource",
            Self::Json => "JSON document, schema haven.app-check/v1",
            Self::Sarif => "SARIF 2.1.0 for code scanning",
            Self::Junit => "JUnit XML for CI test reports",
            Self::Gitlab => "GitLab Code Quality JSON",
            Self::Html => "one self-contained HTML page for people",
        }
    }

    /// The usual file name extension of a file holding this format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Json | Self::Gitlab => "json",
            Self::Sarif => "sarif",
            Self::Junit => "xml",
            Self::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown format `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// Renders `report` in `format`. `text` only matters for [`Format::Text`]; [`Format::Html`] is
/// rendered in English without a date ([`html::render_app_html`] takes the language and date).
///
/// Every output ends with a newline.
pub fn render(report: &Report, format: Format, text: &TextOptions) -> String {
    match format {
        Format::Text => render_text(report, text),
        Format::Json => render_json(report),
        Format::Sarif => render_sarif(report),
        Format::Junit => render_junit(report),
        Format::Gitlab => render_gitlab(report),
        Format::Html => html::render_app_html(report, &html::HtmlOptions::default()),
    }
}

/// Like [`render`], written into `out`. JSON is serialised straight into `out` (through a
/// buffer), so that a report of a large corpus never exists twice in memory.
pub fn write(
    report: &Report,
    format: Format,
    text: &TextOptions,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write_json(report, out),
        _ => out.write_all(render(report, format, text).as_bytes()),
    }
}
