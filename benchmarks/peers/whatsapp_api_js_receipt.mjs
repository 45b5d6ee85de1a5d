// Webhook-receipt CPU cost of whatsapp-api-js, per incoming webhook POST.
//
// What is measured (one call = one webhook), whatsapp-api-js 6.3.0 source (lib/):
//
//   A. "node-http handle_post" (the main figure): the library's own Node.js `http` middleware,
//      `whatsapp-api-js/middleware/node-http` -> class WhatsAppAPI, method handle_post(req).
//      This is what a user of Node's http server calls from the request listener, so it includes
//      everything the library does with a POST:
//        - reads the X-Hub-Signature-256 and Content-Length headers, checks the size limit (3 MiB);
//        - parseBody(req): `for await` over the request's chunks, Buffer.concat, toString("utf-8");
//        - JSON.parse(body) of the WHOLE body;
//        - WhatsAppAPI.post(data, body, signature) (lib/index.js):
//            verifyRequestSignature(body, signature): signature.split("sha256=")[1],
//            escapeUnicode(body) (a regex replace of every non-ASCII char by \uXXXX over the whole
//            string: the HMAC is computed over that re-escaped text, not over the raw bytes),
//            TextEncoder.encode, then WebCrypto crypto.subtle.verify("HMAC", key, sig, data)
//            (the CryptoKey is imported once and cached on the instance; in Node the verify is an
//            async crypto job run on the libuv thread pool, i.e. a thread hop per webhook);
//            then reads entry[0].changes[0] only, builds the argument object for the FIRST message
//            (or FIRST status) only, and calls on.message / on.status: here a no-op counter.
//      The `req` is a minimal stand-in for http.IncomingMessage: a `headers` object and an async
//      iterator yielding the body as one Buffer (what node's http parser hands over for a small
//      body). Node's own HTTP parsing and socket work are not counted (as for the other peers).
//
//   B. "express handle_post": `whatsapp-api-js/middleware/express` handle_post(req), for an app
//      that put express.text() in front (req.body is already a string): JSON.parse + post(), with
//      no byte->string decoding. Given as a second line because it is the other common route.
//
//   --parts adds the library's verifyRequestSignature(body, sig) alone and post(parsed, body, sig)
//   alone (JSON.parse left out) for the breakdown.
//
// Timing: after a warm-up, `--batches` batches of n sequential `await handle_post(req)` calls
// are timed with process.hrtime.bigint() (wall) and process.cpuUsage() (user+system CPU time of
// the whole process, thread pool included) (n calibrated so a batch lasts ~`--batch-ms`); per-call
// time = batch time / n; reported: median, p10, p90 over batches. On an idle pinned core wall and
// CPU agree; when other work shares the core, wall grows and CPU time does not.
// Before timing, each body is checked: handle_post returns 200, the no-op handler ran once, and
// a wrong signature gets 401.
//
// Usage: node whatsapp_api_js_receipt.mjs [--batches N] [--batch-ms MS] [--warmup-s S] [--parts] BODY.json...

import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const APP_SECRET = "dev-app-secret";

// The package lives in the npm prefix that run.sh installs (PEERS_NPM_PREFIX, default
// <repo>/.tools/peers/npm); resolve it from there through its package "exports".
const here = dirname(fileURLToPath(import.meta.url));
const prefix = process.env.PEERS_NPM_PREFIX || resolve(here, "../../.tools/peers/npm");
const requireFromPrefix = createRequire(join(prefix, "package.json"));
const load = (spec) => import(pathToFileURL(requireFromPrefix.resolve(spec)).href);
const { WhatsAppAPI: NodeHttpWhatsAppAPI } = await load("whatsapp-api-js/middleware/node-http");
const { WhatsAppAPI: ExpressWhatsAppAPI } = await load("whatsapp-api-js/middleware/express");
const VERSION = JSON.parse(
  readFileSync(join(prefix, "node_modules", "whatsapp-api-js", "package.json"), "utf-8"),
).version;

// ---- args
const args = process.argv.slice(2);
const opt = { batches: 200, batchMs: 10, warmupS: 1, parts: false };
const bodies = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--batches") opt.batches = +args[++i];
  else if (a === "--batch-ms") opt.batchMs = +args[++i];
  else if (a === "--warmup-s") opt.warmupS = +args[++i];
  else if (a === "--parts") opt.parts = true;
  else bodies.push(a);
}
if (bodies.length === 0) {
  console.error("usage: whatsapp_api_js_receipt.mjs [--batches N] [--batch-ms MS] [--warmup-s S] [--parts] BODY.json...");
  process.exit(2);
}

// ---- clients with no-op handlers
let typed = 0;
function makeClient(Cls) {
  const wa = new Cls({
    token: "dummy-token", // never used: nothing is sent
    appSecret: APP_SECRET,
    webhookVerifyToken: "dummy-verify-token",
    v: "v24.0", // pinned so the constructor does not warn; irrelevant for receipt
    // secure: true is the default -> signature verification is on
  });
  wa.on.message = () => {
    typed++;
  };
  wa.on.status = () => {
    typed++;
  };
  return wa;
}
const nodeHttp = makeClient(NodeHttpWhatsAppAPI);
const express = makeClient(ExpressWhatsAppAPI);

// ---- timing
function pct(sorted, q) {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[idx];
}
function median(sorted) {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

async function bench(fn) {
  const now = process.hrtime.bigint;
  // warm-up + calibration
  const end = now() + BigInt(Math.round(opt.warmupS * 1e9));
  let calls = 0;
  const t0w = now();
  while (now() < end) {
    for (let i = 0; i < 50; i++) await fn();
    calls += 50;
  }
  const perCallNs = Number(now() - t0w) / calls;
  const n = Math.max(1, Math.floor((opt.batchMs * 1e6) / perCallNs));

  const wall = [];
  const cpu = [];
  for (let b = 0; b < opt.batches; b++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    for (let i = 0; i < n; i++) await fn();
    const t1 = now();
    const c = process.cpuUsage(c0);
    wall.push(Number(t1 - t0) / n / 1000);
    cpu.push((c.user + c.system) / n);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    med: median(wall),
    p10: pct(wall, 0.1),
    p90: pct(wall, 0.9),
    cpuMed: median(cpu),
    cpuP10: pct(cpu, 0.1),
    cpuP90: pct(cpu, 0.9),
    n,
    total: n * opt.batches,
  };
}

const f2 = (x) => x.toFixed(2).padStart(8);
function line(label, name, size, r) {
  return (
    `${label.padEnd(44)} ${name.padEnd(24)} ${String(size).padStart(6)} B  ` +
    `wall median ${f2(r.med)} us (p10 ${f2(r.p10)}, p90 ${f2(r.p90)})  ` +
    `cpu median ${f2(r.cpuMed)} us (p10 ${f2(r.cpuP10)}, p90 ${f2(r.cpuP90)})  ` +
    `[${opt.batches} batches x ${r.n} = ${r.total} calls]`
  );
}

// ---- fake requests
function nodeReq(buf, sig) {
  // stand-in for http.IncomingMessage: headers (lower-cased, as node gives them) + async iteration
  return {
    headers: {
      "content-type": "application/json",
      "content-length": String(buf.length),
      "x-hub-signature-256": sig,
    },
    async *[Symbol.asyncIterator]() {
      yield buf;
    },
    destroy() {},
  };
}
function expressReq(str, len, sig) {
  const h = {
    "content-type": "application/json",
    "content-length": String(len),
    "x-hub-signature-256": sig,
  };
  return { body: str, header: (name) => h[name.toLowerCase()] };
}

for (const path of bodies) {
  const buf = readFileSync(path); // exact bytes, never re-serialised
  const str = buf.toString("utf-8");
  const sig = "sha256=" + createHmac("sha256", APP_SECRET).update(buf).digest("hex");
  const name = basename(path);
  const req = nodeReq(buf, sig);
  const ereq = expressReq(str, buf.length, sig);

  // correctness checks
  for (const [wa, r] of [
    [nodeHttp, req],
    [express, ereq],
  ]) {
    const before = typed;
    const code = await wa.handle_post(r);
    if (code !== 200) throw new Error(`${name}: handle_post returned ${code}`);
    if (typed !== before + 1) throw new Error(`${name}: handler not called exactly once`);
  }
  const badCode = await nodeHttp.handle_post(nodeReq(buf, "sha256=" + "0".repeat(64)));
  if (badCode !== 401) throw new Error(`${name}: bad signature gave ${badCode}`);

  {
    const before = typed;
    const r = await bench(() => nodeHttp.handle_post(req));
    if (typed - before < r.total) throw new Error("handler not reached on every call");
    console.log(line(`whatsapp-api-js ${VERSION} node-http handle_post`, name, buf.length, r));
  }
  {
    const before = typed;
    const r = await bench(() => express.handle_post(ereq));
    if (typed - before < r.total) throw new Error("handler not reached on every call");
    console.log(line(`whatsapp-api-js ${VERSION} express handle_post`, name, buf.length, r));
  }
  if (opt.parts) {
    const data = JSON.parse(str);
    let r = await bench(() => nodeHttp.verifyRequestSignature(str, sig));
    console.log(line(`whatsapp-api-js ${VERSION}   part: verifyRequestSignature`, name, buf.length, r));
    r = await bench(() => nodeHttp.post(data, str, sig));
    console.log(line(`whatsapp-api-js ${VERSION}   part: post (pre-parsed)`, name, buf.length, r));
    r = await bench(() => JSON.parse(str));
    console.log(line(`whatsapp-api-js ${VERSION}   part: JSON.parse (node)`, name, buf.length, r));
  }
}
