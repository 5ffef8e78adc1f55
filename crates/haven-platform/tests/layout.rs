//! `cluster.layout: reference`: the Haven+ reference implementation's structure
//! (gorkomikus/havenplus-flux: `clusters/<cluster>/infrastructure/<component>.yaml`,
//! `infrastructure/<component>/[controller|config]/{base,overlays/<cluster>}`), validated as Flux
//! builds it, for every provider and for two clusters sharing one repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haven_platform::config::{Layout, Tenant};
use haven_platform::crds::BuiltinSchemas;
use haven_platform::layout::{self, LayoutError};
use haven_platform::render::Tree;
use haven_platform::validate::{self, Options, Severity};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::Value;

fn config(name: &str, provider: Provider) -> PlatformConfig {
    let mut c = PlatformConfig::new(name, "example.nl", provider);
    c.cluster.layout = Layout::Reference;
    c.tenants.push(Tenant {
        name: "zaken".to_owned(),
        group: "zaken-developers".to_owned(),
        repo: Some("https://git.example.nl/zaken/deploy.git".to_owned()),
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    });
    c
}

fn reference(c: &PlatformConfig, cat: &Catalogue) -> Tree {
    layout::to_reference(&render(c, cat), c, cat).unwrap().files
}

fn docs(text: &str) -> Vec<Value> {
    haven_model::parse_stream("t", text)
        .into_iter()
        .map(|d| d.unwrap().value)
        .filter(|v| !v.is_null())
        .collect()
}

fn validate_tree(files: &Tree) -> validate::Report {
    let facts = validate::platform_facts(files);
    let schemas = BuiltinSchemas::new(facts.components);
    validate::validate(files, &schemas, &Options::default())
}

fn objects_of(files: &Tree) -> Vec<(String, String, String, Value)> {
    let mut out: Vec<_> = haven_platform::charts::tree_objects(files)
        .into_iter()
        .filter(|o| !o.api_version.starts_with("kustomize."))
        .map(|o| (o.kind, o.namespace.unwrap_or_default(), o.name, o.value))
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out
}

#[test]
fn every_provider_in_the_reference_layout_validates_with_the_flat_trees_objects() {
    let cat = Catalogue::builtin().unwrap();
    for provider in Provider::ALL {
        let c = config("haven", provider);
        let files = reference(&c, &cat);
        let report = validate_tree(&files);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{}: {}",
            provider.name(),
            errors.join("\n")
        );
        // Flux applies exactly what the flat layout applies (Flux Kustomizations aside: they
        // are renamed and point elsewhere).
        let mut flat_config = c.clone();
        flat_config.cluster.layout = Layout::Flat;
        let flat = render(&flat_config, &cat).files;
        let strip = |v: Vec<(String, String, String, Value)>| -> Vec<_> {
            v.into_iter().filter(|o| o.0 != "Kustomization").collect()
        };
        let (a, b) = (strip(objects_of(&files)), strip(objects_of(&flat)));
        assert_eq!(a.len(), b.len(), "{}", provider.name());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{}", provider.name());
        }
        // No flat leftovers.
        assert!(!files.contains_key(Path::new("clusters/haven/infrastructure.yaml")));
        assert!(
            !files
                .keys()
                .any(|p| p.starts_with("infrastructure/cert-manager-config"))
        );
    }
}

#[test]
fn the_structure_is_the_reference_implementations() {
    let cat = Catalogue::builtin().unwrap();
    let files = reference(&config("utrecht", Provider::Previder), &cat);
    // clusters/previder/infrastructure/cert-manager.yaml of the reference: two Kustomizations,
    // the config one waiting for the controller.
    let cm = docs(&files[Path::new("clusters/utrecht/infrastructure/cert-manager.yaml")]);
    let names: Vec<&str> = cm
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cert-manager-controller", "cert-manager-config"]);
    assert_eq!(
        cm[0]["spec"]["path"],
        "./infrastructure/cert-manager/controller/overlays/utrecht"
    );
    assert_eq!(
        cm[1]["spec"]["path"],
        "./infrastructure/cert-manager/config/overlays/utrecht"
    );
    assert_eq!(
        cm[1]["spec"]["dependsOn"],
        serde_json::json!([{"name": "cert-manager-controller"}])
    );
    // cert-manager's ServiceMonitor (its certificates' expiry alerts) needs the CRDs first.
    assert_eq!(
        cm[0]["spec"]["dependsOn"],
        serde_json::json!([{"name": "prometheus-operator-crds"}])
    );
    // A component of one unit (as the reference's loki.yaml): named after it, no part
    // directory. (Alloy now has a config part: its alert rules and dashboards.)
    let loki = docs(&files[Path::new("clusters/utrecht/infrastructure/loki.yaml")]);
    assert_eq!(loki.len(), 1);
    assert_eq!(loki[0]["metadata"]["name"], "loki");
    assert_eq!(
        loki[0]["spec"]["path"],
        "./infrastructure/loki/overlays/utrecht"
    );
    // clusters/<cluster>/infrastructure/kustomization.yaml lists every <component>.yaml there.
    let k = docs(&files[Path::new("clusters/utrecht/infrastructure/kustomization.yaml")]);
    let listed: Vec<&str> = k[0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let on_disk: Vec<String> = files
        .keys()
        .filter_map(|p| {
            let s = p
                .to_str()?
                .strip_prefix("clusters/utrecht/infrastructure/")?;
            (s != "kustomization.yaml").then(|| s.to_owned())
        })
        .collect();
    assert_eq!(listed, on_disk);
    assert!(
        listed.contains(&"cert-manager.yaml") && listed.len() > 10,
        "{listed:?}"
    );
    // Every Flux Kustomization points at an overlay of this cluster built on ../../base, and
    // every dependsOn names a Kustomization of the tree.
    let mut all_names = Vec::new();
    for d in listed
        .iter()
        .flat_map(|f| docs(&files[&PathBuf::from(format!("clusters/utrecht/infrastructure/{f}"))]))
    {
        let path = d["spec"]["path"].as_str().unwrap().trim_start_matches("./");
        assert!(path.ends_with("/overlays/utrecht"), "{path}");
        let k = docs(&files[&PathBuf::from(format!("{path}/kustomization.yaml"))]);
        assert_eq!(k[0]["resources"][0], "../../base", "{path}");
        assert!(files.contains_key(&PathBuf::from(format!(
            "{}/base/kustomization.yaml",
            path.trim_end_matches("/overlays/utrecht")
        ))));
        all_names.push(d["metadata"]["name"].as_str().unwrap().to_owned());
    }
    let tenants = docs(&files[Path::new("clusters/utrecht/tenants.yaml")]);
    assert_eq!(tenants[0]["spec"]["path"], "./tenants/utrecht");
    for dep in tenants[0]["spec"]["dependsOn"].as_array().unwrap() {
        assert!(
            all_names.contains(&dep["name"].as_str().unwrap().to_owned()),
            "{dep}"
        );
    }
    assert!(files.contains_key(Path::new("tenants/utrecht/kustomization.yaml")));
    // The base holds what the config decides nothing of: no domain, no cluster name.
    for (p, text) in &files {
        if p.to_string_lossy().contains("/base/") {
            assert!(!text.contains("example.nl"), "{}", p.display());
            assert!(!text.contains("utrecht"), "{}", p.display());
        }
    }
}

#[test]
fn two_clusters_share_one_repository() {
    let cat = Catalogue::builtin().unwrap();
    let a = reference(&config("a", Provider::Previder), &cat);
    let mut b_config = config("b", Provider::Cyso);
    b_config.cluster.domain = "b.example.nl".to_owned();
    let b = reference(&b_config, &cat);
    // A flat tree's files are leftovers for either cluster; the bases are no one's.
    for leftover in [
        "infrastructure/loki/release.yaml",
        "tenants/kustomization.yaml",
    ] {
        assert!(layout::owned_by(Path::new(leftover), "a"), "{leftover}");
    }
    assert!(!layout::owned_by(
        Path::new("infrastructure/loki/base/release.yaml"),
        "a"
    ));
    // B writes nothing of A's, and every file both write (the bases) is the same.
    for (path, text) in &b {
        assert!(!layout::owned_by(path, "a"), "{}", path.display());
        if let Some(theirs) = a.get(path) {
            assert_eq!(theirs, text, "{} differs", path.display());
            assert!(
                path.to_string_lossy().contains("/base/"),
                "{}",
                path.display()
            );
        }
    }
    let mut both: BTreeMap<PathBuf, String> = a.clone();
    both.extend(b.clone());
    assert!(layout::shared_base_conflicts(&b, &a, "b").is_empty());
    // Each cluster's objects, built from the shared repository, are its own render's.
    let report = validate_tree(&both);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // A base A's overlay uses that B would change is refused, naming the file and cluster A.
    let base = PathBuf::from("infrastructure/loki/base/release.yaml");
    let mut changed = b.clone();
    changed.insert(base.clone(), format!("{}# changed\n", b[&base]));
    let conflicts = layout::shared_base_conflicts(&changed, &a, "b");
    assert_eq!(
        conflicts,
        [LayoutError::SharedBase {
            file: base.to_string_lossy().into_owned(),
            others: "a".to_owned()
        }]
    );
    // A base only this cluster uses may change (a newer haven).
    assert!(layout::shared_base_conflicts(&changed, &b, "b").is_empty());
}

#[test]
fn a_wrong_field_in_a_patch_is_reported_at_the_patch() {
    let cat = Catalogue::builtin().unwrap();
    let mut files = reference(&config("haven", Provider::Previder), &cat);
    let patch = PathBuf::from(
        "infrastructure/cert-manager/config/overlays/haven/patches/clusterissuer-letsencrypt-production.yaml",
    );
    let text = files[&patch].clone();
    assert!(text.contains("    email: platform@example.nl\n"), "{text}");
    // A field ClusterIssuer does not have, on the patch's line 9.
    let wrong = text.replace(
        "    email: platform@example.nl\n",
        "    email: platform@example.nl\n    emial: typo@example.nl\n",
    );
    let line = wrong
        .lines()
        .position(|l| l.contains("emial"))
        .map(|i| i as u32 + 1)
        .unwrap();
    files.insert(patch.clone(), wrong);
    let report = validate_tree(&files);
    let found: Vec<&validate::Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].file, patch.to_string_lossy());
    assert_eq!(found[0].line, line, "{:?}", found[0]);
    assert!(found[0].path.contains("emial"), "{:?}", found[0]);
    // A field of the base is reported at the base.
    let mut files = reference(&config("haven", Provider::Previder), &cat);
    let base = PathBuf::from("infrastructure/cert-manager/config/base/cluster-issuers.yaml");
    let text = files[&base].clone();
    let wrong = text.replacen("  acme:\n", "  acme:\n    skipTLSVerify: maybe\n", 1);
    files.insert(base.clone(), wrong);
    let report = validate_tree(&files);
    let found: Vec<&validate::Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|d| d.file == base.to_string_lossy()),
        "{found:#?}"
    );
}
