#!/usr/bin/env bash
# Benchmark of `haven check` against a synthetic cluster of 5,000 nodes and 150,000 pods served
# by the in-process fake API server (crates/haven-test-support, binary haven-fake-apiserver) on
# loopback. Prints wall time, peak RSS of haven, and the number of API requests the server
# answered. Targets: < 10 s, < 500 MiB. Not part of the test suite.
#
#   bench/check.sh [--no-build] [NODES,PODS[,ZONES]]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=1 size=5000,150000,3
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *,*) size=$a ;;
    *) echo "check.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
[ $build = 1 ] && cargo build --release --quiet -p haven-cli -p haven-test-support --manifest-path "$ROOT/Cargo.toml"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

"$BIN/haven-fake-apiserver" --synthetic "$size" --kubeconfig-out "$WORK/kubeconfig" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
for _ in $(seq 1 600); do [ -s "$WORK/kubeconfig" ] && break; sleep 0.1; done
[ -s "$WORK/kubeconfig" ] || { echo "the fake API server did not start:" >&2; cat "$WORK/server.err" >&2; exit 1; }

# Peak RSS and wall time of the child, measured by Python's resource module (no GNU time needed).
python3 - "$BIN/haven" "$WORK/kubeconfig" <<'PY'
import resource, subprocess, sys, time
haven, kubeconfig = sys.argv[1], sys.argv[2]
start = time.monotonic()
p = subprocess.run([haven, "check", "--kubeconfig", kubeconfig, "--timeout", "60s", "-o", "json"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.monotonic() - start
rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
import json
try:
    s = json.loads(p.stdout)["CompliancyChecks"]["Summary"]
    summary = f"{s['Passed']} passed, {s['Failed']} failed, {s['Unknown']} unknown"
except Exception:
    summary = "no JSON: " + p.stderr.decode()[:300]
print(f"haven check: exit {p.returncode}, {summary}")
print(f"wall time:   {wall:.2f} s   (target < 10 s)")
print(f"peak RSS:    {rss_mib:.0f} MiB (target < 500 MiB)")
PY
kill -INT "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=
grep -h '^requests:' "$WORK/server.out" | sed 's/^requests:/API requests:/'
