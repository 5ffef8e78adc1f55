//! Property tests: the request decoder and the rule engine behind it take arbitrary input
//! without panicking, and always answer a well-formed AdmissionReview with the request's uid.

use haven_admission::review::review_with_engine;
use haven_admission::{Config, StaticNamespaces, review};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9 ./:_-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("Always"),
            Just("RuntimeDefault"),
            Just("ALL"),
            Just("SYS_ADMIN"),
            Just("Localhost")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop_oneof![
            Just("spec"),
            Just("containers"),
            Just("securityContext"),
            Just("privileged"),
            Just("name"),
            Just("image"),
            Just("metadata"),
            Just("annotations"),
            Just("volumes"),
            Just("hostPath"),
            Just("capabilities"),
            Just("add"),
            Just("drop"),
            Just("runAsUser"),
            Just("hostNetwork"),
            Just("initContainers"),
            Just("ephemeralContainers"),
            Just("sysctls"),
            Just("seccompProfile"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.prop_map(str::to_owned), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object (a mapping) with arbitrary contents: what an AdmissionReview can carry.
fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop_oneof![
            Just("apiVersion"),
            Just("kind"),
            Just("metadata"),
            Just("spec"),
            Just("status")
        ]
        .prop_map(str::to_owned),
        json_value(),
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = review(&body, &Config::default(), &StaticNamespaces::new(), "haven-system");
    }

    #[test]
    fn arbitrary_objects_get_an_answer_with_the_uid(object in json_object(), kind in prop_oneof![Just("Pod"), Just("Deployment"), Just("CronJob")]) {
        let group = if kind == "Pod" { "" } else if kind == "CronJob" { "batch" } else { "apps" };
        let body = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "p", "kind": {"group": group, "version": "v1", "kind": kind},
                        "namespace": "zaken", "operation": "CREATE", "userInfo": {"username": "u"}, "object": object}
        });
        let decision = review(&serde_json::to_vec(&body).unwrap(), &Config::default(), &StaticNamespaces::new(), "haven-system");
        let decision = decision.expect("a complete envelope always gets an AdmissionReview answer");
        let response = decision.response_json();
        prop_assert_eq!(&response["response"]["uid"], "p");
        prop_assert!(response["response"]["allowed"].is_boolean());
    }

    #[test]
    fn the_fast_path_answers_as_the_engine(object in json_object(), kind in prop_oneof![Just("Pod"), Just("Deployment"), Just("CronJob")], operation in prop_oneof![Just("CREATE"), Just("UPDATE")]) {
        let group = if kind == "Pod" { "" } else if kind == "CronJob" { "batch" } else { "apps" };
        let body = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "p", "kind": {"group": group, "version": "v1", "kind": kind},
                        "namespace": "zaken", "operation": operation, "userInfo": {"username": "u"},
                        "object": object.clone(), "oldObject": if operation == "UPDATE" { object } else { Value::Null }}
        });
        let body = serde_json::to_vec(&body).unwrap();
        let (config, namespaces) = (Config::default(), StaticNamespaces::new());
        prop_assert_eq!(
            review(&body, &config, &namespaces, "haven-system"),
            review_with_engine(&body, &config, &namespaces, "haven-system")
        );
    }
}
