//! The object store behind the fake API server. Objects are kept pre-serialized so a list page
//! is a concatenation of byte slices: the benchmark lists 150,000 pods and must measure the
//! client, not this server.

use crate::resources::{self, ResourceType};
use crate::selector::{FieldSelector, LabelSelector};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::broadcast;

/// How many watch events are kept for replay; older resourceVersions get 410 Expired.
const HISTORY: usize = 10_000;

/// Why an object could not be stored ([`FakeCluster::apply`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("object without apiVersion")]
    NoApiVersion,
    #[error("object without kind")]
    NoKind,
    #[error(
        "unknown kind {kind} in {api_version} (not built in and no CustomResourceDefinition for it)"
    )]
    UnknownKind { kind: String, api_version: String },
    /// Refused as the API server would refuse it.
    #[error("{}", .0.message)]
    Rejected(ApiError),
}

/// A `FakeClusterInfo` `access` field that is not `cluster-admin` or a list of rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("access: expected \"cluster-admin\" or a list of rules")]
    Form,
    #[error("access rule: missing list {0}")]
    MissingList(String),
    #[error("access rule: {0} must hold strings")]
    NotStrings(String),
}

/// Why a fixture could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{path}: cannot read fixture: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Every problem of the fixture, one `file:line: message` each, in file order.
    #[error("{}", .problems.join("\n"))]
    Invalid { problems: Vec<String> },
}

/// An error the API answers with a `Status` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details` of the Status: (kind, name, group).
    pub details: Option<(String, String, String)>,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub(crate) fn not_found(rt: &ResourceType, name: &str) -> Self {
        let qualified = qualified(rt);
        Self {
            details: Some((rt.plural.clone(), name.to_owned(), rt.group.clone())),
            ..Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// The `Status` object Kubernetes sends for this error.
    pub fn status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some((kind, name, group)) = &self.details {
            v["details"] = json!({"name": name, "group": group, "kind": kind});
        }
        v
    }
}

fn qualified(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.plural.clone()
    } else {
        format!("{}.{}", rt.plural, rt.group)
    }
}

/// What the token the tests hand out may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Access {
    /// Everything is allowed.
    #[default]
    ClusterAdmin,
    /// Only what one of the rules allows; everything else is 403 Forbidden.
    Rules(Vec<AccessRule>),
}

/// One RBAC-style rule; `*` is a wildcard in every list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    /// Plural resource names, `pods/status` for subresources.
    pub resources: Vec<String>,
    /// `None`: every namespace and cluster-scoped requests; `Some`: only in these namespaces.
    pub namespaces: Option<Vec<String>>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl AccessRule {
    pub fn new(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Self {
        Self {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            namespaces: None,
        }
    }

    pub fn in_namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = Some(strings(namespaces));
        self
    }

    fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        any(&self.verbs, verb)
            && any(&self.api_groups, group)
            && any(&self.resources, resource)
            && match (&self.namespaces, namespace) {
                (None, _) => true,
                (Some(list), Some(ns)) => list.iter().any(|x| x == ns),
                (Some(_), None) => false,
            }
    }
}

impl Access {
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        match self {
            Access::ClusterAdmin => true,
            Access::Rules(rules) => rules
                .iter()
                .any(|r| r.allows(verb, group, resource, namespace)),
        }
    }

    /// Reads the `access` field of a `FakeClusterInfo` fixture document.
    pub fn from_value(v: &Value) -> Result<Self, AccessError> {
        if v.as_str() == Some("cluster-admin") {
            return Ok(Access::ClusterAdmin);
        }
        let rules = v.as_array().ok_or(AccessError::Form)?;
        let list = |r: &Value, key: &str| -> Result<Vec<String>, AccessError> {
            r[key]
                .as_array()
                .ok_or_else(|| AccessError::MissingList(key.to_owned()))?
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| AccessError::NotStrings(key.to_owned()))
                })
                .collect()
        };
        let mut out = Vec::new();
        for r in rules {
            out.push(AccessRule {
                verbs: list(r, "verbs")?,
                api_groups: list(r, "apiGroups")?,
                resources: list(r, "resources")?,
                namespaces: if r.get("namespaces").is_some() {
                    Some(list(r, "namespaces")?)
                } else {
                    None
                },
            });
        }
        Ok(Access::Rules(out))
    }
}

/// One stored object.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub bytes: Bytes,
    pub labels: BTreeMap<String, String>,
}

/// One watch event, pre-rendered as the line the server streams.
#[derive(Debug)]
pub(crate) struct Event {
    pub rv: u64,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Labels before a MODIFIED event, so a label-selector watch sees objects enter (ADDED)
    /// and leave (DELETED) its selection as the API server reports them.
    pub old_labels: Option<BTreeMap<String, String>>,
    pub event_type: &'static str,
    pub line: Bytes,
    /// The object, for field selectors on other fields than name/namespace.
    pub object: Bytes,
}

/// The first lines of a watch, the resourceVersion they reach, and the live events after it.
pub(crate) type WatchStart = (Vec<Bytes>, u64, broadcast::Receiver<Arc<Event>>);
type Reactor = Arc<dyn Fn(&mut Value) + Send + Sync>;
type AfterCreate = Arc<dyn Fn(&FakeCluster, &Value) + Send + Sync>;
type Key = (String, String);

pub(crate) struct Inner {
    builtin: Vec<ResourceType>,
    /// CRD name → the types it serves.
    crd_types: BTreeMap<String, Vec<ResourceType>>,
    objects: HashMap<Key, BTreeMap<Key, Stored>>,
    pub rv: u64,
    uid_counter: u64,
    history: VecDeque<Arc<Event>>,
    /// Every event with a resourceVersion above this is still in `history`.
    history_floor: u64,
    pub version: Value,
    pub access: Access,
    pub user: String,
    reactors: HashMap<String, Vec<Reactor>>,
    after_create: HashMap<String, Vec<AfterCreate>>,
    /// (namespace, pod) → what `GET .../pods/{name}/log` answers.
    pod_logs: HashMap<Key, String>,
}

impl Inner {
    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.builtin.iter().chain(self.crd_types.values().flatten())
    }

    fn type_for_kind(&self, api_version: &str, kind: &str) -> Option<ResourceType> {
        self.types()
            .find(|t| t.api_version() == api_version && t.kind == kind)
            .cloned()
    }

    fn exists(&self, group: &str, plural: &str, ns: &str, name: &str) -> bool {
        self.objects
            .get(&(group.to_owned(), plural.to_owned()))
            .is_some_and(|m| m.contains_key(&(ns.to_owned(), name.to_owned())))
    }

    /// The stored object, parsed (for read-modify-write under the write lock).
    pub fn current(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        self.objects
            .get(&(rt.group.clone(), rt.plural.clone()))
            .and_then(|m| m.get(&(ns.to_owned(), name.to_owned())))
            .and_then(|s| serde_json::from_slice(&s.bytes).ok())
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.exists("", "namespaces", "", ns)
    }
}

/// The object store: a cheap, clonable handle so tests mutate it while the server runs.
#[derive(Clone)]
pub struct FakeCluster {
    inner: Arc<RwLock<Inner>>,
    events: broadcast::Sender<Arc<Event>>,
}

impl std::fmt::Debug for FakeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.read();
        f.debug_struct("FakeCluster")
            .field("resource_version", &inner.rv)
            .field("kinds", &inner.objects.len())
            .finish()
    }
}

impl Default for FakeCluster {
    fn default() -> Self {
        Self::new()
    }
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn default_version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.4",
        "gitCommit": "74cdb426fd4a2ee3cce1be1c1e8fb5be5ec8fe58",
        "gitTreeState": "clean",
        "buildDate": "2025-08-12T18:19:31Z",
        "goVersion": "go1.24.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What `store` did, to pick the watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Replace,
}

/// Parameters of one list request.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Debug)]
pub(crate) struct ListPage {
    pub items: Vec<Bytes>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    use base64::Engine;
    let raw = json!({"rv": rv, "ns": ns, "name": name}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((
        v["rv"].as_u64()?,
        v["ns"].as_str()?.to_owned(),
        v["name"].as_str()?.to_owned(),
    ))
}

impl FakeCluster {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(HISTORY);
        let cluster = Self {
            inner: Arc::new(RwLock::new(Inner {
                builtin: resources::builtin(),
                crd_types: BTreeMap::new(),
                objects: HashMap::new(),
                rv: 1000,
                uid_counter: 0,
                history: VecDeque::new(),
                history_floor: 1000,
                version: default_version(),
                access: Access::ClusterAdmin,
                user: "system:serviceaccount:haven-system:haven".into(),
                reactors: HashMap::new(),
                after_create: HashMap::new(),
                pod_logs: HashMap::new(),
            })),
            events,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            cluster
                .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
                .expect("built-in namespace");
        }
        cluster
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads a multi-document YAML fixture (see the crate documentation for the format).
    pub fn from_yaml(file_name: &str, text: &str) -> Result<Self, FixtureError> {
        let cluster = Self::new();
        cluster.load_yaml(file_name, text)?;
        Ok(cluster)
    }

    /// One of the committed cluster fixtures (`fixtures/clusters/NAME`), for tests: panics with
    /// the fixture's error, since a broken committed fixture is a bug in the test itself.
    pub fn named(name: &str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/clusters")
            .join(name);
        Self::from_fixture(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn from_fixture(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&path.display().to_string(), &text)
    }

    /// Adds the documents of a YAML fixture to this cluster. CRDs are stored first so a
    /// custom resource may precede its definition in the file. All errors are reported
    /// together, one per line.
    pub fn load_yaml(&self, file_name: &str, text: &str) -> Result<(), FixtureError> {
        let mut errors = Vec::new();
        let mut docs = Vec::new();
        for doc in haven_model::yaml::parse_stream(file_name, text) {
            match doc {
                Ok(d) => docs.push(d),
                Err(e) => errors.push(e.describe()),
            }
        }
        let is_crd = |v: &Value| v["kind"] == "CustomResourceDefinition";
        let mut ordered: Vec<_> = docs.iter().filter(|d| is_crd(&d.value)).collect();
        ordered.extend(docs.iter().filter(|d| !is_crd(&d.value)));
        for doc in ordered {
            let at = |field: &str| {
                let (line, _) = doc.root.position(field);
                format!("{file_name}:{line}")
            };
            let v = &doc.value;
            if v["apiVersion"] == "test.haven.commonground.nl/v1" && v["kind"] == "FakeClusterInfo"
            {
                if let Some(version) = v.get("serverVersion") {
                    if !version.is_object() {
                        errors.push(format!(
                            "{}: serverVersion: expected a mapping",
                            at("serverVersion")
                        ));
                    } else {
                        self.set_version(version.clone());
                    }
                }
                if let Some(access) = v.get("access") {
                    match Access::from_value(access) {
                        Ok(a) => self.set_access(a),
                        Err(e) => errors.push(format!("{}: {e}", at("access"))),
                    }
                }
                if let Some(user) = v["user"].as_str() {
                    self.write().user = user.to_owned();
                }
                continue;
            }
            if let Err(e) = self.apply(v.clone()) {
                let field = match e {
                    ObjectError::NoKind | ObjectError::UnknownKind { .. } => "kind",
                    ObjectError::NoApiVersion => "apiVersion",
                    ObjectError::Rejected(_) => "metadata",
                };
                errors.push(format!("{}: {e}", at(field)));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(FixtureError::Invalid { problems: errors })
        }
    }

    /// What `/version` returns; fields given here replace the defaults (a Kubernetes 1.33
    /// version.Info), so `{"minor": "31", "gitVersion": "v1.31.2"}` is enough.
    pub fn set_version(&self, version: Value) {
        let mut inner = self.write();
        let mut merged = default_version();
        if let (Some(m), Some(v)) = (merged.as_object_mut(), version.as_object()) {
            for (k, val) in v {
                m.insert(k.clone(), val.clone());
            }
        }
        inner.version = merged;
    }

    pub fn set_access(&self, access: Access) {
        self.write().access = access;
    }

    /// The user name in Forbidden messages.
    pub fn set_user(&self, user: &str) {
        self.write().user = user.to_owned();
    }

    /// Runs `f` on every object of `resource_plural` before it is first stored, e.g. to mark
    /// a PersistentVolumeClaim `Bound` as a provisioner would.
    pub fn on_create(&self, resource_plural: &str, f: impl Fn(&mut Value) + Send + Sync + 'static) {
        self.write()
            .reactors
            .entry(resource_plural.to_owned())
            .or_default()
            .push(Arc::new(f));
    }

    /// Runs `f` after an object of `resource_plural` was created through the API (POST), outside
    /// the store's lock, so it may create and change other objects: a controller's work, e.g. a
    /// Job's pod with its log (`set_pod_log`) and the Job's `status.succeeded`.
    pub fn after_create(
        &self,
        resource_plural: &str,
        f: impl Fn(&FakeCluster, &Value) + Send + Sync + 'static,
    ) {
        self.write()
            .after_create
            .entry(resource_plural.to_owned())
            .or_default()
            .push(Arc::new(f));
    }

    pub(crate) fn run_after_create(&self, resource_plural: &str, created: &Value) {
        let hooks = self
            .read()
            .after_create
            .get(resource_plural)
            .cloned()
            .unwrap_or_default();
        for h in hooks {
            h(self, created);
        }
    }

    /// What `GET /api/v1/namespaces/{namespace}/pods/{pod}/log` answers (the pod must exist).
    pub fn set_pod_log(&self, namespace: &str, pod: &str, log: &str) {
        self.write()
            .pod_logs
            .insert((namespace.to_owned(), pod.to_owned()), log.to_owned());
    }

    pub(crate) fn pod_log(&self, namespace: &str, pod: &str) -> Option<String> {
        self.read()
            .pod_logs
            .get(&(namespace.to_owned(), pod.to_owned()))
            .cloned()
    }

    /// Creates or replaces an object; sets uid, resourceVersion and creationTimestamp and
    /// emits ADDED or MODIFIED to watchers.
    pub fn apply(&self, obj: Value) -> Result<(), ObjectError> {
        let api_version = obj["apiVersion"]
            .as_str()
            .ok_or(ObjectError::NoApiVersion)?
            .to_owned();
        let kind = obj["kind"].as_str().ok_or(ObjectError::NoKind)?.to_owned();
        let mut inner = self.write();
        let rt =
            inner
                .type_for_kind(&api_version, &kind)
                .ok_or_else(|| ObjectError::UnknownKind {
                    kind: kind.clone(),
                    api_version: api_version.clone(),
                })?;
        let ns = if rt.namespaced {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned()
        } else {
            String::new()
        };
        self.store(&mut inner, &rt, &ns, obj, None, false)
            .map(|_| ())
            .map_err(ObjectError::Rejected)
    }

    /// Deletes an object; emits DELETED. False when it did not exist.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let mut inner = self.write();
        let Some(rt) = inner.type_for_kind(api_version, kind) else {
            return false;
        };
        let ns = if rt.namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        self.remove(&mut inner, &rt, ns, name).is_ok()
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let inner = self.read();
        let rt = inner.type_for_kind(api_version, kind)?;
        let ns = if rt.namespaced {
            namespace.unwrap_or("default")
        } else {
            ""
        };
        let stored = inner
            .objects
            .get(&(rt.group.clone(), rt.plural.clone()))?
            .get(&(ns.to_owned(), name.to_owned()))?;
        serde_json::from_slice(&stored.bytes).ok()
    }

    /// How many objects of a kind are stored (all namespaces).
    pub fn count(&self, api_version: &str, kind: &str) -> usize {
        let inner = self.read();
        inner
            .type_for_kind(api_version, kind)
            .and_then(|rt| inner.objects.get(&(rt.group, rt.plural)))
            .map_or(0, BTreeMap::len)
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.read().rv
    }

    /// Stores `obj` under `rt`/`ns`. `mode` None = create or replace; Some(Create) fails with
    /// 409 when present; Some(Replace) fails with 404 when absent and 409 on a stale
    /// resourceVersion.
    pub(crate) fn store(
        &self,
        inner: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        mode: Option<Write>,
        dry_run: bool,
    ) -> Result<Bytes, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request("the object must be a JSON object"));
        }
        let meta = obj
            .as_object_mut()
            .expect("object")
            .entry("metadata")
            .or_insert_with(|| json!({}));
        if !meta.is_object() {
            return Err(ApiError::bad_request("metadata must be an object"));
        }
        let mut name = meta["name"].as_str().unwrap_or_default().to_owned();
        if name.is_empty() {
            if let Some(prefix) = meta["generateName"].as_str() {
                inner.uid_counter += 1;
                name = format!("{prefix}{:05x}", (inner.uid_counter * 7919) % 0xfffff);
                meta["name"] = json!(name);
            } else {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!(
                        "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                        rt.kind
                    ),
                ));
            }
        }
        let key = (rt.group.clone(), rt.plural.clone());
        let okey = (ns.to_owned(), name.clone());
        let existing = inner.objects.get(&key).and_then(|m| m.get(&okey));
        let old: Option<Value> = existing.and_then(|s| serde_json::from_slice(&s.bytes).ok());
        match (mode, &old) {
            (Some(Write::Create), Some(_)) => {
                return Err(ApiError {
                    details: Some((rt.plural.clone(), name.clone(), rt.group.clone())),
                    ..ApiError::new(
                        409,
                        "AlreadyExists",
                        format!("{} \"{name}\" already exists", qualified(rt)),
                    )
                });
            }
            (Some(Write::Replace), None) => return Err(ApiError::not_found(rt, &name)),
            (Some(Write::Replace), Some(old)) => {
                let want = meta["resourceVersion"].as_str().unwrap_or_default();
                let have = old["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default();
                if !want.is_empty() && want != have {
                    return Err(ApiError::new(
                        409,
                        "Conflict",
                        format!(
                            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                            qualified(rt)
                        ),
                    ));
                }
            }
            _ => {}
        }
        inner.rv += 1;
        let rv = inner.rv;
        let meta = obj["metadata"].as_object_mut().expect("metadata object");
        if rt.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        match &old {
            Some(old) => {
                for field in ["uid", "creationTimestamp"] {
                    if let Some(v) = old["metadata"].get(field) {
                        meta.insert(field.into(), v.clone());
                    }
                }
                let generation = old["metadata"]["generation"].as_u64().unwrap_or(1);
                let spec_changed = old.get("spec") != obj.get("spec");
                obj["metadata"]["generation"] = json!(generation + u64::from(spec_changed));
            }
            None => {
                inner.uid_counter += 1;
                let uid = format!("7e57c1a5-0000-4000-8000-{:012x}", inner.uid_counter);
                meta.entry("uid").or_insert(json!(uid));
                meta.entry("creationTimestamp")
                    .or_insert_with(|| json!(now()));
                meta.entry("generation").or_insert(json!(1));
                if let Some(reactors) = inner.reactors.get(&rt.plural) {
                    for r in reactors.clone() {
                        r(&mut obj);
                    }
                }
            }
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        if rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io" {
            let types = resources::from_crd(&obj)
                .map_err(|e| ApiError::new(422, "Invalid", format!("{name}: {e}")))?;
            if !dry_run {
                inner.crd_types.insert(name.clone(), types);
            }
        }
        let bytes = Bytes::from(serde_json::to_vec(&obj).expect("JSON value serializes"));
        if dry_run {
            // Validated and defaulted like a real write, but nothing stored or announced.
            inner.rv -= 1;
            return Ok(bytes);
        }
        let labels = labels_of(&obj);
        let event_type = if old.is_some() { "MODIFIED" } else { "ADDED" };
        let old_labels = inner
            .objects
            .get(&key)
            .and_then(|m| m.get(&okey))
            .map(|s| s.labels.clone());
        inner.objects.entry(key).or_default().insert(
            okey,
            Stored {
                bytes: bytes.clone(),
                labels: labels.clone(),
            },
        );
        let labels = (labels, old_labels);
        self.emit(inner, rt, ns, &name, labels, event_type, bytes.clone());
        Ok(bytes)
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        inner: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        (labels, old_labels): (BTreeMap<String, String>, Option<BTreeMap<String, String>>),
        event_type: &'static str,
        object: Bytes,
    ) {
        let mut line = Vec::with_capacity(object.len() + 32);
        line.extend_from_slice(format!("{{\"type\":\"{event_type}\",\"object\":").as_bytes());
        line.extend_from_slice(&object);
        line.extend_from_slice(b"}\n");
        let event = Arc::new(Event {
            rv: inner.rv,
            group: rt.group.clone(),
            plural: rt.plural.clone(),
            namespace: ns.to_owned(),
            name: name.to_owned(),
            labels,
            old_labels,
            event_type,
            line: Bytes::from(line),
            object,
        });
        if inner.history.len() >= HISTORY
            && let Some(old) = inner.history.pop_front()
        {
            inner.history_floor = old.rv;
        }
        inner.history.push_back(event.clone());
        // Sent under the write lock so a watcher that subscribes under the read lock sees
        // every later event exactly once.
        let _ = self.events.send(event);
    }

    pub(crate) fn remove(
        &self,
        inner: &mut Inner,
        rt: &ResourceType,
        ns: &str,
        name: &str,
    ) -> Result<Bytes, ApiError> {
        let key = (rt.group.clone(), rt.plural.clone());
        let stored = inner
            .objects
            .get_mut(&key)
            .and_then(|m| m.remove(&(ns.to_owned(), name.to_owned())))
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        inner.rv += 1;
        let mut obj: Value = serde_json::from_slice(&stored.bytes).expect("stored JSON");
        obj["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
        if rt.plural == "customresourcedefinitions" && rt.group == "apiextensions.k8s.io" {
            inner.crd_types.remove(name);
        }
        let bytes = Bytes::from(serde_json::to_vec(&obj).expect("JSON value serializes"));
        self.emit(
            inner,
            rt,
            ns,
            name,
            (stored.labels, None),
            "DELETED",
            bytes.clone(),
        );
        Ok(bytes)
    }

    pub(crate) fn with_write<T>(&self, f: impl FnOnce(&FakeCluster, &mut Inner) -> T) -> T {
        let mut inner = self.write();
        f(self, &mut inner)
    }

    pub(crate) fn get_bytes(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
    ) -> Result<Bytes, ApiError> {
        let inner = self.read();
        inner
            .objects
            .get(&(rt.group.clone(), rt.plural.clone()))
            .and_then(|m| m.get(&(ns.to_owned(), name.to_owned())))
            .map(|s| s.bytes.clone())
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    pub(crate) fn list(&self, rt: &ResourceType, q: &ListQuery) -> Result<ListPage, ApiError> {
        let inner = self.read();
        let empty = BTreeMap::new();
        let map = inner
            .objects
            .get(&(rt.group.clone(), rt.plural.clone()))
            .unwrap_or(&empty);
        let (list_rv, start) = match &q.continue_token {
            Some(token) => {
                let (rv, ns, name) = decode_continue(token).ok_or_else(|| {
                    ApiError::bad_request("invalid continue token: not a token this server issued")
                })?;
                if rv < inner.history_floor {
                    return Err(ApiError::new(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.",
                    ));
                }
                (rv, Some((ns, name)))
            }
            None => (inner.rv, None),
        };
        let range: Box<dyn Iterator<Item = (&Key, &Stored)>> = match (&start, &q.namespace) {
            (Some(after), _) => Box::new(
                map.range::<Key, _>((
                    std::ops::Bound::Excluded(after.clone()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|((ns, _), _)| q.namespace.as_ref().is_none_or(|want| ns == want)),
            ),
            (None, Some(ns)) => Box::new(
                map.range::<Key, _>((ns.clone(), String::new())..)
                    .take_while(move |((n, _), _)| n == ns),
            ),
            (None, None) => Box::new(map.iter()),
        };
        let needs_object = q.fields.needs_object();
        let mut matching = range.filter(|((ns, name), s)| {
            q.labels.matches(&s.labels)
                && (q.fields.is_empty()
                    || if needs_object {
                        let obj: Option<Value> = serde_json::from_slice(&s.bytes).ok();
                        q.fields.matches(ns, name, obj.as_ref())
                    } else {
                        q.fields.matches(ns, name, None)
                    })
        });
        let limit = q.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last: Option<&Key> = None;
        for (k, s) in matching.by_ref() {
            items.push(s.bytes.clone());
            last = Some(k);
            if items.len() == limit {
                break;
            }
        }
        let (continue_token, remaining) = if items.len() == limit {
            let rest = matching.count();
            if rest > 0 {
                let (ns, name) = last.expect("a full page has a last item");
                (Some(encode_continue(list_rv, ns, name)), Some(rest))
            } else {
                (None, None)
            }
        } else {
            (None, None)
        };
        Ok(ListPage {
            items,
            resource_version: list_rv,
            continue_token,
            remaining,
        })
    }

    /// Starts a watch: the events to send first (replayed or synthetic ADDED) and the receiver
    /// for live ones. `from` None means "from now, with the current state as ADDED events".
    pub(crate) fn watch_start(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        from: Option<u64>,
    ) -> Result<WatchStart, ApiError> {
        let inner = self.read();
        let rx = self.events.subscribe();
        let mut initial = Vec::new();
        match from {
            Some(rv) if rv < inner.history_floor => {
                return Err(ApiError::new(
                    410,
                    "Expired",
                    format!(
                        "too old resource version: {rv} ({})",
                        inner.history_floor + 1
                    ),
                ));
            }
            Some(rv) => {
                for e in inner.history.iter().filter(|e| e.rv > rv) {
                    if let Some(line) = Self::event_line(e, rt, namespace, labels, fields) {
                        initial.push(line);
                    }
                }
                return Ok((initial, inner.rv, rx));
            }
            None => {}
        }
        let mut lines = Vec::new();
        if let Some(map) = inner.objects.get(&(rt.group.clone(), rt.plural.clone())) {
            for ((ns, name), s) in map {
                let obj: Option<Value> = if fields.needs_object() {
                    serde_json::from_slice(&s.bytes).ok()
                } else {
                    None
                };
                if namespace.is_none_or(|want| want == ns)
                    && labels.matches(&s.labels)
                    && fields.matches(ns, name, obj.as_ref())
                {
                    let mut line = Vec::with_capacity(s.bytes.len() + 32);
                    line.extend_from_slice(b"{\"type\":\"ADDED\",\"object\":");
                    line.extend_from_slice(&s.bytes);
                    line.extend_from_slice(b"}\n");
                    lines.push(Bytes::from(line));
                }
            }
        }
        Ok((lines, inner.rv, rx))
    }

    /// The line a watch with these filters gets for event `e`, if any. With a label
    /// selector, a MODIFIED that moves the object into the selection is sent as ADDED and one
    /// that moves it out as DELETED, as the API server does.
    pub(crate) fn event_line(
        e: &Event,
        rt: &ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Option<Bytes> {
        if e.group != rt.group
            || e.plural != rt.plural
            || namespace.is_some_and(|ns| ns != e.namespace)
        {
            return None;
        }
        if !fields.is_empty() {
            let obj: Option<Value> = if fields.needs_object() {
                serde_json::from_slice(&e.object).ok()
            } else {
                None
            };
            if !fields.matches(&e.namespace, &e.name, obj.as_ref()) {
                return None;
            }
        }
        let now = labels.matches(&e.labels);
        let before = e.old_labels.as_ref().map(|l| labels.matches(l));
        let retyped = match (e.event_type, before, now) {
            ("MODIFIED", Some(false), true) => "ADDED",
            ("MODIFIED", Some(true), false) => "DELETED",
            (_, _, true) => return Some(e.line.clone()),
            _ => return None,
        };
        let mut line = Vec::with_capacity(e.object.len() + 32);
        line.extend_from_slice(format!("{{\"type\":\"{retyped}\",\"object\":").as_bytes());
        line.extend_from_slice(&e.object);
        line.extend_from_slice(b"}\n");
        Some(Bytes::from(line))
    }
}
