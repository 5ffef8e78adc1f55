//! One voice for every error the CLI prints: [`Diagnostic`].
//!
//! Each [`Problem`] is printed on stderr as
//!
//! ```text
//! haven: error: <what> (<where>)
//!   hint: <what to do>
//! ```
//!
//! where `<where>` names the file and line, the field, the flag or the object it is about. A
//! diagnostic carries several problems, so that a bad document does not hide the errors of the
//! good ones (they are printed in the order they were found: file order for one file). A run
//! that ends in a diagnostic exits with [`crate::EXIT_ERROR`].

use std::fmt;
use std::io::Write;

use haven_model::InputError;

/// Where a problem is: any of file (with line), field, flag, object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub file: Option<String>,
    /// 1-based; 0 or `None` when unknown.
    pub line: Option<u32>,
    pub field: Option<String>,
    pub flag: Option<String>,
    pub object: Option<String>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        match (&self.file, self.line) {
            (Some(file), Some(line)) if line > 0 => parts.push(format!("{file}:{line}")),
            (Some(file), _) => parts.push(file.clone()),
            (None, _) => {}
        }
        if let Some(field) = &self.field {
            parts.push(format!("field `{field}`"));
        }
        if let Some(flag) = &self.flag {
            parts.push(format!("flag {flag}"));
        }
        if let Some(object) = &self.object {
            parts.push(object.clone());
        }
        f.write_str(&parts.join(", "))
    }
}

impl Place {
    fn is_empty(&self) -> bool {
        self.file.is_none() && self.field.is_none() && self.flag.is_none() && self.object.is_none()
    }
}

/// One error: what went wrong, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub place: Place,
    pub hints: Vec<String>,
}

impl Problem {
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            place: Place::default(),
            hints: Vec::new(),
        }
    }

    /// The file the problem is in (a path as the user gave it).
    pub fn file(mut self, file: impl fmt::Display) -> Self {
        self.place.file = Some(file.to_string());
        self
    }

    pub fn line(mut self, line: u32) -> Self {
        self.place.line = Some(line);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.place.field = Some(field.into());
        self
    }

    /// The command-line flag the problem is about, with its dashes (`--format`).
    pub fn flag(mut self, flag: impl Into<String>) -> Self {
        self.place.flag = Some(flag.into());
        self
    }

    /// The object the problem is about (`HelmRelease flux-system/cilium`).
    pub fn object(mut self, object: impl Into<String>) -> Self {
        self.place.object = Some(object.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Text from inputs may hold newlines: the first line of each error stays its own.
        let what = self.what.trim_end().replace('\n', "\n  ");
        if self.place.is_empty() {
            write!(f, "haven: error: {what}")?;
        } else {
            write!(f, "haven: error: {what} ({})", self.place)?;
        }
        for hint in &self.hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<&InputError> for Problem {
    fn from(e: &InputError) -> Self {
        let mut p = Problem::new(e.message.clone()).file(&e.file);
        if e.line > 0 {
            p = p.line(e.line);
        }
        if let Some(field) = &e.field {
            p = p.field(field.clone());
        }
        p
    }
}

/// Why a command failed: one or more [`Problem`]s, printed in one voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub problems: Vec<Problem>,
}

impl Diagnostic {
    pub fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// Writes every problem, one `haven: error:` line each (hints indented below).
    pub fn print(&self, out: &mut dyn Write) {
        for p in &self.problems {
            let _ = writeln!(out, "{p}");
        }
    }

    /// Adds a hint to the last problem.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        if let Some(p) = self.problems.last_mut() {
            p.hints.push(hint.into());
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl From<Problem> for Diagnostic {
    fn from(p: Problem) -> Self {
        Self { problems: vec![p] }
    }
}

/// A message that already says where (`file: cannot read …`): one problem, no separate place.
impl From<String> for Diagnostic {
    fn from(what: String) -> Self {
        Problem::new(what).into()
    }
}

impl From<&str> for Diagnostic {
    fn from(what: &str) -> Self {
        Problem::new(what).into()
    }
}

impl From<Vec<InputError>> for Diagnostic {
    fn from(errors: Vec<InputError>) -> Self {
        Self::new(errors.iter().map(Problem::from).collect())
    }
}

impl From<&[InputError]> for Diagnostic {
    fn from(errors: &[InputError]) -> Self {
        Self::new(errors.iter().map(Problem::from).collect())
    }
}

/// A tree of `haven plus` that could not be read or written: the file or directory is the place.
impl From<haven_platform::TreeError> for Diagnostic {
    fn from(e: haven_platform::TreeError) -> Self {
        use haven_platform::TreeError;
        match &e {
            TreeError::NotADirectory(dir) => Problem::new("not a directory").file(dir.display()),
            TreeError::Walk { dir, source } => Problem::new(source.to_string()).file(dir.display()),
            TreeError::Read { path, source } => {
                Problem::new(format!("cannot read: {source}")).file(path.display())
            }
            TreeError::Write(w) => Problem::new(w.to_string()),
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_voice_with_place_and_hint() {
        let d: Diagnostic = Problem::new("not a duration: \"5x\"")
            .flag("--timeout")
            .hint("try 30s or 5m")
            .into();
        assert_eq!(
            d.to_string(),
            "haven: error: not a duration: \"5x\" (flag --timeout)\n  hint: try 30s or 5m"
        );
    }

    #[test]
    fn several_problems_in_order() {
        let d = Diagnostic::new(vec![
            Problem::new("first").file("a.yaml").line(3).field("spec.x"),
            Problem::new("second").file("a.yaml").line(9),
            Problem::new("third").file("a.yaml"),
        ]);
        assert_eq!(
            d.to_string(),
            "haven: error: first (a.yaml:3, field `spec.x`)\n\
             haven: error: second (a.yaml:9)\n\
             haven: error: third (a.yaml)"
        );
    }

    #[test]
    fn input_error_keeps_file_line_field() {
        let e = InputError::new(haven_model::InputErrorKind::Syntax, "v.yaml", 7, "bad")
            .with_field("image.tag");
        assert_eq!(
            Problem::from(&e).to_string(),
            "haven: error: bad (v.yaml:7, field `image.tag`)"
        );
    }
}
