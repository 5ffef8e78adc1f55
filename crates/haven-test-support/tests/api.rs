//! The fake API server driven by the real kube client over HTTPS.

use futures::{StreamExt, TryStreamExt};
use haven_test_support::{Access, AccessRule, ApiServer, FakeCluster, FaultAction, synthetic};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::json;
use std::time::Duration;

const EXAMPLE: &str = include_str!("../fixtures/example.yaml");

fn api_error(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn example() -> ApiServer {
    let cluster = FakeCluster::from_yaml("example.yaml", EXAMPLE).expect("example fixture");
    ApiServer::start(cluster).await.expect("server starts")
}

#[tokio::test]
async fn version_comes_from_the_fixture() {
    let server = example().await;
    let info = server.client().apiserver_version().await.unwrap();
    assert_eq!(info.minor, "31");
    assert_eq!(info.git_version, "v1.31.2");
    assert_eq!(info.major, "1", "defaults fill what the fixture leaves out");
    server.shutdown().await;
}

#[tokio::test]
async fn discovery_finds_builtins_and_crd_kinds() {
    let server = example().await;
    let discovery = Discovery::new(server.client()).run().await.unwrap();
    let (ar, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "apps",
            "v1",
            "Deployment",
        ))
        .expect("Deployment discovered");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    let (ar, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "helm.toolkit.fluxcd.io",
            "v2",
            "HelmRelease",
        ))
        .expect("HelmRelease discovered from its CRD");
    assert_eq!(ar.plural, "helmreleases");
    assert!(
        caps.subresources
            .iter()
            .any(|(sub, _)| sub.plural == "status")
    );
    let (_, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Node"))
        .expect("Node discovered");
    assert_eq!(caps.scope, Scope::Cluster);

    let aggregated = Discovery::new(server.client())
        .run_aggregated()
        .await
        .unwrap();
    assert!(
        aggregated
            .resolve_gvk(&kube::api::GroupVersionKind::gvk(
                "helm.toolkit.fluxcd.io",
                "v2",
                "HelmRelease"
            ))
            .is_some()
    );
    assert!(
        aggregated
            .resolve_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Pod"))
            .is_some()
    );
    let log = server.requests();
    assert!(
        log.iter()
            .any(|r| r == "GET /apis/helm.toolkit.fluxcd.io/v2"),
        "{log:?}"
    );

    // A custom resource is served like any other.
    let ar = ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("helm.toolkit.fluxcd.io", "v2", "HelmRelease"),
        "helmreleases",
    );
    let hr: Api<DynamicObject> = Api::namespaced_with(server.client(), "zaken", &ar);
    let got = hr.get("openzaak").await.unwrap();
    assert_eq!(
        got.data["status"]["conditions"][0]["reason"],
        "InstallSucceeded"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn list_pages_with_limit_and_continue() {
    let cluster = FakeCluster::new();
    for i in 0..5 {
        cluster
            .apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}"), "namespace": "default", "labels": {"i": i.to_string()}}}))
            .unwrap();
    }
    let server = ApiServer::start(cluster).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(2);
    loop {
        let page = cms.list(&lp).await.unwrap();
        assert!(page.items.len() <= 2);
        assert!(page.metadata.resource_version.is_some());
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(names, ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    let log = server.requests();
    assert_eq!(
        log.iter().filter(|r| r.contains("continue=")).count(),
        2,
        "{log:?}"
    );

    // A token this server never issued is a 400 like Kubernetes answers.
    let err = cms
        .list(&ListParams::default().limit(2).continue_token("garbage"))
        .await
        .unwrap_err();
    assert_eq!(api_error(err).0, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn label_and_field_selectors() {
    let cluster = FakeCluster::new();
    for (name, app, tier) in [
        ("a", "web", "front"),
        ("b", "web", "back"),
        ("c", "db", "back"),
    ] {
        cluster
            .apply(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": {"app": app, "tier": tier}},
                "spec": {"nodeName": format!("node-{name}"), "containers": []}}))
            .unwrap();
    }
    let server = ApiServer::start(cluster).await.unwrap();
    let pods: Api<Pod> = Api::all(server.client());
    let names = |l: kube::core::ObjectList<Pod>| -> Vec<String> {
        l.items
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect()
    };
    let sel = |s: &str| ListParams::default().labels(s);
    assert_eq!(names(pods.list(&sel("app=web")).await.unwrap()), ["a", "b"]);
    assert_eq!(names(pods.list(&sel("app!=web")).await.unwrap()), ["c"]);
    assert_eq!(
        names(pods.list(&sel("tier in (front),app")).await.unwrap()),
        ["a"]
    );
    assert_eq!(
        names(pods.list(&sel("app notin (web)")).await.unwrap()),
        ["c"]
    );
    assert!(names(pods.list(&sel("!app")).await.unwrap()).is_empty());
    let f = ListParams::default().fields("spec.nodeName=node-b");
    assert_eq!(names(pods.list(&f).await.unwrap()), ["b"]);
    let f = ListParams::default().fields("metadata.name!=a");
    assert_eq!(names(pods.list(&f).await.unwrap()), ["b", "c"]);
    let err = pods.list(&sel("app in web")).await.unwrap_err();
    assert_eq!(api_error(err).0, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn get_create_conflict_patch_delete() {
    let server = example().await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "zaken");
    let (code, reason, message) = api_error(cms.get("settings").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert_eq!(message, "configmaps \"settings\" not found");
    assert!(cms.get_opt("settings").await.unwrap().is_none());

    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings"}, "data": {"a": "1"}
    }))
    .unwrap();
    let created = cms.create(&PostParams::default(), &cm).await.unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let (code, reason, _) = api_error(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));

    let patched = cms
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.as_ref().unwrap().len(), 2);
    let applied = cms
        .patch(
            "settings",
            &PatchParams::apply("haven-test"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"c": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.data.as_ref().unwrap()["c"], "3");
    assert_eq!(
        server
            .cluster()
            .get("v1", "ConfigMap", Some("zaken"), "settings")
            .unwrap()["data"]["c"],
        "3"
    );
    // A stale resourceVersion on replace is a conflict.
    let mut stale = created.clone();
    stale.data = Some([("x".to_owned(), "y".to_owned())].into());
    let (code, reason, _) = api_error(
        cms.replace("settings", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));

    cms.delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    let (code, _, _) = api_error(
        cms.delete("settings", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404);

    // Creating into a namespace that does not exist fails as on a real cluster.
    let missing: Api<ConfigMap> = Api::namespaced(server.client(), "nope");
    let (code, _, message) = api_error(
        missing
            .create(&PostParams::default(), &cm)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404);
    assert!(
        message.contains("namespaces \"nope\" not found"),
        "{message}"
    );

    // generateName picks a fresh name.
    let generated: ConfigMap =
        serde_json::from_value(json!({"metadata": {"generateName": "run-"}})).unwrap();
    let made = cms
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(made.metadata.name.unwrap().starts_with("run-"));
    server.shutdown().await;
}

#[tokio::test]
async fn status_subresource_and_reactor() {
    let cluster = FakeCluster::new();
    cluster.on_create("persistentvolumeclaims", |pvc| {
        pvc["status"] = json!({"phase": "Bound"});
    });
    let server = ApiServer::start(cluster).await.unwrap();
    let pvcs: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(server.client(), "default");
    let pvc = serde_json::from_value(
        json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteMany"]}}),
    )
    .unwrap();
    let made = pvcs.create(&PostParams::default(), &pvc).await.unwrap();
    assert_eq!(made.status.unwrap().phase.as_deref(), Some("Bound"));
    let st = pvcs
        .patch_status(
            "data",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Lost"}, "spec": {"volumeName": "ignored"}})),
        )
        .await
        .unwrap();
    assert_eq!(st.status.unwrap().phase.as_deref(), Some("Lost"));
    assert!(
        st.spec.unwrap().volume_name.is_none(),
        "a status write leaves spec alone"
    );
    let got = pvcs.get_status("data").await.unwrap();
    assert_eq!(got.status.unwrap().phase.as_deref(), Some("Lost"));
    server.shutdown().await;
}

/// A controller's work after a create (a Job's pod, its log, the Job's status), and the pod
/// `log` subresource, with its access rule `pods/log`.
#[tokio::test]
async fn after_create_hooks_and_pod_logs() {
    use k8s_openapi::api::batch::v1::Job;
    use kube::api::LogParams;
    let cluster = FakeCluster::new();
    cluster.after_create("jobs", |c, job| {
        let ns = job["metadata"]["namespace"].as_str().unwrap();
        let name = job["metadata"]["name"].as_str().unwrap();
        let pod = format!("{name}-x1");
        c.apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns, "labels": {"job-name": name}}, "spec": {"containers": [{"name": "c"}]}}))
            .unwrap();
        c.set_pod_log(ns, &pod, "{\"Totals\":{}}\n");
        let mut done = job.clone();
        done["status"] = json!({"succeeded": 1});
        c.apply(done).unwrap();
    });
    let server = ApiServer::start(cluster.clone()).await.unwrap();
    let jobs: Api<Job> = Api::namespaced(server.client(), "default");
    let job = serde_json::from_value(json!({"metadata": {"name": "bench"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}}})).unwrap();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    assert_eq!(
        jobs.get("bench").await.unwrap().status.unwrap().succeeded,
        Some(1)
    );
    let pods: Api<Pod> = Api::namespaced(server.client(), "default");
    let listed = pods
        .list(&ListParams::default().labels("job-name=bench"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let log = pods.logs("bench-x1", &LogParams::default()).await.unwrap();
    assert_eq!(log, "{\"Totals\":{}}\n");
    // A pod without a log yet: 400 as the API server answers for a waiting container.
    cluster
        .apply(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "quiet", "namespace": "default"}}))
        .unwrap();
    let (code, _, message) =
        api_error(pods.logs("quiet", &LogParams::default()).await.unwrap_err());
    assert_eq!(code, 400);
    assert!(message.contains("waiting to start"), "{message}");
    let (code, _, _) = api_error(
        pods.logs("absent", &LogParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404);
    // Only with get on pods/log.
    cluster.set_access(Access::Rules(vec![AccessRule::new(
        &["get", "list"],
        &[""],
        &["pods"],
    )]));
    let (code, _, message) = api_error(
        pods.logs("bench-x1", &LogParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 403, "{message}");
    assert!(message.contains("pods/log"), "{message}");
    server.shutdown().await;
}

fn review(
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> SelfSubjectAccessReview {
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: namespace.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn access_rules_forbid_and_answer_access_reviews() {
    let cluster = FakeCluster::new();
    cluster.set_access(Access::Rules(vec![
        AccessRule::new(&["get", "list", "watch"], &[""], &["nodes", "namespaces"]),
        AccessRule::new(&["get"], &[""], &["configmaps"]).in_namespaces(&["kube-system"]),
    ]));
    let server = ApiServer::start(cluster).await.unwrap();
    let client = server.client();
    let nodes: Api<Node> = Api::all(client.clone());
    assert!(nodes.list(&ListParams::default()).await.is_ok());
    let pods: Api<Pod> = Api::all(client.clone());
    let (code, reason, message) = api_error(pods.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        "pods is forbidden: User \"system:serviceaccount:haven-system:haven\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let (code, _, message) = api_error(cms.get("x").await.unwrap_err());
    assert_eq!(code, 403);
    assert!(
        message.contains("in the namespace \"default\""),
        "{message}"
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    assert_eq!(
        api_error(cms.get("x").await.unwrap_err()).0,
        404,
        "allowed, and absent"
    );

    let ssar: Api<SelfSubjectAccessReview> = Api::all(client);
    let pp = PostParams::default();
    let allowed = |r: SelfSubjectAccessReview| r.status.unwrap().allowed;
    assert!(allowed(
        ssar.create(&pp, &review("list", "", "nodes", None))
            .await
            .unwrap()
    ));
    assert!(!allowed(
        ssar.create(&pp, &review("delete", "", "nodes", None))
            .await
            .unwrap()
    ));
    assert!(allowed(
        ssar.create(&pp, &review("get", "", "configmaps", Some("kube-system")))
            .await
            .unwrap()
    ));
    assert!(!allowed(
        ssar.create(&pp, &review("get", "", "configmaps", Some("default")))
            .await
            .unwrap()
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn injected_faults_are_api_errors() {
    let server = example().await;
    let nodes: Api<Node> = Api::all(server.client());
    server.faults().add(
        Some("GET"),
        "/api/v1/nodes",
        FaultAction::Status(500),
        Some(1),
    );
    let (code, reason, _) = api_error(nodes.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (500, "InternalError"));
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        2,
        "only once"
    );
    server.faults().fail("/api/v1/nodes", 403);
    for _ in 0..2 {
        let (code, reason, _) = api_error(nodes.list(&ListParams::default()).await.unwrap_err());
        assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    }
    server.faults().clear();
    assert!(nodes.list(&ListParams::default()).await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn injected_delay_times_the_client_out() {
    let server = example().await;
    server
        .faults()
        .delay("/api/v1/nodes", Duration::from_secs(3));
    let mut config = server.client_config();
    config.read_timeout = Some(Duration::from_millis(300));
    let client = kube::Client::try_from(config).unwrap();
    let nodes: Api<Node> = Api::all(client);
    let started = std::time::Instant::now();
    let err = nodes.list(&ListParams::default()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "timed out before the delay ended"
    );
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "a timeout is not an API answer: {err:?}"
    );
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut timed_out = false;
    while let Some(e) = source {
        timed_out |= e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
        source = e.source();
    }
    assert!(timed_out, "an io TimedOut in the error chain: {err:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn untrusted_certificate_and_wrong_token_fail() {
    let server = example().await;
    let mut config = server.client_config();
    config.root_cert = None;
    let client = kube::Client::try_from(config).unwrap();
    let err = client.apiserver_version().await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    let text = format!("{err:?}");
    assert!(
        text.contains("UnknownIssuer") || text.to_lowercase().contains("certificate"),
        "{text}"
    );

    let mut config = server.client_config();
    config.auth_info.token = Some("expired".to_owned().into());
    let client = kube::Client::try_from(config).unwrap();
    let (code, reason, _) = api_error(client.apiserver_version().await.unwrap_err());
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
    server.shutdown().await;
}

#[tokio::test]
async fn reflector_sees_namespace_label_changes() {
    use kube::runtime::{WatchStreamExt, reflector, watcher};
    let server = example().await;
    let namespaces: Api<Namespace> = Api::all(server.client());
    let (reader, writer) = reflector::store::<Namespace>();
    let stream = reflector(writer, watcher(namespaces, watcher::Config::default()))
        .applied_objects()
        .boxed();
    let task = tokio::spawn(async move {
        let mut stream = stream;
        while stream.try_next().await.is_ok_and(|o| o.is_some()) {}
    });
    tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready())
        .await
        .expect("reflector ready")
        .unwrap();
    let label = |ns: &str| {
        reader
            .get(&reflector::ObjectRef::new(ns))
            .and_then(|n| n.metadata.labels.clone())
            .and_then(|l| l.get("pod-security.kubernetes.io/enforce").cloned())
    };
    assert_eq!(label("zaken").as_deref(), Some("restricted"));

    let mut ns = server
        .cluster()
        .get("v1", "Namespace", None, "zaken")
        .unwrap();
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("baseline");
    server.cluster().apply(ns).unwrap();
    server
        .cluster()
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while (label("zaken").as_deref() != Some("baseline") || label("late").is_none())
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(label("zaken").as_deref(), Some("baseline"));
    assert_eq!(label("late").as_deref(), Some("privileged"));
    assert!(server.cluster().delete("v1", "Namespace", None, "late"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while label("late").is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(label("late").is_none(), "DELETED reached the reflector");
    assert!(server.requests().iter().any(|r| r.contains("watch=true")));
    task.abort();
    server.shutdown().await;
}

#[tokio::test]
async fn watch_replays_from_a_resource_version_and_expires_old_ones() {
    use kube::api::{WatchEvent, WatchParams};
    let server = example().await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    server
        .cluster()
        .apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one", "namespace": "default"}}))
        .unwrap();
    let mut events = cms
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .unwrap()
        .boxed();
    match events.try_next().await.unwrap() {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("one")),
        other => panic!("expected ADDED one, got {other:?}"),
    }
    let mut old = cms
        .watch(&WatchParams::default().timeout(2), "1")
        .await
        .unwrap()
        .boxed();
    match old.try_next().await {
        Ok(Some(WatchEvent::Error(e))) => assert_eq!(e.code, 410),
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 410),
        other => panic!("expected 410 Expired, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn kubeconfig_works_for_a_fresh_client() {
    let server = example().await;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml("fake")).unwrap();
    assert_eq!(kubeconfig.current_context.as_deref(), Some("fake"));
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let nodes: Api<Node> = Api::all(client);
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    server.shutdown().await;
}

#[test]
fn background_server_serves_sync_callers() {
    let server = ApiServer::start_background(synthetic(10, 30, 2)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = rt.block_on(async {
        let pods: Api<Pod> = Api::all(server.client());
        pods.list(&ListParams::default()).await.unwrap().items.len()
    });
    assert_eq!(count, 30);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_cluster_pages_through_thousands_of_nodes() {
    let cluster = tokio::task::spawn_blocking(|| synthetic(5000, 150_000, 3))
        .await
        .unwrap();
    assert_eq!(cluster.count("v1", "Pod"), 150_000);
    let server = ApiServer::start(cluster).await.unwrap();
    let nodes: Api<Node> = Api::all(server.client());
    let mut lp = ListParams::default().limit(500);
    let (mut total, mut control_plane, mut pages) = (0, 0, 0);
    let mut zones = std::collections::BTreeSet::new();
    loop {
        let page = nodes.list(&lp).await.unwrap();
        pages += 1;
        for n in &page.items {
            total += 1;
            let labels = n.metadata.labels.as_ref().unwrap();
            control_plane +=
                usize::from(labels.contains_key("node-role.kubernetes.io/control-plane"));
            zones.insert(labels["topology.kubernetes.io/zone"].clone());
            let status = n.status.as_ref().unwrap();
            assert!(
                status
                    .addresses
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|a| a.type_ == "InternalIP")
            );
            assert!(status.node_info.is_some());
        }
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!((total, control_plane, pages, zones.len()), (5000, 3, 10, 3));
    let pods: Api<Pod> = Api::namespaced(server.client(), "kube-system");
    let page = pods.list(&ListParams::default().limit(500)).await.unwrap();
    assert_eq!(page.items.len(), 500);
    assert_eq!(page.metadata.remaining_item_count, Some(10_000 - 500));
    assert!(
        page.items[0]
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o[0].kind == "DaemonSet")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn metadata_only_list_and_watch() {
    use kube::core::PartialObjectMeta;
    use kube::runtime::{WatchStreamExt, watcher};
    let server = example().await;
    let namespaces: Api<Namespace> = Api::all(server.client());
    let list = namespaces
        .list_metadata(&ListParams::default())
        .await
        .unwrap();
    assert!(
        list.items
            .iter()
            .any(|m| m.metadata.name.as_deref() == Some("zaken"))
    );
    let meta: Api<PartialObjectMeta<Namespace>> = Api::all(server.client());
    let stream = watcher(meta, watcher::Config::default()).applied_objects();
    futures::pin_mut!(stream);
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.metadata.name.is_some());
    let log = server.requests();
    assert!(
        log.iter().any(|r| r.starts_with("GET /api/v1/namespaces?")),
        "{log:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn label_selector_watch_sees_objects_enter_and_leave() {
    use kube::api::{WatchEvent, WatchParams};
    let server = example().await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let cm = |team: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"team": team}}})
    };
    server.cluster().apply(cm("b")).unwrap();
    let rv = server.cluster().resource_version().to_string();
    let mut events = cms
        .watch(&WatchParams::default().labels("team=a").timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    server.cluster().apply(cm("a")).unwrap();
    server.cluster().apply(cm("a")).unwrap();
    server.cluster().apply(cm("b")).unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(5), events.try_next()).await {
            Ok(Ok(Some(WatchEvent::Added(_)))) => seen.push("ADDED"),
            Ok(Ok(Some(WatchEvent::Modified(_)))) => seen.push("MODIFIED"),
            Ok(Ok(Some(WatchEvent::Deleted(_)))) => seen.push("DELETED"),
            other => panic!("unexpected {other:?} after {seen:?}"),
        }
    }
    assert_eq!(seen, ["ADDED", "MODIFIED", "DELETED"]);
    server.shutdown().await;
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events_and_the_end_bookmark() {
    use kube::runtime::{WatchStreamExt, reflector, watcher};
    let server = example().await;
    let namespaces: Api<Namespace> = Api::all(server.client());
    let (reader, writer) = reflector::store::<Namespace>();
    let stream = reflector(
        writer,
        watcher(namespaces, watcher::Config::default().streaming_lists()),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.try_next().await.is_ok_and(|o| o.is_some()) {}
    });
    tokio::time::timeout(Duration::from_secs(10), reader.wait_until_ready())
        .await
        .expect("ready after the initial-events-end bookmark")
        .unwrap();
    // default, kube-system, kube-public, kube-node-lease and the fixture's zaken.
    assert_eq!(reader.state().len(), 5);
    let log = server.requests();
    assert!(
        log.iter().any(|r| r.contains("sendInitialEvents=true")),
        "{log:?}"
    );
    assert!(
        !log.iter()
            .any(|r| r.starts_with("GET /api/v1/namespaces?") && !r.contains("watch=true")),
        "a streaming list needs no separate list request: {log:?}"
    );
    task.abort();
    server.shutdown().await;
}

#[tokio::test]
async fn dry_run_writes_change_nothing() {
    let server = example().await;
    let cms: Api<ConfigMap> = Api::namespaced(server.client(), "zaken");
    let rv = server.cluster().resource_version();
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "dry"}})).unwrap();
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let made = cms.create(&pp, &cm).await.unwrap();
    assert!(made.metadata.uid.is_some(), "answered like a real create");
    assert!(cms.get_opt("dry").await.unwrap().is_none());
    let deps: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(server.client(), "zaken");
    let patched = deps
        .patch(
            "openzaak",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.replicas, Some(5));
    assert_eq!(deps.get("openzaak").await.unwrap().spec.replicas, Some(2));
    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    deps.delete("openzaak", &dp).await.unwrap();
    assert!(deps.get_opt("openzaak").await.unwrap().is_some());
    assert_eq!(server.cluster().resource_version(), rv);
    server.shutdown().await;
}
