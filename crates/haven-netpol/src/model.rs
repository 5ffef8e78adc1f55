//! What the policies act on: namespaces, workloads (the pods a workload template runs) and
//! endpoints outside the cluster.

use std::collections::BTreeMap;
use std::fmt;

use haven_selector::Labels;
use serde::Serialize;

use crate::ipset::IpSet;
use crate::ports::Protocol;

/// The label the API server sets on every namespace to its name (Kubernetes 1.21+), so that
/// policies can select a namespace by name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A container port with a name, for resolving named ports in policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
}

/// The pods of one workload (or one bare pod): they share namespace, labels and ports, so a
/// policy treats them alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub namespace: String,
    pub name: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Pod`, …
    pub kind: String,
    pub labels: Labels,
    /// Container ports with a name (unnamed ones cannot be referred to by name).
    pub ports: Vec<NamedPort>,
}

impl Workload {
    /// `namespace/name[Kind]`.
    pub fn display_name(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.name, self.kind)
    }
}

/// An endpoint outside the cluster's pod network: the API server, a DNS resolver, the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct External {
    pub name: String,
    pub addresses: IpSet,
}

/// A namespace and its labels (`kubernetes.io/metadata.name` always among them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
}

/// An endpoint of a connection: an index into [`Cluster::workloads`] or [`Cluster::externals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Endpoint {
    Workload(usize),
    External(usize),
}

/// Namespaces, workloads and external endpoints.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    namespaces: BTreeMap<String, Namespace>,
    workloads: Vec<Workload>,
    externals: Vec<External>,
}

impl Cluster {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or relabels) a namespace. `kubernetes.io/metadata.name` is set to the name
    /// whatever the labels say, as the API server does.
    pub fn add_namespace(&mut self, name: &str, labels: Labels) {
        let mut labels = labels;
        labels.insert(NAMESPACE_NAME_LABEL.to_owned(), name.to_owned());
        self.namespaces.insert(
            name.to_owned(),
            Namespace {
                name: name.to_owned(),
                labels,
            },
        );
    }

    /// Adds a workload; its namespace is created (with only its name label) when unknown,
    /// as `kube-system` or `default` exist without being in any manifest.
    pub fn add_workload(&mut self, workload: Workload) -> Endpoint {
        if !self.namespaces.contains_key(&workload.namespace) {
            self.add_namespace(&workload.namespace, Labels::new());
        }
        self.workloads.push(workload);
        Endpoint::Workload(self.workloads.len() - 1)
    }

    pub fn add_external(&mut self, name: &str, addresses: IpSet) -> Endpoint {
        self.externals.push(External {
            name: name.to_owned(),
            addresses,
        });
        Endpoint::External(self.externals.len() - 1)
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.get(name)
    }

    pub fn namespaces(&self) -> impl Iterator<Item = &Namespace> {
        self.namespaces.values()
    }

    pub fn workloads(&self) -> &[Workload] {
        &self.workloads
    }

    pub fn externals(&self) -> &[External] {
        &self.externals
    }

    /// The workload `namespace/name` (the first one of that name when kinds differ).
    pub fn find_workload(&self, namespace: &str, name: &str) -> Option<Endpoint> {
        self.workloads
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
            .map(Endpoint::Workload)
    }

    pub fn find_external(&self, name: &str) -> Option<Endpoint> {
        self.externals
            .iter()
            .position(|e| e.name == name)
            .map(Endpoint::External)
    }

    /// A printable name: `namespace/name[Kind]` or the external endpoint's name.
    pub fn name_of(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Workload(i) => self.workloads[i].display_name(),
            Endpoint::External(i) => self.externals[i].name.clone(),
        }
    }

    /// A namespace's labels; every workload's namespace exists (`add_workload` adds it).
    pub(crate) fn namespace_labels(&self, ns: &str) -> Option<&Labels> {
        self.namespaces.get(ns).map(|n| &n.labels)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Workload(i) => write!(f, "workload #{i}"),
            Self::External(i) => write!(f, "external #{i}"),
        }
    }
}
