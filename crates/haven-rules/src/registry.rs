//! Metadata of every rule: what `haven rules` lists and SARIF embeds.

use foldhash::HashMap;
use std::sync::LazyLock;

use haven_model::{RuleGroup, RuleInfo, RuleScope, Severity};

pub const CONTAINERISED: &str = "haven.containerised";
pub const MANIFESTS: &str = "haven.manifests";
pub const METRICS: &str = "haven.metrics-endpoint";
pub const SCALABLE: &str = "haven.scalable";
pub const RWO_SCALE: &str = "haven.rwo-blocks-scaling";
pub const RESOURCES: &str = "plus.resources";
pub const PROBES: &str = "plus.probes";
pub const IMAGE_TAG: &str = "plus.image-tag";
pub const IMAGE_DIGEST: &str = "plus.image-digest";
pub const PDB: &str = "plus.pdb";
pub const NETWORK_POLICY: &str = "plus.network-policy";
pub const RWX: &str = "plus.rwx-storage";
pub const SA_TOKEN: &str = "plus.sa-token-automount";
pub const DEFAULT_NAMESPACE: &str = "plus.default-namespace";
pub const IMAGE_REGISTRY: &str = "plus.image-registry";
pub const SERVICE_LOAD_BALANCER: &str = "plus.service-load-balancer";
pub const HOSTNAME: &str = "plus.hostname";
pub const YAML11: &str = "input.yaml11";
pub const DUPLICATE_KEY: &str = "input.duplicate-key";
pub const WAIVER_EXPIRED: &str = "input.waiver-expired";
pub const NL_HTTPS: &str = "nl.https";
pub const NL_HTTP_REDIRECT: &str = "nl.http-redirect";
pub const NL_HSTS: &str = "nl.hsts";
pub const NL_HSTS_SUBDOMAINS: &str = "nl.hsts-subdomains";
pub const NL_TLS_VERSION: &str = "nl.tls-version";
pub const NL_TLS_CIPHERS: &str = "nl.tls-ciphers";

const HAVEN_URI: &str = "https://haven.commonground.nl/techniek/aan-de-slag";
/// The NCSC guideline the `nl.*` rules follow: "ICT-beveiligingsrichtlijnen voor Transport
/// Layer Security (TLS)", version 2.1 (January 2021). Its levels: TLS 1.3 good, TLS 1.2
/// sufficient, TLS 1.1 and 1.0 phase out; cipher suites with ECDHE or DHE key exchange and
/// AES-GCM, ChaCha20-Poly1305 (good) or AES-CBC (sufficient); RSA key exchange and 3DES phase
/// out; everything else insufficient.
pub const NCSC_TLS_GUIDELINE: &str =
    "NCSC ICT-beveiligingsrichtlijnen voor Transport Layer Security (TLS), version 2.1 (2021)";
const NL_URI: &str = "https://www.forumstandaardisatie.nl/open-standaarden/https-en-hsts";
const PSS_URI: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

const fn haven(
    id: &'static str,
    level: RuleGroup,
    severity: Severity,
    scope: RuleScope,
    title: &'static str,
    rationale: &'static str,
    fix: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        level,
        severity,
        scope,
        title,
        rationale,
        fix,
        help_uri: HAVEN_URI,
    }
}

const fn nl(
    id: &'static str,
    severity: Severity,
    scope: RuleScope,
    title: &'static str,
    rationale: &'static str,
    fix: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        level: RuleGroup::NlLaw,
        severity,
        scope,
        title,
        rationale,
        fix,
        help_uri: NL_URI,
    }
}

static OWN_RULES: [RuleInfo; 26] = [
    haven(
        CONTAINERISED,
        RuleGroup::Haven,
        Severity::High,
        RuleScope::Object,
        "Every container names its image",
        "Haven runs applications as containers only: a container without an image cannot be scheduled and means the \
         application is not (fully) containerised. An image reference the container runtime cannot parse (by the \
         distribution reference grammar) never starts either (`InvalidImageName`).",
        "Set `image` on every container, init container and ephemeral container to a valid reference, e.g. \
         `registry.example.nl/app:1.4.2`.",
    ),
    haven(
        MANIFESTS,
        RuleGroup::Haven,
        Severity::High,
        RuleScope::Application,
        "The application ships Kubernetes manifests",
        "Haven applications are delivered as Kubernetes manifests (for example a Helm chart); without at least one \
         workload there is nothing that runs the application.",
        "Add a Deployment, StatefulSet, DaemonSet, Job or CronJob, or check that the chart's values enable one.",
    ),
    haven(
        METRICS,
        RuleGroup::Haven,
        Severity::Medium,
        RuleScope::Application,
        "The workload exposes a metrics endpoint",
        "Haven requires applications to expose metrics so that the platform's monitoring (Alloy scraping \
         ServiceMonitors and PodMonitors into Mimir on Haven+) can observe them.",
        "Add a ServiceMonitor or PodMonitor selecting the workload, `prometheus.io/scrape: \"true\"` annotations, a \
         container port named `metrics`, or an OTLP exporter (`OTEL_EXPORTER_OTLP_ENDPOINT`).",
    ),
    haven(
        SCALABLE,
        RuleGroup::Haven,
        Severity::Medium,
        RuleScope::Application,
        "The workload runs, or can scale to, several replicas",
        "Haven requires applications to scale to multiple replicas, so that a node failure or a rolling update does \
         not take them down.",
        "Set `replicas: 2` or more, or add a HorizontalPodAutoscaler with `maxReplicas` >= 2 targeting the workload. \
         A deliberate singleton (a scheduler, a Celery beat) gets a waiver with its reason.",
    ),
    haven(
        RWO_SCALE,
        RuleGroup::Haven,
        Severity::High,
        RuleScope::Application,
        "No ReadWriteOnce claim is shared by several replicas",
        "A ReadWriteOnce volume attaches to one node only: a Deployment with several replicas on different nodes \
         cannot start them all, so the application cannot scale out.",
        "Use a ReadWriteMany claim (RWX storage on Haven), object storage, or a StatefulSet with \
         volumeClaimTemplates (one claim per replica).",
    ),
    haven(
        RESOURCES,
        RuleGroup::HavenPlus,
        Severity::Medium,
        RuleScope::Object,
        "Containers request CPU and memory and limit memory",
        "Requests let the scheduler place pods and tenants' ResourceQuotas admit them; a memory limit keeps one \
         leaking container from starving its neighbours on a shared Haven+ cluster.",
        "Set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory` on every container.",
    ),
    haven(
        PROBES,
        RuleGroup::HavenPlus,
        Severity::Medium,
        RuleScope::Object,
        "Long-running containers have liveness and readiness probes",
        "Without a readiness probe traffic reaches pods that are not ready; without a liveness probe a hung process is \
         never restarted. Both are needed for zero-downtime rolling updates.",
        "Add `livenessProbe` and `readinessProbe` (httpGet, tcpSocket, grpc or exec) to every container of \
         Deployments, StatefulSets and DaemonSets.",
    ),
    haven(
        IMAGE_TAG,
        RuleGroup::HavenPlus,
        Severity::High,
        RuleScope::Object,
        "Images are pinned to a version",
        "An image without a tag, tagged `latest`, or tagged with anything that is no version (`stable`, `main`, \
         `feature-x`, `1.2-nightly`) changes under your feet: rollbacks do not roll back and two replicas may run \
         different code. Haven+ image scanning also needs a fixed version to report on.",
        "Use an explicit version tag (`app:1.14.2`), preferably with a digest (`app:1.14.2@sha256:…`). Tags your \
         registry never moves can be named with `--pinned-tag REGEX`; version-like tags that do move (major-only \
         `app:2`) with `--moving-tag REGEX`.",
    ),
    haven(
        IMAGE_DIGEST,
        RuleGroup::HavenPlus,
        Severity::Info,
        RuleScope::Object,
        "Images are pinned by digest",
        "A tag can be moved to other content; a digest cannot. Pinning by digest makes deployments reproducible and \
         supply-chain checks meaningful.",
        "Append the digest to the tag: `app:1.14.2@sha256:…` (Renovate can keep digests current).",
    ),
    haven(
        PDB,
        RuleGroup::HavenPlus,
        Severity::Low,
        RuleScope::Application,
        "Replicated workloads have a PodDisruptionBudget",
        "Node maintenance on a Haven+ cluster drains nodes; without a PodDisruptionBudget all replicas may be evicted \
         at once.",
        "Add a PodDisruptionBudget selecting the workload's pods with `maxUnavailable: 1` (or `minAvailable`).",
    ),
    haven(
        NETWORK_POLICY,
        RuleGroup::HavenPlus,
        Severity::Medium,
        RuleScope::Application,
        "A NetworkPolicy selects the workload",
        "Haven+ tenant namespaces are default-deny: a workload no NetworkPolicy selects either receives no traffic \
         or, on clusters without default-deny, accepts traffic from everywhere.",
        "Ship a NetworkPolicy whose `podSelector` matches the workload and allows exactly the ingress it needs.",
    ),
    haven(
        RWX,
        RuleGroup::HavenPlus,
        Severity::Info,
        RuleScope::Object,
        "ReadWriteMany claims need RWX storage",
        "ReadWriteMany volumes need a storage class that supports them (NFS or CephFS per provider); the cluster must \
         offer one (the Haven `rwxvolumes` check) or the claim stays Pending.",
        "Make sure the target cluster has an RWX storage class and set `storageClassName` accordingly, or move the \
         data to object storage (Garage on Haven+).",
    ),
    haven(
        SA_TOKEN,
        RuleGroup::HavenPlus,
        Severity::Low,
        RuleScope::Object,
        "Service-account tokens are not mounted unless needed",
        "A mounted token lets anyone who compromises the container talk to the Kubernetes API as the workload's \
         service account. Most applications never call the API.",
        "Set `automountServiceAccountToken: false` on the pod spec (or its ServiceAccount); waive the rule with a reason \
         for workloads that really call the API. `haven app check` reads the ServiceAccount when the application \
         ships it; the admission webhook judges one object and cannot see the ServiceAccount, so there only the pod \
         spec's own `automountServiceAccountToken: false` (or the waiver annotation) satisfies the rule.",
    ),
    haven(
        DEFAULT_NAMESPACE,
        RuleGroup::HavenPlus,
        Severity::Medium,
        RuleScope::Object,
        "Nothing is deployed to the `default` namespace",
        "Haven+ tenants get their own namespaces with quotas, RBAC, policies and backups; the `default` namespace has \
         none of that.",
        "Remove `namespace: default` and install into the tenant's namespace (`--namespace`).",
    ),
    haven(
        IMAGE_REGISTRY,
        RuleGroup::HavenPlus,
        Severity::High,
        RuleScope::Object,
        "Images come from the registries the tenant is allowed",
        "On a shared Haven+ cluster the platform team decides where a tenant's code may come from: registries it \
         scans, mirrors and trusts. An image from anywhere else bypasses that (and a public image may change or \
         vanish). Compared on the name as the container runtime reads it: Docker Hub short names are expanded as \
         containerd does (`nginx` is `docker.io/library/nginx`, `org/app` is `docker.io/org/app`, \
         `index.docker.io` is `docker.io`), host names in any case; a prefix matches at a `/` only \
         (`ghcr.io/gemeente-x` allows `ghcr.io/gemeente-x/app`, never `ghcr.io/gemeente-xyz/app`), a bare host \
         allows every image on it (without its port: `host:5000` is another registry). Applies where the policy \
         names the registries: the namespace annotation `haven.commonground.nl/allowed-registries` (comma-separated \
         prefixes) at admission, `--allowed-registry` in `haven app check`. The admission webhook does not \
         honour a waiver annotation on the object itself for this rule: the policy is the platform team's.",
        "Push the image to an allowed registry (or pull it through the platform's mirror) and reference it there, \
         e.g. `registry.example.nl/team/app:1.4.2`; or ask the platform team to add the registry to the tenant's \
         `allowedRegistries`.",
    ),
    haven(
        SERVICE_LOAD_BALANCER,
        RuleGroup::HavenPlus,
        Severity::Medium,
        RuleScope::Object,
        "No LoadBalancer Services unless the tenant is allowed them",
        "A Service of `type: LoadBalancer` gets a public (or provider) address of its own, outside the platform's \
         gateway: no TLS policy, no HSTS, no WAF, and it costs money per address. Tenants reach the outside through \
         the platform's gateway (an HTTPRoute) unless the platform team allows them LoadBalancers: the namespace \
         annotation `haven.commonground.nl/allow-load-balancer: \"true\"` at admission (absent or anything else \
         refuses, in namespaces where the Haven+ group applies); `haven app check` reports it unless \
         `--allow-load-balancer`. The admission webhook does not honour a waiver annotation on the object itself \
         for this rule: the policy is the platform team's.",
        "Use `type: ClusterIP` and an HTTPRoute (or Ingress) on the platform's gateway; for non-HTTP traffic ask \
         the platform team to allow LoadBalancers for the namespace.",
    ),
    haven(
        HOSTNAME,
        RuleGroup::HavenPlus,
        Severity::High,
        RuleScope::Object,
        "Routes, ingresses, gateways and certificates claim only the tenant's host names",
        "A tenant that can route, certify or publish in DNS a platform host name (`keycloak.<domain>`, \
         `grafana.<domain>`, or the wildcard `*.<domain>`) or another tenant's can take its traffic or obtain a certificate for it: credentials and sessions of \
         every user of the platform. Judged: HTTPRoute, GRPCRoute and TLSRoute `spec.hostnames` (none named: every \
         host of the listeners the route attaches to), Ingress `spec.rules[].host` (none: every host), \
         `spec.tls[].hosts` and `spec.defaultBackend` (every host), Gateway `spec.listeners[].hostname` (none: \
         every host), cert-manager Certificate `spec.dnsNames` and `spec.commonName`, and on every kind (a Service \
         of any type included) each name of the annotations `external-dns.alpha.kubernetes.io/hostname` and \
         `external-dns.alpha.kubernetes.io/internal-hostname` (comma-separated), which ExternalDNS publishes in \
         the platform's zone. A name is refused when it \
         overlaps a denied one (equal, or a `*.` wildcard on either side covering the other: claiming \
         `*.example.nl` overlaps `keycloak.example.nl`), or, where allowed names are given, when none of them \
         covers it. The names: the namespace annotations `haven.commonground.nl/denied-hostnames` and \
         `haven.commonground.nl/allowed-hostnames` at admission, `--denied-hostname` and `--allowed-hostname` in \
         `haven app check`. Not judged: Istio and Traefik routes, and hosts other controllers derive from \
         annotations. The admission webhook does not honour a waiver annotation on the object itself for this \
         rule: the policy is the platform team's.",
        "Name only the tenant's own host names (`spec.hostnames: [app.gemeente-x.nl]`, or in an ExternalDNS \
         annotation), never a platform host, another tenant's or a wildcard over one; ask the platform team to \
         add a host to the tenant's allowed names.",
    ),
    haven(
        YAML11,
        RuleGroup::Input,
        Severity::Low,
        RuleScope::Object,
        "Value read differently by Kubernetes (YAML 1.1)",
        "Kubernetes reads YAML with YAML 1.1 rules: unquoted `on`, `yes`, `y`, `off`, `no` are booleans, `0755` is \
         octal. Editors and most linters use YAML 1.2 and show something else. (Octal file modes of volumes, \
         `defaultMode: 0644`, are read as meant and not reported.)",
        "Quote the value if you meant a string (`\"on\"`), or write the number in decimal.",
    ),
    haven(
        DUPLICATE_KEY,
        RuleGroup::Input,
        Severity::Medium,
        RuleScope::Object,
        "A mapping key is written twice",
        "YAML forbids duplicate keys; Kubernetes silently keeps the last value, so the first one never takes effect.",
        "Remove one of the two entries.",
    ),
    haven(
        WAIVER_EXPIRED,
        RuleGroup::Input,
        Severity::Medium,
        RuleScope::Application,
        "A waiver has expired",
        "An expired waiver no longer waives anything: the exception it granted must be fixed or renewed with a new \
         reason and date.",
        "Fix the findings it covered, or extend `expires` after review.",
    ),
    nl(
        NL_HTTPS,
        Severity::High,
        RuleScope::Object,
        "Public web endpoints are served over HTTPS",
        "Dutch law requires government websites and web applications to be served only over HTTPS, configured \
         after the NCSC TLS guidelines (version 2.1): the Wet digitale overheid as amended by Staatsblad 2023, 179 (Forum \
         Standaardisatie measures it twice a year). Judged from the manifests: every host of an Ingress must be \
         covered by `spec.tls`; every HTTPS or TLS listener of a Gateway must reference a certificate (or pass TLS \
         through); a Gateway's plain-HTTP listener needs an HTTPS listener for its hosts; and (application check \
         only) an HTTPRoute must attach to an HTTPS listener of a Gateway in the manifests. Not judged: whether the \
         certificate is valid and trusted, and routes attached to a Gateway outside the manifests (the platform's: \
         `haven plus validate` and `haven check --plus` judge that one). Out of scope: internal-only endpoints \
         (cluster-internal Services, hosts under `*.svc`, `*.cluster.local`, `*.internal`, `*.local` or an \
         `--internal-domain`, and objects annotated `haven.commonground.nl/internal: \"true\"`).",
        "Ingress: add a `spec.tls` entry whose `hosts` cover every rule's host, with a `secretName` (cert-manager \
         issues it with the `cert-manager.io/cluster-issuer` annotation). Gateway API: attach the route to the \
         gateway's HTTPS listener (`sectionName: https`) with `certificateRefs`. Mark an internal-only endpoint \
         with the annotation `haven.commonground.nl/internal: \"true\"`.",
    ),
    nl(
        NL_HTTP_REDIRECT,
        Severity::High,
        RuleScope::Application,
        "Plain HTTP only redirects to HTTPS",
        "Under the Wet digitale overheid (Staatsblad 2023, 179) and the NCSC TLS guidelines (version 2.1) plain HTTP may only redirect to HTTPS; content \
         served over HTTP can be read and changed on the way. Judged from the manifests: every rule of an HTTPRoute \
         attached to a Gateway's plain-HTTP listener must be a `RequestRedirect` with `scheme: https`, and such a \
         listener needs at least one redirecting route; Istio `Gateway` HTTP servers need `tls.httpsRedirect: true`; \
         an ingress-nginx Ingress must not set `ssl-redirect: \"false\"` (the controller redirects TLS hosts by \
         default); a Traefik Ingress on the `web` entry point needs a `redirectScheme` Middleware when that \
         Middleware is in the manifests. Not judged: redirects configured in the controller itself (Helm values of \
         the ingress controller, entry-point redirects), which only `haven check --plus` can see on a cluster.",
        "Gateway API: attach one HTTPRoute to the HTTP listener whose only rule is a `RequestRedirect` filter with \
         `scheme: https` and `statusCode: 301`, and attach the application's routes to the HTTPS listener only. \
         Istio: set `tls.httpsRedirect: true` on the HTTP server. ingress-nginx: remove `ssl-redirect: \"false\"`.",
    ),
    nl(
        NL_HSTS,
        Severity::High,
        RuleScope::Application,
        "HTTPS responses carry HSTS with a max-age of at least one year",
        "The Wet digitale overheid (Staatsblad 2023, 179) requires HSTS (RFC 6797) on government HTTPS services (NCSC TLS guidelines, version 2.1), \
         and the Forum Standaardisatie measurement (internet.nl) asks a max-age of at least one year (31536000 \
         seconds). Judged from the manifests: a `Strict-Transport-Security` header set by a Gateway API \
         `ResponseHeaderModifier` or a Traefik `Middleware` (`headers.stsSeconds`) must have max-age >= 31536000 \
         wherever it is written; every rule of an HTTPRoute attached to an HTTPS listener of a Gateway in the \
         manifests must send it (by its own filter or a Traefik Middleware it references); a Traefik Ingress must \
         reference such a Middleware. ingress-nginx sends HSTS for a year on TLS hosts by default. Not judged: \
         HSTS sent by the gateway itself for routes attached to a Gateway outside the manifests (the Haven+ \
         platform's gateway sends it where the implementation can: see `haven check --plus`).",
        "Add to every rule of the HTTPS route a filter `{type: ResponseHeaderModifier, responseHeaderModifier: \
         {set: [{name: Strict-Transport-Security, value: \"max-age=31536000; includeSubDomains\"}]}}`, or on \
         Traefik a Middleware with `headers: {stsSeconds: 31536000, stsIncludeSubdomains: true}` referenced by the \
         route or Ingress.",
    ),
    nl(
        NL_HSTS_SUBDOMAINS,
        Severity::Low,
        RuleScope::Object,
        "HSTS includes subdomains",
        "HSTS without `includeSubDomains` leaves a first visit to a subdomain open to downgrade; the Forum \
         Standaardisatie measurement reports its absence (Wet digitale overheid, Staatsblad 2023, 179; NCSC TLS guidelines, version 2.1). Judged \
         wherever a `Strict-Transport-Security` value or a Traefik `stsSeconds` is written in the manifests.",
        "Add `includeSubDomains` to the header value (`max-age=31536000; includeSubDomains`), or \
         `stsIncludeSubdomains: true` to the Traefik Middleware, once every subdomain serves HTTPS.",
    ),
    nl(
        NL_TLS_VERSION,
        Severity::High,
        RuleScope::Object,
        "TLS 1.2 at least, as the NCSC guidelines say",
        "The Wet digitale overheid (Staatsblad 2023, 179) requires TLS configured after the NCSC TLS guidelines \
         (version 2.1): TLS 1.3 is good, TLS 1.2 sufficient, TLS 1.1 and 1.0 are to be phased out. Judged where the \
         manifests set versions: Envoy Gateway `ClientTrafficPolicy` `spec.tls.minVersion`/`maxVersion`, Traefik \
         `TLSOption` `spec.minVersion`/`maxVersion`, Istio `Gateway` `spec.servers[].tls.minProtocolVersion`/\
         `maxProtocolVersion`. Left unset, each of these defaults to TLS 1.2 at least. Not judged: settings of \
         the controller outside the manifests (ingress-nginx's ConfigMap, Cilium's Envoy).",
        "Set the minimum version to TLS 1.2 (`1.2`, `VersionTLS12`, `TLSV1_2`) or TLS 1.3, and no maximum below 1.2.",
    ),
    nl(
        NL_TLS_CIPHERS,
        Severity::High,
        RuleScope::Object,
        "Only cipher suites the NCSC guidelines rate good or sufficient",
        "The NCSC TLS guidelines (version 2.1), which the Wet digitale overheid (Staatsblad 2023, 179) makes the \
         norm, rate cipher suites with ECDHE or DHE key exchange and AES-GCM or ChaCha20-Poly1305 good, with AES-CBC \
         sufficient; RSA key exchange (no forward secrecy) and 3DES are to be phased out; RC4, NULL, export, \
         anonymous, MD5, CAMELLIA, ARIA, SEED, IDEA, PSK and CCM_8 suites are insufficient. Judged where the \
         manifests list cipher suites: Envoy Gateway `ClientTrafficPolicy` `spec.tls.ciphers`, Traefik `TLSOption` \
         `spec.cipherSuites`, Istio `Gateway` `spec.servers[].tls.cipherSuites`. Not judged: the \
         implementation's defaults when no suites are listed, and TLS 1.3's suites, which these resources do \
         not list.",
        "Remove the named suites; keep ECDHE suites with AES-GCM or ChaCha20-Poly1305 (and TLS 1.3's suites).",
    ),
];

static ALL: LazyLock<Vec<RuleInfo>> = LazyLock::new(|| {
    let mut all: Vec<RuleInfo> = haven_pss::checks()
        .iter()
        .map(|c| RuleInfo {
            id: pss_rule_id(c.id),
            level: match c.level {
                haven_pss::Level::Baseline => haven_model::RuleGroup::PssBaseline,
                haven_pss::Level::Restricted => haven_model::RuleGroup::PssRestricted,
            },
            severity: match c.level {
                haven_pss::Level::Baseline => Severity::Critical,
                haven_pss::Level::Restricted => Severity::High,
            },
            scope: RuleScope::Object,
            title: c.title,
            rationale: c.rationale,
            fix: c.fix,
            help_uri: PSS_URI,
        })
        .collect();
    all.extend(OWN_RULES.iter().cloned());
    all
});

/// `pss.<upstream check id>`, interned once per check.
pub fn pss_rule_id(check: &'static str) -> &'static str {
    static IDS: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
        haven_pss::checks()
            .iter()
            .map(|c| (c.id, &*Box::leak(format!("pss.{}", c.id).into_boxed_str())))
            .collect()
    });
    IDS.get(check).copied().unwrap_or("pss.unknown")
}

/// Every rule, Pod Security first.
pub fn rules() -> &'static [RuleInfo] {
    &ALL
}

/// One rule by id. Hashed: every finding looks its rule up, and a corpus has hundreds of
/// thousands of findings.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    static BY_ID: LazyLock<HashMap<&'static str, &'static RuleInfo>> =
        LazyLock::new(|| rules().iter().map(|r| (r.id, r)).collect());
    BY_ID.get(id).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `haven rules explain` of every Dutch-law rule cites the law and the NCSC guideline
    /// version, and says what the manifests can and cannot tell.
    #[test]
    fn dutch_law_rules_cite_the_law_and_the_guideline_version() {
        let nl: Vec<&RuleInfo> = rules().iter().filter(|r| r.id.starts_with("nl.")).collect();
        assert_eq!(nl.len(), 6);
        for r in nl {
            assert_eq!(r.level, RuleGroup::NlLaw, "{}", r.id);
            for needle in ["Staatsblad 2023, 179", "NCSC", "2.1", "Judged"] {
                assert!(r.rationale.contains(needle), "{}: no {needle:?}", r.id);
            }
        }
        assert!(NCSC_TLS_GUIDELINE.contains("2.1"));
    }

    #[test]
    fn ids_are_unique_and_fit_an_annotation_key() {
        let mut ids: Vec<_> = rules().iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for id in ids {
            assert!(
                id.len() <= 63
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{id}"
            );
        }
        assert!(rule("pss.privileged").is_some());
    }
}
