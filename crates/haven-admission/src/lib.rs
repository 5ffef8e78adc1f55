//! `haven admission serve`: a validating admission webhook that enforces the rules of
//! `haven app check` (the same `haven-rules` engine and rule ids) on Pods and warns on the pod
//! templates of controllers, as upstream Pod Security Admission does.
//!
//! - [`config`]: the webhook's configuration file (cluster defaults, exemptions);
//! - [`namespaces`]: the watch-backed namespace-label cache (kube-runtime reflector);
//! - [`policy`]: namespace labels → what to enforce, audit and warn;
//! - [`review`]: an AdmissionReview in, a verdict out — pure, tested on data;
//! - `reviewer`: the thread the server runs reviews on, so that they stay cache-hot;
//! - [`server`]: HTTPS (rustls) with certificate reload, health, metrics, graceful shutdown.

pub mod config;
mod fast;
mod log;
pub mod metrics;
pub mod namespaces;
pub mod policy;
mod response;
pub mod review;
mod reviewer;
pub mod server;
pub mod tls;

pub use config::Config;
pub use namespaces::WatchedNamespaces;
pub use policy::{NamespaceLabels, StaticNamespaces};
pub use review::{Decision, Verdict, review};
pub use server::{ServeOptions, serve};
