//! Webhook receipt cost: the full path (signature check, parse, record every item in the
//! in-memory store, answer) beside its two floors on the same bytes (HMAC alone, the typed
//! one-pass parse alone), each in a hot loop, and both together timed after the full path's own
//! set-up (`floors_after_set_up`: the floors on caches as warm as the full path finds them), and
//! the bench's own time per full-path iteration (`harness_per_iteration`).
//! Run: `cargo bench -p intaj-webhook --bench receipt`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use futures::executor::block_on;
use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_shared::whatsapp::signature::{sign, verify};
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::Body;
use support::{APP_SECRET, demo_deps, fixture, signed_request, typed_parse};

mod support;

/// The deployed function's allocator (`src/main.rs`), for the floors and the full path alike.
#[global_allocator]
static ALLOCATOR: intaj_webhook::allocator::MiMalloc = intaj_webhook::allocator::MiMalloc;

/// Built with a plain executor: the set-up runs inside the bench's own runtime.
fn fresh_deps() -> WebhookDeps {
    let deps = block_on(async {
        let deps = demo_deps().await;
        // The bot's earlier conversation, a customer's message here and the reply's status
        // below: the store is not empty, only these bodies' items are new to it.
        let earlier = InboundMessage {
            message_id: "wamid.EARLIER".into(),
            customer: CustomerIds::new(Some("15550000000"), None),
            phone_number_id: "100000000000001".into(),
            kind: "text".into(),
            timestamp: 1,
            profile_name: None,
            content: r#"{"type":"text","text":{"body":"hi"}}"#.into(),
        };
        deps.conversations
            .record_customer_message("demo", earlier)
            .await
            .unwrap();
        deps
    });
    // A warm function: it already knows which bot owns the number (the routing cache), and has
    // noted the bot's arrivals (`lastWebhookAt`, every few minutes) with an earlier webhook, the
    // reply's `sent` status. (Two messages in the store: a third, the measured one, does not
    // land on the map's growth, which a live store pays at powers of two only.)
    block_on(async {
        let owner = deps.routes.connection_by_phone_number("100000000000001");
        assert!(owner.await.unwrap().is_some());
        let earlier = signed_request(fixture("status_sent.json"));
        assert_eq!(handle(earlier, &deps).await.status(), 200);
    });
    deps
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (label, name) in [
        ("one_message", "text.json"),
        ("typical_mixed", "mixed_batch.json"),
        ("statuses_100", "batch_100_statuses.json"),
    ] {
        let body = fixture(name);
        let signature = sign(APP_SECRET, &body);
        let mut group = c.benchmark_group(label);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("floor_hmac", |b| {
            b.iter(|| verify(APP_SECRET, black_box(&body), Some(signature.as_bytes())).unwrap())
        });
        group.bench_function("floor_typed_parse", |b| {
            b.iter(|| typed_parse(black_box(&body)))
        });
        group.bench_function("floors_after_set_up", |b| {
            b.iter_batched(
                || (fresh_deps(), body.clone()),
                |(deps, body)| {
                    verify(APP_SECRET, &body, Some(signature.as_bytes())).unwrap();
                    typed_parse(&body);
                    (deps, body)
                },
                BatchSize::PerIteration,
            )
        });
        let set_up = || {
            let request = http::Request::builder()
                .method("POST")
                .uri("/webhook/whatsapp/demo")
                .header("x-hub-signature-256", &signature)
                .body(Body::from(body.clone()))
                .unwrap();
            (fresh_deps(), request)
        };
        // Timed inside one runtime, as a warm function serves its invocations: no runtime is
        // entered per receipt.
        group.bench_function("full_receipt", |b| {
            b.to_async(&runtime).iter_batched(
                set_up,
                |(deps, request)| async move {
                    let response = handle(request, &deps).await;
                    assert_eq!(response.status(), 200);
                    deps
                },
                // Each receipt right after its set-up, as a warm function finds its clients and
                // caches in the CPU cache; batched set-ups would leave them cold.
                BatchSize::PerIteration,
            )
        });
        // What the full path's timing carries besides the receipt: the timer read around each
        // iteration and the runtime's poll, which the hot floors' loops spread over many
        // iterations (BENCHMARKS.md, "the bench's own share").
        group.bench_function("harness_per_iteration", |b| {
            b.to_async(&runtime).iter_batched(
                set_up,
                |(deps, request)| async move { (deps, request) },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
