//! `haven plus`: the Haven+ platform layer as a validated Flux GitOps tree.

use crate::diag::{Diagnostic, Problem as Diag};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use haven_platform::charts::check::{Check, Problem};
use haven_platform::config::{self, Layout, PlatformConfig, Provider, Tenant};
use haven_platform::validate::{self, Severity};
use haven_platform::{Catalogue, diff, fs, migration, proofs, render};

use crate::{EXIT_FINDINGS, EXIT_OK};

const RENDER_EXIT_CODES: &str = "Exit codes:\n  0  rendered\n  2  usage error, a config that could not be read or is invalid, or a tree that could not be\n     written";
const VALIDATE_EXIT_CODES: &str = "Exit codes:\n  0  no errors in the tree (warnings may be printed)\n  1  errors in the tree\n  2  usage error, or a tree that could not be read";
const DIFF_EXIT_CODES: &str = "Exit codes:\n  0  no changes\n  1  render would change the tree\n  2  usage error, or a config or tree that could not be read";
const WRITE_EXIT_CODES: &str = "Exit codes:\n  0  written\n  2  usage error, or a config that could not be read, is invalid, or could not be written";

#[derive(Debug, Subcommand)]
pub enum PlusCommand {
    /// Write a commented haven-plus.yaml with every capability and its default.
    #[command(after_help = WRITE_EXIT_CODES)]
    Init(InitArgs),
    /// Print the documentation and default of a config key (`capabilities.backups.ttl`), or of
    /// the component catalogue (`components`, `components.loki`).
    #[command(
        after_help = "Exit codes:\n  0  printed\n  2  unknown key or component, or usage error"
    )]
    Explain {
        /// Key path; empty for the top level.
        #[arg(default_value = "")]
        key: String,
    },
    /// Render the Flux GitOps tree (clusters/, infrastructure/, tenants/) from the config.
    #[command(after_help = RENDER_EXIT_CODES)]
    Render(RenderArgs),
    /// Validate a tree offline: built-in kinds typed for the target Kubernetes minor, custom
    /// resources against their CRD JSON Schemas (strict), the tree's wiring, and `haven app
    /// check` on workloads.
    #[command(after_help = VALIDATE_EXIT_CODES)]
    Validate(ValidateArgs),
    /// Fetch every pinned chart of the platform into a directory, verified against the
    /// catalogue's digests, with images.txt and a CycloneDX SBOM (sbom.cdx.json).
    #[command(
        after_help = "Exit codes:\n  0  every chart vendored and verified\n  1  a chart is not what the catalogue pins (digest or name/version mismatch)\n  2  usage error, unreadable config, or a chart that could not be had (nothing is written)"
    )]
    Vendor(VendorArgs),
    /// Show what `render` would change in an existing tree (unified diffs).
    #[command(after_help = DIFF_EXIT_CODES)]
    Diff(DiffArgs),
    /// Tenants: teams that deploy onto the platform.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Read the live platform: Flux Kustomization and HelmRelease Ready conditions per component
    /// and per capability; `--wait` until everything is Ready.
    #[command(
        after_help = "Exit codes:\n  0  every component and unit is Ready\n  1  something is not Ready (after --timeout with --wait)\n  2  usage error, unreadable config, or the cluster could not be read"
    )]
    Status(StatusArgs),
    /// Backups: the restore drill's checks (docs/plus.md, "Backups and the restore drill").
    Backups {
        #[command(subcommand)]
        command: BackupsCommand,
    },
    /// Read a tree of the Haven+ reference implementation (or one cluster's `kustomize build`
    /// output), write the equivalent haven-plus.yaml and print the cut-over plan that keeps
    /// every stateful object; `--check SNAPSHOT` says which steps a cluster has done.
    #[command(
        after_help = "Exit codes:\n  0  config written and plan printed; with --check: every step done\n  1  with --check: a step is not done\n  2  usage error, a tree or snapshot that could not be read, or a config that could not be written"
    )]
    Import(ImportArgs),
    /// Print the config migrated to the current version (write it back with `-o`).
    #[command(after_help = WRITE_EXIT_CODES)]
    Migrate {
        #[arg(
            long,
            short = 'c',
            default_value = "haven-plus.yaml",
            value_name = "FILE"
        )]
        config: PathBuf,
        /// Write here instead of stdout (may be the config file itself).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupsCommand {
    /// Read the live cluster: per Velero Schedule and per CloudNativePG Cluster, whether the
    /// latest backup exists, completed and is recent; Velero's storage locations Available.
    #[command(
        after_help = "Exit codes:\n  0  every latest backup completed within --max-age (or is still to come on a new schedule or cluster)\n  1  a backup is missing, failed or stale, a storage location is unavailable, a database has no backup, or nothing is backed up\n  2  usage error, or the cluster could not be read"
    )]
    Check(BackupsCheckArgs),
}

#[derive(Debug, Args)]
pub struct BackupsCheckArgs {
    /// A latest backup older than this is stale (`26h`: a daily schedule with two hours of
    /// slack).
    #[arg(long, default_value = "26h", value_name = "DURATION", value_parser = crate::cli::positive_duration)]
    pub max_age: std::time::Duration,
    #[command(flatten)]
    pub cluster: crate::cli::ClusterArgs,
    #[command(flatten)]
    pub request: crate::cli::RequestTimeoutArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: BackupsOutput,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BackupsOutput {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a tenant to the config and write its files under tenants/<name>/.
    #[command(after_help = WRITE_EXIT_CODES)]
    Add(TenantAddArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where the cluster runs.
    #[arg(long, value_parser = parse_provider, default_value = "generic")]
    pub provider: Provider,
    /// Base DNS domain of the platform.
    #[arg(long)]
    pub domain: String,
    /// Cluster name (directory clusters/<name>).
    #[arg(long, default_value = "haven")]
    pub name: String,
    /// Output file.
    #[arg(short, long, default_value = "haven-plus.yaml", value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Root of the GitOps repository to write into.
    #[arg(short, long, default_value = ".", value_name = "DIR")]
    pub output: PathBuf,
    /// Point every chart source and image at one internal registry (air-gapped clusters):
    /// charts at oci://REGISTRY/charts/<chart>, images through the chart's registry values or
    /// Flux post-renderers.
    #[arg(long, value_name = "REGISTRY")]
    pub mirror: Option<String>,
    /// With --mirror: the directory `haven plus vendor` wrote, whose image list and charts say
    /// which images to move.
    #[arg(long, value_name = "DIR", requires = "mirror")]
    pub vendor_dir: Option<PathBuf>,
    /// Write although objects of the existing tree change owning Kustomization or namespace
    /// (Flux would prune them and Helm uninstall them): only after running the steps of the
    /// plan that `render` prints up to the switch.
    #[arg(long)]
    pub moves_prepared: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The reference repository (a directory with clusters/ and infrastructure/), or a file
    /// with the output of `kustomize build clusters/<cluster>` ('-' for stdin).
    #[arg(value_name = "TREE|FILE")]
    pub source: PathBuf,
    /// The reference cluster to import (`clusters/<cluster>`); also the haven cluster name.
    /// Default for a build file: from its flux-system Kustomization's path.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The platform's base domain, when the tree only holds placeholders.
    #[arg(long)]
    pub domain: Option<String>,
    /// Where to write the config.
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Overwrite an existing config file.
    #[arg(long)]
    pub force: bool,
    /// Write nothing: print the report and the plan only.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the report and the plan (JSON: the mapping, the moves and the steps).
    #[arg(long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    /// A snapshot of the cluster (`kubectl get ns,pvc,secrets,clusters.postgresql.cnpg.io,
    /// kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io -A -o
    /// yaml`): print which steps of the plan are done instead of writing the config.
    #[arg(long, value_name = "SNAPSHOT")]
    pub check: Option<PathBuf>,
}

/// Text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Root of the tree to validate.
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// More CRD JSON Schemas, for your own CRDs, laid out as <group>/<kind>_<version>.json (the
    /// CRDs-catalog layout); asked before the schemas built into haven, which cover every CRD
    /// the pinned components and Flux install.
    #[arg(long, env = "HAVEN_CRD_SCHEMAS", value_name = "DIR")]
    pub crd_schemas: Option<PathBuf>,
    /// Kubernetes minor to validate built-in kinds against [default: the tree's
    /// cluster.kubernetesVersion (its kube-public/haven-plus ConfigMap), else the newest
    /// supported].
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Render every HelmRelease with the charts in DIR (`DIR/<component>/Chart.yaml`, as
    /// `haven plus vendor` writes them) as Flux would, and validate the platform as the cluster
    /// receives it: objects, CRD order, values, Pod Security of each namespace, images.
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
    /// The helm program for --charts (default: `helm` on PATH).
    #[arg(long, value_name = "PATH", env = "HAVEN_HELM")]
    pub helm: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ValidateFormat,
    /// Print the diagnostics as JSON (the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write the report to a file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the network flow matrix: every connection the NetworkPolicies allow between the
    /// platform's workloads, its tenants and the outside world, with the policies that open
    /// it. `--flows` adds it to the report (text, or a `flows` member of the JSON);
    /// `--flows=FORMAT` prints the matrix alone, as text, json, mermaid or dot (the findings
    /// then go to stderr; the exit code is the same).
    #[arg(
        long,
        value_name = "FORMAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "report",
        value_enum
    )]
    pub flows: Option<FlowsFormat>,
}

/// How `plus validate --flows` prints the flow matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowsFormat {
    /// Inside the report, in its format (`--flows` without a value).
    #[value(hide = true)]
    Report,
    Text,
    Json,
    Mermaid,
    Dot,
}

/// Output formats of `plus validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
    Sarif,
    Junit,
}

#[derive(Debug, Args)]
pub struct VendorArgs {
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Directory to write (replaced as a whole, only if it is empty or an earlier vendor
    /// directory).
    #[arg(short, long, default_value = "vendor", value_name = "DIR")]
    pub output: PathBuf,
    /// Read the charts from a local mirror instead of the network: DIR/<component>/ chart
    /// folders (or DIR/<component>.tgz, DIR/<chart>-<version>.tgz archives).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Vendor every component of the catalogue, not only those the config selects (a mirror
    /// for every choice).
    #[arg(long)]
    pub all_components: bool,
    /// Leave a component out (repeatable); it is listed as skipped.
    #[arg(long, value_name = "COMPONENT")]
    pub skip: Vec<String>,
    /// Vendor charts the catalogue records no digest for, marked unverified, instead of failing.
    #[arg(long)]
    pub allow_unverified: bool,
    /// Print each chart's content digest instead of checking it (for maintainers recording
    /// new pins in the catalogue); writes nothing.
    #[arg(long)]
    pub print_digests: bool,
    /// Seconds each request (and each git clone) may take.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Talk plain HTTP to OCI registries (an internal registry without TLS).
    #[arg(long)]
    pub plain_http: bool,
    /// The helm program that renders the charts for images.txt (default: `helm` on PATH).
    #[arg(long, value_name = "PATH", env = "HAVEN_HELM")]
    pub helm: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Root of the existing tree.
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    #[command(flatten)]
    pub cluster: crate::cli::ClusterArgs,
    /// Poll until everything is Ready, showing progress.
    #[arg(long)]
    pub wait: bool,
    /// Give up after this long (`10m`, `90s`; a bare number is seconds): waiting with `--wait`,
    /// and anything under way then (a request, a kubeconfig credential plugin).
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = crate::cli::positive_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub request: crate::cli::RequestTimeoutArgs,
    /// Seconds between polls while waiting.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub interval: u64,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TenantAddArgs {
    /// Tenant name (its namespace).
    pub name: String,
    /// OIDC group whose members work in the namespace.
    #[arg(long)]
    pub group: String,
    /// The tenant's Git repository, applied by Flux as the tenant's ServiceAccount (no
    /// credentials in the URL: see --repo-secret).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// Secret in the tenant's namespace that Flux reads a private --repo with, created out of
    /// band (`flux create secret git NAME -n TENANT ...`) or by an ExternalSecret.
    #[arg(long, value_name = "NAME", requires = "repo")]
    pub repo_secret: Option<String>,
    /// An image prefix the tenant's images must start with (repeatable; instead of
    /// `capabilities.admission.allowedRegistries`): `ghcr.io/gemeente-x`.
    #[arg(long, value_name = "PREFIX")]
    pub allowed_registry: Vec<String>,
    /// Allow Services of type LoadBalancer in the tenant's namespace (refused otherwise).
    #[arg(long)]
    pub allow_load_balancer: bool,
    /// A host name the tenant's routes, certificates and ExternalDNS annotations may claim
    /// (repeatable; exact or `*.x`). Without it: `<NAME>.<domain>` and `*.<NAME>.<domain>`; only
    /// `<NAME>.<domain>` is covered by the platform's wildcard certificate `*.<domain>` (deeper
    /// names need a Certificate of their own). No name may be the platform's or overlap another
    /// tenant's (given or default): a host name has one owner.
    #[arg(long, value_name = "HOST")]
    pub hostname: Vec<String>,
    #[arg(
        long,
        short = 'c',
        default_value = "haven-plus.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// Root of the GitOps repository to write tenants/<name>/ into.
    #[arg(short, long, default_value = ".", value_name = "DIR")]
    pub output: PathBuf,
}

fn parse_provider(s: &str) -> Result<Provider, String> {
    Provider::ALL
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| {
            format!(
                "unknown provider `{s}`; one of {}",
                Provider::ALL.map(Provider::name).join(", ")
            )
        })
}

pub fn run(cmd: &PlusCommand) -> Result<u8, Diagnostic> {
    match cmd {
        PlusCommand::Init(a) => init(a),
        PlusCommand::Explain { key } => explain(key),
        PlusCommand::Render(a) => render_cmd(a),
        PlusCommand::Validate(a) => validate_cmd(a),
        PlusCommand::Vendor(a) => crate::plus_vendor::run(a),
        PlusCommand::Diff(a) => diff_cmd(a),
        PlusCommand::Tenant {
            command: TenantCommand::Add(a),
        } => tenant_add(a),
        PlusCommand::Status(a) => crate::plus_status::run(a),
        PlusCommand::Backups {
            command: BackupsCommand::Check(a),
        } => crate::plus_backups::run(a),
        PlusCommand::Migrate { config, output } => migrate(config, output.as_deref()),
        PlusCommand::Import(a) => import_cmd(a),
    }
}

pub(crate) fn out(text: &str) -> Result<(), String> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())
}

fn catalogue() -> Result<Catalogue, Diagnostic> {
    Catalogue::builtin().map_err(|e| Diagnostic::from(e.to_string()))
}

/// Reads and checks the config; errors are printed one per line and become exit code 2.
pub(crate) fn load(
    path: &Path,
    catalogue: &Catalogue,
) -> Result<(PlatformConfig, String), Diagnostic> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diag::new(format!("cannot read config: {e}"))
            .file(&name)
            .hint("`haven plus init --domain <domain>` writes one")
    })?;
    match config::parse(&name, &text, catalogue) {
        Ok((c, notes)) => {
            for n in notes {
                eprintln!("haven: note: {n}");
            }
            Ok((c, text))
        }
        Err(errors) => Err(Diagnostic::new(
            errors.iter().map(config_problem).collect::<Vec<_>>(),
        )),
    }
}

/// A config error in the one voice: message, then file:line and key.
pub(crate) fn config_problem(e: &haven_platform::ConfigError) -> Diag {
    let mut p = Diag::new(e.message.clone()).file(&e.file).line(e.line);
    if !e.path.is_empty() {
        p = p.field(e.path.clone());
    }
    p
}

fn init(a: &InitArgs) -> Result<u8, Diagnostic> {
    if a.output.exists() && !a.force {
        return Err(Diag::new("the file exists")
            .file(a.output.display())
            .flag("--output")
            .hint("pass --force to overwrite it")
            .into());
    }
    if !haven_platform::catalogue::is_dns_label(&a.name) {
        return Err(Diag::new(format!(
            "`{}` is not a DNS label (lowercase letters, digits, '-')",
            a.name
        ))
        .flag("--name")
        .into());
    }
    let c = PlatformConfig::new(&a.name, &a.domain, a.provider);
    let text = config::init_yaml(&c);
    // What we write must read back as what we meant.
    let parsed = config::parse("init", &text, &catalogue()?).map_err(|e| {
        e.iter()
            .map(|e| format!("{} (`{}`)", e.message, e.path))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    debug_assert_eq!(parsed.0, c);
    haven_io::files::write_file(&a.output, text.as_bytes()).map_err(|e| e.to_string())?;
    eprintln!(
        "wrote {} ({} on {}); next: haven plus render -c {}",
        a.output.display(),
        a.domain,
        a.provider.name(),
        a.output.display()
    );
    Ok(EXIT_OK)
}

fn explain(key: &str) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    if key == "components" {
        out(&haven_platform::catalogue::explain(&cat, None).unwrap_or_default())?;
        return Ok(EXIT_OK);
    }
    if let Some(name) = key.strip_prefix("components.") {
        let name = name.split('.').next().unwrap_or(name);
        return match haven_platform::catalogue::explain(&cat, Some(name)) {
            Some(t) => out(&t).map(|()| EXIT_OK).map_err(Diagnostic::from),
            None => {
                let hint = haven_model::did_you_mean(name, &cat.names())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                Err(format!(
                    "unknown component `{name}`{hint}; `haven plus explain components` lists them"
                )
                .into())
            }
        };
    }
    match config::explain(key) {
        Some(t) => out(&t).map(|()| EXIT_OK).map_err(Diagnostic::from),
        None => Err(match config::suggest_key(key) {
            Some(s) => format!("no config key `{key}`; did you mean `{s}`?").into(),
            None => format!("no config key `{key}`; `haven plus explain` lists the top-level keys")
                .into(),
        }),
    }
}

fn render_cmd(a: &RenderArgs) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    let (c, _) = load(&a.config, &cat)?;
    let mut rendered = render(&c, &cat);
    if let Some(registry) = &a.mirror {
        crate::plus_vendor::mirror(&mut rendered, &c, &cat, registry, a.vendor_dir.as_deref())?;
    }
    let mut rendered = lay_out(rendered, &c, &cat)?;
    let existing = fs::read_managed(&a.output)?;
    if c.cluster.layout == Layout::Reference {
        let conflicts = haven_platform::layout::shared_base_conflicts(
            &rendered.files,
            &existing,
            &c.cluster.name,
        );
        if let Some(first) = conflicts.first() {
            return Err(Diag::new(first.to_string()).file(a.output.display()).into());
        }
    }
    haven_platform::render::keep_flux_bootstrap(&mut rendered, &c, &existing);
    let moves = moves_of(&existing, &rendered.files, &c);
    if moves.is_hazardous() && !a.moves_prepared {
        eprintln!("{}", migration::transition::format_moves(&moves));
        eprintln!("{}", migration::plan::format(&moves.plan));
        return Err(Diag::new(format!(
            "{} objects of the existing tree change owning Kustomization or namespace: Flux would prune them (HelmReleases: helm uninstall) while the new tree applies them",
            moves.moves.len()
        ))
        .file(a.output.display())
        .flag("--moves-prepared")
        .hint("run the steps above up to `switch` (`haven plus import --check` style: each step lists what it expects), then render again with --moves-prepared")
        .into());
    }
    upgrade_stops(&existing, &c, &cat, &a.output)?;
    let written = fs::write_tree(&a.output, &rendered.files)?;
    for n in &rendered.notes {
        eprintln!("haven: note: {n}");
    }
    let stale: Vec<PathBuf> = existing
        .into_keys()
        .filter(|p| !rendered.files.contains_key(p))
        .filter(|p| belongs_to(p, &c))
        .collect();
    for p in &stale {
        eprintln!(
            "haven: warning: {} is no longer rendered; delete it (git rm) so Flux prunes it",
            p.display()
        );
    }
    eprintln!(
        "rendered {} files into {} ({written} written, {} unchanged)",
        rendered.files.len(),
        a.output.display(),
        rendered.files.len() - written
    );
    Ok(EXIT_OK)
}

fn validate_cmd(a: &ValidateArgs) -> Result<u8, Diagnostic> {
    if a.flows == Some(FlowsFormat::Report)
        && matches!(a.format, ValidateFormat::Sarif | ValidateFormat::Junit)
    {
        return Err(Diag::new(
            "--flows adds the matrix to a text or JSON report; use --flows=FORMAT for the matrix alone",
        )
        .flag("--flows")
        .into());
    }
    let tree = fs::read_tree_lenient(&a.dir)?;
    let unreadable = tree.unreadable;
    let files = tree.files;
    if files.is_empty() && unreadable.is_empty() {
        return Err(Diag::new("no YAML files to validate")
            .file(a.dir.display())
            .into());
    }
    let facts = validate::platform_facts(&files);
    let kubernetes_version = match (&a.kubernetes_version, &facts.kubernetes_version) {
        (Some(flag), _) => flag.clone(),
        (None, Some(tree)) => tree.clone(),
        (None, None) => validate::SUPPORTED_KUBERNETES
            .last()
            .copied()
            .unwrap_or_default()
            .to_owned(),
    };
    if !validate::SUPPORTED_KUBERNETES.contains(&kubernetes_version.as_str()) {
        let message = validate::unsupported_kubernetes(&kubernetes_version);
        return Err(match (&a.kubernetes_version, &facts.found_in) {
            (Some(_), _) => Diag::new(message).flag("--kubernetes-version"),
            // `at` is `file:line` of the setting in the tree.
            (None, Some(at)) => Diag::new(message)
                .file(at)
                .field("cluster.kubernetesVersion"),
            (None, None) => Diag::new(format!("the default: {message}")),
        }
        .into());
    }
    let opts = validate::Options {
        kubernetes_version,
        check_workloads: true,
    };
    // The user's own schemas first (they may also override a built-in one), then haven's.
    let builtin = haven_platform::crds::BuiltinSchemas::new(facts.components);
    let own = match &a.crd_schemas {
        Some(dir) if !dir.is_dir() => {
            return Err(Diag::new("not a directory")
                .file(dir.display())
                .flag("--crd-schemas")
                .into());
        }
        Some(dir) => Some(fs::DirSchemas { dir: dir.clone() }),
        None => None,
    };
    let mut sources: Vec<&dyn validate::SchemaSource> = Vec::new();
    if let Some(own) = &own {
        sources.push(own);
    }
    sources.push(&builtin);
    // The tree is validated with paths relative to its root (Flux `spec.path`s and kustomize
    // `resources` are relative to it); messages then name files from where the user stands, so
    // they can be clicked.
    let schemas = validate::Layered(sources);
    let report = validate::validate(&files, &schemas, &opts);
    let mut problems: Vec<Problem> = report
        .diagnostics
        .iter()
        .cloned()
        .map(|d| Problem::from_diagnostic(d, Check::Tree, ""))
        .collect();
    for u in unreadable {
        let (file, message) = match &u {
            haven_platform::TreeError::Read { path, source } => {
                (path.display().to_string(), format!("cannot read: {source}"))
            }
            other => (String::new(), other.to_string()),
        };
        problems.insert(
            0,
            Problem::from_diagnostic(
                validate::Diagnostic {
                    file,
                    line: 0,
                    severity: Severity::Error,
                    path: String::new(),
                    object: String::new(),
                    message,
                },
                Check::Tree,
                "",
            ),
        );
    }
    let cat = catalogue()?;
    let platform = match &a.charts {
        None => None,
        Some(dir) => {
            let scratch = tempfile::Builder::new()
                .prefix("haven-charts-")
                .tempdir()
                .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
            let source = crate::plus_charts::chart_source(dir, scratch.path())?;
            let engine = crate::plus_charts::HelmEngine {
                helm: a.helm.clone(),
                scratch: scratch.path().to_path_buf(),
            };
            let popts = crate::plus_charts::platform_options(&cat, &opts.kubernetes_version);
            let (platform, found) =
                crate::plus_charts::validate_platform(&files, &source, &engine, &schemas, &popts);
            problems.extend(found);
            Some(platform)
        }
    };
    // The proofs (flows, identities, references, certificates) on what the cluster receives:
    // the whole platform with `--charts`, else the tree alone.
    let tree;
    let landscape = match &platform {
        Some(p) => proofs::Landscape::of_platform(p),
        None => {
            tree = haven_platform::charts::tree_objects(&files);
            proofs::Landscape::of_tree(&tree)
        }
    };
    let started = std::time::Instant::now();
    problems.extend(proofs::prove(&landscape, &cat));
    // `bench/plus.sh` sets HAVEN_TIMINGS: the proofs' time, and the flow analysis's alone (run
    // once more, only then); a stderr line, so that reports stay reproducible.
    if std::env::var_os("HAVEN_TIMINGS").is_some() {
        let proofs = started.elapsed();
        let started = std::time::Instant::now();
        let found = proofs::flows::prove(&landscape, &cat).len();
        eprintln!(
            "haven: timings: proofs in {:.3} s, the flow analysis in {:.3} s ({found} findings)",
            proofs.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    let flows = a
        .flows
        .map(|_| proofs::flows::analyse(&landscape, &cat, true));

    // Files are named from where the user stands, so they can be clicked; chart templates
    // already are.
    for p in problems
        .iter_mut()
        .filter(|p| p.check == Check::Tree || files.contains_key(Path::new(&p.file)))
    {
        if p.file.is_empty() {
            continue;
        }
        let full = a.dir.join(&p.file);
        p.file = full
            .strip_prefix("./")
            .unwrap_or(&full)
            .to_string_lossy()
            .into_owned();
    }
    let errors = problems.iter().filter(|p| p.blocks()).count();
    let warnings = problems
        .iter()
        .filter(|p| p.severity == Severity::Warning && p.waived.is_none())
        .count();
    let format = if a.json {
        ValidateFormat::Json
    } else {
        a.format
    };
    let text = match format {
        ValidateFormat::Json => {
            let mut doc = serde_json::json!({
                "files": report.files,
                "objects": report.objects,
                "customResources": report.custom_resources,
                "kubernetesVersion": opts.kubernetes_version,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": problems,
            });
            if let Some(f) = &flows {
                doc["flows"] = serde_json::to_value(f).map_err(|e| e.to_string())?;
            }
            if let Some(p) = &platform {
                doc["components"] = components_json(p);
                doc["notVerified"] = p
                    .not_verified()
                    .into_iter()
                    .map(|(c, why)| serde_json::json!({"component": c, "reason": why}))
                    .collect();
                doc["images"] = serde_json::to_value(haven_platform::charts::images(p))
                    .map_err(|e| e.to_string())?;
            }
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            )
        }
        ValidateFormat::Sarif | ValidateFormat::Junit => {
            let r = haven_report::Report {
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                findings: crate::plus_charts::findings(&problems),
                errors: Vec::new(),
                rules: crate::plus_charts::rules(),
                fail_on: haven_model::Severity::High,
                pss: String::new(),
                objects: report.objects
                    + platform
                        .iter()
                        .flat_map(|p| &p.releases)
                        .map(|r| r.objects().len())
                        .sum::<usize>(),
                workloads: 0,
                files: report.files,
            };
            if format == ValidateFormat::Sarif {
                haven_report::render_sarif(&r)
            } else {
                haven_report::render_junit(&r)
            }
        }
        ValidateFormat::Text => {
            let mut text = String::new();
            for p in &problems {
                text.push_str(&p.to_string());
                text.push('\n');
            }
            if let Some(f) = &flows {
                text.push_str(&flows_text(f));
            }
            if let Some(p) = &platform {
                text.push_str(&crate::plus_charts::summary(p, &problems));
            }
            text.push_str(&format!(
                "{} files, {} objects ({} custom resources): {errors} errors, {warnings} warnings \
                 (Kubernetes {})\n",
                report.files, report.objects, report.custom_resources, opts.kubernetes_version,
            ));
            text
        }
    };
    // `--flows=FORMAT`: the matrix alone on stdout, the findings on stderr.
    let text = match (a.flows, &flows) {
        (Some(FlowsFormat::Report) | None, _) | (_, None) => text,
        (Some(format), Some(f)) => {
            eprint!("{text}");
            match format {
                FlowsFormat::Text => flows_text(f),
                FlowsFormat::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(f).map_err(|e| e.to_string())?
                ),
                FlowsFormat::Mermaid => f.matrix.to_mermaid(),
                FlowsFormat::Dot => f.matrix.to_dot(),
                FlowsFormat::Report => unreachable!("matched above"),
            }
        }
    };
    match &a.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("{}: cannot write report: {e}", path.display()))?,
        None => out(&text)?,
    }
    Ok(if errors > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// The flow matrix as text: the declared flows, then every allowed flow with the rules that
/// open it.
fn flows_text(f: &proofs::flows::FlowReport) -> String {
    let mut text = format!(
        "Flows ({} endpoints, {} allowed flows, {} declared):\n",
        f.matrix.endpoints.len(),
        f.matrix.flows.len(),
        f.declared.iter().filter(|d| d.needed).count()
    );
    for line in f.matrix.to_text().lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Per component: chart, version, release, namespace, what became of it.
fn components_json(p: &haven_platform::charts::RenderedPlatform) -> serde_json::Value {
    use haven_platform::charts::Outcome;
    p.releases
        .iter()
        .map(|r| {
            let (status, reason) = match &r.outcome {
                Outcome::Rendered(_) => ("rendered", None),
                Outcome::NotVerified(why) => ("not-verified", Some(why.clone())),
                Outcome::Failed(why) => ("failed", Some(why.clone())),
            };
            serde_json::json!({
                "component": r.component,
                "chart": r.chart.as_ref().map(|c| c.name.clone()),
                "version": r.chart.as_ref().map(|c| c.version.clone()),
                "chartDir": r.loaded.as_ref().map(|l| l.chart.dir.clone()),
                "releaseName": r.release_name,
                "namespace": r.namespace,
                "crds": r.crd_policy,
                "status": status,
                "reason": reason,
                "objects": r.objects().len(),
            })
        })
        .collect()
}

/// `cluster.layout: reference` lays the flat render out as the Haven+ reference does.
fn lay_out(
    rendered: haven_platform::Rendered,
    c: &haven_platform::PlatformConfig,
    cat: &Catalogue,
) -> Result<haven_platform::Rendered, Diagnostic> {
    match c.cluster.layout {
        Layout::Flat => Ok(rendered),
        Layout::Reference => haven_platform::layout::to_reference(&rendered, c, cat)
            .map_err(|e| Diag::new(e.to_string()).field("cluster.layout").into()),
    }
}

/// Whether an existing managed file is this cluster's to call stale or removed: in the
/// reference layout, several clusters share the repository and their files are not ours.
fn belongs_to(path: &Path, c: &haven_platform::PlatformConfig) -> bool {
    match c.cluster.layout {
        Layout::Flat => true,
        Layout::Reference => haven_platform::layout::owned_by(path, &c.cluster.name),
    }
}

fn diff_cmd(a: &DiffArgs) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    let (c, _) = load(&a.config, &cat)?;
    let mut rendered = lay_out(render(&c, &cat), &c, &cat)?;
    let existing: std::collections::BTreeMap<PathBuf, String> = fs::read_managed(&a.dir)?
        .into_iter()
        .filter(|(p, _)| rendered.files.contains_key(p) || belongs_to(p, &c))
        .collect();
    haven_platform::render::keep_flux_bootstrap(&mut rendered, &c, &existing);
    let changes = diff::diff(&rendered.files, &existing);
    if changes.is_empty() {
        eprintln!("no changes");
        return Ok(EXIT_OK);
    }
    out(&diff::format(&changes))?;
    let moves = moves_of(&existing, &rendered.files, &c);
    if moves.is_hazardous() {
        out(&format!(
            "\nObjects that change owner or place (render refuses them without --moves-prepared):\n{}",
            migration::transition::format_moves(&moves)
        ))?;
    }
    let old = migration::ClusterObjects::from_tree(&existing, &c.cluster.name);
    let skipped = migration::upgrade::skipped_stops(&old, &c, &cat);
    if !skipped.is_empty() {
        let mut text = String::from(
            "\nUpgrades that skip a version they must run first (render refuses them unless the config pins the version):\n",
        );
        for s in &skipped {
            text.push_str(&format!("  {s}\n    step: {}\n", s.step()));
        }
        out(&text)?;
    }
    Ok(EXIT_FINDINGS)
}

fn tenant_add(a: &TenantAddArgs) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    let (mut c, text) = load(&a.config, &cat)?;
    if c.tenants.iter().any(|t| t.name == a.name) {
        return Err(Diag::new(format!("tenant `{}` already exists", a.name))
            .file(a.config.display())
            .into());
    }
    if let Some(why) = haven_platform::tenant::reserved(
        &a.name,
        haven_platform::tenant::platform_namespaces(&c, &cat),
    ) {
        return Err(Diag::new(format!("tenant name `{}` is reserved: {why}", a.name))
            .file(a.config.display())
            .field(format!("tenants[{}].name", c.tenants.len()))
            .flag("<NAME>")
            .hint("a tenant gets a namespace of its own: choose a name no system or platform namespace has")
            .into());
    }
    let tenant = Tenant {
        name: a.name.clone(),
        group: a.group.clone(),
        repo: a.repo.clone(),
        repo_secret_ref: a.repo_secret.clone(),
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: haven_platform::config::TenantPolicy {
            allowed_registries: a.allowed_registry.clone(),
            load_balancer: a.allow_load_balancer,
            hostnames: a.hostname.clone(),
        },
    };
    c.tenants.push(tenant.clone());
    // Check the new tenant like any other config content before touching a file.
    let new_text = haven_platform::tenant::append_to_config_text(&text, &tenant).map_or_else(
        || serde_yaml_ng::to_string(&c).map_err(|e| e.to_string()),
        Ok,
    )?;
    let name = a.config.display().to_string();
    // A problem of the new tenant names the flag that gave it (the config's lines are those of
    // a file not written); any other names its place in the config as `render` would.
    let new_tenant = format!("tenants[{}]", c.tenants.len() - 1);
    config::parse(&name, &new_text, &cat).map_err(|errors| {
        Diagnostic::new(
            errors
                .iter()
                .map(|e| match e.path.strip_prefix(&new_tenant) {
                    Some(rest) => {
                        let flag = if rest.starts_with(".policy.hostnames") {
                            "--hostname"
                        } else if rest.starts_with(".policy.allowedRegistries") {
                            "--allowed-registry"
                        } else {
                            "<NAME>"
                        };
                        Diag::new(e.message.clone())
                            .file(a.config.display())
                            .field(e.path.clone())
                            .flag(flag)
                    }
                    None => config_problem(e),
                })
                .collect::<Vec<_>>(),
        )
    })?;
    let rendered = lay_out(render(&c, &cat), &c, &cat)?;
    let prefix = PathBuf::from("tenants");
    let tenant_files = rendered
        .files
        .into_iter()
        .filter(|(p, _)| {
            // The tenants' backup Schedules are a unit of their own (after Velero's), listed
            // with the platform's units.
            p.starts_with(&prefix)
                || p.ends_with("tenants.yaml")
                || p.starts_with("infrastructure/tenant-backups")
                || p.starts_with("infrastructure/tenant-roles")
                || (p.starts_with("clusters")
                    && (p.ends_with("infrastructure.yaml")
                        || p.ends_with("tenant-backups.yaml")
                        || p.ends_with("tenant-roles.yaml")
                        || p.parent().is_some_and(|d| d.ends_with("infrastructure"))))
        })
        .collect();
    // The tree first: when it cannot be written (a link out of it), the config is unchanged and
    // the command can simply be run again.
    fs::write_tree(&a.output, &tenant_files)?;
    haven_io::files::write_file(&a.config, new_text.as_bytes()).map_err(|e| e.to_string())?;
    let dir = match c.cluster.layout {
        Layout::Flat => format!("tenants/{}", a.name),
        Layout::Reference => format!("tenants/{}/{}", c.cluster.name, a.name),
    };
    eprintln!(
        "added tenant {} (group {}) to {} and wrote {}/{dir}/",
        a.name,
        a.group,
        name,
        a.output.display(),
    );
    Ok(EXIT_OK)
}

fn migrate(config_path: &Path, output: Option<&Path>) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    let (c, _) = load(config_path, &cat)?;
    let text = format!(
        "# haven-plus.yaml, migrated to version {} by `haven plus migrate`.\n{}",
        config::CURRENT_VERSION,
        serde_yaml_ng::to_string(&c).map_err(|e| e.to_string())?
    );
    match output {
        Some(p) => haven_io::files::write_file(p, text.as_bytes()).map_err(|e| e.to_string())?,
        None => out(&text)?,
    }
    Ok(EXIT_OK)
}

/// Refuses a render that would upgrade a release of the existing tree past a version it must
/// run first (the catalogue's `upgradeStops`), naming the step; a version the config pins
/// itself is the operator's choice, and only warned about.
fn upgrade_stops(
    existing: &std::collections::BTreeMap<PathBuf, String>,
    c: &PlatformConfig,
    cat: &Catalogue,
    root: &Path,
) -> Result<(), Diagnostic> {
    let old = migration::ClusterObjects::from_tree(existing, &c.cluster.name);
    let (pinned, refused): (Vec<_>, Vec<_>) = migration::upgrade::skipped_stops(&old, c, cat)
        .into_iter()
        .partition(|s| s.pinned);
    for s in &pinned {
        eprintln!(
            "haven: warning: {s} (components.{}.version pins it; to take the stop: {})",
            s.component,
            s.step()
        );
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::new(
        refused
            .iter()
            .map(|s| {
                Diag::new(s.to_string())
                    .file(root.join(&s.file).display())
                    .hint(s.step())
            })
            .collect(),
    ))
}

/// What landing `rendered` over `existing` moves (nothing for a fresh tree).
fn moves_of(
    existing: &std::collections::BTreeMap<PathBuf, String>,
    rendered: &std::collections::BTreeMap<PathBuf, String>,
    c: &PlatformConfig,
) -> migration::Transition {
    let name = &c.cluster.name;
    let old = migration::ClusterObjects::from_tree(existing, name);
    let new = migration::ClusterObjects::from_tree(rendered, name);
    migration::transition(
        &old,
        &new,
        vec![
            "haven plus render --moves-prepared".to_owned(),
            "git add -A clusters infrastructure tenants && git commit -m 'platform: re-render' && git push".to_owned(),
            "flux reconcile kustomization flux-system --with-source".to_owned(),
        ],
        false,
    )
}

fn import_cmd(a: &ImportArgs) -> Result<u8, Diagnostic> {
    let cat = catalogue()?;
    let shown = a.source.display().to_string();
    let objects = if a.source.is_dir() {
        let Some(cluster) = &a.cluster else {
            return Err(Diag::new("a reference tree holds many clusters: name one")
                .file(&shown)
                .flag("--cluster")
                .hint("e.g. --cluster previder (a directory under clusters/)")
                .into());
        };
        let files = fs::read_tree(&a.source)?;
        migration::ClusterObjects::from_tree(&files, cluster)
    } else {
        let text = if shown == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(&a.source)
        }
        .map_err(|e| Diag::new(format!("cannot read: {e}")).file(&shown))?;
        migration::ClusterObjects::from_stream(&shown, &text)
    };
    for u in &objects.unreadable {
        eprintln!("haven: warning: {u}");
    }
    for e in &objects.errors {
        eprintln!("haven: warning: {e}");
    }
    let cluster = match &a.cluster {
        Some(c) => c.clone(),
        None => objects
            .kustomizations()
            .find(|k| k.id.name == "flux-system")
            .and_then(|k| k.value["spec"]["path"].as_str())
            .and_then(|p| p.trim_end_matches('/').rsplit('/').next())
            .map(str::to_owned)
            .ok_or_else(|| {
                Diag::new("no flux-system Kustomization tells the cluster's name")
                    .file(&shown)
                    .flag("--cluster")
            })?,
    };
    let options = migration::ImportOptions {
        cluster: cluster.clone(),
        domain: a.domain.clone(),
    };
    let imported = migration::import(&objects, &options, &cat).map_err(|e| {
        Diag::new(e.to_string())
            .file(&shown)
            .flag("--cluster")
            .hint("`ls clusters/` in the reference repository lists its clusters")
    })?;
    let (config, _) = config::parse("haven-plus.yaml", &imported.yaml, &cat)
        .map_err(|e| Diagnostic::new(e.iter().map(config_problem).collect::<Vec<_>>()))?;
    // The tree `render` writes for this config (the same steps as render_cmd, laid out as the
    // config says: the imported config asks for the reference layout).
    let new_tree = lay_out(render(&config, &cat), &config, &cat)?.files;
    let cutover = migration::import::cutover(&objects, &config, &new_tree);
    if let Some(snapshot) = &a.check {
        let name = snapshot.display().to_string();
        let text = std::fs::read_to_string(snapshot)
            .map_err(|e| Diag::new(format!("cannot read snapshot: {e}")).file(&name))?;
        let snap = migration::ClusterObjects::from_stream(&name, &text);
        if snap.objects.is_empty() {
            return Err(Diag::new("the snapshot holds no objects")
                .file(&name)
                .hint("kubectl get ns,pvc,secrets,clusters.postgresql.cnpg.io,kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io -A -o yaml > snapshot.yaml")
                .into());
        }
        for u in &snap.unreadable {
            eprintln!("haven: warning: {u}");
        }
        let checks = migration::check(&cutover.plan, &snap);
        match a.output {
            ReportFormat::Text => out(&migration::plan::format_check(&checks))?,
            ReportFormat::Json => out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&serde_json::json!({"steps": checks}))
                    .map_err(|e| e.to_string())?
            ))?,
        }
        let all_done = checks
            .iter()
            .all(|c| c.state != migration::plan::State::NotDone);
        return Ok(if all_done { EXIT_OK } else { EXIT_FINDINGS });
    }
    match a.output {
        ReportFormat::Text => {
            let mut text = String::new();
            for u in &imported.units {
                text.push_str(&format!("{:8} {}", u.outcome, u.unit));
                if !u.components.is_empty() {
                    text.push_str(&format!(" → {}", u.components.join(", ")));
                }
                if !u.note.is_empty() {
                    text.push_str(&format!(": {}", u.note));
                }
                text.push('\n');
            }
            text.push('\n');
            for n in &imported.notes {
                text.push_str(&format!("note: {n}\n"));
            }
            text.push_str("\nWhat changes owner or place:\n");
            text.push_str(&migration::transition::format_moves(&cutover));
            text.push_str(
                "\nCut-over plan (every stateful object is marked before anything is renamed):\n\n",
            );
            text.push_str(&migration::plan::format(&cutover.plan));
            out(&text)?;
        }
        ReportFormat::Json => {
            let report = serde_json::json!({
                "cluster": cluster,
                "config": imported.config,
                "units": imported.units,
                "notes": imported.notes,
                "moves": cutover.moves,
                "removedStateful": cutover.removed_stateful,
                "removedReleases": cutover.removed_releases,
                "plan": cutover.plan,
            });
            out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            ))?;
        }
    }
    if a.dry_run {
        return Ok(EXIT_OK);
    }
    if a.config.exists() && !a.force {
        return Err(Diag::new("the file exists")
            .file(a.config.display())
            .flag("--config")
            .hint("pass --force to overwrite it, or --dry-run to write nothing")
            .into());
    }
    haven_io::files::write_file(&a.config, imported.yaml.as_bytes()).map_err(|e| e.to_string())?;
    eprintln!(
        "wrote {} (cluster {cluster}); follow the plan above, then haven plus render -c {}",
        a.config.display(),
        a.config.display()
    );
    Ok(EXIT_OK)
}
