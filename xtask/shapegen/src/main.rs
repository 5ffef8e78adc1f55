//! `cargo shapes`: writes `crates/haven-admission/src/shape_table.rs`, the JSON shape of
//! every Kubernetes type reachable from `PodSpec` and `ObjectMeta`, read from the source of the
//! `k8s-openapi` crate the workspace builds with; and the per-minor API tables of `haven plus
//! validate` (`crates/haven-platform/kubernetes/v1_NN.txt`, see [`api`]).
//!
//! Why: the webhook's fast path builds only the fields Pod Security reads and checks the rest
//! against these shapes, so that it still rejects exactly what decoding into the `k8s-openapi`
//! types would reject (a wrong type anywhere), without allocating the values. The table is
//! generated rather than written so that it follows `k8s-openapi` exactly; a test fails when
//! the committed table and a fresh one differ.
//!
//! The generated code of `k8s-openapi` is regular: a struct per file, fields `pub name: Type,`,
//! a field-name visitor with arms `"jsonKey" => Field::Key_name,` and a `visit_map` that assigns
//! each field. Anything that departs from that pattern stops the generator with an error naming
//! the file, rather than producing a shape that might be wrong.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The types the table starts from, and the constant each one's index gets.
const ROOTS: &[(&str, &str)] = &[
    ("api::core::v1::PodSpec", "POD_SPEC"),
    ("api::core::v1::Container", "CONTAINER"),
    ("api::core::v1::EphemeralContainer", "EPHEMERAL_CONTAINER"),
    ("api::core::v1::Volume", "VOLUME"),
    (
        "apimachinery::pkg::apis::meta::v1::ObjectMeta",
        "OBJECT_META",
    ),
    // Built in part by the fast path (`lean.rs`), the rest of each checked by shape.
    ("api::core::v1::Probe", "PROBE"),
    ("api::core::v1::Lifecycle", "LIFECYCLE"),
    ("api::core::v1::LifecycleHandler", "LIFECYCLE_HANDLER"),
    ("api::core::v1::HTTPGetAction", "HTTP_GET_ACTION"),
    ("api::core::v1::TCPSocketAction", "TCP_SOCKET_ACTION"),
    ("api::core::v1::ContainerPort", "CONTAINER_PORT"),
];

/// Types with a hand-written `Deserialize` in `k8s-openapi`, validated by the webhook with that
/// very implementation (or, for JSON values, as any JSON).
const LEAVES: &[(&str, &str)] = &[
    ("apimachinery::pkg::apis::meta::v1::Time", "Time"),
    ("apimachinery::pkg::apis::meta::v1::MicroTime", "MicroTime"),
    ("apimachinery::pkg::api::resource::Quantity", "Quantity"),
    (
        "apimachinery::pkg::util::intstr::IntOrString",
        "IntOrString",
    ),
    ("apimachinery::pkg::apis::meta::v1::FieldsV1", "Json"),
    ("apimachinery::pkg::runtime::RawExtension", "Json"),
];

/// The version module of `k8s-openapi` the workspace enables.
pub const VERSION_MODULE: &str = "v1_37";

#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err<T>(message: impl Into<String>) -> Result<T, Error> {
    Err(Error(message.into()))
}

mod api;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (root, version) = k8s_openapi_src()?;
    let table = generate(&root.join(VERSION_MODULE), &version)?;
    std::fs::write(table_path(), table)?;
    println!("wrote {}", table_path().display());
    for path in api::write_tables(&root, &version)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Where the committed table lives.
pub fn table_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/haven-admission/src/shape_table.rs")
}

/// The `src` directory of the `k8s-openapi` package in the workspace's dependency graph (one
/// module per Kubernetes minor below it), and the package's version.
pub fn k8s_openapi_src() -> Result<(PathBuf, String), Error> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| Error(format!("cargo metadata: {e}")))?;
    if !out.status.success() {
        return err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error(format!("cargo metadata output: {e}")))?;
    let package = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "k8s-openapi")
        .ok_or_else(|| Error("k8s-openapi is not in the dependency graph".into()))?;
    let manifest = package["manifest_path"]
        .as_str()
        .ok_or_else(|| Error("k8s-openapi has no manifest_path".into()))?;
    let version = package["version"].as_str().unwrap_or_default().to_owned();
    let dir = Path::new(manifest)
        .parent()
        .ok_or_else(|| Error("odd manifest path".into()))?
        .join("src");
    Ok((dir, version))
}

/// The shape of one field's type, as parsed from its Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    Leaf(&'static str),
    Struct(String),
    Vec(Box<Ty>),
    Map(Box<Ty>),
    Option(Box<Ty>),
}

struct Parsed {
    name: String,
    /// (JSON key, type)
    fields: Vec<(String, Ty)>,
    /// JSON keys of the fields whose absence fails the decoding (`missing_field`).
    required: Vec<String>,
}

/// Generates the table's source from the `k8s-openapi` source in `src` (its version module).
pub fn generate(src: &Path, version: &str) -> Result<String, Error> {
    let index = index_types(src)?;
    let mut order: Vec<String> = Vec::new();
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new();
    let mut queue: VecDeque<String> = ROOTS.iter().map(|(p, _)| (*p).to_owned()).collect();
    while let Some(path) = queue.pop_front() {
        if parsed.contains_key(&path) {
            continue;
        }
        let file = index
            .get(&path)
            .ok_or_else(|| Error(format!("type {path} not found under {}", src.display())))?;
        let p = parse_struct(file, &path)?;
        // A field whose absence fails the decoding (`missing_field`) is not modelled: none is
        // reachable from the roots today.
        if let Some(key) = p.required.first() {
            return err(format!(
                "{} ({path}): field {key} is required",
                file.display()
            ));
        }
        for (_, ty) in &p.fields {
            collect_structs(ty, &mut queue);
        }
        order.push(path.clone());
        parsed.insert(path, p);
    }
    let position = |path: &str| order.iter().position(|p| p == path);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "// @generated by `cargo shapes` from k8s-openapi {version} ({VERSION_MODULE}). Do not edit.\n\
         //\n\
         // The JSON shape of every type reachable from PodSpec and ObjectMeta: for each struct, its\n\
         // fields by JSON key (by length, then bytes) and the shape of each.\n\
         // See `xtask/shapegen` for why and `shape.rs` for how it is read.\n"
    );
    let _ = writeln!(out, "use crate::shape::{{Leaf, Shape, Struct}};\n");
    for (root, constant) in ROOTS {
        let i = position(root).ok_or_else(|| Error(format!("root {root} missing")))?;
        let _ = writeln!(out, "pub(crate) const {constant}: usize = {i};");
    }
    let _ = writeln!(
        out,
        "\npub(crate) static STRUCTS: [Struct; {}] = [",
        order.len()
    );
    // Each struct's fields, sorted, with their emitted shapes.
    let mut emitted: Vec<Vec<(String, String)>> = Vec::new();
    for path in &order {
        let p = &parsed[path];
        let mut fields: Vec<&(String, Ty)> = p.fields.iter().collect();
        fields.sort_by(|a, b| key_order(&a.0, &b.0));
        let fields = fields
            .into_iter()
            .map(|(key, ty)| Ok((key.clone(), emit(ty, &position)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        let _ = writeln!(out, "    // {path}");
        let _ = writeln!(out, "    Struct {{");
        let _ = writeln!(out, "        name: {:?},", p.name);
        let _ = writeln!(out, "        fields: &[");
        for (key, shape) in &fields {
            let _ = writeln!(out, "            ({key:?}, {shape}),");
        }
        let _ = writeln!(out, "        ],");
        let _ = writeln!(out, "    }},");
        emitted.push(fields);
    }
    let _ = writeln!(out, "];");
    // The lookup, as nested matches (on the struct, the key's length, the key), which the
    // compiler turns into jumps and a few word comparisons: a binary search over the table
    // above cost half of a shape check.
    let _ = writeln!(
        out,
        "\n/// The shape of field `key` of struct `index`: `STRUCTS[index].fields`, looked up.\n\
         pub(crate) fn field(index: usize, key: &str) -> Option<&'static Shape> {{\n    \
         match index {{"
    );
    for (i, fields) in emitted.iter().enumerate() {
        let _ = writeln!(out, "        {i} => match key.len() {{");
        let mut lengths: Vec<usize> = fields.iter().map(|(k, _)| k.len()).collect();
        lengths.dedup();
        for len in lengths {
            let _ = writeln!(out, "            {len} => match key {{");
            for (key, shape) in fields.iter().filter(|(k, _)| k.len() == len) {
                let _ = writeln!(out, "                {key:?} => Some(&{shape}),");
            }
            let _ = writeln!(out, "                _ => None,");
            let _ = writeln!(out, "            }},");
        }
        let _ = writeln!(out, "            _ => None,");
        let _ = writeln!(out, "        }},");
    }
    let _ = writeln!(out, "        _ => None,");
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "}}");
    Ok(out)
}

/// The order of fields in the table, which the webhook's lookup relies on: by length, then by
/// bytes (a comparison that rarely needs to look at the bytes).
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn emit(ty: &Ty, position: &dyn Fn(&str) -> Option<usize>) -> Result<String, Error> {
    Ok(match ty {
        Ty::Leaf(l) => format!("Shape::Leaf(Leaf::{l})"),
        Ty::Struct(path) => format!(
            "Shape::Struct({})",
            position(path).ok_or_else(|| Error(format!("{path} not generated")))?
        ),
        Ty::Vec(inner) => format!("Shape::Vec(&{})", emit(inner, position)?),
        Ty::Map(inner) => format!("Shape::Map(&{})", emit(inner, position)?),
        Ty::Option(inner) => format!("Shape::Option(&{})", emit(inner, position)?),
    })
}

fn collect_structs(ty: &Ty, queue: &mut VecDeque<String>) {
    match ty {
        Ty::Leaf(_) => {}
        Ty::Struct(p) => queue.push_back(p.clone()),
        Ty::Vec(i) | Ty::Map(i) | Ty::Option(i) => collect_structs(i, queue),
    }
}

/// `api::core::v1::Probe` -> its file, for every `pub struct` and `pub enum` in the module.
fn index_types(src: &Path) -> Result<BTreeMap<String, PathBuf>, Error> {
    let mut index = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Error(format!("{}: {e}", dir.display())))?
                .path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error(format!("{}: {e}", path.display())))?;
            let module = path
                .parent()
                .and_then(|p| p.strip_prefix(src).ok())
                .map(|p| {
                    p.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("::")
                })
                .unwrap_or_default();
            for line in text.lines() {
                let name = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "))
                    .map(|rest| {
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or_default()
                    });
                if let Some(name) = name.filter(|n| !n.is_empty()) {
                    index.insert(format!("{module}::{name}"), path.clone());
                }
            }
        }
    }
    Ok(index)
}

/// Parses the struct `path` defined in `file`: its fields by JSON key with their types, and
/// which of them the decoder requires. A resource's `apiVersion` and `kind`, which the decoder
/// checks against the type's constants, are not among the fields.
fn parse_struct(file: &Path, path: &str) -> Result<Parsed, Error> {
    let text =
        std::fs::read_to_string(file).map_err(|e| Error(format!("{}: {e}", file.display())))?;
    let name = path.rsplit("::").next().unwrap_or(path).to_owned();
    let where_ = || format!("{} ({path})", file.display());
    let start = format!("pub struct {name} {{");
    let mut lines = text.lines().skip_while(|l| *l != start);
    if lines.next().is_none() {
        return err(format!(
            "{}: not a struct with named fields (add it to LEAVES if it has its own Deserialize)",
            where_()
        ));
    }
    // Rust field name -> Rust type.
    let mut rust_fields: Vec<(String, String)> = Vec::new();
    for line in lines.by_ref() {
        if line == "}" {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix("pub ") {
            let (field, ty) = rest
                .split_once(": ")
                .ok_or_else(|| Error(format!("{}: odd field line {line:?}", where_())))?;
            let ty = ty
                .strip_suffix(',')
                .ok_or_else(|| Error(format!("{}: odd field line {line:?}", where_())))?;
            rust_fields.push((field.to_owned(), ty.to_owned()));
        }
    }
    // JSON key -> Rust field name, from the field-name visitor.
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some((key, rest)) = t.split_once("\" => Field::Key_")
            && let Some(key) = key.strip_prefix('"')
        {
            let field = rest.trim_end_matches(',');
            keys.insert(field.to_owned(), key.to_owned());
        }
    }
    // Every arm of visit_map must be the plain assignment (or, for a resource, the check of
    // `apiVersion` and `kind` against its constants); anything else is a type whose decoding
    // checks more than the shape, which this generator does not model.
    let mut arms = 0;
    let mut resource_arms = 0;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Field::Key_") {
            let (field, action) = rest
                .split_once(" => ")
                .ok_or_else(|| Error(format!("{}: odd visit_map arm {t:?}", where_())))?;
            let plain =
                format!("value_{field} = crate::serde::de::MapAccess::next_value(&mut map)?,");
            let some = format!(
                "value_{field} = Some(crate::serde::de::MapAccess::next_value(&mut map)?),"
            );
            if action == plain || action == some {
                arms += 1;
            } else if action == "{" && (field == "api_version" || field == "kind") {
                resource_arms += 1;
            } else {
                return err(format!("{}: unexpected visit_map arm {t:?}", where_()));
            }
        } else if t.starts_with("Field::Other =>")
            && t != "Field::Other => { let _: crate::serde::de::IgnoredAny = crate::serde::de::MapAccess::next_value(&mut map)?; },"
        {
            return err(format!("{}: unexpected visit_map arm {t:?}", where_()));
        }
    }
    if resource_arms == 2 {
        keys.remove("api_version");
        keys.remove("kind");
    } else if resource_arms != 0 {
        return err(format!(
            "{}: apiVersion without kind or the reverse",
            where_()
        ));
    }
    if arms != rust_fields.len() || keys.len() != rust_fields.len() {
        return err(format!(
            "{}: {} fields, {} keys, {} visit_map arms",
            where_(),
            rust_fields.len(),
            keys.len(),
            arms
        ));
    }
    let mut fields = Vec::new();
    let mut required = Vec::new();
    for (field, rust_ty) in rust_fields {
        let key = keys
            .get(&field)
            .ok_or_else(|| Error(format!("{}: no JSON key for field {field}", where_())))?;
        if text.contains(&format!("{field}: value_{field}.ok_or_else("))
            || text.contains(&format!("value_{field} = value_{field}.ok_or_else("))
        {
            required.push(key.clone());
        }
        // The decoder reads every field into an `Option`, so `null` is accepted for every
        // field: the outer `Option` of an optional field adds nothing.
        let rust_ty = rust_ty
            .strip_prefix("Option<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(&rust_ty);
        let ty = parse_ty(rust_ty).map_err(|e| Error(format!("{}: {field}: {e}", where_())))?;
        fields.push((key.clone(), ty));
    }
    Ok(Parsed {
        name,
        fields,
        required,
    })
}

fn parse_ty(ty: &str) -> Result<Ty, Error> {
    let generic = |prefix: &str| {
        ty.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
    };
    Ok(match ty {
        "std::string::String" => Ty::Leaf("Str"),
        "bool" => Ty::Leaf("Bool"),
        "i32" => Ty::Leaf("I32"),
        "i64" => Ty::Leaf("I64"),
        "f64" => Ty::Leaf("F64"),
        "crate::ByteString" => Ty::Leaf("ByteString"),
        "crate::serde_json::Value" => Ty::Leaf("Json"),
        _ => {
            if let Some(inner) = generic("Option<") {
                Ty::Option(Box::new(parse_ty(inner)?))
            } else if let Some(inner) = generic("std::boxed::Box<") {
                parse_ty(inner)?
            } else if let Some(inner) = generic("std::vec::Vec<") {
                Ty::Vec(Box::new(parse_ty(inner)?))
            } else if let Some(inner) = generic("std::collections::BTreeMap<std::string::String, ")
            {
                Ty::Map(Box::new(parse_ty(inner)?))
            } else if let Some(path) = ty.strip_prefix("crate::") {
                match LEAVES.iter().find(|(p, _)| *p == path) {
                    Some((_, leaf)) => Ty::Leaf(leaf),
                    None => Ty::Struct(path.to_owned()),
                }
            } else {
                return err(format!("unknown type {ty}"));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed table is what the generator makes of the `k8s-openapi` in the graph: a
    /// `k8s-openapi` upgrade that changes a shape fails here until `cargo shapes` is run.
    #[test]
    fn committed_table_is_current() {
        let (root, version) = k8s_openapi_src().expect("k8s-openapi source");
        let fresh = generate(&root.join(VERSION_MODULE), &version).expect("generate");
        let committed = std::fs::read_to_string(table_path()).expect("committed table");
        assert!(
            fresh == committed,
            "crates/haven-admission/src/shape_table.rs is stale: run `cargo shapes`"
        );
    }

    #[test]
    fn rust_types_parse_into_shapes() {
        assert_eq!(
            parse_ty("std::vec::Vec<crate::api::core::v1::ContainerPort>").unwrap(),
            Ty::Vec(Box::new(Ty::Struct("api::core::v1::ContainerPort".into())))
        );
        assert_eq!(
            parse_ty("std::collections::BTreeMap<std::string::String, crate::apimachinery::pkg::api::resource::Quantity>").unwrap(),
            Ty::Map(Box::new(Ty::Leaf("Quantity")))
        );
        assert!(parse_ty("u8").is_err());
    }
}
