use serde::{Deserialize, Serialize};

use super::Responder;

/// A business's WhatsApp number wired to one Intaj bot. Secrets live in the secret store, not here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub bot_id: String,
    pub business_account_id: String,
    pub phone_number_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last change through the connections API; `created_at` until then.
    pub updated_at: i64,
    /// As Meta showed the number when the credentials were checked.
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    /// Requests per second for the bot's API keys; `None` is the product default (SPEC §4).
    pub rate_limit_per_second: Option<u32>,
    /// How the bot answers (the responder issue gives it behaviour).
    pub responder: Option<Responder>,
    /// Where the bot's status changes are pushed.
    pub events_url: Option<String>,
    /// Sent to the customer when the bot could not answer a message after every retry (a
    /// `/send` body without `to`).
    pub fallback_reply: Option<serde_json::Value>,
    /// Whether the responder marks a message read and shows the typing indicator before asking
    /// the bot's backend; `None` is on.
    pub typing_indicator: Option<bool>,
    /// Unix seconds of a recent webhook for the bot, kept by the webhook function at most every
    /// few minutes (so it trails the real last one by up to that much).
    pub last_webhook_at: Option<i64>,
}
