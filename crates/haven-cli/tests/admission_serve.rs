//! `haven admission serve` as a process on 127.0.0.1, as the chart runs it: what only a whole
//! process shows. Its file descriptors run out (the accept loop must pace itself and log once
//! per interval, and requests must still be answered), SIGTERM under load (no request in
//! flight may fail), and the benchmark's flags, which a release build must not know.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haven_test_support::TestCa;

/// A running `haven admission serve --no-watch` and the lines of its log.
struct Webhook {
    child: Child,
    port: u16,
    ca_der: Vec<u8>,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Webhook {
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("haven test CA").unwrap();
        let cert = ca.issue(&["localhost", "127.0.0.1"]).unwrap();
        std::fs::write(dir.path().join("tls.crt"), &cert.cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &cert.key_pem).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_haven"))
            .args([
                "admission",
                "serve",
                "--no-watch",
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--cert")
            .arg(dir.path().join("tls.crt"))
            .arg("--key")
            .arg(dir.path().join("tls.key"))
            .args(extra)
            .env("HAVEN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn({
            let log = Arc::clone(&log);
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("\"listening\"") {
                        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
                        let addr = json["fields"]["addr"].as_str().unwrap().to_owned();
                        let _ = port_tx.send(addr.rsplit(':').next().unwrap().parse::<u16>());
                    }
                    log.lock().unwrap().push(line);
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the webhook did not start: {:?}", log.lock().unwrap()))
            .unwrap();
        Webhook {
            child,
            port,
            ca_der: ca.cert_der(),
            log,
            _dir: dir,
        }
    }

    fn pid(&self) -> rustix::process::Pid {
        rustix::process::Pid::from_raw(self.child.id() as i32).unwrap()
    }

    /// CPU time (user + system) the process has used.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // CLK_TCK is 100 on every Linux that this runs on.
        Duration::from_millis(ticks * 10)
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    fn log_lines(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// A TLS connection; `None` when refused.
    fn connect(&self) -> Option<Client> {
        connect(self.port, &self.ca_der)
    }
}

/// A TLS connection to the webhook on `port`, trusting `ca_der`; `None` when refused.
fn connect(port: u16, ca_der: &[u8]) -> Option<Client> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(ca_der.to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    Some(Client(BufReader::new(rustls::StreamOwned::new(conn, tcp))))
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP/1.1 keep-alive client on one TLS connection.
struct Client(BufReader<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>);

/// A response: status, whether the server closes the connection after it, and the body.
struct Answer {
    status: u16,
    close: bool,
    body: String,
}

impl Client {
    fn send(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.0.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let mut line = String::new();
        if self.0.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let (mut length, mut close) = (0usize, false);
        loop {
            line.clear();
            if self.0.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(v) = header.strip_prefix("content-length:") {
                length = v
                    .trim()
                    .parse()
                    .map_err(|_| std::io::ErrorKind::InvalidData)?;
            }
            close |= header == "connection: close";
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body)?;
        Ok(Answer {
            status,
            close,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// An AdmissionReview of a compliant Pod.
fn pod_review(uid: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "namespace": "zaken",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                "spec": {"containers": [{"name": "app", "image": "registry.example.nl/app:1.0",
                    "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}]}
            }
        }
    }))
    .unwrap()
}

fn answered(client: &mut Client, uid: &str) -> bool {
    client
        .send("POST", "/validate", &pod_review(uid))
        .is_ok_and(|a| a.status == 200 && a.body.contains("\"allowed\":true"))
}

#[test]
fn when_file_descriptors_run_out_the_server_backs_off_and_still_answers() {
    let webhook = Webhook::start(&[
        "--max-connections",
        "1000",
        "--max-connections-per-client",
        "1000",
        // Connections that never send a request hold their descriptor this long.
        "--header-timeout",
        "30s",
    ]);
    // A client with a connection it uses, as an API server has.
    let mut api_server = webhook.connect().unwrap();
    assert!(answered(&mut api_server, "before"));

    // Leave the process a handful of descriptors, then take them with connections that never
    // say a word (and more that wait in the listen queue).
    let spare = 6;
    let limit = (webhook.open_files() + spare) as u64;
    rustix::process::prlimit(
        Some(webhook.pid()),
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(limit),
            maximum: Some(limit),
        },
    )
    .unwrap();
    let silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(("127.0.0.1", webhook.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let failed_before = webhook.log_lines("accept-failed");
    assert!(
        failed_before >= 1,
        "accept never failed: the test did not exhaust descriptors"
    );

    // Exhausted for 3 s more: the loop must not spin, nor log each attempt.
    let cpu = webhook.cpu();
    let more: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(("127.0.0.1", webhook.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let used = webhook.cpu() - cpu;
    assert!(
        used < Duration::from_millis(600),
        "{used:?} of CPU in 3 s while descriptors were exhausted: the accept loop spins"
    );
    let logged = webhook.log_lines("accept-failed");
    assert!(
        logged <= 2,
        "{logged} accept-failed lines: one per interval expected\n{}",
        webhook.log.lock().unwrap().join("\n")
    );

    // Requests are still answered: on the connection in use, and on a new one.
    assert!(answered(&mut api_server, "during"));
    let started = Instant::now();
    let mut fresh = loop {
        if let Some(mut c) = webhook.connect()
            && answered(&mut c, "fresh")
        {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no new connection is served while descriptors are exhausted"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(answered(&mut fresh, "fresh again"));
    drop((silent, more));
}

#[test]
fn sigterm_under_load_fails_no_request_in_flight() {
    let webhook = Webhook::start(&["--drain-period", "2s", "--shutdown-grace", "5s"]);
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    // Milliseconds after `t0` of the last answer.
    let last_answer = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (ok, failed, refused) = (ok.clone(), failed.clone(), refused.clone());
            let last_answer = last_answer.clone();
            let (port, ca_der) = (webhook.port, webhook.ca_der.clone());
            std::thread::spawn(move || {
                // Back to back on a keep-alive connection, as a busy API server; a new
                // connection when told to close; done when connections are refused.
                let mut n = 0;
                'connections: while let Some(mut client) = connect(port, &ca_der) {
                    loop {
                        n += 1;
                        match client.send("POST", "/validate", &pod_review(&format!("{w}-{n}"))) {
                            Ok(a) if a.status == 200 => {
                                ok.fetch_add(1, Ordering::Relaxed);
                                last_answer
                                    .fetch_max(t0.elapsed().as_millis() as u64, Ordering::Relaxed);
                                if a.close {
                                    continue 'connections;
                                }
                            }
                            Ok(a) => {
                                failed
                                    .lock()
                                    .unwrap()
                                    .push(format!("{} {}", a.status, a.body));
                                continue 'connections;
                            }
                            Err(e) => {
                                failed.lock().unwrap().push(e.to_string());
                                continue 'connections;
                            }
                        }
                    }
                }
                refused.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let before = ok.load(Ordering::Relaxed);
    assert!(before > 0, "no load");
    let signalled = t0.elapsed();
    rustix::process::kill_process(webhook.pid(), rustix::process::Signal::TERM).unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let mut webhook = webhook;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = webhook.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the webhook did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let failed = failed.lock().unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed after SIGTERM: {failed:?}",
        failed.len(),
        ok.load(Ordering::Relaxed) + failed.len()
    );
    // The open connections were served through the drain period (2 s), then closed; new ones
    // were refused.
    assert!(
        ok.load(Ordering::Relaxed) > before,
        "nothing served after SIGTERM"
    );
    let served_for =
        Duration::from_millis(last_answer.load(Ordering::Relaxed)).saturating_sub(signalled);
    assert!(
        served_for >= Duration::from_millis(1500),
        "open connections were served for only {served_for:?} after SIGTERM"
    );
    assert_eq!(refused.load(Ordering::Relaxed), 6);
    assert_eq!(webhook.log_lines("\"draining\""), 1);
}

#[cfg(not(feature = "bench"))]
#[test]
fn the_benchmark_flags_are_not_in_a_release_build() {
    let help = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["admission", "serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("--idle-timeout"), "{help}");
    for flag in ["--null-responder", "--engine-only"] {
        assert!(!help.contains(flag), "{flag} in:\n{help}");
        let out = Command::new(env!("CARGO_BIN_EXE_haven"))
            .args([
                "admission",
                "serve",
                "--cert",
                "c",
                "--key",
                "k",
                "--no-watch",
                flag,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("unexpected argument '{flag}'")),
            "{stderr}"
        );
    }
}
