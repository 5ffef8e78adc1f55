//! Finds keys a JSON Schema does not declare.
//!
//! Every config-like file haven reads ([`crate::load`]: waiver files, `haven check --config`,
//! the Haven+ config) and the CRD checks of `haven plus validate` need this: serde's `deny_unknown_fields` stops at the
//! first unknown key and knows no line, and the public CRD schemas do not set
//! `additionalProperties: false`, so a misspelled `spec.intreval` would pass plain JSON Schema
//! validation and be pruned silently by the API server. Wherever a schema lists `properties` and
//! neither allows extra keys (`additionalProperties`, `patternProperties`) nor preserves unknown
//! fields (`x-kubernetes-preserve-unknown-fields`), every other key is reported.

use serde_json::Value;

/// A key the schema does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProperty {
    /// Path of the object holding the key (`spec.chart.spec`).
    pub parent: String,
    pub key: String,
    /// The keys that are declared there, for a "did you mean".
    pub known: Vec<String>,
}

/// Every undeclared key in `value`, in document order.
pub fn unknown_properties(schema: &Value, value: &Value) -> Vec<UnknownProperty> {
    let mut out = Vec::new();
    walk(schema, schema, value, String::new(), &mut out, 0);
    out
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(t) => node = t,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

/// The schemas that apply to one value: the node itself and its `allOf`/`anyOf`/`oneOf`
/// branches (of which any may be the one that matches).
fn branches<'a>(root: &'a Value, node: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    let node = resolve(root, node);
    out.push(node);
    if depth > 8 {
        return;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(alts) = node.get(key).and_then(Value::as_array) {
            for a in alts {
                branches(root, a, out, depth + 1);
            }
        }
    }
}

fn walk(
    root: &Value,
    schema: &Value,
    value: &Value,
    path: String,
    out: &mut Vec<UnknownProperty>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    let mut nodes = Vec::new();
    branches(root, schema, &mut nodes, 0);
    match value {
        Value::Object(map) => {
            let open = nodes.iter().any(|n| {
                n.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
                    || n.get("patternProperties").is_some()
                    || matches!(n.get("additionalProperties"), Some(v) if v != &Value::Bool(false))
            });
            let declared: Vec<&serde_json::Map<String, Value>> = nodes
                .iter()
                .filter_map(|n| n.get("properties").and_then(Value::as_object))
                .collect();
            let additional: Vec<&Value> = nodes
                .iter()
                .filter_map(|n| n.get("additionalProperties"))
                .filter(|v| v.is_object())
                .collect();
            for (key, child) in map {
                let mut child_path = path.clone();
                crate::path::push_key(&mut child_path, key);
                let sub = declared.iter().find_map(|p| p.get(key));
                match sub {
                    Some(s) => walk(root, s, child, child_path, out, depth + 1),
                    None => {
                        if let Some(a) = additional.first() {
                            walk(root, a, child, child_path, out, depth + 1);
                        } else if !open && !declared.is_empty() {
                            let mut known: Vec<String> =
                                declared.iter().flat_map(|p| p.keys().cloned()).collect();
                            known.sort();
                            known.dedup();
                            out.push(UnknownProperty {
                                parent: path.clone(),
                                key: key.clone(),
                                known,
                            });
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            let item_schema = nodes.iter().find_map(|n| n.get("items"));
            if let Some(s) = item_schema {
                for (i, item) in items.iter().enumerate() {
                    walk(root, s, item, format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::did_you_mean;
    use serde_json::json;

    #[test]
    fn reports_undeclared_keys_with_their_parent() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"interval": {"type": "string"}}},
            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": {}}}}
        }});
        let value = json!({
            "spec": {"intreval": "1m"},
            "values": {"anything": 1},
            "labels": {"x": "y"},
            "items": [{"a": 1}, {"b": 2}]
        });
        let found = unknown_properties(&schema, &value);
        assert_eq!(found.len(), 2, "{found:?}");
        // Keys come in the map's (sorted) order.
        assert_eq!(found[0].parent, "items[1]");
        assert_eq!(did_you_mean("zzz", &found[0].known), None);
        assert_eq!(found[1].parent, "spec");
        assert_eq!(found[1].key, "intreval");
        assert_eq!(did_you_mean("intreval", &found[1].known), Some("interval"));
    }

    #[test]
    fn follows_refs_and_branches() {
        let schema = json!({"$defs": {"T": {"type": "object", "properties": {"on": {}}}},
            "properties": {"t": {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}]}}});
        let found = unknown_properties(&schema, &json!({"t": {"of": 1}}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].parent, "t");
    }
}
