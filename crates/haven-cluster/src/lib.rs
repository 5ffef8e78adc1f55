//! The cluster view: a snapshot of what the checks read, collected with the kube client or loaded
//! from a file.
//!
//! - [`snapshot`]: the [`ClusterSnapshot`] records, re-exported from the serde-only
//!   `haven-snapshot` crate (pure data; also the `haven snapshot` file).
//! - [`connect`]: kubectl-style cluster access; [`exec`]: credential plugins within a deadline.
//! - [`collect`]: concurrent, paged, read-only collection.
//! - [`probe`]: the write probes behind `--allow-writes` (test PVC for `rwxvolumes`).
//! - [`error`]: kube errors as messages a person can act on.

pub mod collect;
pub mod connect;
pub mod error;
pub mod exec;
pub mod probe;
/// The records this crate fills, from `haven-snapshot`.
pub use haven_snapshot as snapshot;
pub mod write;

pub use collect::{CollectOptions, collect};
pub use connect::{AccessOptions, Connection, connect};
pub use error::{ClusterError, ProbeError};
pub use snapshot::*;
