//! Titles, rationales and fixes of the checks, in upstream evaluation order.

use crate::checks::COUNT;
use crate::{CheckInfo, Level};

/// Every check, in upstream order: baseline ids sorted, then restricted ids sorted.
/// Index-aligned with `checks::DEFS`.
pub(crate) static CHECKS: [CheckInfo; COUNT] = [
    CheckInfo {
        id: "appArmorProfile",
        level: Level::Baseline,
        title: "AppArmor profile must not be disabled",
        rationale: "An Unconfined AppArmor profile removes the mandatory access control the \
            runtime applies by default, so a compromised process can reach far more of the node.",
        fix: "Remove appArmorProfile (or set its type to RuntimeDefault or Localhost) at pod and \
            container level, and drop container.apparmor.security.beta.kubernetes.io/* \
            annotations whose value is not runtime/default or localhost/<profile>.",
    },
    CheckInfo {
        id: "capabilities_baseline",
        level: Level::Baseline,
        title: "No capabilities beyond the default set",
        rationale: "Capabilities such as NET_RAW, SYS_ADMIN or SYS_PTRACE give a container \
            kernel privileges that are a frequent step in container escapes.",
        fix: "Remove every entry from securityContext.capabilities.add that is not one of \
            AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, \
            SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.",
    },
    CheckInfo {
        id: "hostNamespaces",
        level: Level::Baseline,
        title: "No host namespaces",
        rationale: "Sharing the node's network, PID or IPC namespace lets the pod see and \
            interfere with other workloads and the node itself.",
        fix: "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).",
    },
    CheckInfo {
        id: "hostPathVolumes",
        level: Level::Baseline,
        title: "No hostPath volumes",
        rationale: "A hostPath volume exposes the node's file system to the pod, which can be \
            used to read secrets of other pods or to take over the node.",
        fix: "Replace hostPath volumes with emptyDir, configMap, secret, projected or a \
            PersistentVolumeClaim.",
    },
    CheckInfo {
        id: "hostPorts",
        level: Level::Baseline,
        title: "No host ports",
        rationale: "A hostPort binds directly on the node's network interface, bypassing \
            network policies and limiting scheduling.",
        fix: "Remove hostPort from every container port (or set it to 0) and expose the \
            workload through a Service instead.",
    },
    CheckInfo {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        title: "Probes and lifecycle hooks must not target another host",
        rationale: "The kubelet performs probes and lifecycle hooks from the node, so a host \
            field lets a pod make the kubelet send requests to arbitrary addresses.",
        fix: "Remove the host field from httpGet and tcpSocket in livenessProbe, readinessProbe, \
            startupProbe and lifecycle postStart/preStop; the pod IP is then used.",
    },
    CheckInfo {
        id: "privileged",
        level: Level::Baseline,
        title: "No privileged containers",
        rationale: "A privileged container has almost all of the node's capabilities and \
            devices, which is equivalent to root on the node.",
        fix: "Remove securityContext.privileged from every container (or set it to false).",
    },
    CheckInfo {
        id: "procMount",
        level: Level::Baseline,
        title: "Default /proc mount",
        rationale: "The default /proc masks hide kernel interfaces that a container must not \
            reach; an Unmasked /proc exposes them.",
        fix: "Remove securityContext.procMount (or set it to Default). From policy v1.35 \
            baseline allows other values for pods with hostUsers: false.",
    },
    CheckInfo {
        id: "seLinuxOptions",
        level: Level::Baseline,
        title: "No custom SELinux user, role or type",
        rationale: "Setting a custom SELinux user or role, or a privileged type, lifts the \
            SELinux confinement that separates containers from each other and the node.",
        fix: "Remove seLinuxOptions.user and .role, and leave seLinuxOptions.type empty or set \
            it to container_t, container_init_t or container_kvm_t (container_engine_t from \
            v1.31).",
    },
    CheckInfo {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        title: "Seccomp must not be disabled",
        rationale: "An Unconfined seccomp profile gives the container the full kernel system \
            call surface, which widens the attack surface of the node's kernel.",
        fix: "Set securityContext.seccompProfile.type to RuntimeDefault or Localhost, or leave \
            it unset (before v1.19: do not set the seccomp alpha annotations to unconfined).",
    },
    CheckInfo {
        id: "sysctls",
        level: Level::Baseline,
        title: "Only safe sysctls",
        rationale: "Most sysctls are not isolated per pod and can affect every workload on the \
            node or disable security mechanisms.",
        fix: "Remove every entry of spec.securityContext.sysctls that is not in the safe list \
            of the policy version.",
    },
    CheckInfo {
        id: "windowsHostProcess",
        level: Level::Baseline,
        title: "No Windows HostProcess containers",
        rationale: "A Windows HostProcess container runs directly on the node with the node's \
            privileges.",
        fix: "Remove securityContext.windowsOptions.hostProcess at pod and container level (or \
            set it to false).",
    },
    CheckInfo {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        title: "Privilege escalation must be disabled",
        rationale: "Without allowPrivilegeEscalation: false a process can gain more privileges \
            than its parent, for example through set-user-ID binaries.",
        fix: "Set securityContext.allowPrivilegeEscalation: false on every container.",
    },
    CheckInfo {
        id: "capabilities_restricted",
        level: Level::Restricted,
        title: "Drop all capabilities",
        rationale: "Running with the runtime's default capabilities grants more kernel \
            privileges than most applications need.",
        fix: "Set securityContext.capabilities.drop: [\"ALL\"] on every container and add back \
            at most NET_BIND_SERVICE.",
    },
    CheckInfo {
        id: "procMount_restricted",
        level: Level::Restricted,
        title: "Default /proc mount, also in user namespaces",
        rationale: "The restricted profile keeps the default /proc masks even for pods in a \
            user namespace.",
        fix: "Remove securityContext.procMount (or set it to Default) on every container.",
    },
    CheckInfo {
        id: "restrictedVolumes",
        level: Level::Restricted,
        title: "Only restricted volume types",
        rationale: "Volume types other than the core ephemeral and claim-based ones can reach \
            node or external storage directly, outside of the cluster's access control.",
        fix: "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, \
            persistentVolumeClaim, projected and secret volumes.",
    },
    CheckInfo {
        id: "runAsNonRoot",
        level: Level::Restricted,
        title: "Run as non-root",
        rationale: "A container running as root is one kernel bug away from root on the node.",
        fix: "Set securityContext.runAsNonRoot: true on the pod (or on every container) and \
            build the image with a non-root user.",
    },
    CheckInfo {
        id: "runAsUser",
        level: Level::Restricted,
        title: "Must not run as UID 0",
        rationale: "Explicitly running as UID 0 makes the container root, whatever the image says.",
        fix: "Remove runAsUser: 0 at pod and container level, or set a non-zero UID.",
    },
    CheckInfo {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        title: "Seccomp profile required",
        rationale: "Without a seccomp profile the container can use every system call, \
            including rarely needed ones that carry kernel vulnerabilities.",
        fix: "Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost), or \
            set it on every container.",
    },
];

/// Every check, in upstream order: baseline check ids sorted, then restricted check ids
/// sorted (the order in which [`crate::evaluate`] reports violations).
pub fn checks() -> &'static [CheckInfo] {
    &CHECKS
}
