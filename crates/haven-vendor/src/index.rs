//! A classic Helm repository's `index.yaml`: which archive holds a chart version, and where it
//! is, resolved as Helm resolves it (`repo.ResolveReferenceURL`: absolute URLs as they are,
//! relative ones against the repository URL with a trailing slash, the repository URL's query
//! kept).

use serde_json::Value;

/// One chart version of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub version: String,
    /// The archive's URL, resolved.
    pub url: String,
    /// The archive's sha256 as the index gives it (hex), if it does.
    pub digest: Option<String>,
}

/// Why an index did not give the chart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("index.yaml: {0}")]
    Unreadable(String),
    #[error("index.yaml has no chart `{chart}`")]
    NoChart { chart: String },
    #[error("index.yaml has no version {version} of `{chart}` (newest: {newest})")]
    NoVersion {
        chart: String,
        version: String,
        newest: String,
    },
    #[error("index.yaml lists {chart} {version} without a URL")]
    NoUrl { chart: String, version: String },
    #[error("`{0}` is not a URL")]
    BadUrl(String),
}

/// Finds `chart` at `version` in the index text of the repository at `repo_url`.
pub fn find(
    repo_url: &str,
    index_text: &str,
    chart: &str,
    version: &str,
) -> Result<IndexEntry, IndexError> {
    let doc = haven_model::load::single_document("index.yaml", index_text)
        .map_err(|e| IndexError::Unreadable(e.describe()))?
        .ok_or_else(|| IndexError::Unreadable("empty".to_owned()))?;
    let entries = doc
        .value
        .get("entries")
        .and_then(|e| e.get(chart))
        .and_then(Value::as_array)
        .ok_or_else(|| IndexError::NoChart {
            chart: chart.to_owned(),
        })?;
    let strip = |v: &str| v.strip_prefix('v').unwrap_or(v).to_owned();
    let version_of = |e: &Value| e.get("version").and_then(Value::as_str).map(str::to_owned);
    // The exact string first; then as Helm's semver compare does, where `v1.2.3` is `1.2.3`.
    let entry = entries
        .iter()
        .find(|e| version_of(e).as_deref() == Some(version))
        .or_else(|| {
            entries
                .iter()
                .find(|e| version_of(e).is_some_and(|v| strip(&v) == strip(version)))
        })
        .ok_or_else(|| IndexError::NoVersion {
            chart: chart.to_owned(),
            version: version.to_owned(),
            newest: entries
                .first()
                .and_then(version_of)
                .unwrap_or_else(|| "none".to_owned()),
        })?;
    let raw = entry
        .get("urls")
        .and_then(Value::as_array)
        .and_then(|u| u.first())
        .and_then(Value::as_str)
        .ok_or_else(|| IndexError::NoUrl {
            chart: chart.to_owned(),
            version: version.to_owned(),
        })?;
    Ok(IndexEntry {
        version: version_of(entry).unwrap_or_default(),
        url: resolve_reference(repo_url, raw)?,
        digest: entry
            .get("digest")
            .and_then(Value::as_str)
            .map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase()),
    })
}

/// Helm's `repo.ResolveReferenceURL`.
pub fn resolve_reference(base: &str, reference: &str) -> Result<String, IndexError> {
    if let Ok(abs) = url::Url::parse(reference) {
        return Ok(abs.to_string());
    }
    let mut base_url = url::Url::parse(base).map_err(|_| IndexError::BadUrl(base.to_owned()))?;
    let path = format!("{}/", base_url.path().trim_end_matches('/'));
    base_url.set_path(&path);
    let query = base_url.query().map(str::to_owned);
    let mut resolved = base_url
        .join(reference)
        .map_err(|_| IndexError::BadUrl(reference.to_owned()))?;
    resolved.set_query(query.as_deref());
    Ok(resolved.to_string())
}

/// The URL of a repository's `index.yaml`.
pub fn index_url(repo_url: &str) -> Result<String, IndexError> {
    resolve_reference(repo_url, "index.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helm's `TestResolveReferenceURL` cases.
    #[test]
    fn resolves_as_helm_does() {
        let cases = [
            (
                "http://localhost:8123/charts/",
                "nginx-0.2.0.tgz",
                "http://localhost:8123/charts/nginx-0.2.0.tgz",
            ),
            (
                "http://localhost:8123/charts",
                "nginx-0.2.0.tgz",
                "http://localhost:8123/charts/nginx-0.2.0.tgz",
            ),
            (
                "http://localhost:8123/charts/?st=2018-08-06T22%3A59%3A04Z&se=2018-08-07T22%3A59%3A04Z&sp=rl&sv=2018-03-28&sr=c&sig=cyqM4%2F5G7HNk%2F3faaHSDMaWxFxefCglvZlYSnmQBwiY%3D",
                "nginx-0.2.0.tgz",
                "http://localhost:8123/charts/nginx-0.2.0.tgz?st=2018-08-06T22%3A59%3A04Z&se=2018-08-07T22%3A59%3A04Z&sp=rl&sv=2018-03-28&sr=c&sig=cyqM4%2F5G7HNk%2F3faaHSDMaWxFxefCglvZlYSnmQBwiY%3D",
            ),
            (
                "http://localhost:8123",
                "https://charts.helm.sh/stable/nginx-0.2.0.tgz",
                "https://charts.helm.sh/stable/nginx-0.2.0.tgz",
            ),
            (
                "http://localhost:8123/charts%2fwith%2fescaped%2fslash",
                "nginx-0.2.0.tgz",
                "http://localhost:8123/charts%2fwith%2fescaped%2fslash/nginx-0.2.0.tgz",
            ),
            (
                "https://example.org/repo",
                "../other/nginx-0.2.0.tgz",
                "https://example.org/other/nginx-0.2.0.tgz",
            ),
            (
                "https://example.org/repo/",
                "/abs/nginx-0.2.0.tgz",
                "https://example.org/abs/nginx-0.2.0.tgz",
            ),
        ];
        for (base, reference, want) in cases {
            assert_eq!(
                resolve_reference(base, reference).unwrap(),
                want,
                "{base} + {reference}"
            );
        }
        assert_eq!(
            index_url("https://helm.cilium.io").unwrap(),
            "https://helm.cilium.io/index.yaml"
        );
    }

    #[test]
    fn finds_the_pinned_version() {
        let index = "apiVersion: v1\nentries:\n  cilium:\n    - version: 1.19.2\n      urls: [cilium-1.19.2.tgz]\n    - version: 1.19.1\n      digest: ABC\n      urls: [cilium-1.19.1.tgz]\n  gateway-helm:\n    - version: 1.9.0\n      urls: ['https://x.example/g.tgz']\n";
        let e = find("https://helm.cilium.io/", index, "cilium", "1.19.1").unwrap();
        assert_eq!(e.url, "https://helm.cilium.io/cilium-1.19.1.tgz");
        assert_eq!(e.digest.as_deref(), Some("abc"));
        let e = find("https://r.example/", index, "gateway-helm", "v1.9.0").unwrap();
        assert_eq!(e.url, "https://x.example/g.tgz");
        assert_eq!(
            find("https://r.example/", index, "cilium", "1.18.0"),
            Err(IndexError::NoVersion {
                chart: "cilium".into(),
                version: "1.18.0".into(),
                newest: "1.19.2".into()
            })
        );
        assert!(matches!(
            find("https://r.example/", index, "nope", "1"),
            Err(IndexError::NoChart { .. })
        ));
    }
}
