//! `validate` catches what it promises to catch; tenants; diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haven_platform::config::Tenant;
use haven_platform::diff::{self, Change};
use haven_platform::validate::{self, Diagnostic, MemorySchemas, Options, SchemaSource};
use haven_platform::{Catalogue, PlatformConfig, Provider, render};
use serde_json::json;

/// A tiny stand-in for a CRD schema (shaped like the CRDs-catalog ones: no
/// additionalProperties anywhere), so these tests need no shared data.
fn schemas() -> MemorySchemas {
    let mut m = BTreeMap::new();
    m.insert(
        ("velero.io".into(), "schedule".into(), "v1".into()),
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {"type": "object", "required": ["schedule"], "properties": {
                    "schedule": {"type": "string"},
                    "template": {"type": "object", "properties": {
                        "ttl": {"type": "string"},
                        "includedNamespaces": {"type": "array", "items": {"type": "string"}}
                    }}
                }}
            }
        }),
    );
    MemorySchemas(m)
}

fn run(files: &[(&str, &str)], schemas: &dyn SchemaSource) -> Vec<Diagnostic> {
    let files: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
        .collect();
    validate::validate(&files, schemas, &Options::default()).diagnostics
}

const SCHEDULE: &str = "apiVersion: velero.io/v1
kind: Schedule
metadata:
  name: daily
  namespace: velero
spec:
  schedule: 0 2 * * *
  template:
    ttl: 168h0m0s
    includedNamespaces: [zaken]
";

const QUOTA: &str = "apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
  namespace: zaken
spec:
  hard:
    pods: \"10\"
";

#[test]
fn clean_objects_pass() {
    let d = run(
        &[("a/schedule.yaml", SCHEDULE), ("a/quota.yaml", QUOTA)],
        &schemas(),
    );
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn unknown_field_in_a_builtin_kind() {
    let text = QUOTA.replace("  hard:", "  hardd:\n    pods: \"1\"\n  hard:");
    let d = run(&[("q.yaml", &text)], &schemas());
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "spec.hardd");
    assert_eq!(d[0].line, 7);
    assert_eq!(d[0].object, "ResourceQuota/q");
    assert!(d[0].message.contains("unknown field"), "{}", d[0].message);
    let text = QUOTA.replace("  name: q", "  name: q\n  lables: {a: b}");
    let d = run(&[("q.yaml", &text)], &schemas());
    assert_eq!(d[0].path, "metadata.lables");
    assert_eq!(d[0].line, 5);
}

#[test]
fn wrong_type_in_a_builtin_kind() {
    let text = QUOTA.replace("pods: \"10\"", "pods: [10]");
    let d = run(&[("q.yaml", &text)], &schemas());
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].path.starts_with("spec.hard"), "{:?}", d[0]);
    assert_eq!(d[0].line, 8);
}

#[test]
fn unknown_field_in_a_custom_resource_with_a_suggestion() {
    let text = SCHEDULE.replace("    ttl:", "    tll:");
    let d = run(&[("s.yaml", &text)], &schemas());
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "spec.template.tll");
    assert_eq!(d[0].line, 9);
    assert!(
        d[0].message.contains("did you mean `ttl`"),
        "{}",
        d[0].message
    );
    // A schema that closes the object itself (as Flux's do) reports the same key once, not
    // once for its `additionalProperties: false` and again in the strict pass.
    let mut closed = schemas();
    for schema in closed.0.values_mut() {
        schema["properties"]["spec"]["properties"]["template"]["additionalProperties"] =
            json!(false);
    }
    let d = run(&[("s.yaml", &text)], &closed);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.contains("did you mean `ttl`"), "{d:#?}");
    // metadata of a custom resource is checked as ObjectMeta.
    let text = SCHEDULE.replace(
        "  namespace: velero",
        "  namespace: velero\n  annotation: {}",
    );
    let d = run(&[("s.yaml", &text)], &schemas());
    assert_eq!(d[0].path, "metadata.annotation", "{d:#?}");
}

#[test]
fn wrong_type_and_missing_field_in_a_custom_resource() {
    let text = SCHEDULE.replace("ttl: 168h0m0s", "ttl: 7");
    let d = run(&[("s.yaml", &text)], &schemas());
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "spec.template.ttl");
    assert_eq!(d[0].line, 9);
    let text = SCHEDULE.replace("  schedule: 0 2 * * *\n", "");
    let d = run(&[("s.yaml", &text)], &schemas());
    assert!(d[0].message.contains("schedule"), "{d:#?}");
    assert_eq!(d[0].line, 6);
}

#[test]
fn a_custom_resource_without_schema_is_an_error() {
    let d = run(&[("s.yaml", SCHEDULE)], &MemorySchemas::default());
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.contains("no schema for velero.io/v1 Schedule"),
        "{}",
        d[0].message
    );
    assert!(d[0].message.contains("--crd-schemas"));
    // Many objects of a kind without a schema: one message, at the first, with the count.
    let more = SCHEDULE.replace("name: daily", "name: weekly");
    let d = run(
        &[
            ("a.yaml", SCHEDULE),
            ("b.yaml", &more),
            ("c.yaml", SCHEDULE),
        ],
        &MemorySchemas::default(),
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].file.as_str(), d[0].line), ("a.yaml", 1));
    assert!(
        d[0].message
            .ends_with("[3 objects of this kind: this one and 2 more]"),
        "{}",
        d[0].message
    );
}

/// A source that knows a kind's CRD: its versions, served or not, deprecated or not.
struct Versions(MemorySchemas);

impl SchemaSource for Versions {
    fn crd_schema(
        &self,
        group: &str,
        kind: &str,
        version: &str,
    ) -> Result<Option<serde_json::Value>, validate::SchemaError> {
        self.0.crd_schema(group, kind, version)
    }
    fn describe(&self) -> String {
        "test".into()
    }
    fn crd_kind(&self, group: &str, kind: &str) -> Option<validate::CrdKind> {
        let v = |name: &str, served: bool, deprecated: Option<&str>| validate::CrdVersion {
            name: name.into(),
            served,
            deprecated: deprecated.map(Into::into),
        };
        (group == "velero.io" && kind == "schedule").then(|| validate::CrdKind {
            installed_by: "velero 12.1.0".into(),
            versions: vec![
                v("v1", true, Some("use v2")),
                v("v1alpha1", false, None),
                v("v2", true, None),
            ],
        })
    }
}

#[test]
fn versions_a_crd_does_not_serve_or_deprecates_are_reported() {
    let s = Versions(schemas());
    let d = run(&[("s.yaml", SCHEDULE)], &s);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].severity, validate::Severity::Warning);
    assert_eq!(
        d[0].message,
        "velero.io/v1 Schedule is deprecated (velero 12.1.0): use v2"
    );
    let old = SCHEDULE.replace("velero.io/v1", "velero.io/v1alpha1");
    let d = run(&[("s.yaml", &old)], &s);
    assert_eq!(
        d[0].message,
        "velero.io/v1alpha1 Schedule is not served by the CRD of velero 12.1.0; it serves \
         velero.io/v1, velero.io/v2"
    );
    let none = SCHEDULE.replace("velero.io/v1", "velero.io/v3");
    let d = run(&[("s.yaml", &none)], &s);
    assert_eq!(
        d[0].message,
        "velero.io/v3 Schedule does not exist in the CRD of velero 12.1.0, which serves \
         velero.io/v1, velero.io/v2"
    );
}

#[test]
fn bad_documents_do_not_hide_the_good_ones() {
    let text = format!(
        "{QUOTA}---\nkind: [broken\n---\n{}",
        QUOTA.replace("pods: \"10\"", "pods: [1]")
    );
    let d = run(&[("q.yaml", &text)], &schemas());
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d.iter().any(|d| d.message.contains("YAML")), "{d:#?}");
    assert!(
        d.iter()
            .any(|d| d.line == 19 && d.path.starts_with("spec.hard")),
        "{d:#?}"
    );
}

#[test]
fn the_trees_wiring_is_checked() {
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- quota.yaml\n- missing.yaml\n";
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: a, namespace: flux-system}
spec:
  interval: 10m
  path: ./infrastructure/nowhere
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  dependsOn:
  - name: b
";
    let mut s = schemas();
    s.0.insert(
        (
            "kustomize.toolkit.fluxcd.io".into(),
            "kustomization".into(),
            "v1".into(),
        ),
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    );
    let d = run(
        &[
            ("x/kustomization.yaml", kustomization),
            ("x/quota.yaml", QUOTA),
            ("c/infra.yaml", flux),
        ],
        &s,
    );
    let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(d.len(), 4, "{msgs:#?}");
    // Its source is not in the tree either.
    assert!(
        msgs.iter().any(|m| m.contains("c/infra.yaml:8")
            && m.contains("GitRepository `flux-system/flux-system`, which is not in the tree")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("x/kustomization.yaml:5") && m.contains("missing.yaml")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("c/infra.yaml:6") && m.contains("nowhere")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("c/infra.yaml:10") && m.contains("flux-system/b")),
        "{msgs:#?}"
    );
}

#[test]
fn helm_releases_must_name_a_source_of_the_tree() {
    let mut s = schemas();
    for (g, k, v) in [
        ("helm.toolkit.fluxcd.io", "helmrelease", "v2"),
        ("source.toolkit.fluxcd.io", "helmrepository", "v1"),
        ("source.toolkit.fluxcd.io", "ocirepository", "v1"),
    ] {
        s.0.insert(
            (g.into(), k.into(), v.into()),
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    }
    let sources = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: grafana, namespace: loki}
spec: {url: https://grafana.github.io/helm-charts}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: loki, namespace: loki}
spec: {url: oci://ghcr.io/grafana-community/helm-charts/loki}
";
    let releases = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ok, namespace: loki}
spec:
  chartRef: {kind: OCIRepository, name: loki}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: typo, namespace: loki}
spec:
  chart:
    spec:
      chart: loki
      sourceRef: {kind: HelmRepository, name: grafna}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: elsewhere, namespace: tempo}
spec:
  chartRef: {kind: OCIRepository, name: loki}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cross, namespace: tempo}
spec:
  chartRef: {kind: OCIRepository, name: loki, namespace: loki}
";
    let d = run(&[("s.yaml", sources), ("r.yaml", releases)], &s);
    let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(
        msgs[0].contains("r.yaml:14")
            && msgs[0].contains("HelmRelease/typo")
            && msgs[0].contains("HelmRepository `loki/grafna`"),
        "{msgs:#?}"
    );
    assert!(
        msgs[1].contains("r.yaml:20") && msgs[1].contains("OCIRepository `tempo/loki`"),
        "{msgs:#?}"
    );
}

#[test]
fn flux_api_versions_other_than_the_stable_ones_are_flagged() {
    let mut s = schemas();
    s.0.insert(
        (
            "helm.toolkit.fluxcd.io".into(),
            "helmrelease".into(),
            "v2beta1".into(),
        ),
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    );
    let old = "apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata: {name: old, namespace: loki}
spec: {interval: 5m}
";
    let d = run(&[("old.yaml", old)], &s);
    let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert!(
        msgs[0].contains("old.yaml:1: warning")
            && msgs[0].contains("use `helm.toolkit.fluxcd.io/v2`"),
        "{msgs:#?}"
    );
}

#[test]
fn workloads_in_the_tree_pass_haven_app_check() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: zaken}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext: {privileged: true}\n";
    let d = run(&[("p.yaml", pod)], &schemas());
    assert!(
        d.iter().any(|d| d.message.contains("pss.privileged")),
        "{d:#?}"
    );
}

#[test]
fn unsupported_kubernetes_versions_are_refused() {
    let files = BTreeMap::from([(PathBuf::from("q.yaml"), QUOTA.to_owned())]);
    let opts = Options {
        kubernetes_version: "1.30".into(),
        ..Default::default()
    };
    let r = validate::validate(&files, &schemas(), &opts);
    assert_eq!(r.errors(), 1);
    assert!(r.diagnostics[0].message.contains("1.30"));
    // A minor newer than the build: say so, rather than "not supported".
    let opts = Options {
        kubernetes_version: "1.38".into(),
        ..Default::default()
    };
    let r = validate::validate(&files, &schemas(), &opts);
    assert_eq!(r.errors(), 1);
    assert!(
        r.diagnostics[0]
            .message
            .contains("1.38 is newer than this build knows")
            && r.diagnostics[0].message.contains("1.35, 1.36, 1.37"),
        "{:?}",
        r.diagnostics[0]
    );
}

fn run_on(minor: &str, files: &[(&str, &str)]) -> Vec<Diagnostic> {
    let files: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
        .collect();
    let opts = Options {
        kubernetes_version: minor.into(),
        check_workloads: false,
    };
    validate::validate(&files, &schemas(), &opts).diagnostics
}

/// A Job with `spec.scheduling`, which Kubernetes 1.37 added.
const JOB: &str = "apiVersion: batch/v1
kind: Job
metadata:
  name: j
  namespace: zaken
spec:
  scheduling: {}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: registry.example/c:1
";

#[test]
fn every_supported_minor_validates_against_its_own_api() {
    for minor in validate::SUPPORTED_KUBERNETES {
        let d = run_on(minor, &[("q.yaml", QUOTA)]);
        assert!(d.is_empty(), "{minor}: {d:#?}");
    }
    assert!(run_on("1.37", &[("job.yaml", JOB)]).is_empty());
    // The field that does not exist in the chosen minor is an error naming that minor and the
    // minors that have it.
    for minor in ["1.35", "1.36"] {
        let d = run_on(minor, &[("job.yaml", JOB)]);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!((d[0].path.as_str(), d[0].line), ("spec.scheduling", 7));
        assert_eq!(
            d[0].message,
            format!(
                "unknown field `spec.scheduling` for batch/v1 Job in Kubernetes {minor} \
                 (it exists in Kubernetes 1.37)"
            )
        );
    }
}

#[test]
fn kinds_and_versions_a_minor_does_not_serve_are_errors() {
    let cidr = "apiVersion: networking.k8s.io/v1beta1
kind: ServiceCIDR
metadata:
  name: extra
spec:
  cidrs: [10.96.0.0/16]
";
    assert!(run_on("1.36", &[("cidr.yaml", cidr)]).is_empty());
    let d = run_on("1.37", &[("cidr.yaml", cidr)]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        d[0].message,
        "networking.k8s.io/v1beta1 ServiceCIDR does not exist in Kubernetes 1.37; ServiceCIDR is \
         served there as networking.k8s.io/v1 (it exists in Kubernetes 1.35, 1.36)"
    );
    assert_eq!((d[0].path.as_str(), d[0].line), ("apiVersion", 1));
    // A version no minor has.
    let typo = JOB.replace("batch/v1", "batch/v2");
    let d = run_on("1.37", &[("job.yaml", &typo)]);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        d[0].message,
        "batch/v2 Job does not exist in Kubernetes 1.37; Job is served there as batch/v1"
    );
    // Every built-in kind is known, not only the ones haven renders.
    let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
";
    assert!(run_on("1.35", &[("crd.yaml", crd)]).is_empty());
}

fn config_with_tenant(repo: Option<&str>) -> PlatformConfig {
    let mut c = PlatformConfig::new("haven", "example.nl", Provider::Kind);
    c.tenants.push(Tenant {
        name: "zaken".into(),
        group: "oidc:zaken".into(),
        repo: repo.map(str::to_owned),
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    });
    c
}

#[test]
fn a_tenant_gets_its_namespace_policies_rbac_sync_and_backup() {
    let files = render(
        &config_with_tenant(Some("https://git.example.nl/zaken.git")),
        &Catalogue::builtin().unwrap(),
    )
    .files;
    let text = |p: &str| {
        files
            .get(Path::new(p))
            .unwrap_or_else(|| panic!("no {p}"))
            .clone()
    };
    let ns = text("tenants/zaken/namespace.yaml");
    assert!(ns.contains("pod-security.kubernetes.io/enforce: restricted"));
    let quota = text("tenants/zaken/quota.yaml");
    assert!(quota.contains("kind: ResourceQuota") && quota.contains("kind: LimitRange"));
    assert!(quota.contains("limits.memory: 16Gi"), "{quota}");
    let rbac = text("tenants/zaken/rbac.yaml");
    assert!(
        rbac.contains("name: oidc:zaken") && rbac.contains("kind: Group"),
        "{rbac}"
    );
    assert!(rbac.contains("kind: ServiceAccount"));
    let np = text("tenants/zaken/network-policies.yaml");
    assert!(np.contains("name: default-deny"));
    assert!(np.contains("name: allow-from-envoy-gateway-system"), "{np}");
    let sync = text("tenants/zaken/sync.yaml");
    assert!(sync.contains("url: https://git.example.nl/zaken.git"));
    assert!(sync.contains("serviceAccountName: flux-reconciler"));
    assert!(
        sync.contains("namespace: flux-system"),
        "dependsOn the admission policy: {sync}"
    );
    let backup = text("infrastructure/tenant-backups/schedules.yaml");
    assert!(
        backup.contains("ttl: 168h0m0s") && backup.contains("- zaken"),
        "{backup}"
    );
    let k = text("tenants/kustomization.yaml");
    assert!(k.contains("- zaken"));
    // Without a repository there is nothing to sync.
    let files = render(&config_with_tenant(None), &Catalogue::builtin().unwrap()).files;
    assert!(!files.contains_key(Path::new("tenants/zaken/sync.yaml")));
    assert!(
        !files
            .get(Path::new("tenants/zaken/kustomization.yaml"))
            .unwrap()
            .contains("sync.yaml")
    );
}

#[test]
fn tenant_add_keeps_the_comments_of_the_config() {
    let init = haven_platform::config::init_yaml(&PlatformConfig::new(
        "haven",
        "example.nl",
        Provider::Kind,
    ));
    let t = Tenant {
        name: "zaken".into(),
        group: "g".into(),
        repo: None,
        repo_secret_ref: None,
        branch: None,
        path: None,
        quota: Default::default(),
        admission: Default::default(),
        policy: Default::default(),
    };
    let once = haven_platform::tenant::append_to_config_text(&init, &t).unwrap();
    assert!(once.contains("# Every capability is on by default"));
    let t2 = Tenant {
        name: "belasting".into(),
        ..t
    };
    let twice = haven_platform::tenant::append_to_config_text(&once, &t2).unwrap();
    let (c, _) =
        haven_platform::config::parse("x", &twice, &Catalogue::builtin().unwrap()).unwrap();
    assert_eq!(
        c.tenants
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["zaken", "belasting"]
    );
    // When `tenants` is not last, the caller falls back to re-serialising.
    assert!(
        haven_platform::tenant::append_to_config_text("tenants: []\nversion: 1\n", &t2).is_none()
    );
}

#[test]
fn diff_reports_added_removed_and_changed_files() {
    let cat = Catalogue::builtin().unwrap();
    let old = render(&config_with_tenant(None), &cat).files;
    assert!(diff::diff(&old, &old).is_empty());
    let mut c = config_with_tenant(None);
    c.capabilities.intrusion_detection.enabled = false;
    c.capabilities.backups.ttl = "72h0m0s".into();
    let mut existing = old.clone();
    existing.insert(PathBuf::from("README.md"), "not managed".into());
    let new = render(&c, &cat).files;
    let changes = diff::diff(&new, &existing);
    assert!(changes.contains(&Change::Removed(PathBuf::from(
        "infrastructure/falco/release.yaml"
    ))));
    assert!(
        !changes
            .iter()
            .any(|c| matches!(c, Change::Removed(p) if p == Path::new("README.md")))
    );
    let changed = changes
        .iter()
        .find_map(|c| match c {
            Change::Changed(p, d)
                if p == Path::new("infrastructure/tenant-backups/schedules.yaml") =>
            {
                Some(d.clone())
            }
            _ => None,
        })
        .expect("backup schedule changed");
    assert!(
        changed.contains("-    ttl: 168h0m0s") && changed.contains("+    ttl: 72h0m0s"),
        "{changed}"
    );
    let text = diff::format(&changes);
    assert!(text.contains("- infrastructure/falco/release.yaml"));
    assert!(text.contains("~ infrastructure/tenant-backups/schedules.yaml"));
    c.capabilities.intrusion_detection.enabled = true;
    c.capabilities.backups.ttl = "168h0m0s".into();
    let back = diff::diff(&old, &new);
    assert!(back.contains(&Change::Added(PathBuf::from(
        "infrastructure/falco/release.yaml"
    ))));
}

#[test]
fn the_platform_schedule_never_backs_up_everything() {
    let cat = Catalogue::builtin().unwrap();
    let c = PlatformConfig::new("haven", "example.nl", Provider::Kind);
    let files = render(&c, &cat).files;
    let s = &files[Path::new("infrastructure/velero-config/schedules.yaml")];
    assert!(s.contains("- openbao") && !s.contains("- garage"), "{s}");
    let mut c = c;
    c.capabilities.dashboards.enabled = false;
    c.capabilities.identity.enabled = false;
    c.capabilities.secrets.backend = haven_platform::config::SecretsBackend::SealedSecrets;
    let files = render(&c, &cat).files;
    assert!(!files.contains_key(Path::new("infrastructure/velero-config/schedules.yaml")));
    let infra = &files[Path::new("clusters/haven/infrastructure.yaml")];
    assert!(!infra.contains("velero-config"), "{infra}");
}
