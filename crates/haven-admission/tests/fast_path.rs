//! The fast path of a review (Pod Security only, typed decoding straight from the request
//! bytes) answers exactly as the engine path (`serde_json::Value`, `haven_model::Object`,
//! `haven_rules::check`): same verdict, rule ids, response bytes, or the same bad-request
//! error. Compared on every upstream Pod Security fixture (as a Pod and inside a controller),
//! under several namespace policies, on hand-written odd requests, on the benchmark's requests
//! (shaped as an API server sends them) and on mutated ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haven_admission::review::{review_fast, review_with_engine};
use haven_admission::{Config, StaticNamespaces, Verdict, review};
use serde_json::{Value, json};

const OWN: &str = "haven-system";

fn fixtures_root() -> PathBuf {
    haven_test_support::shared_path("conformance/pod-security")
}

fn review_of(kind: &str, group: &str, object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
            "namespace": "zaken",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// The kinds the webhook checks, by group, with the pod `template` placed inside `object`.
const CONTROLLERS: &[(&str, &str)] = &[
    ("Deployment", "apps"),
    ("StatefulSet", "apps"),
    ("DaemonSet", "apps"),
    ("ReplicaSet", "apps"),
    ("ReplicationController", ""),
    ("Job", "batch"),
    ("CronJob", "batch"),
    ("PodTemplate", ""),
];

fn controller(kind: &str, group: &str, pod: &Value) -> Value {
    let template = json!({"metadata": pod.get("metadata").cloned().unwrap_or(json!({})), "spec": pod["spec"].clone()});
    let api_version = if group.is_empty() {
        "v1".to_owned()
    } else {
        format!("{group}/v1")
    };
    let mut object = json!({
        "apiVersion": api_version, "kind": kind,
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "3"}},
    });
    match kind {
        "CronJob" => {
            object["spec"] =
                json!({"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}})
        }
        "PodTemplate" => object["template"] = template,
        _ => {
            object["spec"] = json!({"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template})
        }
    }
    object
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Namespace policies (as labels on `zaken`) the comparisons run under, all Pod Security only.
fn policies() -> Vec<Option<BTreeMap<String, String>>> {
    vec![
        None,
        Some(labels(&[
            ("pod-security.kubernetes.io/enforce", "baseline"),
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ])),
        Some(labels(&[
            ("pod-security.kubernetes.io/enforce", "restricted"),
            ("pod-security.kubernetes.io/enforce-version", "v1.20"),
            ("pod-security.kubernetes.io/audit-version", "v1.5"),
            ("pod-security.kubernetes.io/warn", "baseline"),
            ("pod-security.kubernetes.io/warn-version", "v1.0"),
        ])),
        Some(labels(&[
            ("pod-security.kubernetes.io/enforce", "privileged"),
            ("pod-security.kubernetes.io/audit", "baseline"),
            ("pod-security.kubernetes.io/warn", "strict"),
        ])),
    ]
}

struct Comparison {
    config: Config,
    namespaces: StaticNamespaces,
    compared: usize,
    fast: usize,
    differences: Vec<String>,
}

impl Comparison {
    fn new(config: Config, policy: Option<BTreeMap<String, String>>) -> Self {
        let namespaces = StaticNamespaces::new();
        if let Some(l) = policy {
            namespaces.set("zaken", l);
        }
        Self {
            config,
            namespaces,
            compared: 0,
            fast: 0,
            differences: Vec::new(),
        }
    }

    /// Compares the two paths on `body`, and on `body` with the request's keys in the order an
    /// API server sends them (`serde_json` here sorts keys, which puts `object` before
    /// `operation`; in API server order the fast path decodes a create's object as it reads it).
    fn check(&mut self, what: &str, body: &[u8]) {
        self.check_one(what, body);
        if let Some(ordered) = api_server_order(body)
            && ordered != body
        {
            self.check_one(&format!("{what} (API server order)"), &ordered);
        }
    }

    fn check_one(&mut self, what: &str, body: &[u8]) {
        let engine = review_with_engine(body, &self.config, &self.namespaces, OWN);
        let served = review(body, &self.config, &self.namespaces, OWN);
        self.compared += 1;
        if review_fast(body, &self.config, &self.namespaces, OWN).is_some() {
            self.fast += 1;
        }
        if served != engine && self.differences.len() < 20 {
            let show = |r: &Result<haven_admission::Decision, _>| match r {
                Ok(d) => String::from_utf8_lossy(&d.response).into_owned(),
                Err(e) => format!("{e:?}"),
            };
            self.differences.push(format!(
                "{what}:\n  fast:   {}\n  engine: {}",
                show(&served),
                show(&engine)
            ));
        }
    }

    fn check_json(&mut self, what: &str, body: &Value) {
        self.check(what, &serde_json::to_vec(body).unwrap());
    }

    /// Both paths answered alike, and the comparison compared something: requests were
    /// checked, and the fast path answered some of them itself (else it compared the engine
    /// path with itself).
    fn assert_same(&self) {
        assert!(
            self.compared > 0 && self.fast > 0,
            "the comparison compared nothing: {} requests, {} answered by the fast path",
            self.compared,
            self.fast
        );
        assert!(
            self.differences.is_empty(),
            "{} of {} requests answered differently by the fast path:\n{}",
            self.differences.len(),
            self.compared,
            self.differences.join("\n")
        );
    }
}

/// `body` re-serialized with the request's keys in API server order (`uid`, `kind`,
/// `resource`, `namespace`, `operation`, `userInfo`, then the rest, `object` among them); `None`
/// if `body` is not an AdmissionReview-shaped JSON object.
fn api_server_order(body: &[u8]) -> Option<Vec<u8>> {
    const FIRST: &[&str] = &[
        "uid",
        "kind",
        "resource",
        "namespace",
        "operation",
        "userInfo",
    ];
    let Value::Object(top) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    let Some(Value::Object(request)) = top.get("request") else {
        return None;
    };
    let mut out = String::from("{");
    for (i, (key, value)) in top.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).unwrap());
        out.push(':');
        if key != "request" {
            out.push_str(&value.to_string());
            continue;
        }
        out.push('{');
        let keys = FIRST
            .iter()
            .copied()
            .filter(|k| request.contains_key(*k))
            .chain(
                request
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !FIRST.contains(k)),
            );
        for (j, k) in keys.enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap());
            out.push(':');
            out.push_str(&request[k].to_string());
        }
        out.push('}');
    }
    out.push('}');
    Some(out.into_bytes())
}

#[test]
fn api_server_order_puts_kind_and_operation_before_the_object() {
    let body = serde_json::to_vec(&review_of("Pod", "", base_pod(json!({})))).unwrap();
    let ordered = String::from_utf8(api_server_order(&body).unwrap()).unwrap();
    let at = |k: &str| ordered.find(&format!("\"{k}\":")).unwrap();
    assert!(at("kind") < at("operation") && at("operation") < at("object"));
    assert_eq!(
        serde_json::from_str::<Value>(&ordered).unwrap(),
        serde_json::from_slice::<Value>(&body).unwrap()
    );
}

fn conformance_pods() -> Vec<(String, Value)> {
    let root = fixtures_root();
    let mut seen = std::collections::HashSet::new();
    let mut pods = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if !seen.insert(text.clone()) {
                    continue;
                }
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                let mut docs = haven_model::parse_stream(&name, &text);
                if let Some(Ok(doc)) = docs.pop() {
                    pods.push((name, doc.value));
                }
            }
        }
    }
    pods.sort_by(|a, b| a.0.cmp(&b.0));
    // 380 distinct ones upstream (of 4,537 files): a handful means the walk above went wrong.
    assert!(
        pods.len() >= 300,
        "only {} fixtures under {}",
        pods.len(),
        root.display()
    );
    pods
}

#[test]
#[ignore = "needs ../shared/conformance (cargo test -- --include-ignored)"]
fn every_upstream_fixture_gets_the_engine_answer_as_pod_and_in_controllers() {
    let pods = conformance_pods();
    for (p, policy) in policies().into_iter().enumerate() {
        let mut c = Comparison::new(Config::default(), policy);
        for (i, (name, pod)) in pods.iter().enumerate() {
            c.check_json(name, &review_of("Pod", "", pod.clone()));
            let (kind, group) = CONTROLLERS[(i + p) % CONTROLLERS.len()];
            c.check_json(
                &format!("{kind} of {name}"),
                &review_of(kind, group, controller(kind, group, pod)),
            );
        }
        c.assert_same();
        // The comparison means something only if the fast path answers these itself.
        assert!(
            c.fast * 10 >= c.compared * 9,
            "fast path answered only {} of {}",
            c.fast,
            c.compared
        );
    }
}

fn base_pod(security: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "web-7d9c-", "namespace": "zaken", "labels": {"app": "web"},
                     "annotations": {"prometheus.io/scrape": "true"}},
        "spec": {"containers": [
            {"name": "web", "image": "registry.example.nl/web:1.4.2", "ports": [{"name": "http", "containerPort": 8080}],
             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
             "securityContext": security},
            {"name": "sidecar", "image": "nginx:1.27", "securityContext": {"privileged": false}}],
            "volumes": [{"name": "tmp", "emptyDir": {}}]},
        "status": {"phase": "Pending"}
    })
}

/// Requests where only a full parse, a careful decode or a close reading of the engine tells
/// the right answer.
fn odd_requests() -> Vec<(String, Vec<u8>)> {
    let restricted = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}});
    let bad = base_pod(json!({"privileged": true}));
    let text = serde_json::to_string(&review_of("Pod", "", bad.clone())).unwrap();
    let deployment = review_of("Deployment", "apps", controller("Deployment", "apps", &bad));
    let dtext = serde_json::to_string(&deployment).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, body: String| out.push((name.to_owned(), body.into_bytes()));
    let edit = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1)
    };
    let dedit = |from: &str, to: &str| {
        assert!(dtext.contains(from), "{from}");
        dtext.replacen(from, to, 1)
    };
    add("plain", text.clone());
    add(
        "exponent in status",
        edit(r#""phase":"Pending""#, r#""phase":1e400"#),
    );
    add(
        "small exponent",
        edit(r#""phase":"Pending""#, r#""phase":1.5e3"#),
    );
    add(
        "long number",
        edit(
            r#""phase":"Pending""#,
            &format!(r#""phase":{}"#, "9".repeat(400)),
        ),
    );
    add(
        "lone surrogate",
        edit(r#""phase":"Pending""#, r#""phase":"\ud800""#),
    );
    add(
        "surrogate pair",
        edit(r#""phase":"Pending""#, r#""phase":"\ud83d\ude00""#),
    );
    add(
        "escapes",
        edit(r#""phase":"Pending""#, r#""phase":"a\"b\\c\u0026\n""#),
    );
    add(
        "escaped key",
        edit(r#""privileged":true"#, r#""privil\u0065ged":true"#),
    );
    add(
        "escaped name",
        edit(r#""generateName":"web-7d9c-""#, r#""name":"w\"e\u00e9b""#),
    );
    add(
        "deep",
        edit(
            r#""phase":"Pending""#,
            &format!(r#""phase":{}1{}"#, "[".repeat(150), "]".repeat(150)),
        ),
    );
    add(
        "duplicate spec field",
        edit(
            r#""containers":"#,
            r#""hostNetwork":true,"hostNetwork":false,"containers":"#,
        ),
    );
    add(
        "duplicate metadata",
        edit(r#""metadata":"#, r#""metadata":{},"metadata":"#),
    );
    add(
        "duplicate kind",
        edit(r#""kind":"Pod""#, r#""kind":"Pod","kind":"Pod""#),
    );
    add(
        "duplicate annotation",
        edit(
            r#""prometheus.io/scrape":"true""#,
            r#""waive.haven.commonground.nl/pss.*":"x","waive.haven.commonground.nl/pss.*":"""#,
        ),
    );
    add("null kind", edit(r#""kind":"Pod""#, r#""kind":null"#));
    add(
        "null apiVersion",
        edit(r#""apiVersion":"v1""#, r#""apiVersion":null"#),
    );
    add(
        "empty apiVersion",
        edit(r#""apiVersion":"v1""#, r#""apiVersion":"""#),
    );
    add(
        "other apiVersion",
        edit(r#""apiVersion":"v1""#, r#""apiVersion":"v2""#),
    );
    add(
        "apps Pod",
        edit(r#""apiVersion":"v1""#, r#""apiVersion":"apps/v1""#),
    );
    // An object without apiVersion: the engine path makes it of the request's group and
    // version, and rejects an empty one.
    for (name, version) in [
        ("no apiVersion", r#""version":"v1""#),
        ("no apiVersion, empty version", r#""version":"""#),
        ("no apiVersion, version with a slash", r#""version":"x/v1""#),
    ] {
        let body = edit(r#""apiVersion":"v1","kind":"Pod""#, r#""kind":"Pod""#);
        assert!(body.contains(r#""version":"v1""#));
        add(name, body.replacen(r#""version":"v1""#, version, 1));
    }
    add(
        "other kind",
        edit(r#""kind":"Pod""#, r#""kind":"Deployment""#),
    );
    add(
        "list kind",
        edit(r#""kind":"Pod""#, r#""kind":"PodList","items":[]"#),
    );
    add(
        "metadata list",
        edit(r#""metadata":{"#, r#""metadata":[],"x":{"#),
    );
    add("spec list", edit(r#""spec":{"#, r#""spec":[],"x":{"#));
    add("spec null", edit(r#""spec":{"#, r#""spec":null,"x":{"#));
    add(
        "name number",
        edit(r#""generateName":"web-7d9c-""#, r#""name":5"#),
    );
    add(
        "wrong port type",
        edit(r#""containerPort":8080"#, r#""containerPort":"http""#),
    );
    add(
        "float port",
        edit(r#""containerPort":8080"#, r#""containerPort":8080.0"#),
    );
    add(
        "annotation number",
        edit(
            r#""prometheus.io/scrape":"true""#,
            r#""prometheus.io/scrape":true"#,
        ),
    );
    add(
        "runtime class",
        edit(
            r#""containers":"#,
            r#""runtimeClassName":"kata","containers":"#,
        ),
    );
    add(
        "runtime class number",
        edit(r#""containers":"#, r#""runtimeClassName":5,"containers":"#),
    );
    add(
        "object array",
        edit(r#""object":{"#, r#""object":["#).replacen(
            r#""status":{"phase":"Pending"}}"#,
            r#""status":{"phase":"Pending"}]"#,
            1,
        ),
    );
    add(
        "object null",
        edit(r#""object":{"#, r#""object":null,"x":{"#),
    );
    add(
        "request null",
        text.replacen(r#""request":{"#, r#""request":null,"x":{"#, 1),
    );
    add(
        "old object weird",
        edit(r#""oldObject":null"#, r#""oldObject":[1e400]"#),
    );
    add(
        "update",
        edit(r#""operation":"CREATE""#, r#""operation":"UPDATE""#).replacen(
            r#""oldObject":null"#,
            &format!(r#""oldObject":{}"#, serde_json::to_string(&bad).unwrap()),
            1,
        ),
    );
    add(
        "update new spec",
        edit(r#""operation":"CREATE""#, r#""operation":"UPDATE""#).replacen(
            r#""oldObject":null"#,
            &format!(
                r#""oldObject":{}"#,
                serde_json::to_string(&base_pod(restricted.clone())).unwrap()
            ),
            1,
        ),
    );
    add(
        "delete",
        edit(r#""operation":"CREATE""#, r#""operation":"DELETE""#),
    );
    add("no operation", edit(r#""operation":"CREATE","#, ""));
    add(
        "kube-system",
        edit(r#""namespace":"zaken""#, r#""namespace":"kube-system""#),
    );
    add(
        "own namespace",
        edit(r#""namespace":"zaken""#, r#""namespace":"haven-system""#),
    );
    add("no namespace", edit(r#""namespace":"zaken","#, ""));
    add(
        "exempt user",
        edit(
            "system:serviceaccount:kube-system:replicaset-controller",
            "system:serviceaccount:ops:deployer",
        ),
    );
    add(
        "null user",
        edit(r#""userInfo":{"#, r#""userInfo":null,"x":{"#),
    );
    add(
        "waiver on pod",
        edit(
            r#""prometheus.io/scrape":"true""#,
            r#""waive.haven.commonground.nl/pss.privileged":"set by the node""#,
        ),
    );
    add(
        "waiver blank",
        edit(
            r#""prometheus.io/scrape":"true""#,
            r#""waive.haven.commonground.nl/pss.privileged":"  ""#,
        ),
    );
    add(
        "waiver glob",
        edit(
            r#""prometheus.io/scrape":"true""#,
            r#""waive.haven.commonground.nl/pss.*_restricted":"x""#,
        ),
    );
    add("deployment", dtext.clone());
    add(
        "deployment top waiver",
        dedit(
            r#""deployment.kubernetes.io/revision":"3""#,
            r#""waive.haven.commonground.nl/pss.runAsNonRoot":"ok","waive.haven.commonground.nl/pss.privileged":7"#,
        ),
    );
    add(
        "deployment top waiver escaped",
        dedit(
            r#""deployment.kubernetes.io/revision":"3""#,
            r#""waive.haven.commonground.nl/pss.run\u0041sNonRoot":"ok""#,
        ),
    );
    add(
        "deployment top annotations list",
        dedit(
            r#""annotations":{"deployment.kubernetes.io/revision":"3"}"#,
            r#""annotations":[1]"#,
        ),
    );
    add(
        "deployment top annotations null",
        dedit(
            r#""annotations":{"deployment.kubernetes.io/revision":"3"}"#,
            r#""annotations":null"#,
        ),
    );
    add(
        "deployment top labels wrong",
        dedit(r#""labels":{"app":"web"}"#, r#""labels":{"app":5}"#),
    );
    add(
        "deployment top name null",
        dedit(r#""name":"web""#, r#""name":null"#),
    );
    add(
        "deployment top name number",
        dedit(r#""name":"web""#, r#""name":1"#),
    );
    add(
        "deployment top namespace number",
        dedit(r#""name":"web""#, r#""name":"web","namespace":1"#),
    );
    add("deployment no template", dedit(r#""template":"#, r#""x":"#));
    add(
        "deployment template null",
        dedit(r#""template":"#, r#""template":null,"x":"#),
    );
    add(
        "deployment template list",
        dedit(r#""template":{"#, r#""template":[],"x":{"#),
    );
    add(
        "deployment extensions",
        dedit(
            r#""apiVersion":"apps/v1""#,
            r#""apiVersion":"extensions/v1beta1""#,
        ),
    );
    add(
        "deployment replicas string",
        dedit(r#""replicas":2"#, r#""replicas":"two""#),
    );
    let mut invalid = text.replacen("web-7d9c-", "web-@@-", 1).into_bytes();
    let at = invalid.windows(2).position(|w| w == b"@@").unwrap();
    invalid[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
    out.push(("invalid utf-8".to_owned(), invalid));
    out
}

#[test]
fn odd_requests_get_the_engine_answer() {
    let mut exempting = Config::default();
    exempting
        .exemptions
        .usernames
        .push("system:serviceaccount:ops:deployer".into());
    exempting.exemptions.runtime_classes.push("kata".into());
    exempting.exemptions.namespaces.push(String::new());
    for (config, policy) in [
        (Config::default(), None),
        (exempting, policies().pop().unwrap()),
    ] {
        let mut c = Comparison::new(config, policy);
        for (name, body) in odd_requests() {
            c.check(&name, &body);
        }
        c.assert_same();
    }
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One random edit: a value replaced (by another type, or a Pod Security-relevant value), a
/// key removed, or a key added, somewhere in the tree.
fn mutate(value: &mut Value, rng: &mut Rng) {
    let junk = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("x"),
        json!("ALL"),
        json!([]),
        json!({}),
        json!([1]),
        json!({"a": "b"}),
        json!("RuntimeDefault"),
        json!("Unconfined"),
        json!(65534),
    ];
    let keys = [
        "privileged",
        "hostPID",
        "runAsNonRoot",
        "runAsUser",
        "procMount",
        "sysctls",
        "hostPort",
        "seccompProfile",
        "appArmorProfile",
        "windowsOptions",
        "waive.haven.commonground.nl/pss.*",
        "zzz",
    ];
    let mut node = value;
    loop {
        let len = match &*node {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if len == 0 || rng.below(5) == 0 {
            break;
        }
        let i = rng.below(len);
        let descend = match &*node {
            Value::Object(m) => {
                let child = &m[m.keys().nth(i).unwrap().as_str()];
                child.is_object() || child.is_array()
            }
            Value::Array(a) => a[i].is_object() || a[i].is_array(),
            _ => false,
        };
        if !descend {
            break;
        }
        node = match node {
            Value::Object(m) => {
                let key = m.keys().nth(i).unwrap().clone();
                m.get_mut(&key).unwrap()
            }
            Value::Array(a) => &mut a[i],
            _ => unreachable!(),
        };
    }
    match node {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(rng.below(m.len())).unwrap().clone();
            match rng.below(3) {
                0 => {
                    m.remove(&key);
                }
                1 => m[&key] = junk[rng.below(junk.len())].clone(),
                _ => {
                    m.insert(
                        keys[rng.below(keys.len())].to_owned(),
                        junk[rng.below(junk.len())].clone(),
                    );
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.below(a.len());
            a[i] = junk[rng.below(junk.len())].clone();
        }
        other => *other = junk[rng.below(junk.len())].clone(),
    }
}

#[test]
fn mutated_requests_get_the_engine_answer() {
    let restricted = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}});
    let bases = [
        review_of("Pod", "", base_pod(restricted.clone())),
        review_of("Pod", "", base_pod(json!({"privileged": true}))),
        review_of(
            "Deployment",
            "apps",
            controller("Deployment", "apps", &base_pod(json!({}))),
        ),
        review_of(
            "CronJob",
            "batch",
            controller("CronJob", "batch", &base_pod(restricted)),
        ),
    ];
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    for policy in policies().into_iter().take(2) {
        let mut c = Comparison::new(Config::default(), policy);
        compare_mutations(&mut c, &bases, 1500, &mut rng);
        c.assert_same();
    }
}

/// Compares both paths on `count` requests, each one of `bases` (in turn) with one to four
/// random edits: mostly in the object, sometimes in the envelope.
fn compare_mutations(c: &mut Comparison, bases: &[Value], count: usize, rng: &mut Rng) {
    for i in 0..count {
        let mut body = bases[i % bases.len()].clone();
        let target = if rng.below(10) == 0 {
            &mut body
        } else {
            &mut body["request"]["object"]
        };
        for _ in 0..=rng.below(3) {
            mutate(target, rng);
        }
        c.check_json(&format!("mutation {i}: {body}"), &body);
    }
}

/// The requests `bench/admission.sh` sends, as `bench/admission-bodies.py` writes them: shaped
/// as an API server sends them (defaults filled in, the service-account volume, tolerations,
/// `managedFields`, a Deployment with kubectl's last-applied-configuration); each with the
/// verdict the benchmark's mix counts it as under the default policy.
fn api_server_requests() -> Vec<(&'static str, Vec<u8>, Verdict)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/admission-bodies.py");
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("python3 {} did not run: {e}", script.display()));
    assert!(status.success(), "{} failed", script.display());
    [
        ("allowed-pod", Verdict::Allowed),
        ("denied-pod", Verdict::Denied),
        ("deployment", Verdict::Warned),
    ]
    .into_iter()
    .map(|(name, verdict)| {
        let body = std::fs::read_to_string(dir.path().join(format!("{name}.json"))).unwrap();
        let body = body.replace("__UID__", "0f5a8b1e-1111-2222-3333-444455556666");
        (name, body.into_bytes(), verdict)
    })
    .collect()
}

/// The benchmark measures the fast path, and the mix is what it says: these requests are
/// answered by the fast path itself, with the engine's answers under every policy, and with
/// the verdicts the mix counts them as. Mutations of them get the engine's answers too.
#[test]
fn requests_as_an_api_server_sends_them_take_the_fast_path() {
    let requests = api_server_requests();
    let namespaces = StaticNamespaces::new();
    for (name, body, verdict) in &requests {
        let fast = review_fast(body, &Config::default(), &namespaces, OWN)
            .unwrap_or_else(|| panic!("{name}: the fast path gave way to the engine path"));
        assert_eq!(fast.verdict, *verdict, "{name}");
    }
    for policy in policies() {
        let mut c = Comparison::new(Config::default(), policy);
        for (name, body, _) in &requests {
            c.check(name, body);
        }
        c.assert_same();
    }
    let bases: Vec<Value> = requests
        .iter()
        .map(|(_, body, _)| serde_json::from_slice(body).unwrap())
        .collect();
    let mut c = Comparison::new(Config::default(), None);
    compare_mutations(&mut c, &bases, 600, &mut Rng(0x0a91_5e4e_b0d1_e500));
    c.assert_same();
}

/// Every value of the benchmark's API-server requests, one at a time, replaced by a value of
/// each JSON type: the fast path checks most of a Pod against the shapes of the Kubernetes types
/// instead of building it (`shape.rs`), so a wrong type anywhere (an environment variable, a
/// toleration, a managed-fields time, a volume source) must still get the engine's answer.
/// Edits that keep a value's type must still take the fast path, or the check proves nothing.
#[test]
fn every_single_edit_of_an_api_server_request_gets_the_engine_answer() {
    fn paths(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    paths(v, format!("{at}/{key}"), out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    paths(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    let junk = [
        json!(null),
        json!(7),
        json!(1.5),
        json!("x"),
        json!(true),
        json!([]),
        json!({}),
    ];
    let mut c = Comparison::new(Config::default(), None);
    let (mut same_type, mut same_type_fast) = (0usize, 0usize);
    for (name, body, _) in api_server_requests() {
        let base: Value = serde_json::from_slice(&body).unwrap();
        let mut all = Vec::new();
        paths(
            &base["request"]["object"],
            "/request/object".to_owned(),
            &mut all,
        );
        for path in all {
            let original = base.pointer(&path).unwrap().clone();
            for j in &junk {
                let mut edited = base.clone();
                *edited.pointer_mut(&path).unwrap() = j.clone();
                let bytes = serde_json::to_vec(&edited).unwrap();
                c.check_one(&format!("{name} {path} = {j}"), &bytes);
                let kept_type = matches!(
                    (&original, j),
                    (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_))
                );
                if kept_type {
                    same_type += 1;
                    let fast = review_fast(&bytes, &c.config, &c.namespaces, OWN).is_some();
                    same_type_fast += usize::from(fast);
                }
            }
        }
    }
    c.assert_same();
    println!(
        "{} single edits compared; {same_type_fast} of {same_type} that kept the type took the fast path",
        c.compared
    );
    assert!(c.compared > 1000, "{}", c.compared);
    assert!(
        same_type_fast * 100 >= same_type * 95,
        "{same_type_fast} of {same_type}"
    );
}

/// What only a full parse rejects (a number out of `f64` range, a lone surrogate escape,
/// nesting beyond the parser's limit), and what it accepts, placed under a new key in every
/// kind of place the fast path reads differently: skipped keys of the object, of its metadata,
/// of structs it only checks (a toleration, an environment variable, a volume source), of the
/// subtrees it builds (security contexts, probes), a JSON leaf (`fieldsV1`), a controller's own
/// spec, the old object of a create, and the object of a kind it does not check. The fast path
/// has no pre-scan of the whole body; each of these must still get the engine's answer, and
/// only plain UTF-8 is answered on the fast path (its reader leaves floats, surrogate escapes
/// and deep nesting to the engine).
#[test]
fn what_only_a_full_parse_rejects_gets_the_engine_answer_wherever_it_is() {
    let requests = api_server_requests();
    let pod: Value = serde_json::from_slice(&requests[0].1).unwrap();
    let deployment: Value = serde_json::from_slice(&requests[2].1).unwrap();
    assert_eq!(deployment["request"]["kind"]["kind"], "Deployment");
    let places: &[(&Value, &str)] = &[
        (&pod, "/request/object"),
        (&pod, "/request/object/metadata"),
        (&pod, "/request/object/metadata/managedFields/0/fieldsV1"),
        (&pod, "/request/object/spec"),
        (&pod, "/request/object/spec/tolerations/0"),
        (&pod, "/request/object/spec/securityContext"),
        (&pod, "/request/object/spec/containers/0"),
        (&pod, "/request/object/spec/containers/0/env/0"),
        (&pod, "/request/object/spec/containers/0/resources/requests"),
        (&pod, "/request/object/spec/containers/0/securityContext"),
        (
            &pod,
            "/request/object/spec/containers/0/securityContext/capabilities",
        ),
        (
            &pod,
            "/request/object/spec/containers/0/livenessProbe/httpGet",
        ),
        (&pod, "/request/object/spec/containers/0/ports/0"),
        (&pod, "/request/object/spec/volumes/0"),
        (&pod, "/request/object/spec/volumes/0/emptyDir"),
        (&pod, "/request/object/spec/volumes/2/projected/sources/0"),
        (&pod, "/request/object/status"),
        (&pod, "/request"),
        (&deployment, "/request/object/metadata"),
        (&deployment, "/request/object/metadata/annotations"),
        (&deployment, "/request/object/spec"),
        (&deployment, "/request/object/spec/strategy"),
        (&deployment, "/request/object/spec/template"),
        (&deployment, "/request/object/spec/template/metadata"),
    ];
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let values = [
        "1e400".to_owned(),
        "-1e400".to_owned(),
        "1.5e3".to_owned(),
        "9".repeat(400),
        r#""\ud800""#.to_owned(),
        r#""\udc00x""#.to_owned(),
        r#""\ud83d\ude00""#.to_owned(),
        deep(130),
        deep(100),
        "\"\u{fffd}\"".to_owned(),
    ];
    let mut c = Comparison::new(Config::default(), None);
    let mut bodies = Vec::new();
    for (base, place) in places {
        let mut edited = (*base).clone();
        let target = edited
            .pointer_mut(place)
            .unwrap_or_else(|| panic!("{place}"));
        target
            .as_object_mut()
            .unwrap_or_else(|| panic!("{place} is not an object"))
            .insert("zzzExtra".to_owned(), json!("__RAW__"));
        bodies.push((place.to_string(), serde_json::to_string(&edited).unwrap()));
    }
    // The old object of a create, and a kind the webhook does not check.
    let mut create_with_old = pod.clone();
    create_with_old["request"]["oldObject"] = json!({"zzzExtra": "__RAW__"});
    bodies.push(("oldObject of a create".into(), create_with_old.to_string()));
    let mut config_map = pod.clone();
    config_map["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    config_map["request"]["object"] =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"zzzExtra": "__RAW__"}});
    bodies.push(("a ConfigMap".into(), config_map.to_string()));
    let mut fast_answers = 0;
    for (place, text) in &bodies {
        // Also in API server order, where a create's object is decoded as it is read (the
        // order is made before the values go in: a tree cannot hold most of them).
        let ordered = String::from_utf8(api_server_order(text.as_bytes()).unwrap()).unwrap();
        for v in &values {
            let what = format!("{place} <- {}", v.chars().take(20).collect::<String>());
            let body = text.replacen(r#""__RAW__""#, v, 1);
            assert_ne!(&body, text);
            c.check_one(&what, body.as_bytes());
            let body = ordered.replacen(r#""__RAW__""#, v, 1);
            assert_ne!(body, ordered);
            c.check_one(&format!("{what} (API server order)"), body.as_bytes());
            let fast = review_fast(body.as_bytes(), &c.config, &c.namespaces, OWN).is_some();
            // Plain UTF-8 is read on the fast path; the rest, legal JSON that an API server
            // does not send (floats, surrogate escapes, deep nesting), is left to the engine.
            assert_eq!(fast, v.contains('\u{fffd}'), "{what}");
            fast_answers += usize::from(fast);
            // Bytes that are not UTF-8, in a string, there too.
            if v.contains('\u{fffd}') {
                for (order, t) in [("", text), (" (API server order)", &ordered)] {
                    let body = t
                        .replacen(r#""__RAW__""#, v, 1)
                        .replacen('\u{fffd}', "\u{1}", 1)
                        .into_bytes();
                    let at = body.iter().position(|&b| b == 1).unwrap();
                    let mut body = body;
                    body[at] = 0xff;
                    c.check_one(&format!("{place} <- invalid UTF-8{order}"), &body);
                }
            }
        }
    }
    c.assert_same();
    println!(
        "{} requests compared, {fast_answers} answered by the fast path",
        c.compared
    );
    assert_eq!(fast_answers, bodies.len());
}
