//! Every format rendered from one representative report: several files, blocking, waived and
//! non-blocking findings, input errors, an object without namespace, standard input, and text
//! that needs escaping (`<&">`, unicode, control characters).
//!
//! Validation: JSON against the committed schema, SARIF against the OASIS SARIF 2.1.0 schema,
//! JUnit against the Jenkins junit-10.xsd (with Python's `xmlschema`), GitLab against a schema
//! written from GitLab's documentation.

use std::path::{Path, PathBuf};
use std::process::Command;

use haven_model::{
    Finding, InputError, InputErrorKind, Location, ObjectRef, RuleGroup, RuleInfo, RuleScope,
    Severity, WaiverMark, WaiverSource,
};
use haven_report::{Format, Report, TextOptions, render};
use serde_json::Value;

mod common;
use common::{require_sarif_schema, require_xmlschema, validate, workspace_root};

const TRICKY: &str = "container \"app\" runs <privileged> & as root — ünïcödé ✓";
const CONTROL: &str = "image tag \u{1b}[31mlatest\u{1b}[0m is mutable\u{0}";

fn rule(id: &'static str, level: RuleGroup, severity: Severity, title: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        level,
        severity,
        scope: RuleScope::Object,
        title,
        rationale: "Because <reasons> & \"quotes\".",
        fix: "Set the field to a safe value.",
        help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    }
}

fn object(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: if kind == "ClusterRole" {
            "rbac.authorization.k8s.io/v1".into()
        } else {
            "apps/v1".into()
        },
        kind: kind.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &'static str,
    severity: Severity,
    message: &str,
    object: ObjectRef,
    container: Option<&str>,
    path: &str,
    file: &str,
    (line, column, document_line): (u32, u32, u32),
    waived: Option<WaiverMark>,
) -> Finding {
    Finding {
        rule,
        severity,
        message: message.into(),
        object: object.into(),
        container: container.map(Into::into),
        path: path.into(),
        location: Location {
            file: file.into(),
            line,
            column,
            document_line,
        },
        waived: waived.map(Box::new),
    }
}

fn sample() -> Report {
    let web = object("Deployment", Some("shop"), "web");
    let db = object("StatefulSet", Some("data"), "db");
    let findings = vec![
        finding(
            "pss-baseline-privileged",
            Severity::Critical,
            TRICKY,
            web.clone(),
            Some("app"),
            "spec.template.spec.containers[0].securityContext.privileged",
            "deploy/web.yaml",
            (21, 11, 1),
            None,
        ),
        finding(
            "pss-restricted-run-as-non-root",
            Severity::High,
            "runAsNonRoot is not set",
            web.clone(),
            Some("app"),
            "spec.template.spec.securityContext.runAsNonRoot",
            "deploy/web.yaml",
            (15, 7, 1),
            Some(WaiverMark {
                reason: "upstream image needs root <for now> & \"soon\" fixed".into(),
                expires: Some("2027-01-31".into()),
                source: WaiverSource::File {
                    file: ".haven-waivers.yaml".into(),
                    line: 4,
                },
                all: false,
            }),
        ),
        finding(
            "haven-resource-limits",
            Severity::Medium,
            "no memory limit",
            web,
            Some("app"),
            "spec.template.spec.containers[0].resources.limits.memory",
            "deploy/web.yaml",
            (0, 0, 1),
            None,
        ),
        finding(
            "haven-plus-no-wildcard-rbac",
            Severity::Low,
            "ClusterRole grants verbs [\"*\"]",
            object("ClusterRole", None, "reader"),
            None,
            "rules[0].verbs",
            "deploy/web.yaml",
            (52, 5, 40),
            Some(WaiverMark {
                reason: "read-only aggregate".into(),
                expires: None,
                source: WaiverSource::Annotation {
                    key: "waive.haven.commonground.nl/haven-plus-no-wildcard-rbac".into(),
                },
                all: false,
            }),
        ),
        finding(
            "pss-restricted-run-as-non-root",
            Severity::High,
            CONTROL,
            db.clone(),
            Some("postgres"),
            "spec.template.spec.containers[0].image",
            "./charts/api/templates/statefulset.yaml",
            (30, 18, 3),
            None,
        ),
        // The same finding once more (a duplicated document): fingerprints must still be unique
        // where a format needs that.
        finding(
            "pss-restricted-run-as-non-root",
            Severity::High,
            CONTROL,
            db,
            Some("postgres"),
            "spec.template.spec.containers[0].image",
            "./charts/api/templates/statefulset.yaml",
            (90, 18, 63),
            None,
        ),
        finding(
            "haven-info-annotations",
            Severity::Info,
            "no app.kubernetes.io/name label",
            object("Pod", Some("default"), "debug"),
            None,
            "",
            "<stdin>",
            (2, 1, 1),
            None,
        ),
    ];
    Report {
        tool_version: "0.1.0".into(),
        findings,
        errors: vec![
            InputError::new(
                InputErrorKind::Syntax,
                "deploy/broken.yaml",
                7,
                "did not find expected key <&>",
            )
            .with_field("metadata.labels"),
            InputError::new(
                InputErrorKind::Io,
                "missing.yaml",
                0,
                "No such file or directory (os error 2)",
            ),
        ],
        rules: vec![
            rule(
                "pss-baseline-privileged",
                RuleGroup::PssBaseline,
                Severity::Critical,
                "Privileged containers",
            ),
            rule(
                "pss-restricted-run-as-non-root",
                RuleGroup::PssRestricted,
                Severity::High,
                "Run as non-root",
            ),
            rule(
                "haven-resource-limits",
                RuleGroup::Haven,
                Severity::Medium,
                "Memory limits",
            ),
            rule(
                "haven-plus-no-wildcard-rbac",
                RuleGroup::HavenPlus,
                Severity::Low,
                "No wildcard RBAC",
            ),
            rule(
                "haven-info-annotations",
                RuleGroup::Haven,
                Severity::Info,
                "Recommended labels",
            ),
            rule(
                "haven-unused-rule",
                RuleGroup::Haven,
                Severity::Medium,
                "A rule without findings",
            ),
        ],
        fail_on: Severity::High,
        pss: "restricted:v1.37".into(),
        objects: 7,
        workloads: 4,
        files: 3,
    }
}

fn clean() -> Report {
    Report {
        findings: Vec::new(),
        errors: Vec::new(),
        objects: 1,
        workloads: 1,
        files: 1,
        ..sample()
    }
}

/// The sample with every finding accepted by one waiver of everything (`all: true`).
fn waived_by_all() -> Report {
    let mut r = sample();
    for f in &mut r.findings {
        f.waived = Some(Box::new(WaiverMark {
            reason: "throwaway demo".into(),
            expires: None,
            source: WaiverSource::File {
                file: "w.yaml".into(),
                line: 4,
            },
            all: true,
        }));
    }
    r
}

fn all_reports() -> Vec<(&'static str, Report)> {
    let only_waived = Report {
        findings: sample()
            .findings
            .into_iter()
            .filter(|f| f.waived.is_some())
            .collect(),
        errors: Vec::new(),
        ..sample()
    };
    let mut odd_paths = sample();
    let odd = [
        "dir with space/ä.yaml",
        "/abs/x#1.yaml",
        "C:\\charts\\y.yaml",
        "-",
    ];
    for (f, file) in odd_paths.findings.iter_mut().zip(odd) {
        f.location.file = file.into();
    }
    odd_paths.errors[0].file = "<stdin>".into();
    vec![
        ("sample", sample()),
        ("clean", clean()),
        ("only waived", only_waived),
        ("odd paths", odd_paths),
        ("waived by all", waived_by_all()),
    ]
}

#[test]
fn a_waiver_of_everything_is_flagged_in_every_format() {
    let r = waived_by_all();
    assert_eq!(r.waived_by_all(), r.findings.len());
    assert_eq!(sample().waived_by_all(), 0);
    let text = out(&r, Format::Text);
    assert!(
        text.contains("waived by a waiver of everything (all: true): throwaway demo"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "warning: {} findings accepted by a waiver of everything (all: true)",
            r.findings.len()
        )),
        "{text}"
    );
    assert!(!out(&sample(), Format::Text).contains("all: true"));
    let json: Value = serde_json::from_str(&out(&r, Format::Json)).unwrap();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["waived"]["all"] == true),
        "{json:#}"
    );
    let plain: Value = serde_json::from_str(&out(&sample(), Format::Json)).unwrap();
    assert!(plain["findings"][1]["waived"].get("all").is_none());
    let sarif: Value = serde_json::from_str(&out(&r, Format::Sarif)).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["properties"]["waivedByAll"], r.findings.len());
    for result in run["results"].as_array().unwrap() {
        let s = &result["suppressions"][0];
        assert_eq!(s["properties"]["all"], true, "{s:#}");
        assert!(
            s["justification"]
                .as_str()
                .unwrap()
                .starts_with("waived by a waiver of everything (all: true)"),
            "{s:#}"
        );
    }
    let junit = out(&r, Format::Junit);
    assert!(
        junit.contains("waived by a waiver of everything (all: true)"),
        "{junit}"
    );
}

fn out(report: &Report, format: Format) -> String {
    render(report, format, &TextOptions::default())
}

// ---------------------------------------------------------------------------------------------
// Report and Format

#[test]
fn report_counts() {
    let r = sample();
    assert_eq!(r.blocking(), 3, "critical + two unwaived high");
    assert_eq!(r.waived(), 2);
    assert!(!r.passed());
    assert!(clean().passed());
    let only_errors = Report {
        findings: Vec::new(),
        ..sample()
    };
    assert!(!only_errors.passed(), "input errors fail the run");
    let lenient = Report {
        fail_on: Severity::Critical,
        errors: Vec::new(),
        ..sample()
    };
    assert_eq!(lenient.blocking(), 1);
    assert!(!lenient.passed());
}

#[test]
fn format_names() {
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        assert_eq!(f.as_str(), f.as_str().to_lowercase());
    }
    assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
    let err = "xml".parse::<Format>().unwrap_err();
    assert!(
        err.contains("text, json, sarif, junit, gitlab, html"),
        "{err}"
    );
    assert_eq!(Format::default(), Format::Text);
}

#[test]
fn deterministic_and_newline_terminated() {
    for (name, report) in all_reports() {
        for format in Format::ALL {
            for color in [false, true] {
                let opts = TextOptions {
                    color,
                    verbose: true,
                };
                let a = render(&report, format, &opts);
                let b = render(&report.clone(), format, &opts);
                assert_eq!(a, b, "{format} of {name} is not deterministic");
                assert!(
                    a.ends_with('\n'),
                    "{format} of {name} does not end with a newline"
                );
            }
        }
    }
}

#[test]
fn write_matches_render() {
    let mut buf = Vec::new();
    haven_report::write(&sample(), Format::Json, &TextOptions::default(), &mut buf).unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        out(&sample(), Format::Json)
    );
}

// ---------------------------------------------------------------------------------------------
// text

#[test]
fn text_plain() {
    let text = out(&sample(), Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    // Input errors are the CLI's to print (on stderr, `haven: error: …`); the report counts them.
    assert!(
        !text.contains("did not find expected key") && !text.contains("error: "),
        "{text}"
    );
    assert!(text.contains("2 input errors"), "{text}");
    assert!(
        lines.contains(&"deploy/web.yaml:1: Deployment/web (shop)"),
        "{text}"
    );
    assert!(
        lines.contains(&"deploy/web.yaml:40: ClusterRole/reader"),
        "{text}"
    );
    assert!(
        lines.contains(&"./charts/api/templates/statefulset.yaml:3: StatefulSet/db (data)"),
        "{text}"
    );
    assert!(lines.contains(&"<stdin>:1: Pod/debug (default)"), "{text}");

    let privileged = lines
        .iter()
        .find(|l| l.contains("pss-baseline-privileged"))
        .unwrap();
    assert!(
        privileged.starts_with("  critical  pss-baseline-privileged "),
        "{privileged}"
    );
    assert!(privileged.contains(TRICKY));
    assert!(privileged.ends_with(
        "(spec.template.spec.containers[0].securityContext.privileged, line 21, container app)"
    ));

    let waived = lines
        .iter()
        .find(|l| l.contains("runAsNonRoot is not set"))
        .unwrap();
    assert!(
        waived.ends_with(
            "waived: upstream image needs root <for now> & \"soon\" fixed (until 2027-01-31)"
        ),
        "{waived}"
    );
    let annotated = lines
        .iter()
        .find(|l| l.contains("ClusterRole grants"))
        .unwrap();
    assert!(
        annotated.ends_with("waived: read-only aggregate"),
        "{annotated}"
    );

    // A finding without a field line points at its document's line.
    let limits = lines
        .iter()
        .find(|l| l.contains("no memory limit"))
        .unwrap();
    assert!(limits.contains(", line 1, container app)"), "{limits}");

    // Control characters from the input are shown escaped, never sent to the terminal.
    assert!(!text.contains('\u{1b}') && !text.contains('\u{0}'));
    assert!(text.contains("image tag \\u{1b}[31mlatest\\u{1b}[0m is mutable\\u{0}"));

    // Errors first, summary and verdict last.
    let n = lines.len();
    assert_eq!(
        lines[n - 2],
        "7 findings (3 blocking at >= high, 2 waived) in 7 objects (4 workloads) from 3 files; 2 input errors"
    );
    assert_eq!(
        lines[n - 1],
        "FAIL (Pod Security restricted:v1.37, fail on >= high)"
    );
    assert!(!text.contains("fix:"), "fix hints only with verbose");
}

#[test]
fn text_verbose_and_color() {
    let text = render(
        &sample(),
        Format::Text,
        &TextOptions {
            color: false,
            verbose: true,
        },
    );
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("pss-baseline-privileged"))
        .unwrap();
    assert_eq!(
        lines[i + 1],
        "            fix: Set the field to a safe value."
    );
    assert!(
        lines[i + 2]
            .trim_start()
            .starts_with("see: https://kubernetes.io/")
    );

    let colored = render(
        &sample(),
        Format::Text,
        &TextOptions {
            color: true,
            verbose: false,
        },
    );
    assert!(colored.contains("\u{1b}["), "colour codes expected");
    assert!(colored.contains("\u{1b}[2m"), "waived findings are dimmed");
    // Still no raw control characters from the input itself.
    assert!(!colored.contains("\u{1b}[31mlatest"));
    // Stripping the colour gives the plain output.
    assert_eq!(strip_ansi(&colored), out(&sample(), Format::Text));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn text_clean() {
    let text = out(&clean(), Format::Text);
    assert_eq!(
        text,
        "0 findings in 1 object (1 workload) from 1 file\nPASS (Pod Security restricted:v1.37, fail on >= high)\n"
    );
}

// ---------------------------------------------------------------------------------------------
// json

fn schema_path() -> PathBuf {
    workspace_root().join("docs/report-schema/app-check-v1.json")
}

#[test]
fn json_schema_is_committed() {
    let generated = haven_report::json_schema();
    let path = schema_path();
    if std::env::var_os("HAVEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the schema generated from the Rust types.\n\
         If the change is intended (and compatible with the versioning promise in \
         docs/report-schema/README.md), regenerate it with:\n    HAVEN_BLESS=1 cargo test -p haven-report --test formats json_schema_is_committed",
        path.display()
    );
}

#[test]
fn json_validates_against_schema() {
    let schema: Value = serde_json::from_str(&haven_report::json_schema()).unwrap();
    // The schema itself is valid JSON Schema.
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("schema is not valid JSON Schema: {e}"));
    for (name, report) in all_reports() {
        let doc: Value = serde_json::from_str(&out(&report, Format::Json)).unwrap();
        validate(&schema, &doc, &format!("JSON of {name}"));
    }
    // And the schema catches a broken document.
    let mut doc: Value = serde_json::from_str(&out(&sample(), Format::Json)).unwrap();
    doc["findings"][0]["severity"] = Value::from("severe");
    assert!(!jsonschema::is_valid(&schema, &doc));
    let mut doc: Value = serde_json::from_str(&out(&sample(), Format::Json)).unwrap();
    doc["schemaVersion"] = Value::from("haven.app-check/v2");
    assert!(!jsonschema::is_valid(&schema, &doc));
}

#[test]
fn json_content() {
    let doc: Value = serde_json::from_str(&out(&sample(), Format::Json)).unwrap();
    assert_eq!(doc["schemaVersion"], "haven.app-check/v1");
    assert_eq!(
        doc["tool"],
        serde_json::json!({"name": "haven", "version": "0.1.0"})
    );
    assert_eq!(doc["pss"], "restricted:v1.37");
    assert_eq!(doc["failOn"], "high");
    assert_eq!(doc["passed"], false);
    assert_eq!(
        doc["summary"],
        serde_json::json!({
            "findings": 7,
            "bySeverity": {"info": 1, "low": 1, "medium": 1, "high": 3, "critical": 1},
            "blocking": 3, "waived": 2, "errors": 2, "objects": 7, "workloads": 4, "files": 3
        })
    );
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 7);
    assert_eq!(findings[0]["message"], TRICKY);
    assert_eq!(findings[0]["blocking"], true);
    assert_eq!(
        findings[0]["location"],
        serde_json::json!({"file": "deploy/web.yaml", "line": 21, "column": 11, "documentLine": 1})
    );
    assert_eq!(findings[0]["object"]["apiVersion"], "apps/v1");
    assert_eq!(findings[1]["blocking"], false);
    assert_eq!(
        findings[1]["waived"]["source"],
        serde_json::json!({"type": "file", "file": ".haven-waivers.yaml", "line": 4})
    );
    assert_eq!(findings[1]["waived"]["expires"], "2027-01-31");
    assert!(
        findings[3]["object"].get("namespace").is_none(),
        "cluster-scoped: no namespace key"
    );
    assert_eq!(findings[3]["waived"]["source"]["type"], "annotation");
    assert_eq!(
        findings[4]["message"], CONTROL,
        "JSON keeps the text exactly"
    );
    assert_eq!(
        findings[4]["fingerprint"], findings[5]["fingerprint"],
        "same rule, object and path"
    );
    assert_ne!(findings[0]["fingerprint"], findings[1]["fingerprint"]);
    assert_eq!(findings[0]["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(
        doc["errors"][0],
        serde_json::json!({
            "kind": "syntax", "file": "deploy/broken.yaml", "line": 7, "field": "metadata.labels",
            "message": "did not find expected key <&>"
        })
    );
    assert_eq!(doc["rules"].as_array().unwrap().len(), 6);
    assert_eq!(
        doc["rules"][0]["helpUri"],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
    );
    assert_eq!(doc["rules"][0]["level"], "pss-baseline");
}

// ---------------------------------------------------------------------------------------------
// sarif

#[test]
fn sarif_validates_against_oasis_schema() {
    let (path, schema) = require_sarif_schema();
    let id = schema["$id"]
        .as_str()
        .or(schema["id"].as_str())
        .unwrap_or_default();
    assert!(
        schema["title"]
            .as_str()
            .unwrap_or_default()
            .contains("SARIF")
            && id.contains("sarif"),
        "{} is not the SARIF schema",
        path.display()
    );
    eprintln!("validating against {} ({id})", path.display());
    for (name, report) in all_reports() {
        let log: Value = serde_json::from_str(&out(&report, Format::Sarif)).unwrap();
        validate(&schema, &log, &format!("SARIF of {name}"));
    }
    // The schema does catch mistakes.
    let mut log: Value = serde_json::from_str(&out(&sample(), Format::Sarif)).unwrap();
    log["runs"][0]["results"][0]["level"] = Value::from("critical");
    assert!(!jsonschema::is_valid(&schema, &log));
    // Formats are checked too: a file name that is not a URI reference is caught.
    let mut log: Value = serde_json::from_str(&out(&sample(), Format::Sarif)).unwrap();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("dir with space/ä%.yaml");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    assert!(
        !validator.is_valid(&log),
        "the schema's uri-reference format is not checked"
    );
}

#[test]
fn sarif_content() {
    let report = sample();
    let log: Value = serde_json::from_str(&out(&report, Format::Sarif)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-schema-2.1.0.json")
    );
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "haven");
    assert_eq!(driver["version"], "0.1.0");
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), report.rules.len());
    assert_eq!(rules[0]["id"], "pss-baseline-privileged");
    assert_eq!(rules[0]["name"], "PssBaselinePrivileged");
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        "Privileged containers"
    );
    assert_eq!(
        rules[0]["fullDescription"]["text"],
        "Because <reasons> & \"quotes\"."
    );
    assert!(
        rules[0]["help"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Set the field to a safe value.")
    );
    assert!(
        rules[0]["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("**Fix:**")
    );
    assert_eq!(
        rules[0]["helpUri"],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
    );
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[0]["properties"]["level"], "pss-baseline");
    assert_eq!(rules[0]["properties"]["severity"], "critical");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "warning");
    assert_eq!(rules[4]["defaultConfiguration"]["level"], "note");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    for (r, f) in results.iter().zip(&report.findings) {
        assert_eq!(r["ruleId"], f.rule);
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], f.rule, "ruleIndex points at the rule");
        assert_eq!(r["message"]["text"], f.message.as_str());
        let expected = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "note",
        };
        assert_eq!(r["level"], expected);
        let loc = &r["locations"][0];
        let start = loc["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap();
        assert!(start >= 1);
        assert_eq!(loc["logicalLocations"][0]["name"], f.object.name.as_str());
        assert_eq!(
            r["partialFingerprints"]["havenFinding/v1"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
        assert_eq!(r["suppressions"].is_array(), f.waived.is_some());
    }
    let first = &results[0]["locations"][0];
    assert_eq!(
        first["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/web.yaml"
    );
    assert_eq!(
        first["physicalLocation"]["region"],
        serde_json::json!({"startLine": 21, "startColumn": 11})
    );
    assert_eq!(
        first["logicalLocations"][0]["fullyQualifiedName"],
        "shop/Deployment/web"
    );
    assert_eq!(first["logicalLocations"][0]["kind"], "resource");
    assert_eq!(
        first["logicalLocations"][1]["name"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
    // No field line: the document's line, no column.
    assert_eq!(
        results[2]["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 1})
    );
    // Cluster-scoped object.
    assert_eq!(
        results[3]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "ClusterRole/reader"
    );
    // Relative paths stay relative.
    assert_eq!(
        results[4]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "./charts/api/templates/statefulset.yaml"
    );
    // Waivers: a waiver file is external, an annotation is in the source.
    assert_eq!(results[1]["suppressions"][0]["kind"], "external");
    assert_eq!(
        results[1]["suppressions"][0]["justification"],
        "upstream image needs root <for now> & \"soon\" fixed"
    );
    assert_eq!(
        results[1]["suppressions"][0]["properties"]["expires"],
        "2027-01-31"
    );
    assert_eq!(results[3]["suppressions"][0]["kind"], "inSource");
    // Standard input is an artifact without URI, referred to by index.
    let stdin = &results[6]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(stdin.get("uri").is_none());
    assert_eq!(stdin["index"], 0);
    assert_eq!(run["artifacts"][0]["roles"][0], "standardStream");

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["message"]["text"],
        "did not find expected key <&> (field metadata.labels)"
    );
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/broken.yaml"
    );
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    assert!(
        notes[1]["locations"][0]["physicalLocation"]
            .get("region")
            .is_none(),
        "line 0: whole file"
    );

    let clean: Value = serde_json::from_str(&out(&clean(), Format::Sarif)).unwrap();
    assert_eq!(
        clean["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert!(clean["runs"][0].get("artifacts").is_none());
    assert_eq!(clean["runs"][0]["results"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// junit

#[derive(Debug, Default)]
struct JunitCounts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

/// Parses the JUnit XML and checks that every declared count matches the testcases.
/// An XML element's name and its attributes (unescaped).
type Element = (String, Vec<(String, String)>);

fn check_junit_counts(xml: &str) -> (JunitCounts, Vec<Element>) {
    use quick_xml::Reader;
    use quick_xml::events::Event;

    let mut reader = Reader::from_str(xml);
    let mut total = JunitCounts::default();
    let mut declared_total = None;
    let mut suite: Option<(JunitCounts, JunitCounts)> = None; // (declared, counted)
    let mut elements = Vec::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(e) => {
                if e.name().as_ref() == "testsuite" {
                    let (declared, counted) = suite.take().unwrap();
                    assert_eq!(declared.tests, counted.tests, "testsuite tests");
                    assert_eq!(declared.failures, counted.failures, "testsuite failures");
                    assert_eq!(declared.errors, counted.errors, "testsuite errors");
                    assert_eq!(declared.skipped, counted.skipped, "testsuite skipped");
                    total.tests += counted.tests;
                    total.failures += counted.failures;
                    total.errors += counted.errors;
                    total.skipped += counted.skipped;
                }
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        let Some(e) = start else { continue };
        let name = e.name().as_ref().to_owned();
        let attrs: Vec<(String, String)> = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.parse::<usize>().unwrap())
        };
        match name.as_str() {
            "testsuites" => declared_total = Some((get("tests"), get("failures"), get("errors"))),
            "testsuite" => {
                assert!(!empty);
                let declared = JunitCounts {
                    tests: get("tests").unwrap(),
                    failures: get("failures").unwrap(),
                    errors: get("errors").unwrap(),
                    skipped: get("skipped").unwrap_or(0),
                };
                suite = Some((declared, JunitCounts::default()));
            }
            "testcase" => suite.as_mut().unwrap().1.tests += 1,
            "failure" => suite.as_mut().unwrap().1.failures += 1,
            "error" => suite.as_mut().unwrap().1.errors += 1,
            "skipped" => suite.as_mut().unwrap().1.skipped += 1,
            _ => {}
        }
        elements.push((name, attrs));
    }
    let (tests, failures, errors) = declared_total.expect("a <testsuites> root");
    assert_eq!(tests, Some(total.tests), "testsuites tests");
    assert_eq!(failures, Some(total.failures), "testsuites failures");
    assert_eq!(errors, Some(total.errors), "testsuites errors");
    (total, elements)
}

#[test]
fn junit_counts_and_content() {
    let report = sample();
    let xml = out(&report, Format::Junit);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    let (counts, elements) = check_junit_counts(&xml);
    assert_eq!(counts.tests, report.findings.len() + report.errors.len());
    assert_eq!(counts.failures, report.blocking());
    assert_eq!(counts.errors, report.errors.len());
    assert_eq!(counts.skipped, report.waived());

    let suites: Vec<&str> = elements
        .iter()
        .filter(|(n, _)| n == "testsuite")
        .map(|(_, a)| a.iter().find(|(k, _)| k == "name").unwrap().1.as_str())
        .collect();
    assert_eq!(
        suites,
        [
            "input errors",
            "deploy/web.yaml:1: Deployment/web (shop)",
            "deploy/web.yaml:40: ClusterRole/reader",
            "./charts/api/templates/statefulset.yaml:3: StatefulSet/db (data)",
            "./charts/api/templates/statefulset.yaml:63: StatefulSet/db (data)",
            "<stdin>:1: Pod/debug (default)"
        ]
    );

    // Attribute values come back exactly (after XML unescaping).
    let failure = elements.iter().find(|(n, _)| n == "failure").unwrap();
    assert!(
        failure.1.contains(&("message".into(), TRICKY.into())),
        "{failure:?}"
    );
    assert!(failure.1.contains(&("type".into(), "critical".into())));
    let skipped = elements.iter().find(|(n, _)| n == "skipped").unwrap();
    assert!(skipped.1.contains(&(
        "message".into(),
        "waived: upstream image needs root <for now> & \"soon\" fixed (until 2027-01-31)".into()
    )));
    let error = elements.iter().find(|(n, _)| n == "error").unwrap();
    assert!(error.1.contains(&("type".into(), "syntax".into())));

    // Escaping: no raw markup from the messages, no control characters XML cannot carry.
    assert!(xml.contains("&lt;privileged&gt; &amp; as root"));
    assert!(!xml.contains("<privileged>"));
    assert!(
        !xml.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    );
    assert!(xml.contains("image tag \\u{1b}[31mlatest"));
    assert!(xml.contains("ünïcödé ✓"));

    let (clean_counts, _) = check_junit_counts(&out(&clean(), Format::Junit));
    assert_eq!(
        (
            clean_counts.tests,
            clean_counts.failures,
            clean_counts.errors
        ),
        (1, 0, 0)
    );
}

#[test]
#[ignore = "needs python3 xmlschema (cargo test -- --include-ignored)"]
fn junit_validates_against_xsd() {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit-10.xsd");
    require_xmlschema();
    let dir = std::env::temp_dir().join(format!("haven-report-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, (_, report)) in all_reports().iter().enumerate() {
        let file = dir.join(format!("report-{i}.xml"));
        std::fs::write(&file, out(report, Format::Junit)).unwrap();
        files.push(file);
    }
    // A document that must fail, so that the check is known to check.
    let bad = dir.join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>",
    )
    .unwrap();
    let script = r#"
import sys, xmlschema
schema = xmlschema.XMLSchema(sys.argv[1])
bad = sys.argv[2]
ok = True
for path in sys.argv[3:]:
    errors = list(schema.iter_errors(path))
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    ok = ok and not errors
if schema.is_valid(bad):
    print("the schema accepted an invalid document", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&xsd)
        .arg(&bad)
        .args(&files)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "JUnit XML does not validate against junit-10.xsd:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// gitlab

#[test]
fn gitlab_validates_and_content() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/schemas/gitlab-code-quality.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for (name, report) in all_reports() {
        let doc: Value = serde_json::from_str(&out(&report, Format::Gitlab)).unwrap();
        validate(&schema, &doc, &format!("GitLab report of {name}"));
    }

    let report = sample();
    let doc: Value = serde_json::from_str(&out(&report, Format::Gitlab)).unwrap();
    let issues = doc.as_array().unwrap();
    // Waived findings are left out; input errors are in.
    assert_eq!(
        issues.len(),
        report.findings.len() - report.waived() + report.errors.len()
    );
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");

    let find = |check: &'static str| issues.iter().filter(move |i| i["check_name"] == check);
    let privileged = find("pss-baseline-privileged").next().unwrap();
    assert_eq!(privileged["severity"], "blocker");
    assert_eq!(
        privileged["description"],
        format!("Deployment/web (shop): {TRICKY} (container app)")
    );
    assert_eq!(
        privileged["location"],
        serde_json::json!({"path": "deploy/web.yaml", "lines": {"begin": 21}})
    );
    let db: Vec<&Value> = find("pss-restricted-run-as-non-root").collect();
    assert_eq!(db.len(), 2, "the waived one is left out");
    assert_eq!(db[0]["severity"], "critical");
    assert_eq!(
        db[0]["location"]["path"], "charts/api/templates/statefulset.yaml",
        "no leading ./"
    );
    assert_eq!(
        find("haven-resource-limits").next().unwrap()["severity"],
        "major"
    );
    assert_eq!(
        find("haven-resource-limits").next().unwrap()["location"]["lines"]["begin"],
        1
    );
    assert_eq!(
        find("haven-info-annotations").next().unwrap()["severity"],
        "info"
    );
    assert!(
        find("haven-plus-no-wildcard-rbac").next().is_none(),
        "waived"
    );
    let errors: Vec<&Value> = find("haven/input-error").collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[1]["location"]["lines"]["begin"], 1, "line 0 -> 1");

    // Stable across runs, and independent of the line (the finding moved within its file).
    let mut moved = sample();
    moved.findings[0].location.line = 99;
    let again: Value = serde_json::from_str(&out(&moved, Format::Gitlab)).unwrap();
    assert_eq!(again[2]["check_name"], "pss-baseline-privileged");
    assert_eq!(again[2]["fingerprint"], privileged["fingerprint"]);

    assert_eq!(out(&clean(), Format::Gitlab), "[]\n");
}
