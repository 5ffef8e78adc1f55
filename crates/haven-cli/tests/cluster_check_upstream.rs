//! `haven check --online` and `haven check --update-release-data` as subprocesses, against a
//! fake GitHub API on 127.0.0.1 (plain HTTP, `--github-api`): no internet needed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use haven_test_support::{ApiServer, FakeCluster};
use serde_json::{Value, json};

/// A fake GitHub: answers `GET path` from a table (`{base}` in a body becomes the server's own
/// URL), 404 for anything else; records every path asked.
struct FakeGithub {
    base: String,
    asked: Arc<Mutex<Vec<String>>>,
}

impl FakeGithub {
    fn start(routes: &[(&str, u16, String)]) -> FakeGithub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: BTreeMap<String, (u16, String)> = routes
            .iter()
            .map(|(p, s, b)| (p.to_string(), (*s, b.replace("{base}", &base))))
            .collect();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream);
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                // Skip the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
                log.lock().unwrap().push(path.clone());
                let (status, body) = routes
                    .get(&path)
                    .cloned()
                    .unwrap_or((404, r#"{"message":"Not Found"}"#.into()));
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut rest = [0u8; 64];
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(10)));
                let _ = stream.read(&mut rest);
            }
        });
        FakeGithub { base, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

fn fixture(name: &str) -> FakeCluster {
    FakeCluster::named(name)
}

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("haven-upstream-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `haven ARGS` with a private data directory and no proxy from the environment.
fn haven(args: &[&str], kubeconfig: &str, xdg: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", xdg)
        .env("XDG_DATA_HOME", xdg)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn check(v: &Value, name: &str) -> Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no check {name}"))
}

fn dir_listing(entries: &[(&str, &str)]) -> String {
    let v: Vec<Value> = entries
        .iter()
        .map(|(name, kind)| {
            json!({"name": name, "type": kind, "download_url": if *kind == "file" { json!(format!("{{base}}/raw/{name}")) } else { Value::Null }})
        })
        .collect();
    serde_json::to_string(&v).unwrap()
}

/// RKE2 1.38: newer than the built-in CNCF list (UNKNOWN offline); `--online` finds
/// `v1.38/rke2` and its passing e2e.log as upstream does (YES). A submission whose e2e.log
/// reports failures is NO. When GitHub refuses (rate limit), the built-in list decides and the
/// reason says why.
#[test]
fn online_looks_the_platform_up_in_cncf_k8s_conformance() {
    let cluster = fixture("rke2-1.37.yaml");
    cluster.set_version(json!({"major": "1", "minor": "38", "gitVersion": "v1.38.0+rke2r1"}));
    let server = ApiServer::start_background(cluster).unwrap();
    let d = Dir::new("online");
    let kc = d.path("kubeconfig");
    std::fs::write(&kc, server.kubeconfig_yaml("fake")).unwrap();
    let xdg = d.path("xdg");

    // Offline: the list stops at 1.37.
    let o = haven(&["check", "-o", "haven-json", "--no-cncf"], &kc, &xdg);
    assert!(o.status.code().is_some(), "{}", err(&o));
    let o = haven(&["check", "-o", "haven-json"], &kc, &xdg);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(check(&v, "cncf")["result"], "UNKNOWN", "{}", err(&o));

    let github = FakeGithub::start(&[
        (
            "/repos/cncf/k8s-conformance/contents/v1.38/rke2?ref=master",
            200,
            dir_listing(&[("PRODUCT.yaml", "file"), ("e2e.log", "file")]),
        ),
        (
            "/raw/e2e.log",
            200,
            "Ran 441 of 7348 Specs\nSUCCESS! -- 441 Passed | 0 Failed | 0 Pending | 6907 Skipped\nPASS\n"
                .into(),
        ),
    ]);
    let o = haven(
        &[
            "check",
            "-o",
            "haven-json",
            "--online",
            "--github-api",
            &github.base,
        ],
        &kc,
        &xdg,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", err(&o)));
    let cncf = check(&v, "cncf");
    assert_eq!(cncf["result"], "YES", "{cncf}");
    assert!(
        cncf["reason"]
            .as_str()
            .unwrap()
            .contains("v1.38/rke2; e2e.log: 441 passed, 0 failed"),
        "{cncf}"
    );
    assert!(
        cncf["method"].as_str().unwrap().contains("looked up live"),
        "{cncf}"
    );
    assert_eq!(
        github.asked(),
        [
            "/repos/cncf/k8s-conformance/contents/v1.38/rke2?ref=master",
            "/raw/e2e.log"
        ]
    );

    // The submission found under an older directory name, with failures in its log: NO.
    let failing = FakeGithub::start(&[
        (
            "/repos/cncf/k8s-conformance/contents/v1.38/rke?ref=master",
            200,
            dir_listing(&[("e2e.log", "file")]),
        ),
        (
            "/raw/e2e.log",
            200,
            "FAIL! -- 430 Passed | 11 Failed | 0 Pending | 6907 Skipped\n".into(),
        ),
    ]);
    let o = haven(
        &[
            "check",
            "-o",
            "haven-json",
            "--online",
            "--github-api",
            &failing.base,
        ],
        &kc,
        &xdg,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let cncf = check(&v, "cncf");
    assert_eq!(cncf["result"], "NO", "{cncf}");
    assert!(
        cncf["reason"]
            .as_str()
            .unwrap()
            .contains("v1.38/rke exists, but its e2e.log reports 11 failed of 441"),
        "{cncf}"
    );
    assert_eq!(o.status.code(), Some(1));

    // Rate limited: the built-in list decides (UNKNOWN for 1.38), and says why.
    let limited = FakeGithub::start(&[(
        "/repos/cncf/k8s-conformance/contents/v1.38/rke2?ref=master",
        403,
        r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#.into(),
    )]);
    let o = haven(
        &[
            "check",
            "-o",
            "haven-json",
            "--online",
            "--github-api",
            &limited.base,
        ],
        &kc,
        &xdg,
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let cncf = check(&v, "cncf");
    assert_eq!(cncf["result"], "UNKNOWN", "{cncf}");
    let reason = cncf["reason"].as_str().unwrap();
    assert!(
        reason.contains("--online lookup failed")
            && reason.contains("HTTP 403: API rate limit exceeded"),
        "{reason}"
    );
}

fn release(tag: &str, day: &str) -> String {
    json!({"tag_name": tag, "draft": false, "prerelease": false, "published_at": format!("{day}T15:00:00Z")}).to_string()
}

/// `--update-release-data` fetches the Kubernetes releases and the CNCF list from (fake) GitHub,
/// writes `$XDG_DATA_HOME/haven/updated-release-data.json`, and later runs judge by it: a 1.38
/// cluster becomes CNCF-certified and the report names the updated data.
#[test]
fn update_release_data_writes_fresh_data_that_later_runs_use() {
    let d = Dir::new("update");
    let xdg = d.path("xdg");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let top = dir_listing(&[
        ("README.md", "file"),
        ("v1.29", "dir"),
        ("v1.37", "dir"),
        ("v1.38", "dir"),
    ]);
    let github = FakeGithub::start(&[
        (
            "/repos/kubernetes/kubernetes/releases/tags/v1.37.0",
            200,
            release("v1.37.0", "2026-08-26"),
        ),
        (
            "/repos/kubernetes/kubernetes/releases/tags/v1.38.0",
            200,
            release("v1.38.0", "2026-12-16"),
        ),
        (
            "/repos/cncf/k8s-conformance/commits/master",
            200,
            json!({"sha": sha}).to_string(),
        ),
        (
            &format!("/repos/cncf/k8s-conformance/contents?ref={sha}"),
            200,
            top,
        ),
        (
            &format!("/repos/cncf/k8s-conformance/contents/v1.37?ref={sha}"),
            200,
            dir_listing(&[("rke2", "dir"), ("talos", "dir")]),
        ),
        (
            &format!("/repos/cncf/k8s-conformance/contents/v1.38?ref={sha}"),
            200,
            dir_listing(&[("rke2", "dir"), ("Taikun CloudWorks", "dir")]),
        ),
    ]);
    let o = haven(
        &[
            "check",
            "--update-release-data",
            "--github-api",
            &github.base,
        ],
        "/nonexistent",
        &xdg,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let file = format!("{xdg}/haven/updated-release-data.json");
    assert!(
        out.contains(&format!("haven: wrote {file}"))
            && out.contains("CNCF list 1.37–1.38 (3 product directories")
            && out.contains(sha),
        "{out}"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["cncf"]["commit"], sha);
    assert_eq!(written["cncf"]["products"]["rke2"], json!(["1.37", "1.38"]));
    assert_eq!(written["kubernetes"]["releases"][0]["minor"], "1.38");
    // Nothing left behind but the file.
    let names: Vec<String> = std::fs::read_dir(format!("{xdg}/haven"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["updated-release-data.json"]);

    // A later run on a 1.38 RKE2 cluster judges by the updated CNCF list.
    let cluster = fixture("rke2-1.37.yaml");
    cluster.set_version(json!({"major": "1", "minor": "38", "gitVersion": "v1.38.0+rke2r1"}));
    let server = ApiServer::start_background(cluster).unwrap();
    let kc = d.path("kubeconfig");
    std::fs::write(&kc, server.kubeconfig_yaml("fake")).unwrap();
    let o = haven(&["check", "-o", "haven-json"], &kc, &xdg);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(check(&v, "cncf")["result"], "YES", "{}", check(&v, "cncf"));
    assert!(
        v["releaseData"]["origin"]
            .as_str()
            .unwrap()
            .contains("updated-release-data.json"),
        "{}",
        v["releaseData"]
    );

    // A broken update file is an error naming it, not silently ignored.
    std::fs::write(&file, "{\"kind\": 3}").unwrap();
    let o = haven(&["check", "-o", "haven-json"], &kc, &xdg);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("updated-release-data.json:1: field"),
        "{}",
        err(&o)
    );
}

/// Clear errors, exit 2, nothing written: GitHub refusing, and nobody listening.
#[test]
fn update_release_data_errors_are_clear_and_write_nothing() {
    let d = Dir::new("update-errors");
    let xdg = d.path("xdg");
    let limited = FakeGithub::start(&[(
        "/repos/kubernetes/kubernetes/releases/tags/v1.37.0",
        403,
        r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#.into(),
    )]);
    let o = haven(
        &[
            "check",
            "--update-release-data",
            "--github-api",
            &limited.base,
        ],
        "/nonexistent",
        &xdg,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--update-release-data: ")
            && err(&o).contains("HTTP 403: API rate limit exceeded"),
        "{}",
        err(&o)
    );
    assert!(!std::path::Path::new(&format!("{xdg}/haven/updated-release-data.json")).exists());

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let o = haven(
        &[
            "check",
            "--update-release-data",
            "--github-api",
            &url,
            "--timeout",
            "3s",
        ],
        "/nonexistent",
        &xdg,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains(&url), "{}", err(&o));
}
