//! Kubernetes label selectors, compiled once and matched many times.
//!
//! [`Selector::from_label_selector`] follows apimachinery's `metav1.LabelSelectorAsSelector`:
//! a missing selector selects nothing, an empty one (`{}`) selects everything, `matchLabels`
//! and every `matchExpressions` entry are ANDed, and the same inputs the API server refuses
//! (an unknown operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values, a key
//! or value that is not a valid label) are errors here rather than a silent "no match". The
//! NetworkPolicy evaluator (`haven-netpol`) and the RBAC aggregation (`haven-rbac`) both select
//! with it, so both read selectors the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

/// Labels of an object (`metadata.labels`), as `k8s-openapi` holds them.
pub type Labels = BTreeMap<String, String>;

/// How a requirement compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::In => "In",
            Self::NotIn => "NotIn",
            Self::Exists => "Exists",
            Self::DoesNotExist => "DoesNotExist",
        }
    }
}

/// One condition on one label key (`matchLabels` entries become `In` with one value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: BTreeSet<String>,
}

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let have = labels.get(&self.key);
        match self.operator {
            Operator::In => have.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => !have.is_some_and(|v| self.values.contains(v)),
            Operator::Exists => have.is_some(),
            Operator::DoesNotExist => have.is_none(),
        }
    }
}

/// A compiled label selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Selector {
    /// `None` selects nothing (a missing selector); an empty list selects everything.
    requirements: Option<Vec<Requirement>>,
}

/// Why a selector is not one the API server would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("`{operator}` is not a valid label selector operator (key `{key}`)")]
    UnknownOperator { key: String, operator: String },
    #[error("operator `{operator}` on key `{key}` needs at least one value")]
    ValuesRequired { key: String, operator: &'static str },
    #[error("operator `{operator}` on key `{key}` takes no values")]
    ValuesForbidden { key: String, operator: &'static str },
    #[error("invalid label key `{key}`: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("invalid label value `{value}` for key `{key}`: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: &'static str,
    },
}

impl Selector {
    /// Selects every object (`{}`).
    pub fn everything() -> Self {
        Self {
            requirements: Some(Vec::new()),
        }
    }

    /// Selects no object (a missing selector).
    pub fn nothing() -> Self {
        Self { requirements: None }
    }

    /// Compiles `selector` as `metav1.LabelSelectorAsSelector` does; `None` selects nothing.
    pub fn from_label_selector(selector: Option<&LabelSelector>) -> Result<Self, SelectorError> {
        let Some(selector) = selector else {
            return Ok(Self::nothing());
        };
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            validate_key(key)?;
            validate_value(key, value)?;
            requirements.push(Requirement {
                key: key.clone(),
                operator: Operator::In,
                values: BTreeSet::from([value.clone()]),
            });
        }
        for expr in selector.match_expressions.iter().flatten() {
            let operator = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::UnknownOperator {
                        key: expr.key.clone(),
                        operator: other.to_owned(),
                    });
                }
            };
            validate_key(&expr.key)?;
            let values: BTreeSet<String> = expr.values.iter().flatten().cloned().collect();
            match operator {
                Operator::In | Operator::NotIn if values.is_empty() => {
                    return Err(SelectorError::ValuesRequired {
                        key: expr.key.clone(),
                        operator: operator.as_str(),
                    });
                }
                Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                    return Err(SelectorError::ValuesForbidden {
                        key: expr.key.clone(),
                        operator: operator.as_str(),
                    });
                }
                _ => {}
            }
            for v in &values {
                validate_value(&expr.key, v)?;
            }
            requirements.push(Requirement {
                key: expr.key.clone(),
                operator,
                values,
            });
        }
        requirements.sort();
        requirements.dedup();
        Ok(Self {
            requirements: Some(requirements),
        })
    }

    /// A selector of exact label values (as `matchLabels` alone).
    pub fn from_labels(labels: &Labels) -> Result<Self, SelectorError> {
        Self::from_label_selector(Some(&LabelSelector {
            match_labels: Some(labels.clone()),
            match_expressions: None,
        }))
    }

    /// Parses the string form `kubectl -l` and kustomize's `labelSelector` take (apimachinery's
    /// `labels.Parse`): comma-separated `key`, `!key`, `key=value`, `key==value`, `key!=value`,
    /// `key in (a,b)`, `key notin (a,b)`. The empty string selects everything.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            // A requirement ends at a comma outside parentheses.
            let mut depth = 0usize;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    c == ',' && depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let part = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or("").trim_start();
            requirements.push(parse_requirement(part)?);
        }
        requirements.sort();
        requirements.dedup();
        Ok(Self {
            requirements: Some(requirements),
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        match &self.requirements {
            None => false,
            Some(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }

    /// Whether it selects every object (an empty selector).
    pub fn is_everything(&self) -> bool {
        self.requirements.as_ref().is_some_and(Vec::is_empty)
    }

    pub fn is_nothing(&self) -> bool {
        self.requirements.is_none()
    }

    pub fn requirements(&self) -> &[Requirement] {
        self.requirements.as_deref().unwrap_or_default()
    }
}

/// The selector in the syntax `kubectl -l` reads (`app=web,tier in (a,b),!legacy`); `{}` for
/// everything and `<none>` for nothing.
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(reqs) = &self.requirements else {
            return f.write_str("<none>");
        };
        if reqs.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let values = || r.values.iter().cloned().collect::<Vec<_>>().join(",");
            match r.operator {
                Operator::In if r.values.len() == 1 => write!(f, "{}={}", r.key, values())?,
                Operator::In => write!(f, "{} in ({})", r.key, values())?,
                Operator::NotIn => write!(f, "{} notin ({})", r.key, values())?,
                Operator::Exists => write!(f, "{}", r.key)?,
                Operator::DoesNotExist => write!(f, "!{}", r.key)?,
            }
        }
        Ok(())
    }
}

/// One requirement of the string form (see [`Selector::parse`]).
fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let unknown = |operator: &str| SelectorError::UnknownOperator {
        key: part.to_owned(),
        operator: operator.to_owned(),
    };
    let req =
        |key: &str, operator, values: BTreeSet<String>| -> Result<Requirement, SelectorError> {
            let key = key.trim();
            validate_key(key)?;
            for v in &values {
                validate_value(key, v)?;
            }
            Ok(Requirement {
                key: key.to_owned(),
                operator,
                values,
            })
        };
    if let Some(key) = part.strip_prefix('!') {
        return req(key, Operator::DoesNotExist, BTreeSet::new());
    }
    for (op, operator) in [
        ("!=", Operator::NotIn),
        ("==", Operator::In),
        ("=", Operator::In),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            return req(key, operator, BTreeSet::from([value.trim().to_owned()]));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, set] = words[..] {
        let set = set.trim_start();
        let (operator, list) = if let Some(l) = set.strip_prefix("notin") {
            (Operator::NotIn, l)
        } else if let Some(l) = set.strip_prefix("in") {
            (Operator::In, l)
        } else {
            return Err(unknown(set));
        };
        let list = list.trim();
        let Some(inner) = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
            return Err(unknown(list));
        };
        let values: BTreeSet<String> = inner
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(SelectorError::ValuesRequired {
                key: key.to_owned(),
                operator: operator.as_str(),
            });
        }
        return req(key, operator, values);
    }
    req(part, Operator::Exists, BTreeSet::new())
}

/// apimachinery's `IsQualifiedName`: an optional DNS-subdomain prefix and `/`, then a name of at
/// most 63 characters.
fn validate_key(key: &str) -> Result<(), SelectorError> {
    let bad = |reason| SelectorError::InvalidKey {
        key: key.to_owned(),
        reason,
    };
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 || !is_dns_subdomain(prefix) {
                return Err(bad("the prefix must be a DNS subdomain"));
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err(bad("the name part must not be empty"));
    }
    if name.len() > 63 {
        return Err(bad("the name part must be at most 63 characters"));
    }
    if !is_label_name(name) {
        return Err(bad(
            "the name part must consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric",
        ));
    }
    Ok(())
}

/// apimachinery's `IsValidLabelValue`: empty, or a name of at most 63 characters.
fn validate_value(key: &str, value: &str) -> Result<(), SelectorError> {
    let reason = if value.len() > 63 {
        "must be at most 63 characters"
    } else if !value.is_empty() && !is_label_name(value) {
        "must consist of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
    } else {
        return Ok(());
    };
    Err(SelectorError::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason,
    })
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|part| {
        let b = part.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_string_form() {
        let labels: Labels = [("app", "web"), ("tier", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (text, want) in [
            ("app=web", true),
            ("app==web, tier in (a, b)", true),
            ("app!=web", false),
            ("tier notin (b),!legacy", true),
            ("legacy", false),
            ("", true),
            ("app in (x)", false),
        ] {
            assert_eq!(
                Selector::parse(text).unwrap().matches(&labels),
                want,
                "{text}"
            );
        }
        assert_eq!(
            Selector::parse("app=web,tier in (a,b),!x")
                .unwrap()
                .to_string(),
            "app=web,tier in (a,b),!x"
        );
        assert!(Selector::parse("app in ()").is_err());
        assert!(Selector::parse("app ~ x").is_err());
        assert!(Selector::parse("-bad=x").is_err());
    }
    use serde_json::json;

    fn sel(v: serde_json::Value) -> Result<Selector, SelectorError> {
        let s: LabelSelector = serde_json::from_value(v).unwrap();
        Selector::from_label_selector(Some(&s))
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn missing_selects_nothing_and_empty_selects_everything() {
        let l = labels(&[("app", "web")]);
        assert!(!Selector::from_label_selector(None).unwrap().matches(&l));
        assert!(!Selector::nothing().matches(&Labels::new()));
        let all = sel(json!({})).unwrap();
        assert!(all.is_everything());
        assert!(all.matches(&l) && all.matches(&Labels::new()));
        // `matchLabels: {}` and `matchExpressions: []` are still empty.
        assert!(
            sel(json!({"matchLabels": {}, "matchExpressions": []}))
                .unwrap()
                .is_everything()
        );
    }

    #[test]
    fn operators_follow_apimachinery() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let bare = labels(&[("tier", "back")]);
        let s = |op: &str, values: &[&str]| {
            sel(json!({"matchExpressions": [{"key": "app", "operator": op, "values": values}]}))
                .unwrap()
        };
        assert!(s("In", &["web", "api"]).matches(&web));
        assert!(!s("In", &["api"]).matches(&web));
        assert!(!s("In", &["web"]).matches(&bare), "In needs the key");
        assert!(s("NotIn", &["api"]).matches(&web));
        assert!(!s("NotIn", &["web"]).matches(&web));
        assert!(
            s("NotIn", &["web"]).matches(&bare),
            "NotIn holds without the key"
        );
        assert!(s("Exists", &[]).matches(&web));
        assert!(!s("Exists", &[]).matches(&bare));
        assert!(!s("DoesNotExist", &[]).matches(&web));
        assert!(s("DoesNotExist", &[]).matches(&bare));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = sel(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]
        }))
        .unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "back")])));
        assert!(!s.matches(&labels(&[("tier", "front")])));
        assert_eq!(s.to_string(), "app=web,tier=front");
    }

    #[test]
    fn invalid_selectors_are_refused_as_the_api_server_does() {
        let e = |v| sel(v).unwrap_err();
        assert!(matches!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})),
            SelectorError::UnknownOperator { .. }
        ));
        assert!(matches!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
            SelectorError::ValuesRequired { .. }
        ));
        assert!(matches!(
            e(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})),
            SelectorError::ValuesForbidden { .. }
        ));
        assert!(matches!(
            e(json!({"matchLabels": {"-bad": "x"}})),
            SelectorError::InvalidKey { .. }
        ));
        assert!(matches!(
            e(json!({"matchLabels": {"Example.COM/app": "x"}})),
            SelectorError::InvalidKey { .. }
        ));
        assert!(matches!(
            e(json!({"matchLabels": {"app": "has space"}})),
            SelectorError::InvalidValue { .. }
        ));
        // Valid: prefixed keys, empty values.
        assert!(
            sel(json!({"matchLabels": {"kubernetes.io/metadata.name": "kube-system", "x": ""}}))
                .is_ok()
        );
    }

    #[test]
    fn display_reads_like_kubectl() {
        let s = sel(json!({"matchExpressions": [
            {"key": "b", "operator": "NotIn", "values": ["y", "x"]},
            {"key": "a", "operator": "DoesNotExist"},
            {"key": "c", "operator": "Exists"},
            {"key": "d", "operator": "In", "values": ["1", "2"]}
        ]}))
        .unwrap();
        assert_eq!(s.to_string(), "!a,b notin (x,y),c,d in (1,2)");
        assert_eq!(Selector::everything().to_string(), "{}");
        assert_eq!(Selector::nothing().to_string(), "<none>");
    }
}
