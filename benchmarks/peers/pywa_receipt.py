#!/usr/bin/env python3
"""Webhook-receipt CPU cost of pywa (sync client), per incoming webhook POST.

What is measured (one call = one webhook):

    WhatsApp.webhook_update_handler(update=<raw body bytes>, hmac_header="sha256=<hex>")

This is pywa's own entry point for an incoming webhook: pywa/server.py, Server.webhook_update_handler.
Its Flask route (`pywa_webhook`) and its FastAPI route call exactly this with `request.data` /
`await request.body()` and the X-Hub-Signature-256 header; only the framework's own request
handling is left out. Per call it does, in this order (pywa 3.9.0 source):

  1. Server._check_and_prepare_update
     - utils.webhook_updates_validator: hmac.new(app_secret, body, sha256).hexdigest() and
       hmac.compare_digest against the header without its "sha256=" prefix (raw bytes, no re-encoding);
     - types.base_update.RawUpdate(body): json.loads of the whole body into an (immutable) dict;
     - duplicate-update bookkeeping (skip_duplicate_updates=True by default: the signature header
       is put in a set for the duration of the handling).
  2. Server._call_handlers
     - _get_handler_type: phone-id filter (filter_updates=True default), then
       _handle_messages_field picks the handler from entry[0].changes[0].value only;
     - <UpdateType>.from_update: the typed update (Message / MessageStatus) is built from the
       FIRST item of the FIRST change only (the rest of a batch is parsed by json.loads but never typed);
     - _process_listener, _invoke_callbacks -> our no-op handler (MessageHandler / MessageStatusHandler);
     - _call_raw_update_handler (no raw handler registered: empty loop).
  3. Server._after_handling_update: removes the signature from the in-process set, returns ("ok", 200).

The client is built with server=None ("custom server": no Flask/FastAPI, no route registration,
no callback-URL registration, no network), phone_id matching the fixtures' metadata (so the
update is not filtered out before being typed), app_secret="dev-app-secret", and default
validate_updates / filter_updates / skip_duplicate_updates / continue_handling. Logging is left
at its default (WARNING), so pywa's debug log calls cost only their level check.

Timing: after a warm-up, `--batches` batches of `n` back-to-back calls each are timed with
time.perf_counter_ns (wall) and time.process_time_ns (this process's CPU time) (n is calibrated
so a batch lasts ~`--batch-ms`); the per-call time of each batch is batch_ns / n, and the
reported figures are the median, p10 and p90 over batches, for wall and for CPU time. On an idle
pinned core the two agree; when other work shares the core, wall grows and CPU time does not.
Every call's result is checked: ("ok", 200), and the no-op typed handler ran exactly once.

Usage: pywa_receipt.py [--batches N] [--batch-ms MS] [--warmup-s S] [--parts] BODY.json...
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import os
import statistics
import sys
import time

import pywa
from pywa import WhatsApp, handlers, utils
from pywa.types.base_update import RawUpdate

APP_SECRET = "dev-app-secret"
PHONE_ID = "100000000000001"  # metadata.phone_number_id of the fixtures
WABA_ID = "200000000000001"  # entry[0].id of the fixtures

logging.basicConfig(level=logging.WARNING)


class Counter:
    typed = 0


def _noop_message(_wa, _msg):
    Counter.typed += 1


def _noop_status(_wa, _status):
    Counter.typed += 1


def make_client() -> WhatsApp:
    wa = WhatsApp(
        phone_id=PHONE_ID,
        business_account_id=WABA_ID,
        token="dummy-token",  # never used: nothing is sent
        server=None,  # custom server: we call webhook_update_handler ourselves
        verify_token="dummy-verify-token",
        app_secret=APP_SECRET,
    )
    wa.add_handlers(
        handlers.MessageHandler(_noop_message),
        handlers.MessageStatusHandler(_noop_status),
    )
    return wa


def percentile(sorted_vals: list[float], q: float) -> float:
    # nearest-rank on the sorted list
    idx = min(len(sorted_vals) - 1, max(0, round(q * (len(sorted_vals) - 1))))
    return sorted_vals[idx]


def bench(fn, *, batches: int, batch_ms: float, warmup_s: float):
    """Time `fn` in batches; return a dict of per-call figures in microseconds."""
    pc = time.perf_counter_ns
    cpu = time.process_time_ns
    # warm-up (also used to calibrate the batch size)
    t_end = pc() + int(warmup_s * 1e9)
    calls = 0
    t0 = pc()
    while pc() < t_end:
        for _ in range(50):
            fn()
        calls += 50
    per_call_ns = (pc() - t0) / calls
    n = max(1, int(batch_ms * 1e6 / per_call_ns))

    wall, cpu_t = [], []
    for _ in range(batches):
        r = range(n)
        c0 = cpu()
        t0 = pc()
        for _ in r:
            fn()
        t1 = pc()
        c1 = cpu()
        wall.append((t1 - t0) / n / 1000.0)
        cpu_t.append((c1 - c0) / n / 1000.0)
    wall.sort()
    cpu_t.sort()
    return {
        "med": statistics.median(wall),
        "p10": percentile(wall, 0.10),
        "p90": percentile(wall, 0.90),
        "cpu_med": statistics.median(cpu_t),
        "cpu_p10": percentile(cpu_t, 0.10),
        "cpu_p90": percentile(cpu_t, 0.90),
        "n": n,
        "total": batches * n,
    }


def line(label: str, name: str, size: int, r: dict, batches: int) -> str:
    return (
        f"{label:<44} {name:<24} {size:>6} B  "
        f"wall median {r['med']:8.2f} us (p10 {r['p10']:8.2f}, p90 {r['p90']:8.2f})  "
        f"cpu median {r['cpu_med']:8.2f} us (p10 {r['cpu_p10']:8.2f}, p90 {r['cpu_p90']:8.2f})  "
        f"[{batches} batches x {r['n']} = {r['total']} calls]"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("bodies", nargs="+")
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--batch-ms", type=float, default=10.0)
    ap.add_argument("--warmup-s", type=float, default=1.0)
    ap.add_argument(
        "--parts",
        action="store_true",
        help="also time the two library parts alone: utils.webhook_updates_validator and RawUpdate(body)",
    )
    args = ap.parse_args()

    wa = make_client()
    version = getattr(pywa, "__version__", "?")

    for path in args.bodies:
        with open(path, "rb") as f:
            body = f.read()  # exact bytes, never re-serialised
        sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()

        # correctness check before timing: accepted, typed handler called once
        before = Counter.typed
        res = wa.webhook_update_handler(update=body, hmac_header=sig)
        assert res == ("ok", 200), res
        assert Counter.typed == before + 1, "typed handler was not called"
        # and a wrong signature is refused (pywa answers 200 "Unmatching signature")
        bad = wa.webhook_update_handler(update=body, hmac_header="sha256=" + "0" * 64)
        assert bad[0] == "Unmatching signature", bad

        handler = wa.webhook_update_handler

        def one():
            handler(update=body, hmac_header=sig)

        before = Counter.typed
        r = bench(one, batches=args.batches, batch_ms=args.batch_ms, warmup_s=args.warmup_s)
        # every timed call (and the warm-up ones) reached the typed handler
        assert Counter.typed - before >= r["total"], (Counter.typed - before, r["total"])

        name = os.path.basename(path)
        print(line(f"pywa {version} webhook_update_handler", name, len(body), r, args.batches), flush=True)

        if args.parts:
            validator = utils.webhook_updates_validator

            def sig_only():
                validator(app_secret=APP_SECRET, request_body=body, x_hub_signature=sig)

            def parse_only():
                RawUpdate(body, hmac_header=sig)

            for label, fn in (
                (f"pywa {version}   part: webhook_updates_validator", sig_only),
                (f"pywa {version}   part: RawUpdate (json.loads)", parse_only),
            ):
                r = bench(fn, batches=args.batches, batch_ms=args.batch_ms, warmup_s=args.warmup_s)
                print(line(label, name, len(body), r, args.batches), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
