//! Waivers: accepted exceptions, from a waiver file or from an annotation on the object.
//!
//! A waived finding stays in every output, marked with the reason; it only stops blocking.
//! An expired waiver waives nothing and is itself reported, so exceptions cannot rot silently.

use std::collections::HashMap;

use haven_model::{
    Finding, InputError, InputErrorKind, Location, Object, ObjectRef, Severity, WaiverMark,
    WaiverSource,
};
use jiff::civil::Date;
use serde::Deserialize;

use crate::registry::{self, WAIVER_EXPIRED};

/// Annotation prefix: `waive.haven.commonground.nl/<rule-id>: <reason>`.
pub const ANNOTATION_PREFIX: &str = "waive.haven.commonground.nl/";

/// One entry of a waiver file.
#[derive(Debug, Clone, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiverRule {
    /// Rule id, or a pattern with `*` (`pss.*`).
    pub rule: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// Object name, or a pattern with `*` (`*-beat`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub container: Option<String>,
    /// Why the exception is acceptable. Required.
    pub reason: String,
    /// Last day (YYYY-MM-DD) the waiver applies.
    #[serde(default)]
    pub expires: Option<String>,
    /// 1-based line of the entry in its file.
    #[serde(skip)]
    pub line: u32,
    #[serde(skip)]
    expires_on: Option<Date>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileShape {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    waivers: Vec<WaiverRule>,
}

/// A parsed waiver file.
#[derive(Debug, Clone, Default)]
pub struct WaiverFile {
    pub file: String,
    pub rules: Vec<WaiverRule>,
}

impl WaiverFile {
    /// Parses a waiver file; errors name the file, line and field.
    pub fn parse(file: &str, text: &str) -> Result<Self, InputError> {
        let mut docs = haven_model::parse_stream(file, text);
        if docs.is_empty() {
            return Ok(Self {
                file: file.to_owned(),
                rules: Vec::new(),
            });
        }
        let doc = docs.remove(0)?;
        let shape: FileShape = serde_path_to_error_like(&doc.value).map_err(|(path, msg)| {
            let line = doc.root.position(&path).0;
            InputError::new(
                InputErrorKind::FieldType,
                file,
                line,
                format!("invalid waiver file: {msg}"),
            )
            .with_field(path)
        })?;
        if let Some(kind) = shape.kind.as_deref().filter(|k| *k != "WaiverList") {
            return Err(InputError::new(
                InputErrorKind::NotAnObject,
                file,
                doc.root.position("kind").0,
                format!("expected `kind: WaiverList`, found `{kind}`"),
            )
            .with_field("kind"));
        }
        let _ = shape.api_version;
        let mut rules = shape.waivers;
        for (i, rule) in rules.iter_mut().enumerate() {
            let path = format!("waivers[{i}]");
            rule.line = doc.root.position(&path).0;
            let at = |field: &str, msg: String| {
                let p = format!("{path}.{field}");
                InputError::new(
                    InputErrorKind::FieldType,
                    file,
                    doc.root.position(&p).0,
                    msg,
                )
                .with_field(p)
            };
            if rule.reason.trim().is_empty() {
                return Err(at("reason", "a waiver needs a non-empty `reason`".into()));
            }
            let known = registry::rules().iter().any(|r| glob(&rule.rule, r.id));
            if !known {
                return Err(at(
                    "rule",
                    format!("unknown rule `{}` (see `haven rules`)", rule.rule),
                ));
            }
            if let Some(e) = &rule.expires {
                rule.expires_on = Some(e.parse::<Date>().map_err(|err| {
                    at(
                        "expires",
                        format!("`{e}` is not a date (YYYY-MM-DD): {err}"),
                    )
                })?);
            }
        }
        Ok(Self {
            file: file.to_owned(),
            rules,
        })
    }
}

fn serde_path_to_error_like(value: &serde_json::Value) -> Result<FileShape, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let p = e.path().to_string();
        let msg = e.into_inner().to_string();
        let hint = did_you_mean(&msg)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        (
            if p == "." { String::new() } else { p },
            format!("{msg}{hint}"),
        )
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" messages: the closest known field.
fn did_you_mean(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|c| (strsim::levenshtein(field, c), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| c)
}

/// `*` matches any run of characters (`pss.*`, `*-beat`, `web-*-worker`); nothing else is special.
pub fn glob(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl WaiverRule {
    fn matches(&self, f: &Finding) -> bool {
        glob(&self.rule, f.rule)
            && self.kind.as_deref().is_none_or(|k| k == f.object.kind)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| Some(n) == f.object.namespace.as_deref())
            && self.name.as_deref().is_none_or(|n| glob(n, &f.object.name))
            && self
                .container
                .as_deref()
                .is_none_or(|c| Some(c) == f.container.as_deref())
    }

    fn expired(&self, today: Date) -> bool {
        self.expires_on.is_some_and(|d| d < today)
    }
}

/// Marks waived findings and reports expired waivers. `objects` supply the annotations.
pub fn apply_waivers(
    findings: &mut Vec<Finding>,
    objects: &[Object],
    files: &[WaiverFile],
    today: Date,
) {
    waive_by_annotations(findings, objects);
    apply_waiver_files(findings, files, today);
}

/// Marks the findings that a waiver annotation on one of `objects` covers. Annotations win over
/// waiver files, so run this first.
pub fn waive_by_annotations(findings: &mut [Finding], objects: &[Object]) {
    let annotated = annotation_waivers(objects);
    if annotated.is_empty() {
        return;
    }
    for f in findings.iter_mut().filter(|f| f.waived.is_none()) {
        f.waived = annotation_waiver(f, &annotated).map(Box::new);
    }
}

/// Marks the findings that a waiver file covers (findings already waived by an annotation stay
/// as they are) and reports every expired waiver.
pub fn apply_waiver_files(findings: &mut Vec<Finding>, files: &[WaiverFile], today: Date) {
    let mut expired_used: Vec<(&WaiverFile, &WaiverRule)> = Vec::new();
    for f in findings.iter_mut().filter(|f| f.waived.is_none()) {
        for file in files {
            if let Some(rule) = file.rules.iter().find(|r| r.matches(f)) {
                if rule.expired(today) {
                    if !expired_used.iter().any(|(_, r)| std::ptr::eq(*r, rule)) {
                        expired_used.push((file, rule));
                    }
                    continue;
                }
                f.waived = Some(Box::new(WaiverMark {
                    reason: rule.reason.clone(),
                    expires: rule.expires.clone(),
                    source: WaiverSource::File {
                        file: file.file.clone(),
                        line: rule.line,
                    },
                }));
                break;
            }
        }
    }
    // Expired waivers are reported whether or not they still match anything.
    for file in files {
        for rule in file.rules.iter().filter(|r| r.expired(today)) {
            let severity = registry::rule(WAIVER_EXPIRED).map_or(Severity::Medium, |r| r.severity);
            let matched = expired_used.iter().any(|(_, r)| std::ptr::eq(*r, rule));
            findings.push(Finding {
                rule: WAIVER_EXPIRED,
                severity,
                message: format!(
                    "waiver for `{}` expired on {} ({}){}",
                    rule.rule,
                    rule.expires.as_deref().unwrap_or_default(),
                    rule.reason,
                    if matched {
                        "; the findings it covered count again"
                    } else {
                        ""
                    }
                ),
                object: ObjectRef {
                    api_version: "haven.commonground.nl/v1alpha1".into(),
                    kind: "Waiver".into(),
                    namespace: rule.namespace.clone(),
                    name: format!(
                        "{}{}",
                        rule.kind
                            .as_deref()
                            .map(|k| format!("{k}/"))
                            .unwrap_or_default(),
                        rule.name.as_deref().unwrap_or("*")
                    ),
                }
                .into(),
                container: rule.container.clone(),
                path: String::new(),
                location: Location {
                    file: file.file.as_str().into(),
                    line: rule.line,
                    column: 1,
                    document_line: 1,
                },
                waived: None,
            });
        }
    }
}

/// Waiver annotations of every object that has any, keyed by where the object is written, so
/// that waiving stays one hash lookup per finding.
type AnnotationKey<'o> = (&'o str, u32, &'o str, &'o str);

/// `waive.haven.commonground.nl/<rule>` annotations on an object or on its pod template (pods
/// created by a controller carry the template's annotations at admission, so both count).
fn annotation_waivers(objects: &[Object]) -> HashMap<AnnotationKey<'_>, Vec<(&str, &str, &str)>> {
    let mut out: HashMap<AnnotationKey<'_>, Vec<(&str, &str, &str)>> = HashMap::new();
    for object in objects {
        let template = haven_model::WorkloadKind::of(object)
            .and_then(|k| {
                object.get(&haven_model::path::join(
                    k.pod_path(),
                    "metadata.annotations",
                ))
            })
            .and_then(serde_json::Value::as_object);
        let found: Vec<(&str, &str, &str)> = [object.annotations(), template]
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|(key, value)| {
                let rule = key.strip_prefix(ANNOTATION_PREFIX)?;
                let reason = value.as_str()?.trim();
                (!reason.is_empty()).then_some((rule, reason, key.as_str()))
            })
            .collect();
        if !found.is_empty() {
            let doc_line = object.location("").document_line;
            out.entry((
                &*object.file,
                doc_line,
                object.kind.as_str(),
                object.name.as_str(),
            ))
            .or_default()
            .extend(found);
        }
    }
    out
}

fn annotation_waiver(
    f: &Finding,
    annotated: &HashMap<AnnotationKey<'_>, Vec<(&str, &str, &str)>>,
) -> Option<WaiverMark> {
    let key = (
        &*f.location.file,
        f.location.document_line,
        f.object.kind.as_str(),
        f.object.name.as_str(),
    );
    annotated
        .get(&key)?
        .iter()
        .find(|(rule, ..)| glob(rule, f.rule))
        .map(|(_, reason, key)| WaiverMark {
            reason: (*reason).to_owned(),
            expires: None,
            source: WaiverSource::Annotation {
                key: (*key).to_owned(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("pss.*", "pss.privileged"));
        assert!(glob("*-beat", "demo-worker-beat-beat"));
        assert!(glob("web-*-worker", "web-a-worker"));
        assert!(!glob("web-*-worker", "web-worker"));
        assert!(glob("exact", "exact") && !glob("exact", "exact2"));
        assert!(glob("*", "anything"));
    }

    #[test]
    fn suggests_the_closest_field() {
        assert_eq!(
            did_you_mean("unknown field `expire`, expected one of `rule`, `reason`, `expires`"),
            Some("expires")
        );
        assert_eq!(
            did_you_mean("unknown field `zzzzzzzz`, expected one of `rule`"),
            None
        );
    }
}
