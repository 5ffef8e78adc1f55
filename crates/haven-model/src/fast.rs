//! A fast path for the YAML that Helm and people actually write for Kubernetes: block mappings
//! and sequences, one-line plain, quoted and flow scalars, literal and folded block scalars.
//!
//! It reads a document in one pass over its lines, building the JSON value and the source
//! positions directly, several times faster than going through a general YAML event parser.
//! Anything outside that subset — anchors, aliases, tags, merge keys, duplicate keys, multi-line
//! plain or quoted scalars, flow collections over several lines, complex keys, tabs in
//! indentation, and every error — makes it give up (`None`); the full parser in `yaml.rs` then
//! reads the document, so results never depend on which path ran. Tests compare both paths on
//! every example and every Pod Security fixture.

use compact_str::CompactString;
use serde_json::{Map, Value};

use crate::limits::{Budget, MAX_DEPTH};
use crate::node::{Arena, Node, Tree, TreeKind, View};
use crate::yaml::{NoteKind, YamlNote, differs_from_yaml12, go_key, resolve_plain};

type Parsed = (Value, View);
/// What a one-line flow collection reads: small, and grafted into the arena when done.
type FlowParsed = (Value, Tree);

/// Parses one document chunk, or gives up.
pub(crate) fn parse(text: &str, first_line: u32) -> Option<(Value, Node, Vec<YamlNote>)> {
    let non_ascii = match scan_characters(text.as_bytes()) {
        Characters::Ascii => false,
        Characters::Unicode => true,
        Characters::NotForFastPath => return None,
    };
    let lines = split_lines(text);
    let mut p = Fast {
        arena: Arena::with_capacity(lines.len()),
        lines,
        idx: 0,
        first_line,
        pending: None,
        peeked: None,
        items: Vec::new(),
        notes: Vec::new(),
        budget: Budget::default(),
    };
    // The root; every mapping entry then adds two nodes (key and value), every sequence item one.
    p.budget.add_unaliased(1).ok()?;
    // Skip the document start marker the splitter leaves at the top.
    p.skip_blank();
    if let Some(line) = p.lines.get(p.idx) {
        let t = line.trim_end();
        if t == "---" || (t.starts_with("--- ") && t[4..].trim_start().starts_with('#')) {
            p.idx += 1;
        } else if t.starts_with("---") || t.starts_with('%') {
            return None;
        }
    }
    let first = p.peek()?;
    let (value, root) = if is_seq_entry(first.content) {
        p.sequence(first.indent, 0, false)?
    } else {
        p.mapping(first.indent, 0)?
    };
    // Only an end marker, blank lines and comments may follow.
    while p.idx < p.lines.len() {
        let t = p.lines[p.idx].trim();
        if !(t.is_empty() || t.starts_with('#') || t == "...") {
            return None;
        }
        p.idx += 1;
    }
    let mut notes = p.notes;
    let mut node = p.arena.finish(root);
    if non_ascii {
        // Positions so far are byte offsets; YAML columns (the full parser's, an editor's)
        // count characters.
        let lines = &p.lines;
        let chars = |line: u32, col: u32| -> u32 {
            let text = lines
                .get(line.wrapping_sub(first_line) as usize)
                .copied()
                .unwrap_or("");
            let bytes = col.saturating_sub(1) as usize;
            let within = text.len().min(bytes);
            let counted = text.get(..within).map_or(within, |t| t.chars().count());
            (counted + (bytes - within)) as u32 + 1
        };
        node.map_columns(chars);
        for n in &mut notes {
            n.col = chars(n.line, n.col);
        }
    }
    for n in &mut notes {
        n.path = node.path_at(n.line, n.col).unwrap_or_default();
    }
    Some((value, node, notes))
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// Content after the indentation (comments not yet removed).
    content: &'a str,
    no: u32,
}

struct Fast<'a> {
    lines: Vec<&'a str>,
    idx: usize,
    first_line: u32,
    /// The rest of a `- key: value` line, seen as a line of its own at the key's column.
    pending: Option<Line<'a>>,
    /// The last `peek` past blank lines: the line index it stopped at and what it found. Most
    /// lines are peeked several times (by the mapping loop, then by the value that follows).
    peeked: Option<(usize, Option<Line<'a>>)>,
    /// The stack that sequences collect their values on (nested ones above them): each then
    /// takes its own run in one exactly sized allocation, instead of growing a vector of its
    /// own step by step. Positions go into the arena, which does the same.
    items: Vec<Value>,
    arena: Arena,
    notes: Vec<YamlNote>,
    /// Counted as the full parser counts, so that a document over the limits is left to it
    /// (which says which limit) before it costs more memory.
    budget: Budget,
}

/// `text.lines()`, found with a SIMD search for line breaks: on a large corpus, the standard
/// per-line search was a noticeable part of the whole check.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::with_capacity(text.len() / 16 + 1);
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let line = &text[start..nl];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        start = nl + 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// What a document's bytes hold, as far as the fast path cares.
#[derive(Debug, PartialEq, Eq)]
enum Characters {
    Ascii,
    /// Some non-ASCII characters: columns must be counted in characters.
    Unicode,
    /// A character YAML does not allow in a document (a control character, a byte order mark
    /// inside it, U+FFFE/U+FFFF), a line break other than `\n` and `\r\n` (a lone `\r`, and NEL,
    /// LS and PS, which go-yaml's YAML 1.1 reads as line breaks), all of which the fast path,
    /// splitting lines at `\n`, would read as text: left to the full parser.
    NotForFastPath,
}

fn scan_characters(bytes: &[u8]) -> Characters {
    const CHUNK: usize = 64;
    let plain = |b: u8| (b' '..=b'~').contains(&b) | (b == b'\n');
    let mut found = Characters::Ascii;
    for (c, chunk) in bytes.chunks(CHUNK).enumerate() {
        // Most chunks are printable ASCII: a test without early exit, which compiles to
        // vector instructions, before the byte by byte look.
        if chunk.iter().fold(true, |all, &b| all & plain(b)) {
            continue;
        }
        let start = c * CHUNK;
        for i in start..start + chunk.len() {
            match scan_byte(bytes, i) {
                Characters::Ascii => {}
                Characters::Unicode => found = Characters::Unicode,
                Characters::NotForFastPath => return Characters::NotForFastPath,
            }
        }
    }
    found
}

/// The byte at `i` (a continuation byte of a UTF-8 sequence counts as `Unicode`).
fn scan_byte(bytes: &[u8], i: usize) -> Characters {
    // `bytes` is UTF-8 (it comes from a `str`): a sequence's lead byte tells which it is.
    let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
    let refused = match bytes[i] {
        b'\t' | b'\n' | b' '..=b'~' => return Characters::Ascii,
        b'\r' => next(1) != b'\n',
        0..=0x1f | 0x7f => true,
        // U+0080..U+009F: C1 controls and NEL.
        0xc2 => matches!(next(1), 0x80..=0x9f),
        // U+2028, U+2029: LS, PS.
        0xe2 => next(1) == 0x80 && matches!(next(2), 0xa8 | 0xa9),
        // U+FEFF (byte order mark), U+FFFE, U+FFFF.
        0xef => (next(1), next(2)) == (0xbb, 0xbf) || (next(1) == 0xbf && next(2) >= 0xbe),
        _ => false,
    };
    if refused {
        Characters::NotForFastPath
    } else if bytes[i] == b'\r' {
        Characters::Ascii
    } else {
        Characters::Unicode
    }
}

/// Spaces before the content of a line.
fn indentation(line: &str) -> usize {
    line.bytes().take_while(|&b| b == b' ').count()
}

/// Empty, spaces only, or a comment.
fn is_blank(line: &str) -> bool {
    matches!(line.as_bytes().get(indentation(line)), None | Some(b'#'))
}

/// Whether a plain scalar holds `: ` or `:<tab>`, which would make it a mapping key (or an
/// error): go-yaml takes a tab after `:` as a blank too.
fn has_mapping_indicator(s: &str) -> bool {
    // Plain scalars are short: a byte loop beats setting up a vectorised search.
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b':' && matches!(w[1], b' ' | b'\t'))
}

fn is_seq_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ") || content.starts_with("-\t")
}

/// Strips a trailing ` # comment` from plain text and trims.
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') {
            end = i;
            break;
        }
    }
    s[..end].trim_end_matches([' ', '\t'])
}

impl<'a> Fast<'a> {
    fn skip_blank(&mut self) {
        while let Some(l) = self.lines.get(self.idx) {
            if is_blank(l) {
                self.idx += 1;
            } else {
                break;
            }
        }
    }

    /// The next content line, without consuming it. `None` at the end, or on a tab indent
    /// (which the caller turns into giving up via `bad_indent`).
    fn peek(&mut self) -> Option<Line<'a>> {
        if let Some(p) = self.pending {
            return Some(p);
        }
        if let Some((at, line)) = self.peeked
            && at == self.idx
        {
            return line;
        }
        // Skipping blank lines and measuring the indentation of the next one in a single look
        // at each line: every line of a document passes through here.
        let mut line = None;
        while let Some(&raw) = self.lines.get(self.idx) {
            let indent = indentation(raw);
            let content = &raw[indent..];
            match content.as_bytes().first() {
                None | Some(b'#') => {
                    self.idx += 1;
                    continue;
                }
                Some(b'\t') => {}
                Some(b'.') if content.trim_end() == "..." || is_end_marker(raw) => {}
                Some(b'-') if indent == 0 && raw.starts_with("---") => {}
                Some(_) => {
                    line = Some(Line {
                        indent,
                        content: if content.ends_with('\r') {
                            content.trim_end_matches('\r')
                        } else {
                            content
                        },
                        no: self.no(self.idx),
                    });
                }
            }
            break;
        }
        self.peeked = Some((self.idx, line));
        line
    }

    fn has_more_content(&mut self) -> bool {
        self.pending.is_some() || {
            self.skip_blank();
            self.idx < self.lines.len()
        }
    }

    fn consume(&mut self) {
        if self.pending.take().is_none() {
            self.idx += 1;
        }
    }

    fn no(&self, idx: usize) -> u32 {
        self.first_line + idx as u32
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Parsed> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut map = Map::new();
        let base = self.arena.mark();
        let mut start = None;
        loop {
            let Some(line) = self.peek() else {
                // A tab-indented or marker line inside the document: let the full parser judge.
                if self.has_more_content() && self.pending.is_none() && !self.at_end_marker() {
                    return None;
                }
                break;
            };
            if line.indent < indent {
                break;
            }
            // Deeper lines here, or `- x` at a mapping's own indentation (valid only right after
            // `key:`, which `value` consumes), are errors or multi-line scalars.
            if line.indent > indent || is_seq_entry(line.content) {
                return None;
            }
            let (key, value_text, key_col) = split_key(line.content)?;
            let key_col = (indent + key_col) as u32 + 1;
            let key = self.key(key, line.no, key_col)?;
            if key == "<<" {
                return None;
            }
            start.get_or_insert((line.no, key_col));
            self.budget.add_unaliased(2).ok()?;
            self.consume();
            let value_col = indent + (line.content.len() - value_text.len());
            let (v, n) = self.value(
                value_text,
                line.no,
                value_col as u32 + 1,
                indent,
                depth,
                true,
            )?;
            // One search of the map both finds a duplicate key (left to the full parser) and
            // inserts.
            let node_key = CompactString::new(&key);
            match map.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                serde_json::map::Entry::Occupied(_) => return None,
            }
            self.arena.push_entry(node_key, line.no, key_col, n);
        }
        let (line, col) = start?;
        Some((Value::Object(map), self.arena.close_map(base, line, col)))
    }

    fn at_end_marker(&self) -> bool {
        self.lines
            .get(self.idx)
            .is_some_and(|l| l.trim_end() == "..." || is_end_marker(l))
    }

    /// `indentless`: a sequence that is a mapping value at the mapping's own indentation.
    fn sequence(&mut self, indent: usize, depth: usize, indentless: bool) -> Option<Parsed> {
        if depth > MAX_DEPTH {
            return None;
        }
        let base = self.items.len();
        let mark = self.arena.mark();
        let mut start = None;
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !is_seq_entry(line.content)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let after = &line.content[1..];
            let rest = after.trim_start_matches([' ', '\t']);
            let col = indent + 1 + (after.len() - rest.len());
            // Like saphyr: an indentless sequence starts at its first item's content, a block
            // sequence at its first dash.
            start.get_or_insert((
                line.no,
                if indentless {
                    col as u32 + 1
                } else {
                    indent as u32 + 1
                },
            ));
            if rest.starts_with("- ") || rest == "-" {
                return None;
            }
            // An empty item's null sits, as in saphyr, at the end of its line.
            let empty_col = if strip_comment(rest).is_empty() {
                self.lines
                    .get((line.no - self.first_line) as usize)
                    .map(|l| l.trim_end_matches('\r').len() as u32 + 1)
            } else {
                None
            };
            if indentless
                && self.items.len() == base
                && let Some(c) = empty_col
            {
                // Like saphyr: a first item with nothing but a comment on the dash's line
                // starts the sequence at that line's end (`- # c`), whatever follows.
                start = Some((line.no, c));
            }
            self.budget.add_unaliased(1).ok()?;
            let (v, n) = if !rest.starts_with(['[', '{']) && split_key(rest).is_some() {
                // `- key: value`: a mapping whose keys sit at this column.
                self.consume();
                self.pending = Some(Line {
                    indent: col,
                    content: rest,
                    no: line.no,
                });
                self.mapping(col, depth + 1)?
            } else {
                self.consume();
                let (v, n) = self.value(rest, line.no, col as u32 + 1, indent, depth, false)?;
                match empty_col {
                    Some(c) if v.is_null() && n == View::scalar(line.no, n.col) => {
                        (v, View::scalar(line.no, c))
                    }
                    _ => (v, n),
                }
            };
            self.items.push(v);
            self.arena.push_item(n);
        }
        let (line, col) = start?;
        Some((
            Value::Array(self.items.drain(base..).collect()),
            self.arena.close_seq(mark, line, col),
        ))
    }

    /// The value after `key:` or `- `; `parent` is the indentation of the owning entry.
    fn value(
        &mut self,
        text: &'a str,
        no: u32,
        col: u32,
        parent: usize,
        depth: usize,
        in_map: bool,
    ) -> Option<Parsed> {
        // An empty value sits, as in saphyr, on the `:` (or `-`) that introduced it.
        let empty_col = col - 1;
        let trimmed = text.trim_start_matches([' ', '\t']);
        let col = col + (text.len() - trimmed.len()) as u32;
        let text = trimmed;
        let bare = strip_comment(text);
        if bare.is_empty() {
            // Nested block, a compact sequence (`key:` then `- x` at the same indentation), or null.
            return match self.peek() {
                Some(next) if next.indent > parent => {
                    if is_seq_entry(next.content) {
                        self.sequence(next.indent, depth + 1, false)
                    } else {
                        self.mapping(next.indent, depth + 1)
                    }
                }
                Some(next) if in_map && next.indent == parent && is_seq_entry(next.content) => {
                    self.sequence(next.indent, depth + 1, true)
                }
                _ => Some((Value::Null, View::scalar(no, empty_col))),
            };
        }
        let first = bare.as_bytes()[0];
        let (value, node) = match first {
            b'|' | b'>' => return self.block_scalar(bare, no, col, parent),
            b'[' | b'{' => {
                let mut f = Flow {
                    s: bare,
                    pos: 0,
                    no,
                    col: col - 1,
                    notes: &mut self.notes,
                    budget: &mut self.budget,
                    depth,
                };
                let (value, tree) = f.value()?;
                f.skip_ws();
                if f.pos != bare.len() {
                    return None;
                }
                (value, self.arena.graft(tree))
            }
            b'"' => {
                let (s, used) = double_quoted(text)?;
                if !strip_comment(&text[used..]).is_empty() {
                    return None;
                }
                (Value::String(s), View::scalar(no, col))
            }
            b'\'' => {
                let (s, used) = single_quoted(text)?;
                if !strip_comment(&text[used..]).is_empty() {
                    return None;
                }
                (Value::String(s), View::scalar(no, col))
            }
            _ => {
                // `strip_comment` has cut at the first ` #`, so none is left in `bare`.
                debug_assert!(!bare.contains(" #"));
                if !plain_ok(bare) || bare.ends_with(':') || has_mapping_indicator(bare) {
                    return None;
                }
                (self.plain(bare, no, col)?, View::scalar(no, col))
            }
        };
        // A scalar value must not continue on more-indented lines (a multi-line plain scalar).
        if let Some(next) = self.peek()
            && next.indent > parent
        {
            return None;
        }
        Some((value, node))
    }

    fn plain(&mut self, text: &str, line: u32, col: u32) -> Option<Value> {
        plain_value(text, line, col, &mut self.notes)
    }

    /// Mapping keys become strings, as `sigs.k8s.io/yaml` does.
    fn key(&mut self, key: &str, line: u32, col: u32) -> Option<String> {
        if key.starts_with('"') {
            let (s, used) = double_quoted(key)?;
            return (used == key.len()).then_some(s);
        }
        if key.starts_with('\'') {
            let (s, used) = single_quoted(key)?;
            return (used == key.len()).then_some(s);
        }
        if is_plain_word(key) {
            // What `plain_value` would make of it, without building a `Value` first.
            return Some(key.to_owned());
        }
        if !plain_ok(key) {
            return None;
        }
        plain_key(key, line, col, &mut self.notes)
    }

    /// `|`, `|-`, `|+`, `>`, `>-`, `>+` (no explicit indentation indicator).
    fn block_scalar(&mut self, header: &str, no: u32, col: u32, parent: usize) -> Option<Parsed> {
        let literal = header.starts_with('|');
        let chomp = match &header[1..] {
            "" => 'c',
            "-" => '-',
            "+" => '+',
            _ => return None,
        };
        debug_assert!(self.pending.is_none());
        let mut content_indent = None;
        let mut first_content = None;
        let mut lines: Vec<&str> = Vec::new();
        while let Some(raw) = self.lines.get(self.idx) {
            let raw = raw.trim_end_matches('\r');
            let trimmed = raw.trim_start_matches(' ');
            let ind = raw.len() - trimmed.len();
            if trimmed.is_empty() {
                // Spaces beyond the content indentation are content; leave such lines to the full parser.
                if !raw.is_empty() && content_indent.is_none_or(|ci| raw.len() > ci) {
                    return None;
                }
                lines.push("");
                self.idx += 1;
                continue;
            }
            let ci = *content_indent.get_or_insert(ind);
            first_content.get_or_insert((self.no(self.idx), ci as u32 + 1));
            if ind < ci || ind <= parent {
                if ind > parent {
                    return None; // less indented than the content, but still inside: an error
                }
                break;
            }
            if trimmed.starts_with('\t') && ind == ci {
                return None;
            }
            lines.push(&raw[ci..]);
            self.idx += 1;
        }
        if content_indent.is_some_and(|ci| ci <= parent) {
            return None;
        }
        // Leading blank lines longer than the content indentation are errors; leave those alone.
        let trailing_blank = lines.iter().rev().take_while(|l| l.is_empty()).count();
        let body = &lines[..lines.len() - trailing_blank];
        let mut s = String::new();
        if literal {
            for (i, l) in body.iter().enumerate() {
                if i > 0 {
                    s.push('\n');
                }
                s.push_str(l);
            }
        } else {
            let mut blank_run = 0;
            for (i, l) in body.iter().enumerate() {
                if l.starts_with([' ', '\t']) {
                    return None; // more-indented lines in folded scalars: full parser
                }
                if l.is_empty() {
                    blank_run += 1;
                    continue;
                }
                if i > 0 {
                    if blank_run == 0 {
                        s.push(' ');
                    } else {
                        s.extend(std::iter::repeat_n('\n', blank_run));
                    }
                }
                blank_run = 0;
                s.push_str(l);
            }
            if body.first().is_some_and(|l| l.is_empty()) {
                return None;
            }
        }
        match chomp {
            '-' => {}
            '+' => {
                if !body.is_empty() {
                    s.push('\n');
                }
                s.extend(std::iter::repeat_n('\n', trailing_blank));
            }
            _ => {
                if !body.is_empty() {
                    s.push('\n');
                }
            }
        }
        // Like saphyr, the scalar starts at its first content line.
        let (no, col) = first_content.unwrap_or((no, col));
        Some((Value::String(s), View::scalar(no, col)))
    }
}

/// Splits `key: value` / `key:` into key text, the value text and the key's column offset.
fn split_key(content: &str) -> Option<(&str, &str, usize)> {
    let b = content.as_bytes();
    if b.is_empty() || b[0] == b'#' {
        return None;
    }
    let key_end = match b[0] {
        b'"' => double_quoted(content)?.1,
        b'\'' => single_quoted(content)?.1,
        b'[' | b'{' | b'?' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => return None,
        _ => {
            let mut i = 0;
            loop {
                let c = *b.get(i)?;
                if c == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\t')) {
                    break i;
                }
                if c == b'#' && i > 0 && matches!(b[i - 1], b' ' | b'\t') {
                    return None;
                }
                i += 1;
            }
        }
    };
    let rest = &content[key_end..];
    let rest = rest.trim_start_matches([' ', '\t']);
    let value = rest.strip_prefix(':')?;
    if !value.is_empty() && !value.starts_with([' ', '\t']) {
        return None;
    }
    let key = content[..key_end].trim_end_matches([' ', '\t']);
    Some((key, value, 0))
}

/// A plain scalar that can only be read as itself, a string (most mapping keys): it starts
/// with a letter, and either that letter starts none of YAML 1.1's words (`null`, `yes`, `on`,
/// `true`, ...) or it is longer than all of them.
fn is_plain_word(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'n' | b'N' | b'y' | b'Y' | b'o' | b'O' | b't' | b'T' | b'f' | b'F') => s.len() > 5,
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    }
}

/// Whether a plain scalar starts legally and needs nothing the fast path does not do.
fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        None => false,
        Some(b'-' | b'?' | b':') => b.get(1).is_some_and(|c| !matches!(c, b' ' | b'\t')),
        Some(c) => !b",[]{}#&*!|>'\"%@`".contains(c),
    }
}

/// A plain scalar resolved like Kubernetes; `None` for values the full parser must reject.
fn plain_value(text: &str, line: u32, col: u32, notes: &mut Vec<YamlNote>) -> Option<Value> {
    if is_plain_word(text) {
        return Some(Value::String(text.to_owned()));
    }
    match resolve_noted(text, line, col, notes) {
        crate::yaml::Plain::Float(f) if !f.is_finite() => None,
        other => Some(other.value(text)),
    }
}

/// A plain mapping key as Kubernetes converts it; `None` for keys it refuses (null, huge
/// integers), which the full parser then reports.
fn plain_key(text: &str, line: u32, col: u32, notes: &mut Vec<YamlNote>) -> Option<String> {
    if is_plain_word(text) {
        return Some(text.to_owned());
    }
    go_key(&resolve_noted(text, line, col, notes), text).ok()
}

/// Resolves a plain scalar, noting where YAML 1.2 would read it differently.
fn resolve_noted(text: &str, line: u32, col: u32, notes: &mut Vec<YamlNote>) -> crate::yaml::Plain {
    let resolved = resolve_plain(text);
    if let Some((k8s, yaml12)) = differs_from_yaml12(text, &resolved) {
        notes.push(YamlNote {
            kind: NoteKind::Yaml11Scalar,
            line,
            col,
            path: String::new(),
            text: text.to_owned(),
            kubernetes_reads: k8s,
            yaml12_reads: yaml12,
        });
    }
    resolved
}

/// A double-quoted scalar on one line: the string and the bytes used (quotes included).
fn double_quoted(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                out.push_str(&s[run..i]);
                return Some((out, i + 1));
            }
            b'\\' => {
                out.push_str(&s[run..i]);
                let c = *b.get(i + 1)?;
                let (ch, len) = match c {
                    b'\\' => ('\\', 2),
                    b'"' => ('"', 2),
                    b'/' => ('/', 2),
                    b' ' => (' ', 2),
                    b'n' => ('\n', 2),
                    b't' | b'\t' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'0' => ('\0', 2),
                    b'a' => ('\x07', 2),
                    b'b' => ('\x08', 2),
                    b'e' => ('\x1b', 2),
                    b'f' => ('\x0c', 2),
                    b'v' => ('\x0b', 2),
                    b'N' => ('\u{85}', 2),
                    b'_' => ('\u{a0}', 2),
                    b'L' => ('\u{2028}', 2),
                    b'P' => ('\u{2029}', 2),
                    b'x' | b'u' | b'U' => {
                        let n = match c {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = s.get(i + 2..i + 2 + n)?;
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        (char::from_u32(code)?, 2 + n)
                    }
                    _ => return None,
                };
                out.push(ch);
                i += len;
                run = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A single-quoted scalar on one line (`''` is a quote).
fn single_quoted(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                out.push_str(&s[run..=i]);
                i += 2;
                run = i;
                continue;
            }
            out.push_str(&s[run..i]);
            return Some((out, i + 1));
        }
        i += 1;
    }
    None
}

/// One-line flow collections: `[a, b]`, `{k: v, n: [1, 2]}`.
struct Flow<'s, 'n> {
    s: &'s str,
    pos: usize,
    no: u32,
    /// Column of `s[0]`, 0-based.
    col: u32,
    notes: &'n mut Vec<YamlNote>,
    budget: &'n mut Budget,
    depth: usize,
}

impl Flow<'_, '_> {
    fn skip_ws(&mut self) {
        let b = self.s.as_bytes();
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
        if self.pos < b.len()
            && b[self.pos] == b'#'
            && self.pos > 0
            && matches!(b[self.pos - 1], b' ' | b'\t')
        {
            self.pos = b.len();
        }
    }

    /// After an item: `,` (more follow) or `close` (consumed, returns true); anything else is
    /// not a one-line flow collection.
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.skip_ws();
        let c = *self.s.as_bytes().get(self.pos)?;
        self.pos += 1;
        match c {
            b',' => Some(false),
            c if c == close => Some(true),
            _ => None,
        }
    }

    fn here(&self) -> (u32, u32) {
        (self.no, self.col + self.pos as u32 + 1)
    }

    fn value(&mut self) -> Option<FlowParsed> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let (line, col) = self.here();
        let b = self.s.as_bytes();
        match *b.get(self.pos)? {
            b'[' => {
                self.pos += 1;
                self.depth += 1;
                let mut items = Vec::new();
                let mut nodes = Vec::new();
                loop {
                    self.skip_ws();
                    if b.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        break;
                    }
                    self.budget.add_unaliased(1).ok()?;
                    let (v, n) = self.value()?;
                    items.push(v);
                    nodes.push(n);
                    if self.separator(b']')? {
                        break;
                    }
                }
                self.depth -= 1;
                Some((
                    Value::Array(items),
                    Tree {
                        line,
                        col,
                        kind: TreeKind::Seq(nodes),
                    },
                ))
            }
            b'{' => {
                self.pos += 1;
                self.depth += 1;
                let mut map = Map::new();
                let mut entries = Vec::new();
                loop {
                    self.skip_ws();
                    if b.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        break;
                    }
                    self.budget.add_unaliased(2).ok()?;
                    let (kl, kc) = self.here();
                    let key = match self.scalar(true)? {
                        (Value::String(s), _) => s,
                        (Value::Null, _) => "null".to_owned(),
                        (other, _) => other.to_string(),
                    };
                    self.skip_ws();
                    if b.get(self.pos) != Some(&b':') {
                        return None;
                    }
                    self.pos += 1;
                    if !matches!(b.get(self.pos), Some(b' ' | b'\t')) {
                        return None;
                    }
                    let (v, n) = self.value()?;
                    if map.contains_key(&key) || key == "<<" {
                        return None;
                    }
                    entries.push((CompactString::new(&key), kl, kc, n));
                    map.insert(key, v);
                    if self.separator(b'}')? {
                        break;
                    }
                }
                self.depth -= 1;
                Some((
                    Value::Object(map),
                    Tree {
                        line,
                        col,
                        kind: TreeKind::Map(entries),
                    },
                ))
            }
            _ => self.scalar(false),
        }
    }

    fn scalar(&mut self, is_key: bool) -> Option<FlowParsed> {
        let (line, col) = self.here();
        let rest = &self.s[self.pos..];
        let b = rest.as_bytes();
        let value = match b.first()? {
            b'"' => {
                let (s, used) = double_quoted(rest)?;
                self.pos += used;
                Value::String(s)
            }
            b'\'' => {
                let (s, used) = single_quoted(rest)?;
                self.pos += used;
                Value::String(s)
            }
            // go-yaml: a key or value indicator here, whatever follows (`[?x]`, `[:x]`).
            b'?' | b':' => return None,
            _ => {
                let mut end = 0;
                while end < b.len() {
                    match b[end] {
                        b',' | b']' | b'}' | b'[' | b'{' => break,
                        // go-yaml ends a plain scalar at `?` in a flow collection, and then
                        // refuses the key indicator where no entry starts (`{a?b: c}`).
                        b'?' => return None,
                        b':' if matches!(
                            b.get(end + 1),
                            None | Some(b' ' | b'\t' | b',' | b']' | b'}')
                        ) =>
                        {
                            break;
                        }
                        b'#' if end > 0 && matches!(b[end - 1], b' ' | b'\t') => return None,
                        _ => end += 1,
                    }
                }
                let text = rest[..end].trim_end_matches([' ', '\t']);
                if !plain_ok(text) || (b.get(end) == Some(&b':') && !is_key) {
                    return None;
                }
                self.pos += end;
                if is_key {
                    Value::String(plain_key(text, line, col, self.notes)?)
                } else {
                    plain_value(text, line, col, self.notes)?
                }
            }
        };
        Some((value, Tree::scalar(line, col)))
    }
}

/// A document end marker with more on its line (`... # c`, `...  x`): go-yaml ends the
/// document there and ignores the rest of the line.
fn is_end_marker(line: &str) -> bool {
    line.starts_with("... ") || line.starts_with("...\t")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::yaml::{parse_document_full, split_documents};

    #[test]
    fn plain_words_are_read_as_themselves() {
        let words = [
            "name",
            "image",
            "ports",
            "spec",
            "kind",
            "data",
            "env",
            "args",
            "a",
            "Z",
            "apiVersion",
            "app.kubernetes.io/name",
            "nodeSelector",
            "type",
            "true",
            "True",
            "TRUE",
            "false",
            "FALSE",
            "yes",
            "Yes",
            "no",
            "No",
            "NO",
            "on",
            "On",
            "off",
            "OFF",
            "y",
            "Y",
            "n",
            "N",
            "null",
            "Null",
            "NULL",
            "nulls",
            "offset",
            "truely",
            "falsey",
            "yesno",
            "notes",
            "ok",
        ];
        let mut taken = 0;
        for w in words {
            if is_plain_word(w) {
                taken += 1;
                // Kubernetes' reading is a string, so YAML 1.2's cannot differ in a way that
                // needs a note.
                assert_eq!(resolve_plain(w), crate::yaml::Plain::Str, "{w}");
            }
        }
        assert!(taken >= 15, "{taken}");
        for not_words in ["", "0", "-1", "~", ".inf", "_x", "/x"] {
            assert!(!is_plain_word(not_words), "{not_words}");
        }
    }

    #[test]
    fn splits_lines_like_the_standard_library() {
        for text in [
            "",
            "a",
            "a\n",
            "a\r\nb",
            "a\r\nb\r\n",
            "a\rb\n",
            "\n\n",
            "x\r",
            "x\n\r",
            "\r\n",
        ] {
            assert_eq!(
                split_lines(text),
                text.lines().collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    /// Parses every document of `text` both ways; returns (documents, documents the fast path took).
    fn compare(name: &str, text: &str) -> (usize, usize) {
        let (mut docs, mut fast) = (0, 0);
        for chunk in split_documents(text) {
            docs += 1;
            let Some((value, node, notes)) = parse(chunk.text, chunk.first_line) else {
                continue;
            };
            fast += 1;
            let full = parse_document_full(name, chunk.text, chunk.first_line);
            let (fv, fnode, fnotes) = full
                .unwrap_or_else(|e| {
                    panic!(
                        "{name}:{}: fast path accepted what the full parser rejects: {e}",
                        chunk.first_line
                    )
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{name}:{}: fast path found a document the full parser did not",
                        chunk.first_line
                    )
                });
            assert_eq!(value, fv, "{name}:{}: values differ", chunk.first_line);
            assert_eq!(node, fnode, "{name}:{}: positions differ", chunk.first_line);
            assert_eq!(notes, fnotes, "{name}:{}: notes differ", chunk.first_line);
        }
        (docs, fast)
    }

    const SAMPLES: &[&str] = &[
        "a: 1\nb: two\nc:\n  d: [x, 'y', \"z\\n\"]\n  e: {f: 1, g: [on, 0755]}\n",
        "list:\n- a\n- b: 1\n  c: 2\n-   d: 3\n    e:\n    - f\n- {x: y}\n- [1, 2]\n",
        "k: |\n  line 1\n\n  line 2\n\nnext: >-\n  folded\n  text\n\n  para\nkeep: |+\n  x\n\nstrip: |-\n  y\nz: 1\n",
        "# comment\n---\napiVersion: v1 # trailing\nkind: Pod\nmetadata:\n  name: \"quoted # not comment\"\n  labels: {}\n  annotations:\n    a.b/c: 'it''s'\n",
        "empty:\nnull1: ~\nnull2: null\nt: true\nf: False\ny: yes\nn: No\nint: -12\nhex: 0x1F\noct: 0o17\nfl: 1.5e3\nver: 1.10\nd: 2026-01-01\nurl: http://x:80/a#b\n",
        "\"quoted key\": 1\n'single': 2\non: 3\n123: 4\n",
        "spec:\n  containers:\n  - name: c\n    args:\n    - --flag=1\n    - \"-x\"\n    env:\n    - {name: A, value: \"1\"}\n  volumes: []\n",
        "a:\n  - 1\n  - 2\nb:\n    c: deep\n",
        "unicode: \"\\u00e9\\t\\x41\"\nemoji: caf\u{e9}\n",
        // Given up on (the full parser decides): anchors, tags, merges, multi-line scalars, errors.
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: plain\n  continued\n",
        "a: \"open\n  quote\"\n",
        "a: [1,\n  2]\n",
        "a: 1\na: 2\n",
        "a:\n\tb: 1\n",
        "- - nested\n",
        "key: value: bad\n",
        "just a scalar\n",
        "a: |2\n   indented\n",
    ];

    #[test]
    fn fast_and_full_paths_agree_on_samples() {
        let mut fast = 0;
        for (i, s) in SAMPLES.iter().enumerate() {
            fast += compare(&format!("sample{i}"), s).1;
        }
        assert_eq!(
            fast, 9,
            "the first nine samples take the fast path, the rest fall back"
        );
    }

    /// The line scanning shortcuts (`peek`, the plain-scalar checks) on what they skip or stop at.
    #[test]
    fn fast_and_full_paths_agree_on_line_edges() {
        let fast_path = [
            "a: 1\n   \n  # indented comment\nb:\n    # deeper comment\n  c: x:y\n...\n",
            "a: 1\r\nb:\r\n  c: 2\r\n\r\n",
            "a: url:8080/x\nb: 'x: y'\nc: x #comment: y\nd: a:b:c\n",
            "a:\n- x\n-   y\n# end\n",
        ];
        let fallback = [
            "a: x: y\n",
            "a: 1\n\tb: 2\n",
            "a: 1\n---x\n",
            "a: x\n  ...\n",
            "a: x:\n",
        ];
        for (i, s) in fast_path.iter().enumerate() {
            assert_eq!(compare(&format!("fast{i}"), s), (1, 1), "{s:?}");
        }
        for (i, s) in fallback.iter().enumerate() {
            let (_, fast) = compare(&format!("fallback{i}"), s);
            assert_eq!(fast, 0, "{s:?} should be left to the full parser");
        }
    }

    fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                // Chart templates are Go templates, not YAML.
                if p.file_name().is_some_and(|n| n != "templates") {
                    yaml_files(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }

    #[test]
    fn fast_and_full_paths_agree_on_examples_and_pod_security_fixtures() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        yaml_files(&root.join("examples"), &mut files);
        let shared = root.join("../shared/conformance/pod-security");
        if shared.is_dir() {
            yaml_files(&shared, &mut files);
        } else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have ../shared/conformance"
            );
            eprintln!("note: ../shared/conformance absent; comparing on examples only");
        }
        let (mut docs, mut fast) = (0, 0);
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            let (d, q) = compare(&f.display().to_string(), &text);
            docs += d;
            fast += q;
        }
        eprintln!(
            "fast path: {fast} of {docs} documents in {} files",
            files.len()
        );
        assert!(
            docs > 0 && fast * 10 >= docs * 9,
            "the fast path should take nearly every document: {fast}/{docs}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::parse;
    use crate::yaml::{parse_document_full, parse_stream};

    /// Lines built from the pieces Kubernetes YAML is made of, including the awkward ones.
    fn yamlish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("a: 1"),
            Just("b:"),
            Just("- x"),
            Just("- c: d"),
            Just("  e: f"),
            Just("    - g"),
            Just("h: [1, on, 'q']"),
            Just("i: {j: k}"),
            Just("l: |"),
            Just("  text"),
            Just("m: >-"),
            Just("n: \"s\\tt\""),
            Just("o: 'it''s'"),
            Just("# note"),
            Just(""),
            Just("---"),
            Just("p: &a 1"),
            Just("q: *a"),
            Just("r: !!str 5"),
            Just("s: 0755"),
            Just("t: yes"),
            Just("u: a: b"),
            Just("\tv: 1"),
            Just("w: plain"),
            Just("   continued"),
            Just("x: [1,"),
            Just("  2]"),
            Just("? y"),
            Just("z: ~"),
            Just("- - nested"),
            Just("k: \"open"),
            Just("<<: {a: 1}"),
            Just("a: dup"),
        ];
        prop::collection::vec(piece, 0..14).prop_map(|lines| lines.join("\n"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the input, the loader answers (never panics), and wherever the fast path
        /// accepts a document the full parser reads exactly the same value and positions.
        #[test]
        fn fast_path_agrees_with_full_parser(text in yamlish()) {
            let _ = parse_stream("p.yaml", &text);
            if let Some((value, node, notes)) = parse(&text, 1) {
                let full = parse_document_full("p.yaml", &text, 1);
                let (fv, fnode, fnotes) = full.expect("full parser accepts what the fast path accepts").expect("a document");
                prop_assert_eq!(value, fv);
                prop_assert_eq!(node, fnode);
                prop_assert_eq!(notes, fnotes);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = crate::object::load_objects(crate::object::Origin::File("a.yaml"), &text);
        }
    }
}
