//! The evaluator against np-guard netpol-analyzer's published cases (`corpus/np-guard/`,
//! Apache-2.0, source and commit in its README): the connections we compute, printed in
//! netpol-analyzer's format by the adapter in `np_guard/`, must equal its expected output.

mod np_guard;

use std::path::Path;

/// Every committed case; a case missing on disk fails the test.
const CASES: &[&str] = &[
    "acs-security-demos",
    "example_pods_w_same_owner_and_labels_gap_with_good_match_expression",
    "ipblockstest",
    "minimal_test_in_ns",
    "netpol-analysis-example-minimal",
    "new_online_boutique",
    "onlineboutique_workloads",
    "semanticDiff-different-topologies-policy-a",
    "semanticDiff-different-topologies-policy-a-with-ipblock",
    "semanticDiff-different-topologies-policy-b",
    "semanticDiff-different-topologies-policy-b-with-ipblock",
    "semanticDiff-same-topologies-new3",
    "semanticDiff-same-topologies-old1",
    "test_with_named_ports",
    "with_end_port_example",
];

/// Lines from netpol-analyzer's Ingress/Route analysis (a `{ingress-controller}` peer that
/// reaches workloads through Services): not NetworkPolicy semantics, not modelled here. The
/// count is pinned so the filter can hide nothing else.
const INGRESS_CONTROLLER_LINES: &[(&str, usize)] = &[("acs-security-demos", 2)];

#[test]
fn every_case_gives_netpol_analyzers_connections() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/np-guard");
    let mut failures = Vec::new();
    let mut lines = 0;
    for case in CASES {
        let dir = root.join(case);
        let text = std::fs::read_to_string(dir.join("connlist_output.txt"))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let mut want = np_guard::expected(&text);
        let before = want.len();
        want.retain(|l| !l.starts_with("{ingress-controller}"));
        let dropped = INGRESS_CONTROLLER_LINES
            .iter()
            .find(|(c, _)| c == case)
            .map_or(0, |(_, n)| *n);
        assert_eq!(
            before - want.len(),
            dropped,
            "{case}: ingress-controller lines"
        );
        let got = np_guard::connlist(&np_guard::read_case(&dir));
        lines += want.len();
        if got != want {
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&want).take(5).collect();
            failures.push(format!(
                "{case}:\n  missing {missing:#?}\n  extra {extra:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The cases are not trivially empty.
    assert!(lines > 1500, "{lines} expected lines in all");
}

#[test]
fn the_output_format_matches_netpol_analyzers() {
    use haven_netpol::{Connections, Protocol};
    let mut c = Connections::single(Protocol::Udp, 53..=53);
    c.add(Protocol::Tcp, 10053..=10054);
    c.add(Protocol::Sctp, 1..=9002);
    c.add(Protocol::Sctp, 9004..=65535);
    assert_eq!(
        np_guard::format_connections(&c),
        "SCTP 1-9002,9004-65535,TCP 10053-10054,UDP 53"
    );
    assert_eq!(
        np_guard::format_connections(&Connections::all()),
        "All Connections"
    );
}
