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
