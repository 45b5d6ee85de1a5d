//! The bot answers, in the local stack: the demo bot's rules, and a bot backend of the test's
//! own that checks the signature, through the simulator's signed webhooks and outbox.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use intaj_dev::simulator::{InboundMessage, OutboxMessage, SimulatedNumber};
use intaj_responder::{Handled, respond};
use intaj_shared::clock::unix_now;
use intaj_shared::domain::CustomerIds;
use intaj_shared::ports::{QueueError, RetryDelay};
use intaj_shared::responding::{SIGNATURE_HEADER, verify};
use intaj_tests::StackClient;
use serde_json::{Value, json};

const CUSTOMER: &str = "15551234567";
const OTHER_CUSTOMER: &str = "15557654321";
const THIRD_CUSTOMER: &str = "15550001111";
const SHOP_PHONE: &str = "100000000000002";
const WABA: &str = "200000000000001";

/// The queue's retry delays asked for: (receipt handle, delay).
#[derive(Default)]
struct RecordedDelays(Mutex<Vec<(String, Duration)>>);

impl RecordedDelays {
    fn take(&self) -> Vec<(String, Duration)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[async_trait::async_trait]
impl RetryDelay for RecordedDelays {
    async fn delay_retry(
        &self,
        _queue_arn: &str,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        self.0
            .lock()
            .unwrap()
            .push((receipt_handle.to_owned(), delay));
        Ok(())
    }
}

/// Polls the simulator's outbox until `count` messages went to `to`.
async fn replies_to(stack: &StackClient, to: &str, count: usize) -> Vec<OutboxMessage> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sent: Vec<OutboxMessage> = stack
            .sim()
            .outbox()
            .into_iter()
            .filter(|m| m.to.as_deref() == Some(to))
            .collect();
        if sent.len() >= count {
            return sent;
        }
        assert!(
            Instant::now() < deadline,
            "{count} replies to {to} expected, {} seen: {sent:?}",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_demo_bot_answers_with_its_rules() {
    let stack = StackClient::start().await;
    let outcome = stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "Hello!"))
        .await
        .unwrap();
    assert_eq!(outcome.webhook_status, Some(200));
    let greeting = &replies_to(&stack, CUSTOMER, 1).await[0];
    assert_eq!(greeting.kind, "interactive");
    assert_eq!(greeting.request["interactive"]["type"], "button");

    stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "where is my parcel"))
        .await
        .unwrap();
    let help = &replies_to(&stack, CUSTOMER, 2).await[1];
    assert_eq!(help.kind, "text");
    assert!(
        help.request["text"]["body"]
            .as_str()
            .unwrap()
            .contains("hi")
    );
}

/// What the test's bot backend saw of one message.
#[derive(Debug, Clone)]
struct Seen {
    customer: String,
    text: String,
    started: Instant,
    ended: Instant,
}

#[derive(Clone)]
struct Bot {
    secret: Arc<Mutex<String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    refused: Arc<Mutex<usize>>,
    /// Status events received at `/events`: (event id, status, answered 2xx).
    events: Arc<Mutex<Vec<(String, String, bool)>>>,
    /// Signed events received at `/callback` (a send's own `statusCallbackUrl`).
    callbacks: Arc<Mutex<Vec<Value>>>,
}

impl Bot {
    /// Checks the signature as a bot backend should (refusing replays older than 5 minutes);
    /// counts the refusals.
    fn signed(&self, headers: &HeaderMap, body: &str) -> bool {
        let secret = self.secret.lock().unwrap().clone();
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let ok = verify(
            secret.as_bytes(),
            signature,
            body.as_bytes(),
            unix_now(),
            300,
        )
        .is_ok();
        if !ok {
            *self.refused.lock().unwrap() += 1;
        }
        ok
    }
}

/// The business's `eventsUrl`: checks the signature; fails the very first delivery with a 500,
/// as a business's server sometimes does.
async fn events_endpoint(State(bot): State<Bot>, headers: HeaderMap, body: String) -> StatusCode {
    if !bot.signed(&headers, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    let event: Value = serde_json::from_str(&body).unwrap();
    let mut events = bot.events.lock().unwrap();
    let first = events.is_empty();
    events.push((
        event["eventId"].as_str().unwrap().to_owned(),
        event["status"].as_str().unwrap().to_owned(),
        !first,
    ));
    if first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// A send's own `statusCallbackUrl`.
async fn callback_endpoint(State(bot): State<Bot>, headers: HeaderMap, body: String) -> StatusCode {
    if !bot.signed(&headers, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    let event = serde_json::from_str(&body).unwrap();
    bot.callbacks.lock().unwrap().push(event);
    StatusCode::OK
}

/// Checks the signature like a bot backend should, takes 300 ms to think, and echoes.
async fn bot_backend(
    State(bot): State<Bot>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let started = Instant::now();
    if !bot.signed(&headers, &body) {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    let message: Value = serde_json::from_str(&body).unwrap();
    let text = message["text"].as_str().unwrap_or_default().to_owned();
    if text == "fail" {
        return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
    }
    if text == "a human please" {
        let answer = json!({"handover": true, "replies": [{"type": "text", "content": "Passing you to a colleague"}]});
        return (StatusCode::OK, answer.to_string());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.seen.lock().unwrap().push(Seen {
        customer: message["customer"]["waId"].as_str().unwrap().to_owned(),
        text: text.clone(),
        started,
        ended: Instant::now(),
    });
    let answer = json!({"replies": [{"type": "text", "content": format!("echo: {text}")}]});
    (StatusCode::OK, answer.to_string())
}

/// A business connects its number with a `forward` responder pointing at the test's backend.
async fn forwarding_stack() -> (StackClient, Bot, String) {
    let stack = StackClient::start().await;
    let bot = Bot {
        secret: Arc::default(),
        seen: Arc::default(),
        refused: Arc::default(),
        events: Arc::default(),
        callbacks: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bot_url = format!("http://{}/intaj", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/intaj", post(bot_backend))
        .route("/events", post(events_endpoint))
        .route("/callback", post(callback_endpoint))
        .with_state(bot.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let webhook_url = format!("{}/webhook/whatsapp/shop", stack.stack.base_url);
    stack.sim().upsert_number(
        SimulatedNumber::new(SHOP_PHONE, WABA, "shop-access-token", "shop-app-secret")
            .with_webhook_url(&webhook_url),
    );
    let admin = stack.stack.settings.admin_token.clone();
    let (status, created) = stack
        .call(
            "POST",
            "/api/whatsapp/connections",
            &admin,
            Some(json!({
                "botId": "shop", "businessAccountId": WABA, "phoneNumberId": SHOP_PHONE,
                "accessToken": "shop-access-token", "appSecret": "shop-app-secret",
                "responder": {"kind": "forward", "url": bot_url, "timeoutMs": 5000},
                "eventsUrl": bot_url.replace("/intaj", "/events"),
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    *bot.secret.lock().unwrap() = created["responderSecret"].as_str().unwrap().to_owned();
    let api_key = created["apiKey"].as_str().unwrap().to_owned();
    (stack, bot, api_key)
}

fn to_shop(from: &str, text: &str) -> InboundMessage {
    let mut message = InboundMessage::text(from, text);
    message.phone_number_id = Some(SHOP_PHONE.into());
    message
}

#[tokio::test]
async fn a_forward_bot_gets_each_customers_messages_one_at_a_time_in_order() {
    let (stack, bot, _) = forwarding_stack().await;
    for text in ["one", "two", "three"] {
        let outcome = stack.sim().inbound(to_shop(CUSTOMER, text)).await.unwrap();
        assert_eq!(outcome.webhook_status, Some(200));
    }
    stack
        .sim()
        .inbound(to_shop(OTHER_CUSTOMER, "other"))
        .await
        .unwrap();

    let replies = replies_to(&stack, CUSTOMER, 3).await;
    let bodies: Vec<&str> = replies
        .iter()
        .map(|m| m.request["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["echo: one", "echo: two", "echo: three"]);
    replies_to(&stack, OTHER_CUSTOMER, 1).await;

    let seen = bot.seen.lock().unwrap().clone();
    let mine: Vec<&Seen> = seen.iter().filter(|s| s.customer == CUSTOMER).collect();
    let texts: Vec<&str> = mine.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"], "in the order received");
    for pair in mine.windows(2) {
        assert!(pair[1].started >= pair[0].ended, "one at a time: {seen:?}");
    }
    let other = seen.iter().find(|s| s.customer == OTHER_CUSTOMER).unwrap();
    assert!(
        other.started < mine[2].started,
        "another customer does not wait for the first one's queue: {seen:?}"
    );
    assert_eq!(
        *bot.refused.lock().unwrap(),
        0,
        "every forward was signed right"
    );
    // Each message was marked read, with the typing indicator, before the bot was asked.
    let receipts = stack.sim().read_receipts();
    assert_eq!(receipts.len(), 4, "{receipts:?}");
    assert!(
        receipts
            .iter()
            .all(|r| r.typing_indicator && r.phone_number_id == SHOP_PHONE)
    );
}

#[tokio::test]
async fn the_typing_indicator_can_be_switched_off_per_connection() {
    let (stack, _bot, _) = forwarding_stack().await;
    let admin = stack.stack.settings.admin_token.clone();
    let off = json!({"botId": "shop", "typingIndicator": false});
    let (status, shown) = stack
        .call("POST", "/api/whatsapp/connections", &admin, Some(off))
        .await;
    assert_eq!((status, &shown["typingIndicator"]), (200, &json!(false)));
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "quietly"))
        .await
        .unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    let receipts = stack.sim().read_receipts();
    assert_eq!(receipts.len(), 1, "still marked read: {receipts:?}");
    assert!(
        !receipts[0].typing_indicator,
        "without the typing indicator"
    );
}

#[tokio::test]
async fn a_redelivered_or_replayed_message_is_answered_once() {
    let (stack, bot, _) = forwarding_stack().await;
    let mut message = to_shop(CUSTOMER, "once");
    message.id = Some("wamid.ONCE".into());
    stack.sim().inbound(message.clone()).await.unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    // Meta redelivers the webhook: recorded once, so not handed to the bot again.
    let again = stack.sim().inbound(message).await.unwrap();
    assert_eq!(again.webhook_status, Some(200));

    // The queue replays the record (at-least-once delivery): the bot is asked again, but the
    // reply, keyed by message and place, is not sent twice.
    let deps = stack.stack.responder_deps();
    let stored = stack
        .stack
        .store
        .message("shop", "wamid.ONCE")
        .await
        .unwrap()
        .unwrap();
    let replayed = intaj_shared::domain::InboundMessage {
        message_id: stored.message_id,
        customer: CustomerIds::new(Some(CUSTOMER), None),
        phone_number_id: SHOP_PHONE.into(),
        kind: stored.kind.unwrap(),
        timestamp: stored.created_at.unwrap(),
        profile_name: None,
        content: stored.content.unwrap(),
    };
    let handled = respond(&deps, "shop", &replayed, unix_now()).await.unwrap();
    assert_eq!(
        handled,
        Handled::Replied {
            sent: 1,
            window_closed: 0
        }
    );
    // `respond` returned: a second reply would be in the outbox now.
    let to_customer = replies_to(&stack, CUSTOMER, 1).await;
    assert_eq!(to_customer.len(), 1, "one reply, not two: {to_customer:?}");
    assert_eq!(bot.seen.lock().unwrap().len(), 2, "the bot was asked again");
}

/// The conversation as the shop's systems read it.
async fn conversation(stack: &StackClient, api_key: &str, customer: &str) -> Value {
    let path = format!("/api/whatsapp/conversations/{customer}");
    let (status, view) = stack.call("GET", &path, api_key, None).await;
    assert_eq!(status, 200, "{view}");
    view
}

#[tokio::test]
async fn a_person_takes_over_by_api_or_when_the_bot_hands_over() {
    let (stack, bot, api_key) = forwarding_stack().await;
    let deps = stack.stack.responder_deps();
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "hello"))
        .await
        .unwrap();
    replies_to(&stack, CUSTOMER, 1).await;

    // The shop pauses the bot for this customer: messages are recorded, the bot is not asked.
    let url = format!(
        "{}/api/whatsapp/conversations/{CUSTOMER}/responder",
        stack.stack.base_url
    );
    let put = |body: Value| {
        stack
            .http
            .put(&url)
            .bearer_auth(&api_key)
            .json(&body)
            .send()
    };
    let paused = put(json!({"paused": true})).await.unwrap();
    assert_eq!(paused.status(), 200);
    assert_eq!(
        conversation(&stack, &api_key, CUSTOMER).await["responderPaused"],
        true
    );
    let mut message = intaj_shared::domain::InboundMessage {
        message_id: "wamid.WHILE_PAUSED".into(),
        customer: CustomerIds::new(Some(CUSTOMER), None),
        phone_number_id: SHOP_PHONE.into(),
        kind: "text".into(),
        timestamp: unix_now(),
        profile_name: None,
        content: json!({"type": "text", "text": {"body": "are you there"}}).to_string(),
    };
    assert_eq!(
        respond(&deps, "shop", &message, unix_now()).await.unwrap(),
        Handled::Paused
    );
    let refused = put(json!({"paused": true, "until": 1})).await.unwrap();
    assert_eq!(refused.status(), 422, "a pause that ended already");
    let in_milliseconds = put(json!({"paused": true, "until": unix_now() * 1000}))
        .await
        .unwrap();
    assert_eq!(in_milliseconds.status(), 422, "a time in milliseconds");
    let positional = put(json!([false])).await.unwrap();
    assert_eq!(
        positional.status(),
        400,
        "an array is not read field by field"
    );

    // Resumed: the bot answers again.
    assert_eq!(put(json!({"paused": false})).await.unwrap().status(), 200);
    message.message_id = "wamid.AFTER_RESUME".into();
    let handled = respond(&deps, "shop", &message, unix_now()).await.unwrap();
    assert_eq!(
        handled,
        Handled::Replied {
            sent: 1,
            window_closed: 0
        }
    );

    // The bot hands over by itself: its reply goes out, then it is paused.
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "a human please"))
        .await
        .unwrap();
    let replies = replies_to(&stack, CUSTOMER, 3).await;
    assert_eq!(
        replies[2].request["text"]["body"],
        "Passing you to a colleague"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while conversation(&stack, &api_key, CUSTOMER).await["responderPaused"] != true {
        assert!(
            Instant::now() < deadline,
            "the bot's handover did not pause it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    message.message_id = "wamid.AFTER_HANDOVER".into();
    assert_eq!(
        respond(&deps, "shop", &message, unix_now()).await.unwrap(),
        Handled::Paused
    );
    let asked = bot.seen.lock().unwrap().len();
    assert_eq!(asked, 2, "asked for hello and after the resume only");
}

/// A customer known by a BSUID and a phone number is one customer: the bot hands over (the
/// pause kept under the number it replies to) and a person hands back by the BSUID.
#[tokio::test]
async fn a_person_hands_back_by_the_customers_other_id() {
    const BSUID: &str = "US.13491208655302741918";
    let (stack, _bot, api_key) = forwarding_stack().await;
    let deps = stack.stack.responder_deps();
    let mut handover = to_shop(CUSTOMER, "a human please");
    handover.from_user_id = Some(BSUID.into());
    stack.sim().inbound(handover).await.unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while conversation(&stack, &api_key, BSUID).await["responderPaused"] != true {
        assert!(
            Instant::now() < deadline,
            "the handover is not seen under the customer's BSUID"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let url = format!(
        "{}/api/whatsapp/conversations/{BSUID}/responder",
        stack.stack.base_url
    );
    let resumed = stack
        .http
        .put(&url)
        .bearer_auth(&api_key)
        .json(&json!({"paused": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    assert_eq!(
        conversation(&stack, &api_key, CUSTOMER).await["responderPaused"],
        false,
        "resumed under the phone number too"
    );
    let message = intaj_shared::domain::InboundMessage {
        message_id: "wamid.AFTER_HAND_BACK".into(),
        customer: CustomerIds::new(Some(CUSTOMER), Some(BSUID)),
        phone_number_id: SHOP_PHONE.into(),
        kind: "text".into(),
        timestamp: unix_now(),
        profile_name: None,
        content: json!({"type": "text", "text": {"body": "thanks"}}).to_string(),
    };
    assert_eq!(
        respond(&deps, "shop", &message, unix_now()).await.unwrap(),
        Handled::Replied {
            sent: 1,
            window_closed: 0
        },
        "the bot answers again"
    );
}

/// Deployed, the platform posts only to public addresses: a bot backend named by a loopback
/// URL (here the test's own, which would answer) is never called, and the error says why.
#[tokio::test]
async fn deployed_a_bot_backend_on_a_private_address_is_never_called() {
    use intaj_responder::RespondError;
    use intaj_responder::forward::ForwardError;
    use intaj_shared::business_urls::{BusinessHttp, Reach};

    let (stack, bot, _) = forwarding_stack().await;
    let deployed = intaj_responder::ResponderDeps {
        http: BusinessHttp::new(Reach::PublicOnly),
        ..stack.stack.responder_deps()
    };
    let message = intaj_shared::domain::InboundMessage {
        message_id: "wamid.INTERNAL".into(),
        customer: CustomerIds::new(Some(CUSTOMER), None),
        phone_number_id: SHOP_PHONE.into(),
        kind: "text".into(),
        timestamp: unix_now(),
        profile_name: None,
        content: json!({"type": "text", "text": {"body": "hello"}}).to_string(),
    };
    let failed = respond(&deployed, "shop", &message, unix_now())
        .await
        .unwrap_err();
    assert!(
        matches!(&failed, RespondError::Bot(ForwardError::Unreachable(why)) if why.contains("not a public internet address")),
        "{failed}"
    );
    assert!(
        bot.seen.lock().unwrap().is_empty(),
        "the backend was not called"
    );
}

/// The responder function's queue batches: the sample event (the demo bot's customer says
/// "hi"), and a batch where one conversation's failure holds back its later message while
/// another conversation goes on.
#[tokio::test]
async fn a_queue_batch_retries_a_failed_conversation_and_keeps_its_order() {
    use aws_lambda_events::sqs::SqsEvent;
    use intaj_responder::queue::handle_batch;

    let (stack, _bot, _) = forwarding_stack().await;
    let deps = stack.stack.responder_deps();
    // The sample event, for the demo bot, whose customer's window is open.
    stack
        .sim()
        .inbound(InboundMessage::text(CUSTOMER, "hello"))
        .await
        .unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    let sample: SqsEvent =
        serde_json::from_value(intaj_tests::sample_event("responder-queue.json")).unwrap();
    let retry = RecordedDelays::default();
    let answered = handle_batch(&deps, &retry, sample).await;
    assert!(answered.batch_item_failures.is_empty(), "{answered:?}");
    let greeting = &replies_to(&stack, CUSTOMER, 2).await[1];
    assert_eq!(
        greeting.kind, "interactive",
        "the demo rules answered \"hi\""
    );

    // The shop's forward bot fails on "fail": that record and the next of the same
    // conversation go back to the queue; the other conversation is answered.
    stack
        .sim()
        .inbound(to_shop(OTHER_CUSTOMER, "hello"))
        .await
        .unwrap();
    replies_to(&stack, OTHER_CUSTOMER, 1).await;
    let record = |id: &str, customer: &str, text: &str, try_number: u32| {
        intaj_tests::queued_text("shop", SHOP_PHONE, id, customer, text, try_number)
    };
    let batch: SqsEvent = serde_json::from_value(json!({"Records": [
        record("wamid.Q1", CUSTOMER, "fail", 1),
        record("wamid.Q2", CUSTOMER, "after the failure", 1),
        record("wamid.Q3", OTHER_CUSTOMER, "other", 1),
        {"messageId": "queue-garbage", "body": "not a stream record", "attributes": {}},
    ]}))
    .unwrap();
    let answered = handle_batch(&deps, &retry, batch).await;
    let retried: Vec<&str> = answered
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(retried, ["queue-wamid.Q1", "queue-wamid.Q2"]);
    let other = replies_to(&stack, OTHER_CUSTOMER, 2).await;
    assert_eq!(other[1].request["text"]["body"], "echo: other");
    // Both come back together after the first try's wait, the conversation still in order.
    assert_eq!(
        retry.take(),
        [
            ("handle-wamid.Q1".to_owned(), Duration::from_secs(20)),
            ("handle-wamid.Q2".to_owned(), Duration::from_secs(20)),
        ]
    );
    // Each further try waits twice as long.
    let third_try = record("wamid.Q1", CUSTOMER, "fail", 3);
    let batch: SqsEvent = serde_json::from_value(json!({"Records": [third_try]})).unwrap();
    handle_batch(&deps, &retry, batch).await;
    assert_eq!(
        retry.take(),
        [("handle-wamid.Q1".to_owned(), Duration::from_secs(80))]
    );

    // At the last try the message goes on to the dead-letter queue, and the customer gets the
    // connection's fallback reply.
    let admin = stack.stack.settings.admin_token.clone();
    let fallback = json!({"botId": "shop", "fallbackReply": {"type": "text", "content": "Sorry, we will get back to you"}});
    let (status, _) = stack
        .call("POST", "/api/whatsapp/connections", &admin, Some(fallback))
        .await;
    assert_eq!(status, 200);
    let last_try = record("wamid.Q4", OTHER_CUSTOMER, "fail", 5);
    let next = record("wamid.Q5", OTHER_CUSTOMER, "next", 1);
    let batch: SqsEvent = serde_json::from_value(json!({"Records": [last_try, next]})).unwrap();
    let answered = handle_batch(&deps, &retry, batch).await;
    let failed: Vec<&str> = answered
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["queue-wamid.Q4"],
        "still failed: to the dead-letter queue"
    );
    assert_eq!(
        retry.take(),
        [("handle-wamid.Q4".to_owned(), Duration::ZERO)],
        "handed back at once for the queue to move on"
    );
    // The customer hears the fallback, and the conversation goes on without the lost message.
    let other = replies_to(&stack, OTHER_CUSTOMER, 4).await;
    assert_eq!(
        other[2].request["text"]["body"],
        "Sorry, we will get back to you"
    );
    assert_eq!(other[3].request["text"]["body"], "echo: next");
}

#[tokio::test]
async fn status_changes_reach_the_events_url_at_least_once_each() {
    let (stack, bot, _) = forwarding_stack().await;
    stack.sim().set_status_delay(Duration::from_millis(20));
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "hello"))
        .await
        .unwrap();
    let reply = replies_to(&stack, CUSTOMER, 1).await[0].id.clone();
    // The bot's reply goes sent → delivered → read; each change is pushed to the eventsUrl.
    let deadline = Instant::now() + Duration::from_secs(15);
    let delivered = loop {
        let events = bot.events.lock().unwrap().clone();
        let answered: Vec<String> = events
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(id, _, _)| id.clone())
            .collect();
        if ["sent", "delivered", "read"]
            .iter()
            .all(|s| answered.contains(&format!("{reply}:{s}")))
        {
            break events;
        }
        assert!(Instant::now() < deadline, "status events: {events:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The first delivery failed and was retried with the same event id.
    let (first_id, _, first_ok) = delivered[0].clone();
    assert!(!first_ok);
    assert!(
        delivered
            .iter()
            .filter(|(id, _, _)| *id == first_id)
            .count()
            >= 2,
        "{delivered:?}"
    );
    assert_eq!(
        *bot.refused.lock().unwrap(),
        0,
        "every event was signed right"
    );
}

/// Polls until `ready` finds what it wants in `seen`, for up to 15 s.
async fn until<T: Clone + std::fmt::Debug>(
    seen: &Arc<Mutex<Vec<T>>>,
    ready: impl Fn(&[T]) -> bool,
) -> Vec<T> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = seen.lock().unwrap().clone();
        if ready(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "still waiting: {now:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_sends_status_callback_url_gets_that_messages_statuses() {
    let (stack, bot, api_key) = forwarding_stack().await;
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "hello"))
        .await
        .unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    let bot_base = {
        // The test's server: where the forward and events URLs point.
        let (_, shown) = stack
            .call(
                "GET",
                "/api/whatsapp/connections/shop",
                &stack.stack.settings.admin_token,
                None,
            )
            .await;
        shown["eventsUrl"].as_str().unwrap().replace("/events", "")
    };
    let send = |body: Value| stack.call("POST", "/api/whatsapp/send", &api_key, Some(body));
    let (status, refused) = send(json!({"to": CUSTOMER, "type": "text", "content": "x",
        "statusCallbackUrl": "ftp://shop.example.com/status"}))
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_status_callback_url");

    let (status, sent) = send(
        json!({"to": CUSTOMER, "type": "text", "content": "Your order shipped",
        "statusCallbackUrl": format!("{bot_base}/callback")}),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let id = sent["messageId"].as_str().unwrap().to_owned();
    let got = until(&bot.callbacks, |got| {
        ["sent", "delivered", "read"]
            .iter()
            .all(|s| got.iter().any(|e| e["eventId"] == format!("{id}:{s}")))
    })
    .await;
    // Only this message's statuses: not the bot's earlier reply's.
    assert!(got.iter().all(|e| e["messageId"] == id.as_str()), "{got:?}");
    assert!(got.iter().all(|e| e["type"] == "message.status"));
    // The connection's eventsUrl has them too.
    until(&bot.events, |events| {
        events
            .iter()
            .any(|(event, _, ok)| *ok && *event == format!("{id}:read"))
    })
    .await;
    assert_eq!(*bot.refused.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_templates_status_change_reaches_the_events_url() {
    use intaj_dev::simulator::TemplateStatusUpdate;

    let (stack, bot, api_key) = forwarding_stack().await;
    let (status, synced) = stack
        .call("POST", "/api/whatsapp/sync-templates", &api_key, None)
        .await;
    assert_eq!(status, 200, "{synced}");
    let update = TemplateStatusUpdate {
        status: "PAUSED".into(),
        reason: None,
        other_info: None,
    };
    let outcome = stack
        .sim()
        .set_template_status(WABA, "appointment_reminder", "en", update)
        .await
        .unwrap();
    assert!(outcome.delivered() >= 1, "{:?}", outcome.webhooks);
    let events = until(&bot.events, |events| {
        events
            .iter()
            .any(|(id, status, ok)| *ok && status == "PAUSED" && id.starts_with("template:"))
    })
    .await;
    let (id, _, _) = events.iter().find(|(_, s, _)| s == "PAUSED").unwrap();
    assert!(id.contains(":PAUSED:"), "{id}");
}

#[tokio::test]
async fn the_stream_trigger_delivers_status_changes_and_retries_from_the_first_failure() {
    use intaj_responder::handle_event;

    let (stack, bot, _) = forwarding_stack().await;
    let deps = stack.stack.responder_deps();
    // The sample event: the demo bot's message delivered; the demo connection has no URL.
    let sample = intaj_tests::sample_event("responder-stream.json");
    let retry = RecordedDelays::default();
    let answer = handle_event(&deps, &retry, sample).await.unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");

    // Two records for the shop: the first's callback URL is down; the shard is retried from
    // it, and the second is not told before it.
    let events_before = bot.events.lock().unwrap().len();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/status", listener.local_addr().unwrap())
    };
    let batch = json!({"Records": [
        delivered_record("111", "wamid.S1", Some(&closed)),
        delivered_record("222", "wamid.S2", Some(&closed)),
    ]});
    let answer = handle_event(&deps, &retry, batch).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "111"}]),
        "{answer}"
    );
    // The eventsUrl got the first record's event (every URL is tried); the second waits.
    let events = bot.events.lock().unwrap()[events_before..].to_vec();
    let ids: Vec<&str> = events.iter().map(|(id, _, _)| id.as_str()).collect();
    assert!(ids.contains(&"wamid.S1:delivered"), "{ids:?}");
    assert!(!ids.contains(&"wamid.S2:delivered"), "{ids:?}");
}

#[tokio::test]
async fn a_stream_batch_reads_each_bots_connection_once() {
    use intaj_responder::handle_event;
    use intaj_tests::{LocalServices, counted_store};

    let Some(services) = LocalServices::from_env("a stream batch reads each connection once")
    else {
        return;
    };
    let (stack, bot, _) = forwarding_stack().await;
    // The shop's connection, on a DynamoDB table whose requests are counted.
    let (counted, requests) = counted_store(&services, "intaj-status-events").await;
    let deps = stack.stack.responder_deps();
    let shop = deps.store.connection("shop").await.unwrap().unwrap();
    intaj_shared::ports::ConnectionStore::put_connection(counted.as_ref(), &shop)
        .await
        .unwrap();
    let deps = intaj_responder::ResponderDeps {
        store: counted.clone(),
        idempotency: counted,
        ..deps
    };
    requests.reset();

    let records: Vec<Value> = (1..=5)
        .map(|n| delivered_record(&format!("{n}00"), &format!("wamid.B{n}"), None))
        .collect();
    let batch = json!({"Records": records});
    let answer = handle_event(&deps, &RecordedDelays::default(), batch)
        .await
        .unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    let delivered = bot
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _, ok)| *ok && id.starts_with("wamid.B"))
        .count();
    assert_eq!(delivered, 5, "each status reached the eventsUrl");
    let reads: Vec<String> = requests.sent().into_iter().map(|r| r.operation).collect();
    assert_eq!(
        reads,
        ["GetItem"],
        "one read of the connection for the batch"
    );
}

/// A stream record of the shop's outbound message `id` that gained a `delivered` status, with
/// the send's callback URL if it had one.
fn delivered_record(sequence: &str, id: &str, callback: Option<&str>) -> Value {
    let entry = json!({"M": {"status": {"S": "delivered"}, "timestamp": {"N": "1760000000"},
        "recipientWaId": {"S": CUSTOMER}}});
    let mut old = json!({"entity": {"S": "message"}, "botId": {"S": "shop"},
        "messageId": {"S": id}, "direction": {"S": "outbound"}});
    if let Some(callback) = callback {
        old["statusCallbackUrl"] = json!({"S": callback});
    }
    let mut new = old.clone();
    new["STATUS#delivered"] = entry;
    json!({"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {
        "ApproximateCreationDateTime": 1_760_000_001.0, "SequenceNumber": sequence,
        "OldImage": old, "NewImage": new}})
}

/// A bot backend that misbehaves in each way a real one can, by path.
async fn misbehaving_bot() -> String {
    let app = axum::Router::new()
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                axum::Json(json!({"replies": [{"type": "text", "content": "too late"}]}))
            }),
        )
        .route(
            "/error",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
        )
        .route("/garbage", post(|| async { "<html>Bad gateway</html>" }))
        .route(
            "/invalid",
            post(|| async { axum::Json(json!({"replies": [{"type": "text"}]})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn each_way_a_bot_fails_is_retryable_and_a_closed_window_drops_the_reply() {
    use intaj_responder::RespondError;
    use intaj_responder::forward::ForwardError;

    let logs = intaj_tests::captured_logs();
    let (stack, bot, api_key) = forwarding_stack().await;
    let deps = stack.stack.responder_deps();
    let admin = stack.stack.settings.admin_token.clone();
    let point_at = |url: String, timeout_ms: u64| {
        let body = json!({"botId": "shop", "responder": {"kind": "forward", "url": url, "timeoutMs": timeout_ms}});
        let (stack, admin) = (&stack, admin.clone());
        async move {
            let (status, shown) = stack
                .call("POST", "/api/whatsapp/connections", &admin, Some(body))
                .await;
            assert_eq!(status, 200, "{shown}");
        }
    };
    // The customer's window is open: only the bot's failure keeps it from answering.
    stack
        .sim()
        .inbound(to_shop(CUSTOMER, "hello"))
        .await
        .unwrap();
    replies_to(&stack, CUSTOMER, 1).await;
    let message = |id: &str| intaj_shared::domain::InboundMessage {
        message_id: id.into(),
        customer: CustomerIds::new(Some(CUSTOMER), None),
        phone_number_id: SHOP_PHONE.into(),
        kind: "text".into(),
        timestamp: unix_now(),
        profile_name: None,
        content: json!({"type": "text", "text": {"body": "where is my order?"}}).to_string(),
    };

    let misbehaving = misbehaving_bot().await;
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/intaj", listener.local_addr().unwrap())
    };
    let cases: [(&str, String); 5] = [
        ("down", down),
        ("slow", format!("{misbehaving}/slow")),
        ("error", format!("{misbehaving}/error")),
        ("garbage", format!("{misbehaving}/garbage")),
        ("invalid", format!("{misbehaving}/invalid")),
    ];
    for (case, url) in cases {
        point_at(url, 300).await;
        let failed = respond(
            &deps,
            "shop",
            &message(&format!("wamid.{case}")),
            unix_now(),
        )
        .await
        .expect_err(case);
        let expected = match case {
            "down" => matches!(failed, RespondError::Bot(ForwardError::Unreachable(_))),
            "slow" => matches!(failed, RespondError::Bot(ForwardError::TimedOut(_))),
            "error" => matches!(failed, RespondError::Bot(ForwardError::Status(500))),
            "garbage" => matches!(failed, RespondError::Bot(ForwardError::Garbage(_))),
            _ => matches!(failed, RespondError::InvalidReply { index: 0, .. }),
        };
        assert!(expected, "{case}: {failed}");
    }
    assert_eq!(
        replies_to(&stack, CUSTOMER, 1).await.len(),
        1,
        "no failing bot sent anything"
    );

    point_at(bot_url_of(&stack).await, 5000).await;
    // A message whose window's write was lost (the webhook recorded it, then failed): the
    // message itself opened the window, so its answer goes out, and the window is raised.
    let mut unraised = message("wamid.unraised");
    unraised.customer = CustomerIds::new(Some(THIRD_CUSTOMER), None);
    let handled = respond(&deps, "shop", &unraised, unix_now()).await.unwrap();
    assert_eq!(
        handled,
        Handled::Replied {
            sent: 1,
            window_closed: 0
        }
    );
    assert_eq!(
        conversation(&stack, &api_key, THIRD_CUSTOMER).await["windowOpen"],
        true
    );

    // A message handled after its customer's window closed (here: one of 25 hours ago, from a
    // customer who never wrote since): the bot answers, the reply is refused by the window
    // rule, logged and dropped.
    let mut late = message("wamid.late");
    late.customer = CustomerIds::new(Some(OTHER_CUSTOMER), None);
    late.timestamp = unix_now() - 25 * 60 * 60;
    let handled = respond(&deps, "shop", &late, unix_now()).await.unwrap();
    assert_eq!(
        handled,
        Handled::Replied {
            sent: 0,
            window_closed: 1
        }
    );
    assert!(
        stack
            .sim()
            .outbox()
            .iter()
            .all(|m| m.to.as_deref() != Some(OTHER_CUSTOMER))
    );

    let captured = logs.text();
    assert!(captured.contains("wamid.late") && captured.contains("window is closed"));
    let secret = bot.secret.lock().unwrap().clone();
    for secret in [
        secret.as_str(),
        "shop-access-token",
        "shop-app-secret",
        api_key.as_str(),
    ] {
        assert!(!captured.contains(secret), "a log line holds a secret");
    }
}

/// Where the shop's connection sends its events: the test's own bot server.
async fn bot_url_of(stack: &StackClient) -> String {
    let admin = &stack.stack.settings.admin_token;
    let (_, shown) = stack
        .call("GET", "/api/whatsapp/connections/shop", admin, None)
        .await;
    shown["eventsUrl"]
        .as_str()
        .unwrap()
        .replace("/events", "/intaj")
}
