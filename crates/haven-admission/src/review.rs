//! One AdmissionReview in, one verdict out. Pure: no I/O, no clock, no global state.

use std::collections::BTreeMap;

use haven_model::{Object, RuleScope};
use haven_rules::{CheckOptions, Groups};
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::policy::{ModePolicy, NamespaceLabels};
use crate::response::{self, Found};

/// A request the webhook cannot answer with an AdmissionReview: HTTP 400 with this message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// What happened to a request, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
    /// Allowed, with warnings (controllers, or warn-mode violations).
    Warned,
    /// Not evaluated: exempt namespace, user or runtime class.
    Exempt,
    /// Not evaluated: a kind or operation the webhook does not check, or an unchanged spec.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Warned => "warned",
            Self::Exempt => "exempt",
            Self::Skipped => "skipped",
        }
    }
}

/// The verdict with everything the response and the metrics need.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub uid: String,
    pub kind: String,
    pub verdict: Verdict,
    /// Rule ids violated at enforce level (denials, or controller warnings).
    pub rules: Vec<&'static str>,
    /// The full AdmissionReview response, as JSON.
    pub response: Vec<u8>,
}

impl Decision {
    /// The response as a JSON tree (tests, tools).
    pub fn response_json(&self) -> Value {
        serde_json::from_slice(&self.response).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<Request>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    uid: Option<String>,
    kind: Option<GroupVersionKind>,
    namespace: Option<String>,
    operation: Option<String>,
    #[serde(default)]
    user_info: UserInfo,
    object: Option<Value>,
    old_object: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct GroupVersionKind {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo {
    #[serde(default)]
    username: String,
}

/// Namespaces that are always exempt besides the configured ones.
pub const ALWAYS_EXEMPT: &[&str] = &["kube-system"];

/// Reviews one request body. `own_namespace` (the webhook's) is always exempt.
pub fn review(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Result<Decision, BadRequest> {
    if let Some(decision) = crate::fast::review(body, config, namespaces, own_namespace) {
        return Ok(decision);
    }
    review_with_engine(body, config, namespaces, own_namespace)
}

/// Only [`review`]'s fast path: `None` where it gives way to the engine path (tests, tools).
#[doc(hidden)]
pub fn review_fast(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Option<Decision> {
    crate::fast::review(body, config, namespaces, own_namespace)
}

/// [`review`] without its fast path: every request through `haven_rules::check`, as
/// `haven app check` runs it. The fast path must answer exactly as this does (tested).
#[doc(hidden)]
pub fn review_with_engine(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Result<Decision, BadRequest> {
    let review: Review = serde_json::from_slice(body)
        .map_err(|e| BadRequest(format!("request body is not an AdmissionReview: {e}")))?;
    if review.api_version.as_deref() != Some("admission.k8s.io/v1")
        || review.kind.as_deref() != Some("AdmissionReview")
    {
        return Err(BadRequest(format!(
            "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got {:?} {:?}",
            review.api_version.unwrap_or_default(),
            review.kind.unwrap_or_default()
        )));
    }
    let request = review
        .request
        .ok_or_else(|| BadRequest("AdmissionReview has no request".into()))?;
    let uid = request
        .uid
        .filter(|u| !u.is_empty())
        .ok_or_else(|| BadRequest("AdmissionReview request has no uid".into()))?;
    let gvk = request
        .kind
        .ok_or_else(|| BadRequest("AdmissionReview request has no kind".into()))?;
    let kind = gvk.kind.clone();
    let decided = |verdict, rules, response| Decision {
        uid: uid.clone(),
        kind: kind.clone(),
        verdict,
        rules,
        response,
    };

    let operation = request.operation.as_deref().unwrap_or_default();
    let checked_kind = is_checked(&gvk.group, &gvk.kind);
    if !checked_kind || !matches!(operation, "CREATE" | "UPDATE") {
        return Ok(decided(Verdict::Skipped, Vec::new(), response::allow(&uid)));
    }
    let Some(mut object) = request.object else {
        return Err(BadRequest(format!(
            "{operation} request for {kind} has no object"
        )));
    };
    let namespace = request.namespace.unwrap_or_default();
    if operation == "UPDATE"
        && request
            .old_object
            .as_ref()
            .is_some_and(|old| pod_unchanged(&gvk.kind, &object, old))
    {
        return Ok(decided(Verdict::Skipped, Vec::new(), response::allow(&uid)));
    }
    let runtime_class = pod_field(&gvk.kind, &object, "runtimeClassName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let ex = &config.exemptions;
    if namespace == own_namespace
        || ALWAYS_EXEMPT.contains(&namespace.as_str())
        || ex.namespaces.contains(&namespace)
        || ex.usernames.contains(&request.user_info.username)
        || runtime_class.is_some_and(|rc| ex.runtime_classes.contains(&rc))
    {
        return Ok(decided(Verdict::Exempt, Vec::new(), response::exempt(&uid)));
    }

    // Objects in AdmissionReviews usually carry apiVersion and kind; fill them in when not.
    if let Value::Object(map) = &mut object {
        let api_version = if gvk.group.is_empty() {
            gvk.version.clone()
        } else {
            format!("{}/{}", gvk.group, gvk.version)
        };
        map.entry("apiVersion")
            .or_insert(Value::String(api_version));
        map.entry("kind").or_insert(Value::String(gvk.kind.clone()));
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.entry("namespace")
                .or_insert(Value::String(namespace.clone()));
        }
    }
    let object = match Object::from_json(object, "<admission>") {
        Ok(o) => o,
        Err(e) => {
            return Ok(decided(
                Verdict::Denied,
                Vec::new(),
                response::deny(&uid, 400, &e.message),
            ));
        }
    };
    let objects = [object];
    let policy = namespaces.policy(&namespace, &config.defaults);
    let is_pod = gvk.kind == "Pod";
    let run = |mode: &ModePolicy| -> Result<Vec<haven_model::Finding>, String> {
        if mode.is_empty() {
            return Ok(Vec::new());
        }
        let opts = CheckOptions {
            pss: mode.pss,
            groups: Groups {
                haven: mode.haven,
                plus: mode.plus,
                input: false,
            },
            scope: RuleScope::Object,
            skip: Vec::new(),
        };
        let outcome = haven_rules::check(&objects, &opts);
        if let Some(e) = outcome.errors.first() {
            return Err(e.message.clone());
        }
        let mut findings = outcome.findings;
        // The per-object waiver annotation of `haven app check` is honoured here too.
        // No waiver files here, so the date against which their expiry is judged never matters.
        haven_rules::apply_waivers(&mut findings, &objects, &[], jiff::civil::Date::MIN);
        findings.retain(|f| f.waived.is_none());
        Ok(findings)
    };
    let enforced = match run(&policy.enforce) {
        Ok(f) => f,
        Err(message) => {
            return Ok(decided(
                Verdict::Denied,
                Vec::new(),
                response::deny(&uid, 400, &message),
            ));
        }
    };
    // A mode that checks what enforce checks finds what enforce finds.
    let audited = (policy.audit != policy.enforce).then(|| run(&policy.audit).unwrap_or_default());
    let warned = (policy.warn != policy.enforce).then(|| run(&policy.warn).unwrap_or_default());
    let found = Found {
        enforced: &enforced,
        audited: audited.as_deref(),
        warned: warned.as_deref(),
    };
    let rules: Vec<&'static str> = enforced.iter().map(|f| f.rule).collect();
    let (verdict, response) = response::evaluated(&uid, &objects[0].name, is_pod, &policy, &found);
    Ok(decided(verdict, rules, response))
}

/// The kinds the webhook evaluates, by API group and kind.
pub(crate) fn is_checked(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Pod" | "ReplicationController" | "PodTemplate")
            | (
                "apps",
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            )
            | ("batch", "Job" | "CronJob")
    )
}

/// The pod-level field of a Pod or of a controller's template.
fn pod_field<'v>(kind: &str, object: &'v Value, field: &str) -> Option<&'v Value> {
    pod_spec(kind, object)?.get(field)
}

fn pod_spec<'v>(kind: &str, object: &'v Value) -> Option<&'v Value> {
    let template = template(kind, object)?;
    template.get("spec")
}

/// The pod (metadata + spec) inside an object of `kind`.
fn template<'v>(kind: &str, object: &'v Value) -> Option<&'v Value> {
    match kind {
        "Pod" => Some(object),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template"),
        "PodTemplate" => object.get("template"),
        _ => object.pointer("/spec/template"),
    }
}

/// An update that leaves the pod spec and the annotations the rules read untouched.
pub(crate) fn pod_unchanged(kind: &str, new: &Value, old: &Value) -> bool {
    let relevant = |v: &Value| -> (Option<Value>, BTreeMap<String, Value>) {
        let spec = pod_spec(kind, v).cloned();
        let annotations = [
            v.pointer("/metadata/annotations"),
            template(kind, v).and_then(|t| t.pointer("/metadata/annotations")),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flatten()
        .filter(|(k, _)| {
            k.contains("apparmor")
                || k.contains("seccomp")
                || k.starts_with("waive.haven.commonground.nl/")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
        (spec, annotations)
    };
    relevant(new) == relevant(old)
}
