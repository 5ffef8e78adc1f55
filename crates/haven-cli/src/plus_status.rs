//! `haven plus status`: the edge that lists Flux objects from a live cluster; the folding into
//! components and capabilities is `haven_platform::status` (pure).

use crate::diag::Diagnostic;
use std::time::{Duration, Instant};

use haven_io::process::human_duration;

use haven_platform::Catalogue;
use haven_platform::status::{self, Observed, PlatformStatus, Read, Unread};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use crate::plus_cmd::{StatusArgs, load, out};
use crate::{EXIT_FINDINGS, EXIT_OK};

pub fn run(a: &StatusArgs) -> Result<u8, Diagnostic> {
    let cat = Catalogue::builtin().map_err(|e| Diagnostic::from(e.to_string()))?;
    let (config, _) = load(&a.config, &cat)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let deadline = started + a.timeout;
    // What is under way, for the message when `--timeout` runs out in the middle of it.
    let doing = std::cell::RefCell::new(String::from("connecting to the cluster"));
    // The last status seen while waiting: what is reported when the time is up.
    let last: std::cell::RefCell<Option<PlatformStatus>> = Default::default();
    let progress = Progress::new(a.wait);
    // What the fold needs, and no more (the Jobs and ExternalSecrets of the tree's namespaces).
    let reads = status::reads(&config, &cat);
    let work = async {
        let mut conn = connect(a, deadline, &doing).await?;
        loop {
            // A credential from a kubeconfig plugin is not refreshed by the client.
            if conn
                .credential_expires
                .is_some_and(|t| jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60) >= t)
            {
                *doing.borrow_mut() =
                    "connecting to the cluster again (the credential expires)".into();
                conn = connect(a, deadline, &doing).await?;
            }
            let (observed, unread) = list(&conn, &reads, a, deadline, &doing).await?;
            let st = status::status(&config, &cat, &observed, &unread);
            // A refused read does not change by waiting: stop once the rest is Ready.
            if st.settled() || !a.wait {
                return Ok(st);
            }
            progress.update(&st, started.elapsed());
            *last.borrow_mut() = Some(st);
            *doing.borrow_mut() = "waiting between polls".into();
            let pause = Duration::from_secs(a.interval.max(1))
                .min(deadline.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
        }
    };
    let outcome = runtime.block_on(async {
        match tokio::time::timeout_at(deadline.into(), work).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "--timeout {} ran out while {}",
                human_duration(a.timeout),
                doing.borrow()
            )),
        }
    });
    progress.finish();
    let st = match outcome {
        Ok(st) => st,
        // Waiting ran out (also in the middle of a poll): the last status seen is the answer.
        Err(e) => match last.take() {
            Some(st) if Instant::now() >= deadline => st,
            _ => return Err(e.into()),
        },
    };
    if a.json {
        let doc = serde_json::json!({
            "ready": st.ready(),
            "components": st.components,
            "capabilities": st.capabilities,
            "units": st.units.iter().map(|(n, s)| serde_json::json!({"name": n, "status": s})).collect::<Vec<_>>(),
            "secrets": st.secrets,
        });
        out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
        ))?;
    } else {
        out(&st.format())?;
    }
    if a.wait && !st.ready() && st.settled() {
        eprintln!(
            "haven: everything haven could read is Ready; what it could not read (forbidden) is not counted as Ready"
        );
    } else if a.wait && !st.ready() {
        eprintln!(
            "haven: timed out after {} waiting for the platform to be Ready",
            human_duration(a.timeout)
        );
    }
    Ok(if st.ready() { EXIT_OK } else { EXIT_FINDINGS })
}

/// The cluster, found the way kubectl (and `haven check`) finds it; a kubeconfig credential
/// plugin runs within `--request-timeout`.
async fn connect(
    a: &StatusArgs,
    deadline: Instant,
    doing: &std::cell::RefCell<String>,
) -> Result<haven_cluster::Connection, String> {
    let access = a.cluster.access(Some(request_timeout(a, deadline)));
    *doing.borrow_mut() =
        "connecting to the cluster (and running a kubeconfig credential plugin, if any)".into();
    haven_cluster::connect(&access)
        .await
        .map_err(|e| e.to_string())
}

/// `--request-timeout`, or less when `--timeout` runs out sooner.
fn request_timeout(a: &StatusArgs, deadline: Instant) -> Duration {
    a.request
        .request_timeout
        .min(deadline.saturating_duration_since(Instant::now()))
        .max(Duration::from_millis(1))
}

async fn list(
    conn: &haven_cluster::Connection,
    reads: &[Read],
    a: &StatusArgs,
    deadline: Instant,
    doing: &std::cell::RefCell<String>,
) -> Result<(Vec<Observed>, Vec<Unread>), String> {
    let mut observed = Vec::new();
    let mut unread = Vec::new();
    // An optional kind the cluster does not serve (External Secrets' CRDs not there yet): its
    // other namespaces are not asked again.
    let mut not_served: Vec<&str> = Vec::new();
    for read in reads {
        let Read {
            group,
            version,
            kind,
            plural,
            required,
            ..
        } = read;
        if not_served.contains(kind) {
            continue;
        }
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api: Api<DynamicObject> = match &read.namespace {
            Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &resource),
            None => Api::all_with(conn.client.clone(), &resource),
        };
        let what = format!("listing {} from {}", read.describe(), conn.server);
        *doing.borrow_mut() = what.clone();
        let limit = request_timeout(a, deadline);
        let listed = tokio::time::timeout(limit, api.list(&ListParams::default())).await;
        if !required {
            match &listed {
                Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
                    not_served.push(kind);
                    continue;
                }
                // Shown as "could not read … (forbidden)" on what it would have shown.
                Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
                    unread.push(Unread::forbidden(read));
                    continue;
                }
                _ => {}
            }
        }
        let list = listed
            .map_err(|_| {
                if limit < a.request.request_timeout {
                    format!("--timeout {} ran out while {what}", human_duration(a.timeout))
                } else {
                    format!(
                        "{what}: the API server did not answer within {} (--request-timeout)",
                        human_duration(limit)
                    )
                }
            })?
            .map_err(|e| match &e {
                kube::Error::Api(s) if s.code == 404 => format!(
                    "the cluster serves no {plural}.{group}/{version}: is Flux installed (flux bootstrap)?"
                ),
                _ => {
                    let chain = error_chain(&e);
                    if haven_cluster::error::timed_out(&e) {
                        format!(
                            "{what}: the API server did not answer within {} (--request-timeout)",
                            human_duration(limit)
                        )
                    } else {
                        format!("{what}: {chain}")
                    }
                }
            })?;
        for item in list.items {
            let mut value = serde_json::to_value(&item).map_err(|e| e.to_string())?;
            value["kind"] = serde_json::Value::String((*kind).to_owned());
            observed.push(status::observe(&value));
        }
    }
    Ok((observed, unread))
}

/// An error and its sources, joined: kube's own message ("client error (Connect)") leaves out
/// the cause.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The progress view of `--wait`: a bar on a terminal, a line per change otherwise (CI logs).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last: std::cell::RefCell<String>,
}

impl Progress {
    fn new(wait: bool) -> Self {
        let bar = (wait && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ready  {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            last: std::cell::RefCell::new(String::new()),
        }
    }

    fn update(&self, st: &PlatformStatus, elapsed: Duration) {
        let (ready, total) = st.counts();
        let waiting = st.waiting();
        let msg = format!("waiting for {}", waiting.join(", "));
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                bar.set_position(ready as u64);
                bar.set_message(msg);
            }
            None => {
                let line = format!("[{ready}/{total} ready] {msg}");
                if *self.last.borrow() != line {
                    eprintln!("{line} ({}s)", elapsed.as_secs());
                    *self.last.borrow_mut() = line;
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
