//! Checking that a JSON value would decode into a Kubernetes type, without building it.
//!
//! Why: decoding a Pod as an API server sends it into the `k8s-openapi` types costs most of a
//! review, and most of what it builds (environment, resources, managed fields, tolerations) is
//! never read by Pod Security. The fast path ([`crate::lean`]) builds what Pod Security reads and
//! checks everything else here, against the shapes that `cargo shapes` generates from
//! `k8s-openapi`'s own source ([`crate::shape_table`]). It accepts exactly what decoding would
//! accept: the same types per field (strings, booleans, 32- and 64-bit integers, numbers), `null`
//! for any struct field, unknown keys skipped, later duplicates allowed, and the hand-written
//! types (times, quantities, int-or-string, byte strings) checked by their own `Deserialize`.
//!
//! JSON values (`FieldsV1`, `RawExtension`) and unknown keys are skipped with
//! `serde::de::IgnoredAny`, which [`crate::json`] checks as a full `serde_json::Value` parse
//! does (the engine path parses the whole object into a `Value`). This module is meant for that
//! reader: `serde_json` skips without those checks.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::shape_table::STRUCTS;

/// One Kubernetes struct: its fields by JSON key, sorted by length, then bytes. Lookups go
/// through the generated `shape_table::field`.
pub(crate) struct Struct {
    pub name: &'static str,
    /// Read by the tests, which check the generated lookup against it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fields: &'static [(&'static str, Shape)],
}

/// The shape of a value. Some variants are not in today's table; the generator emits them for
/// types a `k8s-openapi` upgrade may bring.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    Leaf(Leaf),
    /// A struct, by its index in [`STRUCTS`].
    Struct(usize),
    Vec(&'static Shape),
    /// A map with string keys.
    Map(&'static Shape),
    Option(&'static Shape),
}

/// Types decoded from one JSON value (see [`Shape`] for the unused variants).
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf {
    Str,
    Bool,
    I32,
    I64,
    F64,
    ByteString,
    /// Any JSON (see the module documentation).
    Json,
    Time,
    MicroTime,
    Quantity,
    IntOrString,
}

/// The value of field `key` of struct `index`, read from `map`: checked against the field's
/// shape (`null` accepted, as for every field), or skipped when the struct has no such field.
pub(crate) fn check_field<'de, A: MapAccess<'de>>(
    index: usize,
    key: &str,
    map: &mut A,
) -> Result<(), A::Error> {
    match crate::shape_table::field(index, key) {
        Some(shape) => map.next_value_seed(Nullable(shape)),
        None => map.next_value::<IgnoredAny>().map(drop),
    }
}

/// The value of field `key` of struct `index`, read from `map` and checked as [`check_field`]
/// does: whether it is there (not `null`).
pub(crate) fn present_field<'de, A: MapAccess<'de>>(
    index: usize,
    key: &str,
    map: &mut A,
) -> Result<bool, A::Error> {
    match crate::shape_table::field(index, key) {
        Some(shape) => map.next_value_seed(Present(shape)),
        None => map.next_value::<IgnoredAny>().map(|_| false),
    }
}

/// `null` (false), or a value of the shape (true).
struct Present(&'static Shape);

impl<'de> DeserializeSeed<'de> for Present {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        struct V(&'static Shape);
        impl<'de> Visitor<'de> for V {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an optional value")
            }
            fn visit_none<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
                Ok(false)
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
                Check(self.0).deserialize(d).map(|()| true)
            }
        }
        d.deserialize_option(V(self.0))
    }
}

/// A map key, borrowed when it has no escapes.
pub(crate) struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// `null`, or a value of the shape.
struct Nullable(&'static Shape);

impl<'de> DeserializeSeed<'de> for Nullable {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(OptionV(self.0))
    }
}

struct OptionV(&'static Shape);

impl<'de> Visitor<'de> for OptionV {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an optional value")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Check(self.0).deserialize(d)
    }
}

/// A value of the shape.
pub(crate) struct Check(pub &'static Shape);

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        use k8s_openapi::apimachinery::pkg::{api::resource::Quantity, apis::meta::v1, util};
        match *self.0 {
            Shape::Leaf(leaf) => match leaf {
                Leaf::Str => d.deserialize_string(StrV),
                Leaf::Bool => bool::deserialize(d).map(drop),
                Leaf::I32 => i32::deserialize(d).map(drop),
                Leaf::I64 => i64::deserialize(d).map(drop),
                Leaf::F64 => f64::deserialize(d).map(drop),
                Leaf::ByteString => k8s_openapi::ByteString::deserialize(d).map(drop),
                Leaf::Json => IgnoredAny::deserialize(d).map(drop),
                Leaf::Time => v1::Time::deserialize(d).map(drop),
                Leaf::MicroTime => v1::MicroTime::deserialize(d).map(drop),
                Leaf::Quantity => Quantity::deserialize(d).map(drop),
                Leaf::IntOrString => util::intstr::IntOrString::deserialize(d).map(drop),
            },
            Shape::Struct(index) => d.deserialize_struct(STRUCTS[index].name, &[], StructV(index)),
            Shape::Vec(item) => d.deserialize_seq(SeqV(item)),
            Shape::Map(value) => d.deserialize_map(MapV(value)),
            Shape::Option(inner) => Nullable(inner).deserialize(d),
        }
    }
}

/// A string, as `String`'s own visitor accepts it.
struct StrV;

impl<'de> Visitor<'de> for StrV {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        std::str::from_utf8(v)
            .map(drop)
            .map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
    }
}

/// A struct: a JSON object (never an array, which the generated decoders do not read).
struct StructV(usize);

impl<'de> Visitor<'de> for StructV {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(STRUCTS[self.0].name)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            check_field(self.0, &key.0, &mut map)?;
        }
        Ok(())
    }
}

struct SeqV(&'static Shape);

impl<'de> Visitor<'de> for SeqV {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check(self.0))?.is_some() {}
        Ok(())
    }
}

struct MapV(&'static Shape);

impl<'de> Visitor<'de> for MapV {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Check(&Shape::Leaf(Leaf::Str)))?.is_some() {
            map.next_value_seed(Check(self.0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape_table::{CONTAINER, OBJECT_META, POD_SPEC};
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn checks(index: usize, json: &str) -> bool {
        let shape: &'static Shape = Box::leak(Box::new(Shape::Struct(index)));
        let mut d = crate::json::Reader::new(json);
        Check(shape).deserialize(&mut d).is_ok() && d.end().is_ok()
    }

    /// The shape check and the real decoding agree, value by value.
    fn agree<T: serde::de::DeserializeOwned>(index: usize, json: &str) {
        let decodes = serde_json::from_str::<T>(json).is_ok();
        assert_eq!(checks(index, json), decodes, "{json}");
    }

    #[test]
    fn the_shape_check_accepts_what_decoding_accepts() {
        for json in [
            r#"{"name": "a", "image": "x", "ports": [{"containerPort": 80}]}"#,
            r#"{"name": "a", "ports": [{"containerPort": "80"}]}"#,
            r#"{"name": "a", "ports": [{"containerPort": 2147483648}]}"#,
            r#"{"name": "a", "ports": [{"containerPort": 1.5}]}"#,
            r#"{"name": "a", "ports": [null]}"#,
            r#"{"name": "a", "ports": null}"#,
            r#"{"name": null, "unknown": {"x": [1, 2]}}"#,
            r#"{"name": 5}"#,
            r#"{"name": "a", "name": "b"}"#,
            r#"{"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": 3}}}]}"#,
            r#"{"resources": {"limits": {"memory": "1Gi"}}}"#,
            r#"{"resources": {"limits": {"memory": 1}}}"#,
            r#"{"resources": {"limits": {"memory": null}}}"#,
            r#"{"livenessProbe": {"httpGet": {"port": "http"}}}"#,
            r#"{"livenessProbe": {"httpGet": {"port": 8080}}}"#,
            r#"{"livenessProbe": {"httpGet": {"port": true}}}"#,
            r#"{"livenessProbe": {"httpGet": {"port": 99999999999}}}"#,
            r#"{"command": ["a", null]}"#,
            r#"{"command": "a"}"#,
            r#"{"securityContext": []}"#,
            r#"[]"#,
            r#""x""#,
        ] {
            agree::<Container>(CONTAINER, json);
        }
        for json in [
            r#"{"name": "p", "creationTimestamp": "2026-12-04T10:00:00Z"}"#,
            r#"{"name": "p", "creationTimestamp": "yesterday"}"#,
            r#"{"name": "p", "creationTimestamp": null}"#,
            r#"{"labels": {"a": "b"}, "annotations": {"c": 1}}"#,
            r#"{"managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}, "time": "2026-12-04T10:00:00Z"}]}"#,
            r#"{"managedFields": [{"time": "2026-13-04T10:00:00Z"}]}"#,
            r#"{"ownerReferences": [{"apiVersion": "apps/v1", "controller": "yes"}]}"#,
            r#"{"finalizers": [1]}"#,
        ] {
            agree::<ObjectMeta>(OBJECT_META, json);
        }
        for json in [
            r#"{"containers": [], "tolerations": [{"key": "k", "tolerationSeconds": 300}]}"#,
            r#"{"tolerations": [{"tolerationSeconds": "300"}]}"#,
            r#"{"nodeSelector": {"a": "b"}, "overhead": {"cpu": "1"}}"#,
            r#"{"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]}]}}}}"#,
            r#"{"volumes": [{"name": "s", "secret": {"defaultMode": 420, "items": [{"key": "k", "path": "p"}]}}]}"#,
            r#"{"volumes": [{"name": "s", "secret": {"defaultMode": "0644"}}]}"#,
        ] {
            agree::<PodSpec>(POD_SPEC, json);
        }
    }

    #[test]
    fn every_struct_lists_its_fields_sorted_and_once() {
        use crate::shape_table::field;
        for (i, s) in STRUCTS.iter().enumerate() {
            assert!(
                s.fields
                    .windows(2)
                    .all(|w| (w[0].0.len(), w[0].0) < (w[1].0.len(), w[1].0)),
                "{}",
                s.name
            );
            for (key, shape) in s.fields {
                let found = field(i, key).unwrap_or_else(|| panic!("{}.{key}", s.name));
                assert_eq!(
                    format!("{found:?}"),
                    format!("{shape:?}"),
                    "{}.{key}",
                    s.name
                );
            }
            assert!(field(i, "noSuchField").is_none());
            assert!(field(i, "").is_none());
        }
    }
}
