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
use crate::node::{Node, Tree, TreeEntry, TreeKind};
use crate::path;

/// Deepest nesting accepted. Kubernetes objects stay far below it; the limit keeps recursion
/// (ours, serde's, and every `Drop`) safely bounded on hostile input.
pub const MAX_DEPTH: usize = 100;
/// Largest number of nodes one document may expand to (anchors and aliases included): stops
/// "billion laughs" alias bombs long before they cost memory.
pub const MAX_NODES: usize = 2_000_000;
/// Largest document accepted, in bytes. Kubernetes stores at most ~1.5 MiB per object; this
/// generous bound only protects the process.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

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
        match parse_document(file, self.text, self.first_line) {
            Ok(Some((value, root, notes))) => Some(Ok(YamlDocument {
                index: self.index,
                line: root.line,
                value,
                root,
                notes,
                helm_source: helm_source(self.text),
            })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
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
fn helm_source(chunk: &str) -> Option<String> {
    chunk
        .lines()
        .take(3)
        .find_map(|l| l.strip_prefix("# Source: ").map(|s| s.trim().to_owned()))
}

type Parsed = (Value, Node, Vec<YamlNote>);

fn parse_document(file: &str, text: &str, first_line: u32) -> Result<Option<Parsed>, InputError> {
    if let Some(parsed) = crate::fast::parse(text, first_line) {
        return Ok(Some(parsed));
    }
    parse_document_full(file, text, first_line)
}

/// The general path: saphyr's YAML 1.2 event parser, resolved with Kubernetes' YAML 1.1 rules.
pub(crate) fn parse_document_full(
    file: &str,
    text: &str,
    first_line: u32,
) -> Result<Option<Parsed>, InputError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        file,
        line_base: first_line - 1,
        anchors: HashMap::new(),
        nodes: 0,
        notes: Vec::new(),
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
    file: &'a str,
    line_base: u32,
    anchors: HashMap<usize, (Value, Tree, usize)>,
    nodes: usize,
    notes: Vec<YamlNote>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), InputError> {
        match self.parser.next_event() {
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

    fn pos(&self, span: Span) -> (u32, u32) {
        (
            self.line_base + span.start.line() as u32,
            span.start.col() as u32 + 1,
        )
    }

    fn error_at(&self, span: Span, msg: impl Into<String>) -> InputError {
        InputError::new(InputErrorKind::Syntax, self.file, self.pos(span).0, msg)
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), InputError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(InputError::new(
                InputErrorKind::Limit,
                self.file,
                self.pos(span).0,
                format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
            ));
        }
        Ok(())
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
        self.count(1, span)?;
        let (line, col) = self.pos(span);
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(&text, style, tag.as_deref(), line, col, path)?;
                let node = Tree::scalar(line, col);
                self.remember(anchor, &value, &node, 1);
                Ok((value, node))
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((v, n, size)) => {
                    let (v, n, size) = (v.clone(), n.clone(), *size);
                    self.count(size, span)?;
                    Ok((
                        v,
                        Tree {
                            line,
                            col,
                            kind: n.kind,
                        },
                    ))
                }
                None => Err(self.error_at(span, "alias to an unknown anchor")),
            },
            Event::SequenceStart(anchor, _) => {
                let before = self.nodes;
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
                self.remember(anchor, &value, &node, self.nodes - before + 1);
                Ok((value, node))
            }
            Event::MappingStart(anchor, _) => {
                let before = self.nodes;
                let (value, node) = self.mapping(line, col, depth, path)?;
                self.remember(anchor, &value, &node, self.nodes - before + 1);
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
        // Keys that came from `<<` merges: explicit keys override them, whatever the order.
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
                "<<".to_owned()
            } else {
                self.key(ev, sp, depth, path)?
            };
            let (vev, vsp) = self.next()?;
            let len = path.len();
            path::push_key(path, &key);
            let (v, n) = self.node(vev, vsp, depth + 1, path)?;
            path.truncate(len);
            if is_merge {
                self.merge(&mut map, &mut entries, &mut merged, v, n, kl, kc)?;
                continue;
            }
            // Only a repeated key pays for the clean-up below; the usual insert stays O(1).
            let repeated = map.contains_key(&key);
            if repeated && !merged.contains(&key) {
                self.notes.push(YamlNote {
                    kind: NoteKind::DuplicateKey,
                    line: kl,
                    col: kc,
                    path: {
                        let mut p = path.clone();
                        path::push_key(&mut p, &key);
                        p
                    },
                    text: key.clone(),
                    kubernetes_reads: "the last value of a duplicated key".into(),
                    yaml12_reads: "an error: mapping keys must be unique".into(),
                });
            }
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

    #[allow(clippy::too_many_arguments)]
    fn merge(
        &mut self,
        map: &mut Map<String, Value>,
        entries: &mut Vec<TreeEntry>,
        merged: &mut Vec<String>,
        value: Value,
        node: Tree,
        line: u32,
        col: u32,
    ) -> Result<(), InputError> {
        let sources: Vec<(Value, Tree)> = match (value, node.kind) {
            (Value::Object(m), kind @ TreeKind::Map(_)) => {
                vec![(Value::Object(m), Tree { line, col, kind })]
            }
            (Value::Array(items), TreeKind::Seq(nodes)) => items.into_iter().zip(nodes).collect(),
            _ => {
                return Err(InputError::new(
                    InputErrorKind::Syntax,
                    self.file,
                    line,
                    "merge key `<<` needs a mapping or a list of mappings",
                ));
            }
        };
        for (v, n) in sources {
            let (Value::Object(m), TreeKind::Map(ents)) = (v, n.kind) else {
                return Err(InputError::new(
                    InputErrorKind::Syntax,
                    self.file,
                    line,
                    "merge key `<<` needs a mapping or a list of mappings",
                ));
            };
            // The map is sorted by key, the entries are in source order: pair them by key.
            let mut m = m;
            for ent in ents {
                if map.contains_key(ent.0.as_str()) {
                    continue;
                }
                if let Some(v) = m.remove(ent.0.as_str()) {
                    map.insert(ent.0.to_string(), v);
                    merged.push(ent.0.to_string());
                    entries.push(ent);
                }
            }
        }
        Ok(())
    }

    /// Mapping keys become strings, as `sigs.k8s.io/yaml` does (`on:` → `"true"`, `1:` → `"1"`).
    fn key(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
        path: &mut String,
    ) -> Result<String, InputError> {
        match ev {
            Event::Scalar(..) | Event::Alias(_) => {
                let (value, _) = self.node(ev, span, depth + 1, path)?;
                Ok(match value {
                    Value::String(s) => s,
                    Value::Null => "null".into(),
                    other => other.to_string(),
                })
            }
            _ => Err(self.error_at(
                span,
                "complex (mapping or sequence) keys are not supported by Kubernetes",
            )),
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value, node: &Tree, size: usize) {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), node.clone(), size));
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        line: u32,
        col: u32,
        path: &str,
    ) -> Result<Value, InputError> {
        if let Some(tag) = tag.filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!") {
            return self.tagged(text, &tag.suffix, line, path);
        }
        if style != ScalarStyle::Plain {
            return Ok(Value::String(text.to_owned()));
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
        match resolved {
            Plain::Float(f) if !f.is_finite() => Err(InputError::new(
                InputErrorKind::FieldType,
                self.file,
                line,
                format!("`{text}` is not a finite number and cannot be represented in JSON; Kubernetes rejects it"),
            )
            .with_field(path)),
            other => Ok(other.value(text)),
        }
    }

    fn tagged(&self, text: &str, suffix: &str, line: u32, path: &str) -> Result<Value, InputError> {
        let bad = |what: &str| {
            InputError::new(
                InputErrorKind::FieldType,
                self.file,
                line,
                format!("`{text}` is not a valid !!{what}"),
            )
            .with_field(path)
        };
        match suffix {
            "str" | "binary" | "timestamp" => Ok(Value::String(text.to_owned())),
            "null" => Ok(Value::Null),
            "bool" => match resolve_plain(text) {
                Plain::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(bad("bool")),
            },
            "int" => match resolve_plain(text) {
                p @ (Plain::Int(_) | Plain::Uint(_)) => Ok(p.value(text)),
                _ => Err(bad("int")),
            },
            "float" => match resolve_plain(text) {
                Plain::Int(i) => Ok(Value::from(i as f64)),
                Plain::Float(f) if f.is_finite() => Ok(Value::from(f)),
                _ => Err(bad("float")),
            },
            _ => Ok(resolve_plain(text).value(text)),
        }
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
    Str,
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
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
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
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
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
        Plain::Str | Plain::Null => true,
        Plain::Bool(_) => matches!(text, "true" | "false" | "True" | "False" | "TRUE" | "FALSE"),
        Plain::Int(_) => is_short_decimal(text),
        _ => false,
    }
}

#[inline(never)]
fn both_readings_differ(text: &str, resolved: &Plain) -> Option<(String, String)> {
    if matches!(resolved, Plain::Str | Plain::Null) {
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
