//! The outputs of `haven check`: upstream's JSON shape key by key, the native JSON against its
//! committed schema, JUnit against the Jenkins XSD, SARIF against the OASIS schema, the text
//! tables and summary line, and the `Compliancy` resource.

use std::path::Path;
use std::process::Command;

use haven_checks::*;
use haven_report::cluster_check::*;
use haven_snapshot::*;
use serde_json::{Value, json};

mod common;
use common::{require_sarif_schema, require_xmlschema, validate, workspace_root};

fn sample_run_with(waivers: Vec<Waiver>, plus: bool) -> CheckRun {
    let mut s = ClusterSnapshot::empty();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "35".into(),
        git_version: "v1.35.2".into(),
        platform: String::new(),
    });
    s.api_groups = Read::ok(vec!["v1".into(), "rbac.authorization.k8s.io/v1".into()]);
    s.nodes = Read::ok(vec![NodeRecord {
        name: "kind-control-plane <&\"'>".into(),
        labels: [(
            "node-role.kubernetes.io/control-plane".to_owned(),
            String::new(),
        )]
        .into(),
        provider_id: Some("kind://docker/kind/kind-control-plane".into()),
        os_image: "Debian GNU/Linux 12 (bookworm)".into(),
        addresses: vec![NodeAddress {
            kind: "ExternalIP".into(),
            address: "198.51.100.3".into(),
        }],
        ..Default::default()
    }]);
    // A log store without an agent: the logs capability is degraded with a capability problem.
    s.stateful_sets = Read::ok(vec![WorkloadRecord {
        kind: "StatefulSet".into(),
        namespace: "observability".into(),
        name: "loki".into(),
        labels: Default::default(),
        images: vec!["docker.io/grafana/loki:3.7.6".into()],
        desired: 1,
        ready: 1,
    }]);
    s.deployments = Read::Forbidden {
        permission: "list deployments (apps)".into(),
        message: "forbidden".into(),
    };
    let inputs = RunInputs {
        tool_version: "0.1.0".into(),
        binary_sha256: Some("00".repeat(32)),
        cncf: true,
        plus,
        cis: ExternalTool::Missing {
            program: "kube-bench".into(),
        },
        waivers,
        ..Default::default()
    };
    run_checks(
        &s,
        &CheckConfig::default(),
        &ReleaseData::embedded(),
        "2026-11-25T12:00:00Z".parse().unwrap(),
        &inputs,
    )
}

fn sample_run(waive: bool, plus: bool) -> CheckRun {
    let waivers = if waive {
        vec![Waiver {
            rule: "hamasters".into(),
            reason: "one-node dev cluster \u{1b} <x>".into(),
            expires: Some(jiff::civil::date(2027, 6, 30)),
            ..Default::default()
        }]
    } else {
        vec![]
    };
    sample_run_with(waivers, plus)
}

/// Every check waived by one waiver of everything (`all: true`).
fn all_waived_run() -> CheckRun {
    sample_run_with(
        vec![Waiver {
            rule: "*".into(),
            reason: "throwaway demo".into(),
            expires: Some(jiff::civil::date(2027, 6, 30)),
            all: true,
            line: 4,
            ..Default::default()
        }],
        false,
    )
}

fn report(run: CheckRun) -> ClusterReport {
    ClusterReport {
        tool_version: "0.1.0".into(),
        run,
        started: "2026-11-25T12:00:00Z".into(),
        stopped: "2026-11-25T12:00:03Z".into(),
        target: "https://127.0.0.1:6443".into(),
        context: Some("kind-kind".into()),
        command_line: "haven check -o json".into(),
        source: "live".into(),
        allow_writes: false,
    }
}

fn reports() -> Vec<ClusterReport> {
    vec![
        report(sample_run(false, false)),
        report(sample_run(true, true)),
        report(all_waived_run()),
    ]
}

#[test]
fn a_waiver_of_everything_is_flagged_in_every_format() {
    let r = report(all_waived_run());
    let text = render_text(&r, false);
    assert!(
        text.contains("| NO (waived: all) |") || text.contains("NO (waived: all)"),
        "{text}"
    );
    assert!(
        text.contains("; a waiver of everything (all: true))"),
        "{text}"
    );
    assert!(
        text.contains("note: a waiver of every check (`all: true`, line 4)"),
        "{text}"
    );
    let v = haven_json(&r);
    let failed: Vec<&Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "YES")
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|c| c["waiver"]["all"] == true), "{v:#}");
    let sarif: Value = serde_json::from_str(&render_sarif(&r)).unwrap();
    let suppressed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["suppressions"].get(0))
        .collect();
    assert!(!suppressed.is_empty());
    for s in suppressed {
        assert_eq!(s["properties"]["all"], true, "{s:#}");
        assert!(
            s["justification"]
                .as_str()
                .unwrap()
                .starts_with("waived by a waiver of everything (all: true)")
        );
    }
    assert!(render_junit(&r).contains("waived by a waiver of everything (all: true)"));
    // An ordinary waiver is not flagged.
    let plain = haven_json(&report(sample_run(true, false)));
    assert!(!plain.to_string().contains("\"all\""));
}

#[test]
fn upstream_json_has_exactly_upstreams_shape() {
    let r = report(sample_run(false, false));
    let v: Value = serde_json::from_str(&render_upstream_json(&r)).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let mut top = keys(&v);
    top.sort();
    assert_eq!(
        top,
        [
            "CompliancyChecks",
            "Config",
            "HavenCompliant",
            "StartTS",
            "StopTS",
            "SuggestedChecks",
            "Version"
        ]
    );
    assert_eq!(keys(&v["Config"]), ["CIS", "CNCF", "KESC"]);
    assert_eq!(
        v["Config"],
        json!({"CNCF": true, "CIS": true, "KESC": false})
    );
    let mut summary = keys(&v["CompliancyChecks"]["Summary"]);
    summary.sort();
    assert_eq!(summary, ["Failed", "Passed", "Skipped", "Total", "Unknown"]);
    let results = v["CompliancyChecks"]["Results"].as_array().unwrap();
    assert_eq!(results.len(), 15);
    for c in results
        .iter()
        .chain(v["SuggestedChecks"]["Results"].as_array().unwrap())
    {
        let mut k = keys(c);
        k.sort();
        assert_eq!(k, ["Category", "Label", "Name", "Rationale", "Result"]);
        assert!(["YES", "NO", "SKIPPED", "UNKNOWN"].contains(&c["Result"].as_str().unwrap()));
    }
    assert_eq!(v["HavenCompliant"], false);
    let s = &v["CompliancyChecks"]["Summary"];
    assert_eq!(s["Total"], 15);
    assert_eq!(
        s["Passed"].as_u64().unwrap()
            + s["Failed"].as_u64().unwrap()
            + s["Unknown"].as_u64().unwrap()
            + s["Skipped"].as_u64().unwrap(),
        15
    );
    assert!(jiff::Timestamp::from_str_rfc3339(v["StartTS"].as_str().unwrap()).is_ok());
    assert!(v["Version"].as_str().unwrap().contains("v12.8"));

    // Keys in upstream's (Go struct) order, so a textual diff against upstream lines up.
    let text = render_upstream_json(&r);
    let order = |names: &[&str], within: &str| {
        let at: Vec<usize> = names
            .iter()
            .map(|n| {
                within
                    .find(&format!("\"{n}\":"))
                    .unwrap_or_else(|| panic!("{n} missing"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{names:?} out of order");
    };
    order(
        &[
            "Version",
            "HavenCompliant",
            "StartTS",
            "StopTS",
            "Config",
            "CompliancyChecks",
            "SuggestedChecks",
        ],
        &text,
    );
    order(&["CNCF", "CIS", "KESC"], &text);
    order(&["Name", "Label", "Category", "Rationale", "Result"], &text);
    let summary = &text[text.find("\"Summary\"").unwrap()..];
    order(
        &["Total", "Unknown", "Skipped", "Failed", "Passed"],
        summary,
    );
}

trait Rfc {
    fn from_str_rfc3339(s: &str) -> Result<jiff::Timestamp, jiff::Error>;
}
impl Rfc for jiff::Timestamp {
    fn from_str_rfc3339(s: &str) -> Result<jiff::Timestamp, jiff::Error> {
        s.parse()
    }
}

#[test]
fn haven_json_validates_against_committed_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("docs/report-schema/cluster-check-v1.json"))
            .unwrap(),
    )
    .unwrap();
    jsonschema::meta::validate(&schema).unwrap();
    for r in reports() {
        let v: Value = serde_json::from_str(&render_haven_json(&r)).unwrap();
        validate(&schema, &v, "haven-json");
        assert_eq!(v["schemaVersion"], CLUSTER_JSON_SCHEMA_VERSION);
    }
    // The schema catches mistakes.
    let mut v = haven_json(&reports()[0]);
    v["checks"][0]["result"] = json!("MAYBE");
    assert!(!jsonschema::is_valid(&schema, &v));
    let mut v = haven_json(&reports()[0]);
    v["checks"][0]["evidnce"] = json!({});
    assert!(!jsonschema::is_valid(&schema, &v));
}

#[test]
fn haven_json_carries_capability_problems() {
    let v: Value =
        serde_json::from_str(&render_haven_json(&report(sample_run(false, true)))).unwrap();
    let logs = v["plus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["capability"] == "logs")
        .unwrap();
    // Deployments are forbidden in the sample: an agent may hide there, so not "degraded".
    assert_eq!(logs["status"], "unknown");
    assert_eq!(logs["components"][0]["name"], "Grafana Loki");
    assert_eq!(
        logs["problems"][0],
        "no log agent (logAgents) seen, and workloads could not all be read"
    );
    assert!(
        logs["readProblems"][0]
            .as_str()
            .unwrap()
            .contains("list deployments (apps)"),
        "{logs}"
    );
    let text = render_text(&report(sample_run(false, true)), false);
    assert!(
        text.contains("  logs: no log agent (logAgents) seen, and workloads could not all be read"),
        "{text}"
    );
}

#[test]
fn haven_json_carries_evidence_and_waivers() {
    let r = report(sample_run(true, true));
    let v = haven_json(&r);
    let check = |n: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        check("privatenetworking")["evidence"]["externalAddresses"][0]["address"],
        "198.51.100.3"
    );
    let ha = check("hamasters");
    assert_eq!(ha["result"], "NO", "real result kept");
    assert_eq!(ha["waiver"]["expires"], "2027-06-30");
    assert_eq!(v["platform"]["name"], "kind");
    assert!(
        check("logs")["reason"]
            .as_str()
            .unwrap()
            .contains("list deployments (apps)")
    );
    assert_eq!(v["plus"].as_array().unwrap().len(), 21);
}

#[test]
fn text_has_upstream_tables_and_summary_line() {
    let r = report(sample_run(false, false));
    let t = render_text(&r, false);
    // Upstream's layout: the summary line, then the two titled box tables whose NAME column is
    // upstream's label.
    let summary_at = t.find("Results: ").unwrap();
    let table_at = t.find("Compliancy checks results:\n\n┌").unwrap();
    let suggested_at = t.find("Suggested checks results:\n\n┌").unwrap();
    assert!(summary_at < table_at && table_at < suggested_at, "{t}");
    assert!(
        t.contains("│    CATEGORY    │                                   NAME                                   │ PASSED  │"),
        "{t}"
    );
    assert!(
        t.contains("│ Fundamental    │ Self test: HCC version is latest major or within 3 months upgrade window │ YES     │"),
        "{t}"
    );
    assert!(
        t.contains("│ CATEGORY │               NAME                │ PASSED  │\n├──────────┼───────────────────────────────────┼─────────┤\n│ External │ CIS Kubernetes Security Benchmark │ UNKNOWN │\n│ External │ Kubescape                         │ SKIPPED │"),
        "{t}"
    );
    let s = &r.run.summary;
    let line = format!(
        "Results: {} out of 15 checks passed, {} checks skipped, {} checks unknown. This is NOT a Haven Compliant cluster.",
        s.passed, s.skipped, s.unknown
    );
    assert!(t.contains(&line), "{t}");
    assert!(t.contains("Verdict: NOT compliant"));
    assert!(t.contains("Release data: embedded, dated "), "{t}");
    assert!(
        t.contains("UNKNOWN logs:") && t.contains("list deployments (apps)"),
        "{t}"
    );
    assert!(!t.contains("externalAddresses"), "evidence only with -v");
    let v = render_text(&r, true);
    assert!(
        v.contains("externalAddresses: [{\"address\":\"198.51.100.3\""),
        "{v}"
    );
    let w = render_text(&report(sample_run(true, true)), false);
    assert!(
        w.contains("│ Running at least 3 master nodes                                          │ NO (waived) │"),
        "{w}"
    );
    assert!(
        !t.contains("question: ")
            && v.contains(
                "question: Infrastructure: does the cluster have at least 3 control-plane nodes?"
            ),
        "haven's wording with -v only"
    );
    assert!(w.contains("Haven+ capabilities"));
}

#[test]
fn sarif_validates_and_maps_results() {
    let (_, schema) = require_sarif_schema();
    for r in reports() {
        let v: Value = serde_json::from_str(&render_sarif(&r)).unwrap();
        validate(&schema, &v, "SARIF");
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 17);
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for res in results {
            let i = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], res["ruleId"]);
            let expected = match res["properties"]["result"].as_str().unwrap() {
                "YES" => "pass",
                "NO" => "fail",
                "UNKNOWN" => "review",
                _ => "notApplicable",
            };
            assert_eq!(res["kind"], expected);
        }
    }
    let v: Value = serde_json::from_str(&render_sarif(&report(sample_run(true, false)))).unwrap();
    let ha = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "haven-check/hamasters")
        .unwrap()
        .clone();
    assert_eq!(ha["suppressions"][0]["kind"], "external");
    let mut bad = v.clone();
    bad["runs"][0]["results"][0]["kind"] = json!("maybe");
    assert!(!jsonschema::is_valid(&schema, &bad));
}

#[test]
#[ignore = "needs python3 xmlschema (cargo test -- --include-ignored)"]
fn junit_validates_against_xsd() {
    require_xmlschema();
    let dir = std::env::temp_dir().join(format!("haven-cluster-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, r) in reports().iter().enumerate() {
        let xml = render_junit(r);
        assert!(xml.contains("<testsuites name=\"haven check\""));
        let f = dir.join(format!("r{i}.xml"));
        std::fs::write(&f, xml).unwrap();
        files.push(f);
    }
    let bad = dir.join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>",
    )
    .unwrap();
    let script = "import sys, xmlschema\ns = xmlschema.XMLSchema(sys.argv[1])\nok = not s.is_valid(sys.argv[2])\nfor p in sys.argv[3:]:\n    for e in s.iter_errors(p):\n        print(p, e, file=sys.stderr); ok = False\nsys.exit(0 if ok else 1)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit-10.xsd"))
        .arg(&bad)
        .args(&files)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let x = render_junit(&report(sample_run(true, false)));
    assert!(
        x.contains("<skipped message=\"waived (result NO): one-node dev cluster"),
        "{x}"
    );
    assert!(x.contains("<error type=\"UNKNOWN\""));
    assert!(x.contains("<failure type=\"NO\""));
}

/// Upstream's CRD schema (`../shared/context/hcc-compliancy-crd.yaml`) as a JSON Schema. Every
/// object is closed (`additionalProperties: false`): the API server prunes fields a structural
/// schema does not name, so a field it would drop is an error here.
fn upstream_crd_schema() -> Value {
    let path = haven_test_support::shared_path("context/hcc-compliancy-crd.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = haven_model::parse_stream("hcc-compliancy-crd.yaml", &text)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    fn close(v: &mut Value) {
        if let Value::Object(m) = v {
            if m.get("type") == Some(&json!("object")) && m.contains_key("properties") {
                m.insert("additionalProperties".into(), json!(false));
            }
            for (_, child) in m.iter_mut() {
                close(child);
            }
        }
    }
    let mut schema = doc.value["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_object(), "{}", doc.value);
    close(&mut schema);
    schema
}

#[test]
#[ignore = "needs ../shared/context (cargo test -- --include-ignored)"]
fn compliancy_resource_validates_against_upstreams_crd() {
    let schema = upstream_crd_schema();
    for run in [sample_run(false, false), sample_run(true, true)] {
        let c = compliancy_resource(&report(run));
        validate(&schema, &c, "Compliancy resource");
    }
    // The check can fail: upstream's old mistakes are rejected.
    let mut bad = compliancy_resource(&report(sample_run(false, false)));
    bad["spec"].as_object_mut().unwrap().remove("compliant");
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&bad), "spec.compliant is required");
    let mut bad = compliancy_resource(&report(sample_run(false, false)));
    bad["spec"]["output"]["config"] = json!({"cncf": true, "cis": false, "kesc": false});
    assert!(
        !validator.is_valid(&bad),
        "config keys are CNCF/CIS/kubescape"
    );
    // The CRD haven creates when absent carries the same structure as upstream's.
    let ours = compliancy_crd();
    let mut ours = ours["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    fn strip(v: &mut Value) {
        if let Value::Object(m) = v {
            m.remove("description");
            m.remove("additionalProperties");
            for (_, child) in m.iter_mut() {
                strip(child);
            }
        }
    }
    let mut theirs = schema;
    strip(&mut ours);
    strip(&mut theirs);
    assert_eq!(ours, theirs);
}

#[test]
fn compliancy_resource_mirrors_json_in_camel_case() {
    let r = report(sample_run(false, false));
    let c = compliancy_resource(&r);
    assert_eq!(c["apiVersion"], "haven.commonground.nl/v1alpha1");
    assert_eq!(c["kind"], "Compliancy");
    assert_eq!(c["metadata"]["name"], "haven-2026-11-25t12-00-03z");
    assert_eq!(c["spec"]["compliant"], false);
    assert_eq!(c["spec"]["version"], r.upstream_version());
    let out = &c["spec"]["output"];
    assert_eq!(out["havenCompliant"], false);
    assert_eq!(out["config"]["CNCF"], true);
    assert_eq!(out["config"]["kubescape"], false);
    assert_eq!(
        out["compliancyChecks"]["results"][0]["label"],
        "Self test: HCC version is latest major or within 3 months upgrade window"
    );
    assert_eq!(out["compliancyChecks"]["summary"]["total"], 15);
    assert!(out["compliancyChecks"]["results"][0]["name"].is_string());
    assert_eq!(c["spec"]["input"]["platform"]["determinedPlatform"], "kind");
    assert_eq!(c["spec"]["input"]["commandline"], "haven check -o json");
    let crd = compliancy_crd();
    assert_eq!(
        crd["metadata"]["name"],
        "compliancies.haven.commonground.nl"
    );
    assert_eq!(crd["spec"]["scope"], "Cluster");
}

#[test]
fn exit_codes_follow_the_verdict() {
    assert_eq!(report(sample_run(false, false)).exit_code(), 1);
}
