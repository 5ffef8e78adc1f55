//! Pod Security Standards findings, one per offending field, from `haven-pss`.

use crate::engine::{Sink, Workload};
use crate::registry::pss_rule_id;

pub(crate) fn check(w: &Workload<'_>, sink: &mut Sink<'_>) {
    let Some((level, version)) = sink.opts.pss else {
        return;
    };
    for violation in haven_pss::evaluate(level, version, &w.template.meta, &w.template.spec) {
        let rule = pss_rule_id(violation.check);
        for field in &violation.fields {
            let path = w.template.object_path(&field.path);
            let message = format!(
                "{} ({}) [Pod Security {level}:{version}]",
                violation.reason, field.message
            );
            sink.emit(rule, w.object, &path, field.container.as_deref(), message);
        }
        if violation.fields.is_empty() {
            let path = w.template.object_path("spec");
            let message = format!(
                "{} ({}) [Pod Security {level}:{version}]",
                violation.reason, violation.detail
            );
            sink.emit(rule, w.object, &path, None, message);
        }
    }
}
