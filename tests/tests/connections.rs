//! The connections API against the WhatsApp simulator, DynamoDB Local and moto's Secrets
//! Manager: a business connects, Meta's handshake and a signed inbound message work with what it
//! got, it sends with its key; then every credential is rotated, the key too, and the connection
//! is deleted. Every log line of the run is captured and searched for every secret value.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use intaj_connections::ConnectionsDeps;
use intaj_dev::simulator::{self, RunningSimulator, SimulatedNumber, SimulatorConfig};
use intaj_send::SendDeps;
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::adapters::{CachedSecrets, DynamoDbStore, FixedAdminToken, SecretsManager};
use intaj_shared::graph::{GraphClient, GraphConfig};
use intaj_shared::ports::{Secret, SecretStore, Store};
use intaj_shared::whatsapp::signature::sign;
use intaj_tests::{LocalServices, captured_logs, unique};
use intaj_webhook::WebhookDeps;
use lambda_http::Body;
use serde_json::{Value, json};

const ADMIN: &str = "test-admin-token-0123";
const PHONE: &str = "100000000000042";
const OTHER_PHONE: &str = "100000000000043";
const WABA: &str = "200000000000042";
const TOKEN: &str = "EAAG-shop-access-token-1";
const META_APP_SECRET: &str = "shop-app-secret-0001";
const CUSTOMER: &str = "15551234567";
const HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";

/// One deployment: each function with its own secrets cache, as separate Lambda functions have,
/// over one table and one Secrets Manager.
struct Deployment {
    connections: ConnectionsDeps,
    webhook: WebhookDeps,
    send: SendDeps,
    store: Arc<dyn Store>,
    secrets_client: aws_sdk_secretsmanager::Client,
    prefix: String,
    simulator: RunningSimulator,
}

/// How long the webhook function of this test keeps a secret (the deployed TTL is 5 minutes;
/// short here so that the bound can be observed).
const WEBHOOK_SECRETS_TTL: Duration = Duration::from_secs(2);

impl Deployment {
    async fn start(services: &LocalServices) -> Self {
        let dynamodb = services.dynamodb().await;
        let table = unique("connections");
        create_table_if_missing(&dynamodb, &table).await.unwrap();
        let store: Arc<dyn Store> = Arc::new(DynamoDbStore::new(dynamodb, table));
        let secrets_client = services.secrets_manager().await;
        let prefix = format!("{}/", unique("intaj-connections"));
        let cached = |ttl| -> Arc<dyn SecretStore> {
            Arc::new(CachedSecrets::new(
                SecretsManager::new(secrets_client.clone(), prefix.clone()),
                ttl,
            ))
        };
        let number = SimulatedNumber::new(PHONE, WABA, TOKEN, META_APP_SECRET);
        let mut other = SimulatedNumber::new(OTHER_PHONE, WABA, TOKEN, META_APP_SECRET);
        other.verified_name = "Other Shop".into();
        let simulator = simulator::start(
            SimulatorConfig::with_numbers([number, other]),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        )
        .await
        .unwrap();
        let graph = GraphClient::new(GraphConfig::new(simulator.base_url(), "v25.0")).unwrap();
        simulator
            .handle()
            .set_status_delay(Duration::from_secs(3600));
        Self {
            connections: ConnectionsDeps::new(
                store.clone(),
                cached(Duration::from_secs(300)),
                graph.clone(),
                Arc::new(FixedAdminToken(Some(Secret::new(ADMIN)))),
            ),
            webhook: WebhookDeps::new(store.clone(), cached(WEBHOOK_SECRETS_TTL)),
            send: SendDeps {
                store: store.clone(),
                secrets: cached(Duration::from_secs(300)),
                graph,
            },
            store,
            secrets_client,
            prefix,
            simulator,
        }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.admin_as(Some(ADMIN), method, path, body).await
    }

    async fn admin_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("x-forwarded-proto", "https");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map_or(Body::Empty, |b| Body::from(b.to_string()));
        let response =
            intaj_connections::handle(request.body(body).unwrap(), &self.connections).await;
        (response.status().as_u16(), json_of(response.body()))
    }

    /// Posts `body` to the connections route and checks it is refused with `status` and `code`,
    /// leaving no secret for `bot_id` behind.
    async fn refused(&self, body: Value, bot_id: &str, status: u16, code: &str) {
        let (got, answer) = self
            .admin(Method::POST, "/api/whatsapp/connections", Some(body))
            .await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
        let secrets = self.connections.secrets.bot_secrets(bot_id).await.unwrap();
        assert!(secrets.is_none(), "a refused connection stored secrets");
    }

    async fn handshake(&self, bot_id: &str, verify_token: &str) -> u16 {
        let request = http::Request::builder()
            .uri(format!(
                "/webhook/whatsapp/{bot_id}?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=7"
            ))
            .body(Body::Empty)
            .unwrap();
        intaj_webhook::handle(request, &self.webhook)
            .await
            .status()
            .as_u16()
    }

    /// Waits until the handshake answers `expected`: at most the webhook's cache TTL after the
    /// change (another function's cached secret, or cached absence, lingers that long).
    async fn handshake_becomes(&self, bot_id: &str, verify_token: &str, expected: u16) {
        let deadline = Instant::now() + WEBHOOK_SECRETS_TTL + Duration::from_secs(3);
        while self.handshake(bot_id, verify_token).await != expected {
            assert!(
                Instant::now() < deadline,
                "the handshake of {bot_id} does not answer {expected} within the cache TTL"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A customer's text message to `phone`, signed with `app_secret`.
    async fn inbound(&self, bot_id: &str, app_secret: &str, message_id: &str) -> u16 {
        let now = intaj_shared::clock::unix_now();
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550000042", "phone_number_id": PHONE},
                "contacts": [{"profile": {"name": "Sam"}, "wa_id": CUSTOMER}],
                "messages": [{"from": CUSTOMER, "id": message_id, "timestamp": now.to_string(),
                              "type": "text", "text": {"body": "hi"}}]
            }}]}]
        })
        .to_string();
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("/webhook/whatsapp/{bot_id}"))
            .header(
                "x-hub-signature-256",
                sign(app_secret.as_bytes(), body.as_bytes()),
            )
            .body(Body::from(body))
            .unwrap();
        intaj_webhook::handle(request, &self.webhook)
            .await
            .status()
            .as_u16()
    }

    async fn send(&self, api_key: &str) -> (u16, Option<String>, Value) {
        let request = http::Request::builder()
            .method("POST")
            .uri("/api/whatsapp/send")
            .header("authorization", format!("Bearer {api_key}"))
            .body(Body::from(
                json!({"to": CUSTOMER, "type": "text", "content": "Hello from the shop"})
                    .to_string(),
            ))
            .unwrap();
        let response = intaj_send::handle(request, &self.send).await;
        let limit = response
            .headers()
            .get("x-ratelimit-limit")
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), limit, json_of(response.body()))
    }
}

fn json_of(body: &Body) -> Value {
    serde_json::from_slice(body.as_ref()).unwrap_or(Value::Null)
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
        .to_owned()
}

#[tokio::test]
async fn a_business_connects_rotates_and_disconnects_and_no_secret_leaks() {
    let Some(services) = LocalServices::from_env("connections") else {
        return;
    };
    let logs = captured_logs();
    let deployment = Deployment::start(&services).await;
    let d = &deployment;
    let mut secrets_seen: Vec<String> = vec![TOKEN.into(), META_APP_SECRET.into(), ADMIN.into()];

    // Without the admin token nothing happens.
    let create = json!({
        "botId": "shop",
        "businessAccountId": WABA,
        "phoneNumberId": PHONE,
        "accessToken": TOKEN,
        "appSecret": META_APP_SECRET,
        "rateLimitPerSecond": 40,
        "responder": {"kind": "forward", "url": "https://bot.shop.example/in"},
        "eventsUrl": "https://shop.example/events",
    });
    for token in [None, Some("wrong-admin-token")] {
        let (status, body) = d
            .admin_as(
                token,
                Method::POST,
                "/api/whatsapp/connections",
                Some(create.clone()),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
    }
    let (status, _) = d
        .admin(Method::GET, "/api/whatsapp/connections/shop", None)
        .await;
    assert_eq!(status, 404, "the refused requests stored nothing");

    // Meta refuses the token, or the number is not the account's: 422, nothing stored.
    let mut refused = create.clone();
    refused["accessToken"] = json!("EAAG-a-token-meta-does-not-know");
    d.refused(refused, "shop", 422, "invalid_access_token")
        .await;
    let mut elsewhere = create.clone();
    elsewhere["businessAccountId"] = json!("200000000000999");
    d.refused(elsewhere, "shop", 422, "phone_number_not_in_account")
        .await;

    // Created once: the answer shows the secrets, once.
    let (status, created) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(create.clone()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        text(&created, "webhookUrl"),
        format!("https://{HOST}/webhook/whatsapp/shop")
    );
    assert_eq!(text(&created, "verifiedName"), "Intaj Simulator");
    assert!(created["displayPhoneNumber"].is_string());
    let verify_token = text(&created, "verifyToken");
    let api_key = text(&created, "apiKey");
    let responder_secret = text(&created, "responderSecret");
    secrets_seen.extend([
        verify_token.clone(),
        api_key.clone(),
        responder_secret.clone(),
    ]);

    // Meta's handshake with the returned verify token, a signed inbound message, a send.
    assert_eq!(d.handshake("shop", &verify_token).await, 200);
    assert_eq!(d.handshake("shop", "not-the-verify-token").await, 403);
    assert_eq!(
        d.inbound("shop", META_APP_SECRET, "wamid.CONNECTED1").await,
        200
    );
    let stored = d.store.message("shop", "wamid.CONNECTED1").await.unwrap();
    assert!(stored.is_some(), "the signed inbound message is stored");
    let (status, limit, sent) = d.send(&api_key).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(limit.as_deref(), Some("40"));

    // The API key is never an admin token.
    let (status, _) = d
        .admin_as(
            Some(&api_key),
            Method::GET,
            "/api/whatsapp/connections",
            None,
        )
        .await;
    assert_eq!(status, 401);

    // Reads show no secret.
    let (status, shown) = d
        .admin(Method::GET, "/api/whatsapp/connections/shop", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(text(&shown, "responderKind"), "forward");
    assert!(
        shown["lastWebhookAt"].is_i64(),
        "the webhook noted its arrival: {shown}"
    );
    assert_eq!(shown["rateLimitPerSecond"], 40);
    assert_eq!(text(&shown, "eventsUrl"), "https://shop.example/events");
    assert_eq!(text(&shown, "webhookUrl"), text(&created, "webhookUrl"));
    for secret in &secrets_seen {
        assert!(
            !shown.to_string().contains(secret.as_str()),
            "GET shows a secret: {shown}"
        );
    }

    // A second connection of the same number is refused; nothing of it is stored.
    let mut again = create.clone();
    again["botId"] = json!("shop-copy");
    d.refused(again, "shop-copy", 409, "phone_number_taken")
        .await;

    // Rotating the app secret: the old one's signatures are refused at once by this process,
    // and by the webhook function (its own cache) within its TTL.
    let new_app_secret = "shop-app-secret-0002";
    secrets_seen.push(new_app_secret.into());
    let (status, updated) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(json!({"botId": "shop", "appSecret": new_app_secret})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(
        updated.get("apiKey").is_none(),
        "no new key unless asked for"
    );
    for secret in &secrets_seen {
        assert!(!updated.to_string().contains(secret.as_str()), "{updated}");
    }
    let rotated_at = Instant::now();
    let current = d
        .connections
        .secrets
        .bot_secrets("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        current.app_secret.expose(),
        new_app_secret,
        "this process reads the new one at once"
    );
    let mut attempt = 0;
    loop {
        attempt += 1;
        let id = format!("wamid.OLDSECRET{attempt}");
        if d.inbound("shop", META_APP_SECRET, &id).await == 401 {
            break;
        }
        assert!(
            rotated_at.elapsed() < WEBHOOK_SECRETS_TTL + Duration::from_secs(3),
            "the old app secret lingered beyond the webhook's cache TTL"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        d.inbound("shop", new_app_secret, "wamid.NEWSECRET").await,
        200
    );

    // Rotating the verify token and the access token (Meta knows the new token).
    let new_token = "EAAG-shop-access-token-2";
    secrets_seen.push(new_token.into());
    // The business's new token replaces the old one for its whole account.
    let mut number = SimulatedNumber::new(PHONE, WABA, new_token, META_APP_SECRET);
    number.verified_name = "Shop Renamed".into();
    d.simulator.handle().upsert_number(number);
    let other = SimulatedNumber::new(OTHER_PHONE, WABA, new_token, META_APP_SECRET);
    d.simulator.handle().upsert_number(other);
    let new_verify = "shop-verify-token-0002";
    secrets_seen.push(new_verify.into());
    let (status, updated) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(
                json!({"botId": "shop", "accessToken": new_token, "verifyToken": new_verify,
                        "rateLimitPerSecond": 5}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        text(&updated, "verifiedName"),
        "Shop Renamed",
        "Meta was asked again"
    );
    let stored = d
        .connections
        .secrets
        .bot_secrets("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.access_token.expose(), new_token);
    assert_eq!(
        stored.app_secret.expose(),
        new_app_secret,
        "what was not given is kept"
    );
    assert_eq!(
        stored.responder_secret.as_ref().unwrap().expose(),
        responder_secret
    );
    d.handshake_becomes("shop", new_verify, 200).await;
    assert_eq!(d.handshake("shop", &verify_token).await, 403);
    let (status, limit, sent) = d.send(&api_key).await;
    assert_eq!((status, limit.as_deref()), (200, Some("5")), "{sent}");

    // Rotating the API key revokes the old one at once.
    let (status, rotated) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(json!({"botId": "shop", "rotateApiKey": true})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_key = text(&rotated, "apiKey");
    secrets_seen.push(new_key.clone());
    assert_ne!(new_key, api_key);
    assert_eq!(d.send(&api_key).await.0, 401);
    assert_eq!(d.send(&new_key).await.0, 200);
    assert!(rotated.get("responderSecret").is_none(), "{rotated}");

    // Rotating the responder secret (a leaked one): the new one is shown once and signs from
    // now on; nothing else changes.
    let (status, rotated) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(json!({"botId": "shop", "rotateResponderSecret": true})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated.get("apiKey").is_none(), "{rotated}");
    let new_responder_secret = text(&rotated, "responderSecret");
    secrets_seen.push(new_responder_secret.clone());
    assert_ne!(new_responder_secret, responder_secret);
    let stored = d.connections.secrets.refresh_bot_secrets("shop").await;
    let stored = stored.unwrap().unwrap();
    assert_eq!(
        stored.responder_secret.as_ref().unwrap().expose(),
        new_responder_secret
    );
    assert_eq!(d.send(&new_key).await.0, 200, "the API key is kept");

    // The list, a page at a time.
    let mut second = create.clone();
    second["botId"] = json!("zshop");
    second["phoneNumberId"] = json!(OTHER_PHONE);
    second["accessToken"] = json!(new_token);
    let (status, other) = d
        .admin(Method::POST, "/api/whatsapp/connections", Some(second))
        .await;
    assert_eq!(status, 201, "{other}");
    secrets_seen.extend(["verifyToken", "apiKey", "responderSecret"].map(|f| text(&other, f)));
    let (status, page) = d
        .admin(Method::GET, "/api/whatsapp/connections?limit=1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["connections"][0]["botId"], "shop");
    let cursor = text(&page, "nextCursor");
    let (_, page) = d
        .admin(
            Method::GET,
            &format!("/api/whatsapp/connections?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(page["connections"][0]["botId"], "zshop");
    assert_eq!(page["nextCursor"], Value::Null);
    for secret in &secrets_seen {
        assert!(!page.to_string().contains(secret.as_str()), "{page}");
    }

    // Deleting: keys revoked at once, the webhook 404s, the secret is scheduled for deletion,
    // the messages stay.
    let (status, deleted) = d
        .admin(Method::DELETE, "/api/whatsapp/connections/shop", None)
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["apiKeysRevoked"], 1);
    assert_eq!(d.send(&new_key).await.0, 401);
    d.handshake_becomes("shop", new_verify, 404).await;
    let described = d
        .secrets_client
        .describe_secret()
        .secret_id(format!("{}shop", d.prefix))
        .send()
        .await
        .unwrap();
    assert!(
        described.deleted_date.is_some(),
        "recoverable for the recovery window"
    );
    assert!(
        d.store
            .message("shop", "wamid.CONNECTED1")
            .await
            .unwrap()
            .is_some()
    );
    let (status, _) = d
        .admin(Method::GET, "/api/whatsapp/connections/shop", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = d
        .admin(Method::DELETE, "/api/whatsapp/connections/shop", None)
        .await;
    assert_eq!(status, 404);

    // Connected again within the recovery window: the secret is restored with the new values.
    let (status, back) = d
        .admin(
            Method::POST,
            "/api/whatsapp/connections",
            Some(json!({
                "botId": "shop", "businessAccountId": WABA, "phoneNumberId": PHONE,
                "accessToken": new_token, "appSecret": new_app_secret,
            })),
        )
        .await;
    assert_eq!(status, 201, "{back}");
    secrets_seen.extend(["verifyToken", "apiKey", "responderSecret"].map(|f| text(&back, f)));
    d.handshake_becomes("shop", &text(&back, "verifyToken"), 200)
        .await;

    // No secret reached a log line.
    let captured = logs.text();
    assert!(
        captured.contains("connection created"),
        "logs were captured"
    );
    for secret in &secrets_seen {
        assert!(
            !captured.contains(secret.as_str()),
            "a log line holds a secret"
        );
    }
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    captured_logs();
    let Some(services) = LocalServices::from_env("connections") else {
        return;
    };
    let d = Deployment::start(&services).await;
    let huge = json!({"botId": "big", "padding": "x".repeat(70 * 1024)});
    let (status, body) = d
        .admin(Method::POST, "/api/whatsapp/connections", Some(huge))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
    for (body, code) in [
        (
            json!({"businessAccountId": WABA, "phoneNumberId": PHONE, "accessToken": TOKEN}),
            "invalid_app_secret_format",
        ),
        (
            json!({"botId": "a b", "businessAccountId": WABA}),
            "invalid_bot_id",
        ),
        (
            json!({"businessAccountId": WABA, "phoneNumberId": 100000000000042u64}),
            "invalid_phone_number_id",
        ),
    ] {
        let (status, answer) = d
            .admin(Method::POST, "/api/whatsapp/connections", Some(body))
            .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{answer}"
        );
    }
    let (status, body) = d
        .admin(Method::GET, "/api/whatsapp/connections?limit=0", None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_limit")),
        "{body}"
    );
    let (status, _) = d
        .admin(Method::PUT, "/api/whatsapp/connections", None)
        .await;
    assert_eq!(status, 405);
    let (status, page) = d
        .admin(Method::GET, "/api/whatsapp/connections", None)
        .await;
    assert_eq!(
        (status, page["connections"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

/// The README's local walk-through: a number the simulator knows is connected over HTTP with the
/// stack's admin token, and the simulator's signed webhooks for it reach the new bot.
#[tokio::test]
async fn the_local_stack_connects_a_number_over_http() {
    captured_logs();
    let stack = intaj_tests::StackClient::start().await;
    let admin = &stack.stack.settings.admin_token;
    let webhook_url = format!("{}/webhook/whatsapp/shop", stack.stack.base_url);
    stack.sim().upsert_number(
        SimulatedNumber::new(OTHER_PHONE, "200000000000001", TOKEN, META_APP_SECRET)
            .with_webhook_url(&webhook_url),
    );
    let connect = json!({
        "botId": "shop",
        "businessAccountId": "200000000000001",
        "phoneNumberId": OTHER_PHONE,
        "accessToken": TOKEN,
        "appSecret": META_APP_SECRET,
    });
    let (status, _) = stack
        .call(
            "POST",
            "/api/whatsapp/connections",
            "dev-api-key",
            Some(connect.clone()),
        )
        .await;
    assert_eq!(status, 401, "the demo API key is not the admin token");
    let (status, created) = stack
        .call("POST", "/api/whatsapp/connections", admin, Some(connect))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(text(&created, "webhookUrl"), webhook_url);

    let mut message = intaj_dev::simulator::InboundMessage::text(CUSTOMER, "hi");
    message.phone_number_id = Some(OTHER_PHONE.into());
    let outcome = stack.sim().inbound(message).await.unwrap();
    assert_eq!(outcome.webhook_status, Some(200));
    let (status, conversation) = stack
        .call(
            "GET",
            &format!("/api/whatsapp/conversations/{CUSTOMER}"),
            &text(&created, "apiKey"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        conversation["windowOpen"], true,
        "the new bot got the message"
    );
    let (status, listed) = stack
        .call("GET", "/api/whatsapp/connections", admin, None)
        .await;
    assert_eq!(status, 200);
    let bots: Vec<&str> = listed["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["botId"].as_str().unwrap())
        .collect();
    assert_eq!(bots, ["demo", "shop"]);
}

/// A bot's templates are its business account's: listed as soon as it connects, and its new
/// account's, not the old one's, once it moves.
#[tokio::test]
async fn a_connection_has_its_accounts_templates_at_once_and_the_new_ones_when_it_moves() {
    const OTHER_WABA: &str = "200000000000077";
    const MOVED_PHONE: &str = "100000000000078";
    captured_logs();
    let stack = intaj_tests::StackClient::start().await;
    let admin = &stack.stack.settings.admin_token;
    let sim = stack.sim();
    sim.upsert_number(SimulatedNumber::new(
        OTHER_PHONE,
        "200000000000001",
        TOKEN,
        META_APP_SECRET,
    ));
    sim.upsert_number(SimulatedNumber::new(
        MOVED_PHONE,
        OTHER_WABA,
        TOKEN,
        META_APP_SECRET,
    ));
    let notice = json!({"id": "7000000000000001", "name": "moved_notice", "language": "en",
                        "status": "APPROVED", "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "We have moved."}]});
    sim.set_templates(OTHER_WABA, vec![notice]);
    let listed = |api_key: String| {
        let stack = &stack;
        async move {
            let (status, page) = stack
                .call("GET", "/api/whatsapp/templates", &api_key, None)
                .await;
            assert_eq!(status, 200, "{page}");
            let mut names: Vec<String> = page["templates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| text(t, "name"))
                .collect();
            names.sort();
            names.dedup();
            names
        }
    };

    let connect = json!({"botId": "shop", "businessAccountId": "200000000000001",
                         "phoneNumberId": OTHER_PHONE, "accessToken": TOKEN,
                         "appSecret": META_APP_SECRET});
    let (status, created) = stack
        .call("POST", "/api/whatsapp/connections", admin, Some(connect))
        .await;
    assert_eq!(status, 201, "{created}");
    let api_key = text(&created, "apiKey");
    let first = listed(api_key.clone()).await;
    assert!(
        first.contains(&"hello_world".to_owned()) && first.len() > 1,
        "the account's templates, without waiting for the schedule: {first:?}"
    );

    let moved = json!({"botId": "shop", "businessAccountId": OTHER_WABA,
                       "phoneNumberId": MOVED_PHONE});
    let (status, answer) = stack
        .call("POST", "/api/whatsapp/connections", admin, Some(moved))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        listed(api_key).await,
        ["moved_notice"],
        "the new account's templates only"
    );
}

/// The sample events of `events/` (what `cargo lambda invoke connections` sends), through the
/// handler as API Gateway hands them over, on the local stack's demo number.
#[tokio::test]
async fn the_sample_events_are_served() {
    captured_logs();
    let simulator = simulator::start(
        SimulatorConfig::with_numbers([SimulatedNumber::new(
            "100000000000001",
            "200000000000001",
            "dev-access-token",
            "dev-app-secret",
        )]),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = Arc::new(intaj_shared::adapters::MemoryStore::new());
    let deps = ConnectionsDeps::new(
        store,
        Arc::new(intaj_shared::adapters::MemorySecrets::new()),
        GraphClient::new(GraphConfig::new(simulator.base_url(), "v25.0")).unwrap(),
        Arc::new(FixedAdminToken(Some(Secret::new("dev-admin-token")))),
    );
    for (event, status) in [
        ("connections-create.json", 201),
        ("connections-get.json", 200),
        ("connections-list.json", 200),
        ("connections-delete.json", 200),
        ("connections-get.json", 404),
    ] {
        let path = intaj_tests::workspace_root().join("events").join(event);
        let request = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|error| panic!("{event}: {error}"));
        let response = intaj_connections::handle(request, &deps).await;
        assert_eq!(
            response.status().as_u16(),
            status,
            "{event}: {:?}",
            response.body()
        );
    }
}
