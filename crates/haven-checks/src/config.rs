//! [`CheckConfig`]: the inputs of every inferred rule, as data.
//!
//! Defaults ship in `data/default-config.yaml` (embedded). A user file given with `--config`
//! replaces whole top-level keys, so a site can, say, add its own log agent without restating the
//! rest.

use serde::{Deserialize, Serialize};

/// The embedded defaults.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("../data/default-config.yaml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckConfig {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    pub zone_labels: Vec<String>,
    pub control_plane_labels: Vec<String>,
    pub platforms: Vec<PlatformRule>,
    pub hardened_os: Vec<HardenedOs>,
    pub rwx_provisioners: Vec<String>,
    pub log_agents: Vec<Matcher>,
    pub log_backends: Vec<Matcher>,
    pub cert_manager: CertManagerRule,
    pub metrics_api_service: String,
    pub plus: Vec<PlusCapability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformRule {
    pub name: String,
    pub cncf_name: String,
    #[serde(default)]
    pub managed: bool,
    #[serde(default)]
    pub node_labels: Vec<String>,
    #[serde(default)]
    pub provider_id_prefixes: Vec<String>,
    #[serde(default)]
    pub version_contains: Vec<String>,
    #[serde(default)]
    pub os_image_contains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HardenedOs {
    pub pattern: String,
    pub reason: String,
}

/// Recognises a component by its workloads: exact names (or `prefix*`), image substrings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Matcher {
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub crd_groups: Vec<String>,
    #[serde(default)]
    pub charts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertManagerRule {
    pub crd: String,
    pub images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlusCapability {
    pub capability: String,
    pub components: Vec<Matcher>,
}

/// A configuration file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Default for CheckConfig {
    fn default() -> Self {
        // The embedded file is tested to parse (config::tests); a failure here is a build defect.
        serde_yaml_ng::from_str(DEFAULT_CONFIG_YAML).expect("embedded default-config.yaml parses")
    }
}

impl CheckConfig {
    /// The defaults with the top-level keys of a user file (YAML) put over them.
    pub fn with_overrides(file: &str, text: &str) -> Result<Self, ConfigError> {
        let base: serde_json::Value = serde_yaml_ng::from_str(DEFAULT_CONFIG_YAML)
            .map_err(|e| ConfigError(format!("embedded defaults: {e}")))?;
        let user: serde_json::Value = serde_yaml_ng::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            ConfigError(format!("{file}:{line}: not YAML: {e}"))
        })?;
        let serde_json::Value::Object(user) = user else {
            return Err(ConfigError(format!(
                "{file}:1: expected a mapping of settings"
            )));
        };
        let mut merged = base;
        for (k, v) in user {
            merged[k] = v;
        }
        serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            let key = path.split(['.', '[']).next().unwrap_or_default().to_owned();
            let line = line_of_key(text, &key);
            ConfigError(format!("{file}:{line}: field {path}: {}", e.into_inner()))
        })
    }
}

/// Line (1-based) of a top-level key in a YAML text, for error messages; 1 if not found.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(&format!("{key}:")))
        .map_or(1, |i| i + 1)
}

/// Case-insensitive name match; a trailing `*` makes a prefix.
pub(crate) fn name_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    match p.strip_suffix('*') {
        Some(prefix) => n.starts_with(prefix),
        None => n == p,
    }
}

/// Case-insensitive substring match of an image reference.
pub(crate) fn image_matches(pattern: &str, image: &str) -> bool {
    image
        .to_ascii_lowercase()
        .contains(&pattern.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_cover_every_capability() {
        let c = CheckConfig::default();
        assert!(c.rwx_provisioners.contains(&"nfs.csi.k8s.io".to_owned()));
        assert!(c.log_agents.iter().any(|a| a.name == "Grafana Alloy"));
        let caps: Vec<&str> = c.plus.iter().map(|p| p.capability.as_str()).collect();
        for cap in [
            "logs",
            "metrics",
            "traces",
            "dashboards",
            "certificates",
            "secrets",
            "identity",
            "image scanning",
            "intrusion detection",
            "admission policy",
            "DNS",
            "ingress / Gateway API",
            "PostgreSQL operator",
            "backups",
            "GitOps",
        ] {
            assert!(
                caps.contains(&cap),
                "capability {cap} missing from the catalogue"
            );
        }
    }

    #[test]
    fn overrides_replace_top_level_keys_only() {
        let c = CheckConfig::with_overrides("site.yaml", "rwxProvisioners: [example.com/nfs]\n")
            .unwrap();
        assert_eq!(c.rwx_provisioners, vec!["example.com/nfs"]);
        assert!(!c.log_agents.is_empty(), "other keys keep their defaults");
    }

    #[test]
    fn override_errors_name_file_line_and_field() {
        let e = CheckConfig::with_overrides(
            "site.yaml",
            "zoneLabels: [a]\nlogAgents:\n  - {name: x, imagez: [y]}\n",
        )
        .unwrap_err();
        assert!(e.0.starts_with("site.yaml:2: field logAgents[0]"), "{e}");
        assert!(e.0.contains("imagez"), "{e}");
        let e = CheckConfig::with_overrides("site.yaml", "- a\n").unwrap_err();
        assert!(e.0.contains("site.yaml:1"), "{e}");
    }

    #[test]
    fn matching_rules() {
        assert!(name_matches("loki*", "loki-write"));
        assert!(!name_matches("loki", "loki-write"));
        assert!(name_matches("Alloy", "alloy"));
        assert!(image_matches(
            "grafana/alloy",
            "docker.io/Grafana/alloy:v1.18.1"
        ));
    }
}
