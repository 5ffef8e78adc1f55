//! Finding the cluster the way kubectl does: `--kubeconfig`, else `$KUBECONFIG`, else
//! `~/.kube/config`, else the in-cluster service account; `--context` picks a context.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::ClusterError;

/// Where to connect.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Connect, read and write timeout of each request, and the deadline of a kubeconfig
    /// credential plugin (run by haven, see `crate::exec`); `None` for a long-lived watch, whose
    /// plugin kube runs and refreshes itself.
    pub timeout: Option<Duration>,
}

/// A connected client and the facts about it that go into the report.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub server: String,
    pub context: Option<String>,
    /// When the credential a kubeconfig plugin gave runs out (it is not refreshed: connect
    /// again before then).
    pub credential_expires: Option<jiff::Timestamp>,
}

/// Build a client (no request is made yet).
pub async fn connect(options: &AccessOptions) -> Result<Connection, ClusterError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..Default::default()
    };
    let mut config = match &options.kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
                path: path.display().to_string(),
                detail: crate::error::chain(&e),
            })?;
            Config::from_custom_kubeconfig(file, &kube_options)
                .await
                .map_err(|e| ClusterError::Kubeconfig {
                    path: path.display().to_string(),
                    detail: crate::error::chain(&e),
                })?
        }
        None => match kubeconfig_paths() {
            paths if paths.is_empty() && options.context.is_some() => {
                return Err(ClusterError::Config(
                    "--context needs a kubeconfig: KUBECONFIG is not set and there is no ~/.kube/config".into(),
                ));
            }
            // Nothing to read: inside a pod, the service account.
            paths if paths.is_empty() => Config::incluster().map_err(|e| {
                ClusterError::Config(format!(
                    "no cluster configured: KUBECONFIG is not set, there is no ~/.kube/config, and this is not inside a cluster ({e}); set KUBECONFIG or pass --kubeconfig"
                ))
            })?,
            // kubectl's order: every file of $KUBECONFIG merged, else ~/.kube/config. A file
            // that is there but unusable is reported by name, not as "no cluster".
            paths => {
                // As kubectl: files of $KUBECONFIG that do not exist are skipped; when none
                // does, that is the error (not "no cluster").
                let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
                if existing.is_empty() {
                    return Err(ClusterError::Kubeconfig {
                        path: std::env::join_paths(&paths)
                            .map(|p| p.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        detail: "no such file (named by KUBECONFIG)".into(),
                    });
                }
                let mut merged: Option<Kubeconfig> = None;
                for path in existing {
                    let file = Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
                        path: path.display().to_string(),
                        detail: crate::error::chain(&e),
                    })?;
                    merged = Some(match merged {
                        None => file,
                        Some(m) => m.merge(file).map_err(|e| ClusterError::Kubeconfig {
                            path: path.display().to_string(),
                            detail: crate::error::chain(&e),
                        })?,
                    });
                }
                let names = std::env::join_paths(paths.iter().filter(|p| p.exists()))
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Config::from_custom_kubeconfig(merged.unwrap_or_default(), &kube_options)
                    .await
                    .map_err(|e| ClusterError::Kubeconfig {
                        path: names,
                        detail: crate::error::chain(&e),
                    })?
            }
        },
    };
    if let Some(t) = options.timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    // A credential plugin runs here, within the timeout, rather than unbounded inside kube. With
    // no timeout (a long-lived watch: the admission webhook's namespace cache) it is left to
    // kube, which runs it again whenever its credential expires.
    let mut credential_expires = None;
    if let Some(timeout) = options.timeout
        && crate::exec::uses_plugin(&config.auth_info)
    {
        let mut auth = config.auth_info.clone();
        let resolved = tokio::task::spawn_blocking(move || {
            crate::exec::resolve(&mut auth, timeout).map(|c| (auth, c))
        })
        .await
        .map_err(|e| ClusterError::Config(format!("credential plugin: {e}")))?;
        let (auth, credential) = resolved.map_err(|e| ClusterError::Config(e.to_string()))?;
        config.auth_info = auth;
        credential_expires = credential.and_then(|c| c.expires);
    }
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| ClusterError::Config(e.to_string()))?;
    Ok(Connection {
        client,
        server: server.trim_end_matches('/').to_owned(),
        context: options.context.clone(),
        credential_expires,
    })
}

/// The kubeconfig files kubectl would read: each of `$KUBECONFIG` (empty entries skipped),
/// else `~/.kube/config` when it exists; empty when there is none.
fn kubeconfig_paths() -> Vec<PathBuf> {
    if let Some(value) = std::env::var_os("KUBECONFIG")
        && !value.is_empty()
    {
        return std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    std::env::home_dir()
        .map(|home| home.join(".kube").join("config"))
        .filter(|p| p.exists())
        .into_iter()
        .collect()
}
