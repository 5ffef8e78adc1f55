#!/usr/bin/env bash
# One command on a fresh machine: install Helm's engine (PyPI helm-python-sdk, used through
# tools/helm), build haven, and check the example Django chart: first as its supplier ships
# it, then with the production values that fix it.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import helm_python' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "helm-python-sdk==0.2.2"
cargo build --release --quiet -p haven-cli
haven="${CARGO_TARGET_DIR:-target}/release/haven"
helm=tools/helm
if command -v helm >/dev/null; then helm=$(command -v helm); fi

echo "== haven app check examples/charts/zaakregister -n zaken   (as shipped)"
"$haven" app check examples/charts/zaakregister --helm "$helm" -n zaken --release zaken || true
echo
echo "== ... -f examples/values/zaakregister-prod.yaml   (fixed)"
"$haven" app check examples/charts/zaakregister --helm "$helm" -n zaken --release zaken \
  -f examples/values/zaakregister-prod.yaml
