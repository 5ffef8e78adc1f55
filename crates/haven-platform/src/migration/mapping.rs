//! How each unit of the Haven+ reference implementation (gorkomikus/havenplus-flux, the GitHub
//! mirror of commonground/haven/havenplus/gitops-flux) becomes haven: the capability settings it
//! maps to and the catalogue components that then serve it, or why haven drops it.
//!
//! Data, not code: `tests/migration.rs` checks every row against the config schema (each key
//! must be accepted by `config::parse`) and the catalogue (each component must exist), so a
//! renamed key or component fails the build instead of a user's import.

/// What haven does with a reference unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Served by haven: these settings (`key.path`, value as JSON) in haven-plus.yaml, and
    /// these catalogue components render it.
    Mapped {
        settings: &'static [(&'static str, &'static str)],
        components: &'static [&'static str],
        /// What differs from the reference, for the report.
        note: &'static str,
    },
    /// Part of every haven platform without a setting (namespaces, network policies, RBAC).
    Builtin { why: &'static str },
    /// Not carried over, and why.
    Dropped { why: &'static str },
}

/// One row: the reference's Flux Kustomization names (`clusters/<c>/infrastructure/*.yaml`)
/// and what haven does with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The reference's component directory (`infrastructure/<component>`).
    pub component: &'static str,
    /// Its Flux Kustomizations as the reference names them.
    pub units: &'static [&'static str],
    pub action: Action,
}

const ON: &str = "true";

/// Every unit the reference deploys on any of its clusters (previder, cyso, azure, ovh-cloud,
/// local, odc-noord and the lab clusters), at commit 1322937.
pub const REFERENCE: &[Mapping] = &[
    Mapping {
        component: "alloy",
        units: &["alloy"],
        action: Action::Mapped {
            settings: &[("capabilities.logs.enabled", ON)],
            components: &["alloy"],
            note: "Alloy collects logs, metrics and traces as in the reference; haven writes its pipelines from the capabilities",
        },
    },
    Mapping {
        component: "cert-manager",
        units: &[
            "cert-manager",
            "cert-manager-controller",
            "cert-manager-config",
        ],
        action: Action::Mapped {
            settings: &[("capabilities.certificates.enabled", ON)],
            components: &["cert-manager"],
            note: "Let's Encrypt staging and production ClusterIssuers as in the reference",
        },
    },
    Mapping {
        component: "cloudnative-pg",
        units: &["cloudnative-pg"],
        action: Action::Mapped {
            settings: &[("capabilities.postgresql.enabled", ON)],
            components: &["cloudnative-pg"],
            note: "the operator only; existing CloudNativePG Clusters stay where they are (the plan protects them)",
        },
    },
    Mapping {
        component: "cluster-resources",
        units: &["cluster-resources"],
        action: Action::Builtin {
            why: "haven renders the namespaces, default-deny NetworkPolicies and tenant RBAC of every platform itself",
        },
    },
    Mapping {
        component: "eck-operator",
        units: &["eck-operator"],
        action: Action::Dropped {
            why: "Elastic's ECK operator is under the Elastic License 2.0, not an open-source licence; logs go to Loki (capabilities.logs)",
        },
    },
    Mapping {
        component: "external-dns",
        units: &["external-dns"],
        action: Action::Mapped {
            settings: &[("capabilities.dns.enabled", ON)],
            components: &["external-dns"],
            note: "",
        },
    },
    Mapping {
        component: "external-secrets",
        units: &["external-secrets"],
        action: Action::Dropped {
            why: "the reference runs External Secrets beside Sealed Secrets without a store of its own; haven runs it only with the OpenBao backend (capabilities.secrets.backend: openbao)",
        },
    },
    Mapping {
        component: "falco",
        units: &["falco"],
        action: Action::Mapped {
            settings: &[("capabilities.intrusionDetection.enabled", ON)],
            components: &["falco"],
            note: "",
        },
    },
    Mapping {
        component: "garage",
        units: &["garage", "garage-controller", "garage-config"],
        action: Action::Mapped {
            settings: &[("capabilities.objectStorage.enabled", ON)],
            components: &["garage"],
            note: "",
        },
    },
    Mapping {
        component: "grafana",
        units: &["grafana", "grafana-controller", "grafana-config"],
        action: Action::Mapped {
            settings: &[("capabilities.dashboards.enabled", ON)],
            components: &["grafana"],
            note: "the reference runs the Grafana operator with a Grafana resource; haven installs Grafana's chart with the datasources wired; dashboards kept as GrafanaDashboard resources are not carried over",
        },
    },
    Mapping {
        component: "headlamp",
        units: &["headlamp"],
        action: Action::Mapped {
            settings: &[("capabilities.clusterUI.enabled", ON)],
            components: &["headlamp"],
            note: "with OIDC on the identity provider",
        },
    },
    Mapping {
        component: "ingress-nginx",
        units: &["ingress-nginx"],
        action: Action::Mapped {
            settings: &[("capabilities.ingress.enabled", ON)],
            components: &["envoy-gateway"],
            note: "ingress-nginx is retired upstream (no releases after March 2026); mapped to the Gateway API implementation (Istio where the reference also runs it, else Envoy Gateway): Ingress objects of applications must become HTTPRoutes",
        },
    },
    Mapping {
        component: "istio",
        units: &["istio", "istio-gateway"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.ingress.enabled", ON),
                ("capabilities.ingress.implementation", "\"istio\""),
            ],
            components: &["istio-base", "istiod"],
            note: "Istio as the Gateway API implementation; the reference's ambient mode (istio-cni, ztunnel) is not rendered",
        },
    },
    Mapping {
        component: "keycloak",
        units: &["keycloak", "keycloak-operator", "keycloak-instances"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.identity.enabled", ON),
                ("capabilities.identity.provider", "\"keycloak\""),
            ],
            components: &["keycloak"],
            note: "the reference runs the Keycloak operator with a Keycloak resource and its own CloudNativePG Cluster; haven installs Keycloak's chart: export the realm (kc.sh export) and import it, the old database is kept by the plan",
        },
    },
    Mapping {
        component: "kube-state-metrics",
        units: &["kube-state-metrics"],
        action: Action::Mapped {
            settings: &[("capabilities.kubeStateMetrics.enabled", ON)],
            components: &["kube-state-metrics"],
            note: "with the Mimir backend (kube-prometheus-stack brings its own)",
        },
    },
    Mapping {
        component: "kyverno",
        units: &["kyverno", "kyverno-controller", "kyverno-policies"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.admission.enabled", ON),
                ("capabilities.admission.engine", "\"kyverno\""),
            ],
            components: &["kyverno"],
            note: "haven's Kyverno policy enforces Pod Security restricted; the reference's kyverno-policies chart exceptions are not carried over (haven admission labels per tenant instead)",
        },
    },
    Mapping {
        component: "policy-reporter",
        units: &["kyverno-policy-reporter", "policy-reporter"],
        action: Action::Mapped {
            settings: &[("capabilities.policyReports.enabled", ON)],
            components: &["policy-reporter"],
            note: "",
        },
    },
    Mapping {
        component: "loki",
        units: &["loki"],
        action: Action::Mapped {
            settings: &[("capabilities.logs.enabled", ON)],
            components: &["loki"],
            note: "",
        },
    },
    Mapping {
        component: "metallb",
        units: &["metallb", "metallb-controller", "metallb-config"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.loadBalancer.enabled", ON),
                ("cluster.loadBalancer", "\"metallb\""),
            ],
            components: &["metallb"],
            note: "address pools from the reference's IPAddressPool",
        },
    },
    Mapping {
        component: "mimir",
        units: &["mimir"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.metrics.enabled", ON),
                ("capabilities.metrics.backend", "\"mimir\""),
            ],
            components: &["mimir"],
            note: "",
        },
    },
    Mapping {
        component: "nfs-subdir-external-provisioner",
        units: &["nfs-subdir-external-provisioner"],
        action: Action::Mapped {
            settings: &[],
            components: &["nfs-subdir-external-provisioner"],
            note: "the NFS server and path of the reference's values; its StorageClass keeps the reference's name, so existing and new claims agree",
        },
    },
    Mapping {
        component: "nfs-server-provisioner",
        units: &["nfs-server-provisioner"],
        action: Action::Dropped {
            why: "an NFS server inside the cluster (nfs-ganesha) whose data lives on one node's volume; haven uses the provider's ReadWriteMany storage (cluster.rwxStorageClass keeps the reference's class name, so existing claims stay bound)",
        },
    },
    Mapping {
        component: "nvidia-gpu-operator",
        units: &["nvidia-gpu-operator"],
        action: Action::Dropped {
            why: "hardware-specific and not part of the Haven+ platform; keep it as a unit of your own beside the rendered tree",
        },
    },
    Mapping {
        component: "pinniped",
        units: &["pinniped", "pinniped-controller", "pinniped-config"],
        action: Action::Mapped {
            settings: &[("capabilities.kubectlLogin.enabled", ON)],
            components: &["pinniped"],
            note: "kubectl login through the identity provider, so the tenants' groups bind people",
        },
    },
    Mapping {
        component: "sealed-secrets",
        units: &["sealed-secrets"],
        action: Action::Mapped {
            settings: &[
                ("capabilities.secrets.enabled", ON),
                ("capabilities.secrets.backend", "\"sealed-secrets\""),
            ],
            components: &["sealed-secrets"],
            note: "the controller's key is kept (the plan backs it up and protects it), so existing SealedSecrets still decrypt",
        },
    },
    Mapping {
        component: "tempo",
        units: &["tempo", "tempo-controller", "tempo-config"],
        action: Action::Mapped {
            settings: &[("capabilities.traces.enabled", ON)],
            components: &["tempo"],
            note: "the reference runs the Tempo operator with a TempoStack; haven installs Tempo's chart",
        },
    },
    Mapping {
        component: "trivy-operator",
        units: &["trivy-operator"],
        action: Action::Mapped {
            settings: &[("capabilities.imageScanning.enabled", ON)],
            components: &["trivy-operator"],
            note: "",
        },
    },
    Mapping {
        component: "velero",
        units: &["velero", "velero-controller", "velero-config"],
        action: Action::Mapped {
            settings: &[("capabilities.backups.enabled", ON)],
            components: &["velero"],
            note: "",
        },
    },
];

/// The row of a reference unit (a Flux Kustomization name).
pub fn for_unit(unit: &str) -> Option<&'static Mapping> {
    REFERENCE.iter().find(|m| m.units.contains(&unit))
}

/// Secrets the reference's components read, and the Secret haven's component reads instead
/// (same namespace once the component keeps the reference's namespace): reference name and
/// keys → haven name and keys, key by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretMap {
    pub component: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    /// (reference key, haven key).
    pub keys: &'static [(&'static str, &'static str)],
}

/// The reference gives loki, mimir, tempo and velero one Secret `s3-credentials` with
/// `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` (substituted into values as `${S3_*}`); haven's
/// catalogue names a Secret per component with the AWS variable names.
pub const SECRETS: &[SecretMap] = &[
    SecretMap {
        component: "loki",
        from: "s3-credentials",
        to: "loki-s3",
        keys: &[
            ("S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
            ("S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        ],
    },
    SecretMap {
        component: "mimir",
        from: "s3-credentials",
        to: "mimir-s3",
        keys: &[
            ("S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
            ("S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        ],
    },
    SecretMap {
        component: "velero",
        from: "s3-credentials",
        to: "velero-s3",
        keys: &[("cloud", "cloud")],
    },
];
