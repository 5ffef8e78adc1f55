//! RBAC evaluation with Kubernetes semantics (`rbac.authorization.k8s.io/v1`).
//!
//! [`Rbac::load`] reads Roles, ClusterRoles, RoleBindings and ClusterRoleBindings from rendered
//! objects (on top of the API server's own defaults, `cluster-admin`, `admin`, `edit`, `view`
//! and what every authenticated identity holds) and resolves ClusterRole aggregation as the
//! controller does. Then, for an [`Identity`] (a user with groups, or a service account with
//! its implicit groups): [`Rbac::grants`] lists every rule it holds and through which binding
//! and role, [`Rbac::authorize`] answers one request as the authorizer would, and
//! [`Rbac::confinement`] lists what lets it act outside a set of namespaces.

mod confinement;
mod eval;
mod model;

pub use confinement::{Concern, Finding, ResourceScopes};
pub use eval::{Decision, Grant, Identity, Request, Scope};
pub use model::{BindingId, Defaults, Loaded, Note, Rbac, RoleId, Rule, Subject};
