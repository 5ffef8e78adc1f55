#!/usr/bin/env bash
# Load test of `haven admission serve` on loopback, side by side with a null responder on the
# same TLS/HTTP stack (always allows, no evaluation) as the ceiling.
#
#   bench/admission.sh [--no-build] [--pin] [--soak SECONDS]
#
# Drives a mix of AdmissionReviews (allowed and denied pods, deployments) with wrk (Debian
# package, installed when missing and running as root) at 50, 200 and 500 connections, and
# prints RPS and p50/p95/p99 for both servers and the throughput ratio. --soak runs 200
# connections for the given time (>= 300 for the issue's soak) and prints RSS at start and end.
# --pin puts the servers on CPU 0 and wrk (one thread) on CPU 1, so that the load generator does
# not steal the server's core: closer to a webhook pod with its own CPU.
# Not part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
build=1 soak=0 pin=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --pin) pin=1 ;;
    --soak) soak=$2; shift ;;
    *) echo "admission.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is required" >&2; exit 1; }
[ $build = 1 ] && cargo build --release --quiet -p haven-cli --manifest-path "$ROOT/Cargo.toml"
HAVEN=${CARGO_TARGET_DIR:-$ROOT/target}/release/haven
WORK=$(mktemp -d)
PIDS=()
# The servers start inside command substitutions, so they are not jobs of this shell: kill them by PID.
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Certificates: a CA and a serving certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$WORK/ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 -extfile "$WORK/ext" -out "$WORK/tls.crt" 2>/dev/null

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def review(kind, group, obj):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "__UID__", "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": kind.lower() + "s"},
        "namespace": "zaken", "operation": "CREATE", "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": obj}}
restricted = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
def pod(sc):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-7d9c-", "labels": {"app": "web"}, "annotations": {"prometheus.io/scrape": "true"}},
            "spec": {"containers": [{"name": "web", "image": "registry.example.nl/web:1.4.2", "ports": [{"name": "http", "containerPort": 8080}],
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                                     "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}}, "securityContext": sc},
                                    {"name": "nginx", "image": "nginxinc/nginx-unprivileged:1.27", "securityContext": sc}],
                     "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "media", "persistentVolumeClaim": {"claimName": "media"}}]}}
deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": pod(restricted)["metadata"], "spec": pod({})["spec"]}}}
for name, body in [("allowed-pod", review("Pod", "", pod(restricted))), ("denied-pod", review("Pod", "", pod({"privileged": True}))),
                   ("deployment", review("Deployment", "apps", deploy))]:
    json.dump(body, open(f"{work}/{name}.json", "w"))
PY

SERVER_CPU=() WRK_CPU=() WRK_THREADS=2
if [ "$pin" = 1 ]; then SERVER_CPU=(taskset -c 0) WRK_CPU=(taskset -c 1) WRK_THREADS=1; fi
start() { # port, extra args
  "${SERVER_CPU[@]}" "$HAVEN" admission serve --cert "$WORK/tls.crt" --key "$WORK/tls.key" --listen "127.0.0.1:$1" --no-watch "${@:2}" >/dev/null 2>&1 &
  echo $!
  for _ in $(seq 50); do curl -sk "https://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
}
for port in 18443 18444; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use (a server left running?)" >&2; exit 1; fi
done
HAVEN_PID=$(start 18443)
PIDS+=("$HAVEN_PID")
NULL_PID=$(start 18444 --null-responder)
PIDS+=("$NULL_PID")
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() { # port connections seconds
  BODIES="$WORK" "${WRK_CPU[@]}" wrk -t"$WRK_THREADS" -c"$2" -d"$3"s --timeout 5s -s "$ROOT/bench/admission.lua" "https://127.0.0.1:$1" | grep RESULT
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

if [ "$pin" = 1 ]; then cores="server on CPU 0, wrk on CPU 1"; else cores="2 cores shared by server and wrk"; fi
echo "haven admission benchmark (loopback, $cores, ${DURATION}s per point)"
printf '%-6s %-8s %10s %9s %9s %9s %7s\n' conns server rps p50_ms p95_ms p99_ms errors
for c in 50 200 500; do
  for who in haven null; do
    port=18443; [ $who = null ] && port=18444
    line=$(run $port $c "$DURATION")
    printf '%-6s %-8s %10s %9s %9s %9s %7s\n' "$c" "$who" "$(echo "$line" | field rps)" "$(echo "$line" | field p50)" \
      "$(echo "$line" | field p95)" "$(echo "$line" | field p99)" "$(( $(echo "$line" | field errors) + $(echo "$line" | field non2xx) ))"
    eval "rps_${who}_$c=$(echo "$line" | field rps)"
    eval "p99_${who}_$c=$(echo "$line" | field p99)"
  done
done
ratio=$(python3 -c "print(f'{${rps_haven_200}/${rps_null_200}*100:.0f}')")
echo
echo "throughput vs null responder at 200 connections: ${ratio}%  (target >= 70%)"
echo "p99 at 200 connections: ${p99_haven_200} ms  (target <= 5 ms)"
echo "haven RSS: $(rss "$HAVEN_PID") KiB"
if [ "$soak" -gt 0 ]; then
  start_rss=$(rss "$HAVEN_PID")
  run 18443 200 "$soak" >/dev/null
  end_rss=$(rss "$HAVEN_PID")
  echo "soak ${soak}s at 200 connections: RSS ${start_rss} KiB -> ${end_rss} KiB ($(python3 -c "print(f'{(${end_rss}-${start_rss})/${start_rss}*100:+.1f}')")%, target < +10%)"
fi
