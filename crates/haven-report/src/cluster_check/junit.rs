//! JUnit XML: `<testsuites name="haven check">` with a suite for the mandatory checks and one for
//! the suggested checks; one `<testcase>` per check (`classname` = category).
//! NO → `<failure>`; UNKNOWN → `<error>` (the check could not run); SKIPPED → `<skipped>`;
//! a waived NO/UNKNOWN → `<skipped message="waived (result NO): reason">`, its real result kept in
//! the message and in `<system-out>`. Method, reason and evidence go to `<system-out>`.

use haven_checks::{CheckResult, Outcome};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::ClusterReport;
use crate::util::{write_xml_text_element, xml_start};

enum Kind {
    Pass,
    Failure,
    Error,
    Skipped(String),
}

fn kind(r: &CheckResult) -> Kind {
    if let Some(w) = r
        .waiver
        .as_ref()
        .filter(|w| !w.expired && r.result != Outcome::Yes)
    {
        return Kind::Skipped(format!(
            "waived{} (result {}): {}",
            if w.all {
                format!(" by {}", crate::util::ALL_WAIVER)
            } else {
                String::new()
            },
            r.result.as_str(),
            w.reason
        ));
    }
    match r.result {
        Outcome::Yes => Kind::Pass,
        Outcome::No => Kind::Failure,
        Outcome::Unknown => Kind::Error,
        Outcome::Skipped => Kind::Skipped(r.reason.clone()),
    }
}

fn details(r: &CheckResult) -> String {
    let mut s = format!(
        "result: {}\nreason: {}\nmethod: {}\n",
        r.result.as_str(),
        r.reason,
        r.method
    );
    for (k, v) in &r.evidence {
        s.push_str(&format!(
            "{k}: {}\n",
            serde_json::to_string(v).unwrap_or_default()
        ));
    }
    s
}

fn write(report: &ClusterReport) -> std::io::Result<Vec<u8>> {
    let suites = [
        ("haven check: mandatory", &report.run.results),
        ("haven check: suggested", &report.run.suggested),
    ];
    let all: Vec<Kind> = suites
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(kind))
        .collect();
    let count = |f: fn(&Kind) -> bool, ks: &[Kind]| ks.iter().filter(|k| f(k)).count();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(xml_start(
        "testsuites",
        &[
            ("name", "haven check".to_owned()),
            ("tests", all.len().to_string()),
            (
                "failures",
                count(|k| matches!(k, Kind::Failure), &all).to_string(),
            ),
            (
                "errors",
                count(|k| matches!(k, Kind::Error), &all).to_string(),
            ),
        ],
    )))?;
    for (name, results) in suites {
        let kinds: Vec<Kind> = results.iter().map(kind).collect();
        w.write_event(Event::Start(xml_start(
            "testsuite",
            &[
                ("name", name.to_owned()),
                ("tests", kinds.len().to_string()),
                (
                    "failures",
                    count(|k| matches!(k, Kind::Failure), &kinds).to_string(),
                ),
                (
                    "errors",
                    count(|k| matches!(k, Kind::Error), &kinds).to_string(),
                ),
                (
                    "skipped",
                    count(|k| matches!(k, Kind::Skipped(_)), &kinds).to_string(),
                ),
                (
                    "timestamp",
                    report
                        .started
                        .trim_end_matches('Z')
                        .chars()
                        .take(19)
                        .collect(),
                ),
            ],
        )))?;
        w.write_event(Event::Start(BytesStart::new("properties")))?;
        for (k, v) in [
            ("target", report.target.clone()),
            (
                "releaseData",
                format!(
                    "{} ({})",
                    report.run.release_data.origin, report.run.release_data.date
                ),
            ),
            ("verdict", report.run.verdict.describe().to_owned()),
        ] {
            w.write_event(Event::Empty(xml_start(
                "property",
                &[("name", k.to_owned()), ("value", v)],
            )))?;
        }
        w.write_event(Event::End(BytesEnd::new("properties")))?;
        for (r, k) in results.iter().zip(&kinds) {
            w.write_event(Event::Start(xml_start(
                "testcase",
                &[
                    ("name", r.name.clone()),
                    ("classname", r.category.as_str().to_owned()),
                ],
            )))?;
            let d = details(r);
            match k {
                Kind::Pass => write_xml_text_element(&mut w, "system-out", &[], &d)?,
                Kind::Failure => write_xml_text_element(
                    &mut w,
                    "failure",
                    &[("type", "NO".into()), ("message", r.reason.clone())],
                    &d,
                )?,
                Kind::Error => write_xml_text_element(
                    &mut w,
                    "error",
                    &[("type", "UNKNOWN".into()), ("message", r.reason.clone())],
                    &d,
                )?,
                Kind::Skipped(m) => {
                    write_xml_text_element(&mut w, "skipped", &[("message", m.clone())], "")?;
                    write_xml_text_element(&mut w, "system-out", &[], &d)?;
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

pub fn render_junit(report: &ClusterReport) -> String {
    let bytes =
        write(report).unwrap_or_else(|e| panic!("writing JUnit XML into memory failed: {e}"));
    String::from_utf8_lossy(&bytes).into_owned()
}
