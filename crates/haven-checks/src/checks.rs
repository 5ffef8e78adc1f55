//! One function per check. Each returns the result, the method, a one-line reason and evidence.
//! Rules that upstream does not publish are marked *inferred* and read their inputs from
//! [`CheckConfig`].

use std::collections::{BTreeMap, BTreeSet};

use haven_snapshot::{ClusterSnapshot, NodeRecord, Read, WorkloadRecord};
use serde_json::{Value, json};

use crate::catalogue::CheckInfo;
use crate::config::{CheckConfig, Matcher, image_matches, name_matches};
use crate::release::{CncfAnswer, ReleaseData, parse_day};
use crate::{CheckResult, ExternalTool, Outcome, Platform, RunInputs, SkipReason};

pub(crate) struct Ctx<'a> {
    pub s: &'a ClusterSnapshot,
    pub config: &'a CheckConfig,
    pub release: &'a ReleaseData,
    pub today: jiff::civil::Date,
    pub inputs: &'a RunInputs,
    pub platform: Option<Platform>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        s: &'a ClusterSnapshot,
        config: &'a CheckConfig,
        release: &'a ReleaseData,
        now: jiff::Timestamp,
        inputs: &'a RunInputs,
    ) -> Self {
        let platform = detect_platform(s, config);
        Ctx {
            s,
            config,
            release,
            today: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
            inputs,
            platform,
        }
    }
}

/// What a check function decides.
struct Decision {
    result: Outcome,
    method: String,
    reason: String,
    evidence: BTreeMap<String, Value>,
    skipped: Option<SkipReason>,
}

impl Decision {
    fn new(result: Outcome, method: impl Into<String>, reason: impl Into<String>) -> Self {
        Decision {
            result,
            method: method.into(),
            reason: reason.into(),
            evidence: BTreeMap::new(),
            skipped: None,
        }
    }

    fn skipped(why: SkipReason, method: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut d = Self::new(Outcome::Skipped, method, reason);
        d.skipped = Some(why);
        d
    }

    fn yes_if(pass: bool, method: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(
            if pass { Outcome::Yes } else { Outcome::No },
            method,
            reason,
        )
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.evidence.insert(key.into(), value);
        self
    }

    /// A read that failed: UNKNOWN, naming the permission or the error.
    fn unknown(method: impl Into<String>, problem: String) -> Self {
        Self::new(Outcome::Unknown, method, problem)
    }
}

/// The value of a read, or return an UNKNOWN decision naming its problem.
macro_rules! need {
    ($read:expr, $method:expr) => {
        match $read.value() {
            Some(v) => v,
            None => return Decision::unknown($method, $read.problem().unwrap_or_default()),
        }
    };
}

pub(crate) fn run(info: &CheckInfo, ctx: &Ctx<'_>) -> CheckResult {
    let d = match info.name {
        "havenversion" => havenversion(ctx),
        "clusteradmin" => clusteradmin(ctx),
        "multiaz" => multiaz(ctx),
        "hamasters" => hamasters(ctx),
        "haworkers" => haworkers(ctx),
        "nodehardening" => nodehardening(ctx),
        "privatenetworking" => privatenetworking(ctx),
        "kubernetesversion" => kubernetesversion(ctx),
        "rbac" => rbac(ctx),
        "rwxvolumes" => rwxvolumes(ctx),
        "cncf" => cncf(ctx),
        "autocerts" => autocerts(ctx),
        "logs" => logs(ctx),
        "metrics" => metrics(ctx),
        "shavalidation" => shavalidation(ctx),
        "cis" => cis(ctx),
        "kubescape" => external(&ctx.inputs.kubescape, "--kubescape", "kubescape"),
        other => Decision::new(
            Outcome::Unknown,
            "none",
            format!("no implementation for check {other}"),
        ),
    };
    CheckResult {
        name: info.name.into(),
        category: info.category,
        label: info.label.into(),
        description: info.description.into(),
        rationale: info.rationale.into(),
        upstream_rationale: info.upstream_rationale.into(),
        suggested: info.suggested,
        result: d.result,
        method: d.method,
        reason: d.reason,
        evidence: d.evidence,
        waiver: None,
        skipped: d.skipped,
    }
}

// ------------------------------------------------------------------------------------------------
// Fundamental

/// `(major, minor, patch)` of a semver string; `0.x` counts `x` as the major (Cargo's rule for
/// compatibility), so that 0.2 is "a newer major" than 0.1.
fn compat_major(version: &str) -> Option<(u64, u64)> {
    let v = version.trim_start_matches('v');
    let mut it = v.split(['.', '-', '+']);
    let major: u64 = it.next()?.parse().ok()?;
    let minor: u64 = it.next()?.parse().ok()?;
    Some(if major == 0 { (0, minor) } else { (major, 0) })
}

/// Upstream: the checker must be the latest major, or a newer major must be less than 3 months
/// old. Ours compares this binary's version with the `checker` release list of the release data
/// (haven's own releases, not upstream's: a different program has its own version line).
fn havenversion(ctx: &Ctx<'_>) -> Decision {
    let method = format!(
        "release data ({}, {})",
        ctx.release.origin, ctx.release.date
    );
    if let Some(why) = ctx.release.checker_too_old(ctx.today) {
        return Decision::new(Outcome::Unknown, method, why);
    }
    let own = &ctx.inputs.tool_version;
    let Some(own_major) = compat_major(own) else {
        return Decision::new(
            Outcome::Unknown,
            method,
            format!("cannot read own version {own:?}"),
        );
    };
    let today = ctx.today;
    let released: Vec<(&str, (u64, u64), Option<jiff::civil::Date>)> = ctx
        .release
        .checker
        .releases
        .iter()
        .filter_map(|r| {
            Some((
                r.version.as_str(),
                compat_major(&r.version)?,
                parse_day(&r.released),
            ))
        })
        .filter(|(_, _, d)| d.is_none_or(|d| d <= today))
        .collect();
    let Some(latest) = released.iter().map(|r| r.1).max() else {
        return Decision::new(
            Outcome::Unknown,
            method,
            "the release data lists no checker release",
        );
    };
    let latest_version = released
        .iter()
        .filter(|r| r.1 == latest)
        .map(|r| r.0)
        .next()
        .unwrap_or_default();
    let base = |d: Decision| {
        d.with("version", json!(own))
            .with("latestRelease", json!(latest_version))
            .with(
                "releaseData",
                json!({"origin": ctx.release.origin, "date": ctx.release.date}),
            )
    };
    if own_major >= latest {
        return base(Decision::new(
            Outcome::Yes,
            method,
            format!("{own} is the latest major version ({latest_version})"),
        ));
    }
    // The oldest release of any newer major: a grace period of 3 months starts there.
    let first_newer = released
        .iter()
        .filter(|r| r.1 > own_major)
        .filter_map(|r| r.2)
        .min();
    match first_newer {
        Some(day) if today < day.saturating_add(jiff::Span::new().months(3)) => {
            base(Decision::new(
                Outcome::Yes,
                method,
                format!(
                    "a newer major ({latest_version}) exists since {day}, less than 3 months ago"
                ),
            ))
        }
        _ => base(Decision::new(
            Outcome::No,
            method,
            format!(
                "{own} is outdated: {latest_version} is a newer major version, out for more than 3 months"
            ),
        )),
    }
}

/// *Inferred*: a SelfSubjectAccessReview for verb `*` on resource `*` in group `*` is allowed.
fn clusteradmin(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: SelfSubjectAccessReview verb=* group=* resource=*";
    let access = need!(ctx.s.access, method);
    let Some(a) = access.iter().find(|a| a.verb == "*" && a.resource == "*") else {
        return Decision::new(Outcome::Unknown, method, "the access review was not asked");
    };
    Decision::yes_if(
        a.allowed,
        method,
        if a.allowed {
            "allowed: the current identity is cluster-admin"
        } else {
            "denied: the current identity is not cluster-admin"
        },
    )
    .with("allowed", json!(a.allowed))
    .with("reason", json!(a.reason))
}

// ------------------------------------------------------------------------------------------------
// Infrastructure

fn is_control_plane(n: &NodeRecord, config: &CheckConfig) -> bool {
    config
        .control_plane_labels
        .iter()
        .any(|l| n.labels.contains_key(l))
}

fn multiaz(ctx: &Ctx<'_>) -> Decision {
    let method = format!(
        "read-only: node labels {}",
        ctx.config.zone_labels.join(", ")
    );
    let nodes = need!(ctx.s.nodes, method);
    let mut zones: BTreeMap<String, usize> = BTreeMap::new();
    let mut unlabelled = Vec::new();
    for n in nodes {
        match ctx.config.zone_labels.iter().find_map(|l| n.labels.get(l)) {
            Some(z) => *zones.entry(z.clone()).or_default() += 1,
            None => unlabelled.push(n.name.clone()),
        }
    }
    let mut reason = if zones.is_empty() {
        "no zone in use: no node carries a zone label".to_owned()
    } else {
        format!(
            "{} zone(s) in use: {}",
            zones.len(),
            zones.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    if !zones.is_empty() && !unlabelled.is_empty() {
        reason.push_str(&format!(
            " ({} node(s) without a zone label)",
            unlabelled.len()
        ));
    }
    Decision::yes_if(zones.len() >= 2, method, reason)
        .with("zones", json!(zones))
        .with("nodesWithoutZone", json!(unlabelled))
}

fn hamasters(ctx: &Ctx<'_>) -> Decision {
    let method = format!(
        "read-only: nodes labelled {}",
        ctx.config.control_plane_labels.join(" or ")
    );
    let nodes = need!(ctx.s.nodes, method);
    let masters: Vec<&str> = nodes
        .iter()
        .filter(|n| is_control_plane(n, ctx.config))
        .map(|n| n.name.as_str())
        .collect();
    let d = if masters.len() >= 3 {
        Decision::new(
            Outcome::Yes,
            method,
            format!("{} control-plane nodes", masters.len()),
        )
    } else if let Some(p) = ctx
        .platform
        .as_ref()
        .filter(|p| p.managed && masters.is_empty())
    {
        // Inferred from upstream behaviour: managed platforms run the control plane out of sight
        // and redundantly; they pass.
        Decision::new(
            Outcome::Yes,
            format!(
                "read-only: managed platform {} ({})",
                p.name, p.determined_by
            ),
            format!(
                "managed control plane ({}): no control-plane nodes are visible, as expected",
                p.name
            ),
        )
    } else {
        Decision::new(
            Outcome::No,
            method,
            format!("{} control-plane node(s), at least 3 needed", masters.len()),
        )
    };
    d.with("controlPlaneNodes", json!(masters))
        .with("platform", json!(ctx.platform.as_ref().map(|p| &p.name)))
}

fn haworkers(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: nodes without a control-plane label";
    let nodes = need!(ctx.s.nodes, method);
    let workers: Vec<&str> = nodes
        .iter()
        .filter(|n| !is_control_plane(n, ctx.config))
        .map(|n| n.name.as_str())
        .collect();
    Decision::yes_if(
        workers.len() >= 3,
        method,
        format!("{} worker node(s), at least 3 needed", workers.len()),
    )
    .with("workerNodes", json!(workers))
}

/// Without `--allow-writes`: *inferred* from `status.nodeInfo.osImage`: every node runs an OS that
/// enables a security module by default (configurable `hardenedOs`). A node with an unknown OS
/// makes the result UNKNOWN, not NO: only a look at the kernel can tell.
fn nodehardening(ctx: &Ctx<'_>) -> Decision {
    if let Some(p) = ctx.s.probes.iter().find(|p| p.check == "nodehardening") {
        return probe_decision(p);
    }
    let method = "read-only: node OS image (status.nodeInfo.osImage) against known hardened distributions; --allow-writes would read the kernel's security modules";
    let nodes = need!(ctx.s.nodes, method);
    if nodes.is_empty() {
        return Decision::new(Outcome::Unknown, method, "no nodes visible");
    }
    let mut matched: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for n in nodes {
        let hit = ctx.config.hardened_os.iter().find(|h| {
            n.os_image
                .to_ascii_lowercase()
                .contains(&h.pattern.to_ascii_lowercase())
        });
        match hit {
            Some(h) => matched
                .entry(h.reason.clone())
                .or_default()
                .push(n.name.clone()),
            None => unknown
                .push(json!({"node": n.name, "osImage": n.os_image, "kernel": n.kernel_version})),
        }
    }
    let d = if unknown.is_empty() {
        Decision::new(
            Outcome::Yes,
            method,
            format!(
                "every node runs a hardened OS: {}",
                matched.keys().cloned().collect::<Vec<_>>().join("; ")
            ),
        )
    } else {
        Decision::new(
            Outcome::Unknown,
            method,
            format!(
                "{} node(s) run an OS not known to be hardened; add it to hardenedOs in --config or run with --allow-writes",
                unknown.len()
            ),
        )
    };
    d.with("hardened", json!(matched))
        .with("notRecognised", json!(unknown))
}

fn privatenetworking(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: node status.addresses of type ExternalIP";
    let nodes = need!(ctx.s.nodes, method);
    let public: Vec<Value> = nodes
        .iter()
        .flat_map(|n| {
            n.addresses
                .iter()
                .filter(|a| a.kind == "ExternalIP")
                .map(move |a| json!({"node": n.name, "address": a.address}))
        })
        .collect();
    Decision::yes_if(
        public.is_empty(),
        method,
        if public.is_empty() {
            "no node reports an ExternalIP".to_owned()
        } else {
            format!("{} node address(es) of type ExternalIP", public.len())
        },
    )
    .with("externalAddresses", json!(public))
}

// ------------------------------------------------------------------------------------------------
// Cluster

fn kubernetesversion(ctx: &Ctx<'_>) -> Decision {
    let method = format!(
        "/version against release data ({}, {})",
        ctx.release.origin, ctx.release.date
    );
    let v = need!(ctx.s.server_version, method);
    let Some((major, minor)) = v.major_minor() else {
        return Decision::new(
            Outcome::Unknown,
            method,
            format!("cannot read server version {:?}", v.git_version),
        );
    };
    if let Some(why) = ctx.release.too_old(ctx.today) {
        return Decision::new(Outcome::Unknown, method, why).with("server", json!(v.git_version));
    }
    // Only releases out on the day of the run count: a planned release does not yet push the
    // window forward.
    let Some((lmaj, lmin)) = ctx.release.latest_kubernetes(ctx.today) else {
        return Decision::new(
            Outcome::Unknown,
            method,
            "the release data lists no Kubernetes release out by today",
        );
    };
    let behind = if major == lmaj {
        lmin.saturating_sub(minor)
    } else if major < lmaj {
        u32::MAX
    } else {
        0
    };
    Decision::yes_if(
        behind <= 3,
        method,
        format!("server {major}.{minor} ({}), latest {lmaj}.{lmin}: {} minor(s) behind, at most 3 allowed", v.git_version, if behind == u32::MAX { "many".to_owned() } else { behind.to_string() }),
    )
    .with("server", json!(v.git_version))
    .with("latest", json!(format!("{lmaj}.{lmin}")))
    .with("releaseData", json!({"origin": ctx.release.origin, "date": ctx.release.date}))
}

/// *Inferred*: the `rbac.authorization.k8s.io` API group is served.
fn rbac(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: discovery serves rbac.authorization.k8s.io";
    let groups = need!(ctx.s.api_groups, method);
    let served: Vec<&String> = groups
        .iter()
        .filter(|g| g.starts_with("rbac.authorization.k8s.io/"))
        .collect();
    Decision::yes_if(
        !served.is_empty(),
        method,
        if served.is_empty() {
            "the RBAC API is not served"
        } else {
            "the RBAC API is served"
        },
    )
    .with("served", json!(served))
}

fn probe_decision(p: &haven_snapshot::ProbeRecord) -> Decision {
    let result = match p.passed {
        Some(true) => Outcome::Yes,
        Some(false) => Outcome::No,
        None => Outcome::Unknown,
    };
    let mut d = Decision::new(result, "write probe (--allow-writes)", p.detail.clone());
    for (k, v) in &p.facts {
        d.evidence.insert(k.clone(), json!(v));
    }
    d
}

/// With `--allow-writes`: the probe's result. Read-only (*inferred*): a StorageClass whose
/// provisioner is known to provision ReadWriteMany (`rwxProvisioners`), or an existing bound
/// ReadWriteMany claim, shows the capability. Neither → UNKNOWN: only provisioning can tell.
fn rwxvolumes(ctx: &Ctx<'_>) -> Decision {
    if let Some(p) = ctx.s.probes.iter().find(|p| p.check == "rwxvolumes") {
        return probe_decision(p);
    }
    let classes = need!(
        ctx.s.storage_classes,
        "read-only: StorageClass provisioners"
    );
    let capable: Vec<Value> = classes
        .iter()
        .filter(|c| ctx.config.rwx_provisioners.iter().any(|p| p == &c.provisioner))
        .map(|c| json!({"storageClass": c.name, "provisioner": c.provisioner, "default": c.is_default}))
        .collect();
    if let Some(first) = capable.first() {
        return Decision::new(
            Outcome::Yes,
            format!(
                "read-only: StorageClass {} uses provisioner {}, known to support RWX",
                first["storageClass"].as_str().unwrap_or_default(),
                first["provisioner"].as_str().unwrap_or_default()
            ),
            format!(
                "{} StorageClass(es) with an RWX-capable provisioner",
                capable.len()
            ),
        )
        .with("rwxStorageClasses", json!(capable));
    }
    let method = "read-only: bound ReadWriteMany PersistentVolumeClaims";
    let claims = match &ctx.s.persistent_volume_claims {
        Read::Ok { value } => value,
        other => {
            return Decision::unknown(
                method,
                format!(
                    "no StorageClass with a known RWX provisioner, and claims unreadable: {}",
                    other.problem().unwrap_or_default()
                ),
            )
            .with(
                "storageClasses",
                json!(
                    classes
                        .iter()
                        .map(|c| json!({"name": c.name, "provisioner": c.provisioner}))
                        .collect::<Vec<_>>()
                ),
            );
        }
    };
    let bound: Vec<Value> = claims
        .iter()
        .filter(|c| c.phase == "Bound" && c.access_modes.iter().any(|m| m == "ReadWriteMany"))
        .map(|c| json!({"namespace": c.namespace, "name": c.name, "storageClass": c.storage_class}))
        .collect();
    let storage = json!(
        classes
            .iter()
            .map(|c| json!({"name": c.name, "provisioner": c.provisioner}))
            .collect::<Vec<_>>()
    );
    if !bound.is_empty() {
        return Decision::new(
            Outcome::Yes,
            method,
            format!("{} bound ReadWriteMany claim(s) exist", bound.len()),
        )
        .with("boundRwxClaims", json!(bound))
        .with("storageClasses", storage);
    }
    Decision::new(
        Outcome::Unknown,
        "read-only: StorageClass provisioners and existing claims",
        "no StorageClass with a provisioner known to support RWX and no bound RWX claim; run with --allow-writes to provision a test claim, or list the provisioner in rwxProvisioners",
    )
    .with("storageClasses", storage)
}

// ------------------------------------------------------------------------------------------------
// External

/// The platform, from the first rule in `platforms` (config) that matches a node label, a
/// providerID prefix, the server version or an OS image. Public so the CLI can look the platform
/// up online (`--online`) before the checks run.
pub fn detect_platform(s: &ClusterSnapshot, config: &CheckConfig) -> Option<Platform> {
    let nodes = s.nodes.value().map(Vec::as_slice).unwrap_or_default();
    let git = s
        .server_version
        .value()
        .map(|v| v.git_version.as_str())
        .unwrap_or_default();
    for p in &config.platforms {
        let found = |by: String| {
            Some(Platform {
                name: p.name.clone(),
                cncf_name: p.cncf_name.clone(),
                managed: p.managed,
                determined_by: by,
            })
        };
        for label in &p.node_labels {
            let (key, value) = label
                .split_once('=')
                .map_or((label.as_str(), None), |(k, v)| (k, Some(v)));
            if nodes.iter().any(|n| {
                n.labels
                    .get(key)
                    .is_some_and(|v| value.is_none_or(|want| want == v))
            }) {
                return found(format!("node label {label}"));
            }
        }
        for prefix in &p.provider_id_prefixes {
            if nodes.iter().any(|n| {
                n.provider_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with(prefix.as_str()))
            }) {
                return found(format!("node providerID {prefix}…"));
            }
        }
        for needle in &p.version_contains {
            if git.contains(needle.as_str()) {
                return found(format!("server version {git}"));
            }
        }
        for needle in &p.os_image_contains {
            if nodes.iter().any(|n| n.os_image.contains(needle.as_str())) {
                return found(format!("node OS image contains {needle}"));
            }
        }
    }
    None
}

/// Upstream detects the platform from node labels and looks platform + version up in the
/// `cncf/k8s-conformance` repository. Ours looks it up in the release data's copy of that list
/// (derived product directories per minor), or live with `--online`.
fn cncf(ctx: &Ctx<'_>) -> Decision {
    if !ctx.inputs.cncf {
        return Decision::skipped(
            SkipReason::Disabled,
            "disabled with --no-cncf",
            "skipped on request",
        );
    }
    let list = &ctx.release.cncf;
    let method = format!(
        "platform detection + CNCF list in release data ({}, {}; cncf/k8s-conformance listed {})",
        ctx.release.origin, ctx.release.date, list.listed_on
    );
    let nodes_problem = ctx.s.nodes.problem();
    let v = need!(ctx.s.server_version, method);
    let Some(p) = &ctx.platform else {
        let reason = match nodes_problem {
            Some(p) => format!("platform unknown: {p}"),
            None => "platform not recognised from node labels, providerID, server version or OS image; add it to platforms in --config".to_owned(),
        };
        return Decision::new(Outcome::Unknown, method, reason)
            .with("server", json!(v.git_version));
    };
    let Some((major, minor)) = v.major_minor() else {
        return Decision::new(
            Outcome::Unknown,
            method,
            format!("cannot read server version {:?}", v.git_version),
        );
    };
    let version = format!("{major}.{minor}");
    let method = format!(
        "{method}; platform {} detected from {}",
        p.name, p.determined_by
    );
    let base = |d: Decision| {
        d.with("platform", json!(p.name))
            .with("cncfName", json!(p.cncf_name))
            .with("determinedBy", json!(p.determined_by))
            .with("version", json!(version))
    };
    if let Some(online) = &ctx.inputs.cncf_online
        && online.error.is_none()
    {
        let method = format!(
            "platform {} detected from {}; looked up live in {}",
            p.name, p.determined_by, online.source
        );
        let d = match (&online.found, &online.e2e) {
            (Some(dir), Some(e2e)) if e2e.failed > 0 => Decision::new(
                Outcome::No,
                method,
                format!(
                    "cncf/k8s-conformance v{version}/{dir} exists, but its e2e.log reports {} failed of {} conformance tests",
                    e2e.failed,
                    e2e.passed + e2e.failed
                ),
            ),
            (Some(dir), e2e) => Decision::new(
                Outcome::Yes,
                method,
                format!(
                    "{} {version} is CNCF-certified (cncf/k8s-conformance v{version}/{dir}{})",
                    p.name,
                    match (e2e, &online.note) {
                        (Some(e), _) =>
                            format!("; e2e.log: {} passed, {} failed", e.passed, e.failed),
                        (None, Some(n)) => format!("; e2e.log not read: {n}"),
                        (None, None) => String::new(),
                    }
                ),
            ),
            (None, _) => Decision::new(
                Outcome::No,
                method,
                format!(
                    "cncf/k8s-conformance has no v{version}/{{{}}}: {} {version} is not CNCF-certified",
                    online.asked.join(","),
                    p.name
                ),
            ),
        };
        return base(d).with("online", json!(online));
    }
    let online_note = ctx
        .inputs
        .cncf_online
        .as_ref()
        .and_then(|o| o.error.as_ref())
        .map(|e| format!(" (--online lookup failed: {e}; the offline list decided)"))
        .unwrap_or_default();
    let d = match list.lookup(&p.cncf_name, (major, minor)) {
        CncfAnswer::Certified { product } => Decision::new(
            Outcome::Yes,
            method,
            format!(
                "{} {version} is CNCF-certified (cncf/k8s-conformance v{version}/{product}){online_note}",
                p.name
            ),
        ),
        CncfAnswer::UpstreamRelease => Decision::new(
            Outcome::Yes,
            method,
            format!(
                "{} {version}: Kubernetes as the project releases it, installed with {}; the Kubernetes project runs the conformance tests on its own releases (inferred){online_note}",
                p.name, p.cncf_name
            ),
        ),
        CncfAnswer::NotListed { products } => Decision::new(
            Outcome::No,
            method,
            format!(
                "{} {version} is not in the CNCF-certified list (no v{version}/{{{}}}){online_note}",
                p.name,
                products.join(",")
            ),
        ),
        CncfAnswer::NewerThanList { newest } => Decision::new(
            Outcome::Unknown,
            method,
            format!(
                "the cluster runs {version}, newer than the CNCF list in the release data (up to {newest}, listed {}); run with --online or with newer release data{online_note}",
                list.listed_on
            ),
        ),
        CncfAnswer::OlderThanList { oldest } => Decision::new(
            Outcome::Unknown,
            method,
            format!(
                "the cluster runs {version}, older than the CNCF list in the release data (from {oldest}); run with --online{online_note}"
            ),
        ),
    };
    base(d)
}

/// `--cis`: kube-bench as a Job on every node (`--allow-writes`), judged from its JSON totals:
/// no failed benchmark item on any node → YES.
fn cis(ctx: &Ctx<'_>) -> Decision {
    if ctx.inputs.cis == ExternalTool::Probed {
        return match ctx.s.probes.iter().find(|p| p.check == "cis") {
            Some(p) => {
                let mut d = probe_decision(p);
                d.method =
                    "write probe (--allow-writes): kube-bench --json as a Job on every node".into();
                d
            }
            None => Decision::new(
                Outcome::Unknown,
                "write probe (--allow-writes)",
                "the kube-bench probe left no result",
            ),
        };
    }
    external(&ctx.inputs.cis, "--cis", "kube-bench")
}

fn external(tool: &ExternalTool, flag: &str, program: &str) -> Decision {
    match tool {
        ExternalTool::NotRun { reason } => {
            Decision::new(Outcome::Unknown, "not run", reason.clone())
        }
        ExternalTool::Probed => Decision::new(
            Outcome::Unknown,
            "not run",
            format!("{program} has no write probe"),
        ),
        ExternalTool::NotRequested => Decision::skipped(
            SkipReason::NotRequested,
            "not requested",
            format!("suggested check: opt in with {flag} ({program})"),
        ),
        ExternalTool::Missing { program } => Decision::new(
            Outcome::Unknown,
            format!("external tool {program}"),
            format!("{program} is not installed (not found on PATH)"),
        ),
        ExternalTool::Failed { program, message } => Decision::new(
            Outcome::Unknown,
            format!("external tool {program}"),
            message.clone(),
        ),
        ExternalTool::Ran {
            program,
            passed,
            detail,
        } => Decision::yes_if(*passed, format!("external tool {program}"), detail.clone()),
    }
}

// ------------------------------------------------------------------------------------------------
// Haven+

pub(crate) fn workload_matches(m: &Matcher, w: &WorkloadRecord) -> bool {
    m.names.iter().any(|n| name_matches(n, &w.name))
        || w.images
            .iter()
            .any(|i| m.images.iter().any(|p| image_matches(p, i)))
}

fn workload_json(w: &WorkloadRecord) -> Value {
    json!({"kind": w.kind, "namespace": w.namespace, "name": w.name, "images": w.images, "ready": w.ready, "desired": w.desired})
}

/// *Inferred*: cert-manager runs (controller workload available, `certificates.cert-manager.io`
/// established) and at least one Issuer or ClusterIssuer exists (Ready, where reported).
fn autocerts(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: cert-manager CRDs, controller workload and Issuers/ClusterIssuers";
    let crds = need!(ctx.s.crds, method);
    let (workloads, problems) = ctx.s.workloads();
    let crd = crds.iter().find(|c| c.name == ctx.config.cert_manager.crd);
    let controllers: Vec<&WorkloadRecord> = workloads
        .iter()
        .copied()
        .filter(|w| {
            w.images.iter().any(|i| {
                ctx.config
                    .cert_manager
                    .images
                    .iter()
                    .any(|p| image_matches(p, i))
            })
        })
        .collect();
    let mut issuers = Vec::new();
    let mut issuer_problems = Vec::new();
    for key in ["issuers.cert-manager.io", "clusterissuers.cert-manager.io"] {
        match ctx.s.custom_resources.get(key) {
            Some(Read::Ok { value }) => issuers.extend(value.iter()),
            Some(other) => issuer_problems.extend(other.problem()),
            None => {}
        }
    }
    let ready_issuers: Vec<Value> = issuers
        .iter()
        .filter(|i| i.ready != Some(false))
        .map(
            |i| json!({"kind": i.kind, "namespace": i.namespace, "name": i.name, "ready": i.ready}),
        )
        .collect();
    let d = match crd {
        None => Decision::new(
            Outcome::No,
            method,
            format!(
                "cert-manager is not installed (no CRD {})",
                ctx.config.cert_manager.crd
            ),
        ),
        Some(c) if !c.established => Decision::new(
            Outcome::No,
            method,
            format!("CRD {} is not established", c.name),
        ),
        Some(_) if controllers.is_empty() && !problems.is_empty() => Decision::unknown(
            method,
            format!(
                "cannot see the cert-manager controller: {}",
                problems.join("; ")
            ),
        ),
        Some(_) if controllers.is_empty() => Decision::new(
            Outcome::No,
            method,
            "cert-manager CRDs exist but no cert-manager controller runs",
        ),
        Some(_) if !controllers.iter().any(|w| w.healthy()) => Decision::new(
            Outcome::No,
            method,
            "the cert-manager controller is not available",
        ),
        Some(_) if ready_issuers.is_empty() && !issuer_problems.is_empty() => Decision::unknown(
            method,
            format!("cannot read issuers: {}", issuer_problems.join("; ")),
        ),
        Some(_) if ready_issuers.is_empty() => Decision::new(
            Outcome::No,
            method,
            "cert-manager runs but no ready Issuer or ClusterIssuer exists",
        ),
        Some(_) => Decision::new(
            Outcome::Yes,
            method,
            format!(
                "cert-manager runs with {} ready issuer(s)",
                ready_issuers.len()
            ),
        ),
    };
    d.with(
        "controllers",
        json!(
            controllers
                .iter()
                .map(|w| workload_json(w))
                .collect::<Vec<_>>()
        ),
    )
    .with("issuers", json!(ready_issuers))
}

/// *Inferred*: a known log agent (`logAgents`) runs as an available workload. Backends (Loki,
/// Elasticsearch...) are reported as evidence.
fn logs(ctx: &Ctx<'_>) -> Decision {
    let method = "read-only: workloads matching the known log agents (logAgents in config)";
    let (workloads, problems) = ctx.s.workloads();
    let find = |list: &[Matcher]| -> Vec<Value> {
        list.iter()
            .flat_map(|m| {
                workloads
                    .iter()
                    .filter(move |w| workload_matches(m, w))
                    .map(move |w| {
                        let mut v = workload_json(w);
                        v["component"] = json!(m.name);
                        v["healthy"] = json!(w.healthy());
                        v
                    })
            })
            .collect()
    };
    let agents = find(&ctx.config.log_agents);
    let backends = find(&ctx.config.log_backends);
    let healthy: Vec<&Value> = agents
        .iter()
        .filter(|a| a["healthy"] == json!(true))
        .collect();
    let d = if let Some(a) = healthy.first() {
        Decision::new(
            Outcome::Yes,
            method,
            format!(
                "{} runs ({} {}/{})",
                a["component"].as_str().unwrap_or_default(),
                a["kind"].as_str().unwrap_or_default(),
                a["namespace"].as_str().unwrap_or_default(),
                a["name"].as_str().unwrap_or_default()
            ),
        )
    } else if !problems.is_empty() {
        Decision::unknown(
            method,
            format!(
                "no available log agent seen, and workloads could not all be read: {}",
                problems.join("; ")
            ),
        )
    } else if !agents.is_empty() {
        Decision::new(
            Outcome::No,
            method,
            "a log agent is deployed but not available",
        )
    } else {
        Decision::new(Outcome::No, method, "no known log agent runs")
    };
    d.with("agents", json!(agents))
        .with("backends", json!(backends))
}

/// metrics-server only: APIService `v1beta1.metrics.k8s.io` with `Available=True`.
fn metrics(ctx: &Ctx<'_>) -> Decision {
    let name = &ctx.config.metrics_api_service;
    let method = format!("read-only: APIService {name} Available");
    let services = need!(ctx.s.api_services, method);
    match services.iter().find(|a| &a.name == name) {
        None => Decision::new(Outcome::No, method, format!("APIService {name} is not registered: metrics-server is not installed")),
        Some(a) => Decision::yes_if(
            a.available == Some(true),
            method.clone(),
            if a.available == Some(true) { format!("{name} is available") } else { format!("{name} is not available: {}", a.message) },
        )
        .with("apiService", json!({"name": a.name, "service": a.service, "available": a.available, "message": a.message})),
    }
}

// ------------------------------------------------------------------------------------------------
// Validation

/// This binary's SHA-256 against the hashes published in signed release data.
///
/// - listed in signed data: YES;
/// - a self-built binary (not built by the release pipeline) that no signed data lists: SKIPPED:
///   there is no published hash to compare with, and that is not a failure of the cluster;
/// - a release build that signed data does not list: NO (a changed binary, or data of another
///   release: the operator should look);
/// - a release build without signed data: UNKNOWN (nothing to compare with; fetch it).
fn shavalidation(ctx: &Ctx<'_>) -> Decision {
    let signed = ctx.release.signed_by.as_deref();
    let method = match signed {
        Some(key) => format!(
            "SHA-256 of this binary against signed release data ({}, {}, signed by {key})",
            ctx.release.origin, ctx.release.date
        ),
        None => format!(
            "SHA-256 of this binary; no signed release data ({} has no hashes)",
            ctx.release.origin
        ),
    };
    let Some(sha) = &ctx.inputs.binary_sha256 else {
        return Decision::new(
            Outcome::Unknown,
            method,
            "could not read this program's own binary",
        );
    };
    let known: BTreeSet<&str> = if signed.is_some() {
        ctx.release
            .checker
            .releases
            .iter()
            .flat_map(|r| r.sha256.iter().map(String::as_str))
            .collect()
    } else {
        BTreeSet::new()
    };
    let d = match ctx.release.release_with_hash(sha) {
        Some(r) => Decision::new(
            Outcome::Yes,
            method,
            format!("matches published release {}", r.version),
        ),
        None if !ctx.inputs.release_build => Decision::skipped(
            SkipReason::SelfBuilt,
            method,
            "self-built binary: not built by the haven release pipeline, so no published hash exists to compare with",
        ),
        None if signed.is_none() => Decision::new(
            Outcome::Unknown,
            method,
            format!(
                "no signed release data to compare with: put {} and its .minisig next to the binary, give them with --release-data, or run --update-release-data",
                crate::release::RELEASE_DATA_FILE
            ),
        ),
        None => Decision::new(
            Outcome::No,
            method,
            "this release build's hash is not among the published hashes: the binary was changed, or the release data is of another release",
        ),
    };
    d.with("sha256", json!(sha))
        .with("releaseBuild", json!(ctx.inputs.release_build))
        .with("publishedHashes", json!(known.len()))
}
