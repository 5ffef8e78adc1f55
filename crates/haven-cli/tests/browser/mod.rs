//! Headless Chromium for the HTML report tests: the command-line modes (`--dump-dom`,
//! `--screenshot`, `--print-to-pdf`) and a small DevTools-protocol session to type on a page.
//!
//! The session speaks the protocol over `tungstenite` (JSON messages on one WebSocket). Why not
//! `headless_chrome` or `chromiumoxide`: both generate Rust types for the whole protocol (1.5 MB
//! of protocol JSON) at build time, which costs minutes of compile time and hundreds of MB of
//! build output on every CI run, for the six methods these tests call; chromiumoxide also
//! brings an async runtime. The methods used (`Target.*`, `Page.navigate`, `Runtime.evaluate`,
//! `Input.dispatchKeyEvent`, `Log.enable`, `Network.enable`) are stable parts of the protocol.

#![allow(dead_code)] // each test uses its own subset

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// The Chromium binary: `HAVEN_CHROMIUM`, else `chromium`, `chromium-browser`, `google-chrome`
/// on PATH. The browser tests are `#[ignore = "needs chromium …"]`; run with `--include-ignored`
/// (as `.ci/run` does, after installing the Debian package `chromium`) without it, they fail
/// with this message.
pub fn chromium() -> PathBuf {
    std::env::var_os("HAVEN_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .flat_map(|p| std::env::split_paths(&path).map(move |d| d.join(p)))
                .find(|p| p.is_file())
        })
        .expect(
            "headless Chromium is not installed (Debian: apt-get install --no-install-recommends \
             chromium; or set HAVEN_CHROMIUM): the HTML report browser tests need it",
        )
}

/// A fresh profile directory, removed afterwards.
pub struct Profile(PathBuf);

impl Profile {
    pub fn new(name: &str) -> Profile {
        let p = std::env::temp_dir().join(format!(
            "haven-chromium-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Profile(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Flags for a quiet, offline, sandbox-less (tests run as root in containers) headless browser.
fn base_args(profile: &Profile) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--mute-audio",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", profile.path().display())])
    .collect()
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// Runs Chromium once with `args` (after the base flags) and returns its standard output.
pub fn run(chromium: &Path, name: &str, args: &[&str]) -> String {
    let profile = Profile::new(name);
    let out = Command::new(chromium)
        .args(base_args(&profile))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromium.display()));
    assert!(
        out.status.success(),
        "chromium {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM after the page's scripts ran (`--dump-dom`).
pub fn dump_dom(chromium: &Path, page: &Path) -> String {
    run(chromium, "dom", &["--dump-dom", &file_url(page)])
}

/// A screenshot of the window's top `width` x `height` pixels (`--screenshot`), decoded.
pub fn screenshot(chromium: &Path, page: &Path, width: u32, height: u32) -> Png {
    let profile = Profile::new("shot");
    let file = profile.path().join("shot.png");
    run(
        chromium,
        "shot-run",
        &[
            &format!("--screenshot={}", file.display()),
            &format!("--window-size={width},{height}"),
            &file_url(page),
        ],
    );
    let bytes = std::fs::read(&file).expect("chromium wrote no screenshot");
    Png::decode(&bytes)
}

/// The page printed to PDF (`--print-to-pdf`), as bytes.
pub fn print_to_pdf(chromium: &Path, page: &Path) -> Vec<u8> {
    let profile = Profile::new("pdf");
    let file = profile.path().join("page.pdf");
    run(
        chromium,
        "pdf-run",
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", file.display()),
            &file_url(page),
        ],
    );
    std::fs::read(&file).expect("chromium wrote no PDF")
}

/// A decoded PNG as RGBA pixels.
pub struct Png {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
    pub file_size: usize,
}

impl Png {
    pub fn decode(bytes: &[u8]) -> Png {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
        let mut reader = decoder.read_info().expect("not a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("PNG too large")];
        let info = reader.next_frame(&mut buf).expect("PNG frame");
        buf.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::GrayscaleAlpha => buf
                .chunks(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            other => panic!("unexpected PNG colour type {other:?}"),
        };
        Png {
            width: info.width,
            height: info.height,
            rgba,
            file_size: bytes.len(),
        }
    }

    /// Share of pixels that are not white, distinct colours, and how many pixels have `rgb`: in
    /// one pass (a colour bitmap instead of a hash set: these tests run unoptimised).
    pub fn stats(&self, rgb: [u8; 3]) -> PngStats {
        let mut seen = vec![false; 1 << 24];
        let (mut ink, mut colours, mut matching) = (0usize, 0usize, 0usize);
        for p in self.rgba.chunks_exact(4) {
            let key = (usize::from(p[0]) << 16) | (usize::from(p[1]) << 8) | usize::from(p[2]);
            if key != 0xff_ff_ff {
                ink += 1;
            }
            if !seen[key] {
                seen[key] = true;
                colours += 1;
            }
            if p[..3] == rgb {
                matching += 1;
            }
        }
        PngStats {
            ink: ink as f64 / (f64::from(self.width) * f64::from(self.height)),
            colours,
            matching,
        }
    }
}

pub struct PngStats {
    pub ink: f64,
    pub colours: usize,
    pub matching: usize,
}

/// A browser driven over the DevTools protocol, killed when dropped.
pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Events received while waiting for answers, oldest first.
    pub events: Vec<Value>,
    _profile: Profile,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    pub fn launch(chromium: &Path, width: u32, height: u32) -> Browser {
        let profile = Profile::new("cdp");
        let mut child = Command::new(chromium)
            .args(base_args(&profile))
            .args([
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        // Chromium prints `DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID` on
        // stderr; the rest of stderr is drained so the pipe never fills.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium did not open its DevTools endpoint within 30 s");
        let host = url
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .expect("unexpected DevTools URL");
        let stream = TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
        Browser {
            child,
            ws,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// Sends one command (to a page when `session` is set) and waits for its answer.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to chromium");
        loop {
            let v = self.read();
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("read from chromium") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                Message::Close(_) => panic!("chromium closed the connection"),
                _ => {}
            }
        }
    }

    /// Waits (up to 20 s) for an event of this page; earlier ones are looked at first.
    pub fn wait_event(&mut self, session: &str, method: &str) -> Value {
        let is = |v: &Value| v["method"] == json!(method) && v["sessionId"] == json!(session);
        if let Some(i) = self.events.iter().position(is) {
            return self.events.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let v = self.read();
            if is(&v) {
                return v;
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
        panic!("no {method} within 20 s");
    }

    /// Opens `url` in a new tab with logging and network events on; returns the tab's session.
    pub fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let session = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        )["sessionId"]
            .as_str()
            .unwrap()
            .to_owned();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            self.call(Some(&session), domain, json!({}));
        }
        self.call(Some(&session), "Page.navigate", json!({"url": url}));
        self.wait_event(&session, "Page.loadEventFired");
        session
    }

    /// Evaluates a JavaScript expression in the page and returns its value as JSON.
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Presses and releases a key as a user would (trusted events: a checkbox toggles on Space,
    /// Tab moves the focus). `key` is `Tab`, `Enter`, ` ` (Space); `shift` holds Shift.
    pub fn press(&mut self, session: &str, key: &str, shift: bool) {
        let (code, vk, text) = match key {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            " " => ("Space", 32, " "),
            other => panic!("no key mapping for {other:?}"),
        };
        let modifiers = if shift { 8 } else { 0 };
        let mut down = json!({"type": "keyDown", "key": key, "code": code,
            "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk, "modifiers": modifiers});
        if !text.is_empty() {
            down["text"] = json!(text);
        }
        self.call(Some(session), "Input.dispatchKeyEvent", down);
        self.call(
            Some(session),
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code,
                "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk, "modifiers": modifiers}),
        );
    }

    /// Log entries and console messages of a page (CSP violations are reported there).
    pub fn log_messages(&self, session: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["sessionId"] == json!(session))
            .filter_map(|e| match e["method"].as_str() {
                Some("Log.entryAdded") => Some(format!(
                    "{}: {}",
                    e["params"]["entry"]["level"].as_str().unwrap_or(""),
                    e["params"]["entry"]["text"].as_str().unwrap_or("")
                )),
                Some("Runtime.consoleAPICalled") => Some(format!(
                    "console.{}: {}",
                    e["params"]["type"].as_str().unwrap_or(""),
                    e["params"]["args"]
                )),
                Some("Runtime.exceptionThrown") => {
                    Some(format!("exception: {}", e["params"]["exceptionDetails"]))
                }
                _ => None,
            })
            .collect()
    }

    /// URLs the page asked the network for.
    pub fn requests(&self, session: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                e["sessionId"] == json!(session)
                    && e["method"] == json!("Network.requestWillBeSent")
            })
            .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_owned))
            .collect()
    }
}
