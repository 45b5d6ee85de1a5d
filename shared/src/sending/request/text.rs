//! `text`: a string, or `{"body", "previewUrl"?}`; at most 4,096 characters.

use serde::Deserialize;
use serde_json::Value;

use crate::whatsapp::outbound::{MessageContent, Text};

use super::{ValidationError, max_len, shaped};

/// WhatsApp's documented limit, in characters.
const MAX_TEXT: usize = 4096;

/// The message, from the request's `content`.
pub(super) fn content(content: Value) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
    #[serde(expecting = "an object")]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct TextContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default, alias = "preview_url")]
        preview_url: Option<bool>,
    }

    let TextContent { body, preview_url } = match content {
        Value::String(body) => TextContent {
            body: Some(body),
            preview_url: None,
        },
        other => shaped(
            other,
            "content for type text",
            r#""Hello" or {"body": "Hello", "previewUrl": true}"#,
        )?,
    };
    let body = body.unwrap_or_default();
    if body.trim().is_empty() {
        return Err(ValidationError::new(
            "empty_text",
            "content is empty: a text message needs 1 to 4096 characters",
        ));
    }
    max_len("the text", &body, MAX_TEXT, "text_too_long")?;
    Ok(MessageContent::Text {
        text: Text { body, preview_url },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;

    #[test]
    fn text() {
        let mut reply = envelope("text", json!({"body": "Yes"}));
        reply["context"] = json!({"message_id": "wamid.HBgL"});
        reply["biz_opaque_callback_data"] = json!("order-42");
        assert_sends(vec![
            (
                json!({"to": "+1 (555) 123-4567", "type": "text", "content": "Hello from Intaj!"}),
                envelope("text", json!({"body": "Hello from Intaj!"})),
            ),
            (
                json!({"to": "15551234567", "type": "text",
                       "content": {"body": "see https://intaj.example", "previewUrl": true}}),
                envelope(
                    "text",
                    json!({"body": "see https://intaj.example", "preview_url": true}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "text",
                       "content": {"body": "hi", "preview_url": false}}),
                envelope("text", json!({"body": "hi", "preview_url": false})),
            ),
            (
                json!({"to": 15551234567_u64, "type": "text", "content": "Yes",
                       "replyTo": "wamid.HBgL", "bizOpaqueCallbackData": "order-42"}),
                reply.clone(),
            ),
            (
                json!({"to": "0015551234567", "type": "text", "content": "Yes",
                       "reply_to": "wamid.HBgL", "biz_opaque_callback_data": "order-42"}),
                reply,
            ),
            (
                json!({"to": "15551234567", "type": "text", "content": chars(4096)}),
                envelope("text", json!({"body": chars(4096)})),
            ),
            (
                json!({"to": "15551234567", "type": "text", "content": "hi",
                       "replyTo": " ", "bizOpaqueCallbackData": ""}),
                envelope("text", json!({"body": "hi"})),
            ),
            (
                json!({"to": "US.13491208655302741918", "type": "text", "content": "hi"}),
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "recipient": "US.13491208655302741918",
                    "type": "text",
                    "text": {"body": "hi"},
                }),
            ),
        ]);
    }

    #[test]
    fn text_rules() {
        assert_refused(vec![
            (
                "empty_text",
                json!({"to": "15551234567", "type": "text", "content": ""}),
            ),
            (
                "empty_text",
                json!({"to": "15551234567", "type": "text", "content": " \n "}),
            ),
            (
                "empty_text",
                json!({"to": "15551234567", "type": "text", "content": {"body": ""}}),
            ),
            (
                "empty_text",
                json!({"to": "15551234567", "type": "text", "content": {"previewUrl": true}}),
            ),
            (
                "text_too_long",
                json!({"to": "15551234567", "type": "text", "content": chars(4097)}),
            ),
            (
                "text_too_long",
                json!({"to": "15551234567", "type": "text", "content": "é".repeat(4097)}),
            ),
            (
                "invalid_content",
                json!({"to": "15551234567", "type": "text", "content": 42}),
            ),
            (
                "invalid_content",
                json!({"to": "15551234567", "type": "text", "content": {"text": "hi"}}),
            ),
            (
                "invalid_content",
                json!({"to": "15551234567", "type": "text",
                                       "content": {"body": "hi", "previewUrl": "yes"}}),
            ),
        ]);
    }
}
