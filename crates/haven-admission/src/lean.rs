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
pub(crate) struct LeanSpec(pub PodSpec);

/// A container: what Pod Security reads built (name, security context, ports, probes and
/// lifecycle handlers); the rest checked.
struct LeanContainer(Container);

struct LeanEphemeral(EphemeralContainer);

/// A volume: its name and `hostPath` built; every other source checked and, when present,
/// stood in for by its empty value. Pod Security reads only which source a volume uses (and
/// reports a `hostPath` by name); a projected service-account volume alone costs more to build
/// than a whole review's other work.
struct LeanVolume(Volume);

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
        let mut spec = PodSpec::default();
        // Required in `PodSpec`: read into an `Option`, `null` or absent is empty.
        let mut containers: Option<Vec<LeanContainer>> = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "containers" => containers = map.next_value()?,
                "initContainers" => {
                    spec.init_containers = map
                        .next_value::<Option<Vec<LeanContainer>>>()?
                        .map(|cs| cs.into_iter().map(|c| c.0).collect());
                }
                "ephemeralContainers" => {
                    spec.ephemeral_containers = map
                        .next_value::<Option<Vec<LeanEphemeral>>>()?
                        .map(|cs| cs.into_iter().map(|c| c.0).collect());
                }
                "volumes" => {
                    spec.volumes = map
                        .next_value::<Option<Vec<LeanVolume>>>()?
                        .map(|vs| vs.into_iter().map(|v| v.0).collect());
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
        spec.containers = containers
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.0)
            .collect();
        Ok(LeanSpec(spec))
    }
}

/// The fields of a container that Pod Security reads, common to both kinds.
#[derive(Default)]
struct Parts {
    name: Option<String>,
    security_context: Option<k8s_openapi::api::core::v1::SecurityContext>,
    ports: Option<Vec<k8s_openapi::api::core::v1::ContainerPort>>,
    liveness_probe: Option<k8s_openapi::api::core::v1::Probe>,
    readiness_probe: Option<k8s_openapi::api::core::v1::Probe>,
    startup_probe: Option<k8s_openapi::api::core::v1::Probe>,
    lifecycle: Option<k8s_openapi::api::core::v1::Lifecycle>,
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

impl Lean for LeanContainer {
    const NAME: &'static str = "Container";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let p = Parts::read(map, CONTAINER)?;
        Ok(LeanContainer(Container {
            name: p.name.unwrap_or_default(),
            security_context: p.security_context,
            ports: p.ports,
            liveness_probe: p.liveness_probe,
            readiness_probe: p.readiness_probe,
            startup_probe: p.startup_probe,
            lifecycle: p.lifecycle,
            ..Container::default()
        }))
    }
}

impl Lean for LeanEphemeral {
    const NAME: &'static str = "EphemeralContainer";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let p = Parts::read(map, EPHEMERAL_CONTAINER)?;
        Ok(LeanEphemeral(EphemeralContainer {
            name: p.name.unwrap_or_default(),
            security_context: p.security_context,
            ports: p.ports,
            liveness_probe: p.liveness_probe,
            readiness_probe: p.readiness_probe,
            startup_probe: p.startup_probe,
            lifecycle: p.lifecycle,
            ..EphemeralContainer::default()
        }))
    }
}

impl Lean for LeanVolume {
    const NAME: &'static str = "Volume";
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut v = Volume::default();
        let mut name: Option<String> = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            // A source: present (its empty value) or absent, as the last occurrence says.
            macro_rules! sources {
                ($($json:literal => $field:ident),* $(,)?) => {
                    match &*key.0 {
                        "name" => name = map.next_value()?,
                        "hostPath" => v.host_path = plain_value(&mut map)?,
                        $($json => {
                            v.$field = present_field(VOLUME, $json, &mut map)?
                                .then(Default::default);
                        })*
                        other => check_field(VOLUME, other, &mut map)?,
                    }
                };
            }
            sources! {
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
        }
        v.name = name.unwrap_or_default();
        Ok(LeanVolume(v))
    }
}
