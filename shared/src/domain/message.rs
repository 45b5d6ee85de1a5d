use serde::{Deserialize, Serialize};

use super::{CustomerIds, MessageStatus, StatusEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A customer's message as received, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    pub message_id: String,
    pub customer: CustomerIds,
    /// The business number it was sent to.
    pub phone_number_id: String,
    /// Meta's `type`, or `unsupported` for a type this code does not know.
    pub kind: String,
    /// Unix seconds, from Meta.
    pub timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// The message object exactly as Meta sent it (JSON text), so no field is ever lost.
    pub content: String,
}

/// A message the send route handed to Meta, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundRecord {
    /// Meta's `wamid…` from the send answer.
    pub message_id: String,
    /// The recipient.
    pub customer: CustomerIds,
    /// The business number it was sent from.
    pub phone_number_id: String,
    /// The message `type` sent (`text`, `template`, …).
    pub kind: String,
    /// Unix seconds at which Meta accepted it.
    pub created_at: i64,
    /// The message object sent to Meta (JSON text).
    pub content: String,
    /// Where this message's status changes are posted, besides the connection's `eventsUrl`.
    pub status_callback_url: Option<String>,
}

/// A message and its whole status history, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub message_id: String,
    /// `None` when only statuses are known (a message sent from elsewhere).
    pub direction: Option<Direction>,
    pub customer: CustomerIds,
    pub kind: Option<String>,
    /// The furthest status reached: `accepted` for an outbound message until a status webhook
    /// raises it.
    pub status: Option<MessageStatus>,
    /// The status webhooks received, oldest first. `accepted` is never among them: it is the
    /// initial current status of an outbound message, not an event from Meta.
    pub statuses: Vec<StatusEvent>,
    pub created_at: Option<i64>,
    pub content: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawEventKind {
    /// A change for a phone number that no connection with this app secret owns.
    Unrouted,
    /// A top-level `errors` array Meta sent in a change.
    WebhookError,
    /// A `message_template_status_update` change (also applied to the stored template).
    TemplateStatusUpdate,
    /// A `message_template_quality_update` change.
    TemplateQualityUpdate,
    /// A `template_category_update` change, impending or done.
    TemplateCategoryUpdate,
    /// A `message_template_components_update` change.
    TemplateComponentsUpdate,
    /// A part of a change that could not be read (e.g. a message without an id).
    Unreadable,
}

impl RawEventKind {
    pub const ALL: [Self; 7] = [
        Self::Unrouted,
        Self::WebhookError,
        Self::TemplateStatusUpdate,
        Self::TemplateQualityUpdate,
        Self::TemplateCategoryUpdate,
        Self::TemplateComponentsUpdate,
        Self::Unreadable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unrouted => "unrouted",
            Self::WebhookError => "webhook_error",
            Self::TemplateStatusUpdate => "template_status_update",
            Self::TemplateQualityUpdate => "template_quality_update",
            Self::TemplateCategoryUpdate => "template_category_update",
            Self::TemplateComponentsUpdate => "template_components_update",
            Self::Unreadable => "unreadable",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// Webhook content kept verbatim because no richer record fits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEvent {
    pub kind: RawEventKind,
    /// Content hash: the same content delivered twice is kept once.
    pub key: String,
    pub phone_number_id: Option<String>,
    /// Unix seconds at receipt.
    pub received_at: i64,
    pub body: String,
}

/// The message kinds whose content carries a media object (`{"<kind>":{"id",…}}`).
pub const MEDIA_KINDS: &[&str] = &["image", "audio", "video", "document", "sticker"];

/// The media id of an inbound message (`image.id`, `audio.id`, …), read from Meta's raw JSON.
pub fn inbound_media_id(kind: &str, content: &str) -> Option<String> {
    if !MEDIA_KINDS.contains(&kind) {
        return None;
    }
    #[derive(Deserialize)]
    struct Media {
        id: String,
    }
    let message: serde_json::Map<String, serde_json::Value> = serde_json::from_str(content).ok()?;
    let media: Media = serde_json::from_value(message.get(kind)?.clone()).ok()?;
    Some(media.id).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod media_tests {
    use super::inbound_media_id;

    #[test]
    fn media_ids_are_read_from_the_kinds_object() {
        let image =
            r#"{"id":"wamid.1","type":"image","image":{"id":"1234","mime_type":"image/jpeg"}}"#;
        assert_eq!(inbound_media_id("image", image).as_deref(), Some("1234"));
        assert_eq!(inbound_media_id("text", image), None);
        assert_eq!(inbound_media_id("audio", image), None);
        assert_eq!(inbound_media_id("image", "not json"), None);
    }
}
