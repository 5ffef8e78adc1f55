use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use crate::checks::{COUNT, DEFS};
use crate::fmt_util::{annotation_path, go_quote};
use crate::{
    Level, Version, Violation, active_checks, check_info, checks, evaluate, is_allowed,
    overridden_by,
};

fn v(minor: u32) -> Version {
    Version::new(minor)
}

/// A pod from `{"metadata": .., "spec": ..}`.
fn pod(value: Value) -> (ObjectMeta, PodSpec) {
    let mut value = value;
    value["apiVersion"] = json!("v1");
    value["kind"] = json!("Pod");
    let pod: Pod = serde_json::from_value(value).expect("valid pod");
    (pod.metadata, pod.spec.unwrap_or_default())
}

fn eval(level: Level, version: Version, value: Value) -> Vec<Violation> {
    let (meta, spec) = pod(value);
    let out = evaluate(level, version, &meta, &spec);
    assert_eq!(out.is_empty(), is_allowed(level, version, &meta, &spec));
    out
}

fn ids(vs: &[Violation]) -> Vec<&'static str> {
    vs.iter().map(|v| v.check).collect()
}

fn find<'a>(vs: &'a [Violation], id: &str) -> &'a Violation {
    vs.iter()
        .find(|v| v.check == id)
        .unwrap_or_else(|| panic!("no {id} violation in {vs:#?}"))
}

/// A container that passes restricted.
fn good(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.k8s.io/pause",
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
        },
    })
}

/// A pod spec that passes restricted at every version.
fn restricted_spec() -> Value {
    json!({
        "containers": [good("app")],
        "initContainers": [good("init")],
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
    })
}

#[test]
fn restricted_base_pod_passes_every_version() {
    for version in Version::all() {
        for level in [Level::Baseline, Level::Restricted] {
            let out = eval(level, version, json!({"spec": restricted_spec()}));
            assert!(out.is_empty(), "{level} {version}: {out:#?}");
        }
    }
}

#[test]
fn registry_tables_are_consistent() {
    let all = checks();
    assert_eq!(all.len(), COUNT);
    for (i, c) in all.iter().enumerate() {
        assert_eq!(DEFS[i].level, c.level, "{}", c.id);
        // Revisions strictly increasing.
        assert!(
            DEFS[i].revisions.windows(2).all(|w| w[0].0 < w[1].0),
            "{}",
            c.id
        );
        assert!(!c.title.is_empty() && !c.rationale.is_empty() && !c.fix.is_empty());
        assert_eq!(check_info(c.id), Some(c));
    }
    // Upstream order: baseline ids sorted byte-wise, then restricted ids sorted.
    let baseline: Vec<&str> = all
        .iter()
        .filter(|c| c.level == Level::Baseline)
        .map(|c| c.id)
        .collect();
    let restricted: Vec<&str> = all
        .iter()
        .filter(|c| c.level == Level::Restricted)
        .map(|c| c.id)
        .collect();
    let mut sorted = baseline.clone();
    sorted.sort_unstable();
    assert_eq!(baseline, sorted);
    let mut sorted = restricted.clone();
    sorted.sort_unstable();
    assert_eq!(restricted, sorted);
    assert_eq!(
        [baseline, restricted].concat(),
        all.iter().map(|c| c.id).collect::<Vec<_>>()
    );
}

#[test]
fn overrides_follow_upstream() {
    assert_eq!(
        overridden_by("hostPathVolumes", v(0)),
        Some("restrictedVolumes")
    );
    assert_eq!(overridden_by("seccompProfile_baseline", v(18)), None);
    assert_eq!(
        overridden_by("seccompProfile_baseline", v(19)),
        Some("seccompProfile_restricted")
    );
    assert_eq!(overridden_by("capabilities_baseline", v(21)), None);
    assert_eq!(
        overridden_by("capabilities_baseline", v(22)),
        Some("capabilities_restricted")
    );
    assert_eq!(overridden_by("procMount", v(34)), None);
    assert_eq!(
        overridden_by("procMount", v(35)),
        Some("procMount_restricted")
    );
    assert_eq!(overridden_by("privileged", Version::LATEST), None);

    let active: Vec<&str> = active_checks(Level::Restricted, Version::LATEST)
        .map(|c| c.id)
        .collect();
    for gone in [
        "hostPathVolumes",
        "capabilities_baseline",
        "seccompProfile_baseline",
        "procMount",
    ] {
        assert!(!active.contains(&gone), "{gone}");
    }
    assert_eq!(active.len(), 15);
    assert_eq!(active_checks(Level::Baseline, Version::LATEST).count(), 12);
    assert_eq!(active_checks(Level::Baseline, v(0)).count(), 11);
    // v1.0 restricted: no allowPrivilegeEscalation, capabilities_restricted, runAsUser,
    // seccompProfile_restricted yet; baseline capabilities and seccomp still run.
    let active: Vec<&str> = active_checks(Level::Restricted, v(0))
        .map(|c| c.id)
        .collect();
    assert!(active.contains(&"capabilities_baseline"));
    assert!(active.contains(&"seccompProfile_baseline"));
    assert!(!active.contains(&"allowPrivilegeEscalation"));
    assert!(!active.contains(&"runAsUser"));

    // The same NET_RAW pod is reported by the baseline check before v1.22 and by the
    // restricted one from v1.22.
    let mut spec = restricted_spec();
    spec["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["NET_RAW"]);
    let out = eval(Level::Restricted, v(21), json!({"spec": spec.clone()}));
    assert_eq!(ids(&out), ["capabilities_baseline"]);
    assert_eq!(out[0].reason, "non-default capabilities");
    let out = eval(Level::Restricted, v(22), json!({"spec": spec}));
    assert_eq!(ids(&out), ["capabilities_restricted"]);
    assert_eq!(
        out[0].detail,
        r#"container "app" must not include "NET_RAW" in securityContext.capabilities.add"#
    );
}

#[test]
fn ephemeral_containers_are_checked() {
    let mut spec = restricted_spec();
    spec["ephemeralContainers"] = json!([
        {"name": "debugger", "image": "busybox",
         "securityContext": {"privileged": true, "runAsUser": 0}}
    ]);
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        json!({"spec": spec.clone()}),
    );
    assert_eq!(ids(&out), ["privileged"]);
    assert_eq!(
        out[0].detail,
        r#"container "debugger" must not set securityContext.privileged=true"#
    );
    assert_eq!(out[0].fields.len(), 1);
    assert_eq!(
        out[0].fields[0].path,
        "spec.ephemeralContainers[0].securityContext.privileged"
    );
    assert_eq!(out[0].fields[0].container.as_deref(), Some("debugger"));

    let out = eval(Level::Restricted, Version::LATEST, json!({"spec": spec}));
    assert_eq!(
        ids(&out),
        [
            "privileged",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsUser"
        ]
    );
    let ape = find(&out, "allowPrivilegeEscalation");
    assert_eq!(
        ape.detail,
        r#"container "debugger" must set securityContext.allowPrivilegeEscalation=false"#
    );
    assert_eq!(
        ape.fields[0].path,
        "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation"
    );
    let user = find(&out, "runAsUser");
    assert_eq!(
        user.fields[0].path,
        "spec.ephemeralContainers[0].securityContext.runAsUser"
    );
}

#[test]
fn visit_order_is_init_regular_ephemeral() {
    let out = eval(
        Level::Restricted,
        Version::LATEST,
        json!({"spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a"}, {"name": "b"}],
            "initContainers": [{"name": "i"}],
            "ephemeralContainers": [{"name": "e"}],
        }}),
    );
    let ape = find(&out, "allowPrivilegeEscalation");
    assert_eq!(
        ape.detail,
        r#"containers "i", "a", "b", "e" must set securityContext.allowPrivilegeEscalation=false"#
    );
    let paths: Vec<&str> = ape.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.initContainers[0].securityContext.allowPrivilegeEscalation",
            "spec.containers[0].securityContext.allowPrivilegeEscalation",
            "spec.containers[1].securityContext.allowPrivilegeEscalation",
            "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation",
        ]
    );
    let caps = find(&out, "capabilities_restricted");
    assert_eq!(
        caps.detail,
        r#"containers "i", "a", "b", "e" must set securityContext.capabilities.drop=["ALL"]"#
    );
}

#[test]
fn host_users_false_relaxations_start_at_v1_35() {
    // Restricted pod in a user namespace that runs as root, unmasked /proc.
    let spec = json!({
        "hostUsers": false,
        "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app",
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "procMount": "Unmasked",
            },
        }],
    });

    // v1.34: no relaxation at all.
    let out = eval(Level::Baseline, v(34), json!({"spec": spec.clone()}));
    assert_eq!(ids(&out), ["procMount"]);
    assert_eq!(
        out[0].detail,
        r#"container "app" must not set securityContext.procMount to "Unmasked""#
    );
    let out = eval(Level::Restricted, v(34), json!({"spec": spec.clone()}));
    assert_eq!(ids(&out), ["procMount", "runAsNonRoot", "runAsUser"]);
    assert_eq!(
        find(&out, "runAsNonRoot").detail,
        r#"pod or container "app" must set securityContext.runAsNonRoot=true"#
    );
    assert_eq!(
        find(&out, "runAsUser").detail,
        "pod must not set runAsUser=0"
    );

    // v1.35: baseline procMount, runAsNonRoot and runAsUser relaxed; restricted procMount
    // check (which overrides the baseline one) still forbids Unmasked.
    let out = eval(Level::Baseline, v(35), json!({"spec": spec.clone()}));
    assert!(out.is_empty(), "{out:#?}");
    let out = eval(Level::Restricted, v(35), json!({"spec": spec.clone()}));
    assert_eq!(ids(&out), ["procMount_restricted"]);
    assert_eq!(out[0].level, Level::Restricted);
    assert_eq!(out[0].reason, "procMount");
    assert_eq!(
        out[0].fields[0].path,
        "spec.containers[0].securityContext.procMount"
    );

    // Without hostUsers: false nothing is relaxed at v1.35 either.
    let mut host = spec.clone();
    host["hostUsers"] = json!(true);
    let out = eval(Level::Restricted, v(35), json!({"spec": host.clone()}));
    assert_eq!(
        ids(&out),
        ["procMount_restricted", "runAsNonRoot", "runAsUser"]
    );
    let out = eval(Level::Baseline, v(35), json!({"spec": host}));
    assert_eq!(ids(&out), ["procMount"]);
}

#[test]
fn version_selection_picks_newest_revision() {
    // allowPrivilegeEscalation: windows pods exempt from v1.25 (1.8 revision before).
    let spec = json!({
        "os": {"name": "windows"},
        "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "app"}],
    });
    let out = eval(Level::Restricted, v(24), json!({"spec": spec.clone()}));
    assert_eq!(
        ids(&out),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    let out = eval(Level::Restricted, v(25), json!({"spec": spec.clone()}));
    assert!(out.is_empty(), "{out:#?}");
    // Before v1.8 the check does not exist at all.
    let out = eval(Level::Restricted, v(7), json!({"spec": spec}));
    assert!(out.is_empty(), "{out:#?}");

    // seccompProfile_baseline: annotations until v1.18, the field from v1.19.
    let value = json!({
        "metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
        "spec": {"containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]},
    });
    let out = eval(Level::Baseline, v(18), value.clone());
    assert_eq!(ids(&out), ["seccompProfile_baseline"]);
    assert_eq!(
        out[0].detail,
        r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#
    );
    assert_eq!(
        out[0].fields[0].path,
        r#"metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]"#
    );
    let out = eval(Level::Baseline, v(19), value);
    assert_eq!(
        out[0].detail,
        r#"container "app" must not set securityContext.seccompProfile.type to "Unconfined""#
    );

    // hostProbesAndHostLifecycle exists from v1.34.
    let value = json!({"spec": {"containers": [{"name": "app",
        "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]}});
    assert!(eval(Level::Baseline, v(33), value.clone()).is_empty());
    let out = eval(Level::Baseline, v(34), value);
    assert_eq!(
        out[0].detail,
        r#"container "app" uses probe or lifecycle host "10.0.0.1""#
    );
    assert_eq!(
        out[0].fields[0].path,
        "spec.containers[0].livenessProbe.httpGet.host"
    );

    // seLinuxOptions: container_engine_t allowed from v1.31.
    let value = json!({"spec": {"containers": [{"name": "app",
        "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]}});
    let out = eval(Level::Baseline, v(30), value.clone());
    assert_eq!(
        out[0].detail,
        r#"container "app" set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
    );
    assert!(eval(Level::Baseline, v(31), value).is_empty());

    // runAsUser exists from v1.23.
    let mut spec = restricted_spec();
    spec["securityContext"]["runAsUser"] = json!(0);
    assert!(eval(Level::Restricted, v(22), json!({"spec": spec.clone()})).is_empty());
    assert_eq!(
        ids(&eval(Level::Restricted, v(23), json!({"spec": spec}))),
        ["runAsUser"]
    );
}

#[test]
fn sysctl_list_grows() {
    let added: [(u32, &[&str]); 4] = [
        (27, &["net.ipv4.ip_local_reserved_ports"]),
        (
            29,
            &[
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            ],
        ),
        (32, &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]),
        (
            37,
            &[
                "net.ipv4.tcp_slow_start_after_idle",
                "net.ipv4.tcp_notsent_lowat",
            ],
        ),
    ];
    let with = |names: &[&str]| {
        let sysctls: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        json!({"spec": {"containers": [{"name": "app"}], "securityContext": {"sysctls": sysctls}}})
    };
    // The 1.0 list is allowed everywhere.
    let base = [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    for version in Version::all() {
        assert!(eval(Level::Baseline, version, with(&base)).is_empty());
    }
    for (minor, names) in added {
        let out = eval(Level::Baseline, v(minor - 1), with(names));
        assert_eq!(ids(&out), ["sysctls"], "v1.{}", minor - 1);
        assert_eq!(out[0].reason, "forbidden sysctls");
        assert_eq!(out[0].detail, names.join(", "));
        assert_eq!(out[0].fields.len(), names.len());
        assert_eq!(
            out[0].fields[0].path,
            "spec.securityContext.sysctls[0].name"
        );
        assert!(
            eval(Level::Baseline, v(minor), with(names)).is_empty(),
            "v1.{minor}"
        );
        assert!(
            eval(Level::Restricted, Version::LATEST, {
                let mut p = with(names);
                p["spec"] = {
                    let mut s = restricted_spec();
                    s["securityContext"]["sysctls"] =
                        p["spec"]["securityContext"]["sysctls"].take();
                    s
                };
                p
            })
            .is_empty()
        );
    }
    // Unknown sysctls stay in order, duplicates included (upstream uses a slice).
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        with(&["b", "a", "b", "kernel.shm_rmid_forced"]),
    );
    assert_eq!(out[0].detail, "b, a, b");
    let paths: Vec<&str> = out[0].fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.securityContext.sysctls[0].name",
            "spec.securityContext.sysctls[1].name",
            "spec.securityContext.sysctls[2].name"
        ]
    );
}

#[test]
fn field_paths() {
    let out = eval(
        Level::Restricted,
        Version::LATEST,
        json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
            }},
            "spec": {
                "hostNetwork": true,
                "hostPID": true,
                "securityContext": {
                    "runAsNonRoot": true,
                    "seccompProfile": {"type": "RuntimeDefault"},
                    "seLinuxOptions": {"user": "u", "role": "r", "type": "spc_t"},
                    "windowsOptions": {"hostProcess": true},
                },
                "initContainers": [good("init"), {
                    "name": "init2",
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]},
                        "appArmorProfile": {"type": "Unconfined"},
                    },
                    "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081}],
                    "lifecycle": {"preStop": {"tcpSocket": {"host": "h", "port": 1}}},
                }],
                "containers": [good("app")],
                "volumes": [
                    {"name": "ok", "emptyDir": {}},
                    {"name": "host", "hostPath": {"path": "/"}},
                    {"name": "nfs", "nfs": {"server": "s", "path": "/"}},
                    {"name": "defaulted"},
                ],
            },
        }),
    );
    let all: Vec<(&str, &str, Option<&str>)> = out
        .iter()
        .flat_map(|v| {
            v.fields
                .iter()
                .map(move |f| (v.check, f.path.as_str(), f.container.as_deref()))
        })
        .collect();
    assert_eq!(
        all,
        [
            (
                "appArmorProfile",
                "spec.initContainers[1].securityContext.appArmorProfile.type",
                Some("init2")
            ),
            (
                "appArmorProfile",
                r#"metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]"#,
                Some("app")
            ),
            ("hostNamespaces", "spec.hostNetwork", None),
            ("hostNamespaces", "spec.hostPID", None),
            (
                "hostPorts",
                "spec.initContainers[1].ports[1].hostPort",
                Some("init2")
            ),
            (
                "hostProbesAndHostLifecycle",
                "spec.initContainers[1].lifecycle.preStop.tcpSocket.host",
                Some("init2")
            ),
            (
                "seLinuxOptions",
                "spec.securityContext.seLinuxOptions.type",
                None
            ),
            (
                "seLinuxOptions",
                "spec.securityContext.seLinuxOptions.user",
                None
            ),
            (
                "seLinuxOptions",
                "spec.securityContext.seLinuxOptions.role",
                None
            ),
            (
                "windowsHostProcess",
                "spec.securityContext.windowsOptions.hostProcess",
                None
            ),
            (
                "capabilities_restricted",
                "spec.initContainers[1].securityContext.capabilities.add[1]",
                Some("init2")
            ),
            ("restrictedVolumes", "spec.volumes[1].hostPath", None),
            ("restrictedVolumes", "spec.volumes[2].nfs", None),
        ]
    );
    let details: Vec<(&str, &str)> = out
        .iter()
        .map(|v| (v.reason.as_str(), v.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            (
                "forbidden AppArmor profiles",
                r#"container "init2" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/app="unconfined"""#
            ),
            ("host namespaces", "hostNetwork=true, hostPID=true"),
            ("hostPort", r#"container "init2" uses hostPort 8081"#),
            (
                "probe or lifecycle host",
                r#"container "init2" uses probe or lifecycle host "h""#
            ),
            (
                "seLinuxOptions",
                r#"pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set"#
            ),
            (
                "hostProcess",
                "pod must not set securityContext.windowsOptions.hostProcess=true"
            ),
            (
                "unrestricted capabilities",
                r#"container "init2" must not include "SYS_ADMIN" in securityContext.capabilities.add"#
            ),
            (
                "restricted volume types",
                r#"volumes "host", "nfs" use restricted volume types "hostPath", "nfs""#
            ),
        ]
    );
    // Per-field messages are the detail upstream would print for that field alone.
    let sel = find(&out, "seLinuxOptions");
    assert_eq!(
        sel.fields[1].message,
        "pod set forbidden securityContext.seLinuxOptions: user may not be set"
    );
    let vols = find(&out, "restrictedVolumes");
    assert_eq!(
        vols.fields[1].message,
        r#"volume "nfs" uses restricted volume type "nfs""#
    );

    // Baseline sees the hostPath volume through hostPathVolumes instead.
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        json!({"spec": {"containers": [{"name": "a"}], "volumes": [
            {"name": "x", "hostPath": {"path": "/"}}, {"name": "y", "hostPath": {"path": "/"}}]}}),
    );
    assert_eq!(out[0].detail, r#"volumes "x", "y""#);
    assert_eq!(out[0].fields[1].path, "spec.volumes[1].hostPath");
    assert_eq!(out[0].fields[1].message, r#"volume "y""#);
}

#[test]
fn annotation_path_quoting() {
    assert_eq!(
        annotation_path("container.apparmor.security.beta.kubernetes.io/app"),
        r#"metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]"#
    );
    assert_eq!(
        annotation_path("plain-key"),
        "metadata.annotations.plain-key"
    );
    assert_eq!(annotation_path(r#"a"b"#), r#"metadata.annotations["a\"b"]"#);
    assert_eq!(annotation_path("a[0]"), r#"metadata.annotations["a[0]"]"#);
}

#[test]
fn aggregation_matches_upstream() {
    // hostPorts: ports are a string set, sorted as strings.
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        json!({"spec": {"containers": [{"name": "otel", "ports": [
            {"containerPort": 1, "hostPort": 9411},
            {"containerPort": 2, "hostPort": 14250},
            {"containerPort": 3, "hostPort": 4317},
            {"containerPort": 4, "hostPort": 14250},
        ]}]}}),
    );
    assert_eq!(
        out[0].detail,
        r#"container "otel" uses hostPorts 14250, 4317, 9411"#
    );
    assert_eq!(out[0].fields.len(), 4);

    // hostProbesAndHostLifecycle: containers are a set too (sorted), unlike other checks.
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        json!({"spec": {"containers": [
            {"name": "z", "readinessProbe": {"tcpSocket": {"host": "b", "port": 1}}},
            {"name": "a", "startupProbe": {"httpGet": {"host": "a", "port": 1}},
             "lifecycle": {"postStart": {"httpGet": {"host": "b", "port": 1}}}},
        ]}}),
    );
    assert_eq!(
        out[0].detail,
        r#"containers "a", "z" use probe or lifecycle hosts "a", "b""#
    );

    // runAsNonRoot: explicit false wins over implicit.
    let out = eval(
        Level::Restricted,
        Version::LATEST,
        json!({"spec": {
            "securityContext": {"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [good("a"), {
                "name": "b",
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]},
                    "runAsNonRoot": false,
                    "runAsUser": 0,
                },
            }],
        }}),
    );
    assert_eq!(
        find(&out, "runAsNonRoot").detail,
        r#"pod and container "b" must not set securityContext.runAsNonRoot=false"#
    );
    assert_eq!(
        find(&out, "runAsUser").detail,
        r#"container "b" must not set runAsUser=0"#
    );

    // seccomp: explicit bad values at pod and container level.
    let out = eval(
        Level::Restricted,
        Version::LATEST,
        json!({"spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "Unconfined"}},
            "containers": [good("a"), {
                "name": "b",
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "Bogus"},
                },
            }],
        }}),
    );
    assert_eq!(ids(&out), ["seccompProfile_restricted"]);
    assert_eq!(
        out[0].detail,
        r#"pod and container "b" must not set securityContext.seccompProfile.type to "Bogus", "Unconfined""#
    );

    // capabilities_restricted: both halves joined with "; ".
    let out = eval(
        Level::Restricted,
        Version::LATEST,
        json!({"spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {"name": "a", "securityContext": {"allowPrivilegeEscalation": false}},
                {"name": "b", "securityContext": {"allowPrivilegeEscalation": false,
                    "capabilities": {"add": ["SYS_TIME", "NET_ADMIN"]}}},
            ],
        }}),
    );
    assert_eq!(
        out[0].detail,
        r#"containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "NET_ADMIN", "SYS_TIME" in securityContext.capabilities.add"#
    );
    let paths: Vec<&str> = out[0].fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.containers[0].securityContext.capabilities.drop",
            "spec.containers[1].securityContext.capabilities.drop",
            "spec.containers[1].securityContext.capabilities.add[0]",
            "spec.containers[1].securityContext.capabilities.add[1]",
        ]
    );

    // AppArmor annotations: sorted by "key=value", values go-quoted.
    let out = eval(
        Level::Baseline,
        Version::LATEST,
        json!({
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
                "container.apparmor.security.beta.kubernetes.io/a-b": "x\ty",
                "container.apparmor.security.beta.kubernetes.io/c": "localhost/foo",
                "container.apparmor.security.beta.kubernetes.io/d": "",
                "other": "unconfined",
            }},
            "spec": {"containers": [{"name": "a"}]},
        }),
    );
    assert_eq!(out[0].reason, "forbidden AppArmor profiles");
    assert_eq!(
        out[0].detail,
        r#"annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a-b="x\ty"", "container.apparmor.security.beta.kubernetes.io/a="unconfined"""#
    );
}

#[test]
fn empty_volume_is_defaulted_to_empty_dir() {
    let mut spec = restricted_spec();
    spec["volumes"] = json!([{"name": "v"}]);
    assert!(eval(Level::Restricted, Version::LATEST, json!({"spec": spec})).is_empty());
}

#[test]
fn go_quoting() {
    assert_eq!(go_quote("plain"), r#""plain""#);
    assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
    assert_eq!(go_quote("\u{1}\n\u{7f}"), r#""\x01\n\x7f""#);
    assert_eq!(go_quote("é\u{a0}"), "\"é\\u00a0\"");
}

#[test]
fn version_and_level_parsing() {
    assert_eq!("latest".parse::<Version>(), Ok(Version::LATEST));
    assert_eq!(Version::LATEST.to_string(), "v1.37");
    assert_eq!("v1.0".parse::<Version>().map(Version::minor), Ok(0));
    assert_eq!("v1.25".parse::<Version>().map(Version::minor), Ok(25));
    for bad in [
        "v1.38", "v1.100", "v1.01", "v2.0", "1.25", "v1.", "v1.-1", "Latest", "",
    ] {
        assert!(bad.parse::<Version>().is_err(), "{bad}");
    }
    assert_eq!(Version::new(99), Version::LATEST);
    assert!(Version::new(24) < Version::new(25));
    assert_eq!(Version::all().count(), 38);
    assert_eq!(
        serde_json::to_string(&Version::new(3)).ok().as_deref(),
        Some("\"v1.3\"")
    );
    assert_eq!(
        serde_json::from_str::<Version>("\"latest\"").ok(),
        Some(Version::LATEST)
    );

    assert_eq!("baseline".parse::<Level>(), Ok(Level::Baseline));
    assert_eq!("restricted".parse::<Level>(), Ok(Level::Restricted));
    assert!("privileged".parse::<Level>().is_err());
    assert!("Baseline".parse::<Level>().is_err());
    assert_eq!(Level::Restricted.to_string(), "restricted");
    assert!(Level::Baseline < Level::Restricted);
}
