//! Where manifests come from: files, directories, standard input and Helm charts.
//!
//! This is the file-system and process edge of `haven app check`; everything it reads is handed
//! to the pure loader in `haven-model`. Helm charts are rendered by a [`ChartRenderer`] so tests
//! and other front ends can plug in their own.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use haven_io::process::{Limits, Mode, ProcessError, run};
use haven_model::limits::MAX_INPUT_BYTES;
use haven_model::{
    InputError, InputErrorKind, LoadOutcome, RELEASE_NAMESPACE_PLACEHOLDER, Source, SourceText,
};

/// How `helm template` is run for chart inputs.
#[derive(Debug, Clone)]
pub struct HelmOptions {
    /// The helm program; `None` searches `PATH`.
    pub helm: Option<PathBuf>,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub namespace: Option<String>,
    pub release: String,
    pub kube_version: Option<String>,
    /// How long one `helm template` may take (a template can loop; helm can hang).
    pub timeout: Duration,
    /// Most bytes one chart may render to.
    pub max_output: usize,
    /// `--include-crds`: the chart's `crds/` in the output (as Flux installs them first).
    pub include_crds: bool,
    /// `--skip-schema-validation`: the caller validates the values against the chart's schema
    /// itself (offline, with its own messages).
    pub skip_schema_validation: bool,
}

impl HelmOptions {
    /// Generous for any real chart: the largest of the catalogue's render in seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
    /// The largest chart of the catalogue (kube-prometheus-stack) renders to about 3 MiB.
    pub const DEFAULT_MAX_OUTPUT: usize = 64 << 20;
}

impl Default for HelmOptions {
    fn default() -> Self {
        Self {
            helm: None,
            values: Vec::new(),
            set: Vec::new(),
            set_string: Vec::new(),
            namespace: None,
            release: String::new(),
            kube_version: None,
            timeout: Self::DEFAULT_TIMEOUT,
            max_output: Self::DEFAULT_MAX_OUTPUT,
            include_crds: false,
            skip_schema_validation: false,
        }
    }
}

mod chart;
pub use chart::TaggedRenderError;

/// The render of a copy of the chart in `dir` whose template lines carry tags, and its template
/// files, for [`haven_model::template_lines::TemplateLines::build`] beside the plain render (which
/// `haven app check` does itself; `plus validate --charts` renders plainly first and asks for
/// this only for charts it has findings in). `Err` says why there is none.
pub fn render_tagged(
    dir: &std::path::Path,
    renderer: &dyn ChartRenderer,
    opts: &HelmOptions,
) -> Result<(String, Vec<haven_model::template_lines::TemplateFile>), TaggedRenderError> {
    chart::tagged_render(dir, renderer, opts)
}

impl HelmOptions {
    /// The release namespace charts are rendered with: the one given, except that none, or
    /// `default`, is rendered as [`RELEASE_NAMESPACE_PLACEHOLDER`], so that the check can tell
    /// what the chart put in `default` from what the release namespace put there.
    pub fn render_namespace(&self) -> &str {
        match self.namespace.as_deref() {
            None | Some("default") => RELEASE_NAMESPACE_PLACEHOLDER,
            Some(ns) => ns,
        }
    }
}

/// Renders a chart directory to a multi-document YAML stream, with
/// [`HelmOptions::render_namespace`] as the release namespace. `Sync`: a chart is rendered twice
/// at once, as it is and with its template lines tagged (see `chart.rs`).
pub trait ChartRenderer: Sync {
    fn render(&self, chart: &Path, opts: &HelmOptions) -> Result<String, InputError>;
}

/// Runs `helm template` as a child process, within [`HelmOptions::timeout`] and
/// [`HelmOptions::max_output`] (`haven_io::process`: on timeout helm and everything it started
/// is killed).
#[derive(Debug, Default)]
pub struct HelmCommand;

impl HelmCommand {
    /// The helm binary: `--helm`, else the first `helm` on `PATH`.
    pub fn locate(opts: &HelmOptions) -> Option<PathBuf> {
        if let Some(p) = &opts.helm {
            return Some(p.clone());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("helm"))
            .find(|p| p.is_file())
    }
}

impl ChartRenderer for HelmCommand {
    fn render(&self, chart: &Path, opts: &HelmOptions) -> Result<String, InputError> {
        let chart_name = chart.display().to_string();
        let Some(helm) = Self::locate(opts) else {
            return Err(helm_not_found(&chart_name, None));
        };
        if opts.helm.is_some() && !helm.exists() {
            return Err(helm_not_found(&chart_name, Some(&helm)));
        }
        let mut cmd = Command::new(&helm);
        cmd.arg("template").arg(&opts.release).arg(chart);
        for v in &opts.values {
            cmd.arg("--values").arg(v);
        }
        for s in &opts.set {
            cmd.arg("--set").arg(s);
        }
        for s in &opts.set_string {
            cmd.arg("--set-string").arg(s);
        }
        cmd.arg("--namespace").arg(opts.render_namespace());
        if let Some(kv) = &opts.kube_version {
            cmd.arg("--kube-version").arg(kv);
        }
        if opts.include_crds {
            cmd.arg("--include-crds");
        }
        if opts.skip_schema_validation {
            cmd.arg("--skip-schema-validation");
        }
        let render_error =
            |message: String| InputError::new(InputErrorKind::Render, &chart_name, 0, message);
        let limits = Limits::new(opts.timeout, opts.max_output);
        let what = format!("`helm template` of {chart_name}");
        let output = run(cmd, &limits, Mode::Captured, &what).map_err(|e| {
            let hint = match &e {
                ProcessError::TimedOut { .. } => " (--helm-timeout raises the limit)",
                ProcessError::OutputTooLarge { .. } => " (--helm-max-output raises the limit)",
                _ => "",
            };
            // One line: reports show one error per line.
            render_error(e.one_line(hint))
        })?;
        if !output.status.success() {
            return Err(render_error(format!(
                "`helm template` failed ({}): {}",
                output.status,
                haven_io::process::join_lines(&output.stderr_tail(STDERR_LINES))
            )));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| render_error("helm printed output that is not UTF-8".to_owned()))
    }
}

/// Lines of helm's error output quoted when it fails: its last lines say why.
const STDERR_LINES: usize = 20;

/// The error for a chart input when no helm can be run (the file named is the chart, so the
/// message does not name it again before the advice); `given`: the `--helm` that is no file.
fn helm_not_found(chart_name: &str, given: Option<&Path>) -> InputError {
    InputError::new(
        InputErrorKind::Render,
        chart_name,
        0,
        format!("is a Helm chart, and {}", helm_advice(chart_name, given)),
    )
}

/// What to do when no helm is found: where haven looked, how to get one (tools/helm of haven's
/// source tree is a `helm template` on Helm's own engine from PyPI), or how to render and pipe.
fn helm_advice(chart: &str, given: Option<&Path>) -> String {
    let looked = match given {
        Some(p) => format!(
            "the helm given by --helm (or HAVEN_HELM), {}, is no file",
            p.display()
        ),
        None => "no `helm` was found on PATH".to_owned(),
    };
    format!(
        "{looked}: install Helm (https://helm.sh/docs/intro/install/), or pass --helm PATH (or set \
         HAVEN_HELM) to one, such as tools/helm from haven's source tree (`helm template` on Helm's own \
         engine; needs `pip install helm-python-sdk`); or render the chart yourself and pipe it in: \
         `helm template my-release {chart} | haven app check -`"
    )
}

/// What the inputs held: their text, not yet parsed, so that the caller decides what to keep in
/// memory (a large corpus is checked one document at a time).
#[derive(Debug, Default)]
pub struct Collected {
    pub sources: Vec<Source>,
    /// Inputs that could not be read or rendered.
    pub errors: Vec<InputError>,
    /// What the user should know but is not an error: entries of a directory that were skipped.
    pub notes: Vec<String>,
    /// Files, streams and charts read.
    pub files: usize,
}

impl Collected {
    /// Every object of every source, and every input or document that could not be read.
    pub fn load(&self) -> LoadOutcome {
        let mut out = LoadOutcome {
            objects: Vec::new(),
            errors: self.errors.clone(),
        };
        for source in &self.sources {
            out.extend(source.load());
        }
        out
    }
}

/// Whether a directory is a Helm chart.
pub fn is_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}

/// Reads every input: `-` is standard input, a chart directory is rendered, any other
/// directory is searched for `*.yaml`, `*.yml` and `*.json` (sorted, hidden entries skipped,
/// nested charts rendered rather than read as templates).
pub fn collect(
    inputs: &[String],
    renderer: &dyn ChartRenderer,
    helm: &HelmOptions,
    stdin: &mut dyn Read,
) -> Collected {
    let listed = list(inputs, renderer, helm, stdin);
    let mut c = Collected {
        sources: Vec::new(),
        errors: listed.errors,
        notes: listed.notes,
        files: listed.files,
    };
    let mut files = FileReader::default();
    for input in listed.inputs {
        match input {
            Input::Text(source) => c.sources.push(source),
            Input::File(path) => match files.read(&path) {
                Ok(source) => c.sources.push(source),
                Err(e) => c.errors.push(e),
            },
        }
    }
    c
}

/// One input, in the order given: a stream already read (standard input, a rendered chart), or
/// a file not read yet.
#[derive(Debug)]
pub enum Input {
    Text(Source),
    File(PathBuf),
}

/// The inputs found, before any file is read: a caller that checks one file at a time (with a
/// [`FileReader`]) holds one file's text at a time.
#[derive(Debug, Default)]
pub struct Listed {
    pub inputs: Vec<Input>,
    /// Inputs that could not be found, walked or rendered.
    pub errors: Vec<InputError>,
    /// What the user should know but is not an error: entries of a directory that were skipped.
    pub notes: Vec<String>,
    /// Files, streams and charts found.
    pub files: usize,
}

/// [`collect`] without reading the files: standard input is read and charts are rendered (their
/// text cannot be had again), files are only listed.
pub fn list(
    inputs: &[String],
    renderer: &dyn ChartRenderer,
    helm: &HelmOptions,
    stdin: &mut dyn Read,
) -> Listed {
    let mut c = Listed::default();
    for input in inputs {
        if input == "-" {
            c.files += 1;
            match read_capped(stdin, "<stdin>", 0).and_then(|bytes| utf8("<stdin>", bytes)) {
                Ok(text) => c.inputs.push(Input::Text(Source::file("<stdin>", text))),
                Err(e) => c.errors.push(e),
            }
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            collect_dir(path, renderer, helm, &mut c);
        } else {
            c.files += 1;
            c.inputs.push(Input::File(path.to_path_buf()));
        }
    }
    c
}

/// Reads files, and reads them again for a check's second pass ([`SourceText`]).
///
/// A file read again must be the file read first: its size, modification time, inode and a hash
/// of its content are compared, and any difference is an error. Only regular files are read
/// again: a pipe, `/dev/stdin` or a process substitution (`<(helm template ...)`) cannot give
/// its text twice, so [`FileReader::can_read_again`] says no and the caller keeps their text.
#[derive(Debug, Default)]
pub struct FileReader {
    /// By name as shown to users; `None` when two different paths show the same name.
    read: HashMap<String, Option<(PathBuf, Stamp)>>,
    hasher: foldhash::fast::RandomState,
}

/// What tells one version of a file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    /// Device and inode: a file replaced by a rename is another file.
    identity: Option<(u64, u64)>,
    /// Catches a rewrite to the same size within one tick of the file system's clock, which the
    /// modification time misses.
    content: u64,
}

impl FileReader {
    /// Reads a file as UTF-8 text, named as the user wrote its path.
    pub fn read(&mut self, path: &Path) -> Result<Source, InputError> {
        let name = path.display().to_string();
        let (text, stamp, regular) = self.read_stamped(path, &name)?;
        let entry = regular.then(|| (path.to_path_buf(), stamp));
        match self.read.get(&name) {
            // The same name for another path (paths that are not UTF-8 can display alike):
            // they cannot be told apart by name, so neither is read again.
            Some(Some((known, _))) if known != path => {
                self.read.insert(name.clone(), None);
            }
            Some(None) => {}
            _ => {
                self.read.insert(name.clone(), entry);
            }
        }
        Ok(Source::file(name, text))
    }

    /// Whether `source`, read by this reader, can be read again for a second pass.
    pub fn can_read_again(&self, source: &Source) -> bool {
        matches!(self.read.get(&source.name), Some(Some(_)))
    }

    /// The file's text, its stamp taken from the open file (so that both describe the same
    /// version), and whether it is a regular file.
    fn read_stamped(&self, path: &Path, name: &str) -> Result<(String, Stamp, bool), InputError> {
        let mut file = std::fs::File::open(path).map_err(|e| io_error(name, &e))?;
        let meta = file.metadata().map_err(|e| io_error(name, &e))?;
        let bytes = read_capped(&mut file, name, meta.len())?;
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.dev(), meta.ino()))
        };
        #[cfg(not(unix))]
        let identity = None;
        let stamp = Stamp {
            len: bytes.len() as u64,
            modified: meta.modified().ok(),
            identity,
            content: std::hash::BuildHasher::hash_one(&self.hasher, bytes.as_slice()),
        };
        let text = utf8(name, bytes)?;
        Ok((text, stamp, meta.is_file()))
    }
}

impl SourceText for FileReader {
    fn text(&mut self, source: &Source) -> Result<String, InputError> {
        let Some(Some((path, first))) = self.read.get(&source.name) else {
            return Err(InputError::new(
                InputErrorKind::Io,
                &source.name,
                0,
                "was not read as a regular file, so it cannot be read again",
            ));
        };
        let (text, now, _) = self.read_stamped(path, &source.name)?;
        if now != *first {
            return Err(InputError::new(
                InputErrorKind::Io,
                &source.name,
                0,
                "changed while it was being checked (its size, modification time or content \
                 differs from the first read); check it again",
            ));
        }
        Ok(text)
    }
}

/// Reads at most [`MAX_INPUT_BYTES`]: a larger input, or one without an end (`/dev/zero`, a
/// pipe that never closes), is an error once the limit is passed, not a process that fills
/// its memory. `size_hint` is the size the file system gives (0 for none).
fn read_capped(from: &mut dyn Read, name: &str, size_hint: u64) -> Result<Vec<u8>, InputError> {
    read_at_most(from, name, size_hint, MAX_INPUT_BYTES)
}

fn read_at_most(
    from: &mut dyn Read,
    name: &str,
    size_hint: u64,
    limit: u64,
) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint.min(limit)).unwrap_or(0));
    from.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(name, &e))?;
    if bytes.len() as u64 > limit {
        return Err(InputError::new(
            InputErrorKind::Limit,
            name,
            0,
            format!(
                "is larger than {} MiB, the most haven reads from one input; split it into \
                 several files",
                limit / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            InputErrorKind::Io,
            name,
            0,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads a file named on the command line that is not an input to check (a waiver file), with
/// the same limit on its size as inputs.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| io_error(&name, &e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bytes = read_capped(&mut file, &name, size)?;
    utf8(&name, bytes)
}

fn collect_dir(dir: &Path, renderer: &dyn ChartRenderer, helm: &HelmOptions, c: &mut Listed) {
    if is_chart(dir) {
        render_chart(dir, renderer, helm, c);
        return;
    }
    let mut walk = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter();
    while let Some(entry) = walk.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let p = e
                    .path()
                    .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
                c.errors
                    .push(InputError::new(InputErrorKind::Io, &p, 0, e.to_string()));
                continue;
            }
        };
        let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type().is_dir() {
            if hidden {
                walk.skip_current_dir();
            } else if entry.depth() > 0 && is_chart(entry.path()) {
                render_chart(entry.path(), renderer, helm, c);
                walk.skip_current_dir();
            }
            continue;
        }
        let ext = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !hidden && matches!(ext, "yaml" | "yml" | "json") {
            // Only regular files (or links to them): a FIFO would block the walk until some
            // process writes to it, and a device may never end.
            let regular = if entry.file_type().is_symlink() {
                std::fs::metadata(entry.path()).map(|m| m.is_file())
            } else {
                Ok(entry.file_type().is_file())
            };
            match regular {
                Ok(true) => {
                    c.files += 1;
                    c.inputs.push(Input::File(entry.path().to_path_buf()));
                }
                Ok(false) => c.notes.push(format!(
                    "skipped {}: not a regular file ({}); name it on the command line to read it",
                    entry.path().display(),
                    kind_of(entry.path()),
                )),
                Err(e) => c
                    .errors
                    .push(io_error(&entry.path().display().to_string(), &e)),
            }
        }
    }
}

/// What a non-regular file is, for the note that skips it.
fn kind_of(path: &Path) -> &'static str {
    let Ok(meta) = std::fs::metadata(path) else {
        return "unreadable";
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

fn render_chart(dir: &Path, renderer: &dyn ChartRenderer, helm: &HelmOptions, c: &mut Listed) {
    c.files += 1;
    let name = dir.display().to_string();
    match chart::render(dir, renderer, helm) {
        Ok(rendered) => {
            c.notes.extend(rendered.note);
            c.inputs.push(Input::Text(Source {
                name: format!("helm template {name}"),
                chart_dir: Some(name),
                template_lines: rendered.lines,
                release_namespace_placeholder: helm.render_namespace()
                    == RELEASE_NAMESPACE_PLACEHOLDER,
                text: rendered.text,
            }));
        }
        Err(e) => c.errors.push(e),
    }
}

fn io_error(name: &str, e: &std::io::Error) -> InputError {
    InputError::new(InputErrorKind::Io, name, 0, format!("cannot read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl ChartRenderer for Fake {
        fn render(&self, chart: &Path, opts: &HelmOptions) -> Result<String, InputError> {
            Ok(format!(
                "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: {}\n",
                opts.release,
                chart.file_name().unwrap().to_string_lossy()
            ))
        }
    }

    #[test]
    fn walks_directories_renders_nested_charts_and_reports_unreadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("a.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("sub/.hidden")).unwrap();
        std::fs::write(
            root.join("sub/b.json"),
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}"#,
        )
        .unwrap();
        std::fs::write(root.join("sub/.hidden/c.yaml"), "kind: X\n").unwrap();
        std::fs::write(root.join("sub/notes.txt"), "ignored").unwrap();
        std::fs::write(root.join("bad.yml"), [0xff, 0xfe]).unwrap();
        std::fs::create_dir_all(root.join("chart/templates")).unwrap();
        std::fs::write(root.join("chart/Chart.yaml"), "name: chart\n").unwrap();
        std::fs::write(root.join("chart/templates/x.yaml"), "{{ .Values }}").unwrap();
        let opts = HelmOptions {
            release: "rel".into(),
            ..Default::default()
        };
        let c = collect(
            &[root.display().to_string()],
            &Fake,
            &opts,
            &mut std::io::empty(),
        );
        let outcome = c.load();
        let names: Vec<_> = outcome.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "rel", "b"]);
        assert_eq!(c.files, 4);
        assert_eq!(outcome.errors.len(), 1);
        assert!(outcome.errors[0].file.ends_with("bad.yml"));
        assert!(outcome.objects[1].file.ends_with("chart/templates/cm.yaml"));
    }

    #[test]
    fn listing_reads_no_file_and_a_reader_reads_each_again_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        std::fs::write(&a, "kind: ConfigMap\n").unwrap();
        let gone = dir.path().join("gone.yaml");
        let inputs = [a.display().to_string(), gone.display().to_string()];
        let listed = list(
            &inputs,
            &Fake,
            &HelmOptions::default(),
            &mut std::io::empty(),
        );
        // Listed, not read: the missing file is no error yet.
        assert!(listed.errors.is_empty(), "{:?}", listed.errors);
        assert_eq!(listed.files, 2);
        let paths: Vec<&Path> = listed
            .inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.as_path(),
                Input::Text(s) => panic!("{} was read", s.name),
            })
            .collect();
        assert_eq!(paths, [a.as_path(), gone.as_path()]);

        let mut reader = FileReader::default();
        let err = reader.read(&gone).unwrap_err();
        assert!(err.message.contains("cannot read"), "{}", err.message);
        let source = reader.read(&a).unwrap();
        assert_eq!(source.text, "kind: ConfigMap\n");
        let released = Source::file(source.name.clone(), String::new());
        assert_eq!(reader.text(&released).unwrap(), source.text);
        let changed = |reader: &mut FileReader| {
            let err = reader.text(&released).unwrap_err();
            assert!(
                err.message.contains("changed while it was being checked"),
                "{}",
                err.message
            );
        };
        // Rewritten to the same size with its modification time put back: the content tells.
        let first_modified = std::fs::metadata(&a).unwrap().modified().unwrap();
        std::fs::write(&a, "kind: Secret\n\n\n\n").unwrap();
        assert_eq!(
            std::fs::metadata(&a).unwrap().len(),
            source.text.len() as u64
        );
        std::fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(first_modified)
            .unwrap();
        changed(&mut reader);
        std::fs::write(&a, "kind: Secret\nmetadata: {name: x}\n").unwrap();
        changed(&mut reader);
        let stranger = Source::file("<stdin>", String::new());
        assert!(!reader.can_read_again(&stranger));
        assert!(reader.text(&stranger).is_err());
        assert!(reader.can_read_again(&source));
    }

    /// A device or pipe gives its text once: it is read, but not offered for reading again.
    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read_again() {
        let mut reader = FileReader::default();
        let source = reader.read(Path::new("/dev/null")).unwrap();
        assert_eq!(source.text, "");
        assert!(!reader.can_read_again(&source));
        let err = reader.text(&source).unwrap_err();
        assert!(err.message.contains("regular file"), "{}", err.message);
    }

    /// A FIFO in a walked directory would block the walk until something writes to it: it is
    /// skipped with a note. Inputs without an end are cut off at the limit.
    #[cfg(unix)]
    #[test]
    fn fifos_in_directories_are_skipped_and_endless_inputs_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "kind: ConfigMap\n").unwrap();
        let fifo = dir.path().join("b.yaml");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("c.yaml")).unwrap();
        let listed = list(
            &[dir.path().display().to_string()],
            &Fake,
            &HelmOptions::default(),
            &mut std::io::empty(),
        );
        assert!(listed.errors.is_empty(), "{:?}", listed.errors);
        assert_eq!(listed.files, 1);
        assert_eq!(listed.notes.len(), 2, "{:?}", listed.notes);
        assert!(
            listed.notes[0].contains("b.yaml: not a regular file (a FIFO)"),
            "{:?}",
            listed.notes
        );
        assert!(
            listed.notes[1].contains("c.yaml: not a regular file (a device)"),
            "{:?}",
            listed.notes
        );

        let err = read_at_most(&mut std::io::repeat(0), "/dev/zero", 0, 1024 * 1024).unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Limit);
        assert!(err.message.contains("larger than 1 MiB"), "{}", err.message);
        assert_eq!(read_at_most(&mut &b"abc"[..], "x", 3, 3).unwrap(), b"abc");
    }

    #[test]
    fn missing_helm_says_what_to_do_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let given = dir.path().join("no-such-helm");
        let opts = HelmOptions {
            helm: Some(given.clone()),
            ..Default::default()
        };
        let err = HelmCommand.render(dir.path(), &opts).unwrap_err();
        assert_eq!(err.kind, InputErrorKind::Render);
        assert!(
            err.message.contains(&format!(
                "--helm (or HAVEN_HELM), {}, is no file",
                given.display()
            )),
            "{}",
            err.message
        );
        let err = helm_not_found("charts/app", None);
        assert_eq!(err.kind, InputErrorKind::Render);
        assert_eq!(&*err.file, "charts/app");
        let m = &err.message;
        // One line (reports print a line break as a literal `\u{a}`), the chart named by the
        // error's file and once more only in the command to pipe, and tools/helm as a way out.
        assert!(!m.contains('\n'), "{m}");
        assert!(
            m.starts_with("is a Helm chart, and no `helm` was found on PATH"),
            "{m}"
        );
        assert_eq!(m.matches("charts/app").count(), 1, "{m}");
        assert!(
            m.contains("helm template my-release charts/app | haven app check -"),
            "{m}"
        );
        assert!(m.contains("--helm PATH"), "{m}");
        assert!(m.contains("tools/helm"), "{m}");
    }
}
