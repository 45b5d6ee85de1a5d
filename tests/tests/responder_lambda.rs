//! The real `responder` binary under `cargo lambda watch`, on DynamoDB Local, moto and the
//! WhatsApp simulator, invoked with the `events/` files: the queue's batch (a customer's "hi")
//! answered once by the bot's rules, and the stream's batch (a message delivered) pushed,
//! signed, to the business's events URL.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use intaj_shared::clock::unix_now;
use intaj_shared::domain::{Responder, ResponderRule, RuleMatch};
use intaj_shared::ports::{BotSecrets, ConnectionStore, Secret, SecretStore};
use intaj_shared::responding::{SIGNATURE_HEADER, verify};
use intaj_tests::{DemoBot, LocalServices, WatchedFunction};
use serde_json::{Value, json};

/// The customer of `events/responder-queue.json`.
const CUSTOMER: &str = "15551234567";
const RESPONDER_SECRET: &str = "demo-responder-secret";

/// The business's events URL: keeps each event whose signature holds.
#[derive(Clone, Default)]
struct EventsUrl(Arc<Mutex<Vec<Value>>>);

async fn receive(State(events): State<EventsUrl>, headers: HeaderMap, body: String) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let signed = verify(
        RESPONDER_SECRET.as_bytes(),
        signature,
        body.as_bytes(),
        unix_now(),
        300,
    );
    if signed.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    events
        .0
        .lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    StatusCode::NO_CONTENT
}

async fn serve_events_url() -> (String, EventsUrl) {
    let events = EventsUrl::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/events", post(receive))
        .with_state(events.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_responder_binary_answers_a_customer_once_and_pushes_status_changes_signed() {
    let Some(services) = LocalServices::from_env("responder_lambda") else {
        return;
    };
    let demo = DemoBot::connect(&services, "responder-e2e").await;
    let simulator = demo.simulator.handle();
    let (events_url, events) = serve_events_url().await;

    // The business gives its bot a rule and its events URL (as the connections API stores them).
    let mut connection = demo.store.connection("demo").await.unwrap().unwrap();
    connection.responder = Some(Responder::Rules {
        rules: vec![ResponderRule {
            matches: RuleMatch::Pattern(r"\bhi\b".into()),
            reply: json!({"type": "text", "content": "Hello from the responder"}),
        }],
        fallback: None,
    });
    connection.events_url = Some(events_url);
    demo.store.put_connection(&connection).await.unwrap();
    let mut secrets = BotSecrets::clone(&demo.secrets.bot_secrets("demo").await.unwrap().unwrap());
    secrets.responder_secret = Some(Secret::new(RESPONDER_SECRET));
    demo.secrets
        .put_bot_secrets("demo", &secrets)
        .await
        .unwrap();
    // The customer wrote a moment ago: the window is open for the bot's reply.
    demo.customer_writes(CUSTOMER).await;
    let mut function = WatchedFunction::start("intaj-responder", "responder", &demo.env);

    // The queue's record of "hi": the rule answers through the send path.
    let answered = function.first_answer("responder-queue.json");
    assert_eq!(answered, json!({"batchItemFailures": []}));
    let replies = simulator.outbox();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].to.as_deref(), Some(CUSTOMER));
    assert_eq!(
        replies[0].request["text"]["body"], "Hello from the responder",
        "{replies:?}"
    );

    // The same record again (the queue delivers at least once): no second reply.
    let again = function
        .answer("responder-queue.json")
        .expect("the redelivery answered");
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert_eq!(simulator.outbox().len(), 1, "answered once");

    // The stream's record of a message delivered reaches the events URL, signed.
    let pushed = function
        .answer("responder-stream.json")
        .expect("the stream batch answered");
    assert_eq!(pushed, json!({"batchItemFailures": []}));
    let events = events.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["eventId"], "wamid.SENT1:delivered", "{events:?}");
    assert_eq!(events[0]["status"], "delivered");
}
