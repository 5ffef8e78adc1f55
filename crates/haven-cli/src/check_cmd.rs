//! `haven check` (the cluster compliancy check) and `haven snapshot`.
//!
//! Wiring only: cluster access and collection live in `haven-cluster`, the decisions in
//! `haven-checks`, the outputs in `haven-report::cluster_check`. Exit codes: 0 compliant (also
//! with waivers), 1 not compliant, 2 could not run.

use crate::diag::{Diagnostic, Problem};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use haven_checks::{CHECKS, CheckConfig, ExternalTool, ReleaseData, RunInputs, parse_waivers};
use haven_cluster::{AccessOptions, ClusterSnapshot, CollectOptions};
use haven_io::process::{Limits, Mode, ProcessError};
use haven_report::cluster_check::{self as out, ClusterReport};

use crate::EXIT_OK;

const CHECK_EXIT_CODES: &str = "Exit codes:\n  0  compliant (also: compliant with waivers)\n  1  NOT compliant\n  2  could not run (no cluster access, unreadable file, usage error)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Upstream's tables and summary line, then haven's verdict and reasons (`-v`: evidence).
    Text,
    /// Upstream's JSON (PascalCase), for existing consumers.
    Json,
    /// haven's JSON with method and evidence (schema haven.cluster-check/v1).
    HavenJson,
    Junit,
    Sarif,
    /// One self-contained HTML page for people (`--lang nl` for Dutch).
    Html,
}

#[derive(Debug, Args)]
pub struct ClusterAccessArgs {
    #[command(flatten)]
    pub cluster: crate::cli::ClusterArgs,
    // The request timeout, under the name `haven check` has always given it (the `plus`
    // commands call it `--request-timeout`: `plus status --timeout` is its overall deadline).
    /// Timeout of each API request and of a kubeconfig credential plugin, e.g. `30s`, `2m`,
    /// `500ms`.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::cli::positive_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
#[command(after_help = CHECK_EXIT_CODES)]
pub struct ClusterCheckArgs {
    #[command(flatten)]
    pub access: ClusterAccessArgs,
    /// Check a snapshot file (from `haven snapshot`) instead of a live cluster.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["allow_writes", "write_crd"])]
    pub snapshot: Option<PathBuf>,
    /// Allow write probes: a test ReadWriteMany claim for rwxvolumes and one short pod per node
    /// for nodehardening (each in a namespace of its own, deleted afterwards, also on Ctrl-C).
    /// Without it every check is read-only.
    #[arg(long)]
    pub allow_writes: bool,
    /// How long the rwxvolumes probe waits for its claim to bind.
    #[arg(long, value_name = "DURATION", default_value = "180s", value_parser = crate::cli::positive_duration)]
    pub probe_timeout: Duration,
    /// Image of the nodehardening probe pods (needs `sh` and `cat`).
    #[arg(long, value_name = "IMAGE", default_value = "busybox:1.37")]
    pub probe_image: String,
    /// Signed release data file (Kubernetes releases, haven releases and the SHA-256 of their
    /// binaries, CNCF-certified platforms); its minisign signature FILE.minisig must verify with
    /// the haven release key. Default: haven-release-data.json beside the binary, else the one
    /// `--update-release-data` wrote ($XDG_DATA_HOME/haven/), else the copy built in (no hashes).
    #[arg(long, value_name = "FILE")]
    pub release_data: Option<PathBuf>,
    /// Waiver file (YAML, `kind: WaiverList`, as for `haven app check`): checks accepted as
    /// exceptions, with reason and expiry.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Check configuration (YAML): log agents, RWX provisioners, platforms, hardened OSes, Haven+
    /// components. Top-level keys replace the built-in defaults (`--print-config` shows them).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the built-in check configuration and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Also report the Haven+ capabilities: component, version and health of each.
    #[arg(long)]
    pub plus: bool,
    /// Run the suggested CIS check: kube-bench as a Job on every node (hostPID, the node's
    /// Kubernetes directories read-only), in a namespace of its own deleted afterwards. A write:
    /// needs --allow-writes.
    #[arg(long)]
    pub cis: bool,
    /// kube-bench image of --cis (pinned by version, as kube-bench's job.yaml).
    #[arg(long, value_name = "IMAGE", default_value = haven_cluster::probe::KUBE_BENCH_IMAGE)]
    pub cis_image: String,
    /// Run the suggested Kubescape check with kubescape (must be on PATH).
    #[arg(long)]
    pub kubescape: bool,
    /// Longest kubescape may run (`--kubescape`); then it is killed and its check is UNKNOWN.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::cli::positive_duration)]
    pub tool_timeout: Duration,
    /// Skip the cncf check.
    #[arg(long)]
    pub no_cncf: bool,
    /// Look the platform up live in cncf/k8s-conformance (GitHub's API, and the submission's
    /// e2e.log), as upstream does; when that fails, the release data's CNCF list decides.
    #[arg(long)]
    pub online: bool,
    /// Fetch the Kubernetes releases (kubernetes/kubernetes release tags) and the CNCF list
    /// (cncf/k8s-conformance) from GitHub, write them to $XDG_DATA_HOME/haven/updated-release-data.json
    /// (default ~/.local/share/haven/), and exit. Later runs use them over the built-in or signed
    /// release data; the haven release list and its hashes stay those of the signed data.
    #[arg(long, conflicts_with_all = ["snapshot", "allow_writes", "write_crd", "online"])]
    pub update_release_data: bool,
    /// GitHub API base URL for --online and --update-release-data (e.g. a GitHub Enterprise
    /// mirror: https://github.example/api/v3). Proxies: HTTPS_PROXY, NO_PROXY.
    #[arg(long, value_name = "URL", default_value = haven_checks::upstream::GITHUB_API)]
    pub github_api: String,
    /// List the checks with their rationale and exit (no cluster needed).
    #[arg(long)]
    pub rationale: bool,
    /// Write upstream's `Compliancy` resource to the cluster (creating its CRD if absent).
    #[arg(long)]
    pub write_crd: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Language of the HTML report's labels and verdicts (`-o html` only).
    #[arg(long, value_enum, value_name = "LANG")]
    pub lang: Option<crate::cli::LangArg>,
    /// Show the evidence of every check.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
#[command(after_help = crate::cli::SNAPSHOT_EXIT_CODES)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub access: ClusterAccessArgs,
    /// Where to write the snapshot (JSON); `-` for standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// Where signed release data is looked for when `--release-data` is not given: beside the binary
/// (where a release archive unpacks it), then the per-user data directory
/// (`$XDG_DATA_HOME/haven/`, default `~/.local/share/haven/`).
fn default_release_data_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        paths.push(dir.join(haven_checks::release::RELEASE_DATA_FILE));
    }
    if let Some(d) = data_dir() {
        paths.push(d.join(haven_checks::release::RELEASE_DATA_FILE));
    }
    paths
}

/// The keys release data may be signed with: the haven release key, and in debug builds only
/// (tests, never a release binary) a test key from `HAVEN_TEST_RELEASE_KEY` (minisign `.pub`
/// text), so the signed path can be tested end to end without the release key's secret half.
fn trusted_keys() -> Vec<haven_checks::TrustedKey> {
    #[allow(unused_mut)]
    let mut keys = vec![haven_checks::TrustedKey::release()];
    #[cfg(debug_assertions)]
    if let Ok(text) = std::env::var("HAVEN_TEST_RELEASE_KEY")
        && let Ok(k) =
            haven_checks::TrustedKey::from_text("HAVEN_TEST_RELEASE_KEY (debug build)", &text)
    {
        keys.push(k);
    }
    keys
}

/// Read signed release data: `path` and `path.minisig`.
fn read_signed_release_data(path: &Path) -> Result<ReleaseData, String> {
    let file = path.display().to_string();
    let text = read(path)?;
    let mut sig_path = path.as_os_str().to_owned();
    sig_path.push(".minisig");
    let sig_path = PathBuf::from(sig_path);
    let signature = match std::fs::read_to_string(&sig_path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(haven_checks::ReleaseDataError::SignatureMissing {
                file,
                signature: sig_path.display().to_string(),
            }
            .to_string());
        }
        Err(e) => return Err(format!("{}: {e}", sig_path.display())),
    };
    ReleaseData::from_signed(
        &file,
        &text,
        &sig_path.display().to_string(),
        &signature,
        &trusted_keys(),
    )
    .map_err(|e| e.to_string())
}

/// `--release-data`, else the newest signed file at a default location, else the built-in copy;
/// then, unless a file was given, the Kubernetes releases and CNCF list of
/// `updated-release-data.json` (what `--update-release-data` wrote) when they are newer. A file
/// at a default location that does not verify or read is an error, not silently skipped: a
/// changed release-data file is worth a look.
fn load_release_data(given: Option<&Path>) -> Result<ReleaseData, String> {
    if let Some(p) = given {
        let mut d = read_signed_release_data(p)?;
        d.given = true;
        return Ok(d);
    }
    let mut best = ReleaseData::embedded();
    for p in default_release_data_paths() {
        if p.is_file() {
            let d = read_signed_release_data(&p)?;
            // Signed data wins a tie: it carries the hashes.
            if d.day() >= best.day() {
                best = d;
            }
        }
    }
    if let Some(path) = updated_release_data_path()
        && path.is_file()
    {
        let update = ReleaseData::from_json(&path.display().to_string(), &read(&path)?)
            .map_err(|e| e.to_string())?;
        best = best.with_update(update);
    }
    Ok(best)
}

/// The per-user data directory: `$XDG_DATA_HOME/haven`, default `~/.local/share/haven`.
fn data_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("haven"))
}

fn updated_release_data_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join(haven_checks::release::UPDATED_RELEASE_DATA_FILE))
}

/// Write `text` to `path` so that a reader sees the old file or the new one, never half of it
/// (`haven_io::files`: a temporary file beside it, flushed, renamed; never through a link).
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    haven_io::files::write_file(path, text.as_bytes()).map_err(|e| e.to_string())
}

/// `--update-release-data`: fresh Kubernetes releases and CNCF list from GitHub, merged over the
/// release data in use, written to the per-user data directory.
fn update_release_data(args: &ClusterCheckArgs) -> Result<u8, Diagnostic> {
    let base = load_release_data(args.release_data.as_deref())?;
    let path = updated_release_data_path()
        .ok_or("--update-release-data: neither XDG_DATA_HOME nor HOME is set")?;
    let http = crate::http::UreqGet::new(args.access.timeout, true);
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let bar = spinner("fetching Kubernetes releases and the CNCF list from GitHub");
    let refreshed =
        haven_checks::upstream::refresh_release_data(&http, &args.github_api, &base, today);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut refreshed = refreshed.map_err(|e| format!("--update-release-data: {e}"))?;
    refreshed.data.origin = path.display().to_string();
    write_atomically(&path, &refreshed.data.to_json_text())?;
    let d = &refreshed.data;
    let latest = d
        .latest_kubernetes(today)
        .map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_else(|| "-".into());
    let mut out = format!(
        "haven: wrote {} ({}): Kubernetes up to {latest}, CNCF list {}–{} ({} product directories, cncf/k8s-conformance {})\n",
        path.display(),
        d.date,
        d.cncf.minors.first().map(String::as_str).unwrap_or("-"),
        d.cncf.minors.last().map(String::as_str).unwrap_or("-"),
        d.cncf.products.len(),
        d.cncf.commit.as_deref().unwrap_or("-"),
    );
    for n in &refreshed.notes {
        out.push_str(&format!("haven: {n}\n"));
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(EXIT_OK)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn access_options(a: &ClusterAccessArgs) -> AccessOptions {
    a.cluster.access(Some(a.timeout))
}

/// A spinner on stderr, only when stderr is a terminal (never in pipes or CI logs).
fn spinner(message: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

/// A bar counting finished reads on stderr, only when stderr is a terminal.
fn read_progress(server: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(haven_cluster::collect::READS as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} reading {msg}: {pos}/{len} reads done ({elapsed})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(server.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

async fn collect_live(
    access: &ClusterAccessArgs,
) -> Result<(haven_cluster::Connection, ClusterSnapshot), String> {
    let conn = haven_cluster::connect(&access_options(access))
        .await
        .map_err(|e| e.to_string())?;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bar = read_progress(&conn.server);
    let options = CollectOptions {
        request_timeout: access.timeout,
        server: conn.server.clone(),
        context: conn.context.clone(),
        progress: Some(done.clone()),
    };
    let collect = haven_cluster::collect(&conn.client, &options);
    let snapshot = match &bar {
        // Move the bar as reads finish (they run concurrently; some take several pages).
        Some(b) => {
            tokio::pin!(collect);
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    s = &mut collect => break s,
                    _ = tick.tick() => {
                        b.set_position(done.load(std::sync::atomic::Ordering::Relaxed) as u64);
                    }
                }
            }
        }
        None => collect.await,
    }
    .map_err(|e| e.to_string());
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((conn, snapshot?))
}

pub fn snapshot(args: &SnapshotArgs) -> Result<u8, Diagnostic> {
    let rt = runtime()?;
    let (_, snapshot) = rt.block_on(collect_live(&args.access))?;
    let text = snapshot.to_json();
    if args.output.as_os_str() == "-" {
        std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    } else {
        haven_io::files::write_file(&args.output, text.as_bytes()).map_err(|e| e.to_string())?;
        eprintln!(
            "haven: snapshot of {} written to {}",
            snapshot.server,
            args.output.display()
        );
    }
    Ok(EXIT_OK)
}

fn print_rationale(format: CheckFormat) -> Result<u8, Diagnostic> {
    let mut s = String::new();
    if matches!(format, CheckFormat::Json | CheckFormat::HavenJson) {
        let list: Vec<serde_json::Value> = CHECKS
            .iter()
            .map(|c| {
                serde_json::json!({"name": c.name, "category": c.category.as_str(), "label": c.label, "description": c.description, "rationale": c.rationale, "upstreamRationale": c.upstream_rationale, "suggested": c.suggested})
            })
            .collect();
        s = serde_json::to_string_pretty(&list).map_err(|e| e.to_string())? + "\n";
    } else {
        for c in CHECKS {
            s.push_str(&format!(
                "{} ({}{}): {}\n  {}\n  Why: {}\n\n",
                c.name,
                c.category.as_str(),
                if c.suggested { ", suggested" } else { "" },
                c.label,
                c.description,
                c.rationale
            ));
        }
    }
    std::io::stdout()
        .write_all(s.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(EXIT_OK)
}

/// SHA-256 of the running binary, for shavalidation.
fn own_sha256() -> Option<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let path = std::env::current_exe().ok()?;
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn probe_nodes(nodes: &[haven_cluster::NodeRecord]) -> Vec<haven_cluster::probe::ProbeNode> {
    nodes
        .iter()
        .map(|n| haven_cluster::probe::ProbeNode {
            name: n.name.clone(),
            os_image: n.os_image.clone(),
            kernel: n.kernel_version.clone(),
        })
        .collect()
}

/// `--cis` runs kube-bench on the cluster's nodes, never on this machine (which is not a node):
/// only a live run with `--allow-writes` can, otherwise the check says what it needs.
fn cis_state(args: &ClusterCheckArgs) -> ExternalTool {
    if !args.cis {
        ExternalTool::NotRequested
    } else if args.snapshot.is_some() {
        ExternalTool::NotRun {
            reason:
                "--cis runs kube-bench as a Job on the cluster's nodes: not possible on a snapshot"
                    .into(),
        }
    } else if !args.allow_writes {
        ExternalTool::NotRun {
            reason: "--cis runs kube-bench as a Job on every node (hostPID, the node's Kubernetes directories read-only), a write to the cluster: it needs --allow-writes".into(),
        }
    } else {
        ExternalTool::Probed
    }
}

/// Most kubescape may print: its JSON of a large cluster runs to tens of MiB.
const TOOL_MAX_OUTPUT: usize = 256 << 20;

/// `--kubescape`, within `--tool-timeout`: `kubescape scan --compliance-threshold 80 --format json`, on the same cluster as
/// the checks (kubescape reads KUBECONFIG and takes --kube-context; without them it would scan
/// whatever its own default points at); passes when it exits 0 (the threshold makes it exit
/// non-zero below 80%).
fn kubescape(requested: bool, access: &ClusterAccessArgs, timeout: Duration) -> ExternalTool {
    if !requested {
        return ExternalTool::NotRequested;
    }
    let program = "kubescape";
    let Some(path) = find_on_path(program) else {
        return ExternalTool::Missing {
            program: program.into(),
        };
    };
    let shown = path.display().to_string();
    let mut cmd = std::process::Command::new(&path);
    cmd.args([
        "scan",
        "--compliance-threshold",
        "80",
        "--format",
        "json",
        "--output",
        "/dev/stdout",
    ]);
    if let Some(c) = &access.cluster.context {
        cmd.args(["--kube-context", c]);
    }
    if let Some(k) = &access.cluster.kubeconfig {
        cmd.env("KUBECONFIG", k);
    }
    let limits = Limits::new(timeout, TOOL_MAX_OUTPUT);
    let output = match haven_io::process::run(cmd, &limits, Mode::Captured, "kubescape") {
        Ok(o) => o,
        Err(e) => {
            return ExternalTool::Failed {
                program: shown,
                message: match e {
                    ProcessError::TimedOut { .. } => format!("{e} (--tool-timeout sets the limit)"),
                    _ => e.to_string(),
                },
            };
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let score = serde_json::from_str::<serde_json::Value>(&stdout)
        .ok()
        .and_then(|v| {
            v.pointer("/summaryDetails/complianceScore")
                .and_then(serde_json::Value::as_f64)
        });
    ExternalTool::Ran {
        program: shown,
        passed: output.status.success(),
        detail: match score {
            Some(s) => format!("kubescape compliance score {s:.1}% (threshold 80%)"),
            None => format!("kubescape exited with {}", output.status),
        },
    }
}

/// `--online`: the detected platform looked up live. Nothing to look up without a platform or a
/// server version, or for kubeadm (no vendor submission: conformant by inference).
fn cncf_online(
    snapshot: &ClusterSnapshot,
    config: &CheckConfig,
    release: &ReleaseData,
    args: &ClusterCheckArgs,
) -> Option<haven_checks::CncfOnline> {
    let platform = haven_checks::detect_platform(snapshot, config)?;
    if release
        .cncf
        .upstream_installers
        .contains(&platform.cncf_name)
    {
        return None;
    }
    let minor = snapshot.server_version.value()?.major_minor()?;
    let http = crate::http::UreqGet::new(args.access.timeout, true);
    let bar = spinner("looking the platform up in cncf/k8s-conformance");
    let online = haven_checks::upstream::cncf_online(
        &http,
        &args.github_api,
        &platform.cncf_name,
        minor,
        &release.cncf,
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Some(online)
}

pub fn run(args: &ClusterCheckArgs) -> Result<u8, Diagnostic> {
    if args.rationale {
        return print_rationale(args.format);
    }
    let lang = crate::cli::LangArg::for_html(args.lang, args.format == CheckFormat::Html, "-o")?;
    if args.print_config {
        std::io::stdout()
            .write_all(haven_checks::config::DEFAULT_CONFIG_YAML.as_bytes())
            .map_err(|e| e.to_string())?;
        return Ok(EXIT_OK);
    }
    if args.update_release_data {
        return update_release_data(args);
    }
    let config = match &args.config {
        Some(p) => CheckConfig::with_overrides(&p.display().to_string(), &read(p)?)
            .map_err(|e| Diagnostic::from(e.errors.as_slice()))?,
        None => CheckConfig::default(),
    };
    let release = load_release_data(args.release_data.as_deref())?;
    let names = haven_checks::catalogue::check_names();
    let waivers = match &args.waivers {
        Some(p) => {
            let list = parse_waivers(&p.display().to_string(), &read(p)?, &names)
                .map_err(Diagnostic::from)?;
            for note in &list.notes {
                eprintln!("haven: warning: {note}");
            }
            list.waivers
        }
        None => Vec::new(),
    };
    let started = jiff::Timestamp::now();
    let (snapshot, connection, source) = match &args.snapshot {
        Some(p) => {
            let s = ClusterSnapshot::from_json(&p.display().to_string(), &read(p)?)
                .map_err(|e| e.to_string())?;
            (s, None, format!("snapshot:{}", p.display()))
        }
        None => {
            let rt = runtime()?;
            let (conn, mut s) = rt.block_on(collect_live(&args.access))?;
            if args.allow_writes {
                let bar = spinner("write probe: provisioning a ReadWriteMany claim");
                let class = s
                    .storage_classes
                    .value()
                    .and_then(|cs| {
                        cs.iter()
                            .find(|c| config.rwx_provisioners.contains(&c.provisioner))
                    })
                    .map(|c| c.name.clone());
                let options = haven_cluster::probe::RwxProbeOptions {
                    storage_class: class,
                    timeout: args.probe_timeout,
                    ..Default::default()
                };
                let probe = rt.block_on(haven_cluster::probe::rwx_probe(&conn.client, &options));
                if let Some(b) = bar {
                    b.finish_and_clear();
                }
                if probe.interrupted {
                    return Err(format!(
                        "interrupted; the probe namespace was cleaned up ({})",
                        probe.facts.get("cleanup").cloned().unwrap_or_default()
                    )
                    .into());
                }
                s.probes.push(probe);
                if let Some(nodes) = s.nodes.value() {
                    let bar = spinner("write probe: reading each node's security modules");
                    let nodes = probe_nodes(nodes);
                    let options = haven_cluster::probe::NodeProbeOptions {
                        image: args.probe_image.clone(),
                        timeout: args.probe_timeout,
                        ..Default::default()
                    };
                    let probe = rt.block_on(haven_cluster::probe::node_probe(
                        &conn.client,
                        &nodes,
                        &options,
                    ));
                    if let Some(b) = bar {
                        b.finish_and_clear();
                    }
                    if probe.interrupted {
                        return Err(format!(
                            "interrupted; the probe namespace was cleaned up ({})",
                            probe.facts.get("cleanup").cloned().unwrap_or_default()
                        )
                        .into());
                    }
                    s.probes.push(probe);
                }
                if args.cis
                    && let Some(nodes) = s.nodes.value()
                {
                    let bar = spinner("write probe: kube-bench on every node (--cis)");
                    let nodes = probe_nodes(nodes);
                    let options = haven_cluster::probe::CisProbeOptions {
                        image: args.cis_image.clone(),
                        timeout: args.probe_timeout,
                        ..Default::default()
                    };
                    let probe = rt.block_on(haven_cluster::probe::cis_probe(
                        &conn.client,
                        &nodes,
                        &options,
                    ));
                    if let Some(b) = bar {
                        b.finish_and_clear();
                    }
                    if probe.interrupted {
                        return Err(format!(
                            "interrupted; the probe namespace was cleaned up ({})",
                            probe.facts.get("cleanup").cloned().unwrap_or_default()
                        )
                        .into());
                    }
                    s.probes.push(probe);
                }
            }
            (s, Some((rt, conn)), "live".to_owned())
        }
    };
    let cncf_online = if args.online && !args.no_cncf {
        cncf_online(&snapshot, &config, &release, args)
    } else {
        None
    };
    let inputs = RunInputs {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        binary_sha256: own_sha256(),
        // Set by the release pipeline at compile time; any other build is self-built.
        release_build: option_env!("HAVEN_RELEASE_BUILD").is_some_and(|v| !v.is_empty()),
        cncf_online,
        cis: cis_state(args),
        kubescape: kubescape(args.kubescape, &args.access, args.tool_timeout),
        cncf: !args.no_cncf,
        plus: args.plus,
        waivers,
        allow_writes: args.allow_writes,
    };
    let now = jiff::Timestamp::now();
    let run = haven_checks::run_checks(&snapshot, &config, &release, now, &inputs);
    let stamp = |t: jiff::Timestamp| t.round(jiff::Unit::Second).unwrap_or(t).to_string();
    let report = ClusterReport {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        run,
        started: stamp(started),
        stopped: stamp(jiff::Timestamp::now()),
        target: if snapshot.server.is_empty() {
            source.clone()
        } else {
            snapshot.server.clone()
        },
        context: snapshot.context.clone(),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        source,
        allow_writes: args.allow_writes,
    };
    let text = match args.format {
        CheckFormat::Text => out::render_text(&report, args.verbose),
        CheckFormat::Json => out::render_upstream_json(&report),
        CheckFormat::HavenJson => out::render_haven_json(&report),
        CheckFormat::Junit => out::render_junit(&report),
        CheckFormat::Sarif => out::render_sarif(&report),
        CheckFormat::Html => haven_report::html::render_cluster_html(
            &report,
            &haven_report::html::HtmlOptions {
                lang,
                generated: None,
            },
        ),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    if args.write_crd {
        let Some((rt, conn)) = &connection else {
            return Err("--write-crd needs a live cluster".into());
        };
        let name = rt
            .block_on(haven_cluster::write::write_compliancy(
                &conn.client,
                out::compliancy_crd(),
                out::compliancy_resource(&report),
            ))
            .map_err(|e| {
                Diagnostic::from(
                    Problem::new(format!("cannot write the Compliancy record: {e}"))
                        .flag("--write-crd"),
                )
            })?;
        eprintln!("haven: wrote Compliancy {name}");
    }
    Ok(report.exit_code())
}
