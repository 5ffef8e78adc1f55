//! `haven plus import` and the transition plan on the committed copy of the Haven+ reference
//! implementation (tests/fixtures/havenplus-reference, see its NOTICE) and on a tree rendered
//! in haven's older shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haven_platform::config::{self, Provider, SecretsBackend};
use haven_platform::kustomize::KustomizeError;
use haven_platform::migration::import::{VALUE_KEYS, is_stateful};
use haven_platform::migration::mapping::{Action, REFERENCE};
use haven_platform::migration::plan::{Expectation, State};
use haven_platform::migration::{self, ClusterObjects, ImportOptions, ObjectId};
use haven_platform::{Catalogue, render};

mod common;

fn fixture() -> BTreeMap<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/havenplus-reference");
    haven_platform::fs::read_tree(&root).expect("the reference fixture reads")
}

fn import(cluster: &str) -> (ClusterObjects, migration::Imported) {
    let files = fixture();
    let objects = ClusterObjects::from_tree(&files, cluster);
    assert!(objects.unreadable.is_empty(), "{:?}", objects.unreadable);
    let options = ImportOptions {
        cluster: cluster.to_owned(),
        domain: Some("gemeente.example.nl".to_owned()),
    };
    let imported =
        migration::import(&objects, &options, &Catalogue::builtin().unwrap()).expect("imports");
    (objects, imported)
}

/// Prints the fixture files no cluster reaches (`HAVEN_DUMP_UNREACHED=1`), to keep the copy
/// to what the tests need.
#[test]
fn every_fixture_file_is_reached_by_a_cluster() {
    let files = fixture();
    let mut reached = std::collections::BTreeSet::new();
    for c in ["previder", "cyso"] {
        let objects = ClusterObjects::from_tree(&files, c);
        reached.extend(objects.patch_files.iter().cloned());
        for o in objects.objects {
            reached.insert(PathBuf::from(o.file));
        }
    }
    let unreached: Vec<&PathBuf> = files
        .keys()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| !reached.contains(*p))
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    if std::env::var_os("HAVEN_DUMP_UNREACHED").is_some() {
        for p in &unreached {
            println!("UNREACHED {}", p.display());
        }
    }
    assert!(unreached.is_empty(), "{unreached:?}");
}

fn parse(yaml: &str) -> haven_platform::PlatformConfig {
    config::parse("haven-plus.yaml", yaml, &Catalogue::builtin().unwrap())
        .unwrap_or_else(|e| panic!("{e:#?}\n{yaml}"))
        .0
}

#[test]
fn previder_imports_to_its_platform() {
    let (_, imported) = import("previder");
    let c = parse(&imported.yaml);
    assert_eq!(c.cluster.name, "previder");
    assert_eq!(c.cluster.provider, Provider::Previder);
    assert_eq!(c.cluster.domain, "gemeente.example.nl");
    assert_eq!(
        c.cluster.git.url,
        "https://gitlab.com/commonground/haven/havenplus/gitops-flux.git"
    );
    assert_eq!(
        c.cluster.rwx_storage_class.as_deref(),
        Some("previder-staas")
    );
    assert_eq!(
        c.cluster.load_balancer,
        Some(haven_platform::config::LoadBalancer::Metallb)
    );
    let caps = &c.capabilities;
    assert_eq!(caps.secrets.backend, SecretsBackend::SealedSecrets);
    assert_eq!(
        caps.ingress.implementation,
        haven_platform::config::IngressImplementation::Istio
    );
    assert_eq!(
        caps.identity.provider,
        haven_platform::config::IdentityProvider::Keycloak
    );
    assert_eq!(
        caps.admission.engine,
        haven_platform::config::AdmissionEngine::Kyverno
    );
    assert_eq!(
        caps.metrics.backend,
        haven_platform::config::MetricsBackend::Mimir
    );
    for (name, on) in [
        ("logs", true),
        ("traces", true),
        ("dashboards", true),
        ("backups", true),
        ("postgresql", true),
        ("imageScanning", true),
        ("intrusionDetection", true),
        ("certificates", true),
        // The reference deploys neither.
        ("dns", false),
        ("metricsServer", false),
    ] {
        assert_eq!(caps.selection(name).unwrap().0, on, "{name}");
    }
    // Tenants: repository, path and namespace of the reference's tenant-demo.
    assert_eq!(c.tenants.len(), 1);
    let t = &c.tenants[0];
    assert_eq!(t.name, "tenant-demo");
    assert_eq!(
        t.repo.as_deref(),
        Some("https://gitlab.com/commonground/haven/havenplus/tenant-demo.git")
    );
    assert_eq!(t.path.as_deref(), Some("./local/"));
    assert_eq!(t.branch, None, "main is the default");
    // Backups: the reference's schedule and retention.
    assert_eq!(c.capabilities.backups.schedule, "0 0 * * *");
    assert_eq!(c.capabilities.backups.ttl, "168h0m0s");
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.starts_with("loki: the reference stores its data in the provider's object storage (object.previder.nl)")),
        "{:#?}",
        imported.notes
    );
    // Each note once, also where two reference units map to one component (velero).
    let distinct: std::collections::BTreeSet<&String> = imported.notes.iter().collect();
    assert_eq!(
        distinct.len(),
        imported.notes.len(),
        "{:#?}",
        imported.notes
    );
    // Every unit of the cluster is named, with what became of it.
    let outcome = |u: &str| {
        imported
            .units
            .iter()
            .find(|r| r.unit == u)
            .map(|r| r.outcome)
            .unwrap_or_else(|| panic!("{u} not reported"))
    };
    assert_eq!(outcome("eck-operator"), "dropped");
    assert_eq!(outcome("cluster-resources"), "builtin");
    assert_eq!(outcome("sealed-secrets"), "mapped");
    assert_eq!(outcome("pinniped-controller"), "mapped");
    assert!(imported.units.iter().all(|u| u.outcome != "unknown"));
    assert!(
        imported
            .units
            .iter()
            .filter(|u| u.outcome == "dropped")
            .all(|u| !u.note.is_empty()),
        "every drop says why"
    );
}

#[test]
fn cyso_maps_ingress_nginx_to_the_gateway_api_and_keeps_the_nfs_class() {
    let (_, imported) = import("cyso");
    let c = parse(&imported.yaml);
    assert_eq!(c.cluster.provider, Provider::Cyso);
    assert!(c.capabilities.ingress.enabled);
    assert_eq!(
        c.capabilities.ingress.implementation,
        haven_platform::config::IngressImplementation::EnvoyGateway,
        "ingress-nginx is retired: the Gateway API implementation instead"
    );
    let nginx = imported
        .units
        .iter()
        .find(|u| u.unit == "ingress-nginx")
        .unwrap();
    assert!(nginx.note.contains("retired"), "{nginx:?}");
    assert_eq!(c.cluster.rwx_storage_class.as_deref(), Some("nfs"));
    let nfs = imported
        .units
        .iter()
        .find(|u| u.unit == "nfs-server-provisioner")
        .unwrap();
    assert_eq!(nfs.outcome, "dropped");
}

/// The render of the imported config validates with zero errors, on every supported minor.
#[test]
fn the_imported_configs_render_and_validate() {
    let catalogue = Catalogue::builtin().unwrap();
    for cluster in ["previder", "cyso"] {
        let (_, imported) = import(cluster);
        let c = parse(&imported.yaml);
        let rendered = render(&c, &catalogue);
        common::assert_validates_and_proves(
            cluster,
            &rendered.files,
            &catalogue,
            &c.cluster.kubernetes_version,
        );
        // Every component the mapping names for a mapped unit is rendered, where this build's
        // catalogue has it.
        for u in imported.units.iter().filter(|u| u.outcome == "mapped") {
            for comp in &u.components {
                if catalogue.get(comp).is_none() {
                    continue;
                }
                assert!(
                    rendered
                        .files
                        .keys()
                        .any(|p| p.to_string_lossy().contains(&format!("/{comp}/"))),
                    "{cluster}: {} maps to {comp}, which is not rendered",
                    u.unit
                );
            }
        }
    }
}

/// The mapping is checked against the config and the catalogue: every key it writes must be
/// accepted by `config::parse`, every component must exist. Fails until the components and
/// capabilities of the contract (kubectlLogin, clusterUI, policyReports, loadBalancer, storage;
/// pinniped, headlamp, kube-state-metrics, policy-reporter, metallb,
/// nfs-subdir-external-provisioner) are in this build.
#[test]
fn every_mapped_key_and_component_exists() {
    let catalogue = Catalogue::builtin().unwrap();
    let base = haven_platform::config::init_yaml(&haven_platform::PlatformConfig::new(
        "haven",
        "example.nl",
        Provider::Generic,
    ));
    let mut missing = Vec::new();
    let settings = REFERENCE.iter().flat_map(|m| match m.action {
        Action::Mapped { settings, .. } => settings.to_vec(),
        _ => Vec::new(),
    });
    for (key, value) in settings.chain(VALUE_KEYS.iter().copied()) {
        let mut v: serde_json::Value = serde_yaml_ng::from_str(&base).unwrap();
        let mut node = &mut v;
        for part in key.split('.') {
            node = &mut node[part];
        }
        *node = serde_json::from_str(value).unwrap();
        let text = serde_yaml_ng::to_string(&v).unwrap();
        if let Err(errors) = config::parse("mapping", &text, &catalogue) {
            // Another capability's dependency is not this key's problem.
            let own: Vec<_> = errors
                .iter()
                .filter(|e| {
                    e.path.is_empty() || key.starts_with(&e.path) || e.path.starts_with(key)
                })
                .map(|e| e.describe())
                .collect();
            if !own.is_empty() {
                missing.push(format!("{key}: {}", own.join("; ")));
            }
        }
    }
    for m in REFERENCE {
        if let Action::Mapped { components, .. } = m.action {
            for c in components {
                if catalogue.get(c).is_none() {
                    missing.push(format!(
                        "{}: component `{c}` is not in the catalogue",
                        m.component
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The mapping covers every unit the reference deploys on any of its clusters.
#[test]
fn every_unit_of_the_fixture_has_a_row() {
    let files = fixture();
    for cluster in ["previder", "cyso"] {
        let objects = ClusterObjects::from_tree(&files, cluster);
        for k in migration::import::reference_units(&objects) {
            if k.value["spec"]["path"]
                .as_str()
                .is_some_and(|p| p.contains("tenants/"))
                || k.id.namespace.as_deref() != Some("flux-system")
            {
                continue;
            }
            assert!(
                migration::mapping::for_unit(&k.id.name).is_some(),
                "{cluster}: {}",
                k.id.name
            );
        }
    }
}

fn step_index(plan: &migration::Plan, id: &str) -> usize {
    plan.steps
        .iter()
        .position(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// The cut-over marks every stateful object of the reference (Namespaces, CloudNativePG
/// Clusters, the sealed-secrets key) before the step that renames anything.
#[test]
fn the_cutover_marks_every_stateful_object_before_any_rename() {
    let catalogue = Catalogue::builtin().unwrap();
    let (objects, imported) = import("previder");
    let c = parse(&imported.yaml);
    let t = migration::import::cutover(&objects, &c, &render(&c, &catalogue).files);
    let protect = step_index(&t.plan, "protect");
    let switch = step_index(&t.plan, "switch");
    assert!(protect < switch);
    assert!(step_index(&t.plan, "stop-pruning") < switch);
    assert!(step_index(&t.plan, "suspend-releases") < switch);
    assert!(step_index(&t.plan, "backup") < switch);
    assert!(switch < step_index(&t.plan, "verify"));
    assert!(step_index(&t.plan, "verify") < step_index(&t.plan, "cleanup"));
    let marked: Vec<&ObjectId> = t.plan.steps[protect]
        .expect
        .iter()
        .filter_map(|e| match e {
            Expectation::Annotated { object, key, value }
                if key == "kustomize.toolkit.fluxcd.io/prune" && value == "disabled" =>
            {
                Some(object)
            }
            _ => None,
        })
        .collect();
    let stateful: Vec<&ObjectId> = objects
        .objects
        .iter()
        .filter(|o| is_stateful(&o.id) && o.prunable)
        .map(|o| &o.id)
        .collect();
    assert!(stateful.len() > 20, "{stateful:?}");
    for id in &stateful {
        assert!(marked.contains(id), "{id} is not marked before the switch");
    }
    for want in [
        ObjectId::new(
            "postgresql.cnpg.io",
            "Cluster",
            Some("keycloak-instances"),
            "keycloak-pg-cluster",
        ),
        ObjectId::new("", "Namespace", None, "sealed-secrets"),
        ObjectId::new("", "Namespace", None, "tenant-demo"),
    ] {
        assert!(marked.contains(&&want), "{want}");
    }
    let commands = t.plan.steps[protect].commands.join("\n");
    assert!(
        commands.contains("kubectl -n sealed-secrets annotate secret -l sealedsecrets.bitnami.com/sealed-secrets-key kustomize.toolkit.fluxcd.io/prune=disabled"),
        "{commands}"
    );
    // Every old Kustomization that goes stops pruning (one haven keeps, such as
    // `cert-manager-config`, gets haven's prune back with the switch: its objects are covered by
    // the marks); every HelmRelease is suspended before it goes.
    let new = ClusterObjects::from_tree(&render(&c, &catalogue).files, "previder");
    let stop = &t.plan.steps[step_index(&t.plan, "stop-pruning")];
    for unit in migration::import::reference_units(&objects) {
        if unit.value["spec"]["prune"] == true && new.get(&unit.id).is_none() {
            assert!(
                stop.expect.iter().any(|e| matches!(e, Expectation::PruneOff { kustomization } if kustomization.name == unit.id.name)),
                "{} keeps pruning",
                unit.id
            );
        }
    }
    let suspended = &t.plan.steps[step_index(&t.plan, "suspend-releases")];
    for hr in objects
        .objects
        .iter()
        .filter(|o| o.id.kind == "HelmRelease")
    {
        assert!(
            suspended
                .expect
                .iter()
                .any(|e| matches!(e, Expectation::Suspended { release } if *release == hr.id)),
            "{} is not suspended",
            hr.id
        );
    }
    // The S3 credentials keep working under haven's names.
    let secrets = &t.plan.steps[step_index(&t.plan, "map-secrets")];
    assert!(secrets.commands.iter().any(|c| {
        c.starts_with("kubectl -n velero create secret generic velero-s3 --from-literal=cloud=")
    }));
    assert!(
        secrets
            .commands
            .iter()
            .any(|c| c.contains("create secret generic loki-s3")
                && c.contains("get secret s3-credentials")
                && c.contains("S3_ACCESS_KEY_ID"))
    );
    // JSON, through serde, reads back.
    let json = serde_json::to_value(&t.plan).unwrap();
    assert_eq!(json["steps"][protect]["id"], "protect");
    assert_eq!(json["steps"][protect]["expect"][0]["expect"], "annotated");
}

fn snapshot(objects: &[serde_json::Value]) -> ClusterObjects {
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
    ClusterObjects::from_stream("snapshot.yaml", &serde_yaml_ng::to_string(&list).unwrap())
}

/// `--check` on a snapshot: a step is done when every object shows what the step does.
#[test]
fn check_reads_which_steps_a_snapshot_shows_done() {
    let catalogue = Catalogue::builtin().unwrap();
    let (objects, imported) = import("previder");
    let c = parse(&imported.yaml);
    let t = migration::import::cutover(&objects, &c, &render(&c, &catalogue).files);
    // The cluster as the reference left it: nothing done.
    let live: Vec<serde_json::Value> = objects.objects.iter().map(|o| o.value.clone()).collect();
    let before = migration::check(&t.plan, &snapshot(&live));
    let state = |checks: &[migration::StepCheck], id: &str| {
        checks.iter().find(|c| c.id == id).unwrap().state
    };
    assert_eq!(state(&before, "protect"), State::NotDone);
    assert_eq!(state(&before, "stop-pruning"), State::NotDone);
    assert_eq!(state(&before, "suspend-releases"), State::NotDone);
    assert_eq!(state(&before, "backup"), State::Confirm);
    // After protect, stop-pruning and suspend: those are done, the switch is not.
    let protected: std::collections::BTreeSet<ObjectId> = t.plan.steps
        [step_index(&t.plan, "protect")]
    .expect
    .iter()
    .filter_map(|e| match e {
        Expectation::Annotated { object, .. } => Some(object.clone()),
        _ => None,
    })
    .collect();
    let after: Vec<serde_json::Value> = objects
        .objects
        .iter()
        .map(|o| {
            let mut v = o.value.clone();
            if protected.contains(&o.id) {
                v["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"] =
                    "disabled".into();
            }
            if o.id.kind == "Kustomization" {
                v["spec"]["prune"] = false.into();
            }
            if o.id.kind == "HelmRelease" {
                v["spec"]["suspend"] = true.into();
            }
            v
        })
        .collect();
    let checks = migration::check(&t.plan, &snapshot(&after));
    assert_eq!(state(&checks, "protect"), State::Done, "{checks:#?}");
    assert_eq!(state(&checks, "stop-pruning"), State::Done);
    assert_eq!(state(&checks, "suspend-releases"), State::Done);
    assert_eq!(state(&checks, "switch"), State::NotDone);
    assert_eq!(state(&checks, "cleanup"), State::NotDone);
}

/// A tree in haven's older shape: platform HelmReleases in their component namespaces (as
/// renders before the Flux lockdown wrote them), made from today's render.
fn old_shape(files: &BTreeMap<PathBuf, String>) -> BTreeMap<PathBuf, String> {
    files
        .iter()
        .map(|(p, text)| {
            if !text.contains("kind: HelmRelease") {
                return (p.clone(), text.clone());
            }
            let docs: Vec<serde_json::Value> = haven_model::parse_stream("x", text)
                .into_iter()
                .map(|d| d.unwrap().value)
                .map(|mut v| {
                    if v["kind"] == "HelmRelease" {
                        let ns = v["spec"]["targetNamespace"].clone();
                        v["metadata"]["namespace"] = ns;
                        let spec = v["spec"].as_object_mut().unwrap();
                        for k in [
                            "targetNamespace",
                            "storageNamespace",
                            "releaseName",
                            "serviceAccountName",
                        ] {
                            spec.remove(k);
                        }
                    }
                    v
                })
                .collect();
            (p.clone(), haven_platform::render::yaml_stream(&docs))
        })
        .collect()
}

#[test]
fn an_upgrade_that_moves_helmreleases_is_a_hazard_with_a_plan() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut c = haven_platform::PlatformConfig::new("haven", "example.nl", Provider::Previder);
    c.capabilities.secrets.backend = SecretsBackend::SealedSecrets;
    let new_files = render(&c, &catalogue).files;
    let old_files = old_shape(&new_files);
    assert_ne!(old_files, new_files);
    let old = ClusterObjects::from_tree(&old_files, "haven");
    let new = ClusterObjects::from_tree(&new_files, "haven");
    // Today's render over itself moves nothing.
    assert!(!migration::transition(&new, &new, vec![], false).is_hazardous());
    let t = migration::transition(
        &old,
        &new,
        vec!["haven plus render --moves-prepared".into()],
        false,
    );
    assert!(t.is_hazardous());
    let loki = ObjectId::new(
        "helm.toolkit.fluxcd.io",
        "HelmRelease",
        Some("loki"),
        "loki",
    );
    let m = t
        .moves
        .iter()
        .find(|m| m.object == loki)
        .expect("loki's HelmRelease moves");
    assert_eq!(
        m.to,
        Some(ObjectId::new(
            "helm.toolkit.fluxcd.io",
            "HelmRelease",
            Some("flux-system"),
            "loki"
        ))
    );
    // Suspended before the switch, deleted (not uninstalled) after it.
    let suspend = &t.plan.steps[step_index(&t.plan, "suspend-releases")];
    assert!(
        suspend
            .commands
            .contains(&"flux suspend helmrelease loki -n loki".to_owned())
    );
    let protect = &t.plan.steps[step_index(&t.plan, "protect")];
    assert!(protect.commands.iter().any(|c| c == "kubectl -n loki annotate pvc --all kustomize.toolkit.fluxcd.io/prune=disabled helm.sh/resource-policy=keep --overwrite"));
    assert!(protect.commands.iter().any(|c| c.contains(
        "-n sealed-secrets annotate secret -l sealedsecrets.bitnami.com/sealed-secrets-key"
    )));
    assert!(step_index(&t.plan, "protect") < step_index(&t.plan, "switch"));
    assert!(step_index(&t.plan, "suspend-releases") < step_index(&t.plan, "switch"));
    let cleanup = &t.plan.steps[step_index(&t.plan, "cleanup")];
    assert!(
        cleanup.commands.iter().any(
            |c| c.starts_with("kubectl -n loki delete helmrelease.helm.toolkit.fluxcd.io loki")
        )
    );
}

/// The output of `kustomize build` (here: every object the tree walk reaches, as one stream)
/// imports to the same config as the tree.
#[test]
fn a_kustomize_build_stream_imports_like_the_tree() {
    let (objects, from_tree) = import("previder");
    let docs: Vec<serde_json::Value> = objects.objects.iter().map(|o| o.value.clone()).collect();
    let stream = haven_platform::render::yaml_stream(&docs);
    let from_stream = ClusterObjects::from_stream("build.yaml", &stream);
    assert!(from_stream.unreadable.is_empty());
    assert_eq!(from_stream.objects.len(), objects.objects.len());
    let options = ImportOptions {
        cluster: "previder".to_owned(),
        domain: Some("gemeente.example.nl".to_owned()),
    };
    let imported =
        migration::import(&from_stream, &options, &Catalogue::builtin().unwrap()).unwrap();
    assert_eq!(imported.config, from_tree.config);
    assert_eq!(imported.units, from_tree.units);
}

#[test]
fn a_stream_without_flux_kustomizations_is_refused() {
    let objects = ClusterObjects::from_stream(
        "x.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    );
    let err = migration::import(
        &objects,
        &ImportOptions {
            cluster: "x".into(),
            domain: None,
        },
        &Catalogue::builtin().unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, migration::ImportError::NoCluster(_)));
}

/// Which Flux Kustomization applies which object of the reference fixture, and whether it
/// prunes it: the facts every import and cut-over plan is built on. The expectation was
/// computed by the walk `migration::tree` had of its own (before it built each directory with
/// `kustomize::build`) and is committed as data, so a change of the walk that moves an owner,
/// renames a namespace or loses an object fails here
/// (`HAVEN_BLESS=1 cargo test -p haven-platform --test migration owners_of_the_reference`
/// rewrites it; review the diff).
#[test]
fn owners_of_the_reference_objects_are_as_recorded() {
    let files = fixture();
    let mut actual = serde_json::Map::new();
    for cluster in ["previder", "cyso"] {
        let objects = ClusterObjects::from_tree(&files, cluster);
        assert!(objects.unreadable.is_empty(), "{:?}", objects.unreadable);
        // What the build cannot do as Flux would on this copy: the files the copy leaves out
        // (Flux's own gotk-components.yaml, the network policies), remote bases, and
        // `configMapGenerator`/`labels`, none of which adds or moves an owned object of the
        // tree. Any other error (a patch matching nothing, a directory Flux could not build)
        // would.
        for e in &objects.errors {
            match e {
                KustomizeError::MissingResource { resource, .. } => assert!(
                    ["gotk-components.yaml", "./network-policies"].contains(&resource.as_str()),
                    "{e}"
                ),
                KustomizeError::Unsupported { what, .. } => assert!(
                    what.starts_with("remote resource https://")
                        || ["configMapGenerator", "labels"].contains(&what.as_str()),
                    "{e}"
                ),
                other => panic!("{other}"),
            }
        }
        let mut rows: Vec<String> = objects
            .objects
            .iter()
            .map(|o| {
                let owner = o
                    .owner
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string);
                let prune = if o.prunable { "prune" } else { "keep" };
                format!("{} ({}) <- {owner} [{prune}]", o.id, o.id.group)
            })
            .collect();
        rows.sort();
        let before = rows.len();
        rows.dedup();
        assert_eq!(rows.len(), before, "an object listed twice for one owner");
        actual.insert(cluster.to_owned(), serde_json::json!(rows));
    }
    let actual = serde_json::to_string_pretty(&serde_json::Value::Object(actual)).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference-owners.json");
    if std::env::var_os("HAVEN_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("tests/fixtures/reference-owners.json");
    assert_eq!(
        actual, expected,
        "owners changed; see the test's doc comment"
    );
}

/// The catalogue's upgrade stops, on trees rendered by this build with an older pin: a
/// platform installed with mimir-distributed 6.0.5 goes through 6.1.0 before 6.2.0 (Mimir 3.2
/// needs every querier on 3.1 first). Rendering the default over it is a skipped stop; pinning
/// the stop is the step, after which the default is reached; a fresh tree has nothing to
/// skip; pinning past the stop is the operator's choice and reported as such.
#[test]
fn an_install_below_an_upgrade_stop_is_told_to_take_the_stop_first() {
    let cat = Catalogue::builtin().unwrap();
    let mimir = cat.get("mimir").unwrap();
    let stop = &mimir.upgrade_stops[0];
    assert_eq!(stop.version, "6.1.0");
    let with_mimir = |version: Option<&str>| {
        let mut c = config::PlatformConfig::new("haven", "example.nl", Provider::Generic);
        if let Some(v) = version {
            c.components.insert(
                "mimir".to_owned(),
                config::ComponentOverride {
                    version: Some(v.to_owned()),
                    ..Default::default()
                },
            );
        }
        c
    };
    let tree = |version: Option<&str>| {
        ClusterObjects::from_tree(&render(&with_mimir(version), &cat).files, "haven")
    };
    let skipped =
        |installed: Option<&str>, target: Option<&str>| -> Vec<migration::upgrade::SkippedStop> {
            migration::upgrade::skipped_stops(&tree(installed), &with_mimir(target), &cat)
        };

    let jump = skipped(Some("6.0.5"), None);
    assert_eq!(jump.len(), 1, "{jump:#?}");
    let s = &jump[0];
    assert_eq!(
        (s.installed.as_str(), s.target.as_str(), s.stop.as_str()),
        ("6.0.5", mimir.version.as_str(), "6.1.0")
    );
    assert_eq!(s.release, "flux-system/mimir");
    assert_eq!(s.file, "infrastructure/mimir/release.yaml");
    assert!(!s.pinned);
    assert!(
        s.step().contains("components: {mimir: {version: 6.1.0}}"),
        "{}",
        s.step()
    );
    assert!(s.to_string().contains("remote execution"), "{s}");

    // The step, then the default.
    assert_eq!(skipped(Some("6.0.5"), Some("6.1.0")), vec![]);
    assert_eq!(skipped(Some("6.1.0"), None), vec![]);
    // Already there, or nothing installed.
    assert_eq!(skipped(None, None), vec![]);
    assert_eq!(
        migration::upgrade::skipped_stops(
            &ClusterObjects::from_tree(&BTreeMap::new(), "haven"),
            &with_mimir(None),
            &cat
        ),
        vec![]
    );
    // Pinned past the stop: reported, marked as the operator's choice.
    let pinned = skipped(Some("6.0.5"), Some(&mimir.version));
    assert_eq!(pinned.len(), 1);
    assert!(pinned[0].pinned);
}

/// The reference installs mimir-distributed 6.0.5: the imported config pins Mimir's upgrade
/// stop (6.1.0) for the first render and says when to drop it, so the import's first render
/// does not jump past it.
#[test]
fn import_pins_the_upgrade_stop_the_reference_is_below() {
    let (_, imported) = import("previder");
    assert_eq!(
        imported.config["components"]["mimir"]["version"], "6.1.0",
        "{}",
        imported.yaml
    );
    assert!(
        imported.notes.iter().any(|n| n.starts_with(
            "components.mimir.version: 6.1.0 (the reference installs mimir-distributed 6.0.5;"
        )),
        "{:#?}",
        imported.notes
    );
    let (config, _) = config::parse(
        "haven-plus.yaml",
        &imported.yaml,
        &Catalogue::builtin().unwrap(),
    )
    .unwrap();
    assert_eq!(config.components["mimir"].version.as_deref(), Some("6.1.0"));
}
