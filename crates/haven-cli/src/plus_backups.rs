//! `haven plus backups check`: the edge that lists Velero's and CloudNativePG's objects from a
//! live cluster; the judging is `haven_platform::backups::check` (pure).

use std::time::Duration;

use haven_platform::backups::{self, Listed};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::plus_cmd::{BackupsCheckArgs, BackupsOutput, out};
use crate::{EXIT_FINDINGS, EXIT_OK};

pub fn run(a: &BackupsCheckArgs) -> Result<u8, Diagnostic> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listed = runtime.block_on(list_all(a))?;
    let max_age =
        jiff::SignedDuration::try_from(a.max_age).map_err(|e| format!("--max-age: {e}"))?;
    let report = backups::check(&listed, jiff::Timestamp::now(), max_age);
    match a.output {
        BackupsOutput::Json => out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": report.ok(),
                "checkedAt": report.checked_at,
                "maxAgeSeconds": report.max_age_seconds,
                "veleroInstalled": report.velero_installed,
                "cnpgInstalled": report.cnpg_installed,
                "items": report.items,
            }))
            .map_err(|e| e.to_string())?
        ))?,
        BackupsOutput::Text => out(&report.format())?,
    }
    Ok(if report.ok() { EXIT_OK } else { EXIT_FINDINGS })
}

async fn list_all(a: &BackupsCheckArgs) -> Result<Listed, String> {
    let request_timeout = a.request.request_timeout;
    let access = a.cluster.access(Some(request_timeout));
    let conn = tokio::time::timeout(request_timeout, haven_cluster::connect(&access))
        .await
        .map_err(|_| "connecting to the cluster: no answer within --request-timeout".to_owned())?
        .map_err(|e| e.to_string())?;
    let velero = |kind, plural| ("velero.io", "v1", kind, plural);
    let cnpg = |kind, plural| ("postgresql.cnpg.io", "v1", kind, plural);
    Ok(Listed {
        storage_locations: list(
            &conn,
            velero("BackupStorageLocation", "backupstoragelocations"),
            request_timeout,
        )
        .await?,
        schedules: list(&conn, velero("Schedule", "schedules"), request_timeout).await?,
        velero_backups: list(&conn, velero("Backup", "backups"), request_timeout).await?,
        clusters: list(&conn, cnpg("Cluster", "clusters"), request_timeout).await?,
        cnpg_backups: list(&conn, cnpg("Backup", "backups"), request_timeout).await?,
    })
}

/// Every object of a kind in every namespace; `None` when the cluster does not serve the kind
/// (the operator is not installed).
async fn list(
    conn: &haven_cluster::Connection,
    (group, version, kind, plural): (&str, &str, &str, &str),
    limit: Duration,
) -> Result<Option<Vec<Value>>, String> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &resource);
    let what = format!("listing {plural}.{group} from {}", conn.server);
    let listed = tokio::time::timeout(limit, api.list(&ListParams::default()))
        .await
        .map_err(|_| {
            format!(
                "{what}: the API server did not answer within {} (--request-timeout)",
                haven_io::process::human_duration(limit)
            )
        })?;
    let list = match listed {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(format!("{what}: {e}")),
    };
    list.items
        .into_iter()
        .map(|item| serde_json::to_value(&item).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
