//! The questions a multi-tenant platform asks of a tenant's identities: can it reach outside
//! its namespaces, change bindings, escalate, bind, impersonate, read other tenants' Secrets,
//! write cluster-scoped objects, call non-resource URLs.
//!
//! Each answer is a [`Finding`] carrying the grant that causes it (binding, role, aggregated-
//! from role, subject) and whether it stays inside the tenant's namespaces (`confined`): the
//! `admin` role bound in a tenant's own namespace lets it create RoleBindings there, which is
//! what tenants are for, while the same verb through a ClusterRoleBinding is not. Which
//! findings are errors is the caller's policy.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::eval::{Grant, Identity, Request, Scope, rule_allows};
use crate::model::{Rbac, Rule};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concern {
    /// Reads (get, list, watch) namespaced objects outside the given namespaces.
    ReadOutside,
    /// Writes (create, update, patch, delete) namespaced objects outside the namespaces.
    WriteOutside,
    /// Reads Secrets outside the namespaces.
    SecretsOutside,
    /// Reads cluster-scoped objects (nodes, namespaces, CRDs, …).
    ClusterScopedRead,
    /// Writes cluster-scoped objects.
    ClusterScopedWrite,
    /// Writes its own Namespace object (a RoleBinding lets the namespace's own name through):
    /// labels such as the Pod Security level or the ones policies select on.
    NamespaceWrite,
    /// Creates, changes or deletes RoleBindings or ClusterRoleBindings.
    BindingWrite,
    /// `escalate` on roles or clusterroles: writes roles with rules it does not hold.
    Escalate,
    /// `bind` on roles or clusterroles: binds roles whose rules it does not hold.
    Bind,
    /// `impersonate` users, groups, service accounts, UIDs or user extras.
    Impersonate,
    /// Non-resource URLs (`/metrics`, `/debug/…`, `*`).
    NonResourceUrl,
}

impl Concern {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ReadOutside => "may read objects outside its namespaces",
            Self::WriteOutside => "may write objects outside its namespaces",
            Self::SecretsOutside => "may read Secrets outside its namespaces",
            Self::ClusterScopedRead => "may read cluster-scoped objects",
            Self::ClusterScopedWrite => "may write cluster-scoped objects",
            Self::NamespaceWrite => "may change or delete its Namespace object",
            Self::BindingWrite => "may create or change role bindings",
            Self::Escalate => "may escalate (write roles with rules it does not hold)",
            Self::Bind => "may bind roles it does not hold",
            Self::Impersonate => "may impersonate other identities",
            Self::NonResourceUrl => "may call non-resource URLs",
        }
    }
}

/// One concern and the grant behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub concern: Concern,
    /// The grant stays inside the given namespaces.
    pub confined: bool,
    pub grant: Grant,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.concern.describe(), self.grant)
    }
}

/// Which resources are cluster-scoped. Built-in kinds are known; add custom resources from
/// their CustomResourceDefinitions (`spec.scope`). Unknown resources count as namespaced.
#[derive(Debug, Clone)]
pub struct ResourceScopes {
    cluster_scoped: BTreeSet<(String, String)>,
}

/// The cluster-scoped resources of the built-in API groups.
const BUILTIN_CLUSTER_SCOPED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "namespaces",
            "nodes",
            "persistentvolumes",
            "componentstatuses",
        ],
    ),
    (
        "rbac.authorization.k8s.io",
        &["clusterroles", "clusterrolebindings"],
    ),
    (
        "storage.k8s.io",
        &[
            "storageclasses",
            "csidrivers",
            "csinodes",
            "volumeattachments",
            "volumeattributesclasses",
        ],
    ),
    ("apiextensions.k8s.io", &["customresourcedefinitions"]),
    (
        "admissionregistration.k8s.io",
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ],
    ),
    ("apiregistration.k8s.io", &["apiservices"]),
    ("scheduling.k8s.io", &["priorityclasses"]),
    ("node.k8s.io", &["runtimeclasses"]),
    (
        "certificates.k8s.io",
        &["certificatesigningrequests", "clustertrustbundles"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["flowschemas", "prioritylevelconfigurations"],
    ),
    (
        "networking.k8s.io",
        &["ingressclasses", "ipaddresses", "servicecidrs"],
    ),
    (
        "authentication.k8s.io",
        &["tokenreviews", "selfsubjectreviews"],
    ),
    (
        "authorization.k8s.io",
        &[
            "subjectaccessreviews",
            "selfsubjectaccessreviews",
            "selfsubjectrulesreviews",
        ],
    ),
    ("resource.k8s.io", &["deviceclasses", "resourceslices"]),
    ("internal.apiserver.k8s.io", &["storageversions"]),
];

/// Requests about oneself that every authenticated identity may make and that change nothing.
/// Pinniped's Concierge (the `kubectlLogin` capability) serves two through its aggregated API,
/// granted to everyone by its `pre-authn-apis` binding: a TokenCredentialRequest exchanges the
/// caller's own identity-provider token for a short-lived credential of that same identity,
/// a WhoAmIRequest tells the caller who they are; neither is stored.
const SELF_REVIEWS: &[(&str, &str)] = &[
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("login.concierge.pinniped.dev", "tokencredentialrequests"),
    ("identity.concierge.pinniped.dev", "whoamirequests"),
];

impl Default for ResourceScopes {
    fn default() -> Self {
        let cluster_scoped = BUILTIN_CLUSTER_SCOPED
            .iter()
            .flat_map(|(g, rs)| rs.iter().map(move |r| ((*g).to_owned(), (*r).to_owned())))
            .collect();
        Self { cluster_scoped }
    }
}

impl ResourceScopes {
    /// Records a custom resource's scope (`spec.group`, `spec.names.plural`, `spec.scope`).
    pub fn add(&mut self, group: &str, plural: &str, namespaced: bool) {
        let key = (group.to_owned(), plural.to_owned());
        if namespaced {
            self.cluster_scoped.remove(&key);
        } else {
            self.cluster_scoped.insert(key);
        }
    }

    pub fn is_cluster_scoped(&self, group: &str, resource: &str) -> bool {
        let base = resource.split('/').next().unwrap_or(resource);
        self.cluster_scoped
            .contains(&(group.to_owned(), base.to_owned()))
    }

    /// Whether the rule covers some namespaced and some cluster-scoped resource (wildcards
    /// cover both), leaving out the self reviews.
    fn coverage(&self, rule: &Rule) -> (bool, bool) {
        let (mut namespaced, mut cluster) = (false, false);
        for g in &rule.api_groups {
            for r in &rule.resources {
                if g == "*" || r == "*" || r.starts_with("*/") {
                    namespaced = true;
                    cluster = true;
                } else if SELF_REVIEWS.contains(&(g.as_str(), r.as_str())) {
                } else if self.is_cluster_scoped(g, r) {
                    cluster = true;
                } else {
                    namespaced = true;
                }
            }
        }
        (namespaced, cluster)
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

fn has_verb(rule: &Rule, verbs: &[&str]) -> bool {
    rule.verbs
        .iter()
        .any(|v| v == "*" || verbs.contains(&v.as_str()))
}

/// Whether the rule allows `verb` on `group`/`resource` for some object name.
fn allows_some(rule: &Rule, verb: &str, group: &str, resource: &str) -> bool {
    rule.allows_some(verb, group, resource)
}

impl Rule {
    /// Whether the rule allows `verb` on `group`/`resource` for some object name (its first
    /// `resourceNames` entry, when it names any).
    pub fn allows_some(&self, verb: &str, group: &str, resource: &str) -> bool {
        let name = self.resource_names.first().cloned().unwrap_or_default();
        rule_allows(
            self,
            &Request::resource(verb, group, resource, None).named(&name),
        )
    }
}

impl Rbac {
    /// Every concern about `id` when it should stay inside `namespaces`, one finding per
    /// (concern, grant), in the order of the grants.
    pub fn confinement(
        &self,
        id: &Identity,
        namespaces: &BTreeSet<String>,
        scopes: &ResourceScopes,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for grant in self.grants(id) {
            let rule = &grant.rule;
            let inside = match &grant.scope {
                Scope::Cluster => false,
                Scope::Namespace(ns) => namespaces.contains(ns),
            };
            let cluster = grant.scope == Scope::Cluster;
            let mut push = |concern: Concern, confined: bool| {
                out.push(Finding {
                    concern,
                    confined,
                    grant: grant.clone(),
                });
            };
            // Only a ClusterRoleBinding grants URLs (a request for one has no namespace).
            if cluster && !rule.non_resource_urls.is_empty() {
                push(Concern::NonResourceUrl, false);
            }
            if rule.resources.is_empty() {
                continue;
            }
            let (namespaced, cluster_scoped) = scopes.coverage(rule);
            let (reads, writes) = (has_verb(rule, READ), has_verb(rule, WRITE));
            if !inside && namespaced && reads {
                push(Concern::ReadOutside, false);
            }
            if !inside && READ.iter().any(|v| allows_some(rule, v, "", "secrets")) {
                push(Concern::SecretsOutside, false);
            }
            if !inside && namespaced && writes {
                push(Concern::WriteOutside, false);
            }
            if cluster && cluster_scoped && reads {
                push(Concern::ClusterScopedRead, false);
            }
            if cluster && cluster_scoped && writes {
                push(Concern::ClusterScopedWrite, false);
            }
            if !cluster && WRITE.iter().any(|v| allows_some(rule, v, "", "namespaces")) {
                push(Concern::NamespaceWrite, inside);
            }
            let rbac_group = "rbac.authorization.k8s.io";
            let binding_kinds: &[&str] = if cluster {
                &["rolebindings", "clusterrolebindings"]
            } else {
                &["rolebindings"]
            };
            if binding_kinds.iter().any(|r| {
                ["create", "update", "patch", "delete"]
                    .iter()
                    .any(|v| allows_some(rule, v, rbac_group, r))
            }) {
                push(Concern::BindingWrite, inside);
            }
            for (verb, concern) in [("escalate", Concern::Escalate), ("bind", Concern::Bind)] {
                if ["roles", "clusterroles"]
                    .iter()
                    .any(|r| allows_some(rule, verb, rbac_group, r))
                {
                    push(concern, inside);
                }
            }
            // Users, groups, UIDs and extras are cluster-scoped: only a ClusterRoleBinding
            // lets them be impersonated; service accounts live in namespaces.
            let mut targets: Vec<(&str, &str)> = vec![("", "serviceaccounts")];
            if cluster {
                targets.extend([
                    ("", "users"),
                    ("", "groups"),
                    ("authentication.k8s.io", "uids"),
                    ("authentication.k8s.io", "userextras/scopes"),
                ]);
            }
            let extras_wildcard = cluster
                && rule.verbs.iter().any(|v| v == "*" || v == "impersonate")
                && rule
                    .api_groups
                    .iter()
                    .any(|g| g == "*" || g == "authentication.k8s.io")
                && rule.resources.iter().any(|r| r.starts_with("userextras"));
            if extras_wildcard
                || targets
                    .iter()
                    .any(|(g, r)| allows_some(rule, "impersonate", g, r))
            {
                push(Concern::Impersonate, inside);
            }
        }
        out
    }
}
