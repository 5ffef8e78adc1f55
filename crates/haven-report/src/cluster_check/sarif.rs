//! SARIF 2.1.0: one rule per check (`tool.driver.rules`), one result per check with SARIF's
//! `kind`: `pass` (YES), `fail` (NO, level `error`), `review` (UNKNOWN, level `warning`: a person
//! must look), `notApplicable` (SKIPPED). A waiver becomes an `external` suppression, so viewers
//! show the result as accepted without hiding it. The cluster is the logical location.

use haven_checks::{CheckResult, Outcome};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    Location, LogicalLocation, Message, MultiformatMessageString, PropertyBag, ReportingDescriptor,
    Result as SarifResult, ResultKind, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};

use super::ClusterReport;
use crate::{INFORMATION_URI, SARIF_SCHEMA_URI, TOOL_NAME};

fn text(s: &str) -> Message {
    let mut m = Message::builder().build();
    m.text = Some(s.to_owned());
    m
}

fn bag(entries: Vec<(&str, Value)>) -> PropertyBag {
    PropertyBag {
        tags: None,
        additional_properties: entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    }
}

fn rule_id(r: &CheckResult) -> String {
    format!("haven-check/{}", r.name)
}

fn descriptor(r: &CheckResult) -> ReportingDescriptor {
    let mut d = ReportingDescriptor::builder().id(rule_id(r)).build();
    d.name = Some(r.name.clone());
    d.short_description = Some(
        MultiformatMessageString::builder()
            .text(r.label.clone())
            .build(),
    );
    d.full_description = Some(
        MultiformatMessageString::builder()
            .text(r.rationale.clone())
            .build(),
    );
    d.properties = Some(bag(vec![
        ("category", json!(r.category.as_str())),
        ("suggested", json!(r.suggested)),
    ]));
    d
}

fn result(index: usize, r: &CheckResult, target: &str) -> SarifResult {
    let mut out = SarifResult::builder()
        .message(text(&format!("{}: {}", r.result.as_str(), r.reason)))
        .build();
    out.rule_id = Some(rule_id(r));
    out.rule_index = Some(index as i64);
    let (kind, level) = match r.result {
        Outcome::Yes => (ResultKind::Pass, ResultLevel::None),
        Outcome::No => (ResultKind::Fail, ResultLevel::Error),
        Outcome::Unknown => (ResultKind::Review, ResultLevel::Warning),
        Outcome::Skipped => (ResultKind::NotApplicable, ResultLevel::None),
    };
    out.kind = Some(kind);
    out.level = Some(level);
    let mut cluster = LogicalLocation::builder().build();
    cluster.name = Some(target.to_owned());
    cluster.kind = Some("resource".to_owned());
    let mut location = Location::builder().build();
    location.logical_locations = Some(vec![cluster]);
    out.locations = Some(vec![location]);
    out.properties = Some(bag(vec![
        ("result", json!(r.result.as_str())),
        ("method", json!(r.method)),
        ("evidence", json!(r.evidence)),
    ]));
    if let Some(w) = r
        .waiver
        .as_ref()
        .filter(|w| !w.expired && r.result != Outcome::Yes)
    {
        let mut s = Suppression::builder().kind(json!("external")).build();
        s.justification = Some(if w.all {
            format!(
                "waived by {}: {} (expires {})",
                crate::util::ALL_WAIVER,
                w.reason,
                w.expires
            )
        } else {
            format!("{} (expires {})", w.reason, w.expires)
        });
        s.status = Some(json!("accepted"));
        if w.all {
            s.properties = Some(bag(vec![("all", json!(true))]));
        }
        out.suppressions = Some(vec![s]);
    }
    out
}

pub fn sarif_log(report: &ClusterReport) -> Sarif {
    let checks: Vec<&CheckResult> = report
        .run
        .results
        .iter()
        .chain(&report.run.suggested)
        .collect();
    let mut driver = ToolComponent::builder().name(TOOL_NAME).build();
    driver.version = Some(report.tool_version.clone());
    driver.information_uri = Some(INFORMATION_URI.to_owned());
    driver.rules = Some(checks.iter().map(|r| descriptor(r)).collect());
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.results = Some(
        checks
            .iter()
            .enumerate()
            .map(|(i, r)| result(i, r, &report.target))
            .collect(),
    );
    run.properties = Some(bag(vec![
        ("verdict", json!(report.run.verdict.describe())),
        ("releaseData", json!(report.run.release_data)),
    ]));
    let mut log = Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(SARIF_SCHEMA_URI.to_owned());
    log
}

pub fn render_sarif(report: &ClusterReport) -> String {
    let mut s = serde_json::to_string_pretty(&sarif_log(report))
        .unwrap_or_else(|e| panic!("serialising the SARIF log failed: {e}"));
    s.push('\n');
    s
}
