//! The network and process edge of vendoring: a classic Helm repository over HTTP (`ureq`), an
//! OCI registry over the distribution API (`oci-client`), a Git repository (the `git` command,
//! killed at a deadline), and a local mirror folder. Every fetch is bounded in time and size and
//! returns the chart as [`ChartFiles`]; what to fetch and how to judge it is decided in `lib.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::chart::{ChartError, ChartFiles, MAX_CHART_BYTES};
use crate::digest::hex;
use crate::index::{self, IndexError};

/// An `index.yaml` larger than this is refused (the largest public ones are ~30 MiB).
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// Helm's chart layer in an OCI artifact, and the media type of charts pushed before Helm 3.8.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const HELM_CHART_LAYER_LEGACY: &str = "application/tar+gzip";

/// Why a chart could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {source}")]
    Index {
        url: String,
        #[source]
        source: IndexError,
    },
    #[error("{url}: the archive's sha256 is {actual}, its index.yaml says {expected}")]
    ArchiveDigest {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url}: {source}")]
    Chart {
        url: String,
        #[source]
        source: ChartError,
    },
    #[error(
        "{url}: the artifact has no Helm chart layer ({HELM_CHART_LAYER}); its layers: {found}"
    )]
    NoChartLayer { url: String, found: String },
    #[error("{url}: {message}")]
    Oci { url: String, message: String },
    #[error("{url}: git {message}")]
    Git { url: String, message: String },
    #[error("{path}: {message}")]
    Mirror { path: String, message: String },
    /// The mirror has neither the folder nor an archive of the component.
    #[error(
        "{path}: not in the mirror (looked for the folder {component}/ and {looked_for}); add it there, or pass --skip {component} to leave it out"
    )]
    NotInMirror {
        path: String,
        component: String,
        looked_for: String,
    },
}

/// A fetched chart and where exactly it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub files: ChartFiles,
    /// What was read: the archive URL, `oci://…@sha256:…`, the Git URL and commit, the folder.
    pub location: String,
    /// The sha256 of the archive as fetched (Helm repositories, OCI layers, mirror archives).
    pub archive_sha256: Option<String>,
}

/// Limits and transport choices for the network fetches.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// Bounds each request (connect, TLS, headers, body) and each `git clone`.
    pub timeout: Duration,
    /// Talk plain HTTP to OCI registries (an internal registry without TLS; Helm's
    /// `--plain-http`).
    pub plain_http: bool,
    /// Use `HTTPS_PROXY`/`NO_PROXY` from the environment.
    pub proxy_from_env: bool,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            timeout: Duration::from_secs(60),
            plain_http: false,
            proxy_from_env: true,
        }
    }
}

/// The fetchers, sharing one HTTP agent.
pub struct Fetcher {
    opts: NetOptions,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("opts", &self.opts).finish()
    }
}

impl Fetcher {
    pub fn new(opts: NetOptions) -> Self {
        install_ring();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("haven/", env!("CARGO_PKG_VERSION")))
            .proxy(if opts.proxy_from_env {
                ureq::Proxy::try_from_env()
            } else {
                None
            })
            .build();
        Fetcher {
            agent: ureq::Agent::new_with_config(config),
            opts,
        }
    }

    fn get(&self, url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let seconds = self.opts.timeout.as_secs().max(1);
        let map = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => FetchError::Timeout {
                url: url.to_owned(),
                seconds,
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                FetchError::Timeout {
                    url: url.to_owned(),
                    seconds,
                }
            }
            ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                url: url.to_owned(),
                limit,
            },
            other => FetchError::Transport {
                url: url.to_owned(),
                message: other.to_string(),
            },
        };
        let mut response = self.agent.get(url).call().map_err(map)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(map)
    }

    /// A chart from a classic Helm repository: `index.yaml`, then the archive it names.
    pub fn helm(&self, repo_url: &str, chart: &str, version: &str) -> Result<Fetched, FetchError> {
        let index_url = index::index_url(repo_url).map_err(|source| FetchError::Index {
            url: repo_url.to_owned(),
            source,
        })?;
        let index_bytes = self.get(&index_url, MAX_INDEX_BYTES)?;
        let text = String::from_utf8_lossy(&index_bytes);
        let entry =
            index::find(repo_url, &text, chart, version).map_err(|source| FetchError::Index {
                url: index_url.clone(),
                source,
            })?;
        let archive = self.get(&entry.url, MAX_CHART_BYTES)?;
        let sha = hex(&Sha256::digest(&archive));
        if let Some(expected) = entry.digest
            && expected != sha
        {
            return Err(FetchError::ArchiveDigest {
                url: entry.url,
                expected,
                actual: sha,
            });
        }
        let files =
            ChartFiles::from_archive(&archive, &entry.url).map_err(|source| FetchError::Chart {
                url: entry.url.clone(),
                source,
            })?;
        Ok(Fetched {
            files,
            location: entry.url,
            archive_sha256: Some(sha),
        })
    }

    /// A chart from an OCI registry: the manifest of `url:version` (OCI tags cannot hold `+`,
    /// which Helm writes as `_`), then its chart layer, whose digest the client checks.
    pub fn oci(&self, url: &str, version: &str) -> Result<Fetched, FetchError> {
        let oci_err = |message: String| FetchError::Oci {
            url: url.to_owned(),
            message,
        };
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| oci_err("not an oci:// URL".to_owned()))?;
        let (registry, repository) = rest
            .split_once('/')
            .ok_or_else(|| oci_err("no repository after the registry".to_owned()))?;
        let tag = version.replace('+', "_");
        let reference = oci_client::Reference::with_tag(
            registry.to_owned(),
            repository.trim_end_matches('/').to_owned(),
            tag,
        );
        let mut config = oci_client::client::ClientConfig {
            protocol: if self.opts.plain_http {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            read_timeout: Some(self.opts.timeout),
            connect_timeout: Some(self.opts.timeout),
            ..Default::default()
        };
        config.max_concurrent_download = 1;
        let client = oci_client::Client::new(config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| oci_err(e.to_string()))?;
        let seconds = self.opts.timeout.as_secs().max(1);
        let timeout = |what: &str| FetchError::Timeout {
            url: format!("{url}:{version} ({what})"),
            seconds,
        };
        runtime.block_on(async {
            let auth = oci_client::secrets::RegistryAuth::Anonymous;
            let (manifest, manifest_digest) = tokio::time::timeout(
                self.opts.timeout,
                client.pull_image_manifest(&reference, &auth),
            )
            .await
            .map_err(|_| timeout("manifest"))?
            .map_err(|e| oci_err(format!("{version}: {e}")))?;
            let layer = manifest
                .layers
                .iter()
                .find(|l| l.media_type == HELM_CHART_LAYER)
                .or_else(|| {
                    manifest
                        .layers
                        .iter()
                        .find(|l| l.media_type == HELM_CHART_LAYER_LEGACY)
                })
                .ok_or_else(|| FetchError::NoChartLayer {
                    url: url.to_owned(),
                    found: manifest
                        .layers
                        .iter()
                        .map(|l| l.media_type.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            if layer.size < 0 || layer.size as u64 > MAX_CHART_BYTES {
                return Err(FetchError::TooLarge {
                    url: format!("{url}@{}", layer.digest),
                    limit: MAX_CHART_BYTES,
                });
            }
            let mut blob = Vec::with_capacity(layer.size as usize);
            tokio::time::timeout(
                self.opts.timeout,
                client.pull_blob(&reference, layer, &mut blob),
            )
            .await
            .map_err(|_| timeout("chart layer"))?
            .map_err(|e| oci_err(format!("chart layer {}: {e}", layer.digest)))?;
            let location = format!("{url}@{manifest_digest}");
            let files =
                ChartFiles::from_archive(&blob, &location).map_err(|source| FetchError::Chart {
                    url: location.clone(),
                    source,
                })?;
            Ok(Fetched {
                files,
                location,
                archive_sha256: Some(hex(&Sha256::digest(&blob))),
            })
        })
    }

    /// A shallow clone of `tag` into a temporary folder (the `git` command, killed at the
    /// deadline; never prompting for credentials): the folder, the checkout and its commit.
    fn clone_tag(
        &self,
        url: &str,
        tag: &str,
    ) -> Result<(tempfile::TempDir, PathBuf, String), FetchError> {
        let git_err = |message: String| FetchError::Git {
            url: url.to_owned(),
            message,
        };
        let dir = tempfile::Builder::new()
            .prefix("haven-git-")
            .tempdir()
            .map_err(|e| git_err(format!("temporary folder: {e}")))?;
        let checkout = dir.path().join("repo");
        let mut cmd = Command::new("git");
        cmd.args(["-c", "advice.detachedHead=false", "clone", "--quiet"])
            .args([
                "--depth",
                "1",
                "--no-tags",
                "--single-branch",
                "--branch",
                tag,
            ])
            .arg("--")
            .arg(url)
            .arg(&checkout)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "/bin/false")
            .env("SSH_ASKPASS", "/bin/false");
        run_with_deadline(cmd, self.opts.timeout)
            .map_err(|e| git_err(format!("clone --branch {tag}: {e}")))?;
        let mut rev = Command::new("git");
        rev.arg("-C").arg(&checkout).args(["rev-parse", "HEAD"]);
        let commit = run_with_deadline(rev, self.opts.timeout)
            .map(|out| out.trim().to_owned())
            .unwrap_or_default();
        Ok((dir, checkout, commit))
    }

    /// A chart inside a Git repository: a shallow clone of `tag`, then `path`.
    pub fn git(&self, url: &str, tag: &str, path: &str) -> Result<Fetched, FetchError> {
        let (_dir, checkout, commit) = self.clone_tag(url, tag)?;
        let rel = path.trim_start_matches("./").trim_end_matches('/');
        let chart_dir = checkout.join(rel);
        let files = read_chart_dir(&chart_dir, true).map_err(|e| match e {
            DirError::Chart(source) => FetchError::Chart {
                url: format!("{url}@{tag}:{rel}"),
                source,
            },
            DirError::Io(e) => FetchError::Git {
                url: url.to_owned(),
                message: format!("{tag}:{rel}: {e}"),
            },
        })?;
        Ok(Fetched {
            files,
            location: format!("{url}@{tag} ({commit}):{rel}"),
            archive_sha256: None,
        })
    }

    /// A directory of plain manifests inside a Git repository (what a Flux Kustomization
    /// applies from a GitRepository at `tag`): a shallow clone, then every file below `path`.
    pub fn git_files(&self, url: &str, tag: &str, path: &str) -> Result<FetchedFiles, FetchError> {
        let (_dir, checkout, commit) = self.clone_tag(url, tag)?;
        let rel = path.trim_start_matches("./").trim_end_matches('/');
        let files = read_files_dir(&checkout.join(rel)).map_err(|e| FetchError::Git {
            url: url.to_owned(),
            message: format!("{tag}:{rel}: {e}"),
        })?;
        Ok(FetchedFiles {
            files,
            location: format!("{url}@{tag} ({commit}):{rel}"),
            commit: Some(commit).filter(|c| !c.is_empty()),
        })
    }
}

/// Fetched plain manifests (no chart) and where exactly they came from.
#[derive(Debug, Clone)]
pub struct FetchedFiles {
    /// Path below the directory → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    pub location: String,
    /// The Git commit of the tag, when they came from Git.
    pub commit: Option<String>,
}

/// Every regular file below `dir` (links followed as a checkout has them, `.git` left out),
/// bounded as a chart is: the directory of a `manifests` component.
pub fn read_files_dir(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, FilesError> {
    if !dir.is_dir() {
        return Err(FilesError::NoDirectory(dir.to_path_buf()));
    }
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.depth() > 0 && e.file_name() == ".git"));
    for entry in walker {
        let entry = entry.map_err(FilesError::Walk)?;
        if entry.file_type().is_dir() {
            continue;
        }
        if !entry.file_type().is_file() {
            return Err(FilesError::NotRegular(entry.path().to_path_buf()));
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(entry.path()).map_err(|source| FilesError::Read {
            path: entry.path().to_path_buf(),
            source,
        })?;
        total += bytes.len() as u64;
        if total > MAX_CHART_BYTES {
            return Err(FilesError::TooLarge);
        }
        files.insert(rel, bytes);
    }
    if files.is_empty() {
        return Err(FilesError::Empty(dir.to_path_buf()));
    }
    Ok(files)
}

/// The manifests of `component` in a local mirror: the folder `DIR/<component>/`, laid out as
/// the directory Flux applies (what `haven plus vendor` writes there).
pub fn manifests_from_mirror(mirror: &Path, component: &str) -> Result<FetchedFiles, FetchError> {
    let folder = mirror.join(component);
    let files = read_files_dir(&folder).map_err(|e| FetchError::Mirror {
        path: folder.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(FetchedFiles {
        files,
        location: folder.display().to_string(),
        commit: None,
    })
}

/// Rustls with ring as the process's provider, before any client asks for one (reqwest is built
/// without a provider of its own, which keeps aws-lc-rs out of the build).
fn install_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs a command (git) with haven-io's deadline, output cap and process-group kill; its
/// standard output on success, else the last line of its error output.
fn run_with_deadline(cmd: Command, timeout: Duration) -> Result<String, CommandError> {
    let what = format!(
        "git {}",
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .find(|a| a == "clone" || a == "rev-parse")
            .unwrap_or_default()
    );
    let limits = haven_io::process::Limits::new(timeout, 1 << 20);
    let out = haven_io::process::run(cmd, &limits, haven_io::process::Mode::Captured, &what)
        .map_err(CommandError::Run)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let tail = out.stderr_tail(1);
        Err(CommandError::Failed {
            status: out.status,
            tail: if tail.trim().is_empty() {
                "no error output".to_owned()
            } else {
                tail.trim().to_owned()
            },
        })
    }
}

/// Why a command (git) gave no output.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    /// It could not be run, or ran out of time or output room.
    #[error("{}", .0.one_line(" (--timeout SECONDS)"))]
    Run(#[source] haven_io::process::ProcessError),
    /// It ran and failed: its exit status and the last line of its error output.
    #[error("failed ({status}): {tail}")]
    Failed {
        status: std::process::ExitStatus,
        tail: String,
    },
}

/// Why a directory of files (a chart folder, a `manifests` component's directory) could not be
/// read.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{}: no such directory", .0.display())]
    NoDirectory(PathBuf),
    #[error("{0}")]
    Walk(#[source] walkdir::Error),
    #[error("{}: not a regular file", .0.display())]
    NotRegular(PathBuf),
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("larger than {} MiB", MAX_CHART_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("{}: no files", .0.display())]
    Empty(PathBuf),
}

/// Why a chart folder could not be read.
#[derive(Debug)]
pub enum DirError {
    Io(FilesError),
    Chart(ChartError),
}

/// Reads a chart folder as Helm's `LoadDir` does (links followed; `.git` left out when
/// `skip_git`), then loads it as [`ChartFiles`].
pub fn read_chart_dir(dir: &Path, skip_git: bool) -> Result<ChartFiles, DirError> {
    if !dir.join("Chart.yaml").is_file() {
        return Err(DirError::Chart(ChartError::NoChartYaml(
            dir.display().to_string(),
        )));
    }
    let mut raw = Vec::new();
    let mut total = 0u64;
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(skip_git && e.depth() > 0 && e.file_name() == ".git"));
    for entry in walker {
        let entry = entry.map_err(|e| DirError::Io(FilesError::Walk(e)))?;
        if entry.file_type().is_dir() {
            continue;
        }
        if !entry.file_type().is_file() {
            return Err(DirError::Io(FilesError::NotRegular(
                entry.path().to_path_buf(),
            )));
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(entry.path()).map_err(|source| {
            DirError::Io(FilesError::Read {
                path: entry.path().to_path_buf(),
                source,
            })
        })?;
        total += bytes.len() as u64;
        if total > MAX_CHART_BYTES {
            return Err(DirError::Chart(ChartError::TooLarge));
        }
        raw.push((rel, bytes));
    }
    ChartFiles::load(raw, &dir.display().to_string()).map_err(DirError::Chart)
}

/// What a local mirror holds for one component: `DIR/<component>/` (a chart folder), else
/// `DIR/<component>.tgz`, `DIR/<component>-<version>.tgz` or `DIR/<chart>-<version>.tgz`.
pub fn from_mirror(
    mirror: &Path,
    component: &str,
    chart: &str,
    version: &str,
) -> Result<Fetched, FetchError> {
    let folder = mirror.join(component);
    let mirror_err = |path: &Path, message: String| FetchError::Mirror {
        path: path.display().to_string(),
        message,
    };
    if folder.is_dir() {
        let files = read_chart_dir(&folder, true).map_err(|e| match e {
            DirError::Chart(source) => FetchError::Chart {
                url: folder.display().to_string(),
                source,
            },
            DirError::Io(e) => mirror_err(&folder, e.to_string()),
        })?;
        return Ok(Fetched {
            files,
            location: folder.display().to_string(),
            archive_sha256: None,
        });
    }
    let bare = version.strip_prefix('v').unwrap_or(version);
    let mut candidates: Vec<PathBuf> = [
        format!("{component}.tgz"),
        format!("{component}-{version}.tgz"),
        format!("{component}-{bare}.tgz"),
        format!("{chart}-{version}.tgz"),
        format!("{chart}-{bare}.tgz"),
    ]
    .into_iter()
    .map(|n| mirror.join(n))
    .collect();
    candidates.dedup();
    for path in &candidates {
        if path.is_file() {
            let bytes = std::fs::read(path).map_err(|e| mirror_err(path, e.to_string()))?;
            let files = ChartFiles::from_archive(&bytes, &path.display().to_string()).map_err(
                |source| FetchError::Chart {
                    url: path.display().to_string(),
                    source,
                },
            )?;
            return Ok(Fetched {
                files,
                location: path.display().to_string(),
                archive_sha256: Some(hex(&Sha256::digest(&bytes))),
            });
        }
    }
    Err(FetchError::NotInMirror {
        path: folder.display().to_string(),
        component: component.to_owned(),
        looked_for: candidates
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why a `manifests` directory cannot be read is told by variant, the message naming it.
    #[test]
    fn unreadable_file_directories_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        match read_files_dir(&gone) {
            Err(e @ FilesError::NoDirectory(_)) => {
                assert_eq!(
                    e.to_string(),
                    format!("{}: no such directory", gone.display())
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_files_dir(dir.path()),
            Err(FilesError::Empty(p)) if p == dir.path()
        ));
    }

    /// A git that fails gives its status and the end of its error output.
    #[test]
    fn a_failing_command_is_a_typed_error() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo first >&2; echo last >&2; exit 3"]);
        match run_with_deadline(cmd, Duration::from_secs(30)) {
            Err(e @ CommandError::Failed { .. }) => {
                let message = e.to_string();
                assert!(
                    message.starts_with("failed (exit status: 3): "),
                    "{message}"
                );
                assert!(
                    message.ends_with("last") && !message.contains("first"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let missing = Command::new("/nonexistent/haven-test-git");
        assert!(matches!(
            run_with_deadline(missing, Duration::from_secs(30)),
            Err(CommandError::Run(_))
        ));
    }
}
