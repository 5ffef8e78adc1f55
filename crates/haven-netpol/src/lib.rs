//! NetworkPolicy evaluation with Kubernetes semantics (`networking.k8s.io/v1`).
//!
//! Build a [`Cluster`] (namespaces, workloads, external endpoints) and compile the policies
//! ([`NetworkPolicy::compile`], or [`objects::load`] straight from rendered objects), then ask
//! an [`Analysis`]: [`Analysis::check`] answers "may this connection happen, and which policies
//! decide", [`Analysis::matrix`] lists every allowed flow with the rules that open it, ready
//! for text, JSON, DOT and Mermaid. `docs/analysis.md` lists what is modelled and what is not.

pub mod eval;
pub mod ipset;
pub mod matrix;
pub mod model;
pub mod objects;
pub mod policy;
pub mod ports;

pub use eval::{Analysis, EvalError, OpenedBy, PortQuery, SideVerdict, Verdict};
pub use ipset::{CidrError, IpSet};
pub use matrix::{Flow, FlowSide, Matrix, MatrixEndpoint};
pub use model::{
    Cluster, Endpoint, External, NAMESPACE_NAME_LABEL, NamedPort, Namespace, Workload,
};
pub use policy::{Direction, NetworkPolicy, PolicyError, PolicyId, RuleRef};
pub use ports::{Connections, Protocol};
