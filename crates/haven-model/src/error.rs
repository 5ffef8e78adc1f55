//! Input errors: what could not be read, and exactly where.

use serde::Serialize;

/// What went wrong with one document or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InputErrorKind {
    /// The file or stream could not be read at all.
    Io,
    /// The text is not valid YAML (or JSON).
    Syntax,
    /// Valid YAML, but not a Kubernetes object (no `apiVersion`/`kind`, not a mapping).
    NotAnObject,
    /// A kind that the built-in API group of its `apiVersion` does not serve (a typo).
    UnknownKind,
    /// A field has a type Kubernetes would reject (e.g. a boolean where a string belongs).
    FieldType,
    /// The document is too large or too deeply nested to be a Kubernetes object.
    Limit,
    /// A Helm chart could not be rendered.
    Render,
    /// A key that the file's format does not declare (a typo, or a setting of another version).
    UnknownField,
    /// A second YAML document in a file that holds exactly one (a config or waiver file).
    ExtraDocument,
}

/// An error tied to a place in the input, so that a user can jump straight to it.
///
/// `line` is 1-based; 0 means "the file as a whole".
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct InputError {
    pub kind: InputErrorKind,
    pub file: String,
    pub line: u32,
    /// The field path inside the document, when the error is about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(kind: InputErrorKind, file: &str, line: u32, message: impl Into<String>) -> Self {
        Self {
            kind,
            file: file.to_owned(),
            line,
            field: None,
            message: message.into(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// `file:line: message (field `path`)`: the one-line form for a terminal.
    pub fn describe(&self) -> String {
        match &self.field {
            Some(f) => format!(
                "{}:{}: {} (field `{f}`)",
                self.file, self.line, self.message
            ),
            None => format!("{}:{}: {}", self.file, self.line, self.message),
        }
    }
}
