//! The secrets of the platform's confidential OIDC clients (Grafana, Headlamp, policy-reporter),
//! made in the cluster with nobody at a keyboard and delivered to both ends.
//!
//! A confidential client's secret must be known to two namespaces: the identity provider's
//! (Keycloak resolves `${GRAFANA_CLIENT_SECRET}` in the realm it imports, Dex reads it through
//! `secretEnv`) and the consumer's (Grafana reads `grafana-oidc`). This module writes, per
//! client, with External Secrets only (docs/plus.md, "Single sign-on: the client secrets"):
//!
//! - **In the identity provider's namespace**, the client's own Secret `oidc-client-<id>`, one
//!   key `<ID>_CLIENT_SECRET`: a `Password` generator behind an ExternalSecret that writes it
//!   once, immutable, and leaves it in place when the ExternalSecret goes
//!   ([`crate::secret_backend::generated`], as Grafana's admin password). The identity provider
//!   reads every client's Secret by `envFrom` (the key is the environment variable). And a Role
//!   that allows `get` on that one Secret (`resourceNames`), bound to the consumer's reader.
//! - **In the consumer's namespace**, the reader: a ServiceAccount no pod runs as, a
//!   `SecretStore` of External Secrets' `kubernetes` provider that logs in as it (a token
//!   External Secrets requests for it) and reads the identity provider's namespace, and an
//!   ExternalSecret that copies the one key into the Secret the component reads, with the client
//!   id beside it (not secret) from its template.
//!
//! One Secret per client, not one for all: a consumer's reader can get its own client's secret
//! and nothing else (the identities proof checks it on every render, `crate::proofs::identities`).
//! External Secrets' controller only talks to the API server for it, a flow it has already.
//! Nothing is written into OpenBao, so no OpenBao policy writes; a `PushSecret` into OpenBao
//! would need one.
//!
//! Zitadel is not served: it makes a client's secret itself when the client is created (its API
//! takes none), and the chart imports no clients, so its clients stay registered by hand.
//!
//! Pure: objects as JSON, placed into the tree by [`crate::render`].

use serde_json::{Value, json};

use crate::catalogue::SecretRef;
use crate::config::{IdentityProvider, PlatformConfig, SecretsBackend};

/// Whether the confidential clients' secrets are made in the cluster: identity by Keycloak or
/// Dex, and External Secrets (the default secret backend) to make and copy them.
pub fn made_in_cluster(config: &PlatformConfig) -> bool {
    let caps = &config.capabilities;
    caps.identity.enabled
        && matches!(
            caps.identity.provider,
            IdentityProvider::Keycloak | IdentityProvider::Dex
        )
        && caps.secrets.enabled
        && caps.secrets.backend == SecretsBackend::Openbao
}

/// Whether Grafana logs in with the identity provider: as `dashboards.sso` says, by default
/// wherever its client's secret is made in the cluster ([`made_in_cluster`]); never without an
/// identity provider.
pub fn grafana_sso(config: &PlatformConfig) -> bool {
    config.capabilities.identity.enabled
        && config
            .capabilities
            .dashboards
            .sso
            .unwrap_or_else(|| made_in_cluster(config))
}

/// The key a [`ClientSecret`] reads from the identity provider's Secret into its template.
const TEMPLATE_KEY: &str = "clientSecret";

/// One confidential client whose secret is made in the cluster.
#[derive(Debug, Clone)]
pub struct ClientSecret<'a> {
    /// The client id at the identity provider (`grafana`).
    pub client_id: &'a str,
    /// The identity provider's namespace, where the client's Secret is made.
    pub idp_namespace: &'a str,
    /// The consumer's namespace and the Secret its component reads (its catalogue `secrets`
    /// entry: one key for the client id, one for the secret).
    pub namespace: &'a str,
    pub secret: &'a SecretRef,
}

/// The environment variable (and key) of a client's secret at the identity provider:
/// `HEADLAMP_CLIENT_SECRET`.
pub fn env_key(client_id: &str) -> String {
    format!(
        "{}_CLIENT_SECRET",
        client_id.to_uppercase().replace(['-', '.'], "_")
    )
}

/// The Secret in the identity provider's namespace that holds one client's secret.
pub fn idp_secret(client_id: &str) -> String {
    format!("oidc-client-{client_id}")
}

impl ClientSecret<'_> {
    /// The ServiceAccount, SecretStore and Role (`<secret>-reader`) of the consumer's reader.
    pub fn reader(&self) -> String {
        format!("{}-reader", idp_secret(self.client_id))
    }

    /// The keys of the consumer's Secret: (client id, client secret). The secret's key is the
    /// one whose name says so (`clientSecret`, `OIDC_CLIENT_SECRET`).
    fn consumer_keys(&self) -> Option<(&str, &str)> {
        let is_secret = |k: &String| k.to_lowercase().contains("secret");
        let secret = self.secret.keys.iter().find(|k| is_secret(k))?;
        let id = self.secret.keys.iter().find(|k| !is_secret(k))?;
        Some((id, secret))
    }

    /// The objects in the identity provider's namespace: the generated Secret, and the Role and
    /// RoleBinding that let the consumer's reader get it and nothing else.
    pub fn idp_objects(&self) -> Vec<Value> {
        let ns = self.idp_namespace;
        let name = idp_secret(self.client_id);
        let reader = self.reader();
        let mut docs = crate::secret_backend::generated(
            ns,
            &SecretRef {
                name: name.clone(),
                keys: vec![env_key(self.client_id)],
                generate: true,
            },
        );
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": reader, "namespace": ns},
            "rules": [{
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [name],
                "verbs": ["get"],
            }],
        }));
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": reader, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader},
            "subjects": [{"kind": "ServiceAccount", "name": reader, "namespace": self.namespace}],
        }));
        docs
    }

    /// The objects in the consumer's namespace: the reader's ServiceAccount, its SecretStore and
    /// the ExternalSecret that writes the Secret the component reads.
    pub fn consumer_objects(&self) -> Vec<Value> {
        let ns = self.namespace;
        let reader = self.reader();
        let Some((id_key, secret_key)) = self.consumer_keys() else {
            return Vec::new();
        };
        vec![
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": reader, "namespace": ns},
                // External Secrets requests its tokens; no pod runs as it.
                "automountServiceAccountToken": false,
            }),
            json!({
                "apiVersion": "external-secrets.io/v1",
                "kind": "SecretStore",
                "metadata": {"name": reader, "namespace": ns},
                "spec": {"provider": {"kubernetes": {
                    "remoteNamespace": self.idp_namespace,
                    "server": {
                        "url": "https://kubernetes.default.svc",
                        // Every namespace has the cluster's CA in this ConfigMap.
                        "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"},
                    },
                    "auth": {"serviceAccount": {"name": reader}},
                }}},
            }),
            json!({
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": self.secret.name, "namespace": ns},
                "spec": {
                    // A rotated secret (docs/plus.md, "Single sign-on") arrives within the hour.
                    "refreshInterval": "1h",
                    "secretStoreRef": {"kind": "SecretStore", "name": reader},
                    "target": {
                        "name": self.secret.name,
                        "creationPolicy": "Owner",
                        "template": {"engineVersion": "v2", "data": {
                            id_key: self.client_id,
                            secret_key: format!("{{{{ .{TEMPLATE_KEY} }}}}"),
                        }},
                    },
                    "data": [{"secretKey": TEMPLATE_KEY, "remoteRef": {
                        "key": idp_secret(self.client_id),
                        "property": env_key(self.client_id),
                    }}],
                },
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grafana() -> SecretRef {
        SecretRef {
            name: "grafana-oidc".into(),
            keys: vec![
                "GF_AUTH_GENERIC_OAUTH_CLIENT_ID".into(),
                "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET".into(),
            ],
            generate: false,
        }
    }

    #[test]
    fn one_generated_secret_one_role_for_exactly_it_and_a_copy_for_the_consumer() {
        let s = grafana();
        let c = ClientSecret {
            client_id: "grafana",
            idp_namespace: "keycloak",
            namespace: "grafana",
            secret: &s,
        };
        let idp = c.idp_objects();
        assert_eq!(idp[0]["kind"], "Password");
        assert_eq!(
            idp[0]["spec"]["secretKeys"],
            json!(["GRAFANA_CLIENT_SECRET"])
        );
        // Symbols could break the realm's JSON when Keycloak substitutes them.
        assert_eq!(idp[0]["spec"]["symbols"], 0);
        assert_eq!(idp[1]["spec"]["target"]["immutable"], true);
        assert_eq!(idp[1]["spec"]["refreshPolicy"], "CreatedOnce");
        let role = &idp[2];
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": [""], "resources": ["secrets"],
                    "resourceNames": ["oidc-client-grafana"], "verbs": ["get"]}])
        );
        assert_eq!(
            idp[3]["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "oidc-client-grafana-reader", "namespace": "grafana"})
        );
        let consumer = c.consumer_objects();
        let store = &consumer[1]["spec"]["provider"]["kubernetes"];
        assert_eq!(store["remoteNamespace"], "keycloak");
        assert_eq!(
            store["auth"]["serviceAccount"]["name"],
            consumer[0]["metadata"]["name"]
        );
        let es = &consumer[2]["spec"];
        assert_eq!(es["secretStoreRef"]["kind"], "SecretStore");
        assert_eq!(es["data"][0]["remoteRef"]["key"], "oidc-client-grafana");
        assert_eq!(
            es["target"]["template"]["data"],
            json!({"GF_AUTH_GENERIC_OAUTH_CLIENT_ID": "grafana",
                   "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": "{{ .clientSecret }}"})
        );
    }
}
