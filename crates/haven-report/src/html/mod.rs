//! The HTML reports of `haven app check --format html` and `haven check -o html`: one
//! self-contained file for people who do not read JSON (a CISO, an auditor, a purchaser).
//!
//! - **Verdict first**, then every check or finding with its evidence, the waivers with reason and
//!   expiry, an explanation section per rule or check (each finding links to it), and the data
//!   and tool versions used.
//! - **Self-contained**: inline CSS and a few lines of inline JS, no other file, font or image.
//!   A `Content-Security-Policy` with the hashes of exactly that CSS and JS forbids everything
//!   else, so the page works offline, and a `<script>` that got into the page some other way would
//!   not run either.
//! - **Escaping**: the markup is built with [`maud`], which escapes every value spliced into text
//!   or attributes; untrusted strings (object names, messages, reasons) are also stripped of
//!   control and bidirectional-override characters first, as in the text report.
//! - **Accessible**: `lang`, one `h1`, `h2` per section, native checkboxes in fieldsets with
//!   legends for the filters (keyboard-usable without any script of ours), a live status line,
//!   WCAG AA contrast, a skip link. **Print**: A4 page size, filters hidden, nothing split inside a
//!   finding.
//! - **Languages**: [`Lang::En`] and [`Lang::Nl`] for haven's labels and verdicts; upstream's
//!   check names and the rules' texts stay as they are.
//!
//! Why maud: the templates are Rust expressions checked by the compiler against the report types
//! (a renamed field breaks the build, not the report), escaping is the default and opting out is
//! an explicit `PreEscaped`, and it needs no template files or runtime engine (askama would add
//! a template directory and a second syntax for the same result).
//!
//! Renderers are pure: the clock is read by the caller and passed as [`HtmlOptions::generated`].

mod app;
mod cluster;
mod i18n;

use std::fmt::Write as _;
use std::sync::OnceLock;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

pub use app::render_app_html;
pub use cluster::render_cluster_html;
pub use i18n::Lang;

use crate::util::printable;

/// How to render an HTML report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlOptions {
    pub lang: Lang,
    /// When the report was made (shown as is, e.g. RFC 3339); `None` leaves it out, so that the
    /// same run renders to the same bytes.
    pub generated: Option<String>,
}

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("filter.js");

/// `'sha256-…'` of a CSP source: the base64 SHA-256 of the exact text of the element.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page's Content-Security-Policy: nothing may load, only our own style and script run.
pub(crate) fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
            csp_hash(CSS),
            csp_hash(JS)
        )
    })
}

/// The page around `body`: head with the policy, style and title; the script last.
fn page(lang: Lang, title: &str, body: Markup) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                meta name="generator" content={ "haven " (env!("CARGO_PKG_VERSION")) };
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                a.skip href="#results" { (lang.t().skip_to_results) }
                (body)
                script { (PreEscaped(JS)) }
            }
        }
    };
    let mut s = markup.into_string();
    s.push('\n');
    s
}

/// Text from the input (object names, messages, reasons): control and bidi-override characters
/// shown as escapes, as in the text report. maud escapes the markup characters.
fn u(s: &str) -> String {
    printable(s, false)
}

/// `lang="en"` for text that stays English (messages, rationales, upstream's words) in a report
/// in another language, so that screen readers pronounce it as English.
fn en(lang: Lang) -> Option<&'static str> {
    (lang != Lang::En).then_some("en")
}

/// One filter dimension: checkboxes named `name`, one per value, all ticked at first. Items carry
/// `data-<name>="<value>"`.
struct Filter<'a> {
    name: &'static str,
    legend: &'a str,
    /// (value, label, how many items have it)
    options: Vec<(String, String, usize)>,
}

/// The filter form (hidden until the script shows it) and the status line.
fn filters(lang: Lang, filters: &[Filter<'_>], total: usize) -> Markup {
    let t = lang.t();
    let template = lang.shown();
    let initial = template
        .replace("{shown}", &total.to_string())
        .replace("{total}", &total.to_string());
    html! {
        form #filters hidden aria-label=(t.filters) {
            p.muted { (t.filter_help) }
            @for f in filters {
                fieldset {
                    legend { (f.legend) }
                    @for (value, label, count) in &f.options {
                        @let id = format!("filter-{}-{}", f.name, value);
                        label for=(id) {
                            input type="checkbox" id=(id) name=(f.name) value=(value) checked;
                            (label) " (" (count) ")"
                        }
                    }
                }
            }
        }
        p #filter-status .status role="status" aria-live="polite" data-template=(template) { (initial) }
    }
}

/// `key: value` lines of structured evidence: strings as they are, lists of strings joined, the
/// rest as compact JSON; nothing (an empty list or string) as a dash, so the line is not blank.
fn evidence_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) if s.is_empty() => "—".to_owned(),
        serde_json::Value::Array(items) if items.is_empty() => "—".to_owned(),
        serde_json::Value::String(s) => u(s),
        serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => items
            .iter()
            .filter_map(serde_json::Value::as_str)
            .map(u)
            .collect::<Vec<_>>()
            .join(", "),
        other => u(&other.to_string()),
    }
}

/// An id usable in `id` and `#fragment` for a rule or check name: names are ASCII identifiers
/// with `.`, `-` and `_`; anything else is replaced, so the link always matches the anchor.
fn anchor(prefix: &str, name: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + name.len());
    s.push_str(prefix);
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            s.push(c);
        } else {
            let _ = write!(s, "_{:x}", c as u32);
        }
    }
    s
}

#[cfg(test)]
mod tests;
