//! Source positions of every field of a document, kept beside its JSON value so that a finding
//! on `spec.template.spec.containers[1].image` can point at the exact line.

use compact_str::CompactString;

use crate::path::{self, Step};

/// Where a YAML node starts (1-based line, 1-based column) and what it contains.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub col: u32,
    pub kind: NodeKind,
}

/// A mapping key, the line and column of the key, and the node of its value. Keys are compact
/// strings: Kubernetes field names fit inline, so a document's position tree costs no
/// allocation per key.
pub type MapEntry = (CompactString, u32, u32, Node);

/// The structure of a node; scalar values live in the JSON twin, not here.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar,
    Seq(Vec<Node>),
    /// Keys with the position of the key itself (what an editor should jump to).
    Map(Vec<MapEntry>),
}

impl Node {
    pub fn scalar(line: u32, col: u32) -> Self {
        Self {
            line,
            col,
            kind: NodeKind::Scalar,
        }
    }

    /// The child at one step, with the line/column of its key for map entries.
    fn step(&self, step: Step<'_>) -> Option<(&Node, u32, u32)> {
        match (&self.kind, step) {
            (NodeKind::Map(entries), Step::Key(k)) => entries
                .iter()
                .rev()
                .find(|(key, ..)| key == k)
                .map(|(_, l, c, n)| (n, *l, *c)),
            (NodeKind::Seq(items), Step::Index(i)) => items.get(i).map(|n| (n, n.line, n.col)),
            _ => None,
        }
    }

    /// The node at a relative field path, if present.
    pub fn at(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for step in path::parse(path) {
            node = node.step(step)?.0;
        }
        Some(node)
    }

    /// Line and column of the deepest existing field along `path`: the field itself when it
    /// exists, else the nearest parent (a missing `resources` points at its container).
    pub fn position(&self, path: &str) -> (u32, u32) {
        let mut node = self;
        let mut pos = (self.line, self.col);
        for step in path::parse(path) {
            match node.step(step) {
                Some((child, l, c)) => {
                    node = child;
                    pos = (l, c);
                }
                None => break,
            }
        }
        pos
    }

    /// The field path of the scalar (or mapping key) written at `line`/`col`; a key's path is
    /// that of the mapping holding it.
    pub fn path_at(&self, line: u32, col: u32) -> Option<String> {
        if self.line == line && self.col == col && matches!(self.kind, NodeKind::Scalar) {
            return Some(String::new());
        }
        match &self.kind {
            NodeKind::Scalar => None,
            NodeKind::Seq(items) => items.iter().enumerate().find_map(|(i, n)| {
                n.path_at(line, col).map(|p| {
                    if p.is_empty() {
                        format!("[{i}]")
                    } else {
                        format!("[{i}]{}", prefixed(&p))
                    }
                })
            }),
            NodeKind::Map(entries) => entries.iter().find_map(|(k, kl, kc, n)| {
                if *kl == line && *kc == col {
                    return Some(String::new());
                }
                n.path_at(line, col).map(|p| {
                    let mut out = String::new();
                    path::push_key(&mut out, k);
                    if !p.is_empty() {
                        out.push_str(&prefixed(&p));
                    }
                    out
                })
            }),
        }
    }

    /// Takes the subtree at a top-level key path out, for splitting `List` items.
    pub fn into_items(self, key: &str) -> Vec<Node> {
        match self.kind {
            NodeKind::Map(entries) => entries
                .into_iter()
                .rev()
                .find(|(k, ..)| k == key)
                .and_then(|(_, _, _, n)| match n.kind {
                    NodeKind::Seq(items) => Some(items),
                    _ => None,
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// A child path appended to a parent: `[0]` stays, `name` becomes `.name`.
fn prefixed(child: &str) -> String {
    if child.starts_with('[') {
        child.to_owned()
    } else {
        format!(".{child}")
    }
}
