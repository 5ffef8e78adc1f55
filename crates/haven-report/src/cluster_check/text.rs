//! The text report in upstream's layout: the run's facts (target, platform, server version,
//! release data), upstream's summary line, then "Compliancy checks results:" and "Suggested checks
//! results:" as box-drawn tables with columns CATEGORY, NAME (upstream's label, verbatim) and
//! PASSED, as upstream prints them with Go's tablewriter. After that, haven's own: the verdict
//! with what qualifies it, the method and reason of every check that did not pass (`-v`: of every
//! check, with haven's description and the evidence), waivers and failed reads.

use std::fmt::Write as _;

use haven_checks::{CapabilityStatus, CheckResult, Outcome};

use super::{ClusterReport, upstream_summary_line};

/// A box-drawn table as upstream prints it (tablewriter's Unicode style): headers centred,
/// cells left-aligned, one space of padding.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |left: char, mid: char, right: char| -> String {
        let mut s = String::from(left);
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                s.push(mid);
            }
            s.push_str(&"─".repeat(w + 2));
        }
        s.push(right);
        s.push('\n');
        s
    };
    let row = |cells: &[String], centre: bool| -> String {
        let mut s = String::from("│");
        for (c, w) in cells.iter().zip(&widths) {
            let pad = w - c.chars().count();
            let (before, after) = if centre {
                (pad / 2, pad - pad / 2)
            } else {
                (0, pad)
            };
            let _ = write!(s, " {}{c}{} │", " ".repeat(before), " ".repeat(after));
        }
        s.push('\n');
        s
    };
    let mut out = line('┌', '┬', '┐');
    out.push_str(&row(
        &headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>(),
        true,
    ));
    out.push_str(&line('├', '┼', '┤'));
    for r in rows {
        out.push_str(&row(r, false));
    }
    out.push_str(&line('└', '┴', '┘'));
    out
}

fn passed_cell(r: &CheckResult) -> String {
    match &r.waiver {
        Some(w) if !w.expired && r.result != Outcome::Yes && w.all => {
            format!("{} (waived: all)", r.result.as_str())
        }
        Some(w) if !w.expired && r.result != Outcome::Yes => {
            format!("{} (waived)", r.result.as_str())
        }
        _ => r.result.as_str().to_owned(),
    }
}

pub fn render_text(report: &ClusterReport, verbose: bool) -> String {
    let run = &report.run;
    let mut out = String::new();
    match &report.context {
        Some(c) => {
            let _ = writeln!(
                out,
                "Haven compliancy check of {} (context {c})",
                report.target
            );
        }
        None => {
            let _ = writeln!(out, "Haven compliancy check of {}", report.target);
        }
    }
    if let Some(p) = &run.platform {
        let _ = writeln!(
            out,
            "Kubernetes host platform: {} (from {})",
            p.name, p.determined_by
        );
    }
    let rd = &run.release_data;
    let _ = writeln!(
        out,
        "Release data: {}, dated {}{}{}{}",
        rd.origin,
        rd.date,
        rd.age_days
            .filter(|d| *d >= 0)
            .map(|d| format!(" ({d} days old)"))
            .unwrap_or_default(),
        rd.signed_by
            .as_ref()
            .map(|k| format!(", signed by {k}"))
            .unwrap_or_default(),
        if report.allow_writes {
            "; write probes allowed"
        } else {
            "; read-only"
        }
    );
    out.push_str(&upstream_summary_line(report));
    out.push('\n');
    let rows = |results: &[CheckResult]| -> Vec<Vec<String>> {
        results
            .iter()
            .map(|r| {
                vec![
                    r.category.as_str().to_owned(),
                    r.label.clone(),
                    passed_cell(r),
                ]
            })
            .collect()
    };
    out.push_str("\nCompliancy checks results:\n\n");
    out.push_str(&table(&["CATEGORY", "NAME", "PASSED"], &rows(&run.results)));
    out.push_str("\nSuggested checks results:\n\n");
    out.push_str(&table(
        &["CATEGORY", "NAME", "PASSED"],
        &rows(&run.suggested),
    ));
    out.push('\n');
    let _ = writeln!(out, "Verdict: {}", run.verdict_line());

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
            if verbose {
                let _ = writeln!(out, "    question: {}", r.description);
            }
            let _ = writeln!(out, "    method: {}", r.method);
            if let Some(w) = &r.waiver {
                let _ = writeln!(
                    out,
                    "    waiver: {} (expires {}{}{})",
                    w.reason,
                    w.expires,
                    if w.all {
                        format!("; {}", crate::util::ALL_WAIVER)
                    } else {
                        String::new()
                    },
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
