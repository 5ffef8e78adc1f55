//! Findings about how the input was read (`input.rs`) and expired waivers (`waiver.rs`).

use super::{Case, at, case};
use crate::registry::{DUPLICATE_KEY, WAIVER_EXPIRED, YAML11};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case(
            YAML11,
            "unquoted on, off and an octal number read differently by Kubernetes",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
data:
  feature: "on"
  tls: on
  mode: 0755
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  paused: off
  template:
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
            vec![
                at(
                    "app/ConfigMap/settings",
                    "data.tls",
                    6,
                    "`on` is read by Kubernetes as boolean true, by YAML 1.2 tools as string \"on\"",
                ),
                at(
                    "app/ConfigMap/settings",
                    "data.mode",
                    7,
                    "`0755` is read by Kubernetes as number 493 (octal), by YAML 1.2 tools as \
                     number 755",
                ),
                at(
                    "app/Deployment/web",
                    "spec.paused",
                    13,
                    "`off` is read by Kubernetes as boolean false, by YAML 1.2 tools as string \
                     \"off\"",
                ),
            ],
        )
        .object_scope(),
        case(
            YAML11,
            "octal file modes of volumes are read as meant; an octal port is news",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  template:
    spec:
      containers:
        - name: web
          image: "web:1"
          ports: [{containerPort: 0100}]
      volumes:
        - name: a
          secret: {secretName: a, defaultMode: 0400, items: [{key: k, path: k, mode: 0440}]}
        - name: b
          projected:
            defaultMode: 0644
            sources: [{configMap: {name: b, items: [{key: k, path: k, mode: 0755}]}}]
"#,
            vec![at(
                "app/Deployment/web",
                "spec.template.spec.containers[0].ports[0].containerPort",
                10,
                "`0100` is read by Kubernetes as number 64 (octal), by YAML 1.2 tools as number 100",
            )],
        )
        .object_scope(),
        case(
            YAML11,
            "quoted strings, true/false and decimal numbers read alike",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: app}
data:
  feature: "on"
  other: 'yes'
  flag: "true"
  count: "10"
  mode: "0755"
"#,
            vec![],
        ),
        case(
            DUPLICATE_KEY,
            "a key written twice, at the top and nested",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: app
  labels: {app: a, app: b}
data:
  a: "1"
data:
  b: "2"
"#,
            vec![
                at(
                    "app/ConfigMap/settings",
                    "metadata.labels.app",
                    6,
                    "key `app` is written twice; the last value wins",
                ),
                at(
                    "app/ConfigMap/settings",
                    "data",
                    9,
                    "key `data` is written twice; the last value wins",
                ),
            ],
        )
        .object_scope(),
        case(
            DUPLICATE_KEY,
            "the same key in different mappings, and a merge key overridden on purpose",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: app
  labels: &labels {app: a, tier: web}
  annotations:
    <<: *labels
    app: b
data: {app: c}
"#,
            vec![],
        ),
        case(
            WAIVER_EXPIRED,
            "an expired waiver is reported whether or not it still matches",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  automountServiceAccountToken: false
  containers: [{name: c, image: "c:1"}]
"#,
            vec![
                at(
                    "Waiver/*",
                    "",
                    4,
                    "waiver for `plus.image-digest` expired on 2026-11-24 (pinned later); the \
                     findings it covered count again",
                ),
                at(
                    "app/Waiver/Deployment/old",
                    "",
                    7,
                    "waiver for `haven.scalable` expired on 2025-01-01 (removed app)",
                )
                .container("worker"),
            ],
        )
        .waivers(
            r#"apiVersion: haven.commonground.nl/v1alpha1
kind: WaiverList
waivers:
- rule: plus.image-digest
  reason: pinned later
  expires: "2026-11-24"
- rule: haven.scalable
  kind: Deployment
  namespace: app
  name: old
  container: worker
  reason: removed app
  expires: "2025-01-01"
- rule: plus.network-policy
  reason: policies come with the platform
  expires: "2026-11-25"
"#,
        ),
        case(
            WAIVER_EXPIRED,
            "a waiver that expires today or later, or never, is not expired",
            r#"apiVersion: v1
kind: Pod
metadata: {name: p, namespace: app}
spec:
  containers: [{name: c, image: "c:1"}]
"#,
            vec![],
        )
        .waivers(
            r#"apiVersion: haven.commonground.nl/v1alpha1
kind: WaiverList
waivers:
- rule: plus.image-digest
  reason: pinned later
  expires: "2026-11-25"
- rule: plus.network-policy
  reason: policies come with the platform
"#,
        ),
    ]
}
