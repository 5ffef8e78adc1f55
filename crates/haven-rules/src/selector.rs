//! Kubernetes label selectors over JSON values (matchLabels and matchExpressions), as used by
//! Services, NetworkPolicies, PodDisruptionBudgets and Prometheus monitors.

use serde_json::{Map, Value};

/// Whether a `LabelSelector` (`{matchLabels, matchExpressions}`) selects `labels`.
/// An empty selector selects everything, as in NetworkPolicy `podSelector: {}`.
pub fn label_selector_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object)
        && !ml
            .iter()
            .all(|(k, v)| v.as_str().is_some_and(|v| get(k) == Some(v)))
    {
        return false;
    }
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expr
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = get(key);
        let ok = match expr
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => !have.is_some_and(|h| values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a Service-style selector (a plain map) selects `labels`. An empty or missing map
/// selects nothing (a Service without selector has manually managed endpoints).
pub fn map_selector_matches(selector: Option<&Value>, labels: Option<&Map<String, Value>>) -> bool {
    let Some(sel) = selector
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    else {
        return false;
    };
    sel.iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_follow_kubernetes_semantics() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object();
        assert!(label_selector_matches(&json!({}), labels));
        assert!(label_selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            labels
        ));
        assert!(!label_selector_matches(
            &json!({"matchLabels": {"app": "api"}}),
            labels
        ));
        assert!(label_selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "x"]}]}),
            labels
        ));
        assert!(!label_selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
            labels
        ));
        assert!(map_selector_matches(Some(&json!({"app": "web"})), labels));
        assert!(!map_selector_matches(Some(&json!({})), labels));
    }
}
