//! No secret in clear: the config refuses credentials (with file, line and the way to give them
//! instead), offers `valuesFrom` and `repoSecretRef` for them, and `validate` reports every
//! credential it finds in a tree by file, line and object, without repeating it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use haven_platform::validate::{self, MemorySchemas, Options, Severity};
use haven_platform::{Catalogue, PlatformConfig, Provider, config, render};

fn base() -> String {
    config::init_yaml(&PlatformConfig::new("haven", "example.nl", Provider::Kind))
}

fn line_of(text: &str, needle: &str) -> u32 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1
}

fn parse_err(text: &str) -> Vec<haven_platform::ConfigError> {
    config::parse("haven-plus.yaml", text, &Catalogue::builtin().unwrap()).unwrap_err()
}

#[test]
fn a_git_url_with_a_token_is_refused_at_its_line() {
    let text = base().replace(
        "ssh://git@git.example.invalid/platform/haven-plus.git",
        "https://deploy:glpat-Xy12secret@gitlab.example.nl/platform.git",
    );
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.path, "cluster.git.url");
    assert_eq!(e.line, line_of(&text, "url: https://deploy"));
    assert!(
        e.message.contains("https://…@gitlab.example.nl"),
        "{}",
        e.message
    );
    assert!(e.message.contains("flux-system"), "{}", e.message);
    assert!(!e.describe().contains("glpat"), "{}", e.describe());
}

#[test]
fn a_tenant_repo_with_credentials_is_refused_and_repo_secret_ref_is_the_way() {
    let text = base().replace(
        "tenants: []",
        "tenants:\n  - name: zaken\n    group: zaken-devs\n    repo: https://x-access-token:ghs_secret@github.com/gemeente/zaken.git",
    );
    assert!(text.contains("ghs_secret"), "{text}");
    let errors = parse_err(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "tenants[0].repo");
    assert_eq!(
        errors[0].line,
        line_of(&text, "repo: https://x-access-token")
    );
    assert!(
        errors[0].message.contains("repoSecretRef"),
        "{}",
        errors[0].message
    );
    assert!(!errors[0].describe().contains("ghs_secret"));

    // Without the credential, and with the Secret named: accepted and rendered.
    let text = text.replace(
        "repo: https://x-access-token:ghs_secret@github.com/gemeente/zaken.git",
        "repo: https://github.com/gemeente/zaken.git\n    repoSecretRef: zaken-git",
    );
    let (c, _) = config::parse("haven-plus.yaml", &text, &Catalogue::builtin().unwrap()).unwrap();
    let files = render(&c, &Catalogue::builtin().unwrap()).files;
    let sync = &files[&PathBuf::from("tenants/zaken/sync.yaml")];
    assert!(sync.contains("secretRef:\n    name: zaken-git"), "{sync}");
}

#[test]
fn a_password_in_component_values_is_refused_and_values_from_is_the_way() {
    let text = format!(
        "{}components:\n  grafana:\n    values:\n      adminUser: admin\n      adminPassword: hunter2\n      smtp:\n        token: 12345\n",
        base()
    );
    let errors = parse_err(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "components.grafana.values.adminPassword",
            "components.grafana.values.smtp.token"
        ],
        "{errors:?}"
    );
    assert_eq!(errors[0].line, line_of(&text, "adminPassword"));
    assert!(
        errors[0].message.contains("components.grafana.valuesFrom"),
        "{}",
        errors[0].message
    );
    for e in &errors {
        let shown = e.describe();
        assert!(
            !shown.contains("hunter2") && !shown.contains("12345"),
            "{shown}"
        );
    }

    let text = text
        .replace("      adminPassword: hunter2\n", "")
        .replace("      smtp:\n        token: 12345\n", "")
        + "    valuesFrom:\n      - kind: Secret\n        name: grafana-smtp\n        valuesKey: token\n        targetPath: smtp.token\n";
    let (c, _) = config::parse("haven-plus.yaml", &text, &Catalogue::builtin().unwrap())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let files = render(&c, &Catalogue::builtin().unwrap()).files;
    let release = &files[&PathBuf::from("infrastructure/grafana/release.yaml")];
    assert!(
        release.contains(
            "valuesFrom:\n  - kind: Secret\n    name: grafana-smtp\n    targetPath: smtp.token\n    valuesKey: token"
        ),
        "{release}"
    );
    // What the renderer writes passes validate's own scan.
    let report = validate::validate(
        &files,
        &MemorySchemas::default(),
        &Options {
            check_workloads: false,
            ..Default::default()
        },
    );
    let secrets: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("clear text") || d.message.contains("credentials"))
        .collect();
    assert!(secrets.is_empty(), "{secrets:#?}");
}

#[test]
fn validate_reports_every_clear_credential_by_file_line_and_object() {
    let files: BTreeMap<PathBuf, String> = [
        (
            "apps/db-secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\ndata:\n  password: aHVudGVyMg==\nstringData:\n  token: abc123\n",
        ),
        (
            "apps/sops-secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed\n  namespace: app\ndata:\n  password: ENC[AES256_GCM,data:Zm9v,tag:x,type:str]\nsops:\n  version: 3.9.0\n",
        ),
        (
            "apps/release.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: minio\n  namespace: app\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: minio\n      sourceRef: {kind: HelmRepository, name: minio}\n  values:\n    auth:\n      existingSecret: minio-root\n    users:\n      - accessKey: logs-user\n        secretKey: supersecretpassword\n",
        ),
        (
            "apps/config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: app\ndata:\n  DATABASE_URL: postgres://app:pa55word@db.app.svc:5432/app\n  SAFE_URL: https://git.example.nl/x.git\n",
        ),
        (
            "apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [db-secret.yaml, sops-secret.yaml, release.yaml, config.yaml]\nsecretGenerator:\n  - name: api\n    literals:\n      - API_KEY=abcdef\n",
        ),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
    .collect();
    let report = validate::validate(
        &files,
        &MemorySchemas::default(),
        &Options {
            check_workloads: false,
            ..Default::default()
        },
    );
    let found: Vec<(String, u32, String, String)> = report
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity == Severity::Error
                && (d.message.contains("clear text") || d.message.contains("credentials"))
        })
        .map(|d| (d.file.clone(), d.line, d.object.clone(), d.path.clone()))
        .collect();
    let want = |f: &str, l: u32, o: &str, p: &str| (f.to_owned(), l, o.to_owned(), p.to_owned());
    assert_eq!(
        found,
        [
            want("apps/config.yaml", 7, "ConfigMap/app", "data.DATABASE_URL"),
            want("apps/db-secret.yaml", 7, "Secret/db", "data.password"),
            want("apps/db-secret.yaml", 9, "Secret/db", "stringData.token"),
            want(
                "apps/kustomization.yaml",
                6,
                "Kustomization/<unnamed>",
                "secretGenerator[0].literals"
            ),
            want(
                "apps/release.yaml",
                16,
                "HelmRelease/minio",
                "spec.values.users[0].accessKey"
            ),
            want(
                "apps/release.yaml",
                17,
                "HelmRelease/minio",
                "spec.values.users[0].secretKey"
            ),
        ],
        "{:#?}",
        report.diagnostics
    );
    // A SOPS-encrypted Secret is the way out, not a problem: no diagnostic at all.
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.file == "apps/sops-secret.yaml"),
        "{:#?}",
        report.diagnostics
    );
    let all: String = report.diagnostics.iter().map(|d| d.to_string()).collect();
    for secret in [
        "aHVudGVyMg",
        "abc123",
        "supersecretpassword",
        "pa55word",
        "abcdef",
        "logs-user",
    ] {
        assert!(!all.contains(secret), "{secret} printed: {all}");
    }
}
