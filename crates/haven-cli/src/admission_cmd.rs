//! `haven admission serve`.

use std::sync::Arc;

use haven_admission::{Config, NamespaceLabels, ServeOptions, StaticNamespaces, WatchedNamespaces};

use crate::cli::ServeArgs;

pub fn serve(args: &ServeArgs) -> Result<u8, String> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match &args.config {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{name}: cannot read config: {e}"))?;
            Config::parse(&name, &text).map_err(|e| e.describe())?
        }
        None => Config::default(),
    };
    let mut opts = ServeOptions::new(args.listen, args.cert.clone(), args.key.clone());
    opts.config = config;
    opts.own_namespace = args.namespace.clone();
    opts.null_responder = args.null_responder;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let namespaces: Arc<dyn NamespaceLabels> = if args.no_watch {
            Arc::new(StaticNamespaces::new())
        } else {
            let client = kube_client(args.kubeconfig.as_deref()).await?;
            WatchedNamespaces::spawn(client)
        };
        haven_admission::serve(opts, namespaces)
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(crate::EXIT_OK)
}

/// A client configured the way kubectl would be: an explicit kubeconfig, else in-cluster, else
/// `$KUBECONFIG` / `~/.kube/config`.
async fn kube_client(kubeconfig: Option<&std::path::Path>) -> Result<kube::Client, String> {
    let hint = "(or pass --no-watch to serve with the config defaults and no cluster access)";
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("{}: cannot read kubeconfig: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration for the namespace watch: {e} {hint}"))?,
    };
    kube::Client::try_from(config)
        .map_err(|e| format!("cannot build a Kubernetes client: {e} {hint}"))
}
