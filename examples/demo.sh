#!/usr/bin/env bash
# Quick start on a fresh machine (README, "Quick start"): installs Helm's engine (PyPI
# helm-python-sdk, which tools/helm runs as `helm template`), builds the `haven` binary, and runs
# the four jobs' examples: `haven app check` on the example Django chart, first as its supplier
# ships it and then with the production values that fix it; `haven check -v` on a recorded
# compliant cluster; `haven plus` rendering and validating the example platform config.
#
# Needs: Rust (see rust-version in Cargo.toml), python3 with pip, access to crates.io and PyPI.
# The build is most of its time; docs/benchmarks.md says how long it takes and how it was timed.
set -euo pipefail
cd "$(dirname "$0")/.."

step=0
bold= plain=
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
# say TEXT: announces the next step.
say() {
  step=$((step + 1))
  printf '\n%s== %d/6  %s%s\n' "$bold" "$step" "$*" "$plain"
}

for tool in cargo python3; do
  command -v "$tool" >/dev/null ||
    { echo "demo: $tool not found: the demo needs Rust (rust-version in Cargo.toml, e.g. via https://rustup.rs) and python3 with pip" >&2; exit 2; }
done

say "Helm's engine: PyPI helm-python-sdk, run by tools/helm (skipped when installed)"
if python3 -c 'import helm_python' 2>/dev/null; then
  echo "helm-python-sdk is installed"
else
  python3 -m pip install --disable-pip-version-check --root-user-action=ignore "helm-python-sdk==0.2.2"
fi
helm=tools/helm
if command -v helm >/dev/null; then helm=$(command -v helm); fi
echo "charts are rendered with $helm"

# The `demo` profile (Cargo.toml) is release without link-time optimisation and at a lower
# optimisation level, and only the `haven` binary is built: the demo's commands on these small
# examples still answer in about a second each. For use, install the release build:
# `cargo install --locked --path crates/haven-cli`.
say "Building haven (cargo build --profile demo --bin haven; cargo shows its progress)"
cargo build --locked --profile demo -p haven-cli --bin haven
haven="${CARGO_TARGET_DIR:-target}/demo/haven"

say "haven app check examples/charts/zaakregister -n zaken   (the chart as shipped: exit code 1)"
"$haven" app check examples/charts/zaakregister --helm "$helm" -n zaken --release zaken || true

say "haven app check ... -f examples/values/zaakregister-prod.yaml   (the values that fix it: exit code 0)"
"$haven" app check examples/charts/zaakregister --helm "$helm" -n zaken --release zaken \
  -f examples/values/zaakregister-prod.yaml

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A compliant 3+3-node cluster, recorded with `haven snapshot` (tests/readme.rs keeps it equal to
# the fixture crates/haven-test-support/fixtures/clusters/compliant.yaml). On a real cluster:
# `haven check -v` with your kubeconfig. A self-built binary has no published hash, so
# shavalidation is SKIPPED ("compliant; shavalidation skipped: self-built binary"), exit code 0.
say "haven check -v --snapshot examples/cluster/compliant.json   (a recorded cluster: exit code 0)"
"$haven" check -v --snapshot examples/cluster/compliant.json

say "haven plus render + validate   (examples/platform/haven-plus.yaml)"
"$haven" plus render -c examples/platform/haven-plus.yaml -o "$work/platform"
"$haven" plus validate "$work/platform"

printf '\nDone. Binary: %s  (haven --help; README.md for the commands of each job)\n' "$haven"
