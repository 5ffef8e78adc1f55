//! [`ReleaseData`]: what upstream fetches from the internet at start-up, as a dated file.
//!
//! Two kinds of copy exist, in one format:
//! - the copy built into the binary (`data/release-data.json`): Kubernetes release dates, the
//!   CNCF conformance list, haven's release versions, but **no hashes**: a binary cannot carry the
//!   hash of itself;
//! - a **signed** copy published next to each release (`haven-release-data.json` and its minisign
//!   signature `haven-release-data.json.minisig`), which adds the SHA-256 of every published
//!   binary. `haven check` reads it from `--release-data FILE`, from beside the binary, or from
//!   the per-user data directory that `haven check --update-release-data` writes. Its signature
//!   must verify with the release key built into haven ([`RELEASE_KEY`]); only hashes from such a
//!   file can make `shavalidation` pass.
//!
//! Every report names the data's origin and date. Data older than [`MAX_AGE_DAYS`] is too old to
//! judge versions by (Kubernetes and haven release several times a year): the version checks
//! become UNKNOWN unless the operator gave the file explicitly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const EMBEDDED_RELEASE_DATA: &str = include_str!("../data/release-data.json");

/// The public half of haven's release-data signing key, in minisign's `.pub` format.
pub const RELEASE_KEY: &str = include_str!("../data/release-key.pub");

/// Release data older than this many days no longer decides the version checks.
pub const MAX_AGE_DAYS: i32 = 90;

/// File name of the signed release data published with each release; the signature is the same
/// name with `.minisig` appended.
pub const RELEASE_DATA_FILE: &str = "haven-release-data.json";

/// File name of the unsigned data `haven check --update-release-data` writes to the per-user data
/// directory: fresh Kubernetes releases and CNCF list, merged over the signed or built-in data
/// ([`ReleaseData::with_update`]).
pub const UPDATED_RELEASE_DATA_FILE: &str = "updated-release-data.json";

/// Why release data could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseDataError {
    #[error("{file}:{line}: field {field}: {message}")]
    Field {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
    #[error("{file}:1: field kind: expected ReleaseData, found {found:?}")]
    WrongKind { file: String, found: String },
    #[error(
        "{file}: no signature ({signature} not found); release data must be signed with the haven release key (it is published next to the data file)"
    )]
    SignatureMissing { file: String, signature: String },
    #[error("{signature}: not a minisign signature: {message}")]
    SignatureUnreadable { signature: String, message: String },
    #[error(
        "{file}: the signature does not verify with {keys}: {message} (a changed file, or data signed by another key)"
    )]
    SignatureInvalid {
        file: String,
        keys: String,
        message: String,
    },
    #[error("release key {name}: not a minisign public key: {message}")]
    KeyUnreadable { name: String, message: String },
}

/// A public key release data may be signed with.
#[derive(Clone)]
pub struct TrustedKey {
    /// Shown in reports: `haven release key` or where a test key came from.
    pub name: String,
    key: minisign_verify::PublicKey,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKey")
            .field("name", &self.name)
            .finish()
    }
}

impl TrustedKey {
    /// A key from minisign's `.pub` text (comment line + base64) or the bare base64 line.
    pub fn from_text(name: &str, text: &str) -> Result<Self, ReleaseDataError> {
        let line = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or_default();
        let key = minisign_verify::PublicKey::from_base64(line).map_err(|e| {
            ReleaseDataError::KeyUnreadable {
                name: name.into(),
                message: e.to_string(),
            }
        })?;
        Ok(TrustedKey {
            name: name.into(),
            key,
        })
    }

    /// The haven release key built into this binary.
    pub fn release() -> Self {
        Self::from_text("the haven release key", RELEASE_KEY)
            .expect("data/release-key.pub is a minisign public key")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseData {
    pub api_version: String,
    pub kind: String,
    /// The day the data was compiled (YYYY-MM-DD).
    pub date: String,
    pub source: String,
    #[serde(default)]
    pub note: String,
    pub kubernetes: KubernetesReleases,
    pub checker: CheckerReleases,
    #[serde(default)]
    pub upstream_checker: Option<UpstreamChecker>,
    pub cncf: CncfData,
    /// Where this data came from: `embedded` or a file path. Set by the loader, not read.
    #[serde(skip)]
    pub origin: String,
    /// The key whose signature verified; `None` for the embedded copy. Only signed data lists
    /// hashes that count. Set by the loader, not read.
    #[serde(skip)]
    pub signed_by: Option<String>,
    /// The operator named this file (`--release-data`): its age is their decision, so old data
    /// still decides the version checks (the report still names its date). Set by the caller.
    #[serde(skip)]
    pub given: bool,
    /// Set when fresher Kubernetes and CNCF data was merged in ([`ReleaseData::with_update`]):
    /// the day of the data the haven release list (and its hashes) came from, which still decides
    /// whether that list is too old.
    #[serde(skip)]
    pub checker_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesReleases {
    pub releases: Vec<KubernetesRelease>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesRelease {
    /// `1.37`
    pub minor: String,
    /// YYYY-MM-DD: the release counts from this day on (a planned release is listed ahead).
    pub released: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckerReleases {
    pub name: String,
    pub releases: Vec<CheckerRelease>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckerRelease {
    pub version: String,
    /// YYYY-MM-DD (or YYYY-MM).
    pub released: String,
    /// SHA-256 (hex) of every published binary of this release.
    #[serde(default)]
    pub sha256: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamChecker {
    pub name: String,
    pub version: String,
    pub released: String,
}

/// The CNCF certified-Kubernetes list: which product directory of `cncf/k8s-conformance` exists
/// for which minor. Derived data (directory names only) from that Apache-2.0 repository; made
/// and refreshed by `cargo xtask cncf-data` from a clone, or by `haven check
/// --update-release-data` from GitHub's contents API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CncfData {
    pub source: String,
    pub licence: String,
    /// The commit of `cncf/k8s-conformance` that was listed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The day the repository was listed.
    pub listed_on: String,
    /// The minors the list covers (`1.30` … `1.37`): every product directory of each.
    pub minors: Vec<String>,
    /// Platform key (the `cncfName` of a platform rule) → product directories that certify it.
    /// A key without an alias is its own directory.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Platforms that run Kubernetes as the Kubernetes project releases it (kubeadm): *inferred*
    /// conformant for every minor the list covers, since the project tests its own releases for
    /// conformance; not a vendor submission.
    #[serde(default)]
    pub upstream_installers: Vec<String>,
    /// Product directory → minors it has a submission for.
    pub products: BTreeMap<String, Vec<String>>,
}

/// The product directories of `cncf/k8s-conformance` per minor, from paths `v1.37/rke2` (as
/// `git ls-tree -d --name-only HEAD v1.37/` prints them; deeper paths, files at the top and
/// other directories are ignored). Only minors from `oldest` on are kept. Returns the minors
/// found (ascending) and product → minors.
pub fn products_from_listing<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    oldest: (u32, u32),
) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut minors = std::collections::BTreeSet::new();
    let mut products: BTreeMap<String, std::collections::BTreeSet<(u32, u32)>> = BTreeMap::new();
    for path in paths {
        let path = path.trim().trim_end_matches('/');
        let Some((dir, product)) = path.split_once('/') else {
            continue;
        };
        if product.is_empty() || product.contains('/') || !dir.starts_with("v1.") {
            continue;
        }
        let Some(minor) = parse_minor(dir) else {
            continue;
        };
        if minor < oldest {
            continue;
        }
        minors.insert(minor);
        products
            .entry(product.to_owned())
            .or_default()
            .insert(minor);
    }
    let show = |(a, b): (u32, u32)| format!("{a}.{b}");
    (
        minors.into_iter().map(show).collect(),
        products
            .into_iter()
            .map(|(p, ms)| (p, ms.into_iter().map(show).collect()))
            .collect(),
    )
}

/// What the CNCF list says about one platform at one minor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CncfAnswer {
    /// Listed: the product directory that certifies it.
    Certified { product: String },
    /// Runs Kubernetes as released (kubeadm): conformant by inference.
    UpstreamRelease,
    /// Not listed: none of these product directories has a submission for that minor.
    NotListed { products: Vec<String> },
    /// The minor is newer than the list.
    NewerThanList { newest: String },
    /// The minor is older than the list.
    OlderThanList { oldest: String },
}

impl CncfData {
    /// The product directories a platform key is certified under.
    pub fn products_of(&self, platform: &str) -> Vec<String> {
        self.aliases
            .get(platform)
            .cloned()
            .unwrap_or_else(|| vec![platform.to_owned()])
    }

    /// Look a platform up at a minor.
    pub fn lookup(&self, platform: &str, minor: (u32, u32)) -> CncfAnswer {
        let covered: Vec<(u32, u32)> = self.minors.iter().filter_map(|m| parse_minor(m)).collect();
        let (Some(oldest), Some(newest)) = (covered.iter().min(), covered.iter().max()) else {
            return CncfAnswer::NewerThanList {
                newest: "(none)".into(),
            };
        };
        if minor > *newest {
            return CncfAnswer::NewerThanList {
                newest: format!("{}.{}", newest.0, newest.1),
            };
        }
        if minor < *oldest {
            return CncfAnswer::OlderThanList {
                oldest: format!("{}.{}", oldest.0, oldest.1),
            };
        }
        if self.upstream_installers.iter().any(|p| p == platform) {
            return CncfAnswer::UpstreamRelease;
        }
        let products = self.products_of(platform);
        for p in &products {
            let listed = self
                .products
                .get(p)
                .is_some_and(|ms| ms.iter().any(|m| parse_minor(m) == Some(minor)));
            if listed {
                return CncfAnswer::Certified { product: p.clone() };
            }
        }
        CncfAnswer::NotListed { products }
    }
}

/// `YYYY-MM-DD`, or `YYYY-MM` as the first of that month.
pub fn parse_day(s: &str) -> Option<jiff::civil::Date> {
    jiff::civil::Date::strptime("%Y-%m-%d", s)
        .ok()
        .or_else(|| jiff::civil::Date::strptime("%Y-%m-%d", format!("{s}-01")).ok())
}

impl ReleaseData {
    /// The copy built into the binary (no hashes: see the module docs).
    pub fn embedded() -> Self {
        let mut d: ReleaseData =
            serde_json::from_str(EMBEDDED_RELEASE_DATA).expect("embedded release-data.json parses");
        d.origin = "embedded".into();
        d
    }

    /// Read release data without a signature: the embedded copy's format. Errors name the file,
    /// line and field.
    pub fn from_json(file: &str, text: &str) -> Result<Self, ReleaseDataError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut d: ReleaseData = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            ReleaseDataError::Field {
                file: file.into(),
                line: inner.line(),
                field,
                message: inner.to_string(),
            }
        })?;
        if d.kind != "ReleaseData" {
            return Err(ReleaseDataError::WrongKind {
                file: file.into(),
                found: d.kind,
            });
        }
        d.origin = file.into();
        Ok(d)
    }

    /// Read signed release data: the signature (minisign, `signature_file` names it in errors)
    /// must verify over the exact bytes of `text` with one of `keys`, before anything is parsed.
    pub fn from_signed(
        file: &str,
        text: &str,
        signature_file: &str,
        signature: &str,
        keys: &[TrustedKey],
    ) -> Result<Self, ReleaseDataError> {
        let sig = minisign_verify::Signature::decode(signature).map_err(|e| {
            ReleaseDataError::SignatureUnreadable {
                signature: signature_file.into(),
                message: e.to_string(),
            }
        })?;
        let mut last = String::from("no key given");
        let mut signer = None;
        for k in keys {
            match k.key.verify(text.as_bytes(), &sig, false) {
                Ok(()) => {
                    signer = Some(k.name.clone());
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let Some(signer) = signer else {
            return Err(ReleaseDataError::SignatureInvalid {
                file: file.into(),
                keys: keys
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                message: last,
            });
        };
        let mut d = Self::from_json(file, text)?;
        d.signed_by = Some(signer);
        Ok(d)
    }

    /// The data as the JSON text of `data/release-data.json`: two-space indentation, but lists
    /// of plain values and small records on one line each, so a CNCF list of two hundred
    /// products stays a file a reviewer can diff. Reading it back gives the same data.
    pub fn to_json_text(&self) -> String {
        // The top level in the order a reader wants it (serde_json's map sorts keys).
        let value = serde_json::to_value(self).expect("release data serialises");
        let order = [
            "apiVersion",
            "kind",
            "date",
            "source",
            "note",
            "kubernetes",
            "checker",
            "upstreamChecker",
            "cncf",
        ];
        let mut out = String::from("{\n");
        let fields: Vec<(&str, &serde_json::Value)> = order
            .iter()
            .filter_map(|k| value.get(*k).map(|v| (*k, v)))
            .filter(|(_, v)| !v.is_null())
            .collect();
        for (i, (k, v)) in fields.iter().enumerate() {
            out.push_str("  ");
            out.push_str(&serde_json::to_string(k).expect("JSON"));
            out.push_str(": ");
            write_compact(v, 1, &mut out);
            out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
        }
        out.push_str("}\n");
        out
    }

    /// The day the data was compiled.
    pub fn day(&self) -> Option<jiff::civil::Date> {
        parse_day(&self.date)
    }

    /// Whole days between the data's date and `today` (negative: dated in the future).
    pub fn age_days(&self, today: jiff::civil::Date) -> Option<i32> {
        let day = self.day()?;
        Some(
            (today - day)
                .total((jiff::Unit::Day, today))
                .map(|d| d.floor() as i32)
                .unwrap_or_default(),
        )
    }

    /// Why this data is too old to judge versions by on `today`; `None` when it may.
    pub fn too_old(&self, today: jiff::civil::Date) -> Option<String> {
        if self.given {
            return None;
        }
        match self.age_days(today) {
            Some(age) if age > MAX_AGE_DAYS => Some(format!(
                "the release data ({}, dated {}) is {age} days old, more than {MAX_AGE_DAYS}: newer releases may exist; run `haven check --update-release-data`, or give a file with --release-data",
                self.origin, self.date
            )),
            Some(_) => None,
            None => Some(format!(
                "the release data ({}) has no readable date ({:?})",
                self.origin, self.date
            )),
        }
    }

    /// Why the haven release list is too old to judge `havenversion` by; `None` when it may. The
    /// list may be older than the rest when `--update-release-data` refreshed only the
    /// Kubernetes and CNCF parts.
    pub fn checker_too_old(&self, today: jiff::civil::Date) -> Option<String> {
        let Some(date) = &self.checker_date else {
            return self.too_old(today);
        };
        if self.given {
            return None;
        }
        let age = parse_day(date).map(|d| {
            (today - d)
                .total((jiff::Unit::Day, today))
                .map(|d| d.floor() as i32)
                .unwrap_or_default()
        });
        match age {
            Some(age) if age > MAX_AGE_DAYS => Some(format!(
                "the haven release list ({}, dated {date}) is {age} days old, more than {MAX_AGE_DAYS}: newer haven releases may exist; install the release data of a newer haven release, or give a file with --release-data",
                self.origin
            )),
            Some(_) => None,
            None => Some(format!(
                "the haven release list has no readable date ({date:?})"
            )),
        }
    }

    /// This data with the Kubernetes releases and the CNCF list of `update` (what
    /// `--update-release-data` wrote), unless `update` is older (on a tie the update wins: it was
    /// read live that day). The haven release list, its hashes
    /// and the signature that vouches for them stay this data's: unsigned data never supplies a
    /// hash.
    pub fn with_update(self, update: ReleaseData) -> ReleaseData {
        if update.day() < self.day() {
            return self;
        }
        let checker_date = self
            .checker_date
            .clone()
            .unwrap_or_else(|| self.date.clone());
        ReleaseData {
            origin: format!(
                "{} (Kubernetes and CNCF list of {}) over {} (haven releases of {checker_date})",
                update.origin, update.date, self.origin
            ),
            date: update.date,
            source: update.source,
            note: update.note,
            kubernetes: update.kubernetes,
            cncf: update.cncf,
            checker_date: Some(checker_date),
            ..self
        }
    }

    /// Kubernetes minors released on or before `today` (a planned release does not count yet).
    pub fn released_kubernetes(&self, today: jiff::civil::Date) -> Vec<(u32, u32)> {
        self.kubernetes
            .releases
            .iter()
            .filter(|r| parse_day(&r.released).is_some_and(|d| d <= today))
            .filter_map(|r| parse_minor(&r.minor))
            .collect()
    }

    /// The newest Kubernetes minor released on or before `today`, `(1, 37)`.
    pub fn latest_kubernetes(&self, today: jiff::civil::Date) -> Option<(u32, u32)> {
        self.released_kubernetes(today).into_iter().max()
    }

    /// The release whose published hashes include `sha256`, from signed data only.
    pub fn release_with_hash(&self, sha256: &str) -> Option<&CheckerRelease> {
        self.signed_by.as_ref()?;
        self.checker
            .releases
            .iter()
            .find(|r| r.sha256.iter().any(|h| h.eq_ignore_ascii_case(sha256)))
    }
}

/// Whether a JSON value is written on one line: scalars, lists of scalars, and records whose
/// fields are all scalars.
fn is_flat(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Array(items) => items.iter().all(|i| !i.is_array() && !i.is_object()),
        Value::Object(fields) => fields.values().all(|f| !f.is_array() && !f.is_object()),
        _ => true,
    }
}

/// `serde_json` writes every value and key (escaping included); only the line breaks are ours.
fn write_compact(v: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Object(fields) if !fields.is_empty() && !is_flat(v) => {
            out.push_str("{\n");
            for (i, (k, f)) in fields.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                out.push_str(&serde_json::to_string(k).expect("string"));
                out.push_str(": ");
                write_compact(f, indent + 1, out);
                if i + 1 < fields.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() && !is_flat(v) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_compact(item, indent + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| serde_json::to_string(i).expect("JSON"))
                .collect();
            out.push_str(&format!("[{}]", items.join(", ")));
        }
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, f)| {
                    format!(
                        "{}: {}",
                        serde_json::to_string(k).expect("JSON"),
                        serde_json::to_string(f).expect("JSON")
                    )
                })
                .collect();
            out.push_str(&format!("{{{}}}", fields.join(", ")));
        }
        scalar => out.push_str(&serde_json::to_string(scalar).expect("JSON")),
    }
}

/// `1.37` → `(1, 37)`.
pub fn parse_minor(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim_start_matches('v').split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> jiff::civil::Date {
        parse_day(s).unwrap()
    }

    #[test]
    fn embedded_data_is_dated_complete_and_unsigned() {
        let d = ReleaseData::embedded();
        assert_eq!(d.origin, "embedded");
        assert!(d.signed_by.is_none());
        assert!(d.day().is_some(), "date {}", d.date);
        assert!(
            d.checker.releases.iter().all(|r| r.sha256.is_empty()),
            "the built-in copy lists no hashes: they belong in the signed file"
        );
        assert!(
            d.checker
                .releases
                .iter()
                .any(|r| r.version == env!("CARGO_PKG_VERSION"))
        );
        // Every minor the CNCF list covers up to 1.37, and 1.38 in the Kubernetes list.
        assert_eq!(d.cncf.minors.last().map(String::as_str), Some("1.37"));
        assert!(d.kubernetes.releases.iter().any(|r| r.minor == "1.38"));
        TrustedKey::release();
    }

    #[test]
    fn a_release_counts_from_its_date() {
        let d = ReleaseData::embedded();
        assert_eq!(d.latest_kubernetes(day("2026-12-07")), Some((1, 37)));
        assert_eq!(d.latest_kubernetes(day("2026-12-15")), Some((1, 37)));
        assert_eq!(d.latest_kubernetes(day("2026-12-16")), Some((1, 38)));
        assert_eq!(d.latest_kubernetes(day("2026-08-25")), Some((1, 36)));
    }

    #[test]
    fn data_older_than_90_days_is_too_old_unless_given() {
        let mut d = ReleaseData::embedded();
        d.date = "2026-12-07".into();
        assert_eq!(d.too_old(day("2027-03-07")), None, "90 days");
        let why = d.too_old(day("2027-03-08")).unwrap();
        assert!(
            why.contains("91 days old") && why.contains("2026-12-07"),
            "{why}"
        );
        d.given = true;
        assert_eq!(d.too_old(day("2027-06-01")), None);
    }

    #[test]
    fn cncf_lookup() {
        let d = ReleaseData::embedded().cncf;
        let certified = |p: &str| CncfAnswer::Certified { product: p.into() };
        assert_eq!(d.lookup("rke2", (1, 37)), certified("rke2"));
        assert_eq!(d.lookup("rke2", (1, 35)), certified("rke-government"));
        assert_eq!(d.lookup("rke2", (1, 32)), certified("rke-government"));
        assert_eq!(d.lookup("talos", (1, 36)), certified("talos"));
        assert_eq!(d.lookup("eks", (1, 37)), certified("eks"));
        assert_eq!(d.lookup("doks", (1, 36)), certified("digitalocean"));
        assert_eq!(d.lookup("kubeadm", (1, 36)), CncfAnswer::UpstreamRelease);
        assert!(matches!(
            d.lookup("rke2", (1, 38)),
            CncfAnswer::NewerThanList { newest } if newest == "1.37"
        ));
        assert!(matches!(
            d.lookup("rke2", (1, 29)),
            CncfAnswer::OlderThanList { .. }
        ));
        // OVH has no 1.37 submission: not certified.
        assert!(matches!(
            d.lookup("ovh", (1, 37)),
            CncfAnswer::NotListed { .. }
        ));
        // Directories the earlier, cut-off listing missed (it stopped at 100 entries a minor).
        assert_eq!(d.lookup("talos", (1, 33)), certified("talos"));
        assert_eq!(d.lookup("previder", (1, 37)), certified("previder"));
        assert_eq!(d.lookup("vke", (1, 33)), certified("vke"));
        assert_eq!(
            d.lookup("windrivercloud", (1, 35)),
            certified("windrivercloud")
        );
        // Talos has no 1.30 submission.
        assert!(matches!(
            d.lookup("talos", (1, 30)),
            CncfAnswer::NotListed { .. }
        ));
        assert!(matches!(
            d.lookup("aks", (1, 29)),
            CncfAnswer::OlderThanList { .. }
        ));
    }

    #[test]
    fn an_update_refreshes_kubernetes_and_cncf_but_never_hashes() {
        let mut signed = ReleaseData::embedded();
        signed.origin = "haven-release-data.json".into();
        signed.signed_by = Some("the haven release key".into());
        signed.checker.releases[0].sha256 = vec!["ab".repeat(32)];
        let mut update = ReleaseData::embedded();
        update.origin = "updated-release-data.json".into();
        update.date = "2027-03-01".into();
        update.kubernetes.releases.insert(
            0,
            KubernetesRelease {
                minor: "1.39".into(),
                released: "2027-02-20".into(),
            },
        );
        update.checker.releases[0].sha256 = vec!["cd".repeat(32)];
        update
            .cncf
            .products
            .insert("newcomer".into(), vec!["1.38".into()]);
        let merged = signed.clone().with_update(update.clone());
        assert_eq!(merged.date, "2027-03-01");
        assert_eq!(merged.latest_kubernetes(day("2027-03-02")), Some((1, 39)));
        assert!(merged.cncf.products.contains_key("newcomer"));
        assert_eq!(merged.signed_by.as_deref(), Some("the haven release key"));
        assert!(merged.release_with_hash(&"ab".repeat(32)).is_some());
        assert!(merged.release_with_hash(&"cd".repeat(32)).is_none());
        assert!(
            merged.origin.contains("updated-release-data.json"),
            "{}",
            merged.origin
        );
        assert_eq!(merged.checker_date.as_deref(), Some("2026-12-07"));
        // Fresh for the Kubernetes checks, but the haven release list keeps its own age.
        assert_eq!(merged.too_old(day("2027-04-01")), None);
        let why = merged.checker_too_old(day("2027-04-01")).unwrap();
        assert!(
            why.contains("haven release list") && why.contains("2026-12-07"),
            "{why}"
        );
        // An older update changes nothing.
        let mut stale = update;
        stale.date = "2026-01-01".into();
        assert_eq!(signed.clone().with_update(stale), signed);
    }

    #[test]
    fn listing_to_products() {
        let (minors, products) = products_from_listing(
            [
                "v1.37/rke2",
                "v1.37/talos/",
                "v1.36/rke2",
                "v1.29/rke2",
                "v1.37/talos/PRODUCT.yaml",
                "v1.37",
                "README.md",
                "docs/x",
                "v1.x/foo",
            ],
            (1, 30),
        );
        assert_eq!(minors, ["1.36", "1.37"]);
        assert_eq!(products.len(), 2);
        assert_eq!(products["rke2"], ["1.36", "1.37"]);
        assert_eq!(products["talos"], ["1.37"]);
    }

    /// The built-in file is in the form `to_json_text` writes (what `cargo xtask cncf-data` and
    /// `--update-release-data` produce), and that form reads back as the same data.
    #[test]
    fn built_in_file_is_canonical_and_round_trips() {
        let d = ReleaseData::from_json("release-data.json", EMBEDDED_RELEASE_DATA).unwrap();
        let text = d.to_json_text();
        assert_eq!(
            text, EMBEDDED_RELEASE_DATA,
            "regenerate with cargo xtask cncf-data"
        );
        let back = ReleaseData::from_json("release-data.json", &text).unwrap();
        assert_eq!(back, d);
        // Odd strings survive: the writer leaves escaping to serde_json.
        let mut odd = d.clone();
        odd.note = "quote \" backslash \\ [ { , : \u{e9}".into();
        odd.cncf
            .products
            .insert("a \"b\"".into(), vec!["1.37".into()]);
        let back = ReleaseData::from_json("x", &odd.to_json_text()).unwrap();
        assert_eq!(back.note, odd.note);
        assert_eq!(back.cncf.products, odd.cncf.products);
    }

    #[test]
    fn bad_file_names_field_and_line() {
        let e =
            ReleaseData::from_json("rd.json", "{\"apiVersion\": \"x\",\n\"kind\": 3}").unwrap_err();
        assert!(
            matches!(&e, ReleaseDataError::Field { line: 2, field, .. } if field == "kind"),
            "{e}"
        );
        assert!(e.to_string().starts_with("rd.json:2: field kind"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(EMBEDDED_RELEASE_DATA).unwrap();
        v["kind"] = "Other".into();
        let e = ReleaseData::from_json("rd.json", &v.to_string()).unwrap_err();
        assert!(matches!(e, ReleaseDataError::WrongKind { .. }), "{e}");
    }

    /// A test key pair and a signature over `text`.
    fn sign(text: &str) -> (TrustedKey, String) {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let sig = minisign::sign(Some(&kp.pk), &kp.sk, text.as_bytes(), None, None).unwrap();
        (
            TrustedKey::from_text("test key", &kp.pk.to_box().unwrap().into_string()).unwrap(),
            sig.into_string(),
        )
    }

    #[test]
    fn signed_data_verifies_and_its_hashes_count() {
        let mut v: serde_json::Value = serde_json::from_str(EMBEDDED_RELEASE_DATA).unwrap();
        v["checker"]["releases"][0]["sha256"] = serde_json::json!(["AB".repeat(32)]);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let (key, sig) = sign(&text);
        let d = ReleaseData::from_signed(
            "rd.json",
            &text,
            "rd.json.minisig",
            &sig,
            std::slice::from_ref(&key),
        )
        .unwrap();
        assert_eq!(d.signed_by.as_deref(), Some("test key"));
        assert_eq!(
            d.release_with_hash(&"ab".repeat(32))
                .map(|r| r.version.as_str()),
            Some("0.1.0")
        );
        // The same hashes unsigned count for nothing.
        let unsigned = ReleaseData::from_json("rd.json", &text).unwrap();
        assert!(unsigned.release_with_hash(&"ab".repeat(32)).is_none());
        // One changed byte: rejected.
        let tampered = text.replacen("1.37", "1.39", 1);
        let e = ReleaseData::from_signed("rd.json", &tampered, "rd.json.minisig", &sig, &[key])
            .unwrap_err();
        assert!(
            matches!(e, ReleaseDataError::SignatureInvalid { .. }),
            "{e}"
        );
        // Another key: rejected.
        let (other, _) = sign("x");
        let e = ReleaseData::from_signed("rd.json", &text, "rd.json.minisig", &sig, &[other])
            .unwrap_err();
        assert!(
            matches!(e, ReleaseDataError::SignatureInvalid { .. }),
            "{e}"
        );
        let e = ReleaseData::from_signed("rd.json", &text, "rd.json.minisig", "garbage", &[])
            .unwrap_err();
        assert!(
            matches!(e, ReleaseDataError::SignatureUnreadable { .. }),
            "{e}"
        );
    }
}
