#!/usr/bin/env bash
# Load test of `haven admission serve` on loopback, side by side with a null responder on the
# same TLS/HTTP stack (always allows, no evaluation) as the ceiling.
#
#   bench/admission.sh [--no-build] [--binary PATH] [--pin] [--rounds N] [--rate RPS]
#                      [--soak SECONDS] [--no-engine] [--scenarios-only] [--no-scenarios]
#
# Drives a mix of AdmissionReviews (allowed and denied pods, deployments, shaped as an API server
# sends them: see bench/admission-bodies.py) with wrk (Debian package, installed when missing
# and running as root) at 50, 200 and 500 connections, and prints RPS, p50/p95/p99 and server
# CPU per request for both servers. The throughput target is judged on --rounds (default 5)
# alternating runs of the two servers at 200 connections: each round's ratio is printed, and
# the median is judged, because this machine's speed drifts by more than the gap being
# measured within a minute, and a single pair of runs catches that drift as often as not.
# These runs saturate the server, so their latencies are mostly queueing (the null responder's
# too). The latency target is therefore also measured at a fixed rate below saturation: h2load
# (Debian package nghttp2-client, installed likewise) sends the same mix at --rate requests/s
# in total (default 1000) over 200 connections, and the script prints p50/p95/p99 from its
# per-request log. --soak runs 200 connections for the given time (>= 300 for the issue's
# soak) after a 60 s warm-up at that load, and prints RSS each minute and the growth from the
# end of the warm-up.
# An HTTP/2 run follows (h2load, 20 connections of 10 streams, saturating, the same mix): the
# protocol an API server speaks to its webhooks, printed side by side, not judged.
# --pin puts the servers on CPU 0 and wrk (one thread) on CPU 1, so that the load generator does
# not steal the server's core: closer to a webhook pod with its own CPU.
# A third server runs with the engine decoder alone (--engine-only: every request through
# haven_rules::check, no fast decoder), measured beside the others (--no-engine leaves it out):
# whether it keeps p99 <= 5 ms at the fixed rate and >= 50% of the null responder's throughput
# decides whether the fast decoder is still needed (issue #27).
# The null responder and --engine-only exist only in a build with the `bench` feature, which
# this script makes with its own profile (target/bench-release/haven), so that no release
# binary ever has them. --binary runs another build (the hardening scenarios need no bench
# feature: `--binary target/debug/haven --scenarios-only` checks them on a debug build).
# Then the hardening scenarios of issue #25 (bench/admission-attack.py): idle connections
# beyond the limits, file descriptors exhausted, SIGTERM under load; each prints the webhook's
# RSS or the failed requests and PASS/MISS. --scenarios-only runs just those, --no-scenarios
# skips them.
# All load comes from 127.0.0.1, so the servers under load get a per-client connection limit
# above the 500 connections of the largest run (a webhook in a cluster keeps the default 128).
# Not part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
build=1 soak=0 pin=0 rate=1000 rounds=5 engine=1 scenarios=1 load=1 binary=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --binary) binary=$2; build=0; shift ;;
    --no-engine) engine=0 ;;
    --scenarios-only) load=0 ;;
    --no-scenarios) scenarios=0 ;;
    --pin) pin=1 ;;
    --rate) rate=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --soak) soak=$2; shift ;;
    *) echo "admission.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $load = 1 ]; then
  command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is required" >&2; exit 1; }
  command -v h2load >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq nghttp2-client >/dev/null; } || { echo "h2load (nghttp2-client) is required" >&2; exit 1; }
fi
[ $build = 1 ] && cargo build --profile bench-release --features bench --quiet -p haven-cli --manifest-path "$ROOT/Cargo.toml"
HAVEN=${binary:-${CARGO_TARGET_DIR:-$ROOT/target}/bench-release/haven}
[ -x "$HAVEN" ] || { echo "no haven binary at $HAVEN" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
# The servers start inside command substitutions, so they are not jobs of this shell: kill them by PID.
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Certificates: a CA and a serving certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$WORK/ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 -extfile "$WORK/ext" -out "$WORK/tls.crt" 2>/dev/null

python3 "$ROOT/bench/admission-bodies.py" "$WORK"

scenarios() {
  echo
  echo "hardening scenarios (issue #25; bench/admission-attack.py, $HAVEN)"
  python3 "$ROOT/bench/admission-attack.py" all --haven "$HAVEN" --work "$WORK"
}
if [ $load = 0 ]; then
  scenarios
  exit $?
fi
"$HAVEN" admission serve --help | grep -q -- --null-responder || {
  echo "$HAVEN has no --null-responder: build it with --features bench (or use --scenarios-only)" >&2; exit 1; }

SERVER_CPU=() WRK_CPU=() WRK_THREADS=2
if [ "$pin" = 1 ]; then SERVER_CPU=(taskset -c 0) WRK_CPU=(taskset -c 1) WRK_THREADS=1; fi
start() { # port, extra args
  "${SERVER_CPU[@]}" "$HAVEN" admission serve --cert "$WORK/tls.crt" --key "$WORK/tls.key" --listen "127.0.0.1:$1" --no-watch \
    --max-connections 2000 --max-connections-per-client 2000 "${@:2}" >/dev/null 2>&1 &
  echo $!
  for _ in $(seq 50); do curl -sk "https://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
}
for port in 18443 18444 18445; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use (a server left running?)" >&2; exit 1; fi
done
HAVEN_PID=$(start 18443)
PIDS+=("$HAVEN_PID")
NULL_PID=$(start 18444 --null-responder)
PIDS+=("$NULL_PID")
SERVERS=(haven null)
if [ "$engine" = 1 ]; then
  ENGINE_PID=$(start 18445 --engine-only)
  PIDS+=("$ENGINE_PID")
  SERVERS=(haven engine null)
fi
port_of() { case $1 in haven) echo 18443 ;; null) echo 18444 ;; engine) echo 18445 ;; esac; }
pid_of() { case $1 in haven) echo "$HAVEN_PID" ;; null) echo "$NULL_PID" ;; engine) echo "$ENGINE_PID" ;; esac; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() { # port connections seconds
  BODIES="$WORK" "${WRK_CPU[@]}" wrk -t"$WRK_THREADS" -c"$2" -d"$3"s --timeout 5s -s "$ROOT/bench/admission.lua" "https://127.0.0.1:$1" | grep RESULT
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

if [ "$pin" = 1 ]; then cores="server on CPU 0, wrk on CPU 1"; else cores="2 cores shared by server and wrk"; fi
echo "haven admission benchmark (loopback, $cores, ${DURATION}s per point)"
# Server CPU time per request (user + system, from /proc): unlike requests/s, hardly moved by
# whatever else runs on the machine, and its null/haven ratio is the throughput ratio the two
# would reach on a core of their own.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf '%-6s %-8s %10s %9s %9s %9s %7s %8s\n' conns server rps p50_ms p95_ms p99_ms errors cpu_us
for c in 50 200 500; do
  for who in "${SERVERS[@]}"; do
    port=$(port_of $who) pid=$(pid_of $who)
    before=$(cpu_ticks "$pid")
    line=$(run $port $c "$DURATION")
    cpu=$(python3 -c "print(f'{($(cpu_ticks "$pid") - $before) / $(getconf CLK_TCK) * 1e6 / max(1, $(echo "$line" | field requests)):.1f}')")
    printf '%-6s %-8s %10s %9s %9s %9s %7s %8s\n' "$c" "$who" "$(echo "$line" | field rps)" "$(echo "$line" | field p50)" \
      "$(echo "$line" | field p95)" "$(echo "$line" | field p99)" "$(( $(echo "$line" | field errors) + $(echo "$line" | field non2xx) ))" "$cpu"
    eval "rps_${who}_$c=$(echo "$line" | field rps)"
    eval "p99_${who}_$c=$(echo "$line" | field p99)"
    eval "cpu_${who}_$c=$cpu"
  done
done
cpu_ratio=$(python3 -c "print(f'{${cpu_null_200}/${cpu_haven_200}*100:.0f}')")
echo
verdict() { python3 -c "import sys; print('PASS' if $1 else 'MISS')"; }

# The throughput target: alternating rounds at 200 connections, haven then null, each round's
# ratio from the two runs next to each other in time.
echo "throughput at 200 connections, ${rounds} alternating rounds of ${DURATION}s per server"
if [ "$engine" = 1 ]; then
  printf '%-6s %10s %10s %10s %7s %7s\n' round haven_rps engine_rps null_rps ratio engine
else
  printf '%-6s %10s %10s %7s\n' round haven_rps null_rps ratio
fi
ratios=() engine_ratios=()
for r in $(seq "$rounds"); do
  h=$(run 18443 200 "$DURATION" | field rps)
  [ "$engine" = 1 ] && e=$(run 18445 200 "$DURATION" | field rps)
  n=$(run 18444 200 "$DURATION" | field rps)
  q=$(python3 -c "print(f'{$h/$n*100:.0f}')")
  ratios+=("$q")
  if [ "$engine" = 1 ]; then
    eq=$(python3 -c "print(f'{$e/$n*100:.0f}')")
    engine_ratios+=("$eq")
    printf '%-6s %10s %10s %10s %6s%% %6s%%\n' "$r" "$h" "$e" "$n" "$q" "$eq"
  else
    printf '%-6s %10s %10s %6s%%\n' "$r" "$h" "$n" "$q"
  fi
done
median() { python3 -c "import statistics; print(f'{statistics.median([$(IFS=,; echo "$*")]):.0f}')"; }
ratio=$(median "${ratios[@]}")
echo "throughput vs null responder at 200 connections, median of ${rounds} rounds: ${ratio}%  (target >= 70%: $(verdict "${ratio} >= 70"))"
if [ "$engine" = 1 ]; then
  engine_ratio=$(median "${engine_ratios[@]}")
  echo "engine decoder alone vs null responder, median of ${rounds} rounds: ${engine_ratio}%  (target >= 50%: $(verdict "${engine_ratio} >= 50"))"
fi
echo "server CPU per request at 200 connections: haven ${cpu_haven_200} µs, null ${cpu_null_200} µs (null/haven ${cpu_ratio}%)"
# wrk keeps every connection busy: at saturation each request waits behind the others
# (latency ~ connections / throughput), for the null responder too. The latency target is
# therefore judged at the fixed rate below.
echo "p99 at 200 connections, saturated: haven ${p99_haven_200} ms, null ${p99_null_200} ms  (queueing; the 5 ms target is judged at a fixed rate below)"

# Fixed rate: the mix as three h2load streams (60% allowed pods, 20% denied pods, 20%
# deployments) at rate/200 requests/s per connection, one request in flight per connection,
# measured after 2 s of warm-up (connections and TLS handshakes made).
fixed() { # port -> "rps p50 p95 p99 errors"
  local per
  per=$(python3 -c "print($rate / 200)")
  for spec in allowed-pod:120 denied-pod:40 deployment:40; do
    name=${spec%%:*} conns=${spec##*:}
    sed "s/__UID__/fixed-$name/" "$WORK/$name.json" > "$WORK/$name.fixed.json"
    rm -f "$WORK/$name.log" # h2load appends
    "${WRK_CPU[@]}" h2load --h1 -c "$conns" -t 1 --rps "$per" --warm-up-time 2 -D "$DURATION" -d "$WORK/$name.fixed.json" \
      -H 'Content-Type: application/json' --log-file "$WORK/$name.log" "https://127.0.0.1:$1/validate" >/dev/null 2>&1 &
  done
  wait
  python3 - "$WORK" "$DURATION" <<'PY'
import sys
work = sys.argv[1]
rows = []
for name in ("allowed-pod", "denied-pod", "deployment"):
    for line in open(f"{work}/{name}.log"):
        start, status, micros = line.split()[:3]
        rows.append((int(start), status, int(micros)))
# h2load logs the measured period only (after the warm-up, with every connection made).
window = float(sys.argv[2])
lat = sorted(r[2] / 1000 for r in rows)
errors = sum(r[1] != "200" for r in rows)
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))]
print(f"{len(lat) / window:.0f} {pct(50):.3f} {pct(95):.3f} {pct(99):.3f} {errors}")
PY
}
echo
echo "fixed rate: ${rate} requests/s over 200 connections (h2load, one request in flight per connection)"
printf '%-8s %10s %9s %9s %9s %7s\n' server rps p50_ms p95_ms p99_ms errors
for who in "${SERVERS[@]}"; do
  port=$(port_of $who)
  read -r f_rps f_p50 f_p95 f_p99 f_err <<< "$(fixed $port)"
  printf '%-8s %10s %9s %9s %9s %7s\n' "$who" "$f_rps" "$f_p50" "$f_p95" "$f_p99" "$f_err"
  eval "fixed_p99_$who=$f_p99"
done
echo "p99 at a fixed ${rate} requests/s over 200 connections: ${fixed_p99_haven} ms  (target <= 5 ms: $(verdict "${fixed_p99_haven} <= 5"))"
if [ "$engine" = 1 ]; then
  echo "p99 of the engine decoder alone at ${rate} requests/s: ${fixed_p99_engine} ms  (target <= 5 ms: $(verdict "${fixed_p99_engine} <= 5"))"
  echo "the fast decoder can go (engine alone >= 50% of null and p99 <= 5 ms): $(verdict "${engine_ratio} >= 50 and ${fixed_p99_engine} <= 5")"
fi

# HTTP/2, as an API server talks to its webhooks (Go's client negotiates h2 by ALPN): the same
# mix over 20 connections of 10 concurrent streams each, saturating. Not the judged figure (the
# issue's target is set for the HTTP/1.1 runs above), printed because the protocol changes the
# ceiling: on HTTP/2 the stack costs less per request, so the review is a larger share.
h2sat() { # port pid -> "rps cpu_us errors"
  local before total=0 errors=0 spec name conns
  before=$(cpu_ticks "$2")
  for spec in allowed-pod:12 denied-pod:4 deployment:4; do
    name=${spec%%:*} conns=${spec##*:}
    "${WRK_CPU[@]}" h2load -c "$conns" -m 10 -t 1 -D "$DURATION" -d "$WORK/$name.fixed.json" \
      -H 'Content-Type: application/json' "https://127.0.0.1:$1/validate" > "$WORK/$name.h2.out" 2>&1 &
  done
  wait
  for name in allowed-pod denied-pod deployment; do
    total=$(( total + $(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$WORK/$name.h2.out") ))
    errors=$(( errors + $(sed -n 's/^requests: .* \([0-9]*\) failed, \([0-9]*\) errored.*/\1 + \2/p' "$WORK/$name.h2.out") ))
  done
  python3 -c "print(f'{$total / $DURATION:.0f} {($(cpu_ticks "$2") - $before) / $(getconf CLK_TCK) * 1e6 / max(1, $total):.1f} $errors')"
}
echo
echo "HTTP/2 (h2load, 20 connections x 10 streams, same mix; not judged)"
printf '%-8s %10s %8s %7s\n' server rps cpu_us errors
read -r h2_rps_haven h2_cpu_haven h2_err <<< "$(h2sat 18443 "$HAVEN_PID")"
printf '%-8s %10s %8s %7s\n' haven "$h2_rps_haven" "$h2_cpu_haven" "$h2_err"
read -r h2_rps_null h2_cpu_null h2_err <<< "$(h2sat 18444 "$NULL_PID")"
printf '%-8s %10s %8s %7s\n' null "$h2_rps_null" "$h2_cpu_null" "$h2_err"
echo "HTTP/2 throughput vs null responder: $(python3 -c "print(f'{$h2_rps_haven/$h2_rps_null*100:.0f}')")%"
echo "haven RSS: $(rss "$HAVEN_PID") KiB"
if [ "$soak" -gt 0 ]; then
  # Under full load, RSS climbs to a plateau within the first half minute (the buffers of 200
  # saturated connections, the allocator's pages per thread), from the level the light
  # fixed-rate run above leaves. Growth is judged from the end of a 60 s warm-up at the soak's
  # load, and RSS is printed each minute, so that a leak shows as a trend and the warm-up does
  # not count as one.
  run 18443 200 60 >/dev/null
  start_rss=$(rss "$HAVEN_PID")
  samples="$start_rss" left=$soak
  while [ "$left" -gt 0 ]; do
    step=$(( left < 60 ? left : 60 ))
    run 18443 200 "$step" >/dev/null
    samples="$samples $(rss "$HAVEN_PID")"
    left=$(( left - step ))
  done
  end_rss=$(rss "$HAVEN_PID")
  growth=$(python3 -c "print(f'{(${end_rss}-${start_rss})/${start_rss}*100:+.1f}')")
  echo "soak ${soak}s at 200 connections, after a 60 s warm-up: RSS each minute ${samples// / -> } KiB"
  echo "soak growth: ${start_rss} KiB -> ${end_rss} KiB (${growth}%, target < +10%: $(verdict "${growth} < 10"))"
fi
[ "$scenarios" = 1 ] && scenarios
exit 0
