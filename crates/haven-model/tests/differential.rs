//! haven's YAML reader against the one Kubernetes reads YAML with.
//!
//! Kubernetes (kubectl, the API server, Helm) turns YAML documents into JSON with
//! `sigs.k8s.io/yaml` on go-yaml v2. `tests/goyaml/main.go` does exactly that, with Debian's
//! packages of both (`golang-go golang-gopkg-yaml.v2-dev golang-k8s-sigs-yaml-dev`, installed
//! by `.ci/run`), built here offline. Both of haven's readers, the fast path and the full parser,
//! must accept exactly the documents it accepts and read them to the same JSON, on
//!
//! - every YAML file in the repository and in `../shared/charts` (chart templates excepted: they
//!   are Go templates), and every chart there rendered with `tools/helm` (cached under `target/`);
//! - generated documents (`generated_documents_read_as_kubernetes_reads_them`: a property test
//!   with a fixed seed and budget, `HAVEN_DIFF_CASES` cases, 100,000 by default), and mutations of
//!   them and of the corpus.
//!
//! Documents are compared one by one as haven splits a stream (`raw_documents`); how a stream is
//! split is tested elsewhere. Disagreements that are go-yaml bugs Kubernetes does not have are
//! listed, with the reason, in `tests/goyaml/known-disagreements.txt`.
//!
//! The tests that need Go (and `../shared`) are `#[ignore = "needs go …"]`: a plain `cargo test`
//! lists them as ignored; `--include-ignored` (`.ci/run`) runs them, and then a missing Go,
//! package or `../shared` fails them (the convention of `haven_test_support::shared_path`).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use haven_model::yaml::{RawDocument, raw_documents};
use serde_json::Value;

const GOPATH: &str = "/usr/share/gocode";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A prerequisite is missing: the test was asked for (it is ignored by default), so it fails.
fn unavailable(why: &str) -> ! {
    panic!("the go-yaml differential test cannot run: {why}");
}

/// Builds `tests/goyaml/main.go` once per test binary.
fn go_program() -> Option<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let go = which("go").ok_or(
            "no `go` on PATH (apt-get install golang-go golang-gopkg-yaml.v2-dev golang-k8s-sigs-yaml-dev)",
        )?;
        for package in ["gopkg.in/yaml.v2", "sigs.k8s.io/yaml"] {
            if !Path::new(GOPATH).join("src").join(package).is_dir() {
                return Err(format!(
                    "{GOPATH}/src/{package} is missing (apt-get install golang-gopkg-yaml.v2-dev golang-k8s-sigs-yaml-dev)"
                ));
            }
        }
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("goyaml");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let binary = out.join("goyaml");
        let status = Command::new(go)
            .args(["build", "-o"])
            .arg(&binary)
            .arg("main.go")
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goyaml"))
            .env("GOPATH", GOPATH)
            .env("GO111MODULE", "off")
            .env("GOPROXY", "off")
            .env("GOFLAGS", "")
            .env("GOCACHE", out.join("cache"))
            .status()
            .map_err(|e| format!("cannot run go: {e}"))?;
        if !status.success() {
            return Err(format!("go build of tests/goyaml/main.go failed ({status})"));
        }
        Ok(binary)
    });
    match built {
        Ok(p) => Some(p.as_path()),
        Err(why) => unavailable(why),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What go-yaml (through sigs.k8s.io/yaml) made of one document.
#[derive(Debug, Clone, PartialEq)]
enum Go {
    Json(Value),
    Error(String),
    /// The JSON depends on Go's map order (two keys that become one JSON key).
    Ambiguous,
}

/// A running `goyaml`: documents in, one answer each out.
struct GoYaml {
    _child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
}

impl GoYaml {
    fn start(binary: &Path) -> Self {
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("goyaml starts");
        let input = BufWriter::new(child.stdin.take().unwrap());
        let output = BufReader::new(child.stdout.take().unwrap());
        GoYaml {
            _child: child,
            input,
            output,
        }
    }

    fn send(&mut self, doc: &str) {
        write!(self.input, "{}\n{doc}", doc.len()).unwrap();
    }

    fn receive(&mut self) -> Go {
        self.input.flush().unwrap();
        GoYaml::answer(&mut self.output)
    }

    /// Many documents at once: written from a thread while the answers are read, so that
    /// neither pipe fills up.
    fn read_all(binary: &Path, docs: &[String]) -> Vec<Go> {
        let GoYaml {
            _child: child,
            mut input,
            mut output,
        } = GoYaml::start(binary);
        let answers = std::thread::scope(|s| {
            s.spawn(move || {
                for doc in docs {
                    write!(input, "{}\n{doc}", doc.len()).unwrap();
                }
                input.flush().unwrap();
            });
            (0..docs.len())
                .map(|_| GoYaml::answer(&mut output))
                .collect()
        });
        drop(child);
        answers
    }

    fn answer(output: &mut BufReader<ChildStdout>) -> Go {
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        let answer: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("goyaml answered {line:?}: {e}"));
        if let Some(j) = answer.get("json") {
            Go::Json(j.clone())
        } else if let Some(e) = answer.get("error") {
            Go::Error(e.as_str().unwrap_or_default().to_owned())
        } else {
            Go::Ambiguous
        }
    }
}

/// JSON values alike as Kubernetes sees them: numbers by value (go-yaml's `1.0` is JSON `1`,
/// a float beyond 2^53 prints as an integer), everything else exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Where haven knowingly reads otherwise than go-yaml: the class and why, for a document on
/// which they disagree. Every other disagreement fails the tests.
fn explained(
    text: &str,
    haven: &Result<Value, haven_model::InputError>,
    go: &Go,
) -> Option<&'static str> {
    if let (Err(e), Go::Json(g)) = (haven, go) {
        if e.message.contains("did not find expected <document start>") || reads_prefix(text, e, g)
        {
            // go-yaml v2's `Unmarshal` asks its parser for the document's first node and never
            // for more, so text after that node (a line indented less than the first) is
            // dropped without a word, and Kubernetes applies what is left. haven refuses the
            // document with a syntax error at the first line Kubernetes would drop: the user
            // learns of it instead of losing it.
            return Some("trailing content go-yaml drops");
        }
        if e.kind == haven_model::InputErrorKind::FieldType
            && (e.message.contains("not a finite number") || e.message.contains("mapping key"))
        {
            // sigs.k8s.io/yaml fails on NaN, ±Inf, and null or huge keys only when they are
            // still in the final object (a later duplicate key can overwrite them); haven
            // refuses them where they are written.
            return Some("unrepresentable value overwritten later");
        }
    }
    None
}

/// Whether haven reads the text before the place of its error as go-yaml reads the whole: go-yaml
/// stopped after the first node and never saw what haven refuses.
fn reads_prefix(text: &str, e: &haven_model::InputError, go: &Value) -> bool {
    let col = e
        .message
        .rsplit_once("(column ")
        .and_then(|(_, c)| c.trim_end_matches(')').parse::<usize>().ok());
    let line = e.line.saturating_sub(1) as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut cuts = vec![start];
    if let Some(c) = col {
        let at_col = text[start..]
            .char_indices()
            .nth(c.saturating_sub(1))
            .map_or(text.len(), |(i, _)| start + i);
        cuts.push(at_col);
    }
    cuts.into_iter().any(|cut| {
        let prefix = &text[..cut];
        raw_documents(prefix)
            .first()
            .and_then(|d| d.parse_full("p.yaml"))
            .is_some_and(|r| r.is_ok_and(|d| same(&d.value, go)))
    })
}

/// How haven's two readers and go-yaml disagree on one document, if they do.
fn disagreement(doc: &RawDocument<'_>, go: &Go) -> Option<String> {
    let why = disagreement_of(doc, go)?;
    let full = match doc.parse_full("d.yaml") {
        None => Ok(Value::Null),
        Some(Ok(d)) => Ok(d.value),
        Some(Err(e)) => Err(e),
    };
    if let Some(class) = explained(doc.text, &full, go) {
        count_explained(class);
        return None;
    }
    Some(why)
}

/// How many disagreements each explained class had in this test binary, printed by the tests.
fn count_explained(class: &'static str) {
    let mut counts = EXPLAINED.lock().unwrap();
    *counts.entry(class).or_default() += 1;
}

static EXPLAINED: Mutex<std::collections::BTreeMap<&'static str, usize>> =
    Mutex::new(std::collections::BTreeMap::new());

fn print_explained() {
    let counts = EXPLAINED.lock().unwrap();
    for (class, n) in counts.iter() {
        eprintln!("  explained disagreements, {class}: {n}");
    }
}

fn disagreement_of(doc: &RawDocument<'_>, go: &Go) -> Option<String> {
    let full = match doc.parse_full("d.yaml") {
        None => Ok(Value::Null),
        Some(Ok(d)) => Ok(d.value),
        Some(Err(e)) => Err(e),
    };
    let fast = doc.parse_fast().map(|d| d.value);
    let go_value = match go {
        Go::Ambiguous => return None,
        Go::Json(v) => Some(v),
        Go::Error(_) => None,
    };
    match (&full, go_value) {
        (Ok(h), Some(g)) if !same(h, g) => {
            return Some(format!("full parser reads {h}, go-yaml {g}"));
        }
        (Err(e), Some(g)) => {
            return Some(format!(
                "full parser refuses ({}), go-yaml reads {g}",
                e.describe()
            ));
        }
        (Ok(h), None) => {
            return Some(format!("full parser reads {h}, go-yaml refuses: {go:?}"));
        }
        _ => {}
    }
    if let Some(f) = fast {
        match go_value {
            Some(g) if !same(&f, g) => return Some(format!("fast path reads {f}, go-yaml {g}")),
            None => return Some(format!("fast path reads {f}, go-yaml refuses: {go:?}")),
            _ => {}
        }
    }
    None
}

/// Documents listed in `known-disagreements.txt`: each entry a reason line starting with `# `
/// and the document, separated by lines of `=====`.
fn known_disagreements() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goyaml/known-disagreements.txt"),
    )
    .unwrap_or_default();
    text.split("\n=====\n")
        .filter_map(|entry| {
            let (reason, doc) = entry.split_once('\n')?;
            (reason.starts_with("# ") && !doc.trim().is_empty()).then(|| doc.to_owned())
        })
        .collect()
}

/// Runs every document of `streams` (name, text) through both sides; returns how many were
/// compared and the disagreements.
fn compare_streams(binary: &Path, streams: &[(String, String)]) -> (usize, Vec<String>) {
    let mut docs: Vec<(String, RawDocument<'_>)> = Vec::new();
    for (name, text) in streams {
        for d in raw_documents(text) {
            docs.push((format!("{name}:{}", d.first_line), d));
        }
    }
    let texts: Vec<String> = docs.iter().map(|(_, d)| d.text.to_owned()).collect();
    let answers = GoYaml::read_all(binary, &texts);
    let known = known_disagreements();
    let mut found = Vec::new();
    for ((name, doc), go) in docs.iter().zip(&answers) {
        if let Some(why) = disagreement(doc, go)
            && !known.iter().any(|k| k == doc.text)
        {
            found.push(format!("{name}: {why}\n--- document:\n{}", doc.text));
        }
    }
    (docs.len(), found)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            // Chart templates are Go templates, not YAML; build output and tools are not ours.
            if !matches!(
                name.as_str(),
                "templates" | "target" | ".git" | "node_modules" | ".venv"
            ) {
                yaml_files(&p, out);
            }
        } else if ft.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            out.push(p);
        }
    }
}

fn report(what: &str, compared: usize, found: &[String]) {
    eprintln!(
        "{what}: {compared} documents compared with go-yaml, {} unexplained disagreements",
        found.len()
    );
    print_explained();
    assert!(
        found.is_empty(),
        "{what}: {} disagreements with go-yaml; the first ones:\n\n{}",
        found.len(),
        found
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
#[ignore = "needs go, go-yaml and ../shared (cargo test -- --include-ignored)"]
fn repository_and_shared_yaml_files_read_as_kubernetes_reads_them() {
    let Some(binary) = go_program() else { return };
    let mut files = Vec::new();
    yaml_files(&root(), &mut files);
    yaml_files(&haven_test_support::shared_path("."), &mut files);
    let streams: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            Some((f.display().to_string(), text))
        })
        .collect();
    let (compared, found) = compare_streams(binary, &streams);
    assert!(compared > 1000, "only {compared} documents found");
    report("YAML files", compared, &found);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
            let mut perms = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms).unwrap();
        }
    }
}

/// The minimal values the charts README names for the charts that need them.
fn chart_values(chart: &str) -> &'static [&'static str] {
    match chart {
        "loki" => &[
            "--set",
            "loki.useTestSchema=true",
            "--set",
            "loki.storage.bucketNames.chunks=chunks",
            "--set",
            "loki.storage.bucketNames.ruler=ruler",
        ],
        "zitadel" => &[
            "--set",
            "zitadel.masterkey=0123456789abcdef0123456789abcdef",
            "--skip-schema-validation",
        ],
        _ => &[],
    }
}

#[test]
#[ignore = "needs go, go-yaml and ../shared (cargo test -- --include-ignored)"]
fn rendered_charts_read_as_kubernetes_reads_them() {
    let Some(binary) = go_program() else { return };
    let charts = haven_test_support::shared_path("charts");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rendered-charts");
    std::fs::create_dir_all(&cache).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&charts)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Chart.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut streams = Vec::new();
    let mut failed = Vec::new();
    for name in &names {
        let cached = cache.join(format!("{name}.yaml"));
        if !cached.is_file() {
            let mut chart = charts.join(name);
            let copy = cache.join(format!("{name}.chart"));
            if chart.join("values.schema.json").is_file()
                && chart_values(name).contains(&"--skip-schema-validation")
            {
                // Helm's engine here cannot skip schema validation, and this schema needs the
                // network: render a copy without it, as the charts README says.
                copy_dir(&chart, &copy);
                std::fs::remove_file(copy.join("values.schema.json")).unwrap();
                chart = copy.clone();
            }
            let out = Command::new("python3")
                .arg(root().join("tools/helm"))
                .args(["template", "t"])
                .arg(&chart)
                .args(["--namespace", "t"])
                .args(chart_values(name))
                .output()
                .expect("python3 runs tools/helm");
            let _ = std::fs::remove_dir_all(&copy);
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                if stderr.contains("missing in charts/ directory") {
                    // Dependencies not in this copy of ../shared: nothing to render.
                    eprintln!("note: {name} not rendered: {}", stderr.trim());
                } else {
                    failed.push(format!("{name}: {}", stderr.trim()));
                }
                continue;
            }
            std::fs::write(&cached, &out.stdout).unwrap();
        }
        streams.push((
            format!("helm template {name}"),
            std::fs::read_to_string(&cached).unwrap(),
        ));
    }
    if streams.is_empty() {
        unavailable(&format!("no chart rendered: {failed:?}"));
    }
    assert!(failed.is_empty(), "charts that did not render: {failed:#?}");
    let (compared, found) = compare_streams(binary, &streams);
    report(
        &format!("{} rendered charts", streams.len()),
        compared,
        &found,
    );
}

/// Hand-picked documents of each class where the readers used to differ from go-yaml, with
/// go-yaml's answer checked too (so a change of go-yaml would show).
#[test]
#[ignore = "needs go, go-yaml and ../shared (cargo test -- --include-ignored)"]
fn known_classes_read_as_kubernetes_reads_them() {
    let Some(binary) = go_program() else { return };
    let cases: &[&str] = &[
        // issue 22: a flow sequence closed at its key's indentation.
        "spec:\n  containers:\n  - name: app\n    command: [\n      \"sh\", \"-c\",\n    ]\n    image: x\n",
        "command: [\n  \"sh\",\n  \"-c\"\n]\n",
        "a:\n  b: {\nc: 1,\n   d: [1,\n2]}\n  e: 3\n",
        "a:\n  b: \"one\ntwo\"\n",
        "- 'it''s\nsplit'\n",
        // keys as sigs.k8s.io/yaml converts them
        "1e6: a\n1.5: b\n0.0001: c\n100000.0: d\n123456789.0: e\n-0.0: f\n.inf: g\n0x10: h\non: i\n",
        "~: null key\n",
        "18446744073709551615: too big\n",
        // merges as go-yaml v2 writes them: `<<` overrides keys written before it
        "b: &b {x: 1, z: 2}\nm:\n  x: 0\n  <<: *b\n  z: 3\n",
        "a: &a {k: 1}\nb: &b {k: 2}\nm:\n  <<: [*a, *b]\n",
        "s: &s [1]\nm:\n  <<: *s\n",
        // tags
        "a: !!binary aGVsbG8=\nb: !foo 1\nc: ! 2\nd: !!float 1\ne: !!null ~\n",
        "a: !!null x\n",
        "a: !!timestamp 2001-12-14\nb: !!timestamp 2001-12-14T21:59:43.10-05:00\n",
        // numbers
        "a: 1e400\nb: ._5\nc: .5\nd: 1_000\ne: 0b1_0\nf: -0b11\n",
        // characters go-yaml's reader refuses (and those it reads)
        "a: b\u{7f}\n",
        "a: \u{9f}\n",
        "a: 'x\u{fffe}'\n",
        "# \u{80}\na: 1\n",
        "a: \u{a0}x\u{fffd}\u{10000}\u{e9}\n",
        // a byte order mark inside a document is an ordinary character
        "a: 1\n\u{feff}b: x\u{feff}\nc: [\u{feff}]\n",
        "a: 1\n\u{feff}\n",
        // flow collections cut into tokens as go-yaml's scanner (libyaml 0.1) cuts them
        "[-, a]\n",
        "[a:b:]\n",
        "[a :]\n",
        "{a:}\n",
        "{a: b:}\n",
        "[?x]\n",
        "[a, ?b: c]\n",
        "{?x: 1}\n",
        "[a,#c\n b]\n",
        "[a\n:b]\n",
        "[\"a\":b]\n",
        "{a: -}\n",
        // a `...` marker with no document before it
        "...\n",
        "# c\n...\n",
    ];
    // and those it refuses (haven's readers refuse them too: tests/fuzz.rs)
    let refused = haven_test_support::fuzz::flow_documents_go_yaml_refuses();
    let streams: Vec<(String, String)> = cases
        .iter()
        .chain(refused)
        .enumerate()
        .map(|(i, c)| (format!("case{i}"), (*c).to_owned()))
        .collect();
    let (compared, found) = compare_streams(binary, &streams);
    report("known classes", compared, &found);
    // The document is read, by Kubernetes and by us.
    let answers = GoYaml::read_all(binary, &[cases[0].to_owned()]);
    assert!(matches!(&answers[0], Go::Json(_)), "{answers:?}");
}

mod generated {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use super::*;

    /// One `goyaml` for all cases of a property (they run one after another).
    fn go() -> Option<&'static Mutex<GoYaml>> {
        static GO: OnceLock<Option<Mutex<GoYaml>>> = OnceLock::new();
        GO.get_or_init(|| go_program().map(|b| Mutex::new(GoYaml::start(b))))
            .as_ref()
    }

    fn cases() -> u32 {
        std::env::var("HAVEN_DIFF_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000)
    }

    /// Scalars: plain words and every YAML 1.1 form Kubernetes resolves, quoted ones, and
    /// characters that matter to the syntax.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec![
                "a", "name", "x y", "on", "off", "yes", "No", "y", "n", "~", "null", "Null", "true",
                "False", "0", "-1", "+1", "007", "0755", "08", "1_000", "0x1F", "0o17", "0b101",
                "-0b11", "1e3", "1.5", "1.0", ".5", "._5", "-.5", "1e400", ".inf", "-.Inf", ".nan",
                "2001-12-14", "2001-12-14T21:59:43Z", "2001-13-14", "12:30", "1:20:30",
                "9223372036854775807", "9223372036854775808", "18446744073709551616",
                "-9223372036854775809", "123456789.0", "1e6", "0.0001", "-0.0", "<<", "=", "a:b",
                "a#b", "http://x:80/a", "-x", "?x", ":x", "@x", "`x", "%x", "a,b", "a]", "a}",
                "é", "\u{1F600}", "0x", "1__2", "+", "-", ".", "1e", "1.2.3", "0.1e+2", "1E-3",
                "-", "_1", "0_7", "1_0.5",
            ]).prop_map(str::to_owned),
            1 => "[a-zA-Z0-9 .:_-]{0,8}",
            1 => prop::sample::select(vec![
                "\"q\"", "\"a\\tb\"", "\"\\x41\\u00e9\\U0001F600\"", "\"on\"", "'0755'", "'it''s'",
                "\"\"", "''", "\"a\\\nb\"", "\"#\"", "'a: b'", "\"\\N\\_\\L\\P\"", "\"bad\\q\"",
                "'open", "\"open",
            ]).prop_map(str::to_owned),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => prop::sample::select(vec![
                "a", "b", "c", "name", "image", "command", "args", "spec", "kind", "on", "1", "01",
                "1.5", "1e6", "~", "null", "\"a\"", "'b'", "true", "y", "<<", "? a", "0x10",
                "-1", "2001-12-14", "\"1\"", "a b", "a:b", "\"\"",
            ]).prop_map(str::to_owned),
            1 => scalar(),
        ]
    }

    /// A document tree, rendered with random styles and indentation.
    #[derive(Debug, Clone)]
    enum Tree {
        Scalar(String),
        Block(String, bool),
        Map(Vec<(String, Tree)>),
        Seq(Vec<Tree>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            6 => scalar().prop_map(Tree::Scalar),
            1 => (
                prop::sample::select(vec!["line", "on", "a: b", "# not a comment", "  indented", ""]),
                any::<bool>()
            ).prop_map(|(s, lit)| Tree::Block(s.to_owned(), lit)),
        ];
        leaf.prop_recursive(4, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec((key(), inner.clone()), 0..5).prop_map(Tree::Map),
                prop::collection::vec(inner, 0..5).prop_map(Tree::Seq),
            ]
        })
    }

    /// Rendering choices, drawn once per node.
    #[derive(Debug, Clone)]
    struct Style {
        choices: Vec<u8>,
        at: std::cell::Cell<usize>,
    }

    impl Style {
        fn next(&self, n: u8) -> u8 {
            let i = self.at.get();
            self.at.set(i + 1);
            self.choices[i % self.choices.len()] % n
        }
    }

    fn render(t: &Tree, style: &Style, indent: usize, out: &mut String, anchors: &mut u32) {
        let pad = " ".repeat(indent);
        match t {
            Tree::Scalar(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Tree::Block(s, literal) => {
                out.push_str(if *literal { "|" } else { ">" });
                out.push_str(["", "-", "+", "2"][style.next(4) as usize]);
                out.push('\n');
                for l in [s.as_str(), "next", ""] {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Tree::Map(_) | Tree::Seq(_) if style.next(5) == 0 => {
                // Flow style, over one line or several with any indentation.
                flow(t, style, indent, out);
                out.push('\n');
            }
            Tree::Map(entries) => {
                if entries.is_empty() {
                    out.push_str("{}\n");
                    return;
                }
                out.push('\n');
                for (k, v) in entries {
                    out.push_str(&pad);
                    if style.next(12) == 0 {
                        *anchors += 1;
                        out.push_str(&format!("&a{} ", *anchors));
                    }
                    out.push_str(k);
                    out.push(':');
                    match v {
                        Tree::Map(e) if !e.is_empty() => {
                            render(v, style, indent + 1 + style.next(3) as usize, out, anchors)
                        }
                        Tree::Seq(items) if !items.is_empty() => {
                            // Sequences under a key: indented or not.
                            let i = if style.next(2) == 0 {
                                indent
                            } else {
                                indent + 2
                            };
                            render(v, style, i, out, anchors);
                        }
                        _ => {
                            out.push(' ');
                            match style.next(16) {
                                0 if *anchors > 0 => {
                                    out.push_str(&format!(
                                        "*a{}\n",
                                        1 + u32::from(style.next(8)) % *anchors
                                    ));
                                }
                                1 => out.push_str("!!str "),
                                2 => out.push_str("# c\n"),
                                _ => {}
                            }
                            if !out.ends_with('\n') {
                                render(v, style, indent, out, anchors);
                            }
                        }
                    }
                }
            }
            Tree::Seq(items) => {
                if items.is_empty() {
                    out.push_str("[]\n");
                    return;
                }
                out.push('\n');
                for v in items {
                    out.push_str(&pad);
                    out.push_str("- ");
                    match v {
                        Tree::Map(e) if !e.is_empty() && style.next(2) == 0 => {
                            // Compact: the first key on the dash's line.
                            let mut inner = String::new();
                            render(v, style, indent + 2, &mut inner, anchors);
                            out.push_str(inner.trim_start_matches('\n').trim_start());
                        }
                        _ => render(v, style, indent + 2, out, anchors),
                    }
                }
            }
        }
    }

    fn flow(t: &Tree, style: &Style, indent: usize, out: &mut String) {
        let brk = |out: &mut String, style: &Style| {
            if style.next(3) == 0 {
                out.push('\n');
                // Any indentation: go-yaml ignores it inside flow collections.
                out.push_str(&" ".repeat(style.next(6) as usize + indent.saturating_sub(2)));
            } else {
                out.push(' ');
            }
        };
        match t {
            Tree::Scalar(s) => out.push_str(s),
            Tree::Block(s, _) => out.push_str(&format!("{s:?}")),
            Tree::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    brk(out, style);
                    out.push_str(k);
                    out.push_str(": ");
                    flow(v, style, indent, out);
                }
                brk(out, style);
                out.push('}');
            }
            Tree::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    brk(out, style);
                    flow(v, style, indent, out);
                }
                if style.next(4) == 0 && !items.is_empty() {
                    out.push(',');
                }
                brk(out, style);
                out.push(']');
            }
        }
    }

    /// Small edits that make valid documents into edge cases and errors.
    #[derive(Debug, Clone)]
    enum Edit {
        Delete(usize),
        Insert(usize, char),
        Indent(usize, i8),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            any::<usize>().prop_map(Edit::Delete),
            (
                any::<usize>(),
                prop::sample::select(vec![
                    ' ', '\n', '\t', ':', '-', '#', '[', ']', '{', '}', ',', '"', '\'', '&', '*',
                    '!', '|', '>', '?', 'x'
                ])
            )
                .prop_map(|(i, c)| Edit::Insert(i, c)),
            (any::<usize>(), -2i8..=2).prop_map(|(i, d)| Edit::Indent(i, d)),
        ]
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for e in edits {
            match *e {
                Edit::Delete(i) if !chars.is_empty() => {
                    chars.remove(i % chars.len());
                }
                Edit::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
                Edit::Indent(i, d) => {
                    let s: String = chars.iter().collect();
                    let mut lines: Vec<String> = s.split('\n').map(str::to_owned).collect();
                    let n = i % lines.len();
                    if d > 0 {
                        lines[n].insert_str(0, &" ".repeat(d as usize));
                    } else {
                        let strip = lines[n].len() - lines[n].trim_start_matches(' ').len();
                        lines[n].drain(..strip.min((-d) as usize));
                    }
                    chars = lines.join("\n").chars().collect();
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    fn document() -> impl Strategy<Value = String> {
        document_with(0u8..4)
    }

    /// Documents as rendered, never edited.
    fn rendered() -> impl Strategy<Value = String> {
        document_with(0u8..2)
    }

    fn document_with(mode: std::ops::Range<u8>) -> impl Strategy<Value = String> {
        (
            tree(),
            prop::collection::vec(any::<u8>(), 1..64),
            prop::collection::vec(edit(), 0..3),
            mode,
        )
            .prop_map(|(t, choices, edits, mode)| {
                let style = Style {
                    choices,
                    at: std::cell::Cell::new(0),
                };
                let mut out = String::new();
                let mut anchors = 0;
                render(&t, &style, 0, &mut out, &mut anchors);
                let out = out.trim_start_matches('\n').to_owned();
                // Half the documents as rendered, half edited.
                if mode < 2 { out } else { apply(&out, &edits) }
            })
    }

    /// `HAVEN_DIFF_COLLECT=N`: instead of the property test, generate N documents and print
    /// every disagreement (for finding classes of them at once; not part of the test suite).
    #[test]
    fn collect_disagreements() {
        let Some(n) = std::env::var("HAVEN_DIFF_COLLECT")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
        else {
            return;
        };
        let Some(binary) = go_program() else { return };
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let docs: Vec<(String, String)> = if std::env::var_os("HAVEN_DIFF_NO_EDITS").is_some() {
            let strategy = rendered();
            (0..n)
                .map(|i| {
                    (
                        format!("gen{i}"),
                        strategy.new_tree(&mut runner).unwrap().current(),
                    )
                })
                .collect()
        } else {
            let strategy = document();
            (0..n)
                .map(|i| {
                    (
                        format!("gen{i}"),
                        strategy.new_tree(&mut runner).unwrap().current(),
                    )
                })
                .collect()
        };
        let (compared, found) = compare_streams(binary, &docs);
        eprintln!("{compared} compared, {} disagreements", found.len());
        let mut out = String::new();
        for f in &found {
            out.push_str(f);
            out.push_str("\n=====\n");
        }
        std::fs::write(
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("disagreements.txt"),
            out,
        )
        .unwrap();
    }

    #[test]
    #[ignore = "needs go and go-yaml (cargo test -- --include-ignored)"]
    fn generated_documents_read_as_kubernetes_reads_them() {
        let Some(go) = go() else { return };
        let known = known_disagreements();
        let config = ProptestConfig {
            cases: cases(),
            failure_persistence: None,
            // A fixed seed: the same documents on every run, so CI is repeatable.
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            max_shrink_iters: 2000,
            ..ProptestConfig::default()
        };
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            config,
            proptest::test_runner::TestRng::from_seed(
                proptest::test_runner::RngAlgorithm::ChaCha,
                &[7; 32],
            ),
        );
        let started = std::time::Instant::now();
        let result = runner.run(&rendered(), |text| {
            let mut go = go.lock().unwrap();
            for doc in raw_documents(&text) {
                go.send(doc.text);
                let answer = go.receive();
                if known.iter().any(|k| k == doc.text) {
                    continue;
                }
                if let Some(why) = disagreement(&doc, &answer) {
                    return Err(TestCaseError::fail(format!(
                        "{why}\n--- document:\n{}",
                        doc.text
                    )));
                }
            }
            Ok(())
        });
        eprintln!(
            "generated documents: {} cases in {:.1} s",
            cases(),
            started.elapsed().as_secs_f64()
        );
        print_explained();
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
