//! The snapshot: exactly what `haven check` reads from a cluster, nothing more.
//!
//! A crate of its own, with serde as its only dependency, for the same reason kube-core is
//! apart from kube-client: the pure crates that judge a snapshot (`haven-checks`,
//! `haven-report`) need the types, not the client, and must not pull kube, hyper, rustls or
//! tokio into their build. `haven-cluster` fills these records from the API server and re-exports
//! them.
//!
//! It is both the in-memory input of `haven_checks::run_checks` and the file format of
//! `haven snapshot -o FILE` (JSON, `apiVersion: haven.commonground.nl/v1alpha1`,
//! `kind: ClusterSnapshot`). Records are reduced on purpose: a support engineer can read the file,
//! it stays small on a 5,000-node cluster, and it can never carry secret material because no
//! field holds object data beyond names, labels, images and status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `apiVersion` of the snapshot file.
pub const SNAPSHOT_API_VERSION: &str = "haven.commonground.nl/v1alpha1";
/// `kind` of the snapshot file.
pub const SNAPSHOT_KIND: &str = "ClusterSnapshot";

/// The outcome of one read from the API server. A failed read is kept, not dropped, so that only
/// the checks needing it become UNKNOWN and they can say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Read<T> {
    /// The read succeeded.
    Ok { value: T },
    /// The API server refused it (403); `permission` is what is missing, e.g. `list nodes (core)`.
    Forbidden { permission: String, message: String },
    /// Any other failure (5xx, timeout, unreadable response).
    Failed { message: String },
}

impl<T> Read<T> {
    pub fn ok(value: T) -> Self {
        Read::Ok { value }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Read::Ok { value } => Some(value),
            _ => None,
        }
    }

    /// The problem of a read that failed for a reason other than authorization (403).
    pub fn problem_if_failed(&self) -> Option<String> {
        match self {
            Read::Failed { .. } => self.problem(),
            _ => None,
        }
    }

    /// Why the read has no value, as one line for a check's UNKNOWN reason.
    pub fn problem(&self) -> Option<String> {
        match self {
            Read::Ok { .. } => None,
            Read::Forbidden { permission, .. } => {
                Some(format!("forbidden: missing permission to {permission}"))
            }
            Read::Failed { message } => Some(format!("read failed: {message}")),
        }
    }
}

impl<T: Default> Default for Read<T> {
    fn default() -> Self {
        Read::ok(T::default())
    }
}

/// Everything `haven check` reads from a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSnapshot {
    pub api_version: String,
    pub kind: String,
    /// When the reads finished (RFC 3339).
    pub collected_at: String,
    /// The API server URL, as the kubeconfig names it.
    #[serde(default)]
    pub server: String,
    /// The kubeconfig context used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub server_version: Read<ServerVersion>,
    /// Served `group/version`s from discovery (`v1` for the core group).
    pub api_groups: Read<Vec<String>>,
    pub nodes: Read<Vec<NodeRecord>>,
    pub namespaces: Read<Vec<NamespaceRecord>>,
    pub storage_classes: Read<Vec<StorageClassRecord>>,
    pub persistent_volume_claims: Read<Vec<PvcRecord>>,
    pub deployments: Read<Vec<WorkloadRecord>>,
    pub daemon_sets: Read<Vec<WorkloadRecord>>,
    pub stateful_sets: Read<Vec<WorkloadRecord>>,
    pub api_services: Read<Vec<ApiServiceRecord>>,
    pub crds: Read<Vec<CrdRecord>>,
    /// Selected custom resources, keyed by `plural.group` (e.g. `clusterissuers.cert-manager.io`).
    /// A resource whose API is not served reads as an empty list.
    #[serde(default)]
    pub custom_resources: BTreeMap<String, Read<Vec<CustomRecord>>>,
    /// SelfSubjectAccessReview answers.
    pub access: Read<Vec<AccessRecord>>,
    /// Results of write probes (only with `--allow-writes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeRecord>,
}

impl ClusterSnapshot {
    /// An empty snapshot in which every read succeeded with nothing: the base for tests.
    pub fn empty() -> Self {
        ClusterSnapshot {
            api_version: SNAPSHOT_API_VERSION.into(),
            kind: SNAPSHOT_KIND.into(),
            collected_at: "1970-01-01T00:00:00Z".into(),
            server: String::new(),
            context: None,
            server_version: Read::ok(ServerVersion::default()),
            api_groups: Read::default(),
            nodes: Read::default(),
            namespaces: Read::default(),
            storage_classes: Read::default(),
            persistent_volume_claims: Read::default(),
            deployments: Read::default(),
            daemon_sets: Read::default(),
            stateful_sets: Read::default(),
            api_services: Read::default(),
            crds: Read::default(),
            custom_resources: BTreeMap::new(),
            access: Read::default(),
            probes: Vec::new(),
        }
    }

    /// All workloads of the three kinds that were read, with the first problem among the reads.
    pub fn workloads(&self) -> (Vec<&WorkloadRecord>, Vec<String>) {
        let mut all = Vec::new();
        let mut problems = Vec::new();
        for read in [&self.deployments, &self.daemon_sets, &self.stateful_sets] {
            match read.value() {
                Some(v) => all.extend(v.iter()),
                None => problems.extend(read.problem()),
            }
        }
        (all, problems)
    }

    /// Serialise as the snapshot file (pretty JSON).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Read a snapshot file; `name` is used in error messages.
    pub fn from_json(name: &str, text: &str) -> Result<Self, SnapshotError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| SnapshotError::new(name, e.line(), format!("not JSON: {e}")))?;
        let api_version = value
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let kind = value
            .get("kind")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if kind != SNAPSHOT_KIND || api_version != SNAPSHOT_API_VERSION {
            return Err(SnapshotError::new(
                name,
                1,
                format!(
                    "field apiVersion/kind: expected {SNAPSHOT_API_VERSION}/{SNAPSHOT_KIND}, found {api_version:?}/{kind:?}"
                ),
            ));
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            SnapshotError::new(name, inner.line(), format!("field {path}: {inner}"))
        })
    }
}

/// A snapshot file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SnapshotError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl SnapshotError {
    fn new(file: &str, line: usize, message: String) -> Self {
        SnapshotError {
            file: file.into(),
            line,
            message,
        }
    }
}

/// `/version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    pub major: String,
    pub minor: String,
    pub git_version: String,
    #[serde(default)]
    pub platform: String,
}

impl ServerVersion {
    /// `(major, minor)` as numbers; managed platforms write minors like `30+`.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let digits = |s: &str| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        };
        if let (Some(ma), Some(mi)) = (digits(&self.major), digits(&self.minor)) {
            return Some((ma, mi));
        }
        let v = self.git_version.trim_start_matches('v');
        let mut parts = v.split('.');
        Some((digits(parts.next()?)?, digits(parts.next()?)?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRecord {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<String>,
    /// `(type, address)`, e.g. `("ExternalIP", "203.0.113.4")`.
    #[serde(default)]
    pub addresses: Vec<NodeAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(default)]
    pub os_image: String,
    #[serde(default)]
    pub kernel_version: String,
    #[serde(default)]
    pub kubelet_version: String,
    #[serde(default)]
    pub container_runtime_version: String,
    #[serde(default)]
    pub operating_system: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub ready: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRecord {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassRecord {
    pub name: String,
    pub provisioner: String,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcRecord {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub access_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(default)]
    pub phase: String,
}

/// A Deployment, DaemonSet or StatefulSet, reduced to what identifies and judges it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRecord {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Container images (init containers included), as written in the pod template.
    #[serde(default)]
    pub images: Vec<String>,
    /// Desired replicas (DaemonSet: desired number scheduled).
    pub desired: i32,
    /// Ready (Deployment: available) replicas.
    pub ready: i32,
}

impl WorkloadRecord {
    /// Available: everything desired is ready (a workload scaled to zero is not providing anything).
    pub fn healthy(&self) -> bool {
        self.desired > 0 && self.ready >= self.desired
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServiceRecord {
    pub name: String,
    /// `namespace/name` of the backing Service; none for local (built-in) groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The `Available` condition, if reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdRecord {
    pub name: String,
    pub group: String,
    pub kind: String,
    #[serde(default)]
    pub versions: Vec<String>,
    pub established: bool,
}

/// A custom resource (Issuer, HelmRelease, …): identity, labels, the `Ready` condition and, for
/// Flux HelmReleases, the chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomRecord {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `Ready` condition status; none when the object reports no such condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_version: Option<String>,
    /// Of gateways, routes and TLS policies: what the HTTPS/HSTS evidence of `--plus` reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportFacts>,
}

/// What `haven check --plus` keeps of a gateway, route, Middleware or TLS policy: the facts
/// Dutch law's HTTPS-only, redirect, HSTS and TLS requirements are judged on, nothing else of
/// its spec (Wet digitale overheid, Stb. 2023, 179; `haven rules explain nl.https`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportFacts {
    /// A Gateway's listeners (Gateway API) or servers (Istio).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerFacts>,
    /// The Gateways a route attaches to or a policy targets: `namespace/name`, with
    /// `/sectionName` when it names a listener.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Every rule of a route redirects to https; a Traefik Middleware's `redirectScheme` is
    /// https.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redirects_to_https: bool,
    /// The `Strict-Transport-Security` values it sends (a Traefik Middleware's `stsSeconds`
    /// written as the header it makes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hsts: Vec<String>,
    /// The least TLS version it allows, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<String>,
    /// The cipher suites it allows, as written (none: the implementation's defaults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ciphers: Vec<String>,
}

/// One listener of a Gateway, or one server of an Istio Gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerFacts {
    pub name: String,
    /// `HTTP`, `HTTPS`, `TLS`, ...
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// HTTPS/TLS: certificates are referenced (or TLS is passed through); Istio HTTP:
    /// `tls.httpsRedirect` is on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secured: bool,
    /// Istio: this server's own least TLS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tls_version: Option<String>,
    /// Istio: this server's own cipher suites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ciphers: Vec<String>,
}

impl TransportFacts {
    /// The facts of an object of `kind` (`group` its API group) from its JSON, for the kinds
    /// `--plus` reads for its HTTPS/HSTS evidence; `None` for other kinds.
    pub fn read(
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        o: &serde_json::Value,
    ) -> Option<Self> {
        use serde_json::Value;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let list = |v: Option<&Value>| -> Vec<Value> {
            v.and_then(Value::as_array).cloned().unwrap_or_default()
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            list(v)
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        };
        let ns = namespace.unwrap_or_default();
        let mut f = TransportFacts::default();
        let sts_of = |m: Option<&Value>| -> Vec<String> {
            ["set", "add", "addIfAbsent"]
                .iter()
                .flat_map(|op| list(m.and_then(|m| m.get(*op))))
                .filter(|h| {
                    h.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case("Strict-Transport-Security"))
                })
                .filter_map(|h| s(h.get("value")))
                .collect()
        };
        let targets = |refs: Vec<Value>| -> Vec<String> {
            refs.iter()
                .filter(|r| r.get("kind").and_then(Value::as_str).unwrap_or("Gateway") == "Gateway")
                .filter_map(|r| {
                    let name = r.get("name")?.as_str()?;
                    let ns = r.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    Some(match r.get("sectionName").and_then(Value::as_str) {
                        Some(sec) => format!("{ns}/{name}/{sec}"),
                        None => format!("{ns}/{name}"),
                    })
                })
                .collect()
        };
        match (group, kind) {
            ("gateway.networking.k8s.io", "Gateway") => {
                for l in list(o.pointer("/spec/listeners")) {
                    let protocol = s(l.get("protocol")).unwrap_or_default();
                    let tls = l.get("tls");
                    let passthrough = tls.and_then(|t| t.get("mode")).and_then(Value::as_str)
                        == Some("Passthrough");
                    let certs = !list(tls.and_then(|t| t.get("certificateRefs"))).is_empty();
                    f.listeners.push(ListenerFacts {
                        name: s(l.get("name")).unwrap_or_default(),
                        secured: matches!(protocol.as_str(), "HTTPS" | "TLS")
                            && (certs || passthrough),
                        protocol,
                        hostname: s(l.get("hostname")),
                        ..ListenerFacts::default()
                    });
                }
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                f.parents = targets(list(o.pointer("/spec/parentRefs")));
                let rules = list(o.pointer("/spec/rules"));
                let filters = |r: &Value| list(r.get("filters"));
                f.redirects_to_https = !rules.is_empty()
                    && rules.iter().all(|r| {
                        filters(r).iter().any(|x| {
                            x.pointer("/requestRedirect/scheme")
                                .and_then(Value::as_str)
                                .is_some_and(|s| s.eq_ignore_ascii_case("https"))
                        })
                    });
                f.hsts = rules
                    .iter()
                    .flat_map(filters)
                    .flat_map(|x| sts_of(x.get("responseHeaderModifier")))
                    .collect();
            }
            ("gateway.envoyproxy.io", "ClientTrafficPolicy") => {
                let mut refs = list(o.pointer("/spec/targetRefs"));
                refs.extend(o.pointer("/spec/targetRef").cloned());
                f.parents = targets(refs);
                f.hsts = sts_of(o.pointer("/spec/headers/lateResponseHeaders"));
                f.min_tls_version = s(o.pointer("/spec/tls/minVersion"));
                f.ciphers = strings(o.pointer("/spec/tls/ciphers"));
            }
            ("traefik.io" | "traefik.containo.us", "Middleware") => {
                f.redirects_to_https = o
                    .pointer("/spec/redirectScheme/scheme")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("https"));
                if let Some(age) = o
                    .pointer("/spec/headers/stsSeconds")
                    .and_then(Value::as_u64)
                {
                    let sub = o
                        .pointer("/spec/headers/stsIncludeSubdomains")
                        .and_then(Value::as_bool)
                        == Some(true);
                    f.hsts.push(format!(
                        "max-age={age}{}",
                        if sub { "; includeSubDomains" } else { "" }
                    ));
                }
            }
            ("traefik.io" | "traefik.containo.us", "TLSOption") => {
                f.min_tls_version = s(o.pointer("/spec/minVersion"));
                f.ciphers = strings(o.pointer("/spec/cipherSuites"));
            }
            ("networking.istio.io", "Gateway") => {
                for (i, server) in list(o.pointer("/spec/servers")).iter().enumerate() {
                    let protocol = s(server.pointer("/port/protocol")).unwrap_or_default();
                    let tls = server.get("tls");
                    let secured = if protocol.eq_ignore_ascii_case("HTTP") {
                        tls.and_then(|t| t.get("httpsRedirect"))
                            .and_then(Value::as_bool)
                            == Some(true)
                    } else {
                        tls.and_then(|t| t.get("mode")).is_some()
                    };
                    f.listeners.push(ListenerFacts {
                        name: s(server.pointer("/port/name"))
                            .unwrap_or_else(|| format!("server {i}")),
                        protocol: protocol.to_ascii_uppercase(),
                        hostname: strings(server.get("hosts")).into_iter().next(),
                        secured,
                        min_tls_version: s(tls.and_then(|t| t.get("minProtocolVersion"))),
                        ciphers: strings(tls.and_then(|t| t.get("cipherSuites"))),
                    });
                }
            }
            _ => return None,
        }
        Some(f)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub allowed: bool,
    #[serde(default)]
    pub reason: String,
}

/// The result of a write probe (`--allow-writes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeRecord {
    /// The check it decides, e.g. `rwxvolumes`.
    pub check: String,
    /// Did the probe show the capability?
    pub passed: Option<bool>,
    /// What was done and seen, for the evidence.
    pub detail: String,
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
    /// Ctrl-C ended the probe (after cleanup): the run should stop.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClusterSnapshot {
        let mut s = ClusterSnapshot::empty();
        s.nodes = Read::ok(vec![NodeRecord {
            name: "n1".into(),
            os_image: "Flatcar".into(),
            ..Default::default()
        }]);
        s.deployments = Read::Forbidden {
            permission: "list deployments (apps)".into(),
            message: "no".into(),
        };
        s.api_services = Read::Failed {
            message: "HTTP 500".into(),
        };
        s.custom_resources
            .insert("issuers.cert-manager.io".into(), Read::ok(vec![]));
        s
    }

    #[test]
    fn round_trips_through_the_file_format() {
        let s = sample();
        let text = s.to_json();
        assert!(text.contains("\"kind\": \"ClusterSnapshot\""));
        assert!(text.contains("\"status\": \"forbidden\""));
        assert_eq!(ClusterSnapshot::from_json("s.json", &text).unwrap(), s);
    }

    #[test]
    fn bad_files_name_file_line_and_field() {
        let e = ClusterSnapshot::from_json("s.json", "{").unwrap_err();
        assert_eq!(e.file, "s.json");
        assert!(e.message.contains("not JSON"));
        let e = ClusterSnapshot::from_json("s.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}")
            .unwrap_err();
        assert!(e.message.contains("ClusterSnapshot"), "{e}");
        let text = sample()
            .to_json()
            .replace("\"osImage\": \"Flatcar\"", "\"osImage\": 7");
        let e = ClusterSnapshot::from_json("s.json", &text).unwrap_err();
        assert!(
            e.message.contains("field nodes") && e.message.contains("expected a string"),
            "{e}"
        );
        assert!(e.line > 1, "{e}");
    }

    #[test]
    fn server_versions() {
        let v = |major: &str, minor: &str, git: &str| ServerVersion {
            major: major.into(),
            minor: minor.into(),
            git_version: git.into(),
            platform: String::new(),
        };
        assert_eq!(v("1", "33+", "v1.33.5-eks-1").major_minor(), Some((1, 33)));
        assert_eq!(v("", "", "v1.35.4+rke2r1").major_minor(), Some((1, 35)));
        assert_eq!(v("", "", "garbage").major_minor(), None);
    }

    #[test]
    fn no_secret_bearing_fields() {
        // The snapshot format has no place for object data beyond names, labels, images and
        // status; this guards against someone adding one by accident.
        let text = sample().to_json();
        for word in ["\"data\"", "\"stringData\"", "\"env\"", "token"] {
            assert!(!text.contains(word), "{word} in the snapshot format");
        }
    }
}
