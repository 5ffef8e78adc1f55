//! The one haven rule set: Pod Security Standards (versioned, from `haven-pss`), the Haven
//! application landing requirements and the Haven+ platform expectations, plus waivers.
//!
//! Everything here is a pure function of parsed objects and options, so `haven app check`, the
//! admission webhook and cluster audits all get exactly the same verdicts.

mod app;
mod engine;
mod haven;
mod image;
mod index;
mod input;
mod namespace;
mod nl;
mod plus;
mod pss;
pub mod registry;
#[cfg(test)]
mod rule_tests;
mod selector;
pub mod tenant;
pub mod waiver;

pub use app::{AppCheck, AppOutcome};
pub use engine::{CheckOptions, Groups, Outcome, Workload, check, sort as sort_findings};
pub use haven_pss::{Level as PssLevel, Version as PssVersion};
pub use image::{TagPattern, TagPolicy};
pub use pss::pss_findings;
/// The NCSC TLS and HSTS judgements of the `nl.*` rules, for `haven check --plus`'s evidence.
pub mod transport {
    pub use crate::nl::{HSTS_MIN_AGE, cipher_rejected, parse_hsts, tls_version};
}
pub use registry::{rule, rules};
pub use tenant::{HostPattern, RegistryPrefix, TenantPolicy};
pub use waiver::{
    WaiverFile, WaiverRule, apply_waiver_files, apply_waivers, glob as waiver_glob,
    parse_waiver_file, waive_by_annotations,
};
