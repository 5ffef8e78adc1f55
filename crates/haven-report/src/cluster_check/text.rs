//! The text report: upstream's two tables (CATEGORY, NAME, PASSED) and summary line first, so that
//! people and scripts used to upstream find what they know; then haven's verdict with waivers,
//! the method and reason of every check that did not pass, and, with `verbose`, all evidence.

use std::fmt::Write as _;

use haven_checks::{CapabilityStatus, CheckResult, Outcome};

use super::{ClusterReport, upstream_summary_line};

/// A bordered table in the style of Go's tablewriter, which upstream prints.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = || -> String {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let row = |cells: &[String]| -> String {
        let mut s = String::from("|");
        for (c, w) in cells.iter().zip(&widths) {
            let pad = w - c.chars().count();
            let _ = write!(s, " {c}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = line();
    out.push_str(&row(&headers
        .iter()
        .map(|h| (*h).to_owned())
        .collect::<Vec<_>>()));
    out.push_str(&line());
    for r in rows {
        out.push_str(&row(r));
    }
    out.push_str(&line());
    out
}

fn passed_cell(r: &CheckResult) -> String {
    match &r.waiver {
        Some(w) if !w.expired && r.result != Outcome::Yes => {
            format!("{} (waived)", r.result.as_str())
        }
        _ => r.result.as_str().to_owned(),
    }
}

pub fn render_text(report: &ClusterReport, verbose: bool) -> String {
    let run = &report.run;
    let mut out = String::new();
    let _ = writeln!(out, "Haven compliancy check of {}", report.target);
    let _ = writeln!(
        out,
        "Release data: {} (dated {}){}",
        run.release_data.origin,
        run.release_data.date,
        if report.allow_writes {
            "; write probes allowed"
        } else {
            "; read-only"
        }
    );
    if let Some(p) = &run.platform {
        let _ = writeln!(out, "Platform: {} (from {})", p.name, p.determined_by);
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = run
        .results
        .iter()
        .map(|r| {
            vec![
                r.category.as_str().to_owned(),
                r.name.clone(),
                passed_cell(r),
            ]
        })
        .collect();
    out.push_str(&table(&["CATEGORY", "NAME", "PASSED"], &rows));
    out.push('\n');
    let rows: Vec<Vec<String>> = run
        .suggested
        .iter()
        .map(|r| {
            vec![
                r.category.as_str().to_owned(),
                r.name.clone(),
                passed_cell(r),
            ]
        })
        .collect();
    out.push_str(&table(&["CATEGORY", "NAME", "PASSED"], &rows));
    out.push('\n');
    out.push_str(&upstream_summary_line(report));
    out.push('\n');
    let _ = writeln!(out, "Verdict: {}", run.verdict.describe());

    let notable: Vec<&CheckResult> = run
        .results
        .iter()
        .chain(&run.suggested)
        .filter(|r| verbose || r.result != Outcome::Yes)
        .collect();
    if !notable.is_empty() {
        out.push('\n');
        for r in notable {
            let _ = writeln!(out, "{} {}: {}", r.result.as_str(), r.name, r.reason);
            let _ = writeln!(out, "    method: {}", r.method);
            if let Some(w) = &r.waiver {
                let _ = writeln!(
                    out,
                    "    waiver: {} (expires {}{})",
                    w.reason,
                    w.expires,
                    if w.expired {
                        ", EXPIRED: waives nothing"
                    } else {
                        ""
                    }
                );
            }
            if verbose {
                for (k, v) in &r.evidence {
                    let _ = writeln!(
                        out,
                        "    {k}: {}",
                        serde_json::to_string(v).unwrap_or_default()
                    );
                }
            }
        }
    }
    for note in &run.waiver_notes {
        let _ = writeln!(out, "note: {note}");
    }
    if !run.read_problems.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "Reads that failed (the checks needing them are UNKNOWN):"
        );
        for p in &run.read_problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    if let Some(plus) = &run.plus {
        out.push('\n');
        let rows: Vec<Vec<String>> = plus
            .iter()
            .map(|c| {
                let status = match c.status {
                    CapabilityStatus::Provided => "provided",
                    CapabilityStatus::Degraded => "DEGRADED",
                    CapabilityStatus::Missing => "MISSING",
                    CapabilityStatus::Unknown => "UNKNOWN",
                };
                let components = c
                    .components
                    .iter()
                    .map(|k| match &k.version {
                        Some(v) => format!(
                            "{} {v}{}",
                            k.name,
                            if k.healthy { "" } else { " (unhealthy)" }
                        ),
                        None => {
                            format!("{}{}", k.name, if k.healthy { "" } else { " (unhealthy)" })
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![c.capability.clone(), status.to_owned(), components]
            })
            .collect();
        out.push_str("Haven+ capabilities\n");
        out.push_str(&table(&["CAPABILITY", "STATUS", "COMPONENTS"], &rows));
        for c in plus {
            for k in &c.components {
                for p in &k.problems {
                    let _ = writeln!(out, "  {}: {}: {p}", c.capability, k.name);
                }
                if verbose {
                    for e in &k.evidence {
                        let _ = writeln!(out, "  {}: {}: found {e}", c.capability, k.name);
                    }
                }
            }
            for p in c.problems.iter().chain(&c.read_problems) {
                let _ = writeln!(out, "  {}: {p}", c.capability);
            }
        }
    }
    out
}
