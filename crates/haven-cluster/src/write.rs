//! `--write-crd`: upstream's `Compliancy` record of a run, written to the cluster on request only.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;

use crate::error::ProbeError;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};

/// Create the CRD when absent, wait (briefly) until it is established, then create the resource.
/// Both are given as JSON so that their shape stays with the report code that defines them.
pub async fn write_compliancy(
    client: &Client,
    crd: serde_json::Value,
    resource: serde_json::Value,
) -> Result<String, ProbeError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition =
        serde_json::from_value(crd).map_err(|source| ProbeError::Decode {
            what: "CRD".into(),
            source,
        })?;
    let crd_name = crd.metadata.name.clone().unwrap_or_default();
    let existing = crds
        .get_opt(&crd_name)
        .await
        .map_err(ProbeError::api(format!(
            "get customresourcedefinition {crd_name}"
        )))?;
    if existing.is_none() {
        crds.create(&PostParams::default(), &crd)
            .await
            .map_err(ProbeError::api(format!(
                "create customresourcedefinition {crd_name}"
            )))?;
        for _ in 0..50 {
            let established = crds
                .get_opt(&crd_name)
                .await
                .ok()
                .flatten()
                .and_then(|c| c.status)
                .and_then(|s| s.conditions)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                });
            if established {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let ar = ApiResource {
        group: crd.spec.group.clone(),
        version: "v1alpha1".into(),
        api_version: format!("{}/v1alpha1", crd.spec.group),
        kind: crd.spec.names.kind.clone(),
        plural: crd.spec.names.plural.clone(),
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let object: DynamicObject =
        serde_json::from_value(resource).map_err(|source| ProbeError::Decode {
            what: "Compliancy".into(),
            source,
        })?;
    let created = api
        .create(&PostParams::default(), &object)
        .await
        .map_err(ProbeError::api(format!(
            "create {} {}",
            ar.plural,
            object.metadata.name.clone().unwrap_or_default()
        )))?;
    Ok(created.metadata.name.unwrap_or_default())
}
