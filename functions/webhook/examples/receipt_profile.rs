//! Receipts of one fixture body in a loop, each with ids of its own, into one warm memory store:
//! a steady workload for an instruction profiler (BENCHMARKS.md, "Where the small bodies'
//! excess goes"). With `FLOORS=1` it runs only the HMAC and the typed parse (the bench's
//! floors) instead.
//!
//! cargo build --release -p intaj-webhook --example receipt_profile \
//!   --config 'profile.release.strip=false' --config 'profile.release.debug=1' --target-dir /tmp/prof
//! valgrind --tool=callgrind /tmp/prof/release/examples/receipt_profile text.json 2000

use intaj_shared::whatsapp::signature::{sign, verify};
use intaj_webhook::handle;
use lambda_http::Body;

// The receipt bench's helpers; its requests are signed before the loop, not by signed_request.
#[allow(dead_code)]
#[path = "../benches/support/mod.rs"]
mod support;

use support::{APP_SECRET, demo_deps, fixture, typed_parse};

/// The deployed function's allocator (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: intaj_webhook::allocator::MiMalloc = intaj_webhook::allocator::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "text.json".into());
    let receipts: usize = args.next().map_or(2000, |n| n.parse().expect("a count"));
    let floors_only = std::env::var_os("FLOORS").is_some();
    let text = String::from_utf8(fixture(&name)).expect("a UTF-8 body");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let deps = runtime.block_on(demo_deps());
    let bodies: Vec<(Vec<u8>, String)> = (0..receipts)
        .map(|i| {
            let body = text
                .replace("wamid.", &format!("wamid.X{i:06}"))
                .into_bytes();
            let signature = sign(APP_SECRET, &body);
            (body, signature)
        })
        .collect();
    runtime.block_on(async {
        for (body, signature) in bodies {
            if floors_only {
                verify(APP_SECRET, &body, Some(signature.as_bytes())).unwrap();
                std::hint::black_box(typed_parse(&body));
                continue;
            }
            let request = http::Request::builder()
                .method("POST")
                .uri("/webhook/whatsapp/demo")
                .header("x-hub-signature-256", signature)
                .body(Body::from(body))
                .unwrap();
            assert_eq!(handle(request, &deps).await.status(), 200);
        }
    });
}
