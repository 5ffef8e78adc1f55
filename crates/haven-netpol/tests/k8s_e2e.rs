//! The upstream Kubernetes NetworkPolicy e2e cases, restated as data in
//! `corpus/k8s-e2e/cases.yaml` (source and licence in its README): the policies each test
//! creates and the 9 x 9 reachability it expects between pods a, b, c of namespaces x, y, z.

use haven_netpol::{
    Analysis, Cluster, Endpoint, NamedPort, NetworkPolicy, PortQuery, Protocol, Workload,
};
use haven_selector::Labels;
use k8s_openapi::api::networking::v1 as net;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    policies: Vec<serde_json::Value>,
    probes: Vec<Probe>,
}

#[derive(Deserialize)]
struct Probe {
    port: u16,
    protocol: String,
    default: bool,
    expect: Vec<Expect>,
}

#[derive(Deserialize)]
struct Expect {
    from: String,
    to: String,
    allowed: bool,
}

const NAMESPACES: [&str; 3] = ["x", "y", "z"];
const PODS: [&str; 3] = ["a", "b", "c"];

/// The suite's pods: every pod serves 80 and 81 on every protocol, ports named
/// `serve-<port>-<protocol>`.
fn cluster() -> (Cluster, Vec<(String, Endpoint)>) {
    let mut c = Cluster::new();
    let mut pods = Vec::new();
    for ns in NAMESPACES {
        c.add_namespace(ns, Labels::from([("ns".to_owned(), ns.to_owned())]));
        for pod in PODS {
            let ports = [80u16, 81]
                .iter()
                .flat_map(|p| {
                    Protocol::ALL.iter().map(move |proto| NamedPort {
                        name: format!("serve-{p}-{}", proto.as_str().to_lowercase()),
                        port: *p,
                        protocol: *proto,
                    })
                })
                .collect();
            let e = c.add_workload(Workload {
                namespace: ns.to_owned(),
                name: pod.to_owned(),
                kind: "Pod".to_owned(),
                labels: Labels::from([("pod".to_owned(), pod.to_owned())]),
                ports,
            });
            pods.push((format!("{ns}/{pod}"), e));
        }
    }
    (c, pods)
}

fn glob(pattern: &str, pod: &str) -> bool {
    let (pn, pp) = pattern.split_once('/').unwrap();
    let (n, p) = pod.split_once('/').unwrap();
    (pn == "*" || pn == n) && (pp == "*" || pp == p)
}

#[test]
fn the_upstream_e2e_reachability_holds() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/k8s-e2e/cases.yaml"
    );
    let cases: Vec<Case> =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &cases {
        let policies: Vec<NetworkPolicy> = case
            .policies
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p["apiVersion"] = "networking.k8s.io/v1".into();
                p["kind"] = "NetworkPolicy".into();
                let np: net::NetworkPolicy = serde_json::from_value(p).unwrap();
                let ns = np.metadata.namespace.clone().unwrap();
                NetworkPolicy::compile(&np, &ns).unwrap_or_else(|e| panic!("{}: {e}", case.name))
            })
            .collect();
        let (c, pods) = cluster();
        let analysis = Analysis::new(c, policies);
        for probe in &case.probes {
            let protocol = Protocol::parse(&probe.protocol).unwrap();
            for (from, fe) in &pods {
                for (to, te) in &pods {
                    if from == to {
                        continue; // upstream ignores loopback
                    }
                    let mut want = probe.default;
                    for e in &probe.expect {
                        if glob(&e.from, from) && glob(&e.to, to) {
                            want = e.allowed;
                        }
                    }
                    let got = analysis
                        .check(*fe, *te, protocol, PortQuery::Number(probe.port))
                        .unwrap();
                    compared += 1;
                    if got.allowed != want {
                        failures.push(format!(
                            "{} ({}/{}): {from} -> {to}: expected {want}\n{got}",
                            case.name, probe.protocol, probe.port
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 1500, "{compared} pairs compared");
}
