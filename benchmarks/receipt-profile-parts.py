#!/usr/bin/env python3
"""Shares of the receipt bench's measured full path, by part, from a perf profile.

Only samples under the measured `intaj_webhook::handler::handle` count; the set-up's own webhook
(under `fresh_deps`) is left out. Each sample goes to the first part whose frames match.

    cargo bench -p intaj-webhook --bench receipt --no-run \
      --config 'profile.release.strip=false' --config 'profile.release.debug=1' --target-dir /tmp/prof
    taskset -c 1 perf record -F 20000 --call-graph dwarf,16384 -o /tmp/perf.data \
      /tmp/prof/release/deps/receipt-<hash> --bench --profile-time 6 'one_message/full_receipt$'
    perf script -i /tmp/perf.data -F comm,tid,ip,sym --no-inline > /tmp/perf.txt
    benchmarks/receipt-profile-parts.py /tmp/perf.txt
"""
import collections
import sys

# (part, frames any of which matches, frames one of which must match too)
PARTS = [
    ("HMAC (verify)", ["signature::verify"], None),
    ("payload drop", ["drop_in_place<intaj_shared::whatsapp::webhook::MessagesPayl"], None),
    ("UTF-8 check of the body", ["core::str::converts::from_utf8"], None),
    ("the memory store's record", ["memory_store::"], None),
    ("message envelope parse", ["push_items"], ["serde"]),
    ("payload parse", ["record::{{closure}}"], ["serde"]),
    ("building the inbound write", ["push_items"], None),
    ("routing", ["owner_of", "cached_connections"], None),
    ("secrets", ["bot_secrets", "memory_secrets"], None),
    ("arrivals", ["ReportedArrivals"], None),
    ("clock", ["unix_now", "clock_gettime"], None),
    ("the answer's header map", ["HeaderMap<T>::insert", "try_reserve_one", "hash_elem_using"], None),
    ("the request's drop", ["drop_in_place<http::request", "drop_in_place<http::extensions"], None),
    ("apply's future", ["apply::{{closure}}"], None),
    ("record's future", ["record::{{closure}}"], None),
]


def samples(path):
    frames = []
    for line in open(path):
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line.startswith("\t"):
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
    if frames:
        yield frames


def part_of(below):
    def any_frame(keys):
        return any(key in frame for frame in below for key in keys)

    for name, keys, needed in PARTS:
        if any_frame(keys) and (needed is None or any_frame(needed)):
            return name
    return "the handler's own code and other"


counts = collections.Counter()
for frames in samples(sys.argv[1]):
    handle = [i for i, f in enumerate(frames) if "intaj_webhook::handler::handle" in f]
    if not handle or any("fresh_deps" in f for f in frames):
        continue
    counts[part_of(frames[: max(handle)])] += 1
total = sum(counts.values())
print(f"{total} samples under the measured handle")
for name, count in counts.most_common():
    print(f"{100 * count / total:5.1f} %  {name}")
