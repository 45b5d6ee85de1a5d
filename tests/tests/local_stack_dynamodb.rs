//! `DYNAMODB_ENDPOINT` switches the local stack from memory to DynamoDB (Local), creating the
//! table from the same definition as `template.yaml`; its responder then reads the table's
//! stream, as the deployed triggers do.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use intaj_shared::responding::SIGNATURE_HEADER;
use intaj_tests::StackClient;
use serde_json::{Value, json};

use intaj_dev::simulator::InboundMessage;
use intaj_dev::stack::{self, StackSettings};
use intaj_shared::adapters::DynamoDbStore;
use intaj_shared::ports::{MessageStore, WindowStore};
use intaj_tests::{LocalServices, unique};

#[tokio::test]
async fn the_local_stack_records_into_dynamodb_when_told_to() {
    let Some(services) = LocalServices::from_env("local_stack_dynamodb") else {
        return;
    };
    let settings = StackSettings {
        dynamodb_endpoint: Some(services.dynamodb.clone()),
        table_name: unique("stack"),
        ..StackSettings::ephemeral()
    };
    let table = settings.table_name.clone();
    let running = stack::start(settings).await.unwrap();
    let sim = running.simulator.as_ref().unwrap().handle();
    let outcome = sim
        .inbound(InboundMessage::text("15551234567", "hello"))
        .await
        .unwrap();
    assert_eq!(outcome.webhook_status, Some(200));

    // Read back with a store of our own, straight from DynamoDB Local.
    let store = DynamoDbStore::new(services.dynamodb().await, table);
    let record = store.message("demo", &outcome.message_id).await.unwrap();
    assert_eq!(
        record.expect("stored in DynamoDB").kind.as_deref(),
        Some("text")
    );
    assert!(store.window("demo", "15551234567").await.unwrap().is_some());
    running.shutdown().await;
}

/// What the business's server received: (route, event), each signed.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn business_server() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/{route}",
            post(
                |State(received): State<Received>,
                 Path(route): Path<String>,
                 headers: HeaderMap,
                 body: String| async move {
                    assert!(headers.contains_key(SIGNATURE_HEADER));
                    let event = serde_json::from_str(&body).unwrap();
                    received.lock().unwrap().push((route, event));
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn on_dynamodb_the_stream_drives_the_bot_and_the_status_events() {
    let Some(services) = LocalServices::from_env("local_stack_dynamodb") else {
        return;
    };
    let stack = StackClient::start_with(StackSettings {
        dynamodb_endpoint: Some(services.dynamodb.clone()),
        table_name: unique("stack-stream"),
        ..StackSettings::ephemeral()
    })
    .await;
    let (business, received) = business_server().await;
    let admin = stack.stack.settings.admin_token.clone();
    let (status, updated) = stack
        .call(
            "POST",
            "/api/whatsapp/connections",
            &admin,
            Some(json!({"botId": "demo", "eventsUrl": format!("{business}/events")})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");

    // The demo bot's rules answer a greeting: the inbound item's stream record reached them.
    let customer = "15551234567";
    stack
        .sim()
        .inbound(InboundMessage::text(customer, "hello"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !stack
        .sim()
        .outbox()
        .iter()
        .any(|m| m.to.as_deref() == Some(customer) && m.kind == "interactive")
    {
        assert!(
            Instant::now() < deadline,
            "no answer: {:?}",
            stack.sim().outbox()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A send's statuses: each new one on its head's stream record, told to both URLs.
    let (status, sent) = stack
        .send(
            json!({"to": customer, "type": "text", "content": "Your order shipped",
            "statusCallbackUrl": format!("{business}/callback")}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let id = sent["messageId"].as_str().unwrap().to_owned();
    let wanted: Vec<(String, String)> = ["events", "callback"]
        .iter()
        .flat_map(|route| {
            let id = &id;
            ["sent", "delivered", "read"]
                .iter()
                .map(move |s| (route.to_string(), format!("{id}:{s}")))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got: Vec<(String, String)> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(route, e)| {
                (
                    route.clone(),
                    e["eventId"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        if wanted.iter().all(|w| got.contains(w)) {
            // Each change once per URL: the stream brings each status once.
            for w in &wanted {
                assert_eq!(got.iter().filter(|g| *g == w).count(), 1, "{got:?}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "status events: {got:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stack.stack.shutdown().await;
}
