//! The tenant policy as Kyverno ClusterPolicies (engine `kyverno`): the same set the haven
//! webhook enforces from the tenant Namespace annotations (docs/admission.md, "Tenant policy"), with
//! the values inlined from the same config, one ClusterPolicy per concern.
//!
//! Pure: from the config's tenants and the platform's host names to policy documents. Every
//! rule matches Pods (Kyverno's autogen extends it to the workload templates) or the objects
//! that claim a host name, in tenant namespaces only (the tenant label, or the tenant's own
//! namespace where its values differ), validates in `Enforce` and scans in the background.

use serde_json::{Value, json};

use crate::config::{ImageVerification, Tenant};
use crate::tenant::TENANT_LABEL;

/// What the policies are made of.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub tenants: &'a [Tenant],
    /// `capabilities.admission.allowedRegistries`, for tenants without their own.
    pub default_registries: &'a [String],
    /// The platform's host names (`tenant::DENIED_HOSTNAMES`).
    pub denied_hosts: &'a [String],
    /// `cluster.domain`: the default host names of a tenant without its own
    /// (`Tenant::hostnames`).
    pub domain: &'a str,
    /// The Gateway API CRDs are installed (HTTPRoute, GRPCRoute, Gateway): Kyverno refuses a
    /// policy that names a kind the API server does not serve.
    pub gateway_api: bool,
    /// cert-manager's CRDs are installed (Certificate).
    pub certificates: bool,
    pub verification: Option<&'a ImageVerification>,
}

/// A tag that is a version, as `plus.image-tag` judges it (haven-rules `image.rs`, `VERSION`),
/// on the whole image reference: the tag follows the last path component. RE2 syntax (Kyverno's
/// `regex_match` is Go's regexp), no backslashes (JMESPath raw strings would keep them, but a
/// character class reads the same to every reader).
const VERSION_IMAGE: &str = "^(?:[^/@]+/)*[^/:@]+:(?:[vV]?[0-9]+(?:[.][0-9]+)*(?:[-+_][A-Za-z0-9][A-Za-z0-9._+-]*)?|(?:sha-)?[0-9a-f]{7,40})(?:@.*)?$";
/// A version-like tag naming a moving build (`MOVING_WORD` of `image.rs`), in the tag only.
const MOVING_TAG: &str = "(?i):(?:[^/@]*[-+_.])?(?:latest|nightly|snapshot|edge|dev|main|master)(?:[-+_.][^/@]*)?(?:@.*)?$";
/// A digest pins the image whatever its tag.
const DIGEST: &str = "@sha256:[0-9a-f]{64}$";

fn tenants_selector() -> Value {
    json!({"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]})
}

fn match_tenants(kinds: &[&str]) -> Value {
    json!({"any": [{"resources": {"kinds": kinds, "namespaceSelector": tenants_selector()}}]})
}

fn match_namespaces(kinds: &[&str], namespaces: &[&str]) -> Value {
    json!({"any": [{"resources": {"kinds": kinds, "namespaces": namespaces}}]})
}

fn policy(name: &str, title: &str, description: &str, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": name, "annotations": {
            "policies.kyverno.io/title": title,
            "policies.kyverno.io/category": "Haven+ tenant policy",
            "policies.kyverno.io/description": description,
        }},
        "spec": {"background": true, "rules": rules},
    })
}

/// A JMESPath string literal (raw string: only `'` needs escaping).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "\\'"))
}

/// The containers of a Pod, every kind (Kyverno's autogen rewrites `request.object.spec`).
const CONTAINERS: &str = "request.object.spec.[ephemeralContainers, initContainers, containers][]";

/// JMESPath: `element` (a claimed host name) is covered by `pattern` (exact, or `*.s` covering
/// every name below `s` and the wildcard itself, as the Gateway API matches one).
fn covered_by(pattern: &str) -> String {
    match pattern.strip_prefix("*.") {
        Some(base) => format!("ends_with(element, {})", lit(&format!(".{base}"))),
        None => format!("element == {}", lit(pattern)),
    }
}

/// JMESPath: the claimed name `element` collides with one of `denied`: equal, covered by a
/// denied wildcard, or a wildcard that covers a denied name (`*.nl` claims every `x.nl`).
fn collides(denied: &[String]) -> String {
    let mut parents: Vec<String> = Vec::new();
    let mut terms: Vec<String> = Vec::new();
    for d in denied {
        terms.push(covered_by(d));
        let base = d.strip_prefix("*.").unwrap_or(d);
        let mut rest = base;
        while let Some((_, parent)) = rest.split_once('.') {
            parents.push(format!("*.{parent}"));
            rest = parent;
        }
        if d.starts_with("*.") {
            parents.push(d.clone());
        }
    }
    // What a route without hostnames, a listener without one or an Ingress rule without a host
    // claims: every name.
    parents.push("*".to_owned());
    parents.sort();
    parents.dedup();
    let list = parents
        .iter()
        .map(|p| lit(p))
        .collect::<Vec<_>>()
        .join(", ");
    terms.push(format!("contains([{list}], element)"));
    terms.join(" || ")
}

/// The names of the ExternalDNS annotations (haven-rules' `EXTERNAL_DNS_HOSTNAME`), each
/// comma-separated list split and trimmed, blanks dropped, as `plus.hostname` reads them.
/// `split` and `trim` are Kyverno's own JMESPath functions.
fn dns_annotation_list() -> String {
    let values: Vec<String> = haven_rules::tenant::EXTERNAL_DNS_HOSTNAME
        .iter()
        .map(|a| format!("request.object.metadata.annotations.\"{a}\" || ''"))
        .collect();
    format!(
        "split(join(',', [{}]), ',')[].trim(@, ' ') | [?@ != '']",
        values.join(", ")
    )
}

/// The host-name lists of each kind that claims names (what `plus.hostname` reads): its own
/// fields, and on every kind ExternalDNS can read here the names its annotations ask for.
fn host_sources(i: &Inputs<'_>) -> Vec<(&'static str, Vec<&'static str>, String)> {
    let mut annotated = vec!["Service", "Ingress"];
    if i.gateway_api {
        annotated.extend([
            "gateway.networking.k8s.io/*/HTTPRoute",
            "gateway.networking.k8s.io/*/GRPCRoute",
            "gateway.networking.k8s.io/*/Gateway",
        ]);
    }
    let mut out = vec![
        (
            "ingress",
            vec!["Ingress"],
            // A rule without a host and a default backend claim every name (`*`), as
            // `plus.hostname` reads them.
            "request.object.spec.[rules[].[host || '*'][], tls[].hosts[], [defaultBackend && '*']][][]"
                .to_owned(),
        ),
        ("dns", annotated, dns_annotation_list()),
    ];
    if i.gateway_api {
        out.push((
            "route",
            vec![
                "gateway.networking.k8s.io/*/HTTPRoute",
                "gateway.networking.k8s.io/*/GRPCRoute",
            ],
            // No hostnames: every name of the listeners it attaches to (`*`).
            "request.object.spec.hostnames || ['*']".to_owned(),
        ));
        out.push((
            "gateway",
            // Qualified: Istio has a `Gateway` kind of its own.
            vec!["gateway.networking.k8s.io/*/Gateway"],
            // A listener without a hostname serves every name (`*`).
            "request.object.spec.listeners[].[hostname || '*'][]".to_owned(),
        ));
    }
    if i.certificates {
        out.push((
            "certificate",
            vec!["cert-manager.io/*/Certificate"],
            "request.object.spec.[dnsNames[], commonName][]".to_owned(),
        ));
    }
    out
}

fn host_rule(name: String, list: &str, mtch: Value, deny_if: String, message: String) -> Value {
    json!({
        "name": name,
        "match": mtch,
        "validate": {
            "failureAction": "Enforce",
            "message": message,
            "foreach": [{
                "list": list,
                "deny": {"conditions": {"any": [
                    {"key": format!("{{{{ {deny_if} }}}}"), "operator": "Equals", "value": true},
                ]}},
            }],
        },
    })
}

/// The ClusterPolicies of the tenant policy (none without tenants). Messages name no `element`
/// variable: Kyverno substitutes those inside `foreach` only, so they say what is allowed
/// instead; Kyverno's answer names the policy and rule.
pub fn tenant_policies(i: &Inputs<'_>) -> Vec<Value> {
    if i.tenants.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();

    // Registries: one rule per tenant that has a list (its own, else the platform's).
    let registry_rules: Vec<Value> = i
        .tenants
        .iter()
        .filter_map(|t| {
            let list = if t.policy.allowed_registries.is_empty() {
                i.default_registries
            } else {
                &t.policy.allowed_registries
            };
            (!list.is_empty()).then(|| {
                // A prefix matches at a path boundary: the image below it, or the image itself.
                let ok = list
                    .iter()
                    .map(|p| {
                        format!(
                            "starts_with(element.image, {}) || starts_with(element.image, {}) || starts_with(element.image, {})",
                            lit(&format!("{p}/")),
                            lit(&format!("{p}:")),
                            lit(&format!("{p}@")),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" || ");
                json!({
                    "name": format!("tenant-{}", t.name),
                    "match": match_namespaces(&["Pod"], &[t.name.as_str()]),
                    "validate": {
                        "failureAction": "Enforce",
                        "message": format!(
                            "an image is not from an allowed registry of tenant {}: {} (images are compared as written: write Docker Hub images in full, docker.io/library/nginx)",
                            t.name,
                            list.join(", ")
                        ),
                        "foreach": [{
                            "list": CONTAINERS,
                            "deny": {"conditions": {"any": [
                                {"key": format!("{{{{ {ok} }}}}"), "operator": "Equals", "value": false},
                            ]}},
                        }],
                    },
                })
            })
        })
        .collect();
    if !registry_rules.is_empty() {
        out.push(policy(
            "haven-restrict-image-registries",
            "Restrict image registries",
            "A tenant's images come from its allowed registries (tenants[].policy.allowedRegistries, else capabilities.admission.allowedRegistries), as plus.image-registry.",
            registry_rules,
        ));
    }

    // Moving tags, as plus.image-tag: a digest, or a tag that is a version without a moving word.
    let pinned = format!(
        "regex_match({}, element.image) || (regex_match({}, element.image) && !regex_match({}, element.image))",
        lit(DIGEST),
        lit(VERSION_IMAGE),
        lit(MOVING_TAG)
    );
    out.push(policy(
        "haven-disallow-moving-tags",
        "Disallow moving image tags",
        "A tenant's images name a fixed version: a digest, or a tag that looks like a version (not latest, no tag, not a branch or nightly), as plus.image-tag.",
        vec![json!({
            "name": "pinned-images",
            "match": match_tenants(&["Pod"]),
            "validate": {
                "failureAction": "Enforce",
                "message": "an image has a moving tag (latest, no tag, or a tag that is no version): pin a version or a digest",
                "foreach": [{
                    "list": CONTAINERS,
                    "deny": {"conditions": {"any": [
                        {"key": format!("{{{{ {pinned} }}}}"), "operator": "Equals", "value": false},
                    ]}},
                }],
            },
        })],
    ));

    // Requests, as plus.resources.
    // As `plus.resources`: CPU and memory requests and a memory limit.
    let requests = json!({"resources": {
        "requests": {"cpu": "?*", "memory": "?*"},
        "limits": {"memory": "?*"},
    }});
    out.push(policy(
        "haven-require-requests",
        "Require CPU and memory requests",
        "Every container of a tenant requests CPU and memory and limits memory, as plus.resources (the namespace's LimitRange fills them in on Pods).",
        vec![json!({
            "name": "requests",
            "match": match_tenants(&["Pod"]),
            "validate": {
                "failureAction": "Enforce",
                "message": "every container requests CPU and memory and limits memory (resources.requests.cpu, requests.memory, limits.memory)",
                "pattern": {"spec": {
                    "containers": [requests],
                    "=(initContainers)": [requests],
                }},
            },
        })],
    ));

    // LoadBalancer Services, as plus.service-load-balancer: refused unless allowed.
    let refused: Vec<&str> = i
        .tenants
        .iter()
        .filter(|t| !t.policy.load_balancer)
        .map(|t| t.name.as_str())
        .collect();
    if !refused.is_empty() {
        out.push(policy(
            "haven-restrict-load-balancers",
            "Restrict LoadBalancer Services",
            "A tenant's Services are not of type LoadBalancer unless the platform allows it (tenants[].policy.loadBalancer), as plus.service-load-balancer: traffic enters through the platform's gateway.",
            vec![json!({
                "name": "no-load-balancer",
                "match": match_namespaces(&["Service"], &refused),
                "validate": {
                    "failureAction": "Enforce",
                    "message": "Services of type LoadBalancer are not allowed in this tenant's namespace: expose it through an HTTPRoute on the platform's gateway, or ask the platform team for tenants[].policy.loadBalancer",
                    "pattern": {"spec": {"=(type)": "!LoadBalancer"}},
                },
            })],
        ));
    }

    // Host names, as plus.hostname: never the platform's nor another tenant's; always within
    // the tenant's own (its `policy.hostnames`, or `<tenant>.<domain>` and `*.<tenant>.<domain>`),
    // as the Namespace annotations say (`tenant::policy_annotations`).
    let owned: Vec<(&str, Vec<String>)> = i
        .tenants
        .iter()
        .map(|t| (t.name.as_str(), t.hostnames(i.domain)))
        .collect();
    let mut host_rules = Vec::new();
    for (what, kinds, list) in host_sources(i) {
        if !i.denied_hosts.is_empty() {
            host_rules.push(host_rule(
                format!("platform-hosts-{what}"),
                &list,
                match_tenants(&kinds),
                collides(i.denied_hosts),
                "a host name is the platform's, or a wildcard covering one (denied to tenants: "
                    .to_owned()
                    + &i.denied_hosts.join(", ")
                    + ")",
            ));
        }
        for (name, own) in &owned {
            let within = own
                .iter()
                .map(|h| covered_by(h))
                .collect::<Vec<_>>()
                .join(" || ");
            let others: Vec<String> = owned
                .iter()
                .filter(|(other, _)| other != name)
                .flat_map(|(_, hosts)| hosts.iter().cloned())
                .collect();
            let deny_if = if others.is_empty() {
                format!("!({within})")
            } else {
                format!("{} || !({within})", collides(&others))
            };
            host_rules.push(host_rule(
                format!("tenant-{name}-{what}"),
                &list,
                match_namespaces(&kinds, &[name]),
                deny_if,
                format!(
                    "a host name is not one of tenant {name}'s ({}), or overlaps another tenant's",
                    own.join(", ")
                ),
            ));
        }
    }
    if !host_rules.is_empty() {
        out.push(policy(
            "haven-restrict-hostnames",
            "Restrict host names",
            "A tenant's routes, ingresses, gateways, certificates and ExternalDNS annotations (external-dns.alpha.kubernetes.io/hostname, internal-hostname) claim no host name of the platform's nor another tenant's, and only the tenant's own (tenants[].policy.hostnames, else <tenant>.<domain> and *.<tenant>.<domain>), as plus.hostname.",
            host_rules,
        ));
    }

    if let Some(v) = i.verification {
        let mut entries: Vec<Value> = v
            .public_keys
            .iter()
            .map(|k| json!({"keys": {"publicKeys": k.trim()}}))
            .collect();
        if let Some(k) = &v.keyless {
            entries.push(json!({"keyless": {
                "issuer": k.issuer,
                "subjectRegExp": k.subject_regexp,
                "rekor": {"url": "https://rekor.sigstore.dev"},
            }}));
        }
        let mut p = policy(
            "haven-verify-image-signatures",
            "Verify image signatures",
            "A tenant's images under capabilities.admission.imageVerification.images carry a cosign signature by one of the configured signers.",
            vec![json!({
                "name": "signed-images",
                "match": match_tenants(&["Pod"]),
                "verifyImages": [{
                    "imageReferences": v.images,
                    "failureAction": "Enforce",
                    // Verify only: rewriting images to digests would make Flux's applied
                    // workloads drift from Git.
                    "mutateDigest": false,
                    "verifyDigest": false,
                    "required": true,
                    "attestors": [{"count": 1, "entries": entries}],
                }],
            })],
        );
        // A background scan would pull every signature of every running image again.
        p["spec"]["background"] = json!(false);
        p["spec"]["webhookTimeoutSeconds"] = json!(30);
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// What `haven-disallow-moving-tags` decides for `image` (Go's RE2 and Rust's regex read
    /// these patterns the same: no look-around, no back-references).
    fn kyverno_pinned(image: &str) -> bool {
        let m = |p: &str| Regex::new(p).unwrap().is_match(image);
        m(DIGEST) || (m(VERSION_IMAGE) && !m(MOVING_TAG))
    }

    /// The same notion as `plus.image-tag` (haven-rules `TagPolicy::judge`), on tags of each
    /// kind, behind hosts with ports and paths that would confuse a naive split.
    #[test]
    fn moving_tags_are_judged_as_plus_image_tag_judges_them() {
        let haven = haven_rules::TagPolicy::default();
        let tags = [
            "latest",
            "1",
            "v1.27.3",
            "V2",
            "2024.01.15",
            "20240115",
            "1.2.3-alpine",
            "16.4-debian-12-r7",
            "1.0+build.5",
            "1.2_rc1",
            "abcdef1",
            "sha-abcdef1",
            "stable",
            "main",
            "master",
            "feature-x",
            "13.x.y",
            "1.2-nightly",
            "2-SNAPSHOT",
            "3.0.0-dev",
            "1-latest",
            "1.2.3-edge",
            "0.1.0-main.1",
            "1.2.3-development",
            "edge",
        ];
        for tag in tags {
            let want = format!("{:?}", haven.judge(tag)) == "Pinned";
            for image in [
                format!("nginx:{tag}"),
                format!("dev.registry.nl:5000/main/app:{tag}"),
                format!("ghcr.io/latest/x:{tag}"),
            ] {
                assert_eq!(kyverno_pinned(&image), want, "{image}");
            }
        }
        let digest = format!("@sha256:{}", "a".repeat(64));
        for (image, want) in [
            ("nginx".to_owned(), false),
            ("registry.nl:5000/app".to_owned(), false),
            (format!("nginx{digest}"), true),
            (format!("nginx:latest{digest}"), true),
        ] {
            assert_eq!(kyverno_pinned(&image), want, "{image}");
        }
    }

    /// A claimed name collides with a platform host: the host itself, a wildcard over it,
    /// never a sibling (`app.example.nl` stays the tenant's).
    #[test]
    fn host_collisions_cover_wildcards_over_platform_hosts() {
        let expr = collides(&["keycloak.example.nl".to_owned()]);
        assert_eq!(
            expr,
            "element == 'keycloak.example.nl' || contains(['*', '*.example.nl', '*.nl'], element)"
        );
        assert_eq!(covered_by("*.zaken.nl"), "ends_with(element, '.zaken.nl')");
        assert_eq!(lit("it's"), "'it\\'s'");
    }
}
