//! Runs every enabled rule over a set of objects.

use haven_model::workload::pod_template;
use haven_model::{Finding, InputError, Object, PodTemplate, RuleScope};

use crate::registry;

/// Which rule families run besides Pod Security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Groups {
    /// The Haven application landing requirements (`haven.*`).
    pub haven: bool,
    /// The Haven+ platform expectations (`plus.*`).
    pub plus: bool,
    /// Notes on how the input was read (`input.*`).
    pub input: bool,
}

impl Default for Groups {
    fn default() -> Self {
        Self {
            haven: true,
            plus: true,
            input: true,
        }
    }
}

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Pod Security level and version; `None` turns Pod Security off.
    pub pss: Option<(haven_pss::Level, haven_pss::Version)>,
    pub groups: Groups,
    /// `Object` runs only the rules that need nothing but the object itself (admission);
    /// `Application` runs everything.
    pub scope: RuleScope,
    /// Rule ids to skip; `pss.*` style prefixes end in `*`.
    pub skip: Vec<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            pss: Some((haven_pss::Level::Restricted, haven_pss::Version::LATEST)),
            groups: Groups::default(),
            scope: RuleScope::Application,
            skip: Vec::new(),
        }
    }
}

impl CheckOptions {
    /// Whether a rule runs under these options (group on, scope fits, not skipped).
    pub fn is_enabled(&self, rule: &str) -> bool {
        let group_on = match rule.split_once('.').map_or(rule, |(g, _)| g) {
            "haven" => self.groups.haven,
            "plus" => self.groups.plus,
            "input" => self.groups.input,
            _ => true,
        };
        let scoped = self.scope == RuleScope::Application
            || registry::rule(rule).is_none_or(|r| r.scope == RuleScope::Object);
        group_on
            && scoped
            && !self.skip.iter().any(|s| match s.strip_suffix('*') {
                Some(prefix) => rule.starts_with(prefix),
                None => s == rule,
            })
    }
}

/// An object that runs pods, with its decoded pod template.
#[derive(Debug)]
pub struct Workload<'a> {
    pub object: &'a Object,
    pub template: PodTemplate,
}

impl Workload<'_> {
    /// `spec.replicas` of replicated controllers (default 1); `None` for other kinds.
    pub fn replicas(&self) -> Option<i64> {
        self.template.kind.is_service_controller().then(|| {
            self.object
                .get("spec.replicas")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(1)
        })
    }

    /// The pod template's labels, as written.
    pub fn pod_labels(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.object
            .get(&self.template.object_path("metadata.labels"))?
            .as_object()
    }

    /// The pod template's annotations, as written.
    pub fn pod_annotations(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.object
            .get(&self.template.object_path("metadata.annotations"))?
            .as_object()
    }
}

/// Collects findings; shared by all rule modules.
pub(crate) struct Sink<'o> {
    pub opts: &'o CheckOptions,
    pub findings: Vec<Finding>,
}

impl Sink<'_> {
    /// Records a finding on `object` at `path` unless its rule is disabled.
    pub fn emit(
        &mut self,
        rule: &'static str,
        object: &Object,
        path: &str,
        container: Option<&str>,
        message: String,
    ) {
        if !self.opts.is_enabled(rule) {
            return;
        }
        let severity = registry::rule(rule).map_or(haven_model::Severity::High, |r| r.severity);
        let mut reference = object.reference();
        if !object.is_namespaced() {
            reference.namespace = None;
        }
        self.findings.push(Finding {
            rule,
            severity,
            message,
            object: reference,
            container: container.map(str::to_owned),
            path: path.to_owned(),
            location: object.location(path),
            waived: None,
        });
    }
}

/// What a check found: findings (sorted), the workloads whose pod template could not be
/// decoded, and how many workloads were checked.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub workloads: usize,
}

/// Runs every enabled rule. Each pod template is decoded, checked and dropped in turn, so memory
/// stays that of the objects themselves however many workloads there are.
pub fn check(objects: &[Object], opts: &CheckOptions) -> Outcome {
    let mut sink = Sink {
        opts,
        findings: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut workloads = 0;
    let app = opts.scope == RuleScope::Application;
    let index = app.then(|| crate::index::AppIndex::new(objects));
    for object in objects {
        match pod_template(object) {
            Some(Ok(template)) => {
                let w = Workload { object, template };
                workloads += 1;
                crate::pss::check(&w, &mut sink);
                crate::haven::check_workload(&w, &mut sink);
                crate::plus::check_workload(&w, &mut sink);
                if let Some(ix) = &index {
                    crate::haven::check_application_workload(&w, ix, &mut sink);
                    crate::plus::check_application_workload(&w, ix, &mut sink);
                }
            }
            Some(Err(e)) => errors.push(e),
            None => {}
        }
        crate::plus::check_object(object, &mut sink);
        crate::input::check(object, &mut sink);
    }
    if app {
        crate::haven::check_manifests(objects, workloads, &mut sink);
    }
    sort(&mut sink.findings);
    Outcome {
        findings: sink.findings,
        errors,
        workloads,
    }
}

/// The one ordering of findings every output uses.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            &a.location.file,
            a.location.document_line,
            a.location.line,
            a.location.column,
            a.rule,
            &a.path,
        )
            .cmp(&(
                &b.location.file,
                b.location.document_line,
                b.location.line,
                b.location.column,
                b.rule,
                &b.path,
            ))
    });
}
