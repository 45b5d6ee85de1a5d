//! DynamoDB requests per webhook event, on DynamoDB Local: write requests, items written and
//! sequential round trips (requests that overlap in time count as one) of the webhook function's
//! handler for each kind of event, through the real adapter. Issue 8's "measure first".
//!
//! Run (DynamoDB Local on :8000, e.g. the one `./scripts/test.sh` starts, or your own):
//! `INTAJ_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 AWS_ACCESS_KEY_ID=test
//! AWS_SECRET_ACCESS_KEY=test cargo bench -p intaj-tests --bench webhook_writes`. Without the
//! endpoint it says so and does nothing.

use std::path::PathBuf;
use std::sync::Arc;

use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, MemorySecrets};
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::ports::{Secret, Store};
use intaj_shared::whatsapp::signature::sign;
use intaj_tests::{DynamoDbRequests, LocalServices, unique};
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::{Body, Request};

const APP_SECRET: &str = "dev-app-secret";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tests/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn signed(body: &[u8]) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("/webhook/whatsapp/demo")
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", sign(APP_SECRET.as_bytes(), body))
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn main() {
    if std::env::var("INTAJ_TEST_DYNAMODB_ENDPOINT").is_err() {
        println!("webhook_writes: set INTAJ_TEST_DYNAMODB_ENDPOINT to DynamoDB Local to measure");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(measure());
}

async fn measure() {
    let services = LocalServices::from_env("webhook writes").expect("endpoints");
    let config = aws_sdk_dynamodb::config::Builder::from(&services.sdk_config().await)
        .endpoint_url(&services.dynamodb)
        .build();
    let requests = DynamoDbRequests::default();
    let client = requests.client(config);
    let table = unique("intaj-bench-webhook");
    create_table_if_missing(&client, &table).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(DynamoDbStore::new(client, table));
    let secrets = Arc::new(MemorySecrets::new());
    let demo = NewConnection {
        bot_id: "demo".into(),
        business_account_id: "200000000000001".into(),
        phone_number_id: "100000000000001".into(),
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new(APP_SECRET),
        verify_token: Secret::new("dev-verify-token"),
        api_key: Secret::new("dev-api-key"),
        rate_limit_per_second: 80,
    };
    connect(store.as_ref(), secrets.as_ref(), &demo, 0)
        .await
        .unwrap();
    let deps = WebhookDeps { store, secrets };
    // Warm the connection lookup (the function's cache) so the rows show the event's own work.
    let _ = handle(signed(&fixture("status_read.json")), &deps).await;

    println!(
        "| event | body | write requests | items written | all requests | sequential round trips |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let cases = [
        ("new inbound, phone only", "text.json"),
        ("redelivered inbound", "text.json"),
        ("new inbound, BSUID + wa_id", "bsuid_and_phone.json"),
        ("redelivered inbound, BSUID + wa_id", "bsuid_and_phone.json"),
        ("new status", "status_sent.json"),
        ("duplicate status", "status_sent.json"),
        ("100-status batch", "batch_100_statuses.json"),
        ("100-status batch again", "batch_100_statuses.json"),
    ];
    for (event, name) in cases {
        requests.reset();
        let response = handle(signed(&fixture(name)), &deps).await;
        assert_eq!(response.status(), 200, "{name}");
        println!(
            "| {event} | `{name}` | {} | {} | {} | {} |",
            requests.write_requests(),
            requests.items_written(|_| true),
            requests.sent().len(),
            requests.sequential_round_trips()
        );
    }
}
