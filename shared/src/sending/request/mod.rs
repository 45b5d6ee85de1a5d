//! The body of `POST /api/whatsapp/send`, and its validation against WhatsApp's documented limits
//! so a message Meta would refuse is refused here first, with a code naming the rule broken.
//!
//! The body is `{"to", "type", "content"?, "template"?, "replyTo"?, "bizOpaqueCallbackData"?}`;
//! `content` depends on `type`:
//!
//! | `type` | `content` |
//! |---|---|
//! | `text` | `"Hello"` or `{"body": "Hello", "previewUrl": true}` |
//! | `image`, `video`, `document` | `{"url" \| "id", "caption"?}`; `document` also takes `"filename"` |
//! | `audio`, `sticker` | `{"url" \| "id"}` |
//! | `location` | `{"latitude", "longitude", "name"?, "address"?}` |
//! | `contacts` | `[{"name": {"formattedName", …}, "phones"?: [{"phone", "type"?, "waId"?}], "emails"?, "urls"?, "addresses"?, "org"?, "birthday"?}]` (Meta's contact shape, camelCase or snake_case) |
//! | `reaction` | `{"messageId", "emoji"}` |
//! | `interactive` | see below |
//! | `template` | none: `"template": {"name", "language": "en" \| {"code": "en"}, "components"?: [Meta's components verbatim]}` (also accepted under `content`) |
//!
//! `interactive` content follows Meta's object with the nesting flattened:
//!
//! ```json
//! {"type": "button", "body": "Pick one", "header"?: …, "footer"?: "…",
//!  "buttons": [{"id": "yes", "title": "Yes"}]}
//! {"type": "list", "body": "…", "header"?: "…", "footer"?: "…", "button": "Choose",
//!  "sections": [{"title"?: "…", "rows": [{"id": "…", "title": "…", "description"?: "…"}]}]}
//! {"type": "cta_url", "body": "…", "header"?: …, "footer"?: "…",
//!  "displayText": "See dates", "url": "https://…"}
//! ```
//!
//! A `header` is a string (a text header) or `{"type": "text", "text"}` or
//! `{"type": "image" | "video" | "document", "url" | "id"}`; a list takes only a text header.
//!
//! Empty or blank optional strings (a `""` caption, footer, …) count as absent.

mod contacts;
mod interactive;
mod location;
mod media;
mod reaction;
mod template;
#[cfg(test)]
mod test_support;
mod text;

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ApiError;
use crate::whatsapp::outbound::OutboundMessage;
use crate::whatsapp::phone::Recipient;

/// The message types the route sends, with Meta's names.
pub const SUPPORTED_TYPES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
    "template",
];

const MAX_CALLBACK_DATA: usize = 512;
/// Longer URLs are refused by many HTTP stacks; a callback URL has no reason to be longer.
const MAX_URL_LEN: usize = 2048;

/// The API body of `POST /api/whatsapp/send`, as the caller sent it. See the module docs for the
/// shapes; nothing is checked until [`SendRequest::validate`]. Serialised as the API reads it
/// (the Rust SDK sends it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a JSON object")]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// A phone number in any common notation, or a BSUID. A JSON number is accepted too.
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub to: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Read according to `type` by [`SendRequest::validate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// The id of the message this one replies to.
    #[serde(default, alias = "reply_to", skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(
        default,
        alias = "biz_opaque_callback_data",
        skip_serializing_if = "Option::is_none"
    )]
    pub biz_opaque_callback_data: Option<String>,
    /// Where this message's status changes are posted, besides the connection's `eventsUrl`.
    #[serde(
        default,
        alias = "status_callback_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_callback_url: Option<String>,
}

/// A rule of WhatsApp's that the request breaks. `code` is stable and names the rule;
/// `message` says what the limit is and what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.code, error.message)
    }
}

/// A request that passed every check: the message to send to Meta.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSend {
    pub outbound: OutboundMessage,
    pub status_callback_url: Option<String>,
}

impl ValidatedSend {
    pub fn recipient(&self) -> &Recipient {
        &self.outbound.recipient
    }

    /// Meta's message `type`.
    pub fn kind(&self) -> &'static str {
        self.outbound.kind()
    }

    /// Templates may be sent outside the customer service window; nothing else may.
    pub fn is_template(&self) -> bool {
        self.outbound.template_ref().is_some()
    }

    pub fn into_outbound(self) -> OutboundMessage {
        self.outbound
    }
}

impl SendRequest {
    /// A text message to `to`.
    pub fn text(to: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            to: Some(to.into()),
            kind: Some("text".to_owned()),
            content: Some(Value::String(body.into())),
            ..Self::default()
        }
    }

    /// A template message to `to`: `template` is `{"name","language","components"?}`.
    pub fn template(to: impl Into<String>, template: Value) -> Self {
        Self {
            to: Some(to.into()),
            kind: Some("template".to_owned()),
            template: Some(template),
            ..Self::default()
        }
    }

    /// Checks the request against WhatsApp's rules and builds the message; the first rule
    /// broken is reported.
    pub fn validate(self) -> Result<ValidatedSend, ValidationError> {
        let recipient = recipient(self.to.as_deref())?;
        let kind = self.kind.as_deref().map(str::trim).unwrap_or_default();
        let content = match kind {
            "" => {
                return Err(ValidationError::new(
                    "missing_type",
                    format!("type is required: one of {}", SUPPORTED_TYPES.join(", ")),
                ));
            }
            "text" => text::content(required_content(kind, self.content)?)?,
            "image" | "video" | "audio" | "document" | "sticker" => {
                media::content(kind, required_content(kind, self.content)?)?
            }
            "location" => location::content(required_content(kind, self.content)?)?,
            "contacts" => contacts::content(required_content(kind, self.content)?)?,
            "interactive" => interactive::content(required_content(kind, self.content)?)?,
            "reaction" => reaction::content(required_content(kind, self.content)?)?,
            "template" => template::content(self.template.or(self.content))?,
            other => {
                return Err(ValidationError::new(
                    "unsupported_type",
                    format!(
                        "type {other:?} is not supported: use one of {}",
                        SUPPORTED_TYPES.join(", ")
                    ),
                ));
            }
        };

        let reply_to = present(self.reply_to);
        if let Some(id) = &reply_to
            && id.chars().any(char::is_whitespace)
        {
            return Err(ValidationError::new(
                "invalid_reply_to",
                format!("replyTo must be the id of a WhatsApp message (wamid…), got {id:?}"),
            ));
        }
        let callback = present(self.biz_opaque_callback_data);
        if let Some(data) = &callback {
            max_len(
                "bizOpaqueCallbackData",
                data,
                MAX_CALLBACK_DATA,
                "callback_data_too_long",
            )?;
        }
        let status_callback_url = present(self.status_callback_url);
        if let Some(url) = &status_callback_url
            && (!is_http_url(url) || url.len() > MAX_URL_LEN)
        {
            return Err(ValidationError::new(
                "invalid_status_callback_url",
                format!(
                    "statusCallbackUrl must be an http(s) URL of at most {MAX_URL_LEN} characters, where this message's status changes are posted"
                ),
            ));
        }

        Ok(ValidatedSend {
            outbound: OutboundMessage {
                recipient,
                content,
                reply_to,
                biz_opaque_callback_data: callback,
            },
            status_callback_url,
        })
    }
}

fn recipient(to: Option<&str>) -> Result<Recipient, ValidationError> {
    let to = to.ok_or_else(|| {
        ValidationError::new(
            "invalid_phone_number",
            "to is required: the customer's number with its country code, like +1 555 123 4567",
        )
    })?;
    Recipient::parse(to).map_err(|e| ValidationError::new("invalid_phone_number", e.to_string()))
}

fn required_content(kind: &str, content: Option<Value>) -> Result<Value, ValidationError> {
    content.ok_or_else(|| {
        ValidationError::new(
            "missing_content",
            format!("content is required for type {kind}"),
        )
    })
}

/// Reads `content` as `T`, explaining the expected `shape` when it does not fit. Only contacts
/// are a JSON array; serde would also read a struct from one, by position, which no caller means.
fn shaped<T: DeserializeOwned>(
    content: Value,
    what: &str,
    shape: &str,
) -> Result<T, ValidationError> {
    let misfit = |detail: String| {
        ValidationError::new(
            "invalid_content",
            format!("{what} must look like {shape}: {detail}"),
        )
    };
    if content.is_array() != shape.starts_with('[') {
        let got = match content {
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        };
        return Err(misfit(format!("got {got}")));
    }
    serde_json::from_value(content).map_err(|e| misfit(e.to_string()))
}

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !url.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Blank optional strings mean "not given".
fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn max_len(
    field: &str,
    value: &str,
    max: usize,
    code: &'static str,
) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::new(
            code,
            format!("{field} is {len} characters long; WhatsApp allows at most {max}"),
        ));
    }
    Ok(())
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(expecting = "a string or a number")]
    #[serde(untagged)]
    enum StringOrNumber {
        String(String),
        Number(u64),
    }
    Ok(
        Option::<StringOrNumber>::deserialize(deserializer)?.map(|v| match v {
            StringOrNumber::String(s) => s,
            StringOrNumber::Number(n) => n.to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::test_support::*;
    use super::*;

    #[test]
    fn validated_send_answers_what_the_route_asks() {
        let sent = send(json!({"to": "+1 555 123 4567", "type": "template", "template": {
            "name": "order_update", "language": "en_US", "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "x"}]},
                {"type": "BODY", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            ]}}))
        .unwrap();
        assert_eq!(
            sent.recipient(),
            &Recipient::Phone("15551234567".to_owned())
        );
        assert_eq!(sent.kind(), "template");
        assert!(sent.is_template());
        let template = sent.outbound.template_ref().unwrap();
        assert_eq!(
            (template.name.as_str(), template.language.code.as_str()),
            ("order_update", "en_US")
        );
        assert_eq!(template.components.len(), 2);

        let text = send(json!({"to": "15551234567", "type": "text", "content": "hi"})).unwrap();
        assert_eq!(text.kind(), "text");
        assert!(!text.is_template());
        assert_eq!(text.outbound.template_ref(), None);
        assert_eq!(text.into_outbound().kind(), "text");
    }

    #[test]
    fn envelope_rules() {
        assert_refused(vec![
            (
                "invalid_phone_number",
                json!({"type": "text", "content": "hi"}),
            ),
            (
                "invalid_phone_number",
                json!({"to": null, "type": "text", "content": "hi"}),
            ),
            (
                "invalid_phone_number",
                json!({"to": "", "type": "text", "content": "hi"}),
            ),
            (
                "invalid_phone_number",
                json!({"to": "call me", "type": "text", "content": "hi"}),
            ),
            (
                "invalid_phone_number",
                json!({"to": "050 123 4567", "type": "text", "content": "hi"}),
            ),
            (
                "invalid_phone_number",
                json!({"to": "12345", "type": "text", "content": "hi"}),
            ),
            (
                "missing_type",
                json!({"to": "15551234567", "content": "hi"}),
            ),
            (
                "missing_type",
                json!({"to": "15551234567", "type": " ", "content": "hi"}),
            ),
            (
                "unsupported_type",
                json!({"to": "15551234567", "type": "fax", "content": "hi"}),
            ),
            (
                "unsupported_type",
                json!({"to": "15551234567", "type": "contact", "content": []}),
            ),
            (
                "unsupported_type",
                json!({"to": "15551234567", "type": "TEXT", "content": "hi"}),
            ),
            (
                "invalid_reply_to",
                json!({"to": "15551234567", "type": "text", "content": "hi",
                                        "replyTo": "not an id"}),
            ),
            (
                "callback_data_too_long",
                json!({"to": "15551234567", "type": "text", "content": "hi",
                                              "bizOpaqueCallbackData": chars(513)}),
            ),
        ]);
        for kind in SUPPORTED_TYPES.iter().filter(|k| **k != "template") {
            assert_refused(vec![(
                "missing_content",
                json!({"to": "15551234567", "type": kind}),
            )]);
        }
    }

    #[test]
    fn messages_say_the_limit_and_what_was_given() {
        let error =
            send(json!({"to": "15551234567", "type": "text", "content": chars(5000)})).unwrap_err();
        assert_eq!(
            error.message,
            "the text is 5000 characters long; WhatsApp allows at most 4096"
        );
        let content =
            json!({"type": "button", "body": "Pick", "buttons": [{"id": "a", "title": chars(23)}]});
        let error = send(json!({"to": "15551234567", "type": "interactive", "content": content}))
            .unwrap_err();
        assert_eq!(
            error.message,
            "content.buttons[0].title is 23 characters long; WhatsApp allows at most 20"
        );
        let error = send(json!({"to": "abc", "type": "text", "content": "hi"})).unwrap_err();
        assert!(error.message.contains("country code"), "{}", error.message);
        let error = send(json!({"to": "15551234567", "type": "fax"})).unwrap_err();
        assert!(error.message.contains("text, image"), "{}", error.message);
    }

    #[test]
    fn becomes_a_422_with_the_rule_as_code() {
        let api: ApiError = ValidationError::new("text_too_long", "too long").into();
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.code, "text_too_long");
        assert_eq!(api.message, "too long");
    }
}
