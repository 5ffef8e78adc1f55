//! The HTML report of `haven app check`.

use std::collections::{BTreeSet, HashMap};

use haven_model::{Finding, RuleGroup, RuleScope, Severity, WaiverSource};
use maud::{Markup, html};

use super::{Filter, HtmlOptions, Lang, anchor, en, filters, page, u};
use crate::Report;
use crate::text::group_by_resource;
use crate::util::best_line;

/// Severities from the worst down, as the report lists them.
const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

fn rule_anchor(id: &str) -> String {
    anchor("rule-", id)
}

/// Renders the report of `haven app check` as one self-contained HTML page.
pub fn render_app_html(report: &Report, options: &HtmlOptions) -> String {
    let lang = options.lang;
    let t = lang.t();
    let body = html! {
        header {
            h1 { (t.app_title) }
            p.subtitle {
                @if let Some(g) = &options.generated { (t.generated) " " (g) " " }
                (t.by_haven) " " (report.tool_version)
            }
        }
        main {
            (verdict(report, lang))
            @if !report.errors.is_empty() { (input_errors(report, lang)) }
            (findings(report, lang))
            (waivers(report, lang))
            (explanations(report, lang))
            (about(report, options))
        }
    };
    page(lang, t.app_title, body)
}

fn verdict(report: &Report, lang: Lang) -> Markup {
    let t = lang.t();
    let blocking = report.blocking();
    let class = if blocking > 0 || !report.errors.is_empty() {
        "verdict bad"
    } else if report.waived() > 0 {
        "verdict waived"
    } else {
        "verdict good"
    };
    let row = |sev: Option<Severity>| {
        let matches = |f: &&Finding| sev.is_none_or(|s| f.severity == s);
        let all = report.findings.iter().filter(matches).count();
        let blocks = report
            .findings
            .iter()
            .filter(matches)
            .filter(|f| f.blocks(report.fail_on))
            .count();
        let waived = report
            .findings
            .iter()
            .filter(matches)
            .filter(|f| f.waived.is_some())
            .count();
        (all, blocks, waived)
    };
    html! {
        section class=(class) aria-labelledby="verdict-heading" {
            h2 #verdict-heading { (t.verdict) }
            p.verdict-text #verdict {
                @if blocking > 0 { (lang.blocking(blocking, report.fail_on)) }
                @else { (lang.not_blocking(report.fail_on)) }
            }
            @if report.waived_by_all() > 0 {
                p.warning #catch-all-warning { (lang.catch_all_findings(report.waived_by_all())) }
            }
            @if !report.errors.is_empty() {
                p.verdict-text #input-errors-verdict { (lang.input_errors_block(report.errors.len())) }
            }
            p { (lang.app_scope(report.findings.len(), report.objects, report.workloads, report.files)) }
            table #severity-counts {
                caption.muted { (t.by_severity) }
                thead { tr {
                    th scope="col" { (t.severity) }
                    th.num scope="col" { (t.findings) }
                    th.num scope="col" { (t.blocking) }
                    th.num scope="col" { (t.waived) }
                } }
                tbody {
                    @for sev in SEVERITIES {
                        @let (all, blocks, waived) = row(Some(sev));
                        tr data-severity=(sev.as_str()) {
                            th scope="row" { span class={ "badge sev-" (sev.as_str()) } { (lang.severity(sev)) } }
                            td.num { (all) } td.num { (blocks) } td.num { (waived) }
                        }
                    }
                    @let (all, blocks, waived) = row(None);
                    tr.total {
                        th scope="row" { (t.total) }
                        td.num { (all) } td.num { (blocks) } td.num { (waived) }
                    }
                }
            }
        }
    }
}

fn input_errors(report: &Report, lang: Lang) -> Markup {
    let t = lang.t();
    html! {
        section aria-labelledby="errors-heading" {
            h2 #errors-heading { (t.input_errors) " (" (report.errors.len()) ")" }
            p { (t.input_errors_intro) }
            ul #input-errors {
                @for e in &report.errors {
                    li {
                        code { (u(&e.file)) @if e.line > 0 { ":" (e.line) } }
                        ": " (u(&e.message))
                        @if let Some(field) = &e.field { " (" (t.field) " " code { (u(field)) } ")" }
                    }
                }
            }
        }
    }
}

fn findings(report: &Report, lang: Lang) -> Markup {
    let t = lang.t();
    let severities: Vec<(String, String, usize)> = SEVERITIES
        .iter()
        .map(|&s| (s, report.count(s)))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| (s.as_str().to_owned(), lang.severity(s).to_owned(), n))
        .collect();
    let mut groups: Vec<(RuleGroup, usize)> = Vec::new();
    for f in &report.findings {
        let g = group_of(report, f);
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, n)) => *n += 1,
            None => groups.push((g, 1)),
        }
    }
    groups.sort_by_key(|(g, _)| group_order(*g));
    let mut dims = vec![
        Filter {
            name: "severity",
            legend: t.severity,
            options: severities,
        },
        Filter {
            name: "group",
            legend: t.rule_group,
            options: groups
                .iter()
                .map(|(g, n)| (g.as_str().to_owned(), g.as_str().to_owned(), *n))
                .collect(),
        },
    ];
    let waived = report.waived();
    if waived > 0 {
        dims.push(Filter {
            name: "waived",
            legend: t.waiver_state,
            options: vec![
                (
                    "no".into(),
                    t.unwaived_findings.into(),
                    report.findings.len() - waived,
                ),
                ("yes".into(), t.waived_findings.into(), waived),
            ],
        });
    }
    // Ids follow the report's finding order (the waiver table links to them), whatever the
    // grouping does to the order on the page.
    let index: HashMap<*const Finding, usize> = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| (std::ptr::from_ref(f), i + 1))
        .collect();
    html! {
        section #results aria-labelledby="findings-heading" {
            h2 #findings-heading { (t.findings) " (" (report.findings.len()) ")" }
            @if report.findings.is_empty() {
                p { (t.no_findings) }
            } @else {
                (filters(lang, &dims, report.findings.len()))
                @for group in group_by_resource(&report.findings) {
                    @let first = group[0];
                    @let loc = &first.location;
                    @let line = if loc.document_line > 0 { loc.document_line } else { loc.line };
                    section.group data-filter-group {
                        h3 { (u(&first.object.to_string())) }
                        p.where.muted { code { (u(&loc.file)) @if line > 0 { ":" (line) } } }
                        ul.items {
                            @for f in group {
                                (finding(report, f, index[&std::ptr::from_ref(f)], lang))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn finding(report: &Report, f: &Finding, n: usize, lang: Lang) -> Markup {
    let t = lang.t();
    let sev = f.severity.as_str();
    let rule = report.rule(f.rule);
    let line = best_line(f);
    html! {
        li class={ "item sev-" (sev) } id={ "finding-" (n) } data-filter-item
            data-severity=(sev) data-group=(group_of(report, f).as_str())
            data-waived=(if f.waived.is_some() { "yes" } else { "no" }) {
            h4 {
                span class={ "badge sev-" (sev) } { (lang.severity(f.severity)) }
                @if f.waived.is_some() { span.badge.waived { (t.waived_findings) } }
                @if f.waived.as_ref().is_some_and(|w| w.all) { span.badge.catch-all { "all: true" } }
                span.message lang=[en(lang)] { (u(&f.message)) }
            }
            dl.facts {
                dt { (t.rule) }
                dd {
                    a.rule-link href={ "#" (rule_anchor(f.rule)) } { code { (f.rule) } }
                    @if let Some(r) = rule { " " span lang=[en(lang)] { (r.title) } }
                }
                dt { (t.location) }
                dd { code.location { (u(&f.location.file)) @if line > 0 { ":" (line) } } }
                @if !f.path.is_empty() {
                    dt { (t.field) }
                    dd { code.field { (u(&f.path)) } }
                }
                @if let Some(c) = &f.container {
                    dt { (t.container) }
                    dd { code { (u(c)) } }
                }
                @if let Some(r) = rule {
                    dt { (t.fix) }
                    dd.fix lang=[en(lang)] { (r.fix) }
                }
                @if let Some(w) = &f.waived {
                    dt { (t.waiver) }
                    dd.waiver {
                        (u(&w.reason)) " (" (t.expires) " " (w.expires.as_deref().map_or(t.never, |e| e))
                        @if w.all { "; " strong { (t.catch_all) } }
                        ")"
                    }
                }
            }
        }
    }
}

/// The rule group (level) of a finding, for the filter; rules missing from the registry count
/// as input rules.
fn group_of(report: &Report, f: &Finding) -> RuleGroup {
    report.rule(f.rule).map_or(RuleGroup::Input, |r| r.level)
}

fn group_order(g: RuleGroup) -> u8 {
    match g {
        RuleGroup::PssBaseline => 0,
        RuleGroup::PssRestricted => 1,
        RuleGroup::Haven => 2,
        RuleGroup::HavenPlus => 3,
        RuleGroup::NlLaw => 4,
        RuleGroup::Input => 5,
    }
}

fn waiver_source(s: &WaiverSource) -> String {
    match s {
        WaiverSource::File { file, line } => format!("{}:{line}", u(file)),
        WaiverSource::Annotation { key } => u(key),
    }
}

fn waivers(report: &Report, lang: Lang) -> Markup {
    let t = lang.t();
    let waived: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.waived.is_some())
        .collect();
    html! {
        section aria-labelledby="waivers-heading" {
            h2 #waivers-heading { (t.waivers) " (" (waived.len()) ")" }
            @if waived.is_empty() {
                p { (t.no_waivers) }
            } @else {
                table #waivers {
                    thead { tr {
                        th scope="col" { (t.rule) }
                        th scope="col" { (t.object) }
                        th scope="col" { (t.reason) }
                        th scope="col" { (t.expires) }
                        th scope="col" { (t.source) }
                    } }
                    tbody {
                        @for (i, f) in &waived {
                            @if let Some(w) = &f.waived {
                                tr {
                                    td { a href={ "#finding-" (i + 1) } { code { (f.rule) } } }
                                    td { (u(&f.object.to_string())) }
                                    td {
                                        (u(&w.reason))
                                        @if w.all { " " span.badge.catch-all title=(t.catch_all) { "all: true" } }
                                    }
                                    td { (w.expires.as_deref().map_or(t.never, |e| e)) }
                                    td { code { (waiver_source(&w.source)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn explanations(report: &Report, lang: Lang) -> Markup {
    let t = lang.t();
    let used: BTreeSet<&str> = report.findings.iter().map(|f| f.rule).collect();
    // Registry order (as `haven rules` lists them), then ids the registry does not know.
    let mut ids: Vec<&str> = report
        .rules
        .iter()
        .map(|r| r.id)
        .filter(|id| used.contains(id))
        .collect();
    ids.extend(used.iter().filter(|id| report.rule(id).is_none()));
    html! {
        @if !ids.is_empty() {
            section aria-labelledby="rules-heading" {
                h2 #rules-heading { (t.rules_explained) }
                p { (t.rules_explained_intro) }
                @for id in ids {
                    section.explain id=(rule_anchor(id)) {
                        @match report.rule(id) {
                            Some(r) => {
                                h3 { code { (r.id) } ": " span lang=[en(lang)] { (r.title) } }
                                dl.facts {
                                    dt { (t.level) } dd { (r.level.as_str()) }
                                    dt { (t.severity) } dd { (lang.severity(r.severity)) }
                                    dt { (t.scope) } dd { (match r.scope { RuleScope::Object => t.scope_object, RuleScope::Application => t.scope_application }) }
                                    dt { (t.why) } dd lang=[en(lang)] { (r.rationale) }
                                    dt { (t.fix) } dd lang=[en(lang)] { (r.fix) }
                                    dt { (t.reference) } dd { a href=(r.help_uri) { (r.help_uri) } }
                                }
                            }
                            None => { h3 { code { (id) } } }
                        }
                    }
                }
            }
        }
    }
}

fn about(report: &Report, options: &HtmlOptions) -> Markup {
    let lang = options.lang;
    let t = lang.t();
    let mut by_group: Vec<(RuleGroup, usize)> = Vec::new();
    for r in &report.rules {
        match by_group.iter_mut().find(|(g, _)| *g == r.level) {
            Some((_, n)) => *n += 1,
            None => by_group.push((r.level, 1)),
        }
    }
    by_group.sort_by_key(|(g, _)| group_order(*g));
    let groups = by_group
        .iter()
        .map(|(g, n)| format!("{g} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let pss = match report.pss.split_once(':') {
        Some((level, version)) => format!("{level}, {version}"),
        None if report.pss == "none" => t.pod_security_none.to_owned(),
        None => report.pss.clone(),
    };
    html! {
        section aria-labelledby="about-heading" {
            h2 #about-heading { (t.about) }
            dl.facts #about {
                dt { (t.haven_version) } dd #haven-version { (report.tool_version) }
                @if let Some(g) = &options.generated { dt { (t.generated) } dd { (g) } }
                dt { (t.pod_security) } dd #pod-security { (pss) }
                dt { (t.rule_set) } dd #rule-set { (lang.rules_in_set(report.rules.len())) @if !groups.is_empty() { " (" (groups) ")" } }
                dt { (t.fail_on) } dd { (lang.severity(report.fail_on)) }
                dt { (t.inputs) } dd { (lang.app_scope(report.findings.len(), report.objects, report.workloads, report.files)) }
            }
            @if !t.english_note.is_empty() { p.muted { (t.english_note) } }
            details {
                summary { (t.all_rules) " (" (report.rules.len()) ")" }
                ul #all-rules {
                    @for r in &report.rules {
                        li { code { (r.id) } " " span lang=[en(lang)] { (r.title) } }
                    }
                }
            }
        }
    }
}
