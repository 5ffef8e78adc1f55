//! An adapter for np-guard netpol-analyzer's `list` output (its `*_connlist_output.txt`
//! files), so that its published cases check our evaluator.
//!
//! netpol-analyzer's conventions, reproduced here rather than in the evaluator:
//! - peers are workloads: a Pod is named by its controlling owner (`ns/owner[ReplicaSet]`), a
//!   Pod without one by itself (`ns/pod[Pod]`), a workload object by itself; a Pod without
//!   (netpol-analyzer gives manifests' Pods without `status.podIPs` a placeholder address, so
//!   none is skipped);
//! - the outside world is IPv4 only, cut into the elementary ranges that the policies' ipBlocks
//!   delimit: sources from the ingress rules' blocks, destinations from the egress rules'
//!   blocks, each named `first-last[External]`;
//! - a workload's connections to itself are not listed, nor empty ones;
//! - connections print as `All Connections` or `PROTO ports,…` per protocol, protocols sorted
//!   by name, joined with `,`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;

use haven_model::{Object, Origin, load_objects};
use haven_netpol::objects::{Loaded, load, named_ports};
use haven_netpol::policy::Peer;
use haven_netpol::{Analysis, Connections, Direction, Endpoint, IpSet, Workload};
use k8s_openapi::api::core::v1::Pod;

/// Every `.yaml`, `.yml` and `.json` file under `dir` (recursively, as netpol-analyzer reads a
/// directory), except its own output files.
fn case_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            case_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) && !p.file_name().unwrap().to_string_lossy().contains("output")
        {
            out.push(p);
        }
    }
}

/// Reads the objects of a case directory.
pub fn read_case(dir: &Path) -> Vec<Object> {
    let mut files = Vec::new();
    case_files(dir, &mut files);
    files.sort();
    let mut objects = Vec::new();
    for f in files {
        let text = complete_list_items(&std::fs::read_to_string(&f).unwrap());
        let name = f.display().to_string();
        let out = load_objects(Origin::File(&name), &text);
        assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
        objects.extend(out.objects);
    }
    objects
}

/// netpol-analyzer reads items of a `PodList` or `NamespaceList` that have no `kind` (as
/// `kubectl get -o yaml` can print them) as objects of the list's kind; the Kubernetes reader
/// refuses them, so the adapter fills `kind` and `apiVersion` in first.
fn complete_list_items(text: &str) -> String {
    use serde::Deserialize;
    let mut out = Vec::new();
    let mut patched = false;
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let Ok(mut v) = serde_json::Value::deserialize(doc) else {
            return text.to_owned();
        };
        let list_kind = v["kind"]
            .as_str()
            .and_then(|k| k.strip_suffix("List"))
            .map(str::to_owned);
        let api = v["apiVersion"].as_str().unwrap_or("v1").to_owned();
        if let (Some(kind), Some(items)) = (list_kind, v["items"].as_array_mut()) {
            for item in items.iter_mut().filter(|i| i.get("kind").is_none()) {
                item["kind"] = kind.clone().into();
                item["apiVersion"] = api.clone().into();
                patched = true;
            }
        }
        out.push(serde_json::to_string(&v).unwrap());
    }
    if patched {
        out.join("\n---\n")
    } else {
        text.to_owned()
    }
}

/// The connlist lines our evaluator gives for the objects, in netpol-analyzer's format.
pub fn connlist(objects: &[Object]) -> BTreeSet<String> {
    let (pods, others): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| o.kind == "Pod" && o.api_version == "v1");
    let others: Vec<Object> = others.into_iter().cloned().collect();
    let Loaded {
        mut cluster,
        policies,
        errors,
    } = load(&others);
    assert!(errors.is_empty(), "{errors:?}");
    // Pods, grouped by their controlling owner.
    let mut by_peer: BTreeMap<String, Workload> = BTreeMap::new();
    for o in pods {
        let pod: Pod = serde_json::from_value(o.value.clone()).unwrap();
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
            .filter(|r| r.kind != "Node");
        // An owner's empty name or kind falls back to the Pod's own (`WorkloadPeer.Name/Kind`).
        let or = |v: Option<&String>, d: &str| {
            v.filter(|v| !v.is_empty())
                .cloned()
                .unwrap_or_else(|| d.to_owned())
        };
        let name = or(owner.map(|r| &r.name), &o.name);
        let kind = or(owner.map(|r| &r.kind), "Pod");
        let w = Workload {
            namespace: o.namespace.clone().unwrap_or_else(|| "default".into()),
            name,
            kind,
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            ports: pod.spec.as_ref().map(named_ports).unwrap_or_default(),
        };
        by_peer.insert(w.display_name(), w);
    }
    for w in by_peer.into_values() {
        cluster.add_workload(w);
    }
    // The elementary IPv4 ranges, per direction.
    let ranges = |d: Direction| {
        let mut cuts: BTreeSet<u64> = BTreeSet::from([0, 1 << 32]);
        for p in &policies {
            for rule in p.rules(d).unwrap_or_default() {
                for peer in &rule.peers {
                    if let Peer::Addresses { set, .. } = peer {
                        for r in set.v4_ranges() {
                            cuts.insert(u64::from(u32::from(*r.start())));
                            cuts.insert(u64::from(u32::from(*r.end())) + 1);
                        }
                    }
                }
            }
        }
        let cuts: Vec<u64> = cuts.into_iter().collect();
        cuts.windows(2)
            .map(|w| {
                let first = Ipv4Addr::from(w[0] as u32);
                let last = Ipv4Addr::from((w[1] - 1) as u32);
                (
                    format!("{first}-{last}[External]"),
                    IpSet::from_v4_range(first..=last),
                )
            })
            .collect::<Vec<_>>()
    };
    let sources: Vec<Endpoint> = ranges(Direction::Ingress)
        .into_iter()
        .map(|(name, set)| cluster.add_external(&name, set))
        .collect();
    let destinations: Vec<Endpoint> = ranges(Direction::Egress)
        .into_iter()
        .map(|(name, set)| cluster.add_external(&name, set))
        .collect();
    let workloads: Vec<Endpoint> = (0..cluster.workloads().len())
        .map(Endpoint::Workload)
        .collect();
    let analysis = Analysis::new(cluster, policies);
    let name = |e: Endpoint| analysis.cluster().name_of(e);
    let mut lines = BTreeSet::new();
    let mut add = |from: Endpoint, to: Endpoint| {
        if name(from) == name(to) {
            return;
        }
        let c = analysis.allowed(from, to).unwrap();
        if !c.is_empty() {
            lines.insert(format!(
                "{} => {} : {}",
                name(from),
                name(to),
                format_connections(&c)
            ));
        }
    };
    for &a in &workloads {
        for &b in &workloads {
            add(a, b);
        }
        for &d in &destinations {
            add(a, d);
        }
        for &s in &sources {
            add(s, a);
        }
    }
    lines
}

/// `All Connections`, or `SCTP 1-65535,TCP 80,UDP 53` (protocols by name).
pub fn format_connections(c: &Connections) -> String {
    if c.is_all() {
        return "All Connections".to_owned();
    }
    let mut parts: Vec<String> = c
        .ranges()
        .map(|(p, ranges)| {
            let ports: Vec<String> = ranges
                .iter()
                .map(|r| {
                    if r.start() == r.end() {
                        r.start().to_string()
                    } else {
                        format!("{}-{}", r.start(), r.end())
                    }
                })
                .collect();
            format!("{p} {}", ports.join(","))
        })
        .collect();
    parts.sort();
    parts.join(",")
}

/// The lines of an expected `connlist_output.txt` (blank lines dropped).
pub fn expected(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
