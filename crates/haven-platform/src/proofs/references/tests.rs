use super::*;
use crate::proofs::test_support::{objects, seen};

fn run(l: &Landscape<'_>) -> Vec<Problem> {
    prove(l, &crate::Catalogue::builtin().unwrap())
}

fn errors(ps: &[Problem]) -> Vec<&Problem> {
    ps.iter()
        .filter(|p| p.severity == Severity::Error)
        .collect()
}

fn warnings(ps: &[Problem]) -> Vec<&Problem> {
    ps.iter()
        .filter(|p| p.severity == Severity::Warning)
        .collect()
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\n";

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
        env:
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: db-creds, key: password}
";

const DB_CREDS: &str = "---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: db-creds, namespace: app}
spec:
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: db-creds}
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: vault}
spec: {provider: {fake: {data: []}}}
";

#[test]
fn a_missing_referenced_secret_is_an_error_naming_referrer_field_and_secret() {
    let objs = objects(&format!("{NS}{WEB}"));
    let ps = run(&seen(&objs));
    let errs = errors(&ps);
    assert_eq!(errs.len(), 1, "{ps:#?}");
    let e = errs[0];
    assert_eq!(e.check, Check::References);
    assert_eq!(e.object, "Deployment/app/web");
    assert_eq!(
        e.path,
        "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name"
    );
    assert!(e.message.contains("Secret app/db-creds"), "{}", e.message);
    assert_eq!(e.line, 17, "the line of the secretKeyRef name");
}

#[test]
fn a_secret_an_external_secret_makes_is_there_and_consumed() {
    let objs = objects(&format!("{NS}{WEB}{DB_CREDS}"));
    let ps = run(&seen(&objs));
    assert!(ps.is_empty(), "{ps:#?}");
}

#[test]
fn an_unconsumed_external_secret_is_a_warning() {
    let objs = objects(&format!("{NS}{DB_CREDS}"));
    let ps = run(&seen(&objs));
    assert!(errors(&ps).is_empty(), "{ps:#?}");
    let w = warnings(&ps);
    assert_eq!(w.len(), 1, "{ps:#?}");
    assert_eq!(w[0].object, "ExternalSecret/app/db-creds");
    assert_eq!(w[0].path, "spec.target.name");
    assert!(
        w[0].message.contains("Secret app/db-creds") && w[0].message.contains("consumes"),
        "{}",
        w[0].message
    );
    // A chart's values naming it (`existingSecret: db-creds`) consume it.
    let with_values = format!(
        "{NS}{DB_CREDS}---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: app}}\nspec:\n  values: {{auth: {{existingSecret: db-creds}}}}\n"
    );
    let objs = objects(&with_values);
    assert!(run(&seen(&objs)).is_empty());
}

#[test]
fn optional_references_are_not_judged() {
    let text = format!("{NS}{WEB}").replace(
        "{name: db-creds, key: password}",
        "{name: db-creds, key: password, optional: true}",
    );
    let objs = objects(&text);
    assert!(run(&seen(&objs)).is_empty());
}

#[test]
fn a_missing_secret_store_and_a_missing_backend_service_are_errors() {
    let text = format!(
        "{NS}{DB_CREDS}{WEB}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: app}}
spec:
  parentRefs: [{{name: platform, namespace: gw}}]
  rules:
  - backendRefs: [{{name: web, port: 80}}]
"
    )
    .replace("metadata: {name: vault}", "metadata: {name: openbao}");
    let objs = objects(&text);
    let ps = run(&seen(&objs));
    let msgs: Vec<String> = errors(&ps)
        .iter()
        .map(|p| format!("{} {} {}", p.object, p.path, p.message))
        .collect();
    assert!(
        msgs.iter().any(
            |m| m.starts_with("ExternalSecret/app/db-creds spec.secretStoreRef")
                && m.contains("ClusterSecretStore vault")
        ),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(
            |m| m.starts_with("HTTPRoute/app/web spec.rules[0].backendRefs[0]")
                && m.contains("Service app/web")
        ),
        "{msgs:#?}"
    );
    // The Gateway's namespace is not the platform's: the cluster's own, not judged.
    assert!(!msgs.iter().any(|m| m.contains("Gateway gw/")), "{msgs:#?}");
}

#[test]
fn generated_objects_count_as_made() {
    // CloudNativePG's `<cluster>-app` Secret and `-rw` Service; a Certificate's Secret;
    // gateway-shim's Secret for an annotated Gateway; the provider's StorageClass.
    let text = format!(
        "{NS}apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {{name: db, namespace: app}}
spec:
  instances: 1
  storage: {{size: 1Gi, storageClass: fast}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: haven-plus, namespace: kube-public}}
data: {{storageClass: fast, rwxStorageClass: shared}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: app}}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
        envFrom: [{{secretRef: {{name: db-app}}}}]
      volumes:
      - name: tls
        secret: {{secretName: web-tls}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: web, namespace: app}}
spec: {{secretName: web-tls, issuerRef: {{kind: ClusterIssuer, name: ca}}, dnsNames: [web.example.nl]}}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {{name: ca}}
spec: {{selfSigned: {{}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: platform}}
spec: {{controllerName: example.com/gw}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: app
  annotations: {{cert-manager.io/cluster-issuer: ca}}
spec:
  gatewayClassName: platform
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: web.example.nl
    tls: {{certificateRefs: [{{name: gw-tls}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: app}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - backendRefs: [{{name: db-rw, port: 5432}}]
"
    );
    let objs = objects(&text);
    let ps = run(&seen(&objs));
    assert!(ps.is_empty(), "{ps:#?}");
    // Without the platform-info ConfigMap the StorageClass is nobody's.
    let objs: Vec<Object> = objs
        .into_iter()
        .filter(|o| o.name != "haven-plus")
        .collect();
    let ps = run(&seen(&objs));
    assert_eq!(errors(&ps).len(), 1, "{ps:#?}");
    assert!(errors(&ps)[0].message.contains("StorageClass fast"));
}

#[test]
fn what_an_unseen_chart_may_make_is_not_guessed() {
    // Tree-only: the HelmRelease's chart installs into `app` and is not rendered.
    let hr = "---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: app}
spec:
  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: web}}}
  valuesFrom:
  - {kind: Secret, name: web-values}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: app}
spec: {storageClassName: fancy, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
";
    let objs = objects(&format!("{NS}{WEB}{hr}"));
    let l = Landscape::of_tree(&objs);
    let ps = run(&l);
    // The Deployment's Secret: the chart in `app` may make it, not judged.
    assert!(
        !ps.iter().any(|p| p.object == "Deployment/app/web"),
        "{ps:#?}"
    );
    // valuesFrom is read before the chart exists: its own chart cannot make it.
    let errs = errors(&ps);
    assert_eq!(errs.len(), 1, "{ps:#?}");
    assert_eq!(errs[0].object, "HelmRelease/app/web");
    assert_eq!(errs[0].path, "spec.valuesFrom[0]");
    // A cluster-scoped object: not proved while a chart is unseen.
    let w = warnings(&ps);
    assert_eq!(w.len(), 1, "{ps:#?}");
    assert!(
        w[0].message.starts_with("not proved") && w[0].message.contains("StorageClass fancy"),
        "{}",
        w[0].message
    );
}

#[test]
fn objects_the_catalogue_says_a_component_makes_at_runtime_are_there() {
    let text = "apiVersion: v1
kind: Namespace
metadata: {name: envoy-gateway-system}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: envoy-gateway, namespace: envoy-gateway-system}
spec: {chartRef: {kind: OCIRepository, name: envoy-gateway}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: envoy-gateway, namespace: envoy-gateway-system}
spec:
  template:
    spec:
      containers: [{name: c, image: eg:1.0}]
      volumes:
      - name: certs
        secret: {secretName: envoy-gateway}
";
    let objs = objects(text);
    assert!(run(&seen(&objs)).is_empty());
    assert!(is_runtime_object("Secret/envoy-gateway"));
    assert!(!is_runtime_object("Secret"));
    assert!(!is_runtime_object("GatewayClass/x"), "cluster-scoped");
    assert!(!is_runtime_object("Widget/x"));
    let other = text.replace("secretName: envoy-gateway}", "secretName: other}");
    let objs = objects(&other);
    assert_eq!(errors(&run(&seen(&objs))).len(), 1);
}

#[test]
fn pod_spec_references_of_every_kind_are_read() {
    let text = format!(
        "{NS}apiVersion: batch/v1
kind: CronJob
metadata: {{name: job, namespace: app}}
spec:
  schedule: '* * * * *'
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: runner
          imagePullSecrets: [{{name: pull}}]
          containers:
          - name: c
            image: c:1.0
            envFrom: [{{configMapRef: {{name: settings}}}}]
          volumes:
          - name: a
            configMap: {{name: files}}
          - name: b
            persistentVolumeClaim: {{claimName: data}}
          - name: c
            projected: {{sources: [{{secret: {{name: proj}}}}]}}
"
    );
    let objs = objects(&text);
    let ps = run(&seen(&objs));
    let mut got: Vec<String> = errors(&ps)
        .iter()
        .map(|p| p.message.split(", which").next().unwrap().to_owned())
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "refers to ConfigMap app/files",
            "refers to ConfigMap app/settings",
            "refers to PersistentVolumeClaim app/data",
            "refers to Secret app/proj",
            "refers to Secret app/pull",
            "refers to ServiceAccount app/runner",
        ]
    );
}

/// A chart that takes YAML as a string (keycloakx's `extraEnvFrom`, passed through `tpl`) names
/// a Secret inside it: that consumes the Secret, as a plain value would. A string that merely
/// contains the name elsewhere does not.
#[test]
fn a_secret_named_in_a_yaml_block_of_an_unseen_charts_values_is_consumed() {
    let with = |values: &str| {
        format!(
            "{NS}{DB_CREDS}---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: flux-system}}\nspec:\n  targetNamespace: app\n  chart: {{spec: {{chart: web, sourceRef: {{kind: HelmRepository, name: web}}}}}}\n  values: {values}\n"
        )
    };
    let block = with(r#"{extraEnvFrom: "- secretRef:\n    name: db-creds\n"}"#);
    let objs = objects(&block);
    let ps = run(&Landscape::of_tree(&objs));
    assert!(warnings(&ps).is_empty(), "{ps:#?}");
    let prose = with(r#"{note: "db-creds is read\nby hand"}"#);
    let objs = objects(&prose);
    let ps = run(&Landscape::of_tree(&objs));
    assert_eq!(warnings(&ps).len(), 1, "{ps:#?}");
}

/// A chart that renders the application's configuration file into a Secret (base64) or a
/// ConfigMap, naming the Secret the application reads through the API (policy-reporter's UI:
/// `openIDConnect.secretRef` in Secret `policy-reporter-ui-config`, `config.yaml`): that
/// consumes it. A file merely holding the name as text, or under a key that is not about
/// secrets, does not.
#[test]
fn a_secret_named_in_a_rendered_config_file_is_consumed() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = "openIDConnect:\n  enabled: true\n  secretRef: db-creds\n";
    let secret = format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: ui-config, namespace: app}}\ndata:\n  config.yaml: {}\n",
        b64(config)
    );
    let objs = objects(&format!("{NS}{DB_CREDS}{secret}"));
    let ps = run(&seen(&objs));
    assert!(ps.is_empty(), "{ps:#?}");
    let configmap = format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ui-config, namespace: app}}\ndata:\n  config.yaml: {config:?}\n"
    );
    let objs = objects(&format!("{NS}{DB_CREDS}{configmap}"));
    assert!(run(&seen(&objs)).is_empty());
    // Not under a secret-ish key, or not YAML: still unconsumed.
    for text in [
        "title: db-creds\n",
        "# secretRef: db-creds\n",
        "secretRef db-creds",
    ] {
        let secret = format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: ui-config, namespace: app}}\ndata:\n  config.yaml: {}\n",
            b64(text)
        );
        let objs = objects(&format!("{NS}{DB_CREDS}{secret}"));
        assert_eq!(warnings(&run(&seen(&objs))).len(), 1, "{text:?}");
    }
}

/// An ExternalSecret that reads through a `SecretStore` of the `kubernetes` provider (an OIDC
/// client's reader, `crate::oidc_clients`) refers to the Secret it copies in the store's remote
/// namespace, and the store to its ServiceAccount: missing, each is an error; there, the remote
/// Secret is consumed (no "nothing consumes it" warning for the identity provider's Secret).
#[test]
fn a_kubernetes_store_reads_a_secret_of_its_remote_namespace_as_its_service_account() {
    let reader = "apiVersion: v1
kind: Namespace
metadata: {name: idp}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: reader, namespace: app}
spec:
  provider:
    kubernetes:
      remoteNamespace: idp
      server:
        caProvider: {type: ConfigMap, name: kube-root-ca.crt, key: ca.crt}
      auth:
        serviceAccount: {name: reader}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: copy, namespace: app}
spec:
  secretStoreRef: {kind: SecretStore, name: reader}
  target: {name: copy}
  data:
  - secretKey: s
    remoteRef: {key: client, property: SECRET}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1.0
        envFrom:
        - secretRef: {name: copy}
";
    let objs = objects(reader);
    let ps = run(&seen(&objs));
    let errs: Vec<String> = errors(&ps).iter().map(|p| p.to_string()).collect();
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("Secret idp/client") && e.contains("spec.data[0].remoteRef.key")),
        "{errs:#?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("ServiceAccount app/reader")),
        "{errs:#?}"
    );
    let made = "---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: app}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: client, namespace: idp}
spec:
  refreshPolicy: CreatedOnce
  target: {name: client}
  dataFrom:
  - sourceRef:
      generatorRef: {apiVersion: generators.external-secrets.io/v1alpha1, kind: Password, name: client}
";
    let objs = objects(&format!("{reader}{made}"));
    let ps = run(&seen(&objs));
    assert!(ps.is_empty(), "{ps:#?}");
}

/// A Gateway Traefik serves, with listeners on 80 and 8443; Traefik's entryPoints (the chart's
/// rendered args) are 8000 and 8443.
const TRAEFIK: &str = "apiVersion: v1
kind: Namespace
metadata: {name: traefik}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traefik, namespace: traefik}
spec:
  template:
    spec:
      containers:
      - name: traefik
        image: traefik:v3
        args:
        - --entryPoints.metrics.address=:9100/tcp
        - --entryPoints.web.address=:8000/tcp
        - --entryPoints.websecure.address=:8443/tcp
        - --entryPoints.dns.address=:8053/udp
        - --providers.kubernetesgateway
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: platform}
spec: {controllerName: traefik.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: platform, namespace: traefik}
spec:
  gatewayClassName: platform
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 8443}
  - {name: udp, protocol: HTTP, port: 8053}
";

#[test]
fn a_traefik_listener_on_a_port_without_an_entry_point_is_an_error() {
    let objs = objects(TRAEFIK);
    let ps = run(&seen(&objs));
    let errs: Vec<&Problem> = errors(&ps)
        .into_iter()
        .filter(|p| p.message.contains("entryPoint"))
        .collect();
    assert_eq!(errs.len(), 2, "{ps:#?}");
    assert_eq!(errs[0].object, "Gateway/traefik/platform");
    assert_eq!(errs[0].path, "spec.listeners[0].port");
    assert!(
        errs[0].message.contains("listener `http` is on port 80")
            && errs[0].message.contains("web :8000, websecure :8443"),
        "{}",
        errs[0].message
    );
    // A UDP entryPoint serves no HTTP listener.
    assert_eq!(errs[1].path, "spec.listeners[2].port");
    // On the entryPoints' ports: nothing to say.
    let fixed = TRAEFIK
        .replace("port: 80}", "port: 8000}")
        .replace("  - {name: udp, protocol: HTTP, port: 8053}\n", "");
    let objs = objects(&fixed);
    let ps = run(&seen(&objs));
    assert!(
        !ps.iter().any(|p| p.message.contains("entryPoint")),
        "{ps:#?}"
    );
    // Another controller's Gateway, or Traefik not rendered: not judged.
    let other = TRAEFIK.replace("traefik.io/gateway-controller", "example.com/gw");
    let objs = objects(&other);
    assert!(
        !run(&seen(&objs))
            .iter()
            .any(|p| p.message.contains("entryPoint"))
    );
    let unrendered = TRAEFIK.replace("--providers.kubernetesgateway", "--log.level=INFO");
    let objs = objects(&unrendered);
    assert!(
        !run(&seen(&objs))
            .iter()
            .any(|p| p.message.contains("entryPoint"))
    );
}
