//! The connections routes (the admin token).

use reqwest::Method;
use serde_json::Value;

use crate::client::{Auth, Call, segment};
use crate::{Connection, ConnectionCreated, ConnectionPage, Deleted, Intaj, IntajError};

pub struct Connections<'a> {
    pub(crate) client: &'a Intaj,
}

impl Connections<'_> {
    /// Connects a number: `{"businessAccountId","phoneNumberId","accessToken","appSecret",…}`
    /// (README, "Connections"). Not resent after a lost answer unless `botId` is given: a
    /// repeat without it would connect a second bot. A bot connected already (also by this
    /// call's own attempt whose answer was lost) is `connection_exists`: its secrets were shown
    /// once, and an update that rotates them issues new ones.
    pub async fn create(&self, body: &Value) -> Result<ConnectionCreated, IntajError> {
        let mut call = Call::new(
            Method::POST,
            "/api/whatsapp/connections".into(),
            Auth::Admin,
        );
        call.retry_lost_answers = body.get("botId").is_some();
        call.body = Some(body.clone());
        let answer = self.client.call::<Value>(call).await?;
        if answer.value.get("apiKey").is_none() {
            let bot = body
                .get("botId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(IntajError::Api {
                status: 200,
                code: "connection_exists".into(),
                message: format!(
                    "bot \"{bot}\" is connected already, so no secret was shown: get new ones \
                     with an update of {{\"botId\":\"{bot}\",\"rotateApiKey\":true,\
                     \"rotateResponderSecret\":true}}"
                ),
                upstream: None,
                retry_after: None,
                request_id: None,
            });
        }
        serde_json::from_value(answer.value).map_err(|error| IntajError::Unexpected {
            status: 201,
            detail: error.to_string(),
        })
    }

    /// Changes what `body` gives of the connection `body["botId"]` names, keeps the rest. Not
    /// resent after a lost answer when it rotates the API key or the responder secret (a repeat
    /// would replace what the first one answered).
    pub async fn update(&self, body: &Value) -> Result<Connection, IntajError> {
        let mut call = Call::new(
            Method::POST,
            "/api/whatsapp/connections".into(),
            Auth::Admin,
        );
        let rotates = |field| body.get(field) == Some(&Value::Bool(true));
        call.retry_lost_answers = !rotates("rotateApiKey") && !rotates("rotateResponderSecret");
        call.body = Some(body.clone());
        Ok(self.client.call(call).await?.value)
    }

    pub async fn get(&self, bot_id: &str) -> Result<Connection, IntajError> {
        let path = format!("/api/whatsapp/connections/{}", segment(bot_id));
        Ok(self
            .client
            .call(Call::new(Method::GET, path, Auth::Admin))
            .await?
            .value)
    }

    /// One page, in bot id order; pass its `next_cursor` back for the next.
    pub async fn list(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<ConnectionPage, IntajError> {
        let mut call = Call::new(Method::GET, "/api/whatsapp/connections".into(), Auth::Admin);
        if let Some(limit) = limit {
            call.query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = cursor {
            call.query.push(("cursor", cursor.to_owned()));
        }
        Ok(self.client.call(call).await?.value)
    }

    pub async fn delete(&self, bot_id: &str) -> Result<Deleted, IntajError> {
        let path = format!("/api/whatsapp/connections/{}", segment(bot_id));
        Ok(self
            .client
            .call(Call::new(Method::DELETE, path, Auth::Admin))
            .await?
            .value)
    }
}
