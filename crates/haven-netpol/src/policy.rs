//! NetworkPolicies compiled from `networking.k8s.io/v1` objects, validated as the API server
//! validates them (`ValidateNetworkPolicy`) and defaulted as it defaults them (`policyTypes`).

use std::fmt;

use haven_selector::{Selector, SelectorError};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::ipset::{CidrError, IpSet};
use crate::ports::{ALL_PORTS, Connections, Protocol};

/// A policy's namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PolicyId {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The two directions a policy can isolate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }
}

/// One rule of a policy: `spec.ingress[index]` or `spec.egress[index]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RuleRef {
    pub policy: PolicyId,
    pub direction: Direction,
    pub index: usize,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} rule {})",
            self.policy,
            self.direction.as_str(),
            self.index + 1
        )
    }
}

/// Which namespaces a pod peer may be in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceMatch {
    /// No `namespaceSelector`: the policy's own namespace.
    Own,
    /// The namespaces whose labels match (`kubernetes.io/metadata.name` included).
    Labels(Selector),
}

/// One entry of a rule's `from`/`to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector` (both given: pods matching the first in
    /// namespaces matching the second; a missing `podSelector` selects every pod).
    Pods {
        namespaces: NamespaceMatch,
        pods: Selector,
    },
    /// `ipBlock`: the CIDR minus its exceptions.
    Addresses {
        cidr: String,
        except: Vec<String>,
        set: IpSet,
    },
}

/// Which port(s) of one protocol a rule admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMatch {
    /// No `port`: every port of the protocol.
    Any,
    /// `port`, or `port` to `endPort`.
    Range(u16, u16),
    /// A named port, resolved against the destination pod's container ports.
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub protocol: Protocol,
    pub port: PortMatch,
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Empty: every peer (inside and outside the cluster).
    pub peers: Vec<Peer>,
    /// Empty: every port of every protocol.
    pub ports: Vec<PortRule>,
}

/// A compiled NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub id: PolicyId,
    pub pod_selector: Selector,
    /// `Some` when the policy isolates ingress (then an empty list denies all ingress).
    pub ingress: Option<Vec<Rule>>,
    /// `Some` when the policy isolates egress.
    pub egress: Option<Vec<Rule>>,
}

impl NetworkPolicy {
    pub fn rules(&self, direction: Direction) -> Option<&[Rule]> {
        match direction {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }

    /// Every `ipBlock` of the policy (both directions).
    pub fn address_blocks(&self) -> impl Iterator<Item = &IpSet> {
        [self.ingress.as_deref(), self.egress.as_deref()]
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|r| &r.peers)
            .filter_map(|p| match p {
                Peer::Addresses { set, .. } => Some(set),
                Peer::Pods { .. } => None,
            })
    }
}

/// What is wrong with a NetworkPolicy; `field` is the path inside the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{field}: {source}")]
    Selector {
        field: String,
        #[source]
        source: SelectorError,
    },
    #[error("{field}: {source}")]
    Cidr {
        field: String,
        #[source]
        source: CidrError,
    },
    #[error("{field}: `{except}` must be a strict subset of the ipBlock's cidr `{cidr}`")]
    ExceptOutsideCidr {
        field: String,
        cidr: String,
        except: String,
    },
    #[error("{field}: a peer must set exactly one of ipBlock or podSelector/namespaceSelector")]
    PeerShape { field: String },
    #[error("{field}: unsupported protocol `{value}` (expected TCP, UDP or SCTP)")]
    Protocol { field: String, value: String },
    #[error("{field}: port {value} is outside 1-65535")]
    PortNumber { field: String, value: i64 },
    #[error(
        "{field}: `{value}` is not a valid port name (IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with a letter)"
    )]
    PortName { field: String, value: String },
    #[error("{field}: endPort needs a numeric port not greater than it")]
    EndPort { field: String },
    #[error("{field}: unsupported policy type `{value}` (expected Ingress or Egress)")]
    PolicyType { field: String, value: String },
}

impl PolicyError {
    /// The field path inside the object (`spec.ingress[0].from[1].ipBlock.cidr`).
    pub fn field(&self) -> &str {
        match self {
            Self::Selector { field, .. }
            | Self::Cidr { field, .. }
            | Self::ExceptOutsideCidr { field, .. }
            | Self::PeerShape { field }
            | Self::Protocol { field, .. }
            | Self::PortNumber { field, .. }
            | Self::PortName { field, .. }
            | Self::EndPort { field }
            | Self::PolicyType { field, .. } => field,
        }
    }
}

impl NetworkPolicy {
    /// Compiles a decoded NetworkPolicy. `namespace` is the object's namespace (callers
    /// default a missing one to `default`, as `kubectl apply` does).
    pub fn compile(policy: &net::NetworkPolicy, namespace: &str) -> Result<Self, PolicyError> {
        let id = PolicyId {
            namespace: namespace.to_owned(),
            name: policy.metadata.name.clone().unwrap_or_default(),
        };
        let spec = policy.spec.clone().unwrap_or_default();
        // An absent podSelector is `{}` (selects every pod of the namespace).
        let pod_selector = selector(
            Some(&spec.pod_selector.clone().unwrap_or_default()),
            "spec.podSelector",
        )?;
        let egress_rules = spec.egress.as_deref().unwrap_or_default();
        let ingress_rules = spec.ingress.as_deref().unwrap_or_default();
        // Defaulting (pkg/apis/networking/v1 defaults): without policyTypes a policy isolates
        // ingress, and egress only when it has egress rules.
        let (mut isolates_ingress, mut isolates_egress) = (false, false);
        match spec.policy_types.as_deref() {
            Some(types) if !types.is_empty() => {
                for (i, t) in types.iter().enumerate() {
                    match t.as_str() {
                        "Ingress" => isolates_ingress = true,
                        "Egress" => isolates_egress = true,
                        other => {
                            return Err(PolicyError::PolicyType {
                                field: format!("spec.policyTypes[{i}]"),
                                value: other.to_owned(),
                            });
                        }
                    }
                }
            }
            _ => {
                isolates_ingress = true;
                isolates_egress = !egress_rules.is_empty();
            }
        }
        let mut ingress = Vec::new();
        for (i, r) in ingress_rules.iter().enumerate() {
            let base = format!("spec.ingress[{i}]");
            ingress.push(rule(r.from.as_deref(), r.ports.as_deref(), &base, "from")?);
        }
        let mut egress = Vec::new();
        for (i, r) in egress_rules.iter().enumerate() {
            let base = format!("spec.egress[{i}]");
            egress.push(rule(r.to.as_deref(), r.ports.as_deref(), &base, "to")?);
        }
        Ok(Self {
            id,
            pod_selector,
            ingress: isolates_ingress.then_some(ingress),
            egress: isolates_egress.then_some(egress),
        })
    }
}

fn selector(
    s: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    field: &str,
) -> Result<Selector, PolicyError> {
    Selector::from_label_selector(s).map_err(|source| PolicyError::Selector {
        field: field.to_owned(),
        source,
    })
}

fn rule(
    peers: Option<&[net::NetworkPolicyPeer]>,
    ports: Option<&[net::NetworkPolicyPort]>,
    base: &str,
    peers_key: &str,
) -> Result<Rule, PolicyError> {
    let mut out = Rule {
        peers: Vec::new(),
        ports: Vec::new(),
    };
    for (i, p) in peers.unwrap_or_default().iter().enumerate() {
        let field = format!("{base}.{peers_key}[{i}]");
        out.peers.push(peer(p, &field)?);
    }
    for (i, p) in ports.unwrap_or_default().iter().enumerate() {
        let field = format!("{base}.ports[{i}]");
        out.ports.push(port(p, &field)?);
    }
    Ok(out)
}

fn peer(p: &net::NetworkPolicyPeer, field: &str) -> Result<Peer, PolicyError> {
    let has_selectors = p.pod_selector.is_some() || p.namespace_selector.is_some();
    match (&p.ip_block, has_selectors) {
        (Some(block), false) => {
            let cidr_field = format!("{field}.ipBlock.cidr");
            let cidr = IpSet::from_cidr(&block.cidr).map_err(|source| PolicyError::Cidr {
                field: cidr_field,
                source,
            })?;
            let mut set = cidr.clone();
            let except = block.except.clone().unwrap_or_default();
            for (i, e) in except.iter().enumerate() {
                let f = format!("{field}.ipBlock.except[{i}]");
                let ex = IpSet::from_cidr(e).map_err(|source| PolicyError::Cidr {
                    field: f.clone(),
                    source,
                })?;
                if !ex.is_subset(&cidr) || ex == cidr {
                    return Err(PolicyError::ExceptOutsideCidr {
                        field: f,
                        cidr: block.cidr.clone(),
                        except: e.clone(),
                    });
                }
                set = set.difference(&ex);
            }
            Ok(Peer::Addresses {
                cidr: block.cidr.clone(),
                except,
                set,
            })
        }
        (None, true) => {
            let pods = match &p.pod_selector {
                Some(s) => selector(Some(s), &format!("{field}.podSelector"))?,
                None => Selector::everything(),
            };
            let namespaces = match &p.namespace_selector {
                Some(s) => NamespaceMatch::Labels(selector(
                    Some(s),
                    &format!("{field}.namespaceSelector"),
                )?),
                None => NamespaceMatch::Own,
            };
            Ok(Peer::Pods { namespaces, pods })
        }
        _ => Err(PolicyError::PeerShape {
            field: field.to_owned(),
        }),
    }
}

fn port(p: &net::NetworkPolicyPort, field: &str) -> Result<PortRule, PolicyError> {
    let protocol = match p.protocol.as_deref() {
        None => Protocol::Tcp,
        Some(s) => Protocol::parse(s).ok_or_else(|| PolicyError::Protocol {
            field: format!("{field}.protocol"),
            value: s.to_owned(),
        })?,
    };
    let number = |v: i64, f: &str| {
        u16::try_from(v)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| PolicyError::PortNumber {
                field: format!("{field}.{f}"),
                value: v,
            })
    };
    let port = match (&p.port, p.end_port) {
        (None, None) => PortMatch::Any,
        (None, Some(_)) | (Some(IntOrString::String(_)), Some(_)) => {
            return Err(PolicyError::EndPort {
                field: format!("{field}.endPort"),
            });
        }
        (Some(IntOrString::Int(n)), end) => {
            let start = number(i64::from(*n), "port")?;
            let end = match end {
                None => start,
                Some(e) => {
                    let e = number(i64::from(e), "endPort")?;
                    if e < start {
                        return Err(PolicyError::EndPort {
                            field: format!("{field}.endPort"),
                        });
                    }
                    e
                }
            };
            PortMatch::Range(start, end)
        }
        (Some(IntOrString::String(name)), None) => {
            if !is_iana_svc_name(name) {
                return Err(PolicyError::PortName {
                    field: format!("{field}.port"),
                    value: name.clone(),
                });
            }
            PortMatch::Named(name.clone())
        }
    };
    Ok(PortRule { protocol, port })
}

/// apimachinery's `IsValidPortName`.
pub(crate) fn is_iana_svc_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 15
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.iter().any(u8::is_ascii_lowercase)
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !s.contains("--")
}

impl PortRule {
    /// The connections this port entry admits towards a destination with `named` ports
    /// (`None` for a destination outside the cluster, where a named port matches nothing).
    pub(crate) fn connections(&self, named: Option<&[crate::model::NamedPort]>) -> Connections {
        match &self.port {
            PortMatch::Any => Connections::single(self.protocol, ALL_PORTS),
            PortMatch::Range(a, b) => Connections::single(self.protocol, *a..=*b),
            PortMatch::Named(name) => named
                .into_iter()
                .flatten()
                .find(|p| &p.name == name)
                .filter(|p| p.protocol == self.protocol)
                .map(|p| Connections::single(self.protocol, p.port..=p.port))
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(spec: serde_json::Value) -> Result<NetworkPolicy, PolicyError> {
        let np: net::NetworkPolicy = serde_json::from_value(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "a"}, "spec": spec
        }))
        .unwrap();
        NetworkPolicy::compile(&np, "a")
    }

    #[test]
    fn policy_types_default_as_the_api_server_does() {
        let p = compile(json!({"podSelector": {}})).unwrap();
        assert!(p.ingress.as_ref().is_some_and(Vec::is_empty) && p.egress.is_none());
        let p = compile(json!({"podSelector": {}, "egress": [{}]})).unwrap();
        assert!(p.ingress.is_some() && p.egress.as_ref().is_some_and(|e| e.len() == 1));
        let p = compile(json!({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}))
            .unwrap();
        assert!(
            p.ingress.is_none(),
            "ingress rules of an Egress-only policy do nothing"
        );
        assert!(p.egress.as_ref().is_some_and(Vec::is_empty));
        // An explicit empty egress list (`egress: []`) does not isolate egress.
        let p = compile(json!({"podSelector": {}, "egress": []})).unwrap();
        assert!(p.egress.is_none());
    }

    #[test]
    fn invalid_policies_are_refused_with_their_field() {
        let e = |spec| compile(spec).unwrap_err();
        let err = e(
            json!({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}),
        );
        assert_eq!(err.field(), "spec.ingress[0].from[0]");
        let err = e(json!({"ingress": [{"from": [{}]}]}));
        assert!(matches!(err, PolicyError::PeerShape { .. }));
        let err = e(
            json!({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}]}),
        );
        assert_eq!(err.field(), "spec.egress[0].to[0].ipBlock.except[0]");
        let err = e(
            json!({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}}]}]}),
        );
        assert!(matches!(err, PolicyError::ExceptOutsideCidr { .. }));
        let err = e(json!({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/40"}}]}]}));
        assert!(matches!(err, PolicyError::Cidr { .. }));
        let err = e(json!({"ingress": [{"ports": [{"port": 70000}]}]}));
        assert_eq!(err.field(), "spec.ingress[0].ports[0].port");
        let err = e(json!({"ingress": [{"ports": [{"port": 80, "endPort": 79}]}]}));
        assert!(matches!(err, PolicyError::EndPort { .. }));
        let err = e(json!({"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}));
        assert!(matches!(err, PolicyError::EndPort { .. }));
        let err = e(json!({"ingress": [{"ports": [{"port": "HTTP"}]}]}));
        assert!(matches!(err, PolicyError::PortName { .. }));
        let err = e(json!({"ingress": [{"ports": [{"protocol": "ICMP"}]}]}));
        assert!(matches!(err, PolicyError::Protocol { .. }));
        let err = e(json!({"policyTypes": ["ingress"]}));
        assert!(matches!(err, PolicyError::PolicyType { .. }));
        let err = e(json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}));
        assert_eq!(err.field(), "spec.podSelector");
    }

    #[test]
    fn port_names_follow_iana_svc_name() {
        for ok in ["http", "dns-tcp", "h2c", "a1"] {
            assert!(is_iana_svc_name(ok), "{ok}");
        }
        for bad in [
            "",
            "8080",
            "-http",
            "http-",
            "dns--tcp",
            "HTTP",
            "a-very-long-port-name",
        ] {
            assert!(!is_iana_svc_name(bad), "{bad}");
        }
    }
}
