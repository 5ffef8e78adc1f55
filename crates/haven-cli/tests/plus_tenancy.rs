//! Tenancy and identities of `haven plus` as an operator meets them: the rendered tree carries
//! Flux's multi-tenancy lockdown and reconciles the platform under it, tenants are confined to
//! their namespace, reserved names are refused, and `plus validate` catches each seeded defect
//! naming the objects involved.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const PROVIDERS: [&str; 6] = ["generic", "kind", "previder", "cyso", "ovh", "azure"];

fn haven(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_haven"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str]) {
    let (code, out, err) = haven(dir, args);
    assert_eq!(code, 0, "haven {args:?}: {out}{err}");
}

/// init, `tenant add zaken` and render.
fn platform(provider: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "plus",
            "init",
            "--provider",
            provider,
            "--domain",
            "example.nl",
        ],
    );
    ok(
        dir,
        &[
            "plus",
            "tenant",
            "add",
            "zaken",
            "--group",
            "zaken-devs",
            "--repo",
            "https://git.example.nl/zaken/deploy.git",
        ],
    );
    ok(dir, &["plus", "render"]);
    tmp
}

/// `plus validate --format json .`: exit code and the errors as `check object: message`.
fn validate(dir: &Path) -> (i32, Vec<String>) {
    let (code, out, err) = haven(dir, &["plus", "validate", "--format", "json", "."]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    let errors = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            format!(
                "{} {} {}:{}: {}",
                d["check"].as_str().unwrap(),
                d["object"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"],
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    (code, errors)
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let text = read(dir, file);
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {file}");
    std::fs::write(dir.join(file), text.replace(from, to)).unwrap();
}

fn append(dir: &Path, file: &str, docs: &str) {
    let text = read(dir, file);
    std::fs::write(dir.join(file), format!("{text}---\n{docs}")).unwrap();
}

/// A copy of a rendered tree, to seed one defect in.
fn copy(tree: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", tree.display()))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    tmp
}

#[test]
fn every_provider_with_a_tenant_renders_the_lockdown_and_validates_clean() {
    for provider in PROVIDERS {
        let tmp = platform(provider);
        let dir = tmp.path();
        let (code, errors) = validate(dir);
        assert_eq!((code, &errors), (0, &Vec::new()), "{provider}");
        let k = read(dir, "clusters/haven/flux-system/kustomization.yaml");
        for flag in [
            "--no-cross-namespace-refs=true",
            "--no-remote-bases=true",
            "--default-service-account=default",
        ] {
            assert!(k.contains(flag), "{provider}: {flag}\n{k}");
        }
        let release = read(dir, "infrastructure/cert-manager/release.yaml");
        for line in [
            "  namespace: flux-system\n",
            "  serviceAccountName: helm-controller\n",
            "  targetNamespace: cert-manager\n",
            "  storageNamespace: cert-manager\n",
        ] {
            assert!(release.contains(line), "{provider}: {line}\n{release}");
        }
        let units = read(dir, "clusters/haven/infrastructure.yaml");
        assert_eq!(
            units.matches("kind: Kustomization\n").count(),
            units
                .matches("  serviceAccountName: kustomize-controller\n")
                .count(),
            "{provider}: every platform unit names kustomize-controller\n{units}"
        );
        let ns = read(dir, "tenants/zaken/namespace.yaml");
        for label in [
            "haven.commonground.nl/haven: enforce",
            "haven.commonground.nl/plus: enforce",
            "haven.commonground.nl/tenant: zaken",
        ] {
            assert!(ns.contains(label), "{provider}: {label}\n{ns}");
        }
        assert!(
            read(dir, "tenants/zaken/sync.yaml").contains("serviceAccountName: flux-reconciler")
        );
    }
}

#[test]
fn the_admission_level_is_configurable_per_tenant() {
    let tmp = platform("kind");
    let dir = tmp.path();
    edit(
        dir,
        "haven-plus.yaml",
        "- name: zaken\n",
        "- name: zaken\n  admission:\n    plus: warn\n",
    );
    ok(dir, &["plus", "render"]);
    let ns = read(dir, "tenants/zaken/namespace.yaml");
    assert!(ns.contains("haven.commonground.nl/haven: enforce"), "{ns}");
    assert!(ns.contains("haven.commonground.nl/plus: warn"), "{ns}");
    edit(dir, "haven-plus.yaml", "plus: warn", "plus: strict");
    let (code, _, err) = haven(dir, &["plus", "render"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("haven-plus.yaml:"), "{err}");
    assert!(err.contains("tenants[0].admission.plus"), "{err}");
}

#[test]
fn tenant_add_refuses_system_and_platform_namespaces() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "plus",
            "init",
            "--provider",
            "kind",
            "--domain",
            "example.nl",
        ],
    );
    let before = read(dir, "haven-plus.yaml");
    for (name, why) in [
        ("kube-system", "`kube-*` namespaces belong to Kubernetes"),
        (
            "kube-node-lease",
            "`kube-*` namespaces belong to Kubernetes",
        ),
        ("default", "Kubernetes' own namespace"),
        ("flux-system", "Flux's namespace"),
        (
            "cert-manager",
            "the namespace of the platform component `cert-manager`",
        ),
        // Off on this platform, but a later config may turn it on.
        (
            "kyverno",
            "the namespace of the platform component `kyverno`",
        ),
    ] {
        let (code, _, err) = haven(dir, &["plus", "tenant", "add", name, "--group", "g"]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(
            err.starts_with(&format!("haven: error: tenant name `{name}` is reserved: ")),
            "{err}"
        );
        assert!(err.contains(why), "{name}: {err}");
        assert!(
            err.contains("(haven-plus.yaml, field `tenants[0].name`, flag <NAME>)"),
            "{err}"
        );
        assert_eq!(read(dir, "haven-plus.yaml"), before, "config unchanged");
        assert!(!dir.join("tenants").exists(), "nothing written");
    }
    // In the config by hand: its file, line and field.
    std::fs::write(
        dir.join("haven-plus.yaml"),
        before.replace(
            "tenants: []\n",
            "tenants:\n- name: zaken\n  group: g\n- name: flux-system\n  group: g\n",
        ),
    )
    .unwrap();
    let (code, _, err) = haven(dir, &["plus", "render"]);
    assert_eq!(code, 2, "{err}");
    let line = before.lines().count() + 3;
    assert!(
        err.contains(
            "haven: error: tenant name `flux-system` is reserved: `flux-system` is Flux's namespace"
        ) && err.contains(&format!(
            "(haven-plus.yaml:{line}, field `tenants[1].name`)"
        )),
        "{err}"
    );
}

/// Operator review 2, finding 1: a host name has one owner. `tenant add` refuses a name that
/// overlaps another tenant's (given, or the default `<tenant>.<domain>`, `*.<tenant>.<domain>`)
/// naming the flag and key, writes nothing, and the rendered Namespaces deny each tenant the
/// others' names.
#[test]
fn tenant_add_refuses_host_names_of_another_tenant() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "plus",
            "init",
            "--provider",
            "kind",
            "--domain",
            "example.nl",
        ],
    );
    ok(dir, &["plus", "tenant", "add", "zaken", "--group", "g"]);
    ok(
        dir,
        &[
            "plus",
            "tenant",
            "add",
            "app",
            "--group",
            "g",
            "--hostname",
            "app.gemeente.nl",
        ],
    );
    let before = read(dir, "haven-plus.yaml");
    for (args, field, flag, taken) in [
        (
            &[
                "zaken2",
                "--hostname",
                "own.example.nl",
                "--hostname",
                "www.zaken.example.nl",
            ][..],
            "tenants[2].policy.hostnames[1]",
            "--hostname",
            "overlaps `*.zaken.example.nl`, a host name of tenant `zaken` (its default)",
        ),
        (
            &["app2", "--hostname", "*.gemeente.nl"][..],
            "tenants[2].policy.hostnames[0]",
            "--hostname",
            "overlaps `app.gemeente.nl`, a host name of tenant `app`:",
        ),
    ] {
        let mut argv = vec!["plus", "tenant", "add"];
        argv.extend_from_slice(args);
        argv.extend(["--group", "g"]);
        let (code, _, err) = haven(dir, &argv);
        assert_eq!(code, 2, "{argv:?}: {err}");
        assert!(err.starts_with("haven: error: `"), "{err}");
        assert!(err.contains(taken), "{argv:?}: {err}");
        assert!(
            err.contains(&format!("(haven-plus.yaml, field `{field}`, flag {flag})")),
            "{argv:?}: {err}"
        );
        assert_eq!(read(dir, "haven-plus.yaml"), before, "config unchanged");
    }
    // A name below another tenant's default is refused too.
    ok(
        dir,
        &[
            "plus",
            "tenant",
            "add",
            "web",
            "--group",
            "g",
            "--hostname",
            "*.portal.example.nl",
        ],
    );
    let (code, _, err) = haven(dir, &["plus", "tenant", "add", "x", "--group", "g"]);
    assert_eq!(code, 0, "{err}");
    // A default that another tenant's names overlap: refused on the tenant's name.
    let (code, _, err) = haven(dir, &["plus", "tenant", "add", "portal", "--group", "g"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(
            "haven: error: the default host name `*.portal.example.nl` overlaps `*.portal.example.nl`, a host name of tenant `web`"
        ) && err.contains("field `tenants[4].name`, flag <NAME>"),
        "{err}"
    );
    let (code, _, err) = haven(
        dir,
        &[
            "plus",
            "tenant",
            "add",
            "late",
            "--group",
            "g",
            "--hostname",
            "a.x.example.nl",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("overlaps `*.x.example.nl`, a host name of tenant `x` (its default)")
            && err.contains("field `tenants[4].policy.hostnames[0]`, flag --hostname"),
        "{err}"
    );

    ok(dir, &["plus", "render"]);
    let ns = read(dir, "tenants/zaken/namespace.yaml");
    assert!(
        ns.contains("haven.commonground.nl/allowed-hostnames: zaken.example.nl,*.zaken.example.nl"),
        "{ns}"
    );
    let denied = ns
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("haven.commonground.nl/denied-hostnames: ")
        })
        .unwrap_or_else(|| panic!("{ns}"));
    for other in [
        "app.gemeente.nl",
        "*.portal.example.nl",
        "x.example.nl",
        "*.x.example.nl",
    ] {
        assert!(
            denied.split(',').any(|d| d == other),
            "{other} not in {denied}"
        );
    }
    assert!(!denied.contains("zaken"), "{denied}");

    let (_, help, _) = haven(dir, &["plus", "tenant", "add", "--help"]);
    assert!(
        help.contains("<NAME>.<domain>") && help.contains("`*.<domain>`"),
        "{help}"
    );
}

#[test]
fn validate_catches_each_seeded_tenancy_defect() {
    let rendered = platform("kind");
    let base = rendered.path();
    let (code, errors) = validate(base);
    assert_eq!((code, errors), (0, Vec::new()));

    // A tenant named like a system namespace, written into the tree by hand.
    let t = copy(base);
    let dir = t.path();
    std::fs::create_dir(dir.join("tenants/kube-system")).unwrap();
    for f in ["namespace.yaml", "quota.yaml", "kustomization.yaml"] {
        std::fs::write(
            dir.join("tenants/kube-system").join(f),
            read(dir, &format!("tenants/zaken/{f}"))
                .replace("zaken", "kube-system")
                .replace("- rbac.yaml\n", "")
                .replace("- network-policies.yaml\n", "")
                .replace("- sync.yaml\n", "")
                .replace("- backup.yaml\n", ""),
        )
        .unwrap();
    }
    edit(
        dir,
        "tenants/kustomization.yaml",
        "- zaken\n",
        "- zaken\n- kube-system\n",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    // (The flow proof also sees tenant `kube-system`'s DNS reachable from zaken.)
    let errors: Vec<String> = errors
        .into_iter()
        .filter(|e| !e.starts_with("flows "))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("tenancy Namespace/kube-system tenants/kube-system/namespace.yaml:"),
        "{errors:#?}"
    );
    assert!(errors[0].contains("`kube-*` namespaces belong to Kubernetes"));

    // Each lockdown flag removed.
    for (flag, controllers) in [
        (
            "--no-cross-namespace-refs=true",
            &[
                "kustomize-controller",
                "helm-controller",
                "notification-controller",
            ][..],
        ),
        ("--no-remote-bases=true", &["kustomize-controller"][..]),
        (
            "--default-service-account=default",
            &["kustomize-controller", "helm-controller"][..],
        ),
    ] {
        let t = copy(base);
        let dir = t.path();
        edit(
            dir,
            "clusters/haven/flux-system/kustomization.yaml",
            &format!("value: {flag}"),
            "value: --log-level=info",
        );
        let (code, errors) = validate(dir);
        assert_eq!(code, 1, "{flag}");
        let tenancy: Vec<&String> = errors
            .iter()
            .filter(|e| e.starts_with("tenancy "))
            .collect();
        assert_eq!(tenancy.len(), controllers.len(), "{flag}: {errors:#?}");
        for c in controllers {
            assert!(
                tenancy.iter().any(|e| e.starts_with(&format!(
                    "tenancy Deployment/flux-system/{c} clusters/haven/flux-system/kustomization.yaml:"
                )) && e.contains(flag)),
                "{flag} {c}: {errors:#?}"
            );
        }
        if flag.starts_with("--default-service-account") {
            // Without a default service account, the lockdown no longer names who reconciles
            // the tenant's objects: the Kustomization has one, so it stays confined.
            assert_eq!(errors.len(), tenancy.len(), "{errors:#?}");
        }
    }

    // A tenant Kustomization without serviceAccountName.
    let t = copy(base);
    let dir = t.path();
    edit(
        dir,
        "tenants/zaken/sync.yaml",
        "  serviceAccountName: flux-reconciler\n",
        "",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("identities Kustomization/zaken/zaken tenants/zaken/sync.yaml:"),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains("has no serviceAccountName"),
        "{errors:#?}"
    );

    // A tenant bound to cluster-admin.
    let t = copy(base);
    let dir = t.path();
    append(
        dir,
        "tenants/zaken/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: zaken-cluster-admin}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: Group, name: zaken-devs}]\n",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with(
            "identities ClusterRoleBinding/zaken-cluster-admin tenants/zaken/rbac.yaml:"
        ),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains("Group zaken-devs") && errors[0].contains("ClusterRole cluster-admin"),
        "{errors:#?}"
    );

    // A tenant bound (in its namespace) to a role that a chart's role aggregates into.
    let t = copy(base);
    let dir = t.path();
    append(
        dir,
        "tenants/zaken/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: platform-operator}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {example.nl/aggregate-to-operator: \"true\"}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: chart-manager, labels: {example.nl/aggregate-to-operator: \"true\"}}\nrules: [{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles, roles], verbs: [bind, escalate]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: operator, namespace: zaken}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}\nsubjects: [{kind: ServiceAccount, name: flux-reconciler, namespace: zaken}]\n",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("identities RoleBinding/zaken/operator tenants/zaken/rbac.yaml:"),
        "{errors:#?}"
    );
    for part in [
        "ServiceAccount zaken/flux-reconciler",
        "may escalate",
        "may bind roles",
        "aggregated into it from ClusterRole chart-manager",
    ] {
        assert!(errors[0].contains(part), "{part}: {errors:#?}");
    }

    // A tenant reading another tenant's Secrets.
    let t = copy(base);
    let dir = t.path();
    ok(
        dir,
        &[
            "plus",
            "tenant",
            "add",
            "belasting",
            "--group",
            "belasting-devs",
        ],
    );
    append(
        dir,
        "tenants/belasting/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: zaken-can-look, namespace: belasting}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: Group, name: zaken-devs}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: secrets, namespace: belasting}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: zaken-secrets, namespace: belasting}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets}\nsubjects: [{kind: Group, name: zaken-devs}]\n",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let secrets = errors
        .iter()
        .find(|e| e.starts_with("identities RoleBinding/belasting/zaken-secrets "))
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert!(
        secrets.contains("tenant `zaken`: Group zaken-devs")
            && secrets.contains("may read Secrets outside its namespaces"),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(
            |e| e.starts_with("identities RoleBinding/belasting/zaken-can-look ")
                && e.contains("may read objects outside its namespaces")
        ),
        "{errors:#?}"
    );

    // A platform HelmRelease that would reconcile as the lockdown's default (no rights).
    let t = copy(base);
    let dir = t.path();
    edit(
        dir,
        "infrastructure/loki/release.yaml",
        "  serviceAccountName: helm-controller\n",
        "",
    );
    let (code, errors) = validate(dir);
    assert_eq!(code, 1);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0]
            .starts_with("tenancy HelmRelease/flux-system/loki infrastructure/loki/release.yaml:")
            && errors[0].contains("ServiceAccount flux-system/default"),
        "{errors:#?}"
    );
}

/// The labels a tenant's Namespace carries are read by the webhook as the modes the config
/// gives: the same keys and values as `haven admission serve` reads.
#[test]
fn the_webhook_reads_the_tenant_namespace_labels_as_configured() {
    use haven_admission::policy::namespace_policy;
    let tmp = platform("kind");
    let dir = tmp.path();
    let labels = |dir: &Path| -> std::collections::BTreeMap<String, String> {
        let text = read(dir, "tenants/zaken/namespace.yaml");
        let doc = haven_model::parse_stream("namespace.yaml", &text)
            .remove(0)
            .unwrap();
        serde_json::from_value(doc.value["metadata"]["labels"].clone()).unwrap()
    };
    // Defaults that apply nothing: what the webhook does comes from the labels alone.
    let defaults = haven_admission::config::Defaults {
        haven: "off".into(),
        plus: "off".into(),
        ..Default::default()
    };
    let p = namespace_policy(Some(&labels(dir)), &defaults);
    assert!(p.enforce.haven && p.enforce.plus, "{p:?}");
    edit(
        dir,
        "haven-plus.yaml",
        "- name: zaken\n",
        "- name: zaken\n  admission: {haven: audit, plus: off}\n",
    );
    ok(dir, &["plus", "render"]);
    let p = namespace_policy(Some(&labels(dir)), &defaults);
    assert!(!p.enforce.haven && !p.enforce.plus, "{p:?}");
    assert!(p.audit.haven && !p.audit.plus && !p.warn.plus, "{p:?}");
}
