//! The real `send` binary under `cargo lambda watch`, backed by DynamoDB Local and moto through
//! the AWS SDK's endpoint variables and by the WhatsApp simulator through `WHATSAPP_API_BASE`,
//! invoked with the `events/` files: refused outside the window, sent inside it, and read back.

use intaj_shared::ports::MessageStore;
use intaj_tests::{DemoBot, LocalServices, WatchedFunction, answer_body};

/// The customer of `events/send-text.json` (`+1 (555) 123-4567`).
const CUSTOMER: &str = "15551234567";

#[tokio::test(flavor = "multi_thread")]
async fn the_send_binary_refuses_outside_the_window_and_sends_inside_it_under_cargo_lambda() {
    let Some(services) = LocalServices::from_env("send_lambda") else {
        return;
    };
    let demo = DemoBot::connect(&services, "send-e2e").await;
    let (store, simulator) = (&demo.store, demo.simulator.handle());
    let mut function = WatchedFunction::start("intaj-send", "send", &demo.env);

    // The customer has not written: a free-form message is refused before Meta is asked.
    let refused = function.first_answer("send-text.json");
    assert_eq!(refused["statusCode"], 422, "{refused}");
    assert_eq!(answer_body(&refused)["error"]["code"], "outside_window");
    assert!(
        refused["headers"]["x-ratelimit-limit"].is_string(),
        "{refused}"
    );
    assert!(simulator.outbox().is_empty());

    // The customer writes (as the webhook records it): the window opens.
    demo.customer_writes(CUSTOMER).await;

    let sent = function
        .answer("send-text.json")
        .expect("the send answered");
    assert_eq!(sent["statusCode"], 200, "{sent}");
    let sent = answer_body(&sent);
    assert_eq!(sent["status"], "accepted", "{sent}");
    assert_eq!(sent["to"], CUSTOMER);
    let message_id = sent["messageId"].as_str().expect("Meta's message id");
    let outbox = simulator.outbox();
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
    assert_eq!(
        answer_body(&conversation)["windowOpen"],
        true,
        "{conversation}"
    );
}
