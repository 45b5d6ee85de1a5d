//! The API's answers (`docs/openapi.yaml`'s schemas). Each carries the rate limit its answer
//! reported, outside the API's fields.

use serde::Deserialize;
use serde_json::Value;

use crate::RateLimit;

/// `POST /api/whatsapp/send`: Meta accepted the message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub message_id: String,
    /// `accepted`.
    pub status: String,
    /// The recipient as sent: E.164 digits without `+`, or the BSUID.
    pub to: String,
    #[serde(skip)]
    pub rate_limit: RateLimit,
    /// The first answer to the same idempotency key, replayed: nothing was sent again.
    #[serde(skip)]
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub message_id: String,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `received`, or the furthest an outbound message reached.
    pub status: Option<String>,
    pub statuses: Vec<MessageStatus>,
    pub created_at: Option<i64>,
    #[serde(skip)]
    pub rate_limit: RateLimit,
}

/// A customer's media file kept by the stack; `url` reads it without credentials until
/// `expires_at` (unix seconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub media_id: String,
    pub mime_type: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    pub url: String,
    pub expires_at: i64,
    #[serde(skip)]
    pub rate_limit: RateLimit,
}

/// Where to `PUT` a file (with exactly `headers`) before `expires_at`, then
/// [`WhatsApp::send_uploaded_media`](crate::WhatsApp::send_uploaded_media).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaUpload {
    pub upload_id: String,
    pub url: String,
    pub method: String,
    pub headers: std::collections::HashMap<String, String>,
    pub expires_at: i64,
    #[serde(skip)]
    pub rate_limit: RateLimit,
}

/// WhatsApp has the file: send `media_id` as `{"id"}` in a message of type `kind`, until
/// `expires_at` (unix seconds; WhatsApp keeps uploads 30 days).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaSent {
    pub media_id: String,
    /// The file's real type, read from its first bytes.
    pub mime_type: String,
    /// `image`, `audio`, `video`, `document` or `sticker`.
    pub kind: String,
    pub size: u64,
    pub expires_at: i64,
    #[serde(skip)]
    pub rate_limit: RateLimit,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageStatus {
    pub status: String,
    pub timestamp: i64,
    /// Meta's `errors`, for `failed`.
    pub errors: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub phone: String,
    pub window_open: bool,
    pub window_expires_at: Option<i64>,
    pub last_inbound_at: Option<i64>,
    pub responder_paused: bool,
    pub responder_paused_until: Option<i64>,
    #[serde(skip)]
    pub rate_limit: RateLimit,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub synced_at: i64,
    pub template_limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub sub_category: Option<String>,
    pub parameter_format: String,
    /// Meta's components, verbatim.
    pub components: Value,
    pub quality_score: Option<String>,
    pub rejected_reason: Option<String>,
    pub status_reason: Option<String>,
    /// What a send must fill in.
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplatePage {
    pub templates: Vec<Template>,
    pub synced_at: Option<i64>,
    pub template_limit: Option<u64>,
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/whatsapp/templates`; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateQuery {
    pub status: Option<String>,
    /// A substring of the name.
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    /// Per page, 1–1000 (default 100).
    pub limit: Option<u32>,
}

/// `201` of a new connection: the only answer that shows its secrets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCreated {
    pub bot_id: String,
    pub webhook_url: String,
    pub verify_token: String,
    pub api_key: String,
    pub responder_secret: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub bot_id: String,
    pub business_account_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    pub webhook_url: String,
    pub rate_limit_per_second: u32,
    /// `none`, `forward` or `rules`.
    pub responder_kind: String,
    pub responder: Option<Value>,
    pub events_url: Option<String>,
    pub fallback_reply: Option<Value>,
    pub typing_indicator: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_webhook_at: Option<i64>,
    pub last_template_sync_at: Option<i64>,
    /// Only when the update asked `rotateApiKey`.
    pub api_key: Option<String>,
    /// Only when the update asked `rotateResponderSecret`.
    pub responder_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPage {
    pub connections: Vec<Connection>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub bot_id: String,
    pub deleted: bool,
    pub api_keys_revoked: u64,
}
