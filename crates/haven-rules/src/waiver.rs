//! Waivers: accepted exceptions, from a waiver file or from an annotation on the object.
//!
//! A waived finding stays in every output, marked with the reason; it only stops blocking.
//! An expired waiver waives nothing and is itself reported, so exceptions cannot rot silently.

use std::collections::HashMap;

use haven_model::waiver::{Waiver, WaiverList, WaiverPolicy};
use haven_model::{
    Finding, InputError, Location, Object, ObjectRef, Severity, WaiverMark, WaiverSource,
};
use jiff::civil::Date;

use crate::registry::{self, WAIVER_EXPIRED};

pub use haven_model::waiver::glob;

/// Annotation prefix: `waive.haven.commonground.nl/<rule-id>: <reason>`.
pub const ANNOTATION_PREFIX: &str = "waive.haven.commonground.nl/";

/// A parsed waiver file (the one format shared with `haven check`: [`haven_model::waiver`]).
pub type WaiverFile = WaiverList;
/// One entry of a waiver file.
pub type WaiverRule = Waiver;

/// Reads a `haven app check --waivers` file: rules by id or pattern, objects by kind,
/// namespace, name and container, expiry optional. Errors name the file, line and field.
pub fn parse_waiver_file(file: &str, text: &str) -> Result<WaiverFile, Vec<InputError>> {
    let ids: Vec<&str> = registry::rules().iter().map(|r| r.id).collect();
    WaiverList::parse(
        file,
        text,
        &WaiverPolicy {
            ids: &ids,
            noun: "rule",
            listed_by: "see `haven rules`",
            selectors: true,
            expiry_required: false,
        },
    )
}

fn matches(w: &Waiver, f: &Finding) -> bool {
    glob(&w.rule, f.rule)
        && w.kind.as_deref().is_none_or(|k| k == f.object.kind)
        && w.namespace
            .as_deref()
            .is_none_or(|n| Some(n) == f.object.namespace.as_deref())
        && w.name.as_deref().is_none_or(|n| glob(n, &f.object.name))
        && w.container
            .as_deref()
            .is_none_or(|c| Some(c) == f.container.as_deref())
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
            if let Some(rule) = file.waivers.iter().find(|r| matches(r, f)) {
                if rule.expired(today) {
                    if !expired_used.iter().any(|(_, r)| std::ptr::eq(*r, rule)) {
                        expired_used.push((file, rule));
                    }
                    continue;
                }
                f.waived = Some(Box::new(WaiverMark {
                    reason: rule.reason.clone(),
                    expires: rule.expires_text(),
                    source: WaiverSource::File {
                        file: file.file.clone(),
                        line: rule.line,
                    },
                    all: rule.all,
                }));
                break;
            }
        }
    }
    // Expired waivers are reported whether or not they still match anything.
    for file in files {
        for rule in file.waivers.iter().filter(|r| r.expired(today)) {
            if crate::engine::silence::is_silenced(WAIVER_EXPIRED) {
                continue;
            }
            let severity = registry::rule(WAIVER_EXPIRED).map_or(Severity::Medium, |r| r.severity);
            let matched = expired_used.iter().any(|(_, r)| std::ptr::eq(*r, rule));
            findings.push(Finding {
                rule: WAIVER_EXPIRED,
                severity,
                message: format!(
                    "waiver for `{}` expired on {} ({}){}",
                    rule.rule,
                    rule.expires_text().unwrap_or_default(),
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
            all: false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_waiver_files_name_rules_by_the_registry() {
        let w = parse_waiver_file(
            "w.yaml",
            "waivers:\n- rule: pss.*\n  reason: legacy\n- rule: haven.scalable\n  name: \"*-beat\"\n  reason: singleton\n",
        )
        .unwrap();
        assert_eq!(w.waivers.len(), 2);
        let e = parse_waiver_file("w.yaml", "waivers:\n- rule: haven.scalabel\n  reason: x\n")
            .unwrap_err();
        assert_eq!(
            e[0].message,
            "unknown rule `haven.scalabel`; did you mean `haven.scalable`? (see `haven rules`)"
        );
        // A check name of `haven check` is not an app check rule.
        assert!(parse_waiver_file("w.yaml", "waivers:\n- rule: hamasters\n  reason: x\n").is_err());
    }
}
