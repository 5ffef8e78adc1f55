//! Building the model from rendered objects: Namespaces, the nine workload kinds and
//! NetworkPolicies. A bad object becomes an [`InputError`] with file, line and field; the
//! others are still read.

use haven_model::workload::pod_template;
use haven_model::{InputError, InputErrorKind, Object};
use haven_selector::Labels;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::api::networking::v1 as net;

use crate::model::{Cluster, NamedPort, Workload};
use crate::policy::NetworkPolicy;
use crate::ports::Protocol;

/// What [`load`] read: the cluster model, the policies, and the objects it could not read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub cluster: Cluster,
    pub policies: Vec<NetworkPolicy>,
    pub errors: Vec<InputError>,
}

fn error(o: &Object, field: &str, message: String) -> InputError {
    let at = o.location(field);
    InputError::new(InputErrorKind::FieldType, &at.file, at.line, message).with_field(field)
}

/// Reads Namespaces, workloads and NetworkPolicies out of `objects`; every other kind is
/// ignored. Objects without a namespace are in `default`.
pub fn load<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Loaded {
    let mut out = Loaded::default();
    for o in objects {
        let namespace = o.namespace.as_deref().unwrap_or("default");
        match (o.api_group(), o.kind.as_str()) {
            ("", "Namespace") => {
                let labels = labels_of(o.labels());
                out.cluster.add_namespace(&o.name, labels);
            }
            ("networking.k8s.io", "NetworkPolicy") => {
                let decoded: Result<net::NetworkPolicy, _> =
                    serde_json::from_value(o.value.clone());
                match decoded {
                    Err(e) => {
                        out.errors
                            .push(error(o, "spec", format!("NetworkPolicy {}: {e}", o.name)))
                    }
                    Ok(np) => match NetworkPolicy::compile(&np, namespace) {
                        Ok(p) => out.policies.push(p),
                        Err(e) => out.errors.push(error(
                            o,
                            e.field(),
                            format!("NetworkPolicy {namespace}/{}: {e}", o.name),
                        )),
                    },
                }
            }
            _ => match pod_template(o) {
                None => {}
                Some(Err(e)) => out.errors.push(e),
                Some(Ok(t)) => {
                    let workload = Workload {
                        namespace: namespace.to_owned(),
                        name: o.name.clone(),
                        kind: o.kind.clone(),
                        labels: t.meta.labels.clone().unwrap_or_default(),
                        ports: named_ports(&t.spec),
                    };
                    out.cluster.add_workload(workload);
                }
            },
        }
    }
    // Namespaces read after the workloads in them replace the placeholder namespace.
    out
}

fn labels_of(map: Option<&serde_json::Map<String, serde_json::Value>>) -> Labels {
    map.into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// The named container ports of a pod: its containers and its sidecars (init containers that
/// keep running, `restartPolicy: Always`), which serve traffic like containers do.
pub fn named_ports(spec: &PodSpec) -> Vec<NamedPort> {
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let containers: Vec<&Container> = spec.containers.iter().chain(sidecars).collect();
    let mut out = Vec::new();
    for c in containers {
        for p in c.ports.iter().flatten() {
            let (Some(name), Ok(port)) = (&p.name, u16::try_from(p.container_port)) else {
                continue;
            };
            let protocol = p
                .protocol
                .as_deref()
                .map_or(Some(Protocol::Tcp), Protocol::parse);
            if let Some(protocol) = protocol
                && port != 0
            {
                out.push(NamedPort {
                    name: name.clone(),
                    port,
                    protocol,
                });
            }
        }
    }
    out
}
