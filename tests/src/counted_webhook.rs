//! The webhook function's handler on DynamoDB Local with its requests counted: what one webhook
//! body costs in writes and round trips.

use std::path::PathBuf;
use std::sync::Arc;

use intaj_shared::ports::Store;
use intaj_shared::whatsapp::signature::sign;
use intaj_webhook::{WebhookDeps, handle};
use lambda_http::Body;

use crate::{CountedTable, DynamoDbRequests, LocalServices};

/// The demo connection's ([`CountedTable::with_demo_connection`]).
const APP_SECRET: &str = "dev-app-secret";

/// What one webhook body cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventCost {
    pub write_requests: usize,
    /// Write units DynamoDB reported for the writes it accepted.
    pub write_units: f64,
    /// Writes refused by their condition (a duplicate's claim): DynamoDB charges them by the
    /// item's size, at least one unit each; DynamoDB Local reports nothing for them.
    pub refused_writes: usize,
    pub items_written: usize,
    pub requests: usize,
    pub sequential_round_trips: usize,
    pub sequential_write_round_trips: usize,
}

/// The demo connection (SPEC §9) on a table of its own.
pub struct CountedWebhook {
    pub deps: WebhookDeps,
    /// The table the function writes to, for reading what it wrote.
    pub store: Arc<dyn Store>,
    pub requests: DynamoDbRequests,
}

/// A status of a message no test uses: the webhook a warm function handled before.
const WARM_UP: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"statuses":[{"id":"wamid.WARM_UP","status":"sent","timestamp":"1760000000","recipient_id":"15550000000"}]}}]}]}"#;

impl CountedWebhook {
    /// A warm function: it has handled a webhook already, so it has noted the bot's arrivals
    /// (`lastWebhookAt`, one write every few minutes) and what it counts is the steady state.
    pub async fn start(services: &LocalServices) -> Self {
        let webhook = Self::start_cold(services).await;
        webhook.post_body("warm-up", WARM_UP.into()).await;
        webhook
    }

    /// A function that has handled nothing yet.
    pub async fn start_cold(services: &LocalServices) -> Self {
        let table = CountedTable::with_demo_connection(services, "intaj-webhook-writes").await;
        Self {
            deps: WebhookDeps::new(table.store.clone(), table.secrets.clone()),
            store: table.store.clone(),
            requests: table.requests().clone(),
        }
    }

    /// Posts a fixture of `shared/tests/fixtures/webhooks`, signed, and counts what it cost.
    pub async fn post(&self, fixture: &str) -> EventCost {
        self.post_body(fixture, fixture_body(fixture)).await
    }

    /// Posts `body` (named `name` in failures), signed, and counts what it cost.
    pub async fn post_body(&self, name: &str, body: Vec<u8>) -> EventCost {
        let fixture = name;
        let request = http::Request::builder()
            .method("POST")
            .uri("/webhook/whatsapp/demo")
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", sign(APP_SECRET.as_bytes(), &body))
            .body(Body::from(body))
            .unwrap();
        self.requests.reset();
        let response = handle(request, &self.deps).await;
        assert_eq!(response.status(), 200, "{fixture}");
        EventCost {
            write_requests: self.requests.write_requests(),
            write_units: self.requests.write_units(),
            refused_writes: self.requests.refused_writes(),
            items_written: self.requests.items_written(|_| true),
            requests: self.requests.sent().len(),
            sequential_round_trips: self.requests.sequential_round_trips(),
            sequential_write_round_trips: self.requests.sequential_write_round_trips(),
        }
    }
}

/// The bytes of a fixture of `shared/tests/fixtures/webhooks`.
pub fn fixture_body(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tests/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The same customer's next message: the fixture with another message id (and so another
/// signature).
pub fn next_message(name: &str) -> Vec<u8> {
    let body = String::from_utf8(fixture_body(name)).unwrap();
    body.replacen("\"id\": \"wamid.", "\"id\": \"wamid.NEXT", 1)
        .into_bytes()
}
