//! A fake Kubernetes API server for benchmark scripts: serves a fixture or a synthetic cluster
//! over HTTPS on 127.0.0.1, writes a kubeconfig, and prints how many requests it answered.

use haven_test_support::{ApiServer, FakeCluster, synthetic};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: haven-fake-apiserver (--fixture FILE | --synthetic NODES,PODS[,ZONES]) \
[--kubeconfig-out FILE] [--listen 127.0.0.1:0]";

struct Args {
    fixture: Option<PathBuf>,
    synthetic: Option<(usize, usize, usize)>,
    kubeconfig_out: Option<PathBuf>,
    listen: SocketAddr,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        fixture: None,
        synthetic: None,
        kubeconfig_out: None,
        listen: "127.0.0.1:0".parse().expect("address"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--fixture" => args.fixture = Some(PathBuf::from(value("--fixture")?)),
            "--synthetic" => {
                let v = value("--synthetic")?;
                let n: Vec<usize> = v
                    .split(',')
                    .map(|p| p.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--synthetic {v}: expected NODES,PODS[,ZONES]"))?;
                args.synthetic = match n.as_slice() {
                    [nodes, pods] => Some((*nodes, *pods, 3)),
                    [nodes, pods, zones] => Some((*nodes, *pods, *zones)),
                    _ => return Err(format!("--synthetic {v}: expected NODES,PODS[,ZONES]")),
                };
            }
            "--kubeconfig-out" => {
                args.kubeconfig_out = Some(PathBuf::from(value("--kubeconfig-out")?))
            }
            "--listen" => {
                let v = value("--listen")?;
                args.listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.fixture.is_some() == args.synthetic.is_some() {
        return Err(format!(
            "give exactly one of --fixture and --synthetic\n{USAGE}"
        ));
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let cluster = match (&args.fixture, args.synthetic) {
        (None, Some((nodes, pods, zones))) => synthetic(nodes, pods, zones),
        (Some(path), _) => match FakeCluster::from_fixture(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match ApiServer::start_on(cluster, args.listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.kubeconfig_out
        && let Err(e) = std::fs::write(path, server.kubeconfig_yaml("haven-fake"))
    {
        eprintln!("{}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("{}", server.url());
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot listen for SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("requests: {}", server.request_count());
    server.shutdown().await;
    ExitCode::SUCCESS
}
