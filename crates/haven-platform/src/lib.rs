//! Haven+ platform layer: one validated config file → a pinned, validated Flux GitOps tree.
//!
//! - [`config`]: the `haven-plus.yaml` types (their doc comments are `haven plus explain`),
//!   strict parsing with line numbers and "did you mean", migrations ([`migrate`]), value
//!   formats (durations, cron, quantities, e-mail, host names, CIDRs: [`formats`]).
//! - [`catalogue`]: the components as data (`catalogue/*.yaml`), selection and overrides.
//! - [`render`]: config + catalogue → files, deterministic; [`tenant`] for `tenants/<name>/`.
//! - [`validate`]: built-in kinds against the API of the target minor ([`kubernetes`]), JSON
//!   Schema + strict pass for custom resources (schemas built in: [`crds`]), the tree's own wiring, `haven app check` on
//!   workloads.
//! - [`charts`]: `validate --charts`: every HelmRelease rendered as Flux would, through Helm's
//!   engine behind a trait, and the whole platform validated.
//! - [`proofs`]: that the platform works and is safe: flows, identities, references,
//!   certificates, on the tree or on the whole rendered platform.
//! - [`diff`]: a render against an existing tree.
//! - [`secrets`]: credentials in clear text, in the config and in a tree.
//! - [`secret_backend`]: OpenBao's unattended bootstrap (seal key, self-initialisation) and
//!   the secrets made in the cluster.
//! - [`oidc_clients`]: the confidential OIDC clients' secrets, made in the cluster and
//!   delivered to the identity provider and the consumer.
//! - [`observability`]: Alloy's pipeline, the alert rules and dashboards, the metric names.
//! - [`fs`]: the only module that touches the disk.

pub mod backups;
pub mod catalogue;
pub mod charts;
pub mod config;
pub mod crd;
pub mod crds;
pub mod diff;
pub mod error;
pub mod formats;
pub mod fs;
pub mod kubernetes;
pub mod kustomize;
pub mod kyverno;
pub mod layout;
pub mod migrate;
pub mod migration;
pub mod object_store;
pub mod observability;
pub mod oidc_clients;
pub mod proofs;
pub mod render;
pub mod secret_backend;
pub mod secrets;
pub mod status;
pub mod tenant;
pub mod validate;

pub use catalogue::Catalogue;
pub use config::{PlatformConfig, Provider};
pub use error::{CatalogueError, ConfigError, MigrateError, SchemaError, TreeError};
pub use render::{Rendered, render};
