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

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EphemeralContainer, HTTPGetAction, Lifecycle, LifecycleHandler,
    PodSpec, Probe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use k8s_openapi::api::core::v1::Volume;

use crate::json::Raw;
use crate::shape::{Key, check_field, present_field};
use crate::shape_table::{
    CONTAINER, CONTAINER_PORT, EPHEMERAL_CONTAINER, HTTP_GET_ACTION, LIFECYCLE, LIFECYCLE_HANDLER,
    OBJECT_META, POD_SPEC, PROBE, TCP_SOCKET_ACTION, VOLUME,
};

/// `metadata`: name, generate name, namespace, labels and the annotations Pod Security and the
/// waivers read built; the rest checked.
pub(crate) struct LeanMeta(pub ObjectMeta);

/// `spec` of a pod: what Pod Security reads and `runtimeClassName` built; the rest checked.
/// Boxed, as the lean parts below: a `PodSpec` is 1.5 KB, a `Container` 2.3 KB and a `Volume`
/// 3.3 KB, and moving them through the decoder's layers (and growing vectors of them) took a
/// fifth of a review's time under load.
pub(crate) struct LeanSpec(pub Box<PodSpec>);

/// A container: what Pod Security reads built (name, security context, the host ports and the
/// hosts of probes and lifecycle handlers); the rest checked.
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

/// A probe: the `host` of its `httpGet` and `tcpSocket` actions built, the rest checked. Pod
/// Security reads nothing else of probes and lifecycle handlers; building whole probes (headers,
/// commands, timings) through a raw capture and a second decode was a sixth of a review.
struct LeanProbe(Box<Probe>);

/// A lifecycle: its `postStart` and `preStop` handlers built as [`LeanProbe`]s are.
struct LeanLifecycle(Box<Lifecycle>);

struct LeanHandler(LifecycleHandler);

/// An `httpGet` action: its `host` built, the rest checked (`port`, which the decoder defaults
/// when absent, stays its default).
struct LeanHttpGet(HTTPGetAction);

struct LeanTcpSocket(TCPSocketAction);

/// A container port: its `hostPort` built, the rest checked. Pod Security reads only that (and
/// the port's index).
struct LeanPort(ContainerPort);

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

deserialize_lean!(
    LeanMeta,
    LeanSpec,
    LeanContainer,
    LeanEphemeral,
    LeanVolume,
    LeanProbe,
    LeanLifecycle,
    LeanHandler,
    LeanHttpGet,
    LeanTcpSocket,
    LeanPort
);

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
                "annotations" => {
                    meta.annotations = map.next_value::<Option<LeanAnnotations>>()?.map(|a| a.0);
                }
                other => check_field(OBJECT_META, other, &mut map)?,
            }
        }
        Ok(LeanMeta(meta))
    }
}

/// `metadata.annotations`: the ones Pod Security reads and the waivers built, every other
/// value checked to be a string (as the decoded map's values are) and skipped unread.
struct LeanAnnotations(std::collections::BTreeMap<String, String>);

impl<'de> Deserialize<'de> for LeanAnnotations {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LeanAnnotations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut kept = std::collections::BTreeMap::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if haven_pss::reads_annotation(&key.0)
                        || key.0.starts_with(haven_rules::waiver::ANNOTATION_PREFIX)
                    {
                        // Later duplicates replace earlier ones, as in the decoded map.
                        kept.insert(key.0.into_owned(), map.next_value::<String>()?);
                    } else if !map.next_value::<Raw<'de>>()?.0.starts_with('"') {
                        return Err(de::Error::custom(
                            "an annotation value that is not a string",
                        ));
                    }
                }
                Ok(LeanAnnotations(kept))
            }
        }
        d.deserialize_map(V)
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
                        .map(|cs| exactly(cs, |c, to| c.0.fill_container(to)));
                }
                "ephemeralContainers" => {
                    spec.ephemeral_containers = map
                        .next_value::<Option<Vec<LeanEphemeral>>>()?
                        .map(|cs| exactly(cs, |c, to| c.0.fill_ephemeral(to)));
                }
                "volumes" => {
                    spec.volumes = map
                        .next_value::<Option<Vec<LeanVolume>>>()?
                        .map(|vs| exactly(vs, LeanVolume::fill));
                }
                "securityContext" => spec.security_context = map.next_value()?,
                "hostNetwork" => spec.host_network = map.next_value()?,
                "hostPID" => spec.host_pid = map.next_value()?,
                "hostIPC" => spec.host_ipc = map.next_value()?,
                "hostUsers" => spec.host_users = map.next_value()?,
                "os" => spec.os = map.next_value()?,
                "runtimeClassName" => spec.runtime_class_name = map.next_value()?,
                other => check_field(POD_SPEC, other, &mut map)?,
            }
        }
        spec.containers = exactly(containers.unwrap_or_default(), |c, to| {
            c.0.fill_container(to);
        });
        Ok(LeanSpec(spec))
    }
}

/// `items` made into a vector of exactly their number of `U`s, each filled in where it stays:
/// containers (2.3 KB) and volumes (3.3 KB) built on the stack and moved into place cost as
/// much memory traffic as the rest of a review's decoding, under load.
fn exactly<T, U: Default>(items: Vec<T>, fill: impl Fn(T, &mut U)) -> Vec<U> {
    let mut out = Vec::with_capacity(items.len());
    out.resize_with(items.len(), U::default);
    for (item, to) in items.into_iter().zip(&mut out) {
        fill(item, to);
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
                "securityContext" => p.security_context = map.next_value()?,
                "ports" => {
                    p.ports = map
                        .next_value::<Option<Vec<LeanPort>>>()?
                        .map(|ps| ps.into_iter().map(|p| p.0).collect());
                }
                "livenessProbe" => p.liveness_probe = lean_value(&mut map, |p: LeanProbe| p.0)?,
                "readinessProbe" => {
                    p.readiness_probe = lean_value(&mut map, |p: LeanProbe| p.0)?;
                }
                "startupProbe" => p.startup_probe = lean_value(&mut map, |p: LeanProbe| p.0)?,
                "lifecycle" => p.lifecycle = lean_value(&mut map, |l: LeanLifecycle| l.0)?,
                other => check_field(shape, other, &mut map)?,
            }
        }
        Ok(p)
    }
}

/// `Parts::$name`: sets the parts' fields, unboxed, on an empty container of type `$ty`.
macro_rules! fill_container {
    ($name:ident, $ty:ident) => {
        fn $name(self, c: &mut $ty) {
            c.name = self.name.unwrap_or_default();
            c.security_context = self.security_context.map(|b| *b);
            c.ports = self.ports;
            c.liveness_probe = self.liveness_probe.map(|b| *b);
            c.readiness_probe = self.readiness_probe.map(|b| *b);
            c.startup_probe = self.startup_probe.map(|b| *b);
            c.lifecycle = self.lifecycle.map(|b| *b);
        }
    };
}

impl Parts {
    fill_container!(fill_container, Container);
    fill_container!(fill_ephemeral, EphemeralContainer);
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
    /// Sets the volume's name, `hostPath` and present sources on an empty `v`.
    fn fill(self, v: &mut Volume) {
        v.name = self.name.unwrap_or_default();
        v.host_path = self.host_path;
        for i in 0..VOLUME_SOURCES.len() {
            if self.sources & (1 << i) != 0 {
                set_source(v, i);
            }
        }
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
                "hostPath" => v.host_path = map.next_value()?,
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

/// `map`'s next value, `null` or a lean `T`, made into what it stands for.
fn lean_value<'de, T: Deserialize<'de>, U, A: MapAccess<'de>>(
    map: &mut A,
    into: impl FnOnce(T) -> U,
) -> Result<Option<U>, A::Error> {
    Ok(map.next_value::<Option<T>>()?.map(into))
}

/// Reads the entries of struct `shape` (a probe or a lifecycle handler) into its `httpGet` and
/// `tcpSocket` actions, which are both types' only fields that Pod Security reads.
fn read_actions<'de, A: MapAccess<'de>>(
    mut map: A,
    shape: usize,
    http_get: &mut Option<HTTPGetAction>,
    tcp_socket: &mut Option<TCPSocketAction>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<Key<'de>>()? {
        match &*key.0 {
            "httpGet" => *http_get = lean_value(&mut map, |h: LeanHttpGet| h.0)?,
            "tcpSocket" => *tcp_socket = lean_value(&mut map, |t: LeanTcpSocket| t.0)?,
            other => check_field(shape, other, &mut map)?,
        }
    }
    Ok(())
}

impl Lean for LeanProbe {
    const NAME: &'static str = "Probe";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut p = Box::<Probe>::default();
        read_actions(map, PROBE, &mut p.http_get, &mut p.tcp_socket)?;
        Ok(LeanProbe(p))
    }
}

impl Lean for LeanHandler {
    const NAME: &'static str = "LifecycleHandler";
    fn read<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let mut h = LifecycleHandler::default();
        read_actions(map, LIFECYCLE_HANDLER, &mut h.http_get, &mut h.tcp_socket)?;
        Ok(LeanHandler(h))
    }
}

impl Lean for LeanLifecycle {
    const NAME: &'static str = "Lifecycle";
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut l = Box::<Lifecycle>::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "postStart" => l.post_start = lean_value(&mut map, |h: LeanHandler| h.0)?,
                "preStop" => l.pre_stop = lean_value(&mut map, |h: LeanHandler| h.0)?,
                other => check_field(LIFECYCLE, other, &mut map)?,
            }
        }
        Ok(LeanLifecycle(l))
    }
}

/// Declares a lean type that builds one optional field of `$ty` (at JSON key `$key`) and checks
/// the rest against struct `$shape`.
macro_rules! lean_one_field {
    ($lean:ident, $ty:ident, $shape:ident, $key:literal => $field:ident) => {
        impl Lean for $lean {
            const NAME: &'static str = stringify!($ty);
            fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                let mut v = $ty::default();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match &*key.0 {
                        $key => v.$field = map.next_value()?,
                        other => check_field($shape, other, &mut map)?,
                    }
                }
                Ok($lean(v))
            }
        }
    };
}

lean_one_field!(LeanHttpGet, HTTPGetAction, HTTP_GET_ACTION, "host" => host);
lean_one_field!(LeanTcpSocket, TCPSocketAction, TCP_SOCKET_ACTION, "host" => host);
lean_one_field!(LeanPort, ContainerPort, CONTAINER_PORT, "hostPort" => host_port);

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

    /// Lean probes, lifecycles and ports are the full decoding with only what Pod Security
    /// reads kept: action hosts and host ports.
    #[test]
    fn lean_probes_lifecycles_and_ports_keep_what_pod_security_reads() {
        fn hosts(h: Option<&HTTPGetAction>, t: Option<&TCPSocketAction>) -> Vec<Option<String>> {
            vec![
                h.map(|h| h.host.clone().unwrap_or_default()),
                t.map(|t| t.host.clone().unwrap_or_default()),
            ]
        }
        for json in [
            r#"{"httpGet": {"path": "/", "port": 8080, "host": "h", "httpHeaders": [{"name": "a", "value": "b"}]}, "periodSeconds": 3}"#,
            r#"{"tcpSocket": {"port": "http", "host": "t"}, "httpGet": {"port": 1}}"#,
            r#"{"exec": {"command": ["true"]}, "tcpSocket": {"port": 1}, "tcpSocket": null}"#,
            r#"{"grpc": {"port": 1}, "httpGet": {"host": null, "port": 2}, "httpGet": {"host": "late", "port": 3}}"#,
            r#"{}"#,
        ] {
            let full: Probe = serde_json::from_str(json).unwrap();
            let lean = crate::json::from_str::<LeanProbe>(json).unwrap().0;
            assert_eq!(
                hosts(lean.http_get.as_ref(), lean.tcp_socket.as_ref()),
                hosts(full.http_get.as_ref(), full.tcp_socket.as_ref()),
                "{json}"
            );
            assert_eq!(
                lean.http_get.is_some() as u8 + lean.tcp_socket.is_some() as u8,
                full.http_get.is_some() as u8 + full.tcp_socket.is_some() as u8
            );
        }
        for json in [
            r#"{"postStart": {"httpGet": {"host": "a", "port": 1}}, "preStop": {"tcpSocket": {"host": "b", "port": 1}}, "stopSignal": "SIGTERM"}"#,
            r#"{"preStop": {"sleep": {"seconds": 5}}, "postStart": null}"#,
            r#"{"preStop": {"exec": {"command": ["x"]}, "httpGet": {"port": 1}}}"#,
        ] {
            let full: Lifecycle = serde_json::from_str(json).unwrap();
            let lean = crate::json::from_str::<LeanLifecycle>(json).unwrap().0;
            for (l, f) in [
                (&lean.post_start, &full.post_start),
                (&lean.pre_stop, &full.pre_stop),
            ] {
                assert_eq!(l.is_some(), f.is_some(), "{json}");
                assert_eq!(
                    l.as_ref()
                        .map(|h| hosts(h.http_get.as_ref(), h.tcp_socket.as_ref())),
                    f.as_ref()
                        .map(|h| hosts(h.http_get.as_ref(), h.tcp_socket.as_ref())),
                    "{json}"
                );
            }
        }
        for json in [
            r#"{"containerPort": 80, "hostPort": 8080, "protocol": "TCP", "name": "http"}"#,
            r#"{"containerPort": 80, "hostPort": null}"#,
            r#"{"hostPort": 1, "hostPort": 2}"#,
        ] {
            let full: ContainerPort = serde_json::from_str(json).unwrap();
            let lean = crate::json::from_str::<LeanPort>(json).unwrap().0;
            assert_eq!(lean.host_port, full.host_port, "{json}");
        }
        // What the decoder rejects, the lean types reject.
        for json in [
            r#"{"httpGet": {"port": 1, "path": 5}}"#,
            r#"{"periodSeconds": "3"}"#,
            r#"{"httpGet": []}"#,
            r#"{"tcpSocket": {"host": 1}}"#,
        ] {
            assert!(serde_json::from_str::<Probe>(json).is_err(), "{json}");
            assert!(crate::json::from_str::<LeanProbe>(json).is_err(), "{json}");
        }
        assert!(crate::json::from_str::<LeanPort>(r#"{"containerPort": 1.5}"#).is_err());
        assert!(crate::json::from_str::<LeanLifecycle>(r#"{"stopSignal": 1}"#).is_err());
    }

    /// Lean annotations keep what Pod Security and the waivers read, and reject what the
    /// decoded map rejects (values that are not strings), whitespace or not.
    #[test]
    fn lean_annotations_keep_what_is_read_and_check_the_rest() {
        let kept = crate::json::from_str::<LeanAnnotations>(
            r#"{ "x" :  "1", "seccomp.security.alpha.kubernetes.io/pod" : "unconfined",
                "waive.haven.commonground.nl/pss.privileged": "r", "y": "a\"b" }"#,
        )
        .unwrap()
        .0;
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "seccomp.security.alpha.kubernetes.io/pod",
                "waive.haven.commonground.nl/pss.privileged"
            ]
        );
        for bad in [
            r#"{"x":  1}"#,
            r#"{"x" : null}"#,
            r#"{"x": ["a"]}"#,
            r#"{"x": "a", "x": {}}"#,
            r#"{"seccomp.security.alpha.kubernetes.io/pod": 1}"#,
        ] {
            assert!(
                serde_json::from_str::<std::collections::BTreeMap<String, String>>(bad).is_err()
            );
            assert!(
                crate::json::from_str::<LeanAnnotations>(bad).is_err(),
                "{bad}"
            );
        }
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
            let mut lean = Volume::default();
            crate::json::from_str::<LeanVolume>(json)
                .unwrap()
                .fill(&mut lean);
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
