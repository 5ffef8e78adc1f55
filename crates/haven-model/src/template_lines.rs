//! Which line of a chart's template each line of `helm template` output came from.
//!
//! Helm tells which template file a rendered document came from (its `# Source:` comment), but
//! not which line: conditionals, loops, `include`s and `toYaml` move every line, and a template
//! that emits several documents (a `range` over components) starts each of them somewhere in
//! the middle of the file. Rather than reimplement Helm's template engine to find out, haven
//! lets Helm's real engine tell it:
//!
//! 1. the chart is copied and each template line that is YAML the template spells out (a key,
//!    a `- ` item, a line of a literal block) gets a YAML comment naming its file and line
//!    ([`tag_template`]). Comments survive `helm template`;
//! 2. the copy and the chart itself are rendered, by the same `helm`;
//! 3. [`TemplateLines::build`] lines the two renders up, document by document: a document whose
//!    tagged render, its tags taken out, is not the plain render line for line (a tag that
//!    changed what a template computes, such as a checksum of an included file, may only change
//!    the value of a `key: value` line) is not trusted, and its lines are counted from its
//!    `# Source:` comment as before. The plain render is what gets checked: the tags never
//!    reach a value.
//!
//! A rendered line's template line is then the tag on it (its own), and a line without one
//! (written by `toYaml`, an `include`d helper, `tpl`) points at the nearest enclosing field that
//! has one: the key the template spells out above the generated block. A document written
//! entirely by a helper points at the template line that produced it (the first tag after it).
//! Helpers (`_*.tpl`) are never tagged: findings stay in the template file named by `# Source:`,
//! the file the object belongs to in every report.
//!
//! What is tagged is chosen so that the comment cannot change what Helm does with the line: not
//! inside a template action (`{{ ... }}` over several lines), not after a `-}}` (which would
//! trim the space before the `#`), not on a line that starts with an action (whose output may
//! be empty, gluing the comment to the line before), not on a plain scalar that continues on
//! the next line (a comment would end it), not on document markers.

use std::collections::HashMap;

use crate::yaml::raw_documents;

/// What starts a tag: a YAML comment no chart writes by itself.
const TAG: &str = " #~hv:";

/// Appends a tag ` #~hv:<id>:<line>:<cols>` to each line of `template` that is YAML the template
/// spells out; `cols` is how many characters of the line come before its first template action
/// (columns up to there are the same in the output). Every line keeps its number.
pub fn tag_template(template: &str, id: u32) -> String {
    let lines: Vec<&str> = template.split('\n').collect();
    let mut out = String::with_capacity(template.len() + template.len() / 4);
    let mut in_action = false;
    // The indentation of a block scalar's header while its content lines follow.
    let mut block: Option<usize> = None;
    // The indentation of the line a multi-line plain scalar starts on, while it continues: a
    // comment on any but its last line would end it there.
    let mut plain: Option<usize> = None;
    for (i, raw) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let (line, cr) = match raw.strip_suffix('\r') {
            Some(l) => (l, "\r"),
            None => (*raw, ""),
        };
        let starts_in_action = in_action;
        in_action = ends_in_action(line, in_action);
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let action_only = is_action_only(content) || starts_in_action;
        if let Some(b) = block
            && !content.is_empty()
            && !action_only
            && indent <= b
        {
            block = None;
        }
        let continued = match plain {
            Some(owner) if !content.is_empty() && !action_only => {
                if indent > owner && block.is_none() {
                    Some(owner)
                } else {
                    plain = None;
                    None
                }
            }
            _ => None,
        };
        let plain_goes_on = match continued {
            Some(owner) => next_content_line(&lines[i + 1..])
                .is_some_and(|next| next.len() - next.trim_start_matches(' ').len() > owner),
            None => {
                block.is_none()
                    && !content.is_empty()
                    && !action_only
                    && !in_action
                    && continues_as_plain(line, &lines[i + 1..])
            }
        };
        if plain_goes_on && continued.is_none() && !starts_in_action && !in_action {
            plain = Some(indent);
        } else if continued.is_some() && !plain_goes_on {
            plain = None;
        }
        let taggable = !starts_in_action
            && !in_action
            && !content.is_empty()
            && !content.starts_with("{{")
            && !content.starts_with('#')
            && !content.starts_with("---")
            && !content.starts_with("...")
            && !content.starts_with('%')
            && !content.starts_with('\t')
            && !line.trim_end().ends_with("-}}")
            && !plain_goes_on;
        out.push_str(line);
        if taggable {
            let cols = line
                .find("{{")
                .map_or(line.chars().count(), |p| line[..p].chars().count());
            out.push_str(TAG);
            out.push_str(&format!("{id}:{}:{cols}", i + 1));
        }
        out.push_str(cr);
        if block.is_none() && !starts_in_action && opens_block_scalar(line) {
            block = Some(indent);
        }
    }
    out
}

/// Whether a template action is still open at the end of `line` (`{{` without its `}}`).
fn ends_in_action(line: &str, mut open: bool) -> bool {
    let mut rest = line;
    loop {
        if open {
            match rest.find("}}") {
                Some(p) => {
                    open = false;
                    rest = &rest[p + 2..];
                }
                None => return true,
            }
        } else {
            match rest.find("{{") {
                Some(p) => {
                    open = true;
                    rest = &rest[p + 2..];
                }
                None => return false,
            }
        }
    }
}

/// A line that holds template actions and nothing else (`{{- if .x }}`, `{{ end }}`).
fn is_action_only(content: &str) -> bool {
    let mut rest = content.trim();
    if rest.is_empty() {
        return false;
    }
    while let Some(r) = rest.strip_prefix("{{") {
        let Some(end) = r.find("}}") else {
            return true;
        };
        rest = r[end + 2..].trim_start();
    }
    rest.is_empty()
}

/// Whether the YAML written on `line` ends in a block scalar header (`key: |`, `- >-`).
fn opens_block_scalar(line: &str) -> bool {
    let yaml = strip_yaml_comment(line).trim_end();
    let Some(pos) = yaml.rfind(['|', '>']) else {
        return false;
    };
    let header = &yaml[pos + 1..];
    if !header
        .chars()
        .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
    {
        return false;
    }
    let before = yaml[..pos].trim_end();
    before.is_empty() || before.ends_with(':') || before.ends_with('-')
}

/// `line` before a ` #` comment (a rough cut: quotes are not followed).
fn strip_yaml_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(p) => &line[..p],
        None => line,
    }
}

/// Whether `line` ends in a plain scalar that the next content line continues (a comment
/// after it would end the scalar, and the next line would then be an error).
fn continues_as_plain(line: &str, rest: &[&str]) -> bool {
    let yaml = strip_yaml_comment(line).trim_end();
    let indent = line.len() - line.trim_start_matches(' ').len();
    let value = yaml.get(indent..).unwrap_or("");
    let value = value.trim_start_matches("- ").trim_start();
    let value = match value.find(": ") {
        Some(p) => value[p + 2..].trim_start(),
        None if value.ends_with(':') => return false,
        None => value,
    };
    // A plain scalar may end in `,` (`description: lists (a,`): only the first character
    // tells a flow collection or a quoted scalar.
    if value.is_empty() || value.starts_with(['"', '\'', '[', '{', '|', '>', '&', '*', '!']) {
        return false;
    }
    let Some(next) = next_content_line(rest) else {
        return false;
    };
    let next_indent = next.len() - next.trim_start_matches(' ').len();
    let c = next.trim();
    next_indent > indent
        && !c.starts_with(['-', '#', '{'])
        && !c.contains(": ")
        && !c.ends_with(':')
}

/// The first line of `rest` that is neither blank nor template actions only.
fn next_content_line<'a>(rest: &[&'a str]) -> Option<&'a str> {
    rest.iter().copied().find(|l| {
        let c = l.trim();
        !c.is_empty() && !is_action_only(c)
    })
}

/// A tag found in rendered output: the template file (an index into the files of
/// [`TemplateLines::build`]), the template line and the columns that are the template's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag {
    file: u32,
    line: u32,
    cols: u32,
}

/// The tags on one rendered line, in order, and the line without them.
fn read_tags(line: &str) -> (Vec<Tag>, String) {
    let mut tags = Vec::new();
    let mut plain = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(p) = rest.find(TAG) {
        plain.push_str(&rest[..p]);
        let after = &rest[p + TAG.len()..];
        let digits = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b':')
            .count();
        let mut parts = after[..digits].split(':').map(str::parse::<u32>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(file)), Some(Ok(line)), Some(Ok(cols)), None) => {
                tags.push(Tag { file, line, cols });
                rest = &after[digits..];
            }
            _ => {
                // Not one of ours after all: keep it as text.
                plain.push_str(TAG);
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    (tags, plain)
}

/// A template file of a chart: its path on disk, relative to the chart's directory
/// (`charts/<directory>/templates/x.yaml`), and the paths Helm names it by in `# Source:`
/// comments (`<chart>/charts/<subchart or alias>/templates/x.yaml`: a subchart used under two
/// aliases is rendered twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    pub path: String,
    pub sources: Vec<String>,
}

/// One rendered line: where it came from.
#[derive(Debug, Clone, Copy, Default)]
struct LineInfo {
    /// The template line of the tag on it (0: none).
    own: u32,
    /// Columns of that line that are the template's own.
    cols: u32,
    /// The template line of the first tag at or after it in its document (0: none), and its
    /// columns.
    next: u32,
    next_cols: u32,
}

/// What one rendered document's lines map to.
#[derive(Debug, Clone)]
struct DocLines {
    /// The document's first and last line in the rendered stream.
    first: u32,
    last: u32,
    /// Whether the tagged render matched the plain one (otherwise lines count from `# Source:`).
    trusted: bool,
}

/// Where a rendered line came from, as far as the tags tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// The template spells this line out: this template line, and exact columns up to `cols`.
    Own { line: u32, cols: u32 },
    /// Generated (an include, `toYaml`): no tag of its own.
    Generated,
    /// A line of a document whose tags could not be trusted, or outside every document.
    Unknown,
}

/// For each line of a chart's rendered output, the line of its template file (see the module
/// documentation), and the file on disk of each template Helm names.
#[derive(Debug, Clone, Default)]
pub struct TemplateLines {
    /// Index: rendered line - 1.
    lines: Vec<LineInfo>,
    /// Sorted by `first`.
    docs: Vec<DocLines>,
    /// `# Source:` path → path relative to the chart directory.
    paths: HashMap<String, String>,
}

/// Why some documents' lines are counted from their `# Source:` comment instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    /// How many documents.
    pub documents: usize,
    /// The first of them: its `# Source:` path and first rendered line.
    pub example: Option<(String, u32)>,
    pub reason: &'static str,
}

impl TemplateLines {
    /// Lines up the plain render `rendered` with the render of the tagged copy `tagged`.
    /// `files[i]` is the file whose tags say `i`.
    pub fn build(
        rendered: &str,
        tagged: &str,
        files: &[TemplateFile],
    ) -> (Self, Option<Untrusted>) {
        let mut map = TemplateLines {
            lines: vec![LineInfo::default(); line_count(rendered)],
            docs: Vec::new(),
            paths: files
                .iter()
                .flat_map(|f| f.sources.iter().map(|s| (s.clone(), f.path.clone())))
                .collect(),
        };
        let ids: HashMap<&str, u32> = files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.sources.iter().map(move |s| (s.as_str(), i as u32)))
            .collect();
        let plain = raw_documents(rendered);
        let with_tags = raw_documents(tagged);
        let mut untrusted = Untrusted {
            documents: 0,
            example: None,
            reason: "",
        };
        let same_documents = plain.len() == with_tags.len();
        for (i, doc) in plain.iter().enumerate() {
            let first = doc.first_line;
            let plain_lines: Vec<&str> = doc.text.split('\n').collect();
            let last = first + plain_lines.len() as u32 - 1;
            let source = crate::yaml::helm_source(doc.text);
            let trusted = if !same_documents {
                Err("the tagged render has other documents")
            } else {
                let t = with_tags[i].text.split('\n').collect::<Vec<_>>();
                lines_match(&plain_lines, &t).map(|()| t)
            };
            match trusted {
                Ok(ref tagged_lines) => {
                    let file = source.as_deref().and_then(|s| ids.get(s)).copied();
                    let mut next = (0, 0);
                    for (k, t) in tagged_lines.iter().enumerate().rev() {
                        let (tags, _) = read_tags(t);
                        let own = tags.into_iter().find(|t| Some(t.file) == file);
                        if let Some(own) = own {
                            next = (own.line, own.cols);
                        }
                        if let Some(info) = map.lines.get_mut((first as usize) + k - 1) {
                            *info = LineInfo {
                                own: own.map_or(0, |t| t.line),
                                cols: own.map_or(0, |t| t.cols),
                                next: next.0,
                                next_cols: next.1,
                            };
                        }
                    }
                }
                Err(reason) => {
                    if doc.text.lines().any(|l| {
                        let l = l.trim();
                        !l.is_empty() && !l.starts_with('#') && l != "---"
                    }) {
                        untrusted.documents += 1;
                        untrusted.reason = reason;
                        untrusted
                            .example
                            .get_or_insert((source.unwrap_or_default(), first));
                    }
                }
            }
            map.docs.push(DocLines {
                first,
                last,
                trusted: trusted.is_ok(),
            });
        }
        let untrusted = (untrusted.documents > 0).then_some(untrusted);
        (map, untrusted)
    }

    /// The chart-relative path on disk of the template Helm names `source`.
    pub fn path_of(&self, source: &str) -> Option<&str> {
        self.paths.get(source).map(String::as_str)
    }

    fn doc(&self, line: u32) -> Option<&DocLines> {
        let i = self
            .docs
            .partition_point(|d| d.first <= line)
            .checked_sub(1)?;
        let d = &self.docs[i];
        (line <= d.last).then_some(d)
    }

    /// Where rendered line `line` came from.
    pub fn line(&self, line: u32) -> Mapped {
        match self.doc(line) {
            Some(d) if d.trusted => {}
            _ => return Mapped::Unknown,
        }
        match self.lines.get(line.wrapping_sub(1) as usize) {
            Some(info) if info.own > 0 => Mapped::Own {
                line: info.own,
                cols: info.cols,
            },
            Some(_) => Mapped::Generated,
            None => Mapped::Unknown,
        }
    }

    /// The template line that produced rendered line `line`: its own tag, or the first tag
    /// after it in its document (a helper's output ends where the line that includes it
    /// does), with the columns that are that line's own.
    pub fn producer(&self, line: u32) -> Option<(u32, u32)> {
        let d = self.doc(line).filter(|d| d.trusted)?;
        let info = self.lines.get(line.checked_sub(1)? as usize)?;
        if info.next > 0 {
            return Some((info.next, info.next_cols));
        }
        // Nothing tagged after it: the last tag before it in its document.
        (d.first..line)
            .rev()
            .find_map(|l| self.lines.get(l as usize - 1).filter(|i| i.own > 0))
            .map(|i| (i.own, i.cols))
    }

    /// The template line of the first line of the document holding `line` that the template
    /// spells out.
    pub fn document_line(&self, line: u32) -> Option<u32> {
        let d = self.doc(line).filter(|d| d.trusted)?;
        (d.first..=d.last).find_map(|l| match self.line(l) {
            Mapped::Own { line, .. } => Some(line),
            _ => None,
        })
    }
}

fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

/// Whether the tagged lines, their tags taken out, are the plain ones: equal, or (for a tag that
/// changed something the template computes from tagged text: a checksum, an encoding) the same
/// key with another value.
fn lines_match(plain: &[&str], tagged: &[&str]) -> Result<(), &'static str> {
    if plain.len() != tagged.len() {
        return Err("the tagged render has other lines");
    }
    for (p, t) in plain.iter().zip(tagged) {
        let (_, stripped) = read_tags(t);
        // Helm trims each document: the space before a tag at its very end stays.
        if stripped.trim_end() == p.trim_end() {
            continue;
        }
        match (key_prefix(p), key_prefix(&stripped)) {
            (Some(a), Some(b)) if a == b => {}
            _ => return Err("the tags changed the rendered text"),
        }
    }
    Ok(())
}

/// `  - key:` of a `  - key: value` line: indentation, dashes and a plain key.
fn key_prefix(line: &str) -> Option<&str> {
    let end = line.find(": ")?;
    let key = line[..end].trim_start_matches([' ', '-']);
    (!key.is_empty() && !key.contains(['"', '\'', '#', '{', '['])).then_some(&line[..end + 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged_lines(template: &str) -> Vec<(u32, bool)> {
        tag_template(template, 0)
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i as u32 + 1, l.contains(TAG)))
            .collect()
    }

    #[test]
    fn tags_only_what_the_template_spells_out() {
        let template = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"x.fullname\" . }}
  labels:
    {{- include \"x.labels\" . | nindent 4 }}
spec:
  {{- if .Values.replicas }}
  replicas: {{ .Values.replicas }}
  {{- end }}
  template:
    spec:
      containers:
        - name: app
          command: {{ .Values.cmd | toJson -}}
          {{- /* a comment
          over: lines */}}
          args: [
            \"a\",
          ]
---
# a comment
description: a long
  plain text
data:
  run.sh: |
    echo a
{{- if .x }}
    key: value
{{- end }}
  other: 1
";
        let tagged: Vec<u32> = tagged_lines(template)
            .into_iter()
            .filter(|(_, t)| *t)
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            tagged,
            [
                1, 2, 3, 4, 5, 7, 9, 11, 12, 13, 14, 18, 19, 20, 24, 25, 26, 27, 29, 31
            ]
        );
        // Line numbers are kept, and the columns before the first action are counted.
        let out = tag_template(template, 3);
        assert_eq!(out.split('\n').count(), template.split('\n').count());
        assert!(
            out.contains("  name: {{ include \"x.fullname\" . }} #~hv:3:4:8\n"),
            "{out}"
        );
        assert!(out.contains("kind: Deployment #~hv:3:2:16\n"), "{out}");
    }

    #[test]
    fn no_line_of_a_multi_line_plain_scalar_but_its_last_is_tagged() {
        let template = "\
items:
  description: ImageRegistryCredentialsProvidersType
    provides the list of credential providers

    required.
  enum:
  - default
  other: one
    {{- if .x }}
    two
    {{- end }}
    three
";
        let tagged: Vec<u32> = tagged_lines(template)
            .into_iter()
            .filter(|(_, t)| *t)
            .map(|(n, _)| n)
            .collect();
        assert_eq!(tagged, [1, 5, 6, 7, 12]);
        let tagged = tag_template(
            "a:\n  d: values [\"CREATE,\n    \"UPDATE\"], which\n  b: 1\n",
            0,
        );
        assert_eq!(
            tagged.lines().filter(|l| l.contains(TAG)).count(),
            3,
            "{tagged}"
        );
        // Lines of blanks or a comment alone are not scalars.
        assert_eq!(
            tag_template("a:\n    \n  # c\n  b: 1\n", 0)
                .matches(TAG)
                .count(),
            2
        );
    }

    #[test]
    fn carriage_returns_stay_at_the_end_of_the_line() {
        assert_eq!(
            tag_template("a: 1\r\nb: 2", 0),
            "a: 1 #~hv:0:1:4\r\nb: 2 #~hv:0:2:4"
        );
    }

    #[test]
    fn tags_are_read_and_taken_out() {
        let (tags, plain) = read_tags("  a: 1 #~hv:2:7:5 #~hv:0:3:1");
        assert_eq!(plain, "  a: 1");
        assert_eq!(
            tags,
            [
                Tag {
                    file: 2,
                    line: 7,
                    cols: 5
                },
                Tag {
                    file: 0,
                    line: 3,
                    cols: 1
                }
            ]
        );
        assert_eq!(read_tags("a: x #~hv:zz").1, "a: x #~hv:zz");
    }

    fn files() -> Vec<TemplateFile> {
        vec![
            TemplateFile {
                path: "templates/deploy.yaml".into(),
                sources: vec!["app/templates/deploy.yaml".into()],
            },
            TemplateFile {
                path: "charts/postgresql-1.0/templates/svc.yaml".into(),
                sources: vec![
                    "app/charts/db/templates/svc.yaml".into(),
                    "app/charts/db2/templates/svc.yaml".into(),
                ],
            },
        ]
    }

    #[test]
    fn each_rendered_line_maps_to_its_template_line() {
        // Two documents of one template (a range), with generated lines in between.
        let rendered = "\
---
# Source: app/templates/deploy.yaml
kind: Deployment
metadata:
  labels:
    a: b
    c: d
---
# Source: app/templates/deploy.yaml
kind: Deployment
metadata:
  labels:
    a: b
";
        let tagged = "\
---
# Source: app/templates/deploy.yaml
kind: Deployment #~hv:0:3:16
metadata: #~hv:0:4:9
  labels: #~hv:0:5:9
    a: b
    c: d #~hv:0:6:4
---
# Source: app/templates/deploy.yaml
kind: Deployment #~hv:0:3:16
metadata: #~hv:0:4:9
  labels: #~hv:0:5:9
    a: b #~hv:0:6:4
";
        let (map, untrusted) = TemplateLines::build(rendered, tagged, &files());
        assert_eq!(untrusted, None);
        assert_eq!(map.line(3), Mapped::Own { line: 3, cols: 16 });
        assert_eq!(map.line(6), Mapped::Generated);
        assert_eq!(map.producer(6), Some((6, 4)));
        assert_eq!(map.line(10), Mapped::Own { line: 3, cols: 16 });
        assert_eq!(map.line(13), Mapped::Own { line: 6, cols: 4 });
        assert_eq!(map.document_line(12), Some(3));
        assert_eq!(map.line(100), Mapped::Unknown);
        for alias in ["db", "db2"] {
            assert_eq!(
                map.path_of(&format!("app/charts/{alias}/templates/svc.yaml")),
                Some("charts/postgresql-1.0/templates/svc.yaml")
            );
        }
    }

    #[test]
    fn documents_whose_tags_changed_them_are_not_trusted() {
        let rendered = "\
---
# Source: app/templates/deploy.yaml
metadata:
  annotations:
    checksum/config: 1111
---
# Source: app/templates/deploy.yaml
data: |
  abc
";
        let tagged = "\
---
# Source: app/templates/deploy.yaml
metadata: #~hv:0:1:9
  annotations: #~hv:0:2:14
    checksum/config: 2222 #~hv:0:3:21
---
# Source: app/templates/deploy.yaml
data: | #~hv:0:1:7
  ab
";
        let (map, untrusted) = TemplateLines::build(rendered, tagged, &files());
        // A checksum of tagged text differs, but the line is the same key: trusted.
        assert_eq!(map.line(5), Mapped::Own { line: 3, cols: 21 });
        let untrusted = untrusted.expect("the second document");
        assert_eq!(untrusted.documents, 1);
        assert_eq!(
            untrusted.example,
            Some(("app/templates/deploy.yaml".to_owned(), 6))
        );
        assert_eq!(map.line(8), Mapped::Unknown);
        assert_eq!(map.document_line(8), None);
    }

    #[test]
    fn a_value_left_empty_on_the_last_line_is_the_same_line() {
        // `provider: {{ .provider }}` with no provider, at the end of a document Helm trims.
        let rendered = "---\n# Source: app/templates/deploy.yaml\nkind: X\nprovider:\n";
        let tagged = "---\n# Source: app/templates/deploy.yaml\nkind: X #~hv:0:2:7\nprovider:  #~hv:0:5:10\n";
        let (map, untrusted) = TemplateLines::build(rendered, tagged, &files());
        assert_eq!(untrusted, None);
        assert_eq!(map.line(4), Mapped::Own { line: 5, cols: 10 });
    }

    #[test]
    fn tags_of_other_files_are_not_a_line_of_this_one() {
        let rendered = "---\n# Source: app/templates/deploy.yaml\na: 1\nb: 2\n";
        let tagged = "---\n# Source: app/templates/deploy.yaml\na: 1 #~hv:1:9:3\nb: 2 #~hv:0:4:4\n";
        let (map, _) = TemplateLines::build(rendered, tagged, &files());
        assert_eq!(map.line(3), Mapped::Generated);
        assert_eq!(map.producer(3), Some((4, 4)));
    }
}
