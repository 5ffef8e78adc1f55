//! The command-line definition (clap derive). Completions and the man page are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Each command's `--help` lists its own exit codes (2 is always a usage error or input that
/// could not be read; errors are printed as `haven: error: …` on stderr).
const EXIT_CODES: &str = "Exit codes:\n  0  nothing blocking\n  1  blocking findings (unwaived, severity >= --fail-on)\n  2  usage error, or input that could not be read";
const TOP_EXIT_CODES: &str = "Exit codes (each command's --help lists its own):\n  0  success\n  1  the command's verdict is negative: blocking findings (app check), NOT compliant (check),\n     errors in the tree (plus validate), changes (plus diff), not Ready (plus status)\n  2  usage error, or input that could not be read (`haven: error: …` on stderr)";
pub(crate) const PRINT_EXIT_CODES: &str =
    "Exit codes:\n  0  printed\n  2  usage error, or the output could not be written";
const RULES_EXIT_CODES: &str = "Exit codes:\n  0  printed\n  2  unknown rule id, or usage error";
pub(crate) const SNAPSHOT_EXIT_CODES: &str = "Exit codes:\n  0  snapshot written\n  2  could not run (no cluster access, unwritable file, usage error)";
const SERVE_EXIT_CODES: &str = "Exit codes:\n  0  stopped after SIGTERM or Ctrl-C (connections drained)\n  2  could not start (certificate, key, config, listen address, cluster access, usage error)";

/// Haven and Haven+ for Kubernetes: can this application land on a Haven cluster?
#[derive(Debug, Parser)]
#[command(name = "haven", version, about, propagate_version = true, after_help = TOP_EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check applications (Helm charts or manifests) against the Haven rules.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// List every rule, or explain one.
    #[command(after_help = RULES_EXIT_CODES)]
    Rules(RulesArgs),
    /// Check a cluster for Haven compliancy: upstream's 15 checks (+2 suggested), read-only by
    /// default, offline, with evidence and waivers.
    Check(crate::check_cmd::ClusterCheckArgs),
    /// Record what `haven check` reads from a cluster in a file (secrets are never read).
    Snapshot(crate::check_cmd::SnapshotArgs),
    /// The admission webhook that enforces the same rules on the cluster.
    Admission {
        #[command(subcommand)]
        command: AdmissionCommand,
    },
    /// The Haven+ platform layer: one validated config file → a pinned, validated Flux GitOps tree.
    Plus {
        #[command(subcommand)]
        command: crate::plus_cmd::PlusCommand,
    },
    /// Print shell completions.
    #[command(after_help = PRINT_EXIT_CODES)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = PRINT_EXIT_CODES)]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Check whether an application can land on Haven+: Pod Security, Haven requirements and
    /// Haven+ expectations.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdmissionCommand {
    /// Serve `admission.k8s.io/v1` AdmissionReviews over HTTPS at /validate (plus /healthz,
    /// /readyz, /metrics). Logs are JSON lines on stderr.
    #[command(after_help = SERVE_EXIT_CODES)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// PEM certificate chain (reloaded when it changes on disk).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// PEM private key (reloaded with the certificate).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Configuration: cluster defaults and exemptions (YAML).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The webhook's own namespace, always exempt (default: $POD_NAMESPACE, else haven-system).
    #[arg(
        long,
        env = "POD_NAMESPACE",
        default_value = "haven-system",
        value_name = "NS"
    )]
    pub namespace: String,
    /// Benchmarks only: allow everything without evaluating (the ceiling of the TLS/HTTP stack).
    /// Compiled only with the `bench` feature (`bench/admission.sh`), never in a release.
    #[cfg(feature = "bench")]
    #[arg(long)]
    pub null_responder: bool,
    /// Benchmarks only: review with the engine decoder alone (`haven_rules::check` on every
    /// request, no fast decoder). Compiled only with the `bench` feature.
    #[cfg(feature = "bench")]
    #[arg(long, conflicts_with = "null_responder")]
    pub engine_only: bool,
    /// Close a connection that has had no request in flight for this long.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration, help_heading = "Limits")]
    pub idle_timeout: std::time::Duration,
    /// Time allowed for the TLS handshake and for a request's headers (also for the first
    /// request of a new connection to arrive).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration, help_heading = "Limits")]
    pub header_timeout: std::time::Duration,
    /// Connections open at once, at most (lowered at start to what the open-files limit
    /// allows). At the limit a new connection replaces the one idle longest.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub max_connections: u32,
    /// Connections open at once from one client address, at most.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub max_connections_per_client: u32,
    /// After SIGTERM: how long open connections keep being served (no new ones are accepted
    /// and /readyz fails meanwhile).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration, help_heading = "Limits")]
    pub drain_period: std::time::Duration,
    /// After the drain period: how long in-flight requests may take to finish.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = duration, help_heading = "Limits")]
    pub shutdown_grace: std::time::Duration,
    /// Warn (in the log) when the serving certificate expires within this many days.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 14,
        help_heading = "Limits"
    )]
    pub cert_warning_days: u32,
    /// Do not watch Namespaces: apply the config defaults to every namespace. Needs no cluster
    /// access (local trials, benchmarks); on a cluster, namespace labels would be ignored.
    #[arg(long, conflicts_with_all = ["kubeconfig", "context"])]
    pub no_watch: bool,
    // The cluster whose Namespaces are watched. No request timeout: the watch is a long-lived
    // stream, and kube runs a kubeconfig credential plugin again whenever its credential expires.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// How to find the cluster: the flags of every command that talks to one (`check`, `snapshot`,
/// `admission serve`, `plus status`, `plus backups check`), declared once so that their names,
/// help and meaning cannot drift apart. The request timeout is not here: `haven check` calls it
/// `--timeout`, and `plus status` already has a `--timeout` of its own (the overall deadline),
/// so the plus commands flatten [`RequestTimeoutArgs`] beside this.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    /// The one conversion into what `haven_cluster::connect` takes. `timeout` bounds each
    /// request and a kubeconfig credential plugin; `None` only for a long-lived watch.
    pub fn access(&self, timeout: Option<std::time::Duration>) -> haven_cluster::AccessOptions {
        haven_cluster::AccessOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            timeout,
        }
    }
}

/// `--request-timeout` of the `plus` commands that read the cluster.
#[derive(Debug, Clone, Args)]
pub struct RequestTimeoutArgs {
    /// Longest one API request or a kubeconfig credential plugin may take.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = positive_duration)]
    pub request_timeout: std::time::Duration,
}

/// `120s`, `5m`, `1m30s`, `500ms` (jiff's friendly duration format) or a bare number of
/// seconds (`90`), not negative. The one duration parser of the CLI.
pub(crate) fn duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let bare_seconds = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.');
    let d: jiff::SignedDuration = if bare_seconds {
        format!("{t}s").parse()
    } else {
        t.parse()
    }
    .map_err(|e| format!("not a duration: {s:?} (try 30s, 5m, 1m30s, 500ms): {e}"))?;
    std::time::Duration::try_from(d).map_err(|_| format!("a negative duration: {s:?}"))
}

/// A [`duration`] that must be more than zero (a timeout).
pub(crate) fn positive_duration(s: &str) -> Result<std::time::Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err(format!("a timeout must be positive: {s:?}")),
        d => Ok(d),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PssLevelArg {
    Baseline,
    Restricted,
    /// Do not check Pod Security.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Sarif,
    Junit,
    Gitlab,
    /// One self-contained HTML page for people (`--lang nl` for Dutch).
    Html,
}

/// Language of the HTML report's labels and verdicts (`--lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    En,
    Nl,
}

impl LangArg {
    /// The report language for `--format html`; an error for any other format, where it would
    /// change nothing.
    pub fn for_html(
        lang: Option<LangArg>,
        html: bool,
        flag: &str,
    ) -> Result<haven_report::html::Lang, String> {
        match (lang, html) {
            (Some(_), false) => Err(format!(
                "--lang applies to the HTML report only; add `{flag} html`"
            )),
            (Some(LangArg::Nl), true) => Ok(haven_report::html::Lang::Nl),
            _ => Ok(haven_report::html::Lang::En),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files, directories (searched for *.yaml, *.yml, *.json), Helm chart directories, or `-` for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Helm values file for chart inputs (repeatable).
    #[arg(
        short = 'f',
        long = "values",
        value_name = "FILE",
        help_heading = "Helm"
    )]
    pub values: Vec<PathBuf>,
    /// Set a chart value, as `helm --set` (repeatable).
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Helm")]
    pub set: Vec<String>,
    /// Set a chart value as a string, as `helm --set-string` (repeatable).
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Helm")]
    pub set_string: Vec<String>,
    /// Namespace to render and check in; applied to namespaced objects that name none.
    #[arg(short = 'n', long, value_name = "NS", help_heading = "Helm")]
    pub namespace: Option<String>,
    /// Release name for chart inputs.
    #[arg(
        long,
        default_value = "release-name",
        value_name = "NAME",
        help_heading = "Helm"
    )]
    pub release: String,
    /// The helm program (default: `helm` on PATH).
    #[arg(long, value_name = "PATH", env = "HAVEN_HELM", help_heading = "Helm")]
    pub helm: Option<PathBuf>,
    /// Kubernetes version helm renders for (`--kube-version`).
    #[arg(long, value_name = "VERSION", help_heading = "Helm")]
    pub kube_version: Option<String>,
    /// Longest one `helm template` may run (`2m`, `30s`); then helm and what it started are
    /// killed.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2m",
        value_parser = positive_duration,
        help_heading = "Helm"
    )]
    pub helm_timeout: std::time::Duration,
    /// Most output one chart may render to (`64Mi`, `512Ki`, bytes).
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "64Mi",
        value_parser = parse_size,
        help_heading = "Helm"
    )]
    pub helm_max_output: usize,

    /// Pod Security Standards level to enforce.
    #[arg(long, value_enum, default_value = "restricted", help_heading = "Rules")]
    pub pss_level: PssLevelArg,
    /// Pod Security version, `v1.N` (0..=37) or `latest` (= v1.37), as the namespace label
    /// `pod-security.kubernetes.io/enforce-version`.
    #[arg(
        long,
        default_value = "latest",
        value_name = "VERSION",
        help_heading = "Rules"
    )]
    pub pss_version: haven_pss::Version,
    /// Do not run the Haven application requirements (`haven.*`).
    #[arg(long, help_heading = "Rules")]
    pub no_haven: bool,
    /// Do not run the Haven+ platform expectations (`plus.*`).
    #[arg(long, help_heading = "Rules")]
    pub no_plus: bool,
    /// Skip a rule by id, or every rule with a prefix (`plus.*`); repeatable.
    #[arg(long, value_name = "RULE", help_heading = "Rules")]
    pub skip: Vec<String>,
    /// Image tags to take as fixed versions although they look like none (`plus.image-tag`):
    /// a regular expression matching the whole tag, e.g. `RELEASE\..*`; repeatable.
    #[arg(long, value_name = "REGEX", help_heading = "Rules")]
    pub pinned_tag: Vec<haven_rules::TagPattern>,
    /// Image tags to take as moving although they look like versions, e.g. `[0-9]+` for
    /// major-only tags; matched before --pinned-tag; repeatable.
    #[arg(long, value_name = "REGEX", help_heading = "Rules")]
    pub moving_tag: Vec<haven_rules::TagPattern>,
    /// A domain whose hosts are internal-only, e.g. `intern.gemeente.nl`: the `nl.*` rules
    /// (HTTPS, HSTS and TLS for public web services under Dutch law) leave its hosts out;
    /// repeatable.
    #[arg(long, value_name = "DOMAIN", help_heading = "Rules")]
    pub internal_domain: Vec<String>,
    /// An image reference prefix images must come from (`plus.image-registry`), compared on
    /// the name as containerd reads it (`nginx` is `docker.io/library/nginx`), at `/`
    /// boundaries: `ghcr.io/gemeente-x`, or a registry host; repeatable. None given: any.
    #[arg(long, value_name = "PREFIX", help_heading = "Rules")]
    pub allowed_registry: Vec<haven_rules::RegistryPrefix>,
    /// Do not report Services of `type: LoadBalancer` (`plus.service-load-balancer`): the
    /// target namespace is allowed them.
    #[arg(long, help_heading = "Rules")]
    pub allow_load_balancer: bool,
    /// A host name routes, ingresses, gateways and certificates must not claim
    /// (`plus.hostname`): `keycloak.example.nl`, or `*.example.nl` for every name under it;
    /// repeatable.
    #[arg(long, value_name = "HOST", help_heading = "Rules")]
    pub denied_hostname: Vec<haven_rules::HostPattern>,
    /// A host name (or `*.` wildcard) routes, ingresses, gateways and certificates may claim;
    /// given once or more, every claimed name must be within one (`plus.hostname`); repeatable.
    #[arg(long, value_name = "HOST", help_heading = "Rules")]
    pub allowed_hostname: Vec<haven_rules::HostPattern>,
    /// Waiver file (YAML, `kind: WaiverList`); repeatable.
    #[arg(
        short = 'w',
        long = "waivers",
        value_name = "FILE",
        help_heading = "Rules"
    )]
    pub waivers: Vec<PathBuf>,
    /// The day against which waiver expiry is judged (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", env = "HAVEN_TODAY", help_heading = "Rules")]
    pub today: Option<jiff::civil::Date>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text", help_heading = "Output")]
    pub format: FormatArg,
    /// Write the report to a file instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Lowest unwaived severity that fails the run (exit code 1).
    #[arg(
        long,
        default_value = "high",
        value_name = "SEVERITY",
        help_heading = "Output"
    )]
    pub fail_on: haven_model::Severity,
    /// Language of the HTML report's labels and verdicts (`--format html` only).
    #[arg(long, value_enum, value_name = "LANG", help_heading = "Output")]
    pub lang: Option<LangArg>,
    /// Colour the text output.
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub color: ColorArg,
    /// Show how to fix each finding.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
}

/// `64Mi`, `512Ki`, `1Gi`, `10M`, `1k` or a number of bytes.
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("not a size: {s:?} (try 64Mi, 512Ki, 1Gi)"))?;
    let factor: usize = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {s:?} (use Ki, Mi, Gi, k, M or G)"
            ));
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err("a size must be positive".into()),
        Some(v) => Ok(v),
        None => Err(format!("{s:?} is too large")),
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
    /// Print the rule list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Everything about one rule: level, severity, scope, rationale, fix.
    #[command(after_help = RULES_EXIT_CODES)]
    Explain {
        /// A rule id, e.g. `pss.runAsNonRoot` or `haven.metrics-endpoint`.
        rule: String,
    },
}

#[cfg(test)]
mod tests {
    use super::{duration, parse_size, positive_duration};
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        assert!(duration("-5s").is_err());
        assert!(duration("5 parsecs").is_err());
        assert!(duration("").is_err());
        assert!(positive_duration("0").is_err());
        assert_eq!(positive_duration("30s"), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("512Ki"), Ok(512 << 10));
        assert_eq!(parse_size("1Gi"), Ok(1 << 30));
        assert_eq!(parse_size("10M"), Ok(10_000_000));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999999999Gi").is_err());
    }
}
