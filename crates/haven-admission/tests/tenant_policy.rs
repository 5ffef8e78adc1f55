//! The tenant policy at the door (issue #21 item 2): a namespace's annotations name the
//! registries its images may come from, whether it may have LoadBalancer Services and which
//! host names it must not (or only may) claim; the Haven+ group's mode decides deny or warn.
//! Judged in process (`haven_admission::review`, both decoders behind it).

use std::collections::BTreeMap;

use haven_admission::{Config, StaticNamespaces, Verdict, review};
use serde_json::{Value, json};

const PLUS: &str = "haven.commonground.nl/plus";
const REGISTRIES: &str = "haven.commonground.nl/allowed-registries";
const LOAD_BALANCER: &str = "haven.commonground.nl/allow-load-balancer";
const DENIED: &str = "haven.commonground.nl/denied-hostnames";
const ALLOWED: &str = "haven.commonground.nl/allowed-hostnames";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `team` with the Haven+ group in `mode` and these annotations.
fn namespaces(mode: &str, annotations: &[(&str, &str)]) -> StaticNamespaces {
    let n = StaticNamespaces::new();
    n.set_metadata("team", map(&[(PLUS, mode)]), map(annotations));
    n
}

fn request(kind: (&str, &str, &str), object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u1",
            "kind": {"group": kind.0, "version": kind.1, "kind": kind.2},
            "namespace": "team",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": object
        }
    }))
    .unwrap()
}

struct Answer {
    verdict: Verdict,
    rules: Vec<&'static str>,
    response: Value,
}

impl Answer {
    fn message(&self) -> &str {
        self.response["response"]["status"]["message"]
            .as_str()
            .unwrap_or_default()
    }
    fn warnings(&self) -> String {
        self.response["response"]["warnings"].to_string()
    }
}

fn judge(namespaces: &StaticNamespaces, kind: (&str, &str, &str), object: Value) -> Answer {
    let d = review(
        &request(kind, object),
        &Config::default(),
        namespaces,
        "haven-system",
    )
    .unwrap();
    Answer {
        verdict: d.verdict,
        rules: d.rules.clone(),
        response: d.response_json(),
    }
}

/// A Pod that passes every other Haven+ rule and restricted Pod Security.
fn pod(image: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": image,
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}
            }]
        }
    })
}

const POD: (&str, &str, &str) = ("", "v1", "Pod");
const DIGEST: &str = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn images_outside_the_allowed_registries_are_denied_under_enforce_and_warned_under_warn() {
    let allowed = [(REGISTRIES, "ghcr.io/gemeente-x, docker.io/library")];
    let enforce = namespaces("enforce", &allowed);
    let ok = judge(
        &enforce,
        POD,
        pod(&format!("ghcr.io/gemeente-x/web:1.2{DIGEST}")),
    );
    assert_eq!(ok.verdict, Verdict::Allowed, "{}", ok.response);
    // Docker Hub short names are read as containerd reads them.
    let hub = judge(&enforce, POD, pod(&format!("nginx:1.27{DIGEST}")));
    assert_eq!(hub.verdict, Verdict::Allowed, "{}", hub.response);

    let other = judge(
        &enforce,
        POD,
        pod(&format!("ghcr.io/gemeente-xyz/web:1.2{DIGEST}")),
    );
    assert_eq!(other.verdict, Verdict::Denied, "{}", other.response);
    assert_eq!(other.rules, ["plus.image-registry"]);
    assert!(
        other.message().contains("ghcr.io/gemeente-xyz/web:1.2")
            && other
                .message()
                .contains("ghcr.io/gemeente-x, docker.io/library"),
        "{}",
        other.message()
    );

    let warn = namespaces("warn", &allowed);
    let warned = judge(&warn, POD, pod(&format!("quay.io/x/web:1{DIGEST}")));
    assert_eq!(warned.verdict, Verdict::Warned, "{}", warned.response);
    assert_eq!(warned.response["response"]["allowed"], true);
    assert!(
        warned.warnings().contains("plus.image-registry"),
        "{}",
        warned.warnings()
    );

    // Without the annotation any registry is fine.
    let open = namespaces("enforce", &[]);
    let any = judge(&open, POD, pod(&format!("quay.io/x/web:1{DIGEST}")));
    assert_eq!(any.verdict, Verdict::Allowed, "{}", any.response);
}

fn service(kind: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "edge"},
        "spec": {"type": kind, "ports": [{"port": 443}]}
    })
}

const SERVICE: (&str, &str, &str) = ("", "v1", "Service");

#[test]
fn load_balancer_services_are_denied_unless_the_namespace_allows_them() {
    let without = namespaces("enforce", &[]);
    let denied = judge(&without, SERVICE, service("LoadBalancer"));
    assert_eq!(denied.verdict, Verdict::Denied, "{}", denied.response);
    assert_eq!(denied.rules, ["plus.service-load-balancer"]);
    assert!(
        denied
            .message()
            .starts_with("services \"edge\" is forbidden"),
        "{}",
        denied.message()
    );
    let cluster_ip = judge(&without, SERVICE, service("ClusterIP"));
    assert_eq!(
        cluster_ip.verdict,
        Verdict::Allowed,
        "{}",
        cluster_ip.response
    );

    for refused in ["false", "yes", ""] {
        let n = namespaces("enforce", &[(LOAD_BALANCER, refused)]);
        assert_eq!(
            judge(&n, SERVICE, service("LoadBalancer")).verdict,
            Verdict::Denied,
            "{refused:?}"
        );
    }
    let allowed = namespaces("enforce", &[(LOAD_BALANCER, "true")]);
    let ok = judge(&allowed, SERVICE, service("LoadBalancer"));
    assert_eq!(ok.verdict, Verdict::Allowed, "{}", ok.response);

    // Where the Haven+ group is off (the default), Services are not judged.
    let off = StaticNamespaces::new();
    assert_eq!(
        judge(&off, SERVICE, service("LoadBalancer")).verdict,
        Verdict::Allowed
    );
}

const PLATFORM: (&str, &str) = (DENIED, "keycloak.example.nl, grafana.example.nl");

fn route(hosts: &[&str]) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"hostnames": hosts, "parentRefs": [{"name": "platform", "namespace": "gateway"}]}
    })
}

const HTTPROUTE: (&str, &str, &str) = ("gateway.networking.k8s.io", "v1", "HTTPRoute");
const CERTIFICATE: (&str, &str, &str) = ("cert-manager.io", "v1", "Certificate");

#[test]
fn routes_and_certificates_on_platform_host_names_are_denied() {
    let n = namespaces("enforce", &[PLATFORM]);
    let steal = judge(&n, HTTPROUTE, route(&["keycloak.example.nl"]));
    assert_eq!(steal.verdict, Verdict::Denied, "{}", steal.response);
    assert!(steal.rules.contains(&"plus.hostname"), "{:?}", steal.rules);
    assert!(
        steal
            .message()
            .starts_with("httproutes \"web\" is forbidden")
            && steal.message().contains("keycloak.example.nl"),
        "{}",
        steal.message()
    );
    let own = judge(&n, HTTPROUTE, route(&["app.gemeente-x.nl"]));
    assert!(!own.rules.contains(&"plus.hostname"), "{}", own.response);

    let certificate = |names: &[&str]| {
        json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "wildcard"},
            "spec": {"secretName": "wildcard", "dnsNames": names, "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}
        })
    };
    let wildcard = judge(&n, CERTIFICATE, certificate(&["*.example.nl"]));
    assert_eq!(wildcard.verdict, Verdict::Denied, "{}", wildcard.response);
    assert_eq!(wildcard.rules, ["plus.hostname"]);
    assert!(
        wildcard
            .message()
            .starts_with("certificates \"wildcard\" is forbidden"),
        "{}",
        wildcard.message()
    );
    let fine = judge(&n, CERTIFICATE, certificate(&["app.gemeente-x.nl"]));
    assert_eq!(fine.verdict, Verdict::Allowed, "{}", fine.response);

    // A TLSRoute and a Gateway listener are judged alike.
    let tls_route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TLSRoute",
        "metadata": {"name": "db"}, "spec": {"hostnames": ["grafana.example.nl"]}
    });
    let tls = judge(
        &n,
        ("gateway.networking.k8s.io", "v1alpha2", "TLSRoute"),
        tls_route,
    );
    assert_eq!(tls.verdict, Verdict::Denied, "{}", tls.response);
    assert_eq!(tls.rules, ["plus.hostname"]);

    // Allowed names: everything else is refused.
    let only = namespaces("enforce", &[PLATFORM, (ALLOWED, "*.gemeente-x.nl")]);
    let outside = judge(&only, CERTIFICATE, certificate(&["other.nl"]));
    assert_eq!(outside.verdict, Verdict::Denied, "{}", outside.response);
    let inside = judge(&only, CERTIFICATE, certificate(&["a.gemeente-x.nl"]));
    assert_eq!(inside.verdict, Verdict::Allowed, "{}", inside.response);
}

/// Operator review 2, finding 2: ExternalDNS publishes whatever a Service's or route's
/// `external-dns.alpha.kubernetes.io/hostname` (or `internal-hostname`) names, so those are
/// host claims at the door too: a tenant's NodePort Service asking for a name of the zone
/// outside its own is denied; its own name, pointed anywhere by `.../target`, is allowed.
#[test]
fn external_dns_annotations_are_host_claims_at_the_door() {
    let n = namespaces(
        "enforce",
        &[
            (
                DENIED,
                "keycloak.example.nl,grafana.example.nl,zaken.example.nl,*.zaken.example.nl",
            ),
            (ALLOWED, "team.example.nl,*.team.example.nl"),
        ],
    );
    let annotated = |key: &str, names: &str| {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "edge", "annotations": {
                key: names,
                "external-dns.alpha.kubernetes.io/target": "203.0.113.7",
            }},
            "spec": {"type": "NodePort", "ports": [{"port": 443}]}
        })
    };
    let hostname = "external-dns.alpha.kubernetes.io/hostname";
    for (key, names) in [
        (hostname, "inloggen.example.nl"),
        (hostname, "app.team.example.nl, www.zaken.example.nl"),
        (
            "external-dns.alpha.kubernetes.io/internal-hostname",
            "keycloak.example.nl",
        ),
    ] {
        let phish = judge(&n, SERVICE, annotated(key, names));
        assert_eq!(
            phish.verdict,
            Verdict::Denied,
            "{names}: {}",
            phish.response
        );
        assert_eq!(phish.rules, ["plus.hostname"], "{names}");
        assert!(
            phish
                .message()
                .contains("asks ExternalDNS for the host name"),
            "{}",
            phish.message()
        );
    }
    let own = judge(
        &n,
        SERVICE,
        annotated(hostname, "team.example.nl,api.team.example.nl"),
    );
    assert_eq!(own.verdict, Verdict::Allowed, "{}", own.response);

    // On a route: names beyond its checked `spec.hostnames`.
    let mut beyond = route(&["app.team.example.nl"]);
    beyond["metadata"]["annotations"] = json!({hostname: "inloggen.example.nl"});
    let r = judge(&n, HTTPROUTE, beyond);
    assert_eq!(r.verdict, Verdict::Denied, "{}", r.response);
    assert_eq!(r.rules, ["plus.hostname"]);
}

/// Objects in a namespace without annotations are judged as before: only the LoadBalancer
/// rule (absent means refused) applies.
#[test]
fn namespaces_without_annotations_are_unaffected_except_for_load_balancers() {
    let n = namespaces("enforce", &[]);
    let any_image = judge(&n, POD, pod(&format!("quay.io/x/web:1{DIGEST}")));
    assert_eq!(
        any_image.verdict,
        Verdict::Allowed,
        "{}",
        any_image.response
    );
    let route = judge(&n, HTTPROUTE, route(&["keycloak.example.nl"]));
    assert!(
        !route.rules.contains(&"plus.hostname"),
        "{}",
        route.response
    );
    let certificate = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "c"}, "spec": {"secretName": "c", "dnsNames": ["*.example.nl"]}
    });
    assert_eq!(
        judge(&n, CERTIFICATE, certificate).verdict,
        Verdict::Allowed
    );
    assert_eq!(
        judge(&n, SERVICE, service("LoadBalancer")).verdict,
        Verdict::Denied
    );
}

/// Kinds the webhook does not judge are allowed untouched, whatever the namespace says.
#[test]
fn kinds_it_does_not_check_are_allowed() {
    let n = namespaces("enforce", &[PLATFORM, (REGISTRIES, "ghcr.io/x")]);
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"host": "keycloak.example.nl"}});
    let answer = judge(&n, ("", "v1", "ConfigMap"), config_map);
    assert_eq!(answer.verdict, Verdict::Skipped);
    assert_eq!(answer.response["response"]["allowed"], true);
}

/// A tenant cannot waive the platform team's policy on its own objects: the waiver annotation
/// that waives other rules at admission does not waive these three.
#[test]
fn a_tenant_cannot_waive_the_tenant_rules_on_its_own_objects() {
    let n = namespaces("enforce", &[PLATFORM, (REGISTRIES, "ghcr.io/gemeente-x")]);
    let mut steal = route(&["keycloak.example.nl"]);
    steal["metadata"]["annotations"] =
        json!({"waive.haven.commonground.nl/plus.hostname": "we need it"});
    let answer = judge(&n, HTTPROUTE, steal);
    assert_eq!(answer.verdict, Verdict::Denied, "{}", answer.response);
    assert!(
        answer.rules.contains(&"plus.hostname"),
        "{:?}",
        answer.rules
    );

    let mut lb = service("LoadBalancer");
    lb["metadata"]["annotations"] = json!({"waive.haven.commonground.nl/plus.*": "we need it"});
    assert_eq!(judge(&n, SERVICE, lb).verdict, Verdict::Denied);

    let mut p = pod(&format!("quay.io/x/web:1{DIGEST}"));
    p["metadata"]["annotations"] =
        json!({"waive.haven.commonground.nl/plus.image-registry": "we need it"});
    let answer = judge(&n, POD, p);
    assert_eq!(answer.verdict, Verdict::Denied, "{}", answer.response);
    assert_eq!(answer.rules, ["plus.image-registry"]);
}

/// `kubectl debug` adds an ephemeral container through `pods/ephemeralcontainers`: an update
/// of the Pod whose new container's image is held to the list like any other.
#[test]
fn an_ephemeral_container_from_outside_the_registries_is_denied() {
    let n = namespaces("enforce", &[(REGISTRIES, "ghcr.io/gemeente-x")]);
    let old = pod(&format!("ghcr.io/gemeente-x/web:1.2{DIGEST}"));
    let mut new = old.clone();
    new["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "nicolaka/netshoot"}]);
    let body = serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u2",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "subResource": "ephemeralcontainers",
            "namespace": "team",
            "operation": "UPDATE",
            "userInfo": {"username": "alice"},
            "object": new,
            "oldObject": old
        }
    }))
    .unwrap();
    let d = review(&body, &Config::default(), &n, "haven-system").unwrap();
    assert_eq!(d.verdict, Verdict::Denied, "{}", d.response_json());
    assert!(d.rules.contains(&"plus.image-registry"), "{:?}", d.rules);
    assert!(
        d.response_json()["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("docker.io/nicolaka/netshoot"),
        "{}",
        d.response_json()
    );
}
