//! Custom resources as the API server treats them: a CRD's `openAPIV3Schema` is a *structural*
//! schema, read with Kubernetes' rules rather than plain JSON Schema's.
//!
//! What differs from a JSON Schema validator on the schema alone, and how it is kept here:
//!
//! - **Pruning** (`apiextensions-apiserver` `schema/pruning`): a field the skeleton (`properties`,
//!   `additionalProperties`, `items`, outside `allOf`/`anyOf`/`oneOf`/`not`) does not specify is
//!   dropped, unless `x-kubernetes-preserve-unknown-fields` keeps it; an object schema that
//!   specifies nothing keeps nothing. `kubectl`'s strict field validation reports such a field,
//!   and so does [`pruned_fields`]. `apiVersion`, `kind` and `metadata` are implicit at the root
//!   and in every `x-kubernetes-embedded-resource`. This is not `haven_model::strict` (which reads
//!   haven's own config schemas, where an object without `properties` is open): a CRD schema
//!   means the opposite.
//! - **`null`** (`schema/defaulting/prunenulls.go`): a `null` value of a field whose schema is not
//!   `nullable` is dropped before validation, so it is never an error; `nullable: true` lets
//!   `null` through validation ([`prepare_schema`] adds it to the allowed types).
//! - **Defaults** are applied before validation, so a `required` field with a `default` is not
//!   reported missing ([`prepare_instance`]).
//! - **`x-kubernetes-int-or-string`** without its `anyOf` still means an integer or a string.
//! - **`x-kubernetes-embedded-resource`** requires `apiVersion` and `kind` and validates
//!   `metadata` as ObjectMeta ([`embedded_resources`]; the caller checks the metadata).
//!
//! Not checked (the API server checks them; a schema alone cannot): CEL rules
//! (`x-kubernetes-validations`), list-type uniqueness (`x-kubernetes-list-type`), `format`s
//! (Kubernetes' own formats differ from JSON Schema's: `duration` is Go's, not ISO 8601's).

use serde_json::{Map, Value};

/// A field the API server would prune (and strict field validation reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Path of the object holding the key.
    pub parent: String,
    pub key: String,
    /// The keys the schema specifies there, for a "did you mean".
    pub known: Vec<String>,
}

/// Every field of `value` that `schema` does not specify, in document order.
pub fn pruned_fields(schema: &Value, value: &Value) -> Vec<Pruned> {
    let mut out = Vec::new();
    prune_walk(schema, value, String::new(), true, &mut out, 0);
    out
}

const IMPLICIT: [&str; 3] = ["apiVersion", "kind", "metadata"];

fn is_true(node: &Value, key: &str) -> bool {
    node.get(key) == Some(&Value::Bool(true))
}

fn prune_walk(
    schema: &Value,
    value: &Value,
    path: String,
    resource_root: bool,
    out: &mut Vec<Pruned>,
    depth: usize,
) {
    if depth > 128 {
        return;
    }
    match value {
        Value::Object(map) => {
            let embedded = resource_root || is_true(schema, "x-kubernetes-embedded-resource");
            let preserve = is_true(schema, "x-kubernetes-preserve-unknown-fields");
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, child) in map {
                // apiVersion and kind are checked as strings by the caller, metadata as ObjectMeta.
                if embedded && IMPLICIT.contains(&key.as_str()) {
                    continue;
                }
                let mut child_path = path.clone();
                haven_model::path::push_key(&mut child_path, key);
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    prune_walk(sub, child, child_path, false, out, depth + 1);
                } else if let Some(sub) = additional.filter(|a| a.is_object()) {
                    prune_walk(sub, child, child_path, false, out, depth + 1);
                } else if preserve || additional == Some(&Value::Bool(true)) {
                    // Kept as it is; nothing below is specified.
                } else {
                    let mut known: Vec<String> = properties
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    if embedded {
                        known.extend(IMPLICIT.iter().map(|s| (*s).to_owned()));
                    }
                    known.sort();
                    known.dedup();
                    out.push(Pruned {
                        parent: path.clone(),
                        key: key.clone(),
                        known,
                    });
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    prune_walk(sub, item, format!("{path}[{i}]"), false, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The schema as a JSON Schema (draft 4, OpenAPI v3's base) validator should read it:
/// `nullable: true` admits `null`, and `x-kubernetes-int-or-string` without a type admits an
/// integer or a string.
pub fn prepare_schema(schema: &Value) -> Value {
    let mut s = schema.clone();
    prepare_node(&mut s, 0);
    s
}

fn prepare_node(node: &mut Value, depth: usize) {
    if depth > 128 {
        return;
    }
    let Value::Object(map) = node else { return };
    for key in ["properties", "patternProperties", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                prepare_node(child, depth + 1);
            }
        }
    }
    for key in ["additionalProperties", "items", "not", "additionalItems"] {
        if let Some(child) = map.get_mut(key) {
            match child {
                Value::Array(children) => {
                    children.iter_mut().for_each(|c| prepare_node(c, depth + 1))
                }
                child => prepare_node(child, depth + 1),
            }
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(|c| prepare_node(c, depth + 1));
        }
    }
    if is_true(&Value::Object(map.clone()), "x-kubernetes-int-or-string")
        && !map.contains_key("type")
        && !map.contains_key("anyOf")
    {
        map.insert(
            "anyOf".to_owned(),
            serde_json::json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        allow_null(map);
    }
    if let Some(Value::String(p)) = map.get_mut("pattern")
        && p.contains("(?i)")
    {
        *p = case_insensitive(p);
    }
}

/// A Go (RE2) pattern with the flag `(?i)`, which the API server reads and an ECMA-262 regex
/// (JSON Schema's dialect, refused when a schema is compiled) does not, with each ASCII letter
/// outside a character class spelled as both cases instead (`(?i)warn` → `[wW][aA][rR][nN]`).
/// The Prometheus Operator's PrometheusRule schema has one (`partial_response_strategy`).
fn case_insensitive(pattern: &str) -> String {
    let p = pattern.replace("(?i)", "");
    let mut out = String::with_capacity(p.len() * 2);
    let (mut in_class, mut escaped) = (false, false);
    for ch in p.chars() {
        if escaped {
            out.push(ch);
            escaped = false;
            continue;
        }
        match ch {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            _ => {}
        }
        if !in_class && ch.is_ascii_alphabetic() {
            out.push('[');
            out.push(ch.to_ascii_lowercase());
            out.push(ch.to_ascii_uppercase());
            out.push(']');
        } else {
            out.push(ch);
        }
    }
    out
}

fn allow_null(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".to_owned(), serde_json::json!([t, "null"]));
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => {
            ts.push(Value::from("null"));
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    // Alternatives of an untyped node (int-or-string): `null` is one more.
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = map.get_mut(key) {
            alts.push(serde_json::json!({"type": "null"}));
        }
    }
}

/// The object as the API server validates it: non-nullable `null`s dropped and defaults
/// applied, as `apiextensions-apiserver` does between decoding and validation.
pub fn prepare_instance(schema: &Value, value: &Value) -> Value {
    let mut v = value.clone();
    prune_nulls_and_default(schema, &mut v, 0);
    v
}

fn sub_schema<'s>(schema: &'s Value, key: &str) -> Option<&'s Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

fn prune_nulls_and_default(schema: &Value, value: &mut Value, depth: usize) {
    if depth > 128 {
        return;
    }
    match value {
        Value::Object(map) => {
            map.retain(|k, v| {
                !(v.is_null()
                    && sub_schema(schema, k)
                        .is_some_and(|s| !is_true(s, "nullable") && s.get("default").is_none()))
            });
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (k, s) in props {
                    if let Some(d) = s.get("default") {
                        let missing = map.get(k).is_none_or(Value::is_null);
                        if missing && !(map.get(k).is_some() && is_true(s, "nullable")) {
                            map.insert(k.clone(), d.clone());
                        }
                    }
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(s) = sub_schema(schema, k) {
                    prune_nulls_and_default(s, v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items").filter(|i| i.is_object()) {
                for item in items {
                    prune_nulls_and_default(s, item, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The embedded resources of `value` below its root (paths of objects whose schema sets
/// `x-kubernetes-embedded-resource`), for checking their `apiVersion`, `kind` and `metadata`.
pub fn embedded_resources(schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    embedded_walk(schema, value, String::new(), &mut out, 0);
    out
}

fn embedded_walk(schema: &Value, value: &Value, path: String, out: &mut Vec<String>, depth: usize) {
    if depth > 128 {
        return;
    }
    match value {
        Value::Object(map) => {
            if depth > 0 && is_true(schema, "x-kubernetes-embedded-resource") {
                out.push(path.clone());
            }
            for (k, v) in map {
                if let Some(s) = sub_schema(schema, k) {
                    let mut p = path.clone();
                    haven_model::path::push_key(&mut p, k);
                    embedded_walk(s, v, p, out, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    embedded_walk(s, item, format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_case_insensitive_patterns_compile_and_match_as_the_api_server_does() {
        let s = prepare_schema(&json!({"type": "string", "pattern": "^(?i)(abort|warn)?$"}));
        assert_eq!(s["pattern"], "^([aA][bB][oO][rR][tT]|[wW][aA][rR][nN])?$");
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&s)
            .unwrap();
        for ok in ["Warn", "ABORT", ""] {
            assert!(v.is_valid(&json!(ok)), "{ok}");
        }
        assert!(!v.is_valid(&json!("skip")));
        assert_eq!(case_insensitive(r"(?i)[a-z]\d+x"), r"[a-z]\d+[xX]");
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["mode"], "properties": {
                "mode": {"type": "string", "default": "auto"},
                "interval": {"type": "string"},
                "port": {"x-kubernetes-int-or-string": true},
                "note": {"type": "string", "nullable": true},
                "opaque": {"type": "object"},
                "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                           "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                             "x-kubernetes-preserve-unknown-fields": true},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
            }}
        }})
    }

    #[test]
    fn pruning_follows_the_structural_skeleton() {
        let value = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"},
            "spec": {"intreval": "1m", "opaque": {"anything": 1},
                     "values": {"free": 1, "known": {"b": 2}},
                     "labels": {"x": "y"},
                     "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}},
                     "items": [{"name": "a"}, {"nmae": "b"}]},
            "status": {}});
        let found: Vec<String> = pruned_fields(&schema(), &value)
            .into_iter()
            .map(|p| format!("{}/{}", p.parent, p.key))
            .collect();
        // An object schema without properties keeps nothing; preserve-unknown-fields keeps
        // unknown keys but still checks the ones it specifies; the root's metadata is implicit.
        assert_eq!(
            found,
            [
                "spec/intreval",
                "spec.items[1]/nmae",
                "spec.opaque/anything",
                "spec.values.known/b",
                "/status",
            ]
        );
    }

    #[test]
    fn nulls_defaults_and_int_or_string() {
        let s = schema();
        let value = json!({"spec": {"interval": null, "note": null, "items": [null]}});
        let prepared = prepare_instance(&s, &value);
        // The non-nullable null is dropped, the nullable one kept, the default applied; a null
        // list item stays (and fails validation, as on the API server).
        assert_eq!(
            prepared,
            json!({"spec": {"mode": "auto", "note": null, "items": [null]}})
        );
        let v = jsonschema::draft4::new(&prepare_schema(&s)).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&prepared)
            .map(|e| e.instance_path().to_string())
            .collect();
        assert_eq!(errors, ["/spec/items/0"]);
        let bad_port = prepare_instance(&s, &json!({"spec": {"port": true}}));
        assert!(!v.is_valid(&bad_port));
        assert!(v.is_valid(&prepare_instance(&s, &json!({"spec": {"port": "http"}}))));
        assert!(v.is_valid(&prepare_instance(&s, &json!({"spec": {"port": 8080}}))));
    }

    #[test]
    fn embedded_resources_are_found() {
        let value = json!({"spec": {"template": {"apiVersion": "v1"}}});
        assert_eq!(embedded_resources(&schema(), &value), ["spec.template"]);
    }
}
