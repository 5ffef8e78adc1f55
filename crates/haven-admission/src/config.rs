//! The webhook's configuration file: cluster-wide defaults for namespaces without Pod Security
//! labels, and exemptions.

use haven_model::{InputError, InputErrorKind};
use serde::Deserialize;

/// `--config FILE`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub exemptions: Exemptions,
    #[serde(default)]
    pub response: ResponseConfig,
}

/// How much a response says. Its size is bounded whatever the object (see `response.rs`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ResponseConfig {
    /// Violations of one rule listed in a denial, the audit annotation and the warnings; the
    /// rest are counted ("and 124990 more violations of pss.runAsNonRoot"). At least 1.
    pub violations_per_rule: usize,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        Self {
            violations_per_rule: 10,
        }
    }
}

/// What applies where a namespace carries no label, as in Pod Security Admission's
/// `AdmissionConfiguration` defaults. Levels: `privileged`, `baseline`, `restricted`;
/// versions: `v1.N` or `latest`; Haven groups: `off`, `warn`, `audit`, `enforce`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    pub enforce: String,
    pub enforce_version: String,
    pub audit: String,
    pub audit_version: String,
    pub warn: String,
    pub warn_version: String,
    /// Mode of the Haven application rules (`haven.*`) where no namespace label says otherwise.
    #[serde(deserialize_with = "mode")]
    pub haven: String,
    /// Mode of the Haven+ expectations (`plus.*`).
    #[serde(deserialize_with = "mode")]
    pub plus: String,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            enforce: "restricted".into(),
            enforce_version: "latest".into(),
            audit: "restricted".into(),
            audit_version: "latest".into(),
            warn: "restricted".into(),
            warn_version: "latest".into(),
            haven: "off".into(),
            plus: "off".into(),
        }
    }
}

/// A group mode; an unquoted `off` is YAML 1.1's `false`, which means the same.
fn mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Mode {
        Text(String),
        Flag(bool),
    }
    Ok(match Mode::deserialize(d)? {
        Mode::Text(s) => s,
        Mode::Flag(false) => "off".to_owned(),
        Mode::Flag(true) => "enforce".to_owned(),
    })
}

/// Requests that are never evaluated. The webhook's own namespace and `kube-system` are always
/// exempt, so that the webhook can never block its own recovery.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exemptions {
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub usernames: Vec<String>,
    #[serde(default)]
    pub runtime_classes: Vec<String>,
}

impl Config {
    /// Parses the YAML config; errors name file, line and field. The file holds one document:
    /// a second one is an error, not ignored (an operator who appends settings after a `---`
    /// would otherwise believe them applied).
    pub fn parse(file: &str, text: &str) -> Result<Self, InputError> {
        let mut docs = haven_model::parse_stream(file, text);
        if docs.is_empty() {
            return Ok(Self::default());
        }
        if let Some(second) = docs.get(1) {
            let line = match second {
                Ok(doc) => doc.line,
                Err(e) => e.line,
            };
            return Err(InputError::new(
                InputErrorKind::Syntax,
                file,
                line,
                format!(
                    "the config is one YAML document, but this file has {} (remove the `---` and merge them)",
                    docs.len()
                ),
            ));
        }
        let doc = docs.remove(0)?;
        let config: Config = serde_path_to_error::deserialize(&doc.value).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let line = doc.root.position(&path).0;
            InputError::new(
                InputErrorKind::FieldType,
                file,
                line,
                format!("invalid config: {}", e.into_inner()),
            )
            .with_field(path)
        })?;
        // Validate every setting now, not at the first request.
        let d = &config.defaults;
        for (field, value) in [
            ("enforce", &d.enforce),
            ("audit", &d.audit),
            ("warn", &d.warn),
        ] {
            crate::policy::parse_level(value).map_err(|e| at(file, &doc, field, e.to_string()))?;
        }
        for (field, value) in [
            ("enforceVersion", &d.enforce_version),
            ("auditVersion", &d.audit_version),
            ("warnVersion", &d.warn_version),
        ] {
            value
                .parse::<haven_pss::Version>()
                .map_err(|e| at(file, &doc, field, e.to_string()))?;
        }
        for (field, value) in [("haven", &d.haven), ("plus", &d.plus)] {
            crate::policy::GroupMode::parse(value)
                .map_err(|e| at(file, &doc, field, e.to_string()))?;
        }
        if config.response.violations_per_rule == 0 {
            let path = "response.violationsPerRule";
            return Err(InputError::new(
                InputErrorKind::FieldType,
                file,
                doc.root.position(path).0,
                "must be at least 1".to_owned(),
            )
            .with_field(path.to_owned()));
        }
        Ok(config)
    }
}

fn at(file: &str, doc: &haven_model::YamlDocument, field: &str, msg: String) -> InputError {
    let path = format!("defaults.{field}");
    InputError::new(
        InputErrorKind::FieldType,
        file,
        doc.root.position(&path).0,
        msg,
    )
    .with_field(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let c = Config::parse("c.yaml", "defaults:\n  enforce: baseline\n  enforceVersion: v1.30\n  audit: restricted\n  auditVersion: latest\n  warn: restricted\n  warnVersion: latest\n  haven: warn\n  plus: off\nexemptions:\n  namespaces: [monitoring]\n").unwrap();
        assert_eq!(c.defaults.enforce, "baseline");
        assert_eq!(c.exemptions.namespaces, ["monitoring"]);
        let e = Config::parse("c.yaml", "defaults:\n  enforce: strict\n  enforceVersion: latest\n  audit: restricted\n  auditVersion: latest\n  warn: restricted\n  warnVersion: latest\n  haven: off\n  plus: off\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("defaults.enforce")));
        let partial =
            Config::parse("c.yaml", "defaults:\n  enforce: baseline\n  plus: warn\n").unwrap();
        assert_eq!(
            (
                partial.defaults.enforce.as_str(),
                partial.defaults.audit.as_str()
            ),
            ("baseline", "restricted")
        );
        let e = Config::parse("c.yaml", "exemptions:\n  namespace: [x]\n").unwrap_err();
        assert!(e.message.contains("unknown field `namespace`"), "{e}");
        assert_eq!(partial.response.violations_per_rule, 10);
        let c = Config::parse("c.yaml", "response:\n  violationsPerRule: 3\n").unwrap();
        assert_eq!(c.response.violations_per_rule, 3);
        let e = Config::parse("c.yaml", "response:\n  violationsPerRule: 0\n").unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (2, Some("response.violationsPerRule"))
        );
    }

    #[test]
    fn a_second_document_is_an_error_not_ignored() {
        let text = "defaults:\n  enforce: baseline\n---\nexemptions:\n  namespaces: [monitoring]\n";
        let e = Config::parse("c.yaml", text).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("c.yaml", 4), "{e}");
        assert!(e.message.contains("one YAML document"), "{e}");
        // A broken second document is reported as the second document too.
        let e = Config::parse("c.yaml", "defaults: {}\n---\n[\n").unwrap_err();
        assert!(e.message.contains("one YAML document"), "{e}");
        // Empty documents around the one document are not documents (as kubectl reads them).
        let c = Config::parse("c.yaml", "---\ndefaults:\n  enforce: baseline\n---\n").unwrap();
        assert_eq!(c.defaults.enforce, "baseline");
    }
}
