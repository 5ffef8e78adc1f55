//! The platform's CycloneDX 1.5 SBOM (`sbom.cdx.json`), written with the CycloneDX project's
//! own Rust model (`cyclonedx-bom`): the platform as the described component, every vendored
//! chart (name, version, source, content digest, archive sha256, licence where the chart
//! declares one) and every image (with its digest where one is pinned).
//!
//! Deterministic: no timestamp, and the serial number is derived from the content, so the same
//! platform vendored twice gives the same file.

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::{Purl, Uri};
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::external_reference::{
    ExternalReference, ExternalReferenceType, ExternalReferences,
};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::license::{LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use sha2::{Digest as _, Sha256};

use crate::images::ImageRef;

/// A vendored chart, as the SBOM lists it.
#[derive(Debug, Clone)]
pub struct ChartEntry {
    pub component: String,
    pub chart: String,
    pub version: String,
    pub app_version: Option<String>,
    pub description: Option<String>,
    /// Where the chart comes from (repository URL, `oci://…`, Git URL).
    pub source: String,
    pub content_digest: String,
    pub archive_sha256: Option<String>,
    /// SPDX expression from the chart's `artifacthub.io/license` annotation.
    pub license: Option<String>,
}

/// A directory of plain manifests in the SBOM (the Gateway API CRDs at a Git tag).
#[derive(Debug, Clone)]
pub struct ManifestsEntry {
    pub component: String,
    /// The Git tag.
    pub version: String,
    /// The Git repository.
    pub source: String,
    pub content_digest: String,
    pub commit: Option<String>,
}

/// Why the SBOM could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("the SBOM does not validate as CycloneDX 1.5: {0}")]
    Invalid(String),
    #[error("writing the SBOM: {0}")]
    Write(String),
}

/// The SBOM of a platform named `platform`, as pretty JSON.
pub fn sbom_json(
    platform: &str,
    charts: &[ChartEntry],
    manifests: &[ManifestsEntry],
    images: &[ImageRef],
) -> Result<String, SbomError> {
    let mut components = Vec::new();
    for m in manifests {
        let mut comp = Component::new(
            Classification::Data,
            &m.component,
            &m.version,
            Some(format!("manifests:{}", m.component)),
        );
        // `pkg:github/<owner>/<repo>@<tag>` where the source is a GitHub repository.
        comp.purl = m
            .source
            .strip_prefix("https://github.com/")
            .map(|p| p.trim_end_matches(".git").trim_end_matches('/'))
            .and_then(|p| p.split_once('/'))
            .and_then(|(owner, repo)| {
                // The owner is the purl's namespace, which `Purl::new` (name only) would escape.
                let base = Purl::new("github", repo, &m.version).ok()?;
                let owner: String =
                    url::form_urlencoded::byte_serialize(owner.as_bytes()).collect();
                base.to_string()
                    .replacen("pkg:github/", &format!("pkg:github/{owner}/"), 1)
                    .parse()
                    .ok()
            });
        if url::Url::parse(&m.source).is_ok() {
            comp.external_references = Some(ExternalReferences(vec![ExternalReference {
                external_reference_type: ExternalReferenceType::Vcs,
                url: cyclonedx_bom::models::external_reference::Uri::Url(Uri::new(&m.source)),
                comment: None,
                hashes: None,
            }]));
        }
        let mut props = vec![
            property("haven:component", &m.component),
            property("haven:contentDigest", &m.content_digest),
            property("haven:kind", "manifests"),
        ];
        if let Some(commit) = &m.commit {
            props.push(property("haven:commit", commit));
        }
        comp.properties = Some(Properties(props));
        components.push(comp);
    }
    for c in charts {
        let mut comp = Component::new(
            Classification::Application,
            &c.chart,
            &c.version,
            Some(format!("chart:{}", c.component)),
        );
        comp.description = c.description.as_deref().map(NormalizedString::new);
        comp.purl = helm_purl(c);
        if let Some(sha) = &c.archive_sha256 {
            comp.hashes = Some(Hashes(vec![Hash {
                alg: HashAlgorithm::SHA_256,
                content: HashValue(sha.clone()),
            }]));
        }
        if let Some(l) = &c.license {
            comp.licenses = Some(Licenses(vec![LicenseChoice::expression(l)]));
        }
        let kind = if c.source.starts_with("oci://") || c.source.starts_with("http") {
            ExternalReferenceType::Distribution
        } else {
            ExternalReferenceType::Other
        };
        if url::Url::parse(&c.source).is_ok() {
            comp.external_references = Some(ExternalReferences(vec![ExternalReference {
                external_reference_type: kind,
                url: cyclonedx_bom::models::external_reference::Uri::Url(Uri::new(&c.source)),
                comment: None,
                hashes: None,
            }]));
        }
        let mut props = vec![
            property("haven:component", &c.component),
            property("haven:chartContentDigest", &c.content_digest),
            property("haven:kind", "helm-chart"),
        ];
        if let Some(a) = &c.app_version {
            props.push(property("haven:appVersion", a));
        }
        comp.properties = Some(Properties(props));
        components.push(comp);
    }
    for image in images {
        let version = image
            .digest
            .clone()
            .or_else(|| image.tag.clone())
            .unwrap_or_else(|| "latest".to_owned());
        let mut comp = Component::new(
            Classification::Container,
            &image.name(),
            &version,
            Some(format!("image:{image}")),
        );
        comp.purl = oci_purl(image);
        if let Some(d) = image
            .digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
        {
            comp.hashes = Some(Hashes(vec![Hash {
                alg: HashAlgorithm::SHA_256,
                content: HashValue(d.to_owned()),
            }]));
        }
        let mut props = vec![property("haven:kind", "container-image")];
        if let Some(t) = &image.tag {
            props.push(property("haven:tag", t));
        }
        comp.properties = Some(Properties(props));
        components.push(comp);
    }
    let mut platform_component = Component::new(
        Classification::Platform,
        platform,
        env!("CARGO_PKG_VERSION"),
        Some(format!("platform:{platform}")),
    );
    platform_component.description = Some(NormalizedString::new(
        "Haven+ platform layer rendered by haven plus",
    ));
    let metadata = Metadata {
        timestamp: None,
        tools: Some(Tools::List(vec![Tool {
            vendor: Some(NormalizedString::new("haven")),
            name: Some(NormalizedString::new("haven plus vendor")),
            version: Some(NormalizedString::new(env!("CARGO_PKG_VERSION"))),
            hashes: None,
            external_references: None,
        }])),
        authors: None,
        component: Some(platform_component),
        manufacture: None,
        supplier: None,
        licenses: None,
        properties: None,
        lifecycles: None,
    };
    let mut seed = Sha256::new();
    seed.update(platform.as_bytes());
    for c in charts {
        seed.update(format!("\n{} {} {}", c.component, c.version, c.content_digest).as_bytes());
    }
    for m in manifests {
        seed.update(format!("\n{} {} {}", m.component, m.version, m.content_digest).as_bytes());
    }
    for i in images {
        seed.update(format!("\n{i}").as_bytes());
    }
    let bom = Bom {
        serial_number: Some(
            UrnUuid::new(uuid_from(&seed.finalize()))
                .map_err(|e| SbomError::Invalid(format!("serial number: {e:?}")))?,
        ),
        metadata: Some(metadata),
        components: Some(Components(components)),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| SbomError::Write(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&out).map_err(|e| SbomError::Write(e.to_string()))?;
    let mut text =
        serde_json::to_string_pretty(&value).map_err(|e| SbomError::Write(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

fn property(name: &str, value: &str) -> Property {
    Property {
        name: name.to_owned(),
        value: NormalizedString::new(value),
    }
}

/// `pkg:helm/<chart>@<version>?repository_url=…` (the purl `helm` type is not in the purl spec's
/// registered list; it is what Syft and Trivy write for charts).
fn helm_purl(c: &ChartEntry) -> Option<Purl> {
    let base = Purl::new("helm", &c.chart, &c.version).ok()?;
    if c.source.starts_with("http") || c.source.starts_with("oci://") {
        let q: String = url::form_urlencoded::byte_serialize(c.source.as_bytes()).collect();
        format!("{base}?repository_url={q}").parse().ok()
    } else {
        Some(base)
    }
}

/// `pkg:oci/<name>@sha256:…?repository_url=<registry>/<path>&tag=…` (the purl `oci` type needs
/// the digest as its version: an image pinned by tag only gets no purl).
fn oci_purl(i: &ImageRef) -> Option<Purl> {
    let digest = i.digest.as_ref()?;
    let last = i.path.rsplit('/').next().unwrap_or(&i.path);
    let base = Purl::new("oci", last, digest).ok()?;
    let repo: String =
        url::form_urlencoded::byte_serialize(format!("{}/{}", i.registry, i.path).as_bytes())
            .collect();
    let mut s = format!("{base}?repository_url={repo}");
    if let Some(t) = &i.tag {
        s.push_str("&tag=");
        s.push_str(&url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>());
    }
    s.parse().ok()
}

/// A version-5-shaped UUID URN from a hash.
fn uuid_from(hash: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::digest::hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
