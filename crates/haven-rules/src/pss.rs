//! Pod Security Standards findings, one per offending field, from `haven-pss`.

use haven_pss::{Level, Version};
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::engine::{Sink, Workload};
use crate::registry::pss_rule_id;

pub(crate) fn check(w: &Workload<'_>, sink: &mut Sink<'_>) {
    let Some((level, version)) = sink.opts.pss else {
        return;
    };
    let t = &w.template;
    pss_findings(
        level,
        version,
        &t.meta,
        &t.spec,
        t.base,
        |rule, path, container, message| {
            sink.emit(rule, w.object, &path, container, message);
        },
    );
}

/// Every Pod Security finding of one pod: its rule id, field path in the object (`base` is the
/// pod's path there, empty for a Pod), container and message, in `haven-pss`'s order.
///
/// The one wording of Pod Security findings: the engine and the admission webhook's fast path
/// both make their findings here.
pub fn pss_findings(
    level: Level,
    version: Version,
    meta: &ObjectMeta,
    spec: &PodSpec,
    base: &str,
    mut emit: impl FnMut(&'static str, String, Option<&str>, String),
) {
    let suffix = format!(") [Pod Security {level}:{version}]");
    for violation in haven_pss::evaluate(level, version, meta, spec) {
        let rule = pss_rule_id(violation.check);
        let message = |detail: &str| {
            let mut m =
                String::with_capacity(violation.reason.len() + detail.len() + 2 + suffix.len());
            m.push_str(&violation.reason);
            m.push_str(" (");
            m.push_str(detail);
            m.push_str(&suffix);
            m
        };
        for field in &violation.fields {
            emit(
                rule,
                haven_model::path::join(base, &field.path),
                field.container.as_deref(),
                message(&field.message),
            );
        }
        if violation.fields.is_empty() {
            emit(
                rule,
                haven_model::path::join(base, "spec"),
                None,
                message(&violation.detail),
            );
        }
    }
}
