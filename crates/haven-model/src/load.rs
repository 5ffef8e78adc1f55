//! Reading haven's own config-like files: one YAML document, strictly, into a Rust type.
//!
//! Waiver files, `haven check --config` and the Haven+ config are read like Kubernetes objects
//! are (the same parser: YAML 1.1 scalars, merge keys, the limits on size, depth and aliases),
//! and then held to a schema: every key the type does not declare is an error with its line and
//! a "did you mean", every wrong type names its field and line, and a second document is an
//! error rather than silently ignored (a `---` too many would otherwise hide every setting after
//! it). Positions come from the parser itself, never from searching the text.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{InputError, InputErrorKind};
use crate::node::Node;
use crate::yaml::{NoteKind, YamlNote, raw_documents};

/// The one document of a config-like file, with the position of every field.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file as named in errors.
    pub file: String,
    /// The document as JSON (after YAML 1.1 resolution, anchors and merge keys).
    pub value: Value,
    /// Source positions of every field.
    pub root: Node,
    /// Plain scalars that YAML 1.1 reads differently from YAML 1.2, and duplicate keys.
    pub notes: Vec<YamlNote>,
}

/// The one document of `text`; `Ok(None)` when the file holds no document at all (empty, or
/// only comments). A second document is an error at the line where it starts.
pub fn single_document(file: &str, text: &str) -> Result<Option<Document>, InputError> {
    let mut found: Option<Document> = None;
    for raw in raw_documents(text) {
        let Some(parsed) = raw.parse(file) else {
            continue;
        };
        if found.is_some() {
            // Its own errors do not matter: it should not be there at all.
            let line = match &parsed {
                Ok(doc) => doc.line,
                Err(_) => raw.first_line,
            };
            return Err(InputError::new(
                InputErrorKind::ExtraDocument,
                file,
                line,
                "a second YAML document: this file holds exactly one (remove the `---` above it, \
                 or merge the two)",
            ));
        }
        let doc = parsed?;
        found = Some(Document {
            file: file.to_owned(),
            value: doc.value,
            root: doc.root,
            notes: doc.notes,
        });
    }
    Ok(found)
}

/// Reads the one document of `text` into `T`: every undeclared key (all of them, with "did you
/// mean"), else the first wrong type, as errors naming file, line and field. `Ok(None)` for a
/// file without a document.
pub fn load<T: DeserializeOwned + JsonSchema>(
    file: &str,
    text: &str,
) -> Result<Option<(T, Document)>, Vec<InputError>> {
    let Some(doc) = single_document(file, text).map_err(|e| vec![e])? else {
        return Ok(None);
    };
    doc.expect_mapping().map_err(|e| vec![e])?;
    let unknown = doc.unknown_keys(&schema_of::<T>());
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let value = doc.deserialize(&doc.value).map_err(|e| vec![e])?;
    Ok(Some((value, doc)))
}

/// The JSON Schema of a type, as a value [`Document::unknown_keys`] can walk.
pub fn schema_of<T: JsonSchema>() -> Value {
    schemars::schema_for!(T).to_value()
}

impl Document {
    /// 1-based line of the field at `path` (or of its nearest written parent).
    pub fn line_of(&self, path: &str) -> u32 {
        self.root.position(path).0
    }

    /// An error about the field at `path` (`""` for the document as a whole).
    pub fn error_at(
        &self,
        kind: InputErrorKind,
        path: &str,
        message: impl Into<String>,
    ) -> InputError {
        let e = InputError::new(kind, &self.file, self.line_of(path), message);
        if path.is_empty() {
            e
        } else {
            e.with_field(path)
        }
    }

    /// An error unless the document is a mapping.
    pub fn expect_mapping(&self) -> Result<(), InputError> {
        if self.value.is_object() {
            return Ok(());
        }
        Err(self.error_at(
            InputErrorKind::FieldType,
            "",
            format!(
                "expected a mapping of settings, found {}",
                describe(&self.value)
            ),
        ))
    }

    /// Every key of the document that `schema` does not declare, in document order, each with
    /// its line and the closest declared key.
    pub fn unknown_keys(&self, schema: &Value) -> Vec<InputError> {
        crate::strict::unknown_properties(schema, &self.value)
            .into_iter()
            .map(|u| {
                let mut path = u.parent.clone();
                crate::path::push_key(&mut path, &u.key);
                let hint = crate::suggest::did_you_mean(&u.key, &u.known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.error_at(
                    InputErrorKind::UnknownField,
                    &path,
                    format!("unknown field `{}`{hint}", u.key),
                )
            })
            .collect()
    }

    /// Deserializes `value` (this document's value, or one built from it, such as defaults
    /// with this document's keys put over them) into `T`; an error names the field and the line
    /// where this document writes it.
    pub fn deserialize<T: DeserializeOwned>(&self, value: &Value) -> Result<T, InputError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = field_path(e.path());
            let mut message = e.into_inner().to_string();
            if let Some(note) = self.note_at(&path) {
                message.push_str(&format!(
                    " (YAML 1.1, as Kubernetes reads it, takes `{}` as {}; quote it to keep a \
                     string)",
                    note.text, note.kubernetes_reads
                ));
            }
            self.error_at(InputErrorKind::FieldType, &path, message)
        })
    }

    /// The YAML 1.1 note about the scalar at `path`, if its reading surprised.
    fn note_at(&self, path: &str) -> Option<&YamlNote> {
        self.notes
            .iter()
            .find(|n| n.kind == NoteKind::Yaml11Scalar && n.path == path)
    }
}

/// `serde_path_to_error`'s path in haven's notation (`a.b[0]`, dotted keys quoted).
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => crate::path::push_key(&mut out, key),
            Segment::Enum { variant } => crate::path::push_key(&mut out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Settings {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        id: String,
        #[serde(default)]
        count: u32,
    }

    #[test]
    fn reads_one_document_with_positions() {
        let (s, doc) = load::<Settings>("s.yaml", "name: a\nitems:\n- id: x\n  count: 2\n")
            .unwrap()
            .unwrap();
        assert_eq!(s.items[0].count, 2);
        assert_eq!(doc.line_of("items[0].count"), 4);
        assert!(load::<Settings>("s.yaml", "# nothing\n").unwrap().is_none());
    }

    #[test]
    fn a_second_document_is_an_error_at_its_line() {
        let e = load::<Settings>("s.yaml", "name: a\n---\nname: b\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind, e[0].line), (InputErrorKind::ExtraDocument, 3));
        // A trailing marker with nothing after it is no document.
        assert!(load::<Settings>("s.yaml", "name: a\n---\n").is_ok());
    }

    #[test]
    fn every_unknown_key_is_reported_with_line_and_suggestion() {
        let e = load::<Settings>(
            "s.yaml",
            "name: a\nitems:\n- id: x\n  cuont: 2\n- id: y\n  zzz: 1\nnmae: b\n",
        )
        .unwrap_err();
        let got: Vec<(u32, Option<&str>, &str)> = e
            .iter()
            .map(|e| (e.line, e.field.as_deref(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    4,
                    Some("items[0].cuont"),
                    "unknown field `cuont`; did you mean `count`?"
                ),
                (6, Some("items[1].zzz"), "unknown field `zzz`"),
                (
                    7,
                    Some("nmae"),
                    "unknown field `nmae`; did you mean `name`?"
                ),
            ]
        );
        assert!(e.iter().all(|e| e.kind == InputErrorKind::UnknownField));
    }

    #[test]
    fn type_errors_name_field_and_line_and_explain_yaml11() {
        let e =
            load::<Settings>("s.yaml", "name: a\nitems:\n- id: x\n  count: many\n").unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("items[0].count"));
        assert_eq!((e[0].kind, e[0].line), (InputErrorKind::FieldType, 4));
        let e = load::<Settings>("s.yaml", "name: a\nitems:\n- id: no\n").unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("items[0].id"));
        assert!(e[0].message.contains("quote it"), "{}", e[0].message);
        let e = load::<Settings>("s.yaml", "- a\n").unwrap_err();
        assert_eq!(e[0].message, "expected a mapping of settings, found a list");
        let e = load::<Settings>("s.yaml", "items: []\n").unwrap_err();
        assert!(e[0].message.contains("missing field `name`"), "{e:?}");
    }

    #[test]
    fn limits_of_the_parser_apply() {
        let deep = format!("name: {}{}\n", "[".repeat(500), "]".repeat(500));
        let e = load::<Settings>("s.yaml", &deep).unwrap_err();
        assert_eq!(e[0].kind, InputErrorKind::Limit, "{e:?}");
    }
}
