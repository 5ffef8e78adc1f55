//! Kubernetes Pod Security Standards (`baseline` and `restricted`), versioned exactly as
//! upstream Pod Security Admission (`k8s.io/pod-security-admission`, `policy/check_*.go`).
//!
//! Policy versions `v1.0` ..= `v1.37` are known; [`Version::LATEST`] is `v1.37`.
//! Every check has one or more revisions, each starting at a minimum policy version;
//! evaluating `v1.N` applies the newest revision whose minimum is `<= N`, exactly as
//! upstream's registry inflates them. Baseline checks also run at `restricted`, except the
//! ones a restricted check overrides at that version (upstream's `OverrideCheckIDs`):
//!
//! | restricted check | overrides (baseline) | from |
//! |---|---|---|
//! | `restrictedVolumes` | `hostPathVolumes` | v1.0 |
//! | `seccompProfile_restricted` | `seccompProfile_baseline` | v1.19 |
//! | `capabilities_restricted` | `capabilities_baseline` | v1.22 |
//! | `procMount_restricted` | `procMount` | v1.35 |
//!
//! Violations come out in upstream's evaluation order: baseline check ids sorted
//! byte-wise, then restricted check ids sorted byte-wise (that is the order of [`checks`]).
//! `reason` and `detail` are upstream's `ForbiddenReason` / `ForbiddenDetail`, byte for byte.
//!
//! This crate is pure logic: no I/O, no regex, static tables, and no allocation on the
//! allowed path of a check.

mod checks;
mod fmt_util;
mod info;
mod visit;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

pub use checks::reads_annotation;
pub use info::checks;

/// A Pod Security Standards level. `privileged` (which allows everything) is not modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Baseline,
    Restricted,
}

impl Level {
    /// The upstream spelling: `baseline` or `restricted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a level string is neither `baseline` nor `restricted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLevelError(String);

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown Pod Security level {:?} (expected \"baseline\" or \"restricted\")",
            self.0
        )
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseLevelError(s.to_owned())),
        }
    }
}

/// A Pod Security policy version `v1.N`, `0 <= N <= 37`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    minor: u8,
}

/// The newest minor version this engine knows (upstream's registry `maxVersion`).
const LATEST_MINOR: u8 = 37;

impl Version {
    /// `v1.37`, the newest policy version known; what `latest` resolves to.
    pub const LATEST: Version = Version {
        minor: LATEST_MINOR,
    };

    /// `v1.{minor}`. A minor above [`Version::LATEST`] is clamped to it, as upstream's
    /// registry clamps any newer version to its `maxVersion`.
    pub const fn new(minor: u32) -> Version {
        if minor > LATEST_MINOR as u32 {
            Version::LATEST
        } else {
            Version { minor: minor as u8 }
        }
    }

    /// The `N` of `v1.N`.
    pub const fn minor(self) -> u32 {
        self.minor as u32
    }

    /// Every known version, `v1.0` ..= `v1.37`, oldest first.
    pub fn all() -> impl Iterator<Item = Version> {
        (0..=LATEST_MINOR).map(|minor| Version { minor })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{}", self.minor)
    }
}

/// Error returned when a version string is not `latest` or `v1.0` ..= `v1.37`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseVersionError(String);

impl fmt::Display for ParseVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid Pod Security version {:?} (expected \"latest\" or \"v1.0\" .. \"{}\")",
            self.0,
            Version::LATEST
        )
    }
}

impl std::error::Error for ParseVersionError {}

impl FromStr for Version {
    type Err = ParseVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Version::LATEST);
        }
        let err = || ParseVersionError(s.to_owned());
        let digits = s.strip_prefix("v1.").ok_or_else(err)?;
        let valid = !digits.is_empty()
            && digits.len() <= 2
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !(digits.len() > 1 && digits.starts_with('0'));
        if !valid {
            return Err(err());
        }
        let minor: u8 = digits.parse().map_err(|_| err())?;
        if minor > LATEST_MINOR {
            return Err(err());
        }
        Ok(Version { minor })
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Static description of one upstream check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Upstream check id, e.g. `allowPrivilegeEscalation`, `seccompProfile_restricted`.
    pub id: &'static str,
    /// The level the check belongs to.
    pub level: Level,
    /// Short human title.
    pub title: &'static str,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix a violation.
    pub fix: &'static str,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Upstream check id.
    pub check: &'static str,
    /// The level the check belongs to.
    pub level: Level,
    /// Upstream `ForbiddenReason`, exactly.
    pub reason: String,
    /// Upstream `ForbiddenDetail`, exactly as upstream aggregates it.
    pub detail: String,
    /// Every offending field, one entry each.
    pub fields: Vec<Field>,
}

/// One offending field of a violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Path relative to the Pod object, e.g. `spec.containers[0].securityContext.privileged`
    /// or `metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]`.
    pub path: String,
    /// The container's name when the field belongs to one.
    pub container: Option<String>,
    /// The detail upstream would print if this field were the only offending one.
    pub message: String,
}

/// Evaluates `level` at `version`: baseline checks apply at restricted too, minus the ones a
/// restricted check overrides at that version. Violations come in upstream check order.
pub fn evaluate(
    level: Level,
    version: Version,
    meta: &ObjectMeta,
    spec: &PodSpec,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut mask = checks::active_mask(level, version);
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let def = &checks::DEFS[i];
        let f = def.revision(version.minor());
        if let Some(o) = f(meta, spec) {
            let info = &info::CHECKS[i];
            out.push(Violation {
                check: info.id,
                level: info.level,
                reason: o.reason,
                detail: o.detail,
                fields: o.fields,
            });
        }
    }
    out
}

/// `true` when the pod passes `level` at `version`. Cheaper than [`evaluate`] when only the
/// verdict matters: it stops at the first failing check.
pub fn is_allowed(level: Level, version: Version, meta: &ObjectMeta, spec: &PodSpec) -> bool {
    let mut mask = checks::active_mask(level, version);
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        if checks::DEFS[i].revision(version.minor())(meta, spec).is_some() {
            return false;
        }
    }
    true
}

/// The checks evaluated for `level` at `version`, in evaluation order.
pub fn active_checks(level: Level, version: Version) -> impl Iterator<Item = &'static CheckInfo> {
    let mask = checks::active_mask(level, version);
    info::CHECKS
        .iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| c)
}

/// The info of the check with upstream id `id`.
pub fn check_info(id: &str) -> Option<&'static CheckInfo> {
    info::CHECKS.iter().find(|c| c.id == id)
}

/// When evaluating `restricted` at `version`, the restricted check that replaces the baseline
/// check `id` (upstream's `OverrideCheckIDs`), if any. E.g. `hostPathVolumes` is replaced by
/// `restrictedVolumes` at every version, `procMount` by `procMount_restricted` from v1.35.
pub fn overridden_by(id: &str, version: Version) -> Option<&'static str> {
    let idx = info::CHECKS.iter().position(|c| c.id == id)?;
    checks::DEFS
        .iter()
        .enumerate()
        .find(|(i, d)| {
            info::CHECKS[*i].level == Level::Restricted
                && d.min_minor() <= version.minor()
                && d.overrides.contains(&idx)
        })
        .map(|(i, _)| info::CHECKS[i].id)
}
