#!/usr/bin/env bash
# serde_json against sonic-rs on the receipt's typed parse (README.md here). Builds the bench
# twice, for the baseline x86-64 the function is built for and for this CPU
# (`-C target-cpu=native`: sonic-rs's SIMD paths need AVX2 and PCLMULQDQ enabled at build time
# on x86-64), then runs both in turn, ROUNDS times, pinned to one core.
#
#   benchmarks/json-parsers/run.sh            # ROUNDS=2 CPU=1
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/intaj-whatsapp}/json-parsers
ROUNDS=${ROUNDS:-2}
CPU=${CPU:-1}

build() { # <target dir> [rustflags] -> the bench binary's path
  (cd "$HERE" && RUSTFLAGS="${2:-}" CARGO_TARGET_DIR=$1 cargo bench --bench parse --no-run \
    --message-format=json 2>/dev/null) |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "parse" and m.get("executable"):
        print(m["executable"])'
}

baseline=$(build "$TARGET/baseline")
native=$(build "$TARGET/native" "-C target-cpu=native")
for round in $(seq "$ROUNDS"); do
  for build in baseline native; do
    binary=${!build}
    echo "== round $round, $build build"
    taskset -c "$CPU" "$binary" --bench --warm-up-time 1 --measurement-time 3 2>&1 |
      awk '/^[a-z_0-9.]+\/[a-z_]+/ { name = $1 } /time:/ { print name, $(NF-3), $(NF-2) }'
  done
done
