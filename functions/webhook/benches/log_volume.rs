//! Log volume per webhook event: the lines the deployed webhook function writes (its JSON
//! subscriber, `bootstrap::json_log_lines`, at `info`), counted per kind of event. CloudWatch
//! Logs bills what it ingests: each line's bytes plus 26 bytes per line (BENCHMARKS.md, cost per
//! million events). Lambda's own records (`platform.start`, `platform.report`) come on top.
//! Run: `cargo bench -p intaj-webhook --bench log_volume`.

use intaj_shared::bootstrap::json_log_lines;
use intaj_test_support::LogLines;
use intaj_webhook::{WebhookDeps, handle};
use support::{demo_deps, fixture, signed_request};

// The receipt bench's bot and fixtures; its parse floor is not used here.
#[allow(dead_code)]
mod support;

/// CloudWatch Logs' metadata per log event, billed as ingested bytes.
const CLOUDWATCH_BYTES_PER_LINE: usize = 26;

fn main() {
    let captured = LogLines::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(json_log_lines("info", move || writer.clone()))
        .expect("the only subscriber");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deps = runtime.block_on(demo_deps());
    // The first webhook notes the bot's arrivals; it is not among the measured ones.
    runtime.block_on(post(&deps, fixture("status_read.json")));
    captured.take();

    println!("| event | body | events | log lines | bytes | ingested bytes per event |");
    println!("|---|---|---:|---:|---:|---:|");
    let cases = [
        ("new inbound, phone only", "text.json", 1),
        ("redelivered inbound", "text.json", 1),
        ("new inbound, BSUID + wa_id", "bsuid_and_phone.json", 1),
        ("new status", "status_sent.json", 1),
        ("duplicate status", "status_sent.json", 1),
        ("new failed status", "status_failed.json", 1),
        ("typical mixed body", "mixed_batch.json", 3),
        ("100-status batch", "batch_100_statuses.json", 100),
    ];
    for (event, name, events) in cases {
        let status = runtime.block_on(post(&deps, fixture(name)));
        assert_eq!(status, 200, "{name}");
        let lines = captured.take();
        if std::env::var_os("SHOW_LINES").is_some() {
            eprint!("{}", String::from_utf8_lossy(&lines));
        }
        let count = lines.iter().filter(|&&b| b == b'\n').count();
        let ingested = lines.len() + count * CLOUDWATCH_BYTES_PER_LINE;
        println!(
            "| {event} | `{name}` | {events} | {count} | {} | {:.0} |",
            lines.len(),
            ingested as f64 / events as f64
        );
    }
}

async fn post(deps: &WebhookDeps, body: Vec<u8>) -> u16 {
    handle(signed_request(body), deps).await.status().as_u16()
}
