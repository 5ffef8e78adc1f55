//! The object store's bootstrap (`haven_platform::object_store`) as a cluster runs it: the
//! script and the consumers the render writes, run by a real `python3` against a loopback model
//! of Garage's admin API v2 (the calls, request shapes and checks of Garage v2's
//! `src/api/admin`: `ImportKey`'s key format, `ApplyClusterLayout`'s version) and of the
//! Kubernetes API's Secret read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine;
use haven_platform::{Catalogue, PlatformConfig, Provider};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-0123";
const KUBE_TOKEN: &str = "kube-token-4567";

/// A key's permissions on a bucket: read, write, owner.
type Perms = (bool, bool, bool);

#[derive(Default)]
struct Garage {
    /// Node id → up.
    nodes: BTreeMap<String, bool>,
    version: u64,
    /// Node id → (zone, capacity) in the current layout.
    roles: BTreeMap<String, (String, u64)>,
    staged: BTreeMap<String, (String, u64)>,
    /// Key id → (secret, name).
    keys: BTreeMap<String, (String, String)>,
    /// Bucket id → (alias, key id → (read, write, owner)).
    buckets: BTreeMap<String, (String, BTreeMap<String, Perms>)>,
    /// (namespace, name) → data.
    secrets: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// Every request: `METHOD /path`.
    calls: Vec<String>,
    /// So many more key and bucket calls answer 500 "Layout not ready", as Garage v2.1.0 on
    /// does while a new layout is reaching the nodes (besides always, before any layout).
    not_ready: u32,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Garage {
    fn handle(&mut self, method: &str, target: &str, auth: &str, body: &str) -> (u16, Value) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let q: BTreeMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%2F", "/")))
            .collect();
        self.calls.push(format!("{method} {path}"));
        let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        if let Some(rest) = path.strip_prefix("/api/v1/namespaces/") {
            if auth != format!("Bearer {KUBE_TOKEN}") {
                return (401, json!({"message": "Unauthorized"}));
            }
            let parts: Vec<&str> = rest.split('/').collect();
            let key = (parts[0].to_owned(), parts[2].to_owned());
            return match self.secrets.get(&key) {
                Some(data) => {
                    let enc: BTreeMap<&String, String> = data
                        .iter()
                        .map(|(k, v)| (k, base64::engine::general_purpose::STANDARD.encode(v)))
                        .collect();
                    (200, json!({"kind": "Secret", "data": enc}))
                }
                None => (404, json!({"reason": "NotFound"})),
            };
        }
        if auth != format!("Bearer {ADMIN_TOKEN}") {
            return (403, json!({"code": "AccessDenied"}));
        }
        // Garage's `Error::LayoutNotReady` (src/util/error.rs, v2.1.0 on), an internal error of
        // the admin API: calls that read or write the key and bucket tables.
        let tables = [
            "/v2/ListKeys",
            "/v2/ImportKey",
            "/v2/DeleteKey",
            "/v2/GetBucketInfo",
            "/v2/CreateBucket",
            "/v2/AllowBucketKey",
        ];
        if tables.contains(&path) && (self.version == 0 || self.not_ready > 0) {
            self.not_ready = self.not_ready.saturating_sub(1);
            return (
                500,
                json!({"code": "InternalError", "message": "Internal error: Layout not ready",
                       "region": "garage", "path": path}),
            );
        }
        match (method, path) {
            ("GET", "/v2/GetClusterStatus") => {
                let nodes: Vec<Value> = self
                    .nodes
                    .iter()
                    .map(|(id, up)| {
                        json!({"id": id, "isUp": up, "draining": false,
                               "role": self.roles.get(id).map(|(z, c)| json!({"zone": z, "tags": [], "capacity": c}))})
                    })
                    .collect();
                (200, json!({"layoutVersion": self.version, "nodes": nodes}))
            }
            ("GET", "/v2/GetClusterLayout") => (200, self.layout()),
            ("POST", "/v2/UpdateClusterLayout") => {
                for r in body["roles"].as_array().unwrap() {
                    let id = r["id"].as_str().unwrap().to_owned();
                    assert!(self.nodes.contains_key(&id), "unknown node {id}");
                    let zone = r["zone"].as_str().expect("a zone").to_owned();
                    let cap = r["capacity"].as_u64().expect("a capacity");
                    self.staged.insert(id, (zone, cap));
                }
                (200, self.layout())
            }
            ("POST", "/v2/ApplyClusterLayout") => {
                if body["version"].as_u64() != Some(self.version + 1) {
                    return (400, json!({"message": "wrong version"}));
                }
                if self.staged.is_empty() {
                    return (400, json!({"message": "nothing staged"}));
                }
                self.version += 1;
                let staged = std::mem::take(&mut self.staged);
                self.roles.extend(staged);
                (200, json!({"message": [], "layout": self.layout()}))
            }
            ("GET", "/v2/ListKeys") => (
                200,
                Value::Array(
                    self.keys
                        .iter()
                        .map(|(id, (_, name))| json!({"id": id, "name": name, "expired": false}))
                        .collect(),
                ),
            ),
            ("POST", "/v2/ImportKey") => {
                let id = body["accessKeyId"].as_str().unwrap_or_default();
                let secret = body["secretAccessKey"].as_str().unwrap_or_default();
                // Garage's `Key::import`.
                if id.len() != 26 || !id.starts_with("GK") || !is_hex(&id[2..]) {
                    return (400, json!({"message": "Invalid key format"}));
                }
                if secret.len() != 64 || !is_hex(secret) {
                    return (400, json!({"message": "Invalid key format"}));
                }
                if self.keys.contains_key(id) {
                    return (409, json!({"code": "KeyAlreadyExists"}));
                }
                let name = body["name"].as_str().unwrap_or("Imported key").to_owned();
                self.keys.insert(id.to_owned(), (secret.to_owned(), name));
                (200, json!({"accessKeyId": id}))
            }
            ("POST", "/v2/DeleteKey") => {
                let id = &q["id"];
                if self.keys.remove(id).is_none() {
                    return (404, json!({"code": "NoSuchKey"}));
                }
                for (_, grants) in self.buckets.values_mut() {
                    grants.remove(id);
                }
                (200, Value::Null)
            }
            ("GET", "/v2/GetBucketInfo") => {
                let alias = &q["globalAlias"];
                match self.buckets.iter().find(|(_, (a, _))| a == alias) {
                    Some((id, _)) => (200, self.bucket(id)),
                    None => (404, json!({"code": "NoSuchBucket"})),
                }
            }
            ("POST", "/v2/CreateBucket") => {
                let alias = body["globalAlias"].as_str().unwrap().to_owned();
                if self.buckets.values().any(|(a, _)| *a == alias) {
                    return (409, json!({"code": "BucketAlreadyExists"}));
                }
                let id = format!("{:064x}", self.buckets.len() + 1);
                self.buckets.insert(id.clone(), (alias, BTreeMap::new()));
                (200, self.bucket(&id))
            }
            ("POST", "/v2/AllowBucketKey") => {
                let bucket = body["bucketId"].as_str().unwrap().to_owned();
                let key = body["accessKeyId"].as_str().unwrap().to_owned();
                if !self.keys.contains_key(&key) {
                    return (404, json!({"code": "NoSuchKey"}));
                }
                let p = &body["permissions"];
                let Some((_, grants)) = self.buckets.get_mut(&bucket) else {
                    return (404, json!({"code": "NoSuchBucket"}));
                };
                let e = grants.entry(key).or_default();
                // Allow adds the permissions that are true.
                e.0 |= p["read"] == true;
                e.1 |= p["write"] == true;
                e.2 |= p["owner"] == true;
                (200, self.bucket(&bucket))
            }
            _ => (
                404,
                json!({"message": format!("no endpoint {method} {path}")}),
            ),
        }
    }

    fn layout(&self) -> Value {
        let roles: Vec<Value> = self
            .roles
            .iter()
            .map(|(id, (z, c))| json!({"id": id, "zone": z, "tags": [], "capacity": c}))
            .collect();
        let staged: Vec<Value> = self
            .staged
            .iter()
            .map(|(id, (z, c))| json!({"id": id, "zone": z, "tags": [], "capacity": c}))
            .collect();
        json!({"version": self.version, "roles": roles, "stagedRoleChanges": staged,
               "parameters": {"zoneRedundancy": "maximum"}, "partitionSize": 0})
    }

    /// GetBucketInfo's answer: only the keys with some permission on the bucket are listed
    /// (Garage v2.1.0 on, d975960b "hide keys without any permissions from admin api").
    fn bucket(&self, id: &str) -> Value {
        let (alias, grants) = &self.buckets[id];
        let keys: Vec<Value> = grants
            .iter()
            .filter(|(_, (r, w, o))| *r || *w || *o)
            .map(|(k, (r, w, o))| {
                json!({"accessKeyId": k, "name": self.keys.get(k).map(|x| x.1.clone()),
                       "permissions": {"read": r, "write": w, "owner": o}, "bucketLocalAliases": []})
            })
            .collect();
        json!({"id": id, "globalAliases": [alias], "keys": keys})
    }

    fn mutations(&self) -> Vec<&String> {
        self.calls
            .iter()
            .filter(|c| c.starts_with("POST"))
            .collect()
    }
}

/// The loopback server: one thread, one request per connection (urllib sends
/// `Connection: close`).
fn serve(model: Arc<Mutex<Garage>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = answer(stream, &model);
        }
    });
    format!("http://{addr}")
}

fn answer(stream: TcpStream, model: &Arc<Mutex<Garage>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut length = 0;
    let mut auth = String::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "authorization" => auth = v.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (code, reply) =
        model
            .lock()
            .unwrap()
            .handle(&method, &target, &auth, &String::from_utf8_lossy(&body));
    let text = if reply.is_null() {
        String::new()
    } else {
        reply.to_string()
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
}

/// The rendered bootstrap of the default platform: the script, the consumers and the Job's
/// environment, written where the Job mounts them.
struct Rendered {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
    consumers: Vec<Value>,
}

fn rendered() -> Rendered {
    let config = PlatformConfig::new("c", "example.nl", Provider::Azure);
    let out = haven_platform::render::render(&config, &Catalogue::builtin().unwrap());
    let path = "infrastructure/garage-config/bootstrap.yaml";
    let docs: Vec<Value> = haven_model::parse_stream(path, &out.files[Path::new(path)])
        .into_iter()
        .map(|d| d.unwrap().value)
        .collect();
    let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for f in ["bootstrap.py", "consumers.json"] {
        std::fs::write(dir.path().join(f), cm["data"][f].as_str().unwrap()).unwrap();
    }
    std::fs::write(dir.path().join("token"), format!("{ADMIN_TOKEN}\n")).unwrap();
    std::fs::write(dir.path().join("kube-token"), KUBE_TOKEN).unwrap();
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let consumers = serde_json::from_str(cm["data"]["consumers.json"].as_str().unwrap()).unwrap();
    Rendered {
        dir,
        env,
        consumers,
    }
}

fn run(r: &Rendered, url: &str, overrides: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new("python3");
    cmd.arg("-B").arg(r.dir.path().join("bootstrap.py"));
    cmd.env_clear();
    for (k, v) in &r.env {
        cmd.env(k, v);
    }
    let d = r.dir.path();
    cmd.env("GARAGE_ADMIN", url)
        .env("GARAGE_ADMIN_TOKEN_FILE", d.join("token"))
        .env("CONSUMERS_FILE", d.join("consumers.json"))
        .env("KUBE_API", url)
        .env("KUBE_TOKEN_FILE", d.join("kube-token"))
        .env("DEADLINE_SECONDS", "20");
    for (k, v) in overrides {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// What External Secrets would have written: `GK` + 24 hex digits, 64 hex digits.
fn credentials(seed: u8) -> (String, String) {
    (
        format!("GK{}", format!("{seed:02x}").repeat(12)),
        format!("{seed:02x}").repeat(32),
    )
}

fn put_secret(model: &Arc<Mutex<Garage>>, c: &Value, seed: u8) -> String {
    let (id, secret) = credentials(seed);
    model.lock().unwrap().secrets.insert(
        (
            c["namespace"].as_str().unwrap().to_owned(),
            c["secret"].as_str().unwrap().to_owned(),
        ),
        BTreeMap::from([
            ("GARAGE_ACCESS_KEY_ID".to_owned(), id.clone()),
            ("GARAGE_SECRET_ACCESS_KEY".to_owned(), secret),
        ]),
    );
    id
}

#[test]
#[ignore = "needs python3 (cargo test -- --include-ignored)"]
fn the_bootstrap_lays_out_garage_and_grants_each_consumer_its_buckets_once() {
    haven_test_support::require_command(
        "python3",
        &["--version"],
        "python3 (apt-get install python3)",
    );
    let r = rendered();
    let names: BTreeSet<&str> = r
        .consumers
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        // keycloak: its database's backups, when Garage is the backup target (no off-cluster
        // target in the default config).
        BTreeSet::from(["keycloak", "loki", "mimir", "velero"]),
        "the default platform's consumers"
    );
    let model = Arc::new(Mutex::new(Garage::default()));
    let nodes: u64 = r.env["GARAGE_NODES"].parse().unwrap();
    let capacity: u64 = r.env["GARAGE_CAPACITY"].parse().unwrap();
    assert_eq!(capacity, 10 << 30, "the default size, 10Gi");
    {
        let mut m = model.lock().unwrap();
        for i in 0..nodes {
            m.nodes.insert(format!("{:064x}", 0xa0 + i), true);
        }
    }
    let url = serve(model.clone());
    let mut ids = BTreeMap::new();
    for (i, c) in r.consumers.iter().enumerate() {
        ids.insert(
            c["component"].as_str().unwrap().to_owned(),
            put_secret(&model, c, i as u8 + 1),
        );
    }

    // A fresh Garage: layout, keys, buckets, grants.
    let (ok, log) = run(&r, &url, &[]);
    assert!(ok, "{log}");
    {
        let m = model.lock().unwrap();
        assert_eq!(m.version, 1, "{log}");
        assert_eq!(m.roles.len() as u64, nodes);
        assert!(
            m.roles
                .values()
                .all(|(z, c)| z == "haven" && *c == capacity)
        );
        assert_eq!(m.keys.len(), r.consumers.len());
        for c in &r.consumers {
            let id = &ids[c["component"].as_str().unwrap()];
            let name = &m.keys[id].1;
            assert_eq!(
                name,
                &format!(
                    "haven:{}/{}",
                    c["namespace"].as_str().unwrap(),
                    c["secret"].as_str().unwrap()
                )
            );
            let own: BTreeSet<&str> = c["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_str().unwrap())
                .collect();
            // Read and write on its own buckets, never owner, nothing on the others.
            for (alias, grants) in m.buckets.values() {
                match grants.get(id) {
                    Some(p) => {
                        assert!(own.contains(alias.as_str()), "{id} on {alias}");
                        assert_eq!(*p, (true, true, false));
                    }
                    None => assert!(!own.contains(alias.as_str()), "{id} lacks {alias}"),
                }
            }
        }
        let all: usize = r
            .consumers
            .iter()
            .map(|c| c["buckets"].as_array().unwrap().len())
            .sum();
        assert_eq!(m.buckets.len(), all);
    }

    // Again: nothing to change, so nothing is changed.
    model.lock().unwrap().calls.clear();
    let (ok, log) = run(&r, &url, &[]);
    assert!(ok, "{log}");
    assert_eq!(
        model.lock().unwrap().mutations(),
        Vec::<&String>::new(),
        "{log}"
    );

    // A key left on its bucket with no permission (DenyBucketKey), beside another key that
    // may read it: Garage lists the other key only, and the bootstrap grants its own read and
    // write again, that alone.
    let velero_key = ids["velero"].clone();
    let reader = format!("GK{}", "ee".repeat(12));
    {
        let mut m = model.lock().unwrap();
        let (_, grants) = m.buckets.values_mut().find(|(a, _)| a == "velero").unwrap();
        grants.insert(velero_key.clone(), (false, false, false));
        grants.insert(reader.clone(), (true, false, false));
        m.calls.clear();
    }
    let (ok, log) = run(&r, &url, &[]);
    assert!(ok, "{log}");
    {
        let mut m = model.lock().unwrap();
        assert_eq!(m.mutations(), vec!["POST /v2/AllowBucketKey"], "{log}");
        let (_, grants) = m.buckets.values_mut().find(|(a, _)| a == "velero").unwrap();
        assert_eq!(grants[&velero_key], (true, true, false), "{log}");
        assert_eq!(grants.remove(&reader), Some((true, false, false)));
    }

    // A scale-up: the new node alone is assigned, the layout applied once more.
    let new = format!("{:064x}", 0xff);
    model.lock().unwrap().nodes.insert(new.clone(), true);
    model.lock().unwrap().calls.clear();
    let four = (nodes + 1).to_string();
    let (ok, log) = run(&r, &url, &[("GARAGE_NODES", &four)]);
    assert!(ok, "{log}");
    {
        let m = model.lock().unwrap();
        assert_eq!(m.version, 2);
        assert_eq!(m.roles[&new], ("haven".to_owned(), capacity));
        assert_eq!(
            m.mutations(),
            vec![
                "POST /v2/UpdateClusterLayout",
                "POST /v2/ApplyClusterLayout"
            ]
        );
    }

    // A rotation (the consumer's Secret made again): the new key is imported and granted,
    // the earlier one deleted.
    let velero = r
        .consumers
        .iter()
        .find(|c| c["component"] == "velero")
        .unwrap();
    let old = ids["velero"].clone();
    let rotated = put_secret(&model, velero, 0x77);
    let (ok, log) = run(&r, &url, &[("GARAGE_NODES", &four)]);
    assert!(ok, "{log}");
    {
        let m = model.lock().unwrap();
        assert!(
            m.keys.contains_key(&rotated) && !m.keys.contains_key(&old),
            "{log}"
        );
        let (_, grants) = m.buckets.values().find(|(a, _)| a == "velero").unwrap();
        assert_eq!(grants.keys().collect::<Vec<_>>(), vec![&rotated]);
    }
}

#[test]
#[ignore = "needs python3 (cargo test -- --include-ignored)"]
fn the_bootstrap_waits_for_what_is_missing_and_fails_clearly() {
    haven_test_support::require_command(
        "python3",
        &["--version"],
        "python3 (apt-get install python3)",
    );
    let r = rendered();
    let model = Arc::new(Mutex::new(Garage::default()));
    model.lock().unwrap().nodes.insert("n1".into(), true);
    let url = serve(model.clone());
    // Too few nodes up: it waits, then gives up within its deadline, saying for what.
    let (ok, log) = run(&r, &url, &[("DEADLINE_SECONDS", "3")]);
    assert!(!ok);
    assert!(
        log.contains("gave up waiting for 3 Garage nodes up"),
        "{log}"
    );
    assert_eq!(model.lock().unwrap().mutations(), Vec::<&String>::new());
    // A wrong admin token is not waited on.
    std::fs::write(r.dir.path().join("token"), "wrong").unwrap();
    let (ok, log) = run(&r, &url, &[("DEADLINE_SECONDS", "30")]);
    assert!(!ok);
    assert!(log.contains("HTTP 403"), "{log}");
    // A layout that has not reached the nodes yet: the key and bucket calls answer 500
    // "Layout not ready" a while; waited on, then done as on a ready Garage.
    std::fs::write(r.dir.path().join("token"), ADMIN_TOKEN).unwrap();
    {
        let mut m = model.lock().unwrap();
        for i in 0..3 {
            m.nodes.insert(format!("n{i}"), true);
        }
        for (i, c) in r.consumers.iter().enumerate() {
            let (id, secret) = credentials(i as u8 + 1);
            m.secrets.insert(
                (
                    c["namespace"].as_str().unwrap().to_owned(),
                    c["secret"].as_str().unwrap().to_owned(),
                ),
                BTreeMap::from([
                    ("GARAGE_ACCESS_KEY_ID".to_owned(), id),
                    ("GARAGE_SECRET_ACCESS_KEY".to_owned(), secret),
                ]),
            );
        }
        m.not_ready = 2;
    }
    let (ok, log) = run(&r, &url, &[("DEADLINE_SECONDS", "30")]);
    assert!(ok, "{log}");
    assert!(
        log.contains("waiting for Garage's keys and buckets: GET /v2/ListKeys: HTTP 500"),
        "{log}"
    );
    {
        let mut m = model.lock().unwrap();
        assert_eq!(m.not_ready, 0);
        assert_eq!(m.keys.len(), r.consumers.len(), "{log}");
        assert!(
            m.buckets
                .values()
                .all(|(_, g)| g.values().all(|p| *p == (true, true, false))),
            "{log}"
        );
        m.secrets.clear();
        m.keys.clear();
        m.buckets.clear();
    }
    // A consumer's Secret that is not there yet: waited for, then named.
    let (ok, log) = run(&r, &url, &[("DEADLINE_SECONDS", "3")]);
    assert!(!ok);
    assert!(log.contains("gave up waiting for Secret "), "{log}");
}

/// With Sealed Secrets nothing can make a key in the cluster: no bootstrap Job is rendered (it
/// would wait for Secrets nobody makes), and the render's note tells the person what to lay out
/// and import, every consumer's Secret and buckets named (without it Garage stores nothing).
#[test]
fn with_sealed_secrets_the_note_names_every_consumer_and_no_job_is_rendered() {
    let mut c = PlatformConfig::new("haven", "example.nl", Provider::Ovh);
    c.capabilities.secrets.backend = haven_platform::config::SecretsBackend::SealedSecrets;
    let out = haven_platform::render::render(&c, &Catalogue::builtin().unwrap());
    assert!(
        !out.files
            .keys()
            .any(|p| p.to_string_lossy().contains("garage-config")),
        "{:?}",
        out.files.keys().collect::<Vec<_>>()
    );
    let note = out
        .notes
        .iter()
        .find(|n| n.starts_with("Garage with Sealed Secrets"))
        .unwrap_or_else(|| panic!("{:#?}", out.notes));
    for wanted in [
        "`kubectl -n garage exec garage-0 -- /garage …`",
        "zone `haven` with capacity 10737418240 bytes",
        "loki/loki-s3 → loki-chunks, loki-ruler, loki-admin",
        "mimir/mimir-s3 → mimir-blocks",
        "velero/velero-s3 → velero",
        "Object storage with Sealed Secrets",
    ] {
        assert!(note.contains(wanted), "{wanted} in {note}");
    }
}
