//! DynamoDB requests per webhook event, on DynamoDB Local: write requests, the write units
//! DynamoDB reported for them, items written and sequential round trips (requests that overlap in time count as one) of the webhook function's
//! handler for each kind of event, through the real adapter (issue 8: measure first).
//!
//! Run (DynamoDB Local on :8000, e.g. the one `./scripts/test.sh` starts, or your own):
//! `INTAJ_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 AWS_ACCESS_KEY_ID=test
//! AWS_SECRET_ACCESS_KEY=test cargo test -p intaj-tests --bench webhook_writes` (the counts do
//! not depend on the profile). Without the endpoint it says so and does nothing.

use intaj_tests::{CountedWebhook, LocalServices, fixture_body, next_message};

fn main() {
    if std::env::var("INTAJ_TEST_DYNAMODB_ENDPOINT").is_err() {
        println!("webhook_writes: set INTAJ_TEST_DYNAMODB_ENDPOINT to DynamoDB Local to measure");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let services = LocalServices::from_env("webhook writes").expect("endpoints");
        let webhook = CountedWebhook::start(&services).await;
        println!(
            "| event | body | write requests | write units (+ refused) | items written | all requests | sequential round trips (writes only) |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|");
        let cases = [
            ("new inbound, phone only (first message)", "text.json", false),
            ("redelivered inbound", "text.json", false),
            ("next inbound, phone only", "text.json", true),
            ("new inbound, BSUID + wa_id (first message)", "bsuid_and_phone.json", false),
            ("redelivered inbound, BSUID + wa_id", "bsuid_and_phone.json", false),
            ("next inbound, BSUID + wa_id", "bsuid_and_phone.json", true),
            ("new status", "status_sent.json", false),
            ("duplicate status", "status_sent.json", false),
            ("its delivered status", "status_sent.json:delivered", false),
            ("its read status", "status_sent.json:read", false),
            ("100-status batch", "batch_100_statuses.json", false),
            ("100-status batch again", "batch_100_statuses.json", false),
        ];
        for (event, name, next) in cases {
            let cost = if next {
                webhook.post_body(name, next_message(name)).await
            } else if let Some((fixture, status)) = name.split_once(':') {
                // The same message moving on: its head item grows with each status.
                let body = String::from_utf8(fixture_body(fixture)).unwrap().replacen(
                    "\"status\": \"sent\"",
                    &format!("\"status\": \"{status}\""),
                    1,
                );
                webhook.post_body(name, body.into_bytes()).await
            } else {
                webhook.post(name).await
            };
            println!(
                "| {event} | `{name}` | {} | {} (+ {}) | {} | {} | {} ({}) |",
                cost.write_requests,
                cost.write_units,
                cost.refused_writes,
                cost.items_written,
                cost.requests,
                cost.sequential_round_trips,
                cost.sequential_write_round_trips
            );
        }
    });
}
