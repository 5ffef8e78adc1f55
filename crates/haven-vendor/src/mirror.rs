//! `haven plus render --mirror REGISTRY`: the rendered tree pointed at one internal registry,
//! for air-gapped clusters. Pure: it rewrites a [`Rendered`] tree in memory.
//!
//! - **Charts**: every component's chart source becomes an `OCIRepository` at
//!   `oci://REGISTRY/charts/<chart>` (tag: the pinned version), the layout `helm push
//!   <archive> oci://REGISTRY/charts` gives; its HelmRelease takes it through `chartRef`.
//! - **Images**: where the chart has a registry setting in its values (`global.imageRegistry`,
//!   or a top-level `imageRegistry` as cert-manager has), that value is set to the mirror;
//!   every image the vendor directory lists for the component is also mapped by a Flux
//!   post-renderer (kustomize `images`: the name as the chart writes it → the same path in the
//!   mirror), which catches the charts without such a setting. Docker Hub images are matched in
//!   every spelling a chart may write them (`docker.io/library/x`, `library/x`, `x`).
//! - **Flux** itself is installed by `flux bootstrap`: a note says to pass `--registry`.

use std::collections::BTreeMap;

use haven_platform::catalogue::{Resolved, SourceKind};
use haven_platform::render::{Rendered, yaml_stream};
use serde_json::{Value, json};

use crate::images::ImageRef;

/// Why the tree could not be pointed at the mirror.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(
        "--mirror {0}: not a registry (a host with an optional port and path, such as registry.internal:5000/platform)"
    )]
    BadRegistry(String),
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
}

/// What the vendor directory says about one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendoredImages {
    pub images: Vec<String>,
    /// The top-level keys of the chart's `values.yaml` that name a registry:
    /// `imageRegistry` and/or `global.imageRegistry`.
    pub registry_values: Vec<String>,
}

/// Checks and normalises a registry (`oci://` and trailing slashes dropped).
pub fn registry(raw: &str) -> Result<String, MirrorError> {
    let r = raw
        .trim()
        .trim_start_matches("oci://")
        .trim_end_matches('/');
    let mut parts = r.split('/');
    let host = parts.next().unwrap_or_default();
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    // The distribution spec's grammar: a host name with an optional port, then path
    // components of lowercase letters and digits joined by `.`, `_`, `__` or `-`.
    let host_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.bytes().all(|b| b.is_ascii_digit())
        && (host.contains(':') || host.contains('.') || name == "localhost")
        && !(host.contains(':') && port.is_empty());
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
            && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
    };
    let ok = host_ok && parts.all(component_ok);
    if ok {
        Ok(r.to_owned())
    } else {
        Err(MirrorError::BadRegistry(raw.to_owned()))
    }
}

/// The images per component from a vendor directory's `haven-vendor.json` text.
pub fn images_by_component(
    file: &str,
    text: &str,
) -> Result<BTreeMap<String, Vec<String>>, MirrorError> {
    let bad = |message: String| MirrorError::Unreadable {
        file: file.to_owned(),
        message,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if v.get("kind").and_then(Value::as_str) != Some("HavenVendor") {
        return Err(bad(
            "not a haven-vendor.json (kind is not HavenVendor)".into()
        ));
    }
    let mut out = BTreeMap::new();
    for list in ["charts", "bootstrap"] {
        for c in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = c.get("name").and_then(Value::as_str) else {
                return Err(bad(format!("{list}: an entry without a name")));
            };
            let images = c
                .get("images")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            out.insert(name.to_owned(), images);
        }
    }
    Ok(out)
}

/// The registry settings a chart's `values.yaml` (already parsed) offers.
pub fn registry_values(values: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if values
        .get("imageRegistry")
        .is_some_and(|v| v.is_string() || v.is_null())
    {
        out.push("imageRegistry".to_owned());
    }
    if values
        .get("global")
        .and_then(|g| g.get("imageRegistry"))
        .is_some_and(|v| v.is_string() || v.is_null())
    {
        out.push("global.imageRegistry".to_owned());
    }
    out
}

/// Rewrites the tree rendered for `resolved` to pull everything from `registry`. `vendored`
/// holds what `haven plus vendor` found per component; without it only chart sources move
/// (and a note says so).
pub fn apply(
    rendered: &mut Rendered,
    resolved: &[Resolved<'_>],
    registry: &str,
    vendored: Option<&BTreeMap<String, VendoredImages>>,
) -> Result<(), MirrorError> {
    for r in resolved {
        let c = r.component;
        if c.source.kind == SourceKind::Bootstrap {
            rendered.notes.push(format!(
                "--mirror: {} is installed by `flux bootstrap`; pass it `--registry {registry}/fluxcd` so its controllers come from the mirror",
                c.name
            ));
            continue;
        }
        if c.source.kind == SourceKind::Manifests {
            manifests_from_mirror(rendered, r, registry)?;
            continue;
        }
        let dir = format!("infrastructure/{}", c.name);
        let repo_path = std::path::PathBuf::from(format!("{dir}/repository.yaml"));
        let release_path = std::path::PathBuf::from(format!("{dir}/release.yaml"));
        let (Some(_), Some(release_text)) = (
            rendered.files.get(&repo_path),
            rendered.files.get(&release_path),
        ) else {
            continue;
        };
        let mut release = single_doc(&release_path, release_text)?;
        // A Git source's pin is a release tag (`v0.1.0`); the chart pushed from it carries the
        // chart's version, which is the tag without its `v`.
        let tag = match c.source.kind {
            SourceKind::Git => r.version.trim_start_matches('v').to_owned(),
            _ => r.version.clone(),
        }
        .replace('+', "_");
        // Beside its HelmRelease (in flux-system): the lockdown allows no cross-namespace source.
        let release_ns = release["metadata"]["namespace"]
            .as_str()
            .unwrap_or(r.namespace.as_str())
            .to_owned();
        let repository = json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": c.name, "namespace": release_ns},
            "spec": {
                "interval": "12h",
                "url": format!("oci://{registry}/charts/{}", c.chart),
                "ref": {"tag": tag},
                "layerSelector": {
                    "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "operation": "copy",
                },
            },
        });
        let Some(spec) = release.get_mut("spec").and_then(Value::as_object_mut) else {
            return Err(MirrorError::Unreadable {
                file: release_path.display().to_string(),
                message: "a HelmRelease without spec".into(),
            });
        };
        spec.remove("chart");
        spec.insert(
            "chartRef".into(),
            json!({"kind": "OCIRepository", "name": c.name}),
        );
        if let Some(v) = vendored.and_then(|m| m.get(&c.name)) {
            for key in &v.registry_values {
                let values = spec.entry("values").or_insert_with(|| json!({}));
                let patch = match key.as_str() {
                    "global.imageRegistry" => json!({"global": {"imageRegistry": registry}}),
                    _ => json!({key.clone(): registry}),
                };
                haven_platform::catalogue::merge(values, &patch);
            }
            let images = kustomize_images(&v.images, registry);
            if !images.is_empty() {
                let post = spec.entry("postRenderers").or_insert_with(|| json!([]));
                if let Some(list) = post.as_array_mut() {
                    list.push(json!({"kustomize": {"images": images}}));
                }
            }
        }
        rendered.files.insert(repo_path, yaml_stream(&[repository]));
        rendered.files.insert(release_path, yaml_stream(&[release]));
    }
    if vendored.is_none() {
        rendered.notes.push(format!(
            "--mirror: chart sources point at oci://{registry}/charts; images are not rewritten without --vendor-dir (the directory `haven plus vendor` wrote, which lists them)"
        ));
    }
    Ok(())
}

/// Where `render --mirror` expects a `manifests` component: an OCI artifact of the directory
/// `haven plus vendor` wrote for it, as `flux push artifact` makes one.
pub fn manifests_artifact(registry: &str, component: &str, version: &str) -> String {
    format!(
        "oci://{registry}/manifests/{component}:{}",
        version.replace('+', "_")
    )
}

/// A `manifests` component (plain manifests Flux applies from a Git tag) pointed at the mirror:
/// its GitRepository becomes an OCIRepository of the artifact [`manifests_artifact`] names, and
/// its Kustomization applies that artifact's root, which holds the directory the GitRepository
/// would have given (`haven plus vendor` writes it; `flux push artifact` pushes it).
fn manifests_from_mirror(
    rendered: &mut Rendered,
    r: &Resolved<'_>,
    registry: &str,
) -> Result<(), MirrorError> {
    let c = r.component;
    let dir = format!("infrastructure/{}", c.name);
    let repo_path = std::path::PathBuf::from(format!("{dir}/repository.yaml"));
    let apply_path = std::path::PathBuf::from(format!("{dir}/manifests.yaml"));
    let (Some(_), Some(apply_text)) = (
        rendered.files.get(&repo_path),
        rendered.files.get(&apply_path),
    ) else {
        return Ok(());
    };
    let mut apply = single_doc(&apply_path, apply_text)?;
    let artifact = manifests_artifact(registry, &c.name, &r.version);
    let (url, tag) = artifact.rsplit_once(':').unwrap_or((&artifact, ""));
    // Beside the Kustomization that applies it (flux-system): the lockdown allows no
    // cross-namespace source.
    let apply_ns = apply["metadata"]["namespace"]
        .as_str()
        .unwrap_or(r.namespace.as_str())
        .to_owned();
    let repository = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": c.name, "namespace": apply_ns},
        "spec": {
            "interval": "12h",
            "url": url,
            "ref": {"tag": tag},
        },
    });
    let Some(spec) = apply.get_mut("spec").and_then(Value::as_object_mut) else {
        return Err(MirrorError::Unreadable {
            file: apply_path.display().to_string(),
            message: "a Kustomization without spec".into(),
        });
    };
    spec.insert("path".into(), json!("./"));
    spec.insert(
        "sourceRef".into(),
        json!({"kind": "OCIRepository", "name": c.name}),
    );
    rendered.files.insert(repo_path, yaml_stream(&[repository]));
    rendered.files.insert(apply_path, yaml_stream(&[apply]));
    rendered.notes.push(format!(
        "--mirror: {} (plain manifests of {} at {}) comes from {artifact}: push the directory `haven plus vendor` wrote for it with `flux push artifact {artifact} --path <vendor dir>/{} --source {} --revision {}`",
        c.name, c.source.url, r.version, c.name, c.source.url, r.version
    ));
    Ok(())
}

/// Kustomize `images` entries moving each image to the mirror, under every name a chart may
/// write it with.
fn kustomize_images(images: &[String], registry: &str) -> Vec<Value> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for i in images {
        let Some(r) = ImageRef::parse(i) else {
            continue;
        };
        if r.registry == registry.split('/').next().unwrap_or(registry) {
            continue;
        }
        let new_name = r.in_mirror(registry).name();
        names.insert(r.name(), new_name.clone());
        if r.registry == "docker.io" {
            names.insert(r.path.clone(), new_name.clone());
            if let Some(short) = r.path.strip_prefix("library/") {
                names.insert(short.to_owned(), new_name.clone());
                names.insert(format!("docker.io/{short}"), new_name.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|(name, new_name)| json!({"name": name, "newName": new_name}))
        .collect()
}

fn single_doc(path: &std::path::Path, text: &str) -> Result<Value, MirrorError> {
    let file = path.display().to_string();
    match haven_model::load::single_document(&file, text) {
        Ok(Some(doc)) => Ok(doc.value),
        Ok(None) => Err(MirrorError::Unreadable {
            file,
            message: "empty".into(),
        }),
        Err(e) => Err(MirrorError::Unreadable {
            file,
            message: e.describe(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_platform::Catalogue;
    use haven_platform::config::{PlatformConfig, Provider};

    #[test]
    fn registries_are_checked() {
        assert_eq!(
            registry("oci://registry.internal:5000/platform/").unwrap(),
            "registry.internal:5000/platform"
        );
        assert_eq!(registry("localhost:5000").unwrap(), "localhost:5000");
        for bad in [
            "",
            "registry",
            "https://r.example",
            "r.example/a b",
            "UPPER.example/x:tag",
        ] {
            assert!(registry(bad).is_err(), "{bad}");
        }
    }

    /// The gateway-api component (plain manifests from a Git tag) comes from the OCI artifact
    /// of the directory `vendor` wrote: its GitRepository becomes an OCIRepository, its
    /// Kustomization applies the artifact's root (still waiting, still never pruning), and a
    /// note gives the `flux push artifact` command.
    #[test]
    fn manifests_come_from_the_mirror_artifact() {
        let cat = Catalogue::builtin().unwrap();
        let mut config = PlatformConfig::new("c", "example.nl", Provider::Generic);
        config.capabilities.ingress.implementation =
            haven_platform::config::IngressImplementation::Traefik;
        let resolved = haven_platform::catalogue::resolve(&cat, &config);
        let mut rendered = haven_platform::render(&config, &cat);
        apply(&mut rendered, &resolved, "registry.internal:5000", None).unwrap();
        let doc = |p: &str| -> Value {
            let path = std::path::PathBuf::from(p);
            single_doc(&path, &rendered.files[&path]).unwrap()
        };
        let repo = doc("infrastructure/gateway-api/repository.yaml");
        assert_eq!(repo["kind"], "OCIRepository");
        assert_eq!(
            repo["spec"]["url"],
            "oci://registry.internal:5000/manifests/gateway-api"
        );
        assert_eq!(repo["spec"]["ref"]["tag"], "v1.4.1");
        let apply = doc("infrastructure/gateway-api/manifests.yaml");
        assert_eq!(
            apply["spec"]["sourceRef"],
            json!({"kind": "OCIRepository", "name": "gateway-api"})
        );
        assert_eq!(apply["spec"]["path"], "./");
        // Source and Kustomization side by side: Flux's lockdown refuses cross-namespace refs.
        assert_eq!(apply["metadata"]["namespace"], "flux-system");
        assert_eq!(repo["metadata"]["namespace"], "flux-system");
        assert_eq!(apply["spec"]["prune"], false);
        assert_eq!(apply["spec"]["wait"], true);
        assert!(
            rendered.notes.iter().any(|n| n.contains(
                "flux push artifact oci://registry.internal:5000/manifests/gateway-api:v1.4.1 --path <vendor dir>/gateway-api"
            )),
            "{:#?}",
            rendered.notes
        );
    }

    /// Every chart source and every listed image of the rendered platform points at the mirror;
    /// nothing else in the tree changes.
    #[test]
    fn the_tree_points_at_the_mirror() {
        let cat = Catalogue::builtin().unwrap();
        let config = PlatformConfig::new("c", "example.nl", Provider::Kind);
        let resolved = haven_platform::catalogue::resolve(&cat, &config);
        let plain = haven_platform::render(&config, &cat);
        let mut mirrored = plain.clone();
        let mut vendored = BTreeMap::new();
        vendored.insert(
            "cert-manager".to_owned(),
            VendoredImages {
                images: vec![],
                registry_values: vec!["imageRegistry".into()],
            },
        );
        vendored.insert(
            "metrics-server".to_owned(),
            VendoredImages {
                images: vec![
                    "registry.k8s.io/metrics-server/metrics-server:0.8.1".into(),
                    "docker.io/library/busybox:1.38.0".into(),
                ],
                registry_values: vec![],
            },
        );
        apply(
            &mut mirrored,
            &resolved,
            "registry.internal:5000",
            Some(&vendored),
        )
        .unwrap();
        assert_eq!(plain.files.len(), mirrored.files.len());
        let doc = |p: &str| -> Value {
            let path = std::path::PathBuf::from(p);
            single_doc(&path, &mirrored.files[&path]).unwrap()
        };
        for r in &resolved {
            if matches!(
                r.component.source.kind,
                SourceKind::Bootstrap | SourceKind::Manifests
            ) {
                continue;
            }
            let repo = doc(&format!(
                "infrastructure/{}/repository.yaml",
                r.component.name
            ));
            assert_eq!(repo["kind"], "OCIRepository");
            assert_eq!(
                repo["spec"]["url"],
                format!("oci://registry.internal:5000/charts/{}", r.component.chart)
            );
            let release = doc(&format!("infrastructure/{}/release.yaml", r.component.name));
            assert_eq!(
                release["spec"]["chartRef"]["name"],
                r.component.name.as_str()
            );
            assert!(release["spec"].get("chart").is_none());
        }
        let ms = doc("infrastructure/metrics-server/release.yaml");
        let images = &ms["spec"]["postRenderers"][0]["kustomize"]["images"];
        let names: Vec<&str> = images
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "busybox",
                "docker.io/busybox",
                "docker.io/library/busybox",
                "library/busybox",
                "registry.k8s.io/metrics-server/metrics-server"
            ]
        );
        assert_eq!(
            images[0]["newName"],
            "registry.internal:5000/library/busybox"
        );
        assert_eq!(
            images[4]["newName"],
            "registry.internal:5000/metrics-server/metrics-server"
        );
        let cm = doc("infrastructure/cert-manager/release.yaml");
        assert_eq!(
            cm["spec"]["values"]["imageRegistry"],
            "registry.internal:5000"
        );
        // The Git-sourced chart is pulled by its chart version.
        let ha = doc("infrastructure/haven-admission/repository.yaml");
        assert_eq!(ha["spec"]["ref"]["tag"], "0.1.0");
        assert!(
            mirrored
                .notes
                .iter()
                .any(|n| n.contains("--registry registry.internal:5000/fluxcd"))
        );
        // Everything else is as rendered.
        for (path, text) in &plain.files {
            let p = path.display().to_string();
            if !(p.ends_with("/repository.yaml") || p.ends_with("/release.yaml")) {
                assert_eq!(text, &mirrored.files[path], "{p}");
            }
        }
    }

    #[test]
    fn vendor_metadata_is_read() {
        let text = r#"{"kind":"HavenVendor","charts":[{"name":"a","images":["x/y:1"]}],"bootstrap":[{"name":"flux","images":["ghcr.io/f:1"]}]}"#;
        let m = images_by_component("v.json", text).unwrap();
        assert_eq!(m["a"], ["x/y:1"]);
        assert_eq!(m["flux"], ["ghcr.io/f:1"]);
        assert!(images_by_component("v.json", "{}").is_err());
    }
}
