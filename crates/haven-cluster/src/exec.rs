//! Kubeconfig credential plugins (`users[].user.exec`: `aws eks get-token`, `kubelogin`,
//! `gke-gcloud-auth-plugin`), run within a deadline.
//!
//! kube-rs runs the plugin itself, with `std::process::Command::output` on the thread that
//! builds the client: no timeout, and a plugin that hangs (waiting for a browser login, a
//! network that is gone) hangs `haven check` with it, even past `--timeout`. So the plugin is
//! run here instead, with `haven_io::process` (deadline, output caps, process-group kill), the
//! way client-go runs it (`KUBERNETES_EXEC_INFO`, `env`, `interactiveMode`), and the credential
//! it prints is handed to kube as a plain token or client certificate.
//!
//! A credential obtained this way is not refreshed by kube; [`Credential::expires`] tells a
//! long-running caller (`plus status --wait`) when to connect again.

use std::io::IsTerminal;
use std::time::Duration;

use base64::Engine;
use haven_io::process::{self, Limits, Mode};
use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use serde::Deserialize;

/// Most a plugin may print: an ExecCredential is a token or a certificate and key, a few KiB.
const MAX_OUTPUT: usize = 1 << 20;

/// Why no credential came from the plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PluginError {
    pub command: String,
    pub message: String,
}

impl PluginError {
    fn new(command: &str, detail: impl std::fmt::Display) -> Self {
        Self {
            command: command.to_owned(),
            message: format!("the kubeconfig's credential plugin `{command}` {detail}"),
        }
    }
}

/// What the plugin gave, already put into the kubeconfig user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub expires: Option<jiff::Timestamp>,
}

#[derive(Deserialize)]
struct ExecCredential {
    status: Option<ExecStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    token: Option<String>,
    expiration_timestamp: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Whether kube would run `auth.exec`: only when nothing before it in its order (auth provider,
/// user and password, token, token file) gives a credential.
pub fn uses_plugin(auth: &AuthInfo) -> bool {
    auth.exec.is_some()
        && auth.auth_provider.is_none()
        && !(auth.username.is_some() && auth.password.is_some())
        && auth.token.is_none()
        && auth.token_file.is_none()
}

/// Runs the plugin of `auth` (if kube would) within `timeout` and replaces it by what it printed.
/// Blocking: call it where blocking is allowed.
pub fn resolve(auth: &mut AuthInfo, timeout: Duration) -> Result<Option<Credential>, PluginError> {
    if !uses_plugin(auth) {
        return Ok(None);
    }
    let Some(exec) = auth.exec.take() else {
        return Ok(None);
    };
    let credential = run_plugin(&exec, timeout)?;
    let command = command_name(&exec);
    let status = credential
        .status
        .ok_or_else(|| PluginError::new(&command, "printed an ExecCredential without `status`"))?;
    let expires = match &status.expiration_timestamp {
        Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|e| {
            PluginError::new(
                &command,
                format!("printed an expirationTimestamp that is not a time ({t:?}: {e})"),
            )
        })?),
        None => None,
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    match (
        status.token,
        status.client_certificate_data,
        status.client_key_data,
    ) {
        (_, Some(cert), Some(key)) => {
            auth.client_certificate_data = Some(b64.encode(cert));
            auth.client_key_data = Some(b64.encode(key).into());
        }
        (Some(token), _, _) => auth.token = Some(token.into()),
        _ => {
            return Err(PluginError::new(
                &command,
                "printed an ExecCredential with neither a token nor a client certificate and key",
            ));
        }
    }
    Ok(Some(Credential { expires }))
}

fn command_name(exec: &ExecConfig) -> String {
    exec.command.clone().unwrap_or_default()
}

fn run_plugin(exec: &ExecConfig, timeout: Duration) -> Result<ExecCredential, PluginError> {
    let name = command_name(exec);
    let err = |detail: String| PluginError::new(&name, detail);
    let Some(program) = &exec.command else {
        return Err(err("has no command".to_owned()));
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    // client-go: `IfAvailable` (the default) and `Always` talk to the user when there is a
    // terminal; without one the plugin must manage on its own.
    let interactive =
        exec.interactive_mode != Some(ExecInteractiveMode::Never) && std::io::stdin().is_terminal();
    let mut spec = serde_json::json!({"interactive": interactive});
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version.as_deref().unwrap_or("client.authentication.k8s.io/v1"),
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    for k in exec.drop_env.iter().flatten() {
        cmd.env_remove(k);
    }
    let mode = if interactive {
        Mode::Interactive
    } else {
        Mode::Captured
    };
    let limits = Limits::new(timeout, MAX_OUTPUT);
    let what = format!("the kubeconfig's credential plugin `{program}`");
    let output = process::run(cmd, &limits, mode, &what).map_err(|e| match e {
        process::ProcessError::Start { source, .. } => {
            let hint = exec
                .install_hint
                .as_deref()
                .map(|h| format!("\n{}", h.trim()))
                .unwrap_or_default();
            err(format!("could not be started: {source}{hint}"))
        }
        // Its message names the plugin already.
        other => PluginError {
            command: name.clone(),
            message: other.to_string(),
        },
    })?;
    if !output.status.success() {
        let tail = output.stderr_tail(10);
        return Err(err(format!(
            "failed ({}){}",
            output.status,
            if tail.is_empty() {
                String::new()
            } else {
                format!(":\n{tail}")
            }
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        err(format!(
            "printed something that is not an ExecCredential in JSON: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_user_without_an_earlier_credential_runs_the_plugin() {
        let mut auth = AuthInfo {
            exec: Some(ExecConfig::default()),
            ..Default::default()
        };
        assert!(uses_plugin(&auth));
        auth.token = Some("t".to_owned().into());
        assert!(!uses_plugin(&auth));
        auth.token = None;
        auth.token_file = Some("/t".into());
        assert!(!uses_plugin(&auth));
    }
}
