//! The engine decoder: the request parsed into `serde_json::Value`s, the object built as a
//! `haven_model::Object` and checked by `haven_rules::check`, exactly as `haven app check`
//! checks a manifest. It reads every request, Haven and Haven+ rule groups included, and
//! never gives way: its answer is the reference the fast decoder is held to.

use std::borrow::Cow;
use std::convert::Infallible;

use haven_model::{Finding, Object, RuleScope};
use haven_rules::{CheckOptions, Groups};
use serde::Deserialize;
use serde_json::Value;

use crate::policy::{ModePolicy, NamespacePolicy};
use crate::review::{
    BadRequest, Decoded, Decoder, Gvk, Header, RequestHeader, Unreadable, Workload, pod_field,
    pod_unchanged,
};

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

/// The request's objects, parsed in full with the envelope.
pub(crate) struct Engine {
    object: Option<Value>,
    old_object: Option<Value>,
}

impl<'b> Decoder<'b> for Engine {
    type GiveWay = Infallible;
    type Object = EngineObject;

    fn read(body: &'b [u8]) -> Result<Result<(Header<'b>, Self), BadRequest>, Infallible> {
        let review: Review = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Err(BadRequest(format!(
                    "request body is not an AdmissionReview: {e}"
                ))));
            }
        };
        let (request, decoder) = match review.request {
            Some(r) => (
                Some(RequestHeader {
                    uid: r.uid.map(Cow::Owned),
                    kind: r.kind.map(|k| Gvk {
                        group: Cow::Owned(k.group),
                        version: Cow::Owned(k.version),
                        kind: Cow::Owned(k.kind),
                    }),
                    namespace: r.namespace.map(Cow::Owned),
                    operation: r.operation.map(Cow::Owned),
                    username: Cow::Owned(r.user_info.username),
                    has_object: r.object.is_some(),
                }),
                Engine {
                    object: r.object,
                    old_object: r.old_object,
                },
            ),
            None => (
                None,
                Engine {
                    object: None,
                    old_object: None,
                },
            ),
        };
        let header = Header {
            api_version: review.api_version.map(Cow::Owned),
            kind: review.kind.map(Cow::Owned),
            request,
        };
        Ok(Ok((header, decoder)))
    }

    fn unchanged(&mut self, kind: &str) -> Result<bool, Infallible> {
        Ok(match (&self.object, &self.old_object) {
            (Some(new), Some(old)) => pod_unchanged(kind, new, old),
            _ => false,
        })
    }

    fn decode(
        self,
        gvk: &Gvk<'b>,
        namespace: &str,
        policy: &NamespacePolicy,
    ) -> Result<Decoded<EngineObject>, Infallible> {
        let Some(mut object) = self.object else {
            // `decide` asks only for a present object.
            return Ok(Decoded {
                runtime_class: None,
                object: Err(Unreadable::NoObject),
            });
        };
        let runtime_class = pod_field(&gvk.kind, &object, "runtimeClassName")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // Objects in AdmissionReviews usually carry apiVersion and kind; fill them in when not.
        if let Value::Object(map) = &mut object {
            let api_version = if gvk.group.is_empty() {
                gvk.version.clone().into_owned()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            map.entry("apiVersion")
                .or_insert(Value::String(api_version));
            map.entry("kind")
                .or_insert(Value::String(gvk.kind.clone().into_owned()));
            if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                meta.entry("namespace")
                    .or_insert(Value::String(namespace.to_owned()));
            }
        }
        let object = Object::from_json(object, "<admission>")
            .map(|o| EngineObject {
                objects: [o],
                tenant: policy.tenant.clone(),
            })
            .map_err(Unreadable::Input);
        Ok(Decoded {
            runtime_class,
            object,
        })
    }
}

/// An object as `haven app check` holds it (one, as `haven_rules::check` takes a slice), and
/// the tenant policy of its namespace.
pub(crate) struct EngineObject {
    objects: [Object; 1],
    tenant: haven_rules::TenantPolicy,
}

impl Workload for EngineObject {
    type Finding = Finding;

    fn name(&self) -> &str {
        &self.objects[0].name
    }

    fn findings(&self, mode: &ModePolicy) -> Result<Vec<Finding>, Unreadable> {
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
            // Dutch law's HTTPS/HSTS/TLS rules go with the Haven+ group.
            skip: if mode.plus {
                Vec::new()
            } else {
                vec!["nl.*".to_owned()]
            },
            tags: Default::default(),
            internal_domains: Vec::new(),
            tenant: self.tenant.clone(),
        };
        let outcome = haven_rules::check(&self.objects, &opts);
        if let Some(e) = outcome.errors.into_iter().next() {
            return Err(Unreadable::Input(e));
        }
        let mut findings = outcome.findings;
        // The per-object waiver annotation of `haven app check` is honoured here too.
        // No waiver files here, so the date against which their expiry is judged never matters.
        haven_rules::apply_waivers(&mut findings, &self.objects, &[], jiff::civil::Date::MIN);
        // Except for the tenant rules: the platform team's policy, not the tenant's to waive.
        findings.retain(|f| f.waived.is_none() || haven_rules::tenant::RULES.contains(&f.rule));
        Ok(findings)
    }
}
