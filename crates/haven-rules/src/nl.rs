//! Dutch law for public government web services: HTTPS only, HTTP only redirecting to HTTPS,
//! HSTS for at least a year, and TLS as the NCSC guidelines say (the Wet digitale overheid as
//! amended by Staatsblad 2023, 179; see `registry.rs` for each rule's text and limits).
//!
//! Each rule judges what the manifests show and no more: a route attached to a Gateway outside
//! the manifests (the platform's) is the platform's to judge, and a controller's own settings
//! (Helm values, ConfigMaps) are not in an application's manifests. Internal-only endpoints are
//! out of scope: objects annotated [`INTERNAL_ANNOTATION`], and hosts under the built-in internal
//! suffixes or a `--internal-domain`.

use haven_model::Object;
use serde_json::Value;

use crate::engine::Sink;
use crate::index::AppIndex;
use crate::registry::{
    NL_HSTS, NL_HSTS_SUBDOMAINS, NL_HTTP_REDIRECT, NL_HTTPS, NL_TLS_CIPHERS, NL_TLS_VERSION,
};

/// Marks an Ingress, Gateway, route or Istio Gateway as internal-only (`"true"`).
pub const INTERNAL_ANNOTATION: &str = "haven.commonground.nl/internal";
/// One year, the least HSTS max-age the Forum Standaardisatie measurement accepts.
pub const HSTS_MIN_AGE: u64 = 31_536_000;
/// The law, as findings name it.
const LAW: &str = "Wet digitale overheid, Stb. 2023, 179";

const GATEWAY_API: &str = "gateway.networking.k8s.io";
const TRAEFIK: [&str; 2] = ["traefik.io", "traefik.containo.us"];

/// Whether a document of `kind` takes part in these rules: kept whole by the streaming check
/// so that routes, gateways and middlewares can look each other up.
pub(crate) fn is_traffic_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Ingress"
            | "Gateway"
            | "HTTPRoute"
            | "GRPCRoute"
            | "Middleware"
            | "ClientTrafficPolicy"
            | "TLSOption"
    )
}

/// Every `nl.*` rule on one object; the rules that need the other objects run only with `ix`.
pub(crate) fn check(object: &Object, ix: Option<&AppIndex<'_>>, sink: &mut Sink<'_>) {
    if is_internal(object) {
        return;
    }
    let group = object.api_group();
    match (group, object.kind.as_str()) {
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(object, ix, sink),
        (GATEWAY_API, "Gateway") => gateway(object, ix, sink),
        (GATEWAY_API, "HTTPRoute" | "GRPCRoute") => {
            route_hsts_values(object, sink);
            if let Some(ix) = ix {
                route(object, ix, sink);
            }
        }
        (g, "Middleware") if TRAEFIK.contains(&g) => middleware(object, sink),
        (g, "TLSOption") if TRAEFIK.contains(&g) => {
            tls_versions(object, "spec.minVersion", "spec.maxVersion", sink);
            ciphers(object, "spec.cipherSuites", sink);
        }
        ("gateway.envoyproxy.io", "ClientTrafficPolicy") => {
            tls_versions(object, "spec.tls.minVersion", "spec.tls.maxVersion", sink);
            ciphers(object, "spec.tls.ciphers", sink);
            // Envoy Gateway's gateway-wide response headers: HSTS for every route.
            let headers = object.get("spec.headers.lateResponseHeaders");
            let values = modifier_hsts(headers, "spec.headers.lateResponseHeaders");
            judge_hsts_values(object, values, sink);
        }
        ("networking.istio.io", "Gateway") => istio_gateway(object, sink),
        _ => {}
    }
}

fn is_internal(object: &Object) -> bool {
    object
        .annotations()
        .and_then(|a| a.get(INTERNAL_ANNOTATION))
        .is_some_and(|v| v.as_str() == Some("true") || v.as_bool() == Some(true))
}

/// Whether `host` is internal-only: a built-in internal suffix or a configured domain.
fn is_internal_host(host: &str, sink: &Sink<'_>) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |domain: &str| {
        let domain = domain.trim_start_matches("*.").trim_matches('.');
        !domain.is_empty()
            && (host == domain.to_ascii_lowercase()
                || host.ends_with(&format!(".{}", domain.to_ascii_lowercase())))
    };
    host == "localhost"
        || ["svc", "cluster.local", "internal", "local", "localhost"]
            .iter()
            .any(|d| under(d))
        || sink.opts.internal_domains.iter().any(|d| under(d))
}

/// Whether a certificate or listener for `pattern` serves `host` (one wildcard label).
fn covers(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if p == h {
        return true;
    }
    match p.strip_prefix("*.") {
        Some(suffix) => h
            .split_once('.')
            .is_some_and(|(first, rest)| first != "*" && rest == suffix),
        None => false,
    }
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = (usize, &str)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v.as_str()?)))
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn annotation<'o>(object: &'o Object, key: &str) -> Option<&'o str> {
    object.annotations()?.get(key)?.as_str()
}

// ---------------------------------------------------------------------------------------------
// Ingress

/// Which controller an Ingress is for, where the manifests say.
#[derive(PartialEq, Eq)]
enum Controller {
    Nginx,
    Traefik,
    Other,
}

fn controller(ingress: &Object) -> Controller {
    let class = ingress
        .get("spec.ingressClassName")
        .and_then(Value::as_str)
        .or_else(|| annotation(ingress, "kubernetes.io/ingress.class"))
        .unwrap_or("");
    if class.contains("nginx") {
        Controller::Nginx
    } else if class.contains("traefik") {
        Controller::Traefik
    } else {
        Controller::Other
    }
}

fn ingress(o: &Object, ix: Option<&AppIndex<'_>>, sink: &mut Sink<'_>) {
    let tls = array(o.get("spec.tls"));
    let tls_hosts: Vec<&str> = tls
        .iter()
        .flat_map(|t| strings(t.get("hosts")).map(|(_, h)| h))
        .collect();
    let mut public = false;
    for (i, rule) in array(o.get("spec.rules")).iter().enumerate() {
        match rule.get("host").and_then(Value::as_str) {
            Some(host) if is_internal_host(host, sink) => {}
            Some(host) => {
                public = true;
                if !tls_hosts.iter().any(|p| covers(p, host)) {
                    sink.emit(
                        NL_HTTPS,
                        o,
                        &format!("spec.rules[{i}].host"),
                        None,
                        format!(
                            "host \"{host}\" is served over plain HTTP: Dutch law ({LAW}) requires \
                             HTTPS for public government services; add a `spec.tls` entry whose \
                             `hosts` cover it"
                        ),
                    );
                }
            }
            // A rule without host answers every host, so also the public ones.
            None => {
                public = true;
                if tls.is_empty() {
                    sink.emit(
                        NL_HTTPS,
                        o,
                        &format!("spec.rules[{i}]"),
                        None,
                        format!(
                            "a rule without host serves every host over plain HTTP: Dutch law \
                             ({LAW}) requires HTTPS for public government services; add a \
                             `spec.tls` entry, or mark an internal-only Ingress with \
                             `{INTERNAL_ANNOTATION}: \"true\"`"
                        ),
                    );
                }
            }
        }
    }
    if !public || tls.is_empty() {
        return;
    }
    let ctrl = controller(o);
    if ctrl == Controller::Nginx {
        let off = |key: &str| annotation(o, key) == Some("false");
        let forced =
            annotation(o, "nginx.ingress.kubernetes.io/force-ssl-redirect") == Some("true");
        if off("nginx.ingress.kubernetes.io/ssl-redirect") && !forced {
            sink.emit(
                NL_HTTP_REDIRECT,
                o,
                "metadata.annotations.nginx.ingress.kubernetes.io/ssl-redirect",
                None,
                format!(
                    "`ssl-redirect: \"false\"` serves the TLS hosts over plain HTTP too; under \
                     {LAW} plain HTTP may only redirect to HTTPS: remove the annotation"
                ),
            );
        }
    }
    if ctrl == Controller::Traefik
        && let Some(ix) = ix
    {
        traefik_ingress(o, ix, sink);
    }
}

/// A Traefik Ingress: its entry points and the Middlewares it names (those in the manifests).
fn traefik_ingress(o: &Object, ix: &AppIndex<'_>, sink: &mut Sink<'_>) {
    const MIDDLEWARES: &str = "traefik.ingress.kubernetes.io/router.middlewares";
    const ENTRYPOINTS: &str = "traefik.ingress.kubernetes.io/router.entrypoints";
    let ns = o.namespace.as_deref();
    // `<namespace>-<name>@kubernetescrd`; the namespace is the Ingress's own when it matches.
    let named: Vec<Option<&Object>> = annotation(o, MIDDLEWARES)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            // Another provider (`@file`) is not in the manifests: not known.
            let m = m.strip_suffix("@kubernetescrd")?;
            ix.traffic().find(|x| {
                x.kind == "Middleware"
                    && x.namespace.as_deref().or(ns).is_some_and(|n| {
                        m.strip_prefix(n)
                            .and_then(|rest| rest.strip_prefix('-'))
                            .is_some_and(|name| name == x.name)
                    })
            })
        })
        .collect();
    let all_known = named.iter().all(Option::is_some);
    let middlewares: Vec<&Object> = named.into_iter().flatten().collect();
    let on_web =
        annotation(o, ENTRYPOINTS).is_some_and(|e| e.split(',').any(|e| e.trim() == "web"));
    if on_web && all_known && !middlewares.iter().any(|m| redirects_to_https(m)) {
        sink.emit(
            NL_HTTP_REDIRECT,
            o,
            &format!("metadata.annotations.{ENTRYPOINTS}"),
            None,
            format!(
                "served on Traefik's plain-HTTP entry point `web` without a `redirectScheme: \
                 https` Middleware; under {LAW} plain HTTP may only redirect to HTTPS (a \
                 redirect of the entry point itself is not in the manifests: waive with it)"
            ),
        );
    }
    if all_known
        && !middlewares
            .iter()
            .any(|m| m.get("spec.headers.stsSeconds").is_some())
    {
        sink.emit(
            NL_HSTS,
            o,
            "metadata.annotations",
            None,
            format!(
                "no Middleware of `{MIDDLEWARES}` sets `headers.stsSeconds`: HTTPS responses carry \
                 no HSTS ({LAW}); reference a Middleware with `stsSeconds: {HSTS_MIN_AGE}` (HSTS \
                 of the entry point itself is not in the manifests: waive with it)"
            ),
        );
    }
}

fn redirects_to_https(middleware: &Object) -> bool {
    middleware
        .get("spec.redirectScheme.scheme")
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("https"))
}

/// A Traefik Middleware's HSTS settings, wherever it is used.
fn middleware(o: &Object, sink: &mut Sink<'_>) {
    let Some(seconds) = o.get("spec.headers.stsSeconds") else {
        return;
    };
    let age = seconds.as_u64().unwrap_or(0);
    if age < HSTS_MIN_AGE {
        sink.emit(
            NL_HSTS,
            o,
            "spec.headers.stsSeconds",
            None,
            format!(
                "HSTS max-age {age} is less than one year ({HSTS_MIN_AGE}), which {LAW} and the \
                 Forum Standaardisatie measurement require"
            ),
        );
    }
    if o.get("spec.headers.stsIncludeSubdomains")
        .and_then(Value::as_bool)
        != Some(true)
    {
        sink.emit(
            NL_HSTS_SUBDOMAINS,
            o,
            "spec.headers.stsSeconds",
            None,
            "HSTS without `stsIncludeSubdomains: true`".to_owned(),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Gateway API

/// What a listener serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http,
    Tls,
    Other,
}

fn protocol(listener: &Value) -> Protocol {
    match listener.get("protocol").and_then(Value::as_str) {
        Some("HTTP") => Protocol::Http,
        Some("HTTPS" | "TLS") => Protocol::Tls,
        _ => Protocol::Other,
    }
}

/// Listener names a Gateway marks internal-only (`haven.commonground.nl/internal-listeners`).
fn internal_listener(gateway: &Object, listener: &Value, sink: &Sink<'_>) -> bool {
    let name = listener.get("name").and_then(Value::as_str).unwrap_or("");
    annotation(gateway, "haven.commonground.nl/internal-listeners")
        .is_some_and(|l| l.split(',').any(|l| l.trim() == name))
        || listener
            .get("hostname")
            .and_then(Value::as_str)
            .is_some_and(|h| is_internal_host(h, sink))
}

fn gateway(o: &Object, ix: Option<&AppIndex<'_>>, sink: &mut Sink<'_>) {
    let listeners = array(o.get("spec.listeners"));
    let secure: Vec<Option<&str>> = listeners
        .iter()
        .filter(|l| protocol(l) == Protocol::Tls)
        .map(|l| l.get("hostname").and_then(Value::as_str))
        .collect();
    for (i, l) in listeners.iter().enumerate() {
        if internal_listener(o, l, sink) {
            continue;
        }
        let name = l.get("name").and_then(Value::as_str).unwrap_or("");
        let hostname = l.get("hostname").and_then(Value::as_str);
        match protocol(l) {
            Protocol::Tls => {
                let passthrough = l
                    .get("tls")
                    .and_then(|t| t.get("mode"))
                    .and_then(Value::as_str)
                    == Some("Passthrough");
                let certs = l.get("tls").and_then(|t| t.get("certificateRefs"));
                if !passthrough && array(certs).is_empty() {
                    sink.emit(
                        NL_HTTPS,
                        o,
                        &format!("spec.listeners[{i}]"),
                        None,
                        format!(
                            "listener \"{name}\" terminates TLS without `tls.certificateRefs`: it \
                             cannot serve HTTPS, which {LAW} requires; reference the certificate's \
                             Secret"
                        ),
                    );
                }
            }
            Protocol::Http => {
                // A listener for every host is taken as served by any HTTPS listener: the
                // usual pair is `http` for all hosts (redirecting) and `https` for the domain.
                let has_https = secure.iter().any(|s| match (s, hostname) {
                    (Some(s), Some(h)) => covers(s, h),
                    _ => true,
                });
                if !has_https {
                    sink.emit(
                        NL_HTTPS,
                        o,
                        &format!("spec.listeners[{i}]"),
                        None,
                        format!(
                            "listener \"{name}\" serves {} over plain HTTP and no HTTPS listener \
                             serves {}: Dutch law ({LAW}) requires HTTPS for public government \
                             services; add an HTTPS listener with `tls.certificateRefs`",
                            hostname.map_or("every host".to_owned(), |h| format!("\"{h}\"")),
                            if hostname.is_some() { "it" } else { "them" },
                        ),
                    );
                }
                if let Some(ix) = ix {
                    let redirected = ix.traffic().any(|r| {
                        is_route(r)
                            && !is_internal(r)
                            && attachments(r, o, ix).any(|(_, li)| li == i)
                            && route_redirects(r)
                    });
                    if !redirected {
                        sink.emit(
                            NL_HTTP_REDIRECT,
                            o,
                            &format!("spec.listeners[{i}]"),
                            None,
                            format!(
                                "no HTTPRoute in these manifests redirects listener \"{name}\" to \
                                 HTTPS; under {LAW} plain HTTP may only redirect: attach a route \
                                 whose rule is a `RequestRedirect` with `scheme: https`"
                            ),
                        );
                    }
                }
            }
            Protocol::Other => {}
        }
    }
}

fn is_route(o: &Object) -> bool {
    o.api_group() == GATEWAY_API && matches!(o.kind.as_str(), "HTTPRoute" | "GRPCRoute")
}

/// The `(parentRef index, listener index)` pairs by which `route` attaches to `gateway`, as
/// the Gateway API decides: the parentRef names the gateway, its `sectionName` the listener
/// (none: every listener, narrowed by `port`), and the listener's `allowedRoutes` lets the
/// route's namespace in (`Same` by default; a `Selector` is taken to let it in).
fn attachments<'a>(
    route: &'a Object,
    gateway: &'a Object,
    _ix: &'a AppIndex<'_>,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let route_ns = route.namespace.as_deref();
    let listeners = array(gateway.get("spec.listeners"));
    array(route.get("spec.parentRefs"))
        .iter()
        .enumerate()
        .filter(move |(_, p)| {
            p.get("kind").and_then(Value::as_str).unwrap_or("Gateway") == "Gateway"
                && p.get("group")
                    .and_then(Value::as_str)
                    .unwrap_or(GATEWAY_API)
                    == GATEWAY_API
                && p.get("name").and_then(Value::as_str) == Some(gateway.name.as_str())
                && p.get("namespace").and_then(Value::as_str).or(route_ns)
                    == gateway.namespace.as_deref()
        })
        .flat_map(move |(pi, p)| {
            let section = p.get("sectionName").and_then(Value::as_str);
            let port = p.get("port").and_then(Value::as_u64);
            listeners.iter().enumerate().filter_map(move |(li, l)| {
                let name = l.get("name").and_then(Value::as_str);
                let fits = match section {
                    Some(s) => name == Some(s),
                    None => port.is_none_or(|p| l.get("port").and_then(Value::as_u64) == Some(p)),
                };
                let from = l
                    .pointer("/allowedRoutes/namespaces/from")
                    .and_then(Value::as_str)
                    .unwrap_or("Same");
                let allowed = from != "Same" || route_ns == gateway.namespace.as_deref();
                (fits && allowed).then_some((pi, li))
            })
        })
}

/// The Gateway a parentRef names, when it is in the manifests.
fn parent_gateway<'o>(route: &Object, parent: &Value, ix: &AppIndex<'o>) -> Option<&'o Object> {
    let kind = parent
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("Gateway");
    if kind != "Gateway" {
        return None;
    }
    let name = parent.get("name")?.as_str()?;
    let ns = parent
        .get("namespace")
        .and_then(Value::as_str)
        .or(route.namespace.as_deref());
    ix.find("Gateway", ns, name)
        .filter(|g| g.api_group() == GATEWAY_API && !is_internal(g))
}

/// Whether every rule of a route redirects to HTTPS (a redirect-only route).
fn route_redirects(route: &Object) -> bool {
    let rules = array(route.get("spec.rules"));
    !rules.is_empty() && rules.iter().all(rule_redirects)
}

fn rule_redirects(rule: &Value) -> bool {
    array(rule.get("filters")).iter().any(|f| {
        f.get("type").and_then(Value::as_str) == Some("RequestRedirect")
            && f.pointer("/requestRedirect/scheme")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("https"))
    })
}

/// The `Strict-Transport-Security` values a rule's `ResponseHeaderModifier`s write, with their
/// paths.
fn hsts_headers(rule: &Value, base: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (fi, f) in array(rule.get("filters")).iter().enumerate() {
        if f.get("type").and_then(Value::as_str) == Some("ResponseHeaderModifier") {
            out.extend(modifier_hsts(
                f.get("responseHeaderModifier"),
                &format!("{base}.filters[{fi}].responseHeaderModifier"),
            ));
        }
    }
    out
}

/// The `Strict-Transport-Security` values a header modifier (`set`, `add`, `addIfAbsent`)
/// at `base` writes, with their paths.
fn modifier_hsts(modifier: Option<&Value>, base: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for op in ["set", "add", "addIfAbsent"] {
        for (hi, h) in array(modifier.and_then(|m| m.get(op))).iter().enumerate() {
            let is_sts = h
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("Strict-Transport-Security"));
            if is_sts {
                let value = h.get("value").and_then(Value::as_str).unwrap_or("");
                out.push((format!("{base}.{op}[{hi}].value"), value.to_owned()));
            }
        }
    }
    out
}

/// Whether an Envoy Gateway `ClientTrafficPolicy` of the manifests sends HSTS for every
/// response of `gateway` (`headers.lateResponseHeaders`).
fn gateway_sends_hsts(gateway: &Object, ix: &AppIndex<'_>) -> bool {
    ix.traffic().any(|p| {
        p.kind == "ClientTrafficPolicy"
            && p.namespace == gateway.namespace
            && array(p.get("spec.targetRefs"))
                .iter()
                .chain(p.get("spec.targetRef"))
                .any(|t| {
                    t.get("kind").and_then(Value::as_str) == Some("Gateway")
                        && t.get("name").and_then(Value::as_str) == Some(gateway.name.as_str())
                })
            && !modifier_hsts(p.get("spec.headers.lateResponseHeaders"), "").is_empty()
    })
}

/// `max-age` and `includeSubDomains` of an HSTS header value (RFC 6797 section 6.1).
pub fn parse_hsts(value: &str) -> (Option<u64>, bool) {
    let mut age = None;
    let mut subdomains = false;
    for directive in value.split(';').map(str::trim) {
        let (name, v) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("max-age") {
            age = v.trim().trim_matches('"').parse().ok();
        } else if name.eq_ignore_ascii_case("includeSubDomains") {
            subdomains = true;
        }
    }
    (age, subdomains)
}

/// The HSTS values a route writes, judged wherever the route attaches.
fn route_hsts_values(o: &Object, sink: &mut Sink<'_>) {
    for (ri, rule) in array(o.get("spec.rules")).iter().enumerate() {
        judge_hsts_values(o, hsts_headers(rule, &format!("spec.rules[{ri}]")), sink);
    }
}

/// `nl.hsts` on a max-age under a year, `nl.hsts-subdomains` on a value without
/// `includeSubDomains`.
fn judge_hsts_values(o: &Object, values: Vec<(String, String)>, sink: &mut Sink<'_>) {
    for (path, value) in values {
        let (age, subdomains) = parse_hsts(&value);
        match age {
            Some(a) if a >= HSTS_MIN_AGE => {}
            _ => sink.emit(
                NL_HSTS,
                o,
                &path,
                None,
                format!(
                    "HSTS \"{value}\" has {}: {LAW} and the Forum Standaardisatie \
                     measurement require max-age >= {HSTS_MIN_AGE} (one year)",
                    age.map_or("no valid max-age".to_owned(), |a| format!("max-age {a}")),
                ),
            ),
        }
        if !subdomains {
            sink.emit(
                NL_HSTS_SUBDOMAINS,
                o,
                &path,
                None,
                format!("HSTS \"{value}\" has no `includeSubDomains`"),
            );
        }
    }
}

/// Whether a rule sends HSTS: its own header filter, or a Traefik Middleware it references.
fn rule_sends_hsts(route: &Object, rule: &Value, ix: &AppIndex<'_>) -> bool {
    !hsts_headers(rule, "").is_empty()
        || array(rule.get("filters")).iter().any(|f| {
            let ext = f.get("extensionRef");
            let is_mw =
                ext.and_then(|e| e.get("kind")).and_then(Value::as_str) == Some("Middleware");
            let name = ext.and_then(|e| e.get("name")).and_then(Value::as_str);
            is_mw
                && name.is_some_and(|n| {
                    ix.find("Middleware", route.namespace.as_deref(), n)
                        .is_some_and(|m| m.get("spec.headers.stsSeconds").is_some())
                })
        })
}

/// Whether the route's hostnames are all internal-only.
fn internal_route(o: &Object, sink: &Sink<'_>) -> bool {
    let hosts: Vec<&str> = strings(o.get("spec.hostnames")).map(|(_, h)| h).collect();
    !hosts.is_empty() && hosts.iter().all(|h| is_internal_host(h, sink))
}

/// A route against the Gateways of the manifests it attaches to.
fn route(o: &Object, ix: &AppIndex<'_>, sink: &mut Sink<'_>) {
    if internal_route(o, sink) {
        return;
    }
    let redirect_only = route_redirects(o);
    let rules = array(o.get("spec.rules"));
    for (pi, parent) in array(o.get("spec.parentRefs")).iter().enumerate() {
        let Some(gw) = parent_gateway(o, parent, ix) else {
            continue;
        };
        let listeners = array(gw.get("spec.listeners"));
        let attached: Vec<&Value> = attachments(o, gw, ix)
            .filter(|(p, _)| *p == pi)
            .map(|(_, li)| &listeners[li])
            .filter(|l| !internal_listener(gw, l, sink))
            .collect();
        let on = |p: Protocol| attached.iter().any(|l| protocol(l) == p);
        let gw_name = &gw.name;
        if on(Protocol::Http) && !redirect_only {
            for (ri, rule) in rules.iter().enumerate() {
                if !rule_redirects(rule) {
                    sink.emit(
                        NL_HTTP_REDIRECT,
                        o,
                        &format!("spec.rules[{ri}]"),
                        None,
                        format!(
                            "attached by parentRefs[{pi}] to a plain-HTTP listener of Gateway \
                             \"{gw_name}\", this rule serves content over HTTP; under {LAW} plain \
                             HTTP may only redirect to HTTPS: attach to the HTTPS listener \
                             (`sectionName`)"
                        ),
                    );
                }
            }
        }
        if !on(Protocol::Tls) && on(Protocol::Http) && !redirect_only {
            sink.emit(
                NL_HTTPS,
                o,
                &format!("spec.parentRefs[{pi}]"),
                None,
                format!(
                    "attached only to plain-HTTP listeners of Gateway \"{gw_name}\": Dutch law \
                     ({LAW}) requires HTTPS for public government services; attach it to an HTTPS \
                     listener with `sectionName`"
                ),
            );
        }
        if on(Protocol::Tls) && o.kind == "HTTPRoute" {
            for (ri, rule) in rules.iter().enumerate() {
                if !rule_redirects(rule)
                    && !rule_sends_hsts(o, rule, ix)
                    && !gateway_sends_hsts(gw, ix)
                {
                    sink.emit(
                        NL_HSTS,
                        o,
                        &format!("spec.rules[{ri}]"),
                        None,
                        format!(
                            "served over HTTPS by Gateway \"{gw_name}\" without HSTS ({LAW}); add \
                             a `ResponseHeaderModifier` setting `Strict-Transport-Security: \
                             max-age={HSTS_MIN_AGE}; includeSubDomains`"
                        ),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Istio

fn istio_gateway(o: &Object, sink: &mut Sink<'_>) {
    for (i, server) in array(o.get("spec.servers")).iter().enumerate() {
        let hosts: Vec<&str> = strings(server.get("hosts"))
            .map(|(_, h)| h.rsplit_once('/').map_or(h, |(_, h)| h))
            .collect();
        if !hosts.is_empty() && hosts.iter().all(|h| is_internal_host(h, sink)) {
            continue;
        }
        let proto = server
            .pointer("/port/protocol")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase();
        let base = format!("spec.servers[{i}]");
        if proto == "HTTP"
            && server
                .pointer("/tls/httpsRedirect")
                .and_then(Value::as_bool)
                != Some(true)
        {
            sink.emit(
                NL_HTTP_REDIRECT,
                o,
                &base,
                None,
                format!(
                    "HTTP server without `tls.httpsRedirect: true`; under {LAW} plain HTTP may \
                     only redirect to HTTPS"
                ),
            );
        }
        tls_versions(
            o,
            &format!("{base}.tls.minProtocolVersion"),
            &format!("{base}.tls.maxProtocolVersion"),
            sink,
        );
        ciphers(o, &format!("{base}.tls.cipherSuites"), sink);
    }
}

// ---------------------------------------------------------------------------------------------
// TLS versions and cipher suites (NCSC TLS guidelines 2.1)

/// The TLS version a setting names, as (major, minor) of TLS: `1.2`, `VersionTLS12`,
/// `TLSV1_2`, `TLSv1.2`. `None` for `Auto`/`TLS_AUTO` and what is not a version.
pub fn tls_version(s: &str) -> Option<(u8, u8)> {
    let s = s.to_ascii_uppercase();
    let digits: String = s
        .trim_start_matches("VERSION")
        .trim_start_matches("TLSV")
        .trim_start_matches("TLS")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match digits.as_str() {
        "10" => Some((1, 0)),
        "11" => Some((1, 1)),
        "12" => Some((1, 2)),
        "13" => Some((1, 3)),
        _ => None,
    }
}

fn tls_versions(o: &Object, min: &str, max: &str, sink: &mut Sink<'_>) {
    for (path, which) in [(min, "minimum"), (max, "maximum")] {
        let Some(value) = o.get(path).and_then(Value::as_str) else {
            continue;
        };
        if let Some(v @ (1, 0 | 1)) = tls_version(value) {
            sink.emit(
                NL_TLS_VERSION,
                o,
                path,
                None,
                format!(
                    "TLS {}.{} as the {which} version: the NCSC TLS guidelines (2.1), which {LAW} \
                     makes the norm, phase TLS 1.0 and 1.1 out; set TLS 1.2 or 1.3",
                    v.0, v.1
                ),
            );
        }
    }
}

/// Why the guideline rejects a cipher suite (OpenSSL or IANA name, or an Envoy `[A|B]`
/// group), or `None` when it rates it good or sufficient.
pub fn cipher_rejected(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    for suite in upper
        .trim_matches(|c| c == '[' || c == ']')
        .split('|')
        .map(str::trim)
    {
        if let Some(why) = one_cipher_rejected(suite) {
            return Some(why);
        }
    }
    None
}

fn one_cipher_rejected(suite: &str) -> Option<&'static str> {
    // TLS 1.3's own suites: AES-GCM and ChaCha20-Poly1305 good, AES-CCM sufficient.
    if suite.starts_with("TLS_AES_") || suite.starts_with("TLS_CHACHA20_") {
        return (suite.contains("CCM_8")).then_some("CCM_8 is insufficient");
    }
    let tokens: Vec<&str> = suite.split(['-', '_']).collect();
    let has = |t: &str| tokens.contains(&t);
    const WEAK: &[(&str, &str)] = &[
        ("NULL", "no encryption is insufficient"),
        ("EXPORT", "export suites are insufficient"),
        ("EXP", "export suites are insufficient"),
        ("ANON", "anonymous key exchange is insufficient"),
        ("ADH", "anonymous key exchange is insufficient"),
        ("AECDH", "anonymous key exchange is insufficient"),
        ("RC4", "RC4 is insufficient"),
        ("MD5", "MD5 is insufficient"),
        ("3DES", "3DES is to be phased out"),
        ("CBC3", "3DES is to be phased out"),
        ("DES", "DES is insufficient"),
        ("IDEA", "IDEA is insufficient"),
        ("SEED", "SEED is insufficient"),
        (
            "PSK",
            "PSK suites are not in the guideline's good or sufficient levels",
        ),
        (
            "SRP",
            "SRP suites are not in the guideline's good or sufficient levels",
        ),
        ("CCM8", "CCM_8 is insufficient"),
    ];
    for (token, why) in WEAK {
        if has(token) {
            return Some(why);
        }
    }
    if suite.contains("CCM_8") {
        return Some("CCM_8 is insufficient");
    }
    if tokens
        .iter()
        .any(|t| t.starts_with("CAMELLIA") || t.starts_with("ARIA"))
    {
        return Some("CAMELLIA and ARIA are not in the guideline's good or sufficient levels");
    }
    if !(has("ECDHE") || has("DHE") || has("EDH")) {
        return Some("RSA key exchange has no forward secrecy and is to be phased out");
    }
    if !tokens
        .iter()
        .any(|t| t.starts_with("AES") || t.starts_with("CHACHA20"))
    {
        return Some("its cipher is not in the guideline's good or sufficient levels");
    }
    None
}

fn ciphers(o: &Object, path: &str, sink: &mut Sink<'_>) {
    for (i, suite) in strings(o.get(path)) {
        if let Some(why) = cipher_rejected(suite) {
            sink.emit(
                NL_TLS_CIPHERS,
                o,
                &format!("{path}[{i}]"),
                None,
                format!(
                    "cipher suite {suite}: {why} under the NCSC TLS guidelines (2.1), which {LAW} \
                     makes the norm"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphers_are_rated_as_the_ncsc_guideline_rates_them() {
        for good in [
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-CHACHA20-POLY1305",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "DHE-RSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES128-SHA",
            "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
        ] {
            assert_eq!(cipher_rejected(good), None, "{good}");
        }
        for (bad, why) in [
            ("AES128-GCM-SHA256", "forward secrecy"),
            ("TLS_RSA_WITH_AES_128_GCM_SHA256", "forward secrecy"),
            ("ECDHE-RSA-DES-CBC3-SHA", "3DES"),
            ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"),
            ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", "RC4"),
            ("TLS_ECDHE_ECDSA_WITH_NULL_SHA", "no encryption"),
            ("TLS_AES_128_CCM_8_SHA256", "CCM_8"),
            ("TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "CAMELLIA"),
            (
                "[ECDHE-RSA-AES128-GCM-SHA256|AES256-SHA]",
                "forward secrecy",
            ),
        ] {
            let got = cipher_rejected(bad);
            assert!(got.is_some_and(|g| g.contains(why)), "{bad}: {got:?}");
        }
    }

    #[test]
    fn versions_and_hsts_values_are_read_in_every_spelling() {
        assert_eq!(tls_version("1.1"), Some((1, 1)));
        assert_eq!(tls_version("VersionTLS10"), Some((1, 0)));
        assert_eq!(tls_version("TLSV1_2"), Some((1, 2)));
        assert_eq!(tls_version("TLSv1.3"), Some((1, 3)));
        assert_eq!(tls_version("Auto"), None);
        assert_eq!(tls_version("TLS_AUTO"), None);
        assert_eq!(
            parse_hsts("max-age=31536000; includeSubDomains; preload"),
            (Some(31_536_000), true)
        );
        assert_eq!(parse_hsts("MAX-AGE=\"600\""), (Some(600), false));
        assert_eq!(parse_hsts("includesubdomains"), (None, true));
        assert!(covers("*.example.nl", "app.example.nl"));
        assert!(!covers("*.example.nl", "a.b.example.nl"));
        assert!(!covers("*.example.nl", "example.nl"));
        assert!(covers("App.Example.nl", "app.example.nl"));
    }
}
