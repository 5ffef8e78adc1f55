//! [`ReleaseData`]: what upstream fetches from the internet at start-up, as a dated file.
//!
//! The copy embedded at build time (`data/release-data.json`) is used unless `--release-data FILE`
//! names a newer one; every report names the file and its date, so a verdict can be traced to the
//! data that produced it.

use serde::{Deserialize, Serialize};

pub const EMBEDDED_RELEASE_DATA: &str = include_str!("../data/release-data.json");

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesReleases {
    pub releases: Vec<KubernetesRelease>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubernetesRelease {
    /// `1.37`
    pub minor: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CncfData {
    pub platforms: Vec<CncfPlatform>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CncfPlatform {
    pub name: String,
    pub product: String,
    /// Certified minors, `1.35`.
    pub versions: Vec<String>,
}

impl ReleaseData {
    /// The copy built into the binary.
    pub fn embedded() -> Self {
        let mut d: ReleaseData =
            serde_json::from_str(EMBEDDED_RELEASE_DATA).expect("embedded release-data.json parses");
        d.origin = "embedded".into();
        d
    }

    /// Read a release data file; errors name the file, line and field.
    pub fn from_json(file: &str, text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut d: ReleaseData = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            format!("{file}:{}: field {path}: {inner}", inner.line())
        })?;
        if d.kind != "ReleaseData" {
            return Err(format!(
                "{file}:1: field kind: expected ReleaseData, found {:?}",
                d.kind
            ));
        }
        d.origin = file.into();
        Ok(d)
    }

    /// The newest Kubernetes minor listed, `(1, 37)`.
    pub fn latest_kubernetes(&self) -> Option<(u32, u32)> {
        self.kubernetes
            .releases
            .iter()
            .filter_map(|r| parse_minor(&r.minor))
            .max()
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

    #[test]
    fn embedded_data_is_dated_and_complete() {
        let d = ReleaseData::embedded();
        assert_eq!(d.origin, "embedded");
        assert!(
            jiff::civil::Date::strptime("%Y-%m-%d", &d.date).is_ok(),
            "date {}",
            d.date
        );
        assert_eq!(d.latest_kubernetes(), Some((1, 37)));
        assert!(!d.cncf.platforms.is_empty());
        assert!(
            d.checker
                .releases
                .iter()
                .any(|r| r.version == env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn bad_file_names_field_and_line() {
        let e =
            ReleaseData::from_json("rd.json", "{\"apiVersion\": \"x\",\n\"kind\": 3}").unwrap_err();
        assert!(e.starts_with("rd.json:2: field kind"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(EMBEDDED_RELEASE_DATA).unwrap();
        v["kind"] = "Other".into();
        let e = ReleaseData::from_json("rd.json", &v.to_string()).unwrap_err();
        assert!(e.contains("expected ReleaseData"), "{e}");
    }
}
