//! What a fresh render would change in an existing tree.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Directories `haven plus render` owns: a file under them that the render does not produce is
/// reported as removed; anything else in the repository is left alone.
pub const MANAGED_ROOTS: &[&str] = &["clusters", "infrastructure", "tenants"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(PathBuf),
    Removed(PathBuf),
    /// The file and its unified diff (existing → rendered).
    Changed(PathBuf, String),
}

/// Compares the rendered files with the managed files of an existing tree.
pub fn diff(
    rendered: &BTreeMap<PathBuf, String>,
    existing: &BTreeMap<PathBuf, String>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for (path, new) in rendered {
        match existing.get(path) {
            None => out.push(Change::Added(path.clone())),
            Some(old) if old != new => {
                let name = path.to_string_lossy();
                let text = similar::TextDiff::from_lines(old.as_str(), new.as_str())
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string();
                out.push(Change::Changed(path.clone(), text));
            }
            Some(_) => {}
        }
    }
    for path in existing.keys() {
        if !rendered.contains_key(path) && is_managed(path) {
            out.push(Change::Removed(path.clone()));
        }
    }
    out.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    out
}

fn path_of(c: &Change) -> &PathBuf {
    match c {
        Change::Added(p) | Change::Removed(p) | Change::Changed(p, _) => p,
    }
}

pub fn is_managed(path: &std::path::Path) -> bool {
    path.components()
        .next()
        .is_some_and(|c| MANAGED_ROOTS.iter().any(|r| c.as_os_str() == *r))
}

/// `+ path`, `- path`, `~ path` and the diffs, as the CLI prints them.
pub fn format(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        match c {
            Change::Added(p) => out.push_str(&format!("+ {}\n", p.display())),
            Change::Removed(p) => out.push_str(&format!("- {}\n", p.display())),
            Change::Changed(p, _) => out.push_str(&format!("~ {}\n", p.display())),
        }
    }
    for c in changes {
        if let Change::Changed(_, d) = c {
            out.push('\n');
            out.push_str(d);
        }
    }
    out
}
