//! The README's responder walk-through: a number connected with a `forward` responder pointing
//! at the example bot backend (`echo-bot`), which checks the signature and echoes; a customer
//! writes and the bot's answer reaches the customer.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use intaj_dev::simulator::{InboundMessage, SimulatedNumber};
use intaj_dev::stack::{self, StackSettings};
use serde_json::json;

/// Stops the bot however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_example_bot_answers_through_a_forward_responder() {
    let stack = stack::start(StackSettings::ephemeral()).await.unwrap();
    let sim = stack.simulator.as_ref().unwrap().handle();
    let http = intaj_shared::http_clients::http_client();
    let bot_port = free_port();

    sim.upsert_number(
        SimulatedNumber::new(
            "100000000000002",
            "200000000000001",
            "shop-access-token",
            "shop-app-secret",
        )
        .with_webhook_url(format!("{}/webhook/whatsapp/shop", stack.base_url)),
    );
    let created: serde_json::Value = http
        .post(format!("{}/api/whatsapp/connections", stack.base_url))
        .bearer_auth(&stack.settings.admin_token)
        .json(&json!({
            "botId": "shop",
            "businessAccountId": "200000000000001",
            "phoneNumberId": "100000000000002",
            "accessToken": "shop-access-token",
            "appSecret": "shop-app-secret",
            "responder": {"kind": "forward", "url": format!("http://127.0.0.1:{bot_port}/intaj")},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["responderSecret"].as_str().expect("created once");

    let _bot = Running(
        Command::new(env!("CARGO_BIN_EXE_echo-bot"))
            .env("RESPONDER_SECRET", secret)
            .env("BOT_PORT", bot_port.to_string())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", bot_port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the echo bot did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut message = InboundMessage::text("15551234567", "hi there");
    message.phone_number_id = Some("100000000000002".into());
    assert_eq!(
        sim.inbound(message).await.unwrap().webhook_status,
        Some(200)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        let sent = sim
            .outbox()
            .into_iter()
            .find(|m| m.phone_number_id == "100000000000002");
        if let Some(sent) = sent {
            break sent;
        }
        assert!(
            Instant::now() < deadline,
            "the bot's answer did not reach the customer"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reply.request["text"]["body"], "You said: hi there");
}
