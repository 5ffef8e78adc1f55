//! RBAC evaluation against Kubernetes semantics: aggregation, bindings, wildcards, scopes,
//! implicit groups, and the tenant confinement questions.

use std::collections::BTreeSet;

use haven_model::{Origin, load_objects};
use haven_rbac::{Concern, Defaults, Identity, Note, Rbac, Request, ResourceScopes, Scope};

fn rbac(yaml: &str) -> Rbac {
    let objects = load_objects(Origin::File("rbac.yaml"), yaml);
    assert!(objects.errors.is_empty(), "{:?}", objects.errors);
    let loaded = Rbac::load(&objects.objects, Defaults::Kubernetes);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.rbac
}

fn ns(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn allowed(r: &Rbac, id: &Identity, req: Request) -> bool {
    r.authorize(id, &req).allowed
}

const TENANT_ADMIN: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-a-admin, namespace: tenant-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: tenant-a-admins}]
"#;

const CHART_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cnpg-edit
  labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}
rules:
- apiGroups: [postgresql.cnpg.io]
  resources: [clusters]
  verbs: [create, update, patch, delete]
"#;

#[test]
fn the_default_roles_aggregate_as_in_a_real_cluster() {
    let r = rbac("");
    let admin: Vec<_> = r.cluster_role_rules("admin").unwrap();
    assert!(!admin.is_empty());
    assert_eq!(
        r.aggregated_into("admin"),
        BTreeSet::from([
            "system:aggregate-to-admin".to_owned(),
            "system:aggregate-to-edit".to_owned(),
            "system:aggregate-to-view".to_owned()
        ])
    );
    assert_eq!(
        r.aggregated_into("view"),
        BTreeSet::from(["system:aggregate-to-view".to_owned()])
    );
    let u = Identity::user("alice", &["tenant-a-admins"]);
    // No binding yet: only the defaults of every authenticated user.
    assert!(!allowed(
        &r,
        &u,
        Request::resource("get", "", "pods", Some("tenant-a"))
    ));
    assert!(allowed(
        &r,
        &u,
        Request::resource(
            "create",
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            None
        )
    ));
    assert!(allowed(
        &r,
        &u,
        Request::NonResource {
            verb: "get".into(),
            path: "/version".into()
        }
    ));
    assert!(!allowed(
        &r,
        &u,
        Request::NonResource {
            verb: "get".into(),
            path: "/metrics".into()
        }
    ));
}

#[test]
fn a_chart_role_aggregated_into_edit_reaches_admin_and_names_its_origin() {
    let r = rbac(&format!("{TENANT_ADMIN}\n---\n{CHART_ROLE}"));
    let u = Identity::user("alice", &["tenant-a-admins"]);
    let req = Request::resource("create", "postgresql.cnpg.io", "clusters", Some("tenant-a"));
    let d = r.authorize(&u, &req);
    assert!(d.allowed);
    let g = &d.granted_by[0];
    assert_eq!(g.aggregated_from.as_deref(), Some("cnpg-edit"));
    assert_eq!(g.binding.to_string(), "RoleBinding tenant-a/tenant-a-admin");
    assert_eq!(g.role.to_string(), "ClusterRole admin");
    assert_eq!(g.scope, Scope::Namespace("tenant-a".into()));
    assert!(
        g.to_string()
            .contains("aggregated from ClusterRole cnpg-edit"),
        "{g}"
    );
    // The RoleBinding holds in its namespace only.
    assert!(!allowed(
        &r,
        &u,
        Request::resource("create", "postgresql.cnpg.io", "clusters", Some("tenant-b"))
    ));
    assert!(!allowed(
        &r,
        &u,
        Request::resource("list", "postgresql.cnpg.io", "clusters", None)
    ));
    // view does not get it: the label says edit.
    assert!(!r.aggregated_into("view").contains("cnpg-edit"));
    assert!(r.aggregated_into("edit").contains("cnpg-edit"));
}

#[test]
fn a_tenant_admin_in_its_own_namespace_stays_confined() {
    let r = rbac(TENANT_ADMIN);
    let u = Identity::user("alice", &["tenant-a-admins"]);
    assert!(allowed(
        &r,
        &u,
        Request::resource("get", "", "secrets", Some("tenant-a")).named("db")
    ));
    // Its own Namespace object: a RoleBinding lets the name of its namespace through.
    assert!(allowed(
        &r,
        &u,
        Request::resource("get", "", "namespaces", Some("tenant-a")).named("tenant-a")
    ));
    assert!(!allowed(
        &r,
        &u,
        Request::resource("delete", "", "namespaces", Some("tenant-a")).named("tenant-a")
    ));
    let findings = r.confinement(&u, &ns(&["tenant-a"]), &ResourceScopes::default());
    let unconfined: Vec<_> = findings.iter().filter(|f| !f.confined).collect();
    assert!(
        unconfined
            .iter()
            .all(|f| f.grant.kubernetes_default && f.concern == Concern::NonResourceUrl),
        "{unconfined:#?}"
    );
    let confined: BTreeSet<Concern> = findings
        .iter()
        .filter(|f| f.confined)
        .map(|f| f.concern)
        .collect();
    // admin may bind roles and impersonate service accounts, in its namespace.
    assert_eq!(
        confined,
        BTreeSet::from([Concern::BindingWrite, Concern::Impersonate])
    );
}

#[test]
fn a_tenant_bound_to_cluster_admin_is_reported_for_everything() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: oops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: tenant-a}]
"#,
    );
    let sa = Identity::service_account("tenant-a", "deployer");
    assert!(allowed(
        &r,
        &sa,
        Request::resource("delete", "", "nodes", None).named("n1")
    ));
    let findings = r.confinement(&sa, &ns(&["tenant-a"]), &ResourceScopes::default());
    let concerns: BTreeSet<Concern> = findings
        .iter()
        .filter(|f| !f.grant.kubernetes_default)
        .map(|f| f.concern)
        .collect();
    assert_eq!(
        concerns,
        BTreeSet::from([
            Concern::ReadOutside,
            Concern::WriteOutside,
            Concern::SecretsOutside,
            Concern::ClusterScopedRead,
            Concern::ClusterScopedWrite,
            Concern::BindingWrite,
            Concern::Escalate,
            Concern::Bind,
            Concern::Impersonate,
            Concern::NonResourceUrl,
        ])
    );
    let f = findings
        .iter()
        .find(|f| f.concern == Concern::Escalate)
        .unwrap();
    assert!(!f.confined);
    assert_eq!(
        f.to_string(),
        "may escalate (write roles with rules it does not hold): * on * in API groups * cluster-wide (via ClusterRoleBinding oops to ClusterRole cluster-admin for ServiceAccount tenant-a/deployer)"
    );
}

#[test]
fn a_tenant_bound_to_a_role_aggregated_from_a_wildcard_role_is_reported() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: platform-operator}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: example.com/aggregate-to-operator, operator: Exists}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: some-chart-manager
  labels: {example.com/aggregate-to-operator: "yes"}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tenant-a-operator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}
subjects: [{kind: Group, name: tenant-a-admins}]
"#,
    );
    let u = Identity::user("alice", &["tenant-a-admins"]);
    let d = r.authorize(
        &u,
        &Request::resource("get", "", "secrets", Some("tenant-b")).named("x"),
    );
    assert!(d.allowed);
    assert_eq!(
        d.granted_by[0].aggregated_from.as_deref(),
        Some("some-chart-manager")
    );
    let findings = r.confinement(&u, &ns(&["tenant-a"]), &ResourceScopes::default());
    let f = findings
        .iter()
        .find(|f| f.concern == Concern::SecretsOutside)
        .unwrap();
    assert_eq!(f.grant.role.name, "platform-operator");
}

#[test]
fn reading_another_tenants_secrets_is_reported_and_own_are_not() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: peek, namespace: tenant-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: tenant-a-admins}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: own-secrets, namespace: tenant-a}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: own, namespace: tenant-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: own-secrets}
subjects: [{kind: Group, name: tenant-a-admins}]
"#,
    );
    let u = Identity::user("alice", &["tenant-a-admins"]);
    let findings = r.confinement(&u, &ns(&["tenant-a"]), &ResourceScopes::default());
    let secrets: Vec<_> = findings
        .iter()
        .filter(|f| f.concern == Concern::SecretsOutside)
        .collect();
    assert_eq!(secrets.len(), 1, "{secrets:#?}");
    assert_eq!(
        secrets[0].grant.binding.to_string(),
        "RoleBinding tenant-b/peek"
    );
    assert_eq!(
        secrets[0].grant.aggregated_from.as_deref(),
        Some("system:aggregate-to-edit")
    );
    assert!(findings.iter().any(|f| f.concern == Concern::WriteOutside));
    assert!(
        !findings
            .iter()
            .any(|f| f.concern == Concern::ClusterScopedWrite)
    );
}

#[test]
fn wildcards_subresources_and_resource_names_match_as_the_authorizer_does() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
- {apiGroups: ["*"], resources: ["*/scale"], verbs: [update]}
- {apiGroups: [""], resources: ["*"], verbs: [get]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [app-config], verbs: [get, list, update]}
- {nonResourceURLs: ["/healthz/*", /metrics], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: r}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects: [{kind: User, name: bob}]
"#,
    );
    let u = Identity::user("bob", &[]);
    let ok = |req| allowed(&r, &u, req);
    assert!(ok(Request::resource(
        "update",
        "apps",
        "deployments/scale",
        Some("x")
    )));
    assert!(!ok(Request::resource(
        "update",
        "apps",
        "deployments",
        Some("x")
    )));
    assert!(!ok(Request::resource(
        "update",
        "apps",
        "deployments/status",
        Some("x")
    )));
    assert!(
        ok(Request::resource("get", "", "pods/log", Some("x")).named("p")),
        "* covers subresources"
    );
    assert!(!ok(Request::resource(
        "get",
        "apps",
        "deployments",
        Some("x")
    )
    .named("d")));
    assert!(ok(
        Request::resource("update", "", "configmaps", Some("x")).named("app-config")
    ));
    assert!(!ok(Request::resource(
        "update",
        "",
        "configmaps",
        Some("x")
    )
    .named("other")));
    assert!(
        !ok(Request::resource("list", "", "configmaps", Some("x"))),
        "a list has no name"
    );
    let url = |p: &str| Request::NonResource {
        verb: "get".into(),
        path: p.into(),
    };
    assert!(ok(url("/healthz/etcd")));
    assert!(ok(url("/metrics")));
    assert!(!ok(url("/metrics/slis")));
    assert!(!allowed(
        &r,
        &u,
        Request::NonResource {
            verb: "post".into(),
            path: "/metrics".into()
        }
    ));
}

#[test]
fn service_accounts_carry_their_implicit_groups_and_default_namespace() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sas, namespace: shared}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: "system:serviceaccounts:tenant-a"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: local-sa, namespace: tenant-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: builder}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: no-namespace}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: builder}]
"#,
    );
    let builder = Identity::service_account("tenant-a", "builder");
    let other = Identity::service_account("tenant-b", "builder");
    assert!(allowed(
        &r,
        &builder,
        Request::resource("list", "", "pods", Some("shared"))
    ));
    assert!(!allowed(
        &r,
        &other,
        Request::resource("list", "", "pods", Some("shared"))
    ));
    assert!(allowed(
        &r,
        &builder,
        Request::resource("create", "", "configmaps", Some("tenant-a"))
    ));
    assert!(!allowed(
        &r,
        &other,
        Request::resource("create", "", "configmaps", Some("tenant-b"))
    ));
    // A ServiceAccount subject without namespace in a ClusterRoleBinding matches no one.
    assert!(!allowed(
        &r,
        &builder,
        Request::resource("delete", "", "nodes", None).named("n")
    ));
    // Every service account may read the issuer discovery document (a default).
    assert!(allowed(
        &r,
        &other,
        Request::NonResource {
            verb: "get".into(),
            path: "/openid/v1/jwks".into()
        }
    ));
}

#[test]
fn custom_resource_scopes_decide_cluster_scoped_writes() {
    let r = rbac(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: issuers}
rules: [{apiGroups: [cert-manager.io], resources: [clusterissuers], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: issuers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: issuers}
subjects: [{kind: Group, name: tenant-a-admins}]
"#,
    );
    let u = Identity::user("alice", &["tenant-a-admins"]);
    let concerns = |s: &ResourceScopes| -> BTreeSet<Concern> {
        r.confinement(&u, &ns(&["tenant-a"]), s)
            .into_iter()
            .filter(|f| !f.grant.kubernetes_default)
            .map(|f| f.concern)
            .collect()
    };
    assert_eq!(
        concerns(&ResourceScopes::default()),
        BTreeSet::from([Concern::WriteOutside])
    );
    let mut scopes = ResourceScopes::default();
    scopes.add("cert-manager.io", "clusterissuers", false);
    assert_eq!(
        concerns(&scopes),
        BTreeSet::from([Concern::ClusterScopedWrite])
    );
}

#[test]
fn bad_objects_are_errors_with_place_and_missing_roles_are_notes() {
    let text = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bad}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}
subjects: [{kind: Group, name: g}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: nope}
subjects: [{kind: Group, name: g}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agg}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: "y"}}]}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
"#;
    let objects = load_objects(Origin::File("r.yaml"), text);
    let loaded = Rbac::load(&objects.objects, Defaults::None);
    assert_eq!(loaded.errors.len(), 1);
    let e = &loaded.errors[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_deref()),
        ("r.yaml", 5, Some("roleRef.kind"))
    );
    let notes = loaded.rbac.notes();
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, Note::MissingRole { binding, .. } if binding.name == "dangling"))
    );
    assert!(notes.contains(&Note::AggregatedRulesReplaced { role: "agg".into() }));
    // The aggregated role's written rules are gone: nothing matches its selector.
    assert_eq!(loaded.rbac.cluster_role_rules("agg"), Some(Vec::new()));
}

#[test]
fn a_wildcard_chart_role_aggregated_into_admin_lets_a_tenant_rewrite_its_namespace() {
    let r = rbac(&format!(
        "{TENANT_ADMIN}\n---\n{}",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: sloppy-chart-admin
  labels: {rbac.authorization.k8s.io/aggregate-to-admin: "true"}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
"#
    ));
    let u = Identity::user("alice", &["tenant-a-admins"]);
    // Through a RoleBinding the wildcard reaches the tenant's own Namespace object.
    let d = r.authorize(
        &u,
        &Request::resource("patch", "", "namespaces", Some("tenant-a")).named("tenant-a"),
    );
    assert!(d.allowed);
    assert_eq!(
        d.granted_by[0].aggregated_from.as_deref(),
        Some("sloppy-chart-admin")
    );
    let findings = r.confinement(&u, &ns(&["tenant-a"]), &ResourceScopes::default());
    let of = |c: Concern| findings.iter().find(|f| f.concern == c);
    let ns_write = of(Concern::NamespaceWrite).expect("namespace write");
    assert!(ns_write.confined);
    assert_eq!(
        ns_write.grant.aggregated_from.as_deref(),
        Some("sloppy-chart-admin")
    );
    assert!(of(Concern::Escalate).is_some_and(|f| f.confined));
    // Still nothing outside its namespace: a RoleBinding cannot reach further.
    assert!(
        findings
            .iter()
            .filter(|f| !f.confined)
            .all(|f| f.grant.kubernetes_default),
        "{findings:#?}"
    );
}

/// Pinniped's Concierge lets everyone log in: its `pre-authn-apis` ClusterRole (as the Bitnami
/// chart the catalogue pins renders it) grants `create` and `list` on TokenCredentialRequests and
/// WhoAmIRequests to `system:authenticated` and `system:unauthenticated`. Exchanging one's own
/// token and asking who one is change nothing: a tenant stays confined; any other grant of the
/// same binding does not.
#[test]
fn pinniped_login_requests_do_not_unconfine_a_tenant() {
    let yaml = |extra: &str| {
        format!(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: pinniped-concierge-pinniped-pre-authn-apis}}
rules:
  - apiGroups: [login.concierge.pinniped.dev]
    resources: [tokencredentialrequests]
    verbs: [create, list]
  - apiGroups: [identity.concierge.pinniped.dev]
    resources: [whoamirequests]
    verbs: [create, list]
{extra}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: pinniped-concierge-pinniped-pre-authn-apis}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pinniped-concierge-pinniped-pre-authn-apis}}
subjects:
  - {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}}
  - {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:unauthenticated"}}
"#
        )
    };
    let u = Identity::user("alice", &["tenant-a-developers"]);
    let unconfined = |r: &Rbac| -> Vec<Concern> {
        r.confinement(&u, &ns(&["tenant-a"]), &ResourceScopes::default())
            .into_iter()
            .filter(|f| !f.confined && !f.grant.kubernetes_default)
            .map(|f| f.concern)
            .collect()
    };
    assert_eq!(unconfined(&rbac(&yaml(""))), Vec::<Concern>::new());
    let widened = rbac(&yaml(
        "  - apiGroups: [config.concierge.pinniped.dev]\n    resources: [credentialissuers]\n    verbs: [create]",
    ));
    assert!(!unconfined(&widened).is_empty());
}
