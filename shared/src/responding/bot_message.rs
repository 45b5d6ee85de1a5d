//! What a bot backend receives for one customer message: Meta's message reduced to what a bot
//! needs, the same for every kind of message.

use serde::Serialize;
use serde_json::Value;

use crate::domain::{InboundMessage, inbound_media_id};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotMessage {
    pub message_id: String,
    pub bot_id: String,
    pub customer: BotCustomer,
    /// Unix seconds, from Meta.
    pub timestamp: i64,
    /// Meta's `type`: `text`, `image`, `interactive`, `button`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Meta's object for the type, as sent (`{"body":"hi"}` for text, the media id and type
    /// for an image, the chosen reply for interactive, …).
    pub content: Value,
    /// What a rule matches: the text, a button's payload, an interactive reply's id.
    pub text: Option<String>,
    /// The message this one replies to (Meta's `context.id`).
    pub reply_to: Option<String>,
    /// When the customer's 24-hour window closes (unix seconds), free-form replies allowed until.
    pub window_expires_at: Option<i64>,
    /// For an image, audio, video, document or sticker: where the bot gets the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<BotMedia>,
}

/// A customer's file, fetched when the bot asks for it (`GET` of `path` with the bot's API key
/// copies it from Meta once and answers a short-lived URL): a forward never waits for a copy
/// the bot may not need, and Meta keeps the id for 7 days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotMedia {
    pub media_id: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    /// `/api/whatsapp/media/{mediaId}`, under the deployment's API URL.
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotCustomer {
    pub wa_id: Option<String>,
    pub bsuid: Option<String>,
    pub profile_name: Option<String>,
}

impl BotMessage {
    pub fn from_inbound(
        bot_id: &str,
        message: &InboundMessage,
        window_expires_at: Option<i64>,
    ) -> Self {
        let raw: Value = serde_json::from_str(&message.content)
            .unwrap_or_else(|_| readable_fields(&message.content));
        let content = raw.get(&message.kind).cloned().unwrap_or(Value::Null);
        let text = |name: &str| content[name].as_str().map(str::to_owned);
        let media = inbound_media_id(&message.kind, &message.content).map(|media_id| BotMedia {
            path: format!("/api/whatsapp/media/{media_id}"),
            media_id,
            mime_type: text("mime_type"),
            sha256: text("sha256"),
        });
        Self {
            message_id: message.message_id.clone(),
            bot_id: bot_id.to_owned(),
            customer: BotCustomer {
                wa_id: message.customer.wa_id.clone(),
                bsuid: message.customer.bsuid.clone(),
                profile_name: message.profile_name.clone(),
            },
            timestamp: message.timestamp,
            text: match_text(&message.kind, &content),
            reply_to: raw["context"]["id"].as_str().map(str::to_owned),
            kind: message.kind.clone(),
            content,
            window_expires_at,
            media,
        }
    }
}

/// The text of a text message, a quick-reply button's payload, an interactive reply's id.
fn match_text(kind: &str, content: &Value) -> Option<String> {
    let text = match kind {
        "text" => &content["body"],
        "button" => content
            .get("payload")
            .filter(|p| p.is_string())
            .unwrap_or(&content["text"]),
        "interactive" => content
            .get("button_reply")
            .or_else(|| content.get("list_reply"))
            .map_or(&Value::Null, |reply| &reply["id"]),
        _ => &Value::Null,
    };
    text.as_str().map(str::to_owned)
}

/// A stored message whose whole does not parse as a value (a number beyond `f64`, say, in a
/// field nobody reads): each top-level field that does, so the bot still gets its text.
fn readable_fields(content: &str) -> Value {
    type Fields<'a> = std::collections::BTreeMap<String, &'a serde_json::value::RawValue>;
    let Ok(fields) = serde_json::from_str::<Fields>(content) else {
        return Value::Null;
    };
    fields
        .into_iter()
        .filter_map(|(name, raw)| Some((name, serde_json::from_str(raw.get()).ok()?)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::CustomerIds;

    fn inbound(kind: &str, content: Value) -> InboundMessage {
        InboundMessage {
            message_id: "wamid.IN".into(),
            customer: CustomerIds::new(Some("15551234567"), Some("US.123")),
            phone_number_id: "100000000000001".into(),
            kind: kind.into(),
            timestamp: 1_760_000_000,
            profile_name: Some("Sam".into()),
            content: content.to_string(),
        }
    }

    #[test]
    fn a_text_message_reads_with_its_reply_context() {
        let message = BotMessage::from_inbound(
            "demo",
            &inbound(
                "text",
                json!({"from": "15551234567", "id": "wamid.IN", "type": "text",
                       "text": {"body": "hi"}, "context": {"id": "wamid.EARLIER"}}),
            ),
            Some(1_760_086_400),
        );
        assert_eq!(message.text.as_deref(), Some("hi"));
        assert_eq!(message.reply_to.as_deref(), Some("wamid.EARLIER"));
        assert_eq!(message.content, json!({"body": "hi"}));
        let shown = serde_json::to_value(&message).unwrap();
        assert_eq!(shown["customer"]["profileName"], "Sam");
        assert_eq!(shown["type"], "text");
        assert_eq!(shown["windowExpiresAt"], 1_760_086_400);
    }

    #[test]
    fn a_field_no_value_can_hold_does_not_hide_the_text() {
        let mut message = inbound("text", json!({}));
        message.content = r#"{"from":"15551234567","id":"wamid.IN","type":"text",
            "text":{"body":"hi"},"x":1e400}"#
            .into();
        let shown = BotMessage::from_inbound("demo", &message, None);
        assert_eq!(shown.text.as_deref(), Some("hi"));
    }

    #[test]
    fn a_customers_photo_says_where_the_bot_gets_the_file() {
        let message = BotMessage::from_inbound(
            "demo",
            &inbound(
                "image",
                json!({"from": "15551234567", "id": "wamid.IN", "type": "image",
                       "image": {"id": "1234567890", "mime_type": "image/jpeg",
                                 "sha256": "abc123", "caption": "my receipt"}}),
            ),
            None,
        );
        let shown = serde_json::to_value(&message).unwrap();
        assert_eq!(
            shown["media"],
            json!({"mediaId": "1234567890", "mimeType": "image/jpeg", "sha256": "abc123",
                   "path": "/api/whatsapp/media/1234567890"})
        );
        let text = BotMessage::from_inbound(
            "demo",
            &inbound("text", json!({"type": "text", "text": {"body": "hi"}})),
            None,
        );
        assert!(serde_json::to_value(&text).unwrap().get("media").is_none());
    }

    #[test]
    fn buttons_and_interactive_replies_match_by_payload_and_id() {
        let button = inbound(
            "button",
            json!({"button": {"payload": "YES_PAYLOAD", "text": "Yes"}}),
        );
        assert_eq!(
            BotMessage::from_inbound("b", &button, None).text.as_deref(),
            Some("YES_PAYLOAD")
        );
        let reply = inbound(
            "interactive",
            json!({"interactive": {"type": "list_reply", "list_reply": {"id": "opt-2", "title": "Two"}}}),
        );
        assert_eq!(
            BotMessage::from_inbound("b", &reply, None).text.as_deref(),
            Some("opt-2")
        );
        let image = inbound(
            "image",
            json!({"image": {"id": "media-1", "mime_type": "image/jpeg"}}),
        );
        let image = BotMessage::from_inbound("b", &image, None);
        assert_eq!(
            (image.text, image.content["id"].as_str()),
            (None, Some("media-1"))
        );
    }
}
