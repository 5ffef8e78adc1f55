//! The fast decoder: a request read for a Pod Security-only policy (the Haven and Haven+
//! groups off in every mode, the default), as any API server sends it.
//!
//! The engine decoder (`crate::engine`) parses the whole AdmissionReview into a
//! `serde_json::Value`, builds a `haven_model::Object` and runs `haven_rules::check`, which
//! decodes the pod template from that tree. For Pod Security alone, all of that reduces to: the
//! pod template decoded straight from the request bytes ([`crate::json`]) into the Kubernetes
//! API types, `haven_pss::evaluate`, the findings `haven_rules` would make of its violations,
//! and the waiver annotations. This module does exactly that, and gives way to the engine
//! decoder ([`GiveWay`]) wherever the two could differ: anything malformed or unusual (a bad or
//! missing field, a type the API server would reject, a duplicate key, an object whose kind
//! or group is not the request's, and whatever [`crate::json`] does not read: non-integer
//! numbers, surrogate escapes, deep nesting). What to do with the request (exemptions,
//! operations, unchanged updates, policies, the response) is decided once, for both decoders,
//! by `crate::review::decide`. Updates still compare the old and new pod spec as JSON trees, as
//! the engine decoder does. `tests/fast_path.rs` compares the two decoders on every upstream
//! Pod Security fixture, as Pods and in controllers, under several policies, and on thousands
//! of mutated requests.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use haven_model::{RuleScope, WorkloadKind};
use haven_rules::{CheckOptions, Groups, waiver_glob};
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use crate::json::Raw;
use crate::lean::{LeanMeta, LeanSpec};
use crate::policy::{ModePolicy, NamespacePolicy};
use crate::response::Hit;
use crate::review::{BadRequest, Decoded, Decoder, Gvk, Header, RequestHeader, Workload};
use crate::shape::Key;

/// The AdmissionReview, as `review::Review` reads it, with the objects left as raw JSON, or the
/// object of a create already decoded (see [`Request`]).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review<'a> {
    #[serde(borrow)]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    request: Option<Request<'a>>,
}

/// The request, as `review::Request` reads it (`null` for absent, duplicate keys rejected,
/// other keys skipped). A JSON array, which a derived `Deserialize` would also read, is
/// rejected: the engine path decides on it.
struct Request<'a> {
    uid: Option<Cow<'a, str>>,
    kind: Option<GroupVersionKind<'a>>,
    namespace: Option<Cow<'a, str>>,
    operation: Option<Cow<'a, str>>,
    user_info: UserInfo<'a>,
    object: Option<Object<'a>>,
    old_object: Option<Raw<'a>>,
}

/// `request.object`. API servers send the request's kind and operation before the object, so
/// the object of a create is decoded as it is read, in one pass over its bytes with the
/// envelope; otherwise it is kept as raw JSON and decoded when needed. An object that does not
/// decode then fails the whole parse, which hands the request to the engine path as a failed
/// [`Pod::decode`] would.
enum Object<'a> {
    Raw(Raw<'a>),
    /// Boxed: a decoded pod template is kilobytes, moved out through the envelope's structs.
    Read(Box<Read<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Request<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Request<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Request")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Request<'a>, A::Error> {
                // The outer `Option` is "seen", as in derived code.
                let mut uid: Option<Option<Text<'a>>> = None;
                let mut kind: Option<Option<GroupVersionKind<'a>>> = None;
                let mut namespace: Option<Option<Text<'a>>> = None;
                let mut operation: Option<Option<Text<'a>>> = None;
                let mut user_info: Option<UserInfo<'a>> = None;
                let mut object: Option<Option<Object<'a>>> = None;
                let mut old_object: Option<Option<Raw<'a>>> = None;
                fn once<T, E: de::Error>(
                    slot: &mut Option<T>,
                    name: &'static str,
                    value: impl FnOnce() -> Result<T, E>,
                ) -> Result<(), E> {
                    if slot.is_some() {
                        return Err(E::duplicate_field(name));
                    }
                    *slot = Some(value()?);
                    Ok(())
                }
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    match &*key.0 {
                        "uid" => once(&mut uid, "uid", || map.next_value())?,
                        "kind" => once(&mut kind, "kind", || map.next_value())?,
                        "namespace" => once(&mut namespace, "namespace", || map.next_value())?,
                        "operation" => once(&mut operation, "operation", || map.next_value())?,
                        "userInfo" => once(&mut user_info, "userInfo", || map.next_value())?,
                        "oldObject" => once(&mut old_object, "oldObject", || map.next_value())?,
                        "object" => {
                            let create = matches!(&operation, Some(Some(op)) if op.0 == "CREATE");
                            let workload = match &kind {
                                Some(Some(gvk)) if create => {
                                    WorkloadKind::from_group_kind(&gvk.group, &gvk.kind)
                                }
                                _ => None,
                            };
                            once(&mut object, "object", || match workload {
                                Some(w) => map
                                    .next_value_seed(ReadSeed(w, std::marker::PhantomData))
                                    .map(|r| Some(Object::Read(Box::new(r)))),
                                None => Ok(map.next_value::<Option<Raw<'a>>>()?.map(Object::Raw)),
                            })?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Request {
                    uid: uid.flatten().map(|t| t.0),
                    kind: kind.flatten(),
                    namespace: namespace.flatten().map(|t| t.0),
                    operation: operation.flatten().map(|t| t.0),
                    user_info: user_info.unwrap_or_default(),
                    object: object.flatten(),
                    old_object: old_object.flatten(),
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Reads an object of one workload kind in place (a map only).
struct ReadSeed<'a>(WorkloadKind, std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for ReadSeed<'a> {
    type Value = Read<'a>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Read<'a>, D::Error> {
        Ok(match self.0 {
            WorkloadKind::Pod => Read::Pod(MapOnly::deserialize(d)?.0),
            WorkloadKind::CronJob => Read::CronJob(MapOnly::deserialize(d)?.0),
            WorkloadKind::PodTemplate => Read::PodTemplate(MapOnly::deserialize(d)?.0),
            _ => Read::Controller(MapOnly::deserialize(d)?.0),
        })
    }
}

/// A workload object as read, before [`Pod::build`] takes its pod template out.
enum Read<'a> {
    Pod(PodObject<'a>),
    CronJob(Controller<'a, CronJobSpec>),
    PodTemplate(PodTemplateObject<'a>),
    Controller(Controller<'a, ControllerSpec>),
}

#[derive(Deserialize)]
struct GroupVersionKind<'a> {
    #[serde(default, borrow)]
    group: Cow<'a, str>,
    #[serde(default, borrow)]
    version: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

#[derive(Default, Deserialize)]
struct UserInfo<'a> {
    #[serde(default, borrow)]
    username: Cow<'a, str>,
}

/// The fast decoder gives way: the engine decoder reads the request instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GiveWay;

/// The request's objects as the fast decoder left them: raw, or (a create's) already read.
pub(crate) struct Fast<'b> {
    object: Option<Object<'b>>,
    old_object: Option<Raw<'b>>,
}

impl<'b> Decoder<'b> for Fast<'b> {
    type GiveWay = GiveWay;
    type Object = Pod<'b>;

    fn read(body: &'b [u8]) -> Result<Result<(Header<'b>, Self), BadRequest>, GiveWay> {
        // The engine decoder parses the objects of the request in full, into trees, so it
        // rejects what only a full parse sees. `crate::json` reads everything it skips (unknown
        // keys, the parts nobody builds, a raw object or old object) as strictly as that parse,
        // so nothing needs a second look. Whatever it cannot read gives way: the engine
        // decoder's error is the one the client sees.
        // The whole body is checked for UTF-8 once, and read as a `str`: reading bytes, every
        // string would be checked on its own, which cost this path ~13% more instructions and
        // ~10% more time per review (`examples/review_cost.rs`, 2026-12-04). The engine decoder
        // reads bytes and does not check the envelope's skipped fields; a body it accepts with
        // invalid UTF-8 there is given way to, so the answer is still the engine's. `simdutf8`
        // checks a Pod's ~6 KB in half the time of `std::str::from_utf8`.
        let body = simdutf8::basic::from_utf8(body).map_err(|_| GiveWay)?;
        let review: Review<'b> = crate::json::from_str(body).map_err(|_| GiveWay)?;
        let (request, decoder) = match review.request {
            Some(r) => (
                Some(RequestHeader {
                    uid: r.uid,
                    kind: r.kind.map(|k| Gvk {
                        group: k.group,
                        version: k.version,
                        kind: k.kind,
                    }),
                    namespace: r.namespace,
                    operation: r.operation,
                    username: r.user_info.username,
                    has_object: r.object.is_some(),
                }),
                Fast {
                    object: r.object,
                    old_object: r.old_object,
                },
            ),
            None => (
                None,
                Fast {
                    object: None,
                    old_object: None,
                },
            ),
        };
        let header = Header {
            api_version: review.api_version,
            kind: review.kind,
            request,
        };
        Ok(Ok((header, decoder)))
    }

    fn unchanged(&mut self, kind: &str) -> Result<bool, GiveWay> {
        let Some(old) = self.old_object else {
            return Ok(false);
        };
        // Rare enough on this path to afford the trees the comparison is written for. (Only
        // creates are decoded as read.)
        let Some(Object::Raw(new)) = &self.object else {
            return Err(GiveWay);
        };
        let new: serde_json::Value = serde_json::from_str(new.0).map_err(|_| GiveWay)?;
        let old: serde_json::Value = serde_json::from_str(old.0).map_err(|_| GiveWay)?;
        Ok(crate::review::pod_unchanged(kind, &new, &old))
    }

    fn decode(
        self,
        gvk: &Gvk<'b>,
        _namespace: &str,
        policy: &NamespacePolicy,
    ) -> Result<Decoded<Pod<'b>>, GiveWay> {
        // Pod Security only: the Haven and Haven+ groups need the engine's objects.
        if [policy.enforce, policy.audit, policy.warn]
            .iter()
            .any(|m| m.haven || m.plus)
        {
            return Err(GiveWay);
        }
        let pod = match self.object.ok_or(GiveWay)? {
            Object::Raw(raw) => Pod::decode(gvk, raw.0),
            Object::Read(read) => Pod::build(gvk, *read),
        }
        .ok_or(GiveWay)?;
        Ok(Decoded {
            runtime_class: pod.spec.runtime_class_name.clone(),
            object: Ok(pod),
        })
    }
}

impl Workload for Pod<'_> {
    type Finding = Finding;

    fn name(&self) -> &str {
        &self.name
    }

    fn findings(&self, mode: &ModePolicy) -> Result<Vec<Finding>, crate::review::Unreadable> {
        Ok(self.run(mode))
    }
}

/// A finding of the fast path: what `haven_rules` would report of a Pod Security violation.
/// Equality is that of two `haven_model::Finding`s on the same object.
#[derive(Debug, PartialEq)]
pub(crate) struct Finding {
    rule: &'static str,
    path: String,
    message: String,
    container: Option<String>,
}

impl Hit for Finding {
    fn rule(&self) -> &'static str {
        self.rule
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn message(&self) -> &str {
        &self.message
    }
}

/// The pod template of a workload, decoded, with what the findings and waivers need.
pub(crate) struct Pod<'a> {
    /// Path of the pod inside the object (`spec.template`; empty for a Pod).
    base: &'static str,
    /// `metadata.name`, or `metadata.generateName` followed by `*`, or `<unnamed>`.
    name: String,
    meta: ObjectMeta,
    spec: Box<PodSpec>,
    /// Rule patterns of the object's and the template's waiver annotations.
    waivers: Vec<Cow<'a, str>>,
}

impl<'a> Pod<'a> {
    /// Decodes the object of a request for `gvk`: `None` unless the object is the request's
    /// kind and group and decodes as the engine path would decode it.
    fn decode(gvk: &Gvk<'_>, json: &'a str) -> Option<Self> {
        let workload = WorkloadKind::from_group_kind(&gvk.group, &gvk.kind)?;
        let mut d = crate::json::Reader::new(json);
        let read =
            de::DeserializeSeed::deserialize(ReadSeed(workload, std::marker::PhantomData), &mut d)
                .ok()?;
        d.end().ok()?;
        Self::build(gvk, read)
    }

    /// [`Pod::decode`] of an object already read as the request's kind.
    fn build(gvk: &Gvk<'_>, read: Read<'a>) -> Option<Self> {
        let workload = WorkloadKind::from_group_kind(&gvk.group, &gvk.kind)?;
        let (api_version, kind, top, template) = match read {
            Read::Pod(o) => {
                let meta = o.metadata.map(|m| m.0).unwrap_or_default();
                let top = TopMeta {
                    name: meta.name.clone().map(Cow::Owned),
                    generate_name: meta.generate_name.clone().map(Cow::Owned),
                    waivers: Waivers::of(&meta),
                };
                let template = Template {
                    metadata: Some(LeanMeta(meta)),
                    spec: o.spec,
                };
                (o.api_version, o.kind, top, template)
            }
            Read::CronJob(o) => {
                let template = o.spec?.0.job_template?.0.spec?.0.template?.0;
                (
                    o.api_version,
                    o.kind,
                    o.metadata.map(|m| m.0).unwrap_or_default(),
                    template,
                )
            }
            Read::PodTemplate(o) => {
                let template = o.template?.0;
                (
                    o.api_version,
                    o.kind,
                    o.metadata.map(|m| m.0).unwrap_or_default(),
                    template,
                )
            }
            Read::Controller(o) => {
                let template = o.spec?.0.template?.0;
                (
                    o.api_version,
                    o.kind,
                    o.metadata.map(|m| m.0).unwrap_or_default(),
                    template,
                )
            }
        };
        // AdmissionReview objects carry apiVersion and kind; when they do, they must be the
        // request's (the engine path reads the object's own, and rejects empty ones). Without
        // an apiVersion, the engine path makes one of the request's group and version, which
        // may be empty or name another group: an API server never sends that, so give way.
        let api_version = api_version?;
        if kind.is_some_and(|k| k.0 != gvk.kind)
            || api_version.0.is_empty()
            || api_version.0.rsplit_once('/').map_or("", |(g, _)| g) != gvk.group
        {
            return None;
        }
        let spec = template.spec?.0;
        let meta = template.metadata.map(|m| m.0).unwrap_or_default();
        let mut waivers = top.waivers.0;
        if workload != WorkloadKind::Pod {
            waivers.extend(Waivers::of(&meta).0);
        }
        let name = match (top.name, top.generate_name) {
            (Some(n), _) => n.into_owned(),
            (None, Some(g)) => format!("{g}*"),
            (None, None) => "<unnamed>".to_owned(),
        };
        Some(Pod {
            base: workload.pod_path(),
            name,
            meta,
            spec,
            waivers,
        })
    }

    /// The unwaived findings of one mode, in the engine's order.
    fn run(&self, mode: &ModePolicy) -> Vec<Finding> {
        let Some((level, version)) = mode.pss else {
            return Vec::new();
        };
        let opts = CheckOptions {
            pss: mode.pss,
            groups: Groups {
                haven: false,
                plus: false,
                input: false,
            },
            scope: RuleScope::Object,
            skip: Vec::new(),
            tags: Default::default(),
            internal_domains: Vec::new(),
            // Only Pod Security runs here; the tenant policy is the Haven+ group's.
            tenant: Default::default(),
        };
        let mut findings = Vec::new();
        haven_rules::pss_findings(
            level,
            version,
            &self.meta,
            &self.spec,
            self.base,
            |rule, path, container, message| {
                if opts.is_enabled(rule) {
                    findings.push(Finding {
                        rule,
                        path,
                        message,
                        container: container.map(str::to_owned),
                    });
                }
            },
        );
        // The engine sorts by location, then rule and path; on one JSON object every location
        // is the same. The sort is stable, as the engine's.
        findings.sort_by(|a, b| (a.rule, &a.path).cmp(&(b.rule, &b.path)));
        if !self.waivers.is_empty() {
            findings.retain(|f| !self.waivers.iter().any(|w| waiver_glob(w, f.rule)));
        }
        findings
    }
}

/// A JSON string, borrowed when it has no escapes. Anything else (also `null`) fails to decode.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A Pod: its metadata is the pod's.
struct PodObject<'a> {
    api_version: Option<Text<'a>>,
    kind: Option<Text<'a>>,
    metadata: Option<LeanMeta>,
    spec: Option<LeanSpec>,
}

/// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job (`S` =
/// [`ControllerSpec`]) and CronJob ([`CronJobSpec`]).
struct Controller<'a, S> {
    api_version: Option<Text<'a>>,
    kind: Option<Text<'a>>,
    metadata: Option<MapOnly<TopMeta<'a>>>,
    spec: Option<MapOnly<S>>,
}

struct PodTemplateObject<'a> {
    api_version: Option<Text<'a>>,
    kind: Option<Text<'a>>,
    metadata: Option<MapOnly<TopMeta<'a>>>,
    template: Option<MapOnly<Template>>,
}

struct ControllerSpec {
    template: Option<MapOnly<Template>>,
}

struct CronJobSpec {
    job_template: Option<MapOnly<JobTemplate>>,
}

struct JobTemplate {
    spec: Option<MapOnly<ControllerSpec>>,
}

/// A pod template: `metadata` and `spec`, decoded as `haven_model::workload` decodes them.
struct Template {
    metadata: Option<LeanMeta>,
    spec: Option<LeanSpec>,
}

/// What the engine path reads of a controller's own metadata: the name (`name`, `namespace`
/// and `generateName` must be strings or null) and the waiver annotations.
#[derive(Default)]
struct TopMeta<'a> {
    name: Option<Cow<'a, str>>,
    generate_name: Option<Cow<'a, str>>,
    waivers: Waivers<'a>,
}

/// A struct read from a JSON object only (derived `Deserialize` would also read an array,
/// field by field, where the engine path's lookups find nothing), as derived code reads it:
/// `apiVersion` and `kind` strings when present (`null` fails), a known key twice an error.
/// Unknown keys are skipped, which [`crate::json`] checks as the engine path's full parse
/// does.
struct MapOnly<T>(T);

trait FromMap<'de>: Sized {
    /// The known keys, in the order [`FromMap::read`] numbers them.
    const FIELDS: &'static [&'static str];
    fn empty() -> Self;
    fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error>;
}

impl<'de, T: FromMap<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: FromMap<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
                let mut out = T::empty();
                let mut seen = 0u32;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match T::FIELDS.iter().position(|f| *f == key.0) {
                        Some(i) => {
                            if seen & (1 << i) != 0 {
                                return Err(de::Error::duplicate_field(T::FIELDS[i]));
                            }
                            seen |= 1 << i;
                            out.read(i, &mut map)?;
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(MapOnly)
    }
}

/// [`FromMap`] for a struct of `Option` fields, each read by its JSON key (`as Some`: a value
/// that must not be `null`), all `None` when absent.
macro_rules! from_map {
    (impl[$($generics:tt)*] $ty:ty { $($key:literal => $field:ident $(as $some:ident)?),* $(,)? }) => {
        impl<$($generics)*> FromMap<'de> for $ty {
            const FIELDS: &'static [&'static str] = &[$($key),*];
            fn empty() -> Self {
                Self { $($field: None),* }
            }
            fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
                let mut index = 0;
                $(
                    if field == index {
                        self.$field = from_map!(@read map $($some)?);
                        return Ok(());
                    }
                    index += 1;
                )*
                let _ = index;
                Ok(())
            }
        }
    };
    (@read $map:ident) => { $map.next_value()? };
    (@read $map:ident Some) => { Some($map.next_value()?) };
}

from_map!(impl['de: 'a, 'a] PodObject<'a> {
    "apiVersion" => api_version as Some,
    "kind" => kind as Some,
    "metadata" => metadata,
    "spec" => spec,
});
from_map!(impl['de: 'a, 'a, S: FromMap<'de>] Controller<'a, S> {
    "apiVersion" => api_version as Some,
    "kind" => kind as Some,
    "metadata" => metadata,
    "spec" => spec,
});
from_map!(impl['de: 'a, 'a] PodTemplateObject<'a> {
    "apiVersion" => api_version as Some,
    "kind" => kind as Some,
    "metadata" => metadata,
    "template" => template,
});
from_map!(impl['de] ControllerSpec { "template" => template });
from_map!(impl['de] CronJobSpec { "jobTemplate" => job_template });
from_map!(impl['de] JobTemplate { "spec" => spec });
from_map!(impl['de] Template { "metadata" => metadata, "spec" => spec });

impl<'de: 'a, 'a> FromMap<'de> for TopMeta<'a> {
    const FIELDS: &'static [&'static str] = &["name", "namespace", "generateName", "annotations"];
    fn empty() -> Self {
        TopMeta::default()
    }
    fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.name = map.next_value::<Option<Text<'a>>>()?.map(|t| t.0),
            // Read (a string or null, as the engine path requires), not used.
            1 => drop(map.next_value::<Option<Text<'a>>>()?),
            2 => self.generate_name = map.next_value::<Option<Text<'a>>>()?.map(|t| t.0),
            _ => self.waivers = map.next_value()?,
        }
        Ok(())
    }
}

/// The rule patterns of `waive.haven.commonground.nl/<rule>: <reason>` annotations with a
/// reason (a string, not blank); other annotations and values are skipped.
#[derive(Default)]
struct Waivers<'a>(Vec<Cow<'a, str>>);

impl Waivers<'_> {
    fn of(meta: &ObjectMeta) -> Self {
        Waivers(
            meta.annotations
                .iter()
                .flatten()
                .filter_map(|(k, v)| {
                    let rule = k.strip_prefix(haven_rules::waiver::ANNOTATION_PREFIX)?;
                    (!v.trim().is_empty()).then(|| Cow::Owned(rule.to_owned()))
                })
                .collect(),
        )
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Waivers<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Waivers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of annotations")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Waivers::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Later duplicates of a key replace earlier ones, as in a JSON object.
                let mut found: BTreeMap<Text<'a>, bool> = BTreeMap::new();
                while let Some(key) = map.next_key::<Text<'a>>()? {
                    if key.0.starts_with(haven_rules::waiver::ANNOTATION_PREFIX) {
                        let reason = map.next_value::<Reason>()?;
                        found.insert(key, reason.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Waivers(
                    found
                        .into_iter()
                        .filter(|(_, has_reason)| *has_reason)
                        .map(|(k, _)| match k.0 {
                            Cow::Borrowed(s) => {
                                Cow::Borrowed(&s[haven_rules::waiver::ANNOTATION_PREFIX.len()..])
                            }
                            Cow::Owned(s) => Cow::Owned(
                                s[haven_rules::waiver::ANNOTATION_PREFIX.len()..].to_owned(),
                            ),
                        })
                        .collect(),
                ))
            }
        }
        d.deserialize_option(OptionMap(V(std::marker::PhantomData)))
    }
}

/// `null` or a map, for [`Waivers`].
struct OptionMap<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptionMap<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self.0)
    }
}

/// Whether an annotation value is a reason: a string that is not blank. Any value is accepted.
struct Reason(bool);

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Reason;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Reason(!s.trim().is_empty()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Reason(false))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Reason(false))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Reason(false))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Reason(false))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Reason(false))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Reason(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Reason(false))
            }
        }
        d.deserialize_any(V)
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Text<'_> {}
impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}
