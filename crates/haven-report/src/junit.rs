//! JUnit XML, for the test report views of CI systems (GitLab, Jenkins, Azure DevOps, ...).
//!
//! Layout (valid against the Jenkins/Surefire `junit-10.xsd`):
//!
//! - `<testsuites name="haven app check">` with the totals `tests`, `failures`, `errors`.
//! - When there are input errors, first a `<testsuite name="input errors">` with one testcase per
//!   error, each holding an `<error type="{kind}">`.
//! - Then one `<testsuite>` per resource (an object in a file), in the order the findings come,
//!   named like the text report's heading, `file:line: Kind/name (namespace)` (line of the YAML
//!   document), with `file` set and the object's identity in `<properties>`.
//!   It holds one `<testcase>` per finding, `classname` = the resource, `name` = `rule at path`:
//!   - a blocking finding has a `<failure type="{severity}" message="{message}">`;
//!   - a waived finding has a `<skipped message="waived: {reason}">`;
//!   - any other finding passes, its details in `<system-out>`.
//! - The report does not list the objects without findings, so clean resources get no testcase.
//!   When there is neither a finding nor an input error, a single passing testcase
//!   (`haven app check` / `no findings`) stands for the run, so that CI does not report
//!   "no tests".
//!
//! Each `<testsuite>` carries `tests`, `failures`, `errors` and `skipped` counts of its own
//! testcases. Text is escaped by the XML writer; characters XML 1.0 cannot carry (most C0
//! controls) are replaced by a visible `\u{..}` escape.

use std::collections::HashMap;
use std::fmt::Write as _;

use haven_model::{Finding, InputError, ObjectRef};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use crate::Report;
use crate::util::{best_line, write_xml_text_element, xml_start};

enum Outcome {
    Pass,
    Failure { kind: String, message: String },
    Error { kind: String, message: String },
    Skipped { message: String },
}

struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
    /// Details: the body of `<failure>`/`<error>`, or `<system-out>` otherwise.
    details: String,
}

struct Suite {
    name: String,
    file: Option<String>,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| pred(&c.outcome)).count()
    }
    fn failures(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failure { .. }))
    }
    fn errors(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Error { .. }))
    }
    fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }
}

fn error_case(e: &InputError) -> Case {
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let place = if e.line > 0 {
        format!("{}:{}", e.file, e.line)
    } else {
        e.file.clone()
    };
    let mut details = format!("{place}: {}", e.message);
    if let Some(field) = &e.field {
        let _ = write!(details, " (field {field})");
    }
    let _ = write!(details, "\nkind: {kind}");
    Case {
        classname: "input".to_owned(),
        name: place,
        outcome: Outcome::Error {
            kind,
            message: e.message.clone(),
        },
        details,
    }
}

fn finding_case(report: &Report, f: &Finding) -> Case {
    let mut d = format!("{} {}: {}\n", f.severity, f.rule, f.message);
    let _ = writeln!(d, "object: {} {}", f.object.api_version, f.object);
    let loc = &f.location;
    let line = best_line(f);
    let column = if loc.line > 0 { loc.column } else { 0 };
    match (line, column) {
        (0, _) => {
            let _ = writeln!(d, "location: {}", loc.file);
        }
        (line, 0) => {
            let _ = writeln!(d, "location: {}:{line}", loc.file);
        }
        (line, column) => {
            let _ = writeln!(d, "location: {}:{line}:{column}", loc.file);
        }
    }
    if !f.path.is_empty() {
        let _ = writeln!(d, "field: {}", f.path);
    }
    if let Some(c) = &f.container {
        let _ = writeln!(d, "container: {c}");
    }
    if let Some(rule) = report.rule(f.rule) {
        if !rule.fix.is_empty() {
            let _ = writeln!(d, "fix: {}", rule.fix);
        }
        if !rule.help_uri.is_empty() {
            let _ = writeln!(d, "see: {}", rule.help_uri);
        }
    }
    let outcome = if let Some(w) = &f.waived {
        let mut message = if w.all {
            format!("waived by {}: {}", crate::util::ALL_WAIVER, w.reason)
        } else {
            format!("waived: {}", w.reason)
        };
        if let Some(until) = &w.expires {
            let _ = write!(message, " (until {until})");
        }
        let _ = writeln!(d, "{message}");
        Outcome::Skipped { message }
    } else if f.blocks(report.fail_on) {
        Outcome::Failure {
            kind: f.severity.as_str().to_owned(),
            message: f.message.clone(),
        }
    } else {
        Outcome::Pass
    };
    let name = if f.path.is_empty() {
        f.rule.to_owned()
    } else {
        format!("{} at {}", f.rule, f.path)
    };
    Case {
        classname: f.object.to_string(),
        name,
        outcome,
        details: d.trim_end().to_owned(),
    }
}

fn suites(report: &Report) -> Vec<Suite> {
    let mut suites = Vec::new();
    if !report.errors.is_empty() {
        suites.push(Suite {
            name: "input errors".to_owned(),
            file: None,
            properties: Vec::new(),
            cases: report.errors.iter().map(error_case).collect(),
        });
    }
    let mut index: HashMap<(&str, u32, &ObjectRef), usize> = HashMap::new();
    for f in &report.findings {
        let key = (&*f.location.file, f.location.document_line, &*f.object);
        let i = *index.entry(key).or_insert_with(|| {
            let o = &f.object;
            let mut properties = vec![
                ("apiVersion", o.api_version.clone()),
                ("kind", o.kind.clone()),
            ];
            if let Some(ns) = &o.namespace {
                properties.push(("namespace", ns.clone()));
            }
            properties.push(("name", o.name.clone()));
            if f.location.document_line > 0 {
                properties.push(("documentLine", f.location.document_line.to_string()));
            }
            let line = f.location.document_line;
            let name = if line > 0 {
                format!("{}:{line}: {o}", f.location.file)
            } else {
                format!("{}: {o}", f.location.file)
            };
            suites.push(Suite {
                name,
                file: Some(f.location.file.to_string()),
                properties,
                cases: Vec::new(),
            });
            suites.len() - 1
        });
        suites[i].cases.push(finding_case(report, f));
    }
    if suites.is_empty() {
        suites.push(Suite {
            name: "haven app check".to_owned(),
            file: None,
            properties: Vec::new(),
            cases: vec![Case {
                classname: "haven app check".to_owned(),
                name: "no findings".to_owned(),
                outcome: Outcome::Pass,
                details: format!(
                    "{}; Pod Security {}",
                    crate::text::summary_line(report),
                    report.pss
                ),
            }],
        });
    }
    suites
}

fn write_xml(report: &Report) -> std::io::Result<Vec<u8>> {
    let suites = suites(report);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;

    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let errors: usize = suites.iter().map(Suite::errors).sum();
    w.write_event(Event::Start(xml_start(
        "testsuites",
        &[
            ("name", "haven app check".to_owned()),
            ("tests", tests.to_string()),
            ("failures", failures.to_string()),
            ("errors", errors.to_string()),
        ],
    )))?;

    for suite in &suites {
        let mut attrs = vec![
            ("name", suite.name.clone()),
            ("tests", suite.cases.len().to_string()),
            ("failures", suite.failures().to_string()),
            ("errors", suite.errors().to_string()),
            ("skipped", suite.skipped().to_string()),
        ];
        if let Some(file) = &suite.file {
            attrs.push(("file", file.clone()));
        }
        w.write_event(Event::Start(xml_start("testsuite", &attrs)))?;
        if !suite.properties.is_empty() {
            w.write_event(Event::Start(BytesStart::new("properties")))?;
            for (k, v) in &suite.properties {
                w.write_event(Event::Empty(xml_start(
                    "property",
                    &[("name", (*k).to_owned()), ("value", v.clone())],
                )))?;
            }
            w.write_event(Event::End(BytesEnd::new("properties")))?;
        }
        for case in &suite.cases {
            let attrs = [
                ("name", case.name.clone()),
                ("classname", case.classname.clone()),
            ];
            w.write_event(Event::Start(xml_start("testcase", &attrs)))?;
            match &case.outcome {
                Outcome::Pass => write_xml_text_element(&mut w, "system-out", &[], &case.details)?,
                Outcome::Failure { kind, message } => write_xml_text_element(
                    &mut w,
                    "failure",
                    &[("type", kind.clone()), ("message", message.clone())],
                    &case.details,
                )?,
                Outcome::Error { kind, message } => write_xml_text_element(
                    &mut w,
                    "error",
                    &[("type", kind.clone()), ("message", message.clone())],
                    &case.details,
                )?,
                Outcome::Skipped { message } => {
                    write_xml_text_element(&mut w, "skipped", &[("message", message.clone())], "")?;
                    write_xml_text_element(&mut w, "system-out", &[], &case.details)?;
                }
            }
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// Renders the report as JUnit XML (UTF-8, ending with a newline).
pub fn render_junit(report: &Report) -> String {
    // Writing into a Vec cannot fail, and everything written is UTF-8.
    let bytes =
        write_xml(report).unwrap_or_else(|e| panic!("writing JUnit XML into memory failed: {e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
