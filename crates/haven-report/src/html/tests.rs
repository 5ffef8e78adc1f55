//! The HTML reports parsed back with a real HTML parser (scraper: html5ever, the parser of Servo,
//! which follows the WHATWG parsing algorithm as browsers do): structure, verdicts, counts,
//! escaping, anchors, accessibility basics and the Content-Security-Policy. The browser tests
//! (`haven-cli/tests/html_report.rs`) load the same pages in headless Chromium.

use std::collections::BTreeSet;
use std::sync::Arc;

use haven_checks::{
    AppliedWaiver, CheckConfig, CheckRun, ExternalTool, Outcome, ReleaseData, RunInputs, Verdict,
    Waiver, run_checks,
};
use haven_model::{
    Finding, InputError, InputErrorKind, Location, ObjectRef, RuleGroup, RuleInfo, RuleScope,
    Severity, WaiverMark, WaiverSource,
};
use haven_snapshot::{ClusterSnapshot, NodeAddress, NodeRecord, Read, ServerVersion};
use scraper::{ElementRef, Html, Selector};

use super::*;
use crate::Report;
use crate::cluster_check::ClusterReport;

const EVIL_NAME: &str = "<script>document.title='pwned'</script>";
const EVIL_MESSAGE: &str = "image \"x\" <img src=x onerror=alert(1)> & more \u{202e}gnp.exe";

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("bad selector {s}: {e:?}"))
}

fn all<'a>(doc: &'a Html, s: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(s)).collect()
}

fn one<'a>(doc: &'a Html, s: &str) -> ElementRef<'a> {
    let found = all(doc, s);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {s}, found {}",
        found.len()
    );
    found[0]
}

fn text(e: ElementRef<'_>) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse(html: &str) -> Html {
    let doc = Html::parse_document(html);
    assert!(
        doc.errors.is_empty(),
        "the page does not parse cleanly: {:?}",
        doc.errors
    );
    doc
}

fn rule(id: &'static str, level: RuleGroup, severity: Severity) -> RuleInfo {
    RuleInfo {
        id,
        level,
        severity,
        scope: RuleScope::Object,
        title: "A title <with> & markup",
        rationale: "Because <reasons>.",
        fix: "Set the field.",
        help_uri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    }
}

fn finding(
    rule: &'static str,
    severity: Severity,
    message: &str,
    object: &Arc<ObjectRef>,
    (file, line): (&str, u32),
    waived: Option<WaiverMark>,
) -> Finding {
    Finding {
        rule,
        severity,
        message: message.into(),
        object: object.clone(),
        container: Some("app".into()),
        path: "spec.template.spec.containers[0].securityContext".into(),
        location: Location {
            file: file.into(),
            line,
            column: 3,
            document_line: 1,
        },
        waived: waived.map(Box::new),
    }
}

fn app_report() -> Report {
    let web = Arc::new(ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: EVIL_NAME.into(),
    });
    let beat = Arc::new(ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "beat".into(),
    });
    Report {
        tool_version: "0.1.0".into(),
        findings: vec![
            finding(
                "pss.privileged",
                Severity::Critical,
                EVIL_MESSAGE,
                &web,
                ("templates/web.yaml", 21),
                None,
            ),
            finding(
                "pss.runAsNonRoot",
                Severity::High,
                "runAsNonRoot is not set",
                &web,
                ("templates/web.yaml", 15),
                Some(WaiverMark {
                    reason: "vendor image </td><b>needs root</b>".into(),
                    expires: Some("2027-06-30".into()),
                    source: WaiverSource::File {
                        file: "waivers.yaml".into(),
                        line: 4,
                    },
                    all: false,
                }),
            ),
            finding(
                "haven.scalable",
                Severity::Medium,
                "one replica",
                &beat,
                ("templates/beat.yaml", 9),
                Some(WaiverMark {
                    reason: "Celery beat is a singleton".into(),
                    expires: None,
                    source: WaiverSource::Annotation {
                        key: "waive.haven.commonground.nl/haven.scalable".into(),
                    },
                    all: false,
                }),
            ),
            finding(
                "plus.image-digest",
                Severity::Low,
                "image not pinned by digest",
                &beat,
                ("templates/beat.yaml", 12),
                None,
            ),
        ],
        errors: vec![
            InputError::new(
                InputErrorKind::Syntax,
                "values-<x>.yaml",
                7,
                "did not find expected key",
            )
            .with_field("image.tag"),
        ],
        rules: vec![
            rule("pss.privileged", RuleGroup::PssBaseline, Severity::Critical),
            rule("pss.runAsNonRoot", RuleGroup::PssRestricted, Severity::High),
            rule("haven.scalable", RuleGroup::Haven, Severity::Medium),
            rule("plus.image-digest", RuleGroup::HavenPlus, Severity::Low),
            rule("plus.pdb", RuleGroup::HavenPlus, Severity::Low),
        ],
        fail_on: Severity::High,
        pss: "restricted:v1.37".into(),
        objects: 5,
        workloads: 2,
        files: 3,
    }
}

fn clean_app_report() -> Report {
    Report {
        findings: Vec::new(),
        errors: Vec::new(),
        ..app_report()
    }
}

fn cluster_run(waive: bool) -> CheckRun {
    let mut s = ClusterSnapshot::empty();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "35".into(),
        git_version: "v1.35.2".into(),
        platform: String::new(),
    });
    s.api_groups = Read::ok(vec!["v1".into()]);
    s.nodes = Read::ok(vec![NodeRecord {
        name: EVIL_NAME.into(),
        labels: [(
            "node-role.kubernetes.io/control-plane".to_owned(),
            String::new(),
        )]
        .into(),
        os_image: "Debian GNU/Linux 12 (bookworm)".into(),
        addresses: vec![NodeAddress {
            kind: "ExternalIP".into(),
            address: "198.51.100.3".into(),
        }],
        ..Default::default()
    }]);
    let inputs = RunInputs {
        tool_version: "0.1.0".into(),
        cncf: true,
        cis: ExternalTool::Missing {
            program: "kube-bench".into(),
        },
        waivers: if waive {
            vec![Waiver {
                rule: "hamasters".into(),
                reason: "one-node dev cluster <b>bold</b>".into(),
                expires: Some(jiff::civil::date(2027, 6, 30)),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
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

fn cluster_report(run: CheckRun) -> ClusterReport {
    ClusterReport {
        tool_version: "0.1.0".into(),
        run,
        started: "2026-11-25T12:00:00Z".into(),
        stopped: "2026-11-25T12:00:03Z".into(),
        target: "https://127.0.0.1:6443".into(),
        context: Some("kind-kind".into()),
        command_line: "haven check -o html".into(),
        source: "live".into(),
        allow_writes: false,
    }
}

/// Every mandatory check passed: the renderer's compliant page, whatever the checks decide.
fn compliant_run() -> CheckRun {
    let mut run = cluster_run(false);
    for r in &mut run.results {
        r.result = Outcome::Yes;
    }
    run.summary.passed = run.summary.total;
    run.summary.failed = 0;
    run.summary.unknown = 0;
    run.summary.skipped = 0;
    run.verdict = Verdict::Compliant;
    run
}

fn en() -> HtmlOptions {
    HtmlOptions {
        lang: Lang::En,
        generated: Some("2026-11-25T12:00:00Z".into()),
    }
}

fn nl() -> HtmlOptions {
    HtmlOptions {
        lang: Lang::Nl,
        generated: Some("2026-11-25T12:00:00Z".into()),
    }
}

fn every_page() -> Vec<(String, String)> {
    let mut pages = Vec::new();
    for (name, o) in [("en", en()), ("nl", nl())] {
        pages.push((format!("app {name}"), render_app_html(&app_report(), &o)));
        pages.push((
            format!("clean app {name}"),
            render_app_html(&clean_app_report(), &o),
        ));
        for waive in [false, true] {
            pages.push((
                format!("cluster {name} waive={waive}"),
                render_cluster_html(&cluster_report(cluster_run(waive)), &o),
            ));
        }
        pages.push((
            format!("compliant cluster {name}"),
            render_cluster_html(&cluster_report(compliant_run()), &o),
        ));
    }
    pages
}

// ---------------------------------------------------------------------------------------------
// Every page

#[test]
fn every_link_to_the_same_page_resolves_to_an_anchor() {
    for (name, page) in every_page() {
        let doc = parse(&page);
        let ids: BTreeSet<&str> = all(&doc, "[id]")
            .iter()
            .filter_map(|e| e.value().attr("id"))
            .collect();
        let mut internal = 0;
        for a in all(&doc, "a[href]") {
            let href = a.value().attr("href").unwrap();
            if let Some(target) = href.strip_prefix('#') {
                internal += 1;
                assert!(ids.contains(target), "{name}: link {href} has no anchor");
            } else {
                assert!(
                    href.starts_with("https://"),
                    "{name}: link {href} is neither an anchor nor a web page"
                );
            }
        }
        assert!(internal > 0, "{name}: no internal links");
        let dup = all(&doc, "[id]").len() - ids.len();
        assert_eq!(dup, 0, "{name}: {dup} duplicate ids");
    }
}

#[test]
fn nothing_is_loaded_from_elsewhere_and_the_policy_allows_only_our_style_and_script() {
    use sha2::{Digest, Sha256};
    for (name, page) in every_page() {
        let doc = parse(&page);
        assert!(
            all(&doc, "[src], link, iframe, object, embed, img").is_empty(),
            "{name}"
        );
        let scripts = all(&doc, "script");
        assert_eq!(scripts.len(), 1, "{name}: exactly our one script");
        let styles = all(&doc, "style");
        assert_eq!(styles.len(), 1, "{name}");
        assert!(
            all(&doc, "[style]").is_empty(),
            "{name}: no style attributes (the policy blocks them)"
        );
        let csp = one(&doc, "meta[http-equiv=Content-Security-Policy]")
            .value()
            .attr("content")
            .unwrap()
            .to_owned();
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        for (what, e) in [("script-src", scripts[0]), ("style-src", styles[0])] {
            let body: String = e.text().collect();
            let hash =
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
            assert!(
                csp.contains(&format!("{what} 'sha256-{hash}'")),
                "{name}: {what} does not allow the page's own element: {csp}"
            );
        }
        // Event handler attributes would need 'unsafe-inline'; none are used.
        for e in all(&doc, "*") {
            for (attr, _) in e.value().attrs() {
                assert!(!attr.starts_with("on"), "{name}: handler attribute {attr}");
            }
        }
    }
}

#[test]
fn headings_are_one_h1_then_sections_without_skipped_levels() {
    for (name, page) in every_page() {
        let doc = parse(&page);
        assert_eq!(all(&doc, "h1").len(), 1, "{name}");
        let levels: Vec<u8> = all(&doc, "h1, h2, h3, h4, h5, h6")
            .iter()
            .map(|h| h.value().name()[1..].parse().unwrap())
            .collect();
        assert_eq!(levels[0], 1, "{name}");
        for w in levels.windows(2) {
            assert!(
                w[1] <= w[0] + 1,
                "{name}: heading level jumps {} -> {}",
                w[0],
                w[1]
            );
        }
        // The verdict is the first section, right after the title.
        let first_h2 = all(&doc, "h2")[0];
        assert_eq!(
            first_h2.value().attr("id"),
            Some("verdict-heading"),
            "{name}"
        );
        assert!(all(&doc, "main").len() == 1, "{name}");
    }
}

#[test]
fn every_filter_box_has_its_label_and_each_fieldset_a_legend() {
    for (name, page) in every_page() {
        let doc = parse(&page);
        let labels: BTreeSet<&str> = all(&doc, "label[for]")
            .iter()
            .filter_map(|l| l.value().attr("for"))
            .collect();
        for input in all(&doc, "input") {
            let id = input.value().attr("id").expect("an input without id");
            assert!(labels.contains(id), "{name}: input {id} has no label");
            assert_eq!(input.value().attr("type"), Some("checkbox"));
            assert!(
                input.value().attr("checked").is_some(),
                "{name}: all ticked at first"
            );
        }
        for fs in all(&doc, "fieldset") {
            assert!(fs.select(&sel("legend")).next().is_some(), "{name}");
        }
        if let Some(form) = all(&doc, "form#filters").first() {
            assert!(
                form.value().attr("hidden").is_some(),
                "{name}: hidden until the script runs"
            );
            let status = one(&doc, "#filter-status");
            assert_eq!(status.value().attr("role"), Some("status"));
            assert!(
                status
                    .value()
                    .attr("data-template")
                    .unwrap()
                    .contains("{shown}")
            );
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = every_page();
    let b = every_page();
    assert_eq!(a, b);
    for (name, page) in &a {
        assert!(page.ends_with("</html>\n"), "{name}");
        assert!(page.starts_with("<!DOCTYPE html>"), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Escaping

#[test]
fn a_script_in_a_resource_name_is_text_not_a_script() {
    for page in [
        render_app_html(&app_report(), &en()),
        render_cluster_html(&cluster_report(cluster_run(false)), &en()),
    ] {
        assert!(
            !page.contains("<script>document.title"),
            "unescaped: {page}"
        );
        assert!(page.contains("&lt;script&gt;document.title="));
        let doc = parse(&page);
        assert_eq!(all(&doc, "script").len(), 1, "only our own script");
        // The name reads back as the text it was.
        assert!(
            all(&doc, "body *")
                .iter()
                .any(|e| e.text().any(|t| t.contains(EVIL_NAME))),
            "the name is shown as text"
        );
    }
    let doc = parse(&render_app_html(&app_report(), &en()));
    assert!(
        all(&doc, "img, b").is_empty(),
        "markup in messages and reasons stays text"
    );
    let message = text(all(&doc, ".message")[0]);
    assert!(
        message.contains("<img src=x onerror=alert(1)>"),
        "{message}"
    );
    // The bidi override that would reverse "exe.png" on screen is shown as an escape.
    assert!(message.contains("\\u{202e}gnp.exe"), "{message}");
    assert!(!message.contains('\u{202e}'));
    let waiver = text(one(&doc, "#waivers tbody tr:first-child td:nth-child(3)"));
    assert_eq!(waiver, "vendor image </td><b>needs root</b>");
}

#[test]
fn anchors_of_odd_names_still_match_their_links() {
    assert_eq!(anchor("rule-", "pss.runAsNonRoot"), "rule-pss.runAsNonRoot");
    assert_eq!(anchor("rule-", "a b\"<"), "rule-a_20b_22_3c");
}

// ---------------------------------------------------------------------------------------------
// haven app check

#[test]
fn app_report_says_blocking_first_with_counts_by_severity() {
    let report = app_report();
    let doc = parse(&render_app_html(&report, &en()));
    assert_eq!(one(&doc, "html").value().attr("lang"), Some("en"));
    let verdict = one(&doc, "section.verdict");
    assert!(verdict.value().classes().any(|c| c == "bad"));
    assert_eq!(
        text(one(&doc, "#verdict")),
        "Blocking: 1 finding at or above high must be fixed or waived"
    );
    assert_eq!(
        text(one(&doc, "#input-errors-verdict")),
        "Not checked completely: 1 input document could not be read"
    );
    let row = |sev: &str| -> Vec<String> {
        all(
            &doc,
            &format!("#severity-counts tr[data-severity={sev}] td"),
        )
        .into_iter()
        .map(text)
        .collect()
    };
    assert_eq!(row("critical"), ["1", "1", "0"]);
    assert_eq!(row("high"), ["1", "0", "1"]);
    assert_eq!(row("medium"), ["1", "0", "1"]);
    assert_eq!(row("low"), ["1", "0", "0"]);
    assert_eq!(row("info"), ["0", "0", "0"]);
    let total: Vec<String> = all(&doc, "#severity-counts tr.total td")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(total, ["4", "1", "2"]);
}

#[test]
fn app_report_shows_every_finding_with_location_object_field_message_fix_and_rule_link() {
    let report = app_report();
    let doc = parse(&render_app_html(&report, &en()));
    let items = all(&doc, "li.item[data-filter-item]");
    assert_eq!(items.len(), report.findings.len());
    // Grouped per object: the object's name heads its group.
    let groups = all(&doc, "section.group[data-filter-group]");
    assert_eq!(groups.len(), 2);
    assert_eq!(
        text(groups[0].select(&sel("h3")).next().unwrap()),
        format!("Deployment/{EVIL_NAME} (shop)")
    );
    let first = doc.select(&sel("#finding-1")).next().unwrap();
    assert_eq!(first.value().attr("data-severity"), Some("critical"));
    assert_eq!(first.value().attr("data-group"), Some("pss-baseline"));
    assert_eq!(first.value().attr("data-waived"), Some("no"));
    assert_eq!(
        text(first.select(&sel("code.location")).next().unwrap()),
        "templates/web.yaml:21"
    );
    assert_eq!(
        text(first.select(&sel("code.field")).next().unwrap()),
        "spec.template.spec.containers[0].securityContext"
    );
    assert_eq!(
        text(first.select(&sel("dd.fix")).next().unwrap()),
        "Set the field."
    );
    let link = first.select(&sel("a.rule-link")).next().unwrap();
    assert_eq!(link.value().attr("href"), Some("#rule-pss.privileged"));
    let explain = one(&doc, "[id='rule-pss.privileged']");
    assert!(
        text(explain).contains("Because <reasons>."),
        "{}",
        text(explain)
    );
    // Only rules with findings are explained; the whole rule set is listed in the versions.
    assert_eq!(all(&doc, "section.explain").len(), 4);
    assert_eq!(all(&doc, "#all-rules li").len(), 5);
    // The filters count what they filter.
    let labels: Vec<String> = all(&doc, "#filters label").into_iter().map(text).collect();
    assert!(labels.contains(&"critical (1)".to_owned()), "{labels:?}");
    assert!(labels.contains(&"haven-plus (1)".to_owned()), "{labels:?}");
    assert!(labels.contains(&"waived (2)".to_owned()), "{labels:?}");
    assert_eq!(text(one(&doc, "#filter-status")), "Showing 4 of 4.");
}

#[test]
fn app_report_lists_waivers_errors_and_versions() {
    let doc = parse(&render_app_html(&app_report(), &en()));
    let rows: Vec<Vec<String>> = all(&doc, "#waivers tbody tr")
        .into_iter()
        .map(|r| r.select(&sel("td")).map(text).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![
                "pss.runAsNonRoot".to_owned(),
                format!("Deployment/{EVIL_NAME} (shop)"),
                "vendor image </td><b>needs root</b>".into(),
                "2027-06-30".into(),
                "waivers.yaml:4".into(),
            ],
            vec![
                "haven.scalable".into(),
                "Deployment/beat (shop)".into(),
                "Celery beat is a singleton".into(),
                "never".into(),
                "waive.haven.commonground.nl/haven.scalable".into(),
            ],
        ]
    );
    assert_eq!(
        text(one(&doc, "#input-errors li")),
        "values-<x>.yaml:7: did not find expected key (Field image.tag)"
    );
    assert_eq!(text(one(&doc, "#haven-version")), "0.1.0");
    assert_eq!(text(one(&doc, "#pod-security")), "restricted, v1.37");
    assert_eq!(
        text(one(&doc, "#rule-set")),
        "5 rules (pss-baseline 1, pss-restricted 1, haven 1, haven-plus 2)"
    );
}

#[test]
fn clean_app_report_is_not_blocking_and_has_no_filters() {
    let doc = parse(&render_app_html(&clean_app_report(), &en()));
    assert!(
        one(&doc, "section.verdict")
            .value()
            .classes()
            .any(|c| c == "good")
    );
    assert_eq!(
        text(one(&doc, "#verdict")),
        "Not blocking: no unwaived finding at or above high"
    );
    assert!(all(&doc, "#filters").is_empty());
    assert!(text(one(&doc, "#results")).contains("No findings."));
}

#[test]
fn app_report_in_dutch() {
    let doc = parse(&render_app_html(&app_report(), &nl()));
    assert_eq!(one(&doc, "html").value().attr("lang"), Some("nl"));
    assert_eq!(text(one(&doc, "h1")), "Haven-applicatiecontrole");
    assert_eq!(
        text(one(&doc, "#verdict")),
        "Blokkerend: 1 bevinding van ernst hoog of hoger moet worden opgelost of uitgezonderd"
    );
    let labels: Vec<String> = all(&doc, "#filters legend").into_iter().map(text).collect();
    assert_eq!(labels, ["Ernst", "Regelgroep", "Uitzonderingen"]);
    assert_eq!(text(one(&doc, "#filter-status")), "4 van 4 getoond.");
    assert_eq!(
        text(all(&doc, "#severity-counts th[scope=row]")[0]),
        "kritiek"
    );
    // The rules' own texts stay English and say so.
    let message = all(&doc, ".message")[0];
    assert_eq!(message.value().attr("lang"), Some("en"));
    assert_eq!(all(&doc, "dd.fix")[0].value().attr("lang"), Some("en"));
    // The same structure as in English: the same ids, in the same order.
    let ids = |doc: &Html| -> Vec<String> {
        all(doc, "[id]")
            .iter()
            .map(|e| e.value().attr("id").unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&doc),
        ids(&parse(&render_app_html(&app_report(), &en())))
    );
}

// ---------------------------------------------------------------------------------------------
// haven check

#[test]
fn cluster_report_verdicts() {
    for (run, key, en_text, nl_text, class) in [
        (
            cluster_run(false),
            "not-compliant",
            "Not compliant",
            "Voldoet niet aan Haven",
            "bad",
        ),
        (
            compliant_run(),
            "compliant",
            "Compliant",
            "Voldoet aan Haven",
            "good",
        ),
    ] {
        let report = cluster_report(run);
        let doc = parse(&render_cluster_html(&report, &en()));
        let v = one(&doc, "#verdict");
        assert_eq!(v.value().attr("data-verdict"), Some(key));
        assert_eq!(text(v), en_text);
        assert!(
            one(&doc, "section.verdict")
                .value()
                .classes()
                .any(|c| c == class)
        );
        let s = &report.run.summary;
        assert_eq!(
            text(one(&doc, "#check-counts")),
            format!(
                "{} of {} mandatory checks passed; {} failed, {} unknown, {} skipped.",
                s.passed, s.total, s.failed, s.unknown, s.skipped
            )
        );
        let doc = parse(&render_cluster_html(&report, &nl()));
        assert_eq!(text(one(&doc, "#verdict")), nl_text);
        assert_eq!(one(&doc, "html").value().attr("lang"), Some("nl"));
    }
    // A waiver that accepts every failing check: compliant with waivers, upstream's verdict not.
    let mut run = cluster_run(true);
    for r in &mut run.results {
        if !r.passing() {
            r.waiver = Some(AppliedWaiver {
                reason: "accepted".into(),
                expires: "2027-06-30".into(),
                expired: false,
                all: false,
            });
        }
    }
    run.verdict = Verdict::CompliantWithWaivers;
    let doc = parse(&render_cluster_html(&cluster_report(run), &en()));
    assert_eq!(text(one(&doc, "#verdict")), "Compliant with waivers");
    assert!(
        one(&doc, "section.verdict")
            .value()
            .classes()
            .any(|c| c == "waived")
    );
    assert_eq!(
        text(one(&doc, "#upstream-verdict")),
        "Upstream Haven Compliancy Checker verdict (waivers not applied): Not compliant"
    );
    let doc = parse(&render_cluster_html(
        &cluster_report(compliant_run()),
        &nl(),
    ));
    assert_eq!(text(one(&doc, "#verdict")), "Voldoet aan Haven");
}

#[test]
fn cluster_report_shows_each_check_with_method_evidence_rationale_and_explanation() {
    let report = cluster_report(cluster_run(true));
    let doc = parse(&render_cluster_html(&report, &en()));
    let items = all(&doc, "li.item[data-filter-item]");
    assert_eq!(items.len(), 17, "15 mandatory + 2 suggested");
    assert_eq!(all(&doc, "#mandatory-checks li.item").len(), 15);
    assert_eq!(all(&doc, "#suggested-checks li.item").len(), 2);
    for r in report.run.results.iter().chain(&report.run.suggested) {
        let item = one(&doc, &format!("[id='result-{}']", r.name));
        assert_eq!(
            item.value().attr("data-result"),
            Some(r.result.as_str().to_ascii_lowercase().as_str())
        );
        assert_eq!(
            item.value().attr("data-category"),
            Some(r.category.as_str())
        );
        let h = text(item.select(&sel("h4")).next().unwrap());
        assert!(h.contains(&r.name) && h.contains(&r.label), "{h}");
        assert_eq!(
            text(item.select(&sel("dd.method")).next().unwrap()),
            r.method
        );
        assert_eq!(
            text(item.select(&sel(".reason")).next().unwrap()),
            r.reason.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let evidence: Vec<String> = item.select(&sel("ul.evidence li")).map(text).collect();
        assert_eq!(evidence.len(), r.evidence.len(), "{}", r.name);
        for (line, key) in evidence.iter().zip(r.evidence.keys()) {
            assert!(line.starts_with(&format!("{key}: ")), "{line}");
        }
        let link = item.select(&sel("a.rule-link")).next().unwrap();
        assert_eq!(
            link.value().attr("href").unwrap(),
            format!("#check-{}", r.name)
        );
    }
    // hamasters on a one-node cluster fails; its waiver is shown with reason and expiry.
    let ha = one(&doc, "[id='result-hamasters']");
    assert_eq!(
        text(ha.select(&sel("dd.waiver")).next().unwrap()),
        "one-node dev cluster <b>bold</b> (Expires 2027-06-30; active)"
    );
    let row: Vec<String> = all(&doc, "#waivers tbody tr td")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(
        row,
        [
            "hamasters",
            "failed",
            "one-node dev cluster <b>bold</b>",
            "2027-06-30",
            "active"
        ]
    );
    // The evidence of the node with the evil name is text.
    let text_all = text(one(&doc, "main"));
    assert!(text_all.contains(EVIL_NAME));
    // Explanations of all 17 checks, with upstream's rationale.
    assert_eq!(all(&doc, "section.explain").len(), 17);
    let explain = text(one(&doc, "[id='check-multiaz']"));
    assert!(
        explain.contains(
            haven_checks::check_info("multiaz")
                .unwrap()
                .upstream_rationale
        )
    );
    // Filters by result and category, counting.
    let legends: Vec<String> = all(&doc, "#filters legend").into_iter().map(text).collect();
    assert_eq!(legends, ["Result", "Category"]);
    let failed = report
        .run
        .results
        .iter()
        .chain(&report.run.suggested)
        .filter(|r| r.result == Outcome::No)
        .count();
    assert!(
        all(&doc, "#filters label")
            .into_iter()
            .map(text)
            .any(|l| l == format!("failed ({failed})"))
    );
}

#[test]
fn cluster_report_names_its_data_and_versions() {
    let report = cluster_report(cluster_run(false));
    let doc = parse(&render_cluster_html(&report, &en()));
    assert_eq!(text(one(&doc, "#haven-version")), "0.1.0");
    assert_eq!(
        text(one(&doc, "#release-date")),
        report.run.release_data.date
    );
    let about = text(one(&doc, "#about"));
    assert!(
        about.contains("Haven Compliancy Checker v12.8 compatible"),
        "{about}"
    );
    assert!(
        about.contains("https://127.0.0.1:6443") && about.contains("kind-kind"),
        "{about}"
    );
    assert!(
        about.contains("not allowed: every check read-only"),
        "{about}"
    );
    let doc = parse(&render_cluster_html(&report, &nl()));
    let about = text(one(&doc, "#about"));
    assert!(
        about.contains("Releasegegevens") && about.contains("Versie van haven"),
        "{about}"
    );
    // Upstream's words stay as they are, marked English.
    assert_eq!(
        one(&doc, ".upstream-summary").value().attr("lang"),
        Some("en")
    );
    let ha = one(&doc, "[id='result-hamasters'] h4");
    assert!(text(ha).contains("hamasters"));
}

// ---------------------------------------------------------------------------------------------
// A waiver of everything (`all: true`) is flagged

#[test]
fn a_waiver_of_everything_is_flagged_in_both_reports() {
    let mut report = app_report();
    for f in &mut report.findings {
        f.waived = Some(Box::new(WaiverMark {
            reason: "demo".into(),
            expires: None,
            source: WaiverSource::File {
                file: "w.yaml".into(),
                line: 4,
            },
            all: true,
        }));
    }
    let doc = parse(&render_app_html(&report, &en()));
    assert_eq!(
        text(one(&doc, "#catch-all-warning")),
        "Warning: 4 findings accepted by a waiver of everything (all: true): not checked, only listed."
    );
    assert_eq!(all(&doc, "li.item .badge.catch-all").len(), 4);
    assert_eq!(all(&doc, "#waivers .badge.catch-all").len(), 4);
    assert!(text(all(&doc, "dd.waiver")[0]).ends_with("; a waiver of everything (all: true))"));
    let doc = parse(&render_app_html(&report, &nl()));
    assert!(text(one(&doc, "#catch-all-warning")).starts_with("Let op: 4 bevindingen"));
    // Without it, no warning.
    let doc = parse(&render_app_html(&app_report(), &en()));
    assert!(all(&doc, "#catch-all-warning, .badge.catch-all").is_empty());

    let waivers = vec![Waiver {
        rule: "*".into(),
        reason: "throwaway demo".into(),
        all: true,
        line: 4,
        ..Default::default()
    }];
    let mut s = ClusterSnapshot::empty();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "35".into(),
        git_version: "v1.35.2".into(),
        platform: String::new(),
    });
    let run = run_checks(
        &s,
        &CheckConfig::default(),
        &ReleaseData::embedded(),
        "2026-11-25T12:00:00Z".parse().unwrap(),
        &RunInputs {
            tool_version: "0.1.0".into(),
            cncf: true,
            waivers,
            ..Default::default()
        },
    );
    let by_all = run
        .results
        .iter()
        .chain(&run.suggested)
        .filter(|r| !r.passing() && r.waiver.as_ref().is_some_and(|w| w.all))
        .count();
    assert!(by_all > 0, "an empty cluster fails checks");
    let doc = parse(&render_cluster_html(&cluster_report(run), &en()));
    assert_eq!(
        text(one(&doc, "#catch-all-warning")),
        format!(
            "Warning: a waiver of everything (all: true) is in force; it accepts {by_all} checks that did not pass."
        )
    );
    let item = all(&doc, "li.item")
        .into_iter()
        .find(|i| i.value().attr("data-result") == Some("no"))
        .unwrap();
    assert_eq!(item.select(&sel(".badge.catch-all")).count(), 1);
    assert!(
        text(item.select(&sel("dd.waiver")).next().unwrap())
            .contains("(Expires never; active; a waiver of everything (all: true))")
    );
    assert!(text(one(&doc, "#waiver-notes")).contains("all: true"));
}
