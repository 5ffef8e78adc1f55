#!/usr/bin/env bash
# Benchmark `haven app check` against checkov on one generated corpus.
#
#   bench/app-check.sh [--checkov-only] [--skip-checkov] [--no-build] [--keep] [--strict]
#
# Environment:
#   BENCH_WORKLOADS (10000)  workload documents in the corpus (plus Services, PDBs, ...)
#   BENCH_FILES     (100)    files the corpus is split over
#   BENCH_SEED      (42)     generator seed
#   BENCH_RUNS      (3)      haven runs; the best is kept
#   CHECKOV_SAMPLE_DOCS (1000)  documents checkov is timed on (whole files from the corpus)
#   CHECKOV_VERSION (3.3.30) installed into bench/.venv when checkov is missing
#   CHECKOV         path of a checkov to use instead of bench/.venv/bin/checkov
#   BENCH_DIR       work directory (default: a new temp dir, removed unless --keep)
#   HAVEN_BIN       the haven to measure instead of target/release/haven (implies --no-build)
#
# Not part of the test suite: run it by hand (or in a dedicated CI job).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
WORKLOADS=${BENCH_WORKLOADS:-10000}
FILES=${BENCH_FILES:-100}
SEED=${BENCH_SEED:-42}
RUNS=${BENCH_RUNS:-3}
SAMPLE_DOCS=${CHECKOV_SAMPLE_DOCS:-1000}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
TARGET_DOCS_PER_S=50000
TARGET_RATIO=300

run_haven=1 run_checkov=1 build=1 keep=0 strict=0
for arg in "$@"; do
  case "$arg" in
    --checkov-only) run_haven=0 ;;
    --skip-checkov) run_checkov=0 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --strict) strict=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "app-check.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'app-check.sh: %s\n' "$*" >&2; exit 1; }

# ----------------------------------------------------------------- tools
command -v python3 >/dev/null || die "python3 is required"
command -v taskset >/dev/null || die "taskset is required (Debian package util-linux)"
if ! /usr/bin/time -f '' true 2>/dev/null; then
  say "GNU time missing: installing the Debian package 'time'"
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null; }) \
      || die "could not install the Debian package 'time'"
  else
    die "install GNU time first: apt-get install time"
  fi
fi

WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/haven-bench.XXXXXX")}
mkdir -p "$WORK"
cleanup() { if [ "$keep" = 0 ] && [ -z "${BENCH_DIR:-}" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ----------------------------------------------------------------- haven
[ -n "${HAVEN_BIN:-}" ] && build=0
HAVEN=${HAVEN_BIN:-$ROOT/target/release/haven}
if [ "$run_haven" = 1 ]; then
  if [ "$build" = 1 ]; then
    say "building haven (cargo build --release -p haven-cli)"
    if ! (cd "$ROOT" && cargo build --release -p haven-cli >"$WORK/build.log" 2>&1); then
      tail -n 30 "$WORK/build.log" >&2
      die "haven did not build: 'cargo build --release -p haven-cli' failed (log above). Use --checkov-only to measure checkov alone."
    fi
  fi
  [ -x "$HAVEN" ] || die "haven is missing: $HAVEN does not exist. Use --checkov-only to measure checkov alone."
  if ! "$HAVEN" app check --help >/dev/null 2>&1; then
    die "haven has no 'app check' subcommand yet ($HAVEN app check --help failed). Use --checkov-only to measure checkov alone."
  fi
fi

# ----------------------------------------------------------------- corpus
CORPUS="$WORK/corpus"
say "generating the corpus ($WORKLOADS workloads over $FILES files, seed $SEED)"
python3 "$BENCH/gen_corpus.py" --out "$CORPUS" --index "$WORK/index.json" \
  --workloads "$WORKLOADS" --files "$FILES" --seed "$SEED" >&2
read -r DOCS WORKLOAD_DOCS < <(python3 -c 'import json,sys; i=json.load(open(sys.argv[1])); print(i["documents"], i["workloads"])' "$WORK/index.json")

# ----------------------------------------------------------------- measure haven
HAVEN_BEST="" HAVEN_RSS_KB="" HAVEN_OBJECTS=""
if [ "$run_haven" = 1 ]; then
  for i in $(seq 1 "$RUNS"); do
    start=$EPOCHREALTIME
    set +e
    /usr/bin/time -v -o "$WORK/haven-time.$i" \
      taskset -c 0 "$HAVEN" app check "$CORPUS" --format json >"$WORK/haven.json" 2>"$WORK/haven.err"
    rc=$?
    set -e
    end=$EPOCHREALTIME
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
      cat "$WORK/haven.err" >&2
      die "haven app check exited with $rc (0 = clean, 1 = blocking findings are both fine; anything else is not)"
    fi
    secs=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.6f}")' "$start" "$end")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/haven-time.$i")
    say "haven run $i: ${secs}s, peak RSS ${rss} KiB, exit $rc"
    HAVEN_BEST=$(python3 -c 'import sys; a=sys.argv[1]; b=float(sys.argv[2]); print(b if not a else min(float(a), b))' "$HAVEN_BEST" "$secs")
    if [ -z "$HAVEN_RSS_KB" ] || [ "$rss" -gt "$HAVEN_RSS_KB" ]; then HAVEN_RSS_KB=$rss; fi
  done
  HAVEN_OBJECTS=$(python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("unreadable"); sys.exit()
s = d.get("summary", d) if isinstance(d, dict) else {}
print(s.get("objects", "?"))' "$WORK/haven.json")
fi

# ----------------------------------------------------------------- measure checkov
CK_DOCS="" CK_SECS="" CK_BASE_SECS="" CK_RESOURCES=""
if [ "$run_checkov" = 1 ]; then
  CHECKOV=${CHECKOV:-$BENCH/.venv/bin/checkov}
  if [ ! -x "$CHECKOV" ]; then
    say "checkov missing: installing checkov==$CHECKOV_VERSION into bench/.venv (pip, PyPI)"
    python3 -m venv "$BENCH/.venv"
    "$BENCH/.venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2 \
      || die "pip install checkov==$CHECKOV_VERSION failed"
    CHECKOV=$BENCH/.venv/bin/checkov
  fi
  # Whole files from the corpus, in order, until the sample holds SAMPLE_DOCS documents.
  SAMPLE="$WORK/checkov-sample" ONE="$WORK/checkov-one"
  mkdir -p "$SAMPLE" "$ONE"
  CK_DOCS=$(python3 - "$WORK/index.json" "$CORPUS" "$SAMPLE" "$SAMPLE_DOCS" "$ONE" <<'PY'
import json, shutil, sys, os
index, corpus, sample, want, one = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
n = 0
for f in json.load(open(index))["files"]:
    if n >= want:
        break
    shutil.copy(os.path.join(corpus, f["name"]), sample)
    n += f["documents"]
# a one-document input, to measure checkov's fixed start-up cost
text = open(os.path.join(corpus, json.load(open(index))["files"][0]["name"])).read()
first = text.split("\n---\n")[0]
open(os.path.join(one, "one.yaml"), "w").write(first + "\n")
print(n)
PY
)
  # --skip-download: checkov otherwise fetches guidelines from its vendor's API.
  ck() {
    BC_SKIP_MAPPING=TRUE taskset -c 0 "$CHECKOV" -d "$1" --framework kubernetes --quiet --compact \
      -o json --skip-download >"$2" 2>"$2.err"
  }
  say "checkov: start-up cost (1 document)"
  start=$EPOCHREALTIME; set +e; ck "$ONE" "$WORK/checkov-one.json"; rc=$?; set -e; end=$EPOCHREALTIME
  [ "$rc" -le 1 ] || { tail -n 20 "$WORK/checkov-one.json.err" >&2; die "checkov exited with $rc"; }
  CK_BASE_SECS=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.6f}")' "$start" "$end")
  say "checkov: sample of $CK_DOCS documents (this is slow)"
  start=$EPOCHREALTIME; set +e; ck "$SAMPLE" "$WORK/checkov.json"; rc=$?; set -e; end=$EPOCHREALTIME
  [ "$rc" -le 1 ] || { tail -n 20 "$WORK/checkov.json.err" >&2; die "checkov exited with $rc"; }
  CK_SECS=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.6f}")' "$start" "$end")
  CK_RESOURCES=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d = d if isinstance(d, list) else [d]
s = [r.get("summary", {}) for r in d if r.get("check_type") == "kubernetes"]
print(s[0].get("resource_count", "?") if s else "?", s[0].get("parsing_errors", "?") if s else "?")' "$WORK/checkov.json")
fi

# ----------------------------------------------------------------- shared charts
# The upstream charts of ../shared/charts, each rendered by tools/helm (Helm's engine) and
# checked in one `haven app check` run: rendering dominates, so it runs on every core.
CHARTS_LINE="not measured (needs ../shared/charts and helm-python-sdk for tools/helm)"
SHARED_CHARTS="$ROOT/../shared/charts"
if [ "$run_haven" = 1 ] && [ -d "$SHARED_CHARTS" ] && python3 -c 'import helm_python' 2>/dev/null; then
  charts=()
  for d in "$SHARED_CHARTS"/*/; do [ -f "$d/Chart.yaml" ] && charts+=("$d"); done
  say "checking the ${#charts[@]} charts of ../shared/charts (rendering included)"
  start=$EPOCHREALTIME
  set +e
  "$HAVEN" app check "${charts[@]}" --helm "$ROOT/tools/helm" --format json >"$WORK/charts.json" 2>"$WORK/charts.err"
  set -e
  end=$EPOCHREALTIME
  CHARTS_LINE=$(python3 - "$start" "$end" "$WORK/charts.json" "${#charts[@]}" <<'PY'
import json, sys
start, end, report, charts = sys.argv[1:]
try:
    s = json.load(open(report))["summary"]
except Exception:
    print(f"{float(end) - float(start):.1f} s for {charts} charts, report unreadable"); sys.exit()
print(f"{float(end) - float(start):.1f} s for {charts} charts ({s['objects']} objects, "
      f"{s['findings']} findings, {s['errors']} charts or documents unreadable)")
PY
)
fi

# ----------------------------------------------------------------- report
python3 - "$DOCS" "$WORKLOAD_DOCS" "$FILES" "${HAVEN_BEST:-}" "${HAVEN_RSS_KB:-}" "${HAVEN_OBJECTS:-}" \
  "${CK_DOCS:-}" "${CK_SECS:-}" "${CK_BASE_SECS:-}" "${CK_RESOURCES:-}" "$RUNS" \
  "$TARGET_DOCS_PER_S" "$TARGET_RATIO" "$strict" "$CHARTS_LINE" <<'PY'
import sys
(docs, workloads, files, h_secs, h_rss, h_objs, c_docs, c_secs, c_base, c_res, runs,
 t_rate, t_ratio, strict, charts_line) = sys.argv[1:]
docs, workloads, t_rate, t_ratio = int(docs), int(workloads), float(t_rate), float(t_ratio)
print()
print("haven app check benchmark")
print("-------------------------")
print(f"corpus                 {docs} documents ({workloads} workloads) in {files} files")
miss = False
h_rate = None
if h_secs:
    h_rate = docs / float(h_secs)
    print(f"haven                  best of {runs}: {float(h_secs):.3f} s on 1 core (taskset -c 0)")
    print(f"haven docs/s           {h_rate:,.0f}")
    print(f"haven peak RSS         {int(h_rss) / 1024:.1f} MiB")
    if h_objs not in ("", "?"):
        print(f"haven objects read     {h_objs}" + ("" if h_objs == str(docs) else f"  (corpus has {docs} documents)"))
else:
    print("haven                  not measured (--checkov-only)")
c_rate = c_marg = None
if c_secs:
    c_docs_i = int(c_docs)
    c_rate = c_docs_i / float(c_secs)
    steady = float(c_secs) - float(c_base)
    c_marg = c_docs_i / steady if steady > 0 else None
    res = c_res.split()
    print(f"checkov                sample of {c_docs_i} documents (whole corpus files), 1 core: {float(c_secs):.1f} s"
          f" (start-up alone {float(c_base):.1f} s; resources {res[0]}, parsing errors {res[1]})")
    print(f"checkov docs/s         {c_rate:,.1f} incl. start-up; {c_marg:,.1f} excl. start-up" if c_marg else
          f"checkov docs/s         {c_rate:,.1f}")
    print("                       (measured on the sample only, not the full corpus)")
else:
    print("checkov                not measured (--skip-checkov)")
print(f"../shared/charts       {charts_line}")
print()
if h_rate is not None:
    ok = h_rate >= t_rate
    miss |= not ok
    print(f"target docs/s >= {t_rate:,.0f} (1 core)  {'PASS' if ok else 'MISS'} ({h_rate:,.0f})")
if h_rate is not None and c_rate is not None:
    base = c_marg or c_rate  # the stricter comparison: checkov without its start-up cost
    ratio = h_rate / base
    ok = ratio >= t_ratio
    miss |= not ok
    print(f"ratio haven/checkov    {ratio:,.0f}x against checkov excl. start-up ({h_rate / c_rate:,.0f}x incl.)")
    print(f"target ratio >= {t_ratio:,.0f}x        {'PASS' if ok else 'MISS'} ({ratio:,.0f}x)")
sys.exit(1 if (miss and strict == "1") else 0)
PY
