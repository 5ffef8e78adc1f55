//! Write probes, run only with `--allow-writes`.
//!
//! `rwxvolumes`: upstream proves that ReadWriteMany volumes can be provisioned by creating a claim
//! and waiting for it to bind. We do the same, but in a namespace of our own (so nothing of the
//! user's is touched and one delete removes everything), with a deadline, and with cleanup that
//! always runs: after success, failure, timeout, and on Ctrl-C.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

use crate::snapshot::ProbeRecord;

/// Label on everything a probe creates, so leftovers can be found: `kubectl get ns -l haven.commonground.nl/probe`.
pub const PROBE_LABEL: &str = "haven.commonground.nl/probe";

#[derive(Debug, Clone)]
pub struct RwxProbeOptions {
    /// The StorageClass to claim from; `None` uses the cluster default.
    pub storage_class: Option<String>,
    /// How long to wait for `Bound`.
    pub timeout: Duration,
    /// How often to look.
    pub poll: Duration,
    /// Namespace name; unique per run by default.
    pub namespace: String,
}

impl Default for RwxProbeOptions {
    fn default() -> Self {
        RwxProbeOptions {
            storage_class: None,
            timeout: Duration::from_secs(180),
            poll: Duration::from_secs(2),
            namespace: format!("haven-check-rwx-{}", jiff::Timestamp::now().as_second()),
        }
    }
}

/// Create a ReadWriteMany claim in a fresh namespace, wait for it to bind, delete the namespace.
/// The namespace is deleted in every case, including Ctrl-C (then the run ends as interrupted).
pub async fn rwx_probe(client: &Client, options: &RwxProbeOptions) -> ProbeRecord {
    let outcome = tokio::select! {
        r = rwx_probe_inner(client, options) => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted (Ctrl-C); cleaned up".to_owned()),
    };
    let cleanup = cleanup(client, &options.namespace).await;
    let mut facts = BTreeMap::new();
    facts.insert("namespace".to_owned(), options.namespace.clone());
    facts.insert(
        "storageClass".to_owned(),
        options
            .storage_class
            .clone()
            .unwrap_or_else(|| "(cluster default)".into()),
    );
    facts.insert("cleanup".to_owned(), cleanup.clone().unwrap_or_else(|e| e));
    match outcome {
        Ok((phase, waited)) => {
            facts.insert("phase".to_owned(), phase.clone());
            facts.insert("waitedSeconds".to_owned(), waited.as_secs().to_string());
            let passed = phase == "Bound";
            ProbeRecord {
                check: "rwxvolumes".into(),
                passed: Some(passed),
                detail: if passed {
                    format!(
                        "write probe: a ReadWriteMany claim bound after {}s",
                        waited.as_secs()
                    )
                } else {
                    format!(
                        "write probe: a ReadWriteMany claim was still {phase} after {}s",
                        waited.as_secs()
                    )
                },
                facts,
            }
        }
        Err(message) => ProbeRecord {
            check: "rwxvolumes".into(),
            passed: None,
            detail: format!("write probe could not run: {message}"),
            facts,
        },
    }
}

async fn rwx_probe_inner(
    client: &Client,
    o: &RwxProbeOptions,
) -> Result<(String, Duration), String> {
    let labels = BTreeMap::from([(PROBE_LABEL.to_owned(), "rwxvolumes".to_owned())]);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(o.namespace.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    tokio::time::timeout(o.timeout, namespaces.create(&PostParams::default(), &ns))
        .await
        .map_err(|_| "creating the namespace timed out".to_owned())?
        .map_err(|e| format!("create namespace {}: {e}", o.namespace))?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &o.namespace);
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("haven-rwx-probe".into()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".into()]),
            storage_class_name: o.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity("1Mi".into()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    tokio::time::timeout(o.timeout, claims.create(&PostParams::default(), &claim))
        .await
        .map_err(|_| "creating the claim timed out".to_owned())?
        .map_err(|e| format!("create persistentvolumeclaim: {e}"))?;
    let start = Instant::now();
    loop {
        let phase = match tokio::time::timeout(
            o.poll.max(Duration::from_secs(5)),
            claims.get("haven-rwx-probe"),
        )
        .await
        {
            Ok(Ok(c)) => c
                .status
                .and_then(|s| s.phase)
                .unwrap_or_else(|| "Pending".into()),
            Ok(Err(e)) => return Err(format!("get persistentvolumeclaim: {e}")),
            Err(_) => "Pending".into(),
        };
        if phase == "Bound" || start.elapsed() >= o.timeout {
            return Ok((phase, start.elapsed()));
        }
        tokio::time::sleep(o.poll).await;
    }
}

/// Delete the probe namespace (its claim goes with it). Errors are reported, not hidden: a
/// leftover namespace is something the operator must know about.
async fn cleanup(client: &Client, namespace: &str) -> Result<String, String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match tokio::time::timeout(
        Duration::from_secs(30),
        namespaces.delete(namespace, &DeleteParams::default()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(format!("namespace {namespace} deleted")),
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
            Ok(format!("namespace {namespace} was not created"))
        }
        Ok(Err(e)) => Err(format!(
            "could not delete namespace {namespace}: {e}; delete it by hand"
        )),
        Err(_) => Err(format!(
            "deleting namespace {namespace} timed out; delete it by hand"
        )),
    }
}
