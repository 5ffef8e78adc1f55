//! SARIF 2.1.0 (OASIS), for code scanning services and IDEs.
//!
//! One run. `tool.driver.rules` holds every rule that ran, in the report's order, and each
//! result points at its rule by `ruleId` and `ruleIndex`. Waived findings stay in the log with a
//! `suppressions` entry (`external` for a waiver file, `inSource` for an annotation in the
//! manifest), so that viewers show them as suppressed. Input errors become
//! `invocations[0].toolExecutionNotifications`, and make `executionSuccessful` false.
//!
//! File names are given as relative URI references when they are relative, and as `file://`
//! URIs when absolute. Standard input has no URI: it is `run.artifacts[0]` (role
//! `standardStream`), referred to by index.

use std::collections::BTreeMap;

use haven_model::{Finding, InputError, RuleGroup, RuleInfo, Severity, WaiverSource};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    Artifact, ArtifactLocation, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};

use crate::util::{ALL_WAIVER, file_uri, finding_identity, is_stdin, object_qualified_name};
use crate::{Report, TOOL_NAME};

/// `$schema` of the log: the OASIS SARIF 2.1.0 schema (errata 01).
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `tool.driver.informationUri`: where Haven is described.
pub const INFORMATION_URI: &str = "https://haven.commonground.nl";

/// Key of the finding identity in `partialFingerprints` (hex SHA-256 of rule, object kind,
/// namespace, name and field path; the same as the JSON report's `fingerprint`).
const FINGERPRINT_KEY: &str = "havenFinding/v1";

/// The SARIF result level of a severity.
fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium | Severity::Low => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn level_str(severity: Severity) -> &'static str {
    match level(severity) {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score as a string), for the Pod
/// Security and Dutch-law (transport security) rules only: the others are about operability.
fn security_severity(rule: &RuleInfo) -> Option<&'static str> {
    if !matches!(
        rule.level,
        RuleGroup::PssBaseline | RuleGroup::PssRestricted | RuleGroup::NlLaw
    ) {
        return None;
    }
    match rule.severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// `pss-baseline-privileged` -> `PssBaselinePrivileged`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn text(s: &str) -> Message {
    let mut m = Message::builder().build();
    m.text = Some(s.to_owned());
    m
}

fn bag(
    entries: impl IntoIterator<Item = (&'static str, Value)>,
    tags: Option<Vec<String>>,
) -> PropertyBag {
    PropertyBag {
        tags,
        additional_properties: entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    }
}

fn descriptor(rule: &RuleInfo) -> ReportingDescriptor {
    let mut d = ReportingDescriptor::builder().id(rule.id).build();
    d.name = Some(pascal_case(rule.id));
    d.short_description = Some(MultiformatMessageString::builder().text(rule.title).build());
    if !rule.rationale.is_empty() {
        d.full_description = Some(
            MultiformatMessageString::builder()
                .text(rule.rationale)
                .build(),
        );
    }
    let mut help_text = rule.fix.to_owned();
    let mut help_md = String::new();
    if !rule.rationale.is_empty() {
        help_md.push_str(rule.rationale);
        help_md.push_str("\n\n");
    }
    if !rule.fix.is_empty() {
        help_md.push_str("**Fix:** ");
        help_md.push_str(rule.fix);
    }
    if !rule.help_uri.is_empty() {
        if !help_text.is_empty() {
            help_text.push_str("\n\n");
            help_md.push_str("\n\n");
        }
        help_text.push_str("See ");
        help_text.push_str(rule.help_uri);
        help_md.push_str(&format!("[Documentation]({})", rule.help_uri));
        d.help_uri = Some(rule.help_uri.to_owned());
    }
    if !help_text.is_empty() {
        let mut help = MultiformatMessageString::builder().text(help_text).build();
        help.markdown = Some(help_md.trim().to_owned());
        d.help = Some(help);
    }
    let mut config = ReportingConfiguration::builder().build();
    config.level = Some(json!(level_str(rule.severity)));
    d.default_configuration = Some(config);

    let mut props = vec![
        ("level", json!(rule.level.as_str())),
        ("severity", json!(rule.severity.as_str())),
        (
            "scope",
            serde_json::to_value(rule.scope).unwrap_or(Value::Null),
        ),
    ];
    let mut tags = vec![rule.level.as_str().to_owned()];
    if let Some(score) = security_severity(rule) {
        props.push(("security-severity", json!(score)));
        tags.insert(0, "security".to_owned());
    }
    d.properties = Some(bag(props, Some(tags)));
    d
}

/// Where a file is, as a SARIF artifact location; standard input refers to `run.artifacts`.
fn artifact_location(file: &str, stdin_index: Option<i64>) -> ArtifactLocation {
    let mut a = ArtifactLocation::builder().build();
    if is_stdin(file) {
        a.index = stdin_index;
    } else {
        a.uri = Some(file_uri(file));
    }
    a
}

fn region(line: u32, column: u32) -> Option<Region> {
    if line == 0 {
        return None;
    }
    let mut r = Region::builder().build();
    r.start_line = Some(i64::from(line));
    if column > 0 {
        r.start_column = Some(i64::from(column));
    }
    Some(r)
}

fn physical(file: &str, line: u32, column: u32, stdin_index: Option<i64>) -> PhysicalLocation {
    let mut p = PhysicalLocation::builder().build();
    p.artifact_location = Some(artifact_location(file, stdin_index));
    p.region = region(line, column);
    p
}

fn result(report: &Report, f: &Finding, stdin_index: Option<i64>) -> SarifResult {
    let mut r = SarifResult::builder().message(text(&f.message)).build();
    r.rule_id = Some(f.rule.to_owned());
    r.rule_index = report
        .rules
        .iter()
        .position(|rule| rule.id == f.rule)
        .map(|i| i as i64);
    r.level = Some(level(f.severity));

    let fqn = object_qualified_name(&f.object);
    let mut object = LogicalLocation::builder().build();
    object.name = Some(f.object.name.clone());
    object.fully_qualified_name = Some(fqn.clone());
    object.kind = Some("resource".to_owned());
    object.decorated_name = Some(f.object.to_string());
    let mut logical = vec![object];
    if !f.path.is_empty() {
        let mut field = LogicalLocation::builder().build();
        field.name = Some(f.path.clone());
        field.fully_qualified_name = Some(format!("{fqn}:{}", f.path));
        field.kind = Some("property".to_owned());
        logical.push(field);
    }
    let line = if f.location.line > 0 {
        f.location.line
    } else {
        f.location.document_line
    };
    let column = if f.location.line > 0 {
        f.location.column
    } else {
        0
    };
    let mut location = Location::builder().build();
    location.physical_location = Some(physical(&f.location.file, line, column, stdin_index));
    location.logical_locations = Some(logical);
    r.locations = Some(vec![location]);

    r.partial_fingerprints = Some(BTreeMap::from([(
        FINGERPRINT_KEY.to_owned(),
        finding_identity(f),
    )]));

    if let Some(w) = &f.waived {
        let (kind, source) = match &w.source {
            WaiverSource::File { file, line } => (
                "external",
                json!({"type": "file", "file": file, "line": line}),
            ),
            WaiverSource::Annotation { key } => {
                ("inSource", json!({"type": "annotation", "key": key}))
            }
        };
        let mut s = Suppression::builder().kind(json!(kind)).build();
        s.justification = Some(if w.all {
            format!("waived by {ALL_WAIVER}: {}", w.reason)
        } else {
            w.reason.clone()
        });
        s.status = Some(json!("accepted"));
        let mut props = vec![("source", source)];
        if let Some(expires) = &w.expires {
            props.push(("expires", json!(expires)));
        }
        if w.all {
            props.push(("all", json!(true)));
        }
        s.properties = Some(bag(props, None));
        r.suppressions = Some(vec![s]);
    }

    let mut props = vec![
        ("severity", json!(f.severity.as_str())),
        ("blocking", json!(f.blocks(report.fail_on))),
        ("apiVersion", json!(f.object.api_version)),
        ("kind", json!(f.object.kind)),
        ("name", json!(f.object.name)),
    ];
    if let Some(ns) = &f.object.namespace {
        props.push(("namespace", json!(ns)));
    }
    if let Some(c) = &f.container {
        props.push(("container", json!(c)));
    }
    if !f.path.is_empty() {
        props.push(("path", json!(f.path)));
    }
    r.properties = Some(bag(props, None));
    r
}

fn notification(e: &InputError, stdin_index: Option<i64>) -> Notification {
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut message = e.message.clone();
    if let Some(field) = &e.field {
        message.push_str(&format!(" (field {field})"));
    }
    let mut n = Notification::builder().message(text(&message)).build();
    n.level = Some(json!("error"));
    let mut d = ReportingDescriptorReference::builder().build();
    d.id = Some(format!("input/{kind}"));
    n.descriptor = Some(d);
    let mut location = Location::builder().build();
    location.physical_location = Some(physical(&e.file, e.line, 0, stdin_index));
    n.locations = Some(vec![location]);
    let mut props = vec![("kind", json!(kind))];
    if let Some(field) = &e.field {
        props.push(("field", json!(field)));
    }
    n.properties = Some(bag(props, None));
    n
}

/// The SARIF log for a report, as serde-sarif structures.
pub fn sarif_log(report: &Report) -> Sarif {
    let mut driver = ToolComponent::builder().name(TOOL_NAME).build();
    driver.version = Some(report.tool_version.clone());
    if is_semver(&report.tool_version) {
        driver.semantic_version = Some(report.tool_version.clone());
    }
    driver.information_uri = Some(INFORMATION_URI.to_owned());
    driver.rules = Some(report.rules.iter().map(descriptor).collect());

    let uses_stdin = report.findings.iter().any(|f| is_stdin(&f.location.file))
        || report.errors.iter().any(|e| is_stdin(&e.file));
    let stdin_index = uses_stdin.then_some(0);

    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    if uses_stdin {
        let mut stdin = Artifact::builder().build();
        stdin.description = Some(text("standard input"));
        stdin.roles = Some(vec![json!("standardStream"), json!("analysisTarget")]);
        run.artifacts = Some(vec![stdin]);
    }
    run.results = Some(
        report
            .findings
            .iter()
            .map(|f| result(report, f, stdin_index))
            .collect(),
    );

    let mut invocation = Invocation::builder()
        .execution_successful(report.errors.is_empty())
        .build();
    if !report.errors.is_empty() {
        invocation.tool_execution_notifications = Some(
            report
                .errors
                .iter()
                .map(|e| notification(e, stdin_index))
                .collect(),
        );
    }
    run.invocations = Some(vec![invocation]);
    run.column_kind = Some(json!("unicodeCodePoints"));
    run.properties = Some(bag(
        [
            ("pss", json!(report.pss)),
            ("failOn", json!(report.fail_on.as_str())),
            ("passed", json!(report.passed())),
            ("blocking", json!(report.blocking())),
            ("waived", json!(report.waived())),
            ("waivedByAll", json!(report.waived_by_all())),
            ("objects", json!(report.objects)),
            ("workloads", json!(report.workloads)),
            ("files", json!(report.files)),
        ],
        None,
    ));

    let mut log = Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(SARIF_SCHEMA_URI.to_owned());
    log
}

/// `MAJOR.MINOR.PATCH` with an optional `-pre` / `+build` suffix.
fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Renders the report as a pretty-printed SARIF 2.1.0 log, ending with a newline.
pub fn render_sarif(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&sarif_log(report))
        .unwrap_or_else(|e| panic!("serialising the SARIF log failed: {e}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            pascal_case("pss-baseline-privileged"),
            "PssBaselinePrivileged"
        );
        assert_eq!(pascal_case("haven.no_latest"), "HavenNoLatest");
        assert!(is_semver("0.1.0"));
        assert!(is_semver("1.2.3-rc.1+g1234"));
        assert!(!is_semver("0.1"));
        assert!(!is_semver("dev"));
    }
}
