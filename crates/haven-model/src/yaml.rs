//! Reads YAML the way Kubernetes reads it.
//!
//! `kubectl` and Helm turn YAML into JSON with `sigs.k8s.io/yaml`, which resolves plain scalars
//! with YAML 1.1 rules (go-yaml v2): `on`, `yes`, `y` are booleans, `0755` is octal, `1_000` is a
//! number. Most YAML libraries (and editors) use YAML 1.2, where those are strings or decimals.
//! We resolve exactly like Kubernetes and record a [`YamlNote`] wherever the two readings differ,
//! so the user learns that `value: on` became `true` before the API server rejects it.
//!
//! Multi-document streams are split at document markers *before* parsing, so that a syntax
//! error in one document does not hide the others (a `---` at the start of a line always ends a
//! document in YAML, even inside a block scalar, so the split is exact).

use std::collections::HashMap;

use compact_str::CompactString;
use memchr::memmem;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::error::{InputError, InputErrorKind};
use crate::limits::{Budget, Exceeded};
use crate::node::{Node, Tree, TreeEntry, TreeKind};
use crate::path;

pub use crate::limits::{MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_NODES};

/// What kind of surprise a [`YamlNote`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// A plain scalar that YAML 1.1 (Kubernetes) and YAML 1.2 read differently.
    Yaml11Scalar,
    /// A mapping key written twice; Kubernetes keeps the last value.
    DuplicateKey,
}

/// Where the Kubernetes (YAML 1.1) reading of a plain scalar differs from YAML 1.2.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct YamlNote {
    pub kind: NoteKind,
    /// 1-based line in the file.
    pub line: u32,
    pub col: u32,
    /// Field path inside the document.
    pub path: String,
    /// The scalar as written.
    pub text: String,
    /// What Kubernetes reads, e.g. `boolean true` or `integer 493 (octal)`.
    pub kubernetes_reads: String,
    /// What a YAML 1.2 reader (and most editors) would read instead.
    pub yaml12_reads: String,
}

/// One parsed, non-empty document of a stream.
#[derive(Debug, Clone)]
pub struct YamlDocument {
    /// 0-based index of the document in its stream.
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: u32,
    /// The document as Kubernetes would see it after YAML→JSON conversion.
    pub value: Value,
    /// Source positions of every field.
    pub root: Node,
    pub notes: Vec<YamlNote>,
    /// The `# Source: chart/templates/x.yaml` comment Helm writes above each document.
    pub helm_source: Option<String>,
}

/// Parses every document of `text`. Empty documents are skipped (as `kubectl` does); a broken
/// document yields an error and parsing goes on with the next one.
pub fn parse_stream(file: &str, text: &str) -> Vec<Result<YamlDocument, InputError>> {
    raw_documents(text)
        .iter()
        .filter_map(|doc| doc.parse(file))
        .collect()
}

/// One document of a stream, split off but not parsed yet: callers that hold many documents
/// (`haven app check` over a large corpus) parse each one only when they need it.
#[derive(Debug, Clone, Copy)]
pub struct RawDocument<'t> {
    /// 0-based index of the document in its stream.
    pub index: usize,
    /// 1-based line of the stream where the document's text starts.
    pub first_line: u32,
    /// The document's text, its `---` marker included.
    pub text: &'t str,
}

impl<'t> RawDocument<'t> {
    /// Parses the document; `None` for an empty one.
    pub fn parse(&self, file: &str) -> Option<Result<YamlDocument, InputError>> {
        self.parse_by(file, Reader::Either)
    }

    /// The fast path alone: `None` when it leaves the document to the full parser. For tests
    /// and fuzz targets that compare the two readers; [`RawDocument::parse`] is the one to use.
    #[doc(hidden)]
    pub fn parse_fast(&self) -> Option<YamlDocument> {
        if self.text.len() > MAX_DOCUMENT_BYTES {
            return None;
        }
        let (value, root, notes) = crate::fast::parse(self.text, self.first_line)?;
        Some(self.document(value, root, notes))
    }

    /// The full parser alone, as [`RawDocument::parse_fast`].
    #[doc(hidden)]
    pub fn parse_full(&self, file: &str) -> Option<Result<YamlDocument, InputError>> {
        self.parse_by(file, Reader::Full)
    }

    fn parse_by(&self, file: &str, reader: Reader) -> Option<Result<YamlDocument, InputError>> {
        if self.text.len() > MAX_DOCUMENT_BYTES {
            return Some(Err(InputError::new(
                InputErrorKind::Limit,
                file,
                self.first_line,
                format!(
                    "document is {} MiB, larger than the {} MiB limit",
                    self.text.len() / (1024 * 1024),
                    MAX_DOCUMENT_BYTES / (1024 * 1024)
                ),
            )));
        }
        if reader == Reader::Either
            && let Some((value, root, notes)) = crate::fast::parse(self.text, self.first_line)
        {
            return Some(Ok(self.document(value, root, notes)));
        }
        match parse_document_full(file, self.text, self.first_line) {
            Ok(Some((value, root, notes))) => Some(Ok(self.document(value, root, notes))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn document(&self, value: Value, root: Node, notes: Vec<YamlNote>) -> YamlDocument {
        YamlDocument {
            index: self.index,
            line: root.line,
            value,
            root,
            notes,
            helm_source: helm_source(self.text),
        }
    }

    /// The top-level `kind` as written, read without parsing: the value of the one line that
    /// starts with `kind:` in column 0, when it is a plain word.
    ///
    /// A hint, not a reading: `None` whenever the text is not the simple block style this scan
    /// understands (JSON, flow style, several such lines, quoting, anchors, tags). It is exact
    /// when it answers, because a column-0 key of a block mapping is a top-level key, and YAML
    /// requires continuation lines of scalars under such a key to be indented.
    pub fn kind_hint(&self) -> Option<&'t str> {
        let bytes = self.text.as_bytes();
        let mut lines = memmem::find_iter(bytes, b"\nkind:").map(|p| p + 1);
        let first = if bytes.starts_with(b"kind:") {
            0
        } else {
            lines.next()?
        };
        if lines.next().is_some() {
            return None;
        }
        let rest = &self.text[first + "kind:".len()..];
        let line = rest.split('\n').next().unwrap_or_default();
        let value = line.split(" #").next().unwrap_or_default().trim();
        (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(value)
    }
}

/// Splits a stream into its documents, without parsing them.
pub fn raw_documents(text: &str) -> Vec<RawDocument<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    split_documents(text)
        .into_iter()
        .enumerate()
        .map(|(index, chunk)| RawDocument {
            index,
            first_line: chunk.first_line,
            text: chunk.text,
        })
        .collect()
}

pub(crate) struct Chunk<'a> {
    pub(crate) text: &'a str,
    pub(crate) first_line: u32,
}

/// Splits a stream at `---` and `...` lines.
pub(crate) fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let bytes = text.as_bytes();
    // Only lines that start with `---` or `...` can be markers: find those with a SIMD search
    // instead of looking at every line (this split runs over every byte of a large corpus).
    let mut candidates: Vec<usize> = Vec::new();
    if bytes.starts_with(b"---") || bytes.starts_with(b"...") {
        candidates.push(0);
    }
    candidates.extend(memmem::find_iter(bytes, b"\n---").map(|p| p + 1));
    candidates.extend(memmem::find_iter(bytes, b"\n...").map(|p| p + 1));
    candidates.sort_unstable();

    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    // `line_no` is the 1-based number of the line that starts at `counted_to`.
    let mut counted_to = 0usize;
    let mut line_no = 1u32;
    for line_start in candidates {
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i + 1);
        let bare = text[line_start..line_end].trim_end_matches(['\n', '\r']);
        let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let is_end = bare == "..." || bare.starts_with("... ") || bare.starts_with("...\t");
        if !is_start && !is_end {
            continue;
        }
        line_no += count_lines(&bytes[counted_to..line_start]);
        counted_to = line_start;
        if is_start && line_start > start {
            chunks.push(Chunk {
                text: &text[start..line_start],
                first_line: start_line,
            });
            start = line_start;
            start_line = line_no;
        }
        if is_end {
            chunks.push(Chunk {
                text: &text[start..line_end],
                first_line: start_line,
            });
            start = line_end;
            start_line = line_no + 1;
        }
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks
}

/// Number of line breaks in `bytes`.
fn count_lines(bytes: &[u8]) -> u32 {
    u32::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u32::MAX)
}

/// Helm's `# Source:` comment at the top of a rendered document.
pub(crate) fn helm_source(chunk: &str) -> Option<String> {
    chunk
        .lines()
        .take(3)
        .find_map(|l| l.strip_prefix("# Source: ").map(|s| s.trim().to_owned()))
}

type Parsed = (Value, Node, Vec<YamlNote>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The fast path, and the full parser where it gives up.
    Either,
    Full,
}

/// The general path: saphyr's YAML 1.2 event parser, resolved with Kubernetes' YAML 1.1 rules.
/// A document saphyr refuses is read again with the lines go-yaml reads at any indentation
/// lifted (`lenient.rs`); if that fails too, saphyr's first answer stands.
pub(crate) fn parse_document_full(
    file: &str,
    text: &str,
    first_line: u32,
) -> Result<Option<Parsed>, InputError> {
    // A last line of only blanks, with no line break after it, adds a line break to a block
    // scalar that ends there in saphyr's reading, not in go-yaml's (nor the fast path's): it
    // holds nothing else, so it goes.
    let text = match text.rfind('\n') {
        Some(nl) if text[nl + 1..].bytes().all(|b| matches!(b, b' ' | b'\r')) => &text[..=nl],
        _ => text,
    };
    // The splitter ends a chunk with its `...` line. go-yaml ignores what follows the marker on
    // that line (`... value: x`); saphyr refuses it: the marker alone is kept.
    let marker_start = text
        .trim_end_matches(['\n', '\r'])
        .rfind('\n')
        .map_or(0, |nl| nl + 1);
    let text =
        if text[marker_start..].starts_with("... ") || text[marker_start..].starts_with("...\t") {
            &text[..marker_start + 3]
        } else {
            text
        };
    if let Some(line) = orphan_end_marker(text) {
        return Err(InputError::new(
            InputErrorKind::Syntax,
            file,
            first_line + line,
            "invalid YAML: a `...` document end marker with no document before it (go-yaml, \
             as Kubernetes reads YAML, refuses it: did not find expected node content)",
        ));
    }
    if let Some((line, col)) = control_character(text) {
        return Err(InputError::new(
            InputErrorKind::Syntax,
            file,
            first_line + line,
            format!("invalid YAML: control characters are not allowed (column {col})"),
        ));
    }
    // Flow collections and byte order marks as go-yaml's scanner reads them (`goscan.rs`).
    let rewritten = match crate::goscan::rewrite(text) {
        Ok(r) => r,
        Err(r) => {
            let refused = InputError::new(
                InputErrorKind::Syntax,
                file,
                first_line + r.line,
                format!("invalid YAML: {} (column {})", r.what, r.col),
            );
            // What saphyr refuses before that place (go-yaml may have stopped reading before
            // it: trailing content after the document's node) is the error to report.
            return Err(match parse_saphyr(file, text, first_line, None) {
                Err(e) if e.kind == InputErrorKind::Syntax && e.line < refused.line => e,
                _ => refused,
            });
        }
    };
    let (text, base) = match &rewritten {
        Some(r) => (r.text.as_str(), Some(r)),
        None => (text, None),
    };
    match parse_saphyr(file, text, first_line, base) {
        Err(e) if e.kind == InputErrorKind::Syntax => match crate::lenient::lift(text) {
            // A syntax error in the lifted text too, at or before the first: saphyr's first
            // answer, about the text as written. Any other error is about the document as
            // go-yaml reads it.
            Some(lifted) => {
                let lifted = match rewritten {
                    Some(r) => lifted.on(r),
                    None => lifted,
                };
                match parse_saphyr(file, &lifted.text, first_line, Some(&lifted)) {
                    // Further down than the first: the lift mended the first, and this one is
                    // the text's (lines never move).
                    Err(again) if again.kind == InputErrorKind::Syntax && again.line > e.line => {
                        Err(again)
                    }
                    Err(again) if again.kind == InputErrorKind::Syntax => Err(e),
                    other => other,
                }
            }
            None => Err(e),
        },
        other => other,
    }
}

/// The 0-based line of a `...` marker that ends a document which never started: only blank
/// and comment lines before it, no `---`. go-yaml v2 (libyaml 0.1) then looks for the
/// document's node, finds the marker and refuses the stream; saphyr reads an empty document.
fn orphan_end_marker(text: &str) -> Option<u32> {
    let (i, line) = text
        .split('\n')
        .enumerate()
        .find(|(_, l)| !l.trim_start().is_empty() && !l.trim_start().starts_with('#'))?;
    let bare = line.trim_end_matches('\r');
    (bare == "..." || bare.starts_with("... ") || bare.starts_with("...\t")).then_some(i as u32)
}

/// The first character (0-based line, 1-based column) that go-yaml's reader refuses as a
/// control character and saphyr reads: DEL, the C1 controls but NEL, U+FFFE and U+FFFF.
fn control_character(text: &str) -> Option<(u32, usize)> {
    if text.is_ascii() && !text.contains('\u{7f}') {
        return None;
    }
    let refused = |c: char| {
        c == '\u{7f}'
            || (('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}')
            || c == '\u{fffe}'
            || c == '\u{ffff}'
    };
    text.split('\n').enumerate().find_map(|(i, line)| {
        let col = line.chars().position(refused)?;
        Some((i as u32, col + 1))
    })
}

fn parse_saphyr(
    file: &str,
    text: &str,
    first_line: u32,
    lifted: Option<&crate::lenient::Lifted>,
) -> Result<Option<Parsed>, InputError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        text,
        file,
        line_base: first_line - 1,
        lifted,
        anchors: HashMap::new(),
        budget: Budget::default(),
        scalar_bytes: 0,
        notes: Vec::new(),
        line_starts: std::cell::OnceCell::new(),
    };
    let mut result = None;
    loop {
        let (event, span) = b.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            ev => {
                if result.is_some() {
                    // A second document inside one chunk cannot happen after splitting; treat
                    // it as the syntax error it would be.
                    return Err(b.error_at(span, "unexpected content after the document"));
                }
                let mut path = String::new();
                let (value, node) = b.node(ev, span, 0, &mut path)?;
                result = Some((value, node));
            }
        }
    }
    Ok(result.and_then(|(value, tree)| {
        if value.is_null() {
            None
        } else {
            Some((value, Node::from_tree(tree), std::mem::take(&mut b.notes)))
        }
    }))
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// The text saphyr reads.
    text: &'a str,
    file: &'a str,
    line_base: u32,
    /// Set when the text was lifted: its columns map back to the original's.
    lifted: Option<&'a crate::lenient::Lifted>,
    anchors: HashMap<usize, Anchored>,
    budget: Budget,
    /// Bytes of scalar text read so far (keys and values, aliases expanded): what an anchor
    /// holds is the difference between its end and its start.
    scalar_bytes: usize,
    notes: Vec<YamlNote>,
    /// Byte offset of each line of `text`, found on the first [`Builder::explicit_key`]: that
    /// asks for the line of every mapping key, and finding it from the start of the text each
    /// time made reading a document quadratic in its length (three quarters of the
    /// instructions of `plus validate --charts`).
    line_starts: std::cell::OnceCell<Vec<usize>>,
}

/// What an anchor holds, and what repeating it costs.
struct Anchored {
    value: Value,
    tree: Tree,
    nodes: usize,
    bytes: usize,
    /// The key an alias of it makes, when it is a scalar.
    key: Option<Result<String, &'static str>>,
    /// A key JSON cannot hold as a value (`.nan`): an alias of it as a value is an error.
    unrepresentable: bool,
}

/// Where an anchored node started, to measure it when it ends.
#[derive(Clone, Copy)]
struct Start {
    nodes: usize,
    bytes: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), InputError> {
        match self.parser.next_event() {
            Some(Ok((Event::Scalar(text, style, anchor, tag), span)))
                if self.lifted.is_some_and(|l| l.stand_ins().next().is_some()) =>
            {
                // Characters the rewrite put in for others (`goscan.rs`) are read back.
                let mut text = text;
                for (stand_in, original) in self.lifted.into_iter().flat_map(|l| l.stand_ins()) {
                    if text.contains(stand_in) {
                        text = text
                            .replace(stand_in, original.encode_utf8(&mut [0; 4]))
                            .into();
                    }
                }
                Ok((Event::Scalar(text, style, anchor, tag), span))
            }
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(InputError::new(
                // saphyr bounds its own nesting; that is our limit error, not a syntax one.
                if e.info().contains("recursion limit") {
                    InputErrorKind::Limit
                } else {
                    InputErrorKind::Syntax
                },
                self.file,
                self.line_base + e.marker().line() as u32,
                format!(
                    "invalid YAML: {} (column {})",
                    e.info(),
                    e.marker().col() + 1
                ),
            )),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    /// Whether the key that starts at `span` follows a `?` indicator on its line (anchors and
    /// tags between them).
    fn explicit_key(&self, span: Span) -> bool {
        let Some(line) = self.line(span.start.line().saturating_sub(1)) else {
            return false;
        };
        let before: String = line.chars().take(span.start.col()).collect();
        before
            .split([' ', '\t'])
            .filter(|t| !t.is_empty())
            .rev()
            .find(|t| !t.starts_with(['&', '!']))
            == Some("?")
    }

    /// Line `index` (from 0) of the text without its `\n`, as `text.split('\n').nth(index)`.
    fn line(&self, index: usize) -> Option<&'a str> {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let start = *starts.get(index)?;
        let end = starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        Some(&self.text[start..end])
    }

    fn pos(&self, span: Span) -> (u32, u32) {
        let col = span.start.col() as u32 + 1;
        (
            self.line_base + span.start.line() as u32,
            match self.lifted {
                Some(l) => l.col(span.start.line().saturating_sub(1), col),
                None => col,
            },
        )
    }

    fn error_at(&self, span: Span, msg: impl Into<String>) -> InputError {
        InputError::new(InputErrorKind::Syntax, self.file, self.pos(span).0, msg)
    }

    fn limit(&self, exceeded: Exceeded, span: Span, path: &str) -> InputError {
        InputError::new(
            InputErrorKind::Limit,
            self.file,
            self.pos(span).0,
            exceeded.to_string(),
        )
        .with_field(path)
    }

    fn start(&self) -> Start {
        Start {
            nodes: self.budget.nodes(),
            bytes: self.scalar_bytes,
        }
    }

    fn node(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
        path: &mut String,
    ) -> Result<(Value, Tree), InputError> {
        if depth > MAX_DEPTH {
            return Err(InputError::new(
                InputErrorKind::Limit,
                self.file,
                self.pos(span).0,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .with_field(path.clone()));
        }
        let start = self.start();
        if let Err(e) = self.budget.add(1) {
            return Err(self.limit(e, span, path));
        }
        let (line, col) = self.pos(span);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar_bytes += text.len();
                let (value, key) = self.scalar(&text, style, tag.as_deref(), line, col, path)?;
                let node = Tree::scalar(line, col);
                if anchor != 0 {
                    self.remember_key(anchor, value.clone(), node.clone(), start, key);
                }
                Ok((value, node))
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(a) if a.unrepresentable => Err(InputError::new(
                    InputErrorKind::FieldType,
                    self.file,
                    line,
                    "the anchored value is not a finite number and cannot be represented in JSON; Kubernetes rejects it",
                )
                .with_field(path.clone())),
                Some(a) => {
                    let (nodes, bytes) = (a.nodes, a.bytes);
                    // Counted before anything is copied.
                    if let Err(e) = self.budget.alias(nodes, bytes) {
                        return Err(self.limit(e, span, path));
                    }
                    self.scalar_bytes += bytes;
                    let a = &self.anchors[&id];
                    Ok((
                        a.value.clone(),
                        Tree {
                            line,
                            col,
                            kind: a.tree.kind.clone(),
                        },
                    ))
                }
                None => Err(self.error_at(span, "alias to an unknown anchor")),
            },
            Event::SequenceStart(anchor, _) => {
                let mut values = Vec::new();
                let mut nodes = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let len = path.len();
                    path.push_str(&format!("[{}]", values.len()));
                    let (v, n) = self.node(ev, sp, depth + 1, path)?;
                    path.truncate(len);
                    values.push(v);
                    nodes.push(n);
                }
                let value = Value::Array(values);
                let node = Tree {
                    line,
                    col,
                    kind: TreeKind::Seq(nodes),
                };
                self.remember(anchor, &value, &node, start);
                Ok((value, node))
            }
            Event::MappingStart(anchor, _) => {
                let (value, node) = self.mapping(line, col, depth, path)?;
                self.remember(anchor, &value, &node, start);
                Ok((value, node))
            }
            Event::StreamEnd => Err(self.error_at(span, "unexpected end of document")),
            other => Err(self.error_at(span, format!("unexpected YAML event {other:?}"))),
        }
    }

    fn mapping(
        &mut self,
        line: u32,
        col: u32,
        depth: usize,
        path: &mut String,
    ) -> Result<(Value, Tree), InputError> {
        let mut map = Map::new();
        let mut entries: Vec<TreeEntry> = Vec::new();
        // Keys whose value came from a `<<` merge: a key written after the merge overrides them
        // without a duplicate-key note.
        let mut merged: Vec<String> = Vec::new();
        loop {
            let (ev, sp) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let (kl, kc) = self.pos(sp);
            let is_merge =
                matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key = if is_merge {
                if let Event::Scalar(_, _, anchor, _) = &ev
                    && *anchor != 0
                {
                    // An anchored `<<`: an alias of it reads the text.
                    let start = self.start();
                    self.remember_key(
                        *anchor,
                        Value::String("<<".into()),
                        Tree::scalar(kl, kc),
                        start,
                        Ok("<<".into()),
                    );
                }
                "<<".to_owned()
            } else {
                self.key(ev, sp, depth, path)?
            };
            let (vev, vsp) = self.next()?;
            let literal_seq = matches!(vev, Event::SequenceStart(..));
            let len = path.len();
            path::push_key(path, &key);
            let (v, n) = self.node(vev, vsp, depth + 1, path)?;
            path.truncate(len);
            if is_merge {
                if literal_seq {
                    // go-yaml decodes the items of `<<: [*a, *b]`, not the sequence itself.
                    self.budget.remove(1);
                }
                self.merge(
                    &mut map,
                    &mut entries,
                    &mut merged,
                    v,
                    n,
                    literal_seq,
                    (kl, kc),
                    path,
                )?;
                continue;
            }
            let repeated = map.contains_key(&key);
            if repeated && !merged.contains(&key) {
                self.duplicate_key(
                    &key,
                    (kl, kc),
                    path,
                    (
                        "the last value of a duplicated key",
                        "an error: mapping keys must be unique",
                    ),
                );
            }
            // Only a repeated key pays for the clean-up below; the usual insert stays O(1).
            if repeated {
                merged.retain(|k| k != &key);
                entries.retain(|(k, ..)| *k != key);
            }
            entries.push((CompactString::new(&key), kl, kc, n));
            map.insert(key, v);
        }
        Ok((
            Value::Object(map),
            Tree {
                line,
                col,
                kind: TreeKind::Map(entries),
            },
        ))
    }

    fn duplicate_key(
        &mut self,
        key: &str,
        (line, col): (u32, u32),
        path: &str,
        (kubernetes_reads, yaml12_reads): (&str, &str),
    ) {
        self.notes.push(YamlNote {
            kind: NoteKind::DuplicateKey,
            line,
            col,
            path: {
                let mut p = path.to_owned();
                path::push_key(&mut p, key);
                p
            },
            text: key.to_owned(),
            kubernetes_reads: kubernetes_reads.into(),
            yaml12_reads: yaml12_reads.into(),
        });
    }

    /// A `<<` merge, read as go-yaml v2 reads it into Kubernetes' maps: the merged mapping is
    /// written into this one at the place of the `<<`, overriding keys written before it (YAML's
    /// merge type, and go-yaml v3, let those win; Kubernetes does not); of a list of mappings,
    /// the first wins. The value must be a mapping, an alias of one, or a sequence written in
    /// place whose items are those.
    #[allow(clippy::too_many_arguments)]
    fn merge(
        &mut self,
        map: &mut Map<String, Value>,
        entries: &mut Vec<TreeEntry>,
        merged: &mut Vec<String>,
        value: Value,
        node: Tree,
        literal_seq: bool,
        (line, col): (u32, u32),
        path: &str,
    ) -> Result<(), InputError> {
        let bad = || {
            InputError::new(
                InputErrorKind::Syntax,
                self.file,
                line,
                "map merge requires map or sequence of maps as the value",
            )
            .with_field(path)
        };
        let sources: Vec<(Value, Tree)> = match (value, node.kind) {
            (Value::Object(m), kind @ TreeKind::Map(_)) => {
                vec![(Value::Object(m), Tree { line, col, kind })]
            }
            (Value::Array(items), TreeKind::Seq(nodes)) if literal_seq => {
                // Later items are written first, so that the first one wins.
                items.into_iter().zip(nodes).rev().collect()
            }
            _ => return Err(bad()),
        };
        for (v, n) in sources {
            let (Value::Object(mut m), TreeKind::Map(ents)) = (v, n.kind) else {
                return Err(bad());
            };
            // The map is sorted by key, the entries are in source order: pair them by key.
            for ent in ents {
                let Some(v) = m.remove(ent.0.as_str()) else {
                    continue;
                };
                let key = ent.0.to_string();
                if map.contains_key(&key) {
                    if !merged.contains(&key) {
                        self.duplicate_key(
                            &key,
                            (line, col),
                            path,
                            (
                                "the merged value: go-yaml v2 lets a `<<` override the keys \
                                 written before it",
                                "the value written in the mapping: merged keys never override",
                            ),
                        );
                        merged.push(key.clone());
                    }
                    entries.retain(|(k, ..)| *k != key);
                } else {
                    merged.push(key.clone());
                }
                map.insert(key, v);
                entries.push(ent);
            }
        }
        Ok(())
    }

    /// Mapping keys become strings, as `sigs.k8s.io/yaml` does (`on:` → `"true"`, `1:` → `"1"`,
    /// `1e6:` → `"1e+06"`); keys it cannot convert (null, integers beyond `i64`) are errors, as
    /// they are for Kubernetes.
    fn key(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
        path: &str,
    ) -> Result<String, InputError> {
        if depth + 1 > MAX_DEPTH {
            return Err(InputError::new(
                InputErrorKind::Limit,
                self.file,
                self.pos(span).0,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .with_field(path));
        }
        let start = self.start();
        if let Err(e) = self.budget.add(1) {
            return Err(self.limit(e, span, path));
        }
        let (line, col) = self.pos(span);
        let (text, key) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                // go-yaml's simple keys: on one line, at most 1024 characters (an explicit
                // `? key` is not one).
                // A lifted text may have indented a line that, to go-yaml, ends the key.
                let may_span_lines =
                    self.explicit_key(span) && !self.lifted.is_some_and(|l| l.indents_lines());
                if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    && !may_span_lines
                    && (span.end.line() != span.start.line()
                        || span.end.index() - span.start.index() > 1024)
                {
                    return Err(self.error_at(
                        span,
                        "a mapping key must be on one line and at most 1024 characters long \
                         (could not find expected ':')",
                    ));
                }
                self.scalar_bytes += text.len();
                let resolved = self.resolve(&text, style, tag.as_deref(), line, col, path)?;
                let key = go_key(&resolved, &text);
                if anchor != 0 {
                    // Usable later as a value too, when it has a JSON form.
                    let unrepresentable = matches!(&resolved, Plain::Float(f) if !f.is_finite());
                    let value = if unrepresentable {
                        Value::Null
                    } else {
                        resolved.clone().value(&text)
                    };
                    self.remember_key(anchor, value, Tree::scalar(line, col), start, key.clone());
                    if unrepresentable && let Some(a) = self.anchors.get_mut(&anchor) {
                        a.unrepresentable = true;
                    }
                }
                (text.into_owned(), key)
            }
            Event::Alias(id) => {
                let Some(a) = self.anchors.get(&id) else {
                    return Err(self.error_at(span, "alias to an unknown anchor"));
                };
                let (nodes, bytes) = (a.nodes, a.bytes);
                if let Err(e) = self.budget.alias(nodes, bytes) {
                    return Err(self.limit(e, span, path));
                }
                self.scalar_bytes += bytes;
                match &self.anchors[&id].key {
                    Some(key) => ("*alias".to_owned(), key.clone()),
                    None => {
                        return Err(self.error_at(
                            span,
                            "an alias of a mapping or sequence cannot be a mapping key",
                        ));
                    }
                }
            }
            _ => {
                return Err(self.error_at(
                    span,
                    "complex (mapping or sequence) keys are not supported by Kubernetes",
                ));
            }
        };
        key.map_err(|what| {
            InputError::new(
                InputErrorKind::FieldType,
                self.file,
                line,
                format!(
                    "mapping key `{text}` is {what}; Kubernetes (sigs.k8s.io/yaml) takes only \
                     string, number and boolean keys"
                ),
            )
            .with_field(path)
        })
    }

    fn remember(&mut self, anchor: usize, value: &Value, node: &Tree, start: Start) {
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    tree: node.clone(),
                    nodes: self.budget.nodes() - start.nodes,
                    bytes: self.scalar_bytes - start.bytes,
                    key: None,
                    unrepresentable: false,
                },
            );
        }
    }

    fn remember_key(
        &mut self,
        anchor: usize,
        value: Value,
        tree: Tree,
        start: Start,
        key: Result<String, &'static str>,
    ) {
        self.anchors.insert(
            anchor,
            Anchored {
                value,
                tree,
                nodes: self.budget.nodes() - start.nodes,
                bytes: self.scalar_bytes - start.bytes,
                key: Some(key),
                unrepresentable: false,
            },
        );
    }

    /// A scalar value: resolved, and refused when JSON cannot hold it.
    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        line: u32,
        col: u32,
        path: &str,
    ) -> Result<(Value, Result<String, &'static str>), InputError> {
        let resolved = self.resolve(text, style, tag, line, col, path)?;
        let key = go_key(&resolved, text);
        match resolved {
            Plain::Float(f) if !f.is_finite() => Err(InputError::new(
                InputErrorKind::FieldType,
                self.file,
                line,
                format!("`{text}` is not a finite number and cannot be represented in JSON; Kubernetes rejects it"),
            )
            .with_field(path)),
            other => Ok((other.value(text), key)),
        }
    }

    /// A scalar as go-yaml v2 resolves it (`resolve.go`): plain scalars by YAML 1.1's rules,
    /// quoted and block scalars as strings, the core tags checked, any other tag a string.
    fn resolve(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        line: u32,
        col: u32,
        path: &str,
    ) -> Result<Plain, InputError> {
        if let Some(tag) = tag {
            return match core_tag(tag) {
                Some(suffix) => self.tagged(text, suffix, line, path),
                // `!`, `!local`, `!!map` on a scalar: go-yaml keeps the text as a string.
                None => Ok(Plain::Str),
            };
        }
        if style != ScalarStyle::Plain {
            return Ok(Plain::Str);
        }
        let resolved = resolve_plain(text);
        if let Some((k8s, yaml12)) = differs_from_yaml12(text, &resolved) {
            self.notes.push(YamlNote {
                kind: NoteKind::Yaml11Scalar,
                line,
                col,
                path: path.to_owned(),
                text: text.to_owned(),
                kubernetes_reads: k8s,
                yaml12_reads: yaml12,
            });
        }
        Ok(resolved)
    }

    /// go-yaml v2's reading of a scalar with a core tag: the tag must match what the text
    /// resolves to, except that `!!float` takes integers.
    fn tagged(&self, text: &str, suffix: &str, line: u32, path: &str) -> Result<Plain, InputError> {
        let bad = |what: &str| {
            InputError::new(
                InputErrorKind::FieldType,
                self.file,
                line,
                format!("cannot decode `{text}` as a !!{what}"),
            )
            .with_field(path)
        };
        match suffix {
            "str" => Ok(Plain::Str),
            "binary" => go_base64(text)
                .map(Plain::Decoded)
                .ok_or_else(|| bad("binary (invalid base64 data)")),
            "timestamp" if is_go_timestamp(text) => Ok(Plain::Str),
            "timestamp" => Err(bad("timestamp")),
            "null" => match resolve_plain(text) {
                Plain::Null => Ok(Plain::Null),
                _ => Err(bad("null")),
            },
            "bool" => match resolve_plain(text) {
                p @ Plain::Bool(_) => Ok(p),
                _ => Err(bad("bool")),
            },
            "int" => match resolve_plain(text) {
                p @ (Plain::Int(_) | Plain::Uint(_)) => Ok(p),
                _ => Err(bad("int")),
            },
            "float" => match resolve_plain(text) {
                Plain::Int(i) => Ok(Plain::Float(i as f64)),
                p @ Plain::Float(_) => Ok(p),
                _ => Err(bad("float")),
            },
            // `!!map`, `!!seq`, `!!set` and the like on a scalar: not resolvable, kept as text.
            _ => Ok(Plain::Str),
        }
    }
}

/// The suffix of a tag in YAML's core namespace (`!!int`, `!<tag:yaml.org,2002:int>`).
fn core_tag(tag: &Tag) -> Option<&str> {
    const CORE: &str = "tag:yaml.org,2002:";
    if tag.handle == CORE || tag.handle == "!!" {
        return Some(&tag.suffix);
    }
    if tag.handle.is_empty() {
        return tag.suffix.strip_prefix(CORE);
    }
    None
}

/// sigs.k8s.io/yaml's conversion of a go-yaml map key to a JSON key: strings as they are,
/// booleans and integers spelled out, floats as Go's `FormatFloat(f, 'g', -1, 32)`; null and
/// integers beyond `i64` (go-yaml's `uint64`) are refused. `Err` names what the key is.
pub(crate) fn go_key(resolved: &Plain, text: &str) -> Result<String, &'static str> {
    Ok(match resolved {
        Plain::Str => text.to_owned(),
        Plain::Decoded(s) => s.clone(),
        Plain::Null => return Err("null"),
        Plain::Bool(b) => b.to_string(),
        Plain::Int(i) => i.to_string(),
        Plain::Uint(_) => return Err("an integer larger than 2^63-1"),
        Plain::Float(f) => go_format_float32_g(*f),
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with sigs.k8s.io/yaml's names for infinities and
/// NaN: the shortest digits that read back as the same `float32`, in exponent form when the
/// exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), else in positional form.
pub(crate) fn go_format_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let f = f as f32;
    if f.is_infinite() {
        // Finite as f64, beyond f32: Go rounds it to ±Inf as well.
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let neg = f.is_sign_negative();
    if f == 0.0 {
        return if neg { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d.ddde<exp>`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is a number");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Go's `base64.StdEncoding.DecodeString` (which skips line breaks) as go-yaml uses it for
/// `!!binary`, the bytes then turned into a string as Go's JSON encoder does: each byte that
/// is not part of valid UTF-8 becomes U+FFFD.
fn go_base64(text: &str) -> Option<String> {
    use base64::Engine as _;
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                out.push_str(std::str::from_utf8(&rest[..valid]).expect("valid prefix"));
                out.push('\u{fffd}');
                rest = &rest[valid + 1..];
            }
        }
    }
    Some(out)
}

/// Whether go-yaml v2 reads `text` as a timestamp (`parseTimestamp`): four digits and a dash,
/// then one of `2006-1-2`, `2006-1-2 15:4:5.999999999`, or `2006-1-2T15:4:5.999999999Z07:00`
/// (`T` or `t`; `Z` or an offset), with a real calendar date.
fn is_go_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    // Go's time.Parse: a number of 1 or 2 digits for month, day, hour, minute, second.
    fn num(b: &[u8], i: &mut usize, max_len: usize) -> Option<u32> {
        let start = *i;
        while *i < b.len() && *i - start < max_len && b[*i].is_ascii_digit() {
            *i += 1;
        }
        (*i > start).then(|| {
            b[start..*i]
                .iter()
                .fold(0, |n, d| n * 10 + u32::from(d - b'0'))
        })
    }
    let year: u32 = text[..4].parse().unwrap_or(0);
    let mut i = 5;
    let Some(month) = num(b, &mut i, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(b, &mut i, 2) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zone = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    for (max, sep) in [(23, Some(b':')), (59, Some(b':')), (59, None)] {
        match num(b, &mut i, 2) {
            Some(v) if v <= max => {}
            _ => return false,
        }
        if let Some(sep) = sep {
            if b.get(i) != Some(&sep) {
                return false;
            }
            i += 1;
        }
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 9 {
            return false;
        }
    }
    if !zone {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &text[i + 1..];
            rest.len() == 5
                && rest.as_bytes()[2] == b':'
                && rest[..2].parse::<u32>().is_ok_and(|h| h <= 23)
                && rest[3..].parse::<u32>().is_ok_and(|m| m <= 59)
                && rest[..2]
                    .bytes()
                    .chain(rest[3..].bytes())
                    .all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// A plain scalar resolved with go-yaml v2's (YAML 1.1) rules.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// The text as written.
    Str,
    /// A string other than the text: a `!!binary` scalar decoded.
    Decoded(String),
}

impl Plain {
    /// The JSON value Kubernetes builds; `text` is the scalar as written (kept for strings).
    pub(crate) fn value(self, text: &str) -> Value {
        match self {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::Bool(b),
            Plain::Int(i) => Value::from(i),
            Plain::Uint(u) => Value::from(u),
            Plain::Float(f) => {
                // sigs.k8s.io/yaml emits whole floats as integers (`1.0` → `1`).
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::from(f as i64)
                } else {
                    Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
            }
            Plain::Str => Value::String(text.to_owned()),
            Plain::Decoded(s) => Value::String(s),
        }
    }
}

/// Resolves a plain scalar like go-yaml v2 (`resolve.go`), which is what `kubectl` and Helm use.
pub(crate) fn resolve_plain(text: &str) -> Plain {
    let Some(&first) = text.as_bytes().first() else {
        return Plain::Null;
    };
    // Most scalars are names, images and paths: settle those on their first byte before trying
    // the word lists below.
    if !(first.is_ascii_digit()
        || matches!(
            first,
            b'~' | b'n'
                | b'N'
                | b'y'
                | b'Y'
                | b'o'
                | b'O'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'.'
                | b'+'
                | b'-'
        ))
    {
        return Plain::Str;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Plain::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Plain::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    if first == b'.' {
        // go-yaml hands these to `strconv.ParseFloat` as written: no integers, and underscores
        // only between digits, as in Go's float literals (`.6_6` is 0.66, `._5` a string).
        let b = text.as_bytes();
        let underscores_ok = b.iter().enumerate().all(|(i, &c)| {
            c != b'_'
                || (i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        });
        let plain: String = text.chars().filter(|&c| c != '_').collect();
        return match plain.parse::<f64>() {
            Ok(f) if underscores_ok && is_yaml_float(&plain) && f.is_finite() => Plain::Float(f),
            _ => Plain::Str,
        };
    }
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return Plain::Str;
    }
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.chars()
            .filter(|&c| c != '_')
            .collect::<String>()
            .into()
    } else {
        text.into()
    };
    if let Some(i) = go_parse_int(&plain) {
        return i;
    }
    // `strconv.ParseFloat` fails on a number out of range (`1e400`): go-yaml keeps the text.
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
        && f.is_finite()
    {
        return Plain::Float(f);
    }
    Plain::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint(s, 0, 64)`: sign, `0x`, `0o`, `0b` and
/// leading-zero octal.
fn go_parse_int(s: &str) -> Option<Plain> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Plain::Int((magnitude as i64).wrapping_neg()))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(Plain::Int(magnitude as i64))
    } else {
        Some(Plain::Uint(magnitude))
    }
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// YAML 1.2 core schema reading of a plain scalar, for comparison.
fn resolve_yaml12(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            let body = text.strip_prefix(['-', '+']).unwrap_or(text);
            let neg = text.starts_with('-');
            let int = if let Some(h) = text.strip_prefix("0x") {
                i64::from_str_radix(h, 16).ok()
            } else if let Some(o) = text.strip_prefix("0o") {
                i64::from_str_radix(o, 8).ok()
            } else if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
                body.parse::<i64>().ok().map(|v| if neg { -v } else { v })
            } else {
                None
            };
            if let Some(i) = int {
                return Value::from(i);
            }
            if is_yaml_float(text)
                && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
            {
                return Value::Number(n);
            }
            Value::String(text.to_owned())
        }
    }
}

/// `-`? then 1 to 18 digits without a leading zero (or `0` alone): no octal reading, no
/// overflow, no underscores, so YAML 1.1 and 1.2 read the same integer.
fn is_short_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text).as_bytes();
    (1..=18).contains(&digits.len())
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1)
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        _ => "a collection".into(),
    }
}

/// The two readings when YAML 1.1 (Kubernetes) and YAML 1.2 disagree on a plain scalar.
#[inline]
pub(crate) fn differs_from_yaml12(text: &str, resolved: &Plain) -> Option<(String, String)> {
    if read_alike(text, resolved) {
        return None;
    }
    both_readings_differ(text, resolved)
}

/// The usual scalars both schemas read alike, settled without building both readings: strings,
/// nulls, the boolean words YAML 1.2 shares, and short decimals (ports, replicas).
#[inline]
fn read_alike(text: &str, resolved: &Plain) -> bool {
    match resolved {
        Plain::Str | Plain::Decoded(_) | Plain::Null => true,
        Plain::Bool(_) => matches!(text, "true" | "false" | "True" | "False" | "TRUE" | "FALSE"),
        Plain::Int(_) => is_short_decimal(text),
        _ => false,
    }
}

#[inline(never)]
fn both_readings_differ(text: &str, resolved: &Plain) -> Option<(String, String)> {
    if matches!(resolved, Plain::Str | Plain::Decoded(_) | Plain::Null) {
        return None;
    }
    let k8s = resolved.clone().value(text);
    let y12 = resolve_yaml12(text);
    let same = match (&k8s, &y12) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    };
    if same {
        return None;
    }
    let mut k8s_desc = describe(&k8s);
    if matches!(resolved, Plain::Int(_))
        && text.trim_start_matches(['-', '+']).starts_with('0')
        && text.len() > 1
    {
        k8s_desc.push_str(" (octal)");
    }
    Some((k8s_desc, describe(&y12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of line starts gives the lines `split('\n')` gives (the explicit-key check
    /// read them that way before), at the ends of the text too.
    #[test]
    fn lines_by_index_are_those_of_split() {
        for text in [
            "",
            "a",
            "a\n",
            "\n\n",
            "a: 1\r\n? b\n: 2\n\u{e9}: x",
            "? a\n",
        ] {
            let b = Builder {
                parser: Parser::new_from_str(text),
                text,
                file: "f.yaml",
                line_base: 0,
                lifted: None,
                anchors: HashMap::new(),
                budget: Budget::default(),
                scalar_bytes: 0,
                notes: Vec::new(),
                line_starts: std::cell::OnceCell::new(),
            };
            for i in 0..6 {
                assert_eq!(b.line(i), text.split('\n').nth(i), "{text:?} line {i}");
            }
        }
        // Explicit keys are still found on the lines after the first.
        let doc = parse_saphyr("f.yaml", "a: 1\n? b\n: 2\n? &x c\n: 3\n", 1, None)
            .unwrap()
            .unwrap();
        assert_eq!(doc.0, serde_json::json!({"a": 1, "b": 2, "c": 3}));
    }

    #[test]
    fn scalars_settled_early_are_read_alike_by_both_schemas() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+0",
            "00",
            "007",
            "0755",
            "-0755",
            "1",
            "-1",
            "+1",
            "8080",
            "1_000",
            "0x1F",
            "0o17",
            "0b101",
            "1e3",
            "1.5",
            ".5",
            "-",
            "true",
            "True",
            "TRUE",
            "tRue",
            "false",
            "False",
            "FALSE",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "~",
            "null",
            "",
            ".inf",
            ".NaN",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for digits in 1..=20 {
            texts.push("9".repeat(digits));
            texts.push(format!("-{}", "9".repeat(digits)));
            texts.push(format!("1{}", "0".repeat(digits)));
        }
        let mut settled = 0;
        for text in &texts {
            let resolved = resolve_plain(text);
            if read_alike(text, &resolved) {
                settled += 1;
                assert_eq!(both_readings_differ(text, &resolved), None, "{text:?}");
            }
        }
        assert!(settled > 40, "{settled}");
    }

    /// The plain line-by-line split that `split_documents` must agree with.
    fn split_by_lines(text: &str) -> Vec<(String, u32)> {
        let mut chunks = Vec::new();
        let (mut start, mut start_line, mut offset, mut line_no) = (0usize, 1u32, 0usize, 1u32);
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\n', '\r']);
            let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
            let is_end = bare == "..." || bare.starts_with("... ") || bare.starts_with("...\t");
            if is_start && offset > start {
                chunks.push((text[start..offset].to_owned(), start_line));
                (start, start_line) = (offset, line_no);
            }
            offset += line.len();
            line_no += 1;
            if is_end {
                chunks.push((text[start..offset].to_owned(), start_line));
                (start, start_line) = (offset, line_no);
            }
        }
        if start < text.len() {
            chunks.push((text[start..].to_owned(), start_line));
        }
        chunks
    }

    proptest::proptest! {
        #[test]
        fn split_agrees_with_a_line_by_line_split(
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "---", "--- ", "---\t# c", "----", "---x", "...", "... ", "....", ".. .",
                    "kind: A", "  - x", "", "\r", "a: |", "  ---", "-- -", "---\r",
                ]),
                0..12,
            ),
            trailing_newline in proptest::bool::ANY,
        ) {
            let mut text = lines.join("\n");
            if trailing_newline {
                text.push('\n');
            }
            let ours: Vec<(String, u32)> = split_documents(&text)
                .into_iter()
                .map(|c| (c.text.to_owned(), c.first_line))
                .collect();
            proptest::prop_assert_eq!(ours, split_by_lines(&text));
        }
    }

    #[test]
    fn merged_keys_keep_their_own_positions() {
        let doc = one("base: &b\n  zeta: 1\n  alpha: 2\nobj:\n  <<: *b\n  own: 3\n");
        assert_eq!(doc.value["obj"]["alpha"], 2);
        assert_eq!(doc.root.position("obj.zeta").0, 2);
        assert_eq!(doc.root.position("obj.alpha").0, 3);
        assert_eq!(doc.root.position("obj.own").0, 6);
    }

    #[test]
    fn kind_hint_answers_only_when_the_text_is_plain() {
        fn hint(text: &str) -> Option<&str> {
            RawDocument {
                index: 0,
                first_line: 1,
                text,
            }
            .kind_hint()
        }
        assert_eq!(hint("apiVersion: v1\nkind: Service\n"), Some("Service"));
        assert_eq!(
            hint("kind: Deployment # web\r\nmetadata: {}"),
            Some("Deployment")
        );
        assert_eq!(hint("---\nkind:   Job\n"), Some("Job"));
        assert_eq!(hint("kind: \"Service\"\n"), None);
        assert_eq!(hint("kind: !!str Service\n"), None);
        assert_eq!(hint("{\"kind\": \"Service\"}"), None);
        assert_eq!(hint("kind: A\nkind: B\n"), None);
        assert_eq!(hint("items:\n- kind: Service\n"), None);
        assert_eq!(hint("kind:\n"), None);
    }

    fn one(text: &str) -> YamlDocument {
        let mut docs = parse_stream("t.yaml", text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    #[test]
    fn resolves_like_kubernetes() {
        let d = one(
            "a: on\nb: yes\nc: 0755\nd: 1_000\ne: '0755'\nf: 0x1F\ng: 1.0\nh: 08\ni: 2001-12-14\nj: y\nk: ~\n",
        );
        let v = &d.value;
        assert_eq!(v["a"], Value::Bool(true));
        assert_eq!(v["b"], Value::Bool(true));
        assert_eq!(v["c"], Value::from(493));
        assert_eq!(v["d"], Value::from(1000));
        assert_eq!(v["e"], Value::from("0755"));
        assert_eq!(v["f"], Value::from(31));
        assert_eq!(v["g"], Value::from(1));
        assert_eq!(v["h"], Value::from(8));
        assert_eq!(v["i"], Value::from("2001-12-14"));
        assert_eq!(v["j"], Value::Bool(true));
        assert_eq!(v["k"], Value::Null);
        let noted: Vec<_> = d.notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(noted, ["a", "b", "c", "d", "j"]);
        assert_eq!(d.notes[2].kubernetes_reads, "number 493 (octal)");
        assert_eq!(d.notes[2].yaml12_reads, "number 755");
    }

    #[test]
    fn keys_become_strings() {
        let d = one("on: 1\n2: two\n");
        assert_eq!(d.value["true"], Value::from(1));
        assert_eq!(d.value["2"], Value::from("two"));
    }

    #[test]
    fn splits_documents_and_keeps_lines() {
        let text = "# c\n---\na: 1\n---\n\n---\nb: [1, 2\n---\nkind: X\nmetadata:\n  name: n\n";
        let docs = parse_stream("f.yaml", text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].as_ref().unwrap().line, 3);
        let err = docs[1].as_ref().unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Syntax);
        assert!(err.line >= 7, "{err:?}");
        let last = docs[2].as_ref().unwrap();
        assert_eq!(last.root.position("metadata.name"), (11, 3));
    }

    #[test]
    fn anchors_aliases_and_merge() {
        let d = one("base: &b\n  x: 1\n  z: 2\nuse:\n  <<: *b\n  z: 3\nlist: [*b]\n");
        assert_eq!(d.value["use"], serde_json::json!({"x": 1, "z": 3}));
        assert_eq!(d.value["list"][0]["x"], Value::from(1));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let docs = parse_stream("deep.yaml", &text);
        let err = docs[0].as_ref().unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='j' {
            text.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        let err = parse_stream("bomb.yaml", &text).remove(0).unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
    }

    /// issue 25: one large string aliased many times is bounded by the bytes it repeats, before
    /// the copies are made, with an error that names the line of the alias.
    #[test]
    fn aliases_are_bounded_by_the_bytes_they_repeat() {
        let big = "x".repeat(1024 * 1024);
        let mut text = format!("a: &a {big}\nb:\n");
        for _ in 0..17 {
            text.push_str("- *a\n");
        }
        let err = parse_stream("big.yaml", &text).remove(0).unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
        assert_eq!(err.line, 19, "{err:?}");
        assert_eq!(err.field.as_deref(), Some("b[16]"));
        assert!(
            err.message.contains("repeat more than 16 MiB"),
            "{}",
            err.message
        );
        // Sixteen copies are within the limit.
        let ok = text.rsplit_once("- *a\n").unwrap().0;
        assert_eq!(one(ok).value["b"].as_array().unwrap().len(), 16);
    }

    /// issue 25: the fast path and the full parser apply the same node limit: a long list the
    /// fast path used to read whole is refused by both.
    #[test]
    fn both_readers_apply_the_node_limit() {
        let list = "- 1\n".repeat(crate::limits::MAX_NODES);
        let doc = raw_documents(&list)[0];
        assert!(
            doc.parse_fast().is_none(),
            "the fast path leaves it to the full parser"
        );
        let err = doc.parse("list.yaml").unwrap().unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
        assert!(
            err.message.contains("more than 2000000 nodes"),
            "{}",
            err.message
        );
    }

    /// Both readers count nodes alike, with anchors or without, at the limit and past it.
    #[test]
    fn both_readers_count_nodes_alike() {
        crate::limits::TEST_MAX_NODES.with(|m| m.set(303));
        // The root, `k` and its list, then three nodes per item (the item, its key, its
        // value): 100 items fit.
        for (items, fits) in [(100, true), (101, false)] {
            let block = format!("k:\n{}", "- a: 1\n".repeat(items));
            let flow = format!("k: [{}]\n", vec!["{a: 1}"; items].join(", "));
            for text in [block, flow] {
                let doc = raw_documents(&text)[0];
                let full = doc.parse_full("n.yaml").unwrap();
                assert_eq!(full.is_ok(), fits, "{items}: {full:?}");
                assert_eq!(doc.parse_fast().is_some(), fits, "{items}");
            }
            let anchored = format!("k:\n- &x a: 1\n{}", "- a: 1\n".repeat(items - 1));
            let full = raw_documents(&anchored)[0].parse("n.yaml").unwrap();
            assert_eq!(full.is_ok(), fits, "{items} anchored: {full:?}");
        }
        crate::limits::TEST_MAX_NODES.with(|m| m.set(crate::limits::MAX_NODES));
    }

    /// go-yaml's "excessive aliasing" rule: a small document made mostly of alias copies is
    /// refused, as Kubernetes refuses it.
    #[test]
    fn excessive_aliasing_is_refused_like_go_yaml() {
        let anchor: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let mut text = format!("a: &a [{}]\nb: [", anchor.join(", "));
        text.push_str(&vec!["*a"; 200].join(", "));
        text.push_str("]\n");
        let err = parse_stream("laughs.yaml", &text).remove(0).unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
        assert!(
            err.message.contains("excessive aliasing"),
            "{}",
            err.message
        );
        // Ordinary reuse is fine.
        let d = one("env: &env [{name: A, value: '1'}]\nc1: {env: *env}\nc2: {env: *env}\n");
        assert_eq!(d.value["c2"]["env"][0]["name"], "A");
    }

    /// issue 22: a flow sequence whose closing `]` sits at its key's indentation, and other
    /// lines go-yaml reads at any indentation inside flow collections and quoted scalars.
    #[test]
    fn flow_collections_and_quotes_ignore_indentation_like_go_yaml() {
        let d = one(
            "spec:\n  containers:\n  - name: app\n    command: [\n      \"sh\", \"-c\",\n    ]\n    image: x\n",
        );
        let c = &d.value["spec"]["containers"][0];
        assert_eq!(c["command"], serde_json::json!(["sh", "-c"]));
        assert_eq!(c["image"], "x");
        // Positions are those of the text as written.
        assert_eq!(d.root.position("spec.containers[0].command[1]"), (5, 13));
        assert_eq!(d.root.position("spec.containers[0].image"), (7, 5));
        let d = one("command: [\n  \"sh\",\n  \"-c\"\n]\nnext: 1\n");
        assert_eq!(d.value["command"], serde_json::json!(["sh", "-c"]));
        let d = one("a:\n  b: {\nc: 1,\n   d: [1,\n2]}\n  e: \"one\ntwo\"\n");
        assert_eq!(
            d.value,
            serde_json::json!({"a": {"b": {"c": 1, "d": [1, 2]}, "e": "one two"}})
        );
        // Block context keeps its rules: a key out of line is still an error.
        let err = parse_stream("bad.yaml", "a:\n  b: 1\n c: 2\n")
            .remove(0)
            .unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Syntax);
    }

    /// Keys as sigs.k8s.io/yaml converts go-yaml's keys; null and huge integer keys refused.
    #[test]
    fn keys_convert_like_sigs_k8s_yaml() {
        let d = one(
            "1e6: a\n1.5: b\n0.0001: c\n100000.0: d\n123456789.0: e\n-0.0: f\n.inf: g\n0x10: h\n",
        );
        let keys: Vec<&str> = d
            .value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "1e+06",
            "1.5",
            "0.0001",
            "100000",
            "1.2345679e+08",
            "-0",
            ".inf",
            "16",
        ] {
            assert!(keys.contains(&k), "{k} not in {keys:?}");
        }
        for bad in [
            "~: x\n",
            "null: x\n",
            "18446744073709551615: x\n",
            "{~: x}\n",
        ] {
            let err = parse_stream("k.yaml", bad).remove(0).unwrap_err();
            assert_eq!(err.kind, InputErrorKind::FieldType, "{bad:?}: {err:?}");
        }
        assert_eq!(go_format_float32_g(1e-5), "1e-05");
        assert_eq!(go_format_float32_g(0.1), "0.1");
        assert_eq!(go_format_float32_g(1e39), ".inf");
    }

    /// go-yaml v2 writes a merged mapping over the keys written before the `<<`.
    #[test]
    fn merges_override_earlier_keys_as_go_yaml_v2_does() {
        let d = one("b: &b {p: 1, q: 2}\nm:\n  p: 0\n  <<: *b\n  q: 3\n");
        assert_eq!(d.value["m"], serde_json::json!({"p": 1, "q": 3}));
        assert!(
            d.notes
                .iter()
                .any(|n| n.kind == NoteKind::DuplicateKey && n.path == "m.p"),
            "{:?}",
            d.notes
        );
        let d = one("a: &a {k: 1}\nb: &b {k: 2, l: 2}\nm:\n  <<: [*a, *b]\n");
        assert_eq!(d.value["m"], serde_json::json!({"k": 1, "l": 2}));
        let err = parse_stream("m.yaml", "s: &s [{a: 1}]\nm:\n  <<: *s\n")
            .remove(0)
            .unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Syntax);
    }

    /// A block scalar at the end of a stream whose last line is blanks without a line break.
    #[test]
    fn a_last_line_of_blanks_adds_nothing_to_a_block_scalar() {
        for text in ["a: |\n  x\n  ", "a: |\n  x\n  \n  "] {
            let doc = raw_documents(text)[0];
            let full = doc.parse_full("b.yaml").unwrap().unwrap();
            assert_eq!(full.value["a"], "x\n", "{text:?}");
            if let Some(fast) = doc.parse_fast() {
                assert_eq!(fast.value, full.value, "{text:?}");
            }
        }
    }

    #[test]
    fn helm_source_comment_is_kept() {
        let d = one("# Source: app/templates/deploy.yaml\nkind: Deployment\n");
        assert_eq!(d.helm_source.as_deref(), Some("app/templates/deploy.yaml"));
    }

    #[test]
    fn json_input_reads() {
        let d = one("{\"kind\": \"Pod\", \"n\": [1, 2.5, true]}");
        assert_eq!(d.value["n"], serde_json::json!([1, 2.5, true]));
    }

    #[test]
    fn block_scalars_and_quotes_stay_strings() {
        let d = one("a: |\n  on\nb: \"yes\"\nc: !!str 0755\n");
        assert_eq!(d.value["a"], Value::from("on\n"));
        assert_eq!(d.value["b"], Value::from("yes"));
        assert_eq!(d.value["c"], Value::from("0755"));
        assert!(d.notes.is_empty());
    }
}
