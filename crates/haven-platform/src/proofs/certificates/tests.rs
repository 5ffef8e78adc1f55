use super::*;
use crate::proofs::test_support::{objects, seen};

fn run(text: &str) -> Vec<Problem> {
    let objs = objects(text);
    prove(&seen(&objs), &crate::Catalogue::builtin().unwrap())
}

fn both(text: &str) -> Vec<Problem> {
    let objs = objects(text);
    let l = seen(&objs);
    let cat = crate::Catalogue::builtin().unwrap();
    let mut out = prove(&l, &cat);
    out.extend(super::super::references::prove(&l, &cat));
    out
}

const BASE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: cert-manager}
---
apiVersion: v1
kind: Namespace
metadata: {name: gw}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cert-manager, namespace: cert-manager}
spec:
  chartRef: {kind: OCIRepository, name: cert-manager}
  values: {config: {enableGatewayAPI: true}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: platform}
spec: {controllerName: example.com/gw}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: platform, namespace: gw}
spec:
  gatewayClassName: platform
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
";

const HTTP01_ONLY: &str = "---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: le}
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {name: le-account}
    solvers:
    - http01:
        gatewayHTTPRoute:
          parentRefs: [{name: platform, namespace: gw, kind: Gateway}]
";

const WILDCARD: &str = "---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: wild, namespace: gw}
spec:
  secretName: wild-tls
  issuerRef: {kind: ClusterIssuer, name: le}
  dnsNames: [example.nl, '*.example.nl']
";

/// A DNS-01 solver for `zone` whose TSIG key is in the Secret `tsig`.
fn dns01(zone: &str) -> String {
    format!(
        "    - selector: {{dnsZones: [{zone}]}}
      dns01:
        rfc2136:
          nameserver: ns1.example.nl:53
          tsigKeyName: haven
          tsigAlgorithm: HMACSHA512
          tsigSecretSecretRef: {{name: tsig, key: secret}}
"
    )
}

const TSIG: &str = "---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: tsig, namespace: cert-manager}
spec:
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: tsig}
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: vault}
spec: {provider: {fake: {data: []}}}
";

#[test]
fn a_wildcard_from_an_http01_only_issuer_is_an_error() {
    let ps = run(&format!("{BASE}{HTTP01_ONLY}{WILDCARD}"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let p = &ps[0];
    assert_eq!(
        (p.severity, p.check),
        (Severity::Error, Check::Certificates)
    );
    assert_eq!(p.object, "Certificate/gw/wild");
    assert_eq!(p.path, "spec.dnsNames[1]");
    assert!(
        p.message.contains("ClusterIssuer/le")
            && p.message.contains("*.example.nl")
            && p.message.contains("HTTP-01 solvers only"),
        "{}",
        p.message
    );
}

#[test]
fn a_wildcard_with_a_matching_dns01_solver_is_issued() {
    let text = format!("{BASE}{HTTP01_ONLY}{}{WILDCARD}{TSIG}", dns01("example.nl"));
    assert!(run(&text).is_empty());
    // The references check counts the solver's Secret as consumed (only the Certificate's own
    // Secret, which nothing mounts here, is reported).
    let ps = both(&text);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].message.contains("Secret gw/wild-tls"), "{ps:#?}");
    // A DNS-01 solver for another zone does not cover it: the catch-all HTTP-01 one is picked.
    let text = format!("{BASE}{HTTP01_ONLY}{}{WILDCARD}{TSIG}", dns01("other.nl"));
    let ps = run(&text);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(
        ps[0]
            .message
            .contains("no DNS-01 solver's selector matches it"),
        "{}",
        ps[0].message
    );
}

#[test]
fn a_dns01_solver_whose_credentials_nothing_creates_is_an_error() {
    let text = format!("{BASE}{HTTP01_ONLY}{}{WILDCARD}", dns01("example.nl"));
    let ps = run(&text);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    let p = &ps[0];
    assert_eq!(p.object, "ClusterIssuer/le");
    assert_eq!(
        p.path,
        "spec.acme.solvers[1].dns01.rfc2136.tsigSecretSecretRef"
    );
    // A ClusterIssuer's Secrets are read from cert-manager's namespace.
    assert!(
        p.message.contains("credentials not wired")
            && p.message.contains("Secret cert-manager/tsig"),
        "{}",
        p.message
    );
    // Made in another namespace: still missing where cert-manager looks.
    let elsewhere = TSIG.replace("namespace: cert-manager", "namespace: gw");
    let ps = run(&format!(
        "{BASE}{HTTP01_ONLY}{}{WILDCARD}{elsewhere}",
        dns01("example.nl")
    ));
    assert_eq!(ps.len(), 1, "{ps:#?}");
}

#[test]
fn http01_needs_a_gateway_listener_the_challenge_can_reach() {
    let cert = WILDCARD.replace("[example.nl, '*.example.nl']", "[www.example.nl]");
    assert!(run(&format!("{BASE}{HTTP01_ONLY}{cert}")).is_empty());
    // The Gateway has no HTTP listener.
    let https_only = BASE.replace(
        "{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}",
        "{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: x}]}}",
    );
    let ps = run(&format!("{https_only}{HTTP01_ONLY}{cert}"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(
        ps[0]
            .message
            .contains("Gateway gw/platform has no HTTP listener"),
        "{}",
        ps[0].message
    );
    // Routes only from the Gateway's own namespace, the challenge is made in another one.
    let same = BASE.replace("from: All", "from: Same");
    let other_ns = cert.replace("namespace: gw", "namespace: cert-manager");
    assert_eq!(run(&format!("{same}{HTTP01_ONLY}{other_ns}")).len(), 1);
    // The parent Gateway does not exist.
    let gone = HTTP01_ONLY.replace("name: platform,", "name: public,");
    let ps = run(&format!("{BASE}{gone}{cert}"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(ps[0].message.contains("Gateway gw/public does not exist"));
}

#[test]
fn gateway_shim_listeners_are_requests_and_need_gateway_api_support() {
    let gw = "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: gw
  annotations: {cert-manager.io/cluster-issuer: le}
spec:
  gatewayClassName: platform
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: '*.example.nl'
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: public-tls}]}
";
    let ps = both(&format!("{BASE}{HTTP01_ONLY}{gw}"));
    let errs: Vec<_> = ps
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(errs.len(), 1, "{ps:#?}");
    assert_eq!(errs[0].object, "Gateway/gw/public");
    assert_eq!(errs[0].path, "spec.listeners[0].hostname");
    assert!(errs[0].message.contains("wildcard *.example.nl"));
    // gateway-shim off: said so.
    let off = BASE.replace("enableGatewayAPI: true", "enableGatewayAPI: false");
    let ps = run(&format!("{off}{HTTP01_ONLY}{gw}"));
    assert!(
        ps.iter()
            .any(|p| p.message.contains("Gateway API support is off")),
        "{ps:#?}"
    );
    // An issuer nobody creates, named by the annotation.
    let ps = run(&format!("{BASE}{gw}"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert!(
        ps[0].message.contains("ClusterIssuer le"),
        "{}",
        ps[0].message
    );
}

#[test]
fn an_ingress_tls_wildcard_from_an_http01_issuer_is_an_error() {
    let ing = "---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: gw
  annotations: {cert-manager.io/cluster-issuer: le}
spec:
  tls: [{hosts: ['*.apps.example.nl'], secretName: web-tls}]
";
    let ps = run(&format!("{BASE}{HTTP01_ONLY}{ing}"));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].path, "spec.tls[0].hosts[0]");
}

#[test]
fn the_solver_is_picked_as_cert_manager_picks_it() {
    let solvers: Vec<Value> = serde_json::from_str(
        r#"[
          {"http01": {}},
          {"selector": {"dnsZones": ["example.nl"]}, "dns01": {}},
          {"selector": {"dnsZones": ["apps.example.nl"]}, "dns01": {}},
          {"selector": {"dnsNames": ["www.apps.example.nl"]}, "http01": {}},
          {"selector": {"matchLabels": {"team": "a"}}, "http01": {}}
        ]"#,
    )
    .unwrap();
    let none = Map::new();
    assert_eq!(pick(&solvers, "other.org", &none), Some(0));
    assert_eq!(pick(&solvers, "*.example.nl", &none), Some(1));
    assert_eq!(
        pick(&solvers, "a.apps.example.nl", &none),
        Some(2),
        "longer zone"
    );
    assert_eq!(
        pick(&solvers, "www.apps.example.nl", &none),
        Some(3),
        "dnsNames first"
    );
    let team: Map<String, Value> = serde_json::from_str(r#"{"team": "a"}"#).unwrap();
    assert_eq!(
        pick(&solvers, "other.org", &team),
        Some(4),
        "labels over none"
    );
    assert_eq!(pick(&solvers[1..3], "other.org", &none), None);
}

/// The class of issue #21 item 3: a Gateway's wildcard HTTPS listener whose certificate names
/// a few hosts only (the render before DNS-01: `*.example.nl` served with a certificate for
/// grafana and keycloak). A listener for exactly a named host, or a wildcard certificate for the
/// wildcard listener, is fine; a listener without hostname is a warning; an Ingress TLS host
/// its certificate does not name is an error too.
#[test]
fn a_listener_serving_names_its_certificate_does_not_cover_is_an_error() {
    let gateway = |listeners: &str| {
        format!(
            "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: shared, namespace: gw}}
spec:
  gatewayClassName: platform
  listeners:
{listeners}"
        )
    };
    let certificate = |names: &str| {
        format!(
            "---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: platform-tls, namespace: gw}}
spec:
  secretName: platform-tls
  issuerRef: {{kind: ClusterIssuer, name: le}}
  dnsNames: [{names}]
"
        )
    };
    let https = |name: &str, host: Option<&str>| {
        let host = host
            .map(|h| format!("hostname: '{h}', "))
            .unwrap_or_default();
        format!(
            "  - {{name: {name}, port: 443, protocol: HTTPS, {host}tls: {{certificateRefs: [{{name: platform-tls}}]}}, allowedRoutes: {{namespaces: {{from: All}}}}}}\n"
        )
    };
    let mismatches = |text: String| -> Vec<Problem> {
        run(&format!("{BASE}{HTTP01_ONLY}{text}"))
            .into_iter()
            .filter(|p| p.message.contains("does not match"))
            .collect()
    };
    // The wildcard listener with a certificate for the platform's hosts.
    let ps = mismatches(format!(
        "{}{}",
        gateway(&https("https", Some("*.example.nl"))),
        certificate("grafana.example.nl, keycloak.example.nl")
    ));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(
        (
            ps[0].severity,
            ps[0].check,
            ps[0].object.as_str(),
            ps[0].path.as_str()
        ),
        (
            Severity::Error,
            Check::Certificates,
            "Gateway/gw/shared",
            "spec.listeners[0].hostname"
        )
    );
    assert!(
        ps[0].message.starts_with("listener `https` admits *.example.nl, but its certificate (Secret gw/platform-tls, made by Certificate/gw/platform-tls) names grafana.example.nl, keycloak.example.nl only"),
        "{}",
        ps[0].message
    );
    // One listener per named host; a host under a wildcard certificate; the wildcard with
    // the wildcard.
    for (listeners, names) in [
        (
            format!(
                "{}{}",
                https("https-grafana", Some("grafana.example.nl")),
                https("https-keycloak", Some("keycloak.example.nl"))
            ),
            "grafana.example.nl, keycloak.example.nl",
        ),
        (
            https("https-grafana", Some("grafana.example.nl")),
            "'*.example.nl'",
        ),
        (https("https", Some("*.example.nl")), "'*.example.nl'"),
    ] {
        let ps = mismatches(format!("{}{}", gateway(&listeners), certificate(names)));
        assert!(ps.is_empty(), "{listeners} {names}: {ps:#?}");
    }
    // A host one label too deep for the wildcard certificate; a wildcard certificate one level
    // up does not cover a wildcard listener below it.
    for (host, names) in [
        ("a.b.example.nl", "'*.example.nl'"),
        ("*.b.example.nl", "'*.example.nl'"),
    ] {
        let ps = mismatches(format!(
            "{}{}",
            gateway(&https("https", Some(host))),
            certificate(names)
        ));
        assert_eq!(ps.len(), 1, "{host}: {ps:#?}");
    }
    // No hostname: every name, a warning.
    let ps = mismatches(format!(
        "{}{}",
        gateway(&https("https", None)),
        certificate("grafana.example.nl")
    ));
    assert_eq!(
        (ps.len(), ps[0].severity, ps[0].path.as_str()),
        (1, Severity::Warning, "spec.listeners[0]")
    );
    // An Ingress TLS entry.
    let ingress = "---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: app, namespace: gw}
spec:
  tls: [{secretName: platform-tls, hosts: [grafana.example.nl, app.example.nl]}]
";
    let ps = mismatches(format!("{ingress}{}", certificate("grafana.example.nl")));
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].path, "spec.tls[0].hosts[1]");
}
