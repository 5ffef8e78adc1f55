//! What a tenant may claim (`tenant.rs`): registries, LoadBalancer Services, host names.

use super::{Case, at, case};
use crate::TenantPolicy;
use crate::registry::{HOSTNAME, IMAGE_REGISTRY, SERVICE_LOAD_BALANCER};

pub(super) fn cases() -> Vec<Case> {
    let mut v = registries();
    v.extend(load_balancers());
    v.extend(hostnames());
    v
}

fn registries_allowed(prefixes: &[&str]) -> TenantPolicy {
    TenantPolicy {
        allowed_registries: Some(prefixes.iter().map(|p| p.parse().unwrap()).collect()),
        ..TenantPolicy::default()
    }
}

fn registries() -> Vec<Case> {
    vec![
        case(
            IMAGE_REGISTRY,
            "every container is compared on its normalised name, at path boundaries",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      initContainers:
      - {name: init, image: "busybox:1.36"}
      containers:
      - {name: ok, image: "ghcr.io/gemeente-x/web:1.2"}
      - {name: lookalike, image: "ghcr.io/gemeente-xyz/web:1.2"}
      - {name: hub, image: "docker.io/nginx:1.27"}
      - {name: mirror, image: "registry.example.nl/hub/nginx:1.27"}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.initContainers[0].image",
                    8,
                    "image \"busybox:1.36\" (docker.io/library/busybox) of container \"init\" is from no allowed registry (allowed: ghcr.io/gemeente-x, registry.example.nl)",
                )
                .container("init"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[1].image",
                    11,
                    "image \"ghcr.io/gemeente-xyz/web:1.2\" (ghcr.io/gemeente-xyz/web) of container \"lookalike\" is from no allowed registry (allowed: ghcr.io/gemeente-x, registry.example.nl)",
                )
                .container("lookalike"),
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[2].image",
                    12,
                    "image \"docker.io/nginx:1.27\" (docker.io/library/nginx) of container \"hub\" is from no allowed registry (allowed: ghcr.io/gemeente-x, registry.example.nl)",
                )
                .container("hub"),
            ],
        )
        .tenant(registries_allowed(&["ghcr.io/gemeente-x", "registry.example.nl"])),
        case(
            IMAGE_REGISTRY,
            "Docker Hub short names match a docker.io/library prefix; a pod alone",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "nginx:1.27"}
  - {name: b, image: "library/redis:7"}
  - {name: c, image: "index.docker.io/postgres:16"}
  - {name: d, image: "localhost:5000/x:1"}
"#,
            vec![],
        )
        .tenant(registries_allowed(&["docker.io/library", "localhost:5000"]))
        .object_scope(),
        case(
            IMAGE_REGISTRY,
            "an ephemeral container (kubectl debug) is held to the list too",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "registry.example.nl/a:1"}
  ephemeralContainers:
  - {name: debug, image: "nicolaka/netshoot"}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.ephemeralContainers[0].image",
                    8,
                    "image \"nicolaka/netshoot\" (docker.io/nicolaka/netshoot) of container \"debug\" is from no allowed registry (allowed: registry.example.nl)",
                )
                .container("debug"),
            ],
        )
        .tenant(registries_allowed(&["registry.example.nl"]))
        .object_scope(),
        case(
            IMAGE_REGISTRY,
            "without allowed registries nothing is compared",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "evil.example.com/x:1"}
"#,
            vec![],
        ),
    ]
}

fn load_balancers() -> Vec<Case> {
    let service = r#"apiVersion: v1
kind: Service
metadata: {name: edge, namespace: app}
spec:
  type: LoadBalancer
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  type: ClusterIP
  ports: [{port: 80}]
"#;
    vec![
        case(
            SERVICE_LOAD_BALANCER,
            "a LoadBalancer Service where none is allowed",
            service,
            vec![at(
                "app/Service/edge",
                "spec.type",
                5,
                "Service edge is of type LoadBalancer, which its namespace is not allowed",
            )],
        )
        .tenant(TenantPolicy {
            allow_load_balancer: false,
            ..TenantPolicy::default()
        })
        .object_scope(),
        case(
            SERVICE_LOAD_BALANCER,
            "allowed LoadBalancers",
            service,
            vec![],
        ),
    ]
}

fn hosts_policy(denied: &[&str], allowed: Option<&[&str]>) -> TenantPolicy {
    TenantPolicy {
        denied_hostnames: denied.iter().map(|h| h.parse().unwrap()).collect(),
        allowed_hostnames: allowed.map(|a| a.iter().map(|h| h.parse().unwrap()).collect()),
        ..TenantPolicy::default()
    }
}

fn hostnames() -> Vec<Case> {
    let platform = hosts_policy(&["keycloak.example.nl", "grafana.example.nl"], None);
    vec![
        case(
            HOSTNAME,
            "routes, a certificate and a gateway claiming platform names",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: steal, namespace: app}
spec:
  hostnames: [app.gemeente-x.nl, KEYCLOAK.example.nl]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: everything, namespace: app}
spec:
  parentRefs: [{name: platform, namespace: gateway}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: wildcard, namespace: app}
spec:
  secretName: wildcard
  commonName: "*.example.nl"
  dnsNames: ["*.example.nl", app.gemeente-x.nl]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: own, namespace: app}
spec:
  gatewayClassName: eg
  listeners:
  - {name: a, hostname: app.gemeente-x.nl, port: 443, protocol: HTTPS}
  - {name: b, hostname: "*.nl", port: 443, protocol: HTTPS}
"#,
            vec![
                at(
                    "app/HTTPRoute/steal",
                    "spec.hostnames[1]",
                    5,
                    "HTTPRoute steal claims the host name keycloak.example.nl, which is denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/HTTPRoute/everything",
                    "spec",
                    10,
                    "HTTPRoute everything names no host, so it claims every host name, which overlaps keycloak.example.nl, denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/Certificate/wildcard",
                    "spec.commonName",
                    18,
                    "Certificate wildcard claims the host name *.example.nl, which overlaps keycloak.example.nl, denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/Certificate/wildcard",
                    "spec.dnsNames[0]",
                    19,
                    "Certificate wildcard claims the host name *.example.nl, which overlaps keycloak.example.nl, denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/Gateway/own",
                    "spec.listeners[1].hostname",
                    28,
                    "Gateway own claims the host name *.nl, which overlaps keycloak.example.nl, denied to the namespace (the platform's or another tenant's)",
                ),
            ],
        )
        .tenant(platform.clone())
        .object_scope(),
        case(
            HOSTNAME,
            "an Ingress: rules without a host, TLS hosts, outside the allowed names",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: app}
spec:
  tls:
  - hosts: [app.gemeente-x.nl, grafana.example.nl]
  rules:
  - host: app.gemeente-x.nl
  - host: other.nl
  - http: {paths: []}
"#,
            vec![
                at(
                    "app/Ingress/web",
                    "spec.tls[0].hosts[1]",
                    6,
                    "Ingress web claims the host name grafana.example.nl, which is denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/Ingress/web",
                    "spec.rules[1].host",
                    9,
                    "Ingress web claims the host name other.nl, outside the namespace's allowed host names (*.gemeente-x.nl)",
                ),
                at(
                    "app/Ingress/web",
                    "spec.rules[2]",
                    10,
                    "Ingress web names no host, so it claims every host name, which overlaps keycloak.example.nl, denied to the namespace (the platform's or another tenant's)",
                ),
            ],
        )
        .tenant(hosts_policy(
            &["keycloak.example.nl", "grafana.example.nl"],
            Some(&["*.gemeente-x.nl"]),
        )),
        case(
            HOSTNAME,
            "the tenant's own names, and objects that claim none",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  hostnames: [app.gemeente-x.nl]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web, namespace: app}
spec:
  secretName: web
  dnsNames: ["*.gemeente-x.nl"]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec: {ports: [{port: 80}]}
"#,
            vec![],
        )
        .tenant(hosts_policy(
            &["keycloak.example.nl", "*.example.nl"],
            Some(&["*.gemeente-x.nl"]),
        )),
        case(
            HOSTNAME,
            "ExternalDNS annotations claim names on every kind: a NodePort Service, a route beyond its hostnames",
            r#"apiVersion: v1
kind: Service
metadata:
  name: phish
  namespace: app
  annotations:
    external-dns.alpha.kubernetes.io/hostname: "app.gemeente-x.nl, inloggen.example.nl,,"
    external-dns.alpha.kubernetes.io/target: 203.0.113.7
spec: {type: NodePort, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: app
  annotations:
    external-dns.alpha.kubernetes.io/internal-hostname: KEYCLOAK.example.nl.
spec:
  hostnames: [app.gemeente-x.nl]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: app
  annotations: {external-dns.alpha.kubernetes.io/hostname: "*.gemeente-x.nl,other.nl"}
spec:
  rules: [{host: app.gemeente-x.nl}]
"#,
            vec![
                at(
                    "app/Service/phish",
                    "metadata.annotations[\"external-dns.alpha.kubernetes.io/hostname\"]",
                    7,
                    "Service phish asks ExternalDNS for the host name inloggen.example.nl (external-dns.alpha.kubernetes.io/hostname), outside the namespace's allowed host names (*.gemeente-x.nl)",
                ),
                at(
                    "app/HTTPRoute/web",
                    "metadata.annotations[\"external-dns.alpha.kubernetes.io/internal-hostname\"]",
                    17,
                    "HTTPRoute web asks ExternalDNS for the host name keycloak.example.nl (external-dns.alpha.kubernetes.io/internal-hostname), which is denied to the namespace (the platform's or another tenant's)",
                ),
                at(
                    "app/Ingress/web",
                    "metadata.annotations[\"external-dns.alpha.kubernetes.io/hostname\"]",
                    26,
                    "Ingress web asks ExternalDNS for the host name other.nl (external-dns.alpha.kubernetes.io/hostname), outside the namespace's allowed host names (*.gemeente-x.nl)",
                ),
            ],
        )
        .tenant(hosts_policy(
            &["keycloak.example.nl", "grafana.example.nl"],
            Some(&["*.gemeente-x.nl"]),
        ))
        .object_scope(),
        case(
            HOSTNAME,
            "without denied or allowed names nothing is compared",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: app}
spec:
  hostnames: [keycloak.example.nl]
"#,
            vec![],
        ),
    ]
}
