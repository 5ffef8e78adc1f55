//! [`CheckConfig`]: the inputs of every inferred rule, as data.
//!
//! Defaults ship in `data/default-config.yaml` (embedded). A user file given with `--config`
//! replaces whole top-level keys, so a site can, say, add its own log agent without restating the
//! rest. Both are read by haven's one YAML loader ([`haven_model::load`]): YAML 1.1 as
//! Kubernetes reads it, the parser's limits, one document, every unknown key and wrong type an
//! error with its file, line and field.

use haven_model::InputError;
use haven_model::load::{schema_of, single_document};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The embedded defaults.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("../data/default-config.yaml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HardenedOs {
    pub pattern: String,
    pub reason: String,
}

/// Recognises a component by its workloads: exact names (or `prefix*`), image substrings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertManagerRule {
    pub crd: String,
    pub images: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlusCapability {
    pub capability: String,
    pub components: Vec<Matcher>,
}

/// A configuration file that could not be used: every problem found, each with its file, line
/// and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.errors.iter().map(InputError::describe).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub errors: Vec<InputError>,
}

impl From<InputError> for ConfigError {
    fn from(e: InputError) -> Self {
        Self { errors: vec![e] }
    }
}

/// The embedded defaults as a JSON value.
fn default_value() -> serde_json::Value {
    // The embedded file is tested to parse (config::tests); a failure here is a build defect.
    single_document("default-config.yaml", DEFAULT_CONFIG_YAML)
        .ok()
        .flatten()
        .expect("embedded default-config.yaml parses")
        .value
}

impl Default for CheckConfig {
    fn default() -> Self {
        serde_json::from_value(default_value()).expect("embedded default-config.yaml is valid")
    }
}

impl CheckConfig {
    /// The defaults with the top-level keys of a user file (YAML) put over them. A file
    /// without any document changes nothing.
    pub fn with_overrides(file: &str, text: &str) -> Result<Self, ConfigError> {
        let Some(doc) = single_document(file, text)? else {
            return Ok(Self::default());
        };
        doc.expect_mapping()?;
        let unknown = doc.unknown_keys(&schema_of::<CheckConfig>());
        if !unknown.is_empty() {
            return Err(ConfigError { errors: unknown });
        }
        let mut merged = default_value();
        if let serde_json::Value::Object(user) = &doc.value {
            for (k, v) in user {
                merged[k] = v.clone();
            }
        }
        Ok(doc.deserialize(&merged)?)
    }
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
            "kubectl login",
            "cluster UI",
            "object state metrics",
            "policy reports",
            "load balancer",
            "RWX storage provisioner",
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
    fn defaults_read_the_same_in_yaml_1_1_and_1_2() {
        let doc = single_document("default-config.yaml", DEFAULT_CONFIG_YAML)
            .unwrap()
            .unwrap();
        assert!(doc.notes.is_empty(), "{:?}", doc.notes);
    }

    #[test]
    fn override_errors_name_file_line_and_field() {
        // The unknown key is on line 3, not on the line of its top-level key: positions come
        // from the parser, not from a search of the text.
        let e = CheckConfig::with_overrides(
            "site.yaml",
            "zoneLabels: [a]\nlogAgents:\n  - {name: x, imagez: [y]}\n",
        )
        .unwrap_err();
        assert_eq!(e.errors.len(), 1);
        let (err, line, field) = (&e.errors[0], e.errors[0].line, e.errors[0].field.as_deref());
        assert_eq!((line, field), (3, Some("logAgents[0].imagez")), "{e}");
        assert_eq!(
            err.message,
            "unknown field `imagez`; did you mean `images`?"
        );
        // A wrong type deep in a list: its own line.
        let e = CheckConfig::with_overrides(
            "site.yaml",
            "rwxProvisioners: [a]\nplatforms:\n- name: x\n  cncfName: z\n  managed: maybe\n",
        )
        .unwrap_err();
        assert_eq!(e.errors[0].line, 5, "{e}");
        assert_eq!(e.errors[0].field.as_deref(), Some("platforms[0].managed"));
        let e = CheckConfig::with_overrides("site.yaml", "- a\n").unwrap_err();
        assert!(
            e.to_string().starts_with("site.yaml:1: expected a mapping"),
            "{e}"
        );
        // Every unknown top-level key at once.
        let e = CheckConfig::with_overrides("site.yaml", "zoneLabel: [a]\nrwxProvisioner: [b]\n")
            .unwrap_err();
        assert_eq!(e.errors.len(), 2, "{e}");
    }

    #[test]
    fn a_second_document_is_an_error_not_ignored() {
        let e = CheckConfig::with_overrides(
            "site.yaml",
            "rwxProvisioners: [a]\n---\nzoneLabels: [b]\n",
        )
        .unwrap_err();
        assert_eq!(e.errors[0].kind, haven_model::InputErrorKind::ExtraDocument);
        assert_eq!(e.errors[0].line, 3);
    }

    #[test]
    fn yaml_1_1_is_read_as_kubernetes_reads_it() {
        // `managed: yes` is a boolean in YAML 1.1 (and a string in YAML 1.2).
        let c = CheckConfig::with_overrides(
            "site.yaml",
            "platforms:\n- name: x\n  cncfName: z\n  managed: yes\n",
        )
        .unwrap();
        assert!(c.platforms[0].managed);
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
