//! The connections function's table permissions in `template.yaml` are exactly the DynamoDB
//! operations it makes: a connection created, read, listed, changed (its number, its key, its
//! bot) and deleted, and what it refuses; on DynamoDB Local, with the WhatsApp simulator checking
//! the credentials as Meta does.

use std::sync::Arc;

use intaj_connections::{ConnectionsDeps, handle};
use intaj_dev::simulator::SimulatedNumber;
use intaj_shared::adapters::FixedAdminToken;
use intaj_shared::ports::Secret;
use intaj_tests::{
    CountedTable, LocalServices, StackClient, api_request, json_body, sample_event, status_and_json,
};
use serde_json::{Value, json};

const ADMIN: &str = "dev-admin-token";
const WABA: &str = "200000000000001";

/// The connections function's handler on a counted table.
struct CountedConnections {
    deps: ConnectionsDeps,
    table: CountedTable,
}

impl CountedConnections {
    async fn answer(&mut self, request: lambda_http::Request) -> (u16, Value) {
        let response = handle(request, &self.deps).await;
        self.table.collect();
        status_and_json(&response)
    }

    /// A sample event of `events/`, as API Gateway delivers it.
    async fn event(&mut self, name: &str) -> (u16, Value) {
        let event = sample_event(name).to_string();
        self.answer(lambda_http::request::from_str(&event).unwrap())
            .await
    }

    /// `method path` with `token` as the Bearer token.
    async fn call(&mut self, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let request = api_request(method, path, Some(token));
        self.answer(request.body(json_body(&body)).unwrap()).await
    }
}

#[tokio::test]
async fn the_connections_functions_table_permissions_are_exactly_the_operations_it_makes() {
    let Some(services) = LocalServices::from_env("connections permissions") else {
        return;
    };
    let meta = StackClient::start_silent().await;
    let sim = meta.sim();
    for (phone, token, secret) in [
        ("100000000000002", "shop-access-token", "shop-app-secret"),
        ("100000000000003", "dev-access-token", "dev-app-secret"),
    ] {
        sim.upsert_number(SimulatedNumber::new(phone, WABA, token, secret));
    }
    let table =
        CountedTable::with_demo_connection(&services, "intaj-connections-permissions").await;
    let mut f = CountedConnections {
        deps: ConnectionsDeps::new(
            table.store.clone(),
            table.secrets.clone(),
            meta.impatient_graph(),
            Arc::new(FixedAdminToken(Some(Secret::new(ADMIN)))),
        ),
        table,
    };

    // The sample events: the demo connection made again, read, listed.
    for name in [
        "connections-create.json",
        "connections-get.json",
        "connections-list.json",
    ] {
        let (status, body) = f.event(name).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    // A second bot, on a number of its own; one on a number another bot holds is refused.
    let shop = json!({"botId": "shop", "businessAccountId": WABA,
                      "phoneNumberId": "100000000000002", "accessToken": "shop-access-token",
                      "appSecret": "shop-app-secret"});
    let (status, body) = f
        .call("POST", "/api/whatsapp/connections", ADMIN, shop)
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let taken = json!({"botId": "thief", "businessAccountId": WABA,
                       "phoneNumberId": "100000000000002", "accessToken": "shop-access-token",
                       "appSecret": "shop-app-secret"});
    let (status, body) = f
        .call("POST", "/api/whatsapp/connections", ADMIN, taken)
        .await;
    assert_eq!(status, 409, "{body}");
    // The demo bot moves to another number, gets a new API key, a bot backend and an events URL.
    let moved = json!({"botId": "demo", "businessAccountId": WABA,
                       "phoneNumberId": "100000000000003", "accessToken": "dev-access-token",
                       "appSecret": "dev-app-secret", "rotateApiKey": true,
                       "rateLimitPerSecond": 10,
                       "responder": {"kind": "forward", "url": "https://bot.example.com/hook"},
                       "eventsUrl": "https://shop.example.com/events"});
    let (status, body) = f
        .call("POST", "/api/whatsapp/connections", ADMIN, moved)
        .await;
    assert_eq!(status, 200, "{body}");
    // Refused: a wrong admin token, an unknown bot.
    let (status, _) = f
        .call("GET", "/api/whatsapp/connections", "wrong", Value::Null)
        .await;
    assert_eq!(status, 401);
    let (status, _) = f
        .call(
            "GET",
            "/api/whatsapp/connections/nobody",
            ADMIN,
            Value::Null,
        )
        .await;
    assert_eq!(status, 404);
    // Deleted: the sample event's bot, then the other.
    let (status, body) = f.event("connections-delete.json").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f
        .call(
            "DELETE",
            "/api/whatsapp/connections/shop",
            ADMIN,
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    f.table.assert_exactly_allowed_by("ConnectionsFunction");
    meta.stack.shutdown().await;
}
