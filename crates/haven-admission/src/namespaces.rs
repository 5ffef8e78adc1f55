//! The watch-backed namespace-label cache: a kube-runtime reflector over Namespace *metadata*.
//!
//! Admission requests never call the API server: the verdict for a Pod needs its namespace's
//! labels, and a GET per request would put the API server on the webhook's latency path (and
//! make the webhook fail when the API server is slow, which is exactly when a cluster can least
//! afford stalled pod creation). A metadata-only watch keeps the cache small: labels (the
//! policy modes) and annotations (the tenant policy: registries, LoadBalancers, host names) are
//! all we read, so spec and status are never transferred.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};

use crate::config::Defaults;
use crate::policy::{NamespaceLabels, NamespacePolicy, annotated_policy};

/// Namespace labels from a reflector; `synced` turns true after the first complete list.
pub struct WatchedNamespaces {
    store: Store<PartialObjectMeta<Namespace>>,
    synced: Arc<AtomicBool>,
}

impl WatchedNamespaces {
    /// Starts the watch on the current tokio runtime. The returned cache answers from memory;
    /// the background task relists with backoff after errors (logged, never fatal: a webhook
    /// that keeps answering with slightly stale labels beats one that stops answering).
    pub fn spawn(client: kube::Client) -> Arc<Self> {
        // `Api<PartialObjectMeta<_>>` makes kube ask for metadata-only lists and watches.
        let api: Api<PartialObjectMeta<Namespace>> = Api::all(client);
        let (store, writer) = reflector::store();
        let synced = Arc::new(AtomicBool::new(false));
        let stream = reflector::reflector(
            writer,
            watcher(api, watcher::Config::default()).default_backoff(),
        );
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                if let Err(error) = event {
                    tracing::warn!(%error, "namespace watch failed; retrying with backoff");
                }
            }
        });
        let ready_store = store.clone();
        let ready_flag = synced.clone();
        tokio::spawn(async move {
            if ready_store.wait_until_ready().await.is_ok() {
                tracing::info!(namespaces = ready_store.len(), "namespace cache synced");
                ready_flag.store(true, Ordering::Release);
            }
        });
        Arc::new(Self { store, synced })
    }
}

impl NamespaceLabels for WatchedNamespaces {
    fn labels(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        let key = ObjectRef::<PartialObjectMeta<Namespace>>::new(namespace);
        self.store
            .get(&key)
            .map(|ns| ns.metadata.labels.clone().unwrap_or_default())
    }

    fn annotations(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        let key = ObjectRef::<PartialObjectMeta<Namespace>>::new(namespace);
        self.store
            .get(&key)
            .map(|ns| ns.metadata.annotations.clone().unwrap_or_default())
    }

    fn synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    fn policy(&self, namespace: &str, defaults: &Defaults) -> NamespacePolicy {
        let key = ObjectRef::<PartialObjectMeta<Namespace>>::new(namespace);
        let ns = self.store.get(&key);
        annotated_policy(
            ns.as_ref().and_then(|ns| ns.metadata.labels.as_ref()),
            ns.as_ref().and_then(|ns| ns.metadata.annotations.as_ref()),
            defaults,
        )
    }
}
