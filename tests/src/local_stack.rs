//! The local stack (in-memory store, WhatsApp simulator) with an HTTP client for its routes.

use std::time::Duration;

use intaj_dev::simulator::{SimulatedNumber, SimulatorHandle};
use intaj_dev::stack::{self, RunningStack, StackSettings};
use intaj_shared::graph::{GraphClient, GraphConfig, RetryPolicy};
use serde_json::{Value, json};

/// The demo connection's API key (SPEC §9).
pub const DEMO_API_KEY: &str = "dev-api-key";

pub struct StackClient {
    pub stack: RunningStack,
    pub http: reqwest::Client,
}

impl StackClient {
    /// A stack of its own, on ephemeral ports; its demo bot answers with its rules.
    pub async fn start() -> Self {
        Self::start_with(StackSettings::ephemeral()).await
    }

    /// The same with a demo bot that does not answer: only what a test sends reaches the
    /// simulator.
    pub async fn start_silent() -> Self {
        Self::start_with(StackSettings {
            demo_responder: false,
            ..StackSettings::ephemeral()
        })
        .await
    }

    pub async fn start_with(settings: StackSettings) -> Self {
        let stack = stack::start(settings).await.unwrap();
        Self {
            stack,
            http: intaj_shared::http_clients::http_client(),
        }
    }

    /// A Graph API client to this stack's Meta that gives up retrying after 300 ms, for tests
    /// of what a function does when Meta keeps failing.
    pub fn impatient_graph(&self) -> GraphClient {
        let mut config = GraphConfig::new(&self.stack.whatsapp_api_base, "v25.0");
        config.retry = RetryPolicy {
            budget: Duration::from_millis(300),
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        };
        GraphClient::new(config).unwrap()
    }

    pub fn sim(&self) -> &SimulatorHandle {
        self.stack
            .simulator
            .as_ref()
            .expect("stack runs a simulator")
            .handle()
    }

    /// `method path` with `Authorization: Bearer key` and a JSON body if given: the status and
    /// the JSON answer (`null` when the answer is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.stack.base_url);
        let mut request = match method {
            "POST" => self.http.post(url),
            _ => self.http.get(url),
        }
        .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// A second bot, `bot_id`, connected over the connections API as a business connects one,
    /// on a number the simulator knows (its webhooks to the bot's URL): the bot's API key.
    pub async fn connect_bot(&self, bot_id: &str, phone_number_id: &str) -> String {
        let (access_token, app_secret) = (
            format!("{bot_id}-access-token"),
            format!("{bot_id}-app-secret"),
        );
        self.sim().upsert_number(
            SimulatedNumber::new(
                phone_number_id,
                "200000000000001",
                &access_token,
                &app_secret,
            )
            .with_webhook_url(format!("{}/webhook/whatsapp/{bot_id}", self.stack.base_url)),
        );
        let admin = self.stack.settings.admin_token.clone();
        let connection = json!({
            "botId": bot_id, "businessAccountId": "200000000000001",
            "phoneNumberId": phone_number_id, "accessToken": access_token, "appSecret": app_secret
        });
        let (status, created) = self
            .call(
                "POST",
                "/api/whatsapp/connections",
                &admin,
                Some(connection),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["apiKey"].as_str().unwrap().to_owned()
    }

    /// `POST /api/whatsapp/send` with the demo connection's key.
    pub async fn send(&self, body: Value) -> (u16, Value) {
        self.call("POST", "/api/whatsapp/send", DEMO_API_KEY, Some(body))
            .await
    }
}
