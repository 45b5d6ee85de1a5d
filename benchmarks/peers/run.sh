#!/usr/bin/env bash
# Webhook-receipt cost of two peer libraries on our fixture bodies (see README.md here).
#
# Installs pywa and whatsapp-api-js into <repo>/.tools/peers/ (gitignored) if they are not
# there at the pinned versions, then runs both benches pinned to one core.
#
#   benchmarks/peers/run.sh                 # one run of each bench on the three bodies
#   PEERS_RUNS=3 benchmarks/peers/run.sh    # three runs each
#   benchmarks/peers/run.sh --parts         # extra args go to both benches (--parts, --batches N,
#                                           # --batch-ms MS, --warmup-s S)
# Env: PEERS_CPU (core to pin to, default 1), PEERS_RUNS (default 1),
#      PEERS_TOOLS (install dir, default <repo>/.tools/peers),
#      PEERS_FIXTURES (default <repo>/shared/tests/fixtures/webhooks).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TOOLS=${PEERS_TOOLS:-$ROOT/.tools/peers}
FIXTURES=${PEERS_FIXTURES:-$ROOT/shared/tests/fixtures/webhooks}
CPU=${PEERS_CPU:-1}
RUNS=${PEERS_RUNS:-1}

PYWA_VERSION=3.9.0 # latest 3.9.x on PyPI
WAJS_VERSION=6.3.0

BODIES=(
  "$FIXTURES/text.json"
  "$FIXTURES/mixed_batch.json"
  "$FIXTURES/batch_100_statuses.json"
)
for b in "${BODIES[@]}"; do
  [[ -f $b ]] || { echo "missing fixture: $b" >&2; exit 1; }
done

mkdir -p "$TOOLS"

# --- pywa in a venv
PY="$TOOLS/venv/bin/python"
if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('pywa') != '$PYWA_VERSION')" 2>/dev/null; then
  echo "installing pywa==$PYWA_VERSION into $TOOLS/venv" >&2
  python3 -m venv "$TOOLS/venv"
  "$PY" -m pip install --quiet --disable-pip-version-check "pywa==$PYWA_VERSION" >&2
fi

# --- whatsapp-api-js in an npm prefix
NPM_PREFIX="$TOOLS/npm"
WAJS_PKG="$NPM_PREFIX/node_modules/whatsapp-api-js/package.json"
if [[ "$(node -p "require(process.argv[1]).version" "$WAJS_PKG" 2>/dev/null || true)" != "$WAJS_VERSION" ]]; then
  echo "installing whatsapp-api-js@$WAJS_VERSION into $NPM_PREFIX" >&2
  mkdir -p "$NPM_PREFIX"
  [[ -f "$NPM_PREFIX/package.json" ]] || echo '{"name":"peers-bench","private":true}' >"$NPM_PREFIX/package.json"
  # the package asks for node >= 22.13 with onFail "warn"; it runs on node 20 (checked by the bench)
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --save-exact --loglevel=error \
    "whatsapp-api-js@$WAJS_VERSION" >&2
fi

# --- pin to one core
PIN=()
if command -v taskset >/dev/null 2>&1 && taskset -c "$CPU" true 2>/dev/null; then
  PIN=(taskset -c "$CPU")
  echo "# pinned to core $CPU with taskset; $(nproc --all) cores on this machine" >&2
else
  echo "# taskset not available: not pinned" >&2
fi
echo "# python $("$PY" -c 'import platform; print(platform.python_version())'), node $(node --version)" >&2

for run in $(seq 1 "$RUNS"); do
  echo "# run $run/$RUNS"
  "${PIN[@]}" "$PY" "$HERE/pywa_receipt.py" "$@" "${BODIES[@]}"
  PEERS_NPM_PREFIX="$NPM_PREFIX" "${PIN[@]}" node "$HERE/whatsapp_api_js_receipt.mjs" "$@" "${BODIES[@]}"
done
