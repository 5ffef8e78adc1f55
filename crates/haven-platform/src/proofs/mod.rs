//! The proofs of `haven plus validate`: that the platform works and is safe, beyond its schemas.
//!
//! A platform can pass every schema and still not work (a NetworkPolicy that cuts a component
//! off from its peers, a Secret nobody creates) or not be safe (a tenant that can act
//! cluster-wide). These analyses read the whole platform as the cluster will receive it, a
//! [`Landscape`]: the tree's objects alone, or with `--charts` also every chart's rendered
//! output. Each analysis is a pure function of the landscape (and the catalogue's declarations)
//! to [`Problem`]s, so it is tested on data; the evaluators it stands on are their own crates
//! (`haven-netpol`, `haven-rbac`, `haven-selector`).
//!
//! What an analysis cannot know without a chart's output (a component rendered tree-only, or not
//! verified) it does not guess: it proves what the objects at hand show, and says in its message
//! when a conclusion rests on a component it could not see ([`Landscape::unseen`]).

use std::collections::BTreeSet;

use haven_model::Object;

use crate::charts::{Problem, RenderedPlatform};

pub mod certificates;
pub mod cluster_control;
pub mod flows;
pub mod identities;
pub mod references;
pub mod secret_readers;
pub mod tenancy;

/// One object the cluster will receive, and the component it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    pub object: &'a Object,
    /// The catalogue component (the HelmRelease's name) whose chart rendered it; for the tree's
    /// own objects empty, but for a workload of the tree labelled with its component
    /// ([`COMPONENT_LABEL`]: the object store's bootstrap Job runs under Garage's flows).
    pub component: &'a str,
}

/// Everything the cluster will receive.
#[derive(Debug, Clone, Default)]
pub struct Landscape<'a> {
    pub objects: Vec<Placed<'a>>,
    /// Components (HelmReleases) whose rendered objects are not in [`Self::objects`]: every one
    /// when validating the tree alone, the not-verified ones with `--charts`.
    pub unseen: BTreeSet<&'a str>,
}

impl<'a> Landscape<'a> {
    /// The tree alone: its objects; every HelmRelease is unseen.
    pub fn of_tree(tree: &'a [Object]) -> Self {
        Self {
            objects: tree
                .iter()
                .map(|object| Placed {
                    object,
                    component: tree_component(object),
                })
                .collect(),
            unseen: tree
                .iter()
                .filter(|o| is_helm_release(o))
                .map(|o| o.name.as_str())
                .collect(),
        }
    }

    /// The tree and every chart's rendered output.
    pub fn of_platform(platform: &'a RenderedPlatform) -> Self {
        let mut l = Self::of_tree(&platform.tree);
        for r in &platform.releases {
            if matches!(r.outcome, crate::charts::Outcome::Rendered(_)) {
                l.unseen.remove(r.component.as_str());
            }
            l.objects.extend(r.objects().iter().map(|object| Placed {
                object,
                component: r.component.as_str(),
            }));
        }
        l
    }

    /// The objects of one kind (`group` empty for the core group).
    pub fn of_kind<'s>(
        &'s self,
        group: &'s str,
        kind: &'s str,
    ) -> impl Iterator<Item = Placed<'a>> + 's {
        self.objects
            .iter()
            .copied()
            .filter(move |p| p.object.kind == kind && p.object.api_group() == group)
    }
}

/// The label that says which component a workload of the tree itself belongs to.
pub const COMPONENT_LABEL: &str = "haven.commonground.nl/component";

/// The component of a workload the tree holds itself (not a chart's), from [`COMPONENT_LABEL`].
fn tree_component(o: &Object) -> &str {
    if !matches!(
        o.kind.as_str(),
        "Job" | "CronJob" | "Deployment" | "StatefulSet" | "DaemonSet"
    ) {
        return "";
    }
    o.value
        .pointer("/metadata/labels")
        .and_then(|l| l.get(COMPONENT_LABEL))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

fn is_helm_release(o: &Object) -> bool {
    o.kind == "HelmRelease" && o.api_group() == "helm.toolkit.fluxcd.io"
}

/// A ServiceAccount of the platform (not a tenant's: those are `identities::prove`'s, held to
/// their namespace entirely), with the components it belongs to and every concern about its
/// rights beyond its own namespace, except the API server's default grants and rules limited
/// to named objects (`resourceNames`: the narrow grants the platform's own Jobs use). What
/// [`secret_readers`] and [`cluster_control`] each judge.
pub(crate) struct PlatformAccount<'l, 'c> {
    pub sa: Placed<'l>,
    pub namespace: String,
    pub owners: Vec<&'c crate::catalogue::Component>,
    pub findings: Vec<haven_rbac::Finding>,
}

/// Every platform ServiceAccount of the landscape, with its findings; none without RBAC in the
/// landscape (the tree alone, without `--charts`, may have none).
pub(crate) fn platform_accounts<'l, 'c>(
    landscape: &Landscape<'l>,
    catalogue: &'c crate::Catalogue,
) -> Vec<PlatformAccount<'l, 'c>> {
    if !landscape
        .objects
        .iter()
        .any(|p| p.object.api_group() == "rbac.authorization.k8s.io")
    {
        return Vec::new();
    }
    let tenants: BTreeSet<&str> = tenancy::tenants(landscape).iter().map(|t| t.name).collect();
    let rbac = identities::rbac_of(landscape);
    let scopes = identities::resource_scopes(landscape);
    landscape
        .of_kind("", "ServiceAccount")
        .filter_map(|sa| {
            let ns = sa.object.namespace.as_deref().unwrap_or("default");
            if tenants.contains(ns) {
                return None;
            }
            let id = haven_rbac::Identity::service_account(ns, &sa.object.name);
            let inside = BTreeSet::from([ns.to_owned()]);
            let findings = rbac
                .confinement(&id, &inside, &scopes)
                .into_iter()
                .filter(|f| !f.grant.kubernetes_default && f.grant.rule.resource_names.is_empty())
                .collect();
            Some(PlatformAccount {
                sa,
                namespace: ns.to_owned(),
                owners: secret_readers::owners(sa, ns, catalogue),
                findings,
            })
        })
        .collect()
}

/// Runs every proof on the landscape. Sorted as [`crate::charts::validate_platform`] sorts.
pub fn prove(landscape: &Landscape<'_>, catalogue: &crate::Catalogue) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    out.extend(references::prove(landscape, catalogue));
    out.extend(certificates::prove(landscape, catalogue));
    out.extend(flows::prove(landscape, catalogue));
    out.extend(identities::prove(landscape, catalogue));
    out.extend(secret_readers::prove(landscape, catalogue));
    out.extend(cluster_control::prove(landscape, catalogue));
    out.extend(tenancy::prove(landscape, catalogue));
    out
}

/// What the proofs' unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::BTreeSet;

    use haven_model::{Object, Origin, load_objects};

    use super::{Landscape, Placed};

    /// The objects of `text`, a YAML stream that must read without errors.
    pub(crate) fn objects(text: &str) -> Vec<Object> {
        let out = load_objects(Origin::File("t.yaml"), text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.objects
    }

    /// The blocking problems a proof finds in `text`, every object rendered by `component`, as
    /// `object message` lines.
    pub(crate) fn blocking(
        prove: fn(&Landscape<'_>, &crate::Catalogue) -> Vec<crate::charts::Problem>,
        text: &str,
        component: &str,
        catalogue: &crate::Catalogue,
    ) -> Vec<String> {
        let objs = objects(text);
        let l = Landscape {
            objects: objs
                .iter()
                .map(|object| Placed { object, component })
                .collect(),
            unseen: BTreeSet::new(),
        };
        prove(&l, catalogue)
            .iter()
            .filter(|p| p.blocks())
            .map(|p| format!("{} {}", p.object, p.message))
            .collect()
    }

    /// Every object seen (as with `--charts` and every chart rendered).
    pub(crate) fn seen(objects: &[Object]) -> Landscape<'_> {
        Landscape {
            objects: objects
                .iter()
                .map(|object| Placed {
                    object,
                    component: "",
                })
                .collect(),
            unseen: BTreeSet::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_model::{Origin, load_objects};

    #[test]
    fn the_tree_alone_leaves_every_helm_release_unseen() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: loki, namespace: loki}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: loki}\n";
        let tree = load_objects(Origin::File("t.yaml"), text).objects;
        let l = Landscape::of_tree(&tree);
        assert_eq!(l.unseen.iter().copied().collect::<Vec<_>>(), ["loki"]);
        assert_eq!(l.of_kind("", "Namespace").count(), 1);
        assert_eq!(l.of_kind("", "HelmRelease").count(), 0);
    }
}
