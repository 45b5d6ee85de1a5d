//! The local stack end to end over real HTTP: a simulated customer writes, the webhook records
//! it, the window opens.

use std::time::{Duration, Instant};

use intaj_dev::stack::{self, StackSettings};
use serde_json::{Value, json};

async fn wait_for<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not seen within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_simulated_customer_message_is_recorded_and_opens_the_window() {
    let stack = stack::start(StackSettings::ephemeral()).await.unwrap();
    let sim = stack
        .simulator
        .as_ref()
        .expect("the stack starts a simulator")
        .base_url()
        .to_owned();
    let http = intaj_shared::http_clients::http_client();

    // Meta's handshake against the stack, as printed in the README.
    let verify = http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token=dev-verify-token&hub.challenge=42",
            stack.webhook_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 200);
    assert_eq!(verify.text().await.unwrap(), "42");

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let outcome: Value = http
        .post(format!("{sim}/_sim/inbound"))
        .json(&json!({"from": "15551234567", "name": "Sam", "type": "text", "text": "Hello!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["webhookStatus"], 200, "{outcome}");
    let message_id = outcome["messageId"].as_str().unwrap();

    let record = stack
        .store
        .message("demo", message_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.kind.as_deref(), Some("text"));
    let content: Value = serde_json::from_str(record.content.as_deref().unwrap()).unwrap();
    assert_eq!(content["text"]["body"], "Hello!");

    let window = wait_for("window", || async {
        stack.store.window("demo", "15551234567").await.unwrap()
    })
    .await;
    assert!(window.expires_at >= before + 24 * 3600);
    assert!(window.is_open_at(before));

    // The same message redelivered by the simulator is recorded once.
    let replay: Value = http
        .post(format!("{sim}/_sim/inbound"))
        .json(&json!({"from": "15551234567", "type": "text", "text": "Hello!", "id": message_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replay["webhookStatus"], 200);
    assert_eq!(
        stack.store.message("demo", message_id).await.unwrap(),
        Some(record)
    );

    // Unknown routes answer the JSON error shape.
    let missing = http
        .get(format!("{}/nope", stack.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    stack.shutdown().await;
}

#[tokio::test]
async fn a_wrongly_signed_webhook_is_refused_by_the_stack() {
    let stack = stack::start(StackSettings::ephemeral()).await.unwrap();
    let response = intaj_shared::http_clients::http_client()
        .post(stack.webhook_url())
        .header("x-hub-signature-256", "sha256=00")
        .body(r#"{"object":"whatsapp_business_account","entry":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    stack.shutdown().await;
}
