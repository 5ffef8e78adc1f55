//! `haven plus import` and the transition plan on the committed copy of the Haven+ reference
//! implementation (tests/fixtures/havenplus-reference, see its NOTICE) and on a tree rendered
//! in haven's older shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haven_platform::config::{self, Provider, SecretsBackend};
use haven_platform::migration::import::{VALUE_KEYS, is_stateful};
use haven_platform::migration::mapping::{Action, REFERENCE};
use haven_platform::migration::plan::{Expectation, State};
use haven_platform::migration::{self, ClusterObjects, ImportOptions, ObjectId};
use haven_platform::validate::{self, Options};
use haven_platform::{Catalogue, render};

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

#[test]
fn dump_import() {
    if std::env::var_os("HAVEN_DUMP_IMPORT").is_none() {
        return;
    }
    for c in ["previder", "cyso"] {
        let (_, i) = import(c);
        println!("==== {c}\n{}", i.yaml);
        for n in &i.notes {
            println!("NOTE {n}");
        }
        for u in &i.units {
            println!("UNIT {u:?}");
        }
    }
}

#[test]
fn dump_plan() {
    if std::env::var_os("HAVEN_DUMP_PLAN").is_none() {
        return;
    }
    let (objects, i) = import("previder");
    let cat = Catalogue::builtin().unwrap();
    let (c, _) = config::parse("x", &i.yaml, &cat).unwrap();
    let t = migration::import::cutover(&objects, &c, &cat);
    println!("{}", migration::transition::format_moves(&t));
    println!("{}", migration::plan::format(&t.plan));
}
