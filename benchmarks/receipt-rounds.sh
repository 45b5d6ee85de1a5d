#!/usr/bin/env bash
# The receipt bench (functions/webhook/benches/receipt.rs) in rounds, for a machine whose timing
# moves between runs: each round runs the whole bench once per binary, pinned to one core, and
# the ratios are read per round; the medians across rounds are the figures to quote.
#
#   benchmarks/receipt-rounds.sh                     # builds the bench, 8 rounds
#   ROUNDS=12 benchmarks/receipt-rounds.sh OLD_BIN   # interleaved with another build's binary
#   BODY=one_message benchmarks/receipt-rounds.sh    # one body's group only (a third of the time)
#
# Env: ROUNDS (default 8), CPU (default 1), MEASUREMENT_TIME in seconds (default 2), BODY (a
# group name: one_message, typical_mixed or statuses_100; default all three).
# Prints, per round, binary and body: the hot floors (HMAC + typed parse, criterion hot loops),
# the full receipt, their ratio, the floors timed after the full path's own set-up and that
# ratio, and the bench's own time per full-path iteration (`harness_per_iteration`). Then the
# medians. Needs taskset and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-8}
CPU=${CPU:-1}
MEASUREMENT_TIME=${MEASUREMENT_TIME:-2}
BODY=${BODY:-}

BENCH=$(cd "$ROOT" && cargo bench -p intaj-webhook --bench receipt --no-run \
  --message-format=json 2>/dev/null |
  python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "receipt" in m["target"]["name"]:
        print(m["executable"])')
BINARIES=("$BENCH" "$@")

for round in $(seq "$ROUNDS"); do
  for binary in "${BINARIES[@]}"; do
    taskset -c "$CPU" "$binary" --bench --warm-up-time 1 --measurement-time "$MEASUREMENT_TIME" ${BODY:+"$BODY/"} 2>&1 |
      python3 -c '
import re, sys
round, binary = sys.argv[1], sys.argv[2]
name, times = None, {}
for line in sys.stdin:
    m = re.match(r"^([a-z_0-9]+/[a-z_0-9]+)", line)
    if m:
        name = m.group(1)
    m = re.search(r"time:\s+\[\S+ \S+ ([\d.]+) (\S+)", line)
    if m and name and name not in times:
        value = float(m.group(1))
        times[name] = {"ns": value / 1000, "ms": value * 1000}.get(m.group(2), value)
for body in ("one_message", "typical_mixed", "statuses_100"):
    if body + "/full_receipt" not in times:
        continue
    hot = times[body + "/floor_hmac"] + times[body + "/floor_typed_parse"]
    full, after = times[body + "/full_receipt"], times[body + "/floors_after_set_up"]
    # A binary built before the harness group had none: 0.
    harness = times.get(body + "/harness_per_iteration", 0.0)
    print(round, binary, body, f"{hot:.3f}", f"{full:.3f}", f"{full / hot:.3f}", f"{after:.3f}", f"{full / after:.3f}", f"{harness:.3f}")
' "$round" "$binary"
  done
done | tee /dev/stderr | python3 -c '
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in sys.stdin:
    _, binary, body, *values = line.split()
    rows[(binary, body)].append([float(v) for v in values])
print("medians (µs): binary body | hot floors, full, full ÷ hot floors | floors after set-up, full ÷ those | harness per iteration")
for (binary, body), values in rows.items():
    hot, full, ratio, after, ratio_after, harness = (statistics.median(c) for c in zip(*values))
    print(f"{binary} {body} | {hot:.3f} {full:.3f} {ratio:.3f} | {after:.3f} {ratio_after:.3f} | {harness:.3f} ({len(values)} rounds)")
'
