//! The JSON report, schema `haven.app-check/v1`.
//!
//! These types are the contract: their JSON Schema is generated from them (see [`json_schema`])
//! and committed at `docs/report-schema/app-check-v1.json`; a test fails when the two differ.
//! Within `v1`, fields are only ever added (optional or with a default meaning); removing or
//! renaming a field, or changing its type or meaning, needs `v2`.

use haven_model::{
    Finding, InputError, InputErrorKind, RuleGroup, RuleInfo, RuleScope, Severity, WaiverMark,
    WaiverSource,
};
use std::io::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use crate::util::finding_identity;
use crate::{Report, TOOL_NAME};

/// The value of `schemaVersion` in every report of this version of the schema.
pub const JSON_SCHEMA_VERSION: &str = "haven.app-check/v1";

/// Which schema a report follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum SchemaVersion {
    /// `haven.app-check/v1`.
    #[serde(rename = "haven.app-check/v1")]
    V1,
}

// Schema only: the report serialises `haven_model::Severity` and `RuleScope`; these copies keep
// the committed schema independent of those types' documentation.

/// How bad a finding is, from least to most: `info`, `low`, `medium`, `high`, `critical`.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Severity")]
#[allow(dead_code)]
enum SeverityName {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// What a rule looks at: `object` (one object alone; can also run at admission) or
/// `application` (needs the other objects of the application).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "RuleScope")]
#[allow(dead_code)]
enum ScopeName {
    Object,
    Application,
}

/// The result of one `haven app check` run: can this application land on a Haven (or Haven+)
/// cluster?
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "haven app check report (haven.app-check/v1)")]
pub struct JsonReport<'a> {
    /// Always `haven.app-check/v1` for this schema. Consumers should check it.
    pub schema_version: SchemaVersion,
    /// The tool that wrote the report.
    pub tool: JsonTool<'a>,
    /// The Pod Security Standards profile and version that was checked, e.g. `restricted:v1.37`.
    pub pss: &'a str,
    /// The threshold: unwaived findings of this severity or higher block.
    #[schemars(with = "SeverityName")]
    pub fail_on: Severity,
    /// The verdict: no blocking finding and no input error. The exit status of `haven app check`
    /// follows it.
    pub passed: bool,
    /// Counts.
    pub summary: JsonSummary,
    /// Every finding, waived ones included, in the order the tool reports them (by file, then
    /// position in the file).
    #[schemars(with = "Vec<JsonFinding<'static>>")]
    pub findings: JsonFindings<'a>,
    /// Files or documents that could not be read. Any input error fails the run.
    pub errors: Vec<JsonError<'a>>,
    /// Every rule that ran, whether it found something or not.
    pub rules: Vec<JsonRule<'a>>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonTool<'a> {
    /// Always `haven`.
    pub name: &'a str,
    /// The tool's version, e.g. `0.1.0`.
    pub version: &'a str,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonSummary {
    /// Number of findings, waived ones included.
    pub findings: usize,
    /// Number of findings (waived ones included) of each severity.
    pub by_severity: JsonSeverityCounts,
    /// Findings that fail the run: not waived, and severity at or above `failOn`.
    pub blocking: usize,
    /// Findings accepted by a waiver.
    pub waived: usize,
    /// Number of input errors (length of `errors`).
    pub errors: usize,
    /// Kubernetes objects checked.
    pub objects: usize,
    /// Objects among them that carry a pod template (Deployments, StatefulSets, Jobs, Pods, ...).
    pub workloads: usize,
    /// Files (or streams) read.
    pub files: usize,
}

/// A count per severity.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonSeverityCounts {
    pub info: usize,
    pub low: usize,
    pub medium: usize,
    pub high: usize,
    pub critical: usize,
}

/// One violated expectation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonFinding<'a> {
    /// Id of the rule (see `rules`).
    pub rule: &'a str,
    /// How bad it is.
    #[schemars(with = "SeverityName")]
    pub severity: Severity,
    /// Whether this finding fails the run (not waived, severity at or above `failOn`).
    pub blocking: bool,
    /// What is wrong, in one sentence.
    pub message: &'a str,
    /// The Kubernetes object the finding is about.
    pub object: JsonObject<'a>,
    /// The container the finding is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<&'a str>,
    /// Path of the field inside the object, e.g. `spec.template.spec.containers[0].image`.
    /// Empty when the finding is about the object as a whole.
    pub path: &'a str,
    /// Where in the input.
    pub location: JsonLocation<'a>,
    /// Present when a waiver accepts this finding. Waived findings never block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<JsonWaiver<'a>>,
    /// Hex SHA-256 of rule, object kind, namespace, name and field path: stable across runs,
    /// and across moving the object to another file or line. Use it to match findings between
    /// runs.
    pub fingerprint: String,
}

/// Identifies a Kubernetes object.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonObject<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// Absent for cluster-scoped objects and for objects that do not set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// A place in the input.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonLocation<'a> {
    /// The file as given to the tool (relative paths stay relative); `<stdin>` for standard
    /// input. For Helm charts, the template file the object was rendered from when known.
    pub file: &'a str,
    /// 1-based line of the field (or of the document when the field is absent); 0 when unknown.
    pub line: u32,
    /// 1-based column of the field; 0 when unknown.
    pub column: u32,
    /// 1-based line where the YAML document holding the object starts; 0 when unknown.
    pub document_line: u32,
}

/// A waiver that accepts a finding.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonWaiver<'a> {
    /// Why the finding is accepted.
    pub reason: &'a str,
    /// The date (`YYYY-MM-DD`) after which the waiver no longer applies, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<&'a str>,
    /// Where the waiver was written.
    pub source: JsonWaiverSource<'a>,
    /// Present (and `true`) when the waiver matches every finding of every object (`all: true`
    /// in its file): the finding was in effect not checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// Where a waiver was written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum JsonWaiverSource<'a> {
    /// An entry of a waiver file.
    File {
        /// The waiver file.
        file: &'a str,
        /// 1-based line of the entry.
        line: u32,
    },
    /// An annotation `waive.haven.commonground.nl/<rule>` on the object or its pod template.
    Annotation {
        /// The annotation key.
        key: &'a str,
    },
}

/// A file or document that could not be read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonError<'a> {
    /// What went wrong: `io` (cannot be read), `syntax` (not valid YAML or JSON),
    /// `not-an-object` (not a Kubernetes object), `field-type` (a field of a type Kubernetes
    /// rejects), `limit` (too large or too deep), `render` (a Helm chart did not render), ...
    /// More kinds may be added within v1.
    #[schemars(with = "String")]
    pub kind: InputErrorKind,
    /// The file as given to the tool.
    pub file: &'a str,
    /// 1-based line; 0 when the error is about the file as a whole.
    pub line: u32,
    /// Path of the field the error is about, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    /// What is wrong.
    pub message: &'a str,
}

/// Static description of a rule.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonRule<'a> {
    /// The rule id, as used in `findings[].rule` and in waivers.
    pub id: &'a str,
    /// The family of requirements the rule belongs to: `pss-baseline`, `pss-restricted`
    /// (Pod Security Standards), `haven` (Haven landing requirements), `haven-plus` (what a
    /// Haven+ platform expects), `nl-law` (Dutch law: HTTPS, HSTS, the NCSC TLS guidelines),
    /// `input` (how the input was read). More may be added within v1.
    #[schemars(with = "String")]
    pub level: RuleGroup,
    /// The severity of the rule's findings.
    #[schemars(with = "SeverityName")]
    pub severity: Severity,
    /// Whether the rule looks at one object alone or at the whole application.
    #[schemars(with = "ScopeName")]
    pub scope: RuleScope,
    /// One line.
    pub title: &'a str,
    /// Why the requirement exists.
    pub rationale: &'a str,
    /// How to fix a finding.
    pub fix: &'a str,
    /// Where the requirement is documented upstream.
    pub help_uri: &'a str,
}

/// Builds the JSON document for a report.
pub fn json_report(report: &Report) -> JsonReport<'_> {
    JsonReport {
        schema_version: SchemaVersion::V1,
        tool: JsonTool {
            name: TOOL_NAME,
            version: &report.tool_version,
        },
        pss: &report.pss,
        fail_on: report.fail_on,
        passed: report.passed(),
        summary: JsonSummary {
            findings: report.findings.len(),
            by_severity: JsonSeverityCounts {
                info: report.count(Severity::Info),
                low: report.count(Severity::Low),
                medium: report.count(Severity::Medium),
                high: report.count(Severity::High),
                critical: report.count(Severity::Critical),
            },
            blocking: report.blocking(),
            waived: report.waived(),
            errors: report.errors.len(),
            objects: report.objects,
            workloads: report.workloads,
            files: report.files,
        },
        findings: JsonFindings {
            findings: &report.findings,
            fail_on: report.fail_on,
        },
        errors: report.errors.iter().map(error).collect(),
        rules: report.rules.iter().map(rule).collect(),
    }
}

/// The findings of a report, serialised as an array of [`JsonFinding`] one at a time as they
/// are written: a report with hundreds of thousands of findings then needs no second copy of
/// them in memory.
#[derive(Debug, Clone, Copy)]
pub struct JsonFindings<'a> {
    pub findings: &'a [Finding],
    pub fail_on: Severity,
}

impl JsonFindings<'_> {
    /// Each finding as it appears in the report.
    pub fn iter(&self) -> impl Iterator<Item = JsonFinding<'_>> {
        self.findings.iter().map(|f| finding(f, self.fail_on))
    }
}

impl Serialize for JsonFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

fn finding(f: &Finding, fail_on: Severity) -> JsonFinding<'_> {
    JsonFinding {
        rule: f.rule,
        severity: f.severity,
        blocking: f.blocks(fail_on),
        message: &f.message,
        object: JsonObject {
            api_version: &f.object.api_version,
            kind: &f.object.kind,
            namespace: f.object.namespace.as_deref(),
            name: &f.object.name,
        },
        container: f.container.as_deref(),
        path: &f.path,
        location: JsonLocation {
            file: &f.location.file,
            line: f.location.line,
            column: f.location.column,
            document_line: f.location.document_line,
        },
        waived: f.waived.as_deref().map(waiver),
        fingerprint: finding_identity(f),
    }
}

fn waiver(w: &WaiverMark) -> JsonWaiver<'_> {
    JsonWaiver {
        reason: &w.reason,
        expires: w.expires.as_deref(),
        source: match &w.source {
            WaiverSource::File { file, line } => JsonWaiverSource::File { file, line: *line },
            WaiverSource::Annotation { key } => JsonWaiverSource::Annotation { key },
        },
        all: w.all,
    }
}

fn error(e: &InputError) -> JsonError<'_> {
    JsonError {
        kind: e.kind,
        file: &e.file,
        line: e.line,
        field: e.field.as_deref(),
        message: &e.message,
    }
}

fn rule(r: &RuleInfo) -> JsonRule<'_> {
    JsonRule {
        id: r.id,
        level: r.level,
        severity: r.severity,
        scope: r.scope,
        title: r.title,
        rationale: r.rationale,
        fix: r.fix,
        help_uri: r.help_uri,
    }
}

/// Renders the report as pretty-printed JSON (schema `haven.app-check/v1`), ending with a
/// newline.
pub fn render_json(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing into memory fails only where serialising does (see `unreachable_json`).
    write_json(report, &mut out)
        .unwrap_or_else(|e| panic!("serialising the report to JSON failed: {e}"));
    // serde_json writes only UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render_json`] into `out`, through a buffer.
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    crate::pretty::to_writer_pretty(&mut buffered, &json_report(report))?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// The JSON Schema (draft 2020-12) of [`JsonReport`], pretty-printed with a trailing newline:
/// the content of `docs/report-schema/app-check-v1.json`.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(JsonReport<'_>);
    schema.insert(
        "description".to_owned(),
        serde_json::Value::String(
            "The JSON report of `haven app check --format json`. Versioned by `schemaVersion`: within \
             haven.app-check/v1 fields are only added, never removed, renamed or changed in meaning."
                .to_owned(),
        ),
    );
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_else(unreachable_json);
    s.push('\n');
    s
}

/// Serialising these plain structs (string keys, no maps with non-string keys, no floats)
/// cannot fail.
fn unreachable_json(e: serde_json::Error) -> String {
    panic!("serialising the report to JSON failed: {e}")
}
