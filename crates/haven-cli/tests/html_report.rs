//! The HTML reports in a real browser: `haven check -o html` on the example cluster (the recorded
//! cluster `examples/demo.sh` serves) and `haven app check --format html` on the example chart
//! and manifests, in English and with `--lang nl`, loaded by headless Chromium.
//!
//! - the DOM after the page's script ran (`--dump-dom`): language, verdict, filters shown;
//! - a screenshot (`--screenshot`): its size and that it shows the page, verdict colour included;
//! - a print to PDF: A4 pages;
//! - over the DevTools protocol: the filters driven by the keyboard (Tab, Space) with trusted key
//!   events, the skip link, the contrast of every text (WCAG AA) as rendered, no request other
//!   than the file itself, no Content-Security-Policy violation or script error, and a
//!   `<script>` in a resource name that stays text.
//!
//! They need Chromium (`chromium` on PATH, or `HAVEN_CHROMIUM`) and are
//! `#[ignore = "needs chromium …"]` (ARCHITECTURE.md, Tests): `.ci/run` installs it and runs them.
//! The chart test also needs Helm's engine (`common::require_helm`).
//! All of them together start Chromium about a dozen times: some 15-20 s.

mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use browser::{Browser, Png, chromium, dump_dom, file_url, print_to_pdf, screenshot};
use common::{repo, require_helm};
use haven_test_support::{ApiServer, FakeCluster};
use scraper::{Html, Selector};
use serde_json::{Value, json};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("haven-html-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn haven(args: &[&str], kubeconfig: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_haven"));
    cmd.args(args)
        .current_dir(repo())
        .env("HOME", std::env::temp_dir())
        .env_remove("KUBECONFIG");
    if let Some(k) = kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    cmd.output().unwrap()
}

fn fixture(name: &str) -> FakeCluster {
    FakeCluster::named(name)
}

/// `haven check -o html [extra]` against a fake cluster serving `fixture`; the page's path.
fn cluster_report(d: &Dir, fixture_name: &str, extra: &[&str], out: &str) -> PathBuf {
    let server = ApiServer::start_background(fixture(fixture_name)).unwrap();
    let kc = d.write("kubeconfig", &server.kubeconfig_yaml("fake"));
    let mut args = vec!["check", "-o", "html"];
    args.extend_from_slice(extra);
    let o = haven(&args, Some(&kc));
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "haven {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    d.write(out, &String::from_utf8(o.stdout).unwrap())
}

/// `haven app check --format html -o PAGE [args]`; the page's path and the exit code.
fn app_report(d: &Dir, args: &[&str], out: &str) -> (PathBuf, i32) {
    let page = d.path(out);
    let page_arg = page.display().to_string();
    let mut all = vec!["app", "check", "--format", "html", "-o", &page_arg];
    all.extend_from_slice(args);
    let o = haven(&all, None);
    let code = o.status.code().unwrap();
    assert!(
        code < 2 || page.exists(),
        "haven {all:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (page, code)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn text_of(doc: &Html, s: &str) -> String {
    let e = doc
        .select(&sel(s))
        .next()
        .unwrap_or_else(|| panic!("no {s} in the rendered page"));
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What every report shows once Chromium has run its script.
fn check_rendered(dom: &str, lang: &str, verdict: &str) -> Html {
    let doc = Html::parse_document(dom);
    let html = doc.select(&sel("html")).next().unwrap();
    assert_eq!(html.value().attr("lang"), Some(lang));
    assert_eq!(text_of(&doc, "#verdict"), verdict);
    let form = doc
        .select(&sel("form#filters"))
        .next()
        .expect("filters in the page");
    assert!(
        form.value().attr("hidden").is_none(),
        "the script ran and showed the filters"
    );
    let total = doc.select(&sel("[data-filter-item]")).count();
    let status = text_of(&doc, "#filter-status");
    let expected = match lang {
        "nl" => format!("{total} van {total} getoond."),
        _ => format!("Showing {total} of {total}."),
    };
    assert_eq!(status, expected);
    assert_eq!(
        doc.select(&sel("[data-filter-item][hidden]")).count(),
        0,
        "nothing filtered at first"
    );
    doc
}

/// A screenshot of the window's size, mostly page colours, with the verdict's background.
fn check_screenshot(png: &Png, width: u32, height: u32, verdict_bg: [u8; 3], what: &str) {
    assert_eq!((png.width, png.height), (width, height), "{what}");
    let st = png.stats(verdict_bg);
    assert!(
        (0.05..0.9).contains(&st.ink),
        "{what}: {:.1}% of the screenshot is not white: blank or not rendered",
        st.ink * 100.0
    );
    assert!(
        st.colours > 50,
        "{what}: only {} colours: no text rendered",
        st.colours
    );
    // The verdict box fills a good part of the first screen.
    assert!(
        st.matching > (width * height / 50) as usize,
        "{what}: verdict background {verdict_bg:?} on only {} pixels",
        st.matching
    );
    eprintln!(
        "{what}: {}x{} PNG, {} bytes, {:.1}% ink, {} colours",
        png.width,
        png.height,
        png.file_size,
        st.ink * 100.0,
        st.colours
    );
}

/// Pages of A4 (595 x 842 pt, within rounding).
fn check_a4_pdf(pdf: &[u8], what: &str) {
    let text = String::from_utf8_lossy(pdf);
    let boxes: Vec<&str> = text
        .match_indices("/MediaBox [")
        .map(|(i, _)| {
            let rest = &text[i + 11..];
            &rest[..rest.find(']').unwrap()]
        })
        .collect();
    assert!(!boxes.is_empty(), "{what}: no pages in the PDF");
    for b in &boxes {
        let n: Vec<f64> = b.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert!(
            (n[2] - 595.0).abs() < 1.5 && (n[3] - 842.0).abs() < 1.5,
            "{what}: page is not A4: {b}"
        );
    }
    eprintln!("{what}: {} A4 pages", boxes.len());
}

const GOOD_BG: [u8; 3] = [0xe6, 0xf4, 0xea];
const BAD_BG: [u8; 3] = [0xfc, 0xe8, 0xe6];

#[test]
#[ignore = "needs chromium (cargo test -- --include-ignored)"]
fn example_cluster_report_renders_in_chromium_in_english_and_dutch() {
    let chromium = chromium();
    let d = Dir::new("cluster");
    for (lang, verdict) in [("en", "Compliant"), ("nl", "Voldoet aan Haven")] {
        let page = cluster_report(
            &d,
            "compliant.yaml",
            &["--lang", lang],
            &format!("cluster-{lang}.html"),
        );
        let doc = check_rendered(&dump_dom(&chromium, &page), lang, verdict);
        assert_eq!(doc.select(&sel("#mandatory-checks li.item")).count(), 15);
        assert_eq!(doc.select(&sel("#suggested-checks li.item")).count(), 2);
        assert!(text_of(&doc, "#release-data").contains(&text_of(&doc, "#release-date")));
        let png = screenshot(&chromium, &page, 1280, 900);
        check_screenshot(
            &png,
            1280,
            900,
            GOOD_BG,
            &format!("cluster report ({lang})"),
        );
        if lang == "en" {
            check_a4_pdf(&print_to_pdf(&chromium, &page), "cluster report");
        }
    }
}

#[test]
#[ignore = "needs chromium and helm-python-sdk (cargo test -- --include-ignored)"]
fn example_chart_report_renders_in_chromium_in_english_and_dutch() {
    let chromium = chromium();
    require_helm();
    let d = Dir::new("chart");
    for (lang, verdict) in [
        (
            "en",
            "Blocking: 6 findings at or above high must be fixed or waived",
        ),
        (
            "nl",
            "Blokkerend: 6 bevindingen van ernst hoog of hoger moeten worden opgelost of uitgezonderd",
        ),
    ] {
        let (page, code) = app_report(
            &d,
            &[
                "examples/charts/zaakregister",
                "--helm",
                "tools/helm",
                "-n",
                "zaken",
                "--release",
                "zaken",
                "--lang",
                lang,
            ],
            &format!("chart-{lang}.html"),
        );
        assert_eq!(code, 1, "the chart as shipped has blocking findings");
        let doc = check_rendered(&dump_dom(&chromium, &page), lang, verdict);
        assert!(doc.select(&sel("[data-filter-item]")).count() >= 6);
        let first = text_of(&doc, "code.location");
        assert!(
            first.starts_with("examples/charts/zaakregister/templates/"),
            "{first}"
        );
        let png = screenshot(&chromium, &page, 1280, 900);
        check_screenshot(&png, 1280, 900, BAD_BG, &format!("chart report ({lang})"));
        if lang == "en" {
            check_a4_pdf(&print_to_pdf(&chromium, &page), "chart report");
        }
    }
}

/// Every visible element with text of its own: the contrast of its colour against the first
/// non-transparent background behind it, as WCAG 2 computes it; AA needs 4.5:1 (3:1 for large
/// text: 24px, or 18.66px bold). Returns the failures.
const CONTRAST_JS: &str = r#"(() => {
  const rgb = s => { const m = s.match(/[\d.]+/g).map(Number); return m.length > 3 ? m : m.concat([1]); };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c[3] > 0) return c; } return [255, 255, 255, 1]; };
  const bad = []; let checked = 0;
  for (const e of document.querySelectorAll('body *')) {
    if (!e.getClientRects().length) continue;
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const st = getComputedStyle(e);
    if (st.visibility === 'hidden') continue;
    const fg = rgb(st.color), b = bg(e);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    checked++;
    if (ratio < need) bad.push(e.tagName + '.' + e.className + ' "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return {checked, bad};
})()"#;

/// Counts of the filterable items: all, shown, shown with `attr=value`.
fn shown(b: &mut Browser, s: &str, attr: &str, value: &str) -> (u64, u64, u64) {
    let v = b.eval(
        s,
        &format!(
            r#"(() => {{ const all = [...document.querySelectorAll('[data-filter-item]')];
                const vis = all.filter(e => !e.hidden && e.getClientRects().length > 0);
                return [all.length, vis.length, vis.filter(e => e.getAttribute('data-{attr}') === '{value}').length]; }})()"#
        ),
    );
    let n = |i: usize| v[i].as_u64().unwrap();
    (n(0), n(1), n(2))
}

fn active(b: &mut Browser, s: &str) -> Value {
    b.eval(
        s,
        "(() => { const e = document.activeElement; return {tag: e.tagName, id: e.id, name: e.name || null, value: e.value || null, checked: e.checked === undefined ? null : e.checked, href: e.getAttribute('href')}; })()",
    )
}

/// A page is clean: contrast AA, only the file itself requested, no CSP report or error.
fn check_page_hygiene(b: &mut Browser, s: &str, url: &str, what: &str) {
    let contrast = b.eval(s, CONTRAST_JS);
    assert!(
        contrast["checked"].as_u64().unwrap() > 50,
        "{what}: {contrast}"
    );
    assert_eq!(
        contrast["bad"],
        json!([]),
        "{what}: text below WCAG AA contrast"
    );
    let requests = b.requests(s);
    assert_eq!(requests, [url.to_owned()], "{what}: loads only itself");
    let log = b.log_messages(s);
    assert!(log.is_empty(), "{what}: console/log messages: {log:?}");
}

#[test]
#[ignore = "needs chromium (cargo test -- --include-ignored)"]
fn filters_work_from_the_keyboard_and_a_script_in_a_name_stays_text() {
    let chromium = chromium();
    let d = Dir::new("keys");
    let evil = d.write(
        "evil.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: "<script>document.title='pwned'</script>"
  namespace: "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
spec:
  replicas: 1
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
      - name: "</code><script>document.body.setAttribute('data-pwned','2')</script>"
        image: "nginx:<b>latest</b>"
"#,
    );
    let evil_arg = evil.display().to_string();
    let mut browser = Browser::launch(&chromium, 1280, 900);
    for (lang, status_high_off) in [
        ("en", "Showing {n} of {t}."),
        ("nl", "{n} van {t} getoond."),
    ] {
        let (page, code) = app_report(
            &d,
            &["examples/manifests", &evil_arg, "--lang", lang],
            &format!("app-{lang}.html"),
        );
        assert_eq!(code, 2, "examples/manifests holds an unreadable document");
        let url = file_url(&page);
        let b = &mut browser;
        let s = b.open(&url);
        let what = format!("app report ({lang})");

        // The names with markup are text: no script ran, no element was made of them.
        assert_eq!(
            b.eval(&s, "document.title"),
            json!(match lang {
                "nl" => "Haven-applicatiecontrole",
                _ => "Haven application check",
            })
        );
        assert_eq!(
            b.eval(&s, "document.body.hasAttribute('data-pwned')"),
            json!(false)
        );
        assert_eq!(b.eval(&s, "document.scripts.length"), json!(1));
        assert_eq!(
            b.eval(&s, "document.querySelectorAll('main img, main b').length"),
            json!(0)
        );
        let shown_name = b.eval(
            &s,
            "[...document.querySelectorAll('main h3')].map(h => h.textContent).join('\\n')",
        );
        assert!(
            shown_name
                .as_str()
                .unwrap()
                .contains("<script>document.title='pwned'</script>"),
            "{shown_name}"
        );
        check_page_hygiene(b, &s, &url, &what);

        // Tab: the skip link first; Enter follows it to the results.
        b.press(&s, "Tab", false);
        assert_eq!(active(b, &s)["href"], json!("#results"), "{what}");
        b.press(&s, "Enter", false);
        assert_eq!(b.eval(&s, "location.hash"), json!("#results"));
        // Tab: the first filter box, severity high (there is no critical finding).
        b.press(&s, "Tab", false);
        let a = active(b, &s);
        assert_eq!(
            (a["name"].clone(), a["value"].clone(), a["checked"].clone()),
            (json!("severity"), json!("high"), json!(true)),
            "{what}: focus after the skip link: {a}"
        );
        let (total, all_shown, high) = shown(b, &s, "severity", "high");
        assert_eq!(all_shown, total);
        assert!(high > 0);
        // Space unticks it: every high finding is hidden, the rest stays, the status says so.
        b.press(&s, " ", false);
        assert_eq!(
            active(b, &s)["checked"],
            json!(false),
            "{what}: Space toggles"
        );
        let (_, now_shown, high_now) = shown(b, &s, "severity", "high");
        assert_eq!((now_shown, high_now), (total - high, 0), "{what}");
        let expected = status_high_off
            .replace("{n}", &(total - high).to_string())
            .replace("{t}", &total.to_string());
        assert_eq!(
            b.eval(&s, "document.getElementById('filter-status').textContent"),
            json!(expected)
        );
        // A group left empty is hidden with its heading.
        let empty_groups = b.eval(
            &s,
            "[...document.querySelectorAll('[data-filter-group]')].filter(g => !g.querySelector('[data-filter-item]:not([hidden])')).every(g => g.hidden && g.getClientRects().length === 0)",
        );
        assert_eq!(empty_groups, json!(true), "{what}");
        // Tab to the next box (medium), Space: medium hidden too; Shift+Tab back, Space: high back.
        b.press(&s, "Tab", false);
        assert_eq!(active(b, &s)["value"], json!("medium"));
        b.press(&s, " ", false);
        let (_, _, medium) = shown(b, &s, "severity", "medium");
        assert_eq!(medium, 0);
        b.press(&s, "Tab", true);
        assert_eq!(active(b, &s)["value"], json!("high"));
        b.press(&s, " ", false);
        let (_, _, high_back) = shown(b, &s, "severity", "high");
        assert_eq!(high_back, high, "{what}: high findings shown again");
        // The links to the explanations land on the rule's section.
        let first_rule = b.eval(
            &s,
            "document.querySelector('a.rule-link').getAttribute('href')",
        );
        let target = first_rule.as_str().unwrap()[1..].to_owned();
        assert!(
            b.eval(
                &s,
                &format!("document.getElementById({}) !== null", json!(target))
            )
            .as_bool()
            .unwrap(),
            "{what}: {first_rule} has no target"
        );
        let log = b.log_messages(&s);
        assert!(log.is_empty(), "{what}: {log:?}");
    }

    // The cluster report's filters: a failing cluster, result "failed" unticked.
    let page = cluster_report(&d, "kind-dev.yaml", &[], "cluster-dev.html");
    let url = file_url(&page);
    let b = &mut browser;
    let s = b.open(&url);
    check_page_hygiene(b, &s, &url, "cluster report of kind-dev");
    let (total, _, failed) = shown(b, &s, "result", "no");
    assert!(failed > 0, "kind-dev fails checks");
    b.press(&s, "Tab", false);
    b.press(&s, "Tab", false);
    let a = active(b, &s);
    assert_eq!(
        (a["name"].clone(), a["value"].clone()),
        (json!("result"), json!("no")),
        "{a}"
    );
    b.press(&s, " ", false);
    let (_, now, failed_now) = shown(b, &s, "result", "no");
    assert_eq!((now, failed_now), (total - failed, 0));
}

#[test]
fn lang_is_for_the_html_report_only_and_html_is_a_format_of_both_commands() {
    let o = haven(
        &["app", "check", "examples/manifests", "--lang", "nl"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "haven: error: --lang applies to the HTML report only; add `--format html`\n"
    );
    let o = haven(
        &[
            "check",
            "--snapshot",
            "none.json",
            "-o",
            "json",
            "--lang",
            "nl",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "haven: error: --lang applies to the HTML report only; add `-o html`\n"
    );
    // To standard output, as every other format.
    let o = haven(
        &[
            "app",
            "check",
            "examples/manifests",
            "--format",
            "html",
            "--lang",
            "nl",
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unreadable document in examples/manifests"
    );
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html><html lang=\"nl\">"),
        "{}",
        &page[..80.min(page.len())]
    );
    let o = haven(&["app", "check", "--help"], None);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("--lang <LANG>") && help.contains("html"),
        "{help}"
    );
    let o = haven(&["check", "--help"], None);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("--lang <LANG>") && help.contains("html"),
        "{help}"
    );
}
