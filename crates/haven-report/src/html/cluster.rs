//! The HTML report of `haven check`.

use haven_checks::{CHECKS, CapabilityStatus, Category, CheckResult, Outcome, Verdict};
use maud::{Markup, html};

use super::{Filter, HtmlOptions, Lang, anchor, en, evidence_value, filters, page, u};
use crate::cluster_check::{ClusterReport, upstream_summary_line};

fn check_anchor(name: &str) -> String {
    anchor("check-", name)
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Yes => "res-yes",
        Outcome::No => "res-no",
        Outcome::Unknown => "res-unknown",
        Outcome::Skipped => "res-skipped",
    }
}

/// Renders the report of `haven check` as one self-contained HTML page.
pub fn render_cluster_html(report: &ClusterReport, options: &HtmlOptions) -> String {
    let lang = options.lang;
    let t = lang.t();
    let body = html! {
        header {
            h1 { (t.cluster_title) }
            p.subtitle {
                (t.target) " " code { (u(&report.target)) }
                @if let Some(c) = &report.context { " (" (t.context) " " code { (u(c)) } ")" }
                ", " (report.started)
                @if let Some(g) = &options.generated { "; " (t.generated) " " (g) }
                " " (t.by_haven) " " (report.tool_version)
            }
        }
        main {
            (verdict(report, lang))
            (checks(report, lang))
            @if let Some(plus) = &report.run.plus { (capabilities(plus, lang)) }
            (waivers(report, lang))
            @if !report.run.read_problems.is_empty() {
                section aria-labelledby="reads-heading" {
                    h2 #reads-heading { (t.read_problems) }
                    p { (t.read_problems_intro) }
                    ul #read-problems lang=[en(lang)] {
                        @for p in &report.run.read_problems { li { (u(p)) } }
                    }
                }
            }
            (explanations(lang))
            (about(report, options))
        }
    };
    page(lang, t.cluster_title, body)
}

fn verdict(report: &ClusterReport, lang: Lang) -> Markup {
    let t = lang.t();
    let run = &report.run;
    let class = match run.verdict {
        Verdict::Compliant => "verdict good",
        Verdict::CompliantWithWaivers => "verdict waived",
        Verdict::NotCompliant => "verdict bad",
    };
    let upstream = if report.upstream_compliant() {
        Verdict::Compliant
    } else {
        Verdict::NotCompliant
    };
    html! {
        section class=(class) aria-labelledby="verdict-heading" {
            h2 #verdict-heading { (t.verdict) }
            p.verdict-text #verdict data-verdict=(verdict_key(run.verdict)) { (lang.verdict(run.verdict)) }
            p #check-counts { (lang.cluster_counts(&run.summary)) }
            @let by_all = run.results.iter().chain(&run.suggested)
                .filter(|r| !r.passing() && r.waiver.as_ref().is_some_and(|w| w.all && !w.expired))
                .count();
            @if run.results.iter().chain(&run.suggested).any(|r| r.waiver.as_ref().is_some_and(|w| w.all && !w.expired)) {
                p.warning #catch-all-warning { (lang.catch_all_checks(by_all)) }
            }
            @if !run.verdict_notes.is_empty() {
                p { (t.verdict_qualified) ":" }
                ul #verdict-notes lang=[en(lang)] { @for n in &run.verdict_notes { li { (u(n)) } } }
            }
            p #upstream-verdict { (t.upstream_verdict) ": " strong { (lang.verdict(upstream)) } }
            p.upstream-summary lang="en" { code { (upstream_summary_line(report)) } }
        }
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "compliant",
        Verdict::CompliantWithWaivers => "compliant-with-waivers",
        Verdict::NotCompliant => "not-compliant",
    }
}

fn checks(report: &ClusterReport, lang: Lang) -> Markup {
    let t = lang.t();
    let run = &report.run;
    let all: Vec<&CheckResult> = run.results.iter().chain(&run.suggested).collect();
    let outcomes = [
        Outcome::No,
        Outcome::Unknown,
        Outcome::Yes,
        Outcome::Skipped,
    ]
    .into_iter()
    .map(|o| (o, all.iter().filter(|r| r.result == o).count()))
    .filter(|(_, n)| *n > 0)
    .map(|(o, n)| {
        (
            o.as_str().to_ascii_lowercase(),
            lang.outcome(o).to_owned(),
            n,
        )
    })
    .collect();
    let mut categories: Vec<(Category, usize)> = Vec::new();
    for r in &all {
        match categories.iter_mut().find(|(c, _)| *c == r.category) {
            Some((_, n)) => *n += 1,
            None => categories.push((r.category, 1)),
        }
    }
    let dims = [
        Filter {
            name: "result",
            legend: t.result,
            options: outcomes,
        },
        Filter {
            name: "category",
            legend: t.category,
            options: categories
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), c.as_str().to_owned(), *n))
                .collect(),
        },
    ];
    html! {
        section #results aria-labelledby="checks-heading" {
            h2 #checks-heading { (t.checks) " (" (all.len()) ")" }
            (filters(lang, &dims, all.len()))
            @for (heading, id, list) in [(t.mandatory_checks, "mandatory", &run.results), (t.suggested_checks, "suggested", &run.suggested)] {
                @if !list.is_empty() {
                    section.group id={ (id) "-checks" } data-filter-group {
                        h3 { (heading) " (" (list.len()) ")" }
                        ul.items {
                            @for r in list.iter() { (check(r, lang)) }
                        }
                    }
                }
            }
        }
    }
}

fn check(r: &CheckResult, lang: Lang) -> Markup {
    let t = lang.t();
    let waived = r.waiver.as_ref().is_some_and(|w| !w.expired) && !r.passing();
    html! {
        li class={ "item " (outcome_class(r.result)) } id={ "result-" (anchor("", &r.name)) } data-filter-item
            data-result=(r.result.as_str().to_ascii_lowercase()) data-category=(r.category.as_str()) {
            h4 {
                span class={ "badge " (outcome_class(r.result)) } { (lang.outcome(r.result)) }
                @if waived { span.badge.waived { (t.waived_findings) } }
                @if waived && r.waiver.as_ref().is_some_and(|w| w.all) { span.badge.catch-all { "all: true" } }
                code.check-name { (r.name) } " — " span lang="en" { (r.label) }
            }
            p.reason lang=[en(lang)] { (u(&r.reason)) }
            dl.facts {
                dt { (t.category) } dd { (r.category.as_str()) }
                dt { (t.method) } dd.method lang=[en(lang)] { (u(&r.method)) }
                dt { (t.evidence) }
                dd lang=[en(lang)] {
                    @if r.evidence.is_empty() {
                        span.muted { (t.no_evidence) }
                    } @else {
                        ul.evidence {
                            @for (k, v) in &r.evidence { li { code { (u(k)) } ": " (evidence_value(v)) } }
                        }
                    }
                }
                dt { (t.rationale) } dd lang=[en(lang)] { (r.rationale) }
                @if let Some(w) = &r.waiver {
                    dt { (t.waiver) }
                    dd.waiver {
                        (u(&w.reason)) " (" (t.expires) " " (expiry(&w.expires, lang)) "; " (waiver_status(r, lang))
                        @if w.all { "; " strong { (t.catch_all) } }
                        ")"
                    }
                }
                dt { (t.explanation) }
                dd { a.rule-link href={ "#" (check_anchor(&r.name)) } { (r.name) } }
            }
        }
    }
}

/// A waiver's last day, or "never" for a waiver without one.
fn expiry(expires: &str, lang: Lang) -> &str {
    if expires.is_empty() {
        lang.t().never
    } else {
        expires
    }
}

fn waiver_status(r: &CheckResult, lang: Lang) -> &'static str {
    let t = lang.t();
    match &r.waiver {
        Some(w) if w.expired => t.expired,
        Some(_) if r.passing() => t.not_needed,
        _ => t.active,
    }
}

fn capabilities(plus: &[haven_checks::CapabilityReport], lang: Lang) -> Markup {
    let t = lang.t();
    html! {
        section aria-labelledby="plus-heading" {
            h2 #plus-heading { (t.plus) }
            table #capabilities {
                thead { tr {
                    th scope="col" { (t.capability) }
                    th scope="col" { (t.status) }
                    th scope="col" { (t.components) }
                    th scope="col" { (t.problems) }
                } }
                tbody {
                    @for c in plus {
                        tr {
                            th scope="row" { (u(&c.capability)) }
                            td { (match c.status {
                                CapabilityStatus::Provided => "provided",
                                CapabilityStatus::Degraded => "DEGRADED",
                                CapabilityStatus::Missing => "MISSING",
                                CapabilityStatus::Unknown => "UNKNOWN",
                            }) }
                            td {
                                @for (i, k) in c.components.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (u(&k.name))
                                    @if let Some(v) = &k.version { " " (u(v)) }
                                    @if !k.healthy { " (" (t.unhealthy) ")" }
                                }
                            }
                            td lang=[en(lang)] {
                                @for p in c.components.iter().flat_map(|k| k.problems.iter()).chain(&c.problems).chain(&c.read_problems) {
                                    (u(p)) br;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn waivers(report: &ClusterReport, lang: Lang) -> Markup {
    let t = lang.t();
    let run = &report.run;
    let waived: Vec<&CheckResult> = run
        .results
        .iter()
        .chain(&run.suggested)
        .filter(|r| r.waiver.is_some())
        .collect();
    html! {
        section aria-labelledby="waivers-heading" {
            h2 #waivers-heading { (t.waivers) " (" (waived.len()) ")" }
            @if waived.is_empty() {
                p { (t.no_waivers) }
            } @else {
                table #waivers {
                    thead { tr {
                        th scope="col" { (t.checks) }
                        th scope="col" { (t.result) }
                        th scope="col" { (t.reason) }
                        th scope="col" { (t.expires) }
                        th scope="col" { (t.status) }
                    } }
                    tbody {
                        @for r in &waived {
                            @if let Some(w) = &r.waiver {
                                tr {
                                    td { a href={ "#result-" (anchor("", &r.name)) } { code { (r.name) } } }
                                    td { (lang.outcome(r.result)) }
                                    td {
                                        (u(&w.reason))
                                        @if w.all { " " span.badge.catch-all title=(t.catch_all) { "all: true" } }
                                    }
                                    td { (expiry(&w.expires, lang)) }
                                    td { (waiver_status(r, lang)) }
                                }
                            }
                        }
                    }
                }
            }
            @if !run.waiver_notes.is_empty() {
                p { (t.notes) ":" }
                ul #waiver-notes lang=[en(lang)] { @for n in &run.waiver_notes { li { (u(n)) } } }
            }
        }
    }
}

fn explanations(lang: Lang) -> Markup {
    let t = lang.t();
    html! {
        section aria-labelledby="checks-explained-heading" {
            h2 #checks-explained-heading { (t.checks_explained) }
            p { (t.checks_explained_intro) }
            @for c in CHECKS {
                section.explain id=(check_anchor(c.name)) {
                    h3 { code { (c.name) } " — " span lang="en" { (c.label) } }
                    dl.facts {
                        dt { (t.category) } dd { (c.category.as_str()) }
                        dt { (t.question) } dd lang=[en(lang)] { (c.description) }
                        dt { (t.rationale) } dd lang=[en(lang)] { (c.rationale) }
                        dt { (t.upstream_rationale) } dd lang="en" { (c.upstream_rationale) }
                    }
                }
            }
        }
    }
}

fn about(report: &ClusterReport, options: &HtmlOptions) -> Markup {
    let lang = options.lang;
    let t = lang.t();
    let run = &report.run;
    let rd = &run.release_data;
    let yes_no = |b: bool| if b { t.yes } else { t.no };
    html! {
        section aria-labelledby="about-heading" {
            h2 #about-heading { (t.about) }
            dl.facts #about {
                dt { (t.haven_version) } dd #haven-version { (report.tool_version) }
                dt { (t.upstream_compat) } dd lang="en" { (report.upstream_version()) }
                dt { (t.release_data) }
                dd #release-data {
                    (t.release_date) " " span #release-date { (u(&rd.date)) } "; "
                    (t.release_origin) " " (u(&rd.origin)) " (" code { (u(&rd.source)) } "); "
                    @match &rd.signed_by { Some(k) => { (t.signed_by) " " (u(k)) }, None => { (t.unsigned) } }
                    @if let Some(d) = rd.age_days { "; " (lang.days_old(d)) }
                    @if let Some(why) = &rd.too_old { "; " (t.too_old) ": " span lang=[en(lang)] { (u(why)) } }
                }
                @if let Some(p) = &run.platform {
                    dt { (t.platform) } dd { (u(&p.name)) " (" span lang=[en(lang)] { (u(&p.determined_by)) } ")" }
                }
                dt { (t.target) } dd { code { (u(&report.target)) } }
                @if let Some(c) = &report.context { dt { (t.context) } dd { code { (u(c)) } } }
                dt { (t.data_source) } dd { code { (u(&report.source)) } }
                dt { (t.started) } dd { (report.started) }
                dt { (t.stopped) } dd { (report.stopped) }
                @if let Some(g) = &options.generated { dt { (t.generated) } dd { (g) } }
                dt { (t.write_probes) } dd { (if report.allow_writes { t.write_probes_on } else { t.write_probes_off }) }
                dt { (t.optional_checks) }
                dd { "CNCF " (yes_no(run.config_cncf)) ", CIS (kube-bench) " (yes_no(run.config_cis)) ", Kubescape " (yes_no(run.config_kubescape)) }
            }
        }
    }
}
