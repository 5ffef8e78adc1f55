#!/usr/bin/env python3
"""Generate a deterministic corpus of Kubernetes manifests for the app-check benchmark.

The corpus looks like what `haven app check` meets in practice: applications
as multi-document YAML files, each with its workloads (Deployments,
StatefulSets, DaemonSets, Jobs, CronJobs, bare Pods; 1-3 containers, sometimes
init containers) and the objects around them (Services, PodDisruptionBudgets,
HorizontalPodAutoscalers, ConfigMaps, NetworkPolicies). About a third of the
workloads are fully compliant (PSS restricted, requests/limits, probes, pinned
images); the rest break a random handful of rules each.

    bench/gen_corpus.py --out /tmp/corpus --workloads 10000 --files 100 --seed 42

Writes <out>/app-NNN.yaml, and <out>.index.json beside the directory (not in
it, so checkers reading the directory do not see it): documents per file and
totals.
Same arguments, same bytes: only `random.Random(seed)` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("gen_corpus.py needs PyYAML (pip install pyyaml)")

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """No `&id001` anchors for shared sub-objects: plain manifests have none."""

    def ignore_aliases(self, data):  # noqa: ARG002
        return True

WORKLOAD_KINDS = [
    ("Deployment", 40),
    ("StatefulSet", 14),
    ("DaemonSet", 8),
    ("Job", 10),
    ("CronJob", 12),
    ("Pod", 16),
]

IMAGES = [
    ("registry.gemeente.example.nl/zgw/open-zaak", ["1.14.2", "1.15.0", "1.13.4"]),
    ("registry.gemeente.example.nl/zgw/open-notificaties", ["1.7.1", "1.8.0"]),
    ("registry.gemeente.example.nl/forms/open-formulieren", ["2.8.1", "2.7.6", "3.0.0"]),
    ("registry.gemeente.example.nl/meldingen/signalen-backend", ["2.3.0", "2.2.9"]),
    ("docker.io/nginxinc/nginx-unprivileged", ["1.27.3-alpine", "1.26.2"]),
    ("docker.io/library/redis", ["7.4.1", "7.2.6-alpine"]),
    ("quay.io/prometheus/node-exporter", ["v1.8.2"]),
    ("ghcr.io/gemeente-example/brp-proxy", ["0.9.0", "1.0.1"]),
    ("registry.gemeente.example.nl/loket/frontend", ["3.2.1", "3.1.0"]),
    ("docker.io/bitnami/postgresql", ["16.4.0-debian-12-r9"]),
]
UNPINNED = ["latest", None, "main", "stable"]

# Rules a non-compliant workload may break, with weights.
VIOLATIONS = [
    ("privileged", 4), ("hostNetwork", 2), ("hostPID", 1), ("hostIPC", 1), ("hostPath", 4),
    ("hostPort", 2), ("runAsRoot", 6), ("noRunAsNonRoot", 6), ("noSeccomp", 8),
    ("allowPrivEsc", 7), ("noDropAll", 8), ("addCaps", 3), ("unsafeSysctl", 1),
    ("procMount", 1), ("apparmorUnconfined", 1), ("seLinuxType", 1),
    ("noResources", 8), ("requestsOnly", 5), ("noProbes", 6), ("livenessOnly", 4),
    ("unpinnedImage", 6), ("automount", 6), ("defaultNamespace", 3), ("rwxClaim", 2),
    ("singleReplica", 3), ("windowsHostProcess", 1),
]


def weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def digest(rng: random.Random) -> str:
    return "sha256:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))


class Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    # ---------------------------------------------------------------- containers
    def image(self, v: set[str]) -> str:
        rng = self.rng
        repo, tags = rng.choice(IMAGES)
        if "unpinnedImage" in v:
            tag = rng.choice(UNPINNED)
            return repo if tag is None else f"{repo}:{tag}"
        tag = rng.choice(tags)
        if rng.random() < 0.3:
            return f"{repo}:{tag}@{digest(rng)}"
        return f"{repo}:{tag}"

    def container(self, name: str, v: set[str], *, probes: bool, port: int | None) -> dict:
        rng = self.rng
        c: dict = {"name": name, "image": self.image(v)}
        if rng.random() < 0.5:
            c["imagePullPolicy"] = rng.choice(["IfNotPresent", "Always"])
        if rng.random() < 0.3:
            c["args"] = [f"--log-level={rng.choice(['info', 'debug', 'warn'])}", "--config=/etc/app/config.yaml"]
        if port:
            c["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
            if rng.random() < 0.4:
                c["ports"].append({"name": "metrics", "containerPort": 9102, "protocol": "TCP"})
            if "hostPort" in v:
                c["ports"][0]["hostPort"] = port
        env = [{"name": "TZ", "value": "Europe/Amsterdam"}]
        if rng.random() < 0.5:
            env.append({"name": "DB_HOST", "value": f"postgresql-{rng.randint(1, 9)}.databases.svc.cluster.local"})
        if rng.random() < 0.3:
            env.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        c["env"] = env

        sc: dict = {}
        if "allowPrivEsc" not in v:
            sc["allowPrivilegeEscalation"] = False
        elif rng.random() < 0.5:
            sc["allowPrivilegeEscalation"] = True
        if "privileged" in v:
            sc["privileged"] = True
        caps: dict = {}
        if "noDropAll" not in v:
            caps["drop"] = ["ALL"]
        if "addCaps" in v:
            caps["add"] = [rng.choice(["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "NET_RAW", "CHOWN"])]
        elif rng.random() < 0.1:
            caps["add"] = ["NET_BIND_SERVICE"]
        if caps:
            sc["capabilities"] = caps
        if "runAsRoot" in v and rng.random() < 0.5:
            sc["runAsUser"] = 0
        if "procMount" in v:
            sc["procMount"] = "Unmasked"
        if "seLinuxType" in v:
            sc["seLinuxOptions"] = {"type": "spc_t"}
        if "windowsHostProcess" in v:
            sc["windowsOptions"] = {"hostProcess": True}
        if rng.random() < 0.5:
            sc["readOnlyRootFilesystem"] = True
        if sc:
            c["securityContext"] = sc

        if "noResources" not in v:
            req = {"cpu": rng.choice(["50m", "100m", "250m", "500m"]), "memory": rng.choice(["64Mi", "128Mi", "256Mi", "512Mi"])}
            res: dict = {"requests": req}
            if "requestsOnly" not in v:
                res["limits"] = {"cpu": rng.choice(["500m", "1", "2"]), "memory": rng.choice(["256Mi", "512Mi", "1Gi"])}
            c["resources"] = res
        if probes and "noProbes" not in v:
            probe = ({"httpGet": {"path": "/health", "port": "http" if port else 8080}}
                     if rng.random() < 0.7 else
                     {"exec": {"command": ["sh", "-c", "test -f /tmp/healthy"]}})
            c["livenessProbe"] = dict(probe, periodSeconds=10)
            if "livenessOnly" not in v:
                c["readinessProbe"] = dict(probe, periodSeconds=5)
        c["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
        return c

    # ---------------------------------------------------------------- pod spec
    def pod_spec(self, kind: str, v: set[str], app: str) -> dict:
        rng = self.rng
        n = weighted(rng, [(1, 60), (2, 28), (3, 12)])
        long_running = kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod")
        port = rng.choice([8000, 8080, 3000, 9000]) if long_running else None
        containers = [self.container(app if i == 0 else f"{app}-side{i}", v,
                                     probes=long_running, port=port if i == 0 else None)
                      for i in range(n)]
        spec: dict = {}
        if "automount" not in v:
            spec["automountServiceAccountToken"] = False
        if rng.random() < 0.5:
            spec["serviceAccountName"] = app
        psc: dict = {}
        if "noRunAsNonRoot" not in v and "runAsRoot" not in v:
            psc["runAsNonRoot"] = True
            psc["runAsUser"] = rng.choice([1000, 1001, 10001, 65532])
        elif "runAsRoot" in v:
            psc["runAsUser"] = 0
        if "noSeccomp" not in v:
            psc["seccompProfile"] = {"type": "RuntimeDefault"}
        elif rng.random() < 0.3:
            psc["seccompProfile"] = {"type": "Unconfined"}
        if "apparmorUnconfined" in v:
            psc["appArmorProfile"] = {"type": "Unconfined"}
        if "unsafeSysctl" in v:
            psc["sysctls"] = [{"name": "kernel.msgmax", "value": "65536"}]
        if rng.random() < 0.4:
            psc["fsGroup"] = 1000
        if psc:
            spec["securityContext"] = psc
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if flag in v:
                spec[flag] = True
        if rng.random() < 0.15:
            spec["initContainers"] = [self.container("init-migrate", v, probes=False, port=None)]
        spec["containers"] = containers
        vols: list = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        if "hostPath" in v:
            vols.append({"name": "host", "hostPath": {"path": rng.choice(["/var/log", "/var/run/docker.sock", "/etc"]), "type": ""}})
        if rng.random() < 0.4:
            vols.append({"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 0o644}})
        if "rwxClaim" in v and kind in ("Deployment", "Job", "CronJob", "Pod"):
            vols.append({"name": "media", "persistentVolumeClaim": {"claimName": f"{app}-media"}})
        spec["volumes"] = vols
        if kind in ("Job", "CronJob"):
            spec["restartPolicy"] = rng.choice(["OnFailure", "Never"])
        if rng.random() < 0.2:
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
        return spec

    # ---------------------------------------------------------------- objects
    def workload(self, kind: str, app: str, ns: str, compliant: bool) -> tuple[dict, set[str], int]:
        rng = self.rng
        v: set[str] = set()
        if not compliant:
            for _ in range(weighted(rng, [(1, 35), (2, 30), (3, 20), (4, 10), (6, 5)])):
                v.add(weighted(rng, VIOLATIONS))
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns}
        meta: dict = {"name": app, "labels": dict(labels)}
        if "defaultNamespace" in v:
            meta["namespace"] = "default"
        elif rng.random() < 0.85:
            meta["namespace"] = ns
        if rng.random() < 0.2:
            meta["annotations"] = {"prometheus.io/scrape": "true", "prometheus.io/port": "9102"}
        spec_pod = self.pod_spec(kind, v, app)
        template = {"metadata": {"labels": dict(labels)}, "spec": spec_pod}
        replicas = 1
        if kind == "Pod":
            return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec_pod}, v, 1
        if kind in ("Deployment", "StatefulSet"):
            replicas = 1 if "singleReplica" in v else rng.choice([2, 2, 3, 3, 4, 6])
            spec: dict = {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": template}
            if kind == "StatefulSet":
                spec["serviceName"] = app
                mode = "ReadWriteMany" if "rwxClaim" in v else "ReadWriteOnce"
                spec["volumeClaimTemplates"] = [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": [mode], "resources": {"requests": {"storage": rng.choice(["1Gi", "10Gi", "50Gi"])}}},
                }]
                spec_pod["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": "/data"})
            elif rng.random() < 0.3:
                spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
            return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, v, replicas
        if kind == "DaemonSet":
            spec = {"selector": {"matchLabels": dict(labels)}, "template": template,
                    "updateStrategy": {"type": "RollingUpdate"}}
            return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, v, 0
        job_spec = {"backoffLimit": rng.choice([0, 2, 6]), "template": template}
        if rng.random() < 0.4:
            job_spec["ttlSecondsAfterFinished"] = 3600
        if kind == "Job":
            return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": job_spec}, v, 0
        spec = {"schedule": f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *",
                "concurrencyPolicy": rng.choice(["Forbid", "Replace", "Allow"]),
                "jobTemplate": {"spec": job_spec}}
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}, v, 0

    def service(self, app: str, meta_ns: str | None) -> dict:
        meta: dict = {"name": app, "labels": {"app.kubernetes.io/name": app}}
        if meta_ns:
            meta["namespace"] = meta_ns
        ports = [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
        if self.rng.random() < 0.4:
            ports.append({"name": "metrics", "port": 9102, "targetPort": "metrics"})
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": app}, "ports": ports}}

    def pdb(self, app: str, meta_ns: str | None) -> dict:
        meta: dict = {"name": app}
        if meta_ns:
            meta["namespace"] = meta_ns
        spec: dict = {"selector": {"matchLabels": {"app.kubernetes.io/name": app}}}
        if self.rng.random() < 0.5:
            spec["minAvailable"] = 1
        else:
            spec["maxUnavailable"] = self.rng.choice([1, "25%"])
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}

    def hpa(self, app: str, kind: str, meta_ns: str | None) -> dict:
        meta: dict = {"name": app}
        if meta_ns:
            meta["namespace"] = meta_ns
        return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta,
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": app},
                         "minReplicas": self.rng.choice([1, 2, 2, 3]), "maxReplicas": self.rng.choice([4, 6, 10]),
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}

    def netpol(self, ns: str) -> dict:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny-ingress", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]}]}}

    def configmap(self, app: str, meta_ns: str | None) -> dict:
        meta: dict = {"name": f"{app}-config"}
        if meta_ns:
            meta["namespace"] = meta_ns
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {"config.yaml": "log:\n  level: info\nfeatures:\n  audit: true\n", "ENVIRONMENT": "production"}}


def dump(doc: dict) -> str:
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (created; existing app-*.yaml are replaced)")
    ap.add_argument("--workloads", type=int, default=10_000, help="workload documents (default 10000)")
    ap.add_argument("--files", type=int, default=100, help="number of files (default 100)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--index", help="where to write the index (default: <out>.index.json)")
    ap.add_argument("--compliant", type=float, default=0.33, help="share of fully compliant workloads")
    args = ap.parse_args(argv)

    g = Gen(args.seed)
    rng = g.rng
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        if name.startswith("app-") and name.endswith(".yaml"):
            os.remove(os.path.join(args.out, name))

    index = {"seed": args.seed, "files": [], "documents": 0, "workloads": 0, "kinds": {}}
    per_file = [args.workloads // args.files + (1 if i < args.workloads % args.files else 0) for i in range(args.files)]
    for fi, nwork in enumerate(per_file):
        ns = f"team-{fi:03d}"
        parts: list[str] = []
        helm_style = rng.random() < 0.3  # some files look like `helm template` output
        ndocs = nwork_count = 0

        def emit(doc: dict, source: str | None = None) -> None:
            nonlocal ndocs
            head = "---\n"
            if helm_style and source:
                head += f"# Source: {ns}/templates/{source}\n"
            elif rng.random() < 0.05:
                head += "# generated by gen_corpus.py\n"
            parts.append(head + dump(doc))
            ndocs += 1
            index["kinds"][doc["kind"]] = index["kinds"].get(doc["kind"], 0) + 1

        if rng.random() < 0.5:
            emit(g.netpol(ns), "networkpolicy.yaml")
        for wi in range(nwork):
            kind = weighted(rng, WORKLOAD_KINDS)
            app = f"{kind.lower()}-{fi:03d}-{wi:03d}"
            compliant = rng.random() < args.compliant
            doc, v, replicas = g.workload(kind, app, ns, compliant)
            meta_ns = doc["metadata"].get("namespace")
            if rng.random() < 0.2:
                emit(g.configmap(app, meta_ns), f"{app}-configmap.yaml")
            emit(doc, f"{app}.yaml")
            nwork_count += 1
            if kind in ("Deployment", "StatefulSet") and rng.random() < 0.6:
                emit(g.service(app, meta_ns), f"{app}-service.yaml")
            if kind in ("Deployment", "StatefulSet") and replicas > 1 and (compliant or rng.random() < 0.4):
                emit(g.pdb(app, meta_ns), f"{app}-pdb.yaml")
            if kind == "Deployment" and rng.random() < 0.2:
                emit(g.hpa(app, kind, meta_ns), f"{app}-hpa.yaml")
            if "rwxClaim" in v and kind != "StatefulSet":
                emit({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": f"{app}-media", **({"namespace": meta_ns} if meta_ns else {})},
                      "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "10Gi"}}}},
                     f"{app}-pvc.yaml")
        fname = f"app-{fi:03d}.yaml"
        with open(os.path.join(args.out, fname), "w", encoding="utf-8") as fh:
            fh.write("".join(parts))
        index["files"].append({"name": fname, "documents": ndocs, "workloads": nwork_count})
        index["documents"] += ndocs
        index["workloads"] += nwork_count

    index_path = args.index or os.path.normpath(args.out) + ".index.json"
    with open(index_path, "w", encoding="utf-8") as fh:
        json.dump(index, fh, indent=1, sort_keys=True)
    print(f"{args.out}: {index['documents']} documents ({index['workloads']} workloads) in {len(per_file)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
