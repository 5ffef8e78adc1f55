//! Migrations of older config shapes to the current version.
//!
//! Version 0 was the alpha shape, flat and with components named directly:
//!
//! ```yaml
//! name: utrecht
//! domain: example.nl
//! provider: previder
//! ingress: traefik          # the Gateway API implementation
//! disable: [falco, tempo]   # component names to leave out
//! tenants: [{name: zaken, group: zaken-devs}]
//! ```
//!
//! Each step is a pure function on the JSON value, so that it is tested on data and composes
//! (a future v1 → v2 is one more function).

use serde_json::{Map, Value, json};

use crate::error::MigrateError;

/// Which capability a v0 `disable` entry switched off.
const V0_COMPONENT_CAPABILITY: &[(&str, &str)] = &[
    ("loki", "logs"),
    ("alloy", "logs"),
    ("mimir", "metrics"),
    ("tempo", "traces"),
    ("grafana", "dashboards"),
    ("metrics-server", "metricsServer"),
    ("cert-manager", "certificates"),
    ("external-secrets", "secrets"),
    ("openbao", "secrets"),
    ("keycloak", "identity"),
    ("trivy-operator", "imageScanning"),
    ("falco", "intrusionDetection"),
    ("kyverno", "admission"),
    ("haven-admission", "admission"),
    ("external-dns", "dns"),
    ("envoy-gateway", "ingress"),
    ("cloudnative-pg", "postgresql"),
    ("velero", "backups"),
    ("garage", "objectStorage"),
];

/// Version 0 (alpha) → version 1.
pub fn from_v0(v0: Value) -> Result<Value, MigrateError> {
    let Value::Object(mut old) = v0 else {
        return Err(MigrateError::NotAMapping);
    };
    old.remove("version");
    let mut take_str = |key: &str| -> Result<Option<String>, MigrateError> {
        match old.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(MigrateError::NotAString {
                key: key.to_owned(),
                found: other.to_string(),
            }),
        }
    };
    let name = take_str("name")?.ok_or(MigrateError::Missing("name"))?;
    let domain = take_str("domain")?.ok_or(MigrateError::Missing("domain"))?;
    let provider = take_str("provider")?;
    let ingress = take_str("ingress")?;
    let mut cluster = Map::new();
    cluster.insert("name".into(), Value::String(name));
    cluster.insert("domain".into(), Value::String(domain));
    if let Some(p) = provider {
        cluster.insert("provider".into(), Value::String(p));
    }
    let mut caps = Map::new();
    if let Some(i) = ingress {
        caps.insert("ingress".into(), json!({"implementation": i}));
    }
    if let Some(disable) = old.remove("disable") {
        let Value::Array(items) = disable else {
            return Err(MigrateError::DisableNotAList);
        };
        for item in items {
            let name = item.as_str().unwrap_or_default();
            let Some((_, cap)) = V0_COMPONENT_CAPABILITY.iter().find(|(c, _)| *c == name) else {
                return Err(MigrateError::UnknownComponent(name.to_owned()));
            };
            let entry = caps.entry(cap.to_string()).or_insert_with(|| json!({}));
            if let Value::Object(m) = entry {
                m.insert("enabled".into(), Value::Bool(false));
            }
        }
    }
    let tenants = old.remove("tenants").unwrap_or_else(|| json!([]));
    if let Some(k) = old.keys().next() {
        return Err(MigrateError::UnknownKey(k.clone()));
    }
    Ok(json!({
        "version": 1,
        "cluster": cluster,
        "capabilities": caps,
        "tenants": tenants,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_becomes_v1() {
        let v1 = from_v0(json!({
            "name": "u", "domain": "example.nl", "provider": "cyso",
            "ingress": "traefik", "disable": ["falco", "loki"],
            "tenants": [{"name": "t", "group": "g"}]
        }))
        .unwrap();
        assert_eq!(v1["version"], 1);
        assert_eq!(v1["cluster"]["provider"], "cyso");
        assert_eq!(v1["capabilities"]["ingress"]["implementation"], "traefik");
        assert_eq!(v1["capabilities"]["intrusionDetection"]["enabled"], false);
        assert_eq!(v1["capabilities"]["logs"]["enabled"], false);
        assert_eq!(v1["tenants"][0]["group"], "g");
    }

    #[test]
    fn v0_rejects_what_it_cannot_map() {
        assert_eq!(
            from_v0(json!({"domain": "x"})),
            Err(MigrateError::Missing("name"))
        );
        assert_eq!(
            from_v0(json!({"name": "a", "domain": "b", "disable": ["nginx"]})),
            Err(MigrateError::UnknownComponent("nginx".into()))
        );
        assert_eq!(
            from_v0(json!({"name": "a", "domain": "b", "colour": "red"})),
            Err(MigrateError::UnknownKey("colour".into()))
        );
    }
}
