//! What a tenant may claim on a shared Haven+ cluster, beyond Pod Security: the registries its
//! images come from (`plus.image-registry`), LoadBalancer Services
//! (`plus.service-load-balancer`) and the host names its routes, ingresses, gateways and
//! certificates claim, and those any object asks ExternalDNS to publish (`plus.hostname`).
//!
//! The platform team sets the policy per tenant namespace as annotations (the contract between
//! `haven plus render`, which writes them, and the admission webhook, which reads them, is
//! `docs/admission.md`'s "Tenant policy"); `haven app check` takes the same policy from flags.
//! Everything here is pure: the lists are parsed once into a [`TenantPolicy`] and the rules
//! compare references and names against it.

use haven_model::Object;
use serde_json::Value;

use crate::engine::{Sink, Workload};
use crate::image;
use crate::registry::{HOSTNAME, IMAGE_REGISTRY, SERVICE_LOAD_BALANCER};

/// The tenant rules. The admission webhook does not let an object's own
/// `waive.haven.commonground.nl/<rule>` annotation waive them: the policy is the platform
/// team's, and a tenant that could waive it on its own objects would not be held by it.
pub const RULES: [&str; 3] = [IMAGE_REGISTRY, SERVICE_LOAD_BALANCER, HOSTNAME];

/// Namespace annotation: the image reference prefixes allowed in the namespace.
pub const ALLOWED_REGISTRIES: &str = "haven.commonground.nl/allowed-registries";
/// Namespace annotation: `"true"` allows Services of `type: LoadBalancer`.
pub const ALLOW_LOAD_BALANCER: &str = "haven.commonground.nl/allow-load-balancer";
/// Namespace annotation: host names the namespace must not claim.
pub const DENIED_HOSTNAMES: &str = "haven.commonground.nl/denied-hostnames";
/// Namespace annotation: if present, the only host names the namespace may claim.
pub const ALLOWED_HOSTNAMES: &str = "haven.commonground.nl/allowed-hostnames";

/// Object annotations whose names ExternalDNS publishes (comma-separated), beside what a
/// route's or Ingress's own fields name: on a Service, Ingress, Gateway or route, whatever its
/// kind or type, ExternalDNS writes a record for each name into the platform's zone (with
/// `.../target` pointing it anywhere). A host claim like any other.
pub const EXTERNAL_DNS_HOSTNAME: [&str; 2] = [
    "external-dns.alpha.kubernetes.io/hostname",
    "external-dns.alpha.kubernetes.io/internal-hostname",
];

/// A tenant's policy. The default restricts nothing (a platform tree, an application checked
/// without flags): restrictions are given, never assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPolicy {
    /// `None`: any registry.
    pub allowed_registries: Option<Vec<RegistryPrefix>>,
    pub allow_load_balancer: bool,
    pub denied_hostnames: Vec<HostPattern>,
    /// `None`: any host name not denied.
    pub allowed_hostnames: Option<Vec<HostPattern>>,
}

impl Default for TenantPolicy {
    fn default() -> Self {
        Self {
            allowed_registries: None,
            allow_load_balancer: true,
            denied_hostnames: Vec::new(),
            allowed_hostnames: None,
        }
    }
}

impl TenantPolicy {
    /// The policy a namespace's annotations set (`annotation` looks one up). An absent
    /// annotation restricts nothing, except `allow-load-balancer`: anything but `"true"`
    /// refuses LoadBalancer Services. Items are comma-separated, blanks ignored. An item that
    /// is no valid prefix or host name is kept as written: it matches nothing but itself, so a
    /// typo in an allow-list refuses (fails closed) and one in a deny-list still denies the
    /// text as written.
    pub fn from_annotations<'a>(annotation: impl Fn(&str) -> Option<&'a str>) -> Self {
        fn items(value: &str) -> impl Iterator<Item = &str> {
            value.split(',').map(str::trim).filter(|s| !s.is_empty())
        }
        Self {
            allowed_registries: annotation(ALLOWED_REGISTRIES)
                .map(|v| items(v).map(RegistryPrefix::lenient).collect()),
            allow_load_balancer: annotation(ALLOW_LOAD_BALANCER).map(str::trim) == Some("true"),
            denied_hostnames: annotation(DENIED_HOSTNAMES)
                .map(|v| items(v).map(HostPattern::lenient).collect())
                .unwrap_or_default(),
            allowed_hostnames: annotation(ALLOWED_HOSTNAMES)
                .map(|v| items(v).map(HostPattern::lenient).collect()),
        }
    }

    /// Whether `plus.image-registry` or `plus.hostname` has anything to compare with.
    fn restricts_hostnames(&self) -> bool {
        !self.denied_hostnames.is_empty() || self.allowed_hostnames.is_some()
    }
}

/// Why a `--allowed-registry` or `--denied-hostname`/`--allowed-hostname` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPattern {
    #[error("it is empty")]
    Empty,
    #[error("a registry prefix names a repository, not a tag or digest (`{0}`)")]
    TagOrDigest(String),
    #[error("it is no image reference prefix (`[host[:port]/]path`, lowercase path)")]
    NotAPrefix,
    #[error("it is no host name (`name.example.nl`, or `*.example.nl` for every name under it)")]
    NotAHostName,
}

/// An image reference prefix, normalised: `docker.io/library` style, host lowercased, no
/// trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPrefix(String);

impl RegistryPrefix {
    /// A prefix as written in the annotation: normalised where it can be, kept as written
    /// (lowercased) where not.
    fn lenient(text: &str) -> Self {
        text.parse()
            .unwrap_or_else(|_| Self(text.trim_end_matches('/').to_ascii_lowercase()))
    }

    /// Whether the normalised name of an image starts with this prefix at a path boundary.
    pub fn matches(&self, normalised_name: &str) -> bool {
        normalised_name
            .strip_prefix(self.0.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for RegistryPrefix {
    type Err = InvalidPattern;

    /// A prefix is normalised as the host part of a reference is: a first component with a
    /// `.` or `:`, or `localhost`, is a registry host (lowercased; `index.docker.io` is
    /// `docker.io`), and anything else is a path on Docker Hub (`bitnami` ->
    /// `docker.io/bitnami`). A bare host (`registry.example.nl`) allows every image on it. No
    /// `library/` is added: `docker.io` allows all of Docker Hub, `docker.io/library` its
    /// official images.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim().trim_end_matches('/');
        if text.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        let (host, path) = match text.split_once('/') {
            Some(_) => image::split_host(text),
            // One component: a host if it looks like one.
            None if text.contains(['.', ':']) || text == "localhost" => (Some(text), ""),
            None => (None, text),
        };
        let last = path.rsplit('/').next().unwrap_or_default();
        if text.contains('@') || last.contains(':') {
            return Err(InvalidPattern::TagOrDigest(text.to_owned()));
        }
        let host = match host {
            Some(h) if h.eq_ignore_ascii_case("index.docker.io") => image::DOCKER_HUB.to_owned(),
            Some(h) => h.to_ascii_lowercase(),
            None => image::DOCKER_HUB.to_owned(),
        };
        let joined = if path.is_empty() {
            host
        } else {
            format!("{host}/{path}")
        };
        // The prefix must read as a reference name itself (a path of the grammar, no tag).
        let probe = if path.is_empty() {
            format!("{joined}/x")
        } else {
            joined.clone()
        };
        match image::parse(&probe) {
            Ok(r) if r.tag.is_none() && r.digest.is_none() => Ok(Self(joined)),
            _ => Err(InvalidPattern::NotAPrefix),
        }
    }
}

/// A host name a tenant claims or a policy names: exact (`app.example.nl`), a wildcard
/// (`*.example.nl`: every name under it, at any depth, as Gateway API reads a wildcard
/// hostname), or `*` (every name: what a route, listener or Ingress rule without a host
/// claims). Lowercased, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    fn lenient(text: &str) -> Self {
        text.parse()
            .unwrap_or_else(|_| Self(text.trim().trim_end_matches('.').to_ascii_lowercase()))
    }

    /// Every host name.
    fn any() -> Self {
        Self("*".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether every name `other` stands for is one this pattern stands for.
    pub fn covers(&self, other: &HostPattern) -> bool {
        if self.0 == other.0 || self.0 == "*" {
            return true;
        }
        let Some(suffix) = self.0.strip_prefix("*.") else {
            return false;
        };
        // `other` without its own `*.`: a wildcard is covered when its suffix is.
        let name = other.0.strip_prefix("*.").unwrap_or(&other.0);
        other.0 != "*"
            && (name == suffix && other.0.starts_with("*.")
                || name
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.ends_with('.')))
    }

    /// Whether claiming `self` claims any name `denied` stands for, or the other way round.
    pub fn overlaps(&self, denied: &HostPattern) -> bool {
        self.covers(denied) || denied.covers(self)
    }
}

impl std::str::FromStr for HostPattern {
    type Err = InvalidPattern;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim().trim_end_matches('.').to_ascii_lowercase();
        if text.is_empty() {
            return Err(InvalidPattern::Empty);
        }
        let name = text.strip_prefix("*.").unwrap_or(&text);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !(name.len() <= 253 && name.split('.').all(label_ok)) {
            return Err(InvalidPattern::NotAHostName);
        }
        Ok(Self(text))
    }
}

/// `plus.image-registry` on every container of a workload.
pub(crate) fn check_workload(w: &Workload<'_>, sink: &mut Sink<'_>) {
    let Some(allowed) = &sink.opts.tenant.allowed_registries else {
        return;
    };
    // Ephemeral containers too: `kubectl debug` adds one with any image it is given.
    let ephemeral = w.template.spec.ephemeral_containers.iter().flatten();
    let all = w
        .template
        .containers()
        .map(|(base, c)| (base, &c.name, c.image.as_deref()))
        .chain(ephemeral.enumerate().map(|(i, c)| {
            (
                format!("spec.ephemeralContainers[{i}]"),
                &c.name,
                c.image.as_deref(),
            )
        }));
    for (base, name, image) in all {
        let Some(img) = image.filter(|i| !i.trim().is_empty()) else {
            continue;
        };
        // An invalid reference is `haven.containerised`'s.
        let Ok(r) = image::parse(img) else { continue };
        let normalised = image::normalised_name(r.name);
        if allowed.iter().any(|p| p.matches(&normalised)) {
            continue;
        }
        let list = if allowed.is_empty() {
            "none is allowed".to_owned()
        } else {
            let list: Vec<&str> = allowed.iter().map(RegistryPrefix::as_str).collect();
            format!("allowed: {}", list.join(", "))
        };
        let path = w.template.object_path(&format!("{base}.image"));
        let message = format!(
            "image \"{img}\" ({normalised}) of container \"{name}\" is from no allowed registry \
             ({list})"
        );
        sink.emit(IMAGE_REGISTRY, w.object, &path, Some(name), message);
    }
}

/// `plus.service-load-balancer` and `plus.hostname` on one object.
pub(crate) fn check_object(object: &Object, sink: &mut Sink<'_>) {
    let policy = &sink.opts.tenant;
    if !policy.allow_load_balancer
        && object.kind == "Service"
        && object.api_group().is_empty()
        && object.get("spec.type").and_then(Value::as_str) == Some("LoadBalancer")
    {
        sink.emit(
            SERVICE_LOAD_BALANCER,
            object,
            "spec.type",
            None,
            format!(
                "Service {} is of type LoadBalancer, which its namespace is not allowed",
                object.name
            ),
        );
    }
    if policy.restricts_hostnames() {
        let claims = claimed_hosts(object)
            .into_iter()
            .map(|(path, claimed)| (path, claimed, None))
            .chain(dns_annotation_claims(object));
        for (path, claimed, annotation) in claims {
            if let Some(why) = refused(&claimed, &sink.opts.tenant) {
                let what = match annotation {
                    Some(a) => format!("asks ExternalDNS for the host name {} ({a})", claimed.0),
                    None if claimed.0 == "*" => {
                        "names no host, so it claims every host name".to_owned()
                    }
                    None => format!("claims the host name {}", claimed.0),
                };
                let message = format!("{} {} {what}, {why}", object.kind, object.name);
                sink.emit(HOSTNAME, object, &path, None, message);
            }
        }
    }
}

/// Why `claimed` is refused, if it is.
fn refused(claimed: &HostPattern, policy: &TenantPolicy) -> Option<String> {
    // Denied: the platform's names and every other tenant's (haven plus render writes both).
    if let Some(denied) = policy.denied_hostnames.iter().find(|d| claimed.overlaps(d)) {
        return Some(if denied == claimed {
            "which is denied to the namespace (the platform's or another tenant's)".to_owned()
        } else {
            format!(
                "which overlaps {}, denied to the namespace (the platform's or another tenant's)",
                denied.0
            )
        });
    }
    let allowed = policy.allowed_hostnames.as_ref()?;
    if allowed.iter().any(|a| a.covers(claimed)) {
        return None;
    }
    let list: Vec<&str> = allowed.iter().map(HostPattern::as_str).collect();
    Some(format!(
        "outside the namespace's allowed host names ({})",
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    ))
}

/// The names an object of any kind asks ExternalDNS to publish: each item of its
/// [`EXTERNAL_DNS_HOSTNAME`] annotations, with the annotation's path and name. Every kind:
/// which kinds ExternalDNS reads is its configuration's business (sources), not the rule's.
fn dns_annotation_claims(object: &Object) -> Vec<(String, HostPattern, Option<&'static str>)> {
    let mut out = Vec::new();
    for key in EXTERNAL_DNS_HOSTNAME {
        let Some(value) = object
            .get("metadata.annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let mut path = "metadata.annotations".to_owned();
        haven_model::path::push_key(&mut path, key);
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            out.push((path.clone(), HostPattern::lenient(item), Some(key)));
        }
    }
    out
}

/// The host names an object claims, with the path of each: Gateway API routes'
/// `spec.hostnames` (none: every host of the listeners they attach to), Ingress rules' hosts
/// (none: every host) and TLS hosts and its default backend (every host not otherwise
/// routed), Gateway listeners' `hostname` (none: every host), cert-manager Certificates'
/// `dnsNames` and `commonName`.
fn claimed_hosts(object: &Object) -> Vec<(String, HostPattern)> {
    let strings = |path: &str| -> Vec<(String, HostPattern)> {
        object
            .get(path)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, v)| {
                v.as_str()
                    .map(|s| (format!("{path}[{i}]"), HostPattern::lenient(s)))
            })
            .collect()
    };
    let group = object.api_group();
    let mut claims = Vec::new();
    match (group, object.kind.as_str()) {
        ("gateway.networking.k8s.io", "HTTPRoute" | "GRPCRoute" | "TLSRoute") => {
            claims = strings("spec.hostnames");
            if claims.is_empty() {
                claims.push(("spec".to_owned(), HostPattern::any()));
            }
        }
        ("gateway.networking.k8s.io", "Gateway") => {
            let listeners = object.get("spec.listeners").and_then(Value::as_array);
            for (i, l) in listeners.into_iter().flatten().enumerate() {
                match l.get("hostname").and_then(Value::as_str) {
                    Some(h) => claims.push((
                        format!("spec.listeners[{i}].hostname"),
                        HostPattern::lenient(h),
                    )),
                    None => claims.push((format!("spec.listeners[{i}]"), HostPattern::any())),
                }
            }
        }
        ("networking.k8s.io" | "extensions", "Ingress") => {
            let rules = object.get("spec.rules").and_then(Value::as_array);
            for (i, r) in rules.into_iter().flatten().enumerate() {
                match r.get("host").and_then(Value::as_str) {
                    Some(h) if !h.is_empty() => {
                        claims.push((format!("spec.rules[{i}].host"), HostPattern::lenient(h)))
                    }
                    _ => claims.push((format!("spec.rules[{i}]"), HostPattern::any())),
                }
            }
            let tls = object.get("spec.tls").and_then(Value::as_array);
            for i in 0..tls.map_or(0, Vec::len) {
                claims.extend(strings(&format!("spec.tls[{i}].hosts")));
            }
            if object.get("spec.defaultBackend").is_some() {
                claims.push(("spec.defaultBackend".to_owned(), HostPattern::any()));
            }
        }
        ("cert-manager.io", "Certificate") => {
            claims = strings("spec.dnsNames");
            if let Some(cn) = object.get("spec.commonName").and_then(Value::as_str) {
                claims.push(("spec.commonName".to_owned(), HostPattern::lenient(cn)));
            }
        }
        _ => {}
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> HostPattern {
        s.parse().unwrap()
    }

    #[test]
    fn wildcards_cover_names_below_them_never_the_apex() {
        let w = host("*.example.nl");
        assert!(w.covers(&host("keycloak.example.nl")));
        assert!(w.covers(&host("a.b.example.nl")));
        assert!(w.covers(&host("*.sub.example.nl")));
        assert!(w.covers(&host("*.example.nl")));
        assert!(!w.covers(&host("example.nl")));
        assert!(!w.covers(&host("badexample.nl")));
        assert!(!w.covers(&host("*.nl")));
        assert!(!w.covers(&HostPattern::any()));
        assert!(host("*.nl").covers(&w));
        assert!(HostPattern::any().covers(&w));
        assert!(!host("keycloak.example.nl").covers(&w));
        // Overlap is either way round; case and a trailing dot do not matter.
        assert!(host("*.example.nl").overlaps(&host("KEYCLOAK.example.nl.")));
        assert!(host("keycloak.example.nl").overlaps(&host("*.example.nl")));
        assert!(!host("app.tenant.nl").overlaps(&host("*.example.nl")));
    }

    #[test]
    fn host_names_are_checked_when_given_as_flags() {
        for bad in [
            "",
            "a..b",
            "-a.nl",
            "a_b.nl",
            "*",
            "a.*.nl",
            "*.",
            "https://a.nl",
        ] {
            assert!(bad.parse::<HostPattern>().is_err(), "{bad:?}");
        }
        assert_eq!(host("Grafana.Example.NL.").as_str(), "grafana.example.nl");
    }

    fn prefix(s: &str) -> RegistryPrefix {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn prefixes_match_at_path_boundaries_on_normalised_names() {
        let matches = |p: &str, image: &str| {
            let r = image::parse(image).unwrap();
            prefix(p).matches(&image::normalised_name(r.name))
        };
        assert!(matches("ghcr.io/gemeente-x", "ghcr.io/gemeente-x/app:1"));
        assert!(matches("ghcr.io/gemeente-x", "ghcr.io/gemeente-x:1"));
        assert!(!matches("ghcr.io/gemeente-x", "ghcr.io/gemeente-xyz/app:1"));
        assert!(matches(
            "registry.example.nl",
            "registry.example.nl/a/b/c:1"
        ));
        assert!(!matches(
            "registry.example.nl",
            "registry.example.nl:5000/a:1"
        ));
        assert!(matches(
            "registry.example.nl:5000",
            "registry.example.nl:5000/a:1"
        ));
        assert!(matches("localhost:5000", "localhost:5000/x"));
        assert!(matches("docker.io/library", "nginx"));
        assert!(matches("docker.io/library", "docker.io/nginx"));
        assert!(matches("docker.io/library/nginx", "library/nginx:1"));
        assert!(matches("index.docker.io/library", "nginx:1"));
        assert!(matches("docker.io", "bitnami/redis:7"));
        assert!(matches("bitnami", "bitnami/redis:7"));
        assert!(!matches("docker.io/library", "bitnami/redis:7"));
        assert!(!matches("docker.io/bitnami", "nginx"));
        assert!(matches("GHCR.io/org", "ghcr.io/org/app"));
        assert!(matches("ghcr.io/org", "GHCR.IO/org/app:1"));
        // A look-alike host is another host.
        assert!(!matches("ghcr.io", "ghcr.io.evil.nl/app"));
        assert!(!matches("ghcr.io", "evilghcr.io/app"));
    }

    #[test]
    fn prefixes_name_repositories_only() {
        use InvalidPattern::*;
        assert_eq!("".parse::<RegistryPrefix>(), Err(Empty));
        assert!(matches!(
            "ghcr.io/x/app:1".parse::<RegistryPrefix>(),
            Err(TagOrDigest(_))
        ));
        assert!(matches!(
            "nginx@sha256:00".parse::<RegistryPrefix>(),
            Err(TagOrDigest(_))
        ));
        assert_eq!("ghcr.io/X".parse::<RegistryPrefix>(), Err(NotAPrefix));
        assert_eq!("ghcr.io//x".parse::<RegistryPrefix>(), Err(NotAPrefix));
        assert_eq!(prefix("registry:5000/").as_str(), "registry:5000");
        assert_eq!(prefix(" ghcr.io/x/ ").as_str(), "ghcr.io/x");
    }

    #[test]
    fn annotations_are_read_leniently_and_fail_closed() {
        let ann = |pairs: &'static [(&'static str, &'static str)]| {
            TenantPolicy::from_annotations(move |k| {
                pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
            })
        };
        let none = ann(&[]);
        assert_eq!(none.allowed_registries, None);
        assert!(!none.allow_load_balancer, "absent: refused");
        assert!(!none.restricts_hostnames());
        let p = ann(&[
            (
                ALLOWED_REGISTRIES,
                " ghcr.io/gemeente-x , ,registry.example.nl,Bad Prefix",
            ),
            (ALLOW_LOAD_BALANCER, "true"),
            (DENIED_HOSTNAMES, "keycloak.example.nl,*.example.nl"),
        ]);
        let prefixes: Vec<&str> = p
            .allowed_registries
            .iter()
            .flatten()
            .map(RegistryPrefix::as_str)
            .collect();
        assert_eq!(
            prefixes,
            ["ghcr.io/gemeente-x", "registry.example.nl", "bad prefix"]
        );
        assert!(p.allow_load_balancer);
        assert_eq!(p.denied_hostnames.len(), 2);
        assert!(!ann(&[(ALLOW_LOAD_BALANCER, "True")]).allow_load_balancer);
        // An empty allow-list allows nothing.
        assert_eq!(
            ann(&[(ALLOWED_REGISTRIES, " , ")]).allowed_registries,
            Some(vec![])
        );
    }
}
