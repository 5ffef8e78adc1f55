//! Container traversal, as upstream `visitContainers`: init containers, then containers,
//! then ephemeral containers.

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EphemeralContainer, Lifecycle, PodSpec, Probe, SecurityContext,
};

use crate::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Init,
    Regular,
    Ephemeral,
}

impl Kind {
    const fn field(self) -> &'static str {
        match self {
            Kind::Init => "initContainers",
            Kind::Regular => "containers",
            Kind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A borrowed view of the fields the checks read, common to `Container` and
/// `EphemeralContainer`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctr<'a> {
    pub kind: Kind,
    pub index: usize,
    pub name: &'a str,
    pub sc: Option<&'a SecurityContext>,
    pub ports: &'a [ContainerPort],
    pub liveness: Option<&'a Probe>,
    pub readiness: Option<&'a Probe>,
    pub startup: Option<&'a Probe>,
    pub lifecycle: Option<&'a Lifecycle>,
}

impl<'a> Ctr<'a> {
    fn from_container(kind: Kind, index: usize, c: &'a Container) -> Self {
        Ctr {
            kind,
            index,
            name: &c.name,
            sc: c.security_context.as_ref(),
            ports: c.ports.as_deref().unwrap_or(&[]),
            liveness: c.liveness_probe.as_ref(),
            readiness: c.readiness_probe.as_ref(),
            startup: c.startup_probe.as_ref(),
            lifecycle: c.lifecycle.as_ref(),
        }
    }

    fn from_ephemeral(index: usize, c: &'a EphemeralContainer) -> Self {
        Ctr {
            kind: Kind::Ephemeral,
            index,
            name: &c.name,
            sc: c.security_context.as_ref(),
            ports: c.ports.as_deref().unwrap_or(&[]),
            liveness: c.liveness_probe.as_ref(),
            readiness: c.readiness_probe.as_ref(),
            startup: c.startup_probe.as_ref(),
            lifecycle: c.lifecycle.as_ref(),
        }
    }

    /// `spec.<kind>[<index>].<suffix>`.
    pub fn path(&self, suffix: &str) -> String {
        let field = self.kind.field();
        let mut path = String::with_capacity(5 + field.len() + 24 + suffix.len());
        path.push_str("spec.");
        path.push_str(field);
        path.push('[');
        crate::fmt_util::push_decimal(&mut path, self.index);
        path.push_str("].");
        path.push_str(suffix);
        path
    }

    /// A field of this container.
    pub fn field(&self, suffix: &str, message: String) -> Field {
        Field {
            path: self.path(suffix),
            container: Some(self.name.to_owned()),
            message,
        }
    }
}

/// Every container of the pod: init containers, containers, ephemeral containers.
pub(crate) fn containers(spec: &PodSpec) -> impl Iterator<Item = Ctr<'_>> {
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| Ctr::from_container(Kind::Init, i, c));
    let regular = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| Ctr::from_container(Kind::Regular, i, c));
    let ephemeral = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| Ctr::from_ephemeral(i, c));
    init.chain(regular).chain(ephemeral)
}

/// A pod-level field.
pub(crate) fn pod_field(path: &str, message: String) -> Field {
    Field {
        path: path.to_owned(),
        container: None,
        message,
    }
}
