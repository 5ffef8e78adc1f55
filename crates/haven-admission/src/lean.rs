//! The pod template as the fast path decodes it: what Pod Security and the webhook read, built
//! as the `k8s-openapi` types; every other field checked against its shape ([`crate::shape`])
//! and dropped.
//!
//! Why: an API server's Pod carries environment, resources, volume mounts, tolerations and
//! managed fields that Pod Security never reads; building them as `k8s-openapi` values was
//! three quarters of a review. What is built is decoded exactly as `k8s-openapi` decodes it
//! (each field read into an `Option`, later duplicates replacing earlier ones, `null` for
//! absent), so the result equals the full decoding on every field Pod Security reads, and a
//! document that the full decoding rejects is rejected here too. `tests/fast_path.rs` compares
//! the fast path with the engine path on every upstream fixture and thousands of mutations.

use std::fmt;

use k8s_openapi::api::core::v1::{Container, EphemeralContainer, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use k8s_openapi::api::core::v1::Volume;

use crate::shape::{Key, check_field, present_field};
use crate::shape_table::{CONTAINER, EPHEMERAL_CONTAINER, OBJECT_META, POD_SPEC, VOLUME};

/// `metadata`: name, generate name, namespace, labels and annotations built; the rest checked.
pub(crate) struct LeanMeta(pub ObjectMeta);

/// `spec` of a pod: what Pod Security reads and `runtimeClassName` built; the rest checked.
/// Boxed, as the lean parts below: a `PodSpec` is 1.5 KB, a `Container` 2.3 KB and a `Volume`
/// 3.3 KB, and moving them through the decoder's layers (and growing vectors of them) took a
/// fifth of a review's time under load.
pub(crate) struct LeanSpec(pub Box<PodSpec>);

/// A container: what Pod Security reads built (name, security context, ports, probes and
/// lifecycle handlers); the rest checked.
struct LeanContainer(Parts);

struct LeanEphemeral(Parts);

/// A volume: its name and `hostPath` built; every other source checked and, when present,
/// stood in for by its empty value. Pod Security reads only which source a volume uses (and
/// reports a `hostPath` by name); a projected service-account volume alone costs more to build
/// than a whole review's other work.
struct LeanVolume {
    name: Option<String>,
    /// The sources present, as bits of [`VOLUME_SOURCES`].
    sources: u32,
    host_path: Option<k8s_openapi::api::core::v1::HostPathVolumeSource>,
}

/// A `k8s-openapi` value built from its raw JSON, which [`crate::fast::plain`] has checked
/// first: the generated decoders skip unknown keys without the checks of a full parse (see
/// [`crate::shape::StrictAny`]), so a subtree built with them is scanned. Such subtrees (security
/// contexts, ports, probes) are a small part of a Pod.
struct Plain<T>(T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Plain<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de serde_json::value::RawValue>::deserialize(d)?;
        if !crate::fast::plain(raw.get()) {
            return Err(de::Error::custom("a value only a full parse checks"));
        }
        serde_json::from_str(raw.get())
            .map(Plain)
            .map_err(de::Error::custom)
    }
}

/// `map`'s next value, `null` or a [`Plain`] `T`.
fn plain_value<'de, T: serde::de::DeserializeOwned, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<T>, A::Error> {
    Ok(map.next_value::<Option<Plain<T>>>()?.map(|p| p.0))
}

/// A lean type: read from a JSON object's entries, as the generated decoders read structs.
trait Lean: Sized {
    const NAME: &'static str;
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

struct LeanVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lean> Visitor<'de> for LeanVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::NAME)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read(map)
    }
}

macro_rules! deserialize_lean {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // A JSON object only: the generated decoders have no `visit_seq`.
                d.deserialize_struct(
                    <$ty as Lean>::NAME,
                    &[],
                    LeanVisitor::<$ty>(std::marker::PhantomData),
                )
            }
        }
    )*};
}

deserialize_lean!(LeanMeta, LeanSpec, LeanContainer, LeanEphemeral, LeanVolume);

impl Lean for LeanMeta {
    const NAME: &'static str = "ObjectMeta";
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut meta = ObjectMeta::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "name" => meta.name = map.next_value()?,
                "generateName" => meta.generate_name = map.next_value()?,
                "namespace" => meta.namespace = map.next_value()?,
                "labels" => meta.labels = map.next_value()?,
                "annotations" => meta.annotations = map.next_value()?,
                other => check_field(OBJECT_META, other, &mut map)?,
            }
        }
        Ok(LeanMeta(meta))
    }
}

impl Lean for LeanSpec {
    const NAME: &'static str = "PodSpec";
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut spec = Box::<PodSpec>::default();
        // Required in `PodSpec`: read into an `Option`, `null` or absent is empty.
        let mut containers: Option<Vec<LeanContainer>> = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "containers" => containers = map.next_value()?,
                "initContainers" => {
                    spec.init_containers = map
                        .next_value::<Option<Vec<LeanContainer>>>()?
                        .map(|cs| exactly(cs, |c| c.0.into_container()));
                }
                "ephemeralContainers" => {
                    spec.ephemeral_containers = map
                        .next_value::<Option<Vec<LeanEphemeral>>>()?
                        .map(|cs| exactly(cs, |c| c.0.into_ephemeral()));
                }
                "volumes" => {
                    spec.volumes = map
                        .next_value::<Option<Vec<LeanVolume>>>()?
                        .map(|vs| exactly(vs, LeanVolume::into_volume));
                }
                "securityContext" => spec.security_context = plain_value(&mut map)?,
                "hostNetwork" => spec.host_network = map.next_value()?,
                "hostPID" => spec.host_pid = map.next_value()?,
                "hostIPC" => spec.host_ipc = map.next_value()?,
                "hostUsers" => spec.host_users = map.next_value()?,
                "os" => spec.os = plain_value(&mut map)?,
                "runtimeClassName" => spec.runtime_class_name = map.next_value()?,
                other => check_field(POD_SPEC, other, &mut map)?,
            }
        }
        spec.containers = exactly(containers.unwrap_or_default(), |c| c.0.into_container());
        Ok(LeanSpec(spec))
    }
}

/// `items` mapped into a vector of exactly their number: built once each, never moved by growth.
fn exactly<T, U>(items: Vec<T>, f: impl Fn(T) -> U) -> Vec<U> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(f(item));
    }
    out
}

/// The fields of a container that Pod Security reads, common to both kinds; the large ones
/// boxed while the decoder moves them around.
#[derive(Default)]
struct Parts {
    name: Option<String>,
    security_context: Option<Box<k8s_openapi::api::core::v1::SecurityContext>>,
    ports: Option<Vec<k8s_openapi::api::core::v1::ContainerPort>>,
    liveness_probe: Option<Box<k8s_openapi::api::core::v1::Probe>>,
    readiness_probe: Option<Box<k8s_openapi::api::core::v1::Probe>>,
    startup_probe: Option<Box<k8s_openapi::api::core::v1::Probe>>,
    lifecycle: Option<Box<k8s_openapi::api::core::v1::Lifecycle>>,
}

impl Parts {
    fn read<'de, A: MapAccess<'de>>(mut map: A, shape: usize) -> Result<Self, A::Error> {
        let mut p = Parts::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "name" => p.name = map.next_value()?,
                "securityContext" => p.security_context = plain_value(&mut map)?,
                "ports" => p.ports = plain_value(&mut map)?,
                "livenessProbe" => p.liveness_probe = plain_value(&mut map)?,
                "readinessProbe" => p.readiness_probe = plain_value(&mut map)?,
                "startupProbe" => p.startup_probe = plain_value(&mut map)?,
                "lifecycle" => p.lifecycle = plain_value(&mut map)?,
                other => check_field(shape, other, &mut map)?,
            }
        }
        Ok(p)
    }
}

/// `Parts::$name`: the container of type `$ty` with the parts' fields, unboxed.
macro_rules! into_container {
    ($name:ident, $ty:ident) => {
        fn $name(self) -> $ty {
            $ty {
                name: self.name.unwrap_or_default(),
                security_context: self.security_context.map(|b| *b),
                ports: self.ports,
                liveness_probe: self.liveness_probe.map(|b| *b),
                readiness_probe: self.readiness_probe.map(|b| *b),
                startup_probe: self.startup_probe.map(|b| *b),
                lifecycle: self.lifecycle.map(|b| *b),
                ..$ty::default()
            }
        }
    };
}

impl Parts {
    into_container!(into_container, Container);
    into_container!(into_ephemeral, EphemeralContainer);
}

impl Lean for LeanContainer {
    const NAME: &'static str = "Container";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Parts::read(map, CONTAINER).map(LeanContainer)
    }
}

impl Lean for LeanEphemeral {
    const NAME: &'static str = "EphemeralContainer";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Parts::read(map, EPHEMERAL_CONTAINER).map(LeanEphemeral)
    }
}

/// Declares the volume sources by JSON key and `Volume` field: [`VOLUME_SOURCES`] and
/// [`set_source`].
macro_rules! volume_sources {
    ($($json:literal => $field:ident),* $(,)?) => {
        /// The sources of a volume other than `hostPath`, by JSON key.
        const VOLUME_SOURCES: &[&str] = &[$($json),*];

        /// Sets source `index` of [`VOLUME_SOURCES`] on `v` to its empty value.
        fn set_source(v: &mut Volume, index: usize) {
            let mut i = 0;
            $(
                if i == index {
                    v.$field = Some(Default::default());
                    return;
                }
                i += 1;
            )*
            let _ = i;
        }
    };
}

volume_sources! {
    "awsElasticBlockStore" => aws_elastic_block_store,
    "azureDisk" => azure_disk,
    "azureFile" => azure_file,
    "cephfs" => cephfs,
    "cinder" => cinder,
    "configMap" => config_map,
    "csi" => csi,
    "downwardAPI" => downward_api,
    "emptyDir" => empty_dir,
    "ephemeral" => ephemeral,
    "fc" => fc,
    "flexVolume" => flex_volume,
    "flocker" => flocker,
    "gcePersistentDisk" => gce_persistent_disk,
    "gitRepo" => git_repo,
    "glusterfs" => glusterfs,
    "image" => image,
    "iscsi" => iscsi,
    "nfs" => nfs,
    "persistentVolumeClaim" => persistent_volume_claim,
    "photonPersistentDisk" => photon_persistent_disk,
    "portworxVolume" => portworx_volume,
    "projected" => projected,
    "quobyte" => quobyte,
    "rbd" => rbd,
    "scaleIO" => scale_io,
    "secret" => secret,
    "storageos" => storageos,
    "vsphereVolume" => vsphere_volume,
}

impl LeanVolume {
    fn into_volume(self) -> Volume {
        let mut v = Volume {
            name: self.name.unwrap_or_default(),
            host_path: self.host_path,
            ..Volume::default()
        };
        for i in 0..VOLUME_SOURCES.len() {
            if self.sources & (1 << i) != 0 {
                set_source(&mut v, i);
            }
        }
        v
    }
}

impl Lean for LeanVolume {
    const NAME: &'static str = "Volume";
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut v = LeanVolume {
            name: None,
            sources: 0,
            host_path: None,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "name" => v.name = map.next_value()?,
                "hostPath" => v.host_path = plain_value(&mut map)?,
                other => match VOLUME_SOURCES.iter().position(|s| *s == other) {
                    // Present (its empty value) or absent, as the last occurrence says.
                    Some(i) => {
                        if present_field(VOLUME, other, &mut map)? {
                            v.sources |= 1 << i;
                        } else {
                            v.sources &= !(1 << i);
                        }
                    }
                    None => check_field(VOLUME, other, &mut map)?,
                },
            }
        }
        Ok(v)
    }
}

const _: () = assert!(
    VOLUME_SOURCES.len() <= 32,
    "LeanVolume keeps sources as u32 bits"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape_table::STRUCTS;

    /// Every field of `Volume` is its name, `hostPath` or one of [`VOLUME_SOURCES`]: a source
    /// that a `k8s-openapi` upgrade adds must be added there, or Pod Security would not see it.
    #[test]
    fn every_volume_field_is_known() {
        let mut known: Vec<&str> = VOLUME_SOURCES.to_vec();
        known.extend(["name", "hostPath"]);
        known.sort_unstable();
        let mut fields: Vec<&str> = STRUCTS[VOLUME].fields.iter().map(|(k, _)| *k).collect();
        fields.sort_unstable();
        assert_eq!(known, fields);
    }

    /// The lean volume is the full decoding with every source but `hostPath` emptied.
    #[test]
    fn a_lean_volume_is_the_decoded_volume_with_its_sources_emptied() {
        for json in [
            r#"{"name": "a", "secret": {"secretName": "s"}}"#,
            r#"{"name": "a", "hostPath": {"path": "/x", "type": "Directory"}}"#,
            r#"{"name": "a", "secret": {"secretName": "s"}, "secret": null}"#,
            r#"{"name": "a", "nfs": {"server": "n", "path": "/"}, "projected": {"sources": []}}"#,
            r#"{"vsphereVolume": {"volumePath": "p"}, "name": null}"#,
        ] {
            let full: Volume = serde_json::from_str(json).unwrap();
            let lean = serde_json::from_str::<LeanVolume>(json)
                .unwrap()
                .into_volume();
            let mut expected = Volume {
                name: full.name.clone(),
                host_path: full.host_path.clone(),
                ..Volume::default()
            };
            let full_json = serde_json::to_value(&full).unwrap();
            for (i, key) in VOLUME_SOURCES.iter().enumerate() {
                if full_json.get(*key).is_some() {
                    set_source(&mut expected, i);
                }
            }
            assert_eq!(lean, expected, "{json}");
        }
    }
}
