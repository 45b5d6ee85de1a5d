//! What the webhook's benches, the profiling example (`examples/receipt_profile.rs`) and the log
//! test (`tests/logs.rs`) share: the bot they send their webhooks to, the fixtures, signed
//! requests, and the receipt bench's typed-parse floor.

use std::sync::Arc;

use intaj_shared::adapters::{MemorySecrets, MemoryStore};
use intaj_shared::domain::Connection;
use intaj_shared::ports::{BotSecrets, ConnectionStore, Secret, SecretStore};
use intaj_shared::whatsapp::signature::sign;
use intaj_shared::whatsapp::webhook::{MessageEnvelope, MessagesPayload};
use intaj_webhook::WebhookDeps;

pub const APP_SECRET: &[u8] = b"dev-app-secret";

/// A body of `shared/tests/fixtures/webhooks`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("a fixture of shared/tests/fixtures/webhooks")
}

/// A warm webhook function's dependencies, in memory, with the bot `demo` connected.
pub async fn demo_deps() -> WebhookDeps {
    let store = Arc::new(MemoryStore::new());
    let secrets = Arc::new(MemorySecrets::new());
    connect_demo_bot(&store, &secrets).await;
    WebhookDeps::new(store, secrets)
}

/// A webhook `body` for the bot `demo`, signed with [`APP_SECRET`], as Meta posts it.
pub fn signed_request(body: Vec<u8>) -> lambda_http::Request {
    http::Request::builder()
        .method("POST")
        .uri("/webhook/whatsapp/demo")
        .header("x-hub-signature-256", sign(APP_SECRET, &body))
        .body(lambda_http::Body::from(body))
        .unwrap()
}

/// Connects the bot `demo` (phone number id 100000000000001, signed with [`APP_SECRET`]).
pub async fn connect_demo_bot(store: &MemoryStore, secrets: &MemorySecrets) {
    let connection = Connection {
        bot_id: "demo".into(),
        business_account_id: "200000000000001".into(),
        phone_number_id: "100000000000001".into(),
        ..Default::default()
    };
    store.put_connection(&connection).await.unwrap();
    let bot = BotSecrets {
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new(std::str::from_utf8(APP_SECRET).unwrap()),
        verify_token: Secret::new("dev-verify-token"),
        responder_secret: None,
    };
    secrets.put_bot_secrets("demo", &bot).await.unwrap();
}

/// The typed parse the receipt needs, in one pass as it reads these bodies: the body checked as
/// UTF-8, the envelope with each change's value typed (statuses, contacts, metadata), then each
/// message's envelope.
pub fn typed_parse(body: &[u8]) -> usize {
    let text = std::str::from_utf8(body).unwrap();
    let payload: MessagesPayload = serde_json::from_str(text).unwrap();
    assert!(payload.only_messages());
    let mut items = 0;
    for change in payload.entry.iter().flat_map(|e| &e.changes) {
        for message in &change.value.messages {
            let envelope: MessageEnvelope = serde_json::from_str(message.get()).unwrap();
            items += envelope.id.len();
        }
        items += change.value.statuses.len();
    }
    items
}
