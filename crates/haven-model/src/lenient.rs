//! Indentation that go-yaml ignores and saphyr does not.
//!
//! Kubernetes and Helm read YAML with go-yaml v2, a port of libyaml, which checks indentation
//! only in block context: inside a flow collection (`[...]`, `{...}`) and inside a quoted scalar
//! that spans lines, a line may start at any column. So Helm and `kubectl` accept
//!
//! ```yaml
//!     command: [
//!       "sh", "-c",
//!     ]
//! ```
//!
//! with the closing `]` at the column of its key (common in hand-written templates), and a
//! continuation line of a quoted string at column 0. saphyr follows YAML 1.2, which wants such
//! lines indented deeper than the block they sit in, and refuses them ("invalid indentation").
//!
//! When saphyr refuses a document, [`lift`] finds the lines that begin inside a flow collection
//! or a quoted scalar and indents each that is shallower than the construct it continues, by
//! prefixing spaces. In those places leading white space means nothing to YAML (flow content is
//! separated by any white space; a quoted or plain scalar's line breaks fold and its continuation
//! lines lose their leading white space), so the values do not change; the full parser then reads
//! the lifted text, and [`Lifted::col`] maps its columns back to the original's. Lines stay
//! where they were. Only documents saphyr refused are lifted, so nothing it reads today changes.
//!
//! go-yaml also takes a tab as the blank after the `:` of an implicit key in block context
//! (`kind:\tConfigMap`); saphyr refuses it when a letter or `-` follows. Those tabs become
//! spaces: separation white space either way, one character for one, so columns stay.

/// A document rewritten so that saphyr reads it as go-yaml reads the original: some lines
/// indented further (here), some characters inserted or standing in for others (`goscan.rs`).
/// Lines stay where they were; columns map back with [`Lifted::col`].
#[derive(Debug)]
pub(crate) struct Lifted {
    pub(crate) text: String,
    /// For each line (0-based) of the document, the spaces added at its start.
    added: Vec<u32>,
    /// For each line (0-based) that has any, the columns (1-based, in `text`) of characters
    /// inserted, in order.
    pub(crate) inserted: Vec<(usize, Vec<u32>)>,
    /// Characters of `text` that stand in for another of the original (stand-in, original):
    /// the builder reads the original back in every scalar.
    pub(crate) stand_ins: Vec<(char, char)>,
    /// The rewrite this one was made on, when two were needed.
    before: Option<Box<Lifted>>,
}

impl Lifted {
    pub(crate) fn new(text: String, added: Vec<u32>) -> Self {
        Lifted {
            text,
            added,
            inserted: Vec::new(),
            stand_ins: Vec::new(),
            before: None,
        }
    }

    /// The column (1-based) in the original text of `col` on 0-based line `line` of the
    /// lifted text.
    pub(crate) fn col(&self, line: usize, col: u32) -> u32 {
        let mut own = match self.added.get(line) {
            Some(&added) if added > 0 => col.saturating_sub(added).max(1),
            _ => col,
        };
        if let Some((_, cols)) = self.inserted.iter().find(|(l, _)| *l == line) {
            let before = cols.iter().filter(|&&c| c < col).count() as u32;
            own = own.saturating_sub(before).max(1);
        }
        match &self.before {
            Some(b) => b.col(line, own),
            None => own,
        }
    }

    /// Whether this rewrite (or one it was made on) indented lines: then saphyr read lines
    /// that go-yaml reads at any indentation only inside flow collections and quotes.
    pub(crate) fn indents_lines(&self) -> bool {
        self.added.iter().any(|&a| a > 0) || self.before.as_ref().is_some_and(|b| b.indents_lines())
    }

    /// This rewrite, made on the text of `before`.
    pub(crate) fn on(mut self, before: Lifted) -> Self {
        self.before = Some(Box::new(before));
        self
    }

    /// The stand-ins of this rewrite and of those it was made on.
    pub(crate) fn stand_ins(&self) -> impl Iterator<Item = (char, char)> + '_ {
        let mut next = Some(self);
        std::iter::from_fn(move || {
            let l = next?;
            next = l.before.as_deref();
            Some(l.stand_ins.iter().copied())
        })
        .flatten()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

/// The text with every line that continues a flow collection or a quoted scalar indented
/// at least one column past the line the construct started on; `None` when no line needs it.
pub(crate) fn lift(text: &str) -> Option<Lifted> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut added = vec![0u32; lines.len()];
    let mut changed = false;
    // A `#` right after a closing quote or bracket: go-yaml starts a comment there (it needs
    // no blank before it), saphyr refuses it. A blank goes before it; only the comment moves.
    let mut comment_at: Vec<Option<usize>> = vec![None; lines.len()];
    // Byte offsets, per line, of tabs that separate an implicit key's `:` from its value.
    let mut tabs_at: Vec<Vec<usize>> = vec![Vec::new(); lines.len()];

    // Scanner state carried from line to line.
    let mut flow_depth = 0usize;
    let mut quote: Option<Quote> = None;
    // Indentation the continuation lines of the open construct need: one past the column
    // where the outermost one began, which is deeper than any block it sits in.
    let mut needed = 0usize;
    // A block scalar's content: lines more indented than this (or blank) belong to it.
    let mut block_scalar_parent: Option<usize> = None;

    for (i, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        let indent = bytes
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let content = &bytes[indent..];
        let blank = content.iter().all(|b| b.is_ascii_whitespace());
        if let Some(parent) = block_scalar_parent {
            if blank || indent > parent {
                continue;
            }
            block_scalar_parent = None;
        }
        if (flow_depth > 0 || quote.is_some()) && !blank && indent < needed {
            added[i] = (needed - indent) as u32;
            changed = true;
        }
        // Scan the line's content.
        let mut at_node_start = true;
        // Where the current token began, and the column of the last key or `-` on the line:
        // a block scalar's content is indented deeper than that.
        let mut token_start = indent;
        let mut owner_col = indent;
        // Whether an anchor or tag began the current token.
        let mut props = false;
        // Where a quoted scalar or a flow collection closed last on this line.
        let mut closed_at: Option<usize> = None;
        let mut j = indent;
        while j < bytes.len() {
            let c = bytes[j];
            if let Some(q) = quote {
                match (q, c) {
                    (Quote::Double, b'\\') => j += 1,
                    (Quote::Double, b'"') | (Quote::Single, b'\'')
                        if !(q == Quote::Single && bytes.get(j + 1) == Some(&b'\'')) =>
                    {
                        quote = None;
                        closed_at = Some(j);
                    }
                    (Quote::Single, b'\'') => j += 1,
                    _ => {}
                }
                j += 1;
                at_node_start = false;
                continue;
            }
            let prev_blank = j == 0 || matches!(bytes[j - 1], b' ' | b'\t');
            if c == b'#' && j > 0 && closed_at == Some(j - 1) {
                comment_at[i] = Some(j);
                changed = true;
                break;
            }
            let next_blank = matches!(bytes.get(j + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
            match c {
                b'#' if prev_blank => break,
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'[' | b'{' if flow_depth > 0 || at_node_start => {
                    if flow_depth == 0 {
                        needed = j + 1;
                    }
                    flow_depth += 1;
                    at_node_start = true;
                }
                b']' | b'}' if flow_depth > 0 => {
                    flow_depth -= 1;
                    at_node_start = false;
                    closed_at = Some(j);
                }
                b',' if flow_depth > 0 => at_node_start = true,
                b'"' | b'\'' if at_node_start => {
                    if !props {
                        token_start = j;
                    }
                    props = false;
                    if flow_depth == 0 {
                        needed = j + 1;
                    }
                    quote = Some(if c == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    });
                    at_node_start = false;
                }
                b'-' | b'?' if at_node_start && next_blank => owner_col = j,
                b':' if flow_depth == 0 && next_blank => {
                    if j > indent {
                        let run = bytes[j + 1..]
                            .iter()
                            .take_while(|&&b| b == b' ' || b == b'\t')
                            .count();
                        for (k, &b) in bytes.iter().enumerate().skip(j + 1).take(run) {
                            if b == b'\t' {
                                tabs_at[i].push(k);
                                changed = true;
                            }
                        }
                    }
                    owner_col = token_start;
                    at_node_start = true;
                    props = false;
                }
                b':' if next_blank
                    || (flow_depth > 0 && matches!(bytes.get(j + 1), Some(b',' | b']' | b'}'))) =>
                {
                    at_node_start = true;
                }
                b'&' | b'!' if at_node_start => {
                    // Anchor or tag: a node still follows, and starts here.
                    if !props {
                        token_start = j;
                        props = true;
                    }
                    while j + 1 < bytes.len()
                        && !matches!(bytes[j + 1], b' ' | b'\t' | b'\r' | b'\n')
                    {
                        j += 1;
                    }
                }
                b'|' | b'>' if at_node_start && flow_depth == 0 => {
                    block_scalar_parent = Some(owner_col);
                    break;
                }
                _ => {
                    if at_node_start && !props {
                        token_start = j;
                    }
                    at_node_start = false;
                    props = false;
                }
            }
            j += 1;
        }
    }
    if !changed {
        return None;
    }
    let mut out = String::with_capacity(text.len() + added.iter().sum::<u32>() as usize);
    for (((line, &n), comment), tabs) in lines.iter().zip(&added).zip(&comment_at).zip(&tabs_at) {
        out.extend(std::iter::repeat_n(' ', n as usize));
        let untabbed;
        let line: &str = if tabs.is_empty() {
            line
        } else {
            let mut bytes = line.as_bytes().to_vec();
            for &k in tabs {
                bytes[k] = b' ';
            }
            // Only ASCII tabs became ASCII spaces: still UTF-8.
            untabbed = String::from_utf8(bytes).expect("a tab replaced by a space");
            &untabbed
        };
        match comment {
            Some(at) => {
                out.push_str(&line[..*at]);
                out.push(' ');
                out.push_str(&line[*at..]);
            }
            None => out.push_str(line),
        }
    }
    Some(Lifted::new(out, added))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifts_only_lines_inside_flow_collections_and_quotes() {
        let text = "a:\n  command: [\n  \"sh\",\n  ]\n  b: \"x\ny\"\n  c: |\n    [\n  d: x\n";
        let l = lift(text).unwrap();
        assert_eq!(
            l.text,
            "a:\n  command: [\n            \"sh\",\n            ]\n  b: \"x\n      y\"\n  c: |\n    [\n  d: x\n"
        );
        assert_eq!(l.col(2, 13), 3);
        assert_eq!(l.col(0, 1), 1);
        // A block scalar ends at a line no deeper than its key.
        let l = lift("- a: >\n    x\n  b: \"c\nd\"\n").unwrap();
        assert_eq!(l.text, "- a: >\n    x\n  b: \"c\n      d\"\n");
        let l = lift("- &a a: >\n   x\n  &b b: \"c\nd\"\n").unwrap();
        assert_eq!(l.text, "- &a a: >\n   x\n  &b b: \"c\n         d\"\n");
        // A comment right after a closing quote or bracket gets its blank.
        assert_eq!(
            lift("a: \"x\"# c\nb: [1]#d\n").unwrap().text,
            "a: \"x\" # c\nb: [1] #d\n"
        );
        // The tab after an implicit key's `:` becomes a space; one after `-` or an explicit
        // `:` does not (go-yaml refuses those too), nor one inside a value.
        assert_eq!(
            lift("kind:\tConfigMap\n- a:\t -1\n").unwrap().text,
            "kind: ConfigMap\n- a:  -1\n"
        );
        assert!(lift("-\tx\n:\tb\nc: d\te\n").is_none());
        // Brackets inside plain scalars and comments open nothing.
        assert!(lift("a: b[0]\nc: d # [\ne: 1\n").is_none());
        // A quote or bracket inside a plain scalar closes nothing: `#` after it is content.
        assert!(lift("&a1 a:{ \"#\":  }\nb: c]#\n").is_none());
    }
}
