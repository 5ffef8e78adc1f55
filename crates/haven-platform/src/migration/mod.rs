//! Moving a live platform from one tree to another without losing data.
//!
//! - [`tree`]: a Flux tree as the cluster receives it, every object with its owning
//!   Kustomization.
//! - [`mapping`]: the Haven+ reference implementation's units → haven capabilities and
//!   components (data, checked against the config and the catalogue by the tests).
//! - [`import`]: one reference cluster → `haven-plus.yaml` and the report of what is mapped and
//!   dropped.
//! - [`transition`]: old tree → new tree: the moves, the stateful objects at risk, and the plan
//!   ([`plan`]) that marks them before anything is renamed; `plan::check` reads a snapshot.
//! - [`upgrade`]: chart versions an installed release must stop at on its way up (the
//!   catalogue's `upgradeStops`), found in the existing tree before a render lands on it.
//!
//! Pure: the CLI reads the files and the snapshot, and writes the config.

pub mod import;
pub mod mapping;
pub mod plan;
pub mod transition;
pub mod tree;
pub mod upgrade;

pub use import::{ImportError, ImportOptions, Imported, import};
pub use plan::{Plan, StepCheck, check};
pub use transition::{Move, Transition, transition};
pub use tree::{ClusterObjects, ObjectId, Owner};
