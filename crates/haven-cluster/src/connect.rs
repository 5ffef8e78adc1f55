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
            let file = Kubeconfig::read_from(path)
                .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(file, &kube_options)
                .await
                .map_err(|e| ClusterError::Config(format!("{}: {e}", path.display())))?
        }
        None if options.context.is_some() => Config::from_kubeconfig(&kube_options)
            .await
            .map_err(|e| ClusterError::Config(e.to_string()))?,
        None => Config::infer().await.map_err(|e| {
            ClusterError::Config(format!(
                "no cluster configured ({e}); set KUBECONFIG, pass --kubeconfig, or run inside a cluster"
            ))
        })?,
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
