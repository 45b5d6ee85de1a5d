//! The send function against the WhatsApp simulator: over HTTP through the local stack, and
//! through the handler where a test needs its own retry budget or secrets.

use std::sync::Arc;
use std::time::Duration;

use intaj_dev::simulator::{
    FaultConfig, InboundMessage, OutboxMessage, RecipientFailure, SimulatedNumber,
};
use intaj_dev::stack::RunningStack;
use intaj_send::{SendDeps, handle};
use intaj_shared::adapters::{CachedSecrets, MemorySecrets};
use intaj_shared::domain::{
    ApiKey, Connection, CustomerIds, MessageStatus, StatusEvent, api_key_hash,
};
use intaj_shared::graph::{GraphClient, GraphConfig, RetryPolicy};
use intaj_shared::ports::{BotSecrets, Secret, SecretStore};
use intaj_tests::StackClient;
use lambda_http::Body;
use serde_json::{Value, json};

const CUSTOMER: &str = "15551234567";
const KEY: &str = "dev-api-key";

/// The local stack, statuses sent back at once.
struct Stack(StackClient);

impl std::ops::Deref for Stack {
    type Target = StackClient;
    fn deref(&self) -> &StackClient {
        &self.0
    }
}

impl Stack {
    async fn start() -> Self {
        // Only the test's own sends reach the simulator.
        let stack = StackClient::start_silent().await;
        stack.sim().set_status_delay(Duration::ZERO);
        Self(stack)
    }

    /// What reached the simulator for the message id a send answered with.
    fn sent(&self, id: &(impl PartialEq<String> + ?Sized + std::fmt::Debug)) -> OutboxMessage {
        self.sim()
            .outbox()
            .into_iter()
            .find(|m| id == &m.id)
            .unwrap_or_else(|| panic!("{id:?} is not in the simulator's outbox"))
    }

    /// The customer writes, which opens their 24-hour window.
    async fn customer_writes(&self, from: &str) {
        let outcome = self
            .sim()
            .inbound(InboundMessage::text(from, "hi"))
            .await
            .unwrap();
        assert_eq!(outcome.webhook_status, Some(200));
    }

    async fn send_with(
        &self,
        key: &str,
        body: Value,
        idempotency: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/whatsapp/send", self.stack.base_url))
            .bearer_auth(key)
            .json(&body);
        if let Some(idempotency) = idempotency {
            request = request.header("idempotency-key", idempotency);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.unwrap())
    }

    async fn send(&self, body: Value) -> (u16, Value) {
        let (status, _, body) = self.send_with(KEY, body, None).await;
        (status, body)
    }

    async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        self.call("GET", path, key, None).await
    }
}

#[tokio::test]
async fn the_readme_example_sends_a_text_once_the_customer_has_written() {
    let s = Stack::start().await;
    let seed = json!({"to": "+1 (555) 123-4567", "type": "text", "content": "Hello from Intaj!"});

    let (status, body) = s.send(seed.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("outside_window")),
        "{body}"
    );
    assert!(s.sim().outbox().is_empty(), "nothing reached Meta");

    s.customer_writes(CUSTOMER).await;
    let (status, body) = s.send(seed).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["to"], CUSTOMER);
    let id = body["messageId"].as_str().unwrap();

    let outbox = s.sim().outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].id, id);
    assert_eq!(
        outbox[0].request,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER,
               "type": "text", "text": {"body": "Hello from Intaj!"}})
    );

    // The simulator's status webhooks come back through the webhook function.
    let (status, message) = poll_message(&s, id, "read").await;
    assert_eq!(status, 200);
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["to"], CUSTOMER);
    assert_eq!(message["type"], "text");
    let history: Vec<_> = message["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].clone())
        .collect();
    assert_eq!(history, [json!("sent"), json!("delivered"), json!("read")]);
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn reads_tell_inbound_outbound_and_messages_sent_elsewhere_apart() {
    let s = Stack::start().await;
    let inbound = s
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "hi"))
        .await
        .unwrap();
    let (code, message) = s
        .get(
            KEY,
            &format!("/api/whatsapp/messages/{}", inbound.message_id),
        )
        .await;
    assert_eq!(code, 200, "{message}");
    assert_eq!(message["direction"], "inbound");
    assert_eq!(message["from"], CUSTOMER);
    assert_eq!(message["type"], "text");
    assert_eq!(message["status"], "received");
    assert!(message["createdAt"].is_i64(), "{message}");

    // A message the business sent from WhatsApp Manager: only its status webhook reaches us.
    let elsewhere = "wamid.sent-from-whatsapp-manager";
    let delivered = StatusEvent {
        message_id: elsewhere.into(),
        status: MessageStatus::Delivered,
        timestamp: 1_764_000_000,
        recipient: CustomerIds::new(Some(CUSTOMER), None),
        errors: None,
        conversation: None,
        pricing: None,
        biz_opaque_callback_data: None,
    };
    s.stack
        .store
        .record_status("demo", &delivered)
        .await
        .unwrap();
    let (code, message) = s
        .get(KEY, &format!("/api/whatsapp/messages/{elsewhere}"))
        .await;
    assert_eq!(code, 200, "{message}");
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["to"], CUSTOMER);
    assert_eq!(message["status"], "delivered");
    assert_eq!(message["createdAt"], 1_764_000_000);
    assert_eq!(message["type"], Value::Null);
    s.0.stack.shutdown().await;
}

async fn poll_message(s: &Stack, id: &str, status: &str) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (code, message) = s.get(KEY, &format!("/api/whatsapp/messages/{id}")).await;
        if message["status"] == status || std::time::Instant::now() > deadline {
            return (code, message);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_message_type_reaches_meta_in_its_documented_shape() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    let cases = [
        (
            json!({"type": "text", "content": {"body": "see https://intaj.ai", "previewUrl": true}}),
            json!({"type": "text", "text": {"body": "see https://intaj.ai", "preview_url": true}}),
        ),
        (
            json!({"type": "image", "content": {"url": "https://example.com/image.jpg", "caption": "Check this out!"}}),
            json!({"type": "image", "image": {"link": "https://example.com/image.jpg", "caption": "Check this out!"}}),
        ),
        (
            json!({"type": "document", "content": {"id": "1234567890", "filename": "invoice.pdf"}}),
            json!({"type": "document", "document": {"id": "1234567890", "filename": "invoice.pdf"}}),
        ),
        (
            json!({"type": "audio", "content": {"url": "https://example.com/a.ogg"}}),
            json!({"type": "audio", "audio": {"link": "https://example.com/a.ogg"}}),
        ),
        (
            json!({"type": "video", "content": {"url": "https://example.com/v.mp4", "caption": "v"}}),
            json!({"type": "video", "video": {"link": "https://example.com/v.mp4", "caption": "v"}}),
        ),
        (
            json!({"type": "sticker", "content": {"id": "987"}}),
            json!({"type": "sticker", "sticker": {"id": "987"}}),
        ),
        (
            json!({"type": "location", "content": {"latitude": 25.2, "longitude": 55.27, "name": "Shop"}}),
            json!({"type": "location", "location": {"latitude": 25.2, "longitude": 55.27, "name": "Shop"}}),
        ),
        (
            json!({"type": "reaction", "content": {"messageId": "wamid.ABC", "emoji": "👍"}}),
            json!({"type": "reaction", "reaction": {"message_id": "wamid.ABC", "emoji": "👍"}}),
        ),
        (
            json!({"type": "contacts", "content": [{
                "name": {"formattedName": "Ada Lovelace", "firstName": "Ada"},
                "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "waId": "442079460958"}]}]}),
            json!({"type": "contacts", "contacts": [{
                "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada"},
                "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "wa_id": "442079460958"}]}]}),
        ),
        (
            json!({"type": "interactive", "content": {"type": "list", "body": "What would you like?",
                   "button": "Choose", "sections": [{"title": "Drinks", "rows": [
                       {"id": "tea", "title": "Tea", "description": "Hot"}]}]}}),
            json!({"type": "interactive", "interactive": {"type": "list",
                   "body": {"text": "What would you like?"},
                   "action": {"button": "Choose", "sections": [{"title": "Drinks", "rows": [
                       {"id": "tea", "title": "Tea", "description": "Hot"}]}]}}}),
        ),
        (
            json!({"type": "interactive", "content": {"type": "cta_url", "body": "See the dates.",
                   "displayText": "See Dates", "url": "https://example.com/dates"}}),
            json!({"type": "interactive", "interactive": {"type": "cta_url",
                   "body": {"text": "See the dates."},
                   "action": {"name": "cta_url", "parameters": {
                       "display_text": "See Dates", "url": "https://example.com/dates"}}}}),
        ),
        (
            json!({"type": "template", "template": {"name": "order_update", "language": "en",
                   "components": [{"type": "body", "parameters": [
                       {"type": "text", "text": "Ada"}, {"type": "text", "text": "#42"},
                       {"type": "text", "text": "on its way"}]}]}}),
            json!({"type": "template", "template": {"name": "order_update", "language": {"code": "en"},
                   "components": [{"type": "body", "parameters": [
                       {"type": "text", "text": "Ada"}, {"type": "text", "text": "#42"},
                       {"type": "text", "text": "on its way"}]}]}}),
        ),
    ];
    for (request, expected) in cases {
        let mut body = request.clone();
        body["to"] = json!(CUSTOMER);
        let (status, answer) = s.send(body).await;
        assert_eq!(status, 200, "{request}: {answer}");
        let sent = s.sent(&answer["messageId"]);
        let mut wanted = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER});
        for (k, v) in expected.as_object().unwrap() {
            wanted[k] = v.clone();
        }
        assert_eq!(sent.request, wanted, "{request}");
    }

    // Interactive buttons and a reply, checked field by field.
    let (status, answer) = s
        .send(json!({"to": CUSTOMER, "type": "interactive", "replyTo": "wamid.PREV",
                     "content": {"type": "button", "body": "Pick one",
                                 "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]}}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let sent = s.sent(&answer["messageId"]);
    assert_eq!(sent.request["context"], json!({"message_id": "wamid.PREV"}));
    assert_eq!(sent.request["interactive"]["type"], "button");
    assert_eq!(
        sent.request["interactive"]["action"]["buttons"][1],
        json!({"type": "reply", "reply": {"id": "no", "title": "No"}})
    );

    // A customer known by their business-scoped user id only: `recipient`, never `to`.
    let bsuid = "US.13491208655302741918";
    let (status, answer) = s
        .send(json!({"to": bsuid, "type": "template",
                     "template": {"name": "hello_world", "language": "en_US"}}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["to"], bsuid);
    let sent = s.sent(&answer["messageId"]);
    assert_eq!(sent.request["recipient"], bsuid);
    assert!(sent.request.get("to").is_none(), "{}", sent.request);
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_get_a_code_naming_the_rule_and_reach_nobody() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    let long = "x".repeat(4097);
    let cases = [
        (
            json!({"to": "not a phone", "type": "text", "content": "hi"}),
            "invalid_phone_number",
        ),
        (
            json!({"to": CUSTOMER, "type": "hologram", "content": "hi"}),
            "unsupported_type",
        ),
        (
            json!({"to": CUSTOMER, "type": "text", "content": long}),
            "text_too_long",
        ),
        (
            json!({"to": CUSTOMER, "type": "interactive", "content": {"type": "button", "body": "b",
            "buttons": [{"id": "1", "title": "a"}, {"id": "2", "title": "b"}, {"id": "3", "title": "c"}, {"id": "4", "title": "d"}]}}),
            "too_many_buttons",
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = s.send(body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{answer}"
        );
    }
    let (status, answer) = s.send(json!("not an object")).await;
    assert_eq!(status, 400, "{answer}");
    // Serde would read the fields in order from an array; nobody means that.
    let (status, answer) = s.send(json!([CUSTOMER, "text", "hi"])).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_json")),
        "{answer}"
    );
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("got an array"), "{message}");
    let (status, answer) = s
        .send(json!({"to": CUSTOMER, "type": "text", "content": null}))
        .await;
    let message = answer["error"]["message"].as_str().unwrap();
    assert_eq!(status, 422, "{answer}");
    assert!(
        !message.contains("struct"),
        "no type names of ours: {message}"
    );
    assert!(s.sim().outbox().is_empty());
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn templates_go_out_whatever_the_window() {
    let s = Stack::start().await;
    let (status, answer) = s
        .send(json!({"to": "15550001111", "type": "template",
                     "template": {"name": "hello_world", "language": "en_US"}}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let sent = s.sim().outbox().pop().unwrap();
    assert_eq!(
        sent.request["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn meta_failures_are_retried_or_mapped() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    let text = json!({"to": CUSTOMER, "type": "text", "content": "hi"});

    // Two transient failures, then success: one message, no error.
    s.sim().fail_next(2, 131000);
    let (status, answer) = s.send(text.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(s.sim().outbox().len(), 1);

    // Non-retryable: mapped, with Meta's error kept.
    s.sim()
        .set_recipient_failure(CUSTOMER, RecipientFailure::response(131026));
    let (status, answer) = s.send(text.clone()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("undeliverable")),
        "{answer}"
    );
    assert_eq!(answer["error"]["upstream"]["code"], 131026);
    // Meta's own words, untouched, with its details beside them.
    assert_eq!(
        answer["error"]["upstream"]["message"],
        "(#131026) Message undeliverable"
    );
    assert_eq!(
        answer["error"]["upstream"]["details"],
        "Message Undeliverable."
    );
    assert!(answer["error"]["upstream"]["fbtraceId"].is_string());

    s.sim()
        .set_recipient_failure(CUSTOMER, RecipientFailure::response(131056));
    let (status, headers, answer) = s.send_with(KEY, text, None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (429, Some("recipient_rate_limited"))
    );
    assert!(headers.contains_key("retry-after"));
    s.0.stack.shutdown().await;
}

/// Handler-level deps over the stack's store, with a short retry budget and its own secrets.
fn deps(stack: &RunningStack, secrets: Arc<dyn SecretStore>, budget: Duration) -> SendDeps {
    let mut config = GraphConfig::new(&stack.whatsapp_api_base, "v25.0");
    config.retry = RetryPolicy {
        budget,
        base_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    SendDeps {
        store: stack.store.clone(),
        secrets,
        graph: GraphClient::new(config).unwrap(),
    }
}

fn request(body: Value) -> lambda_http::Request {
    http::Request::builder()
        .method("POST")
        .uri("/api/whatsapp/send")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn answer(deps: &SendDeps, body: Value) -> (u16, Option<String>, Value) {
    let response = handle(request(body), deps).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(response.body().as_ref()).unwrap();
    (response.status().as_u16(), retry_after, body)
}

#[tokio::test]
async fn when_retries_run_out_the_caller_is_told_when_to_come_back() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    s.sim().set_fault(FaultConfig {
        error_rate: 1.0,
        delay: Duration::ZERO,
    });
    let deps = deps(
        &s.stack,
        s.stack.secrets.clone(),
        Duration::from_millis(300),
    );
    let (status, retry_after, body) = answer(
        &deps,
        json!({"to": CUSTOMER, "type": "text", "content": "hi"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("upstream_unavailable")),
        "{body}"
    );
    assert!(retry_after.is_some());
    assert!(s.sim().outbox().is_empty());
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn a_rotated_access_token_is_re_read_once() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    // The function caches secrets; the token is rotated behind its back, at Meta and in the store.
    let inner = Arc::new(MemorySecrets::new());
    let old = BotSecrets {
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new("dev-app-secret"),
        verify_token: Secret::new("dev-verify-token"),
        responder_secret: None,
    };
    inner.put_bot_secrets("demo", &old).await.unwrap();
    let cached = Arc::new(CachedSecrets::new(
        ArcSecrets(inner.clone()),
        Duration::from_secs(300),
    ));
    let deps = deps(&s.stack, cached.clone(), Duration::from_secs(2));
    let text = json!({"to": CUSTOMER, "type": "text", "content": "hi"});
    assert_eq!(answer(&deps, text.clone()).await.0, 200);

    let mut number = s.sim().numbers().into_iter().next().unwrap();
    number.access_token = "rotated-token".into();
    s.sim().upsert_number(number);
    inner
        .put_bot_secrets(
            "demo",
            &BotSecrets {
                access_token: Secret::new("rotated-token"),
                ..old.clone()
            },
        )
        .await
        .unwrap();
    let (status, _, body) = answer(&deps, text.clone()).await;
    assert_eq!(status, 200, "re-read the token and sent: {body}");

    // A token that is wrong everywhere: 502 after one re-read.
    inner
        .put_bot_secrets(
            "demo",
            &BotSecrets {
                access_token: Secret::new("revoked"),
                ..old
            },
        )
        .await
        .unwrap();
    cached.refresh_bot_secrets("demo").await.unwrap();
    let (status, _, body) = answer(&deps, text).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("invalid_access_token")),
        "{body}"
    );
    s.0.stack.shutdown().await;
}

/// Shares one in-memory secret store between the test and a cache.
struct ArcSecrets(Arc<MemorySecrets>);

#[async_trait::async_trait]
impl SecretStore for ArcSecrets {
    async fn bot_secrets(
        &self,
        b: &str,
    ) -> Result<Option<Arc<BotSecrets>>, intaj_shared::ports::SecretsError> {
        self.0.bot_secrets(b).await
    }
    async fn refresh_bot_secrets(
        &self,
        b: &str,
    ) -> Result<Option<Arc<BotSecrets>>, intaj_shared::ports::SecretsError> {
        self.0.refresh_bot_secrets(b).await
    }
    async fn put_bot_secrets(
        &self,
        b: &str,
        s: &BotSecrets,
    ) -> Result<(), intaj_shared::ports::SecretsError> {
        self.0.put_bot_secrets(b, s).await
    }
    async fn delete_bot_secrets(&self, b: &str) -> Result<(), intaj_shared::ports::SecretsError> {
        self.0.delete_bot_secrets(b).await
    }
}

/// A caller that gives up on a slow send does not stop it, as a Lambda invocation runs on after
/// API Gateway's client goes away: the send completes, and the repeat with its key is answered
/// with it (not left waiting on a claim nobody finishes).
#[tokio::test]
async fn a_send_its_caller_gave_up_on_completes_and_its_repeat_gets_the_answer() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    s.sim().set_fault(FaultConfig {
        error_rate: 0.0,
        delay: Duration::from_secs(2),
    });
    let body = json!({"to": CUSTOMER, "type": "text", "content": "slow but sure"});
    let impatient = intaj_shared::http_clients::http_client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(format!("{}/api/whatsapp/send", s.stack.base_url))
        .bearer_auth(KEY)
        .header("idempotency-key", "slow-1")
        .json(&body)
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()));
    let (status, headers, answer) = s.send_with(KEY, body, Some("slow-1")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(s.sim().outbox().len(), 1, "sent once");
}

#[tokio::test]
async fn an_idempotency_key_sends_once_even_when_repeats_race() {
    let s = Arc::new(Stack::start().await);
    s.customer_writes(CUSTOMER).await;
    let body = json!({"to": CUSTOMER, "type": "text", "content": "only once"});
    let racers = (0..8).map(|_| {
        let s = s.clone();
        let body = body.clone();
        tokio::spawn(async move { s.send_with(KEY, body, Some("order-42-shipped")).await })
    });
    let results: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ids: std::collections::HashSet<_> = results
        .iter()
        .filter(|r| r.0 == 200)
        .map(|r| r.2["messageId"].clone())
        .collect();
    assert!(results.iter().all(|r| r.0 == 200), "{results:?}");
    assert_eq!(ids.len(), 1, "every answer is the first one: {results:?}");
    let fresh = results
        .iter()
        .filter(|r| !r.1.contains_key("idempotent-replayed"))
        .count();
    assert_eq!(fresh, 1, "one send, the others replayed: {results:?}");
    assert_eq!(s.sim().outbox().len(), 1, "sent once");

    let (status, headers, again) = s.send_with(KEY, body, Some("order-42-shipped")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert!(ids.contains(&again["messageId"]));
    let (status, _, reused) = s
        .send_with(
            KEY,
            json!({"to": CUSTOMER, "type": "text", "content": "other"}),
            Some("order-42-shipped"),
        )
        .await;
    assert_eq!(
        (status, reused["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(s.sim().outbox().len(), 1);
}

#[tokio::test]
async fn every_answer_carries_rate_limit_headers_and_excess_gets_429() {
    let s = Stack::start().await;
    let limited = "limited-key";
    let key = ApiKey {
        bot_id: "demo".into(),
        rate_limit_per_second: 3,
        created_at: 0,
    };
    s.stack
        .store
        .put_api_key(&api_key_hash(limited), &key)
        .await
        .unwrap();
    let mut over = 0;
    for _ in 0..10 {
        let response = s
            .http
            .get(format!(
                "{}/api/whatsapp/conversations/{CUSTOMER}",
                s.stack.base_url
            ))
            .bearer_auth(limited)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert!(response.headers().contains_key("x-ratelimit-remaining"));
        assert!(response.headers().contains_key("x-ratelimit-reset"));
        if response.status() == 429 {
            over += 1;
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    // Ten quick requests span at most two one-second windows: at most six pass.
    assert!(over >= 4, "only {over} of 10 refused");
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn a_key_only_ever_sees_its_own_bot() {
    let s = Stack::start().await;
    s.customer_writes(CUSTOMER).await;
    let (status, sent) = s
        .send(json!({"to": CUSTOMER, "type": "text", "content": "hi"}))
        .await;
    assert_eq!(status, 200);
    let id = sent["messageId"].as_str().unwrap();

    // A second bot with its own number and key.
    let other = Connection {
        bot_id: "other".into(),
        business_account_id: "200000000000009".into(),
        phone_number_id: "100000000000009".into(),
        created_at: 0,
        ..Default::default()
    };
    s.stack.store.put_connection(&other).await.unwrap();
    let key = ApiKey {
        bot_id: "other".into(),
        rate_limit_per_second: 80,
        created_at: 0,
    };
    s.stack
        .store
        .put_api_key(&api_key_hash("other-key"), &key)
        .await
        .unwrap();

    let (status, body) = s
        .get("other-key", &format!("/api/whatsapp/messages/{id}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("message_not_found"))
    );
    let (status, body) = s
        .get(
            "other-key",
            &format!("/api/whatsapp/conversations/{CUSTOMER}"),
        )
        .await;
    assert_eq!(
        (status, body["windowOpen"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let (status, body) = s
        .get(KEY, "/api/whatsapp/conversations/%2B1%20555%20123%204567")
        .await;
    assert_eq!(
        (status, body["windowOpen"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(body["phone"], CUSTOMER);

    let (status, body) = s
        .get("wrong-key", &format!("/api/whatsapp/messages/{id}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );

    // Sending as the other bot: its own window, its own number and token, its own records.
    s.stack
        .secrets
        .put_bot_secrets(
            "other",
            &BotSecrets {
                access_token: Secret::new("other-access-token"),
                app_secret: Secret::new("other-app-secret"),
                verify_token: Secret::new("other-verify-token"),
                responder_secret: None,
            },
        )
        .await
        .unwrap();
    s.sim().upsert_number(SimulatedNumber::new(
        "100000000000009",
        "200000000000009",
        "other-access-token",
        "other-app-secret",
    ));
    let (status, _, body) = s
        .send_with(
            "other-key",
            json!({"to": CUSTOMER, "type": "text", "content": "hi from other"}),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("outside_window")),
        "the customer wrote to demo, not to other: {body}"
    );
    let (status, _, body) = s
        .send_with(
            "other-key",
            json!({"to": CUSTOMER, "type": "template",
                   "template": {"name": "hello_world", "language": "en_US"}}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let theirs = body["messageId"].as_str().unwrap();
    let sent = s.sent(theirs);
    assert_eq!(
        sent.phone_number_id, "100000000000009",
        "from other's number"
    );
    let (status, _) = s
        .get("other-key", &format!("/api/whatsapp/messages/{theirs}"))
        .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .get(KEY, &format!("/api/whatsapp/messages/{theirs}"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("message_not_found"))
    );
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn an_expired_window_refuses_free_form_until_the_customer_writes_again() {
    let s = Stack::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut old = InboundMessage::text(CUSTOMER, "yesterday");
    old.timestamp = Some(now - 25 * 3600);
    assert_eq!(
        s.sim().inbound(old).await.unwrap().webhook_status,
        Some(200)
    );
    let text = json!({"to": CUSTOMER, "type": "text", "content": "still there?"});

    let (status, conversation) = s
        .get(KEY, &format!("/api/whatsapp/conversations/{CUSTOMER}"))
        .await;
    assert_eq!(
        (status, conversation["windowOpen"].as_bool()),
        (200, Some(false)),
        "{conversation}"
    );
    let (status, answer) = s.send(text.clone()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("outside_window"))
    );

    s.customer_writes(CUSTOMER).await;
    let (status, answer) = s.send(text).await;
    assert_eq!(status, 200, "{answer}");
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn synced_templates_are_checked_before_meta_is_called() {
    use intaj_shared::domain::{MessageTemplate, TemplateSync};
    let s = Stack::start().await;
    let template = |name: &str, status: &str| MessageTemplate {
        parameter_format: Some("POSITIONAL".into()),
        ..MessageTemplate::new(
            format!("id-{name}"),
            name,
            "en",
            status,
            "UTILITY",
            json!([{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is {{3}}."}]).to_string(),
        )
    };
    let synced = [
        template("order_update", "APPROVED"),
        template("seasonal_promo", "PENDING"),
    ];
    s.stack
        .store
        .replace_templates(
            "demo",
            &TemplateSync {
                templates: synced.to_vec(),
                synced_at: 1,
                template_limit: None,
            },
        )
        .await
        .unwrap();
    let body = |name: &str, params: usize| {
        let parameters: Vec<_> = (0..params)
            .map(|i| json!({"type": "text", "text": format!("p{i}")}))
            .collect();
        json!({"to": CUSTOMER, "type": "template",
               "template": {"name": name, "language": "en",
                            "components": [{"type": "body", "parameters": parameters}]}})
    };
    let cases = [
        (body("no_such_template", 3), "unknown_template"),
        (body("seasonal_promo", 3), "template_not_approved"),
        (body("order_update", 2), "template_parameter_mismatch"),
    ];
    for (request, code) in cases {
        let (status, answer) = s.send(request).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{answer}"
        );
    }
    assert!(s.sim().outbox().is_empty(), "nothing reached Meta");
    let (status, answer) = s.send(body("order_update", 3)).await;
    assert_eq!(status, 200, "{answer}");
    s.0.stack.shutdown().await;
}

/// The simulator's demo template as a sync would store it.
fn synced(template: &Value) -> intaj_shared::domain::MessageTemplate {
    let text = |field: &str| template[field].as_str().unwrap_or_default().to_owned();
    intaj_shared::domain::MessageTemplate {
        parameter_format: template["parameter_format"].as_str().map(str::to_owned),
        ..intaj_shared::domain::MessageTemplate::new(
            text("id"),
            text("name"),
            text("language"),
            text("status"),
            text("category"),
            template["components"].to_string(),
        )
    }
}

#[tokio::test]
async fn template_parameters_are_checked_against_the_synced_template() {
    use intaj_shared::domain::TemplateSync;
    let s = Stack::start().await;
    // The simulator's own demo set, so what passes here must pass Meta's checks there too.
    let templates: Vec<_> = intaj_dev::simulator::default_templates()
        .iter()
        .map(synced)
        .collect();
    s.stack
        .store
        .replace_templates(
            "demo",
            &TemplateSync {
                templates,
                synced_at: 1,
                template_limit: None,
            },
        )
        .await
        .unwrap();
    let send = |name: &str, components: Value| {
        json!({"to": CUSTOMER, "type": "template",
               "template": {"name": name, "language": "en", "components": components}})
    };
    let text = |value: &str| json!({"type": "text", "text": value});
    let named = |first: &str| {
        json!([{"type": "body", "parameters": [
            {"type": "text", "text": "Sam", "parameter_name": first},
            {"type": "text", "text": "#1234", "parameter_name": "order_number"}
        ]}])
    };
    let image = json!({"type": "header", "parameters": [
        {"type": "image", "image": {"link": "https://example.com/lamp.jpg"}}]});
    let video = json!({"type": "header", "parameters": [
        {"type": "video", "video": {"link": "https://example.com/lamp.mp4"}}]});
    let launch_body = json!({"type": "body", "parameters": [text("the Aurora lamp")]});
    let tracking = |header: &str, button: Option<&str>| {
        let mut components = vec![
            json!({"type": "header", "parameters": [text(header)]}),
            json!({"type": "body", "parameters": [text("DHL")]}),
        ];
        if let Some(suffix) = button {
            components.push(json!({"type": "button", "sub_type": "url", "index": "0",
                                   "parameters": [text(suffix)]}));
        }
        Value::Array(components)
    };
    let otp = |body_code: &str, button_code: &str| {
        json!([
            {"type": "body", "parameters": [text(body_code)]},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": [text(button_code)]}
        ])
    };
    let reminder =
        |first: &str| json!([{"type": "body", "parameters": [text(first), text("10:00")]}]);

    let refused = [
        (send("shipping_delay", json!([])), "template_paused"),
        (send("legacy_offer", json!([])), "template_disabled"),
        (send("loyalty_invite", json!([])), "template_not_approved"),
        (
            send("order_confirmation", named("name")),
            "template_parameter_mismatch",
        ),
        (
            send("product_launch", json!([launch_body.clone()])),
            "template_parameter_mismatch",
        ),
        (
            send("product_launch", json!([video, launch_body.clone()])),
            "template_parameter_format_mismatch",
        ),
        (
            send("delivery_tracking", tracking("#1234", None)),
            "template_button_mismatch",
        ),
        (
            send("delivery_tracking", tracking(&"1".repeat(61), Some("1234"))),
            "template_text_too_long",
        ),
        (
            send("verification_code", otp("123456", "654321")),
            "template_button_mismatch",
        ),
        (
            send("appointment_reminder", reminder("Sam\nSmith")),
            "template_parameter_invalid",
        ),
    ];
    for (request, code) in refused {
        let (status, answer) = s.send(request.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{request}: {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("template")
        );
    }
    assert!(s.sim().outbox().is_empty(), "nothing reached Meta");

    let accepted = [
        send("order_confirmation", named("first_name")),
        send("product_launch", json!([image, launch_body])),
        send("delivery_tracking", tracking("#1234", Some("1234"))),
        send("verification_code", otp("123456", "123456")),
        send("appointment_reminder", reminder("Sam")),
    ];
    for request in accepted {
        let (status, answer) = s.send(request.clone()).await;
        assert_eq!(status, 200, "{request}: {answer}");
        let sent = s.sent(answer["messageId"].as_str().unwrap());
        assert_eq!(
            sent.request["template"]["components"],
            request["template"]["components"]
        );
    }
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn before_any_sync_meta_refuses_template_sends_with_the_same_codes() {
    let s = Stack::start().await;
    // The stack syncs its demo bot at start: a second bot on the same account has never synced.
    let settings = &s.stack.settings;
    s.sim().upsert_number(SimulatedNumber::new(
        "100000000000077",
        &settings.waba_id,
        &settings.access_token,
        &settings.app_secret,
    ));
    let fresh = intaj_shared::connecting::NewConnection {
        bot_id: "fresh".into(),
        business_account_id: settings.waba_id.clone(),
        phone_number_id: "100000000000077".into(),
        access_token: Secret::new(&settings.access_token),
        app_secret: Secret::new(&settings.app_secret),
        verify_token: Secret::new("fresh-verify"),
        api_key: Secret::new("fresh-key"),
        rate_limit_per_second: 80,
    };
    intaj_shared::connecting::connect(s.stack.store.as_ref(), s.stack.secrets.as_ref(), &fresh, 0)
        .await
        .unwrap();
    let state = s.stack.store.template_sync_state("fresh").await.unwrap();
    assert_eq!(state.synced_at, None, "never synced");
    let send = |name: &str, components: Value| {
        json!({"to": CUSTOMER, "type": "template",
               "template": {"name": name, "language": "en", "components": components}})
    };
    let body = |first: &str| {
        json!([{"type": "body", "parameters": [
            {"type": "text", "text": first}, {"type": "text", "text": "10:00"}]}])
    };
    let launch_video = json!([
        {"type": "header", "parameters": [
            {"type": "video", "video": {"link": "https://example.com/v.mp4"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "the lamp"}]}
    ]);
    let cases = [
        (send("shipping_delay", json!([])), "template_paused", 132015),
        (send("legacy_offer", json!([])), "template_disabled", 132016),
        (
            send("no_such_template", json!([])),
            "unknown_template",
            132001,
        ),
        (
            send(
                "appointment_reminder",
                json!([{"type": "body", "parameters": [{"type": "text", "text": "Sam"}]}]),
            ),
            "template_parameter_mismatch",
            132000,
        ),
        (
            send("product_launch", launch_video),
            "template_parameter_format_mismatch",
            132012,
        ),
        (
            send("appointment_reminder", body("Sam\tSmith")),
            "template_parameter_invalid",
            132018,
        ),
    ];
    for (request, code, meta) in cases {
        let (status, _, answer) = s.send_with("fresh-key", request.clone(), None).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{request}: {answer}"
        );
        assert_eq!(answer["error"]["upstream"]["code"], meta, "{answer}");
    }
    s.0.stack.shutdown().await;
}

#[tokio::test]
async fn a_customers_message_is_marked_read_with_the_typing_indicator_when_asked() {
    let s = Stack::start().await;
    let outcome = s
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "is my order on its way?"))
        .await
        .unwrap();
    let inbound = outcome.message_id;
    let s = &s;
    let read = |id: &str, body: Option<Value>| {
        let path = format!("/api/whatsapp/messages/{id}/read");
        async move { s.call("POST", &path, KEY, body).await }
    };

    let (status, answer) = read(&inbound, Some(json!({"typing": true}))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"messageId": inbound, "read": true, "typing": true})
    );
    let (status, _) = read(&inbound, None).await;
    assert_eq!(status, 200);
    let receipts: Vec<(String, bool)> = s
        .sim()
        .read_receipts()
        .into_iter()
        .map(|r| (r.message_id, r.typing_indicator))
        .collect();
    assert_eq!(
        receipts,
        [(inbound.clone(), true), (inbound.clone(), false)]
    );

    // Only a customer's message: the bot's own, another id or a bad body change nothing.
    let (status, sent) = s
        .send(json!({"to": CUSTOMER, "type": "text", "content": "yes"}))
        .await;
    assert_eq!(status, 200, "{sent}");
    for id in [sent["messageId"].as_str().unwrap(), "wamid.NOTHING"] {
        let (status, refused) = read(id, None).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (404, Some("message_not_found")),
            "{refused}"
        );
    }
    let (status, refused) = read(&inbound, Some(json!({"typing": "yes"}))).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("invalid_typing"))
    );
    assert_eq!(s.sim().read_receipts().len(), 2);
}

/// `events/send-mark-read.json` as API Gateway hands it over (with its `messageId` path
/// parameter, which the message read route has too) reaches the read route.
#[tokio::test]
async fn the_sample_mark_read_event_is_routed_to_the_read_receipt() {
    let s = Stack::start().await;
    let path = intaj_tests::workspace_root().join("events/send-mark-read.json");
    let request = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let deps = SendDeps {
        store: s.stack.store.clone(),
        secrets: s.stack.secrets.clone(),
        graph: s.stack.graph.clone(),
    };
    let response = handle(request, &deps).await;
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    // The sample's message was never received by this stack: the read route's own answer.
    assert_eq!(
        (response.status().as_u16(), body["error"]["code"].as_str()),
        (404, Some("message_not_found")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from a customer")
    );
}
