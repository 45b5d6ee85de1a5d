//! What the connections routes answer. Only [`Created`] and a rotated key in [`Updated`] carry a
//! secret, once; [`ConnectionView`] never does.

use intaj_shared::connecting::DEFAULT_RATE_LIMIT_PER_SECOND;
use intaj_shared::domain::{Connection, Responder};
use intaj_shared::ports::Secret;
use serde::Serialize;

/// The one answer that shows the connection's secrets: `201` of a new connection.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub bot_id: String,
    pub webhook_url: String,
    pub verify_token: Secret,
    pub api_key: Secret,
    pub responder_secret: Secret,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
}

/// `200` of a change: the connection as it is now, and the new API key when one was asked for.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Updated {
    #[serde(flatten)]
    pub connection: ConnectionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Only when the update asked `rotateResponderSecret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responder_secret: Option<Secret>,
}

/// A connection without any secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub bot_id: String,
    pub business_account_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    pub webhook_url: String,
    pub rate_limit_per_second: u32,
    pub responder_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responder: Option<Responder>,
    pub events_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reply: Option<serde_json::Value>,
    /// Messages marked read with the typing indicator before the bot is asked.
    pub typing_indicator: bool,
    /// Unix seconds, as everywhere in this API.
    pub created_at: i64,
    pub updated_at: i64,
    /// Unix seconds of a recent webhook (kept every few minutes, so up to that old).
    pub last_webhook_at: Option<i64>,
    /// Unix seconds of the last template sync; only on the single-connection read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_template_sync_at: Option<i64>,
}

impl ConnectionView {
    pub fn of(connection: &Connection, base_url: &str) -> Self {
        let responder = connection
            .responder
            .clone()
            .filter(|r| *r != Responder::None);
        Self {
            bot_id: connection.bot_id.clone(),
            business_account_id: connection.business_account_id.clone(),
            phone_number_id: connection.phone_number_id.clone(),
            display_phone_number: connection.display_phone_number.clone(),
            verified_name: connection.verified_name.clone(),
            webhook_url: webhook_url(base_url, &connection.bot_id),
            rate_limit_per_second: connection
                .rate_limit_per_second
                .unwrap_or(DEFAULT_RATE_LIMIT_PER_SECOND),
            responder_kind: responder.as_ref().map_or("none", Responder::kind),
            responder,
            events_url: connection.events_url.clone(),
            fallback_reply: connection.fallback_reply.clone(),
            typing_indicator: connection.typing_indicator.unwrap_or(true),
            created_at: connection.created_at,
            updated_at: connection.updated_at,
            last_webhook_at: connection.last_webhook_at,
            last_template_sync_at: None,
        }
    }
}

/// `GET /api/whatsapp/connections`: one page, in bot id order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPage {
    pub connections: Vec<ConnectionView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `DELETE /api/whatsapp/connections/{botId}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub bot_id: String,
    pub deleted: bool,
    pub api_keys_revoked: usize,
}

/// The URL to paste into Meta's webhook settings.
pub fn webhook_url(base_url: &str, bot_id: &str) -> String {
    format!(
        "{}/webhook/whatsapp/{bot_id}",
        base_url.trim_end_matches('/')
    )
}
