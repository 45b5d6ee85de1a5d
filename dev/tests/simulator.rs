//! The Cloud API simulator over real HTTP: a client speaks to it on 127.0.0.1:0 with reqwest, and
//! a tiny receiver in the test collects its webhooks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use intaj_dev::simulator::{
    FaultConfig, InboundMessage, RecipientFailure, RunningSimulator, SimulatedNumber, Simulator,
    SimulatorConfig, SimulatorSettings, TemplateStatusUpdate, start,
};
use intaj_shared::whatsapp::signature::{SIGNATURE_HEADER, verify};
use intaj_shared::whatsapp::webhook::{Message, MessageContent, MessagesValue, WebhookPayload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const TOKEN: &str = "test-access-token";
const SECRET: &str = "test-app-secret";
const PHONE_ID: &str = "100000000000001";
const WABA_ID: &str = "200000000000001";
const VERSION: &str = "v25.0";
const DEADLINE: Duration = Duration::from_secs(10);

/// Polls `check` until it gives a value or the deadline passes.
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Delivery {
    signature: Option<String>,
    body: Bytes,
}

/// A webhook endpoint that records every POST; the first `failures` answers are 500.
#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(failures: usize) -> (Self, String) {
        let receiver = Self {
            failures: Arc::new(AtomicUsize::new(failures)),
            ..Self::default()
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    receiver
        .deliveries
        .lock()
        .unwrap()
        .push(Delivery { signature, body });
    let failing = receiver
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        });
    if failing.is_ok() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

fn number(webhook_url: Option<&str>) -> SimulatedNumber {
    let number = SimulatedNumber::new(PHONE_ID, WABA_ID, TOKEN, SECRET);
    match webhook_url {
        Some(url) => number.with_webhook_url(url),
        None => number,
    }
}

async fn simulator(webhook_url: Option<&str>) -> RunningSimulator {
    let config = SimulatorConfig {
        numbers: vec![number(webhook_url)],
        settings: SimulatorSettings {
            status_delay: Duration::ZERO,
            ..SimulatorSettings::default()
        },
        webhook_retry_backoff: Duration::from_millis(5),
        ..SimulatorConfig::default()
    };
    start(config, "127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .await
        .expect("the simulator starts")
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn of(simulator: &RunningSimulator) -> Self {
        Self {
            http: intaj_shared::http_clients::http_client(),
            base: simulator.base_url().to_owned(),
        }
    }

    async fn send_as(
        &self,
        token: Option<&str>,
        phone_number_id: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!(
                "{}/{VERSION}/{phone_number_id}/messages",
                self.base
            ))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.unwrap()).await
    }

    async fn send(&self, body: &Value) -> (StatusCode, Value) {
        self.send_as(Some(TOKEN), PHONE_ID, body).await
    }

    async fn get(&self, url: &str) -> (StatusCode, Value) {
        read(self.http.get(url).bearer_auth(TOKEN).send().await.unwrap()).await
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

fn text_to(to: &str, body: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"body": body}})
}

/// Asserts Meta's error shape and answers `error.code`.
fn meta_error(body: &Value) -> i64 {
    let error = &body["error"];
    assert!(error["message"].is_string(), "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(
        error["fbtrace_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    error["code"].as_i64().expect("numeric code")
}

#[tokio::test]
async fn the_access_token_is_checked() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let body = text_to("15551234567", "hi");

    for token in [None, Some("wrong-token")] {
        let (status, answer) = client.send_as(token, PHONE_ID, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(meta_error(&answer), 190);
        assert_eq!(answer["error"]["type"], "OAuthException");
        assert_eq!(
            answer["error"]["message"],
            "Invalid OAuth access token - Cannot parse access token"
        );
    }

    let (status, answer) = client.send_as(Some(TOKEN), "999999999999999", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(meta_error(&answer), 100);
    assert_eq!(answer["error"]["error_subcode"], 33);
    assert_eq!(answer["error"]["type"], "GraphMethodException");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Object with ID '999999999999999' does not exist")
    );
    assert!(simulator.handle().outbox().is_empty());
}

#[tokio::test]
async fn invalid_messages_are_refused_like_meta() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let buttons: Vec<Value> = (0..4)
        .map(|index| json!({"type": "reply", "reply": {"id": format!("b{index}"), "title": "Option"}}))
        .collect();
    let cases = [
        (
            json!({"to": "15551234567", "type": "text", "text": {"body": "hi"}}),
            100,
            "messaging_product",
        ),
        (
            text_to("15551234567", &"x".repeat(4097)),
            131009,
            "text.body",
        ),
        (
            json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}}),
            100,
            "to",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "fax", "fax": {}}),
            100,
            "type",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "c".repeat(1025)}}),
            131009,
            "image.caption",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "interactive",
                   "interactive": {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": buttons}}}),
            131009,
            "interactive.action.buttons",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "reaction", "reaction": {"emoji": "👍"}}),
            100,
            "reaction.message_id",
        ),
        (
            json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "template", "template": {"name": "order_update"}}),
            100,
            "template.language",
        ),
    ];
    for (body, code, field) in cases {
        let (status, answer) = client.send(&body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(meta_error(&answer), code, "{body} → {answer}");
        let details = answer["error"]["error_data"]["details"]
            .as_str()
            .unwrap_or_default();
        assert!(
            details.contains(field),
            "details {details:?} should name {field}"
        );
    }

    let template = |name: &str, parameters: Vec<&str>| {
        let parameters: Vec<Value> = parameters
            .into_iter()
            .map(|text| json!({"type": "text", "text": text}))
            .collect();
        json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "template",
               "template": {"name": name, "language": {"code": "en"}, "components": [{"type": "body", "parameters": parameters}]}})
    };
    let (status, answer) = client.send(&template("no_such_template", vec![])).await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::NOT_FOUND, 132001)
    );
    let (status, answer) = client
        .send(&template("order_update", vec!["Sam", "#1"]))
        .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 132000)
    );
    let (status, answer) = client
        .send(&template("seasonal_promo", vec!["summer", "20%"]))
        .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::NOT_FOUND, 132001),
        "a PENDING template cannot be sent"
    );
    assert!(simulator.handle().outbox().is_empty());
}

#[tokio::test]
async fn accepted_messages_answer_metas_shape_and_reach_the_outbox() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);

    let (status, answer) = client
        .send(&text_to("+15551234567", "Hello from Intaj!"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["messaging_product"], "whatsapp");
    assert_eq!(
        answer["contacts"],
        json!([{"input": "+15551234567", "wa_id": "15551234567"}])
    );
    let text_id = answer["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(text_id.starts_with("wamid."));
    assert!(answer["messages"][0].get("message_status").is_none());

    let template = json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "template",
        "template": {"name": "order_update", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [
            {"type": "text", "text": "Sam"}, {"type": "text", "text": "#1234"}, {"type": "text", "text": "on its way"}]}]}});
    let (status, answer) = client.send(&template).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["messages"][0]["message_status"], "accepted");
    assert_ne!(answer["messages"][0]["id"], text_id.as_str());

    let to_user = json!({"messaging_product": "whatsapp", "recipient": "US.13491208655302741918", "type": "text", "text": {"body": "hi"}});
    let (status, answer) = client.send(&to_user).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["contacts"][0]["user_id"], "US.13491208655302741918");

    let (status, outbox) = client.get(&format!("{}/_sim/messages", client.base)).await;
    assert_eq!(status, StatusCode::OK);
    let messages = outbox["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["id"], text_id.as_str());
    assert_eq!(messages[0]["phoneNumberId"], PHONE_ID);
    assert_eq!(messages[0]["to"], "15551234567");
    assert_eq!(messages[0]["type"], "text");
    assert_eq!(messages[0]["request"]["text"]["body"], "Hello from Intaj!");
    assert!(messages[0]["receivedAtMs"].as_u64().unwrap() > 0);
    assert_eq!(messages[2]["recipient"], "US.13491208655302741918");

    let (_, filtered) = client
        .get(&format!(
            "{}/_sim/messages?to=US.13491208655302741918",
            client.base
        ))
        .await;
    assert_eq!(filtered["messages"].as_array().unwrap().len(), 1);
    let cleared = client
        .http
        .delete(format!("{}/_sim/messages", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(read(cleared).await.1["cleared"], 3);
    assert!(simulator.handle().outbox().is_empty());
}

#[tokio::test]
async fn the_throughput_limit_answers_130429() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    simulator.handle().set_throughput(Some(2));

    let mut answers = Vec::new();
    for index in 0..6 {
        answers.push(
            client
                .send(&text_to("15551234567", &format!("burst {index}")))
                .await,
        );
    }
    assert_eq!(answers[0].0, StatusCode::OK);
    let limited: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert!(
        !limited.is_empty(),
        "six messages at 2/s must hit the limit"
    );
    for (status, body) in answers
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
    {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(meta_error(body), 130429);
        assert_eq!(body["error"]["message"], "(#130429) Rate limit hit");
        assert_eq!(body["error"]["type"], "OAuthException");
    }

    // Lifting the limit over HTTP lets every message through.
    let response = client
        .http
        .post(format!("{}/_sim/config", client.base))
        .json(&json!({"throughputPerSecond": null}))
        .send()
        .await
        .unwrap();
    let (status, settings) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["throughputPerSecond"], Value::Null);
    for _ in 0..5 {
        assert_eq!(
            client.send(&text_to("15551234567", "again")).await.0,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn faults_can_be_injected() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let body = text_to("15551234567", "hi");

    // A 5xx rate of 1.0, set over HTTP.
    let response = client
        .http
        .post(format!("{}/_sim/config", client.base))
        .json(&json!({"fault": {"errorRate": 1.0}}))
        .send()
        .await;
    assert_eq!(response.unwrap().status(), 200);
    for _ in 0..4 {
        let (status, answer) = client.send(&body).await;
        assert!(status.is_server_error(), "{status}");
        let code = meta_error(&answer);
        assert!(
            (status == StatusCode::INTERNAL_SERVER_ERROR && code == 1)
                || (status == StatusCode::SERVICE_UNAVAILABLE && code == 2),
            "{status} {answer}"
        );
    }

    // An added delay, through the handle.
    simulator.handle().set_fault(FaultConfig {
        error_rate: 0.0,
        delay: Duration::from_millis(150),
    });
    let started = Instant::now();
    assert_eq!(client.send(&body).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    simulator.handle().set_fault(FaultConfig::default());

    // The next two calls fail, the third succeeds.
    simulator.handle().fail_next(2, 131000);
    for _ in 0..2 {
        let (status, answer) = client.send(&body).await;
        assert_eq!(
            (status, meta_error(&answer)),
            (StatusCode::INTERNAL_SERVER_ERROR, 131000)
        );
        assert_eq!(answer["error"]["message"], "(#131000) Something went wrong");
    }
    assert_eq!(client.send(&body).await.0, StatusCode::OK);

    // Per-recipient failures, with Meta's documented statuses.
    let handle = simulator.handle();
    handle.set_recipient_failure("15550000026", RecipientFailure::response(131026));
    handle.set_recipient_failure("15550000047", RecipientFailure::response(131047));
    handle.set_recipient_failure("15550000056", RecipientFailure::response(131056));
    handle.set_recipient_failure("15550000190", RecipientFailure::response(190));
    let expectations = [
        (
            "15550000026",
            StatusCode::BAD_REQUEST,
            131026,
            "(#131026) Message undeliverable",
        ),
        (
            "15550000047",
            StatusCode::BAD_REQUEST,
            131047,
            "(#131047) Re-engagement message",
        ),
        (
            "15550000056",
            StatusCode::BAD_REQUEST,
            131056,
            "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        ),
        (
            "15550000190",
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token: Session has expired.",
        ),
    ];
    for (recipient, status, code, message) in expectations {
        let (answer_status, answer) = client.send(&text_to(recipient, "hi")).await;
        assert_eq!(
            (answer_status, meta_error(&answer)),
            (status, code),
            "{answer}"
        );
        assert_eq!(answer["error"]["message"], message);
    }
    assert_eq!(
        client
            .send(&text_to("15551234567", "others still work"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn templates_are_paged_like_meta() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let templates: Vec<Value> = (0..60)
        .map(|index| {
            json!({"name": format!("template_{index:02}"), "language": "en", "status": "APPROVED", "category": "UTILITY",
                   "parameter_format": "POSITIONAL", "components": [{"type": "BODY", "text": "Hi {{1}}"}]})
        })
        .collect();
    simulator.handle().set_templates(WABA_ID, templates);

    let mut url = format!(
        "{}/{VERSION}/{WABA_ID}/message_templates?fields=name,status,language,components",
        client.base
    );
    let mut names = Vec::new();
    let mut pages = Vec::new();
    loop {
        let (status, page) = client.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().unwrap();
        pages.push(data.len());
        for template in data {
            assert!(template["id"].is_string());
            assert!(
                template.get("category").is_none(),
                "only the asked fields (and id)"
            );
            names.push(template["name"].as_str().unwrap().to_owned());
        }
        assert!(
            page["paging"]["cursors"]["before"].is_string()
                && page["paging"]["cursors"]["after"].is_string()
        );
        match page["paging"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with("http://") && next.contains("after="),
                    "{next}"
                );
                assert!(!next.contains("access_token"));
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, [25, 25, 10]);
    assert_eq!(names.len(), 60);
    assert_eq!(names[0], "template_00");
    assert_eq!(names[59], "template_59");

    let (status, answer) = client
        .get(&format!("{}/{VERSION}/999/message_templates", client.base))
        .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 100)
    );

    // A fresh WABA gets the default templates.
    let other = SimulatedNumber::new(
        "100000000000002",
        "200000000000002",
        "other-token",
        "other-secret",
    );
    simulator.handle().upsert_number(other);
    let response = client
        .http
        .get(format!(
            "{}/{VERSION}/200000000000002/message_templates",
            client.base
        ))
        .bearer_auth("other-token")
        .send()
        .await
        .unwrap();
    let (status, page) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    let defaults: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(defaults.contains(&"hello_world") && defaults.contains(&"order_update"));
    assert!(page["paging"].get("next").is_none());
}

#[tokio::test]
async fn media_is_uploaded_described_downloaded_and_deleted() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let bytes = b"\x89PNG\r\n\x1a\n fake image".to_vec();
    let upload = |bytes: Vec<u8>, mime: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("a.png")
                    .mime_str(mime)
                    .unwrap(),
            );
        client
            .http
            .post(format!("{}/{VERSION}/{PHONE_ID}/media", client.base))
            .bearer_auth(TOKEN)
            .multipart(form)
            .send()
    };

    let (status, answer) = read(upload(bytes.clone(), "image/png").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = answer["id"].as_str().unwrap().to_owned();

    let (status, info) = client.get(&format!("{}/{VERSION}/{id}", client.base)).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["messaging_product"], "whatsapp");
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["file_size"], bytes.len());
    assert_eq!(info["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(info["id"], id.as_str());
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with(&client.base), "{url}");

    let download = client
        .http
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    assert_eq!(client.http.get(url).send().await.unwrap().status(), 401);

    // The URL is signed for its media and expiry: a changed one, or a spent one, is refused.
    let get = |url: String| client.http.get(url).bearer_auth(TOKEN).send();
    let tampered = url.replace("hash=", "hash=0");
    assert_eq!(get(tampered).await.unwrap().status(), 404);
    let bare = url.split('?').next().unwrap().to_owned();
    assert_eq!(get(bare).await.unwrap().status(), 404);
    simulator.handle().set_media_url_lifetime(-1);
    let (_, spent) = client.get(&format!("{}/{VERSION}/{id}", client.base)).await;
    let spent = spent["url"].as_str().unwrap().to_owned();
    assert_eq!(get(spent).await.unwrap().status(), 404, "expired");
    simulator.handle().set_media_url_lifetime(300);

    let deleted = client
        .http
        .delete(format!("{}/{VERSION}/{id}", client.base))
        .bearer_auth(TOKEN)
        .send()
        .await;
    assert_eq!(read(deleted.unwrap()).await.1, json!({"success": true}));
    let (status, answer) = client.get(&format!("{}/{VERSION}/{id}", client.base)).await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 100)
    );

    let (status, answer) = read(
        upload(b"MZ".to_vec(), "application/x-msdownload")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 131053)
    );
}

/// The statuses of one webhook body, with its signature checked.
fn statuses_of(delivery: &Delivery) -> Vec<(String, String, Value)> {
    verify(
        SECRET.as_bytes(),
        &delivery.body,
        delivery.signature.as_deref().map(str::as_bytes),
    )
    .expect("signed with the app secret");
    let payload: WebhookPayload<'_> =
        serde_json::from_slice(&delivery.body).expect("a WhatsApp webhook");
    assert_eq!(payload.object, "whatsapp_business_account");
    let entry = &payload.entry[0];
    assert_eq!(entry.id.as_deref(), Some(WABA_ID));
    assert_eq!(entry.changes[0].field, "messages");
    let value: MessagesValue<'_> = serde_json::from_str(entry.changes[0].value.get()).unwrap();
    assert_eq!(value.metadata.phone_number_id, PHONE_ID);
    let raw: Value = serde_json::from_str(entry.changes[0].value.get()).unwrap();
    value
        .statuses
        .iter()
        .zip(raw["statuses"].as_array().unwrap())
        .map(|(status, raw)| {
            (
                status.id.to_string(),
                status.status.to_string(),
                raw.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn accepted_messages_get_signed_status_webhooks_in_order() {
    let (receiver, url) = Receiver::start(0).await;
    let simulator = simulator(Some(&url)).await;
    let client = Client::of(&simulator);

    let (status, answer) = client.send(&text_to("15551234567", "track me")).await;
    assert_eq!(status, StatusCode::OK);
    let id = answer["messages"][0]["id"].as_str().unwrap().to_owned();

    let deliveries = eventually("three status webhooks", || {
        let deliveries = receiver.deliveries();
        (deliveries.len() >= 3).then_some(deliveries)
    })
    .await;
    let statuses: Vec<(String, String, Value)> = deliveries.iter().flat_map(statuses_of).collect();
    let order: Vec<&str> = statuses
        .iter()
        .map(|(_, status, _)| status.as_str())
        .collect();
    assert_eq!(order, ["sent", "delivered", "read"]);
    for (status_id, _, raw) in &statuses {
        assert_eq!(status_id, &id);
        assert_eq!(raw["recipient_id"], "15551234567");
        assert!(raw["timestamp"].as_str().unwrap().parse::<u64>().is_ok());
    }
    let sent = &statuses[0].2;
    assert!(sent["conversation"]["id"].is_string());
    assert!(sent["conversation"]["expiration_timestamp"].is_string());
    assert_eq!(sent["conversation"]["origin"]["type"], "service");
    assert_eq!(sent["pricing"]["pricing_model"], "PMP");
    assert_eq!(sent["pricing"]["category"], "service");
    assert!(statuses[2].2.get("pricing").is_none());

    eventually("the outbox to say read", || {
        (simulator.handle().outbox()[0].status == "read").then_some(())
    })
    .await;
}

#[tokio::test]
async fn asynchronous_failures_and_retries_reach_the_webhook() {
    // The receiver refuses the first two posts: the simulator retries them.
    let (receiver, url) = Receiver::start(2).await;
    let simulator = simulator(Some(&url)).await;
    let client = Client::of(&simulator);
    simulator
        .handle()
        .set_recipient_failure("15550000026", RecipientFailure::status_webhook(131026));

    let (status, answer) = client
        .send(&text_to("15550000026", "will fail later"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the failure is reported asynchronously"
    );
    let id = answer["messages"][0]["id"].as_str().unwrap().to_owned();

    let deliveries = eventually("the failed status after two refusals", || {
        let deliveries = receiver.deliveries();
        (deliveries.len() >= 3).then_some(deliveries)
    })
    .await;
    // Every attempt carries the same signed body.
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.body == deliveries[0].body)
    );
    let statuses = statuses_of(&deliveries[2]);
    let (status_id, status, raw) = &statuses[0];
    assert_eq!(
        (status_id.as_str(), status.as_str()),
        (id.as_str(), "failed")
    );
    assert_eq!(raw["errors"][0]["code"], 131026);
    assert_eq!(raw["errors"][0]["title"], "Message undeliverable");
    assert!(raw["errors"][0]["error_data"]["details"].is_string());
}

#[tokio::test]
async fn statuses_of_a_bsuid_recipient_name_the_user_id() {
    let (receiver, url) = Receiver::start(0).await;
    let simulator = simulator(Some(&url)).await;
    let client = Client::of(&simulator);
    let body = json!({"messaging_product": "whatsapp", "recipient": "US.13491208655302741918", "type": "text",
                      "text": {"body": "hi"}, "biz_opaque_callback_data": "order-7"});
    assert_eq!(client.send(&body).await.0, StatusCode::OK);

    let deliveries = eventually("the sent status", || {
        let deliveries = receiver.deliveries();
        (!deliveries.is_empty()).then_some(deliveries)
    })
    .await;
    let (_, status, raw) = &statuses_of(&deliveries[0])[0];
    assert_eq!(status, "sent");
    assert_eq!(raw["recipient_user_id"], "US.13491208655302741918");
    assert!(raw.get("recipient_id").is_none());
    assert_eq!(raw["biz_opaque_callback_data"], "order-7");
}

#[tokio::test]
async fn inbound_messages_reach_the_webhook_signed() {
    let (receiver, url) = Receiver::start(0).await;
    let simulator = simulator(Some(&url)).await;
    let client = Client::of(&simulator);

    let response = client
        .http
        .post(format!("{}/_sim/inbound", client.base))
        .json(&json!({"from": "15551234567", "name": "Sam", "type": "text", "text": "héllo / hi"}))
        .send()
        .await
        .unwrap();
    let (status, answer) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["webhookStatus"], 200);
    let message_id = answer["messageId"].as_str().unwrap().to_owned();

    let deliveries = receiver.deliveries();
    assert_eq!(
        deliveries.len(),
        1,
        "the answer comes after the webhook answered"
    );
    let delivery = &deliveries[0];
    verify(
        SECRET.as_bytes(),
        &delivery.body,
        delivery.signature.as_deref().map(str::as_bytes),
    )
    .expect("signed with the app secret");
    let raw = std::str::from_utf8(&delivery.body).unwrap();
    assert!(
        raw.contains(r"h\u00e9llo \/ hi"),
        "encoded like Meta: {raw}"
    );

    let payload: WebhookPayload<'_> = serde_json::from_slice(&delivery.body).unwrap();
    let change = &payload.entry[0].changes[0];
    assert_eq!(change.field, "messages");
    let value: MessagesValue<'_> = serde_json::from_str(change.value.get()).unwrap();
    assert_eq!(value.metadata.phone_number_id, PHONE_ID);
    assert_eq!(value.contacts[0].wa_id.as_deref(), Some("15551234567"));
    assert_eq!(
        value.contacts[0]
            .profile
            .as_ref()
            .and_then(|profile| profile.name.as_deref()),
        Some("Sam")
    );
    let message: Message<'_> = serde_json::from_str(value.messages[0].get()).unwrap();
    assert_eq!(message.id, message_id);
    assert_eq!(message.from.as_deref(), Some("15551234567"));
    assert!(
        message
            .timestamp
            .as_deref()
            .is_some_and(|timestamp| timestamp.parse::<u64>().is_ok())
    );
    match message.content() {
        MessageContent::Text(text) => assert_eq!(text.body, "héllo / hi"),
        other => panic!("expected text, got {other:?}"),
    }

    // A button reply through the handle, replayed with the same id.
    let mut reply = InboundMessage::of_type(
        "15551234567",
        "interactive",
        json!({"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}),
    );
    reply.id = Some("wamid.replayed".to_owned());
    let outcome = simulator.handle().inbound(reply.clone()).await.unwrap();
    assert_eq!(
        (outcome.message_id.as_str(), outcome.webhook_status),
        ("wamid.replayed", Some(200))
    );
    simulator.handle().inbound(reply).await.unwrap();
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 3);
    let payload: WebhookPayload<'_> = serde_json::from_slice(&deliveries[2].body).unwrap();
    let value: MessagesValue<'_> =
        serde_json::from_str(payload.entry[0].changes[0].value.get()).unwrap();
    let message: Message<'_> = serde_json::from_str(value.messages[0].get()).unwrap();
    match message.content() {
        MessageContent::Interactive(interactive) => {
            assert_eq!(
                interactive
                    .button_reply
                    .as_ref()
                    .map(|reply| reply.id.as_ref()),
                Some("yes")
            );
        }
        other => panic!("expected interactive, got {other:?}"),
    }

    // An unknown phone number id is refused.
    let response = client
        .http
        .post(format!("{}/_sim/inbound", client.base))
        .json(&json!({"phoneNumberId": "404", "from": "15551234567", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_router_can_be_served_by_hand() {
    let simulator = Simulator::new(SimulatorConfig::with_numbers([number(None)])).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    simulator.handle().set_base_url(&base);
    let router = simulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let http = intaj_shared::http_clients::http_client();
    let health = http
        .get(format!("{base}/_sim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let phone = http
        .get(format!("{base}/{VERSION}/{PHONE_ID}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, phone) = read(phone).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phone["id"], PHONE_ID);
    let unknown = http
        .get(format!("{base}/not/a/graph/path"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, answer) = read(unknown).await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 2500)
    );
}

impl Client {
    async fn post_sim(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self.http.post(format!("{}{path}", self.base)).json(body);
        read(response.send().await.unwrap()).await
    }
}

fn template_message(name: &str, language: &str, components: Value) -> Value {
    json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "template",
           "template": {"name": name, "language": {"code": language}, "components": components}})
}

#[tokio::test]
async fn generated_templates_page_with_summary_large_limits_and_stale_cursors() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let (status, answer) = client
        .post_sim(
            &format!("/_sim/templates/{WABA_ID}/generate"),
            &json!({"count": 60}),
        )
        .await;
    assert_eq!((status, &answer["templates"]), (StatusCode::OK, &json!(60)));

    let list = format!("{}/{VERSION}/{WABA_ID}/message_templates", client.base);
    let mut url = format!(
        "{list}?limit=25&summary=total_count,message_template_count,message_template_limit"
    );
    let mut pages = Vec::new();
    let mut names = Vec::new();
    loop {
        let (status, page) = client.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            page["summary"],
            json!({"total_count": 60, "message_template_count": 60, "message_template_limit": 250})
        );
        let data = page["data"].as_array().unwrap();
        pages.push(data.len());
        names.extend(data.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        assert!(data[0]["quality_score"]["score"].is_string());
        assert!(data[0]["rejected_reason"].is_string());
        let cursors = &page["paging"]["cursors"];
        assert!(
            cursors["before"].is_string() && cursors["after"].is_string(),
            "every page, the last too, has cursors: {page}"
        );
        match page["paging"]["next"].as_str() {
            Some(next) => {
                assert!(next.contains("summary="), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, [25, 25, 10]);
    assert_eq!(
        (names[0].as_str(), names[59].as_str()),
        ("bench_0000", "bench_0059")
    );

    // A limit far above the page size is honoured.
    let (status, page) = client.get(&format!("{list}?limit=5000")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 60);
    assert!(page["paging"]["cursors"]["after"].is_string());
    assert!(page["paging"].get("next").is_none());
    assert!(page.get("summary").is_none(), "only when asked");

    // Filters count in total_count, not in message_template_count.
    let (_, page) = client
        .get(&format!(
            "{list}?status=APPROVED&summary=total_count,message_template_count"
        ))
        .await;
    assert_eq!(
        page["summary"],
        json!({"total_count": 48, "message_template_count": 60})
    );

    // A listing interrupted by a change of the set gets 131059 for its next page.
    let (_, first) = client.get(&format!("{list}?limit=25")).await;
    let next = first["paging"]["next"].as_str().unwrap().to_owned();
    simulator
        .handle()
        .set_template_status(
            WABA_ID,
            "bench_0000",
            "en",
            TemplateStatusUpdate::new("PAUSED"),
        )
        .await
        .expect("bench_0000 exists");
    let (status, answer) = client.get(&next).await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 131059)
    );
    assert_eq!(answer["error"]["message"], "(#131059) Invalid cursor");
    assert_eq!(answer["error"]["type"], "OAuthException");
    let (status, answer) = client.get(&format!("{list}?after=bm90LW91cnM")).await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 131059)
    );
    // Restarting works.
    let (status, _) = client.get(&format!("{list}?limit=25")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_template_is_read_by_its_id() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let id = simulator
        .handle()
        .templates(WABA_ID)
        .into_iter()
        .find(|t| t["name"] == "appointment_reminder")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, template) = client.get(&format!("{}/{VERSION}/{id}", client.base)).await;
    assert_eq!(status, StatusCode::OK, "{template}");
    assert_eq!(template["name"], "appointment_reminder");
    assert_eq!(template["parameter_format"], "POSITIONAL");
    assert_eq!(template["status"], "APPROVED");
    assert_eq!(template["rejected_reason"], "NONE");

    let (_, template) = client
        .get(&format!(
            "{}/{VERSION}/{id}?fields=name,status",
            client.base
        ))
        .await;
    assert_eq!(
        template,
        json!({"id": id, "name": "appointment_reminder", "status": "APPROVED"})
    );

    let (status, answer) = client
        .get(&format!("{}/{VERSION}/1999999999999999", client.base))
        .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 100)
    );
    assert_eq!(answer["error"]["error_subcode"], 33);
}

#[tokio::test]
async fn template_sends_are_checked_like_meta() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    let text = |value: &str| json!({"type": "text", "text": value});
    let body = |values: &[&str]| json!({"type": "body", "parameters": values.iter().map(|v| text(v)).collect::<Vec<_>>()});
    let cases = [
        // The integration guide's send: two positional text parameters.
        (
            "appointment_reminder",
            "en",
            json!([body(&["Sam", "10:00 on May 4"])]),
            200,
        ),
        (
            "order_update",
            "es",
            json!([body(&["Sam", "#1", "en camino"])]),
            200,
        ),
        (
            "order_update",
            "fr",
            json!([body(&["Sam", "#1", "shipped"])]),
            132001,
        ),
        ("loyalty_invite", "en", json!([]), 132001),
        ("account_notice", "en", json!([]), 132001),
        ("shipping_delay", "en", json!([body(&["#1"])]), 132015),
        ("legacy_offer", "en", json!([]), 132016),
        (
            "appointment_reminder",
            "en",
            json!([body(&["Sam"])]),
            132000,
        ),
        (
            "appointment_reminder",
            "en",
            json!([body(&["Sam\nand Kim", "10:00"])]),
            132018,
        ),
        (
            "appointment_reminder",
            "en",
            json!([body(&["Sam", "10:00     sharp"])]),
            132018,
        ),
        (
            "order_confirmation",
            "en",
            json!([{"type": "body", "parameters": [
                {"type": "text", "text": "Sam", "parameter_name": "first_name"},
                {"type": "text", "text": "#1", "parameter_name": "order_number"}]}]),
            200,
        ),
        (
            "order_confirmation",
            "en",
            json!([{"type": "body", "parameters": [
                {"type": "text", "text": "Sam", "parameter_name": "customer"},
                {"type": "text", "text": "#1", "parameter_name": "order_number"}]}]),
            132000,
        ),
        (
            "order_confirmation",
            "en",
            json!([body(&["Sam", "#1"])]),
            132000,
        ),
        ("product_launch", "en", json!([body(&["the lamp"])]), 132012),
        (
            "product_launch",
            "en",
            json!([{"type": "header", "parameters": [{"type": "video", "video": {"link": "https://example.com/v.mp4"}}]},
                   body(&["the lamp"])]),
            132012,
        ),
        (
            "product_launch",
            "en",
            json!([{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/a.jpg"}}]},
                   body(&["the lamp"]),
                   {"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "stop"}]}]),
            200,
        ),
        (
            "welcome_video",
            "en",
            json!([{"type": "header", "parameters": [{"type": "video", "video": {"id": "1234"}}]}]),
            200,
        ),
        (
            "invoice_ready",
            "en",
            json!([{"type": "header", "parameters": [{"type": "document", "document": {"id": "1234", "filename": "invoice.pdf"}}]},
                   body(&["INV-1"])]),
            200,
        ),
        (
            "store_location",
            "en",
            json!([{"type": "header", "parameters": [{"type": "location", "location": {"latitude": 25.2, "longitude": 55.3, "name": "Store"}}]},
                   body(&["8 pm"])]),
            200,
        ),
        (
            "delivery_tracking",
            "en",
            json!([{"type": "header", "parameters": [text("#1234")]}, body(&["DHL"]),
                   {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("1234")]}]),
            200,
        ),
        (
            "delivery_tracking",
            "en",
            json!([{"type": "header", "parameters": [text("#1234")]}, body(&["DHL"])]),
            132000,
        ),
        (
            "delivery_tracking",
            "en",
            json!([{"type": "header", "parameters": [text("#1234")]}, body(&["DHL"]),
                   {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("1234")]},
                   {"type": "button", "sub_type": "url", "index": 1, "parameters": [text("1")]}]),
            132000,
        ),
        (
            "delivery_tracking",
            "en",
            json!([body(&["DHL"]), {"type": "button", "sub_type": "url", "index": 0, "parameters": [text("1234")]}]),
            132000,
        ),
        (
            "coupon_offer",
            "en",
            json!([body(&["15%"]), {"type": "button", "sub_type": "copy_code", "index": 0,
                                    "parameters": [{"type": "coupon_code", "coupon_code": "SAVE15"}]}]),
            200,
        ),
        (
            "coupon_offer",
            "en",
            json!([body(&["15%"]), {"type": "button", "sub_type": "copy_code", "index": 0, "parameters": [text("SAVE15")]}]),
            132012,
        ),
        (
            "verification_code",
            "en",
            json!([body(&["123456"]), {"type": "button", "sub_type": "url", "index": "0", "parameters": [text("123456")]}]),
            200,
        ),
        (
            "verification_code",
            "en",
            json!([body(&["123456"])]),
            132000,
        ),
    ];
    let mut accepted = 0;
    for (name, language, components, expected) in cases {
        let (status, answer) = client
            .send(&template_message(name, language, components.clone()))
            .await;
        if expected == 200 {
            assert_eq!(status, StatusCode::OK, "{name} {components} → {answer}");
            assert_eq!(answer["messages"][0]["message_status"], "accepted");
            accepted += 1;
            continue;
        }
        assert_eq!(
            meta_error(&answer),
            expected,
            "{name} {components} → {answer}"
        );
        let wanted = if expected == 132001 {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, wanted, "{name} → {answer}");
        assert!(
            answer["error"]["error_data"]["details"].is_string(),
            "{answer}"
        );
    }
    assert_eq!(
        simulator.handle().outbox().len(),
        accepted,
        "only the valid sends reach the outbox"
    );
}

#[tokio::test]
async fn a_template_status_change_posts_a_signed_webhook() {
    let (receiver, url) = Receiver::start(0).await;
    let simulator = simulator(Some(&url)).await;
    let client = Client::of(&simulator);

    let (status, answer) = client
        .post_sim(
            &format!("/_sim/templates/{WABA_ID}/order_update/status"),
            &json!({"language": "en", "status": "PAUSED",
                    "otherInfo": {"title": "FIRST_PAUSE", "description": "Paused for 3 hours because of low quality."}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["template"]["status"], "PAUSED");
    assert_eq!(answer["delivered"], 1);
    assert_eq!(answer["webhooks"][0]["phoneNumberId"], PHONE_ID);
    assert_eq!(answer["webhooks"][0]["status"], 200);

    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    verify(
        SECRET.as_bytes(),
        &delivery.body,
        delivery.signature.as_deref().map(str::as_bytes),
    )
    .expect("signed with the app secret");
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["object"], "whatsapp_business_account");
    let entry = &payload["entry"][0];
    assert_eq!(entry["id"], WABA_ID);
    assert!(entry["time"].is_u64());
    assert_eq!(
        entry["changes"][0]["field"],
        "message_template_status_update"
    );
    assert_eq!(
        entry["changes"][0]["value"],
        json!({"event": "PAUSED", "message_template_id": 1_000_000_000_000_002_u64,
               "message_template_name": "order_update", "message_template_language": "en",
               "reason": "NONE",
               "other_info": {"title": "FIRST_PAUSE", "description": "Paused for 3 hours because of low quality."}})
    );

    // The paused template is now refused; the Spanish one still goes out.
    let three = json!([{"type": "body", "parameters": [
        {"type": "text", "text": "Sam"}, {"type": "text", "text": "#1"}, {"type": "text", "text": "shipped"}]}]);
    let (status, answer) = client
        .send(&template_message("order_update", "en", three.clone()))
        .await;
    assert_eq!(
        (status, meta_error(&answer)),
        (StatusCode::BAD_REQUEST, 132015)
    );
    let (status, _) = client
        .send(&template_message("order_update", "es", three))
        .await;
    assert_eq!(status, StatusCode::OK);

    let outcome = simulator
        .handle()
        .set_template_status(
            WABA_ID,
            "seasonal_promo",
            "en",
            TemplateStatusUpdate::new("REJECTED").with_reason("INVALID_FORMAT"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.template["rejected_reason"], "INVALID_FORMAT");
    assert_eq!(outcome.delivered(), 1);

    let (status, answer) = client
        .post_sim(
            &format!("/_sim/templates/{WABA_ID}/no_such_template/status"),
            &json!({"language": "en", "status": "PAUSED"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}

#[tokio::test]
async fn template_reads_can_be_slowed_down() {
    let simulator = simulator(None).await;
    let client = Client::of(&simulator);
    simulator
        .handle()
        .set_template_delay(Duration::from_millis(150));
    let started = Instant::now();
    let (status, _) = client
        .get(&format!(
            "{}/{VERSION}/{WABA_ID}/message_templates",
            client.base
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let (status, config) = client
        .post_sim(
            "/_sim/config",
            &json!({"templateDelayMs": 0, "messageTemplateLimit": 6000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(config["templateDelayMs"], 0);
    let (_, page) = client
        .get(&format!(
            "{}/{VERSION}/{WABA_ID}/message_templates?summary=message_template_limit",
            client.base
        ))
        .await;
    assert_eq!(page["summary"]["message_template_limit"], 6000);
}

/// The connection set-up's checks (issue 9): the number read with its token, and listed under
/// its business account, through the project's own Graph client.
#[tokio::test]
async fn phone_numbers_are_read_and_listed_with_their_token_only() {
    let simulator = simulator(None).await;
    let other = SimulatedNumber::new("100000000000009", "200000000000009", "other-token", SECRET);
    let mut second = SimulatedNumber::new("100000000000002", WABA_ID, TOKEN, SECRET);
    second.verified_name = "Second Shop".into();
    second.quality_rating = "YELLOW".into();
    second.throughput_level = "HIGH".into();
    simulator.handle().upsert_number(other);
    simulator.handle().upsert_number(second);
    let graph = graph_client(&simulator);

    let number = graph.phone_number(PHONE_ID, TOKEN).await.unwrap();
    assert_eq!(number.id, PHONE_ID);
    assert_eq!(number.verified_name.as_deref(), Some("Intaj Simulator"));
    assert_eq!(number.quality_rating.as_deref(), Some("GREEN"));
    assert!(number.display_phone_number.unwrap().starts_with('+'));

    let listed = graph.account_phone_numbers(WABA_ID, TOKEN).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        [PHONE_ID, "100000000000002"],
        "the other account's number is not listed"
    );
    assert_eq!(listed[1].verified_name.as_deref(), Some("Second Shop"));
    assert_eq!(listed[1].quality_rating.as_deref(), Some("YELLOW"));
    assert_eq!(
        listed[1].throughput.as_ref().unwrap().level.as_deref(),
        Some("HIGH")
    );

    // A token Meta does not know: code 190. Another account's token: that account only.
    let refused = graph
        .phone_number(PHONE_ID, "not-a-token")
        .await
        .unwrap_err();
    assert_eq!(refused.error.meta_code(), Some(190), "{refused:?}");
    let elsewhere = graph
        .account_phone_numbers(WABA_ID, "other-token")
        .await
        .unwrap_err();
    assert_eq!(elsewhere.error.meta_code(), Some(100), "{elsewhere:?}");
    let theirs = graph
        .account_phone_numbers("200000000000009", "other-token")
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
}

/// The connection set-up refuses credentials before storing anything (issue 9): a token Meta
/// refuses, a number of another account, an account the token cannot read.
#[tokio::test]
async fn credentials_are_checked_against_the_graph_api() {
    use intaj_shared::connecting::check_credentials;

    let simulator = simulator(None).await;
    // Same token, another account: readable, but not a number of WABA_ID.
    let elsewhere = SimulatedNumber::new("100000000000003", "200000000000003", TOKEN, SECRET);
    let foreign = SimulatedNumber::new("100000000000009", "200000000000009", "other-token", SECRET);
    simulator.handle().upsert_number(elsewhere);
    simulator.handle().upsert_number(foreign);
    let graph = graph_client(&simulator);

    let number = check_credentials(&graph, WABA_ID, PHONE_ID, TOKEN)
        .await
        .unwrap();
    assert_eq!(number.verified_name.as_deref(), Some("Intaj Simulator"));

    let refused = check_credentials(&graph, WABA_ID, PHONE_ID, "not-a-token")
        .await
        .unwrap_err();
    assert_eq!(
        (refused.status.as_u16(), refused.code),
        (422, "invalid_access_token")
    );
    assert_eq!(refused.upstream.as_ref().map(|u| u.code), Some(190));
    assert!(!refused.message.contains("not-a-token"));

    for (waba, phone, token) in [
        (WABA_ID, "100000000000003", TOKEN),
        (WABA_ID, "100000000000009", "other-token"),
        ("200000000000009", PHONE_ID, TOKEN),
    ] {
        let error = check_credentials(&graph, waba, phone, token)
            .await
            .unwrap_err();
        assert_eq!(
            (error.status.as_u16(), error.code),
            (422, "phone_number_not_in_account"),
            "{waba} {phone}: {error:?}"
        );
    }

    // Meta down (code 2, HTTP 503): retryable, so 503 with Retry-After and Meta's error.
    simulator.handle().fail_next(1, 2);
    let down = check_credentials(&graph, WABA_ID, PHONE_ID, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(
        (down.status.as_u16(), down.code),
        (503, "upstream_unavailable")
    );
    assert!(down.retry_after.is_some());
    assert_eq!(down.upstream.as_ref().map(|u| u.code), Some(2));
}

/// The project's Graph client on the simulator, one attempt per call.
fn graph_client(simulator: &RunningSimulator) -> intaj_shared::graph::GraphClient {
    use intaj_shared::graph::{GraphClient, GraphConfig, RetryPolicy};
    GraphClient::new(GraphConfig {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..GraphConfig::new(simulator.base_url(), VERSION)
    })
    .unwrap()
}
