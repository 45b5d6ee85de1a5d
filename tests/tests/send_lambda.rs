//! The real `send` binary under `cargo lambda watch`, backed by DynamoDB Local and moto through
//! the AWS SDK's endpoint variables and by the WhatsApp simulator through `WHATSAPP_API_BASE`,
//! invoked with the `events/` files: refused outside the window, sent inside it, and read back.

use std::sync::Arc;

use intaj_dev::simulator::{self, SimulatedNumber, SimulatorConfig};
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{DynamoDbStore, SecretsManager};
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::{NewConnection, connect};
use intaj_shared::domain::{CustomerIds, InboundMessage};
use intaj_shared::ports::{ConversationStore, MessageStore, Secret};
use intaj_tests::{LocalServices, WatchedFunction, local_function_env, unique};
use serde_json::Value;

const PHONE: &str = "100000000000001";
/// The customer of `events/send-text.json` (`+1 (555) 123-4567`).
const CUSTOMER: &str = "15551234567";

/// An API Gateway answer's JSON body.
fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_send_binary_refuses_outside_the_window_and_sends_inside_it_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("send_lambda") else {
        return;
    };
    let simulator = simulator::start(
        SimulatorConfig::with_numbers([SimulatedNumber::new(
            PHONE,
            "200000000000001",
            "dev-access-token",
            "dev-app-secret",
        )]),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();

    let table = unique("send-e2e");
    let prefix = format!("{}/", unique("intaj-e2e"));
    let dynamodb = services.dynamodb().await;
    create_table_if_missing(&dynamodb, &table).await.unwrap();
    let store = Arc::new(DynamoDbStore::new(dynamodb, table.clone()));
    let secrets = SecretsManager::new(services.secrets_manager().await, prefix.clone());
    // The dev connection and API key the sample events are made for (SPEC §9).
    let demo = NewConnection {
        bot_id: "demo".into(),
        business_account_id: "200000000000001".into(),
        phone_number_id: PHONE.into(),
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new("dev-app-secret"),
        verify_token: Secret::new("dev-verify-token"),
        api_key: Secret::new("dev-api-key"),
        rate_limit_per_second: 80,
    };
    connect(store.as_ref(), &secrets, &demo, unix_now())
        .await
        .unwrap();

    let mut env = local_function_env(&services, &table, &prefix);
    env.push(format!("WHATSAPP_API_BASE={}", simulator.base_url()));
    let mut function = WatchedFunction::start("intaj-send", "send", &env);

    // The customer has not written: a free-form message is refused before Meta is asked.
    let refused = function.first_answer("send-text.json");
    assert_eq!(refused["statusCode"], 422, "{refused}");
    assert_eq!(body(&refused)["error"]["code"], "outside_window");
    assert!(
        refused["headers"]["x-ratelimit-limit"].is_string(),
        "{refused}"
    );
    assert!(simulator.handle().outbox().is_empty());

    // The customer writes (as the webhook records it): the window opens.
    let written = InboundMessage {
        message_id: unique("wamid.IN"),
        customer: CustomerIds::new(Some(CUSTOMER), None),
        phone_number_id: PHONE.into(),
        kind: "text".into(),
        timestamp: unix_now(),
        profile_name: None,
        content: r#"{"type":"text","text":{"body":"Hello!"}}"#.into(),
    };
    store
        .record_customer_message("demo", written)
        .await
        .unwrap();

    let sent = function
        .answer("send-text.json")
        .expect("the send answered");
    assert_eq!(sent["statusCode"], 200, "{sent}");
    let sent = body(&sent);
    assert_eq!(sent["status"], "accepted", "{sent}");
    assert_eq!(sent["to"], CUSTOMER);
    let message_id = sent["messageId"].as_str().expect("Meta's message id");
    let outbox = simulator.handle().outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].id, message_id);
    assert_eq!(outbox[0].to.as_deref(), Some(CUSTOMER));
    // What the function stored, read straight from DynamoDB.
    let record = store
        .message("demo", message_id)
        .await
        .unwrap()
        .expect("the sent message stored");
    assert_eq!(record.kind.as_deref(), Some("text"));

    // GET /api/whatsapp/conversations/{phone}: the window the customer opened.
    let conversation = function
        .answer("send-get-conversation.json")
        .expect("the conversation answered");
    assert_eq!(conversation["statusCode"], 200, "{conversation}");
    assert_eq!(body(&conversation)["windowOpen"], true, "{conversation}");
}
