//! Which rules apply in a namespace, from its labels, exactly as Pod Security Admission reads
//! `pod-security.kubernetes.io/{enforce,audit,warn}[-version]`, plus haven's own
//! `haven.commonground.nl/{haven,plus}: enforce|audit|warn` for the Haven rule groups; and the
//! tenant policy from its annotations (`haven_rules::tenant`: allowed registries, LoadBalancers,
//! denied and allowed host names), which the Haven+ group's rules compare with.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use haven_pss::{Level, Version};
use haven_rules::TenantPolicy;

use crate::config::Defaults;

pub const PSA_PREFIX: &str = "pod-security.kubernetes.io/";
pub const HAVEN_LABEL: &str = "haven.commonground.nl/haven";
pub const PLUS_LABEL: &str = "haven.commonground.nl/plus";

/// Namespace labels and annotations, as a watch-backed cache provides them (never one API call
/// per request).
pub trait NamespaceLabels: Send + Sync {
    /// The labels of a namespace, `None` when the namespace is unknown.
    fn labels(&self, namespace: &str) -> Option<BTreeMap<String, String>>;
    /// The annotations of a namespace (the tenant policy), `None` when unknown or none.
    fn annotations(&self, _namespace: &str) -> Option<BTreeMap<String, String>> {
        None
    }
    /// Whether the cache has completed its initial list (drives `/readyz`).
    fn synced(&self) -> bool;
    /// The policy of a namespace: its labels over the defaults, its annotations' tenant policy.
    /// Caches override this to read them in place instead of copying them.
    fn policy(&self, namespace: &str, defaults: &Defaults) -> NamespacePolicy {
        annotated_policy(
            self.labels(namespace).as_ref(),
            self.annotations(namespace).as_ref(),
            defaults,
        )
    }
}

/// Labels and annotations of one namespace.
#[derive(Debug, Default, Clone)]
struct Metadata {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// Labels held in memory: for tests, and for running without API access (defaults only).
#[derive(Debug, Default)]
pub struct StaticNamespaces {
    namespaces: RwLock<HashMap<String, Metadata>>,
}

impl StaticNamespaces {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) the labels of a namespace, as a watch event would; it then has no
    /// annotations.
    pub fn set(&self, namespace: &str, labels: BTreeMap<String, String>) {
        self.set_metadata(namespace, labels, BTreeMap::new());
    }

    /// Sets (or replaces) the labels and annotations of a namespace, as a watch event would.
    pub fn set_metadata(
        &self,
        namespace: &str,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) {
        self.namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                namespace.to_owned(),
                Metadata {
                    labels,
                    annotations,
                },
            );
    }
}

impl NamespaceLabels for StaticNamespaces {
    fn labels(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        self.namespaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(namespace)
            .map(|m| m.labels.clone())
    }

    fn annotations(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        self.namespaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(namespace)
            .map(|m| m.annotations.clone())
    }

    fn synced(&self) -> bool {
        true
    }

    fn policy(&self, namespace: &str, defaults: &Defaults) -> NamespacePolicy {
        let namespaces = self
            .namespaces
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let m = namespaces.get(namespace);
        annotated_policy(m.map(|m| &m.labels), m.map(|m| &m.annotations), defaults)
    }
}

/// `privileged` (nothing enforced) or a Pod Security level.
pub fn parse_level(s: &str) -> Result<Option<Level>, haven_pss::ParseLevelError> {
    match s {
        "privileged" => Ok(None),
        other => other.parse::<Level>().map(Some),
    }
}

/// A group mode that is none of off, warn, audit, enforce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode `{0}` (expected off, warn, audit or enforce)")]
pub struct UnknownMode(pub String);

/// How strongly a Haven rule group applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupMode {
    Off,
    Warn,
    Audit,
    Enforce,
}

impl GroupMode {
    pub fn parse(s: &str) -> Result<Self, UnknownMode> {
        match s {
            "off" => Ok(Self::Off),
            "warn" => Ok(Self::Warn),
            "audit" => Ok(Self::Audit),
            "enforce" => Ok(Self::Enforce),
            other => Err(UnknownMode(other.to_owned())),
        }
    }
}

/// What one mode (enforce, audit or warn) checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModePolicy {
    pub pss: Option<(Level, Version)>,
    pub haven: bool,
    pub plus: bool,
}

impl ModePolicy {
    pub fn is_empty(&self) -> bool {
        self.pss.is_none() && !self.haven && !self.plus
    }

    /// `restricted:v1.37` (+haven, +plus), for messages.
    pub fn describe(&self) -> String {
        let mut s = match self.pss {
            Some((l, v)) => format!("{l}:{v}"),
            None => "privileged".to_owned(),
        };
        if self.haven {
            s.push_str("+haven");
        }
        if self.plus {
            s.push_str("+plus");
        }
        s
    }
}

/// The three modes of a namespace, and what its tenant may claim (compared by the Haven+
/// group's rules in whichever mode that group runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: ModePolicy,
    pub audit: ModePolicy,
    pub warn: ModePolicy,
    pub tenant: TenantPolicy,
}

/// Reads a namespace's labels over the defaults, with the tenant policy of a namespace without
/// annotations ([`annotated_policy`] reads both). An invalid label value falls back to
/// `restricted:latest`, the way Pod Security Admission treats invalid values (fail closed).
pub fn namespace_policy(
    labels: Option<&BTreeMap<String, String>>,
    defaults: &Defaults,
) -> NamespacePolicy {
    let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
    policy_from(label, defaults)
}

/// [`namespace_policy`] of the labels, and the tenant policy of the annotations.
pub fn annotated_policy(
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
    defaults: &Defaults,
) -> NamespacePolicy {
    NamespacePolicy {
        tenant: tenant_policy(annotations),
        ..namespace_policy(labels, defaults)
    }
}

/// The tenant policy of a namespace's annotations (`haven_rules::tenant`'s keys).
pub fn tenant_policy(annotations: Option<&BTreeMap<String, String>>) -> TenantPolicy {
    TenantPolicy::from_annotations(|key| annotations.and_then(|a| a.get(key)).map(String::as_str))
}

/// `pod-security.kubernetes.io/<mode>` and `…/<mode>-version`, spelled out so that reading a
/// policy allocates nothing.
const PSA_KEYS: [(&str, &str); 3] = [
    (
        "pod-security.kubernetes.io/enforce",
        "pod-security.kubernetes.io/enforce-version",
    ),
    (
        "pod-security.kubernetes.io/audit",
        "pod-security.kubernetes.io/audit-version",
    ),
    (
        "pod-security.kubernetes.io/warn",
        "pod-security.kubernetes.io/warn-version",
    ),
];

/// [`namespace_policy`] over any label lookup, with the tenant policy of a namespace without
/// annotations.
pub fn policy_from<'l>(
    label: impl Fn(&str) -> Option<&'l str>,
    defaults: &Defaults,
) -> NamespacePolicy {
    let pss = |(level_key, version_key): (&str, &str),
               default_level: &str,
               default_version: &str|
     -> Option<(Level, Version)> {
        let level = label(level_key).unwrap_or(default_level);
        let version = label(version_key).unwrap_or(default_version);
        let level = parse_level(level).unwrap_or(Some(Level::Restricted));
        let version = version.parse::<Version>().unwrap_or(Version::LATEST);
        level.map(|l| (l, version))
    };
    let group = |key: &str, default: &str| {
        label(key)
            .map_or_else(|| GroupMode::parse(default), GroupMode::parse)
            .unwrap_or(GroupMode::Enforce)
    };
    let haven = group(HAVEN_LABEL, &defaults.haven);
    let plus = group(PLUS_LABEL, &defaults.plus);
    let mode = |pss, which: GroupMode| ModePolicy {
        pss,
        haven: haven == which,
        plus: plus == which,
    };
    NamespacePolicy {
        enforce: mode(
            pss(PSA_KEYS[0], &defaults.enforce, &defaults.enforce_version),
            GroupMode::Enforce,
        ),
        audit: mode(
            pss(PSA_KEYS[1], &defaults.audit, &defaults.audit_version),
            GroupMode::Audit,
        ),
        warn: mode(
            pss(PSA_KEYS[2], &defaults.warn, &defaults.warn_version),
            GroupMode::Warn,
        ),
        tenant: tenant_policy(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn labels_override_defaults_like_pod_security_admission() {
        let d = Defaults::default();
        let p = namespace_policy(None, &d);
        assert_eq!(p.enforce.pss, Some((Level::Restricted, Version::LATEST)));
        assert!(!p.enforce.haven);
        let l = labels(&[
            ("pod-security.kubernetes.io/enforce", "baseline"),
            ("pod-security.kubernetes.io/enforce-version", "v1.25"),
            ("pod-security.kubernetes.io/warn", "privileged"),
            (HAVEN_LABEL, "enforce"),
            (PLUS_LABEL, "warn"),
        ]);
        let p = namespace_policy(Some(&l), &d);
        assert_eq!(p.enforce.pss, Some((Level::Baseline, Version::new(25))));
        assert_eq!(p.warn.pss, None);
        assert!(p.enforce.haven && !p.enforce.plus && p.warn.plus);
        assert_eq!(p.enforce.describe(), "baseline:v1.25+haven");
        // Invalid values fail closed.
        let l = labels(&[("pod-security.kubernetes.io/enforce", "strict")]);
        assert_eq!(
            namespace_policy(Some(&l), &d).enforce.pss,
            Some((Level::Restricted, Version::LATEST))
        );
    }
}
