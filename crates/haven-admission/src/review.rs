//! One AdmissionReview in, one verdict out. Pure: no I/O, no clock, no global state.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::Config;
use crate::policy::{ModePolicy, NamespaceLabels, NamespacePolicy};
use crate::response::{self, Found, Hit};

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

/// Namespaces that are always exempt besides the configured ones.
pub const ALWAYS_EXEMPT: &[&str] = &["kube-system"];

/// Reviews one request body. `own_namespace` (the webhook's) is always exempt.
///
/// The request is decided once, by [`decide`]; what differs between the two paths is only how
/// the request is decoded. The fast decoder (`fast.rs`) reads a Pod Security-only review
/// straight from the bytes and gives way wherever it could answer differently; the engine
/// decoder (`engine.rs`) then reads it as `haven app check` reads objects. To drop the fast
/// decoder, make this function [`review_with_engine`].
pub fn review(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Result<Decision, BadRequest> {
    let cx = Context {
        config,
        namespaces,
        own_namespace,
    };
    match decide::<crate::fast::Fast<'_>>(body, &cx) {
        Ok(answer) => answer,
        Err(crate::fast::GiveWay) => review_with_engine(body, config, namespaces, own_namespace),
    }
}

/// Only [`review`]'s fast decoder: `None` where it gives way to the engine decoder, or where
/// it answers that the request is bad (tests, tools).
#[doc(hidden)]
pub fn review_fast(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Option<Decision> {
    let cx = Context {
        config,
        namespaces,
        own_namespace,
    };
    decide::<crate::fast::Fast<'_>>(body, &cx).ok()?.ok()
}

/// [`review`] with the engine decoder alone: every request through `haven_rules::check`, as
/// `haven app check` runs it. The fast decoder must answer exactly as this does (tested).
#[doc(hidden)]
pub fn review_with_engine(
    body: &[u8],
    config: &Config,
    namespaces: &dyn NamespaceLabels,
    own_namespace: &str,
) -> Result<Decision, BadRequest> {
    let cx = Context {
        config,
        namespaces,
        own_namespace,
    };
    match decide::<crate::engine::Engine>(body, &cx) {
        Ok(answer) => answer,
        Err(never) => match never {},
    }
}

/// What every decision reads besides the request.
pub(crate) struct Context<'c> {
    pub config: &'c Config,
    pub namespaces: &'c dyn NamespaceLabels,
    /// The webhook's own namespace: always exempt.
    pub own_namespace: &'c str,
}

/// What a decoder reads of the AdmissionReview around the object, as the engine decoder's
/// `serde` structs define it (absent and `null` alike are `None`).
pub(crate) struct Header<'b> {
    pub api_version: Option<Cow<'b, str>>,
    pub kind: Option<Cow<'b, str>>,
    pub request: Option<RequestHeader<'b>>,
}

/// `request` of an AdmissionReview, without its objects.
pub(crate) struct RequestHeader<'b> {
    pub uid: Option<Cow<'b, str>>,
    pub kind: Option<Gvk<'b>>,
    pub namespace: Option<Cow<'b, str>>,
    pub operation: Option<Cow<'b, str>>,
    /// `userInfo.username`, empty when absent.
    pub username: Cow<'b, str>,
    /// Whether `request.object` is present and not `null`.
    pub has_object: bool,
}

/// `request.kind`.
pub(crate) struct Gvk<'b> {
    pub group: Cow<'b, str>,
    pub version: Cow<'b, str>,
    pub kind: Cow<'b, str>,
}

/// How a request is decoded: the one thing in which the fast and the engine paths differ.
pub(crate) trait Decoder<'b>: Sized {
    /// Why this decoder cannot answer exactly as the engine decoder would: the request then
    /// goes to the engine decoder. The engine decoder's is uninhabited.
    type GiveWay;
    /// The decoded workload.
    type Object: Workload;
    /// Reads the envelope (the object may be decoded now or later). A body that is not an
    /// AdmissionReview at all is a [`BadRequest`] with the engine decoder's message.
    fn read(body: &'b [u8]) -> Result<Result<(Header<'b>, Self), BadRequest>, Self::GiveWay>;
    /// Whether an update leaves the pod spec and the annotations the rules read as they were
    /// (false without an old object).
    fn unchanged(&mut self, kind: &str) -> Result<bool, Self::GiveWay>;
    /// Decodes the object of a request for `gvk` in `namespace`, whose policy is `policy`.
    fn decode(
        self,
        gvk: &Gvk<'b>,
        namespace: &str,
        policy: &NamespacePolicy,
    ) -> Result<Decoded<Self::Object>, Self::GiveWay>;
}

/// An object as a decoder hands it to [`decide`].
pub(crate) struct Decoded<O> {
    /// `runtimeClassName` of the pod, read before (and whatever) the rest decodes, for the
    /// exemptions.
    pub runtime_class: Option<String>,
    /// The workload, or why it cannot be read (the response's message).
    pub object: Result<O, Unreadable>,
}

/// Why an admitted object cannot be checked; the response's message is its `Display`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("the request has no object")]
    NoObject,
    /// Not a Kubernetes object the rules can read (a wrong field type, a limit).
    #[error("{}", .0.message)]
    Input(#[source] haven_model::InputError),
}

/// A decoded workload: what the rules find on it.
pub(crate) trait Workload {
    type Finding: Hit;
    /// `metadata.name`, or the generate name followed by `*`, or `<unnamed>`.
    fn name(&self) -> &str;
    /// The unwaived findings of one mode, sorted by rule and path; `Err` when the object cannot
    /// be checked (the response's message).
    fn findings(&self, mode: &ModePolicy) -> Result<Vec<Self::Finding>, Unreadable>;
}

/// Decides one request: the envelope checked, then kinds and operations, unchanged updates,
/// exemptions, the namespace's policy, the rules and the response. The one place where a
/// request is decided, whichever decoder `D` reads it.
pub(crate) fn decide<'b, D: Decoder<'b>>(
    body: &'b [u8],
    cx: &Context<'_>,
) -> Result<Result<Decision, BadRequest>, D::GiveWay> {
    let (header, mut decoder) = match D::read(body)? {
        Ok(read) => read,
        Err(bad) => return Ok(Err(bad)),
    };
    if header.api_version.as_deref() != Some("admission.k8s.io/v1")
        || header.kind.as_deref() != Some("AdmissionReview")
    {
        return Ok(Err(BadRequest(format!(
            "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got {:?} {:?}",
            clip(header.api_version.as_deref().unwrap_or_default(), 64),
            clip(header.kind.as_deref().unwrap_or_default(), 64),
        ))));
    }
    let Some(request) = header.request else {
        return Ok(Err(BadRequest("AdmissionReview has no request".into())));
    };
    let Some(uid) = request.uid.filter(|u| !u.is_empty()) else {
        return Ok(Err(BadRequest("AdmissionReview request has no uid".into())));
    };
    let Some(gvk) = request.kind else {
        return Ok(Err(BadRequest(
            "AdmissionReview request has no kind".into(),
        )));
    };
    let decided = |verdict, rules, response| {
        Ok(Ok(Decision {
            uid: uid.clone().into_owned(),
            kind: gvk.kind.clone().into_owned(),
            verdict,
            rules,
            response,
        }))
    };

    let operation = request.operation.as_deref().unwrap_or_default();
    if !is_checked(&gvk.group, &gvk.kind) || !matches!(operation, "CREATE" | "UPDATE") {
        return decided(Verdict::Skipped, Vec::new(), response::allow(&uid));
    }
    if !request.has_object {
        return Ok(Err(BadRequest(format!(
            "{operation} request for {} has no object",
            clip(&gvk.kind, 64)
        ))));
    }
    if operation == "UPDATE" && decoder.unchanged(&gvk.kind)? {
        return decided(Verdict::Skipped, Vec::new(), response::allow(&uid));
    }
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let ex = &cx.config.exemptions;
    if namespace == cx.own_namespace
        || ALWAYS_EXEMPT.contains(&namespace)
        || ex.namespaces.iter().any(|n| n == namespace)
        || ex.usernames.iter().any(|u| *u == *request.username)
    {
        return decided(Verdict::Exempt, Vec::new(), response::exempt(&uid));
    }
    let policy = cx.namespaces.policy(namespace, &cx.config.defaults);
    let decoded = decoder.decode(&gvk, namespace, &policy)?;
    if decoded
        .runtime_class
        .is_some_and(|rc| ex.runtime_classes.contains(&rc))
    {
        return decided(Verdict::Exempt, Vec::new(), response::exempt(&uid));
    }
    let object = match decoded.object {
        Ok(o) => o,
        Err(unreadable) => {
            return decided(
                Verdict::Denied,
                Vec::new(),
                response::deny(&uid, 400, &unreadable.to_string()),
            );
        }
    };
    let enforced = match object.findings(&policy.enforce) {
        Ok(f) => f,
        Err(unreadable) => {
            return decided(
                Verdict::Denied,
                Vec::new(),
                response::deny(&uid, 400, &unreadable.to_string()),
            );
        }
    };
    // A mode that checks what enforce checks finds what enforce finds.
    let audited = (policy.audit != policy.enforce)
        .then(|| object.findings(&policy.audit).unwrap_or_default());
    let warned =
        (policy.warn != policy.enforce).then(|| object.findings(&policy.warn).unwrap_or_default());
    let found = Found {
        enforced: &enforced,
        audited: audited.as_deref(),
        warned: warned.as_deref(),
    };
    let rules: Vec<&'static str> = enforced.iter().map(|f| f.rule()).collect();
    let limits = response::Limits {
        per_rule: cx.config.response.violations_per_rule,
    };
    let (verdict, response) = response::evaluated(
        &uid,
        object.name(),
        deny_as(&gvk.group, &gvk.kind),
        &policy,
        &found,
        limits,
    );
    decided(verdict, rules, response)
}

/// At most `max` bytes of `s` (cut at a character boundary), with `…` when cut: for text
/// a client controls that goes into a message or a log line.
pub(crate) fn clip(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

/// The kinds the webhook evaluates, by API group and kind.
pub(crate) fn is_checked(group: &str, kind: &str) -> bool {
    is_pod_kind(group, kind) || is_transport_kind(group, kind) || is_tenant_kind(group, kind)
}

/// The kinds the tenant rules judge besides pods and the `nl.*` kinds: Services
/// (`plus.service-load-balancer`), TLSRoutes and cert-manager Certificates (`plus.hostname`).
/// Checked with the Haven+ group.
fn is_tenant_kind(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Service")
            | ("gateway.networking.k8s.io", "TLSRoute")
            | ("cert-manager.io", "Certificate")
    )
}

/// The resource a request's enforce violations deny: Pods, and the objects the `nl.*` and
/// tenant rules judge whole (an Ingress without TLS, a route on a platform host is the
/// violation itself); pod controllers are warned, their Pods are denied.
fn deny_as(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("", "Pod") => Some("pods"),
        (_, "Ingress") if is_transport_kind(group, kind) => Some("ingresses"),
        (_, "Gateway") if is_transport_kind(group, kind) => Some("gateways"),
        (_, "HTTPRoute") if is_transport_kind(group, kind) => Some("httproutes"),
        (_, "GRPCRoute") if is_transport_kind(group, kind) => Some("grpcroutes"),
        (_, "ClientTrafficPolicy") if is_transport_kind(group, kind) => {
            Some("clienttrafficpolicies")
        }
        (_, "Middleware") if is_transport_kind(group, kind) => Some("middlewares"),
        (_, "TLSOption") if is_transport_kind(group, kind) => Some("tlsoptions"),
        ("", "Service") => Some("services"),
        ("gateway.networking.k8s.io", "TLSRoute") => Some("tlsroutes"),
        ("cert-manager.io", "Certificate") => Some("certificates"),
        _ => None,
    }
}

/// The kinds that carry a pod or a pod template.
fn is_pod_kind(group: &str, kind: &str) -> bool {
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

/// The kinds the `nl.*` rules of Dutch law judge on one object (HTTPS, HSTS and TLS of public
/// endpoints); checked with the Haven+ group (`haven.commonground.nl/plus`).
pub(crate) fn is_transport_kind(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("networking.k8s.io", "Ingress")
            | (
                "gateway.networking.k8s.io",
                "Gateway" | "HTTPRoute" | "GRPCRoute"
            )
            | ("gateway.envoyproxy.io", "ClientTrafficPolicy")
            | (
                "traefik.io" | "traefik.containo.us",
                "Middleware" | "TLSOption"
            )
            | ("networking.istio.io", "Gateway")
    )
}

/// The pod-level field of a Pod or of a controller's template.
pub(crate) fn pod_field<'v>(kind: &str, object: &'v Value, field: &str) -> Option<&'v Value> {
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

/// An update that leaves the pod spec and the annotations the rules read untouched (for the
/// kinds without a pod: the spec and every annotation).
pub(crate) fn pod_unchanged(kind: &str, new: &Value, old: &Value) -> bool {
    let pod_bearing = [
        "Pod",
        "ReplicationController",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
    ];
    if !pod_bearing.contains(&kind) {
        let own = |v: &Value| {
            (
                v.get("spec").cloned(),
                v.pointer("/metadata/annotations").cloned(),
            )
        };
        return own(new) == own(old);
    }
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
