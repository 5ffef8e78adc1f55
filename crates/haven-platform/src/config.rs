//! The one file that describes a Haven+ platform: `haven-plus.yaml`.
//!
//! The doc comments on these types are the user documentation: `haven plus explain key.path`
//! prints them from the generated JSON Schema, and the committed schema
//! (`docs/config-schema/haven-plus-v1.json`) carries them to editors.

use std::collections::BTreeMap;

use haven_model::Quantity;
use haven_model::quantity::QuantityError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::Catalogue;
use crate::error::ConfigError;

/// The config format this build writes and reads natively.
pub const CURRENT_VERSION: u32 = 1;

/// The StorageClass of the NFS provisioner (`capabilities.storage.nfs`).
pub const NFS_STORAGE_CLASS: &str = "nfs-client";

/// A Haven+ platform: one cluster, the capabilities it offers, overrides per component, and the
/// tenants that land on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "haven-plus.yaml, version 1")]
pub struct PlatformConfig {
    /// Format version of this file. Version 1 is current; files without `version` or with
    /// `version: 0` (the alpha shape) are migrated when read.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The cluster this platform is rendered for.
    pub cluster: Cluster,
    /// Which capabilities the platform offers, and which implementation serves each.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Per-component overrides, keyed by component name (see `haven plus explain components`):
    /// pinned version, namespace and Helm values merged over the catalogue defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, ComponentOverride>,
    /// Teams that deploy onto the platform; `haven plus tenant add` appends here.
    #[serde(default)]
    pub tenants: Vec<Tenant>,
}

/// The cluster and the Git repository Flux syncs it from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// Cluster name: the directory `clusters/<name>` and the ExternalDNS owner id.
    pub name: String,
    /// Base DNS domain; platform endpoints become `<service>.<domain>`.
    pub domain: String,
    /// Where the cluster runs; decides storage classes, the RWX provisioner, the load balancer
    /// and the ExternalDNS provider unless set below.
    #[serde(default)]
    pub provider: Provider,
    /// Kubernetes minor the cluster runs, one of the supported window of this build (`haven
    /// plus init` writes them all in a comment, and the newest as the value): `haven plus
    /// validate` checks built-in objects against that minor's API.
    #[serde(default = "default_kubernetes_version")]
    pub kubernetes_version: String,
    /// The Git repository holding the rendered tree, which Flux syncs.
    #[serde(default)]
    pub git: GitSource,
    /// E-mail address for the Let's Encrypt ACME account (default: `platform@<domain>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_email: Option<String>,
    /// StorageClass for ReadWriteOnce volumes (default: the provider's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// StorageClass for ReadWriteMany volumes (default: the provider's RWX provisioner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rwx_storage_class: Option<String>,
    /// How Gateways are exposed (default: the provider's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
    /// ExternalDNS provider name for a provider haven does not wire (e.g. `cloudflare`):
    /// ExternalDNS gets the name only, its credentials and settings are yours to give
    /// (`components.external-dns.values`), and there is no DNS-01. For rfc2136, azure, ovh and
    /// inmemory use `capabilities.dns.provider`, which wires them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_provider: Option<String>,
    /// How the tree is laid out: `flat` (one `clusters/<name>/infrastructure.yaml`, one
    /// directory per Flux Kustomization) or `reference` (the Haven+ reference implementation's
    /// layout: `clusters/<name>/infrastructure/<component>.yaml`,
    /// `infrastructure/<component>/[controller|config]/{base,overlays/<name>}`, a base shared by
    /// every cluster of the repository and an overlay of patches per cluster).
    #[serde(default, skip_serializing_if = "Layout::is_flat")]
    pub layout: Layout,
}

/// The layout of the rendered tree (`cluster.layout`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// haven's own: `infrastructure/<component>/` and `infrastructure/<component>-config/`.
    #[default]
    Flat,
    /// The Haven+ reference implementation's, for one repository serving many clusters.
    Reference,
}

impl Layout {
    pub fn is_flat(&self) -> bool {
        *self == Layout::Flat
    }
}

fn default_kubernetes_version() -> String {
    crate::validate::SUPPORTED_KUBERNETES
        .last()
        .copied()
        .unwrap_or_default()
        .to_owned()
}

/// The Git repository Flux reads the platform from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitSource {
    /// Clone URL of the platform repository.
    #[serde(default = "default_git_url")]
    pub url: String,
    /// Branch Flux follows.
    #[serde(default = "default_branch")]
    pub branch: String,
}

impl Default for GitSource {
    fn default() -> Self {
        Self {
            url: default_git_url(),
            branch: default_branch(),
        }
    }
}

fn default_git_url() -> String {
    "ssh://git@git.example.invalid/platform/haven-plus.git".to_owned()
}

fn default_branch() -> String {
    "main".to_owned()
}

/// Where the cluster runs.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// Previder (Dutch cloud).
    Previder,
    /// Cyso Cloud (OpenStack).
    Cyso,
    /// OVHcloud Managed Kubernetes.
    Ovh,
    /// Azure Kubernetes Service.
    Azure,
    /// kind on a laptop or CI runner.
    Kind,
    /// Any conformant cluster; defaults that assume nothing.
    #[default]
    Generic,
}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Previder,
        Provider::Cyso,
        Provider::Ovh,
        Provider::Azure,
        Provider::Kind,
        Provider::Generic,
    ];

    /// Namespaces the provider's cluster brings with system add-ons of its own that run below
    /// `restricted`, which the admission policy must leave alone: kind's local-path provisioner
    /// makes its volumes with helper Pods that mount `hostPath` in `local-path-storage`
    /// (denied there, every PersistentVolumeClaim stays Pending). Unlabelled namespaces of other
    /// add-ons (a CNI's, a CSI driver's) are not judged in enforce mode either (the rendered
    /// webhook and Kyverno enforce where a namespace is labelled); these are skipped entirely.
    pub fn system_namespaces(self) -> &'static [&'static str] {
        match self {
            Provider::Kind => &["local-path-storage"],
            Provider::Previder
            | Provider::Cyso
            | Provider::Ovh
            | Provider::Azure
            | Provider::Generic => &[],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Previder => "previder",
            Provider::Cyso => "cyso",
            Provider::Ovh => "ovh",
            Provider::Azure => "azure",
            Provider::Kind => "kind",
            Provider::Generic => "generic",
        }
    }

    /// Whether the platform installs metrics-server unless the config says: not on AKS, whose
    /// managed metrics-server owns the APIService `v1beta1.metrics.k8s.io` (Helm cannot adopt
    /// it, so the release would fail for ever).
    pub fn offers_metrics_server_default(self) -> bool {
        self != Provider::Azure
    }

    /// What the provider offers out of the box; each is overridable in `cluster`.
    pub fn defaults(self) -> ProviderDefaults {
        let (storage_class, rwx_storage_class, load_balancer, dns_provider) = match self {
            Provider::Previder => ("previder-csi", "nfs-client", LoadBalancer::Cloud, "rfc2136"),
            Provider::Cyso => ("cinder-csi", "nfs-client", LoadBalancer::Cloud, "rfc2136"),
            Provider::Ovh => (
                "csi-cinder-high-speed",
                "nfs-client",
                LoadBalancer::Cloud,
                "ovh",
            ),
            Provider::Azure => ("managed-csi", "azurefile-csi", LoadBalancer::Cloud, "azure"),
            Provider::Kind => ("standard", "standard", LoadBalancer::NodePort, "inmemory"),
            Provider::Generic => ("standard", "nfs-client", LoadBalancer::Metallb, "rfc2136"),
        };
        ProviderDefaults {
            storage_class,
            rwx_storage_class,
            load_balancer,
            dns_provider,
        }
    }
}

/// Storage, load balancing and DNS as a provider offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderDefaults {
    pub storage_class: &'static str,
    pub rwx_storage_class: &'static str,
    pub load_balancer: LoadBalancer,
    pub dns_provider: &'static str,
}

/// How Gateway services reach the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoadBalancer {
    /// The cloud's LoadBalancer Services.
    Cloud,
    /// MetalLB on bare metal (Services of type LoadBalancer).
    Metallb,
    /// NodePort Services (kind, or an external load balancer in front).
    NodePort,
}

impl LoadBalancer {
    pub fn service_type(self) -> &'static str {
        match self {
            LoadBalancer::Cloud | LoadBalancer::Metallb => "LoadBalancer",
            LoadBalancer::NodePort => "NodePort",
        }
    }
}

fn yes() -> bool {
    true
}

/// A capability that has one implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toggle {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Dashboards and alerting: Grafana with Loki, Mimir/Prometheus and Tempo datasources, the
/// platform's dashboards and alert rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dashboards {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Grafana's login with the identity provider (OIDC client `grafana`, `platform-admins` as
    /// Admin, everyone else Viewer); Grafana's generated admin user stays for break-glass.
    /// Unset: on with Keycloak or Dex and the default secret backend (OpenBao with External
    /// Secrets), where the client's secret is made in the cluster and delivered to Grafana and
    /// the identity provider with nobody at a keyboard; off with Zitadel (its clients are
    /// registered by hand) and Sealed Secrets (a person seals the secret). `false` turns it off;
    /// `true` turns it on there too, the client's secret then written by a person
    /// (`platform/grafana/grafana-oidc` in OpenBao, or sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<bool>,
}

impl Default for Dashboards {
    fn default() -> Self {
        Self {
            enabled: true,
            sso: None,
        }
    }
}

macro_rules! choice_capability {
    ($(#[$doc:meta])* $name:ident, $field:ident: $choice:ident = $default:ident, $(#[$fdoc:meta])*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            /// Whether the platform offers this capability.
            #[serde(default = "yes")]
            pub enabled: bool,
            $(#[$fdoc])*
            #[serde(default)]
            pub $field: $choice,
        }
        impl Default for $name {
            fn default() -> Self {
                Self { enabled: true, $field: $choice::$default }
            }
        }
    };
}

choice_capability!(
    /// Metrics: Alloy scraping ServiceMonitors into Mimir (the reference), or kube-prometheus-stack.
    Metrics, backend: MetricsBackend = Mimir,
    /// Where metrics are stored.
);
choice_capability!(
/// Secrets: External Secrets reading OpenBao (default), or Sealed Secrets.
Secrets, backend: SecretsBackend = Openbao,
/// How secrets reach the cluster without being in Git in clear text.
);
/// Identity (OIDC) for the platform and applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Identity {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which identity provider runs.
    #[serde(default)]
    pub provider: IdentityProvider,
    /// Dex's settings (provider `dex`): the upstream identity providers people log in with.
    #[serde(default, skip_serializing_if = "DexSettings::is_empty")]
    pub dex: DexSettings,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            enabled: true,
            provider: IdentityProvider::Keycloak,
            dex: DexSettings::default(),
        }
    }
}

/// Dex keeps no users of its own (the platform renders no password database): it federates,
/// and it does not start without a connector ("server: no connectors specified").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DexSettings {
    /// The upstream identity providers, as Dex's own `connectors` (dexidp.io/docs/connectors):
    /// `type`, `id`, `name` and the connector's `config`, passed through as written.
    #[serde(default)]
    pub connectors: Vec<DexConnector>,
}

/// One Dex connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DexConnector {
    /// The connector type: `oidc`, `ldap`, `microsoft`, `github`, `gitlab`, `saml`, ...
    #[serde(rename = "type")]
    #[schemars(length(min = 1))]
    pub kind: String,
    /// The connector's id (in Dex's callback state and users' subjects: keep it stable):
    /// lower-case letters, digits and `-`.
    #[schemars(length(min = 1))]
    pub id: String,
    /// The name on Dex's login page.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The connector's settings, as Dex reads them, without its secrets (see `secrets`).
    #[serde(default)]
    pub config: serde_json::Map<String, Value>,
    /// Keys of `config` whose values are secret (`clientSecret`, `bindPW`): read from the
    /// secret store (OpenBao: `platform/dex/connector-<id>`, property `<key>`; Sealed Secrets:
    /// sealed into `dex/dex-connectors`) and given to Dex as environment variables it expands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

impl DexSettings {
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty()
    }
}

impl DexConnector {
    /// The environment variable Dex reads secret `key` of this connector from:
    /// `DEX_CONNECTOR_ENTRA_CLIENT_SECRET` for `entra`'s `clientSecret`.
    pub fn secret_env(&self, key: &str) -> String {
        let mut out = format!(
            "DEX_CONNECTOR_{}_",
            self.id.to_uppercase().replace('-', "_")
        );
        for (i, ch) in key.chars().enumerate() {
            if ch.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_uppercase());
        }
        out
    }
}
/// Admission policy: Pod Security `restricted` enforced on every namespace the platform owns,
/// and the tenant policy (docs/plus.md, "Tenant policy") in tenants' namespaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Admission {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which webhook enforces it: this project's `haven admission` or Kyverno.
    #[serde(default)]
    pub engine: AdmissionEngine,
    /// Image reference prefixes every tenant's container images must start with (a registry
    /// host, `registry.example.nl`, or a path on one, `ghcr.io/gemeente-x`), for tenants
    /// without a list of their own (`tenants[].policy.allowedRegistries`). Empty: any registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_registries: Vec<String>,
    /// Signature verification of tenants' images (engine `kyverno` only: Kyverno's
    /// `verifyImages`; the haven webhook does not call registries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_verification: Option<ImageVerification>,
}

impl Default for Admission {
    fn default() -> Self {
        Self {
            enabled: true,
            engine: AdmissionEngine::HavenAdmission,
            allowed_registries: Vec::new(),
            image_verification: None,
        }
    }
}

/// Which images must be signed, and by whom (cosign signatures, checked by Kyverno).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageVerification {
    /// Image reference patterns whose signatures are checked (Kyverno `imageReferences`:
    /// `ghcr.io/gemeente-x/*`).
    #[schemars(length(min = 1))]
    pub images: Vec<String>,
    /// Cosign public keys (PEM, `-----BEGIN PUBLIC KEY-----`): a signature by any one passes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    /// Keyless (Sigstore Fulcio certificates, Rekor transparency log): the OIDC issuer and a
    /// regular expression the certificate's subject must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless: Option<Keyless>,
}

/// A keyless signing identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Keyless {
    /// The OIDC issuer of the signer's identity
    /// (`https://token.actions.githubusercontent.com`).
    #[schemars(length(min = 1))]
    pub issuer: String,
    /// A regular expression the certificate's subject (the signer's identity) must match
    /// (`^https://github.com/gemeente-x/.+$`).
    #[schemars(length(min = 1))]
    pub subject_regexp: String,
}
choice_capability!(
    /// Ingress through the Gateway API.
    Ingress, implementation: IngressImplementation = EnvoyGateway,
    /// Which Gateway API implementation runs (exactly one).
);

/// Where metrics are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetricsBackend {
    /// Grafana Mimir, fed by Alloy.
    #[default]
    Mimir,
    /// Prometheus operator, Prometheus and Alertmanager.
    KubePrometheusStack,
}

/// How secrets reach the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretsBackend {
    /// External Secrets Operator with an OpenBao ClusterSecretStore.
    #[default]
    Openbao,
    /// Bitnami Sealed Secrets.
    SealedSecrets,
}

/// The identity provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityProvider {
    #[default]
    Keycloak,
    Dex,
    Zitadel,
}

/// The admission webhook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionEngine {
    /// `haven admission serve` from this repository's chart.
    #[default]
    HavenAdmission,
    /// Kyverno with a Pod Security restricted ClusterPolicy.
    Kyverno,
}

/// The Gateway API implementation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IngressImplementation {
    #[default]
    EnvoyGateway,
    Traefik,
    Cilium,
    Istio,
}

/// Backups with Velero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Backups {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Cron schedule of the daily backup of every tenant namespace.
    #[serde(default = "default_schedule")]
    pub schedule: String,
    /// How long a backup is kept (Go duration). CloudNativePG keeps base backups and WAL for
    /// the same time, rounded up to whole days.
    #[serde(default = "default_ttl")]
    pub ttl: String,
    /// Where Velero's backups (objects and volume data) and CloudNativePG's base backups and WAL
    /// go: an S3 store outside the cluster (`s3`), or the in-cluster Garage (`inCluster: true`)
    /// as an explicit choice. Without a target the in-cluster Garage is used with a warning: a
    /// backup inside the cluster it protects is lost with that cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<BackupTarget>,
}

impl Default for Backups {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule: default_schedule(),
            ttl: default_ttl(),
            target: None,
        }
    }
}

impl Backups {
    /// The off-cluster S3 target, when one is configured.
    pub fn s3(&self) -> Option<&S3Target> {
        self.target.as_ref().and_then(|t| t.s3.as_ref())
    }
}

/// Where backups go: exactly one of `s3` and `inCluster`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackupTarget {
    /// An S3-compatible object store outside the cluster (another site, another provider):
    /// backups survive the loss of the cluster and of its storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Target>,
    /// The in-cluster Garage (`objectStorage`): backups that survive deleted objects and broken
    /// upgrades, not the loss of the cluster. Only as a deliberate choice (a test cluster).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_cluster: bool,
}

/// An S3-compatible bucket outside the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Target {
    /// The endpoint, `https://host[:port]` (plain http is refused: backups would travel
    /// unencrypted).
    pub endpoint: String,
    /// The bucket. Velero writes under `velero/`, CloudNativePG under
    /// `cnpg/<namespace>/<cluster>/`.
    pub bucket: String,
    /// The region the store expects in signatures (S3-compatible stores often accept any).
    #[serde(default = "default_region")]
    pub region: String,
    /// Where the access key is in the secret store: a path with the properties `ACCESS_KEY_ID`
    /// and `ACCESS_SECRET_KEY` (OpenBao: `bao kv put -mount=secret <path> ACCESS_KEY_ID=…
    /// ACCESS_SECRET_KEY=…`), read by Velero and by every CloudNativePG Cluster the platform
    /// creates.
    #[serde(default = "default_backup_secret_path")]
    pub secret_path: String,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn default_backup_secret_path() -> String {
    "platform/backups/s3".to_owned()
}

fn default_schedule() -> String {
    "0 2 * * *".to_owned()
}

fn default_ttl() -> String {
    "168h0m0s".to_owned()
}

/// DNS: ExternalDNS publishes the Gateway's routes in the DNS provider's zone, and
/// cert-manager proves the platform's wildcard certificate (`*.<domain>`) through DNS-01 in the
/// same zone. The provider's credentials come from the secret store (ExternalSecrets reading the
/// OpenBao path `platform/dns`, one property per key, or SealedSecrets to seal), into both; the
/// render's note names the keys (`bao kv put -mount=secret platform/dns …`). Without the
/// provider's settings below the platform still runs: ExternalDNS is rendered with the provider
/// name only, and the Gateway gets one HTTPS listener per platform host, proved over HTTP-01
/// (no wildcard: tenants' hosts under the domain need DNS-01).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dns {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The DNS provider (default: the cluster provider's: rfc2136 on previder, cyso and
    /// generic, ovh on ovh, azure on azure, inmemory on kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<DnsProvider>,
    /// The DNS zone the records and the ACME challenges go into: `cluster.domain` or a parent
    /// of it (default: `cluster.domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// RFC 2136 dynamic updates with a TSIG key (BIND, PowerDNS, Knot, Windows DNS): the
    /// provider `rfc2136`. The TSIG secret is the store's `platform/dns` property `tsig-secret`
    /// (base64, as `tsig-keygen` prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rfc2136: Option<Rfc2136>,
    /// Azure DNS: the provider `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureDns>,
    /// OVHcloud DNS: the provider `ovh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ovh: Option<OvhDns>,
}

impl Default for Dns {
    fn default() -> Self {
        Self {
            enabled: true,
            provider: None,
            zone: None,
            rfc2136: None,
            azure: None,
            ovh: None,
        }
    }
}

/// A DNS provider both ExternalDNS and cert-manager's DNS-01 are wired for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DnsProvider {
    /// RFC 2136 dynamic updates with TSIG: any standard DNS server (the generic choice).
    Rfc2136,
    /// Azure DNS, through workload identity or a service principal.
    Azure,
    /// OVHcloud DNS through its API; ACME challenges delegated to an RFC 2136 zone.
    Ovh,
    /// ExternalDNS's in-memory provider (kind): no real DNS, no DNS-01.
    Inmemory,
}

impl DnsProvider {
    /// The provider name ExternalDNS reads (`--provider`).
    pub fn name(self) -> &'static str {
        match self {
            DnsProvider::Rfc2136 => "rfc2136",
            DnsProvider::Azure => "azure",
            DnsProvider::Ovh => "ovh",
            DnsProvider::Inmemory => "inmemory",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Rfc2136, Self::Azure, Self::Ovh, Self::Inmemory]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// A DNS server that takes RFC 2136 updates signed with a TSIG key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rfc2136 {
    /// The primary server's host name or IP address.
    pub server: String,
    /// Its DNS port.
    #[serde(default = "default_dns_port")]
    pub port: u16,
    /// The TSIG key's name, as the server knows it.
    pub tsig_key_name: String,
    /// The TSIG key's algorithm.
    #[serde(default)]
    pub tsig_algorithm: TsigAlgorithm,
}

fn default_dns_port() -> u16 {
    53
}

/// A TSIG algorithm both ExternalDNS and cert-manager support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TsigAlgorithm {
    HmacSha1,
    #[default]
    HmacSha256,
    HmacSha512,
}

impl TsigAlgorithm {
    /// As ExternalDNS's `--rfc2136-tsig-secret-alg` reads it.
    pub fn external_dns(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha1 => "hmac-sha1",
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// As cert-manager's `tsigAlgorithm` reads it.
    pub fn cert_manager(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha1 => "HMACSHA1",
            TsigAlgorithm::HmacSha256 => "HMACSHA256",
            TsigAlgorithm::HmacSha512 => "HMACSHA512",
        }
    }
}

/// The Azure DNS zone and the identity that may change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureDns {
    /// The subscription of the DNS zone.
    pub subscription_id: String,
    /// The resource group of the DNS zone.
    pub resource_group: String,
    /// The Entra ID tenant.
    pub tenant_id: String,
    /// The client ID of the managed identity (workload identity) or of the app registration
    /// (service principal) with the `DNS Zone Contributor` role on the zone.
    pub client_id: String,
    /// How ExternalDNS and cert-manager sign in: `workload-identity` (no secret: federated
    /// credentials for the service accounts `external-dns/external-dns` and
    /// `cert-manager/cert-manager`, on an AKS cluster with the OIDC issuer and workload
    /// identity on) or `service-principal` (the client secret is the store's `platform/dns`
    /// property `client-secret`).
    #[serde(default)]
    pub auth: AzureAuth,
}

/// How a component signs in to Azure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AzureAuth {
    #[default]
    WorkloadIdentity,
    ServicePrincipal,
}

/// OVHcloud DNS. ExternalDNS changes the zone through OVH's API (the store's `platform/dns`
/// properties `application-key`, `application-secret`, `consumer-key`; the ACME zone's TSIG
/// secret is `acme-tsig-secret`). cert-manager has no OVH
/// solver: its ACME challenges are delegated to an RFC 2136 zone (`acmeChallenge`), see
/// docs/plus.md "DNS and certificates" for why not a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OvhDns {
    /// The OVH API endpoint.
    #[serde(default = "default_ovh_endpoint")]
    pub endpoint: String,
    /// The RFC 2136 zone `_acme-challenge.<domain>` is a CNAME into (set once in the OVH
    /// zone: `_acme-challenge.<domain>. CNAME _acme-challenge.<zone>.`, this `zone`); its TSIG
    /// secret is the store's `acme-tsig-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_challenge: Option<AcmeChallengeZone>,
}

fn default_ovh_endpoint() -> String {
    "ovh-eu".to_owned()
}

/// A zone on an RFC 2136 server that takes the ACME challenges delegated to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcmeChallengeZone {
    /// The delegated zone (e.g. `acme.example.nl`).
    pub zone: String,
    /// The server that takes its updates.
    #[serde(flatten)]
    pub server: Rfc2136,
}

/// Every capability of Haven+. GitOps (Flux) is always on: the rendered tree is a Flux tree.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capabilities {
    /// Logs: Grafana Alloy ships container logs to Loki.
    #[serde(default)]
    pub logs: Toggle,
    #[serde(default)]
    pub metrics: Metrics,
    /// Traces: Tempo, fed by Alloy (OpenTelemetry).
    #[serde(default)]
    pub traces: Toggle,
    #[serde(default)]
    pub dashboards: Dashboards,
    /// The resource metrics API (metrics-server), which Haven compliancy checks. On by default,
    /// except on `azure`: AKS runs metrics-server itself (a managed add-on that owns the
    /// APIService `v1beta1.metrics.k8s.io`), and a second one cannot be installed beside it.
    #[serde(default)]
    pub metrics_server: Toggle,
    /// Certificates: cert-manager with Let's Encrypt staging and production ClusterIssuers.
    #[serde(default)]
    pub certificates: Toggle,
    #[serde(default)]
    pub secrets: Secrets,
    #[serde(default)]
    pub identity: Identity,
    /// Image scanning: Trivy Operator.
    #[serde(default)]
    pub image_scanning: Toggle,
    /// Intrusion detection: Falco with falcosidekick (events to Loki).
    #[serde(default)]
    pub intrusion_detection: Toggle,
    #[serde(default)]
    pub admission: Admission,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub ingress: Ingress,
    /// PostgreSQL: the CloudNativePG operator (one `Cluster` per application).
    #[serde(default)]
    pub postgresql: Toggle,
    #[serde(default)]
    pub backups: Backups,
    #[serde(default)]
    pub object_storage: ObjectStorage,
    /// `kubectl` login with the identity provider: Pinniped's Concierge with a JWTAuthenticator
    /// on it (client `pinniped-cli`), so that tenants' `--group` RoleBindings bind people.
    /// Needs `identity`. Off unless enabled.
    #[serde(default, skip_serializing_if = "OptIn::is_off")]
    pub kubectl_login: OptIn,
    /// The cluster UI for application teams: Headlamp, logged in with the identity provider
    /// (client `headlamp`), every user with their own rights. Needs `identity`. Off unless
    /// enabled.
    #[serde(
        default,
        rename = "clusterUI",
        alias = "clusterUi",
        skip_serializing_if = "OptIn::is_off"
    )]
    pub cluster_ui: OptIn,
    /// kube-state-metrics: Kubernetes object state as metrics (Pods waiting and restarting,
    /// Flux's objects' `Ready` condition), which the crash-loop and Flux alerts and the
    /// workloads dashboard read. On wherever metrics are: its own component with the mimir
    /// backend, kube-prometheus-stack's copy with that backend. `enabled: false` leaves it out;
    /// the render then says which alerts and panels go with it.
    #[serde(default)]
    pub kube_state_metrics: Toggle,
    /// Where the platform's alerts go: Alertmanager's receivers (Mimir's Alertmanager with the
    /// mimir backend, kube-prometheus-stack's otherwise). Without a receiver alerts fire into
    /// Alertmanager and reach nobody (the render says so). Credentials (the SMTP password, the
    /// webhook URL with its token) come from the secret store, never from this file.
    #[serde(default, skip_serializing_if = "Alerting::is_empty")]
    pub alerting: Alerting,
    /// Policy results for people: policy-reporter's UI over Kyverno's and Trivy's reports,
    /// logged in with the identity provider (client `policy-reporter`). Off unless enabled.
    #[serde(default, skip_serializing_if = "OptIn::is_off")]
    pub policy_reports: OptIn,
    /// Services of type LoadBalancer without a cloud load balancer: MetalLB (layer 2) with
    /// these addresses. Off unless enabled; when on, Gateways are exposed as LoadBalancer.
    #[serde(default, skip_serializing_if = "LoadBalancerPool::is_off")]
    pub load_balancer: LoadBalancerPool,
    /// ReadWriteMany storage the provider does not offer itself: the StorageClass `nfs-client`
    /// on an existing NFS export (nfs-subdir-external-provisioner), as the reference wires it
    /// for Previder.
    #[serde(default, skip_serializing_if = "Storage::is_empty")]
    pub storage: Storage,
}

/// The receivers of the platform's alerts (`capabilities.alerting`): every alert goes to each
/// receiver set here. Alertmanager reads the credentials from files of a Secret made from the
/// secret store (`secretPath`), never from its config: the config (a ConfigMap with Mimir, the
/// chart's Secret with kube-prometheus-stack) names only the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alerting {
    /// E-mail through an SMTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailReceiver>,
    /// A chat tool's incoming webhook (Slack, Mattermost, Rocket.Chat: `format: slack`) or any
    /// endpoint that takes Alertmanager's own JSON (`format: webhook`). Its URL carries a
    /// token, so it is the store's `webhook-url`, not a key here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookReceiver>,
    /// A dead man's switch: the always-firing alert `Watchdog` is sent every 5 minutes to the
    /// store's `heartbeat-url` (healthchecks.io, Dead Man's Snitch, Cronitor, or your own
    /// monitor over HTTPS), which raises the alarm when it stops: the one alert that tells you
    /// alerting itself is broken.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heartbeat: bool,
    /// Where the receivers' credentials are in the secret store: a path with the properties
    /// `smtp-password` (with `email.username`), `webhook-url` (with `webhook`) and
    /// `heartbeat-url` (with `heartbeat`); OpenBao: `bao kv put -mount=secret <path>
    /// webhook-url=…`.
    #[serde(default = "default_alerting_secret_path")]
    pub secret_path: String,
}

fn default_alerting_secret_path() -> String {
    "platform/alerting/receivers".to_owned()
}

impl Default for Alerting {
    fn default() -> Self {
        Self {
            email: None,
            webhook: None,
            heartbeat: false,
            secret_path: default_alerting_secret_path(),
        }
    }
}

impl Alerting {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// A receiver is set: alerts reach somebody.
    pub fn has_receivers(&self) -> bool {
        self.email.is_some() || self.webhook.is_some()
    }

    /// The properties Alertmanager reads from the store (and so the keys of its Secret).
    pub fn secret_keys(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.email.as_ref().is_some_and(|e| e.username.is_some()) {
            out.push(ALERTING_SMTP_PASSWORD);
        }
        if self.webhook.is_some() {
            out.push(ALERTING_WEBHOOK_URL);
        }
        if self.heartbeat {
            out.push(ALERTING_HEARTBEAT_URL);
        }
        out
    }
}

/// The store property (and Secret key) of the SMTP password.
pub const ALERTING_SMTP_PASSWORD: &str = "smtp-password";
/// The store property (and Secret key) of the webhook URL.
pub const ALERTING_WEBHOOK_URL: &str = "webhook-url";
/// The store property (and Secret key) of the dead man's switch URL.
pub const ALERTING_HEARTBEAT_URL: &str = "heartbeat-url";

/// E-mail through an SMTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmailReceiver {
    /// The SMTP server, `host:port` (`smtp.example.nl:587`: submission with STARTTLS; port 465
    /// is TLS from the start).
    pub smarthost: String,
    /// The sender address.
    pub from: String,
    /// Who receives the alerts (at least one address).
    #[schemars(length(min = 1))]
    pub to: Vec<String>,
    /// The SMTP login, when the server wants one; its password is the store's
    /// `smtp-password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Refuse to send without TLS (STARTTLS or port 465). Leave it on unless the server is a
    /// relay inside your own network.
    #[serde(default = "yes")]
    pub require_tls: bool,
}

/// An incoming webhook whose URL is in the secret store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookReceiver {
    /// What the endpoint reads: `slack` (Slack's incoming webhook message, which Mattermost and
    /// Rocket.Chat take too) or `webhook` (Alertmanager's JSON, for a relay or an incident
    /// tool that reads it).
    #[serde(default)]
    pub format: WebhookFormat,
    /// The TCP port of the URL's host, which Alertmanager's NetworkPolicy opens (the URL itself
    /// is in the store).
    #[serde(default = "default_https_port")]
    pub port: u16,
}

fn default_https_port() -> u16 {
    443
}

/// What a webhook endpoint reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookFormat {
    /// Slack's incoming webhook message (Slack, Mattermost, Rocket.Chat).
    #[default]
    Slack,
    /// Alertmanager's webhook JSON.
    Webhook,
}

/// Object storage: Garage (S3), bootstrapped in the cluster (buckets and keys for Loki, Mimir,
/// Velero and every other component that declares `objectStore` in the catalogue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStorage {
    /// Whether the platform offers this capability.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The data volume of each Garage node (a Kubernetes quantity: `100Gi`), and the capacity
    /// each node is given in Garage's layout. With three nodes and three copies of every object
    /// (the default), this is also about what the platform can store.
    #[serde(default = "default_object_storage_size")]
    pub size: String,
}

fn default_object_storage_size() -> String {
    "10Gi".to_owned()
}

impl Default for ObjectStorage {
    fn default() -> Self {
        Self {
            enabled: true,
            size: default_object_storage_size(),
        }
    }
}

impl ObjectStorage {
    /// [`Self::size`] in bytes; `None` when it is no volume size (`check_values` says why).
    pub fn size_bytes(&self) -> Option<u64> {
        crate::formats::volume_size(&self.size).ok()
    }
}

/// A capability that is off unless the config turns it on (components the reference runs that
/// not every platform needs; their charts are not in every mirror).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OptIn {
    /// Whether the platform offers this capability.
    #[serde(default)]
    pub enabled: bool,
}

impl OptIn {
    pub fn is_off(&self) -> bool {
        !self.enabled
    }
}

/// MetalLB's address pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadBalancerPool {
    /// Whether MetalLB runs.
    #[serde(default)]
    pub enabled: bool,
    /// Addresses MetalLB hands out and announces, each a CIDR (`192.0.2.32/27`) or a range
    /// (`192.0.2.10-192.0.2.20`), on the nodes' network and routed to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

impl LoadBalancerPool {
    pub fn is_off(&self) -> bool {
        !self.enabled && self.addresses.is_empty()
    }
}

/// Storage the platform provisions itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    /// An NFS export that ReadWriteMany volumes are made in (one directory each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<NfsExport>,
}

impl Storage {
    pub fn is_empty(&self) -> bool {
        self.nfs.is_none()
    }
}

/// An NFS export reachable from every node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NfsExport {
    /// Host name or address of the NFS server.
    pub server: String,
    /// The exported path.
    pub path: String,
}

/// Names of the capabilities as written in `capabilities`, plus the always-on `gitops`.
pub const CAPABILITIES: &[&str] = &[
    "logs",
    "metrics",
    "traces",
    "dashboards",
    "metricsServer",
    "certificates",
    "secrets",
    "identity",
    "imageScanning",
    "intrusionDetection",
    "admission",
    "dns",
    "ingress",
    "postgresql",
    "backups",
    "objectStorage",
    "kubectlLogin",
    "clusterUI",
    "kubeStateMetrics",
    "policyReports",
    "loadBalancer",
    "storage",
    "gitops",
];

fn kebab<T: Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

impl Capabilities {
    /// Whether a capability is on, and which implementation is chosen (for capabilities with a
    /// choice). `None` for an unknown capability name.
    pub fn selection(&self, capability: &str) -> Option<(bool, Option<String>)> {
        let c = self;
        Some(match capability {
            "logs" => (c.logs.enabled, None),
            "metrics" => (c.metrics.enabled, Some(kebab(c.metrics.backend))),
            "traces" => (c.traces.enabled, None),
            "dashboards" => (c.dashboards.enabled, None),
            "metricsServer" => (c.metrics_server.enabled, None),
            "certificates" => (c.certificates.enabled, None),
            "secrets" => (c.secrets.enabled, Some(kebab(c.secrets.backend))),
            "identity" => (c.identity.enabled, Some(kebab(c.identity.provider))),
            "imageScanning" => (c.image_scanning.enabled, None),
            "intrusionDetection" => (c.intrusion_detection.enabled, None),
            "admission" => (c.admission.enabled, Some(kebab(c.admission.engine))),
            "dns" => (c.dns.enabled, None),
            "ingress" => (c.ingress.enabled, Some(kebab(c.ingress.implementation))),
            "postgresql" => (c.postgresql.enabled, None),
            "backups" => (c.backups.enabled, None),
            "objectStorage" => (c.object_storage.enabled, None),
            "kubectlLogin" => (c.kubectl_login.enabled, None),
            "clusterUI" => (c.cluster_ui.enabled, None),
            // Only where something scrapes it, and kube-prometheus-stack runs its own copy.
            "kubeStateMetrics" => (
                c.kube_state_metrics.enabled
                    && c.metrics.enabled
                    && c.metrics.backend == MetricsBackend::Mimir,
                None,
            ),
            "policyReports" => (c.policy_reports.enabled, None),
            "loadBalancer" => (c.load_balancer.enabled, None),
            "storage" => (c.storage.nfs.is_some(), None),
            "gitops" => (true, None),
            _ => return None,
        })
    }
}

/// Overrides of one catalogue component.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentOverride {
    /// Must agree with the capability selection: components follow `capabilities`, and a
    /// contradiction (a disabled provider of an enabled capability, or a second implementation)
    /// is rejected rather than guessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Chart version instead of the catalogue pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Namespace instead of the catalogue's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Helm values merged over the catalogue defaults (maps merge key by key; lists and
    /// scalars replace). No credentials here: the config is committed to Git, and a password,
    /// token or key is refused; give those with `valuesFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Map<String, Value>>,
    /// Values read from Secrets or ConfigMaps in `flux-system` (where the platform's HelmReleases
    /// are; helm-controller reads them next to the HelmRelease) when Flux installs the chart
    /// (the HelmRelease's `valuesFrom`): the way to give a chart a credential. The Secret
    /// comes from the secret store (an ExternalSecret), is SOPS-encrypted in the tree, or is
    /// created out of band (`kubectl create secret generic`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_from: Vec<ValuesReference>,
}

/// One source of Helm values for a component (Flux `HelmRelease.spec.valuesFrom[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValuesReference {
    /// `Secret` or `ConfigMap`.
    pub kind: ValuesKind,
    /// Its name, in `flux-system`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The key holding the values (default `values.yaml`); with `targetPath`, the key holding
    /// the one value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_key: Option<String>,
    /// Where the value goes, as a Helm `--set` path (`adminPassword`, `auth.existingSecret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_path: Option<String>,
    /// Install even when the Secret or key is missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// What a values reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ValuesKind {
    Secret,
    ConfigMap,
}

/// A team that deploys onto the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tenant {
    /// Tenant name: its namespace and directory `tenants/<name>`.
    pub name: String,
    /// OIDC group whose members may work in the namespace.
    pub group: String,
    /// The tenant's own Git repository, applied by Flux as the tenant's ServiceAccount. No
    /// credentials in the URL: a private repository is read with `repoSecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Name of the Secret in the tenant's namespace that Flux reads `repo` with (`username` and
    /// `password`, or `identity` and `known_hosts` for SSH), created out of band
    /// (`flux create secret git`), by an ExternalSecret, or SOPS-encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_secret_ref: Option<String>,
    /// Branch of `repo` that Flux follows (default `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Directory of `repo` that Flux applies (default the repository's root, `./`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Quota of the namespace.
    #[serde(default)]
    pub quota: Quota,
    /// How the haven admission webhook applies the Haven rule groups in the namespace (its
    /// `haven.commonground.nl/haven` and `haven.commonground.nl/plus` labels). Pod Security
    /// is always `restricted`.
    #[serde(default, skip_serializing_if = "TenantAdmission::is_default")]
    pub admission: TenantAdmission,
    /// What the tenant's objects may use: registries, LoadBalancer Services, host names
    /// (enforced by the admission engine; docs/plus.md, "Tenant policy").
    #[serde(default, skip_serializing_if = "TenantPolicy::is_default")]
    pub policy: TenantPolicy,
}

/// A tenant's policy: the namespace annotations the admission engine reads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantPolicy {
    /// Image reference prefixes the tenant's images must start with, instead of
    /// `capabilities.admission.allowedRegistries`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_registries: Vec<String>,
    /// Services of `type: LoadBalancer` (a public address of their own, past the platform's
    /// gateway): refused unless true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub load_balancer: bool,
    /// The host names the tenant's routes, ingresses, certificates and ExternalDNS annotations
    /// may claim (exact, or a `*.x` wildcard). Empty: `<tenant>.<domain>` and
    /// `*.<tenant>.<domain>` (only the first is covered by the platform's wildcard certificate
    /// `*.<domain>`; deeper names need a Certificate of their own). No item may cover one of the
    /// platform's own names (`grafana.<domain>`, `keycloak.<domain>`…) nor overlap another
    /// tenant's names (given or default): each tenant is denied the others'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
}

impl Tenant {
    /// The host names the tenant may claim under `domain`: its `policy.hostnames`, or, without
    /// them, `<tenant>.<domain>` and `*.<tenant>.<domain>`. Never "any name": a tenant without
    /// a list of its own could otherwise claim (route, certify through the platform's DNS-01
    /// issuer, publish through ExternalDNS) every name of the municipality's zone that is not
    /// the platform's, another tenant's included.
    pub fn hostnames(&self, domain: &str) -> Vec<String> {
        if self.policy.hostnames.is_empty() {
            vec![
                format!("{}.{domain}", self.name),
                format!("*.{}.{domain}", self.name),
            ]
        } else {
            self.policy.hostnames.clone()
        }
    }
}

impl TenantPolicy {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The Haven rule groups the admission webhook applies in a tenant's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantAdmission {
    /// The Haven application rules (`haven rules`, group haven): `enforce` (default) denies a
    /// Pod that breaks them, `audit` records it, `warn` tells the client, `off` skips them.
    #[serde(default)]
    pub haven: RuleGroupMode,
    /// The Haven+ expectations (group plus), the same modes; `enforce` by default.
    #[serde(default)]
    pub plus: RuleGroupMode,
}

impl TenantAdmission {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A mode of a Haven rule group, as the webhook reads it from a namespace label. YAML 1.1 reads
/// an unquoted `off` as `false`, which is read as `off` (as the webhook's own config does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleGroupMode {
    Off,
    Warn,
    Audit,
    #[default]
    Enforce,
}

impl<'de> Deserialize<'de> for RuleGroupMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Flag(bool),
        }
        const MODES: &[&str] = &["off", "warn", "audit", "enforce"];
        match Raw::deserialize(d)? {
            Raw::Flag(false) => Ok(Self::Off),
            Raw::Flag(true) => Err(serde::de::Error::custom(
                "`true` is not a mode: one of off, warn, audit, enforce",
            )),
            Raw::Text(s) => match s.as_str() {
                "off" => Ok(Self::Off),
                "warn" => Ok(Self::Warn),
                "audit" => Ok(Self::Audit),
                "enforce" => Ok(Self::Enforce),
                other => Err(serde::de::Error::unknown_variant(other, MODES)),
            },
        }
    }
}

impl JsonSchema for RuleGroupMode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleGroupMode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // `false`: an unquoted `off`, as YAML 1.1 reads it.
        schemars::json_schema!({"enum": ["off", "warn", "audit", "enforce", false]})
    }
}

impl RuleGroupMode {
    /// The label value (`haven-admission`'s `GroupMode::parse` reads it).
    pub fn label(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Warn => "warn",
            Self::Audit => "audit",
            Self::Enforce => "enforce",
        }
    }
}

/// The ResourceQuota of a tenant namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Quota {
    /// Total CPU requests (a Kubernetes quantity: `4`, `2500m`).
    #[serde(default = "default_cpu")]
    pub cpu: Quantity,
    /// Total memory requests (a Kubernetes quantity: `8Gi`); limits are twice this.
    #[serde(default = "default_memory")]
    pub memory: MemoryQuota,
    /// Most pods at once.
    #[serde(default = "default_pods")]
    pub pods: u32,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            cpu: default_cpu(),
            memory: default_memory(),
            pods: default_pods(),
        }
    }
}

fn default_cpu() -> Quantity {
    Quantity::parse("4").expect("a valid quantity")
}
fn default_memory() -> MemoryQuota {
    Quantity::parse("8Gi")
        .and_then(MemoryQuota::new)
        .expect("a valid memory quota")
}

/// A tenant's memory quota: the total of requests, and the total of limits, twice that (room
/// for bursts without unbounded overcommit). Both are checked when the quota is made, so a
/// request whose limit Kubernetes could not hold is refused when the config is read, with its
/// line, rather than rendered wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryQuota {
    request: Quantity,
    limit: Quantity,
}

impl MemoryQuota {
    pub fn new(request: Quantity) -> Result<Self, QuantityError> {
        Ok(Self {
            request,
            limit: request.checked_mul(2)?,
        })
    }

    /// `requests.memory` of the ResourceQuota.
    pub fn request(&self) -> Quantity {
        self.request
    }

    /// `limits.memory` of the ResourceQuota: exactly twice the request (`1.5Gi` → `3Gi`).
    pub fn limit(&self) -> Quantity {
        self.limit
    }
}

impl Serialize for MemoryQuota {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.request.serialize(s)
    }
}

impl<'de> Deserialize<'de> for MemoryQuota {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MemoryQuota::new(Quantity::deserialize(d)?).map_err(|e| {
            serde::de::Error::custom(format!("the limit is twice the request, and {e}"))
        })
    }
}

impl JsonSchema for MemoryQuota {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Quantity::schema_name()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Quantity::json_schema(g)
    }
}
fn default_pods() -> u32 {
    50
}

impl PlatformConfig {
    /// A config with every default, as `haven plus init` writes it.
    pub fn new(name: &str, domain: &str, provider: Provider) -> Self {
        Self {
            version: CURRENT_VERSION,
            cluster: Cluster {
                name: name.to_owned(),
                domain: domain.to_owned(),
                provider,
                kubernetes_version: default_kubernetes_version(),
                git: GitSource::default(),
                acme_email: None,
                storage_class: None,
                rwx_storage_class: None,
                load_balancer: None,
                dns_provider: None,
                layout: Layout::Flat,
            },
            capabilities: Capabilities {
                metrics_server: Toggle {
                    enabled: provider.offers_metrics_server_default(),
                },
                ..Capabilities::default()
            },
            components: BTreeMap::new(),
            tenants: Vec::new(),
        }
    }

    pub fn acme_email(&self) -> String {
        self.cluster
            .acme_email
            .clone()
            .unwrap_or_else(|| format!("platform@{}", self.cluster.domain))
    }

    pub fn storage_class(&self) -> String {
        self.cluster
            .storage_class
            .clone()
            .unwrap_or_else(|| self.cluster.provider.defaults().storage_class.to_owned())
    }

    pub fn rwx_storage_class(&self) -> String {
        // The platform's own NFS provisioner's class, when it runs one.
        if self.cluster.rwx_storage_class.is_none() && self.capabilities.storage.nfs.is_some() {
            return NFS_STORAGE_CLASS.to_owned();
        }
        self.cluster.rwx_storage_class.clone().unwrap_or_else(|| {
            self.cluster
                .provider
                .defaults()
                .rwx_storage_class
                .to_owned()
        })
    }

    pub fn load_balancer(&self) -> LoadBalancer {
        // MetalLB on the platform: Gateways become LoadBalancer Services it serves.
        if self.cluster.load_balancer.is_none() && self.capabilities.load_balancer.enabled {
            return LoadBalancer::Metallb;
        }
        self.cluster
            .load_balancer
            .unwrap_or(self.cluster.provider.defaults().load_balancer)
    }

    /// The ExternalDNS provider name: `capabilities.dns.provider`, else `cluster.dnsProvider`
    /// (any ExternalDNS provider, wired by hand), else the cluster provider's.
    pub fn dns_provider(&self) -> String {
        if let Some(p) = self.capabilities.dns.provider {
            return p.name().to_owned();
        }
        self.cluster
            .dns_provider
            .clone()
            .unwrap_or_else(|| self.cluster.provider.defaults().dns_provider.to_owned())
    }

    /// The DNS provider when it is one haven wires (credentials, settings, DNS-01).
    pub fn wired_dns_provider(&self) -> Option<DnsProvider> {
        DnsProvider::from_name(&self.dns_provider())
    }

    /// The zone of the DNS records and ACME challenges.
    pub fn dns_zone(&self) -> String {
        self.capabilities
            .dns
            .zone
            .clone()
            .unwrap_or_else(|| self.cluster.domain.clone())
    }
}

/// The JSON Schema of the config file, generated from these types: strict (every object
/// rejects unknown keys), documented, with defaults.
pub fn json_schema() -> String {
    let schema = schema_value();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

pub(crate) fn schema_value() -> Value {
    let mut schema = schemars::schema_for!(PlatformConfig);
    schema.insert(
        "$id".to_owned(),
        Value::String("https://haven.commonground.nl/schemas/haven-plus-v1.json".to_owned()),
    );
    let mut v = schema.to_value();
    forbid_additional_properties(&mut v);
    v
}

/// `deny_unknown_fields` makes schemars write `additionalProperties: false` on structs; maps
/// (`components`, `values`) stay open. This walk only makes sure nested inline objects of our
/// own types are closed too, so the file and the schema agree.
fn forbid_additional_properties(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            for (_, child) in map.iter_mut() {
                forbid_additional_properties(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_additional_properties),
        _ => {}
    }
}

/// Reads a config file: YAML as Kubernetes reads it, migration of older versions, unknown keys
/// (with line and "did you mean"), types, then the choices against the catalogue.
///
/// Returns the config and notes (e.g. "migrated from version 0").
pub fn parse(
    file: &str,
    text: &str,
    catalogue: &Catalogue,
) -> Result<(PlatformConfig, Vec<String>), Vec<ConfigError>> {
    let doc = match haven_model::load::single_document(file, text) {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Err(vec![ConfigError::at(
                file,
                1,
                "",
                "the config is empty (start with `version: 1`)",
            )]);
        }
        Err(e) if matches!(e.kind, haven_model::InputErrorKind::ExtraDocument) => {
            // The errors of the first document are reported too, before this one (file order):
            // a stray `---` must not hide them.
            let first: String = text
                .split_inclusive('\n')
                .take(e.line.saturating_sub(1) as usize)
                .collect();
            let mut errors = parse(file, &first, catalogue).err().unwrap_or_default();
            errors.push(ConfigError::at(
                file,
                e.line,
                e.field.as_deref().unwrap_or_default(),
                e.message,
            ));
            errors.sort_by_key(|e| e.line);
            return Err(errors);
        }
        Err(e) => {
            return Err(vec![ConfigError::at(
                file,
                e.line,
                e.field.as_deref().unwrap_or_default(),
                e.message,
            )]);
        }
    };
    let mut notes = Vec::new();
    let mut value = doc.value;
    let root = doc.root;
    if !value.is_object() {
        return Err(vec![ConfigError::at(
            file,
            root.line,
            "",
            "the config must be a mapping (start with `version: 1`)",
        )]);
    }
    let version = value.get("version").and_then(Value::as_u64);
    let migrated = match version {
        None | Some(0) => {
            value = crate::migrate::from_v0(value)
                .map_err(|e| vec![ConfigError::at(file, root.line, "", e.to_string())])?;
            notes.push(format!(
                "{file}: version 0 (alpha) config migrated to version {CURRENT_VERSION}; `haven plus migrate` rewrites the file"
            ));
            true
        }
        Some(1) => false,
        Some(v) => {
            return Err(vec![ConfigError::at(
                file,
                root.position("version").0,
                "version",
                format!(
                    "config version {v} is newer than this haven understands (1); upgrade haven"
                ),
            )]);
        }
    };
    // Positions are of the file as written; after a migration the paths differ, so errors
    // point at the document.
    let line_of = |path: &str| {
        if migrated {
            root.line
        } else {
            root.position(path).0
        }
    };
    let schema = schema_value();
    let mut errors: Vec<ConfigError> = haven_model::strict::unknown_properties(&schema, &value)
        .into_iter()
        .map(|u| {
            let hint = haven_model::did_you_mean(&u.key, &u.known)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let full = join_path(&u.parent, &u.key);
            ConfigError::at(
                file,
                line_of(&full),
                &full,
                format!("unknown key `{}`{hint}", u.key),
            )
        })
        .collect();
    // Every wrong type and value at once (one per key), from the same schema, with the unknown
    // keys, in file order; serde below then only meets what the schema cannot express.
    errors.extend(
        schema_errors(&schema, &value)
            .into_iter()
            .map(|(path, msg)| ConfigError::at(file, line_of(&path), &path, msg)),
    );
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut config: PlatformConfig = match serde_path_to_error::deserialize(&value) {
        Ok(c) => c,
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let inner = e.into_inner().to_string();
            return Err(vec![ConfigError::at(file, line_of(&path), &path, inner)]);
        }
    };
    // The provider's default where the file does not say (serde's default cannot see the
    // provider).
    if value
        .pointer("/capabilities/metricsServer/enabled")
        .is_none()
    {
        config.capabilities.metrics_server.enabled =
            config.cluster.provider.offers_metrics_server_default();
    }
    errors.extend(
        crate::catalogue::check_choices(&config, catalogue)
            .into_iter()
            .chain(crate::secrets::check_config(&config))
            .chain(check_values(&config))
            .map(|(path, msg)| ConfigError::at(file, line_of(&path), &path, msg)),
    );
    if errors.is_empty() {
        Ok((config, notes))
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// The values whose format the schema cannot express, as (key path, message): each is checked
/// as the program that reads it does ([`crate::formats`]). Cluster name, domain and Kubernetes
/// minor are checked with the choices (`catalogue::check_choices`), quotas when they are read.
pub fn check_values(config: &PlatformConfig) -> Vec<(String, String)> {
    use crate::formats;
    let mut out = Vec::new();
    let mut check = |path: &str, r: Result<(), formats::FormatError>| {
        if let Err(e) = r {
            out.push((path.to_owned(), e.to_string()));
        }
    };
    if let Some(e) = &config.cluster.acme_email {
        check("cluster.acmeEmail", formats::email(e));
    }
    let dns = &config.capabilities.dns;
    if let Some(zone) = &dns.zone {
        let domain = &config.cluster.domain;
        check(
            "capabilities.dns.zone",
            formats::hostname(zone).and_then(|()| {
                if domain == zone || domain.ends_with(&format!(".{zone}")) {
                    Ok(())
                } else {
                    Err(formats::FormatError::NotParent {
                        value: zone.clone(),
                        of: domain.clone(),
                    })
                }
            }),
        );
    }
    let rfc2136 =
        |path: &str, r: &Rfc2136, check: &mut dyn FnMut(&str, Result<(), formats::FormatError>)| {
            check(&format!("{path}.server"), formats::host(&r.server));
            // A TSIG key name is a domain name (`tsig-keygen` takes one), trailing dot allowed.
            check(
                &format!("{path}.tsigKeyName"),
                formats::hostname(r.tsig_key_name.trim_end_matches('.')),
            );
        };
    if let Some(r) = &dns.rfc2136 {
        rfc2136("capabilities.dns.rfc2136", r, &mut check);
    }
    if let Some(a) = dns.ovh.as_ref().and_then(|o| o.acme_challenge.as_ref()) {
        rfc2136("capabilities.dns.ovh.acmeChallenge", &a.server, &mut check);
        check(
            "capabilities.dns.ovh.acmeChallenge.zone",
            formats::hostname(&a.zone),
        );
    }
    check(
        "capabilities.objectStorage.size",
        formats::volume_size(&config.capabilities.object_storage.size).map(|_| ()),
    );
    let b = &config.capabilities.backups;
    check(
        "capabilities.backups.schedule",
        formats::velero_cron(&b.schedule),
    );
    check(
        "capabilities.backups.ttl",
        formats::positive_go_duration(&b.ttl).map(|_| ()),
    );
    let alerting_errs = check_alerting(config, &mut check);
    let mut backup_errs: Vec<(String, String)> = Vec::new();
    if b.enabled
        && let Some(t) = &b.target
    {
        match (&t.s3, t.in_cluster) {
            (Some(_), true) => backup_errs.push((
                "capabilities.backups.target".to_owned(),
                "both `s3` and `inCluster`: choose one target".to_owned(),
            )),
            (None, false) => backup_errs.push((
                "capabilities.backups.target".to_owned(),
                "no target: set `s3` (an object store outside the cluster) or `inCluster: true`"
                    .to_owned(),
            )),
            (None, true) if !config.capabilities.object_storage.enabled => backup_errs.push((
                "capabilities.backups.target.inCluster".to_owned(),
                "the in-cluster target is Garage, and `objectStorage` is off: set `s3` or enable `objectStorage`"
                    .to_owned(),
            )),
            _ => {}
        }
        if let Some(s3) = &t.s3 {
            let p = "capabilities.backups.target.s3";
            check(
                &format!("{p}.endpoint"),
                formats::s3_endpoint(&s3.endpoint).map(|_| ()),
            );
            check(&format!("{p}.bucket"), formats::s3_bucket(&s3.bucket));
            if s3.region.is_empty()
                || !s3
                    .region
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            {
                backup_errs.push((
                    format!("{p}.region"),
                    format!(
                        "`{}` is not a region (letters, digits, '-', e.g. `eu-west-1`)",
                        s3.region
                    ),
                ));
            }
            if let Err(e) = formats::store_path(&s3.secret_path) {
                backup_errs.push((format!("{p}.secretPath"), e.to_string()));
            }
        }
    }
    if let (Some(p), Some(c)) = (dns.provider, config.cluster.dns_provider.as_deref())
        && p.name() != c
    {
        out.push((
            "cluster.dnsProvider".to_owned(),
            format!(
                "`{c}` contradicts `capabilities.dns.provider: {}`; keep one",
                p.name()
            ),
        ));
    }
    for (key, set, name) in [
        ("rfc2136", dns.rfc2136.is_some(), DnsProvider::Rfc2136),
        ("azure", dns.azure.is_some(), DnsProvider::Azure),
        ("ovh", dns.ovh.is_some(), DnsProvider::Ovh),
    ] {
        if set && config.wired_dns_provider() != Some(name) {
            out.push((
                format!("capabilities.dns.{key}"),
                format!(
                    "settings for {} while the DNS provider is {}: set `capabilities.dns.provider: {}` or remove them",
                    name.name(),
                    config.dns_provider(),
                    name.name()
                ),
            ));
        }
    }
    out.extend(backup_errs);
    out.extend(alerting_errs);
    out.extend(check_policy(config));
    out.extend(check_dex(config));
    if config.cluster.provider == Provider::Azure && config.capabilities.metrics_server.enabled {
        out.push((
            "capabilities.metricsServer.enabled".to_owned(),
            "AKS runs metrics-server itself (a managed add-on that owns the APIService v1beta1.metrics.k8s.io), so a second one cannot be installed: Helm cannot adopt the APIService and the release fails for ever; remove the key (off by default on azure)".to_owned(),
        ));
    }
    out
}

/// Dex's connectors as Dex would refuse them, or as they would leak a secret into Git: ids
/// unique and of `[a-z0-9-]` (they name the connector's environment variables and its entry
/// in the secret store), secret keys as Dex's config keys are written (`clientSecret`) and not
/// also given in `config`, and no credential in `config` in clear text.
fn check_dex(config: &PlatformConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let identity = &config.capabilities.identity;
    let dex = &identity.dex;
    if dex.is_empty() {
        return out;
    }
    if identity.provider != IdentityProvider::Dex {
        out.push((
            "capabilities.identity.dex".to_owned(),
            format!(
                "settings for Dex while the identity provider is {}: set `capabilities.identity.provider: dex` or remove them",
                kebab(identity.provider)
            ),
        ));
        return out;
    }
    let mut ids = std::collections::BTreeSet::new();
    for (i, c) in dex.connectors.iter().enumerate() {
        let base = format!("capabilities.identity.dex.connectors[{i}]");
        let valid_id =
            c.id.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !valid_id {
            out.push((
                format!("{base}.id"),
                format!(
                    "`{}` is not a connector id haven can name a secret after: lower-case letters, digits and `-`, starting with a letter or digit",
                    c.id
                ),
            ));
        } else if !ids.insert(c.id.as_str()) {
            out.push((
                format!("{base}.id"),
                format!(
                    "connector id `{}` is given twice; Dex needs each once",
                    c.id
                ),
            ));
        }
        for (j, key) in c.secrets.iter().enumerate() {
            let valid = key.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && key.chars().all(|ch| ch.is_ascii_alphanumeric());
            if !valid {
                out.push((
                    format!("{base}.secrets[{j}]"),
                    format!("`{key}` is not a key of a Dex connector's config (letters and digits: `clientSecret`, `bindPW`)"),
                ));
            } else if c.config.contains_key(key) {
                out.push((
                    format!("{base}.config.{key}"),
                    format!("`{key}` is listed in `secrets` (read from the secret store) and given here too; remove it from `config`"),
                ));
            }
        }
        let mut found = Vec::new();
        crate::secrets::scan_values(
            &Value::Object(c.config.clone()),
            &format!("{base}.config"),
            &mut found,
        );
        for e in found {
            out.push((
                e.path,
                format!(
                    "{}; the config is committed to Git: list the key in `secrets` instead, and put its value in the secret store (docs/plus.md, \"Dex connectors\")",
                    e.what
                ),
            ));
        }
    }
    out
}

/// The tenant policy's values (`capabilities.admission` and `tenants[].policy`): registry
/// prefixes and host names in their formats, no tenant host name (given or default) covering one
/// of the platform's or overlapping another tenant's
/// (a tenant claiming one is the privilege path the policy closes), signature verification only
/// where the engine can check it.
fn check_policy(config: &PlatformConfig) -> Vec<(String, String)> {
    use crate::formats;
    let mut out = Vec::new();
    let a = &config.capabilities.admission;
    let registries = |path: String, list: &[String], out: &mut Vec<(String, String)>| {
        for (i, r) in list.iter().enumerate() {
            if let Err(e) = formats::registry_prefix(r) {
                out.push((format!("{path}[{i}]"), e.to_string()));
            }
        }
    };
    registries(
        "capabilities.admission.allowedRegistries".to_owned(),
        &a.allowed_registries,
        &mut out,
    );
    if let Some(v) = &a.image_verification {
        let p = "capabilities.admission.imageVerification";
        if a.engine != AdmissionEngine::Kyverno {
            out.push((
                p.to_owned(),
                "image signature verification needs `engine: kyverno` (Kyverno's verifyImages); the haven webhook does not call registries".to_owned(),
            ));
        }
        if v.public_keys.is_empty() && v.keyless.is_none() {
            out.push((
                p.to_owned(),
                "no signer: set `publicKeys` (cosign PEM keys) or `keyless` (issuer and subjectRegexp)".to_owned(),
            ));
        }
        for (i, k) in v.public_keys.iter().enumerate() {
            let k = k.trim();
            if !(k.starts_with("-----BEGIN PUBLIC KEY-----")
                && k.ends_with("-----END PUBLIC KEY-----"))
            {
                out.push((
                    format!("{p}.publicKeys[{i}]"),
                    "not a PEM public key (`-----BEGIN PUBLIC KEY-----` … `-----END PUBLIC KEY-----`, as `cosign generate-key-pair` writes cosign.pub)".to_owned(),
                ));
            }
        }
        if let Some(k) = &v.keyless
            && let Err(e) = regex::Regex::new(&k.subject_regexp)
        {
            out.push((
                format!("{p}.keyless.subjectRegexp"),
                format!("not a regular expression: {e}"),
            ));
        }
    }
    let domain = &config.cluster.domain;
    let platform: Vec<String> = crate::render::PLATFORM_UIS
        .iter()
        .map(|(_, host, _, _)| format!("{host}.{domain}"))
        .collect();
    // Judged as the webhook judges a claim against `denied-hostnames` (haven-rules'
    // `HostPattern::overlaps`): exact, or a wildcard covering it at any depth.
    let claims = |pattern: &str, name: &str| match (
        pattern.parse::<haven_rules::tenant::HostPattern>(),
        name.parse::<haven_rules::tenant::HostPattern>(),
    ) {
        (Ok(claimed), Ok(denied)) => claimed.overlaps(&denied),
        _ => false,
    };
    // Each tenant's names, given or default, with the key they are written at (the default's:
    // the tenant's name, which makes it).
    let mut owned: Vec<(usize, String)> = Vec::new();
    for (t, tenant) in config.tenants.iter().enumerate() {
        let p = format!("tenants[{t}].policy");
        registries(
            format!("{p}.allowedRegistries"),
            &tenant.policy.allowed_registries,
            &mut out,
        );
        let given = !tenant.policy.hostnames.is_empty();
        for (i, h) in tenant.hostnames(domain).into_iter().enumerate() {
            let at = if given {
                format!("{p}.hostnames[{i}]")
            } else {
                format!("tenants[{t}].name")
            };
            let named = if given {
                format!("`{h}`")
            } else {
                format!("the default host name `{h}`")
            };
            if given && let Err(e) = formats::hostname_pattern(&h) {
                out.push((at, e.to_string()));
                continue;
            }
            if let Some(p) = platform.iter().find(|p| claims(&h, p)) {
                let fix = if given {
                    "give the tenant names of its own"
                } else {
                    "the tenant's default names are `<tenant>.<domain>` and `*.<tenant>.<domain>`: rename the tenant or give it `policy.hostnames` of its own"
                };
                out.push((
                    at,
                    format!(
                        "{named} claims `{p}`, a host name of the platform's own (denied to tenants): {fix}"
                    ),
                ));
                continue;
            }
            // Two owners of one name: either could route its traffic, certify it through the
            // platform's issuer or publish it through ExternalDNS. Each tenant is denied the
            // others' names (render), so an overlap would also lock one out of its own.
            if let Some((o, other)) = owned.iter().find(|(o, other)| *o != t && claims(&h, other)) {
                let theirs = if config.tenants[*o].policy.hostnames.is_empty() {
                    " (its default)"
                } else {
                    ""
                };
                out.push((
                    at,
                    format!(
                        "{named} overlaps `{other}`, a host name of tenant `{}`{theirs}: a host name has one owner; give the tenants names that do not overlap",
                        config.tenants[*o].name
                    ),
                ));
                continue;
            }
            owned.push((t, h));
        }
    }
    out
}

/// The receivers of `capabilities.alerting`: addresses as an SMTP server takes them, the
/// server as `host:port`, the store path.
fn check_alerting(
    config: &PlatformConfig,
    check: &mut dyn FnMut(&str, Result<(), crate::formats::FormatError>),
) -> Vec<(String, String)> {
    use crate::formats;
    let a = &config.capabilities.alerting;
    let p = "capabilities.alerting";
    if let Some(e) = &a.email {
        check(
            &format!("{p}.email.smarthost"),
            formats::host_port(&e.smarthost).map(|_| ()),
        );
        check(&format!("{p}.email.from"), formats::email(&e.from));
        for (i, to) in e.to.iter().enumerate() {
            check(&format!("{p}.email.to[{i}]"), formats::email(to));
        }
    }
    if !a.is_empty() {
        check(
            &format!("{p}.secretPath"),
            formats::store_path(&a.secret_path),
        );
    }
    if !a.is_empty() && !config.capabilities.metrics.enabled {
        return vec![(
            p.to_owned(),
            "receivers without metrics: nothing evaluates alerts; enable `capabilities.metrics` or remove `alerting`".to_owned(),
        )];
    }
    Vec::new()
}

/// Schema violations as (key path, message), the first per key.
fn schema_errors(schema: &Value, value: &Value) -> Vec<(String, String)> {
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return Vec::new();
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for e in validator.iter_errors(value) {
        // Unknown keys are reported by `strict::unknown_properties`, one per key with a "did
        // you mean".
        if matches!(
            e.kind(),
            jsonschema::error::ValidationErrorKind::AdditionalProperties { .. }
        ) {
            continue;
        }
        let mut path = String::new();
        let mut node = Some(schema);
        for seg in e.instance_path().iter() {
            match seg {
                jsonschema::paths::LocationSegment::Property(p) => {
                    haven_model::path::push_key(&mut path, &p);
                    node = node.and_then(|n| {
                        let n = resolve(schema, n);
                        n.get("properties")
                            .and_then(|ps| ps.get(p.as_ref()))
                            .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))
                    });
                }
                jsonschema::paths::LocationSegment::Index(i) => {
                    path.push_str(&format!("[{i}]"));
                    node = node.and_then(|n| resolve(schema, n).get("items"));
                }
            }
        }
        if !seen.insert(path.clone()) {
            continue;
        }
        let instance = e.instance();
        let shown = match instance.as_ref() {
            Value::String(s) => format!("`{s}`"),
            other => other.to_string(),
        };
        let choices = node.and_then(|n| enum_values(schema, resolve(schema, n)));
        let msg = match choices {
            Some(values) => format!("{shown} is not one of {}", values.join(" | ")),
            None => e.to_string(),
        };
        out.push((path, msg));
    }
    out
}

pub(crate) fn join_path(parent: &str, key: &str) -> String {
    let mut out = parent.to_owned();
    haven_model::path::push_key(&mut out, key);
    out
}

/// The commented YAML `haven plus init` writes: every capability spelled out with its default,
/// so that the file documents itself.
pub fn init_yaml(config: &PlatformConfig) -> String {
    let c = config;
    let d = c.cluster.provider.defaults();
    format!(
        "# haven-plus.yaml: the Haven+ platform of one cluster. `haven plus render` turns it into a\n\
         # Flux GitOps tree; `haven plus explain <key.path>` documents every key; the JSON Schema is\n\
         # docs/config-schema/haven-plus-v1.json (editors: yaml-language-server $schema).\n\
         version: 1\n\
         cluster:\n\
         \x20 name: {name}\n\
         \x20 domain: {domain}\n\
         \x20 # previder | cyso | ovh | azure | kind | generic: decides the defaults below.\n\
         \x20 provider: {provider}\n\
         \x20 kubernetesVersion: \"{kv}\"   # {window}\n\
         \x20 git:\n\
         \x20   url: {git}\n\
         \x20   branch: {branch}\n\
         \x20 # Provider defaults, uncomment to override:\n\
         \x20 # storageClass: {sc}\n\
         \x20 # rwxStorageClass: {rwx}\n\
         \x20 # loadBalancer: {lb}\n\
         \x20 # dnsProvider: {dns}\n\
         \x20 # acmeEmail: platform@{domain}\n\
         \x20 # flat | reference: the Haven+ reference's layout, a shared base and an overlay\n\
         \x20 # per cluster, so that one repository serves many clusters:\n\
         \x20 # layout: flat\n\
         # Every capability is on by default; set `enabled: false` to leave one out.\n\
         capabilities:\n\
         \x20 logs: {{enabled: true}}            # Alloy + Loki\n\
         \x20 metrics:\n\
         \x20   enabled: true\n\
         \x20   backend: mimir                  # mimir | kube-prometheus-stack\n\
         \x20 # kube-state-metrics, with the mimir backend (kube-prometheus-stack has its own copy):\n\
         \x20 kubeStateMetrics: {{enabled: true}}\n\
         \x20 # Where alerts go (docs/plus.md, \"Alerts\"); credentials from the store's secretPath:\n\
         \x20 # alerting:\n\
         \x20 #   email: {{smarthost: smtp.{domain}:587, from: alerts@{domain}, to: [platform@{domain}], username: alerts@{domain}}}\n\
         \x20 #   webhook: {{format: slack}}       # slack (Slack, Mattermost, Rocket.Chat) | webhook\n\
         \x20 #   heartbeat: true                # Watchdog every 5 minutes to a dead man's switch\n\
         \x20 #   secretPath: platform/alerting/receivers   # smtp-password, webhook-url, heartbeat-url\n\
         \x20 traces: {{enabled: true}}          # Tempo\n\
         \x20 dashboards: {{enabled: true}}      # Grafana (its login with the identity provider unless sso: false)\n\
         \x20 metricsServer: {{enabled: {ms}}}{ms_why}\n\
         \x20 certificates: {{enabled: true}}    # cert-manager + Let's Encrypt ClusterIssuers\n\
         \x20 secrets:\n\
         \x20   enabled: true\n\
         \x20   backend: openbao                # openbao (External Secrets) | sealed-secrets\n\
         \x20 identity:\n\
         \x20   enabled: true\n\
         \x20   provider: keycloak              # keycloak | dex | zitadel\n\
         \x20   # With dex: who logs in (Dex does not start without a connector; docs/plus.md,\n\
         \x20   # \"Dex connectors\"). Secret keys come from the store: platform/dex/connector-<id>.\n\
         \x20   # dex:\n\
         \x20   #   connectors:\n\
         \x20   #   - type: oidc\n\
         \x20   #     id: entra\n\
         \x20   #     name: Entra ID\n\
         \x20   #     config: {{issuer: https://login.microsoftonline.com/<tenant-id>/v2.0, clientID: <app-id>, redirectURI: https://dex.{domain}/callback}}\n\
         \x20   #     secrets: [clientSecret]\n\
         \x20 imageScanning: {{enabled: true}}   # Trivy Operator\n\
         \x20 intrusionDetection: {{enabled: true}}  # Falco\n\
         \x20 admission:\n\
         \x20   enabled: true\n\
         \x20   engine: haven-admission         # haven-admission | kyverno\n\
         \x20   # Tenant policy (docs/plus.md, \"Tenant policy\"): the registries tenants' images come from\n\
         \x20   # (tenants[].policy.allowedRegistries overrides), and with kyverno their signatures:\n\
         \x20   # allowedRegistries: [registry.{domain}, ghcr.io/gemeente-x]\n\
         \x20   # imageVerification: {{images: [\"ghcr.io/gemeente-x/*\"], publicKeys: [\"-----BEGIN PUBLIC KEY-----...\"]}}\n\
         \x20 dns:\n\
         \x20   enabled: true                   # ExternalDNS, and DNS-01 for the wildcard certificate\n\
         {dns_settings}\
         \x20 ingress:\n\
         \x20   enabled: true\n\
         \x20   implementation: envoy-gateway   # envoy-gateway | traefik | cilium | istio\n\
         \x20 postgresql: {{enabled: true}}      # CloudNativePG\n\
         \x20 backups:\n\
         \x20   enabled: true                   # Velero\n\
         \x20   schedule: \"0 2 * * *\"\n\
         \x20   ttl: 168h0m0s\n\
         \x20   # Where backups go: an object store outside the cluster (docs/plus.md, \"Backups and the restore drill\"),\n\
         \x20   # or `target: {{inCluster: true}}` (Garage, lost with the cluster).\n\
         \x20   # target:\n\
         \x20   #   s3:\n\
         \x20   #     endpoint: https://s3.example.nl\n\
         \x20   #     bucket: haven-backups\n\
         \x20   #     region: eu-west-1\n\
         \x20   #     secretPath: platform/backups/s3   # ACCESS_KEY_ID, ACCESS_SECRET_KEY\n\
         \x20 objectStorage: {{enabled: true}}   # Garage\n\
         \x20 # Off unless enabled (docs/plus.md, \"Cluster UI and kubectl login\"):\n\
         \x20 # kubectlLogin: {{enabled: true}}     # Pinniped: kubectl login with the identity provider\n\
         \x20 # clusterUI: {{enabled: true}}        # Headlamp with OIDC\n\
         \x20 # policyReports: {{enabled: true}}    # policy-reporter: Kyverno and Trivy results\n\
         \x20 # loadBalancer:                       # MetalLB, without a cloud load balancer\n\
         \x20 #   enabled: true\n\
         \x20 #   addresses: [192.0.2.32/27]\n\
         \x20 # storage:                            # RWX class nfs-client on an NFS export\n\
         \x20 #   nfs: {{server: nfs.example.nl, path: /exports/haven}}\n\
         # Per-component overrides (version, namespace, values), e.g.:\n\
         # components:\n\
         #   loki:\n\
         #     values:\n\
         #       singleBinary: {{replicas: 3}}\n\
         # Tenants: `haven plus tenant add NAME --group OIDC-GROUP [--repo URL]` appends here;\n\
         # each may have `policy: {{allowedRegistries: [...], loadBalancer: true, hostnames: [app.gemeente.nl]}}`.\n\
         tenants: []\n",
        name = c.cluster.name,
        domain = c.cluster.domain,
        provider = c.cluster.provider.name(),
        kv = c.cluster.kubernetes_version,
        window = crate::validate::SUPPORTED_KUBERNETES.join(" | "),
        git = c.cluster.git.url,
        branch = c.cluster.git.branch,
        sc = d.storage_class,
        rwx = d.rwx_storage_class,
        ms = c.capabilities.metrics_server.enabled,
        ms_why = if c.cluster.provider.offers_metrics_server_default() {
            ""
        } else {
            "   # AKS runs its own (a managed add-on)"
        },
        lb = kebab(d.load_balancer),
        dns = d.dns_provider,
        dns_settings = init_dns_settings(d.dns_provider, &c.cluster.domain),
    )
}

/// The commented DNS settings `haven plus init` writes for the provider's DNS (without them
/// there is no DNS-01, so no wildcard certificate).
fn init_dns_settings(provider: &str, domain: &str) -> String {
    let lines: &[&str] = match provider {
        "azure" => &[
            "# Azure DNS; the DNS Zone Contributor identity (workload-identity | service-principal):",
            "# azure: {subscriptionId: ..., resourceGroup: ..., tenantId: ..., clientId: ..., auth: workload-identity}",
        ],
        "ovh" => &[
            "# OVH API for ExternalDNS; ACME challenges delegated by CNAME to an RFC 2136 zone:",
            "# ovh: {endpoint: ovh-eu, acmeChallenge: {zone: acme.DOMAIN, server: ns1.DOMAIN, tsigKeyName: haven-plus}}",
        ],
        "rfc2136" => &[
            "# The DNS server taking RFC 2136 updates signed with a TSIG key:",
            "# rfc2136: {server: ns1.DOMAIN, port: 53, tsigKeyName: haven-plus, tsigAlgorithm: hmac-sha256}",
        ],
        _ => &[],
    };
    let pad = |l: String, comment: &str| format!("    {l:<32}# {comment}\n");
    let mut out = pad(
        format!("# provider: {provider}"),
        "rfc2136 | azure | ovh | inmemory",
    );
    out.push_str(&pad(
        format!("# zone: {domain}"),
        "cluster.domain or a parent of it",
    ));
    for l in lines {
        out.push_str(&format!("    {}\n", l.replace("DOMAIN", domain)));
    }
    out
}

/// For a key path that names no key (`capabilities.backups.tll`), the nearest one that does
/// (`capabilities.backups.ttl`), correcting each step by edit distance.
pub fn suggest_key(path: &str) -> Option<String> {
    let schema = schema_value();
    let mut node = &schema;
    let mut out = String::new();
    for step in haven_model::path::parse(path) {
        let haven_model::path::Step::Key(key) = step else {
            return None;
        };
        node = object_schema(&schema, node);
        let props = node.get("properties").and_then(Value::as_object)?;
        let name = if props.contains_key(key) {
            key.to_owned()
        } else {
            let known: Vec<String> = props.keys().cloned().collect();
            haven_model::did_you_mean(key, &known)?.to_owned()
        };
        haven_model::path::push_key(&mut out, &name);
        node = &props[&name];
    }
    (out != path && explain(&out).is_some()).then_some(out)
}

/// The documentation of one key path, from the schema: description, type, default, allowed
/// values. `None` when the path names no key.
pub fn explain(path: &str) -> Option<String> {
    let schema = schema_value();
    let mut node = &schema;
    let mut walked = Vec::new();
    for step in haven_model::path::parse(path) {
        let haven_model::path::Step::Key(key) = step else {
            return None;
        };
        node = object_schema(&schema, node);
        let next = node
            .get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| match node.get("additionalProperties") {
                Some(v @ Value::Object(_)) => Some(v),
                _ => None,
            })?;
        walked.push(key);
        node = next;
    }
    let resolved = resolve(&schema, node);
    let mut out = String::new();
    out.push_str(if path.is_empty() { "(the file)" } else { path });
    out.push('\n');
    let desc = node
        .get("description")
        .or_else(|| resolved.get("description"))
        .and_then(Value::as_str);
    if let Some(d) = desc {
        for line in d.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    let ty = describe_type(&schema, resolved);
    if !ty.is_empty() {
        out.push_str(&format!("\ntype:    {ty}\n"));
    }
    if let Some(def) = node.get("default").or_else(|| resolved.get("default")) {
        out.push_str(&format!(
            "default: {}\n",
            serde_json::to_string(def).unwrap_or_default()
        ));
    }
    if let Some(props) = resolved.get("properties").and_then(Value::as_object) {
        out.push_str("keys:    ");
        out.push_str(&props.keys().cloned().collect::<Vec<_>>().join(", "));
        out.push('\n');
    }
    Some(out)
}

/// The object schema whose `properties` name the next key: `node` with references resolved,
/// or, for a list (`tenants`), its items' schema, so the items' keys read as the list's own.
fn object_schema<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let node = resolve(root, node);
    match node.get("items") {
        Some(items) if node.get("properties").is_none() => resolve(root, items),
        _ => node,
    }
}

fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p)) else {
                return node;
            };
            node = target;
        } else if let Some(all) = node.get("allOf").and_then(Value::as_array)
            && all.len() == 1
        {
            node = &all[0];
        } else if let Some(any) = node.get("anyOf").and_then(Value::as_array)
            && let [one] = any
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .collect::<Vec<_>>()[..]
            && one.get("$ref").is_some()
        {
            // An optional object (`Option<Struct>`): `anyOf: [{$ref}, {type: null}]`.
            node = one;
        } else {
            return node;
        }
    }
    node
}

fn describe_type(root: &Value, node: &Value) -> String {
    if let Some(values) = enum_values(root, node) {
        return format!("one of {}", values.join(" | "));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = node.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = alts
                .iter()
                .map(|a| describe_type(root, resolve(root, a)))
                .filter(|s| !s.is_empty() && s != "null")
                .collect();
            return parts.join(" | ");
        }
    }
    match node.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    }
}

fn enum_values(root: &Value, node: &Value) -> Option<Vec<String>> {
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        return Some(
            e.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        );
    }
    if let Some(c) = node.get("const").and_then(Value::as_str) {
        return Some(vec![c.to_owned()]);
    }
    // An optional choice (`Option<enum>`) is `anyOf: [choice, null]`: its values are the
    // choice's.
    let alts = node
        .get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Value::as_array)?;
    let mut out = Vec::new();
    for a in alts {
        if a.get("type").and_then(Value::as_str) == Some("null") {
            continue;
        }
        out.extend(enum_values(root, resolve(root, a))?);
    }
    (!out.is_empty()).then_some(out)
}
