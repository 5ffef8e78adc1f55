//! Where go-yaml's scanner cuts flow collections into tokens otherwise than saphyr does, and
//! the byte order mark inside a document.
//!
//! Kubernetes and Helm read YAML with go-yaml v2, whose scanner is libyaml 0.1's
//! (`scannerc.go`). Inside a flow collection (`[...]`, `{...}`) it is older than the YAML 1.2
//! grammar saphyr follows:
//!
//! - `?` and `:` at the start of a token are the key and value indicators whatever follows
//!   them: `[?x]` is `[{x: null}]` (saphyr: the string `?x`), and `[:x]`, `{a: :x}` are errors
//!   (saphyr: the string `:x`). A `?` where no entry starts (`[a?b]`, `[a ?b]`) is an error,
//!   and so is a `?` with an empty key in a sequence (`[?, a]`, libyaml skips the `,`).
//! - A plain scalar ends only at `:` followed by a blank and at `,?[]{}`: `[a:b:]` is the one
//!   string `a:b:`, `{a:}` is `{"a:": null}` (saphyr ends the scalar at a `:` before `,[]{}` and
//!   reads a key), and `-` before a flow indicator is the string `-` (`[-, a]`; saphyr refuses).
//! - `#` at the start of a token begins a comment even with no blank before it (`[a,#c`), and
//!   a tab after the `:` indicator is the blank it needs (`{name:\tweb}`; saphyr refuses it).
//! - `|`, `>`, `%`, `@` and `` ` `` cannot start a token there (saphyr reads plain scalars).
//!
//! And go-yaml's reader drops a byte order mark (U+FEFF) only at the start of the stream;
//! anywhere else it is an ordinary character, part of a key or value (`a: x\u{feff}`), where
//! saphyr refuses it.
//!
//! Why a rewrite of the text, before saphyr, rather than in the builder: the builder sees
//! saphyr's events, and by then the tokens are cut; re-cutting them there would be a second
//! parser. [`rewrite`] walks the document once with go-yaml's rules for exactly these places
//! (block structure only as far as needed to find flow collections, quotes, comments and block
//! scalars) and makes saphyr's tokens go-yaml's: a character saphyr would take as an indicator
//! where go-yaml reads content is replaced by a stand-in (a private-use character the text does
//! not hold, which saphyr reads as content and the builder turns back), a blank goes after a
//! `?` indicator saphyr would read as content, a comment saphyr refuses is blanked, and what
//! go-yaml refuses is refused here, with its line and column. Columns are counted in
//! characters, as saphyr counts them, and map back through [`Lifted::col`]; lines never move.
//! Documents without `[`, `{` or U+FEFF are not looked at.

use crate::lenient::Lifted;

/// What go-yaml refuses, found while rewriting: 0-based line, 1-based column, and why.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) line: u32,
    pub(crate) col: u32,
    pub(crate) what: &'static str,
}

/// The previous token inside a flow collection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// `[` or `{`
    Open,
    /// `,`
    Entry,
    /// `?`
    Key,
    /// `:`
    Value,
    /// a scalar, an alias or a closed collection
    Node,
    /// an anchor or a tag
    Props,
}

struct Scan<'t> {
    chars: Vec<char>,
    /// Index of the first character of each line.
    line_starts: Vec<usize>,
    /// Stand-ins chosen so far: (stand-in, original).
    stand_ins: Vec<(char, char)>,
    /// Indices after which a blank is inserted.
    insert_after: Vec<usize>,
    changed: bool,
    /// The document as written.
    text: &'t str,
}

fn blank(c: Option<&char>) -> bool {
    matches!(c, None | Some(' ' | '\t' | '\r' | '\n'))
}

impl Scan<'_> {
    fn line_of(&self, i: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= i) - 1
    }

    fn col_of(&self, i: usize) -> usize {
        i - self.line_starts[self.line_of(i)]
    }

    fn refuse(&self, i: usize, what: &'static str) -> Refusal {
        Refusal {
            line: self.line_of(i) as u32,
            col: self.col_of(i) as u32 + 1,
            what,
        }
    }

    /// Replaces the character at `i` with its stand-in.
    fn stand_in(&mut self, i: usize) {
        let original = self.chars[i];
        let c = match self.stand_ins.iter().find(|(_, o)| *o == original) {
            Some(&(s, _)) => s,
            None => {
                let s = ('\u{e000}'..='\u{f8ff}')
                    .find(|c| {
                        !self.text.contains(*c) && !self.stand_ins.iter().any(|(s, _)| s == c)
                    })
                    .expect("a private-use character the document does not hold");
                self.stand_ins.push((s, original));
                s
            }
        };
        self.chars[i] = c;
        self.changed = true;
    }

    /// A tab right after the `:` indicator at `i` in a flow collection: go-yaml takes it as
    /// the blank after it, saphyr refuses it; a space instead, one column for one.
    fn untab_after(&mut self, i: usize) {
        if self.chars.get(i + 1) == Some(&'\t') {
            self.chars[i + 1] = ' ';
            self.changed = true;
        }
    }

    fn eol(&self, i: usize) -> usize {
        self.chars[i..]
            .iter()
            .position(|&c| c == '\n')
            .map_or(self.chars.len(), |p| i + p)
    }

    /// The index after a quoted scalar that starts at `i`.
    fn skip_quoted(&self, i: usize) -> usize {
        let q = self.chars[i];
        let mut j = i + 1;
        while j < self.chars.len() {
            match self.chars[j] {
                '\\' if q == '"' => j += 1,
                '\'' if q == '\'' && self.chars.get(j + 1) == Some(&'\'') => j += 1,
                c if c == q => return j + 1,
                _ => {}
            }
            j += 1;
        }
        self.chars.len()
    }

    /// A document marker (`---`, `...`) at the start of the line at `i`.
    fn marker(&self, i: usize) -> bool {
        self.col_of(i) == 0
            && (self.chars[i..].starts_with(&['-', '-', '-'])
                || self.chars[i..].starts_with(&['.', '.', '.']))
            && blank(self.chars.get(i + 3))
    }

    /// The index of the next token at or after `i` inside a flow collection (blanks, line
    /// breaks and comments skipped; a comment is looked at by the caller).
    fn next_token(&self, mut i: usize) -> usize {
        while i < self.chars.len() && blank(self.chars.get(i)) {
            i += 1;
        }
        i
    }

    /// A plain scalar inside a flow collection, from `i`, as go-yaml scans it; returns the index
    /// after it.
    fn flow_plain(&mut self, mut i: usize) -> usize {
        let n = self.chars.len();
        let mut word_start = true;
        while i < n {
            let c = self.chars[i];
            if word_start
                && c == '-'
                && matches!(self.chars.get(i + 1), Some(',' | '[' | ']' | '{' | '}'))
            {
                // go-yaml: `-` is content (`[-, a]`, `[a -]`); saphyr refuses a word that
                // starts with `-` before a flow indicator.
                self.stand_in(i);
            }
            word_start = blank(Some(&c));
            if blank(Some(&c)) {
                let j = self.next_token(i);
                if j >= n || self.chars[j] == '#' || self.marker(j) {
                    return i;
                }
                i = j;
                continue;
            }
            match c {
                ':' if blank(self.chars.get(i + 1)) => {
                    self.untab_after(i);
                    return i;
                }
                ':' if matches!(self.chars.get(i + 1), Some(',' | '[' | ']' | '{' | '}')) => {
                    // go-yaml: still the scalar (and the indicator after it ends it); saphyr
                    // would read a value indicator here.
                    self.stand_in(i);
                }
                ',' | '?' | '[' | ']' | '{' | '}' => return i,
                _ => {}
            }
            i += 1;
        }
        i
    }

    /// A flow collection that starts at `i` (`[` or `{`); returns the index after it.
    fn flow(&mut self, mut i: usize) -> Result<usize, Refusal> {
        let n = self.chars.len();
        let mut stack = vec![self.chars[i]];
        let mut prev = Prev::Open;
        i += 1;
        while i < n {
            let c = self.chars[i];
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    i += 1;
                    continue;
                }
                '#' => {
                    // A comment, blank before it or not; saphyr wants the blank.
                    let end = self.eol(i);
                    if !blank(i.checked_sub(1).and_then(|p| self.chars.get(p))) {
                        for k in i..end {
                            self.chars[k] = ' ';
                        }
                        self.changed = true;
                    }
                    i = end;
                    continue;
                }
                '[' | '{' => {
                    stack.push(c);
                    prev = Prev::Open;
                }
                ']' | '}' => {
                    stack.pop();
                    prev = Prev::Node;
                    if stack.is_empty() {
                        return Ok(i + 1);
                    }
                }
                ',' => prev = Prev::Entry,
                '?' => {
                    if !matches!(prev, Prev::Open | Prev::Entry) {
                        return Err(self.refuse(
                            i,
                            "did not find expected ',' or the end of the flow collection \
                             (go-yaml reads `?` here as a key indicator)",
                        ));
                    }
                    let next = self.next_token(i + 1);
                    if stack.last() == Some(&'[')
                        && (next >= n
                            || matches!(self.chars[next], ',' | ']')
                            || (self.chars[next] == ':' && blank(self.chars.get(next + 1))))
                    {
                        return Err(self.refuse(i, "an empty key in a flow sequence"));
                    }
                    if !blank(self.chars.get(i + 1)) {
                        self.insert_after.push(i);
                        self.changed = true;
                    }
                    prev = Prev::Key;
                }
                ':' => {
                    if matches!(prev, Prev::Open | Prev::Entry | Prev::Key | Prev::Value) {
                        return Err(self.refuse(
                            i,
                            "did not find expected node content (go-yaml reads `:` here as a \
                             value indicator)",
                        ));
                    }
                    self.untab_after(i);
                    prev = Prev::Value;
                }
                '"' | '\'' => {
                    i = self.skip_quoted(i);
                    prev = Prev::Node;
                    continue;
                }
                '*' | '&' | '!' => {
                    while i < n && !blank(self.chars.get(i)) && !",[]{}".contains(self.chars[i]) {
                        i += 1;
                    }
                    prev = if c == '*' { Prev::Node } else { Prev::Props };
                    continue;
                }
                '|' | '>' | '%' | '@' | '`' => {
                    return Err(self.refuse(i, "found character that cannot start any token"));
                }
                '-' if blank(self.chars.get(i + 1)) => {
                    // A block entry: saphyr refuses it too.
                    prev = Prev::Node;
                }
                _ => {
                    i = self.flow_plain(i);
                    prev = Prev::Node;
                    continue;
                }
            }
            i += 1;
        }
        Ok(n)
    }

    /// The document in block context, handing each flow collection to [`Scan::flow`].
    fn block(&mut self) -> Result<(), Refusal> {
        let n = self.chars.len();
        let mut i = 0;
        // Whether a node may start here, the column of the last key or `-` (a block scalar's
        // content is indented deeper), where the current token began and whether it began
        // with properties.
        let mut at_node_start = true;
        let mut owner_col = 0;
        let mut token_start = 0;
        let mut props = false;
        // A block scalar's content: lines more indented than this (or blank) belong to it.
        let mut block_scalar_parent: Option<usize> = None;
        // Whether a block collection has begun (a `-`, `?` or `:` indicator).
        let mut structure = false;
        while i < n {
            if self.col_of(i) == 0 {
                let indent = self.chars[i..]
                    .iter()
                    .take_while(|&&c| c == ' ' || c == '\t')
                    .count();
                let end = self.eol(i);
                let blank_line = self.chars[i..end].iter().all(|c| c.is_whitespace());
                if let Some(parent) = block_scalar_parent {
                    if blank_line || indent > parent {
                        i = end + 1;
                        continue;
                    }
                    block_scalar_parent = None;
                }
                at_node_start = true;
                owner_col = indent;
                token_start = indent;
                props = false;
                if self.marker(i) {
                    i += 3;
                    continue;
                }
            }
            let c = self.chars[i];
            let next_blank = blank(self.chars.get(i + 1));
            match c {
                ' ' | '\t' | '\r' | '\n' => {}
                '#' if i == 0 || blank(self.chars.get(i - 1)) => {
                    i = self.eol(i);
                    continue;
                }
                '"' | '\'' if at_node_start => {
                    i = self.skip_quoted(i);
                    at_node_start = false;
                    props = false;
                    continue;
                }
                '[' | '{' if at_node_start => {
                    i = self.flow(i)?;
                    if !structure {
                        // The document's node: go-yaml reads no further (what follows is
                        // trailing content it drops, and saphyr refuses).
                        return Ok(());
                    }
                    at_node_start = false;
                    props = false;
                    continue;
                }
                '-' | '?' if at_node_start && next_blank => {
                    owner_col = self.col_of(i);
                    structure = true;
                }
                ':' if next_blank => {
                    structure = true;
                    owner_col = token_start;
                    at_node_start = true;
                    props = false;
                }
                '&' | '!' if at_node_start => {
                    if !props {
                        token_start = self.col_of(i);
                        props = true;
                    }
                    while i + 1 < n && !blank(self.chars.get(i + 1)) {
                        i += 1;
                    }
                }
                '|' | '>' if at_node_start => {
                    block_scalar_parent = Some(owner_col);
                    i = self.eol(i);
                    continue;
                }
                _ => {
                    if at_node_start && !props {
                        token_start = self.col_of(i);
                    }
                    at_node_start = false;
                    props = false;
                }
            }
            i += 1;
        }
        Ok(())
    }
}

/// The document rewritten so that saphyr reads it as go-yaml does (see the module doc);
/// `None` when nothing needs it; a [`Refusal`] where go-yaml refuses what saphyr would read.
pub(crate) fn rewrite(text: &str) -> Result<Option<Lifted>, Refusal> {
    let bytes = text.as_bytes();
    let has_bom = memchr::memmem::find(bytes, "\u{feff}".as_bytes()).is_some();
    if !has_bom && memchr::memchr2(b'[', b'{', bytes).is_none() {
        return Ok(None);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut line_starts = vec![0];
    line_starts.extend(
        chars
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == '\n')
            .map(|(i, _)| i + 1),
    );
    let mut scan = Scan {
        chars,
        line_starts,
        stand_ins: Vec::new(),
        insert_after: Vec::new(),
        changed: false,
        text,
    };
    if has_bom {
        // Those at the very start are the stream's (go-yaml drops them); any other is content.
        let lead = scan.chars.iter().take_while(|&&c| c == '\u{feff}').count();
        for i in lead..scan.chars.len() {
            if scan.chars[i] == '\u{feff}' {
                scan.stand_in(i);
            }
        }
    }
    scan.block()?;
    if !scan.changed {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() + scan.insert_after.len());
    let mut inserted: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut ins = scan.insert_after.iter().peekable();
    let mut line = 0usize;
    let mut col = 0u32; // characters written on this line so far
    for (i, &c) in scan.chars.iter().enumerate() {
        out.push(c);
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
        }
        if ins.peek() == Some(&&i) {
            ins.next();
            out.push(' ');
            col += 1;
            match inserted.last_mut() {
                Some((l, cols)) if *l == line => cols.push(col),
                _ => inserted.push((line, vec![col])),
            }
        }
    }
    let lines = scan.line_starts.len();
    let mut lifted = Lifted::new(out, vec![0; lines]);
    lifted.inserted = inserted;
    lifted.stand_ins = scan.stand_ins;
    Ok(Some(lifted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> String {
        let l = rewrite(t).unwrap().unwrap();
        let mut s = l.text.clone();
        for (stand_in, original) in l.stand_ins() {
            s = s.replace(stand_in, &format!("<{original}>"));
        }
        s
    }

    #[test]
    fn rewrites_only_what_go_yaml_reads_otherwise() {
        assert_eq!(text("a: [?x, b]\n"), "a: [? x, b]\n");
        assert_eq!(text("[a:b:]\n"), "[a:b<:>]\n");
        assert_eq!(text("{a:}\n"), "{a<:>}\n");
        assert_eq!(text("[-, a]\n"), "[<->, a]\n");
        assert_eq!(text("[A -,\n -]\n"), "[A <->,\n <->]\n");
        assert_eq!(text("[a,#c\n b]\n"), "[a,  \n b]\n");
        assert_eq!(text("{a:\tb, \"c\":\td}\n"), "{a: b, \"c\": d}\n");
        assert_eq!(text("a: x\u{feff}\n"), "a: x<\u{feff}>\n");
        // Block context, quotes, comments and block scalars open no flow collection.
        for t in [
            "a: b[?x]\n",
            "a: '[?x'\n",
            "a: b # [?x\n",
            "a: |\n  [?x]\n",
            "\u{feff}a: 1\n",
            "a: [b, c:d, \"e\":f]\n",
        ] {
            assert!(rewrite(t).unwrap().is_none(), "{t:?}");
        }
        // After a flow collection that is the document's node, go-yaml reads nothing more.
        assert!(rewrite("{a: b},\n[:x]\n").unwrap().is_none());
        // Columns map back to the original.
        let l = rewrite("a: [?x, ?y]\n").unwrap().unwrap();
        assert_eq!(l.text, "a: [? x, ? y]\n");
        assert_eq!(l.col(0, 7), 6);
        assert_eq!(l.col(0, 12), 10);
        assert_eq!(l.col(0, 4), 4);
    }

    #[test]
    fn refuses_what_go_yaml_refuses() {
        for (t, col) in [
            ("[:x]\n", 2),
            ("{a: :x}\n", 5),
            ("[a?b]\n", 3),
            ("[a, b ?c]\n", 7),
            ("[?, a]\n", 2),
            ("[|]\n", 2),
            ("x:\n  y: {a: @b}\n", 10),
        ] {
            let r = rewrite(t).unwrap_err();
            assert_eq!(r.col, col, "{t:?}: {r:?}");
        }
    }
}
