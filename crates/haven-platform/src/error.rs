//! Errors in the config file, tied to a line and a key path so a user can jump to them.

/// One problem in `haven-plus.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ConfigError {
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Key path, e.g. `capabilities.logs.enabled`; empty for the document.
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn at(file: &str, line: u32, path: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            path: path.to_owned(),
            message: message.into(),
        }
    }

    /// `file:line: message (key `path`)`.
    pub fn describe(&self) -> String {
        if self.path.is_empty() {
            format!("{}:{}: {}", self.file, self.line, self.message)
        } else {
            format!(
                "{}:{}: {} (key `{}`)",
                self.file, self.line, self.message, self.path
            )
        }
    }
}

/// Why a tree could not be read or written (`fs.rs`).
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{}: not a directory", .0.display())]
    NotADirectory(std::path::PathBuf),
    #[error("{}: {source}", .dir.display())]
    Walk {
        dir: std::path::PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] haven_io::files::WriteError),
}

/// A version 0 config that cannot be carried over to version 1 (`migrate.rs`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error("the config must be a mapping")]
    NotAMapping,
    #[error("version 0 key `{key}` must be a string, not {found}")]
    NotAString { key: String, found: String },
    #[error("version 0 config without `{0}`")]
    Missing(&'static str),
    #[error("version 0 key `disable` must be a list of component names")]
    DisableNotAList,
    #[error("version 0 `disable` names an unknown component `{0}`")]
    UnknownComponent(String),
    #[error(
        "version 0 config has an unknown key `{0}` (known: name, domain, provider, ingress, disable, tenants)"
    )]
    UnknownKey(String),
}

/// The built-in catalogue does not read: a bug in this build (`catalogue.rs`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}", .0.describe())]
    Read(#[source] haven_model::InputError),
    #[error("catalogue/{file}.yaml: name `{name}` differs from the file name")]
    NameMismatch { file: String, name: String },
}

/// A CRD schema that a [`crate::validate::SchemaSource`] holds but cannot give.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A file of a `--crd-schemas` directory that exists but cannot be read.
    #[error("{}: {source}", .path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of a `--crd-schemas` directory that is not JSON.
    #[error("{}: {source}", .path.display())]
    Json {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A built-in schema that does not read: a bug in this build (the tests read them all).
    #[error("the built-in schema of {group}/{version} {kind} is malformed: {source}")]
    Builtin {
        group: String,
        version: String,
        kind: String,
        #[source]
        source: serde_json::Error,
    },
    /// A schema that reads but does not compile as a JSON Schema.
    #[error("the schema {file} is invalid: {source}")]
    Invalid {
        file: String,
        #[source]
        source: Box<jsonschema::ValidationError<'static>>,
    },
    /// A source of the caller's own (tests, embedders), in its words.
    #[error("{0}")]
    Other(String),
}
