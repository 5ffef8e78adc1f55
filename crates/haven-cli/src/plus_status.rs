//! `haven plus status`: the edge that lists Flux objects from a live cluster; the folding into
//! components and capabilities is `haven_platform::status` (pure).

use std::time::{Duration, Instant};

use haven_platform::Catalogue;
use haven_platform::status::{self, Observed, PlatformStatus};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

use crate::plus_cmd::{StatusArgs, load, out};
use crate::{EXIT_FINDINGS, EXIT_OK};

/// The Flux kinds whose Ready conditions make up the platform's state.
const FLUX_KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
    ),
];

pub fn run(a: &StatusArgs) -> Result<u8, String> {
    let cat = Catalogue::builtin()?;
    let (config, _) = load(&a.config, &cat)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = client(a).await?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(a.timeout);
        let progress = Progress::new(a.wait);
        loop {
            let observed = list(&client).await?;
            let st = status::status(&config, &cat, &observed);
            let done = st.ready() || !a.wait || Instant::now() >= deadline;
            if !done {
                progress.update(&st, started.elapsed());
                tokio::time::sleep(Duration::from_secs(a.interval.max(1))).await;
                continue;
            }
            progress.finish();
            if a.json {
                let doc = serde_json::json!({
                    "ready": st.ready(),
                    "components": st.components,
                    "capabilities": st.capabilities,
                    "units": st.units.iter().map(|(n, s)| serde_json::json!({"name": n, "status": s})).collect::<Vec<_>>(),
                });
                out(&format!("{}\n", serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?))?;
            } else {
                out(&st.format())?;
            }
            if a.wait && !st.ready() {
                eprintln!("haven: timed out after {}s waiting for the platform to be Ready", a.timeout);
            }
            return Ok(if st.ready() { EXIT_OK } else { EXIT_FINDINGS });
        }
    })
}

/// The cluster, found the way kubectl (and `haven check`) finds it.
async fn client(a: &StatusArgs) -> Result<kube::Client, String> {
    let access = haven_cluster::AccessOptions {
        kubeconfig: a.kubeconfig.clone(),
        context: a.context.clone(),
        timeout: None,
    };
    haven_cluster::connect(&access)
        .await
        .map(|c| c.client)
        .map_err(|e| e.to_string())
}

async fn list(client: &kube::Client) -> Result<Vec<Observed>, String> {
    let mut observed = Vec::new();
    for (group, version, kind, plural) in FLUX_KINDS {
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let list = api.list(&ListParams::default()).await.map_err(|e| match &e {
            kube::Error::Api(s) if s.code == 404 => format!(
                "the cluster serves no {plural}.{group}/{version}: is Flux installed (flux bootstrap)?"
            ),
            _ => format!("listing {plural}.{group}: {e}"),
        })?;
        for item in list.items {
            let mut value = serde_json::to_value(&item).map_err(|e| e.to_string())?;
            value["kind"] = serde_json::Value::String((*kind).to_owned());
            observed.push(status::observe(&value));
        }
    }
    Ok(observed)
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
        let waiting: Vec<&str> = st
            .components
            .iter()
            .filter(|c| !c.state().is_ready())
            .map(|c| c.name.as_str())
            .chain(
                st.units
                    .iter()
                    .filter(|(_, s)| !s.is_ready())
                    .map(|(n, _)| n.as_str()),
            )
            .collect();
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
