//! The Haven application rules (`haven.rs`).

use super::{Case, at, case};
use crate::registry::{CONTAINERISED, MANIFESTS, METRICS, RWO_SCALE, SCALABLE};

pub(super) fn cases() -> Vec<Case> {
    let mut v = containerised();
    v.extend(manifests());
    v.extend(metrics());
    v.extend(scalable());
    v.extend(rwo_scale());
    v
}

/// What an invalid image reference's finding says after the reason.
const PULL: &str = "the runtime cannot pull it (InvalidImageName)";
/// The reason for a reference outside the grammar.
const FORMAT: &str = "it is no `[registry/]name[:tag][@digest]` (a tag is up to 128 letters, \
                      digits, `_`, `.` and `-`, not starting with `.` or `-`)";

fn containerised() -> Vec<Case> {
    vec![
        case(
            CONTAINERISED,
            "a container, an init container and an ephemeral container without an image",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  initContainers:
  - name: init
    image: "  "
  containers:
  - name: main
    image: registry.example.nl/app:1.0
  - name: sidecar
  ephemeralContainers:
  - name: debug
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.initContainers[0].image",
                    7,
                    "container \"init\" names no image",
                )
                .container("init"),
                at(
                    "app/Pod/p",
                    "spec.containers[1].image",
                    11,
                    "container \"sidecar\" names no image",
                )
                .container("sidecar"),
                at(
                    "app/Pod/p",
                    "spec.ephemeralContainers[0].image",
                    13,
                    "container \"debug\" names no image",
                )
                .container("debug"),
            ],
        ),
        case(
            CONTAINERISED,
            "image references the container runtime cannot read",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers:
  - {name: a, image: "nginx:"}
  - {name: b, image: "Team/App:1.0"}
  - {name: c, image: "app:1.0 "}
  - {name: d, image: "app@sha256:0123456789abcdef0123456789abcdef"}
  - {name: e, image: "registry.example.nl:5000/team/app:1.4.2"}
"#,
            vec![
                at(
                    "app/Pod/p",
                    "spec.containers[0].image",
                    6,
                    &format!("image \"nginx:\" of container \"a\" is no valid image reference ({FORMAT}): {PULL}"),
                )
                .container("a"),
                at(
                    "app/Pod/p",
                    "spec.containers[1].image",
                    7,
                    &format!("image \"Team/App:1.0\" of container \"b\" is no valid image reference (the repository name must be lowercase): {PULL}"),
                )
                .container("b"),
                at(
                    "app/Pod/p",
                    "spec.containers[2].image",
                    8,
                    &format!("image \"app:1.0 \" of container \"c\" is no valid image reference ({FORMAT}): {PULL}"),
                )
                .container("c"),
                at(
                    "app/Pod/p",
                    "spec.containers[3].image",
                    9,
                    &format!("image \"app@sha256:0123456789abcdef0123456789abcdef\" of container \"d\" is no valid image reference (the digest has the wrong length for its algorithm): {PULL}"),
                )
                .container("d"),
            ],
        )
        .object_scope(),
        case(
            CONTAINERISED,
            "the path leads into a Deployment's pod template",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.containers[0].image",
                    8,
                    "container \"web\" names no image",
                )
                .container("web"),
            ],
        ),
        case(
            CONTAINERISED,
            "is an object rule: the admission webhook runs it",
            r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: app}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: ""
"#,
            vec![
                at(
                    "app/CronJob/nightly",
                    "spec.jobTemplate.spec.template.spec.containers[0].image",
                    12,
                    "container \"job\" names no image",
                )
                .container("job"),
            ],
        )
        .object_scope(),
        case(
            CONTAINERISED,
            "every container, init container and ephemeral container names an image",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  initContainers: [{name: init, image: "busybox:1.36"}]
  containers: [{name: main, image: "app:1.0"}]
  ephemeralContainers: [{name: debug, image: "busybox:1.36"}]
"#,
            vec![],
        ),
    ]
}

fn manifests() -> Vec<Case> {
    vec![
        case(
            MANIFESTS,
            "no workload among the objects: reported on the first object",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
data: {a: b}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec: {selector: {app: web}, ports: [{port: 80}]}
"#,
            vec![at(
                "app/ConfigMap/settings",
                "",
                1,
                "no workload found among 2 object(s): nothing runs the application (expected a \
                 Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod)",
            )],
        ),
        case(
            MANIFESTS,
            "a workload kind of another API group is no workload",
            r#"apiVersion: example.com/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec: {}
"#,
            vec![at(
                "app/Deployment/web",
                "",
                1,
                "no workload found among 1 object(s): nothing runs the application (expected a \
                 Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod)",
            )],
        ),
        case(
            MANIFESTS,
            "a Job is a workload",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: app}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "app:1.0"}]
"#,
            vec![],
        ),
        case(
            MANIFESTS,
            "a workload whose pod template cannot be decoded still counts as shipped",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers: "not a list"
"#,
            vec![],
        )
        .errors(1),
        case(MANIFESTS, "an empty input reports nothing", "", vec![]),
        case(
            MANIFESTS,
            "is an application rule: the admission webhook does not run it",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
"#,
            vec![],
        )
        .object_scope(),
    ]
}

const NO_METRICS: &str = "exposes no metrics endpoint: no ServiceMonitor or PodMonitor selects it, \
     no prometheus.io/scrape annotation, no port named like `metrics`, no OTLP exporter";

fn no_metrics(object: &str, path: &str, line: u32, kind_name: &str) -> super::Expect {
    at(object, path, line, &format!("{kind_name} {NO_METRICS}"))
}

/// A chart's workload naming no namespace, its Service in `{{ .Release.Namespace }}`, and a
/// ServiceMonitor in `monitoring` that watches the release namespace by name.
const RELEASE_MONITORED: &str = r#"---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web, namespace: hvn-rns, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
# Source: chart/templates/servicemonitor.yaml
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: monitoring}
spec:
  namespaceSelector: {matchNames: [hvn-rns]}
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http}]
"#;

fn metrics() -> Vec<Case> {
    vec![
        case(
            METRICS,
            "a monitor elsewhere watching {{ .Release.Namespace }} (rendered without --namespace)",
            RELEASE_MONITORED,
            vec![],
        )
        .chart(),
        case(
            METRICS,
            "a monitor watching {{ .Release.Namespace }}, installed with --namespace default",
            RELEASE_MONITORED,
            vec![],
        )
        .chart()
        .namespace("default"),
        case(
            METRICS,
            "a monitor watching `default` does not watch an unnamed release namespace",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: monitoring}
spec:
  namespaceSelector: {matchNames: [default, ""]}
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http}]
"#,
            vec![no_metrics(
                "Deployment/web",
                "spec.template.spec.containers",
                8,
                "Deployment web",
            )],
        ),
        case(
            METRICS,
            "a Deployment without any way of exposing metrics (OTLP settings other than the \
             endpoint, and other endpoints, do not count)",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata:
      labels: {app: web}
      annotations: {prometheus.io/scrape: "false"}
    spec:
      containers:
      - name: web
        image: web:1.0
        ports: [{name: http, containerPort: 8080}]
        env:
        - {name: OTEL_SERVICE_NAME, value: web}
        - {name: OTEL_EXPORTER_OTLP_PROTOCOL, value: grpc}
        - {name: API_ENDPOINT, value: "http://api"}
"#,
            vec![no_metrics(
                "app/Deployment/web",
                "spec.template.spec.containers",
                10,
                "Deployment web",
            )],
        ),
        case(
            METRICS,
            "DaemonSets, StatefulSets, ReplicaSets and ReplicationControllers need metrics too",
            r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "agent:1"}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "db:1"}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "rs:1"}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "rc:1"}]
"#,
            vec![
                no_metrics(
                    "app/DaemonSet/agent",
                    "spec.template.spec.containers",
                    7,
                    "DaemonSet agent",
                ),
                no_metrics(
                    "app/StatefulSet/db",
                    "spec.template.spec.containers",
                    15,
                    "StatefulSet db",
                ),
                no_metrics(
                    "app/ReplicaSet/rs",
                    "spec.template.spec.containers",
                    23,
                    "ReplicaSet rs",
                ),
                no_metrics(
                    "app/ReplicationController/rc",
                    "spec.template.spec.containers",
                    31,
                    "ReplicationController rc",
                ),
            ],
        ),
        case(
            METRICS,
            "Jobs, CronJobs and bare Pods need no metrics endpoint",
            r#"apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "job:1"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: app}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: a, image: "job:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers: [{name: a, image: "p:1"}]
"#,
            vec![],
        ),
        case(
            METRICS,
            "a prometheus.io/scrape annotation on the pod template",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata:
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
            vec![],
        ),
        case(
            METRICS,
            "a container port named like metrics, or `prometheus`",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
      - name: exporter
        image: exporter:1
        ports: [{name: http-metrics, containerPort: 9100}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: worker
        image: worker:1
        ports: [{name: prometheus, containerPort: 9090}]
"#,
            vec![],
        ),
        case(
            METRICS,
            "an OTLP exporter endpoint in the environment",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
        env: [{name: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, value: "http://alloy:4318"}]
"#,
            vec![],
        ),
        case(
            METRICS,
            "an OTLP exporter endpoint from a ConfigMap; another ConfigMap does not count",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
        envFrom: [{configMapRef: {name: otel}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: worker
        image: worker:1
        envFrom: [{configMapRef: {name: plain}}, {configMapRef: {name: missing}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: otel, namespace: app}
data: {OTEL_EXPORTER_OTLP_ENDPOINT: "http://alloy:4318"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: app}
data: {OTEL_SERVICE_NAME: worker, LOG_LEVEL: info}
"#,
            vec![no_metrics(
                "app/Deployment/worker",
                "spec.template.spec.containers",
                18,
                "Deployment worker",
            )],
        ),
        case(
            METRICS,
            "an OTLP exporter endpoint from a Secret, or from a ConfigMap under envFrom's prefix",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:1
        envFrom: [{secretRef: {name: otel}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: worker
        image: worker:1
        envFrom: [{prefix: OTEL_EXPORTER_OTLP_, configMapRef: {name: short}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: beat, namespace: app}
spec:
  template:
    spec:
      containers:
      - name: beat
        image: beat:1
        envFrom: [{prefix: X_, configMapRef: {name: full}}]
---
apiVersion: v1
kind: Secret
metadata: {name: otel, namespace: app}
stringData: {OTEL_EXPORTER_OTLP_ENDPOINT: "http://alloy:4318"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: short, namespace: app}
data: {ENDPOINT: "http://alloy:4318"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: full, namespace: app}
data: {OTEL_EXPORTER_OTLP_ENDPOINT: "http://alloy:4318"}
"#,
            vec![no_metrics(
                "app/Deployment/beat",
                "spec.template.spec.containers",
                29,
                "Deployment beat",
            )],
        ),
        case(
            METRICS,
            "a PodMonitor selecting the pods; one selecting other pods does not count",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: "worker:1"}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
"#,
            vec![no_metrics(
                "app/Deployment/worker",
                "spec.template.spec.containers",
                17,
                "Deployment worker",
            )],
        ),
        case(
            METRICS,
            "a Service with the scrape annotation, or one a ServiceMonitor selects",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "api:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: "worker:1"}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: app
  annotations: {prometheus.io/scrape: "true"}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: app, labels: {svc: api}}
spec: {selector: {app: api}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api, namespace: app}
spec:
  selector: {matchLabels: {svc: api}}
---
apiVersion: v1
kind: Service
metadata: {name: worker, namespace: app, labels: {svc: worker}}
spec: {selector: {app: worker}}
"#,
            vec![no_metrics(
                "app/Deployment/worker",
                "spec.template.spec.containers",
                26,
                "Deployment worker",
            )],
        ),
        case(
            METRICS,
            "a monitor in another namespace watches its own namespace only",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: web, namespace: monitoring}
spec:
  selector: {matchLabels: {app: web}}
"#,
            vec![no_metrics(
                "app/Deployment/web",
                "spec.template.spec.containers",
                8,
                "Deployment web",
            )],
        ),
        case(
            METRICS,
            "monitors elsewhere count when their namespaceSelector covers the namespace, and a \
             monitor counts only when its selector matches",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: app}
spec:
  template:
    metadata: {labels: {app: a}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: app}
spec:
  template:
    metadata: {labels: {app: b}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: c, namespace: app}
spec:
  template:
    metadata: {labels: {app: c}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: app}
spec:
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: "c:1"}]
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: app, labels: {svc: b}}
spec: {selector: {app: b}}
---
apiVersion: v1
kind: Service
metadata: {name: d, namespace: app, labels: {svc: d}}
spec: {selector: {app: d}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: any, namespace: monitoring}
spec:
  namespaceSelector: {any: true}
  selector: {matchLabels: {app: a}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: named, namespace: monitoring}
spec:
  namespaceSelector: {matchNames: [other, app]}
  selector: {matchLabels: {svc: b}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: own, namespace: app}
spec:
  namespaceSelector: {any: false}
  selector: {matchLabels: {app: c}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: other-namespace, namespace: monitoring}
spec:
  namespaceSelector: {matchNames: [other]}
  selector: {matchLabels: {app: d}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: not-any, namespace: monitoring}
spec:
  namespaceSelector: {any: false}
  selector: {matchLabels: {app: d}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: no-match, namespace: app}
spec:
  selector:
    matchExpressions: [{key: app, operator: In, values: [x]}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: no-match, namespace: app}
spec:
  selector:
    matchExpressions: [{key: svc, operator: In, values: [x]}]
"#,
            vec![no_metrics(
                "app/Deployment/d",
                "spec.template.spec.containers",
                35,
                "Deployment d",
            )],
        ),
        case(
            METRICS,
            "is an application rule: the admission webhook does not run it",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
            vec![],
        )
        .object_scope(),
    ]
}

fn scalable() -> Vec<Case> {
    const TEXT: &str = "runs 1 replica and no HorizontalPodAutoscaler scales it to 2 or more";
    vec![
        case(
            SCALABLE,
            "one replica, written or by default, and an autoscaler that stops at one",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  template:
    spec:
      containers: [{name: db, image: "db:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  template:
    spec:
      containers: [{name: api, image: "api:1"}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 1
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: other, namespace: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}
  maxReplicas: 5
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.replicas",
                    5,
                    &format!("Deployment web {TEXT}"),
                ),
                at(
                    "app/StatefulSet/db",
                    "spec.replicas",
                    13,
                    &format!("StatefulSet db {TEXT}"),
                ),
                at(
                    "app/Deployment/api",
                    "spec.replicas",
                    21,
                    &format!("Deployment api {TEXT}"),
                ),
            ],
        ),
        case(
            SCALABLE,
            "a Recreate strategy hints at a deliberate singleton",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: beat, namespace: app}
spec:
  replicas: 1
  strategy: {type: Recreate}
  template:
    spec:
      containers: [{name: beat, image: "beat:1"}]
"#,
            vec![at(
                "app/Deployment/beat",
                "spec.replicas",
                5,
                &format!(
                    "Deployment beat {TEXT}; its `Recreate` strategy suggests a deliberate \
                     singleton: if so, waive this rule with the reason"
                ),
            )],
        ),
        case(
            SCALABLE,
            "two replicas, or an autoscaler up to two or more",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 2
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: api, image: "api:1"}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 2
"#,
            vec![],
        ),
        case(
            SCALABLE,
            "DaemonSets, Jobs and Pods have no replica count",
            r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "agent:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: app}
spec:
  template:
    spec:
      containers: [{name: a, image: "job:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers: [{name: a, image: "p:1"}]
"#,
            vec![],
        ),
        case(
            SCALABLE,
            "is an application rule: the admission webhook does not run it",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
            vec![],
        )
        .object_scope(),
    ]
}

fn rwo_scale() -> Vec<Case> {
    vec![
        case(
            RWO_SCALE,
            "a ReadWriteOnce(Pod) claim in a replicated Deployment, replicas written or by autoscaler",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
      volumes:
      - name: tmp
        emptyDir: {}
      - name: data
        persistentVolumeClaim:
          claimName: data
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  template:
    spec:
      containers: [{name: api, image: "api:1"}]
      volumes:
      - name: cache
        persistentVolumeClaim: {claimName: cache}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: app}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 4
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: app}
spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: cache, namespace: app}
spec: {accessModes: [ReadWriteOncePod]}
"#,
            vec![
                at(
                    "app/Deployment/web",
                    "spec.template.spec.volumes[1].persistentVolumeClaim.claimName",
                    14,
                    "claim \"data\" is ReadWriteOnce but shared by up to 3 replicas of Deployment \
                     web: replicas on other nodes cannot mount it",
                ),
                at(
                    "app/Deployment/api",
                    "spec.template.spec.volumes[0].persistentVolumeClaim.claimName",
                    25,
                    "claim \"cache\" is ReadWriteOnce but shared by up to 4 replicas of Deployment \
                     api: replicas on other nodes cannot mount it",
                ),
            ],
        ),
        case(
            RWO_SCALE,
            "one replica, a StatefulSet, a ReadWriteMany or mixed claim, a claim elsewhere or \
             unknown",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: single, namespace: app}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: c, image: "c:1"}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: rwo}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: app}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: c, image: "c:1"}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: rwo}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: c, image: "c:1"}]
      volumes:
      - {name: a, persistentVolumeClaim: {claimName: rwx}}
      - {name: b, persistentVolumeClaim: {claimName: mixed}}
      - {name: c, persistentVolumeClaim: {claimName: unknown}}
      - {name: d, persistentVolumeClaim: {claimName: elsewhere}}
      - {name: e, persistentVolumeClaim: {claimName: nomodes}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: rwo, namespace: app}
spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: rwx, namespace: app}
spec: {accessModes: [ReadWriteMany]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: mixed, namespace: app}
spec: {accessModes: [ReadWriteOnce, ReadWriteMany]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: elsewhere, namespace: other}
spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: nomodes, namespace: app}
spec: {}
"#,
            vec![],
        ),
    ]
}
