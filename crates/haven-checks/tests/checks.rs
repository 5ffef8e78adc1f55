//! Every check on snapshot data: a passing, a failing and an unknown case each.

use std::collections::BTreeMap;

use haven_checks::*;
use haven_snapshot::*;

fn now() -> jiff::Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn node(name: &str, zone: &str, control_plane: bool, os: &str) -> NodeRecord {
    let mut l = labels(&[
        ("topology.kubernetes.io/zone", zone),
        ("kubernetes.io/hostname", name),
    ]);
    if control_plane {
        l.insert(
            "node-role.kubernetes.io/control-plane".into(),
            String::new(),
        );
    }
    NodeRecord {
        name: name.into(),
        labels: l,
        addresses: vec![NodeAddress {
            kind: "InternalIP".into(),
            address: "10.0.0.1".into(),
        }],
        os_image: os.into(),
        kernel_version: "6.6.0".into(),
        kubelet_version: "v1.35.4".into(),
        ready: true,
        ..Default::default()
    }
}

fn workload(kind: &str, ns: &str, name: &str, image: &str, ready: i32) -> WorkloadRecord {
    WorkloadRecord {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        labels: BTreeMap::new(),
        images: vec![image.into()],
        desired: 2,
        ready,
    }
}

/// A snapshot on which every mandatory check passes except shavalidation (self-built binary).
fn compliant() -> ClusterSnapshot {
    let mut s = ClusterSnapshot::empty();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "35".into(),
        git_version: "v1.35.4+rke2r1".into(),
        platform: "linux/amd64".into(),
    });
    s.api_groups = Read::ok(vec![
        "v1".into(),
        "rbac.authorization.k8s.io/v1".into(),
        "cert-manager.io/v1".into(),
    ]);
    let mut nodes = Vec::new();
    for (i, zone) in ["a", "b", "c"].iter().enumerate() {
        nodes.push(node(
            &format!("cp-{i}"),
            zone,
            true,
            "Flatcar Container Linux by Kinvolk 4152.2.0",
        ));
        nodes.push(node(
            &format!("w-{i}"),
            zone,
            false,
            "Flatcar Container Linux by Kinvolk 4152.2.0",
        ));
    }
    s.nodes = Read::ok(nodes);
    s.storage_classes = Read::ok(vec![StorageClassRecord {
        name: "nfs".into(),
        provisioner: "nfs.csi.k8s.io".into(),
        is_default: false,
    }]);
    s.deployments = Read::ok(vec![
        workload(
            "Deployment",
            "cert-manager",
            "cert-manager",
            "quay.io/jetstack/cert-manager-controller:v1.21.1",
            2,
        ),
        workload(
            "Deployment",
            "kube-system",
            "metrics-server",
            "registry.k8s.io/metrics-server/metrics-server:v0.8.1",
            2,
        ),
    ]);
    s.daemon_sets = Read::ok(vec![workload(
        "DaemonSet",
        "observability",
        "alloy",
        "grafana/alloy:v1.18.1",
        2,
    )]);
    s.stateful_sets = Read::ok(vec![workload(
        "StatefulSet",
        "observability",
        "loki",
        "grafana/loki:3.7.6",
        2,
    )]);
    s.api_services = Read::ok(vec![ApiServiceRecord {
        name: "v1beta1.metrics.k8s.io".into(),
        service: Some("kube-system/metrics-server".into()),
        available: Some(true),
        message: String::new(),
    }]);
    s.crds = Read::ok(vec![CrdRecord {
        name: "certificates.cert-manager.io".into(),
        group: "cert-manager.io".into(),
        kind: "Certificate".into(),
        versions: vec!["v1".into()],
        established: true,
    }]);
    s.custom_resources.insert(
        "clusterissuers.cert-manager.io".into(),
        Read::ok(vec![CustomRecord {
            kind: "ClusterIssuer".into(),
            name: "letsencrypt".into(),
            ready: Some(true),
            ..Default::default()
        }]),
    );
    s.access = Read::ok(vec![AccessRecord {
        verb: "*".into(),
        group: "*".into(),
        resource: "*".into(),
        allowed: true,
        reason: String::new(),
    }]);
    s
}

fn inputs() -> RunInputs {
    RunInputs {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        binary_sha256: Some("ab".repeat(32)),
        cncf: true,
        ..Default::default()
    }
}

fn run(s: &ClusterSnapshot) -> CheckRun {
    run_with(s, &inputs())
}

fn run_with(s: &ClusterSnapshot, inputs: &RunInputs) -> CheckRun {
    run_checks(
        s,
        &CheckConfig::default(),
        &ReleaseData::embedded(),
        now(),
        inputs,
    )
}

fn result<'a>(run: &'a CheckRun, name: &str) -> &'a CheckResult {
    run.results
        .iter()
        .chain(&run.suggested)
        .find(|r| r.name == name)
        .unwrap()
}

fn outcome(run: &CheckRun, name: &str) -> Outcome {
    result(run, name).result
}

#[test]
fn compliant_snapshot_reads_compliant_with_a_self_built_binary() {
    let r = run(&compliant());
    for c in &r.results {
        if c.name == "shavalidation" {
            assert_eq!(c.result, Outcome::Skipped, "{c:?}");
            assert_eq!(c.skipped, Some(SkipReason::SelfBuilt));
            assert!(c.reason.starts_with("self-built binary"), "{}", c.reason);
        } else {
            assert_eq!(
                c.result,
                Outcome::Yes,
                "{}: {} ({})",
                c.name,
                c.reason,
                c.method
            );
        }
    }
    assert_eq!(
        r.summary,
        Summary {
            total: 15,
            unknown: 0,
            skipped: 1,
            failed: 0,
            passed: 14
        }
    );
    assert_eq!(r.verdict, Verdict::Compliant);
    assert_eq!(
        r.verdict_line(),
        "compliant; shavalidation skipped: self-built binary"
    );
    assert_eq!(outcome(&r, "cis"), Outcome::Skipped);
    assert_eq!(outcome(&r, "kubescape"), Outcome::Skipped);
    assert_eq!(r.platform.as_ref().unwrap().name, "RKE2");
    assert_eq!(r.release_data.origin, "embedded");
}

/// Release data signed with a fresh test key, listing `hashes` for the current version.
fn signed_release_data(hashes: &[String]) -> ReleaseData {
    let mut v: serde_json::Value =
        serde_json::from_str(haven_checks::release::EMBEDDED_RELEASE_DATA).unwrap();
    v["checker"]["releases"][0]["sha256"] = serde_json::json!(hashes);
    let text = serde_json::to_string_pretty(&v).unwrap();
    let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let sig = minisign::sign(Some(&kp.pk), &kp.sk, text.as_bytes(), None, None).unwrap();
    let key = TrustedKey::from_text("test key", &kp.pk.to_box().unwrap().into_string()).unwrap();
    ReleaseData::from_signed(
        "rd.json",
        &text,
        "rd.json.minisig",
        &sig.into_string(),
        &[key],
    )
    .unwrap()
}

#[test]
fn shavalidation_cases() {
    let own = "ab".repeat(32);
    let mut release = inputs();
    release.release_build = true;
    let with = |rd: &ReleaseData, i: &RunInputs| {
        let r = run_checks(&compliant(), &CheckConfig::default(), rd, now(), i);
        (result(&r, "shavalidation").clone(), r.verdict)
    };
    // Listed in signed data: YES, for a self-built and a release build alike.
    let listed = signed_release_data(std::slice::from_ref(&own));
    assert_eq!(with(&listed, &inputs()).0.result, Outcome::Yes);
    let (c, v) = with(&listed, &release);
    assert_eq!((c.result, v), (Outcome::Yes, Verdict::Compliant), "{c:?}");
    assert!(c.reason.contains("0.1.0"), "{}", c.reason);
    // The same hash in unsigned (built-in) data counts for nothing.
    let mut unsigned = ReleaseData::embedded();
    unsigned.checker.releases[0].sha256.push(own.clone());
    assert_eq!(with(&unsigned, &inputs()).0.result, Outcome::Skipped);
    // A release build that signed data does not list: NO.
    let other = signed_release_data(&["cd".repeat(32)]);
    let (c, v) = with(&other, &release);
    assert_eq!((c.result, v), (Outcome::No, Verdict::NotCompliant), "{c:?}");
    // A release build without signed data: UNKNOWN, and says where the file goes.
    let (c, _) = with(&ReleaseData::embedded(), &release);
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("haven-release-data.json"), "{}", c.reason);
    // Unreadable binary: UNKNOWN.
    let mut unreadable = inputs();
    unreadable.binary_sha256 = None;
    assert_eq!(
        with(&ReleaseData::embedded(), &unreadable).0.result,
        Outcome::Unknown
    );
}

#[test]
fn waivers_make_it_compliant_with_waivers_and_stay_visible() {
    let mut i = inputs();
    i.release_build = true;
    i.waivers = vec![Waiver {
        rule: "shavalidation".into(),
        reason: "hash list not yet published".into(),
        expires: Some(jiff::civil::date(2027, 1, 1)),
        ..Default::default()
    }];
    let unlisted = signed_release_data(&["cd".repeat(32)]);
    let run_with = |s: &ClusterSnapshot, i: &RunInputs| {
        run_checks(s, &CheckConfig::default(), &unlisted, now(), i)
    };
    let r = run_with(&compliant(), &i);
    assert_eq!(r.verdict, Verdict::CompliantWithWaivers);
    let sha = result(&r, "shavalidation");
    assert_eq!(sha.result, Outcome::No, "the real result stays");
    assert_eq!(
        sha.waiver.as_ref().unwrap().reason,
        "hash list not yet published"
    );
    // Expired: waives nothing, and says so.
    i.waivers[0].expires = Some(jiff::civil::date(2026, 1, 1));
    let r = run_with(&compliant(), &i);
    assert_eq!(r.verdict, Verdict::NotCompliant);
    assert!(
        r.waiver_notes[0].contains("expired"),
        "{:?}",
        r.waiver_notes
    );
    // A waiver of everything accepts every failing check and is flagged on each result and
    // in the notes.
    i.waivers = vec![Waiver {
        rule: "*".into(),
        reason: "throwaway demo cluster".into(),
        expires: Some(jiff::civil::date(2027, 1, 1)),
        all: true,
        line: 4,
        ..Default::default()
    }];
    let r = run_with(&compliant(), &i);
    assert_eq!(r.verdict, Verdict::CompliantWithWaivers);
    assert!(result(&r, "shavalidation").waiver.as_ref().unwrap().all);
    assert!(
        r.waiver_notes
            .iter()
            .any(|n| n.contains("`all: true`, line 4")),
        "{:?}",
        r.waiver_notes
    );
    // A listed hash passes outright.
    let rd = signed_release_data(&["ab".repeat(32)]);
    let r = run_checks(&compliant(), &CheckConfig::default(), &rd, now(), &inputs());
    assert_eq!(outcome(&r, "shavalidation"), Outcome::Yes);
    assert_eq!(r.verdict, Verdict::Compliant);
}

#[test]
fn havenversion_grace_period() {
    let mut rd = ReleaseData::embedded();
    let r = run_checks(&compliant(), &CheckConfig::default(), &rd, now(), &inputs());
    assert_eq!(outcome(&r, "havenversion"), Outcome::Yes);
    rd.checker
        .releases
        .push(haven_checks::release::CheckerRelease {
            version: "1.0.0".into(),
            released: "2026-10-01".into(),
            sha256: vec![],
        });
    let r = run_checks(&compliant(), &CheckConfig::default(), &rd, now(), &inputs());
    assert_eq!(
        outcome(&r, "havenversion"),
        Outcome::Yes,
        "newer major less than 3 months old"
    );
    rd.checker.releases.last_mut().unwrap().released = "2026-06-01".into();
    let r = run_checks(&compliant(), &CheckConfig::default(), &rd, now(), &inputs());
    assert_eq!(outcome(&r, "havenversion"), Outcome::No);
    let mut i = inputs();
    i.tool_version = "garbage".into();
    assert_eq!(
        outcome(&run_with(&compliant(), &i), "havenversion"),
        Outcome::Unknown
    );
}

#[test]
fn clusteradmin_cases() {
    let mut s = compliant();
    s.access = Read::ok(vec![AccessRecord {
        verb: "*".into(),
        group: "*".into(),
        resource: "*".into(),
        allowed: false,
        reason: "no".into(),
    }]);
    assert_eq!(outcome(&run(&s), "clusteradmin"), Outcome::No);
    s.access = Read::Forbidden {
        permission: "create selfsubjectaccessreviews (authorization.k8s.io)".into(),
        message: String::new(),
    };
    let r = run(&s);
    assert_eq!(outcome(&r, "clusteradmin"), Outcome::Unknown);
    assert!(
        result(&r, "clusteradmin")
            .reason
            .contains("selfsubjectaccessreviews")
    );
}

#[test]
fn forbidden_nodes_make_only_node_checks_unknown_and_name_the_permission() {
    let mut s = compliant();
    s.nodes = Read::Forbidden {
        permission: "list nodes (core)".into(),
        message: "nodes is forbidden".into(),
    };
    let r = run(&s);
    for name in [
        "multiaz",
        "hamasters",
        "haworkers",
        "nodehardening",
        "privatenetworking",
    ] {
        let c = result(&r, name);
        assert_eq!(c.result, Outcome::Unknown, "{name}");
        assert!(
            c.reason.contains("list nodes (core)"),
            "{name}: {}",
            c.reason
        );
    }
    for name in [
        "rbac",
        "metrics",
        "logs",
        "autocerts",
        "rwxvolumes",
        "kubernetesversion",
        "clusteradmin",
    ] {
        assert_eq!(outcome(&r, name), Outcome::Yes, "{name} still decided");
    }
    assert_eq!(r.summary.unknown, 5);
    assert_eq!(
        outcome(&r, "cncf"),
        Outcome::Yes,
        "RKE2 is recognised from the server version alone"
    );
    assert!(
        r.read_problems
            .iter()
            .any(|p| p.contains("list nodes (core)"))
    );
}

#[test]
fn multiaz_and_worker_counts() {
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    for n in nodes.iter_mut() {
        n.labels
            .insert("topology.kubernetes.io/zone".into(), "a".into());
    }
    nodes.retain(|n| n.name != "w-2");
    let r = run(&s);
    assert_eq!(outcome(&r, "multiaz"), Outcome::No);
    assert_eq!(
        result(&r, "multiaz").evidence["zones"],
        serde_json::json!({"a": 5})
    );
    assert_eq!(outcome(&r, "haworkers"), Outcome::No);
    assert_eq!(outcome(&r, "hamasters"), Outcome::Yes);
}

#[test]
fn multiaz_names_nodes_without_a_zone_label() {
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    for n in nodes.iter_mut() {
        n.labels.remove("topology.kubernetes.io/zone");
    }
    let r = run(&s);
    let m = result(&r, "multiaz");
    assert_eq!(m.result, Outcome::No);
    assert_eq!(m.reason, "no zone in use: no node carries a zone label");
    assert_eq!(m.evidence["nodesWithoutZone"].as_array().unwrap().len(), 6);

    // Two zones, one node unlabelled: passes, and says so.
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    nodes[0].labels.remove("topology.kubernetes.io/zone");
    let r = run(&s);
    let m = result(&r, "multiaz");
    assert_eq!(m.result, Outcome::Yes);
    assert!(
        m.reason.ends_with("(1 node(s) without a zone label)"),
        "{}",
        m.reason
    );
}

#[test]
fn hamasters_managed_platform_passes_without_visible_control_plane() {
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    nodes.retain(|n| !n.name.starts_with("cp-"));
    let r = run(&s);
    assert_eq!(
        outcome(&r, "hamasters"),
        Outcome::No,
        "self-managed without masters fails"
    );
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    for n in nodes.iter_mut() {
        n.labels
            .insert("eks.amazonaws.com/nodegroup".into(), "ng-1".into());
    }
    let r = run(&s);
    let c = result(&r, "hamasters");
    assert_eq!(c.result, Outcome::Yes);
    assert!(
        c.method.contains("Amazon EKS") && c.method.contains("eks.amazonaws.com/nodegroup"),
        "{}",
        c.method
    );
}

#[test]
fn nodehardening_cases() {
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    nodes[0].os_image = "Arch Linux".into();
    let r = run(&s);
    let c = result(&r, "nodehardening");
    assert_eq!(c.result, Outcome::Unknown);
    assert_eq!(c.evidence["notRecognised"][0]["node"], "cp-0");
    s.probes.push(ProbeRecord {
        check: "nodehardening".into(),
        passed: Some(false),
        detail: "no LSM".into(),
        facts: BTreeMap::new(),
        interrupted: false,
    });
    let c = result(&run(&s), "nodehardening").clone();
    assert_eq!(c.result, Outcome::No);
    assert!(c.method.contains("write probe"));
}

#[test]
fn privatenetworking_lists_public_addresses() {
    let mut s = compliant();
    let Read::Ok { value: nodes } = &mut s.nodes else {
        unreachable!()
    };
    nodes[3].addresses.push(NodeAddress {
        kind: "ExternalIP".into(),
        address: "203.0.113.7".into(),
    });
    let r = run(&s);
    let c = result(&r, "privatenetworking");
    assert_eq!(c.result, Outcome::No);
    assert_eq!(c.evidence["externalAddresses"][0]["address"], "203.0.113.7");
}

#[test]
fn kubernetesversion_cases() {
    let mut s = compliant();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "33+".into(),
        git_version: "v1.33.2-eks-1".into(),
        platform: String::new(),
    });
    assert_eq!(
        outcome(&run(&s), "kubernetesversion"),
        Outcome::No,
        "4 behind 1.37"
    );
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "34".into(),
        git_version: "v1.34.0".into(),
        platform: String::new(),
    });
    assert_eq!(
        outcome(&run(&s), "kubernetesversion"),
        Outcome::Yes,
        "3 behind"
    );
    s.server_version = Read::Failed {
        message: "get /version: HTTP 500".into(),
    };
    assert_eq!(outcome(&run(&s), "kubernetesversion"), Outcome::Unknown);
}

#[test]
fn rbac_cases() {
    let mut s = compliant();
    s.api_groups = Read::ok(vec!["v1".into()]);
    assert_eq!(outcome(&run(&s), "rbac"), Outcome::No);
    s.api_groups = Read::Failed {
        message: "timeout".into(),
    };
    assert_eq!(outcome(&run(&s), "rbac"), Outcome::Unknown);
}

#[test]
fn rwxvolumes_methods() {
    let mut s = compliant();
    let c = result(&run(&s), "rwxvolumes").clone();
    assert!(c.method.contains("nfs.csi.k8s.io"), "{}", c.method);
    s.storage_classes = Read::ok(vec![StorageClassRecord {
        name: "standard".into(),
        provisioner: "rancher.io/local-path".into(),
        is_default: true,
    }]);
    let c = result(&run(&s), "rwxvolumes").clone();
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("--allow-writes"));
    s.persistent_volume_claims = Read::ok(vec![PvcRecord {
        namespace: "app".into(),
        name: "shared".into(),
        access_modes: vec!["ReadWriteMany".into()],
        storage_class: Some("standard".into()),
        phase: "Bound".into(),
    }]);
    assert_eq!(outcome(&run(&s), "rwxvolumes"), Outcome::Yes);
    s.probes.push(ProbeRecord {
        check: "rwxvolumes".into(),
        passed: Some(false),
        detail: "write probe: still Pending".into(),
        facts: BTreeMap::new(),
        interrupted: false,
    });
    assert_eq!(
        outcome(&run(&s), "rwxvolumes"),
        Outcome::No,
        "a probe wins over inference"
    );
}

#[test]
fn cncf_cases() {
    let mut s = compliant();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "37".into(),
        git_version: "v1.37.0+rke2r1".into(),
        platform: String::new(),
    });
    let c = result(&run(&s), "cncf").clone();
    assert_eq!(
        c.result,
        Outcome::Yes,
        "rke2 1.37 is certified: {}",
        c.reason
    );
    assert!(c.reason.contains("v1.37/rke2"), "{}", c.reason);
    let version = |s: &mut ClusterSnapshot, minor: &str, git: &str| {
        s.server_version = Read::ok(ServerVersion {
            major: "1".into(),
            minor: minor.into(),
            git_version: git.into(),
            platform: String::new(),
        });
    };
    version(&mut s, "36", "v1.36.3+rke2r1");
    assert_eq!(outcome(&run(&s), "cncf"), Outcome::Yes, "rke2 1.36");
    version(&mut s, "35", "v1.35.4+rke2r1");
    let c = result(&run(&s), "cncf").clone();
    assert_eq!(c.result, Outcome::Yes, "{}", c.reason);
    assert!(c.reason.contains("v1.35/rke-government"), "{}", c.reason);
    // Newer than the data: UNKNOWN with the reason, not NO.
    version(&mut s, "38", "v1.38.0+rke2r1");
    let c = result(&run(&s), "cncf").clone();
    assert_eq!(c.result, Outcome::Unknown);
    assert!(
        c.reason.contains("newer than the CNCF list") && c.reason.contains("--online"),
        "{}",
        c.reason
    );
    // --online answers where the data cannot; a failed lookup leaves it to the data.
    let mut i = inputs();
    i.cncf_online = Some(haven_checks::CncfOnline {
        source: "http://127.0.0.1/repos/cncf/k8s-conformance/contents".into(),
        minor: "1.38".into(),
        found: Some("rke2".into()),
        asked: vec!["rke2".into()],
        e2e: None,
        note: None,
        error: None,
    });
    assert_eq!(outcome(&run_with(&s, &i), "cncf"), Outcome::Yes);
    // A submission whose e2e.log reports failures does not count (upstream reads the log too).
    i.cncf_online.as_mut().unwrap().e2e = Some(haven_checks::E2eSummary {
        passed: 430,
        failed: 11,
    });
    let c = result(&run_with(&s, &i), "cncf").clone();
    assert_eq!(c.result, Outcome::No, "{}", c.reason);
    assert!(c.reason.contains("11 failed of 441"), "{}", c.reason);
    i.cncf_online.as_mut().unwrap().e2e = Some(haven_checks::E2eSummary {
        passed: 441,
        failed: 0,
    });
    assert_eq!(outcome(&run_with(&s, &i), "cncf"), Outcome::Yes);
    i.cncf_online.as_mut().unwrap().found = None;
    assert_eq!(outcome(&run_with(&s, &i), "cncf"), Outcome::No);
    i.cncf_online.as_mut().unwrap().error = Some("timed out".into());
    let c = result(&run_with(&s, &i), "cncf").clone();
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("timed out"), "{}", c.reason);
    // Vanilla Kubernetes without any platform signal: UNKNOWN, platform not recognised.
    version(&mut s, "35", "v1.35.1");
    let c = result(&run(&s), "cncf").clone();
    assert_eq!(
        c.result,
        Outcome::Unknown,
        "vanilla: platform not recognised"
    );
    // kubeadm's control-plane label: Kubernetes as released.
    if let Read::Ok { value } = &mut s.nodes {
        value[0].labels.insert(
            "node.kubernetes.io/exclude-from-external-load-balancers".into(),
            String::new(),
        );
    }
    let c = result(&run(&s), "cncf").clone();
    assert_eq!(c.result, Outcome::Yes, "{}", c.reason);
    assert_eq!(c.evidence["platform"], "kubeadm");
    let mut i = inputs();
    i.cncf = false;
    let c = result(&run_with(&s, &i), "cncf").clone();
    assert_eq!(c.result, Outcome::Skipped);
    assert_eq!(c.skipped, Some(SkipReason::Disabled));
    assert_eq!(
        run_with(&s, &i).verdict,
        Verdict::NotCompliant,
        "--no-cncf is no pass"
    );
}

#[test]
fn the_version_window_moves_on_the_release_day_and_old_data_decides_nothing() {
    let mut s = compliant();
    s.server_version = Read::ok(ServerVersion {
        major: "1".into(),
        minor: "34".into(),
        git_version: "v1.34.6+rke2r1".into(),
        platform: String::new(),
    });
    let at = |day: &str, rd: &ReleaseData| {
        let now: jiff::Timestamp = format!("{day}T12:00:00Z").parse().unwrap();
        run_checks(&s, &CheckConfig::default(), rd, now, &inputs())
    };
    let rd = ReleaseData::embedded();
    let c = result(&at("2026-12-07", &rd), "kubernetesversion").clone();
    assert_eq!(
        c.result,
        Outcome::Yes,
        "1.34 is 3 behind 1.37: {}",
        c.reason
    );
    let c = result(&at("2026-12-15", &rd), "kubernetesversion").clone();
    assert_eq!(c.result, Outcome::Yes, "1.38 is not out yet: {}", c.reason);
    let c = result(&at("2026-12-16", &rd), "kubernetesversion").clone();
    assert_eq!(c.result, Outcome::No, "1.38 is out: {}", c.reason);
    assert!(c.reason.contains("latest 1.38"), "{}", c.reason);
    // More than 90 days after the data's date: the version checks cannot say.
    let r = at("2027-03-08", &rd);
    for name in ["kubernetesversion", "havenversion"] {
        let c = result(&r, name);
        assert_eq!(c.result, Outcome::Unknown, "{name}: {}", c.reason);
        assert!(
            c.reason.contains("91 days old") && c.reason.contains("2026-12-07"),
            "{}",
            c.reason
        );
    }
    assert!(
        r.verdict_line().contains("dated 2026-12-07"),
        "the summary names the data's date: {}",
        r.verdict_line()
    );
    assert_eq!(r.release_data.age_days, Some(91));
    // Unless the operator gave the file: then it decides, and the date is still shown.
    let mut given = ReleaseData::embedded();
    given.given = true;
    let r = at("2027-03-08", &given);
    assert_eq!(outcome(&r, "kubernetesversion"), Outcome::No);
    assert_eq!(r.release_data.too_old, None);
}

#[test]
fn autocerts_cases() {
    let mut s = compliant();
    s.custom_resources.clear();
    assert_eq!(outcome(&run(&s), "autocerts"), Outcome::No, "no issuer");
    s.custom_resources.insert(
        "issuers.cert-manager.io".into(),
        Read::Forbidden {
            permission: "list issuers (cert-manager.io)".into(),
            message: String::new(),
        },
    );
    let c = result(&run(&s), "autocerts").clone();
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("list issuers"), "{}", c.reason);
    s.crds = Read::ok(vec![]);
    assert_eq!(outcome(&run(&s), "autocerts"), Outcome::No, "not installed");
}

#[test]
fn logs_cases() {
    let mut s = compliant();
    let c = result(&run(&s), "logs").clone();
    assert!(
        c.reason.contains("Grafana Alloy") && c.reason.contains("observability/alloy"),
        "{}",
        c.reason
    );
    assert_eq!(c.evidence["backends"][0]["component"], "Grafana Loki");
    s.daemon_sets = Read::ok(vec![workload(
        "DaemonSet",
        "observability",
        "alloy",
        "grafana/alloy:v1.18.1",
        0,
    )]);
    assert_eq!(outcome(&run(&s), "logs"), Outcome::No, "not available");
    s.daemon_sets = Read::Forbidden {
        permission: "list daemonsets (apps)".into(),
        message: String::new(),
    };
    let c = result(&run(&s), "logs").clone();
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("list daemonsets (apps)"));
    // Prometheus is no log agent, and another agent can be configured.
    s.daemon_sets = Read::ok(vec![workload(
        "DaemonSet",
        "logging",
        "shipper",
        "example.com/acme-shipper:1",
        2,
    )]);
    assert_eq!(outcome(&run(&s), "logs"), Outcome::No);
    let config = CheckConfig::with_overrides(
        "site.yaml",
        "logAgents: [{name: ACME, images: [acme-shipper]}]",
    )
    .unwrap();
    let r = run_checks(&s, &config, &ReleaseData::embedded(), now(), &inputs());
    assert_eq!(outcome(&r, "logs"), Outcome::Yes);
}

#[test]
fn metrics_cases() {
    let mut s = compliant();
    s.api_services = Read::ok(vec![ApiServiceRecord {
        name: "v1beta1.metrics.k8s.io".into(),
        service: None,
        available: Some(false),
        message: "FailedDiscoveryCheck".into(),
    }]);
    let c = result(&run(&s), "metrics").clone();
    assert_eq!(c.result, Outcome::No);
    assert!(c.reason.contains("FailedDiscoveryCheck"));
    s.api_services = Read::ok(vec![]);
    assert_eq!(outcome(&run(&s), "metrics"), Outcome::No);
    s.api_services = Read::Failed {
        message: "list apiservices: timed out after 1s".into(),
    };
    assert_eq!(outcome(&run(&s), "metrics"), Outcome::Unknown);
}

#[test]
fn suggested_external_tools() {
    let mut i = inputs();
    i.cis = ExternalTool::Missing {
        program: "kube-bench".into(),
    };
    i.kubescape = ExternalTool::Ran {
        program: "kubescape".into(),
        passed: true,
        detail: "compliance 91%".into(),
    };
    let r = run_with(&compliant(), &i);
    let c = result(&r, "cis");
    assert_eq!(c.result, Outcome::Unknown);
    assert!(c.reason.contains("kube-bench is not installed"));
    assert_eq!(outcome(&r, "kubescape"), Outcome::Yes);
    assert!(r.config_cis && r.config_kubescape);
    assert_eq!(r.summary.total, 15, "suggested checks are not counted");
}

#[test]
fn plus_report_finds_components_versions_and_health() {
    let mut s = compliant();
    s.custom_resources.insert(
        "helmreleases.helm.toolkit.fluxcd.io".into(),
        Read::ok(vec![CustomRecord {
            kind: "HelmRelease".into(),
            namespace: Some("flux-system".into()),
            name: "kyverno".into(),
            ready: Some(false),
            message: "install retries exhausted".into(),
            chart: Some("kyverno".into()),
            chart_version: Some("3.9.0".into()),
            ..Default::default()
        }]),
    );
    let mut i = inputs();
    i.plus = true;
    let r = run_with(&s, &i);
    let plus = r.plus.unwrap();
    let cap = |name: &str| plus.iter().find(|c| c.capability == name).unwrap();
    assert_eq!(cap("logs").status, CapabilityStatus::Provided);
    assert_eq!(
        cap("logs").components[0].version.as_deref(),
        Some("v1.18.1")
    );
    assert_eq!(cap("certificates").status, CapabilityStatus::Provided);
    let admission = cap("admission policy");
    assert_eq!(admission.status, CapabilityStatus::Degraded);
    assert_eq!(admission.components[0].version.as_deref(), Some("3.9.0"));
    assert!(admission.components[0].problems[0].contains("install retries exhausted"));
    assert_eq!(cap("backups").status, CapabilityStatus::Missing);
    assert_eq!(plus.len(), 21);
}

/// The components of issue 26 as `haven plus render` installs them (names and images of the
/// pinned charts), each found under its own capability; a capability with its component down
/// is degraded, without it missing.
#[test]
fn plus_report_detects_login_ui_state_metrics_policy_reports_load_balancer_and_nfs() {
    let mut s = compliant();
    let mut deployments = s.deployments.value().cloned().unwrap_or_default();
    deployments.extend([
        workload(
            "Deployment",
            "pinniped",
            "pinniped-concierge",
            "ghcr.io/vmware/pinniped/pinniped-server:v0.40.0",
            2,
        ),
        workload(
            "Deployment",
            "headlamp",
            "headlamp",
            "ghcr.io/headlamp-k8s/headlamp:v0.45.0",
            2,
        ),
        workload(
            "Deployment",
            "kube-state-metrics",
            "kube-state-metrics",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
            2,
        ),
        workload(
            "Deployment",
            "policy-reporter",
            "policy-reporter",
            "ghcr.io/kyverno/policy-reporter:3.9.0",
            0,
        ),
        workload(
            "Deployment",
            "metallb-system",
            "metallb-controller",
            "quay.io/metallb/controller:v0.16.1",
            2,
        ),
        workload(
            "Deployment",
            "nfs-provisioner",
            "nfs-subdir-external-provisioner",
            "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
            2,
        ),
    ]);
    s.deployments = Read::ok(deployments);
    let mut crds = s.crds.value().cloned().unwrap_or_default();
    crds.push(CrdRecord {
        name: "jwtauthenticators.authentication.concierge.pinniped.dev".into(),
        group: "authentication.concierge.pinniped.dev".into(),
        kind: "JWTAuthenticator".into(),
        versions: vec!["v1alpha1".into()],
        established: true,
    });
    s.crds = Read::ok(crds);
    let mut i = inputs();
    i.plus = true;
    let plus = run_with(&s, &i).plus.unwrap();
    let cap = |name: &str| plus.iter().find(|c| c.capability == name).unwrap();
    for (name, component, version) in [
        ("kubectl login", "Pinniped", "v0.40.0"),
        ("cluster UI", "Headlamp", "v0.45.0"),
        ("object state metrics", "kube-state-metrics", "v2.20.0"),
        ("load balancer", "MetalLB", "v0.16.1"),
        (
            "RWX storage provisioner",
            "NFS subdir external provisioner",
            "v4.0.2",
        ),
    ] {
        let c = cap(name);
        assert_eq!(c.status, CapabilityStatus::Provided, "{name}: {c:?}");
        assert_eq!(c.components[0].name, component);
        assert_eq!(c.components[0].version.as_deref(), Some(version), "{name}");
    }
    assert!(
        cap("kubectl login").components[0]
            .evidence
            .iter()
            .any(|e| e.contains("authentication.concierge.pinniped.dev"))
    );
    // policy-reporter runs no ready replica: found, not healthy.
    let reports = cap("policy reports");
    assert_eq!(reports.status, CapabilityStatus::Degraded);
    assert!(reports.components[0].problems[0].contains("not available"));
    // Pinniped is a login, not an identity provider.
    assert_eq!(cap("identity").status, CapabilityStatus::Missing);
    // Without them, each is missing.
    let plus = run_with(&compliant(), &i).plus.unwrap();
    for name in [
        "kubectl login",
        "cluster UI",
        "object state metrics",
        "policy reports",
        "load balancer",
        "RWX storage provisioner",
    ] {
        let c = plus.iter().find(|c| c.capability == name).unwrap();
        assert_eq!(c.status, CapabilityStatus::Missing, "{name}");
    }
}
