//! The RBAC objects, read and resolved: Roles, ClusterRoles (aggregation resolved as the
//! clusterrole-aggregation controller does), RoleBindings and ClusterRoleBindings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use haven_model::{InputError, InputErrorKind, Object, Origin, load_objects};
use haven_selector::{Labels, Selector};
use k8s_openapi::api::rbac::v1 as rbac;
use serde::Serialize;

/// One rule of a role (`rbac.authorization.k8s.io/v1` `PolicyRule`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Rule {
    pub verbs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

impl From<&rbac::PolicyRule> for Rule {
    fn from(r: &rbac::PolicyRule) -> Self {
        let v = |x: &Option<Vec<String>>| x.clone().unwrap_or_default();
        Self {
            verbs: r.verbs.clone(),
            api_groups: v(&r.api_groups),
            resources: v(&r.resources),
            resource_names: v(&r.resource_names),
            non_resource_urls: v(&r.non_resource_urls),
        }
    }
}

/// `verbs [..] on group/resource [names] | urls [..]`, close to `kubectl describe role`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.verbs.join(","))?;
        if !self.non_resource_urls.is_empty() {
            return write!(f, "on URLs {}", self.non_resource_urls.join(","));
        }
        let groups: Vec<&str> = self
            .api_groups
            .iter()
            .map(|g| if g.is_empty() { "core" } else { g.as_str() })
            .collect();
        write!(
            f,
            "on {} in API groups {}",
            self.resources.join(","),
            groups.join(",")
        )?;
        if !self.resource_names.is_empty() {
            write!(f, " named {}", self.resource_names.join(","))?;
        }
        Ok(())
    }
}

/// A Role (`namespace` set) or a ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleId {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "Role {ns}/{}", self.name),
            None => write!(f, "ClusterRole {}", self.name),
        }
    }
}

/// A RoleBinding (`namespace` set) or a ClusterRoleBinding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BindingId {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for BindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "RoleBinding {ns}/{}", self.name),
            None => write!(f, "ClusterRoleBinding {}", self.name),
        }
    }
}

/// A binding's subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Subject {
    User(String),
    Group(String),
    /// Namespace (defaulted to the RoleBinding's own, as the authorizer does) and name.
    ServiceAccount {
        namespace: Option<String>,
        name: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(n) => write!(f, "User {n}"),
            Self::Group(n) => write!(f, "Group {n}"),
            Self::ServiceAccount { namespace, name } => write!(
                f,
                "ServiceAccount {}/{name}",
                namespace.as_deref().unwrap_or("?")
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClusterRoleDef {
    pub labels: Labels,
    pub rules: Vec<Rule>,
    pub aggregation: Option<Vec<Selector>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub id: BindingId,
    pub role: RoleId,
    pub subjects: Vec<Subject>,
    pub default: bool,
}

/// A rule as a role holds it after aggregation: `origin` names the ClusterRole that wrote it
/// when it was aggregated in from another role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldRule {
    pub rule: Rule,
    pub origin: Option<String>,
}

/// Something about the RBAC objects worth saying that is not an input error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Note {
    #[error("{binding} refers to {role}, which does not exist: it grants nothing")]
    MissingRole { binding: BindingId, role: RoleId },
    #[error(
        "ClusterRole {role} has an aggregationRule: the rules written in it are replaced by the aggregated ones"
    )]
    AggregatedRulesReplaced { role: String },
}

/// Roles, ClusterRoles and bindings, aggregation resolved.
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    pub(crate) roles: BTreeMap<(String, String), Vec<Rule>>,
    pub(crate) cluster_roles: BTreeMap<String, ClusterRoleDef>,
    pub(crate) bindings: Vec<Binding>,
    /// ClusterRole rules after aggregation.
    pub(crate) effective: BTreeMap<String, Vec<HeldRule>>,
    pub(crate) notes: Vec<Note>,
}

const DEFAULTS: &str = include_str!("../data/kubernetes-defaults.yaml");

fn defaults() -> &'static [Object] {
    static OBJECTS: OnceLock<Vec<Object>> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let out = load_objects(Origin::File("kubernetes-defaults.yaml"), DEFAULTS);
        assert!(out.errors.is_empty(), "embedded defaults: {:?}", out.errors);
        out.objects
    })
}

/// What [`Rbac::load`] read, and what it could not.
#[derive(Debug)]
pub struct Loaded {
    pub rbac: Rbac,
    pub errors: Vec<InputError>,
}

/// Whether to add the API server's own default roles and bindings (see
/// `data/kubernetes-defaults.yaml`): `cluster-admin`, `admin`, `edit`, `view` and their
/// aggregation roles, and what every authenticated identity is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    Kubernetes,
    None,
}

impl Rbac {
    /// Reads the RBAC objects among `objects` (every other kind is ignored) on top of the
    /// defaults, and resolves aggregation. A bad object is an [`InputError`] with file, line
    /// and field; the others are still read. A later object replaces an earlier one of the
    /// same kind, namespace and name, as applying them would.
    pub fn load(objects: &[Object], defaults_: Defaults) -> Loaded {
        let mut rbac = Rbac::default();
        let mut errors = Vec::new();
        if defaults_ == Defaults::Kubernetes {
            for o in defaults() {
                rbac.add(o, true)
                    .expect("the embedded defaults are valid RBAC objects");
            }
        }
        for o in objects {
            if let Err(e) = rbac.add(o, false) {
                errors.push(e);
            }
        }
        rbac.resolve();
        Loaded { rbac, errors }
    }

    fn add(&mut self, o: &Object, default: bool) -> Result<(), InputError> {
        if o.api_group() != "rbac.authorization.k8s.io" {
            return Ok(());
        }
        let bad = |field: &str, message: String| {
            let at = o.location(field);
            InputError::new(InputErrorKind::FieldType, &at.file, at.line, message).with_field(field)
        };
        let decode_err = |e: serde_json::Error| {
            bad(
                "",
                format!("{} {}: not a valid {}: {e}", o.kind, o.name, o.kind),
            )
        };
        let namespace = o.namespace.clone().unwrap_or_else(|| "default".into());
        match o.kind.as_str() {
            "Role" => {
                let r: rbac::Role = serde_json::from_value(o.value.clone()).map_err(decode_err)?;
                let rules = r.rules.iter().flatten().map(Rule::from).collect();
                self.roles.insert((namespace, o.name.clone()), rules);
            }
            "ClusterRole" => {
                let r: rbac::ClusterRole =
                    serde_json::from_value(o.value.clone()).map_err(decode_err)?;
                let aggregation = match &r.aggregation_rule {
                    None => None,
                    Some(a) => {
                        let mut sels = Vec::new();
                        for (i, s) in a.cluster_role_selectors.iter().flatten().enumerate() {
                            let field = format!("aggregationRule.clusterRoleSelectors[{i}]");
                            sels.push(Selector::from_label_selector(Some(s)).map_err(|e| {
                                bad(&field, format!("ClusterRole {}: {e}", o.name))
                            })?);
                        }
                        Some(sels)
                    }
                };
                self.cluster_roles.insert(
                    o.name.clone(),
                    ClusterRoleDef {
                        labels: r.metadata.labels.clone().unwrap_or_default(),
                        rules: r.rules.iter().flatten().map(Rule::from).collect(),
                        aggregation,
                    },
                );
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let cluster = o.kind == "ClusterRoleBinding";
                let (role_ref, subjects) = if cluster {
                    let b: rbac::ClusterRoleBinding =
                        serde_json::from_value(o.value.clone()).map_err(decode_err)?;
                    (b.role_ref, b.subjects.unwrap_or_default())
                } else {
                    let b: rbac::RoleBinding =
                        serde_json::from_value(o.value.clone()).map_err(decode_err)?;
                    (b.role_ref, b.subjects.unwrap_or_default())
                };
                let role = match (role_ref.kind.as_str(), cluster) {
                    ("ClusterRole", _) => RoleId {
                        namespace: None,
                        name: role_ref.name.clone(),
                    },
                    ("Role", false) => RoleId {
                        namespace: Some(namespace.clone()),
                        name: role_ref.name.clone(),
                    },
                    (other, _) => {
                        return Err(bad(
                            "roleRef.kind",
                            format!(
                                "{} {}: roleRef.kind `{other}` is not valid here (a {} refers to {})",
                                o.kind,
                                o.name,
                                o.kind,
                                if cluster {
                                    "ClusterRole"
                                } else {
                                    "Role or ClusterRole"
                                }
                            ),
                        ));
                    }
                };
                let binding_ns = (!cluster).then(|| namespace.clone());
                let mut subs = Vec::new();
                for (i, s) in subjects.iter().enumerate() {
                    subs.push(match s.kind.as_str() {
                        "User" => Subject::User(s.name.clone()),
                        "Group" => Subject::Group(s.name.clone()),
                        "ServiceAccount" => Subject::ServiceAccount {
                            namespace: s
                                .namespace
                                .clone()
                                .filter(|n| !n.is_empty())
                                .or_else(|| binding_ns.clone()),
                            name: s.name.clone(),
                        },
                        other => {
                            return Err(bad(
                                &format!("subjects[{i}].kind"),
                                format!(
                                    "{} {}: subject kind `{other}` is not User, Group or ServiceAccount",
                                    o.kind, o.name
                                ),
                            ));
                        }
                    });
                }
                let id = BindingId {
                    namespace: binding_ns,
                    name: o.name.clone(),
                };
                self.bindings.retain(|b| b.id != id);
                self.bindings.push(Binding {
                    id,
                    role,
                    subjects: subs,
                    default,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// Resolves aggregation as `ClusterRoleAggregationController` does, to its fixed point:
    /// an aggregated ClusterRole's rules become the rules, in order and without duplicates, of
    /// every other ClusterRole any of its selectors matches, taken in name order per selector
    /// (a matched role that aggregates itself contributes its aggregated rules).
    fn resolve(&mut self) {
        self.notes.clear();
        let mut effective: BTreeMap<String, Vec<HeldRule>> = self
            .cluster_roles
            .iter()
            .map(|(name, def)| {
                let held = if def.aggregation.is_some() {
                    Vec::new()
                } else {
                    def.rules
                        .iter()
                        .map(|r| HeldRule {
                            rule: r.clone(),
                            origin: None,
                        })
                        .collect()
                };
                (name.clone(), held)
            })
            .collect();
        // Each round can only add rules (the sets grow from empty), so this ends; the bound
        // is the longest aggregation chain possible.
        for _ in 0..=self.cluster_roles.len() {
            let mut changed = false;
            let mut next = effective.clone();
            for (name, def) in &self.cluster_roles {
                let Some(selectors) = &def.aggregation else {
                    continue;
                };
                let mut rules: Vec<HeldRule> = Vec::new();
                for sel in selectors {
                    for (other, other_def) in &self.cluster_roles {
                        if other == name || !sel.matches(&other_def.labels) {
                            continue;
                        }
                        for held in &effective[other] {
                            if !rules.iter().any(|h| h.rule == held.rule) {
                                rules.push(HeldRule {
                                    rule: held.rule.clone(),
                                    origin: Some(
                                        held.origin.clone().unwrap_or_else(|| other.clone()),
                                    ),
                                });
                            }
                        }
                    }
                }
                if next[name] != rules {
                    changed = true;
                    next.insert(name.clone(), rules);
                }
            }
            effective = next;
            if !changed {
                break;
            }
        }
        for (name, def) in &self.cluster_roles {
            if def.aggregation.is_some() && !def.rules.is_empty() {
                self.notes
                    .push(Note::AggregatedRulesReplaced { role: name.clone() });
            }
        }
        self.effective = effective;
        for b in &self.bindings {
            let exists = match &b.role.namespace {
                Some(ns) => self.roles.contains_key(&(ns.clone(), b.role.name.clone())),
                None => self.cluster_roles.contains_key(&b.role.name),
            };
            if !exists {
                self.notes.push(Note::MissingRole {
                    binding: b.id.clone(),
                    role: b.role.clone(),
                });
            }
        }
    }

    /// Things worth telling that are not errors (a binding to a missing role, …).
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The rules a ClusterRole holds after aggregation, with the role each came from.
    pub fn cluster_role_rules(&self, name: &str) -> Option<Vec<(Rule, Option<String>)>> {
        self.effective.get(name).map(|rules| {
            rules
                .iter()
                .map(|h| (h.rule.clone(), h.origin.clone()))
                .collect()
        })
    }

    /// The ClusterRoles whose rules end up (directly or through other aggregated roles) in
    /// `name`'s: those that aggregate into it.
    pub fn aggregated_into(&self, name: &str) -> BTreeSet<String> {
        self.effective
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|h| h.origin.clone())
            .collect()
    }
}
