//! The webhook handler as Meta and an operator see it: HTTP answers and what ends up stored.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use intaj_shared::adapters::{MemorySecrets, MemoryStore};
use intaj_shared::domain::{
    ApiKey, Claim, Connection, ConversationWindow, CustomerIds, IdempotencyClaim, InboundMessage,
    MessageRecord, MessageStatus, MessageTemplate, OutboundRecord, RawEvent, RawEventKind,
    ResponderPause, StatusEvent, StoredResponse, TemplateChange, TemplateKey, TemplatePage,
    TemplateQuery, TemplateRef, TemplateSet, TemplateSync, TemplateSyncCounts, TemplateSyncState,
};
use intaj_shared::ports::{
    ApiKeyStore, BotSecrets, ConnectionStore, ConversationStore, IdempotencyStore, MessageStore,
    RateLimitStore, Secret, SecretStore, SendStore, Store, StoreError, TemplateStore, WindowStore,
};
use intaj_shared::whatsapp::signature::sign;
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::{Body, Request};
use serde_json::Value;

const BOT: &str = "demo";
const APP_SECRET: &str = "dev-app-secret";
const PHONE: &str = "100000000000001";
const DAY: i64 = 24 * 60 * 60;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/tests/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tests/fixtures/webhooks");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| (n.clone(), fixture(&n)))
        .collect()
}

struct Harness {
    store: Arc<MemoryStore>,
    secrets: Arc<MemorySecrets>,
    deps: WebhookDeps,
}

async fn harness() -> Harness {
    let store = Arc::new(MemoryStore::new());
    let secrets = Arc::new(MemorySecrets::new());
    connect(&store, &secrets, BOT, PHONE, APP_SECRET).await;
    let deps = WebhookDeps::new(store.clone(), secrets.clone());
    Harness {
        store,
        secrets,
        deps,
    }
}

async fn connect(store: &MemoryStore, secrets: &MemorySecrets, bot: &str, phone: &str, app: &str) {
    store
        .put_connection(&Connection {
            bot_id: bot.into(),
            business_account_id: "200000000000001".into(),
            phone_number_id: phone.into(),
            created_at: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    let bot_secrets = BotSecrets {
        access_token: Secret::new("dev-access-token"),
        app_secret: Secret::new(app),
        verify_token: Secret::new("dev-verify-token"),
        responder_secret: None,
    };
    secrets.put_bot_secrets(bot, &bot_secrets).await.unwrap();
}

fn post(bot: &str, body: &[u8], signature: Option<String>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!("/webhook/whatsapp/{bot}"))
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        builder = builder.header("X-Hub-Signature-256", signature);
    }
    builder.body(Body::from(body.to_vec())).unwrap()
}

fn signed(bot: &str, body: &[u8]) -> Request {
    post(bot, body, Some(sign(APP_SECRET.as_bytes(), body)))
}

fn get(uri: &str) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(uri)
        .body(Body::Empty)
        .unwrap()
}

async fn call(h: &Harness, request: Request) -> (u16, String) {
    let response = handle(request, &h.deps).await;
    let status = response.status().as_u16();
    let body = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
    (status, body)
}

fn error_code(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap();
    value["error"]["code"].as_str().unwrap().to_owned()
}

/// An item id and its type or status.
type IdAnd = (String, String);

/// Every `messages[]` (id, type) and `statuses[]` (id, status) in a body.
fn ids_in(body: &[u8]) -> (Vec<IdAnd>, Vec<IdAnd>) {
    let value: Value = serde_json::from_slice(body).unwrap();
    let (mut messages, mut statuses) = (vec![], vec![]);
    for entry in value["entry"].as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            if change["field"] != "messages" {
                continue;
            }
            let v = &change["value"];
            for m in v["messages"].as_array().into_iter().flatten() {
                let kind = m["type"].as_str().unwrap().to_owned();
                messages.push((m["id"].as_str().unwrap().to_owned(), kind));
            }
            for s in v["statuses"].as_array().into_iter().flatten() {
                statuses.push((
                    s["id"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    (messages, statuses)
}

async fn message(h: &Harness, id: &str) -> Option<MessageRecord> {
    h.store.message(BOT, id).await.unwrap()
}

#[tokio::test]
async fn verification_echoes_the_challenge_for_the_right_token() {
    let h = harness().await;
    let uri = "/webhook/whatsapp/demo?hub.mode=subscribe&hub.verify_token=dev-verify-token&hub.challenge=1158201444";
    let response = handle(get(uri), &h.deps).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.body().as_ref(), b"1158201444");
}

#[tokio::test]
async fn verification_refuses_wrong_token_missing_parameters_and_unknown_bots() {
    let h = harness().await;
    let wrong = "/webhook/whatsapp/demo?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1";
    let (status, body) = call(&h, get(wrong)).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "invalid_verify_token")
    );
    let (status, _) = call(
        &h,
        get("/webhook/whatsapp/demo?hub.mode=subscribe&hub.challenge=1"),
    )
    .await;
    assert_eq!(status, 400);
    let unknown = "/webhook/whatsapp/nobody?hub.mode=subscribe&hub.verify_token=dev-verify-token&hub.challenge=1";
    let (status, body) = call(&h, get(unknown)).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "unknown_bot"));
}

#[tokio::test]
async fn the_sample_events_work_as_lambda_would_deliver_them() {
    let h = harness().await;
    for (file, expected_status) in [("webhook-verify.json", 200), ("webhook-receive.json", 200)] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../events")
            .join(file);
        let event = std::fs::read_to_string(&path).unwrap();
        let request = lambda_http::request::from_str(&event).unwrap();
        let (status, body) = call(&h, request).await;
        assert_eq!(status, expected_status, "{file}: {body}");
    }
    let (messages, _) = ids_in(&fixture("text.json"));
    assert!(
        message(&h, &messages[0].0).await.is_some(),
        "the sample POST stored its message"
    );
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_bodies_are_refused_and_nothing_is_stored() {
    let h = harness().await;
    let body = fixture("text.json");
    let (messages, _) = ids_in(&body);
    let cases = [
        None,
        Some("sha256=0000".to_owned()),
        Some(sign(b"another-app-secret", &body)),
        Some(sign(APP_SECRET.as_bytes(), b"a different body")),
    ];
    for signature in cases {
        let (status, response) = call(&h, post(BOT, &body, signature.clone())).await;
        assert_eq!(status, 401, "{signature:?}");
        assert_eq!(error_code(&response), "invalid_signature");
    }
    assert!(message(&h, &messages[0].0).await.is_none());
    assert!(h.store.window(BOT, "971501234567").await.unwrap().is_none());
}

#[tokio::test]
async fn bad_bodies_get_clear_errors() {
    let h = harness().await;
    let (status, body) = call(&h, signed(BOT, b"not json")).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "invalid_payload")
    );
    let (status, body) = call(&h, signed(BOT, br#"{"object":"page","entry":[]}"#)).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "unsupported_object")
    );
    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    let (status, body) = call(&h, signed(BOT, &huge)).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (413, "payload_too_large")
    );
    let (status, body) = call(&h, signed("nobody", &fixture("text.json"))).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "unknown_bot"));
}

#[tokio::test]
async fn every_fixture_is_accepted_and_every_item_in_it_is_stored() {
    let h = harness().await;
    // A second number of the same app, so that second_number.json is routed too.
    connect(
        &h.store,
        &h.secrets,
        "second",
        "100000000000002",
        APP_SECRET,
    )
    .await;
    for (name, body) in all_fixtures() {
        let (status, response) = call(&h, signed(BOT, &body)).await;
        assert_eq!(
            (status, response.as_str()),
            (200, r#"{"received":true}"#),
            "{name}"
        );
        let (messages, statuses) = ids_in(&body);
        let bot = if name == "second_number.json" {
            "second"
        } else {
            BOT
        };
        for (id, kind) in messages {
            let record = h.store.message(bot, &id).await.unwrap();
            let record = record.unwrap_or_else(|| panic!("{name}: message {id} not stored"));
            let expected = if kind == "hologram" {
                "unsupported"
            } else {
                kind.as_str()
            };
            assert_eq!(record.kind.as_deref(), Some(expected), "{name}");
            let content: Value = serde_json::from_str(record.content.as_deref().unwrap()).unwrap();
            assert_eq!(content["id"], id.as_str(), "{name}: content kept verbatim");
        }
        for (id, status) in statuses {
            let record = h.store.message(bot, &id).await.unwrap().unwrap();
            assert!(
                record.statuses.iter().any(|s| s.status.as_str() == status),
                "{name}: status {status} of {id} not stored"
            );
        }
    }
}

#[tokio::test]
async fn unknown_message_types_keep_their_raw_json() {
    let h = harness().await;
    let body = fixture("unknown_future_type.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let (messages, _) = ids_in(&body);
    let record = message(&h, &messages[0].0).await.unwrap();
    assert_eq!(record.kind.as_deref(), Some("unsupported"));
    let content: Value = serde_json::from_str(record.content.as_deref().unwrap()).unwrap();
    assert_eq!(content["type"], "hologram");
    assert!(
        content.get("hologram").is_some(),
        "the unknown type's object is kept"
    );
}

#[tokio::test]
async fn redeliveries_change_nothing_even_when_they_race() {
    let h = harness().await;
    let body = fixture("mixed_batch.json");
    let deliveries = (0..12).map(|_| {
        let deps = h.deps.clone();
        let request = signed(BOT, &body);
        tokio::spawn(async move { handle(request, &deps).await.status().as_u16() })
    });
    for status in futures::future::join_all(deliveries).await {
        assert_eq!(status.unwrap(), 200);
    }
    let (messages, statuses) = ids_in(&body);
    for (id, _) in &messages {
        assert!(message(&h, id).await.unwrap().direction.is_some());
    }
    for (id, status) in &statuses {
        let record = message(&h, id).await.unwrap();
        let same: Vec<_> = record
            .statuses
            .iter()
            .filter(|s| s.status.as_str() == status)
            .collect();
        assert_eq!(same.len(), 1, "status {status} of {id} kept once");
    }
}

#[tokio::test]
async fn an_inbound_message_opens_the_window_for_24_hours_and_never_shortens_it() {
    let h = harness().await;
    let body = fixture("text.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let window = h.store.window(BOT, "971501234567").await.unwrap().unwrap();
    assert_eq!(
        window,
        ConversationWindow {
            expires_at: 1764000000 + DAY,
            last_inbound_at: 1764000000
        }
    );

    // An older message arriving late does not shorten it.
    let older = String::from_utf8(body)
        .unwrap()
        .replace("1764000000", "1763990000")
        .replace("QTFCMkMzRDRFNUY2MDcwODA5MEExQjJDM0Q0RTVGNgA=", "older");
    assert_eq!(call(&h, signed(BOT, older.as_bytes())).await.0, 200);
    let after = h.store.window(BOT, "971501234567").await.unwrap().unwrap();
    assert_eq!(after.expires_at, 1764000000 + DAY);
}

#[tokio::test]
async fn a_customer_with_a_username_is_found_by_either_id() {
    let h = harness().await;
    let body = fixture("bsuid_and_phone.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let value: Value = serde_json::from_slice(&body).unwrap();
    let m = &value["entry"][0]["changes"][0]["value"]["messages"][0];
    let (wa_id, bsuid) = (
        m["from"].as_str().unwrap(),
        m["from_user_id"].as_str().unwrap(),
    );
    let by_phone = h.store.window(BOT, wa_id).await.unwrap().unwrap();
    let by_bsuid = h.store.window(BOT, bsuid).await.unwrap().unwrap();
    assert_eq!(by_phone, by_bsuid);
    let record = message(&h, m["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(record.customer, CustomerIds::new(Some(wa_id), Some(bsuid)));

    // A username-only customer (no phone number at all) still gets a window.
    let body = fixture("bsuid_only.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let value: Value = serde_json::from_slice(&body).unwrap();
    let m = &value["entry"][0]["changes"][0]["value"]["messages"][0];
    assert!(m.get("from").is_none());
    let bsuid = m["from_user_id"].as_str().unwrap();
    assert!(h.store.window(BOT, bsuid).await.unwrap().is_some());
}

#[tokio::test]
async fn statuses_out_of_order_keep_the_furthest_and_every_event() {
    let h = harness().await;
    let template = String::from_utf8(fixture("status_delivered.json")).unwrap();
    let (_, statuses) = ids_in(template.as_bytes());
    let id = &statuses[0].0;
    for (status, ts) in [
        ("read", "1764000300"),
        ("delivered", "1764000200"),
        ("sent", "1764000100"),
    ] {
        let value: Value = serde_json::from_str(&template).unwrap();
        let mut value = value;
        let s = &mut value["entry"][0]["changes"][0]["value"]["statuses"][0];
        s["status"] = status.into();
        s["timestamp"] = ts.into();
        let body = serde_json::to_vec(&value).unwrap();
        assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    }
    let record = message(&h, id).await.unwrap();
    assert_eq!(record.status, Some(MessageStatus::Read));
    let order: Vec<_> = record.statuses.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(order, ["sent", "delivered", "read"]);
    assert!(
        record.direction.is_none(),
        "sent elsewhere: only its statuses are known"
    );
}

#[tokio::test]
async fn a_failed_status_keeps_its_errors_and_is_final() {
    let h = harness().await;
    let body = fixture("status_failed.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let (_, statuses) = ids_in(&body);
    let record = message(&h, &statuses[0].0).await.unwrap();
    assert_eq!(record.status, Some(MessageStatus::Failed));
    let errors: Value =
        serde_json::from_str(record.statuses[0].errors.as_deref().unwrap()).unwrap();
    assert!(errors[0]["code"].is_i64());
}

#[tokio::test]
async fn a_batch_of_100_statuses_is_recorded_in_full() {
    let h = harness().await;
    let body = fixture("batch_100_statuses.json");
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let (_, statuses) = ids_in(&body);
    assert_eq!(statuses.len(), 100);
    for (id, status) in statuses {
        let record = message(&h, &id).await.unwrap();
        assert_eq!(record.status.unwrap().as_str(), status);
    }
}

#[tokio::test]
async fn non_ascii_bodies_are_checked_over_their_exact_bytes() {
    let h = harness().await;
    let body = fixture("non_ascii_escaped.json");
    assert!(body.is_ascii() && body.windows(2).any(|w| w == b"\\u"));
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let (messages, _) = ids_in(&body);
    let record = message(&h, &messages[0].0).await.unwrap();
    let content: Value = serde_json::from_str(record.content.as_deref().unwrap()).unwrap();
    assert!(content["text"]["body"].as_str().unwrap().contains("café"));
}

#[tokio::test(start_paused = true)]
async fn changes_are_routed_by_phone_number_to_bots_of_the_same_app_only() {
    let h = harness().await;
    let body = fixture("second_number.json");
    let (messages, _) = ids_in(&body);

    // Nobody owns the number: kept as unrouted under the URL's bot.
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    let raw = h.store.raw_events(BOT).await.unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].kind, RawEventKind::Unrouted);
    assert_eq!(raw[0].phone_number_id.as_deref(), Some("100000000000002"));

    // Owned by a bot of another app: still unrouted, never written into that bot.
    connect(
        &h.store,
        &h.secrets,
        "stranger",
        "100000000000002",
        "stranger-secret",
    )
    .await;
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    assert!(
        h.store
            .message("stranger", &messages[0].0)
            .await
            .unwrap()
            .is_none()
    );

    // Owned by a bot of the same app: routed there, once the warm function's memory of the
    // number's previous owner has expired.
    h.store.delete_connection("stranger").await.unwrap();
    connect(
        &h.store,
        &h.secrets,
        "sibling",
        "100000000000002",
        APP_SECRET,
    )
    .await;
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    assert_eq!(call(&h, signed(BOT, &body)).await.0, 200);
    assert!(
        h.store
            .message("sibling", &messages[0].0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        h.store
            .message(BOT, &messages[0].0)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn errors_template_updates_and_unknown_changes_are_kept_or_ignored_never_fatal() {
    let h = harness().await;
    for name in [
        "top_level_errors.json",
        "template_status_update.json",
        "unknown_field_change.json",
    ] {
        assert_eq!(call(&h, signed(BOT, &fixture(name))).await.0, 200, "{name}");
        assert_eq!(
            call(&h, signed(BOT, &fixture(name))).await.0,
            200,
            "{name} again"
        );
    }
    let kinds: Vec<_> = h
        .store
        .raw_events(BOT)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.len(), 2, "each kept once: {kinds:?}");
    assert!(kinds.contains(&RawEventKind::WebhookError));
    assert!(kinds.contains(&RawEventKind::TemplateStatusUpdate));
}

/// `text.json` with `edit` applied to its parsed body, re-serialised.
fn text_body_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&fixture("text.json")).unwrap();
    edit(&mut body);
    serde_json::to_vec(&body).unwrap()
}

const TEXT_ID: &str =
    "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhggQTFCMkMzRDRFNUY2MDcwODA5MEExQjJDM0Q0RTVGNgA=";

/// A status or contact Meta got wrong is kept verbatim; the message and the good status beside
/// it are recorded, not dropped with it.
#[tokio::test]
async fn one_malformed_item_is_kept_verbatim_and_its_neighbours_are_recorded() {
    let h = harness().await;
    let body = text_body_with(|body| {
        let value = &mut body["entry"][0]["changes"][0]["value"];
        value["statuses"] = serde_json::json!([
            {"id": "wamid.NO_STATUS", "timestamp": "1764000001", "recipient_id": "971501234567"},
            {"id": "wamid.GOOD_STATUS", "status": "delivered", "timestamp": "1764000002",
             "recipient_id": "971501234567"}
        ]);
        value["contacts"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"wa_id": 971501234568u64}));
    });
    let (status, _) = call(&h, signed(BOT, &body)).await;
    assert_eq!(status, 200);
    assert!(
        message(&h, TEXT_ID).await.is_some(),
        "the message is recorded"
    );
    let good = message(&h, "wamid.GOOD_STATUS")
        .await
        .expect("the good status is kept");
    assert_eq!(good.status, Some(MessageStatus::Delivered));
    let kept: Vec<RawEvent> = h.store.raw_events(BOT).await.unwrap();
    let mut bodies: Vec<&str> = kept.iter().map(|e| e.body.as_str()).collect();
    bodies.sort();
    assert_eq!(
        kept.len(),
        2,
        "the two bad items, each verbatim: {bodies:?}"
    );
    assert!(
        kept.iter()
            .all(|e| e.kind == RawEventKind::Unreadable
                && e.phone_number_id.as_deref() == Some(PHONE))
    );
    assert!(bodies[0].contains("wamid.NO_STATUS"), "{bodies:?}");
    assert!(bodies[1].contains("971501234568"), "{bodies:?}");
    let window = h.store.window(BOT, "971501234567").await.unwrap();
    assert!(window.is_some(), "the message opened its window");
}

/// An entry or change of an unexpected shape does not make Meta's whole delivery fail: it is
/// kept verbatim and the rest recorded, whether or not the body also has other kinds of change.
#[tokio::test]
async fn a_malformed_entry_or_change_is_kept_verbatim_and_the_rest_recorded() {
    let h = harness().await;
    let template = fixture("template_status_update.json");
    let template: Value = serde_json::from_slice(&template).unwrap();
    let template_entry = template["entry"][0].clone();
    for (name, add) in [
        ("a null entry", serde_json::json!(null)),
        (
            "a change without its field",
            serde_json::json!({"changes": [{"value": {}}]}),
        ),
        (
            "a field that is not text",
            serde_json::json!({"changes": [{"field": 7, "value": {}}]}),
        ),
        (
            "changes that are not a list",
            serde_json::json!({"id": "1", "changes": {}}),
        ),
    ] {
        let h = harness().await;
        let body = text_body_with(|body| {
            let entries = body["entry"].as_array_mut().unwrap();
            entries.insert(0, add.clone());
        });
        let (status, response) = call(&h, signed(BOT, &body)).await;
        assert_eq!(status, 200, "{name}: {response}");
        assert!(
            message(&h, TEXT_ID).await.is_some(),
            "{name}: the message is recorded"
        );
        let kept = h.store.raw_events(BOT).await.unwrap();
        assert_eq!(kept.len(), 1, "{name}: {kept:?}");
        assert_eq!(kept[0].kind, RawEventKind::Unreadable, "{name}");
    }
    // An entry id that is not text, beside a template change: read as before.
    let body = text_body_with(|body| {
        body["entry"][0]["id"] = serde_json::json!(200000000000001u64);
        body["entry"].as_array_mut().unwrap().push(template_entry);
    });
    let (status, response) = call(&h, signed(BOT, &body)).await;
    assert_eq!(status, 200, "{response}");
    assert!(message(&h, TEXT_ID).await.is_some());
}

/// A template webhook changes the templates of the bot whose business account it names, not
/// those of whichever bot's URL received it (two bots of one app share the app secret).
#[tokio::test]
async fn a_template_change_applies_to_its_own_business_account_only() {
    let h = harness().await;
    let approved = MessageTemplate::new(
        "1000000000000002",
        "order_update",
        "en",
        "APPROVED",
        "UTILITY",
        "[]",
    );
    let sync = TemplateSync {
        templates: vec![approved],
        synced_at: 1,
        template_limit: None,
    };
    h.store.replace_templates(BOT, &sync).await.unwrap();
    let status_of = || async {
        let key = TemplateKey::new("order_update", "en");
        h.store.template(BOT, &key).await.unwrap().unwrap().status
    };

    let mut theirs: Value =
        serde_json::from_slice(&fixture("template_status_paused.json")).unwrap();
    theirs["entry"][0]["id"] = "200000000000009".into();
    let (status, _) = call(&h, signed(BOT, &serde_json::to_vec(&theirs).unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(
        status_of().await,
        "APPROVED",
        "another account's template is not this bot's"
    );
    let kept = h.store.raw_events(BOT).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].kind, RawEventKind::Unrouted, "kept, not applied");

    let (status, _) = call(&h, signed(BOT, &fixture("template_status_paused.json"))).await;
    assert_eq!(status, 200);
    assert_eq!(
        status_of().await,
        "PAUSED",
        "its own account's change applies"
    );
}

/// A store whose every write fails, as DynamoDB does during an outage.
struct BrokenStore(MemoryStore);

fn outage() -> StoreError {
    StoreError::Unavailable("simulated outage".into())
}

#[async_trait]
impl ConnectionStore for BrokenStore {
    async fn connection(&self, b: &str) -> Result<Option<Connection>, StoreError> {
        self.0.connection(b).await
    }
    async fn connection_by_phone_number(&self, p: &str) -> Result<Option<Connection>, StoreError> {
        self.0.connection_by_phone_number(p).await
    }
    async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        self.0.connections().await
    }
    async fn put_connection(&self, c: &Connection) -> Result<(), StoreError> {
        self.0.put_connection(c).await
    }
    async fn delete_connection(&self, b: &str) -> Result<bool, StoreError> {
        self.0.delete_connection(b).await
    }
    async fn record_webhook_received(&self, b: &str, at: i64) -> Result<(), StoreError> {
        self.0.record_webhook_received(b, at).await
    }
}

#[async_trait]
impl WindowStore for BrokenStore {
    async fn extend_window(&self, _: &str, _: &CustomerIds, _: i64) -> Result<(), StoreError> {
        Err(outage())
    }
    async fn window(&self, b: &str, c: &str) -> Result<Option<ConversationWindow>, StoreError> {
        self.0.window(b, c).await
    }
    async fn set_responder_pause(
        &self,
        b: &str,
        c: &str,
        p: Option<ResponderPause>,
    ) -> Result<(), StoreError> {
        self.0.set_responder_pause(b, c, p).await
    }
    async fn responder_pause(
        &self,
        b: &str,
        c: &str,
    ) -> Result<Option<ResponderPause>, StoreError> {
        self.0.responder_pause(b, c).await
    }
}

#[async_trait]
impl MessageStore for BrokenStore {
    async fn record_inbound(&self, _: &str, _: InboundMessage) -> Result<Claim, StoreError> {
        Err(outage())
    }
    async fn record_status(&self, _: &str, _: &StatusEvent) -> Result<Claim, StoreError> {
        Err(outage())
    }
    async fn record_outbound(&self, _: &str, _: &OutboundRecord) -> Result<(), StoreError> {
        Err(outage())
    }
    async fn record_raw_event(&self, _: &str, _: &RawEvent) -> Result<Claim, StoreError> {
        Err(outage())
    }
    async fn raw_events(&self, b: &str) -> Result<Vec<RawEvent>, StoreError> {
        self.0.raw_events(b).await
    }
    async fn message(&self, b: &str, m: &str) -> Result<Option<MessageRecord>, StoreError> {
        self.0.message(b, m).await
    }
    async fn inbound_media(&self, b: &str, m: &str) -> Result<Option<String>, StoreError> {
        self.0.inbound_media(b, m).await
    }
}

/// The default: its failing claim is the first of the two writes.
impl ConversationStore for BrokenStore {}

impl SendStore for BrokenStore {}

impl Store for BrokenStore {}

#[async_trait]
impl ApiKeyStore for BrokenStore {
    async fn put_api_key(&self, h: &str, k: &ApiKey) -> Result<(), StoreError> {
        self.0.put_api_key(h, k).await
    }
    async fn api_key(&self, h: &str) -> Result<Option<ApiKey>, StoreError> {
        self.0.api_key(h).await
    }
    async fn delete_api_keys(&self, b: &str) -> Result<usize, StoreError> {
        self.0.delete_api_keys(b).await
    }
    async fn set_api_keys_rate_limit(&self, b: &str, l: u32) -> Result<usize, StoreError> {
        self.0.set_api_keys_rate_limit(b, l).await
    }
}

#[async_trait]
impl IdempotencyStore for BrokenStore {
    async fn claim_idempotency(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
        _: i64,
    ) -> Result<IdempotencyClaim, StoreError> {
        Err(outage())
    }
    async fn complete_idempotency(
        &self,
        _: &str,
        _: &str,
        _: &StoredResponse,
    ) -> Result<(), StoreError> {
        Err(outage())
    }
    async fn release_idempotency(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(outage())
    }
}

#[async_trait]
impl RateLimitStore for BrokenStore {
    async fn count_request(&self, _: &str, _: i64, _: i64) -> Result<u64, StoreError> {
        Err(outage())
    }
}

#[async_trait]
impl TemplateStore for BrokenStore {
    async fn replace_templates(
        &self,
        _: &str,
        _: &TemplateSync,
    ) -> Result<TemplateSyncCounts, StoreError> {
        Err(outage())
    }
    async fn templates(&self, _: &str) -> Result<TemplateSet, StoreError> {
        Err(outage())
    }
    async fn template_page(&self, _: &str, _: &TemplateQuery) -> Result<TemplatePage, StoreError> {
        Err(outage())
    }
    async fn template(
        &self,
        _: &str,
        _: &TemplateKey,
    ) -> Result<Option<MessageTemplate>, StoreError> {
        Err(outage())
    }
    async fn template_sync_state(&self, _: &str) -> Result<TemplateSyncState, StoreError> {
        Err(outage())
    }
    async fn update_template(
        &self,
        _: &str,
        _: &TemplateRef,
        _: &TemplateChange,
    ) -> Result<bool, StoreError> {
        Err(outage())
    }
}

#[tokio::test]
async fn when_storage_fails_meta_is_told_to_retry() {
    let h = harness().await;
    let broken = BrokenStore(MemoryStore::new());
    connect(&broken.0, &h.secrets, BOT, PHONE, APP_SECRET).await;
    let store: Arc<dyn Store> = Arc::new(broken);
    let deps = WebhookDeps::new(store, h.secrets.clone());
    for name in ["text.json", "status_delivered.json"] {
        let response = handle(signed(BOT, &fixture(name)), &deps).await;
        assert_eq!(response.status(), 503, "{name}");
        let body = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
        assert_eq!(error_code(&body), "storage_unavailable");
    }
}
