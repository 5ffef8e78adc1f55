//! Reading a live cluster into a [`ClusterSnapshot`].
//!
//! Every read is a paged list (`limit` 500 with `continue`), each page bounded by the request
//! timeout, and reduced to its record as soon as it arrives, so memory stays proportional to the
//! records, never to the raw objects. Pods and Secrets are never listed: no check needs them and
//! on a large cluster they dominate the cost (150,000 pods would be hundreds of MiB of JSON).
//! All reads run concurrently; a read that fails is recorded in the snapshot and decides nothing
//! else.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolumeClaim, PodSpec};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use crate::error::{ClusterError, describe_kube_error, error_chain};
use crate::snapshot::*;

/// Page size of every list.
pub const PAGE_SIZE: u32 = 500;

/// How to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Upper bound for one request (one page).
    pub request_timeout: Duration,
    /// Recorded in the snapshot.
    pub server: String,
    pub context: Option<String>,
    /// Counts finished reads (of [`READS`]), for a progress display.
    pub progress: Option<Arc<AtomicUsize>>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            request_timeout: Duration::from_secs(30),
            server: String::new(),
            context: None,
            progress: None,
        }
    }
}

/// How many reads a collection makes (each possibly several pages): `/version`, discovery,
/// ten lists and access reviews, and the custom resources.
pub const READS: usize = 12 + CUSTOM_RESOURCES.len();

/// Run a read and count it as done.
async fn counted<T>(progress: Option<&Arc<AtomicUsize>>, f: impl Future<Output = T>) -> T {
    let out = f.await;
    if let Some(p) = progress {
        p.fetch_add(1, Ordering::Relaxed);
    }
    out
}

/// Custom resources the checks and `--plus` read: `(group, plural, kind, namespaced)`.
pub const CUSTOM_RESOURCES: &[(&str, &str, &str, bool)] = &[
    ("cert-manager.io", "issuers", "Issuer", true),
    ("cert-manager.io", "clusterissuers", "ClusterIssuer", false),
    (
        "helm.toolkit.fluxcd.io",
        "helmreleases",
        "HelmRelease",
        true,
    ),
    (
        "kustomize.toolkit.fluxcd.io",
        "kustomizations",
        "Kustomization",
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "gitrepositories",
        "GitRepository",
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "helmrepositories",
        "HelmRepository",
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "ocirepositories",
        "OCIRepository",
        true,
    ),
    // The HTTPS/HSTS/TLS evidence of `--plus` (Dutch law): gateways, routes, TLS policies.
    ("gateway.networking.k8s.io", "gateways", "Gateway", true),
    ("gateway.networking.k8s.io", "httproutes", "HTTPRoute", true),
    (
        "gateway.envoyproxy.io",
        "clienttrafficpolicies",
        "ClientTrafficPolicy",
        true,
    ),
    ("traefik.io", "middlewares", "Middleware", true),
    ("traefik.io", "tlsoptions", "TLSOption", true),
    ("networking.istio.io", "gateways", "Gateway", true),
];

/// The access questions asked with SelfSubjectAccessReview: `(verb, group, resource)`.
pub const ACCESS_QUESTIONS: &[(&str, &str, &str)] = &[("*", "*", "*")];

/// Collect a snapshot. Fails only when the cluster cannot be talked to at all (unreachable,
/// untrusted certificate, rejected credentials); every other failure is recorded per read.
pub async fn collect(
    client: &Client,
    options: &CollectOptions,
) -> Result<ClusterSnapshot, ClusterError> {
    let t = options.request_timeout;
    let p = options.progress.as_ref();
    // One cheap request first: if this fails for connection, TLS or credential reasons, nothing
    // else can succeed, and the user needs that one clear message rather than fifteen UNKNOWNs.
    let mut version_timed_out = false;
    let server_version = match counted(p, timed(t, client.apiserver_version())).await {
        Ok(info) => Read::ok(ServerVersion {
            major: info.major,
            minor: info.minor,
            git_version: info.git_version,
            platform: info.platform,
        }),
        Err(e) if e.is_fatal() => return Err(e.into_cluster_error(&options.server)),
        Err(e) => {
            version_timed_out = matches!(e, ReadError::Timeout(_));
            e.into_read("get /version")
        }
    };

    let api_groups = counted(p, timed(t, discovery(client))).await;
    let api_groups = match api_groups {
        Ok(v) => Read::ok(v),
        Err(e) if e.is_fatal() => return Err(e.into_cluster_error(&options.server)),
        // Neither /version nor discovery answered: a server that accepts connections but does
        // not answer (a hung API server, a proxy swallowing the traffic). Every other read would
        // only wait for its own timeout; nothing can be judged.
        Err(ReadError::Timeout(d)) if version_timed_out => {
            return Err(ClusterError::Unreachable {
                server: options.server.clone(),
                detail: format!(
                    "neither /version nor discovery answered within {} (--timeout)",
                    seconds(d)
                ),
            });
        }
        Err(e) => e.into_read("list API groups (discovery)"),
    };

    let (
        nodes,
        namespaces,
        storage_classes,
        pvcs,
        deployments,
        daemon_sets,
        stateful_sets,
        api_services,
        crds,
        access,
    ) = futures::join!(
        counted(
            p,
            list_all::<Node, _>(client, t, "nodes (core)", node_record)
        ),
        counted(
            p,
            list_all::<Namespace, _>(client, t, "namespaces (core)", |n| NamespaceRecord {
                name: n.metadata.name.unwrap_or_default(),
                labels: n.metadata.labels.unwrap_or_default(),
            })
        ),
        counted(
            p,
            list_all::<StorageClass, _>(
                client,
                t,
                "storageclasses (storage.k8s.io)",
                storage_class_record
            )
        ),
        counted(
            p,
            list_all::<PersistentVolumeClaim, _>(
                client,
                t,
                "persistentvolumeclaims (core)",
                pvc_record
            )
        ),
        counted(
            p,
            list_all::<Deployment, _>(client, t, "deployments (apps)", deployment_record)
        ),
        counted(
            p,
            list_all::<DaemonSet, _>(client, t, "daemonsets (apps)", daemon_set_record)
        ),
        counted(
            p,
            list_all::<StatefulSet, _>(client, t, "statefulsets (apps)", stateful_set_record)
        ),
        counted(
            p,
            list_all::<APIService, _>(
                client,
                t,
                "apiservices (apiregistration.k8s.io)",
                api_service_record
            )
        ),
        counted(
            p,
            list_all::<CustomResourceDefinition, _>(
                client,
                t,
                "customresourcedefinitions (apiextensions.k8s.io)",
                crd_record
            )
        ),
        counted(p, access_reviews(client, t)),
    );

    let served: Vec<String> = api_groups.value().cloned().unwrap_or_default();
    let discovered = api_groups.value().is_some();
    let custom = join_all(CUSTOM_RESOURCES.iter().map(|&(group, plural, kind, _)| {
        let version = preferred_version(&served, group);
        async move {
            let key = format!("{plural}.{group}");
            let read = match version {
                // Not served: the CRD is not installed, so there are none.
                None if discovered => Read::ok(Vec::new()),
                None => Read::Failed {
                    message: "discovery failed, cannot tell whether the API is served".into(),
                },
                Some(version) => list_custom(client, t, group, &version, plural, kind).await,
            };
            if let Some(p) = p {
                p.fetch_add(1, Ordering::Relaxed);
            }
            (key, read)
        }
    }))
    .await;

    // Not one read succeeded and none was refused by authorization: there is no evidence to
    // judge, so this is "could not run", not "NOT compliant".
    let problems = [
        server_version.problem_if_failed(),
        api_groups.problem_if_failed(),
        nodes.problem_if_failed(),
        namespaces.problem_if_failed(),
        storage_classes.problem_if_failed(),
        pvcs.problem_if_failed(),
        deployments.problem_if_failed(),
        daemon_sets.problem_if_failed(),
        stateful_sets.problem_if_failed(),
        api_services.problem_if_failed(),
        crds.problem_if_failed(),
        access.problem_if_failed(),
    ];
    if problems.iter().all(Option::is_some) {
        let first = problems.into_iter().flatten().next().unwrap_or_default();
        return Err(ClusterError::Other(format!(
            "no read of the API server at {} succeeded, nothing can be judged; the first failure: {first}",
            options.server
        )));
    }

    Ok(ClusterSnapshot {
        api_version: SNAPSHOT_API_VERSION.into(),
        kind: SNAPSHOT_KIND.into(),
        collected_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        server: options.server.clone(),
        context: options.context.clone(),
        server_version,
        api_groups,
        nodes,
        namespaces,
        storage_classes,
        persistent_volume_claims: pvcs,
        deployments,
        daemon_sets,
        stateful_sets,
        api_services,
        crds,
        custom_resources: custom.into_iter().collect::<BTreeMap<_, _>>(),
        access,
        probes: Vec::new(),
    })
}

/// The first served version of `group` in discovery order (the server lists the preferred one first).
fn preferred_version(served: &[String], group: &str) -> Option<String> {
    served.iter().find_map(|gv| {
        let (g, v) = gv.split_once('/')?;
        (g == group).then(|| v.to_owned())
    })
}

async fn discovery(client: &Client) -> Result<Vec<String>, kube::Error> {
    let core = client.list_core_api_versions().await?;
    let mut out: Vec<String> = core.versions;
    let groups = client.list_api_groups().await?;
    for g in groups.groups {
        // Preferred version first, then the others.
        let preferred = g
            .preferred_version
            .as_ref()
            .map(|p| p.group_version.clone());
        if let Some(p) = &preferred {
            out.push(p.clone());
        }
        for v in g.versions {
            if Some(&v.group_version) != preferred.as_ref() {
                out.push(v.group_version);
            }
        }
    }
    Ok(out)
}

/// A kube error or a timeout, classified.
#[derive(Debug)]
pub(crate) enum ReadError {
    Kube(kube::Error),
    Timeout(Duration),
}

impl ReadError {
    /// Connection, TLS and authentication failures: nothing can be read.
    fn is_fatal(&self) -> bool {
        match self {
            ReadError::Timeout(_) => false,
            ReadError::Kube(kube::Error::Api(s)) => s.code == 401,
            ReadError::Kube(kube::Error::SerdeError(_)) => false,
            ReadError::Kube(_) => true,
        }
    }

    fn into_cluster_error(self, server: &str) -> ClusterError {
        match self {
            ReadError::Kube(e) => describe_kube_error(&e, server),
            ReadError::Timeout(d) => ClusterError::Unreachable {
                server: server.into(),
                detail: format!("no answer within {}", seconds(d)),
            },
        }
    }

    /// The failure as a recorded read; `what` is the permission the read needs, e.g. `list nodes (core)`.
    pub(crate) fn into_read<T>(self, what: &str) -> Read<T> {
        match self {
            ReadError::Kube(kube::Error::Api(s)) if s.code == 403 => Read::Forbidden {
                permission: what.into(),
                message: s.message.clone(),
            },
            ReadError::Kube(kube::Error::Api(s)) => Read::Failed {
                message: format!("{what}: HTTP {} {}: {}", s.code, s.reason, s.message),
            },
            ReadError::Kube(e) => Read::Failed {
                message: format!("{what}: {}", error_chain(&e)),
            },
            ReadError::Timeout(d) => Read::Failed {
                message: format!("{what}: timed out after {}", seconds(d)),
            },
        }
    }
}

/// `2s`, `1.5s`: a duration as the user typed it.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f32())
}

async fn timed<T>(
    t: Duration,
    f: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, ReadError> {
    match tokio::time::timeout(t, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ReadError::Kube(e)),
        Err(_) => Err(ReadError::Timeout(t)),
    }
}

/// List every object of a cluster-wide kind page by page, reducing each to a record.
async fn list_all<K, R>(
    client: &Client,
    t: Duration,
    what: &str,
    reduce: impl Fn(K) -> R,
) -> Read<Vec<R>>
where
    K: Resource<Scope: Sized> + Clone + DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        if let Some(c) = &token {
            lp = lp.continue_token(c);
        }
        match timed(t, api.list(&lp)).await {
            Ok(page) => {
                token = page.metadata.continue_.filter(|c| !c.is_empty());
                out.extend(page.items.into_iter().map(&reduce));
                if token.is_none() {
                    return Read::ok(out);
                }
            }
            Err(e) => return e.into_read(&format!("list {what}")),
        }
    }
}

async fn list_custom(
    client: &Client,
    t: Duration,
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
) -> Read<Vec<CustomRecord>> {
    let ar = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let what = format!("list {plural} ({group})");
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        if let Some(c) = &token {
            lp = lp.continue_token(c);
        }
        match timed(t, api.list(&lp)).await {
            Ok(page) => {
                token = page.metadata.continue_.filter(|c| !c.is_empty());
                out.extend(
                    page.items
                        .into_iter()
                        .map(|o| custom_record(group, kind, o)),
                );
                if token.is_none() {
                    return Read::ok(out);
                }
            }
            // Served in discovery but gone by now: nothing there.
            Err(ReadError::Kube(kube::Error::Api(s))) if s.code == 404 => {
                return Read::ok(Vec::new());
            }
            Err(e) => return e.into_read(&what),
        }
    }
}

async fn access_reviews(client: &Client, t: Duration) -> Read<Vec<AccessRecord>> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut out = Vec::new();
    for &(verb, group, resource) in ACCESS_QUESTIONS {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        match timed(t, api.create(&PostParams::default(), &review)).await {
            Ok(answer) => {
                let status = answer.status.unwrap_or_default();
                out.push(AccessRecord {
                    verb: verb.into(),
                    group: group.into(),
                    resource: resource.into(),
                    allowed: status.allowed,
                    reason: status.reason.unwrap_or_default(),
                });
            }
            Err(e) => return e.into_read("create selfsubjectaccessreviews (authorization.k8s.io)"),
        }
    }
    Read::ok(out)
}

fn node_record(n: Node) -> NodeRecord {
    let spec = n.spec.unwrap_or_default();
    let status = n.status.unwrap_or_default();
    let info = status.node_info.unwrap_or_default();
    NodeRecord {
        name: n.metadata.name.unwrap_or_default(),
        labels: n.metadata.labels.unwrap_or_default(),
        taints: spec
            .taints
            .unwrap_or_default()
            .into_iter()
            .map(|t| format!("{}:{}", t.key, t.effect))
            .collect(),
        addresses: status
            .addresses
            .unwrap_or_default()
            .into_iter()
            .map(|a| NodeAddress {
                kind: a.type_,
                address: a.address,
            })
            .collect(),
        provider_id: spec.provider_id,
        os_image: info.os_image,
        kernel_version: info.kernel_version,
        kubelet_version: info.kubelet_version,
        container_runtime_version: info.container_runtime_version,
        operating_system: info.operating_system,
        architecture: info.architecture,
        ready: status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
    }
}

fn storage_class_record(s: StorageClass) -> StorageClassRecord {
    let annotations = s.metadata.annotations.unwrap_or_default();
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| annotations.get(*k).is_some_and(|v| v == "true"));
    StorageClassRecord {
        name: s.metadata.name.unwrap_or_default(),
        provisioner: s.provisioner,
        is_default,
    }
}

fn pvc_record(p: PersistentVolumeClaim) -> PvcRecord {
    let spec = p.spec.unwrap_or_default();
    PvcRecord {
        namespace: p.metadata.namespace.unwrap_or_default(),
        name: p.metadata.name.unwrap_or_default(),
        access_modes: spec.access_modes.unwrap_or_default(),
        storage_class: spec.storage_class_name,
        phase: p.status.and_then(|s| s.phase).unwrap_or_default(),
    }
}

fn images(spec: Option<&PodSpec>) -> Vec<String> {
    let Some(spec) = spec else { return Vec::new() };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .filter_map(|c| c.image.clone())
        .collect()
}

fn deployment_record(d: Deployment) -> WorkloadRecord {
    let spec = d.spec;
    let status = d.status.unwrap_or_default();
    WorkloadRecord {
        kind: "Deployment".into(),
        namespace: d.metadata.namespace.unwrap_or_default(),
        name: d.metadata.name.unwrap_or_default(),
        labels: d.metadata.labels.unwrap_or_default(),
        images: images(spec.template.spec.as_ref()),
        desired: spec.replicas.unwrap_or(1),
        // Available is what counts; servers that omit it (old or minimal ones) report ready.
        ready: status
            .available_replicas
            .or(status.ready_replicas)
            .unwrap_or(0),
    }
}

fn daemon_set_record(d: DaemonSet) -> WorkloadRecord {
    let spec = d.spec;
    let status = d.status.unwrap_or_default();
    WorkloadRecord {
        kind: "DaemonSet".into(),
        namespace: d.metadata.namespace.unwrap_or_default(),
        name: d.metadata.name.unwrap_or_default(),
        labels: d.metadata.labels.unwrap_or_default(),
        images: images(spec.template.spec.as_ref()),
        desired: status.desired_number_scheduled,
        ready: status.number_ready,
    }
}

fn stateful_set_record(s: StatefulSet) -> WorkloadRecord {
    let spec = s.spec;
    let status = s.status.unwrap_or_default();
    WorkloadRecord {
        kind: "StatefulSet".into(),
        namespace: s.metadata.namespace.unwrap_or_default(),
        name: s.metadata.name.unwrap_or_default(),
        labels: s.metadata.labels.unwrap_or_default(),
        images: images(spec.template.spec.as_ref()),
        desired: spec.replicas.unwrap_or(1),
        ready: status.ready_replicas.unwrap_or(0),
    }
}

fn api_service_record(a: APIService) -> ApiServiceRecord {
    let spec = a.spec.unwrap_or_default();
    let condition = a
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Available");
    ApiServiceRecord {
        name: a.metadata.name.unwrap_or_default(),
        service: spec.service.map(|s| {
            format!(
                "{}/{}",
                s.namespace.unwrap_or_default(),
                s.name.unwrap_or_default()
            )
        }),
        available: condition.as_ref().map(|c| c.status == "True"),
        message: condition.and_then(|c| c.message).unwrap_or_default(),
    }
}

fn crd_record(c: CustomResourceDefinition) -> CrdRecord {
    CrdRecord {
        name: c.metadata.name.unwrap_or_default(),
        group: c.spec.group,
        kind: c.spec.names.kind,
        versions: c
            .spec
            .versions
            .into_iter()
            .filter(|v| v.served)
            .map(|v| v.name)
            .collect(),
        established: c
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True"),
    }
}

fn custom_record(group: &str, kind: &str, o: DynamicObject) -> CustomRecord {
    let ready = o
        .data
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .and_then(|conds| {
            conds
                .iter()
                .find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))
        });
    let text = |p: &str| {
        o.data
            .pointer(p)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    CustomRecord {
        kind: kind.into(),
        namespace: o.metadata.namespace.clone(),
        name: o.metadata.name.clone().unwrap_or_default(),
        labels: o.metadata.labels.clone().unwrap_or_default(),
        ready: ready.map(|c| c.get("status").and_then(|s| s.as_str()) == Some("True")),
        message: ready
            .and_then(|c| c.get("message").and_then(|m| m.as_str()))
            .unwrap_or_default()
            .to_owned(),
        chart: text("/spec/chart/spec/chart").or_else(|| text("/spec/chartRef/name")),
        chart_version: text("/spec/chart/spec/version")
            .or_else(|| text("/status/lastAttemptedRevision")),
        transport: haven_snapshot::TransportFacts::read(
            group,
            kind,
            o.metadata.namespace.as_deref(),
            &o.data,
        ),
    }
}
