//! The send function's table permissions in `template.yaml` are exactly the DynamoDB operations
//! its handler makes: every route it serves, answered and refused, on DynamoDB Local, with the
//! WhatsApp simulator as Meta. A leaked API key can do nothing else to the table through it.

use std::time::Duration;

use intaj_dev::simulator::FaultConfig;
use intaj_send::{SendDeps, handle};
use intaj_shared::clock::unix_now;
use intaj_shared::domain::{MessageTemplate, TemplateSync};
use intaj_tests::{CountedTable, DEMO_API_KEY, LocalServices, StackClient, api_request, json_body};
use serde_json::{Value, json};

const CUSTOMER: &str = "15551234567";
/// A customer who never wrote: no window.
const STRANGER: &str = "15557654321";

/// The send function's handler on a counted table, Meta simulated.
struct CountedSend {
    deps: SendDeps,
    table: CountedTable,
}

impl CountedSend {
    /// `method path` with `key` as the Bearer API key, if any: the answer's status.
    async fn call(&mut self, method: &str, path: &str, key: Option<&str>, body: Value) -> u16 {
        self.call_with(api_request(method, path, key), body).await
    }

    async fn call_with(&mut self, request: http::request::Builder, body: Value) -> u16 {
        let response = handle(request.body(json_body(&body)).unwrap(), &self.deps).await;
        self.table.collect();
        response.status().as_u16()
    }

    fn send_request(&self, idempotency_key: &str) -> http::request::Builder {
        api_request("POST", "/api/whatsapp/send", Some(DEMO_API_KEY))
            .header("idempotency-key", idempotency_key)
    }
}

#[tokio::test]
async fn the_send_functions_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("send permissions") else {
        return;
    };
    let meta = StackClient::start_silent().await;
    let sim = meta.sim();
    sim.set_status_delay(Duration::ZERO);

    let table = CountedTable::with_demo_connection(&services, "intaj-send-permissions").await;
    let store = table.store.clone();
    let now = unix_now();
    let written = table.customer_wrote(sim, CUSTOMER).await;
    let mut f = CountedSend {
        deps: SendDeps {
            store: store.clone(),
            secrets: table.secrets.clone(),
            graph: meta.impatient_graph(),
        },
        table,
    };

    let key = Some(DEMO_API_KEY);
    let text = |to: &str| json!({"to": to, "type": "text", "content": "Your order shipped"});
    let template = |name: &str| {
        json!({"to": STRANGER, "type": "template",
               "template": {"name": name, "language": "en_US"}})
    };
    // Refused: no key, a wrong key, a body that is not a message.
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", None, text(CUSTOMER))
            .await,
        401
    );
    assert_eq!(
        f.call(
            "POST",
            "/api/whatsapp/send",
            Some("wrong-key"),
            text(CUSTOMER)
        )
        .await,
        401
    );
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, json!({"to": CUSTOMER}))
            .await,
        422
    );
    // Free-form: inside the window, and refused outside it.
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, text(CUSTOMER))
            .await,
        200
    );
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, text(STRANGER))
            .await,
        422
    );
    // Templates before any sync (Meta judges), then checked against the synced set.
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, template("hello_world"))
            .await,
        200
    );
    store
        .replace_templates(
            "demo",
            &TemplateSync {
                templates: vec![MessageTemplate::new(
                    "1",
                    "hello_world",
                    "en_US",
                    "APPROVED",
                    "UTILITY",
                    json!([{"type": "BODY", "text": "Hello World"}]).to_string(),
                )],
                synced_at: now,
                template_limit: None,
            },
        )
        .await
        .unwrap();
    f.table.forget();
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, template("hello_world"))
            .await,
        200
    );
    assert_eq!(
        f.call("POST", "/api/whatsapp/send", key, template("no_such"))
            .await,
        422
    );
    // Idempotency keys: claimed and completed, repeated, and released when Meta fails.
    for _ in 0..2 {
        let request = f.send_request("order-42-shipped");
        assert_eq!(f.call_with(request, text(CUSTOMER)).await, 200);
    }
    sim.set_fault(FaultConfig {
        error_rate: 1.0,
        delay: Duration::ZERO,
    });
    let request = f.send_request("order-43-shipped");
    assert_eq!(f.call_with(request, text(CUSTOMER)).await, 503);
    sim.set_fault(FaultConfig {
        error_rate: 0.0,
        delay: Duration::ZERO,
    });
    // Reads: a message, one that does not exist, a conversation.
    let message = format!("/api/whatsapp/messages/{}", written);
    assert_eq!(f.call("GET", &message, key, Value::Null).await, 200);
    assert_eq!(
        f.call("GET", "/api/whatsapp/messages/wamid.NONE", key, Value::Null)
            .await,
        404
    );
    let conversation = format!("/api/whatsapp/conversations/{CUSTOMER}");
    assert_eq!(f.call("GET", &conversation, key, Value::Null).await, 200);
    // A person takes the conversation over, and hands it back.
    let responder = format!("{conversation}/responder");
    assert_eq!(
        f.call("PUT", &responder, key, json!({"paused": true}))
            .await,
        200
    );
    assert_eq!(f.call("GET", &conversation, key, Value::Null).await, 200);
    assert_eq!(
        f.call("PUT", &responder, key, json!({"paused": false}))
            .await,
        200
    );
    // The customer's message marked read.
    let read = format!("{message}/read");
    assert_eq!(
        f.call("POST", &read, key, json!({"typing": true})).await,
        200
    );
    // Over the key's rate: refused with 429.
    store.set_api_keys_rate_limit("demo", 1).await.unwrap();
    f.table.forget();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(f.call("GET", &conversation, key, Value::Null).await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");

    f.table.assert_exactly_allowed_by("SendFunction");
    meta.stack.shutdown().await;
}
