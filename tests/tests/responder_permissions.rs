//! The responder function's table permissions in `template.yaml` are exactly the DynamoDB
//! operations it makes: customers' messages from its queue answered by a bot backend (a reply,
//! a handover, a paused conversation, a failure retried, the fallback at the last try, Meta
//! failing a reply), and a
//! status change from the table's stream pushed to the business's URL; on DynamoDB Local, with
//! the WhatsApp simulator as Meta, each batch as Lambda delivers it.

use std::time::Duration;

use axum::routing::post;
use intaj_dev::simulator::FaultConfig;
use intaj_responder::{ResponderDeps, handle_event};
use intaj_shared::domain::Responder;
use intaj_shared::ports::{BotSecrets, QueueError, RetryDelay, Secret, SecretStore};
use intaj_tests::{CountedTable, LocalServices, StackClient, queued_text, sample_event};
use serde_json::{Value, json};

const CUSTOMER: &str = "15551234567";
const OTHER_CUSTOMER: &str = "15557654321";

/// The queue's retries are not the table's: nothing to count.
struct NoDelay;

#[async_trait::async_trait]
impl RetryDelay for NoDelay {
    async fn delay_retry(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
        Ok(())
    }
}

/// A bot backend: "fail" fails, "a human please" hands over, anything else is echoed. It also
/// takes the business's status events.
async fn bot_backend() -> String {
    async fn answer(body: String) -> (axum::http::StatusCode, String) {
        let message: Value = serde_json::from_str(&body).unwrap();
        let text = message["text"].as_str().unwrap_or_default();
        let answer = match text {
            "fail" => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
            "a human please" => json!({"handover": true,
                                       "replies": [{"type": "text", "content": "One moment"}]}),
            text => json!({"replies": [{"type": "text", "content": format!("echo: {text}")}]}),
        };
        (axum::http::StatusCode::OK, answer.to_string())
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/bot", post(answer))
        .route("/events", post(|| async { axum::http::StatusCode::OK }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A queue record of the demo bot's customer's text, on its `try_number`th delivery.
fn queued(id: &str, customer: &str, text: &str, try_number: u32) -> Value {
    queued_text("demo", "100000000000001", id, customer, text, try_number)
}

/// The records of a batch the function asked to have again.
fn failed(answer: &Value) -> Vec<&str> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_responder_functions_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("responder permissions") else {
        return;
    };
    let meta = StackClient::start_silent().await;
    let mut table =
        CountedTable::with_demo_connection(&services, "intaj-responder-permissions").await;
    // The demo bot forwards to its backend, reports to its events URL, and has a fallback.
    let backend = bot_backend().await;
    let mut demo = table.store.connection("demo").await.unwrap().unwrap();
    demo.responder = Some(Responder::Forward {
        url: format!("{backend}/bot"),
        timeout_ms: Some(5_000),
    });
    demo.events_url = Some(format!("{backend}/events"));
    demo.fallback_reply =
        Some(json!({"type": "text", "content": "Sorry, we will get back to you"}));
    table.store.put_connection(&demo).await.unwrap();
    table
        .secrets
        .put_bot_secrets(
            "demo",
            &BotSecrets {
                access_token: Secret::new("dev-access-token"),
                app_secret: Secret::new("dev-app-secret"),
                verify_token: Secret::new("dev-verify-token"),
                responder_secret: Some(Secret::new("dev-responder-secret")),
            },
        )
        .await
        .unwrap();
    // Both customers wrote: their windows are open.
    for customer in [CUSTOMER, OTHER_CUSTOMER] {
        table.customer_wrote(meta.sim(), customer).await;
    }
    let deps = ResponderDeps::new(
        table.store.clone(),
        table.secrets.clone(),
        meta.impatient_graph(),
        intaj_shared::business_urls::Reach::PrivateToo,
    );

    // The sample batch: answered.
    let answer = handle_event(&deps, &NoDelay, sample_event("responder-queue.json"))
        .await
        .unwrap();
    table.collect();
    assert!(failed(&answer).is_empty(), "{answer}");
    // A handover, then a message of the paused conversation (not answered); a failure to
    // retry, and at the last try the fallback reply.
    let batch = json!({"Records": [
        queued("wamid.HANDOVER", CUSTOMER, "a human please", 1),
        queued("wamid.PAUSED", CUSTOMER, "are you there?", 1),
        queued("wamid.FAIL", OTHER_CUSTOMER, "fail", 1),
    ]});
    let answer = handle_event(&deps, &NoDelay, batch).await.unwrap();
    table.collect();
    assert_eq!(failed(&answer), ["queue-wamid.FAIL"], "{answer}");
    let last_try = json!({"Records": [queued("wamid.FAIL", OTHER_CUSTOMER, "fail", 5)]});
    let answer = handle_event(&deps, &NoDelay, last_try).await.unwrap();
    table.collect();
    assert_eq!(failed(&answer), ["queue-wamid.FAIL"], "{answer}");
    let fallback = meta
        .sim()
        .outbox()
        .into_iter()
        .filter(|m| m.request["text"]["body"] == "Sorry, we will get back to you")
        .count();
    assert_eq!(fallback, 1, "the fallback reply went out once");
    // Meta fails the reply: its send's claim is let go, and the message tried again.
    meta.sim().set_fault(FaultConfig {
        error_rate: 1.0,
        delay: Duration::ZERO,
    });
    let batch = json!({"Records": [queued("wamid.META_DOWN", OTHER_CUSTOMER, "hello again", 1)]});
    let answer = handle_event(&deps, &NoDelay, batch).await.unwrap();
    table.collect();
    assert_eq!(failed(&answer), ["queue-wamid.META_DOWN"], "{answer}");
    meta.sim().set_fault(FaultConfig {
        error_rate: 0.0,
        delay: Duration::ZERO,
    });
    // The sample stream batch: a status change, to the events URL.
    let answer = handle_event(&deps, &NoDelay, sample_event("responder-stream.json"))
        .await
        .unwrap();
    assert!(failed(&answer).is_empty(), "{answer}");

    table.assert_exactly_allowed_by("ResponderFunction");
    meta.stack.shutdown().await;
}
