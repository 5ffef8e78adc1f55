//! `haven check --plus` against the in-process fake API server: per gateway on the cluster,
//! whether HTTPS, the HTTP-to-HTTPS redirect, HSTS and the TLS settings are configured (Dutch
//! law, Wet digitale overheid, Stb. 2023, 179), read from the resources into the snapshot.

use std::process::Command;

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::Value;

fn crd(group: &str, kind: &str, plural: &str, version: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  names: {{kind: {kind}, listKind: {kind}List, plural: {plural}, singular: {}}}
  scope: Namespaced
  versions:
  - {{name: {version}, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}}}
status:
  conditions: [{{type: Established, status: \"True\"}}]
",
        kind.to_ascii_lowercase()
    )
}

const OBJECTS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: envoy-gateway-system}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: platform, namespace: envoy-gateway-system}
spec:
  gatewayClassName: platform
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: Same}}}
  - name: https
    protocol: HTTPS
    port: 443
    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: platform-tls}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: https-redirect, namespace: envoy-gateway-system}
spec:
  parentRefs: [{name: platform, sectionName: http}]
  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: platform, namespace: envoy-gateway-system}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: platform}]
  headers:
    lateResponseHeaders:
      set: [{name: Strict-Transport-Security, value: "max-age=63072000; includeSubDomains"}]
  tls: {minVersion: "1.1", ciphers: [ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA]}
"#;

#[test]
fn plus_reports_https_redirect_hsts_and_tls_per_gateway() {
    let cluster = FakeCluster::named("compliant.yaml");
    let crds = [
        crd("gateway.networking.k8s.io", "Gateway", "gateways", "v1"),
        crd("gateway.networking.k8s.io", "HTTPRoute", "httproutes", "v1"),
        crd(
            "gateway.envoyproxy.io",
            "ClientTrafficPolicy",
            "clienttrafficpolicies",
            "v1alpha1",
        ),
    ]
    .join("---\n");
    cluster.load_yaml("crds.yaml", &crds).unwrap();
    cluster.load_yaml("objects.yaml", OBJECTS).unwrap();
    let server = ApiServer::start_background(cluster).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, server.kubeconfig_yaml("fake")).unwrap();
    let haven = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_haven"))
            .args(args)
            .env("KUBECONFIG", &kc)
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    let o = haven(&["check", "--plus", "-o", "haven-json"]);
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let evidence: Vec<String> = report["plus"]
        .as_array()
        .unwrap_or_else(|| panic!("no plus: {report:#}"))
        .iter()
        .filter(|c| c["capability"] == "ingress / Gateway API")
        .flat_map(|c| c["components"].as_array().unwrap())
        .flat_map(|c| c["evidence"].as_array().unwrap())
        .map(|e| e.as_str().unwrap().to_owned())
        .filter(|e| e.starts_with("Gateway envoy-gateway-system/platform"))
        .collect();
    let gw = "Gateway envoy-gateway-system/platform";
    assert_eq!(
        evidence,
        [
            format!("{gw}: HTTPS: listener https (HTTPS certificate referenced)"),
            format!(
                "{gw}: HTTP listener http: redirected to HTTPS by HTTPRoute \
                 envoy-gateway-system/https-redirect"
            ),
            format!(
                "{gw}: HSTS: \"max-age=63072000; includeSubDomains\" by ClientTrafficPolicy \
                 envoy-gateway-system/platform"
            ),
            format!(
                "{gw}: TLS: ClientTrafficPolicy envoy-gateway-system/platform: minimum 1.1 \
                 (TLS 1.0/1.1: the NCSC phases them out); 2 cipher suites, not NCSC good or \
                 sufficient: AES128-SHA"
            ),
        ],
        "{report:#}"
    );
    // The snapshot keeps the facts (and nothing else of the specs), and an offline check of it
    // reports the same.
    let snap = dir.path().join("snap.json");
    let o = haven(&["snapshot", "-o", snap.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.contains("\"redirectsToHttps\": true"), "{text}");
    assert!(
        !text.contains("platform-tls"),
        "certificate names are not kept"
    );
    let o = haven(&[
        "check",
        "--snapshot",
        snap.to_str().unwrap(),
        "--plus",
        "-o",
        "haven-json",
    ]);
    let offline: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(offline["plus"], report["plus"]);
}
