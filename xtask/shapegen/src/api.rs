//! The API tables of `haven plus validate`: for every Kubernetes minor of the supported window,
//! `crates/haven-platform/kubernetes/v1_NN.txt` lists the kinds that minor serves (API version,
//! kind, scope, type) and the JSON shape of every type reachable from them, read from the
//! version modules of the `k8s-openapi` source in the graph.
//!
//! Why: built-in objects are validated against the API of the minor the platform targets, not
//! only the one minor `k8s-openapi` is compiled for; a field, kind or version that a minor does
//! not have is an error that names the minor. The tables are plain text so that `diff
//! v1_36.txt v1_37.txt` shows what a release changed; a test fails when they are stale.
//!
//! Format (one item per line, sorted):
//!
//! ```text
//! kind <apiVersion> <Kind> <namespaced|cluster> <type>
//! type <type>
//!   <jsonKey>[!] <shape>          ! = the decoder requires the field
//! ```
//!
//! Shapes: `string`, `bool`, `int32`, `int64`, `number`, `bytes` (base64), `any` (any JSON),
//! `quantity`, `int-or-string`, `time`, `micro-time`, a type name, `[S]` (list of S), `{S}` (map
//! from string to S), `S|T` (either, told apart by the JSON type of the value).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{Error, Ty, err, index_types, parse_struct, parse_ty};

/// The oldest minor of the supported window. Kubernetes keeps the newest three minors in
/// support; when a `k8s-openapi` upgrade brings a new minor, its table appears on the next
/// `cargo shapes`, and raising this drops the oldest one (a deliberate edit, reviewed).
pub const FIRST_MINOR: u32 = 35;

/// Where the committed tables live.
pub fn tables_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../crates/haven-platform/kubernetes")
}

/// The version modules (`v1_NN`) of the window, oldest first, as (minor, directory).
pub fn minors(root: &Path) -> Result<Vec<(u32, PathBuf)>, Error> {
    let entries = std::fs::read_dir(root).map_err(|e| Error(format!("{}: {e}", root.display())))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error(format!("{}: {e}", root.display())))?
            .path();
        let Some(minor) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("v1_"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if path.is_dir() && minor >= FIRST_MINOR {
            out.push((minor, path));
        }
    }
    out.sort();
    if out.is_empty() {
        return err(format!(
            "no version module v1_{FIRST_MINOR} or newer under {}",
            root.display()
        ));
    }
    Ok(out)
}

/// Every table of the window, by file name.
pub fn generate_all(root: &Path, version: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (minor, dir) in minors(root)? {
        out.insert(format!("v1_{minor}.txt"), generate(&dir, minor, version)?);
    }
    Ok(out)
}

/// Writes every table of the window and removes tables of minors no longer in it.
pub fn write_tables(root: &Path, version: &str) -> Result<Vec<PathBuf>, Error> {
    let tables = generate_all(root, version)?;
    let dir = tables_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
    for old in committed(&dir)?.keys() {
        if !tables.contains_key(old) {
            let path = dir.join(old);
            std::fs::remove_file(&path).map_err(|e| Error(format!("{}: {e}", path.display())))?;
        }
    }
    let mut written = Vec::new();
    for (name, text) in tables {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error(format!("{}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

/// The committed tables, by file name.
pub fn committed(dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry
            .map_err(|e| Error(format!("{}: {e}", dir.display())))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with("v1_") && name.ends_with(".txt") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error(format!("{}: {e}", path.display())))?;
            out.insert(name.to_owned(), text);
        }
    }
    Ok(out)
}

/// A resource type: what `impl crate::Resource` says of it.
struct Resource {
    api_version: String,
    kind: String,
    namespaced: bool,
}

/// What a named type is, once its file is read.
enum Def {
    Struct(crate::Parsed),
    /// A newtype over `serde_json::Value`: any JSON.
    Any,
    /// An enum of one-field variants, told apart by the JSON type of the value.
    Union(Vec<Ty>),
}

/// Generates the table of one minor from its version module `src`.
pub fn generate(src: &Path, minor: u32, version: &str) -> Result<String, Error> {
    let index = index_types(src)?;
    let mut resources: BTreeMap<String, Resource> = BTreeMap::new();
    for (path, file) in &index {
        if let Some(r) = resource(file, path)? {
            resources.insert(path.clone(), r);
        }
    }
    let mut defs: BTreeMap<String, Def> = BTreeMap::new();
    let mut queue: VecDeque<String> = resources.keys().cloned().collect();
    while let Some(path) = queue.pop_front() {
        if defs.contains_key(&path) {
            continue;
        }
        let file = index
            .get(&path)
            .ok_or_else(|| Error(format!("type {path} not found under {}", src.display())))?;
        let def = define(file, &path)?;
        let mut reached = Vec::new();
        match &def {
            Def::Struct(p) => p.fields.iter().for_each(|(_, t)| structs(t, &mut reached)),
            Def::Union(variants) => variants.iter().for_each(|t| structs(t, &mut reached)),
            Def::Any => {}
        }
        queue.extend(reached);
        defs.insert(path, def);
    }
    // Short, unique names: `apps.v1.Deployment`, `meta.v1.ObjectMeta`.
    let mut names: BTreeMap<&str, String> = BTreeMap::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for path in defs.keys() {
        let short = short_name(path);
        if !taken.insert(short.clone()) {
            return err(format!("two types are named {short}"));
        }
        names.insert(path, short);
    }
    let shape = |ty: &Ty| render(ty, &defs, &names);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# @generated by `cargo shapes` from k8s-openapi {version} (v1_{minor}). Do not edit.\n\
         # The API of Kubernetes 1.{minor} as `haven plus validate` checks built-in objects against\n\
         # it; the format is described in xtask/shapegen/src/api.rs.\n\
         kubernetes 1.{minor}"
    );
    let mut kinds: Vec<(&str, &str, &Resource, &str)> = resources
        .iter()
        .map(|(path, r)| {
            (
                r.api_version.as_str(),
                r.kind.as_str(),
                r,
                names[path.as_str()].as_str(),
            )
        })
        .collect();
    kinds.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (api_version, kind, r, ty) in kinds {
        let scope = if r.namespaced {
            "namespaced"
        } else {
            "cluster"
        };
        let _ = writeln!(out, "kind {api_version} {kind} {scope} {ty}");
    }
    let mut types: Vec<(&str, &crate::Parsed)> = defs
        .iter()
        .filter_map(|(path, d)| match d {
            Def::Struct(p) => Some((names[path.as_str()].as_str(), p)),
            _ => None,
        })
        .collect();
    types.sort_by(|a, b| a.0.cmp(b.0));
    for (name, p) in types {
        let _ = writeln!(out, "type {name}");
        let mut fields: Vec<&(String, Ty)> = p.fields.iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, ty) in fields {
            let bang = if p.required.contains(key) { "!" } else { "" };
            let _ = writeln!(out, "  {key}{bang} {}", shape(ty)?);
        }
    }
    Ok(out)
}

/// The resource a file defines, if it implements `crate::Resource` for `path` with a scope of
/// its own (sub-resources such as `Scale` are not objects of a manifest).
fn resource(file: &Path, path: &str) -> Result<Option<Resource>, Error> {
    let name = path.rsplit("::").next().unwrap_or(path);
    let text =
        std::fs::read_to_string(file).map_err(|e| Error(format!("{}: {e}", file.display())))?;
    let header = format!("impl crate::Resource for {name} {{");
    let Some(start) = text.find(&header) else {
        return Ok(None);
    };
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    let constant = |c: &str| {
        body.lines().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("const {c}: &'static str = \""))
                .and_then(|r| r.strip_suffix("\";"))
                .map(str::to_owned)
        })
    };
    let (Some(api_version), Some(kind)) = (constant("API_VERSION"), constant("KIND")) else {
        return err(format!(
            "{}: Resource without API_VERSION or KIND",
            file.display()
        ));
    };
    let namespaced = if body.contains("type Scope = crate::NamespaceResourceScope;") {
        true
    } else if body.contains("type Scope = crate::ClusterResourceScope;") {
        false
    } else if body.contains("type Scope = crate::SubResourceScope;") {
        return Ok(None);
    } else {
        return err(format!("{}: Resource of an unknown scope", file.display()));
    };
    Ok(Some(Resource {
        api_version,
        kind,
        namespaced,
    }))
}

/// Reads the definition of `path` from its file.
fn define(file: &Path, path: &str) -> Result<Def, Error> {
    let name = path.rsplit("::").next().unwrap_or(path);
    let text =
        std::fs::read_to_string(file).map_err(|e| Error(format!("{}: {e}", file.display())))?;
    if text.contains(&format!("pub struct {name}(pub crate::serde_json::Value);")) {
        return Ok(Def::Any);
    }
    let header = format!("pub enum {name} {{");
    if let Some(start) = text.find(&header) {
        // Only the enums whose decoder takes the variant from the JSON type of the value
        // (`deserialize_any` with one visit method per variant) are modelled.
        if !text.contains("deserializer.deserialize_any(Visitor)") {
            return err(format!(
                "{}: enum {name} is not told apart by JSON type",
                file.display()
            ));
        }
        let mut variants = Vec::new();
        for line in text[start + header.len()..].lines() {
            let t = line.trim();
            if t == "}" {
                break;
            }
            if t.is_empty() {
                continue;
            }
            let inner = t
                .split_once('(')
                .and_then(|(_, r)| r.strip_suffix("),"))
                .ok_or_else(|| Error(format!("{}: odd variant {t:?}", file.display())))?;
            variants.push(parse_ty(inner)?);
        }
        return Ok(Def::Union(variants));
    }
    parse_struct(file, path).map(Def::Struct)
}

fn structs(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Leaf(_) => {}
        Ty::Struct(p) => out.push(p.clone()),
        Ty::Vec(i) | Ty::Map(i) | Ty::Option(i) => structs(i, out),
    }
}

/// `api::apps::v1::Deployment` -> `apps.v1.Deployment`.
fn short_name(path: &str) -> String {
    let rest = [
        "api::",
        "apimachinery::pkg::apis::",
        "apiextensions_apiserver::pkg::apis::",
        "kube_aggregator::pkg::apis::",
        "apimachinery::pkg::",
    ]
    .iter()
    .find_map(|p| path.strip_prefix(p))
    .unwrap_or(path);
    rest.replace("::", ".")
}

fn render(
    ty: &Ty,
    defs: &BTreeMap<String, Def>,
    names: &BTreeMap<&str, String>,
) -> Result<String, Error> {
    Ok(match ty {
        Ty::Leaf(l) => match *l {
            "Str" => "string",
            "Bool" => "bool",
            "I32" => "int32",
            "I64" => "int64",
            "F64" => "number",
            "ByteString" => "bytes",
            "Json" => "any",
            "Time" => "time",
            "MicroTime" => "micro-time",
            "Quantity" => "quantity",
            "IntOrString" => "int-or-string",
            other => return err(format!("no table name for leaf {other}")),
        }
        .to_owned(),
        Ty::Struct(path) => match defs.get(path) {
            Some(Def::Struct(_)) => names[path.as_str()].clone(),
            Some(Def::Any) => "any".to_owned(),
            Some(Def::Union(variants)) => variants
                .iter()
                .map(|v| render(v, defs, names))
                .collect::<Result<Vec<_>, _>>()?
                .join("|"),
            None => return err(format!("{path} not generated")),
        },
        Ty::Vec(inner) => format!("[{}]", render(inner, defs, names)?),
        Ty::Map(inner) => format!("{{{}}}", render(inner, defs, names)?),
        // An `Option` inside a list or map: its items may be `null`.
        Ty::Option(inner) => format!("{}?", render(inner, defs, names)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed tables are what the generator makes of the `k8s-openapi` in the graph: an
    /// upgrade that changes the API of a minor, or brings a new one, fails here until `cargo
    /// shapes` is run.
    #[test]
    fn committed_tables_are_current() {
        let (root, version) = crate::k8s_openapi_src().expect("k8s-openapi source");
        let fresh = generate_all(&root, &version).expect("generate");
        let committed = committed(&tables_dir()).expect("committed tables");
        assert_eq!(
            fresh.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>(),
            "crates/haven-platform/kubernetes/ holds other minors than k8s-openapi: run `cargo shapes`"
        );
        for (name, text) in &fresh {
            assert!(
                committed[name] == *text,
                "crates/haven-platform/kubernetes/{name} is stale: run `cargo shapes`"
            );
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(
            short_name("api::apps::v1::Deployment"),
            "apps.v1.Deployment"
        );
        assert_eq!(
            short_name("apimachinery::pkg::apis::meta::v1::ObjectMeta"),
            "meta.v1.ObjectMeta"
        );
        assert_eq!(
            short_name("kube_aggregator::pkg::apis::apiregistration::v1::APIService"),
            "apiregistration.v1.APIService"
        );
    }
}
