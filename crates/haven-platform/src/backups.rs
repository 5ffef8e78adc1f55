//! Backups that restore: where they go (the config's target), what the render writes for them
//! (CloudNativePG's object store backups beside Velero's), and `haven plus backups check`, the
//! restore drill's first step: whether the latest backup of every Velero schedule and every
//! CloudNativePG Cluster exists, completed, and is recent.
//!
//! Pure: the check judges objects listed from a cluster (`serde_json::Value`s as the API server
//! returns them, read by the CLI's kube edge) at a given time.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::{Backups, PlatformConfig};

/// Where the store keeps the in-cluster target's CloudNativePG key (properties `ACCESS_KEY_ID`,
/// `ACCESS_SECRET_KEY`) when Garage's bootstrap cannot make it (no External Secrets): a person
/// writes it, for the bucket [`IN_CLUSTER_CNPG_BUCKET`]. With the bootstrap the key is made in
/// the database's namespace ([`cnpg_consumer`]).
pub const IN_CLUSTER_CNPG_SECRET_PATH: &str = "platform/cloudnative-pg/backup-s3";
/// The in-cluster Garage bucket CloudNativePG's base backups and WAL go to.
pub const IN_CLUSTER_CNPG_BUCKET: &str = "cnpg";
/// Garage's S3 API port.
const GARAGE_S3_PORT: u16 = 3900;

/// Where backups go, resolved from the config (and the platform: the in-cluster Garage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://…` off the cluster, `http://garage.<ns>.svc:3900` in it.
    pub endpoint: String,
    pub host: String,
    pub port: u16,
    pub region: String,
    /// Velero's bucket and prefix inside it.
    pub velero_bucket: String,
    pub velero_prefix: Option<String>,
    /// CloudNativePG's bucket and the prefix its clusters write under (`cnpg/<namespace>`).
    pub cnpg_bucket: String,
    pub cnpg_prefix: Option<String>,
    /// The secret store path of CloudNativePG's key (and Velero's, off the cluster).
    pub secret_path: String,
    /// The in-cluster Garage: the namespace it runs in.
    pub in_cluster: Option<String>,
}

/// The target backups go to, or `None` when backups are off or no store is reachable (no
/// off-cluster target and no Garage).
pub fn target(config: &PlatformConfig, garage_ns: Option<&str>) -> Option<Target> {
    let b = &config.capabilities.backups;
    if !b.enabled {
        return None;
    }
    if let Some(s3) = b.s3() {
        let (host, port) = crate::formats::s3_endpoint(&s3.endpoint).ok()?;
        return Some(Target {
            endpoint: s3.endpoint.trim_end_matches('/').to_owned(),
            host,
            port,
            region: s3.region.clone(),
            velero_bucket: s3.bucket.clone(),
            velero_prefix: Some("velero".to_owned()),
            cnpg_bucket: s3.bucket.clone(),
            cnpg_prefix: Some("cnpg".to_owned()),
            secret_path: s3.secret_path.clone(),
            in_cluster: None,
        });
    }
    let ns = garage_ns?;
    let host = format!("garage.{ns}.svc");
    Some(Target {
        endpoint: format!("http://{host}:{GARAGE_S3_PORT}"),
        host,
        port: GARAGE_S3_PORT,
        region: "garage".to_owned(),
        velero_bucket: "velero".to_owned(),
        velero_prefix: None,
        cnpg_bucket: IN_CLUSTER_CNPG_BUCKET.to_owned(),
        cnpg_prefix: None,
        secret_path: IN_CLUSTER_CNPG_SECRET_PATH.to_owned(),
        in_cluster: Some(ns.to_owned()),
    })
}

/// The Secret, in each database's namespace, with the key CloudNativePG's barman-cloud uses.
pub fn cnpg_secret_name(cluster: &str) -> String {
    format!("{cluster}-backup-s3")
}

/// The keys of that Secret, and the properties of the store path they are read from.
pub const S3_KEYS: [&str; 2] = ["ACCESS_KEY_ID", "ACCESS_SECRET_KEY"];

/// A database as a consumer of the in-cluster object store (`crate::object_store`): its bucket
/// and the Secret barman-cloud reads, made in the database's namespace and imported into Garage
/// by the bootstrap, so an in-cluster target needs no key typed in.
pub fn cnpg_consumer(cluster: &str, target: &Target) -> crate::object_store::Consumer {
    crate::object_store::Consumer {
        buckets: vec![target.cnpg_bucket.clone()],
        secret: cnpg_secret_name(cluster),
        keys: [
            (
                S3_KEYS[0].to_owned(),
                crate::object_store::ACCESS_KEY_ID_VAR.to_owned(),
            ),
            (
                S3_KEYS[1].to_owned(),
                crate::object_store::SECRET_ACCESS_KEY_VAR.to_owned(),
            ),
        ]
        .into_iter()
        .collect(),
    }
}

/// The config's schedule (Velero's five-field cron, checked by `formats::velero_cron`) as
/// CloudNativePG's ScheduledBackup reads one: robfig/cron with a seconds field first.
pub fn cnpg_schedule(velero: &str) -> String {
    let s = velero.trim();
    let (tz, rest) = ["CRON_TZ=", "TZ="]
        .iter()
        .find_map(|p| {
            s.strip_prefix(p).and_then(|r| {
                r.split_once(char::is_whitespace)
                    .map(|(zone, rest)| (format!("{p}{zone} "), rest.trim()))
            })
        })
        .unwrap_or_default();
    let rest = if rest.is_empty() { s } else { rest };
    let six = match rest {
        "@yearly" | "@annually" => "0 0 0 1 1 *".to_owned(),
        "@monthly" => "0 0 0 1 * *".to_owned(),
        "@weekly" => "0 0 0 * * 0".to_owned(),
        "@daily" | "@midnight" => "0 0 0 * * *".to_owned(),
        "@hourly" => "0 0 * * * *".to_owned(),
        other if other.starts_with('@') => other.to_owned(),
        other => format!("0 {other}"),
    };
    format!("{tz}{six}")
}

/// The config's `ttl` as CloudNativePG's retention policy (`<n>d`), rounded up to whole days.
pub fn retention(ttl: &str) -> String {
    const DAY: i128 = 86_400 * 1_000_000_000;
    let ns = crate::formats::positive_go_duration(ttl).unwrap_or(7 * DAY);
    format!("{}d", ((ns + DAY - 1) / DAY).max(1))
}

/// `spec.backup` of a CloudNativePG Cluster the platform creates: base backups and WAL
/// archiving to the target with barman-cloud, kept for the config's `ttl`.
///
/// The in-tree `barmanObjectStore` (CloudNativePG 1.30, the pinned version): deprecated since
/// 1.26 in favour of the Barman Cloud Plugin and removed in 1.31.0; the catalogue test
/// `cnpg_in_tree_backups_need_a_version_that_has_them` fails when the pin reaches 1.31, so
/// the move to the plugin (an `ObjectStore` and `spec.plugins`) is made with that upgrade.
pub fn cnpg_backup_spec(namespace: &str, cluster: &str, t: &Target, b: &Backups) -> Value {
    let path = match &t.cnpg_prefix {
        Some(p) => format!("s3://{}/{p}/{namespace}", t.cnpg_bucket),
        None => format!("s3://{}/{namespace}", t.cnpg_bucket),
    };
    let secret = cnpg_secret_name(cluster);
    json!({
        "retentionPolicy": retention(&b.ttl),
        "barmanObjectStore": {
            "destinationPath": path,
            "endpointURL": t.endpoint,
            "s3Credentials": {
                "accessKeyId": {"name": secret, "key": S3_KEYS[0]},
                "secretAccessKey": {"name": secret, "key": S3_KEYS[1]},
            },
            "wal": {"compression": "gzip"},
            "data": {"compression": "gzip"},
        },
    })
}

/// The ScheduledBackup of a Cluster: a base backup on the config's schedule, and one at once
/// (`immediate`) so a new cluster is restorable the day it is created.
pub fn cnpg_scheduled_backup(namespace: &str, cluster: &str, b: &Backups) -> Value {
    json!({
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "ScheduledBackup",
        "metadata": {"name": format!("{cluster}-daily"), "namespace": namespace},
        "spec": {
            "schedule": cnpg_schedule(&b.schedule),
            "immediate": true,
            "backupOwnerReference": "self",
            "method": "barmanObjectStore",
            "cluster": {"name": cluster},
        },
    })
}

/// Whether a CloudNativePG Cluster (as rendered or as listed) backs up: an object store or
/// volume snapshots in `spec.backup`, or a WAL-archiving plugin (the Barman Cloud Plugin).
pub fn cnpg_cluster_backs_up(cluster: &Value) -> bool {
    let spec = &cluster["spec"];
    spec["backup"]["barmanObjectStore"].is_object()
        || spec["backup"]["volumeSnapshot"].is_object()
        || spec["plugins"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["isWALArchiver"] == true && p["enabled"] != false)
        })
}

// ---------------------------------------------------------------------------------------------
// `haven plus backups check`

/// The objects the check reads, as listed (`None`: the cluster does not serve the kind, i.e.
/// Velero or CloudNativePG is not installed).
#[derive(Debug, Clone, Default)]
pub struct Listed {
    pub storage_locations: Option<Vec<Value>>,
    pub schedules: Option<Vec<Value>>,
    pub velero_backups: Option<Vec<Value>>,
    pub clusters: Option<Vec<Value>>,
    pub cnpg_backups: Option<Vec<Value>>,
}

/// How one thing's backups stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The latest backup completed within `--max-age` (a storage location: Available).
    Ok,
    /// No backup yet, and the thing is younger than `--max-age`: the first is still to come.
    Pending,
    /// The latest completed backup is older than `--max-age`.
    Stale,
    /// No completed backup at all.
    Missing,
    /// The latest backup failed, WAL archiving fails, the location is unavailable, the
    /// schedule is paused or invalid, or a database has no backup configured.
    Failed,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Pending => "pending",
            State::Stale => "stale",
            State::Missing => "missing",
            State::Failed => "failed",
        }
    }

    /// Whether this state fails the check.
    pub fn fails(self) -> bool {
        matches!(self, State::Stale | State::Missing | State::Failed)
    }
}

/// One judged thing: a storage location, a schedule or a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// `BackupStorageLocation`, `Schedule` (Velero), `Cluster` (CloudNativePG).
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub state: State,
    /// The latest backup's name, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// When the latest successful backup completed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Its age in seconds at the time of the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    /// Why, in words.
    pub detail: String,
}

impl Item {
    /// A judged thing with no backup seen yet; the check fills in what it finds.
    fn new(
        kind: &'static str,
        namespace: String,
        name: String,
        state: State,
        detail: String,
    ) -> Self {
        Self {
            kind,
            namespace,
            name,
            state,
            latest: None,
            completed_at: None,
            age_seconds: None,
            detail,
        }
    }
}

/// The check's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub checked_at: String,
    pub max_age_seconds: i64,
    /// Velero's and CloudNativePG's API served by the cluster.
    pub velero_installed: bool,
    pub cnpg_installed: bool,
    pub items: Vec<Item>,
}

impl Report {
    /// Whether every backup is in place: nothing failed, stale or missing, and there was
    /// something to check.
    pub fn ok(&self) -> bool {
        !self.items.is_empty() && !self.items.iter().any(|i| i.state.fails())
    }

    /// The text form: one line per item, a summary.
    pub fn format(&self) -> String {
        let rows: Vec<[String; 4]> = self
            .items
            .iter()
            .map(|i| {
                [
                    i.kind.to_owned(),
                    format!("{}/{}", i.namespace, i.name),
                    i.state.label().to_owned(),
                    i.detail.clone(),
                ]
            })
            .collect();
        let mut widths = [4usize, 6, 5];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.len());
            }
        }
        let mut out = format!(
            "{:w0$}  {:w1$}  {:w2$}  DETAIL\n",
            "KIND",
            "OBJECT",
            "STATE",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        for r in &rows {
            out.push_str(&format!(
                "{:w0$}  {:w1$}  {:w2$}  {}\n",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            ));
        }
        if !self.velero_installed {
            out.push_str("Velero is not installed (no velero.io/v1 API): volumes and objects are not backed up\n");
        }
        if !self.cnpg_installed {
            out.push_str("CloudNativePG is not installed (no postgresql.cnpg.io/v1 API)\n");
        }
        let failing = self.items.iter().filter(|i| i.state.fails()).count();
        out.push_str(&if self.items.is_empty() {
            "no backups to check: nothing is backed up\n".to_owned()
        } else if failing == 0 {
            format!(
                "{} checked, every latest backup is recent (max age {})\n",
                self.items.len(),
                human(self.max_age_seconds)
            )
        } else {
            format!(
                "{} checked, {failing} not backed up as they should be (max age {})\n",
                self.items.len(),
                human(self.max_age_seconds)
            )
        });
        out
    }
}

/// `26h`, `3d4h`, `15m`.
fn human(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

fn str_of<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn time_of(v: &Value, path: &[&str]) -> Option<Timestamp> {
    str_of(v, path)?.parse().ok()
}

fn name_of(v: &Value) -> (String, String) {
    (
        str_of(v, &["metadata", "namespace"])
            .unwrap_or_default()
            .to_owned(),
        str_of(v, &["metadata", "name"])
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Judges the listed objects at `now`: a backup older than `max_age` is stale.
pub fn check(listed: &Listed, now: Timestamp, max_age: SignedDuration) -> Report {
    let mut items = Vec::new();
    let age = |t: Timestamp| now.duration_since(t);
    // A thing with no backup yet that is younger than max_age is pending, not missing.
    let young = |v: &Value| {
        time_of(v, &["metadata", "creationTimestamp"]).is_some_and(|c| age(c) < max_age)
    };
    let fresh = |item: &mut Item, done: Timestamp| {
        let a = age(done);
        item.completed_at = Some(done.to_string());
        item.age_seconds = Some(a.as_secs());
        if a > max_age {
            item.state = State::Stale;
            item.detail = format!(
                "{}; completed {} ago, older than {}",
                item.detail,
                human(a.as_secs()),
                human(max_age.as_secs())
            );
        } else {
            item.state = State::Ok;
            item.detail = format!(
                "{}; completed {} ago",
                item.detail,
                human(a.as_secs().max(0))
            );
        }
    };

    for bsl in listed.storage_locations.iter().flatten() {
        let (namespace, name) = name_of(bsl);
        let phase = str_of(bsl, &["status", "phase"]).unwrap_or("Unknown");
        let (state, detail) = if phase == "Available" {
            (State::Ok, "Available".to_owned())
        } else {
            let msg = str_of(bsl, &["status", "message"]).unwrap_or_default();
            (
                State::Failed,
                format!(
                    "phase {phase}{}",
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {msg}")
                    }
                ),
            )
        };
        items.push(Item::new(
            "BackupStorageLocation",
            namespace,
            name,
            state,
            detail,
        ));
    }
    if listed.storage_locations.as_ref().is_some_and(Vec::is_empty) {
        items.push(Item::new(
            "BackupStorageLocation",
            String::new(),
            "-".to_owned(),
            State::Missing,
            "Velero has no BackupStorageLocation: backups have nowhere to go".to_owned(),
        ));
    }

    let backups = listed.velero_backups.as_deref().unwrap_or_default();
    for schedule in listed.schedules.iter().flatten() {
        let (namespace, name) = name_of(schedule);
        let mut item = Item::new(
            "Schedule",
            namespace.clone(),
            name.clone(),
            State::Missing,
            String::new(),
        );
        let phase = str_of(schedule, &["status", "phase"]).unwrap_or_default();
        let mut own: Vec<&Value> = backups
            .iter()
            .filter(|b| {
                str_of(b, &["metadata", "namespace"]) == Some(namespace.as_str())
                    && str_of(b, &["metadata", "labels", "velero.io/schedule-name"])
                        == Some(name.as_str())
            })
            .collect();
        let started = |b: &Value| {
            time_of(b, &["status", "startTimestamp"])
                .or_else(|| time_of(b, &["metadata", "creationTimestamp"]))
        };
        own.sort_by_key(|b| std::cmp::Reverse(started(b)));
        let latest_done = own.iter().find(|b| {
            str_of(b, &["status", "phase"]) == Some("Completed")
                && time_of(b, &["status", "completionTimestamp"]).is_some()
        });
        // The newest backup that has ended: one in progress says nothing yet.
        let latest_ended = own.iter().find(|b| {
            !matches!(
                str_of(b, &["status", "phase"]).unwrap_or("New"),
                "New"
                    | "Queued"
                    | "ReadyToStart"
                    | "InProgress"
                    | "WaitingForPluginOperations"
                    | "Finalizing"
                    | "FinalizingPartiallyFailed"
                    | "WaitingForPluginOperationsPartiallyFailed"
            )
        });
        if schedule["spec"]["paused"] == true {
            item.state = State::Failed;
            item.detail = "the schedule is paused".to_owned();
        } else if phase == "FailedValidation" {
            let errs: Vec<&str> = schedule["status"]["validationErrors"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            item.state = State::Failed;
            item.detail = format!("the schedule failed validation: {}", errs.join("; "));
        } else if let Some(b) =
            latest_ended.filter(|b| str_of(b, &["status", "phase"]) != Some("Completed"))
        {
            let (_, bname) = name_of(b);
            let bphase = str_of(b, &["status", "phase"]).unwrap_or_default();
            let errors = b["status"]["errors"].as_i64().unwrap_or(0);
            let reason = str_of(b, &["status", "failureReason"]).unwrap_or_default();
            item.state = State::Failed;
            item.latest = Some(bname.clone());
            item.detail = format!(
                "latest backup {bname} ended {bphase}{}{}",
                if errors > 0 {
                    format!(" with {errors} errors")
                } else {
                    String::new()
                },
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            );
        } else if let Some(b) = latest_done {
            let (_, bname) = name_of(b);
            item.latest = Some(bname.clone());
            item.detail = format!("latest backup {bname} Completed");
            if let Some(done) = time_of(b, &["status", "completionTimestamp"]) {
                fresh(&mut item, done);
            }
        } else if young(schedule) {
            item.state = State::Pending;
            item.detail = "no backup yet; the schedule is younger than the maximum age".to_owned();
        } else {
            item.detail = "no completed backup of this schedule".to_owned();
        }
        items.push(item);
    }

    let pg_backups = listed.cnpg_backups.as_deref().unwrap_or_default();
    for cluster in listed.clusters.iter().flatten() {
        let (namespace, name) = name_of(cluster);
        let mut item = Item::new(
            "Cluster",
            namespace.clone(),
            name.clone(),
            State::Missing,
            String::new(),
        );
        let archiving = cluster["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "ContinuousArchiving"));
        let mut own: Vec<&Value> = pg_backups
            .iter()
            .filter(|b| {
                str_of(b, &["metadata", "namespace"]) == Some(namespace.as_str())
                    && str_of(b, &["spec", "cluster", "name"]) == Some(name.as_str())
            })
            .collect();
        let started = |b: &Value| {
            time_of(b, &["status", "startedAt"])
                .or_else(|| time_of(b, &["metadata", "creationTimestamp"]))
        };
        own.sort_by_key(|b| std::cmp::Reverse(started(b)));
        let latest_ended = own.iter().find(|b| {
            matches!(
                str_of(b, &["status", "phase"]),
                Some("completed") | Some("failed")
            )
        });
        let done_backup = own.iter().find_map(|b| {
            (str_of(b, &["status", "phase"]) == Some("completed"))
                .then(|| time_of(b, &["status", "stoppedAt"]).map(|t| (name_of(b).1, t)))
                .flatten()
        });
        let last_success = time_of(cluster, &["status", "lastSuccessfulBackup"]);
        // The newer of the newest completed Backup and the Cluster's own record (Backups may
        // have been deleted).
        let done = match (done_backup, last_success) {
            (Some((_, t)), Some(l)) if l > t => Some((None, l)),
            (Some((n, t)), _) => Some((Some(n), t)),
            (None, Some(l)) => Some((None, l)),
            (None, None) => None,
        };
        if !cnpg_cluster_backs_up(cluster) {
            item.state = State::Failed;
            item.detail = "no backup configured (spec.backup or a WAL-archiving plugin)".to_owned();
        } else if let Some(c) = archiving.filter(|c| c["status"] == "False") {
            item.state = State::Failed;
            item.detail = format!(
                "WAL archiving fails (ContinuousArchiving False{}{})",
                str_of(c, &["reason"])
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default(),
                str_of(c, &["message"])
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        } else if let Some(b) =
            latest_ended.filter(|b| str_of(b, &["status", "phase"]) == Some("failed"))
        {
            let (_, bname) = name_of(b);
            item.state = State::Failed;
            item.latest = Some(bname.clone());
            item.detail = format!(
                "latest backup {bname} failed{}",
                str_of(b, &["status", "error"])
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        } else if let Some((bname, t)) = done {
            item.latest = bname.clone();
            item.detail = match bname {
                Some(n) => format!("latest backup {n} completed"),
                None => "last successful backup".to_owned(),
            };
            if archiving.is_none() {
                item.detail.push_str(" (WAL archiving not yet reported)");
            }
            fresh(&mut item, t);
        } else if young(cluster) {
            item.state = State::Pending;
            item.detail = "no backup yet; the cluster is younger than the maximum age".to_owned();
        } else {
            item.detail = "no completed backup of this cluster".to_owned();
        }
        items.push(item);
    }
    Report {
        checked_at: now.to_string(),
        max_age_seconds: max_age.as_secs(),
        velero_installed: listed.schedules.is_some(),
        cnpg_installed: listed.clusters.is_some(),
        items,
    }
}
