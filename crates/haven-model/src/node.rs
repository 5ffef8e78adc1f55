//! Source positions of every field of a document, kept beside its JSON value so that a finding
//! on `spec.template.spec.containers[1].image` can point at the exact line.
//!
//! A document's positions live in one flat vector ([`Node`]), the children of each mapping or
//! sequence side by side in it. A tree of one vector per mapping cost an allocation for each
//! and a walk of every branch to free it: on a large corpus, freeing the position trees alone
//! was about 5% of `haven app check`.

use compact_str::CompactString;

use crate::path::{self, Step};

/// What a node contains; scalar values live in the JSON twin, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Scalar,
    Seq,
    Map,
}

/// Where a node starts (1-based line and column), its shape, and where its children are in
/// the document's vector of slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    pub(crate) line: u32,
    pub(crate) col: u32,
    shape: Shape,
    first: u32,
    len: u32,
}

impl View {
    pub(crate) fn scalar(line: u32, col: u32) -> Self {
        Self {
            line,
            col,
            shape: Shape::Scalar,
            first: 0,
            len: 0,
        }
    }
}

/// A child: a mapping entry (its key, and the position of the key, which is what an editor
/// should jump to) or a sequence item (no key; the key position is the item's own).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slot {
    /// Kubernetes field names fit inline: no allocation per key.
    key: CompactString,
    key_line: u32,
    key_col: u32,
    node: View,
}

/// The source positions of one document: where its root starts, and every node below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub col: u32,
    root: View,
    /// Children of each node side by side, in the order a parser finishes them (a node's
    /// children after every descendant of theirs).
    slots: Vec<Slot>,
}

impl Node {
    /// A document that is one scalar, or whose positions below the root are not kept.
    pub fn scalar(line: u32, col: u32) -> Self {
        Self {
            line,
            col,
            root: View::scalar(line, col),
            slots: Vec::new(),
        }
    }

    fn children(&self, v: View) -> &[Slot] {
        &self.slots[v.first as usize..(v.first + v.len) as usize]
    }

    /// The child at one step, with the line/column of its key for map entries.
    fn step(&self, v: View, step: Step<'_>) -> Option<(View, u32, u32)> {
        let children = self.children(v);
        match (v.shape, step) {
            (Shape::Map, Step::Key(k)) => children
                .iter()
                .rev()
                .find(|s| s.key == k)
                .map(|s| (s.node, s.key_line, s.key_col)),
            (Shape::Seq, Step::Index(i)) => {
                children.get(i).map(|s| (s.node, s.key_line, s.key_col))
            }
            _ => None,
        }
    }

    /// Line and column of the deepest existing field along `path`: the field itself when it
    /// exists, else the nearest parent (a missing `resources` points at its container).
    pub fn position(&self, path: &str) -> (u32, u32) {
        let mut v = self.root;
        let mut pos = (self.line, self.col);
        for step in path::parse(path) {
            match self.step(v, step) {
                Some((child, l, c)) => {
                    v = child;
                    pos = (l, c);
                }
                None => break,
            }
        }
        pos
    }

    /// The positions along `path`, the document's first, then each existing field down to the
    /// deepest (the last is [`Node::position`]'s answer): a field without a line of its own in
    /// a template is found at the nearest enclosing one that has.
    pub fn positions(&self, path: &str) -> Vec<(u32, u32)> {
        let mut v = self.root;
        let mut out = vec![(self.line, self.col)];
        for step in path::parse(path) {
            match self.step(v, step) {
                Some((child, l, c)) => {
                    v = child;
                    out.push((l, c));
                }
                None => break,
            }
        }
        out
    }

    /// The field path of the scalar (or mapping key) written at `line`/`col`; a key's path is
    /// that of the mapping holding it.
    pub fn path_at(&self, line: u32, col: u32) -> Option<String> {
        self.path_below(self.root, line, col)
    }

    fn path_below(&self, v: View, line: u32, col: u32) -> Option<String> {
        if v.line == line && v.col == col && v.shape == Shape::Scalar {
            return Some(String::new());
        }
        let children = self.children(v);
        match v.shape {
            Shape::Scalar => None,
            Shape::Seq => children.iter().enumerate().find_map(|(i, s)| {
                self.path_below(s.node, line, col).map(|p| {
                    if p.is_empty() {
                        format!("[{i}]")
                    } else {
                        format!("[{i}]{}", prefixed(&p))
                    }
                })
            }),
            Shape::Map => children.iter().find_map(|s| {
                if s.key_line == line && s.key_col == col {
                    return Some(String::new());
                }
                self.path_below(s.node, line, col).map(|p| {
                    let mut out = String::new();
                    path::push_key(&mut out, &s.key);
                    if !p.is_empty() {
                        out.push_str(&prefixed(&p));
                    }
                    out
                })
            }),
        }
    }

    /// The items of the sequence at a top-level key, each as a document of its own, for
    /// splitting `List` items.
    pub fn into_items(self, key: &str) -> Vec<Node> {
        let Some((seq, ..)) = self.step(self.root, Step::Key(key)) else {
            return Vec::new();
        };
        if seq.shape != Shape::Seq {
            return Vec::new();
        }
        self.children(seq)
            .iter()
            .map(|item| {
                let mut arena = Arena::default();
                let root = arena.copy(&self, item.node);
                arena.finish(root)
            })
            .collect()
    }

    /// Flattens a tree built by the full parser.
    /// Replaces every column by `f(line, column)` (the fast path counts bytes while it reads).
    pub(crate) fn map_columns(&mut self, mut f: impl FnMut(u32, u32) -> u32) {
        self.col = f(self.line, self.col);
        self.root.col = f(self.root.line, self.root.col);
        for s in &mut self.slots {
            s.key_col = f(s.key_line, s.key_col);
            s.node.col = f(s.node.line, s.node.col);
        }
    }

    pub(crate) fn from_tree(tree: Tree) -> Self {
        let mut arena = Arena::default();
        let root = arena.graft(tree);
        arena.finish(root)
    }
}

/// Builds a [`Node`]: children are pushed as they are read, and a mapping or sequence, once
/// complete, moves its run of children into the document's vector in one piece.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    slots: Vec<Slot>,
    /// Children of the mappings and sequences still being read, nested ones above their parents.
    pending: Vec<Slot>,
}

impl Arena {
    /// An arena for a document of about `slots` fields.
    pub(crate) fn with_capacity(slots: usize) -> Self {
        Self {
            slots: Vec::with_capacity(slots),
            pending: Vec::with_capacity(32),
        }
    }

    /// Where the children of a mapping or sequence that starts now begin.
    pub(crate) fn mark(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn push_entry(
        &mut self,
        key: CompactString,
        key_line: u32,
        key_col: u32,
        node: View,
    ) {
        self.pending.push(Slot {
            key,
            key_line,
            key_col,
            node,
        });
    }

    pub(crate) fn push_item(&mut self, node: View) {
        self.pending.push(Slot {
            key: CompactString::const_new(""),
            key_line: node.line,
            key_col: node.col,
            node,
        });
    }

    fn close(&mut self, mark: usize, shape: Shape, line: u32, col: u32) -> View {
        let first = self.slots.len() as u32;
        self.slots.extend(self.pending.drain(mark..));
        View {
            line,
            col,
            shape,
            first,
            len: self.slots.len() as u32 - first,
        }
    }

    /// The mapping whose entries were pushed since `mark`.
    pub(crate) fn close_map(&mut self, mark: usize, line: u32, col: u32) -> View {
        self.close(mark, Shape::Map, line, col)
    }

    /// The sequence whose items were pushed since `mark`.
    pub(crate) fn close_seq(&mut self, mark: usize, line: u32, col: u32) -> View {
        self.close(mark, Shape::Seq, line, col)
    }

    /// Adds a tree built the slow way, in the order [`Arena::close`] would have.
    pub(crate) fn graft(&mut self, tree: Tree) -> View {
        let mark = self.mark();
        match tree.kind {
            TreeKind::Scalar => View::scalar(tree.line, tree.col),
            TreeKind::Seq(items) => {
                for item in items {
                    let v = self.graft(item);
                    self.push_item(v);
                }
                self.close_seq(mark, tree.line, tree.col)
            }
            TreeKind::Map(entries) => {
                for (key, kl, kc, child) in entries {
                    let v = self.graft(child);
                    self.push_entry(key, kl, kc, v);
                }
                self.close_map(mark, tree.line, tree.col)
            }
        }
    }

    /// Copies the subtree at `v` of `from`, in the same order.
    fn copy(&mut self, from: &Node, v: View) -> View {
        if v.shape == Shape::Scalar {
            return v;
        }
        let mark = self.mark();
        for s in from.children(v) {
            let node = self.copy(from, s.node);
            self.pending.push(Slot {
                key: s.key.clone(),
                key_line: s.key_line,
                key_col: s.key_col,
                node,
            });
        }
        self.close(mark, v.shape, v.line, v.col)
    }

    pub(crate) fn finish(self, root: View) -> Node {
        debug_assert!(self.pending.is_empty());
        Node {
            line: root.line,
            col: root.col,
            root,
            slots: self.slots,
        }
    }
}

/// Positions as the full parser builds them: anchors copy subtrees and merge keys take them
/// apart, which a tree makes easy. Flattened into a [`Node`] once the document is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) kind: TreeKind,
}

/// A mapping key, the line and column of the key, and the tree of its value.
pub(crate) type TreeEntry = (CompactString, u32, u32, Tree);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TreeKind {
    Scalar,
    Seq(Vec<Tree>),
    /// Keys with the position of the key itself.
    Map(Vec<TreeEntry>),
}

impl Tree {
    pub(crate) fn scalar(line: u32, col: u32) -> Self {
        Self {
            line,
            col,
            kind: TreeKind::Scalar,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        // a:            (1,1)
        //   b: x        key (2,3), value (2,6)
        //   c:          key (3,3)
        //   - y         (4,5)
        //   - z: w      item (5,5), key (5,5), value (5,8)
        // a: dup        later duplicate wins for lookups
        Tree {
            line: 1,
            col: 1,
            kind: TreeKind::Map(vec![
                (
                    "a".into(),
                    1,
                    1,
                    Tree {
                        line: 2,
                        col: 3,
                        kind: TreeKind::Map(vec![
                            ("b".into(), 2, 3, Tree::scalar(2, 6)),
                            (
                                "c".into(),
                                3,
                                3,
                                Tree {
                                    line: 4,
                                    col: 3,
                                    kind: TreeKind::Seq(vec![
                                        Tree::scalar(4, 5),
                                        Tree {
                                            line: 5,
                                            col: 5,
                                            kind: TreeKind::Map(vec![(
                                                "z".into(),
                                                5,
                                                5,
                                                Tree::scalar(5, 8),
                                            )]),
                                        },
                                    ]),
                                },
                            ),
                        ]),
                    },
                ),
                ("items".into(), 6, 1, Tree::scalar(6, 8)),
            ]),
        }
    }

    #[test]
    fn positions_paths_and_keys_survive_flattening() {
        let node = Node::from_tree(tree());
        assert_eq!((node.line, node.col), (1, 1));
        assert_eq!(node.position(""), (1, 1));
        assert_eq!(node.position("a"), (1, 1));
        assert_eq!(node.position("a.b"), (2, 3));
        assert_eq!(node.position("a.c[0]"), (4, 5));
        assert_eq!(node.position("a.c[1].z"), (5, 5));
        // Missing fields point at the nearest parent.
        assert_eq!(node.position("a.c[1].missing.deeper"), (5, 5));
        assert_eq!(node.position("a.c[7]"), (3, 3));
        assert_eq!(
            node.positions("a.c[1].missing"),
            [(1, 1), (1, 1), (3, 3), (5, 5)]
        );
        assert_eq!(node.path_at(2, 6).as_deref(), Some("a.b"));
        assert_eq!(node.path_at(5, 8).as_deref(), Some("a.c[1].z"));
        assert_eq!(node.path_at(4, 5).as_deref(), Some("a.c[0]"));
        // A key's path is that of the mapping holding it.
        assert_eq!(node.path_at(5, 5).as_deref(), Some("a.c[1]"));
        assert_eq!(node.path_at(9, 9), None);
        // Grafting the same tree twice gives the same layout.
        assert_eq!(Node::from_tree(tree()), node);
    }

    #[test]
    fn list_items_become_documents_of_their_own() {
        let list = Tree {
            line: 1,
            col: 1,
            kind: TreeKind::Map(vec![(
                "items".into(),
                2,
                1,
                Tree {
                    line: 3,
                    col: 1,
                    kind: TreeKind::Seq(vec![tree(), Tree::scalar(9, 3)]),
                },
            )]),
        };
        let items = Node::from_tree(list).into_items("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], Node::from_tree(tree()));
        assert_eq!(items[1], Node::scalar(9, 3));
        assert!(Node::from_tree(tree()).into_items("a").is_empty());
        assert!(Node::from_tree(tree()).into_items("items").is_empty());
    }
}
