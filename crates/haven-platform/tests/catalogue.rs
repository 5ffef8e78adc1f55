//! The catalogue data: coherent, covering every capability and choice, Renovate-ready.

use haven_platform::catalogue::{self, Catalogue, FILES};
use haven_platform::config::{
    AdmissionEngine, IdentityProvider, IngressImplementation, MetricsBackend, PlatformConfig,
    Provider, SecretsBackend,
};

#[test]
fn parses_and_is_coherent() {
    let cat = Catalogue::builtin().unwrap();
    assert_eq!(cat.components.len(), FILES.len());
    let problems = catalogue::lint(&cat);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A component that declares object-store buckets (which Garage's bootstrap makes) names each
/// of them in its own values: a bucket the component's config does not name is one it never
/// writes to (Mimir's stores once named none, and Mimir refuses to start a store without one).
#[test]
fn every_object_store_bucket_is_named_in_its_components_values() {
    let cat = Catalogue::builtin().unwrap();
    let mut missing = Vec::new();
    for c in &cat.components {
        let Some(store) = &c.object_store else {
            continue;
        };
        let values = serde_json::to_string(&c.values).unwrap();
        for b in &store.buckets {
            if !values.contains(&format!("\"{b}\"")) {
                missing.push(format!("{}: bucket {b}", c.name));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

/// The catalogue is read as Helm reads values (YAML 1.1); a scalar that a YAML 1.2 reader (an
/// editor, Renovate) reads otherwise would make the file say two things.
#[test]
fn every_catalogue_file_reads_the_same_in_yaml_1_1_and_1_2() {
    for (name, text) in FILES {
        let doc = haven_model::load::single_document(name, text)
            .unwrap()
            .unwrap();
        assert!(
            doc.notes.is_empty(),
            "catalogue/{name}.yaml: {:#?}",
            doc.notes
        );
        let yaml12: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(doc.value, yaml12, "catalogue/{name}.yaml");
    }
}

#[test]
fn every_capability_and_choice_has_a_provider() {
    let cat = Catalogue::builtin().unwrap();
    let mut configs = vec![PlatformConfig::new("a", "example.nl", Provider::Generic)];
    let with = |f: &dyn Fn(&mut PlatformConfig)| {
        let mut c = PlatformConfig::new("a", "example.nl", Provider::Generic);
        f(&mut c);
        c
    };
    configs.push(with(&|c| {
        c.capabilities.metrics.backend = MetricsBackend::KubePrometheusStack
    }));
    configs.push(with(&|c| {
        c.capabilities.secrets.backend = SecretsBackend::SealedSecrets
    }));
    configs.push(with(&|c| {
        c.capabilities.identity.provider = IdentityProvider::Dex
    }));
    configs.push(with(&|c| {
        c.capabilities.identity.provider = IdentityProvider::Zitadel
    }));
    configs.push(with(&|c| {
        c.capabilities.admission.engine = AdmissionEngine::Kyverno
    }));
    for i in [
        IngressImplementation::Traefik,
        IngressImplementation::Cilium,
        IngressImplementation::Istio,
    ] {
        configs.push(with(&|c| c.capabilities.ingress.implementation = i));
    }
    // The capabilities that are off unless a config turns them on, each turned on.
    const OPT_IN: &[&str] = &[
        "kubectlLogin",
        "clusterUI",
        "kubeStateMetrics",
        "policyReports",
        "loadBalancer",
        "storage",
    ];
    configs.push(with(&|c| {
        let caps = &mut c.capabilities;
        caps.kubectl_login.enabled = true;
        caps.cluster_ui.enabled = true;
        caps.kube_state_metrics.enabled = true;
        caps.policy_reports.enabled = true;
        caps.load_balancer.enabled = true;
        caps.load_balancer.addresses = vec!["192.0.2.0/28".to_owned()];
        caps.storage.nfs = Some(haven_platform::config::NfsExport {
            server: "nfs.example.nl".to_owned(),
            path: "/exports".to_owned(),
        });
    }));
    for c in &configs {
        let selected = cat.selected(c);
        for cap in haven_platform::config::CAPABILITIES {
            let (on, choice) = c.capabilities.selection(cap).unwrap();
            if !on {
                // Off only where the config leaves an opt-in capability off (or the metrics
                // backend brings kube-state-metrics itself).
                assert!(OPT_IN.contains(cap), "{cap} is off by default");
                continue;
            }
            let served = selected.iter().any(|comp| {
                comp.provides
                    .iter()
                    .any(|p| p.capability == *cap && (p.choice.is_none() || p.choice == choice))
            });
            assert!(served, "nothing provides {cap} ({choice:?})");
        }
    }
    // Exactly one ingress implementation is ever selected.
    for c in &configs {
        let gateways = cat.selected(c).iter().filter(|x| x.network.gateway).count();
        assert_eq!(gateways, 1, "{:?}", c.capabilities.ingress);
    }
}

/// The shape of every chart pin: `# renovate: …` directly above `version:`, naming the chart
/// where Renovate looks it up (the Helm repository, or the OCI registry).
#[test]
fn every_pin_is_renovate_ready() {
    let cat = Catalogue::builtin().unwrap();
    for ((name, text), c) in FILES.iter().zip(&cat.components) {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("version: "))
            .unwrap_or_else(|| panic!("{name}: no version line"));
        let comment = lines[at - 1];
        assert!(
            comment.starts_with("# renovate: datasource="),
            "{name}: {comment}"
        );
        let fields: Vec<&str> = comment
            .trim_start_matches("# renovate: ")
            .split(' ')
            .collect();
        assert!(fields[1].starts_with("depName="), "{name}");
        if c.source.kind == catalogue::SourceKind::Helm {
            assert_eq!(fields[0], "datasource=helm", "{name}");
            assert_eq!(fields[2], format!("registryUrl={}", c.source.url), "{name}");
            assert_eq!(fields[1], format!("depName={}", c.chart), "{name}");
        }
        if c.source.kind == catalogue::SourceKind::Oci {
            assert_eq!(fields[0], "datasource=docker", "{name}");
            assert_eq!(
                fields[1],
                format!("depName={}", c.source.url.trim_start_matches("oci://")),
                "{name}"
            );
        }
        assert_eq!(lines[at], format!("version: {}", c.version), "{name}");
        // Every pin carries its evidence (issue #21 item 9); an unchecked one says so, and
        // only those are `verified: false`.
        assert_eq!(
            !c.verified,
            text.contains("# unverified:"),
            "{name}: `verified: false` and an `# unverified:` comment go together"
        );
        if c.verified && c.name != "haven-admission" {
            assert!(
                text.contains("# Pin evidence:") || text.contains("(xtask/crd-sources/"),
                "{name}: a verified pin notes its evidence"
            );
        }
    }
}

/// Issue #21 item 9: every pin is checked against a record that was read (the vendored chart,
/// or upstream's own release records), with the evidence beside it; none is left `verified:
/// false` (garage was, at a tag no copy here held).
#[test]
fn no_pin_is_left_unverified() {
    let cat = Catalogue::builtin().unwrap();
    let unverified: Vec<&str> = cat
        .components
        .iter()
        .filter(|c| !c.verified)
        .map(|c| c.name.as_str())
        .collect();
    assert!(unverified.is_empty(), "unverified pins: {unverified:?}");
}

/// One dependency as Renovate extracts it from a regex match.
#[derive(Debug)]
struct Extracted {
    datasource: String,
    dep_name: String,
    current_value: String,
    current_digest: Option<String>,
    registry_url: Option<String>,
    /// Byte offset of the matched version in the file.
    at: usize,
}

/// Applies renovate.json's regex managers to `text` as Renovate does for a file its
/// `managerFilePatterns` select: every match string over the whole file, every match (the
/// `g` flag), named groups `datasource`, `depName`, `currentValue`, `currentDigest`,
/// `registryUrl`, with the
/// manager's `*Template` fields filling a missing group. Renovate compiles match strings with
/// RE2 (falling back to JavaScript's engine), whose syntax and semantics on these patterns are
/// the `regex` crate's: no look-around or back-references, `.` not matching a newline, `^`/`$`
/// at the text's ends (no `m` flag).
fn renovate_extract(managers: &[serde_json::Value], path: &str, text: &str) -> Vec<Extracted> {
    let mut out = Vec::new();
    for m in managers {
        let selected = m["managerFilePatterns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| {
                // `/…/` is a regex (Renovate's convention); anything else would be a glob,
                // which this config does not use.
                let p = p.as_str().unwrap();
                let re = p
                    .strip_prefix('/')
                    .and_then(|p| p.strip_suffix('/'))
                    .unwrap_or_else(|| panic!("managerFilePatterns {p:?}: use /regex/"));
                regex::Regex::new(re).unwrap().is_match(path)
            });
        if !selected {
            continue;
        }
        for ms in m["matchStrings"].as_array().unwrap() {
            let re = regex::Regex::new(ms.as_str().unwrap()).unwrap();
            for caps in re.captures_iter(text) {
                let field = |group: &str, template: &str| {
                    caps.name(group)
                        .map(|g| g.as_str().to_owned())
                        .or_else(|| m[template].as_str().map(str::to_owned))
                };
                let current = caps
                    .name("currentValue")
                    .expect("every match string captures currentValue");
                out.push(Extracted {
                    datasource: field("datasource", "datasourceTemplate").expect("a datasource"),
                    dep_name: field("depName", "depNameTemplate").expect("a depName"),
                    current_value: current.as_str().to_owned(),
                    current_digest: caps.name("currentDigest").map(|d| d.as_str().to_owned()),
                    registry_url: field("registryUrl", "registryUrlTemplate"),
                    at: current.start(),
                });
            }
        }
    }
    out
}

/// An image pinned in a component's values: the repository Renovate must look up, the tag, and
/// where the tag is in the file.
#[derive(Debug, PartialEq)]
struct ImagePin {
    image: String,
    tag: String,
    /// A digest pinned with the tag (`tag: "1.2@sha256:…"`, for charts that write
    /// `repository:tag`).
    digest: Option<String>,
}

impl ImagePin {
    fn new(image: &str, tag: &str) -> Self {
        let (tag, digest) = match tag.split_once('@') {
            Some((t, d)) => (t, Some(d.to_owned())),
            None => (tag, None),
        };
        Self {
            image: image.to_owned(),
            tag: tag.to_owned(),
            digest,
        }
    }
}

/// The image pins in `values`: a string `image: repo:tag`, or a map with `repository` and `tag`
/// (and `registry`), as the charts' values read them.
fn image_pins(values: &serde_json::Value, out: &mut Vec<ImagePin>) {
    match values {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(image)) = map.get("image") {
                let tail = image.rsplit('/').next().unwrap();
                if let Some((_, tag)) = tail.split_once(':') {
                    let repo = &image[..image.len() - tag.len() - 1];
                    out.push(ImagePin::new(repo, tag));
                }
            }
            if let (Some(repo), Some(tag)) = (map.get("repository"), map.get("tag")) {
                let repo = repo.as_str().unwrap();
                let image = match map.get("registry").and_then(|r| r.as_str()) {
                    Some(registry) => format!("{registry}/{repo}"),
                    None => repo.to_owned(),
                };
                out.push(ImagePin::new(&image, tag.as_str().unwrap()));
            }
            for v in map.values() {
                image_pins(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| image_pins(v, out)),
        _ => {}
    }
}

/// renovate.json's regex managers, applied to every catalogue file as Renovate applies them,
/// find every pin exactly once with the right value: each chart version, and each image tag
/// a component's values pin (a chart pinning an image in its values otherwise never moves when
/// the chart does).
#[test]
fn renovate_finds_every_pin_exactly_once() {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../renovate.json")).unwrap();
    let managers = config["customManagers"].as_array().unwrap();
    // The keys Renovate's schema knows for a regex manager (renovate-schema.json, which does
    // not refuse unknown keys itself: a typo there would silently do nothing).
    const KNOWN: &[&str] = &[
        "customType",
        "description",
        "managerFilePatterns",
        "matchStrings",
        "matchStringsStrategy",
        "datasourceTemplate",
        "depNameTemplate",
        "packageNameTemplate",
        "versioningTemplate",
        "registryUrlTemplate",
        "extractVersionTemplate",
        "autoReplaceStringTemplate",
    ];
    for m in managers {
        assert_eq!(m["customType"], "regex");
        for key in m.as_object().unwrap().keys() {
            assert!(KNOWN.contains(&key.as_str()), "unknown manager key {key}");
        }
        // Renovate's default: every match string on its own, every match ("any").
        assert!(m.get("matchStringsStrategy").is_none());
    }
    let cat = Catalogue::builtin().unwrap();
    let mut images_seen = 0;
    for ((name, text), c) in FILES.iter().zip(&cat.components) {
        let path = format!("crates/haven-platform/catalogue/{name}.yaml");
        let found = renovate_extract(managers, &path, text);
        // The chart pin, once, at the top-level `version:` line.
        let version_at = text.find(&format!("\nversion: {}\n", c.version)).unwrap() + 10;
        let chart: Vec<&Extracted> = found.iter().filter(|e| e.at == version_at).collect();
        assert_eq!(chart.len(), 1, "{name}: chart version matched {found:#?}");
        assert_eq!(chart[0].current_value, c.version, "{name}");
        if c.source.kind == catalogue::SourceKind::Helm {
            assert_eq!(chart[0].datasource, "helm", "{name}");
            assert_eq!(chart[0].dep_name, c.chart, "{name}");
            assert_eq!(
                chart[0].registry_url.as_deref(),
                Some(c.source.url.as_str()),
                "{name}"
            );
        }
        // Each image tag in the values, once, as the image the chart pulls.
        let mut pins = Vec::new();
        image_pins(&serde_json::Value::Object(c.values.clone()), &mut pins);
        for pin in &pins {
            let hits: Vec<&Extracted> = found
                .iter()
                .filter(|e| e.dep_name == pin.image && e.current_value == pin.tag)
                .collect();
            assert_eq!(hits.len(), 1, "{name}: image {pin:?} matched {found:#?}");
            assert_eq!(hits[0].datasource, "docker", "{name}");
            // A digest Renovate cannot see would stay while it moves the tag.
            assert_eq!(hits[0].current_digest, pin.digest, "{name}: {pin:?}");
        }
        images_seen += pins.len();
        // Nothing else: every match is a pin of this file.
        assert_eq!(found.len(), 1 + pins.len(), "{name}: {found:#?}");
    }
    // The values pin images (pinniped's server, Velero's AWS plugin, Garage's image and its
    // init container's, the latter by digest): the walk found them.
    assert!(images_seen >= 4, "{images_seen}");
}

/// Images the render pins in its own source (not in catalogue values) are Renovate-managed
/// too: every `// renovate:` comment in haven-platform's source is matched exactly once, with
/// the constant's tag and digest (a pin without its manager never moves; one with a digest
/// Renovate cannot see would move the tag and keep the old image).
#[test]
fn renovate_finds_every_image_pinned_in_source() {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../renovate.json")).unwrap();
    let managers = config["customManagers"].as_array().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = vec![root.join("src")];
    let mut comments = 0;
    let mut found = Vec::new();
    while let Some(dir) = sources.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
            let rel = format!("crates/haven-platform/{rel}");
            let hits = renovate_extract(managers, &rel, &text);
            let here = text.matches("\n// renovate: ").count();
            assert_eq!(hits.len(), here, "{rel}: {hits:#?}");
            comments += here;
            found.extend(hits);
        }
    }
    // The Garage bootstrap's image, as the Job pulls it.
    let image = haven_platform::object_store::IMAGE;
    let (name, rest) = image.split_once(':').unwrap();
    let (tag, digest) = rest.split_once('@').unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{image}"
    );
    let hits: Vec<&Extracted> = found
        .iter()
        .filter(|e| e.dep_name == name && e.current_value == tag)
        .collect();
    assert_eq!(hits.len(), 1, "{found:#?}");
    assert_eq!(hits[0].datasource, "docker");
    // The databases' PostgreSQL image, pinned by tag.
    let (name, tag) = haven_platform::render::POSTGRES_IMAGE
        .split_once(':')
        .unwrap();
    let hits = found
        .iter()
        .filter(|e| e.dep_name == name && e.current_value == tag)
        .count();
    assert_eq!(hits, 1, "{found:#?}");
    assert!(comments >= 2);
    // Each form is matched by one match string only, and a constant without a tag by none.
    let rel = "crates/haven-platform/src/x.rs";
    let tagged = "// renovate: datasource=docker depName=r/x\npub const I: &str = \"r/x:1.2\";\n";
    assert_eq!(renovate_extract(managers, rel, tagged).len(), 1);
    let pinned = tagged.replace(
        "1.2\"",
        "1.2@sha256:79e7a9b9ff1cbceff819f856fb374477792a5967759d94df266de7b7b4120e6f\"",
    );
    assert_eq!(renovate_extract(managers, rel, &pinned).len(), 1);
    let untagged = tagged.replace(":1.2", "");
    assert!(renovate_extract(managers, rel, &untagged).is_empty());
}

/// The test's Renovate semantics find a pin a manager would miss: an image comment with a
/// stray word, and a tag without its comment.
#[test]
fn renovate_extract_misses_what_renovate_misses() {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../../../renovate.json")).unwrap();
    let managers = config["customManagers"].as_array().unwrap();
    let path = "crates/haven-platform/catalogue/x.yaml";
    let good = "# renovate: datasource=helm depName=x registryUrl=https://e.x\nversion: 1.0.0\nvalues:\n  image:\n    repository: r/x\n    # renovate: datasource=docker depName=r/x\n    tag: v1\n";
    assert_eq!(renovate_extract(managers, path, good).len(), 2);
    let bare = good.replace("    # renovate: datasource=docker depName=r/x\n", "");
    assert_eq!(renovate_extract(managers, path, &bare).len(), 1);
    let stray = good.replace("depName=r/x\n", "depName=r/x (server)\n");
    assert_eq!(renovate_extract(managers, path, &stray).len(), 1);
    // A tag with its digest: one match, the digest apart (a digest read as part of the tag
    // would never be replaced by Renovate's digest update).
    let digest = "sha256:9db7b59979c38555a39def84a31fb98b5296952f9e3afd4f6f11f05b07adfab0";
    let pinned = good.replace("tag: v1\n", &format!("tag: \"v1@{digest}\"\n"));
    let found = renovate_extract(managers, path, &pinned);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[1].current_value, "v1");
    assert_eq!(found[1].current_digest.as_deref(), Some(digest));
    assert_eq!(found[0].current_digest, None);
    assert!(renovate_extract(managers, "renovate.json", good).is_empty());
}

/// Every pin of a chart mirrored in `../shared/charts` is that chart: its `Chart.yaml` version
/// and appVersion are the catalogue's (an appVersion that disagrees misleads whoever reads the
/// catalogue, `haven plus components`, and the SBOM). Flux's controller images are the
/// releases its mirrored manifests pin.
#[test]
#[ignore = "needs ../shared/charts (cargo test -- --include-ignored)"]
fn mirrored_charts_are_their_pins() {
    let shared = haven_test_support::shared_path("charts");
    let cat = Catalogue::builtin().unwrap();
    let mut checked = 0;
    for c in &cat.components {
        let dir = shared.join(&c.name);
        let chart_yaml = dir.join("Chart.yaml");
        if c.name == "flux" {
            let bases = dir.join("manifests/bases");
            for image in &c.images {
                // ghcr.io/fluxcd/<controller>:<tag> ⇔ …/<controller>/releases/download/<tag>/
                let (repo, tag) = image.rsplit_once(':').unwrap();
                let controller = repo.rsplit('/').next().unwrap();
                let k = std::fs::read_to_string(bases.join(controller).join("kustomization.yaml"))
                    .unwrap_or_else(|e| panic!("flux {controller}: {e}"));
                assert!(
                    k.contains(&format!("/{controller}/releases/download/{tag}/")),
                    "flux: {image} is not what manifests/bases/{controller} pins"
                );
            }
            checked += 1;
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&chart_yaml) else {
            continue;
        };
        let chart: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        let s = |k: &str| match &chart[k] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(s("version"), c.version, "{}: chart version", c.name);
        assert_eq!(s("appVersion"), c.app_version, "{}: appVersion", c.name);
        assert!(c.verified, "{}: mirrored, so verified", c.name);
        checked += 1;
    }
    // Every mirrored component (../shared/charts/README.md: 26 folders).
    assert!(checked >= 26, "{checked} checked");
}

/// An upgrade stop is a SemVer version below the pin (a stop at or above it stops nothing),
/// and Mimir's is the chart Mimir 3.1 ships in (6.1.0, below the 6.2.0 line).
#[test]
fn an_upgrade_stop_is_a_semver_version_below_the_pin() {
    let mut cat = Catalogue::builtin().unwrap();
    let mimir = cat
        .components
        .iter_mut()
        .find(|c| c.name == "mimir")
        .unwrap();
    assert_eq!(mimir.upgrade_stops[0].version, "6.1.0");
    mimir.upgrade_stops[0].version = mimir.version.clone();
    assert_eq!(
        catalogue::lint(&cat),
        vec![format!(
            "mimir: upgrade stop {v} is not below the pin {v}: it stops nothing",
            v = cat.get("mimir").unwrap().version
        )]
    );
    let mimir = cat
        .components
        .iter_mut()
        .find(|c| c.name == "mimir")
        .unwrap();
    mimir.upgrade_stops[0].version = "6.1".to_owned();
    assert_eq!(
        catalogue::lint(&cat),
        vec![format!(
            "mimir: upgrade stop 6.1 and the pin {} must both be SemVer versions",
            cat.get("mimir").unwrap().version
        )]
    );
}

/// A Gateway component names its proxies (`network.gatewayPods`): `allow-gateway` opens them
/// alone, never every pod of the namespace (the controller beside them included).
#[test]
fn every_gateway_names_its_proxy_pods() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut gateways: Vec<&str> = catalogue
        .components
        .iter()
        .filter(|c| c.network.gateway && c.network.gateway_pods.is_some())
        .map(|c| c.name.as_str())
        .collect();
    gateways.sort_unstable();
    assert_eq!(gateways, ["cilium", "envoy-gateway", "istiod", "traefik"]);
    let mut broken = catalogue.clone();
    for c in broken.components.iter_mut().filter(|c| c.name == "istiod") {
        c.network.gateway_pods = Some(Default::default());
    }
    assert_eq!(
        catalogue::lint(&broken),
        [
            "istiod: network.gateway and network.gatewayPods (a non-empty selector of its proxy pods) go together"
        ]
    );
}
