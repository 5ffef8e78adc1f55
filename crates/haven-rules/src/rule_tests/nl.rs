//! Dutch law for public web services (`nl.rs`): HTTPS, redirects, HSTS and TLS, for Ingress,
//! plain Gateway API (Cilium), Envoy Gateway, Traefik and Istio.

use super::{Case, at, case};
use crate::registry::{
    NL_HSTS, NL_HSTS_SUBDOMAINS, NL_HTTP_REDIRECT, NL_HTTPS, NL_TLS_CIPHERS, NL_TLS_VERSION,
};

pub(super) fn cases() -> Vec<Case> {
    let mut v = https();
    v.extend(redirect());
    v.extend(hsts());
    v.extend(tls());
    v.extend(compliant());
    v
}

/// A Gateway API application done right: an HTTPS listener with a certificate, the HTTP
/// listener only redirecting, HSTS for a year with subdomains on every HTTPS rule.
const GATEWAY_COMPLIANT: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: cilium
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.example.nl"
    tls: {mode: Terminate, certificateRefs: [{name: web-tls}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect, namespace: app}
spec:
  parentRefs: [{name: web, sectionName: http}]
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web, sectionName: https}]
  hostnames: [app.example.nl]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: Strict-Transport-Security, value: "max-age=31536000; includeSubDomains"}]
    backendRefs: [{name: app, port: 80}]
"#;

fn compliant() -> Vec<Case> {
    vec![
        case(
            "nl.*",
            "Gateway API (Cilium): HTTPS listener, redirect-only HTTP, HSTS for a year",
            GATEWAY_COMPLIANT,
            vec![],
        ),
        case(
            "nl.*",
            "ingress-nginx with TLS: redirects and HSTS are the controller's defaults",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: app}
spec:
  ingressClassName: nginx
  tls: [{hosts: ["*.example.nl"], secretName: web-tls}]
  rules:
  - host: app.example.nl
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"#,
            vec![],
        ),
        case(
            "nl.*",
            "Traefik: websecure entry point, redirect and HSTS Middlewares, TLS 1.2 with good ciphers",
            r#"apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: hsts, namespace: app}
spec:
  headers: {stsSeconds: 63072000, stsIncludeSubdomains: true}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: https, namespace: app}
spec:
  redirectScheme: {scheme: https, permanent: true}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: default, namespace: app}
spec:
  minVersion: VersionTLS12
  cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: app
  annotations:
    traefik.ingress.kubernetes.io/router.entrypoints: web,websecure
    traefik.ingress.kubernetes.io/router.middlewares: app-https@kubernetescrd,app-hsts@kubernetescrd
spec:
  ingressClassName: traefik
  tls: [{hosts: [app.example.nl], secretName: web-tls}]
  rules: [{host: app.example.nl}]
"#,
            vec![],
        ),
        case(
            "nl.*",
            "Envoy Gateway: ClientTrafficPolicy with TLS 1.2 to 1.3, good ciphers and HSTS for every route",
            r#"apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: tls, namespace: app}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  headers:
    lateResponseHeaders:
      set: [{name: Strict-Transport-Security, value: "max-age=63072000; includeSubDomains"}]
  tls:
    minVersion: "1.2"
    maxVersion: "1.3"
    ciphers: ["[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]", ECDHE-RSA-AES256-GCM-SHA384]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: web-tls}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web}]
  rules: [{backendRefs: [{name: app, port: 80}]}]
"#,
            vec![],
        ),
        case(
            "nl.*",
            "Istio: HTTP server redirects, HTTPS server on TLS 1.2 with good ciphers",
            r#"apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [app.example.nl]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.nl]
    tls: {mode: SIMPLE, credentialName: web-tls, minProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}
"#,
            vec![],
        ),
        case(
            "nl.*",
            "internal-only endpoints are out of scope: annotation, *.svc, and --internal-domain",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: admin
  namespace: app
  annotations: {haven.commonground.nl/internal: "true"}
spec:
  rules: [{host: admin.example.nl}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: internal, namespace: app}
spec:
  rules: [{host: api.app.svc.cluster.local}, {host: web.intern.gemeente.nl}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mesh, namespace: app}
spec:
  gatewayClassName: cilium
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: "*.intern.gemeente.nl"}]
"#,
            vec![],
        )
        .internal(&["intern.gemeente.nl"]),
        case(
            "nl.*",
            "routes attached to a Gateway outside the manifests are the platform's to judge",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: platform, namespace: envoy-gateway-system, sectionName: https}]
  hostnames: [app.example.nl]
  rules: [{backendRefs: [{name: app, port: 80}]}]
"#,
            vec![],
        ),
    ]
}

fn https() -> Vec<Case> {
    vec![
        case(
            NL_HTTPS,
            "a chart without TLS fails, naming the law and the fix",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: app}
spec:
  rules:
  - host: app.example.nl
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"#,
            vec![at(
                "app/Ingress/web",
                "spec.rules[0].host",
                6,
                "host \"app.example.nl\" is served over plain HTTP: Dutch law (Wet digitale \
                 overheid, Stb. 2023, 179) requires HTTPS for public government services; add a \
                 `spec.tls` entry whose `hosts` cover it",
            )],
        ),
        case(
            NL_HTTPS,
            "a host the tls hosts miss, and a rule without host and no tls at all, also at admission",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: app}
spec:
  tls: [{hosts: ["*.example.nl"], secretName: web-tls}]
  rules: [{host: app.example.nl}, {host: deep.app.example.nl}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: all, namespace: app}
spec:
  rules: [{http: {paths: []}}]
"#,
            vec![
                at(
                    "app/Ingress/web",
                    "spec.rules[1].host",
                    6,
                    "host \"deep.app.example.nl\" is served over plain HTTP: Dutch law (Wet \
                     digitale overheid, Stb. 2023, 179) requires HTTPS for public government \
                     services; add a `spec.tls` entry whose `hosts` cover it",
                ),
                at(
                    "app/Ingress/all",
                    "spec.rules[0]",
                    12,
                    "a rule without host serves every host over plain HTTP: Dutch law (Wet \
                     digitale overheid, Stb. 2023, 179) requires HTTPS for public government \
                     services; add a `spec.tls` entry, or mark an internal-only Ingress with \
                     `haven.commonground.nl/internal: \"true\"`",
                ),
            ],
        )
        .object_scope(),
        case(
            NL_HTTPS,
            "Gateway: an HTTPS listener without certificate, an HTTP-only Gateway",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: cilium
  listeners:
  - {name: https, protocol: HTTPS, port: 443, tls: {mode: Terminate}}
  - {name: passthrough, protocol: TLS, port: 8443, tls: {mode: Passthrough}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: plain, namespace: app}
spec:
  gatewayClassName: cilium
  listeners: [{name: http, protocol: HTTP, port: 80, hostname: app.example.nl}]
"#,
            vec![
                at(
                    "app/Gateway/web",
                    "spec.listeners[0]",
                    7,
                    "listener \"https\" terminates TLS without `tls.certificateRefs`: it cannot \
                     serve HTTPS, which Wet digitale overheid, Stb. 2023, 179 requires; reference \
                     the certificate's Secret",
                ),
                at(
                    "app/Gateway/plain",
                    "spec.listeners[0]",
                    15,
                    "listener \"http\" serves \"app.example.nl\" over plain HTTP and no HTTPS \
                     listener serves it: Dutch law (Wet digitale overheid, Stb. 2023, 179) \
                     requires HTTPS for public government services; add an HTTPS listener with \
                     `tls.certificateRefs`",
                ),
            ],
        )
        .object_scope(),
        case(
            NL_HTTPS,
            "an HTTPRoute attached only to the HTTP listener of a Gateway in the manifests",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: cilium
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: web-tls}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web, port: 80}]
  rules: [{backendRefs: [{name: app, port: 80}]}]
"#,
            vec![at(
                "app/HTTPRoute/app",
                "spec.parentRefs[0]",
                14,
                "attached only to plain-HTTP listeners of Gateway \"web\": Dutch law (Wet \
                 digitale overheid, Stb. 2023, 179) requires HTTPS for public government \
                 services; attach it to an HTTPS listener with `sectionName`",
            )],
        ),
        case(
            NL_HTTPS,
            "with TLS covering every host there is nothing to report",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: app}
spec:
  tls: [{hosts: [app.example.nl, www.example.nl], secretName: web-tls}]
  rules: [{host: app.example.nl}, {host: www.example.nl}]
"#,
            vec![],
        ),
    ]
}

fn redirect() -> Vec<Case> {
    vec![
        case(
            NL_HTTP_REDIRECT,
            "Gateway API: an HTTP listener nothing redirects, a route serving content on it",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: cilium
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: web-tls}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web}]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: Strict-Transport-Security, value: "max-age=31536000; includeSubDomains"}]
"#,
            vec![
                at(
                    "app/Gateway/web",
                    "spec.listeners[0]",
                    7,
                    "no HTTPRoute in these manifests redirects listener \"http\" to HTTPS; under \
                     Wet digitale overheid, Stb. 2023, 179 plain HTTP may only redirect: attach \
                     a route whose rule is a `RequestRedirect` with `scheme: https`",
                ),
                at(
                    "app/HTTPRoute/app",
                    "spec.rules[0]",
                    16,
                    "attached by parentRefs[0] to a plain-HTTP listener of Gateway \"web\", this \
                     rule serves content over HTTP; under Wet digitale overheid, Stb. 2023, 179 \
                     plain HTTP may only redirect to HTTPS: attach to the HTTPS listener \
                     (`sectionName`)",
                ),
            ],
        ),
        case(
            NL_HTTP_REDIRECT,
            "ingress-nginx told not to redirect; Traefik on `web` without a redirect Middleware",
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nginx
  namespace: app
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [app.example.nl], secretName: web-tls}]
  rules: [{host: app.example.nl}]
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: hsts, namespace: app}
spec:
  headers: {stsSeconds: 31536000, stsIncludeSubdomains: true}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: traefik
  namespace: app
  annotations:
    traefik.ingress.kubernetes.io/router.entrypoints: web,websecure
    traefik.ingress.kubernetes.io/router.middlewares: app-hsts@kubernetescrd
spec:
  ingressClassName: traefik
  tls: [{hosts: [app.example.nl], secretName: web-tls}]
  rules: [{host: app.example.nl}]
"#,
            vec![
                at(
                    "app/Ingress/nginx",
                    "metadata.annotations.nginx.ingress.kubernetes.io/ssl-redirect",
                    6,
                    "`ssl-redirect: \"false\"` serves the TLS hosts over plain HTTP too; under \
                     Wet digitale overheid, Stb. 2023, 179 plain HTTP may only redirect to \
                     HTTPS: remove the annotation",
                ),
                at(
                    "app/Ingress/traefik",
                    "metadata.annotations.traefik.ingress.kubernetes.io/router.entrypoints",
                    23,
                    "served on Traefik's plain-HTTP entry point `web` without a `redirectScheme: \
                     https` Middleware; under Wet digitale overheid, Stb. 2023, 179 plain HTTP \
                     may only redirect to HTTPS (a redirect of the entry point itself is not in \
                     the manifests: waive with it)",
                ),
            ],
        ),
        case(
            NL_HTTP_REDIRECT,
            "Istio: an HTTP server without httpsRedirect",
            r#"apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [app.example.nl]
"#,
            vec![at(
                "app/Gateway/web",
                "spec.servers[0]",
                6,
                "HTTP server without `tls.httpsRedirect: true`; under Wet digitale overheid, Stb. \
                 2023, 179 plain HTTP may only redirect to HTTPS",
            )],
        ),
    ]
}

fn hsts() -> Vec<Case> {
    vec![
        case(
            NL_HSTS,
            "an HTTPS route without HSTS, and one with a max-age under a year",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: web-tls}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web}]
  rules: [{backendRefs: [{name: app, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: short, namespace: app}
spec:
  parentRefs: [{name: platform, namespace: gw}]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: strict-transport-security, value: "max-age=86400; includeSubDomains"}]
"#,
            vec![
                at(
                    "app/HTTPRoute/app",
                    "spec.rules[0]",
                    14,
                    "served over HTTPS by Gateway \"web\" without HSTS (Wet digitale overheid, \
                     Stb. 2023, 179); add a `ResponseHeaderModifier` setting \
                     `Strict-Transport-Security: max-age=31536000; includeSubDomains`",
                ),
                at(
                    "app/HTTPRoute/short",
                    "spec.rules[0].filters[0].responseHeaderModifier.add[0].value",
                    25,
                    "HSTS \"max-age=86400; includeSubDomains\" has max-age 86400: Wet digitale \
                     overheid, Stb. 2023, 179 and the Forum Standaardisatie measurement require \
                     max-age >= 31536000 (one year)",
                ),
            ],
        ),
        case(
            NL_HSTS,
            "Envoy Gateway: gateway-wide HSTS of a ClientTrafficPolicy with a short max-age",
            r#"apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: hsts, namespace: app}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}]
  headers:
    lateResponseHeaders:
      addIfAbsent: [{name: Strict-Transport-Security, value: "max-age=3600; includeSubDomains"}]
"#,
            vec![at(
                "app/ClientTrafficPolicy/hsts",
                "spec.headers.lateResponseHeaders.addIfAbsent[0].value",
                8,
                "HSTS \"max-age=3600; includeSubDomains\" has max-age 3600: Wet digitale \
                 overheid, Stb. 2023, 179 and the Forum Standaardisatie measurement require \
                 max-age >= 31536000 (one year)",
            )],
        ),
        case(
            NL_HSTS,
            "Traefik: a short stsSeconds, an Ingress without HSTS Middleware",
            r#"apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: hsts, namespace: app}
spec:
  headers: {stsSeconds: 300, stsIncludeSubdomains: true}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: https, namespace: app}
spec:
  redirectScheme: {scheme: https}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: app
  annotations: {traefik.ingress.kubernetes.io/router.middlewares: app-https@kubernetescrd}
spec:
  ingressClassName: traefik
  tls: [{hosts: [app.example.nl], secretName: web-tls}]
  rules: [{host: app.example.nl}]
"#,
            vec![
                at(
                    "app/Middleware/hsts",
                    "spec.headers.stsSeconds",
                    5,
                    "HSTS max-age 300 is less than one year (31536000), which Wet digitale \
                     overheid, Stb. 2023, 179 and the Forum Standaardisatie measurement require",
                ),
                at(
                    "app/Ingress/web",
                    "metadata.annotations",
                    18,
                    "no Middleware of `traefik.ingress.kubernetes.io/router.middlewares` sets \
                     `headers.stsSeconds`: HTTPS responses carry no HSTS (Wet digitale overheid, \
                     Stb. 2023, 179); reference a Middleware with `stsSeconds: 31536000` (HSTS \
                     of the entry point itself is not in the manifests: waive with it)",
                ),
            ],
        ),
        case(
            NL_HSTS,
            "a Traefik ExtensionRef Middleware sends HSTS for the route",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  gatewayClassName: traefik
  listeners:
  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: web-tls}]}}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: hsts, namespace: app}
spec:
  headers: {stsSeconds: 31536000, stsIncludeSubdomains: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: web}]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: traefik.io, kind: Middleware, name: hsts}}]
"#,
            vec![],
        ),
        case(
            NL_HSTS_SUBDOMAINS,
            "HSTS without includeSubDomains, in a route and in a Traefik Middleware",
            r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: app}
spec:
  parentRefs: [{name: platform, namespace: gw}]
  rules:
  - filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: Strict-Transport-Security, value: max-age=31536000}]
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {name: hsts, namespace: app}
spec:
  headers: {stsSeconds: 31536000}
"#,
            vec![
                at(
                    "app/HTTPRoute/app",
                    "spec.rules[0].filters[0].responseHeaderModifier.set[0].value",
                    10,
                    "HSTS \"max-age=31536000\" has no `includeSubDomains`",
                ),
                at(
                    "app/Middleware/hsts",
                    "spec.headers.stsSeconds",
                    16,
                    "HSTS without `stsIncludeSubdomains: true`",
                ),
            ],
        )
        .object_scope(),
    ]
}

fn tls() -> Vec<Case> {
    vec![
        case(
            NL_TLS_VERSION,
            "TLS 1.0 and 1.1 allowed by Envoy Gateway, Traefik and Istio",
            r#"apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: tls, namespace: app}
spec:
  tls: {minVersion: "1.1", maxVersion: "1.3"}
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: default, namespace: app}
spec:
  minVersion: VersionTLS10
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.nl]
    tls: {mode: SIMPLE, credentialName: web-tls, minProtocolVersion: TLSV1_1}
"#,
            vec![
                at(
                    "app/ClientTrafficPolicy/tls",
                    "spec.tls.minVersion",
                    5,
                    "TLS 1.1 as the minimum version: the NCSC TLS guidelines (2.1), which Wet \
                     digitale overheid, Stb. 2023, 179 makes the norm, phase TLS 1.0 and 1.1 out; \
                     set TLS 1.2 or 1.3",
                ),
                at(
                    "app/TLSOption/default",
                    "spec.minVersion",
                    11,
                    "TLS 1.0 as the minimum version: the NCSC TLS guidelines (2.1), which Wet \
                     digitale overheid, Stb. 2023, 179 makes the norm, phase TLS 1.0 and 1.1 out; \
                     set TLS 1.2 or 1.3",
                ),
                at(
                    "app/Gateway/web",
                    "spec.servers[0].tls.minProtocolVersion",
                    20,
                    "TLS 1.1 as the minimum version: the NCSC TLS guidelines (2.1), which Wet \
                     digitale overheid, Stb. 2023, 179 makes the norm, phase TLS 1.0 and 1.1 out; \
                     set TLS 1.2 or 1.3",
                ),
            ],
        )
        .object_scope(),
        case(
            NL_TLS_VERSION,
            "TLS 1.2 minimum, 1.3 maximum, and Auto are fine",
            r#"apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: tls, namespace: app}
spec:
  tls: {minVersion: "1.2", maxVersion: "1.3"}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: auto, namespace: app}
spec:
  tls: {minVersion: Auto}
"#,
            vec![],
        ),
        case(
            NL_TLS_CIPHERS,
            "phased-out and insufficient suites in Envoy Gateway, Traefik and Istio",
            r#"apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: tls, namespace: app}
spec:
  tls:
    ciphers: [ECDHE-RSA-AES128-GCM-SHA256, AES128-GCM-SHA256]
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata: {name: default, namespace: app}
spec:
  cipherSuites: [TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: app}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.nl]
    tls: {mode: SIMPLE, credentialName: web-tls, cipherSuites: [ECDHE-RSA-RC4-SHA]}
"#,
            vec![
                at(
                    "app/ClientTrafficPolicy/tls",
                    "spec.tls.ciphers[1]",
                    6,
                    "cipher suite AES128-GCM-SHA256: RSA key exchange has no forward secrecy and \
                     is to be phased out under the NCSC TLS guidelines (2.1), which Wet digitale \
                     overheid, Stb. 2023, 179 makes the norm",
                ),
                at(
                    "app/TLSOption/default",
                    "spec.cipherSuites[0]",
                    12,
                    "cipher suite TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 3DES is to be phased out \
                     under the NCSC TLS guidelines (2.1), which Wet digitale overheid, Stb. 2023, \
                     179 makes the norm",
                ),
                at(
                    "app/Gateway/web",
                    "spec.servers[0].tls.cipherSuites[0]",
                    21,
                    "cipher suite ECDHE-RSA-RC4-SHA: RC4 is insufficient under the NCSC TLS \
                     guidelines (2.1), which Wet digitale overheid, Stb. 2023, 179 makes the norm",
                ),
            ],
        )
        .object_scope(),
    ]
}
