//! What an identity may do: its grants, the answer to one request (as the RBAC authorizer
//! gives it), and the confinement questions of a multi-tenant platform.
//!
//! Rule matching follows `k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go`: `*` in
//! verbs, apiGroups or resources matches everything (a resource `*` also every subresource),
//! `*/sub` matches subresource `sub` of every resource, resourceNames restrict to those names
//! (so never a list, watch or create, which carry no name), and a nonResourceURL ending in `*`
//! matches by prefix. A RoleBinding grants only requests in its namespace; a ClusterRoleBinding
//! grants everywhere, cluster-scoped requests and non-resource URLs included.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::model::{BindingId, Rbac, RoleId, Rule, Subject};

/// Who asks: a user name and its groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub user: String,
    pub groups: BTreeSet<String>,
}

impl Identity {
    /// An authenticated user: `system:authenticated` is added to its groups, as every
    /// authenticator does.
    pub fn user(name: &str, groups: &[&str]) -> Self {
        let mut g: BTreeSet<String> = groups.iter().map(|s| (*s).to_owned()).collect();
        g.insert("system:authenticated".into());
        Self {
            user: name.to_owned(),
            groups: g,
        }
    }

    /// A service account: user `system:serviceaccount:<ns>:<name>`, groups
    /// `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            user: format!("system:serviceaccount:{namespace}:{name}"),
            groups: BTreeSet::from([
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ]),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user)
    }
}

/// Where a grant holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Scope {
    /// Through a ClusterRoleBinding: every namespace, cluster-scoped objects, URLs.
    Cluster,
    /// Through a RoleBinding: requests in this namespace only.
    Namespace(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cluster => f.write_str("cluster-wide"),
            Self::Namespace(ns) => write!(f, "in namespace {ns}"),
        }
    }
}

/// One rule an identity holds, and how: through which binding, role and subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub scope: Scope,
    pub rule: Rule,
    pub binding: BindingId,
    pub role: RoleId,
    /// The ClusterRole that wrote the rule, when the bound role aggregated it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<String>,
    /// The subject of the binding that matched the identity.
    pub subject: Subject,
    /// Whether the binding is one of the API server's defaults (every cluster has it).
    pub kubernetes_default: bool,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (via {} to {} for {}",
            self.rule, self.scope, self.binding, self.role, self.subject
        )?;
        if let Some(from) = &self.aggregated_from {
            write!(f, ", aggregated from ClusterRole {from}")?;
        }
        if self.kubernetes_default {
            f.write_str(", a Kubernetes default")?;
        }
        f.write_str(")")
    }
}

/// A request as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Request {
    /// `verb` on `group`/`resource`[/`subresource`], object `name` (empty for list, watch,
    /// create), in `namespace` (`None` for cluster-scoped objects and all-namespace lists;
    /// for the Namespace object itself, its own name, as the API server's request info sets).
    Resource {
        verb: String,
        group: String,
        resource: String,
        subresource: String,
        name: String,
        namespace: Option<String>,
    },
    /// `verb` (`get`, `post`, …) on a URL path such as `/metrics`.
    NonResource { verb: String, path: String },
}

impl Request {
    pub fn resource(verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Self {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Self::Resource {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.to_owned(),
            name: String::new(),
            namespace: namespace.map(str::to_owned),
        }
    }

    /// The same request for one named object.
    pub fn named(mut self, object: &str) -> Self {
        if let Self::Resource { name, .. } = &mut self {
            *name = object.to_owned();
        }
        self
    }

    fn namespace(&self) -> Option<&str> {
        match self {
            Self::Resource { namespace, .. } => namespace.as_deref(),
            Self::NonResource { .. } => None,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resource {
                verb,
                group,
                resource,
                subresource,
                name,
                namespace,
            } => {
                write!(f, "{verb} {resource}")?;
                if !subresource.is_empty() {
                    write!(f, "/{subresource}")?;
                }
                if !group.is_empty() {
                    write!(f, ".{group}")?;
                }
                if !name.is_empty() {
                    write!(f, " {name}")?;
                }
                match namespace {
                    Some(ns) => write!(f, " in namespace {ns}"),
                    None => f.write_str(" (cluster scope)"),
                }
            }
            Self::NonResource { verb, path } => write!(f, "{verb} {path}"),
        }
    }
}

/// The answer to one request, with every grant that allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub granted_by: Vec<Grant>,
}

pub(crate) fn rule_allows(rule: &Rule, request: &Request) -> bool {
    let verb_ok = |verb: &str| rule.verbs.iter().any(|v| v == "*" || v == verb);
    match request {
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            let combined = if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            verb_ok(verb)
                && rule.api_groups.iter().any(|g| g == "*" || g == group)
                && rule.resources.iter().any(|r| {
                    r == "*"
                        || *r == combined
                        || (!subresource.is_empty()
                            && r.len() == subresource.len() + 2
                            && r.starts_with("*/")
                            && r.ends_with(subresource.as_str()))
                })
                && (rule.resource_names.is_empty() || rule.resource_names.contains(name))
        }
        Request::NonResource { verb, path } => {
            verb_ok(verb)
                && rule.non_resource_urls.iter().any(|u| {
                    u == "*"
                        || u == path
                        || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
                })
        }
    }
}

fn subject_matches(subject: &Subject, id: &Identity) -> bool {
    match subject {
        Subject::User(n) => *n == id.user,
        Subject::Group(g) => id.groups.contains(g),
        Subject::ServiceAccount { namespace, name } => namespace
            .as_ref()
            .is_some_and(|ns| id.user == format!("system:serviceaccount:{ns}:{name}")),
    }
}

impl Rbac {
    /// Every rule `id` holds, with the binding, role and subject it holds it through.
    pub fn grants(&self, id: &Identity) -> Vec<Grant> {
        let mut out = Vec::new();
        for b in &self.bindings {
            let Some(subject) = b.subjects.iter().find(|s| subject_matches(s, id)) else {
                continue;
            };
            let scope = match &b.id.namespace {
                Some(ns) => Scope::Namespace(ns.clone()),
                None => Scope::Cluster,
            };
            let rules: Vec<(Rule, Option<String>)> = match &b.role.namespace {
                Some(ns) => self
                    .roles
                    .get(&(ns.clone(), b.role.name.clone()))
                    .into_iter()
                    .flatten()
                    .map(|r| (r.clone(), None))
                    .collect(),
                None => self.cluster_role_rules(&b.role.name).unwrap_or_default(),
            };
            for (rule, origin) in rules {
                out.push(Grant {
                    scope: scope.clone(),
                    rule,
                    binding: b.id.clone(),
                    role: b.role.clone(),
                    aggregated_from: origin,
                    subject: subject.clone(),
                    kubernetes_default: b.default,
                });
            }
        }
        out
    }

    /// Whether `id` may make `request`, as the RBAC authorizer decides, and by which grants.
    pub fn authorize(&self, id: &Identity, request: &Request) -> Decision {
        let granted_by: Vec<Grant> = self
            .grants(id)
            .into_iter()
            .filter(|g| match &g.scope {
                Scope::Cluster => true,
                Scope::Namespace(ns) => request.namespace() == Some(ns.as_str()),
            })
            .filter(|g| rule_allows(&g.rule, request))
            .collect();
        Decision {
            allowed: !granted_by.is_empty(),
            granted_by,
        }
    }
}
