//! The human-readable report.
//!
//! ```text
//! deploy/web.yaml:1: Deployment/web (shop)
//!   critical  pss-baseline-privileged  container runs privileged  (spec.template.spec.containers[0].securityContext.privileged, line 21, container app)
//!   low       haven-topology-spread    no topology spread constraints  (spec.template.spec, line 9)  waived: zone-local by design (until 2027-01-01)
//!
//! 2 findings (1 blocking at >= high, 1 waived) in 3 objects (1 workload) from 2 files; 1 input error
//! FAIL (Pod Security restricted:v1.37)
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use haven_model::{Finding, Severity};

use crate::Report;
use crate::util::{ALL_WAIVER, best_line, plural, printable};

/// How to render [`crate::Format::Text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Use ANSI colours and dimming.
    pub color: bool,
    /// Add each rule's fix hint (and documentation link) under its findings.
    pub verbose: bool,
}

struct Styles {
    on: bool,
}

impl Styles {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn severity(severity: Severity) -> Style {
        let color = match severity {
            Severity::Critical => AnsiColor::Magenta,
            Severity::High => AnsiColor::Red,
            Severity::Medium => AnsiColor::Yellow,
            Severity::Low => AnsiColor::Cyan,
            Severity::Info => AnsiColor::Blue,
        };
        let style = Style::new().fg_color(Some(color.into()));
        if severity >= Severity::High {
            style.bold()
        } else {
            style
        }
    }
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const PASS: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

/// Renders the report for a terminal. Text taken from the input (messages, names, paths) has
/// its control characters escaped, so that a crafted manifest cannot drive the terminal.
pub fn render_text(report: &Report, options: &TextOptions) -> String {
    let st = Styles { on: options.color };
    let mut out = String::new();

    // Input errors are not listed here: the CLI prints them on stderr as `haven: error: …`
    // (one voice for every error); the summary line counts them.
    let widths = column_widths(&report.findings);
    for group in group_by_resource(&report.findings) {
        if !out.is_empty() {
            out.push('\n');
        }
        let first = group[0];
        let loc = &first.location;
        let line = if loc.document_line > 0 {
            loc.document_line
        } else {
            loc.line
        };
        let place = if line > 0 {
            format!("{}:{line}", printable(&loc.file, false))
        } else {
            printable(&loc.file, false)
        };
        let _ = writeln!(
            out,
            "{}: {}",
            place,
            st.paint(BOLD, &printable(&first.object.to_string(), false))
        );
        for f in group {
            render_finding(&mut out, report, f, &st, options, widths);
        }
    }

    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    let all = report.waived_by_all();
    if all > 0 {
        let _ = writeln!(
            out,
            "{}: {} accepted by {ALL_WAIVER}: these were not checked, only listed",
            st.paint(WARNING, "warning"),
            plural(all, "finding", "findings"),
        );
    }
    let verdict = if report.passed() {
        st.paint(PASS, "PASS")
    } else {
        st.paint(ERROR, "FAIL")
    };
    let _ = writeln!(
        out,
        "{verdict} (Pod Security {}, fail on >= {})",
        printable(&report.pss, false),
        report.fail_on
    );
    out
}

fn column_widths(findings: &[Finding]) -> (usize, usize) {
    let sev = findings
        .iter()
        .map(|f| f.severity.as_str().len())
        .max()
        .unwrap_or(0);
    let rule = findings
        .iter()
        .map(|f| f.rule.chars().count())
        .max()
        .unwrap_or(0);
    (sev, rule)
}

fn render_finding(
    out: &mut String,
    report: &Report,
    f: &Finding,
    st: &Styles,
    options: &TextOptions,
    widths: (usize, usize),
) {
    let (sev_w, rule_w) = widths;
    let sev = format!("{:<sev_w$}", f.severity.as_str());
    let rule = format!("{:<rule_w$}", f.rule);
    let mut detail = Vec::new();
    if !f.path.is_empty() {
        detail.push(printable(&f.path, false));
    }
    let line = best_line(f);
    if line > 0 {
        detail.push(format!("line {line}"));
    }
    if let Some(c) = &f.container {
        detail.push(format!("container {}", printable(c, false)));
    }
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!("  ({})", detail.join(", "))
    };
    let message = printable(&f.message, false);

    let text = match &f.waived {
        None => {
            // Colour the word, not its padding.
            let pad = " ".repeat(sev_w.saturating_sub(f.severity.as_str().len()));
            let sev = st.paint(Styles::severity(f.severity), f.severity.as_str()) + &pad;
            let blocking = if f.blocks(report.fail_on) {
                st.paint(BOLD, &message)
            } else {
                message
            };
            format!("  {sev}  {rule}  {blocking}{detail}")
        }
        Some(w) => {
            let mut waiver = if w.all {
                format!("waived by {ALL_WAIVER}: {}", printable(&w.reason, false))
            } else {
                format!("waived: {}", printable(&w.reason, false))
            };
            if let Some(until) = &w.expires {
                let _ = write!(waiver, " (until {})", printable(until, false));
            }
            st.paint(
                DIM,
                &format!("  {sev}  {rule}  {message}{detail}  {waiver}"),
            )
        }
    };
    out.push_str(text.trim_end());
    out.push('\n');

    if !options.verbose {
        return;
    }
    if let Some(rule) = report.rule(f.rule) {
        let indent = " ".repeat(2 + sev_w + 2);
        if !rule.fix.is_empty() {
            let _ = writeln!(
                out,
                "{indent}{} {}",
                st.paint(BOLD, "fix:"),
                printable(rule.fix, false)
            );
        }
        if !rule.help_uri.is_empty() {
            let _ = writeln!(
                out,
                "{indent}{} {}",
                st.paint(BOLD, "see:"),
                printable(rule.help_uri, false)
            );
        }
    }
}

/// Groups findings by resource (file, document, object), keeping the order in which each
/// resource first appears, and within a resource the order of the findings.
pub(crate) fn group_by_resource(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: HashMap<(&str, u32, &haven_model::ObjectRef), usize> = HashMap::new();
    for f in findings {
        let key = (&*f.location.file, f.location.document_line, &*f.object);
        match index.get(&key) {
            Some(&i) => groups[i].push(f),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![f]);
            }
        }
    }
    groups
}

/// `12 findings (3 blocking at >= high, 2 waived) in 7 objects (4 workloads) from 3 files; 1 input error`
pub(crate) fn summary_line(report: &Report) -> String {
    let mut s = plural(report.findings.len(), "finding", "findings");
    if !report.findings.is_empty() {
        let _ = write!(
            s,
            " ({} blocking at >= {}, {} waived)",
            report.blocking(),
            report.fail_on,
            report.waived()
        );
    }
    let _ = write!(
        s,
        " in {} ({}) from {}",
        plural(report.objects, "object", "objects"),
        plural(report.workloads, "workload", "workloads"),
        plural(report.files, "file", "files"),
    );
    if !report.errors.is_empty() {
        let _ = write!(
            s,
            "; {}",
            plural(report.errors.len(), "input error", "input errors")
        );
    }
    s
}
