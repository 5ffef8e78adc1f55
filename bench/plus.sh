#!/usr/bin/env bash
# Benchmark `haven plus`: for every provider, init + render + validate the default platform (with
# one tenant) with the release binary and print the wall time of render and of validate.
#
#   bench/plus.sh [--no-build] [--crd-schemas DIR]
#
# Validation uses the CRD schemas built into the binary; --crd-schemas DIR adds a directory.
# Then `haven plus vendor --from` the local chart mirror (HAVEN_CHART_MIRROR, default
# ../shared/charts) for every catalogue component, and `haven plus validate --charts` of the
# kind provider's tree with those charts (Helm: HAVEN_HELM, default tools/helm): wall time and
# peak memory (GNU time), and for --charts Helm's share apart from the validation's.
# Targets (issue 19): validate --charts < 10 s including rendering, the validation < 1 s.
#
# HAVEN_BIN=path/to/haven runs another build (e.g. target/debug/haven; implies --no-build).
#
# Target: render + validate < 1 s per provider. Not part of the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCHEMAS=${HAVEN_CRD_SCHEMAS:-}
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --crd-schemas) SCHEMAS=$2; shift ;;
    *) echo "plus.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$SCHEMAS" ] || [ -d "$SCHEMAS" ] || { echo "plus.sh: no CRD schemas at $SCHEMAS" >&2; exit 2; }
extra=(); [ -n "$SCHEMAS" ] && extra=(--crd-schemas "$SCHEMAS")
[ -n "${HAVEN_BIN:-}" ] && build=0
[ $build = 1 ] && cargo build --release --quiet -p haven-cli --manifest-path "$ROOT/Cargo.toml"
HAVEN=${HAVEN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/haven}
[ -x "$HAVEN" ] || { echo "plus.sh: no haven binary at $HAVEN" >&2; exit 2; }
HAVEN=$(realpath "$HAVEN")   # the steps below run in other directories
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
printf '%-10s %8s %10s %8s %7s %s\n' provider files render_s validate_s total_s 'target(<1s)'

for p in previder cyso ovh azure kind generic; do
  d=$WORK/$p; mkdir -p "$d"
  (cd "$d" && "$HAVEN" plus init --provider "$p" --domain example.nl 2>/dev/null \
     && "$HAVEN" plus tenant add zaken --group zaken-devs --repo https://git.example.nl/zaken.git 2>/dev/null)
  t0=$(now)
  (cd "$d" && "$HAVEN" plus render 2>/dev/null)
  t1=$(now)
  (cd "$d" && "$HAVEN" plus validate . "${extra[@]}" >"$d.out") || { cat "$d.out"; exit 1; }
  t2=$(now)
  files=$(find "$d/clusters" "$d/infrastructure" "$d/tenants" -name '*.yaml' | wc -l)
  awk -v p="$p" -v f="$files" -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN { printf "%-10s %8d %10.3f %8.3f %7.3f %s\n", p, f, b-a, c-b, c-a, (c-a < 1 ? "met" : "MISSED") }'
done

MIRROR=${HAVEN_CHART_MIRROR:-$ROOT/../shared/charts}
HELM=${HAVEN_HELM:-$ROOT/tools/helm}
if [ -d "$MIRROR" ] && [ -x /usr/bin/time ]; then
  d=$WORK/vendor; mkdir -p "$d"
  (cd "$d" && "$HAVEN" plus init --provider kind --domain example.nl 2>/dev/null)
  # The components this mirror cannot verify (not mirrored, or dependencies missing) are skipped,
  # and gateway-api, whose directory a chart mirror does not hold. The time includes rendering
  # the selected platform's charts with Helm for images.txt.
  (cd "$d" && /usr/bin/time -f '%e %M' -o "$WORK/vendor.time" "$HAVEN" plus vendor --all-components \
     --from "$MIRROR" -o out --skip garage --skip mimir --skip falco --skip loki \
     --skip kube-prometheus-stack --skip gateway-api --helm "$HELM" 2>"$WORK/vendor.err") \
     || { cat "$WORK/vendor.err"; exit 1; }
  read -r secs kib < "$WORK/vendor.time"
  charts=$(find "$d/out" -mindepth 2 -maxdepth 2 -name Chart.yaml | wc -l)
  awk -v s="$secs" -v k="$kib" -v c="$charts" \
    'BEGIN { printf "vendor --from mirror: %d charts, %.3f s, peak %.1f MiB\n", c, s, k/1024 }'
else
  echo "vendor: skipped (no chart mirror at $MIRROR or no /usr/bin/time)"
fi

if [ -f "$WORK/vendor/out/haven-vendor.json" ] && [ -x /usr/bin/time ]; then
  (cd "$WORK/kind" && HAVEN_TIMINGS=1 /usr/bin/time -f '%e %M' -o "$WORK/charts.time" \
     "$HAVEN" plus validate . --charts "$WORK/vendor/out" --helm "$HELM" "${extra[@]}" \
     >"$WORK/charts.out" 2>"$WORK/charts.err") || { cat "$WORK/charts.out" "$WORK/charts.err"; exit 1; }
  read -r secs kib < "$WORK/charts.time"
  split=$(grep -o 'rendered in [0-9.]* s, the platform validated in [0-9.]* s' "$WORK/charts.err" || true)
  awk -v s="$secs" -v k="$kib" -v sp="$split" \
    'BEGIN { printf "validate --charts (kind): %.3f s, peak %.1f MiB (%s); target < 10 s: %s\n", s, k/1024, sp, (s < 10 ? "met" : "MISSED") }'
  tail -1 "$WORK/charts.out"
  # The proofs on the full platform with 50 tenants (issue 20: the flow analysis < 1 s).
  d=$WORK/kind50; mkdir -p "$d"
  (cd "$d" && "$HAVEN" plus init --provider kind --domain example.nl 2>/dev/null \
     && for i in $(seq -w 1 50); do "$HAVEN" plus tenant add "team$i" --group "team$i-devs" \
          --repo "https://git.example.nl/team$i.git" >/dev/null 2>&1; done \
     && "$HAVEN" plus render 2>/dev/null)
  (cd "$d" && HAVEN_TIMINGS=1 "$HAVEN" plus validate . --charts "$WORK/vendor/out" --helm "$HELM" \
     "${extra[@]}" >"$WORK/kind50.out" 2>"$WORK/kind50.err") \
     || { cat "$WORK/kind50.out" "$WORK/kind50.err"; exit 1; }
  flows=$(grep -o 'the flow analysis in [0-9.]* s' "$WORK/kind50.err" | grep -o '[0-9.]* s' || true)
  proofs=$(grep -o 'proofs in [0-9.]* s' "$WORK/kind50.err" | grep -o '[0-9.]* s' || true)
  tenants=$(find "$d/tenants" -mindepth 1 -maxdepth 1 -type d | wc -l)
  echo "validate --charts (kind, $tenants tenants): proofs ${proofs:-?}, flow analysis ${flows:-?}; target < 1 s"
  tail -1 "$WORK/kind50.out"
else
  echo "validate --charts: skipped (no vendored charts or no /usr/bin/time)"
fi
