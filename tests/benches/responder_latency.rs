//! How fast the bot answers, in the local stack: from the simulator sending a customer's signed
//! webhook to the bot's backend receiving the forward, and to the bot's reply reaching the
//! simulator. 1,000 messages from 100 customers, each customer writing its 10 one after the
//! other, the customers at once.
//!
//! Run: `cargo bench -p intaj-tests --bench responder_latency`. Without `--bench` (as `cargo
//! test` runs benches) it runs a smoke version: 20 messages from 4 customers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::routing::post;
use intaj_dev::simulator::{InboundMessage, SimulatedNumber};
use intaj_tests::StackClient;
use serde_json::{Value, json};

const PHONE: &str = "100000000000002";

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

#[tokio::main]
async fn main() {
    let (customers, per_customer) = if std::env::args().any(|a| a == "--bench") {
        (100, 10)
    } else {
        (4, 5)
    };
    let stack = StackClient::start_silent().await;
    // The bot backend: notes when each message arrived, answers at once.
    let arrived: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let seen = arrived.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bot_url = format!("http://{}/bot", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/bot",
        post(move |body: String| {
            let seen = seen.clone();
            async move {
                let message: Value = serde_json::from_str(&body).unwrap();
                let text = message["text"].as_str().unwrap().to_owned();
                seen.lock().unwrap().insert(text.clone(), unix_ms());
                let answer = json!({"replies": [{"type": "text", "content": text}]});
                (StatusCode::OK, answer.to_string())
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let webhook = format!("{}/webhook/whatsapp/shop", stack.stack.base_url);
    stack.sim().upsert_number(
        SimulatedNumber::new(
            PHONE,
            "200000000000001",
            "shop-access-token-0001",
            "shop-secret",
        )
        .with_webhook_url(webhook),
    );
    stack.sim().set_throughput(None);
    stack.sim().set_status_delay(Duration::from_secs(3600));
    let admin = stack.stack.settings.admin_token.clone();
    let (status, created) = stack
        .call(
            "POST",
            "/api/whatsapp/connections",
            &admin,
            Some(json!({
                "botId": "shop", "businessAccountId": "200000000000001", "phoneNumberId": PHONE,
                "accessToken": "shop-access-token-0001", "appSecret": "shop-secret",
                "rateLimitPerSecond": 1000,
                "responder": {"kind": "forward", "url": bot_url},
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let sent: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let started = std::time::Instant::now();
    let writers = (0..customers).map(|c| {
        let sim = stack.sim().clone();
        let sent = sent.clone();
        tokio::spawn(async move {
            let from = format!("1555100{c:04}");
            for n in 0..per_customer {
                let text = format!("{from}-{n}");
                let mut message = InboundMessage::text(&from, &text);
                message.phone_number_id = Some(PHONE.into());
                sent.lock().unwrap().insert(text, unix_ms());
                let outcome = sim.inbound(message).await.unwrap();
                assert_eq!(outcome.webhook_status, Some(200));
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let total = customers * per_customer;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let replies = loop {
        let replies: Vec<_> = stack
            .sim()
            .outbox()
            .into_iter()
            .filter(|m| m.phone_number_id == PHONE)
            .collect();
        if replies.len() >= total {
            break replies;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {total} replies",
            replies.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed();
    let sent = sent.lock().unwrap();
    let arrived = arrived.lock().unwrap();
    let mut to_bot: Vec<u64> = Vec::new();
    let mut to_customer: Vec<u64> = Vec::new();
    for reply in &replies {
        let text = reply.request["text"]["body"].as_str().unwrap();
        to_bot.push(arrived[text] - sent[text]);
        to_customer.push(reply.received_at_ms - sent[text]);
    }
    to_bot.sort_unstable();
    to_customer.sort_unstable();
    println!(
        "{total} messages from {customers} customers in {:.2} s",
        wall.as_secs_f64()
    );
    println!(
        "webhook sent → bot receives the forward: p50 {} ms, p99 {} ms, max {} ms",
        percentile(&to_bot, 0.5),
        percentile(&to_bot, 0.99),
        to_bot[to_bot.len() - 1]
    );
    println!(
        "webhook sent → the reply reaches the simulator: p50 {} ms, p99 {} ms, max {} ms",
        percentile(&to_customer, 0.5),
        percentile(&to_customer, 0.99),
        to_customer[to_customer.len() - 1]
    );
}
