//! Credentials in clear text: where they hide in a platform config or a GitOps tree, and how to
//! say so without repeating them.
//!
//! A Git repository is read by everyone with access to it, kept forever in its history, and
//! mirrored to CI runners: a password committed there is a password published. So the config
//! refuses credentials at read time, and `haven plus validate` reports any it finds in a tree:
//!
//! - a `Secret` with `data` or `stringData` (base64 is an encoding, not encryption), unless it
//!   is SOPS-encrypted;
//! - a kustomize `secretGenerator` with `literals`;
//! - a credential field (`password`, `adminPassword`, `token`, `secretKey`, `accessKey`,
//!   `clientSecret`, ... see [`is_credential_key`]) with a value, in Helm values;
//! - a URL with a password or token in its userinfo (`https://user:token@host`), anywhere.
//!
//! Messages name the field, never its value.

use serde_json::Value;

/// Normalised (lowercase, no `-`, `_` or `.`) key endings that hold a credential in the charts
/// of the catalogue and their kin: `adminPassword`, `postgresPassword`, `githubToken`,
/// `apiKey`, `clientSecret`, `secretAccessKey`, `masterkey`, `privateKey`.
const CREDENTIAL_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "token",
    "apikey",
    "clientsecret",
    "secretaccesskey",
    "privatekey",
    "masterkey",
];

/// Whole keys that hold a credential: an S3 `accessKey`/`secretKey` pair, Dex's
/// `staticClients[].secret` and its LDAP connector's `bindPW`. Only as the whole key:
/// `existingSecret`, `secretKeyRef` and `passwordKey` name where a credential is, not the
/// credential.
const CREDENTIAL_KEYS: &[&str] = &["secretkey", "accesskey", "secret", "credentials", "bindpw"];

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a Helm value under `key` is a credential (when it holds a value).
pub fn is_credential_key(key: &str) -> bool {
    let k = normalise(key);
    CREDENTIAL_KEYS.contains(&k.as_str()) || CREDENTIAL_SUFFIXES.iter().any(|s| k.ends_with(s))
}

/// Whether a value stands for a credential rather than being one: empty, a Flux
/// `${VAR}` substitution (from `postBuild.substituteFrom` a Secret), a container `$(VAR)`
/// reference, a Helm template, a file path, or an environment variable the program expands
/// itself (`$VAR`: Dex's connector secrets, `render::DEX_CONNECTORS_SECRET`).
fn is_reference(text: &str) -> bool {
    let t = text.trim();
    let env_var = t.strip_prefix('$').is_some_and(|n| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    t.is_empty()
        || t.starts_with('/')
        || t.contains("{{")
        || env_var
        || (t.starts_with("${") && t.ends_with('}'))
        || (t.starts_with("$(") && t.ends_with(')'))
}

/// The first URL in `text` whose userinfo holds a credential (`user:password@`, or any
/// userinfo on `http(s)://`, where a lone token is sent as the user name), shown with the
/// credential replaced by `…` (`https://…@git.example.nl`).
pub fn url_with_credentials(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // After the last character that cannot be in a scheme (its byte length: it may be
        // any character, and the fuzzer found `\u{fffd}ttps://`).
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let scheme = &rest[scheme_start..i];
        let after = &rest[i + 3..];
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        if !scheme.is_empty()
            && let Some((userinfo, host)) = authority.rsplit_once('@')
        {
            let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            let secret = match userinfo.split_once(':') {
                Some((_, password)) => !password.is_empty() && !is_reference(password),
                None => web && !userinfo.is_empty() && !is_reference(userinfo),
            };
            if secret {
                return Some(format!("{scheme}://…@{host}"));
            }
        }
        rest = after;
    }
    None
}

/// One credential found: where (a field path below the scanned value) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposed {
    pub path: String,
    pub what: String,
}

/// Credential fields with a value, and URLs with credentials, anywhere in Helm values.
pub fn scan_values(value: &Value, path: &str, out: &mut Vec<Exposed>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut p = path.to_owned();
                haven_model::path::push_key(&mut p, k);
                let holds_value = match v {
                    Value::String(s) => !is_reference(s),
                    Value::Number(_) => true,
                    _ => false,
                };
                if holds_value && is_credential_key(k) {
                    out.push(Exposed {
                        path: p,
                        what: format!("`{k}` holds a credential in clear text"),
                    });
                } else {
                    scan_values(v, &p, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan_values(v, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => scan_urls(s, path, out),
        _ => {}
    }
}

fn scan_urls(text: &str, path: &str, out: &mut Vec<Exposed>) {
    if let Some(url) = url_with_credentials(text) {
        out.push(Exposed {
            path: path.to_owned(),
            what: format!("a URL with credentials in it (`{url}`)"),
        });
    }
}

/// URLs with credentials anywhere in a value (every string, at any depth).
pub fn scan_strings(value: &Value, path: &str, out: &mut Vec<Exposed>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let mut p = path.to_owned();
                haven_model::path::push_key(&mut p, k);
                scan_strings(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan_strings(v, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => scan_urls(s, path, out),
        _ => {}
    }
}

/// How to keep a credential out of Git, for the end of a message.
pub const HOW: &str = "keep it out of Git: an ExternalSecret from the secret store (the \
     `secrets` capability, OpenBao), a SealedSecret, a SOPS-encrypted Secret, or a Secret created \
     out of band (kubectl create secret)";

/// Everything in a Kubernetes object (as read from a tree) that is a credential in clear text.
pub fn scan_object(api_version: &str, kind: &str, value: &Value) -> Vec<Exposed> {
    let mut out = Vec::new();
    let sops = value.get("sops").is_some();
    if api_version == "v1" && kind == "Secret" {
        for field in ["data", "stringData"] {
            let Some(map) = value.get(field).and_then(Value::as_object) else {
                continue;
            };
            for (k, v) in map {
                let text = v.as_str().unwrap_or_default();
                if sops || text.is_empty() || text.starts_with("ENC[") {
                    continue;
                }
                let mut p = field.to_owned();
                haven_model::path::push_key(&mut p, k);
                out.push(Exposed {
                    path: p,
                    what: format!(
                        "Secret key `{k}` is in clear text in Git ({}); {HOW}",
                        if field == "data" {
                            "base64 is an encoding, not encryption"
                        } else {
                            "stringData"
                        }
                    ),
                });
            }
        }
        return out;
    }
    if api_version.starts_with("kustomize.config.k8s.io/") {
        for (i, g) in value
            .get("secretGenerator")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if g.get("literals")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty())
            {
                out.push(Exposed {
                    path: format!("secretGenerator[{i}].literals"),
                    what: format!(
                        "secretGenerator literals put a Secret's values in clear text in Git; {HOW}"
                    ),
                });
            }
        }
    }
    if api_version.starts_with("helm.toolkit.fluxcd.io/") && kind == "HelmRelease" {
        if let Some(values) = value.pointer("/spec/values") {
            let mut found = Vec::new();
            scan_values(values, "spec.values", &mut found);
            for e in found {
                out.push(Exposed {
                    what: format!(
                        "{}; {HOW}, and give it to the chart with `spec.valuesFrom`",
                        e.what
                    ),
                    ..e
                });
            }
        }
        // The rest of the object (URLs in `spec.chart`, annotations) below.
        let mut rest = value.clone();
        if let Some(spec) = rest.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("values");
        }
        let mut found = Vec::new();
        scan_strings(&rest, "", &mut found);
        out.extend(found.into_iter().map(|e| Exposed {
            what: format!("{}; {HOW}", e.what),
            ..e
        }));
        return out;
    }
    let mut found = Vec::new();
    scan_strings(value, "", &mut found);
    out.extend(found.into_iter().map(|e| Exposed {
        what: format!("{}; {HOW}", e.what),
        ..e
    }));
    out
}

/// Credentials in the platform config, as (key path, message).
pub fn check_config(config: &crate::config::PlatformConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(url) = url_with_credentials(&config.cluster.git.url) {
        out.push((
            "cluster.git.url".to_owned(),
            format!(
                "the URL carries credentials (`{url}`); give it without them: Flux reads the \
                 platform repository with the Secret flux-system/flux-system that `flux bootstrap` \
                 creates"
            ),
        ));
    }
    for (i, t) in config.tenants.iter().enumerate() {
        if let Some(url) = t.repo.as_deref().and_then(url_with_credentials) {
            out.push((
                format!("tenants[{i}].repo"),
                format!(
                    "the URL carries credentials (`{url}`); give it without them and set \
                     `repoSecretRef` to a Secret in namespace `{}` with `username` and `password` \
                     (or `identity` and `known_hosts` for SSH), created out of band (`flux create \
                     secret git`), by an ExternalSecret, or SOPS-encrypted",
                    t.name
                ),
            ));
        }
    }
    for (name, o) in &config.components {
        let Some(values) = &o.values else { continue };
        let base = format!("components.{name}.values");
        let mut found = Vec::new();
        scan_values(&Value::Object(values.clone()), &base, &mut found);
        for e in found {
            out.push((
                e.path,
                format!(
                    "{}; the config is committed to Git: put the value in a Secret (an \
                     ExternalSecret from the secret store, a SOPS-encrypted Secret, or one created \
                     out of band) and give it to the chart with `components.{name}.valuesFrom` \
                     (`- {{kind: Secret, name: NAME, valuesKey: KEY, targetPath: PATH}}`)",
                    e.what
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_keys_and_the_references_that_look_like_them() {
        for k in [
            "password",
            "adminPassword",
            "postgres-password",
            "token",
            "githubToken",
            "secretKey",
            "accessKey",
            "secret_access_key",
            "apiKey",
            "clientSecret",
            "masterkey",
            "secret",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "existingSecret",
            "passwordKey",
            "adminPasswordKey",
            "secretName",
            "tokenPath",
            "usePasswordFiles",
            "secretKeyRef",
            "userSecretKeyName",
            "configSecretKey",
            "accessKeyId",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn a_multibyte_character_before_the_scheme_is_no_panic() {
        assert_eq!(
            url_with_credentials("\u{fffd}ttps://git.example.nl/x.git"),
            None
        );
        assert_eq!(
            url_with_credentials("é:https://u:p@git.example.nl").as_deref(),
            Some("https://…@git.example.nl")
        );
    }

    #[test]
    fn urls_with_a_password_or_a_web_token_are_found_and_not_repeated() {
        assert_eq!(
            url_with_credentials("https://user:s3cret@git.example.nl/platform.git").as_deref(),
            Some("https://…@git.example.nl")
        );
        assert_eq!(
            url_with_credentials("https://ghp_abc123@github.com/x/y").as_deref(),
            Some("https://…@github.com")
        );
        assert_eq!(
            url_with_credentials("url = \"postgres://app:pw@db:5432/app\"").as_deref(),
            Some("postgres://…@db:5432")
        );
        for ok in [
            "ssh://git@git.example.nl/platform.git",
            "https://git.example.nl/platform.git",
            "postgres://app:${DB_PASSWORD}@db/app",
            "https://user:@host/x",
            "mailto:a@b",
            "see https://example.nl/a@b",
        ] {
            assert_eq!(url_with_credentials(ok), None, "{ok}");
        }
    }

    #[test]
    fn helm_values_report_paths_not_values() {
        let values = json!({
            "adminPassword": "hunter2",
            "admin": {"existingSecret": "grafana-admin", "passwordKey": "pw"},
            "token": {"aud": "istio-ca"},
            "hubble": {"redact": {"apiKey": true}},
            "minio": {"users": [{"accessKey": "logs", "secretKey": "supersecret"}]},
            "db": {"password": "${DB_PASSWORD}"},
            "grafana.ini": {"database": {"url": "mysql://u:p@db/g"}},
        });
        let mut out = Vec::new();
        scan_values(&values, "spec.values", &mut out);
        let paths: Vec<&str> = out.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.values.adminPassword",
                "spec.values[\"grafana.ini\"].database.url",
                "spec.values.minio.users[0].accessKey",
                "spec.values.minio.users[0].secretKey",
            ]
        );
        assert!(out.iter().all(|e| !e.what.contains("hunter2")
            && !e.what.contains("supersecret")
            && !e.what.contains(":p@")));
    }

    #[test]
    fn secrets_in_clear_but_not_sops_encrypted_ones() {
        let clear = json!({"data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "t"}});
        let found = scan_object("v1", "Secret", &clear);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, "data.password");
        assert!(!found[0].what.contains("aHVudGVyMg"));
        let sops =
            json!({"data": {"password": "ENC[AES256_GCM,data:abc]"}, "sops": {"version": "3.9"}});
        assert!(scan_object("v1", "Secret", &sops).is_empty());
        let empty = json!({"type": "kubernetes.io/service-account-token"});
        assert!(scan_object("v1", "Secret", &empty).is_empty());
    }
}
