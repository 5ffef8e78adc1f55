//! Container image references: reading them (as the container runtime does: a registry host,
//! a path, a tag and/or a digest, Docker Hub implied), finding those a chart's values pin, and
//! moving them to a mirror registry.
//!
//! What the values pin is what a chart's `values.yaml` (with the platform's values over it)
//! names as `image`-like settings: `{registry, repository, tag, digest}` maps (Bitnami, Grafana,
//! Prometheus and most charts), and plain `image: repo:tag` strings. A tag left empty is the
//! chart's `appVersion`, the convention of nearly every chart. This is the inventory that can be
//! had without rendering; the rendered platform's own inventory (`validate --charts`) is exact.

use std::collections::BTreeSet;

use serde_json::Value;

/// One image reference, split.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// `docker.io`, `quay.io`, `registry.k8s.io:443`, …
    pub registry: String,
    /// `library/nginx`, `jetstack/cert-manager-controller`.
    pub path: String,
    pub tag: Option<String>,
    /// `sha256:…`
    pub digest: Option<String>,
}

impl ImageRef {
    /// Reads a reference as Docker's `reference.ParseNormalizedNamed` does.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) || s.contains("{{") {
            return None;
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) if d.contains(':') => (r, Some(d.to_owned())),
            Some(_) => return None,
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (rest, None),
        };
        if name.is_empty() || name.ends_with('/') || name.starts_with('/') {
            return None;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            Some(_) => ("docker.io".to_owned(), name.to_owned()),
            None => ("docker.io".to_owned(), format!("library/{name}")),
        };
        let registry = if registry == "index.docker.io" {
            "docker.io".to_owned()
        } else {
            registry
        };
        Some(ImageRef {
            registry,
            path,
            tag,
            digest,
        })
    }

    /// The name without tag or digest (what kustomize's `images` match on).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.path)
    }

    /// The same image in `mirror`: the source registry's host dropped, its path kept
    /// (`quay.io/jetstack/x:v1` → `REGISTRY/jetstack/x:v1`), as `flux bootstrap --registry`,
    /// `crane` and `skopeo sync` lay out a mirror.
    pub fn in_mirror(&self, mirror: &str) -> ImageRef {
        ImageRef {
            registry: mirror.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The images a chart's (merged) values pin. `app_version` stands in for an empty tag;
/// `global_registry` is the chart's `global.imageRegistry`-style override if set.
pub fn images_in_values(values: &Value, app_version: Option<&str>) -> BTreeSet<ImageRef> {
    let global_registry = text(values.get("global").and_then(|g| g.get("imageRegistry")));
    // cert-manager's convention: `imageRegistry` + `imageNamespace` at the top, and image maps
    // that give only a `name` (`quay.io` + `jetstack` + `cert-manager-controller`).
    let composed = match (
        text(values.get("imageRegistry")),
        text(values.get("imageNamespace")),
    ) {
        (Some(r), Some(n)) => Some(format!("{r}/{n}")),
        _ => None,
    };
    let ctx = Context {
        app_version,
        global_registry: global_registry.as_deref(),
        composed: composed.as_deref(),
    };
    let mut out = BTreeSet::new();
    walk(values, None, &ctx, &mut out);
    out
}

struct Context<'a> {
    app_version: Option<&'a str>,
    global_registry: Option<&'a str>,
    composed: Option<&'a str>,
}

fn walk(v: &Value, key: Option<&str>, ctx: &Context<'_>, out: &mut BTreeSet<ImageRef>) {
    let app_version = ctx.app_version;
    let global_registry = ctx.global_registry;
    let image_key = key.is_some_and(|k| k.to_ascii_lowercase().contains("image"));
    match v {
        Value::Object(m) => {
            let repository = text(m.get("repository")).or_else(|| {
                let prefix = ctx.composed?;
                text(m.get("name")).map(|n| format!("{prefix}/{n}"))
            });
            if image_key && let Some(repo) = repository {
                let registry =
                    text(m.get("registry")).or_else(|| global_registry.map(str::to_owned));
                let full = match registry {
                    Some(r) if !repo.starts_with(&format!("{r}/")) => format!("{r}/{repo}"),
                    _ => repo,
                };
                let tag = text(m.get("tag")).or_else(|| app_version.map(str::to_owned));
                let digest = text(m.get("digest"))
                    .or_else(|| text(m.get("sha")))
                    .map(|d| {
                        if d.contains(':') {
                            d
                        } else {
                            format!("sha256:{d}")
                        }
                    });
                let mut s = full;
                if let Some(t) = &tag {
                    s.push(':');
                    s.push_str(t);
                }
                if let Some(d) = &digest {
                    s.push('@');
                    s.push_str(d);
                }
                if let Some(r) = ImageRef::parse(&s) {
                    out.insert(r);
                }
                return;
            }
            for (k, child) in m {
                walk(child, Some(k), ctx, out);
            }
        }
        Value::Array(items) => {
            for i in items {
                walk(i, key, ctx, out);
            }
        }
        Value::String(s) if image_key && (s.contains('/') || s.contains(':')) => {
            if let Some(r) = ImageRef::parse(s) {
                out.insert(r);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_read_as_docker_reads_them() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/nginx");
        let r = ImageRef::parse("grafana/grafana:12.1.0").unwrap();
        assert_eq!(r.to_string(), "docker.io/grafana/grafana:12.1.0");
        let r = ImageRef::parse("localhost:5000/x/y:1@sha256:abc").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(
            r.in_mirror("registry.internal:5000/").to_string(),
            "registry.internal:5000/x/y:1@sha256:abc"
        );
        assert_eq!(ImageRef::parse("{{ .Values.image }}"), None);
        assert_eq!(ImageRef::parse(""), None);
    }

    #[test]
    fn values_pins_are_found() {
        let values = json!({
            "global": {"imageRegistry": ""},
            "image": {"repository": "quay.io/jetstack/cert-manager-controller", "tag": ""},
            "webhook": {"image": {"registry": "quay.io", "repository": "jetstack/webhook", "tag": "v1", "digest": "sha256:00"}},
            "sidecar": {"image": {"repository": "kiwigrid/k8s-sidecar", "tag": 1.30, "sha": ""}},
            "initImage": "busybox:1.36",
            "imagePullPolicy": "IfNotPresent",
            "imagePullSecrets": [],
            "name": "not/an:image",
        });
        let found: Vec<String> = images_in_values(&values, Some("v1.21.1"))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "docker.io/kiwigrid/k8s-sidecar:1.3",
                "docker.io/library/busybox:1.36",
                "quay.io/jetstack/cert-manager-controller:v1.21.1",
                "quay.io/jetstack/webhook:v1@sha256:00",
            ]
        );
        let with_global = images_in_values(
            &json!({"global": {"imageRegistry": "mirror.local"}, "image": {"repository": "bitnami/postgresql", "tag": "16"}}),
            None,
        );
        assert_eq!(
            with_global.iter().next().unwrap().to_string(),
            "mirror.local/bitnami/postgresql:16"
        );
        // Composed from top-level registry and namespace, as cert-manager's chart does.
        let composed: Vec<String> = images_in_values(
            &json!({"imageRegistry": "quay.io", "imageNamespace": "jetstack",
                    "image": {"name": "cert-manager-controller"},
                    "webhook": {"image": {"name": "cert-manager-webhook", "tag": "v1.2"}},
                    "serviceAccount": {"name": "not-an-image"}}),
            Some("v1.21.1"),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            composed,
            [
                "quay.io/jetstack/cert-manager-controller:v1.21.1",
                "quay.io/jetstack/cert-manager-webhook:v1.2"
            ]
        );
    }
}
