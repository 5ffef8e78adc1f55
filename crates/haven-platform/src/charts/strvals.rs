//! Helm's `--set` parser (`helm.sh/helm/v4/pkg/strvals`), as far as Flux's `valuesFrom`
//! `targetPath` uses it: `ReplacePathValue` (typed, or a string when the value is quoted) and
//! `ReplacePathLiteralValue` (`literal: true`).
//!
//! Written by hand: there is no Rust crate of Helm's parser, and haven only needs one
//! `path=value` at a time. Paths are dot-separated keys with `\.` for a literal dot and `[n]`
//! list indexes; a value is typed as strvals types it (`true`, `false`, `null`, integers
//! without a leading zero). A comma in a typed value would start another `key=value` pair in
//! Helm's parser: that is reported rather than imitated (use `literal: true`).

use serde_json::{Map, Value};

/// Why a `targetPath` cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("empty key in path `{0}`")]
    EmptyKey(String),
    #[error("bad list index in path `{0}`")]
    BadIndex(String),
    #[error(
        "the value has a comma, which Helm's --set parser reads as the start of another key: use `literal: true`"
    )]
    Comma,
    #[error("`{0}` is a list in the values and cannot take a key")]
    NotAMap(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Step>, SetError> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    key.push(n);
                }
            }
            '.' => {
                if key.is_empty() && !after_index {
                    return Err(SetError::EmptyKey(path.to_owned()));
                }
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                } else if steps.is_empty() {
                    return Err(SetError::EmptyKey(path.to_owned()));
                }
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let n = digits
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| SetError::BadIndex(path.to_owned()))?;
                steps.push(Step::Index(n));
                after_index = true;
            }
            c => {
                after_index = false;
                key.push(c);
            }
        }
    }
    if !key.is_empty() {
        steps.push(Step::Key(key));
    } else if !after_index {
        return Err(SetError::EmptyKey(path.to_owned()));
    }
    Ok(steps)
}

/// `typedVal`: what strvals makes of an unquoted value.
fn typed(value: &str) -> Value {
    if value.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if value.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if value.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if value == "0" {
        return Value::from(0i64);
    }
    if !value.starts_with('0')
        && let Ok(n) = value.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(value.to_owned())
}

/// Unescapes a value as strvals reads it (`\,` is a comma, `\\` a backslash), refusing an
/// unescaped comma.
fn unescape(value: &str) -> Result<String, SetError> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            ',' => return Err(SetError::Comma),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `ReplacePathValue`: a value in single or double quotes is set as a string (without them),
/// any other is typed; `{a,b}` lists are not supported (they hold commas).
pub fn set_path_value(values: &mut Value, path: &str, value: &str) -> Result<(), SetError> {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    let v = if quoted {
        Value::String(unescape(value.trim_matches(['"', '\'']))?)
    } else {
        typed(&unescape(value)?)
    };
    set(values, &parse_path(path)?, v, path)
}

/// `ReplacePathLiteralValue`: the value verbatim, as a string.
pub fn set_literal(values: &mut Value, path: &str, value: &str) -> Result<(), SetError> {
    set(
        values,
        &parse_path(path)?,
        Value::String(value.to_owned()),
        path,
    )
}

fn set(target: &mut Value, steps: &[Step], v: Value, path: &str) -> Result<(), SetError> {
    let Some((first, rest)) = steps.split_first() else {
        *target = v;
        return Ok(());
    };
    match first {
        Step::Key(k) => {
            if !target.is_object() {
                if target.is_array() {
                    return Err(SetError::NotAMap(path.to_owned()));
                }
                *target = Value::Object(Map::new());
            }
            let m = target.as_object_mut().expect("made a map above");
            let slot = m.entry(k.clone()).or_insert(Value::Null);
            if rest.is_empty() {
                *slot = v;
                Ok(())
            } else {
                set(slot, rest, v, path)
            }
        }
        Step::Index(i) => {
            if !target.is_array() {
                *target = Value::Array(Vec::new());
            }
            let a = target.as_array_mut().expect("made a list above");
            while a.len() <= *i {
                a.push(Value::Null);
            }
            set(&mut a[*i], rest, v, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_typed_quoted_and_literal_values() {
        let mut v = json!({"a": {"keep": 1}});
        set_path_value(&mut v, "a.b", "true").unwrap();
        set_path_value(&mut v, "a.n", "42").unwrap();
        set_path_value(&mut v, "a.z", "007").unwrap();
        set_path_value(&mut v, "a.s", "'42'").unwrap();
        set_path_value(&mut v, r"annotations.example\.com/x", "y").unwrap();
        set_path_value(&mut v, "list[1].name", "second").unwrap();
        set_literal(&mut v, "raw", "a,b{c}").unwrap();
        assert_eq!(
            v,
            json!({"a": {"keep": 1, "b": true, "n": 42, "z": "007", "s": "42"},
                   "annotations": {"example.com/x": "y"},
                   "list": [null, {"name": "second"}], "raw": "a,b{c}"})
        );
        assert_eq!(set_path_value(&mut v, "x", "a,b"), Err(SetError::Comma));
        set_path_value(&mut v, "x", r"a\,b").unwrap();
        assert_eq!(v["x"], "a,b");
        assert!(set_path_value(&mut v, "a..b", "1").is_err());
        assert!(set_path_value(&mut v, "l[x]", "1").is_err());
    }
}
