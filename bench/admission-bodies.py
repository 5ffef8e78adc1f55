#!/usr/bin/env python3
"""Writes the AdmissionReviews that bench/admission.sh sends, into the directory given.

The objects are shaped as an API server sends them to a validating webhook, not as a user
writes them: the defaults filled in (image pull policy, termination message, DNS and restart
policy, scheduler, priority, tolerations), what the built-in admission plugins added before
the webhooks run (the service-account token volume and its mounts), `managedFields`, and for
the Deployment, created by `kubectl apply`, the last-applied-configuration annotation. A pod
of a Common Ground application: a Django app and an nginx sidecar.

    allowed-pod.json  a Pod of a ReplicaSet that meets Pod Security `restricted`
    denied-pod.json   the same Pod with privileged containers and nothing restricted
    deployment.json   its Deployment (not restricted: warnings), as kubectl apply creates it

`__UID__` stands for the request uid; the load generators replace it.
"""
import copy
import json
import sys

RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
              "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
LABELS = {"app.kubernetes.io/name": "openzaak", "app.kubernetes.io/instance": "openzaak"}


def container(name, image, port, security):
    return {
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "DJANGO_SETTINGS_MODULE", "value": "openzaak.conf.production"},
            {"name": "DB_HOST", "value": "postgres.zaken.svc.cluster.local"},
            {"name": "SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "openzaak", "key": "secret-key"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "initialDelaySeconds": 10,
                          "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"}, "timeoutSeconds": 1,
                           "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "media", "mountPath": "/app/media"}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "securityContext": security,
    }


def pod_spec(security, service_account_volume):
    spec = {
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "media", "persistentVolumeClaim": {"claimName": "media"}}],
        "containers": [container("web", "registry.example.nl/openzaak:1.4.2", 8000, security),
                       container("nginx", "nginxinc/nginx-unprivileged:1.27", 8080, security)],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "serviceAccount": "default",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}} if security else {},
        "schedulerName": "default-scheduler",
    }
    if service_account_volume:  # added by the ServiceAccount admission plugin, to pods only
        spec["volumes"].append({"name": "kube-api-access-7xk2p", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}})
        for c in spec["containers"]:
            c["volumeMounts"].append({"name": "kube-api-access-7xk2p", "readOnly": True,
                                      "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
        spec["tolerations"] = [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
        spec["priority"] = 0
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"
    return spec


def managed(manager, operation, fields):
    return [{"manager": manager, "operation": operation, "apiVersion": "v1", "time": "2026-12-04T08:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": fields}]


def pod(security):
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "generateName": "openzaak-7d9c6b5f4-", "namespace": "zaken", "creationTimestamp": None,
            "labels": {**LABELS, "pod-template-hash": "7d9c6b5f4"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8000"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "openzaak-7d9c6b5f4",
                                 "uid": "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "controller": True, "blockOwnerDeletion": True}],
            "managedFields": managed("kube-controller-manager", "Update", {
                "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app.kubernetes.io/instance": {},
                                                                  "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
                               "f:ownerReferences": {".": {}, "k:{\"uid\":\"6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f\"}": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}},
                                            "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}},
                           "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:volumes": {}}}),
        },
        "spec": pod_spec(security, True),
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }


def deployment():
    template = {"metadata": {"labels": LABELS, "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8000"}},
                "spec": pod_spec({}, False)}
    applied = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "openzaak", "namespace": "zaken", "labels": LABELS},
               "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": copy.deepcopy(template)}}
    return {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {
            "name": "openzaak", "namespace": "zaken", "generation": 1, "creationTimestamp": None, "labels": LABELS,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied, separators=(",", ":")) + "\n"},
            "managedFields": managed("kubectl-client-side-apply", "Update", {
                "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                               "f:labels": {".": {}, "f:app.kubernetes.io/instance": {}, "f:app.kubernetes.io/name": {}}},
                "f:spec": {"f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {}, "f:selector": {},
                           "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
                           "f:template": {"f:metadata": {"f:labels": {}}, "f:spec": {"f:containers": {}, "f:volumes": {}}}}}),
        },
        "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": template,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {},
    }


def review(kind, group, resource, username, groups, obj):
    gvk = {"group": group, "version": "v1", "kind": kind}
    gvr = {"group": group, "version": "v1", "resource": resource}
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {
        "uid": "__UID__", "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
        "namespace": "zaken", "operation": "CREATE",
        "userInfo": {"username": username, "uid": "0c6b7d2e-9f1a-4e3b-8a5c-2d4f6e8a0b1c", "groups": groups},
        "object": obj, "oldObject": None, "dryRun": False,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}}}


def main():
    out = sys.argv[1]
    replicaset = ("system:serviceaccount:kube-system:replicaset-controller",
                  ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])
    admin = ("kubernetes-admin", ["kubeadm:cluster-admins", "system:authenticated"])
    bodies = {
        "allowed-pod": review("Pod", "", "pods", *replicaset, pod(RESTRICTED)),
        "denied-pod": review("Pod", "", "pods", *replicaset, pod({"privileged": True})),
        "deployment": review("Deployment", "apps", "deployments", *admin, deployment()),
    }
    for name, body in bodies.items():
        with open(f"{out}/{name}.json", "w") as f:
            json.dump(body, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
