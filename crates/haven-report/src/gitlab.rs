//! GitLab Code Quality report: a JSON array of Code Climate issues, as GitLab documents it
//! (`description`, `check_name`, `fingerprint`, `severity`, `location.path`,
//! `location.lines.begin`).
//!
//! - Severity: info -> `info`, low -> `minor`, medium -> `major`, high -> `critical`,
//!   critical -> `blocker`.
//! - Waived findings are left out: GitLab has no notion of an accepted issue, and would show
//!   them as open in merge requests. The JSON and SARIF outputs keep them.
//! - Input errors are included, as `check_name` `haven/input-error`, severity `critical`:
//!   a file that cannot be read fails the run.
//! - `fingerprint` is a hex SHA-256 of rule, file, object (kind, namespace, name) and field
//!   path: stable across runs while the finding stays in its file, so GitLab can tell new
//!   issues from fixed ones. Identical findings get distinct fingerprints by occurrence.
//! - `location.path` is the file as given, with `/` separators and without a leading `./`
//!   (GitLab expects paths relative to the repository root); `lines.begin` is at least 1.

use std::collections::HashMap;

use haven_model::{RuleGroup, Severity};
use serde::Serialize;

use crate::Report;
use crate::util::{best_line, sha256_hex};

/// `check_name` of input errors.
const INPUT_ERROR_CHECK: &str = "haven/input-error";

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    check_name: String,
    description: String,
    categories: Vec<&'static str>,
    severity: &'static str,
    fingerprint: String,
    location: IssueLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
}

#[derive(Serialize)]
struct IssueLocation {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

#[derive(Serialize)]
struct Content {
    body: String,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// GitLab matches `location.path` against repository paths: `/` separators, no leading `./`.
fn repo_path(file: &str) -> String {
    let mut path = file.replace('\\', "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_owned();
    }
    path
}

/// Code Climate category: Pod Security rules are about security; the Haven rules about whether
/// the application fits the platform.
fn category(group: Option<RuleGroup>) -> &'static str {
    match group {
        Some(RuleGroup::PssBaseline | RuleGroup::PssRestricted | RuleGroup::NlLaw) => "Security",
        Some(RuleGroup::Input) => "Bug Risk",
        Some(RuleGroup::Haven | RuleGroup::HavenPlus) | None => "Compatibility",
    }
}

/// Gives each fingerprint a suffix by occurrence when the same one was seen before.
#[derive(Default)]
struct Unique {
    seen: HashMap<String, usize>,
}

impl Unique {
    fn fingerprint(&mut self, parts: &[&str]) -> String {
        let base = sha256_hex(parts);
        let n = self.seen.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            let occurrence = n.to_string();
            let mut with = parts.to_vec();
            with.push(&occurrence);
            sha256_hex(&with)
        }
    }
}

/// Renders the report as a GitLab Code Quality JSON array (pretty-printed, ending with a
/// newline).
pub fn render_gitlab(report: &Report) -> String {
    let mut unique = Unique::default();
    let mut issues = Vec::new();

    for e in &report.errors {
        let mut description = format!("cannot read input: {}", e.message);
        if let Some(field) = &e.field {
            description.push_str(&format!(" (field {field})"));
        }
        let line = e.line.to_string();
        issues.push(Issue {
            kind: "issue",
            check_name: INPUT_ERROR_CHECK.to_owned(),
            description,
            categories: vec!["Bug Risk"],
            severity: "critical",
            fingerprint: unique.fingerprint(&["haven-input-error/v1", &e.file, &line, &e.message]),
            location: IssueLocation {
                path: repo_path(&e.file),
                lines: Lines {
                    begin: e.line.max(1),
                },
            },
            content: None,
        });
    }

    for f in report.findings.iter().filter(|f| f.waived.is_none()) {
        let mut description = format!("{}: {}", f.object, f.message);
        if let Some(c) = &f.container {
            description.push_str(&format!(" (container {c})"));
        }
        let mut body = Vec::new();
        if !f.path.is_empty() {
            body.push(format!("Field: `{}`", f.path));
        }
        if let Some(rule) = report.rule(f.rule) {
            if !rule.fix.is_empty() {
                body.push(format!("Fix: {}", rule.fix));
            }
            if !rule.help_uri.is_empty() {
                body.push(format!("See {}", rule.help_uri));
            }
        }
        issues.push(Issue {
            kind: "issue",
            check_name: f.rule.to_owned(),
            description,
            categories: vec![category(report.rule(f.rule).map(|r| r.level))],
            severity: severity(f.severity),
            fingerprint: unique.fingerprint(&[
                "haven-finding/v1",
                f.rule,
                &f.location.file,
                &f.object.kind,
                f.object.namespace.as_deref().unwrap_or(""),
                &f.object.name,
                &f.path,
            ]),
            location: IssueLocation {
                path: repo_path(&f.location.file),
                lines: Lines {
                    begin: best_line(f).max(1),
                },
            },
            content: (!body.is_empty()).then(|| Content {
                body: body.join("\n\n"),
            }),
        });
    }

    let mut s = serde_json::to_string_pretty(&issues)
        .unwrap_or_else(|e| panic!("serialising the GitLab report failed: {e}"));
    s.push('\n');
    s
}
