//! The three PATCH flavours kube sends: JSON merge patch (RFC 7386, also used for strategic
//! merge and server-side apply bodies, which is close enough for tests), and JSON patch (RFC 6902).

use serde_json::Value;

/// RFC 7386: objects merge recursively, `null` deletes, everything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Why a JSON patch could not be applied (the API server answers 422 with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("a JSON patch is a list of operations")]
    NotAList,
    #[error("operation without {0}")]
    Missing(&'static str),
    #[error("invalid JSON pointer {0:?}")]
    Pointer(String),
    #[error("path {0:?} does not exist")]
    NoPath(String),
    #[error("bad array index {0:?}")]
    Index(String),
    #[error("array index {0} out of range")]
    OutOfRange(usize),
    #[error("cannot {op} at {path:?}")]
    NotAContainer { op: &'static str, path: String },
    #[error("test failed at {0:?}")]
    TestFailed(String),
    #[error("unknown JSON patch operation {0:?}")]
    UnknownOp(Option<String>),
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn parent_and_key<'a>(
    doc: &'a mut Value,
    path: &str,
) -> Result<(&'a mut Value, String), PatchError> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| PatchError::Pointer(path.to_owned()))?;
    let target = if parent.is_empty() {
        doc
    } else {
        doc.pointer_mut(parent)
            .ok_or_else(|| PatchError::NoPath(parent.to_owned()))?
    };
    Ok((target, unescape(last)))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), PatchError> {
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = key.parse().map_err(|_| PatchError::Index(key.clone()))?;
            if i > a.len() {
                return Err(PatchError::OutOfRange(i));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(PatchError::NotAContainer {
            op: "add",
            path: path.to_owned(),
        }),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, PatchError> {
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => m
            .remove(&key)
            .ok_or_else(|| PatchError::NoPath(path.to_owned())),
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| PatchError::Index(key.clone()))?;
            if i >= a.len() {
                return Err(PatchError::OutOfRange(i));
            }
            Ok(a.remove(i))
        }
        _ => Err(PatchError::NotAContainer {
            op: "remove",
            path: path.to_owned(),
        }),
    }
}

/// RFC 6902 JSON patch.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let ops = ops.as_array().ok_or(PatchError::NotAList)?;
    for op in ops {
        let path = op["path"].as_str().ok_or(PatchError::Missing("path"))?;
        match op["op"].as_str() {
            Some("add") => add(doc, path, op["value"].clone())?,
            Some("remove") => {
                remove(doc, path)?;
            }
            Some("replace") => {
                remove(doc, path)?;
                add(doc, path, op["value"].clone())?;
            }
            Some("test") => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(PatchError::TestFailed(path.to_owned()));
                }
            }
            Some(kind @ ("move" | "copy")) => {
                let from = op["from"].as_str().ok_or(PatchError::Missing("from"))?;
                let v = if kind == "move" {
                    remove(doc, from)?
                } else {
                    doc.pointer(from)
                        .cloned()
                        .ok_or_else(|| PatchError::NoPath(from.to_owned()))?
                };
                add(doc, path, v)?;
            }
            other => return Err(PatchError::UnknownOp(other.map(str::to_owned))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_deletes_and_replaces() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge(&mut v, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(v, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_ops() {
        let mut v = json!({"metadata": {"labels": {"a": "1"}}, "l": [1]});
        json_patch(
            &mut v,
            &json!([
                {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
                {"op": "replace", "path": "/metadata/labels/a", "value": "x"},
                {"op": "add", "path": "/l/-", "value": 2},
                {"op": "test", "path": "/l/1", "value": 2}
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"labels": {"a": "x", "b/c": "2"}}, "l": [1, 2]})
        );
        assert!(json_patch(&mut v, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
