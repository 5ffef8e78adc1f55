//! `--plus` evidence for the Forum Standaardisatie measurement of Dutch law (Wet digitale
//! overheid, Stb. 2023, 179): per gateway found on the cluster, whether HTTPS, the
//! HTTP-to-HTTPS redirect, HSTS and the TLS settings are configured, read from the resources
//! (never by connecting). The judgements are the `nl.*` rules' (`haven_rules::transport`).

use haven_rules::transport::{HSTS_MIN_AGE, cipher_rejected, parse_hsts, tls_version};
use haven_snapshot::{ClusterSnapshot, CustomRecord, ListenerFacts, TransportFacts};

fn records<'s>(s: &'s ClusterSnapshot, key: &str) -> Vec<(&'s CustomRecord, &'s TransportFacts)> {
    s.custom_resources
        .get(key)
        .and_then(|r| r.value())
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r, r.transport.as_ref()?)))
        .collect()
}

fn at(r: &CustomRecord) -> String {
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    }
}

/// Whether `parents` (of a route or policy) name the gateway `gw` (`ns/name`), and through
/// `listener` when a listener is given (a parent without section names every listener).
fn names(parents: &[String], gw: &str, listener: Option<&str>) -> bool {
    parents.iter().any(|p| match p.strip_prefix(gw) {
        Some("") => true,
        Some(rest) => listener.is_none_or(|l| rest.strip_prefix('/') == Some(l)),
        None => false,
    })
}

/// "max-age=… (where)" judged: a year at least, subdomains included.
fn hsts_verdict(value: &str) -> String {
    let (age, subdomains) = parse_hsts(value);
    let mut notes = Vec::new();
    if age.is_none_or(|a| a < HSTS_MIN_AGE) {
        notes.push(format!("max-age under one year ({HSTS_MIN_AGE})"));
    }
    if !subdomains {
        notes.push("no includeSubDomains".to_owned());
    }
    if notes.is_empty() {
        format!("\"{value}\"")
    } else {
        format!("\"{value}\" ({})", notes.join(", "))
    }
}

/// "minimum 1.2, 6 cipher suites, all NCSC good or sufficient" and what falls short.
fn tls_verdict(min: Option<&str>, ciphers: &[String]) -> String {
    let version = match min {
        None => "minimum version not set (the implementation's default, TLS 1.2)".to_owned(),
        Some(v) => match tls_version(v) {
            Some((1, 0 | 1)) => format!("minimum {v} (TLS 1.0/1.1: the NCSC phases them out)"),
            _ => format!("minimum {v}"),
        },
    };
    let rejected: Vec<&str> = ciphers
        .iter()
        .map(String::as_str)
        .filter(|c| cipher_rejected(c).is_some())
        .collect();
    let suites = match (ciphers.len(), rejected.is_empty()) {
        (0, _) => "cipher suites not set (the implementation's defaults)".to_owned(),
        (n, true) => format!("{n} cipher suites, all NCSC good or sufficient"),
        (n, false) => format!(
            "{n} cipher suites, not NCSC good or sufficient: {}",
            rejected.join(", ")
        ),
    };
    format!("{version}; {suites}")
}

/// One line per gateway and requirement, `Gateway ns/name: …`.
pub fn evidence(s: &ClusterSnapshot) -> Vec<String> {
    let gateways = records(s, "gateways.gateway.networking.k8s.io");
    let routes = records(s, "httproutes.gateway.networking.k8s.io");
    let policies = records(s, "clienttrafficpolicies.gateway.envoyproxy.io");
    let middlewares = records(s, "middlewares.traefik.io");
    let tls_options = records(s, "tlsoptions.traefik.io");
    let mut out = Vec::new();
    for (g, facts) in &gateways {
        let key = format!("{}/{}", g.namespace.as_deref().unwrap_or_default(), g.name);
        let head = at(g);
        let of = |p: &str| -> Vec<&ListenerFacts> {
            facts.listeners.iter().filter(|l| l.protocol == p).collect()
        };
        let secure: Vec<&ListenerFacts> = of("HTTPS").into_iter().chain(of("TLS")).collect();
        let https = if secure.is_empty() {
            "no HTTPS listener".to_owned()
        } else {
            secure
                .iter()
                .map(|l| {
                    let cert = if l.secured {
                        "certificate referenced"
                    } else {
                        "NO certificate"
                    };
                    format!("listener {} ({} {cert})", l.name, l.protocol)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push(format!("{head}: HTTPS: {https}"));
        for l in of("HTTP") {
            let attached: Vec<&(&CustomRecord, &TransportFacts)> = routes
                .iter()
                .filter(|(_, r)| names(&r.parents, &key, Some(&l.name)))
                .collect();
            let redirecting: Vec<String> = attached
                .iter()
                .filter(|(_, r)| r.redirects_to_https)
                .map(|(r, _)| at(r))
                .collect();
            let serving: Vec<String> = attached
                .iter()
                .filter(|(_, r)| !r.redirects_to_https)
                .map(|(r, _)| at(r))
                .collect();
            let verdict = match (redirecting.is_empty(), serving.is_empty()) {
                (false, true) => format!("redirected to HTTPS by {}", redirecting.join(", ")),
                (true, true) => "NOT redirected to HTTPS (no HTTPRoute redirects it)".to_owned(),
                (_, false) => format!(
                    "NOT only redirecting: {} served over plain HTTP",
                    serving.join(", ")
                ),
            };
            out.push(format!("{head}: HTTP listener {}: {verdict}", l.name));
        }
        let wide: Vec<String> = policies
            .iter()
            .filter(|(_, p)| names(&p.parents, &key, None) && !p.hsts.is_empty())
            .flat_map(|(r, p)| {
                p.hsts
                    .iter()
                    .map(move |v| format!("{} by {}", hsts_verdict(v), at(r)))
            })
            .chain(
                middlewares
                    .iter()
                    .filter(|(_, m)| !m.hsts.is_empty())
                    .flat_map(|(r, m)| {
                        m.hsts.iter().map(move |v| {
                            format!(
                                "{} by {} where referenced (entry point or route)",
                                hsts_verdict(v),
                                at(r)
                            )
                        })
                    }),
            )
            .collect();
        let over_https: Vec<&(&CustomRecord, &TransportFacts)> = routes
            .iter()
            .filter(|(_, r)| {
                !r.redirects_to_https
                    && secure
                        .iter()
                        .any(|l| names(&r.parents, &key, Some(&l.name)))
            })
            .collect();
        let with_own = over_https
            .iter()
            .filter(|(_, r)| !r.hsts.is_empty())
            .count();
        let hsts = if wide.is_empty() {
            format!(
                "no gateway-wide HSTS; {with_own} of {} HTTPS route(s) send their own",
                over_https.len()
            )
        } else {
            wide.join("; ")
        };
        out.push(format!("{head}: HSTS: {hsts}"));
        let tls: Vec<String> = policies
            .iter()
            .filter(|(_, p)| names(&p.parents, &key, None))
            .filter(|(_, p)| p.min_tls_version.is_some() || !p.ciphers.is_empty())
            .map(|(r, p)| {
                format!(
                    "{}: {}",
                    at(r),
                    tls_verdict(p.min_tls_version.as_deref(), &p.ciphers)
                )
            })
            .chain(
                tls_options
                    .iter()
                    .filter(|(r, _)| r.name == "default")
                    .map(|(r, t)| {
                        format!(
                            "{}: {}",
                            at(r),
                            tls_verdict(t.min_tls_version.as_deref(), &t.ciphers)
                        )
                    }),
            )
            .collect();
        let tls = if tls.is_empty() {
            "no TLS policy in the resources (the implementation's defaults apply)".to_owned()
        } else {
            tls.join("; ")
        };
        out.push(format!("{head}: TLS: {tls}"));
    }
    for (g, facts) in records(s, "gateways.networking.istio.io") {
        let head = format!("Istio {}", at(g));
        for l in &facts.listeners {
            let host = l.hostname.as_deref().unwrap_or("*");
            let line = if l.protocol == "HTTP" {
                if l.secured {
                    "HTTP, redirected to HTTPS (httpsRedirect)".to_owned()
                } else {
                    "HTTP, NOT redirected to HTTPS".to_owned()
                }
            } else {
                format!(
                    "{}{}; TLS: {}",
                    l.protocol,
                    if l.secured { "" } else { " without tls mode" },
                    tls_verdict(l.min_tls_version.as_deref(), &l.ciphers)
                )
            };
            out.push(format!("{head}: server {} ({host}): {line}", l.name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use haven_snapshot::Read;
    use serde_json::json;

    use super::*;

    fn record(
        group: &str,
        plural: &str,
        kind: &str,
        ns: &str,
        name: &str,
        o: serde_json::Value,
    ) -> (String, CustomRecord) {
        (
            format!("{plural}.{group}"),
            CustomRecord {
                kind: kind.to_owned(),
                namespace: Some(ns.to_owned()),
                name: name.to_owned(),
                transport: TransportFacts::read(group, kind, Some(ns), &o),
                ..CustomRecord::default()
            },
        )
    }

    fn snapshot(records: Vec<(String, CustomRecord)>) -> ClusterSnapshot {
        let mut s = ClusterSnapshot::empty();
        for (key, r) in records {
            match s
                .custom_resources
                .entry(key)
                .or_insert_with(|| Read::ok(Vec::new()))
            {
                Read::Ok { value } => value.push(r),
                _ => unreachable!(),
            }
        }
        s
    }

    const GW: &str = "gateway.networking.k8s.io";

    fn gateway() -> (String, CustomRecord) {
        record(
            GW,
            "gateways",
            "Gateway",
            "gw",
            "platform",
            json!({"spec": {"listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80},
                {"name": "https", "protocol": "HTTPS", "port": 443,
                 "tls": {"certificateRefs": [{"name": "platform-tls"}]}},
            ]}}),
        )
    }

    #[test]
    fn a_compliant_envoy_gateway_is_evidenced_line_by_line() {
        let s = snapshot(vec![
            gateway(),
            record(
                GW,
                "httproutes",
                "HTTPRoute",
                "gw",
                "https-redirect",
                json!({"spec": {
                "parentRefs": [{"name": "platform", "sectionName": "http"}],
                "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]}]}}),
            ),
            record(
                GW,
                "httproutes",
                "HTTPRoute",
                "app",
                "web",
                json!({"spec": {
                "parentRefs": [{"name": "platform", "namespace": "gw", "sectionName": "https"}],
                "rules": [{"backendRefs": [{"name": "web"}]}]}}),
            ),
            record(
                "gateway.envoyproxy.io",
                "clienttrafficpolicies",
                "ClientTrafficPolicy",
                "gw",
                "platform",
                json!({"spec": {
                "targetRefs": [{"group": GW, "kind": "Gateway", "name": "platform"}],
                "headers": {"lateResponseHeaders": {"set": [{"name": "Strict-Transport-Security", "value": "max-age=63072000; includeSubDomains"}]}},
                "tls": {"minVersion": "1.2", "ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"]}}}),
            ),
        ]);
        assert_eq!(
            evidence(&s),
            [
                "Gateway gw/platform: HTTPS: listener https (HTTPS certificate referenced)",
                "Gateway gw/platform: HTTP listener http: redirected to HTTPS by HTTPRoute gw/https-redirect",
                "Gateway gw/platform: HSTS: \"max-age=63072000; includeSubDomains\" by ClientTrafficPolicy gw/platform",
                "Gateway gw/platform: TLS: ClientTrafficPolicy gw/platform: minimum 1.2; 1 cipher suites, all NCSC good or sufficient",
            ]
        );
    }

    #[test]
    fn what_is_missing_or_weak_is_said() {
        let s = snapshot(vec![
            gateway(),
            record(
                GW,
                "httproutes",
                "HTTPRoute",
                "gw",
                "web",
                json!({"spec": {
                "parentRefs": [{"name": "platform"}],
                "rules": [{"filters": [{"type": "ResponseHeaderModifier", "responseHeaderModifier": {
                    "set": [{"name": "Strict-Transport-Security", "value": "max-age=600"}]}}]}]}}),
            ),
            record(
                "traefik.io",
                "tlsoptions",
                "TLSOption",
                "traefik",
                "default",
                json!({"spec": {
                "minVersion": "VersionTLS10", "cipherSuites": ["TLS_RSA_WITH_AES_128_GCM_SHA256"]}}),
            ),
            record(
                "networking.istio.io",
                "gateways",
                "Gateway",
                "istio",
                "web",
                json!({"spec": {"servers": [
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["a.example.nl"]}]}}),
            ),
        ]);
        assert_eq!(
            evidence(&s),
            [
                "Gateway gw/platform: HTTPS: listener https (HTTPS certificate referenced)",
                "Gateway gw/platform: HTTP listener http: NOT only redirecting: HTTPRoute gw/web served over plain HTTP",
                "Gateway gw/platform: HSTS: no gateway-wide HSTS; 1 of 1 HTTPS route(s) send their own",
                "Gateway gw/platform: TLS: TLSOption traefik/default: minimum VersionTLS10 (TLS 1.0/1.1: the NCSC phases them out); 1 cipher suites, not NCSC good or sufficient: TLS_RSA_WITH_AES_128_GCM_SHA256",
                "Istio Gateway istio/web: server http (a.example.nl): HTTP, NOT redirected to HTTPS",
            ]
        );
        assert_eq!(
            hsts_verdict("max-age=600"),
            "\"max-age=600\" (max-age under one year (31536000), no includeSubDomains)"
        );
    }
}
