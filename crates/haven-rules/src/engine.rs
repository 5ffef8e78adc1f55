//! Runs every enabled rule over a set of objects.

use std::sync::Arc;

use haven_model::workload::pod_template;
use haven_model::{Finding, InputError, Object, ObjectRef, PodTemplate, RuleScope, WorkloadKind};

use crate::index::AppIndex;

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
    /// Which image tags `plus.image-tag` takes as moving.
    pub tags: crate::image::TagPolicy,
    /// Domains whose hosts are internal-only (`--internal-domain`): the `nl.*` rules of Dutch
    /// law for public web services leave them out, as they do `*.svc`, `*.cluster.local`,
    /// `*.internal`, `*.local` and `localhost`.
    pub internal_domains: Vec<String>,
    /// What a tenant may claim (`plus.image-registry`, `plus.service-load-balancer`,
    /// `plus.hostname`): from a namespace's annotations at admission, from flags in
    /// `haven app check`. The default restricts nothing.
    pub tenant: crate::tenant::TenantPolicy,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            pss: Some((haven_pss::Level::Restricted, haven_pss::Version::LATEST)),
            groups: Groups::default(),
            scope: RuleScope::Application,
            skip: Vec::new(),
            tags: Default::default(),
            internal_domains: Vec::new(),
            tenant: Default::default(),
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

/// A test-only switch that makes one rule never fire, as a guard on its id in its own code
/// would. `rule_tests` silences each rule in turn and requires some case to fail, so no rule
/// can be broken without a test noticing. Outside `cfg(test)` it is a constant `false`: the
/// shipped binary has no way to turn a rule off besides `CheckOptions::skip`.
pub(crate) mod silence {
    #[cfg(test)]
    thread_local! {
        static SILENCED: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
    }

    /// Whether `rule`'s findings are being dropped.
    #[cfg(test)]
    pub(crate) fn is_silenced(rule: &str) -> bool {
        SILENCED.with(|s| s.get() == Some(rule))
    }

    #[cfg(not(test))]
    #[inline(always)]
    pub(crate) fn is_silenced(_rule: &str) -> bool {
        false
    }

    /// Runs `f` with `rule` silenced on this thread (checks run on their caller's thread).
    #[cfg(test)]
    pub(crate) fn with<R>(rule: &'static str, f: impl FnOnce() -> R) -> R {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                SILENCED.with(|s| s.set(None));
            }
        }
        SILENCED.with(|s| s.set(Some(rule)));
        let _reset = Reset;
        f()
    }
}

/// Collects findings; shared by all rule modules.
pub(crate) struct Sink<'o> {
    pub opts: &'o CheckOptions,
    pub findings: Vec<Finding>,
    /// The reference of the object the last finding was on: the findings of one object arrive
    /// together and share it.
    last_reference: Option<Arc<ObjectRef>>,
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
        if !self.opts.is_enabled(rule) || silence::is_silenced(rule) {
            return;
        }
        let severity = registry::rule(rule).map_or(haven_model::Severity::High, |r| r.severity);
        let reference = self.reference(object);
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

    /// `object`'s reference (without a namespace for cluster-scoped kinds), shared with the
    /// previous finding when that was on the same object.
    fn reference(&mut self, object: &Object) -> Arc<ObjectRef> {
        let namespace = object
            .namespace
            .as_deref()
            .filter(|_| object.is_namespaced());
        if let Some(last) = &self.last_reference
            && last.name == object.name
            && last.kind == object.kind
            && last.api_version == object.api_version
            && last.namespace.as_deref() == namespace
        {
            return Arc::clone(last);
        }
        let mut reference = object.reference();
        if namespace.is_none() {
            reference.namespace = None;
        }
        let reference = Arc::new(reference);
        self.last_reference = Some(Arc::clone(&reference));
        reference
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
    check_in(objects, opts, None)
}

/// [`check`] of objects already in their effective namespaces, `release` being the namespace
/// `--namespace` gave the release (see [`crate::namespace`]).
pub(crate) fn check_in(objects: &[Object], opts: &CheckOptions, release: Option<&str>) -> Outcome {
    let mut run = Run::new(opts);
    let index = (opts.scope == RuleScope::Application).then(|| AppIndex::new(objects, release));
    for object in objects {
        run.object(object, index.as_ref());
    }
    if index.is_some() {
        let workload_kind = objects.iter().any(|o| WorkloadKind::of(o).is_some());
        run.manifests(objects.first(), objects.len(), workload_kind);
    }
    run.finish()
}

/// One check in progress: the findings and errors so far. Shared by [`check`], which has every
/// object at hand, and [`crate::AppCheck`], which reads them one document at a time.
pub(crate) struct Run<'o> {
    pub sink: Sink<'o>,
    pub errors: Vec<InputError>,
    pub workloads: usize,
}

impl<'o> Run<'o> {
    pub fn new(opts: &'o CheckOptions) -> Self {
        Self {
            sink: Sink {
                opts,
                findings: Vec::new(),
                last_reference: None,
            },
            errors: Vec::new(),
            workloads: 0,
        }
    }

    /// Every per-object rule, and with an index the rules that look at the rest of the
    /// application too.
    pub fn object(&mut self, object: &Object, index: Option<&AppIndex<'_>>) {
        let sink = &mut self.sink;
        match pod_template(object) {
            Some(Ok(template)) => {
                let w = Workload { object, template };
                self.workloads += 1;
                crate::pss::check(&w, sink);
                crate::haven::check_workload(&w, sink);
                crate::plus::check_workload(&w, index, sink);
                crate::tenant::check_workload(&w, sink);
                if let Some(ix) = index {
                    crate::haven::check_application_workload(&w, ix, sink);
                    crate::plus::check_application_workload(&w, ix, sink);
                }
            }
            Some(Err(e)) => self.errors.push(e),
            None => {}
        }
        crate::plus::check_object(object, sink);
        crate::tenant::check_object(object, sink);
        crate::nl::check(object, index, sink);
        crate::input::check(object, sink);
    }

    /// The rule on the application as a whole: it ships at least one workload.
    pub fn manifests(&mut self, first: Option<&Object>, objects: usize, workload_kind: bool) {
        crate::haven::check_manifests(
            first,
            objects,
            workload_kind,
            self.workloads,
            &mut self.sink,
        );
    }

    pub fn finish(mut self) -> Outcome {
        sort(&mut self.sink.findings);
        Outcome {
            findings: self.sink.findings,
            errors: self.errors,
            workloads: self.workloads,
        }
    }
}

/// The one ordering of findings every output uses.
///
/// Findings are large; a corpus has hundreds of thousands. So the order is found on indices and
/// each finding is then moved once, instead of at every step of the sort.
pub fn sort(findings: &mut [Finding]) {
    fn key(f: &Finding) -> (u32, u32, u32, &'static str, &str) {
        (
            f.location.document_line,
            f.location.line,
            f.location.column,
            f.rule,
            f.path.as_str(),
        )
    }
    fn cmp(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        // Findings of one file share its name: most comparisons need no string comparison.
        let file = if std::sync::Arc::ptr_eq(&a.location.file, &b.location.file) {
            std::cmp::Ordering::Equal
        } else {
            a.location.file.cmp(&b.location.file)
        };
        file.then_with(|| key(a).cmp(&key(b)))
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| cmp(&findings[a], &findings[b]));
    // Apply the permutation in place, one cycle at a time: position `i` receives the finding
    // at `order[i]`.
    for start in 0..order.len() {
        let mut current = start;
        while order[current] != start {
            let next = order[current];
            findings.swap(current, next);
            order[current] = current;
            current = next;
        }
        order[current] = current;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use haven_model::{Finding, Location, ObjectRef, Severity};

    fn finding(file: &str, line: u32, rule: &'static str, path: &str) -> Finding {
        Finding {
            rule,
            severity: Severity::Low,
            message: format!("{file}:{line} {rule} {path}"),
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: None,
                name: "p".into(),
            }
            .into(),
            container: None,
            path: path.to_owned(),
            location: Location {
                file: file.into(),
                line,
                column: 1,
                document_line: 1,
            },
            waived: None,
        }
    }

    /// Findings of one object share one reference; objects that differ in any part of their
    /// reference (here only the namespace, or only the kind) get their own.
    #[test]
    fn findings_of_one_object_share_its_reference() {
        let pod = |ns: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: {ns}}}\n\
                 spec:\n  containers: [{{name: c, image: web, securityContext: {{privileged: true}}}}]\n"
            )
        };
        let cluster_scoped = "apiVersion: v1\nkind: Namespace\n\
                         metadata: {name: web, namespace: b, labels: {enabled: on}}\n";
        let text = [pod("a"), pod("b"), cluster_scoped.to_owned()].join("---\n");
        let loaded = haven_model::load_objects(haven_model::Origin::File("x.yaml"), &text);
        assert_eq!(loaded.objects.len(), 3);
        let outcome = super::check(&loaded.objects, &super::CheckOptions::default());
        let on = |ns: Option<&str>, kind: &str| -> Vec<&Finding> {
            outcome
                .findings
                .iter()
                .filter(|f| f.object.namespace.as_deref() == ns && f.object.kind == kind)
                .collect()
        };
        let (a, b) = (on(Some("a"), "Pod"), on(Some("b"), "Pod"));
        assert!(a.len() > 1 && b.len() > 1, "{:#?}", outcome.findings);
        assert!(a.iter().all(|f| Arc::ptr_eq(&f.object, &a[0].object)));
        assert!(b.iter().all(|f| Arc::ptr_eq(&f.object, &b[0].object)));
        assert!(!Arc::ptr_eq(&a[0].object, &b[0].object));
        assert_eq!(*a[0].object, loaded.objects[0].reference());
        // A cluster-scoped object's reference has no namespace, even when one is written.
        let namespace = on(None, "Namespace");
        assert!(!namespace.is_empty(), "{:#?}", outcome.findings);
        assert_eq!(namespace[0].object.name, "web");
    }

    /// Rule families, scope and `skip` decide what runs; everything else runs.
    #[test]
    fn options_decide_which_rules_run() {
        use super::{CheckOptions, Groups};
        use haven_model::RuleScope;
        let all = CheckOptions::default();
        let ids = [
            "pss.privileged",
            "haven.containerised",
            "haven.scalable",
            "plus.pdb",
            "plus.image-tag",
            "input.yaml11",
            "other.rule",
        ];
        let enabled = |opts: &CheckOptions| -> Vec<&str> {
            ids.iter().copied().filter(|r| opts.is_enabled(r)).collect()
        };
        assert_eq!(enabled(&all), ids);
        let without = |groups: Groups| CheckOptions {
            groups,
            ..CheckOptions::default()
        };
        let on = Groups::default();
        assert_eq!(
            enabled(&without(Groups { haven: false, ..on })),
            [
                "pss.privileged",
                "plus.pdb",
                "plus.image-tag",
                "input.yaml11",
                "other.rule"
            ]
        );
        assert_eq!(
            enabled(&without(Groups { plus: false, ..on })),
            [
                "pss.privileged",
                "haven.containerised",
                "haven.scalable",
                "input.yaml11",
                "other.rule"
            ]
        );
        assert_eq!(
            enabled(&without(Groups { input: false, ..on })),
            [
                "pss.privileged",
                "haven.containerised",
                "haven.scalable",
                "plus.pdb",
                "plus.image-tag",
                "other.rule"
            ]
        );
        // The object scope (admission) leaves out the rules that need the whole application;
        // a rule the registry does not know is not held back.
        let object = CheckOptions {
            scope: RuleScope::Object,
            ..CheckOptions::default()
        };
        assert_eq!(
            enabled(&object),
            [
                "pss.privileged",
                "haven.containerised",
                "plus.image-tag",
                "input.yaml11",
                "other.rule"
            ]
        );
        // `skip`: exact ids, and prefixes ending in `*`.
        let skip = CheckOptions {
            skip: vec![
                "pss.*".into(),
                "plus.pdb".into(),
                "haven.containerised*".into(),
            ],
            ..CheckOptions::default()
        };
        assert_eq!(
            enabled(&skip),
            [
                "haven.scalable",
                "plus.image-tag",
                "input.yaml11",
                "other.rule"
            ]
        );
        assert!(skip.is_enabled("plus.pdbx"), "an exact id is no prefix");
    }

    /// A check counts the workloads whose pod template it decoded, and a family turned off
    /// reports nothing while the others still do.
    #[test]
    fn counts_workloads_and_honours_groups() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: app}\n\
                    spec: {containers: [{name: c, image: nginx}]}\n---\n\
                    apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: app}\n\
                    spec: {template: {spec: {containers: [{name: c, image: nginx}]}}}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\n";
        let loaded = haven_model::load_objects(haven_model::Origin::File("x.yaml"), text);
        let outcome = super::check(&loaded.objects, &super::CheckOptions::default());
        assert_eq!(outcome.workloads, 2);
        let families = |o: &super::Outcome| {
            let mut f: Vec<&str> = o
                .findings
                .iter()
                .map(|f| f.rule.split('.').next().unwrap())
                .collect();
            f.sort();
            f.dedup();
            f
        };
        assert_eq!(families(&outcome), ["haven", "plus", "pss"]);
        let no_plus = super::CheckOptions {
            groups: super::Groups {
                plus: false,
                ..super::Groups::default()
            },
            ..super::CheckOptions::default()
        };
        assert_eq!(
            families(&super::check(&loaded.objects, &no_plus)),
            ["haven", "pss"]
        );
        let no_pss = super::CheckOptions {
            pss: None,
            ..super::CheckOptions::default()
        };
        assert_eq!(
            families(&super::check(&loaded.objects, &no_pss)),
            ["haven", "plus"]
        );
    }

    #[test]
    fn sorts_like_a_plain_stable_sort() {
        let files = ["b.yaml", "a.yaml", "c.yaml"];
        let rules = ["pss.b", "pss.a", "plus.c"];
        // A deterministic shuffle with many equal keys.
        let mut findings: Vec<Finding> = (0..500u32)
            .map(|i| {
                let x = i.wrapping_mul(2_654_435_761) >> 7;
                finding(
                    files[(x % 3) as usize],
                    x % 17,
                    rules[(x / 3 % 3) as usize],
                    if x % 2 == 0 { "spec" } else { "metadata" },
                )
            })
            .collect();
        let mut expected = findings.clone();
        expected.sort_by(|a, b| {
            (&a.location.file, a.location.line, a.rule, &a.path).cmp(&(
                &b.location.file,
                b.location.line,
                b.rule,
                &b.path,
            ))
        });
        super::sort(&mut findings);
        assert_eq!(findings, expected);
    }
}
