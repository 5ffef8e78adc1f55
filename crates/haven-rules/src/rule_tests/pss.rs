//! Pod Security, one positive case per check: each id is asserted through the engine with its
//! path and upstream's wording. (Every revision of every check is covered by the upstream
//! conformance fixtures in `haven-pss/tests/conformance.rs` and by `haven-pss`'s unit tests.)
//! Each pod passes restricted but for the one thing its case is about.

use haven_pss::Level;

use super::{Case, at, case};

pub(super) fn cases() -> Vec<Case> {
    let mut v = vec![
        case(
            "pss.appArmorProfile",
            "an Unconfined AppArmor profile",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
    appArmorProfile: {type: Unconfined}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.securityContext.appArmorProfile.type",
                    8,
                    "forbidden AppArmor profile (pod must not set AppArmor profile type to \"Unconfined\") [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.capabilities_baseline",
            "an added capability beyond the default set",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - name: app
    image: app:1
    securityContext:
      capabilities: {add: [NET_ADMIN, CHOWN]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.capabilities.add[0]",
                    9,
                    "non-default capabilities (container \"app\" must not include \"NET_ADMIN\" in securityContext.capabilities.add) [Pod Security baseline:v1.37]",
                )
                .container("app"),
            ],
        )
        .pss(Level::Baseline),
        case(
            "pss.hostNamespaces",
            "the host's network and PID namespaces",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  hostNetwork: true
  hostPID: true
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.hostNetwork",
                    5,
                    "host namespaces (hostNetwork=true) [Pod Security restricted:v1.37]",
                ),
                at(
                    "app/Pod/p",
                    "spec.hostPID",
                    6,
                    "host namespaces (hostPID=true) [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.hostPathVolumes",
            "a hostPath volume",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - name: app
    image: app:1
  volumes:
  - name: root
    hostPath: {path: /}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.volumes[0].hostPath",
                    10,
                    "hostPath volumes (volume \"root\") [Pod Security baseline:v1.37]",
                ),
            ],
        )
        .pss(Level::Baseline),
        case(
            "pss.hostPorts",
            "a host port",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    ports: [{containerPort: 80, hostPort: 80}]
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].ports[0].hostPort",
                    11,
                    "hostPort (container \"app\" uses hostPort 80) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.hostProbesAndHostLifecycle",
            "a probe that targets another host",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    livenessProbe:
      httpGet: {host: 169.254.169.254, path: /, port: 80}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].livenessProbe.httpGet.host",
                    12,
                    "probe or lifecycle host (container \"app\" uses probe or lifecycle host \"169.254.169.254\") [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.privileged",
            "a privileged container",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      privileged: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.privileged",
                    12,
                    "privileged (container \"app\" must not set securityContext.privileged=true) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.procMount",
            "an Unmasked /proc",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - name: app
    image: app:1
    securityContext:
      procMount: Unmasked
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.procMount",
                    9,
                    "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\") [Pod Security baseline:v1.37]",
                )
                .container("app"),
            ],
        )
        .pss(Level::Baseline),
        case(
            "pss.seLinuxOptions",
            "a custom SELinux type",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
    seLinuxOptions: {type: spc_t}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.securityContext.seLinuxOptions.type",
                    8,
                    "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\") [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.seccompProfile_baseline",
            "an Unconfined seccomp profile",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - name: app
    image: app:1
    securityContext:
      seccompProfile: {type: Unconfined}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.seccompProfile.type",
                    9,
                    "seccompProfile (container \"app\" must not set securityContext.seccompProfile.type to \"Unconfined\") [Pod Security baseline:v1.37]",
                )
                .container("app"),
            ],
        )
        .pss(Level::Baseline),
        case(
            "pss.sysctls",
            "an unsafe sysctl",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
    sysctls:
    - {name: net.ipv4.ip_local_port_range, value: "1024 65535"}
    - {name: kernel.msgmax, value: "65536"}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.securityContext.sysctls[1].name",
                    10,
                    "forbidden sysctls (kernel.msgmax) [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.windowsHostProcess",
            "a Windows HostProcess container",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      windowsOptions: {hostProcess: true}
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.windowsOptions.hostProcess",
                    12,
                    "hostProcess (container \"app\" must not set securityContext.windowsOptions.hostProcess=true) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.allowPrivilegeEscalation",
            "privilege escalation not turned off",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.allowPrivilegeEscalation",
                    11,
                    "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.capabilities_restricted",
            "capabilities not dropped, one added",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {add: [SYS_TIME]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.capabilities.drop",
                    13,
                    "unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]) [Pod Security restricted:v1.37]",
                )
                .container("app"),
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.capabilities.add[0]",
                    13,
                    "unrestricted capabilities (container \"app\" must not include \"SYS_TIME\" in securityContext.capabilities.add) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.procMount_restricted",
            "an Unmasked /proc",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      procMount: Unmasked
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.procMount",
                    12,
                    "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\") [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.restrictedVolumes",
            "a volume type restricted does not allow",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
  volumes:
  - name: config
    configMap: {name: settings}
  - name: share
    nfs: {server: nfs.example.nl, path: /export}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.volumes[1].nfs",
                    18,
                    "restricted volume types (volume \"share\" uses restricted volume type \"nfs\") [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.runAsNonRoot",
            "runAsNonRoot not set",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.runAsNonRoot",
                    10,
                    "runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true) [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
        case(
            "pss.runAsUser",
            "running as user 0",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 0
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.securityContext.runAsUser",
                    7,
                    "runAsUser=0 (pod must not set runAsUser=0) [Pod Security restricted:v1.37]",
                ),
            ],
        ),
        case(
            "pss.seccompProfile_restricted",
            "no seccomp profile",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].securityContext.seccompProfile",
                    10,
                    "seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\") [Pod Security restricted:v1.37]",
                )
                .container("app"),
            ],
        ),
    ];
    v.push(case(
        "pss.*",
        "a pod that passes restricted has no Pod Security finding at all",
        r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  initContainers:
  - name: init
    image: init:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
  containers:
  - name: app
    image: app:1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#,
        vec![],
    ));
    v
}
