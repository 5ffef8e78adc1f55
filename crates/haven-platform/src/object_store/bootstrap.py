"""Garage's unattended bootstrap (haven plus render; docs/plus.md, "Object storage").

Run by a Job in Garage's namespace, as often as Flux (re)creates it; every step is idempotent:

1. Layout: every Garage node that is up and has no role gets one (zone GARAGE_ZONE, capacity
   GARAGE_CAPACITY bytes); a node whose capacity differs from the configured one gets the new
   capacity (its zone is kept). Staged changes are applied.
2. Per consumer (CONSUMERS_FILE, JSON): read the credentials External Secrets generated in the
   consumer's own namespace (keys GARAGE_ACCESS_KEY_ID, GARAGE_SECRET_ACCESS_KEY), import that
   key into Garage if it is not there yet, create the consumer's buckets that are missing, and
   grant the key read and write on those buckets only. Keys of an earlier generation of the same
   consumer (same name, other id: the Secret was deleted to rotate it) are deleted.

Python's standard library only: the image is the official Python image, nothing is installed.
"""

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

KEY_ID = "GARAGE_ACCESS_KEY_ID"
SECRET_KEY = "GARAGE_SECRET_ACCESS_KEY"


def log(msg):
    print(msg, flush=True)


class Fatal(Exception):
    """A failure that waiting does not cure (bad credentials, a refused request)."""


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise Fatal(f"{name} is not set")
    return value


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


class Api:
    def __init__(self, base, token, context=None, timeout=10):
        self.base = base.rstrip("/")
        self.token = token
        self.context = context
        self.timeout = timeout

    def call(self, method, path, query=None, body=None, missing_ok=False):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as r:
                text = r.read().decode()
                return json.loads(text) if text.strip() else None
        except urllib.error.HTTPError as e:
            if missing_ok and e.code == 404:
                return None
            detail = e.read().decode(errors="replace")[:500]
            if e.code in (401, 403) or 400 <= e.code < 500 and e.code not in (404, 409, 429):
                raise Fatal(f"{method} {path}: HTTP {e.code}: {detail}") from None
            raise RuntimeError(f"{method} {path}: HTTP {e.code}: {detail}") from None


def retry(what, fn, deadline):
    """Runs fn until it returns a true value or the deadline passes; backs off up to 30 s."""
    pause = 2
    while True:
        try:
            value = fn()
            if value:
                return value
            reason = "not yet"
        except Fatal:
            raise
        except (OSError, RuntimeError, ValueError) as e:
            reason = str(e)
        if time.monotonic() + pause > deadline:
            raise Fatal(f"gave up waiting for {what}: {reason}")
        log(f"waiting for {what}: {reason}")
        time.sleep(pause)
        pause = min(pause * 2, 30)


def layout(garage, nodes, zone, capacity, deadline):
    def enough_up():
        status = garage.call("GET", "/v2/GetClusterStatus")
        up = [n for n in status["nodes"] if n.get("isUp")]
        return up if len(up) >= nodes else None

    up = retry(f"{nodes} Garage nodes up", enough_up, deadline)
    current = garage.call("GET", "/v2/GetClusterLayout")
    roles = {r["id"]: r for r in current.get("roles", [])}
    staged = {c["id"] for c in current.get("stagedRoleChanges", [])}
    changes = []
    for node in sorted(up, key=lambda n: n["id"]):
        role = roles.get(node["id"])
        if node["id"] in staged:
            continue
        if role is None:
            changes.append({"id": node["id"], "zone": zone, "capacity": capacity, "tags": []})
        elif role.get("capacity") is not None and role["capacity"] != capacity:
            changes.append(
                {"id": node["id"], "zone": role["zone"], "capacity": capacity, "tags": role.get("tags", [])}
            )
    if changes:
        log(f"layout: assigning {len(changes)} node(s): zone {zone}, capacity {capacity} bytes")
        garage.call("POST", "/v2/UpdateClusterLayout", body={"roles": changes})
        current = garage.call("GET", "/v2/GetClusterLayout")
    if current.get("stagedRoleChanges"):
        version = current["version"] + 1
        log(f"layout: applying version {version}")
        garage.call("POST", "/v2/ApplyClusterLayout", body={"version": version})
    else:
        log(f"layout: version {current['version']} already assigns every node")


def credentials(kube, consumer, deadline):
    path = f"/api/v1/namespaces/{consumer['namespace']}/secrets/{consumer['secret']}"

    def fetch():
        secret = kube.call("GET", path, missing_ok=True)
        if secret is None:
            raise RuntimeError(f"Secret {consumer['namespace']}/{consumer['secret']} does not exist yet")
        data = secret.get("data") or {}
        if KEY_ID not in data or SECRET_KEY not in data:
            raise Fatal(f"Secret {consumer['namespace']}/{consumer['secret']} lacks {KEY_ID} or {SECRET_KEY}")
        return base64.b64decode(data[KEY_ID]).decode(), base64.b64decode(data[SECRET_KEY]).decode()

    return retry(f"Secret {consumer['namespace']}/{consumer['secret']}", fetch, deadline)


def grant(garage, kube, consumer, keys, deadline):
    key_id, secret = credentials(kube, consumer, deadline)
    name = f"haven:{consumer['namespace']}/{consumer['secret']}"
    if key_id not in {k["id"] for k in keys}:
        log(f"key {key_id} ({name}): importing")
        garage.call(
            "POST",
            "/v2/ImportKey",
            body={"accessKeyId": key_id, "secretAccessKey": secret, "name": name},
        )
    else:
        log(f"key {key_id} ({name}): present")
    for alias in consumer["buckets"]:
        bucket = garage.call("GET", "/v2/GetBucketInfo", query={"globalAlias": alias}, missing_ok=True)
        if bucket is None:
            log(f"bucket {alias}: creating")
            bucket = garage.call("POST", "/v2/CreateBucket", body={"globalAlias": alias})
        else:
            log(f"bucket {alias}: present")
        # Garage v2.1.0 on lists only the keys with some permission on the bucket: a key that is
        # not listed has none.
        granted = {k["accessKeyId"]: k["permissions"] for k in bucket.get("keys", [])}
        perms = granted.get(key_id, {})
        if not (perms.get("read") and perms.get("write")):
            log(f"bucket {alias}: granting read and write to {key_id}")
            garage.call(
                "POST",
                "/v2/AllowBucketKey",
                body={
                    "bucketId": bucket["id"],
                    "accessKeyId": key_id,
                    "permissions": {"read": True, "write": True, "owner": False},
                },
            )
    for old in keys:
        if old["name"] == name and old["id"] != key_id:
            log(f"key {old['id']} ({name}): an earlier generation, deleting")
            garage.call("POST", "/v2/DeleteKey", query={"id": old["id"]})


def main():
    deadline = time.monotonic() + int(env("DEADLINE_SECONDS", "600"))
    garage = Api(env("GARAGE_ADMIN"), read(env("GARAGE_ADMIN_TOKEN_FILE")))
    kube_api = env("KUBE_API", "https://kubernetes.default.svc")
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    context = None
    if kube_api.startswith("https://"):
        context = ssl.create_default_context(cafile=env("KUBE_CA_FILE", f"{sa}/ca.crt"))
    kube = Api(kube_api, read(env("KUBE_TOKEN_FILE", f"{sa}/token")), context)
    with open(env("CONSUMERS_FILE"), encoding="utf-8") as f:
        consumers = json.load(f)
    layout(garage, int(env("GARAGE_NODES")), env("GARAGE_ZONE"), int(env("GARAGE_CAPACITY")), deadline)

    def grant_all():
        # Until a layout is applied and has reached the nodes, Garage (v2.1.0 on) answers the
        # key and bucket calls with 500 "Layout not ready", or 503 while it lacks a quorum:
        # waited on like the rest. Every step is idempotent, and the keys are listed again on
        # each try, so a try cut short is taken up where it stopped.
        keys = garage.call("GET", "/v2/ListKeys")
        for consumer in consumers:
            grant(garage, kube, consumer, keys, deadline)
        return True

    retry("Garage's keys and buckets", grant_all, deadline)
    log(f"done: {len(consumers)} consumer(s) have a key and their buckets")


if __name__ == "__main__":
    try:
        main()
    except (Fatal, RuntimeError, OSError, ValueError, KeyError) as e:
        # The Job retries (backoffLimit); the message is what `kubectl logs` shows.
        log(f"error: {type(e).__name__}: {e}" if not isinstance(e, Fatal) else f"error: {e}")
        sys.exit(1)
