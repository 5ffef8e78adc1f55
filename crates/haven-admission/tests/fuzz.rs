//! Fuzzing the webhook's inputs (see `haven_test_support::fuzz` for the budget and the memory
//! cap): AdmissionReview bodies mutated from `tests/corpus/admission-review/` (structure-aware
//! and byte-level), and `--config` files from `tests/corpus/admission-config/`.
//!
//! - Every body gets a decision or a bad-request error, never a panic; a decision answers with
//!   the uid of the request.
//! - The served answer (fast path where it applies, with its own JSON reader) is exactly the
//!   engine path's answer, decision or error.
//! - A config file reads or fails naming the file and a line of it.

use std::collections::BTreeMap;

use haven_admission::review::review_with_engine;
use haven_admission::{Config, StaticNamespaces, review};
use haven_test_support::fuzz::{self, Input, JSON_TOKENS, YAML_TOKENS};
use proptest::prelude::*;
use serde_json::Value;

const OWN: &str = "haven-system";

/// The fields and values the decoders look at, for the structure-aware mutations.
const KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "request",
    "uid",
    "operation",
    "object",
    "oldObject",
    "namespace",
    "name",
    "metadata",
    "labels",
    "annotations",
    "spec",
    "template",
    "jobTemplate",
    "containers",
    "initContainers",
    "ephemeralContainers",
    "securityContext",
    "privileged",
    "runAsNonRoot",
    "runAsUser",
    "allowPrivilegeEscalation",
    "capabilities",
    "add",
    "drop",
    "seccompProfile",
    "type",
    "volumes",
    "hostPath",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "ports",
    "hostPort",
    "livenessProbe",
    "httpGet",
    "host",
    "sysctls",
    "procMount",
    "windowsOptions",
    "hostProcess",
    "appArmorProfile",
    "seLinuxOptions",
    "image",
    "dryRun",
    "userInfo",
    "username",
    "group",
    "version",
    "resource",
    "subResource",
    "runtimeClassName",
    "CREATE",
    "UPDATE",
    "DELETE",
    "CONNECT",
    "Pod",
    "Deployment",
    "CronJob",
    "Job",
    "StatefulSet",
    "apps",
    "batch",
    "v1",
    "admission.k8s.io/v1",
    "AdmissionReview",
    "zaken",
    "kube-system",
    "RuntimeDefault",
    "Localhost",
    "Unconfined",
    "ALL",
    "NET_RAW",
    "SYS_ADMIN",
];

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `zaken` enforces restricted and warns at baseline; `open` has no labels (the defaults).
fn namespaces() -> StaticNamespaces {
    let namespaces = StaticNamespaces::new();
    namespaces.set(
        "zaken",
        labels(&[
            ("pod-security.kubernetes.io/enforce", "restricted"),
            ("pod-security.kubernetes.io/enforce-version", "v1.30"),
            ("pod-security.kubernetes.io/warn", "baseline"),
            ("haven.commonground.nl/plus", "warn"),
        ]),
    );
    namespaces
}

fn bodies() -> impl Strategy<Value = Input> {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/admission-review"
    ));
    prop_oneof![
        3 => fuzz::json_mutations(seeds.clone(), KEYS),
        1 => fuzz::mutations(seeds, JSON_TOKENS),
    ]
}

#[test]
fn every_body_gets_a_decision_with_its_uid_or_a_bad_request() {
    let config = Config::default();
    let namespaces = namespaces();
    fuzz::run("admission-review", bodies(), |input| {
        let Ok(decision) = review(&input.0, &config, &namespaces, OWN) else {
            return Ok(());
        };
        let response = decision.response_json();
        if response["apiVersion"] != "admission.k8s.io/v1"
            || response["kind"] != "AdmissionReview"
            || !response["response"]["allowed"].is_boolean()
        {
            return Err(format!("not an AdmissionReview response: {response}"));
        }
        let request: Option<Value> = serde_json::from_slice(&input.0).ok();
        if let Some(uid) = request.as_ref().and_then(|r| r["request"]["uid"].as_str())
            && response["response"]["uid"] != uid
        {
            return Err(format!(
                "answered {} for uid {uid:?}",
                response["response"]["uid"]
            ));
        }
        Ok(())
    });
}

#[test]
fn the_served_answer_is_the_engine_answer() {
    let config = Config::default();
    let namespaces = namespaces();
    fuzz::run("admission-fast-vs-engine", bodies(), |input| {
        let served = review(&input.0, &config, &namespaces, OWN);
        let engine = review_with_engine(&input.0, &config, &namespaces, OWN);
        if served == engine {
            return Ok(());
        }
        let show = |r: &Result<haven_admission::Decision, _>| match r {
            Ok(d) => String::from_utf8_lossy(&d.response).into_owned(),
            Err(e) => format!("{e:?}"),
        };
        Err(format!(
            "served: {}\n  engine: {}",
            show(&served),
            show(&engine)
        ))
    });
}

#[test]
fn config_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/admission-config"
    ));
    fuzz::run(
        "admission-config",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            let lines = fuzz::yaml_lines(&text);
            match Config::parse("config.yaml", &text) {
                Ok(_) => Ok(()),
                Err(e)
                    if e.file == "config.yaml" && e.line <= lines + 1 && !e.message.is_empty() =>
                {
                    Ok(())
                }
                Err(e) => Err(format!("error without a place: {}", e.describe())),
            }
        },
    );
}
