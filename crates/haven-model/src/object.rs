//! Kubernetes objects: one per document, or one per item of a `*List` document.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{InputError, InputErrorKind};
use crate::finding::{Location, ObjectRef};
use crate::node::Node;
use crate::path::{self, Step};
use crate::template_lines::{Mapped, TemplateLines};
use crate::yaml::{self, YamlNote};

/// One Kubernetes object with its source position.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    /// `metadata.name`, or `metadata.generateName` followed by `*`.
    pub name: String,
    pub namespace: Option<String>,
    pub value: Value,
    /// Positions of every field, rooted at this object.
    pub root: Node,
    /// The file shown to users (for Helm output: the template that produced the document).
    pub file: Arc<str>,
    /// Subtracted from parsed lines, so that lines of Helm output count from the template's
    /// `# Source:` comment rather than from the top of the rendered stream.
    pub line_shift: u32,
    /// For a chart rendered with its template lines tagged: the template line of each rendered
    /// line, which replaces `line_shift` wherever the tags tell.
    pub template_lines: Option<Arc<TemplateLines>>,
    /// YAML 1.1 readings inside this object (paths relative to the object).
    pub notes: Vec<YamlNote>,
    /// For an object built by kustomize from a base and patches (`haven plus validate` on an
    /// overlay): the patches applied to it, in order, each with its own file and positions.
    /// [`Object::location`] names the patch that last set a field, else the base (`root`).
    pub patches: Option<Arc<[Object]>>,
}

/// Kinds that never live in a namespace, so that `--namespace` is not applied to them.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "VolumeSnapshotClass",
    "ClusterIssuer",
    "GatewayClass",
    "ClusterPolicy",
    "ClusterSecretStore",
    "JWTAuthenticator",
];

/// Whether objects of `kind` never live in a namespace (the cluster-scoped kinds haven meets:
/// built-in ones and those of the platform's CRDs).
pub fn is_cluster_scoped_kind(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

impl Object {
    pub fn is_namespaced(&self) -> bool {
        !is_cluster_scoped_kind(&self.kind)
    }

    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// Where the field at `path` (or its nearest existing parent) is written.
    ///
    /// In a rendered chart with template lines: the template line that spells the field out,
    /// else the nearest enclosing field's (a key above a `toYaml` or an `include`), else the
    /// line that produced it (a document written by a helper); the column where it is the
    /// template's own text, else where the template's first action starts.
    pub fn location(&self, path: &str) -> Location {
        if let Some(patch) = self.patched_at(path) {
            return patch.location(path);
        }
        if let Some(map) = &self.template_lines
            && let Some(found) = self.template_location(map, path)
        {
            return found;
        }
        let (line, column) = self.root.position(path);
        Location {
            file: Arc::clone(&self.file),
            line: line.saturating_sub(self.line_shift).max(1),
            column,
            document_line: self.root.line.saturating_sub(self.line_shift).max(1),
        }
    }

    /// The last patch that set the field at `path`: one that holds the whole path, or a
    /// non-mapping value on the way to it (a merge patch replaces that value whole).
    fn patched_at(&self, path: &str) -> Option<&Object> {
        let patches = self.patches.as_deref()?;
        let steps: Vec<Step<'_>> = path::parse(path).collect();
        if steps.is_empty() {
            return None;
        }
        patches.iter().rev().find(|p| {
            let mut v = &p.value;
            for step in &steps {
                v = match (step, v) {
                    (Step::Key(k), Value::Object(m)) => match m.get(*k) {
                        Some(next) => next,
                        None => return false,
                    },
                    (_, Value::Object(_)) => return false,
                    // A scalar or a list on the way: the patch replaced it whole.
                    _ => return true,
                };
            }
            true
        })
    }

    fn template_location(&self, map: &TemplateLines, path: &str) -> Option<Location> {
        let document_line = map.document_line(self.root.line)?;
        let chain = self.root.positions(path);
        let mut found = None;
        for &(line, col) in chain.iter().rev() {
            match map.line(line) {
                Mapped::Own { line, cols } => {
                    found = Some((line, col.min(cols + 1)));
                    break;
                }
                Mapped::Generated => {}
                Mapped::Unknown => return None,
            }
        }
        let (line, column) = match found {
            Some(f) => f,
            None => {
                let deepest = chain.last().map_or(self.root.line, |p| p.0);
                let (line, cols) = map.producer(deepest)?;
                (line, cols + 1)
            }
        };
        Some(Location {
            file: Arc::clone(&self.file),
            line,
            column,
            document_line,
        })
    }

    /// The value at a field path such as `spec.template.metadata.labels`.
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.value, path)
    }

    pub fn labels(&self) -> Option<&Map<String, Value>> {
        self.get("metadata.labels")?.as_object()
    }

    pub fn annotations(&self) -> Option<&Map<String, Value>> {
        self.get("metadata.annotations")?.as_object()
    }

    /// `group/version` → `group`; core objects (`v1`) have the empty group.
    pub fn api_group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

impl Object {
    /// An object that arrived as JSON (an AdmissionReview) rather than from a file: validated
    /// like a document, with positions that point at the object as a whole.
    pub fn from_json(value: Value, file: &str) -> Result<Object, InputError> {
        let mut out = LoadOutcome::default();
        let mut ctx = ItemContext {
            file: Arc::from(file),
            shift: 0,
            lines: None,
            out: &mut out,
        };
        ctx.push(value, Node::scalar(1, 1), Vec::new(), "");
        if let Some(e) = out.errors.pop() {
            return Err(e);
        }
        out.objects.pop().ok_or_else(|| {
            InputError::new(
                InputErrorKind::NotAnObject,
                file,
                1,
                "an empty List holds no object",
            )
        })
    }
}

/// Walks a field path through a JSON value.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = value;
    for step in path::parse(path) {
        v = match step {
            Step::Key(k) => v.get(k)?,
            Step::Index(i) => v.get(i)?,
        };
    }
    Some(v)
}

/// Everything read from one stream: objects, and the documents that could not be read.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    pub objects: Vec<Object>,
    pub errors: Vec<InputError>,
}

impl LoadOutcome {
    pub fn extend(&mut self, other: LoadOutcome) {
        self.objects.extend(other.objects);
        self.errors.extend(other.errors);
    }
}

/// How a stream's documents map back to files.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// A file (or stdin) as written by the user.
    File(&'a str),
    /// `helm template` output of the chart in `chart_dir`: each document is attributed to the
    /// template named in Helm's `# Source:` comment, each line to its template line where
    /// `lines` tells.
    Helm {
        stream: &'a str,
        chart_dir: &'a str,
        lines: Option<&'a Arc<TemplateLines>>,
    },
}

/// Parses a stream into objects. Broken documents become errors; the others are still returned.
pub fn load_objects(origin: Origin<'_>, text: &str) -> LoadOutcome {
    let stream = StreamName::new(origin);
    let mut out = LoadOutcome::default();
    for doc in yaml::raw_documents(text) {
        load_document(&stream, &doc, &mut out);
    }
    out
}

/// A stream's origin with its display name shared by every object read from it.
#[derive(Debug, Clone)]
pub struct StreamName<'a> {
    origin: Origin<'a>,
    name: Arc<str>,
}

impl<'a> StreamName<'a> {
    pub fn new(origin: Origin<'a>) -> Self {
        let name = match origin {
            Origin::File(f) | Origin::Helm { stream: f, .. } => f,
        };
        Self {
            origin,
            name: Arc::from(name),
        }
    }
}

/// Parses one document of a stream (see [`yaml::raw_documents`]) into `out`: its object, the
/// items of a `*List`, or the error that stops it.
pub fn load_document(stream: &StreamName<'_>, raw: &yaml::RawDocument<'_>, out: &mut LoadOutcome) {
    let doc = match raw.parse(&stream.name) {
        None => return,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            out.errors.push(helm_error(stream.origin, raw, e));
            return;
        }
    };
    let (file, shift, lines) = match (stream.origin, &doc.helm_source) {
        (
            Origin::Helm {
                chart_dir, lines, ..
            },
            Some(src),
        ) => {
            let shift = first_comment_line(&doc.root, doc.line);
            (
                Arc::from(template_file(chart_dir, lines.map(|l| &**l), src)),
                shift,
                lines.cloned(),
            )
        }
        _ => (stream.name.clone(), 0, None),
    };
    let mut ctx = ItemContext {
        file,
        shift,
        lines,
        out,
    };
    ctx.push(doc.value, doc.root, doc.notes, "");
}

/// The template file, below `chart_dir`, of a document whose `# Source:` is `source`: where the
/// chart's files say it is (a subchart's directory need not be named as Helm names the
/// subchart), else the path Helm prints without the chart's name.
fn template_file(chart_dir: &str, lines: Option<&TemplateLines>, source: &str) -> String {
    let rel = lines
        .and_then(|l| l.path_of(source))
        .unwrap_or_else(|| source.split_once('/').map_or(source, |(_, r)| r));
    format!("{}/{rel}", chart_dir.trim_end_matches('/'))
}

/// A document of a rendered chart that is not valid YAML: the error names the template and
/// its line (the line the tags tell, else counted from the `# Source:` comment), and the line
/// of `helm template`'s output it was found at.
fn helm_error(origin: Origin<'_>, raw: &yaml::RawDocument<'_>, mut e: InputError) -> InputError {
    let Origin::Helm {
        chart_dir, lines, ..
    } = origin
    else {
        return e;
    };
    let Some(source) = yaml::helm_source(raw.text) else {
        return e;
    };
    let rendered = e.line;
    let mapped = lines.and_then(|l| match l.line(rendered) {
        Mapped::Own { line, .. } => Some(line),
        Mapped::Generated => l.producer(rendered).map(|(line, _)| line),
        Mapped::Unknown => None,
    });
    let line = mapped.unwrap_or_else(|| {
        let comment = raw
            .text
            .lines()
            .position(|l| l.starts_with("# Source: "))
            .map_or(0, |i| raw.first_line + i as u32);
        rendered.saturating_sub(comment).max(1)
    });
    e.message = format!("{} (line {rendered} of the rendered chart)", e.message);
    e.file = template_file(chart_dir, lines.map(|l| &**l), &source);
    e.line = line;
    e
}
/// The release namespace a chart is rendered with when the user names none, or names
/// `default`: `helm template` would print `default` wherever a template writes
/// `{{ .Release.Namespace }}`, and `namespace: default` written by the chart could then not be
/// told from the namespace the release is installed into. Rendered with this instead, every
/// place the release namespace went is known.
///
/// Seven characters like `default`, so that names built from it and cut to 63 characters
/// (`trunc 63`) are cut where Helm would cut them; a valid namespace, so that templates which
/// check it accept it; with a `-`, which no generated password, base64 or hex text contains.
pub const RELEASE_NAMESPACE_PLACEHOLDER: &str = "hvn-rns";

/// One input stream held in memory: a file, standard input, or a chart's rendered output.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file (or `<stdin>`, or `helm template <chart>`) shown to users.
    pub name: String,
    /// For rendered charts: the chart directory that Helm's `# Source:` paths are relative to.
    pub chart_dir: Option<String>,
    /// For rendered charts whose template lines were tagged: where each line of `text` came from.
    pub template_lines: Option<Arc<TemplateLines>>,
    /// A chart rendered with [`RELEASE_NAMESPACE_PLACEHOLDER`] as its release namespace: that
    /// text in it stands for the namespace the release is installed into.
    pub release_namespace_placeholder: bool,
    pub text: String,
}

impl Source {
    pub fn file(name: impl Into<String>, text: String) -> Self {
        Self {
            name: name.into(),
            chart_dir: None,
            template_lines: None,
            release_namespace_placeholder: false,
            text,
        }
    }

    pub fn origin(&self) -> Origin<'_> {
        match &self.chart_dir {
            Some(chart_dir) => Origin::Helm {
                stream: &self.name,
                chart_dir,
                lines: self.template_lines.as_ref(),
            },
            None => Origin::File(&self.name),
        }
    }

    /// Every object of the stream, and the documents that could not be read.
    pub fn load(&self) -> LoadOutcome {
        load_objects(self.origin(), &self.text)
    }
}

/// Reads a source's text again, for a check that let go of it between its passes (a large input
/// then needs memory for one file's text at a time, not for all of them).
pub trait SourceText {
    /// The text of `source` (whose own `text` is empty by now) exactly as it was first read, or
    /// an error naming the source when it cannot be read or has changed since.
    fn text(&mut self, source: &Source) -> Result<String, InputError>;
}

/// Lines of Helm output are counted from the `# Source:` comment, which sits just above the
/// first line of the document's content.
fn first_comment_line(root: &Node, doc_line: u32) -> u32 {
    root.line.min(doc_line).saturating_sub(1)
}

struct ItemContext<'o> {
    file: Arc<str>,
    shift: u32,
    lines: Option<Arc<TemplateLines>>,
    out: &'o mut LoadOutcome,
}

impl ItemContext<'_> {
    /// The line shown for rendered line `line`.
    fn shown_line(&self, line: u32) -> u32 {
        let mapped = self.lines.as_ref().and_then(|l| match l.line(line) {
            Mapped::Own { line, .. } => Some(line),
            Mapped::Generated => l.producer(line).map(|(line, _)| line),
            Mapped::Unknown => None,
        });
        mapped.unwrap_or_else(|| line.saturating_sub(self.shift).max(1))
    }

    fn error(&mut self, line: u32, kind: InputErrorKind, field: &str, msg: String) {
        let mut e = InputError::new(kind, &self.file, self.shown_line(line), msg);
        if !field.is_empty() {
            e = e.with_field(field);
        }
        self.out.errors.push(e);
    }

    /// Adds an object, expanding `*List` documents into their items.
    fn push(&mut self, value: Value, root: Node, notes: Vec<YamlNote>, prefix: &str) {
        let line = root.line;
        let Value::Object(map) = &value else {
            self.error(
                line,
                InputErrorKind::NotAnObject,
                prefix,
                format!("document is a {}, not a Kubernetes object (a mapping with apiVersion and kind)", type_name(&value)),
            );
            return;
        };
        let kind = match map.get("kind") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            Some(other) => {
                let (l, _) = root.position("kind");
                let msg = format!(
                    "`kind` must be a non-empty string, found {}",
                    type_name(other)
                );
                self.error(
                    l,
                    InputErrorKind::NotAnObject,
                    &path::join(prefix, "kind"),
                    msg,
                );
                return;
            }
            None => {
                self.error(
                    line,
                    InputErrorKind::NotAnObject,
                    prefix,
                    "not a Kubernetes object: `kind` is missing".into(),
                );
                return;
            }
        };
        let api_version = match map.get("apiVersion") {
            Some(Value::String(v)) if !v.is_empty() => v.clone(),
            other => {
                let (l, _) = root.position("apiVersion");
                let found = other.map_or("nothing".to_owned(), type_name);
                let msg =
                    format!("`apiVersion` must be a non-empty string, found {found} (kind {kind})");
                self.error(
                    l,
                    InputErrorKind::NotAnObject,
                    &path::join(prefix, "apiVersion"),
                    msg,
                );
                return;
            }
        };
        if kind.ends_with("List") && map.contains_key("items") {
            self.push_items(value, root, notes, prefix);
            return;
        }
        if let Some(msg) = unknown_builtin_kind(&api_version, &kind) {
            let (l, _) = root.position("kind");
            self.error(
                l,
                InputErrorKind::UnknownKind,
                &path::join(prefix, "kind"),
                msg,
            );
            return;
        }
        let metadata = match map.get("metadata") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                let (l, _) = root.position("metadata");
                let msg = format!("`metadata` must be a mapping, found {}", type_name(other));
                self.error(
                    l,
                    InputErrorKind::FieldType,
                    &path::join(prefix, "metadata"),
                    msg,
                );
                return;
            }
        };
        let text_field = |field: &'static str| -> Result<Option<String>, NotAString> {
            let key = field.strip_prefix("metadata.").unwrap_or(field);
            match metadata.and_then(|m| m.get(key)) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(NotAString {
                    field,
                    found: type_name(other),
                }),
            }
        };
        let (name, namespace, generate) = match (
            text_field("metadata.name"),
            text_field("metadata.namespace"),
            text_field("metadata.generateName"),
        ) {
            (Ok(n), Ok(ns), Ok(g)) => (n, ns, g),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                let (field, m) = (e.field, e.to_string());
                let (l, _) = root.position(field);
                self.error(l, InputErrorKind::FieldType, &path::join(prefix, field), m);
                return;
            }
        };
        let name = name
            .or_else(|| generate.map(|g| format!("{g}*")))
            .unwrap_or_else(|| "<unnamed>".to_owned());
        self.out.objects.push(Object {
            api_version,
            kind,
            name,
            namespace,
            value,
            root,
            file: self.file.clone(),
            line_shift: self.shift,
            template_lines: self.lines.clone(),
            notes,
            patches: None,
        });
    }

    fn push_items(&mut self, value: Value, root: Node, notes: Vec<YamlNote>, prefix: &str) {
        let line = root.position("items").0;
        let Value::Object(mut map) = value else {
            return;
        };
        let Some(Value::Array(items)) = map.remove("items") else {
            self.error(
                line,
                InputErrorKind::FieldType,
                &path::join(prefix, "items"),
                "`items` must be a list".into(),
            );
            return;
        };
        let nodes = root.into_items("items");
        for (i, (item, node)) in items.into_iter().zip(nodes).enumerate() {
            let item_prefix = format!("items[{i}]");
            let item_notes = notes
                .iter()
                .filter_map(|n| {
                    let rest = n.path.strip_prefix(&item_prefix)?;
                    let rest = rest.strip_prefix('.').unwrap_or(rest);
                    Some(YamlNote {
                        path: rest.to_owned(),
                        ..n.clone()
                    })
                })
                .collect();
            let full = path::join(prefix, &item_prefix);
            self.push(item, node, item_notes, &full);
        }
    }
}

/// Kinds served by the built-in API groups (Kubernetes 1.37). Custom resources live in other
/// groups and are accepted as they are; a kind unknown to a built-in group is a typo the API
/// server would reject.
const BUILTIN_KINDS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    (
        "apps",
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    ("batch", &["CronJob", "Job"]),
    ("autoscaling", &["HorizontalPodAutoscaler"]),
    ("policy", &["Eviction", "PodDisruptionBudget"]),
    (
        "networking.k8s.io",
        &[
            "IPAddress",
            "Ingress",
            "IngressClass",
            "NetworkPolicy",
            "ServiceCIDR",
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    (
        "storage.k8s.io",
        &[
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "StorageClass",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    ("scheduling.k8s.io", &["PriorityClass"]),
    ("coordination.k8s.io", &["Lease", "LeaseCandidate"]),
    ("discovery.k8s.io", &["EndpointSlice"]),
    (
        "admissionregistration.k8s.io",
        &[
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ValidatingWebhookConfiguration",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["APIService"]),
    ("node.k8s.io", &["RuntimeClass"]),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    ("events.k8s.io", &["Event"]),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    (
        "resource.k8s.io",
        &[
            "DeviceClass",
            "ResourceClaim",
            "ResourceClaimTemplate",
            "ResourceSlice",
        ],
    ),
    (
        "extensions",
        &[
            "DaemonSet",
            "Deployment",
            "Ingress",
            "NetworkPolicy",
            "ReplicaSet",
        ],
    ),
];

/// An explanation when `kind` does not exist in the built-in group of `api_version`.
fn unknown_builtin_kind(api_version: &str, kind: &str) -> Option<String> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let (_, kinds) = BUILTIN_KINDS.iter().find(|(g, _)| *g == group)?;
    if kinds.contains(&kind) {
        return None;
    }
    let best = crate::suggest::did_you_mean(kind, kinds.iter())
        .map(|k| format!("; did you mean `{k}`?"))
        .or_else(|| {
            BUILTIN_KINDS
                .iter()
                .find(|(_, ks)| ks.contains(&kind))
                .map(|(g, _)| {
                    format!(
                        "; `{kind}` belongs to `{}`",
                        if g.is_empty() {
                            "v1".to_owned()
                        } else {
                            format!("{g}/v1")
                        }
                    )
                })
        })
        .unwrap_or_default();
    let shown = if group.is_empty() {
        "the core API (v1)".to_owned()
    } else {
        format!("API group `{group}`")
    };
    Some(format!(
        "unknown kind `{kind}` in {shown} (apiVersion `{api_version}`){best}"
    ))
}

fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
    .to_owned()
}

/// A metadata field that must be a string and is not.
#[derive(Debug, thiserror::Error)]
#[error("`{field}` must be a string, found {found}")]
struct NotAString {
    field: &'static str,
    found: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_into_items_with_their_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: b\n    namespace: ns\n";
        let out = load_objects(Origin::File("l.yaml"), text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.objects.len(), 2);
        assert_eq!(out.objects[1].name, "b");
        assert_eq!(out.objects[1].namespace.as_deref(), Some("ns"));
        assert_eq!(out.objects[1].location("metadata.name").line, 11);
        assert_eq!(out.objects[1].location("").document_line, 8);
    }

    #[test]
    fn bad_documents_do_not_hide_good_ones() {
        let text = "kind: Service\n---\n- a\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x]\n";
        let out = load_objects(Origin::File("m.yaml"), text);
        assert_eq!(out.objects.len(), 1);
        assert_eq!(out.objects[0].name, "ok");
        let lines: Vec<_> = out.errors.iter().map(|e| (e.line, e.kind)).collect();
        assert_eq!(
            lines,
            [
                (1, InputErrorKind::NotAnObject),
                (3, InputErrorKind::NotAnObject),
                (12, InputErrorKind::FieldType)
            ]
        );
        assert_eq!(out.errors[2].field.as_deref(), Some("metadata.name"));
    }

    #[test]
    fn misspelled_builtin_kinds_are_errors_custom_resources_are_not() {
        let text = "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Service\nmetadata: {name: b}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: c}\n";
        let out = load_objects(Origin::File("k.yaml"), text);
        assert_eq!(out.objects.len(), 1);
        assert_eq!(out.objects[0].kind, "Widget");
        assert!(
            out.errors[0].message.contains("did you mean `Deployment`"),
            "{}",
            out.errors[0].message
        );
        assert!(
            out.errors[1].message.contains("`Service` belongs to `v1`"),
            "{}",
            out.errors[1].message
        );
        assert_eq!(out.errors[1].line, 6);
    }

    #[test]
    fn helm_documents_point_at_their_template() {
        let text = "---\n# Source: app/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
        let out = load_objects(
            Origin::Helm {
                stream: "<helm>",
                chart_dir: "charts/app",
                lines: None,
            },
            text,
        );
        let loc = out.objects[0].location("metadata.name");
        assert_eq!(&*out.objects[0].file, "charts/app/templates/svc.yaml");
        assert_eq!(loc.line, 4);
    }
}
