//! `haven admission serve`.

use crate::diag::{Diagnostic, Problem};
use std::sync::Arc;

use haven_admission::{Config, NamespaceLabels, ServeOptions, StaticNamespaces, WatchedNamespaces};

use crate::cli::ServeArgs;

pub fn serve(args: &ServeArgs) -> Result<u8, Diagnostic> {
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
            let text = std::fs::read_to_string(path).map_err(|e| {
                Problem::new(format!("cannot read config: {e}"))
                    .file(&name)
                    .flag("--config")
            })?;
            Config::parse(&name, &text).map_err(|e| Diagnostic::from(crate::Problem::from(&e)))?
        }
        None => Config::default(),
    };
    let mut opts = ServeOptions::new(args.listen, args.cert.clone(), args.key.clone());
    opts.config = config;
    opts.own_namespace = args.namespace.clone();
    opts.idle_timeout = args.idle_timeout;
    opts.header_timeout = args.header_timeout;
    opts.max_connections = args.max_connections as usize;
    opts.max_connections_per_client = args.max_connections_per_client as usize;
    opts.drain_period = args.drain_period;
    opts.shutdown_grace = args.shutdown_grace;
    opts.cert_warning_days = args.cert_warning_days;
    #[cfg(feature = "bench")]
    {
        opts.null_responder = args.null_responder;
        opts.engine_only = args.engine_only;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let namespaces: Arc<dyn NamespaceLabels> = if args.no_watch {
            Arc::new(StaticNamespaces::new())
        } else {
            // Found the way kubectl finds a cluster (the same code as `haven check`); no
            // request timeout, the watch is a long-lived stream.
            let access = args.cluster.access(None);
            let connection = haven_cluster::connect(&access).await.map_err(|e| {
                format!("{e} (or pass --no-watch to serve with the config defaults and no cluster access)")
            })?;
            WatchedNamespaces::spawn(connection.client)
        };
        haven_admission::serve(opts, namespaces)
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(crate::EXIT_OK)
}
