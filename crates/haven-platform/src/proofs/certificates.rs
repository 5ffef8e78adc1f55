//! Certificates: every Certificate, every Gateway listener cert-manager's gateway-shim turns into
//! one, and every Ingress TLS entry its ingress-shim does, can be issued by its issuer.
//!
//! For each requested name, the ACME issuer's solver is picked as cert-manager picks it: among
//! the solvers whose selector matches (its `matchLabels` are among the Certificate's labels, and
//! its `dnsNames` hold the name or one of its `dnsZones` is the name or a parent of it, or it
//! names neither), the most specific wins: a `dnsNames` match over a `dnsZones` match, a longer
//! zone over a shorter one, more labels over fewer, the first on a tie. Then:
//!
//! - a wildcard name (`*.example.nl`) needs that solver to be DNS-01: Let's Encrypt issues
//!   wildcards through DNS-01 only;
//! - an HTTP-01 solver needs a way in for the challenge: `gatewayHTTPRoute` parentRefs that name
//!   Gateways with an HTTP listener the challenge's route may attach to (namespace, hostname,
//!   `sectionName`), or an `ingress` solver whose IngressClass exists (the default class when it
//!   names none);
//! - every DNS-01 solver of every issuer has its provider's credentials wired: each Secret its
//!   configuration names (`tsigSecretSecretRef`, `apiTokenSecretRef`, ...) exists or is made in
//!   the namespace cert-manager reads it from (the Issuer's, or for a ClusterIssuer cert-manager's
//!   cluster resource namespace);
//! - gateway-shim only runs when cert-manager's Gateway API support is on
//!   (`config.enableGatewayAPI` or `--enable-gateway-api` in its HelmRelease values);
//! - a certificate serves the names it is used for: every HTTPS or TLS listener of a Gateway
//!   that terminates TLS with a Secret a Certificate makes, and every Ingress TLS entry naming
//!   one, admits only names that Certificate covers (`h` by `h` or `*.<parent of h>`, a
//!   listener's `*.d` by `*.d`); otherwise a client asking for a name the listener admits gets
//!   a certificate that does not match it (a wildcard listener with a certificate for a few
//!   hosts). A listener without a hostname admits every name: a warning.
//!
//! The issuer a Certificate names is checked to exist by [`super::references`]; the one a shim
//! annotation names is checked here. Issuers that are not ACME (CA, self-signed, Vault, ...) issue
//! any name. What an unseen chart may create (an IngressClass, a Gateway in its namespace) is
//! not guessed: such a requirement is not reported (see [`super::references`] for the rule).

use haven_model::Object;
use serde_json::{Map, Value};

use super::references::{
    Inventory, Kind, Source, Target, Verdict, describe, ns_of, problem, shim_issuer, str_at,
};
use super::{Landscape, Placed};
use crate::charts::{Check, Problem};
use crate::validate::Severity;

/// One request for a certificate: who asks, for which names (each with its field), from which
/// issuer.
struct Request<'a> {
    at: Placed<'a>,
    /// Name and the field it is written at.
    names: Vec<(String, String)>,
    issuer: Target,
    /// Where the issuer is named.
    issuer_path: String,
    /// Whether the issuer's existence is this check's to judge (shim annotations) or the
    /// references check's (a Certificate's `issuerRef`).
    judge_issuer: bool,
    labels: Map<String, Value>,
    /// The namespace the challenge objects are made in.
    namespace: String,
}

fn is(o: &Object, group: &str, kind: &str) -> bool {
    o.kind == kind && o.api_group() == group
}

fn array<'v>(v: &'v Value, path: &str) -> &'v [Value] {
    haven_model::object::lookup(v, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// cert-manager's HelmRelease, if the platform installs it.
fn cert_manager<'a>(landscape: &Landscape<'a>) -> Option<&'a Object> {
    landscape
        .of_kind("helm.toolkit.fluxcd.io", "HelmRelease")
        .map(|p| p.object)
        .find(|o| {
            o.name == "cert-manager"
                || str_at(&o.value, "spec.chart.spec.chart") == Some("cert-manager")
        })
}

/// The namespace cert-manager reads a ClusterIssuer's Secrets from: its
/// `clusterResourceNamespace`, by default the namespace it runs in.
pub(crate) fn cluster_resource_namespace(landscape: &Landscape<'_>) -> String {
    match cert_manager(landscape) {
        Some(hr) => str_at(&hr.value, "spec.values.clusterResourceNamespace")
            .or_else(|| str_at(&hr.value, "spec.targetNamespace"))
            .unwrap_or(ns_of(hr))
            .to_owned(),
        None => "cert-manager".to_owned(),
    }
}

/// Whether cert-manager's gateway-shim runs (None: cert-manager is not in the landscape).
fn gateway_api_enabled(landscape: &Landscape<'_>) -> Option<bool> {
    let hr = cert_manager(landscape)?;
    let values = hr.get("spec.values");
    let config = values
        .and_then(|v| haven_model::object::lookup(v, "config.enableGatewayAPI"))
        .and_then(Value::as_bool)
        == Some(true);
    let flag = values
        .map(|v| array(v, "extraArgs"))
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_str)
        .any(|a| a == "--enable-gateway-api" || a == "--enable-gateway-api=true");
    Some(config || flag)
}

/// The Secrets a DNS-01 solver's provider configuration names: every object under a key
/// ending in `SecretRef` (cert-manager's convention for all its providers and the webhook
/// solvers' configurations) that has a `name`.
pub(crate) fn solver_secrets(dns01: &Value, path: &str, out: &mut Vec<(String, String)>) {
    if let Value::Object(m) = dns01 {
        for (k, v) in m {
            let at = format!("{path}.{k}");
            if k.to_ascii_lowercase().ends_with("secretref")
                && let Some(n) = str_at(v, "name")
            {
                out.push((at, n.to_owned()));
            } else {
                solver_secrets(v, &at, out);
            }
        }
    }
}

fn requests<'a>(landscape: &Landscape<'a>) -> Vec<Request<'a>> {
    let mut out = Vec::new();
    for &p in &landscape.objects {
        let o = p.object;
        let ns = ns_of(o);
        let labels = o.labels().cloned().unwrap_or_default();
        if is(o, "cert-manager.io", "Certificate") {
            let Some(issuer) = str_at(&o.value, "spec.issuerRef.name") else {
                continue;
            };
            if str_at(&o.value, "spec.issuerRef.group").unwrap_or("cert-manager.io")
                != "cert-manager.io"
            {
                continue;
            }
            let kind = match str_at(&o.value, "spec.issuerRef.kind") {
                Some("ClusterIssuer") => Kind::ClusterIssuer,
                _ => Kind::Issuer,
            };
            let mut names: Vec<(String, String)> = array(&o.value, "spec.dnsNames")
                .iter()
                .enumerate()
                .filter_map(|(i, n)| Some((n.as_str()?.to_owned(), format!("spec.dnsNames[{i}]"))))
                .collect();
            if let Some(cn) = str_at(&o.value, "spec.commonName")
                && !names.iter().any(|(n, _)| n == cn)
            {
                names.push((cn.to_owned(), "spec.commonName".to_owned()));
            }
            out.push(Request {
                at: p,
                names,
                issuer: Target::new(kind, ns, issuer),
                issuer_path: "spec.issuerRef".to_owned(),
                judge_issuer: false,
                labels,
                namespace: ns.to_owned(),
            });
            continue;
        }
        let gateway = is(o, "gateway.networking.k8s.io", "Gateway");
        let ingress = is(o, "networking.k8s.io", "Ingress");
        if !gateway && !ingress {
            continue;
        }
        let Some((kind, issuer)) = shim_issuer(o) else {
            continue;
        };
        let annotation = match kind {
            Kind::ClusterIssuer => "metadata.annotations.cert-manager.io/cluster-issuer",
            _ => "metadata.annotations.cert-manager.io/issuer",
        };
        let mut names = Vec::new();
        if gateway {
            for (i, l) in array(&o.value, "spec.listeners").iter().enumerate() {
                let terminate = str_at(l, "tls.mode").unwrap_or("Terminate") == "Terminate";
                if l.get("tls").is_none() || !terminate {
                    continue;
                }
                if let Some(h) = str_at(l, "hostname") {
                    names.push((h.to_owned(), format!("spec.listeners[{i}].hostname")));
                }
            }
        } else {
            for (i, t) in array(&o.value, "spec.tls").iter().enumerate() {
                for (j, h) in array(t, "hosts").iter().enumerate() {
                    if let Some(h) = h.as_str() {
                        names.push((h.to_owned(), format!("spec.tls[{i}].hosts[{j}]")));
                    }
                }
            }
        }
        out.push(Request {
            at: p,
            names,
            issuer: Target::new(kind, ns, &issuer),
            issuer_path: annotation.to_owned(),
            judge_issuer: true,
            labels: Map::new(),
            namespace: ns.to_owned(),
        });
    }
    out
}

/// How specific a matching selector is, for a name; None when it does not match.
fn specificity(
    solver: &Value,
    name: &str,
    labels: &Map<String, Value>,
) -> Option<(bool, usize, usize)> {
    let Some(sel) = solver.get("selector").filter(|s| !s.is_null()) else {
        return Some((false, 0, 0));
    };
    let match_labels = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if match_labels.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        return None;
    }
    let dns_names: Vec<&str> = array(sel, "dnsNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let zones: Vec<&str> = array(sel, "dnsZones")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if dns_names.is_empty() && zones.is_empty() {
        return Some((false, 0, match_labels.len()));
    }
    if dns_names.contains(&name) {
        return Some((true, 0, match_labels.len()));
    }
    let bare = name.strip_prefix("*.").unwrap_or(name);
    zones
        .iter()
        .filter(|z| bare == **z || bare.ends_with(&format!(".{z}")))
        .map(|z| z.split('.').count())
        .max()
        .map(|len| (false, len, match_labels.len()))
}

/// The solver cert-manager picks for a name: its index.
fn pick(solvers: &[Value], name: &str, labels: &Map<String, Value>) -> Option<usize> {
    let mut best: Option<(usize, (bool, usize, usize))> = None;
    for (i, s) in solvers.iter().enumerate() {
        if let Some(score) = specificity(s, name, labels)
            && best.is_none_or(|(_, b)| score > b)
        {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// Whether a Gateway listener hostname admits a name (Gateway API hostname matching).
fn hostname_admits(listener: Option<&str>, name: &str) -> bool {
    match listener {
        None => true,
        Some(h) => match h.strip_prefix("*.") {
            Some(suffix) => name.ends_with(&format!(".{suffix}")) && name != suffix,
            None => h == name,
        },
    }
}

/// Runs the check on the landscape.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let inv = Inventory::of(landscape, catalogue);
    let crns = cluster_resource_namespace(landscape);
    let mut out = Vec::new();
    let err =
        |at, path: &str, message| problem(Check::Certificates, Severity::Error, at, path, message);
    // Credentials of every DNS-01 solver.
    for &p in &landscape.objects {
        let o = p.object;
        let cluster = is(o, "cert-manager.io", "ClusterIssuer");
        if !cluster && !is(o, "cert-manager.io", "Issuer") {
            continue;
        }
        let secret_ns = if cluster { crns.as_str() } else { ns_of(o) };
        for (i, s) in array(&o.value, "spec.acme.solvers").iter().enumerate() {
            let Some(dns01) = s.get("dns01") else {
                continue;
            };
            let mut secrets = Vec::new();
            solver_secrets(
                dns01,
                &format!("spec.acme.solvers[{i}].dns01"),
                &mut secrets,
            );
            for (path, name) in secrets {
                let t = Target::new(Kind::Secret, secret_ns, &name);
                if let Verdict::Missing = inv.judge(&t, None) {
                    out.push(err(
                        p,
                        &path,
                        format!(
                            "DNS-01 credentials not wired: the solver reads {t} for its DNS provider, which nothing in the platform creates"
                        ),
                    ));
                }
            }
        }
    }
    out.extend(served_names(landscape, &inv));
    let gateway_api = gateway_api_enabled(landscape);
    for r in requests(landscape) {
        if r.judge_issuer
            && is(r.at.object, "gateway.networking.k8s.io", "Gateway")
            && gateway_api == Some(false)
        {
            out.push(err(
                r.at,
                &r.issuer_path,
                "asks cert-manager for its certificates, but cert-manager's Gateway API support is off (set `config.enableGatewayAPI: true` in its values)"
                    .to_owned(),
            ));
        }
        let issuer = match inv.judge(&r.issuer, None) {
            Verdict::There(Source::Object(i)) => i.object,
            Verdict::Missing if r.judge_issuer => {
                out.push(err(
                    r.at,
                    &r.issuer_path,
                    format!(
                        "asks for its certificate from {}, which nothing in the platform creates",
                        r.issuer
                    ),
                ));
                continue;
            }
            _ => continue,
        };
        let Some(solvers) = issuer.get("spec.acme.solvers").and_then(Value::as_array) else {
            continue; // not ACME: CA, self-signed, Vault, ... issue any name
        };
        let issuer_name = describe(issuer);
        for (name, path) in &r.names {
            let Some(i) = pick(solvers, name, &r.labels) else {
                out.push(err(
                    r.at,
                    path,
                    format!("asks {issuer_name} for {name}, but none of its ACME solvers' selectors matches it"),
                ));
                continue;
            };
            let solver = &solvers[i];
            let wildcard = name.starts_with("*.");
            if solver.get("dns01").is_some() {
                continue;
            }
            let Some(http01) = solver.get("http01") else {
                continue;
            };
            if wildcard {
                let dns_solvers = solvers.iter().filter(|s| s.get("dns01").is_some()).count();
                let why = if dns_solvers == 0 {
                    "it has HTTP-01 solvers only".to_owned()
                } else {
                    format!(
                        "the solver it picks for it is HTTP-01 (spec.acme.solvers[{i}]); no DNS-01 solver's selector matches it"
                    )
                };
                out.push(err(
                    r.at,
                    path,
                    format!(
                        "asks {issuer_name} for the wildcard {name}, which only DNS-01 can prove, but {why}"
                    ),
                ));
                continue;
            }
            if let Some(m) = http01_unreachable(&inv, http01, name, &r.namespace) {
                out.push(err(
                    r.at,
                    path,
                    format!("asks {issuer_name} for {name} over HTTP-01 (spec.acme.solvers[{i}]), but {m}"),
                ));
            }
        }
    }
    out
}

/// Whether a certificate naming `names` matches every name a listener (or TLS entry) with
/// `hostname` admits. A certificate's `*.d` matches one label under `d` (RFC 6125), a
/// listener's `*.d` admits names under `d` (Gateway API): only a `*.d` certificate can serve it.
fn covers(names: &[&str], hostname: &str) -> bool {
    if names.contains(&hostname) {
        return true;
    }
    if hostname.starts_with("*.") {
        return false;
    }
    hostname
        .split_once('.')
        .is_some_and(|(_, parent)| names.contains(&format!("*.{parent}").as_str()))
}

/// The Certificate that makes the Secret `target`, if one does: its names.
fn certificate_names<'i>(
    inv: &'i Inventory<'_>,
    target: &Target,
) -> Option<(&'i Object, Vec<&'i str>)> {
    let Some(Source::Produced { by, .. }) = inv.found.get(target) else {
        return None;
    };
    let cert = by.object;
    if !is(cert, "cert-manager.io", "Certificate") {
        return None; // a shim's own Secret names what its listener or TLS entry asks for
    }
    let mut names: Vec<&str> = array(&cert.value, "spec.dnsNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    names.extend(str_at(&cert.value, "spec.commonName"));
    Some((cert, names))
}

/// The listeners and Ingress TLS entries that serve names their Certificate does not cover.
fn served_names(landscape: &Landscape<'_>, inv: &Inventory<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    let mismatch = |what: String, target: &Target, cert: &Object, names: &[&str]| {
        format!(
            "{what}, but its certificate ({target}, made by {}) names {} only: a client asking for a name it does not name gets a certificate that does not match",
            describe(cert),
            if names.is_empty() {
                "no host".to_owned()
            } else {
                names.join(", ")
            },
        )
    };
    for &p in &landscape.objects {
        let o = p.object;
        let ns = ns_of(o);
        if is(o, "gateway.networking.k8s.io", "Gateway") {
            for (i, l) in array(&o.value, "spec.listeners").iter().enumerate() {
                let protocol = str_at(l, "protocol").unwrap_or_default();
                let terminate = str_at(l, "tls.mode").unwrap_or("Terminate") == "Terminate";
                if !matches!(protocol, "HTTPS" | "TLS") || !terminate {
                    continue;
                }
                let listener = str_at(l, "name").unwrap_or_default();
                let mut certs = Vec::new();
                for r in array(l, "tls.certificateRefs") {
                    if str_at(r, "kind").unwrap_or("Secret") != "Secret"
                        || str_at(r, "group").is_some()
                    {
                        continue;
                    }
                    let Some(name) = str_at(r, "name") else {
                        continue;
                    };
                    let t = Target::new(Kind::Secret, str_at(r, "namespace").unwrap_or(ns), name);
                    if let Some((cert, names)) = certificate_names(inv, &t) {
                        certs.push((t, cert, names));
                    }
                }
                let Some((t, cert, _)) = certs.first() else {
                    continue;
                };
                let all: Vec<&str> = certs
                    .iter()
                    .flat_map(|(_, _, n)| n.iter().copied())
                    .collect();
                match str_at(l, "hostname") {
                    Some(h) if covers(&all, h) => {}
                    Some(h) => out.push(problem(
                        Check::Certificates,
                        Severity::Error,
                        p,
                        &format!("spec.listeners[{i}].hostname"),
                        mismatch(format!("listener `{listener}` admits {h}"), t, cert, &all),
                    )),
                    None => out.push(problem(
                        Check::Certificates,
                        Severity::Warning,
                        p,
                        &format!("spec.listeners[{i}]"),
                        mismatch(
                            format!("listener `{listener}` has no hostname and admits every name"),
                            t,
                            cert,
                            &all,
                        ),
                    )),
                }
            }
        } else if is(o, "networking.k8s.io", "Ingress") {
            for (i, entry) in array(&o.value, "spec.tls").iter().enumerate() {
                let Some(secret) = str_at(entry, "secretName") else {
                    continue;
                };
                let t = Target::new(Kind::Secret, ns, secret);
                let Some((cert, names)) = certificate_names(inv, &t) else {
                    continue;
                };
                for (j, h) in array(entry, "hosts").iter().enumerate() {
                    let Some(h) = h.as_str() else { continue };
                    if !covers(&names, h) {
                        out.push(problem(
                            Check::Certificates,
                            Severity::Error,
                            p,
                            &format!("spec.tls[{i}].hosts[{j}]"),
                            mismatch(format!("TLS entry {i} serves {h}"), &t, cert, &names),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Why an HTTP-01 challenge for `name` cannot reach cert-manager's solver, if it cannot (as far
/// as the landscape shows).
fn http01_unreachable(inv: &Inventory<'_>, http01: &Value, name: &str, ns: &str) -> Option<String> {
    if let Some(route) = http01.get("gatewayHTTPRoute") {
        let parents = array(route, "parentRefs");
        if parents.is_empty() {
            return Some("its gatewayHTTPRoute names no parentRefs".to_owned());
        }
        let mut why = Vec::new();
        for pr in parents {
            if str_at(pr, "kind").unwrap_or("Gateway") != "Gateway" {
                return None; // another parent kind: not judged
            }
            let Some(gname) = str_at(pr, "name") else {
                continue;
            };
            let gns = str_at(pr, "namespace").unwrap_or(ns);
            let t = Target::new(Kind::Gateway, gns, gname);
            let gw = match inv.judge(&t, None) {
                Verdict::There(Source::Object(g)) => g.object,
                Verdict::Missing => {
                    why.push(format!("{t} does not exist"));
                    continue;
                }
                _ => return None,
            };
            let section = str_at(pr, "sectionName");
            let ok = array(&gw.value, "spec.listeners").iter().any(|l| {
                let allowed = match str_at(l, "allowedRoutes.namespaces.from").unwrap_or("Same") {
                    "All" | "Selector" => true,
                    _ => ns == gns,
                };
                str_at(l, "protocol") == Some("HTTP")
                    && section.is_none_or(|s| str_at(l, "name") == Some(s))
                    && hostname_admits(str_at(l, "hostname"), name)
                    && allowed
            });
            if ok {
                return None;
            }
            why.push(format!(
                "{t} has no HTTP listener{} that admits {name} and routes from namespace {ns}",
                section.map(|s| format!(" `{s}`")).unwrap_or_default()
            ));
        }
        return Some(why.join("; "));
    }
    if let Some(ing) = http01.get("ingress") {
        if str_at(ing, "class").is_some() || str_at(ing, "name").is_some() {
            return None; // a class annotation or an existing Ingress edited in place
        }
        return match str_at(ing, "ingressClassName") {
            Some(c) => match inv.judge(&Target::new(Kind::IngressClass, "", c), None) {
                Verdict::Missing => Some(format!("IngressClass {c} does not exist")),
                _ => None,
            },
            None => {
                let default = inv.found.iter().any(|(t, s)| {
                    t.kind == Kind::IngressClass
                        && matches!(s, Source::Object(p) if p.object.annotations().and_then(|a| a.get("ingressclass.kubernetes.io/is-default-class")).and_then(Value::as_str) == Some("true"))
                });
                if default || !inv.unseen_in.is_empty() {
                    None
                } else {
                    Some(
                        "its ingress solver names no class and no IngressClass is the default"
                            .to_owned(),
                    )
                }
            }
        };
    }
    None
}

#[cfg(test)]
mod tests;
