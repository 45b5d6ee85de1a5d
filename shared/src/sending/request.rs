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

use std::collections::HashSet;

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ApiError;
use crate::whatsapp::outbound::{
    BodyText, ButtonAction, CaptionedMedia, Contact, CtaUrlAction, DocumentMedia, Header,
    Interactive, ListAction, ListRow, ListSection, Location, Media, MediaSource, MessageContent,
    OutboundMessage, Reaction, ReplyButton, Template, TemplateComponent, TemplateLanguage, Text,
    TextHeader,
};
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

// WhatsApp's documented limits, in characters.
const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
const MAX_INTERACTIVE_BODY: usize = 1024;
const MAX_HEADER_TEXT: usize = 60;
const MAX_FOOTER: usize = 60;
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_BUTTON_ID: usize = 256;
const MAX_LIST_BUTTON: usize = 20;
const MAX_LIST_SECTIONS: usize = 10;
const MAX_LIST_ROWS: usize = 10;
const MAX_SECTION_TITLE: usize = 24;
const MAX_ROW_TITLE: usize = 24;
const MAX_ROW_ID: usize = 200;
const MAX_ROW_DESCRIPTION: usize = 72;
const MAX_CTA_DISPLAY_TEXT: usize = 20;
const MAX_CONTACTS: usize = 257;
const MAX_TEMPLATE_NAME: usize = 512;
const MAX_CALLBACK_DATA: usize = 512;
/// Longer URLs are refused by many HTTP stacks; a callback URL has no reason to be longer.
const MAX_URL_LEN: usize = 2048;
/// The longest single emoji (a kiss with two skin tones) is 10 code points.
const MAX_EMOJI_CHARS: usize = 10;

/// The API body of `POST /api/whatsapp/send`, as the caller sent it. See the module docs for the
/// shapes; nothing is checked until [`SendRequest::validate`]. Serialised as the API reads it
/// (the Rust SDK sends it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
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
            "text" => text(required_content(kind, self.content)?)?,
            "image" | "video" | "audio" | "document" | "sticker" => {
                media(kind, required_content(kind, self.content)?)?
            }
            "location" => location(required_content(kind, self.content)?)?,
            "contacts" => contacts(required_content(kind, self.content)?)?,
            "interactive" => interactive(required_content(kind, self.content)?)?,
            "reaction" => reaction(required_content(kind, self.content)?)?,
            "template" => template(self.template.or(self.content))?,
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

fn text(content: Value) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaContent {
    #[serde(default, alias = "link")]
    url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    filename: Option<String>,
}

fn media(kind: &str, content: Value) -> Result<MessageContent, ValidationError> {
    let MediaContent {
        url,
        id,
        caption,
        filename,
    } = shaped(
        content,
        &format!("content for type {kind}"),
        r#"{"url": "https://…"} or {"id": "<media id>"}, with "caption" or "filename" where allowed"#,
    )?;
    let source = media_source("content", present(url), present(id))?;
    let caption = present(caption);
    let filename = present(filename);

    if let Some(caption) = &caption {
        if matches!(kind, "audio" | "sticker") {
            return Err(ValidationError::new(
                "caption_not_allowed",
                format!("WhatsApp shows no caption on {kind} messages: remove content.caption"),
            ));
        }
        max_len("content.caption", caption, MAX_CAPTION, "caption_too_long")?;
    }
    if filename.is_some() && kind != "document" {
        return Err(ValidationError::new(
            "filename_not_allowed",
            format!(
                "only documents have a file name, not {kind} messages: remove content.filename"
            ),
        ));
    }

    Ok(match kind {
        "image" => MessageContent::Image {
            image: CaptionedMedia { source, caption },
        },
        "video" => MessageContent::Video {
            video: CaptionedMedia { source, caption },
        },
        "document" => MessageContent::Document {
            document: DocumentMedia {
                source,
                caption,
                filename,
            },
        },
        "audio" => MessageContent::Audio {
            audio: Media { source },
        },
        _ => MessageContent::Sticker {
            sticker: Media { source },
        },
    })
}

/// Exactly one of a public http(s) URL Meta downloads, or the id of uploaded media.
fn media_source(
    field: &str,
    url: Option<String>,
    id: Option<String>,
) -> Result<MediaSource, ValidationError> {
    match (url, id) {
        (Some(_), Some(_)) => Err(ValidationError::new(
            "invalid_media",
            format!("{field} has both url and id: give exactly one"),
        )),
        (None, None) => Err(ValidationError::new(
            "invalid_media",
            format!("{field} needs a url (https://…) or the id of uploaded media"),
        )),
        (Some(url), None) if is_http_url(&url) => Ok(MediaSource::Link(url)),
        (Some(url), None) => Err(ValidationError::new(
            "invalid_media",
            format!("{field}.url must be a public http(s) URL, got {url:?}"),
        )),
        (None, Some(id)) if id.chars().any(char::is_whitespace) => Err(ValidationError::new(
            "invalid_media",
            format!("{field}.id must be the id Meta returned for uploaded media, got {id:?}"),
        )),
        (None, Some(id)) => Ok(MediaSource::Id(id)),
    }
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

fn location(content: Value) -> Result<MessageContent, ValidationError> {
    /// Meta's own examples quote coordinates, so a numeric string is read too.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Coordinate {
        Number(f64),
        Text(String),
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LocationContent {
        #[serde(default)]
        latitude: Option<Coordinate>,
        #[serde(default)]
        longitude: Option<Coordinate>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        address: Option<String>,
    }

    fn coordinate(
        field: &str,
        value: Option<Coordinate>,
        limit: f64,
    ) -> Result<f64, ValidationError> {
        let number = match value {
            Some(Coordinate::Number(n)) => Some(n),
            Some(Coordinate::Text(text)) => text.trim().parse::<f64>().ok(),
            None => {
                return Err(ValidationError::new(
                    "invalid_coordinates",
                    format!("content.{field} is required (decimal degrees)"),
                ));
            }
        };
        match number {
            Some(n) if n.is_finite() && (-limit..=limit).contains(&n) => Ok(n),
            _ => Err(ValidationError::new(
                "invalid_coordinates",
                format!("content.{field} must be a number of degrees from -{limit} to {limit}"),
            )),
        }
    }

    let LocationContent {
        latitude,
        longitude,
        name,
        address,
    } = shaped(
        content,
        "content for type location",
        r#"{"latitude": 25.2, "longitude": 55.27, "name"?: "…", "address"?: "…"}"#,
    )?;
    Ok(MessageContent::Location {
        location: Location {
            latitude: coordinate("latitude", latitude, 90.0)?,
            longitude: coordinate("longitude", longitude, 180.0)?,
            name: present(name),
            address: present(address),
        },
    })
}

fn contacts(content: Value) -> Result<MessageContent, ValidationError> {
    let contacts: Vec<Contact> = shaped(
        content,
        "content for type contacts",
        r#"[{"name": {"formattedName": "Ada Lovelace"}, "phones": [{"phone": "+1 555 123 4567"}]}]"#,
    )?;
    if contacts.is_empty() {
        return Err(ValidationError::new(
            "missing_content",
            "content has no contacts: send 1 to 257",
        ));
    }
    if contacts.len() > MAX_CONTACTS {
        return Err(ValidationError::new(
            "too_many_contacts",
            format!(
                "content has {} contacts; WhatsApp allows at most {MAX_CONTACTS}",
                contacts.len()
            ),
        ));
    }
    if let Some(at) = contacts
        .iter()
        .position(|c| c.name.formatted_name.trim().is_empty())
    {
        return Err(ValidationError::new(
            "missing_contact_name",
            format!("content[{at}].name.formattedName is required: the name shown on the card"),
        ));
    }
    Ok(MessageContent::Contacts { contacts })
}

fn reaction(content: Value) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct ReactionContent {
        #[serde(default, alias = "message_id")]
        message_id: Option<String>,
        #[serde(default)]
        emoji: Option<String>,
    }

    let ReactionContent { message_id, emoji } = shaped(
        content,
        "content for type reaction",
        r#"{"messageId": "wamid…", "emoji": "👍"}"#,
    )?;
    let message_id = present(message_id).ok_or_else(|| {
        ValidationError::new(
            "missing_message_id",
            "content.messageId is required: the id (wamid…) of the message to react to",
        )
    })?;
    let emoji = emoji.unwrap_or_default();
    if !is_single_emoji(&emoji) {
        return Err(ValidationError::new(
            "invalid_emoji",
            format!("content.emoji must be exactly one emoji, like \"👍\", got {emoji:?}"),
        ));
    }
    Ok(MessageContent::Reaction {
        reaction: Reaction { message_id, emoji },
    })
}

/// One emoji, possibly a sequence joined by ZWJ, with skin tones, a flag or a keycap.
fn is_single_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || chars.len() > MAX_EMOJI_CHARS {
        return false;
    }
    let is_modifier = |c: char| matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}');
    let is_regional = |c: char| matches!(c, '\u{1F1E6}'..='\u{1F1FF}');
    let mut bases = 0;
    let mut joined = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\u{200D}' || is_modifier(c) {
            // A joiner or modifier must follow something it applies to.
            if i == 0 || joined {
                return false;
            }
            joined = c == '\u{200D}';
            i += 1;
            continue;
        }
        if is_regional(c) {
            // A flag is a pair of regional indicators.
            if !chars.get(i + 1).copied().is_some_and(is_regional) {
                return false;
            }
            i += 1;
        } else if matches!(c, '0'..='9' | '#' | '*') {
            // A keycap: the character, an optional variation selector, then U+20E3.
            let rest = &chars[i + 1..];
            if !(rest.first() == Some(&'\u{20E3}') || rest.starts_with(&['\u{FE0F}', '\u{20E3}'])) {
                return false;
            }
        } else if !is_pictographic(c) {
            return false;
        }
        if !joined {
            bases += 1;
        }
        joined = false;
        i += 1;
    }
    bases == 1 && !joined
}

/// The blocks Unicode's emoji live in (Extended_Pictographic, approximately).
fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}'
        | '\u{25AA}'..='\u{25FE}' | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}'
        | '\u{2B05}'..='\u{2B55}' | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}')
}

/// `header`: a string is a text header.
#[derive(Deserialize)]
#[serde(untagged)]
enum HeaderInput {
    Text(String),
    Object(HeaderObject),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderObject {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, alias = "link")]
    url: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

fn header(input: Option<HeaderInput>) -> Result<Option<Header>, ValidationError> {
    let (kind, text, url, id) = match input {
        None => return Ok(None),
        Some(HeaderInput::Text(text)) => ("text".to_owned(), Some(text), None, None),
        Some(HeaderInput::Object(HeaderObject {
            kind,
            text,
            url,
            id,
        })) => (kind, text, url, id),
    };
    let (text, url, id) = (present(text), present(url), present(id));
    if kind == "text" {
        if url.is_some() || id.is_some() {
            return Err(ValidationError::new(
                "invalid_header",
                "a text header takes only \"text\", not url or id",
            ));
        }
        return match text {
            None => Ok(None),
            Some(text) => {
                max_len("content.header", &text, MAX_HEADER_TEXT, "header_too_long")?;
                Ok(Some(Header::Text { text }))
            }
        };
    }
    if text.is_some() {
        return Err(ValidationError::new(
            "invalid_header",
            format!("a {kind} header takes a url or id, not text"),
        ));
    }
    let media = || -> Result<Media, ValidationError> {
        Ok(Media {
            source: media_source("content.header", url, id)?,
        })
    };
    match kind.as_str() {
        "image" => Ok(Some(Header::Image { image: media()? })),
        "video" => Ok(Some(Header::Video { video: media()? })),
        "document" => Ok(Some(Header::Document { document: media()? })),
        other => Err(ValidationError::new(
            "invalid_header",
            format!("header type {other:?} is not one of text, image, video, document"),
        )),
    }
}

fn interactive(content: Value) -> Result<MessageContent, ValidationError> {
    let Value::Object(mut fields) = content else {
        return Err(ValidationError::new(
            "invalid_content",
            r#"content for type interactive must be an object with "type": "button", "list" or "cta_url""#,
        ));
    };
    // Taken out here so each shape below can refuse fields it does not know.
    let kind = fields.remove("type");
    let content = Value::Object(fields);
    let interactive = match kind.as_ref().and_then(Value::as_str) {
        // Meta's name is `button`; the contract says "buttons", so both are taken.
        Some("button" | "buttons") => buttons(content)?,
        Some("list") => list(content)?,
        Some("cta_url") => cta_url(content)?,
        other => {
            return Err(ValidationError::new(
                "unsupported_interactive_type",
                format!(
                    "content.type must be \"button\", \"list\" or \"cta_url\", got {}",
                    other.map_or_else(|| "nothing".to_owned(), |t| format!("{t:?}"))
                ),
            ));
        }
    };
    Ok(MessageContent::Interactive { interactive })
}

fn body_and_footer(
    body: Option<String>,
    footer: Option<String>,
) -> Result<(BodyText, Option<BodyText>), ValidationError> {
    let body = present(body).ok_or_else(|| {
        ValidationError::new(
            "missing_body",
            "content.body is required: the text of the message",
        )
    })?;
    max_len("content.body", &body, MAX_INTERACTIVE_BODY, "body_too_long")?;
    let footer = present(footer);
    if let Some(footer) = &footer {
        max_len("content.footer", footer, MAX_FOOTER, "footer_too_long")?;
    }
    Ok((BodyText::new(body), footer.map(BodyText::new)))
}

fn buttons(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ButtonContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default)]
        buttons: Vec<ButtonInput>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ButtonInput {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        title: Option<String>,
    }

    let content: ButtonContent = shaped(
        content,
        "content for interactive type button",
        r#"{"type": "button", "body": "…", "buttons": [{"id": "yes", "title": "Yes"}]}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = header(content.header)?;

    let count = content.buttons.len();
    if count == 0 {
        return Err(ValidationError::new(
            "missing_buttons",
            "content.buttons is empty: give 1 to 3 buttons",
        ));
    }
    if count > MAX_BUTTONS {
        return Err(ValidationError::new(
            "too_many_buttons",
            format!("content.buttons has {count} buttons; WhatsApp allows at most {MAX_BUTTONS}"),
        ));
    }
    let mut ids = HashSet::new();
    let mut buttons = Vec::with_capacity(count);
    for (at, button) in content.buttons.into_iter().enumerate() {
        let field = format!("content.buttons[{at}]");
        let title = present(button.title).ok_or_else(|| {
            ValidationError::new(
                "missing_button_title",
                format!("{field}.title is required (1 to {MAX_BUTTON_TITLE} characters)"),
            )
        })?;
        max_len(
            &format!("{field}.title"),
            &title,
            MAX_BUTTON_TITLE,
            "button_title_too_long",
        )?;
        let id = present(button.id).ok_or_else(|| {
            ValidationError::new(
                "missing_button_id",
                format!("{field}.id is required: it comes back when the customer taps the button"),
            )
        })?;
        max_len(
            &format!("{field}.id"),
            &id,
            MAX_BUTTON_ID,
            "button_id_too_long",
        )?;
        if !ids.insert(id.clone()) {
            return Err(ValidationError::new(
                "duplicate_button_id",
                format!("{field}.id {id:?} is used by another button: ids must be unique"),
            ));
        }
        buttons.push(ReplyButton { id, title });
    }
    Ok(Interactive::Button {
        header,
        body,
        footer,
        action: ButtonAction { buttons },
    })
}

fn list(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ListContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default)]
        button: Option<String>,
        #[serde(default)]
        sections: Vec<SectionInput>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SectionInput {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        rows: Vec<RowInput>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RowInput {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        description: Option<String>,
    }

    let content: ListContent = shaped(
        content,
        "content for interactive type list",
        r#"{"type": "list", "body": "…", "button": "Choose", "sections": [{"rows": [{"id": "…", "title": "…"}]}]}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = match header(content.header)? {
        None => None,
        Some(Header::Text { text }) => Some(TextHeader(text)),
        Some(_) => {
            return Err(ValidationError::new(
                "invalid_header",
                "a list message takes only a text header",
            ));
        }
    };
    let button = present(content.button).ok_or_else(|| {
        ValidationError::new(
            "missing_list_button",
            format!(
                "content.button is required: the label (1 to {MAX_LIST_BUTTON} characters) of the button that opens the list"
            ),
        )
    })?;
    max_len(
        "content.button",
        &button,
        MAX_LIST_BUTTON,
        "list_button_too_long",
    )?;

    let section_count = content.sections.len();
    if section_count == 0 {
        return Err(ValidationError::new(
            "missing_list_sections",
            "content.sections is empty: give 1 to 10 sections with rows",
        ));
    }
    if section_count > MAX_LIST_SECTIONS {
        return Err(ValidationError::new(
            "too_many_list_sections",
            format!(
                "content.sections has {section_count} sections; WhatsApp allows at most {MAX_LIST_SECTIONS}"
            ),
        ));
    }
    let row_count: usize = content.sections.iter().map(|s| s.rows.len()).sum();
    if row_count > MAX_LIST_ROWS {
        return Err(ValidationError::new(
            "too_many_list_rows",
            format!(
                "the list has {row_count} rows in all; WhatsApp allows at most {MAX_LIST_ROWS}"
            ),
        ));
    }

    let mut ids = HashSet::new();
    let mut sections = Vec::with_capacity(section_count);
    for (s, section) in content.sections.into_iter().enumerate() {
        let field = format!("content.sections[{s}]");
        let title = present(section.title);
        match &title {
            Some(title) => max_len(
                &format!("{field}.title"),
                title,
                MAX_SECTION_TITLE,
                "list_section_title_too_long",
            )?,
            None if section_count > 1 => {
                return Err(ValidationError::new(
                    "missing_list_section_title",
                    format!("{field}.title is required when the list has more than one section"),
                ));
            }
            None => {}
        }
        if section.rows.is_empty() {
            return Err(ValidationError::new(
                "missing_list_rows",
                format!("{field}.rows is empty: each section needs at least one row"),
            ));
        }
        let mut rows = Vec::with_capacity(section.rows.len());
        for (r, row) in section.rows.into_iter().enumerate() {
            let field = format!("{field}.rows[{r}]");
            let title = present(row.title).ok_or_else(|| {
                ValidationError::new(
                    "missing_list_row_title",
                    format!("{field}.title is required (1 to {MAX_ROW_TITLE} characters)"),
                )
            })?;
            max_len(
                &format!("{field}.title"),
                &title,
                MAX_ROW_TITLE,
                "list_row_title_too_long",
            )?;
            let id = present(row.id).ok_or_else(|| {
                ValidationError::new(
                    "missing_list_row_id",
                    format!(
                        "{field}.id is required: it comes back when the customer picks the row"
                    ),
                )
            })?;
            max_len(
                &format!("{field}.id"),
                &id,
                MAX_ROW_ID,
                "list_row_id_too_long",
            )?;
            if !ids.insert(id.clone()) {
                return Err(ValidationError::new(
                    "duplicate_list_row_id",
                    format!("{field}.id {id:?} is used by another row: ids must be unique"),
                ));
            }
            let description = present(row.description);
            if let Some(description) = &description {
                max_len(
                    &format!("{field}.description"),
                    description,
                    MAX_ROW_DESCRIPTION,
                    "list_row_description_too_long",
                )?;
            }
            rows.push(ListRow {
                id,
                title,
                description,
            });
        }
        sections.push(ListSection { title, rows });
    }
    Ok(Interactive::List {
        header,
        body,
        footer,
        action: ListAction { button, sections },
    })
}

fn cta_url(content: Value) -> Result<Interactive, ValidationError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct CtaUrlContent {
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        header: Option<HeaderInput>,
        #[serde(default)]
        footer: Option<String>,
        #[serde(default, alias = "display_text")]
        display_text: Option<String>,
        #[serde(default)]
        url: Option<String>,
    }

    let content: CtaUrlContent = shaped(
        content,
        "content for interactive type cta_url",
        r#"{"type": "cta_url", "body": "…", "displayText": "See dates", "url": "https://…"}"#,
    )?;
    let (body, footer) = body_and_footer(content.body, content.footer)?;
    let header = header(content.header)?;
    let display_text = present(content.display_text).ok_or_else(|| {
        ValidationError::new(
            "missing_cta_display_text",
            format!(
                "content.displayText is required: the button label (1 to {MAX_CTA_DISPLAY_TEXT} characters)"
            ),
        )
    })?;
    max_len(
        "content.displayText",
        &display_text,
        MAX_CTA_DISPLAY_TEXT,
        "cta_display_text_too_long",
    )?;
    let url = present(content.url).unwrap_or_default();
    if !is_http_url(&url) {
        return Err(ValidationError::new(
            "invalid_cta_url",
            format!("content.url must be an http(s) URL, got {url:?}"),
        ));
    }
    Ok(Interactive::CtaUrl {
        header,
        body,
        footer,
        action: CtaUrlAction { display_text, url },
    })
}

fn template(content: Option<Value>) -> Result<MessageContent, ValidationError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum LanguageInput {
        Code(String),
        Object { code: String },
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TemplateInput {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        language: Option<LanguageInput>,
        #[serde(default)]
        components: Vec<TemplateComponent>,
    }

    let content = content.ok_or_else(|| {
        ValidationError::new(
            "missing_template",
            r#"template is required for type template: {"name": "order_update", "language": "en"}"#,
        )
    })?;
    let input: TemplateInput = serde_json::from_value(content).map_err(|e| {
        ValidationError::new(
            "invalid_template",
            format!(
                r#"template must look like {{"name": "order_update", "language": "en", "components": [...]}} with Meta's components: {e}"#
            ),
        )
    })?;

    let name = input.name.unwrap_or_default();
    let valid_name = (1..=MAX_TEMPLATE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_name {
        return Err(ValidationError::new(
            "invalid_template_name",
            format!(
                "template.name must be the template's name: lowercase letters, digits and _ (1 to {MAX_TEMPLATE_NAME}), got {name:?}"
            ),
        ));
    }

    let code = match input.language {
        Some(LanguageInput::Code(code) | LanguageInput::Object { code }) => code,
        None => String::new(),
    };
    if !is_language_code(&code) {
        return Err(ValidationError::new(
            "invalid_template_language",
            format!(
                "template.language must be a language code such as \"en\" or \"en_US\", got {code:?}"
            ),
        ));
    }

    Ok(MessageContent::Template {
        template: Template {
            name,
            language: TemplateLanguage { code },
            components: input.components,
        },
    })
}

/// `en`, `fil`, `en_US`, `pt_BR`: Meta's template language codes.
fn is_language_code(code: &str) -> bool {
    let (language, region) = match code.split_once('_') {
        Some((language, region)) => (language, Some(region)),
        None => (code, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
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

    use super::*;

    fn send(body: Value) -> Result<ValidatedSend, ValidationError> {
        serde_json::from_value::<SendRequest>(body)
            .expect("the envelope parses")
            .validate()
    }

    fn meta(body: Value) -> Value {
        let sent = send(body.clone()).unwrap_or_else(|e| panic!("{body}: {e:?}"));
        serde_json::to_value(&sent.outbound).unwrap()
    }

    fn envelope(kind: &str, object: Value) -> Value {
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15551234567",
            "type": kind,
            kind: object,
        })
    }

    fn chars(n: usize) -> String {
        "a".repeat(n)
    }

    fn assert_sends(cases: Vec<(Value, Value)>) {
        for (body, want) in cases {
            assert_eq!(meta(body.clone()), want, "{body}");
        }
    }

    fn assert_refused(cases: Vec<(&str, Value)>) {
        for (code, body) in cases {
            match send(body.clone()) {
                Ok(sent) => panic!("{body} was accepted as {:?}, want {code}", sent.outbound),
                Err(e) => assert_eq!(e.code, code, "{body}: {}", e.message),
            }
        }
    }

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
    fn media() {
        let url = "https://example.com/image.jpg";
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "image",
                       "content": {"url": url, "caption": "Check this out!"}}),
                envelope("image", json!({"link": url, "caption": "Check this out!"})),
            ),
            (
                json!({"to": "15551234567", "type": "image", "content": {"id": "1234567890"}}),
                envelope("image", json!({"id": "1234567890"})),
            ),
            (
                json!({"to": "15551234567", "type": "image", "content": {"link": url, "caption": ""}}),
                envelope("image", json!({"link": url})),
            ),
            (
                json!({"to": "15551234567", "type": "image",
                       "content": {"url": url, "caption": chars(1024)}}),
                envelope("image", json!({"link": url, "caption": chars(1024)})),
            ),
            (
                json!({"to": "15551234567", "type": "video",
                       "content": {"url": "http://example.com/v.mp4", "caption": "Watch"}}),
                envelope(
                    "video",
                    json!({"link": "http://example.com/v.mp4", "caption": "Watch"}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "audio", "content": {"id": "42"}}),
                envelope("audio", json!({"id": "42"})),
            ),
            (
                json!({"to": "15551234567", "type": "sticker",
                       "content": {"url": "https://example.com/s.webp"}}),
                envelope("sticker", json!({"link": "https://example.com/s.webp"})),
            ),
            (
                json!({"to": "15551234567", "type": "document",
                       "content": {"url": "https://example.com/i.pdf", "caption": "Invoice",
                                   "filename": "invoice.pdf"}}),
                envelope(
                    "document",
                    json!({"link": "https://example.com/i.pdf", "caption": "Invoice",
                           "filename": "invoice.pdf"}),
                ),
            ),
        ]);
    }

    #[test]
    fn location() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "location",
                       "content": {"latitude": 25.2048, "longitude": 55.2708,
                                   "name": "Burj Khalifa", "address": "1 Sheikh Mohammed bin Rashid Blvd"}}),
                envelope(
                    "location",
                    json!({"latitude": 25.2048, "longitude": 55.2708, "name": "Burj Khalifa",
                           "address": "1 Sheikh Mohammed bin Rashid Blvd"}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "location",
                       "content": {"latitude": "-90", "longitude": " 180 "}}),
                envelope("location", json!({"latitude": -90.0, "longitude": 180.0})),
            ),
        ]);
    }

    #[test]
    fn contacts() {
        let want = envelope(
            "contacts",
            json!([{
                "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
                "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "wa_id": "442079460958"}],
                "emails": [{"email": "ada@example.com", "type": "WORK"}],
                "urls": [{"url": "https://example.com", "type": "WORK"}],
                "addresses": [{"city": "London", "country_code": "GB", "type": "WORK"}],
                "org": {"company": "Analytical Engines"},
                "birthday": "1815-12-10",
            }]),
        );
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "contacts", "content": [{
                    "name": {"formattedName": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace"},
                    "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "waId": "442079460958"}],
                    "emails": [{"email": "ada@example.com", "type": "WORK"}],
                    "urls": [{"url": "https://example.com", "type": "WORK"}],
                    "addresses": [{"city": "London", "countryCode": "GB", "type": "WORK"}],
                    "org": {"company": "Analytical Engines"},
                    "birthday": "1815-12-10",
                }]}),
                want.clone(),
            ),
            (
                json!({"to": "15551234567", "type": "contacts", "content": [{
                    "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
                    "phones": [{"phone": "+44 20 7946 0958", "type": "WORK", "wa_id": "442079460958"}],
                    "emails": [{"email": "ada@example.com", "type": "WORK"}],
                    "urls": [{"url": "https://example.com", "type": "WORK"}],
                    "addresses": [{"city": "London", "country_code": "GB", "type": "WORK"}],
                    "org": {"company": "Analytical Engines"},
                    "birthday": "1815-12-10",
                }]}),
                want,
            ),
            (
                json!({"to": "15551234567", "type": "contacts",
                       "content": [{"name": {"formattedName": "Support"}}]}),
                envelope("contacts", json!([{"name": {"formatted_name": "Support"}}])),
            ),
        ]);
    }

    #[test]
    fn interactive_buttons() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                "type": "button", "body": "Confirm your order?", "header": "Order #42",
                "footer": "Intaj", "buttons": [
                    {"id": "yes", "title": "Yes"},
                    {"id": "no", "title": "No"},
                    {"id": "later", "title": chars(20)},
                ]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "text", "text": "Order #42"},
                        "body": {"text": "Confirm your order?"},
                        "footer": {"text": "Intaj"},
                        "action": {"buttons": [
                            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                            {"type": "reply", "reply": {"id": "no", "title": "No"}},
                            {"type": "reply", "reply": {"id": "later", "title": chars(20)}},
                        ]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "buttons", "body": "Like it?",
                    "header": {"type": "image", "url": "https://example.com/p.png"},
                    "buttons": [{"id": "like", "title": "👍"}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "image", "image": {"link": "https://example.com/p.png"}},
                        "body": {"text": "Like it?"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "like", "title": "👍"}}]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "button", "body": "Your ticket",
                    "header": {"type": "document", "id": "998"},
                    "buttons": [{"id": "ok", "title": "OK"}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "button",
                        "header": {"type": "document", "document": {"id": "998"}},
                        "body": {"text": "Your ticket"},
                        "action": {"buttons": [{"type": "reply", "reply": {"id": "ok", "title": "OK"}}]},
                    }),
                ),
            ),
        ]);
    }

    #[test]
    fn interactive_list() {
        let ten_rows: Vec<Value> = (0..10)
            .map(|i| json!({"id": format!("r{i}"), "title": format!("Row {i}")}))
            .collect();
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                "type": "list", "header": "Menu", "body": "What would you like?",
                "footer": "Prices include VAT", "button": "Choose",
                "sections": [
                    {"title": "Drinks", "rows": [
                        {"id": "tea", "title": "Tea", "description": "Hot"},
                        {"id": "water", "title": chars(24), "description": chars(72)},
                    ]},
                    {"title": chars(24), "rows": [{"id": chars(200), "title": "Cake"}]},
                ]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "list",
                        "header": {"type": "text", "text": "Menu"},
                        "body": {"text": "What would you like?"},
                        "footer": {"text": "Prices include VAT"},
                        "action": {"button": "Choose", "sections": [
                            {"title": "Drinks", "rows": [
                                {"id": "tea", "title": "Tea", "description": "Hot"},
                                {"id": "water", "title": chars(24), "description": chars(72)},
                            ]},
                            {"title": chars(24), "rows": [{"id": chars(200), "title": "Cake"}]},
                        ]},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "list", "body": "Pick", "button": chars(20),
                    "sections": [{"rows": ten_rows.clone()}]}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "list",
                        "body": {"text": "Pick"},
                        "action": {"button": chars(20), "sections": [{"rows": ten_rows}]},
                    }),
                ),
            ),
        ]);
    }

    #[test]
    fn interactive_cta_url() {
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "cta_url", "body": "Tap below to see available dates.",
                    "displayText": "See Dates", "url": "https://example.com/dates"}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "cta_url",
                        "body": {"text": "Tap below to see available dates."},
                        "action": {"name": "cta_url", "parameters": {
                            "display_text": "See Dates", "url": "https://example.com/dates"}},
                    }),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "interactive", "content": {
                    "type": "cta_url", "body": "Dates", "footer": "Subject to change",
                    "header": {"type": "text", "text": chars(60)},
                    "display_text": chars(20), "url": "http://example.com"}}),
                envelope(
                    "interactive",
                    json!({
                        "type": "cta_url",
                        "header": {"type": "text", "text": chars(60)},
                        "body": {"text": "Dates"},
                        "footer": {"text": "Subject to change"},
                        "action": {"name": "cta_url", "parameters": {
                            "display_text": chars(20), "url": "http://example.com"}},
                    }),
                ),
            ),
        ]);
    }

    #[test]
    fn reaction() {
        for emoji in ["👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇦🇪", "1️⃣", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "👩🏻‍❤️‍💋‍👨🏼", "☺"]
        {
            assert_eq!(
                meta(json!({"to": "15551234567", "type": "reaction",
                            "content": {"messageId": "wamid.HBgL", "emoji": emoji}})),
                envelope(
                    "reaction",
                    json!({"message_id": "wamid.HBgL", "emoji": emoji})
                ),
                "{emoji}"
            );
        }
        assert_sends(vec![(
            json!({"to": "15551234567", "type": "reaction",
                   "content": {"message_id": "wamid.X", "emoji": "🙏"}}),
            envelope("reaction", json!({"message_id": "wamid.X", "emoji": "🙏"})),
        )]);
    }

    #[test]
    fn template() {
        let components = json!([
            {"type": "header", "parameters": [
                {"type": "image", "image": {"link": "https://example.com/h.png"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ada"},
                {"type": "currency", "currency": {"fallback_value": "$10", "code": "USD", "amount_1000": 10000}},
            ]},
            {"type": "button", "sub_type": "url", "index": "0",
             "parameters": [{"type": "text", "text": "42"}]},
        ]);
        assert_sends(vec![
            (
                json!({"to": "15551234567", "type": "template", "template": {
                    "name": "order_update", "language": "en", "components": components}}),
                envelope(
                    "template",
                    json!({"name": "order_update", "language": {"code": "en"},
                           "components": components}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
                envelope(
                    "template",
                    json!({"name": "hello_world", "language": {"code": "en_US"}}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "content": {"name": "hello_world", "language": {"code": "en_US", "policy": "deterministic"}}}),
                envelope(
                    "template",
                    json!({"name": "hello_world", "language": {"code": "en_US"}}),
                ),
            ),
            (
                json!({"to": "15551234567", "type": "template",
                       "template": {"name": "promo_2", "language": "fil", "components": []}}),
                envelope(
                    "template",
                    json!({"name": "promo_2", "language": {"code": "fil"}}),
                ),
            ),
        ]);
    }

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

    #[test]
    fn media_rules() {
        let to = "15551234567";
        assert_refused(vec![
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": " "}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image",
                                     "content": {"url": "https://example.com/a.jpg", "id": "1"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "ftp://example.com/a.jpg"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "example.com/a.jpg"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "image", "content": {"url": "https://"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "video", "content": {"url": "https://example.com/a b.mp4"}}),
            ),
            (
                "invalid_media",
                json!({"to": to, "type": "document", "content": {"id": "12 34"}}),
            ),
            (
                "caption_too_long",
                json!({"to": to, "type": "image",
                                        "content": {"id": "1", "caption": chars(1025)}}),
            ),
            (
                "caption_too_long",
                json!({"to": to, "type": "document",
                                        "content": {"id": "1", "caption": chars(1025)}}),
            ),
            (
                "caption_not_allowed",
                json!({"to": to, "type": "audio", "content": {"id": "1", "caption": "hi"}}),
            ),
            (
                "caption_not_allowed",
                json!({"to": to, "type": "sticker", "content": {"id": "1", "caption": "hi"}}),
            ),
            (
                "filename_not_allowed",
                json!({"to": to, "type": "image",
                                            "content": {"id": "1", "filename": "a.jpg"}}),
            ),
            (
                "filename_not_allowed",
                json!({"to": to, "type": "audio",
                                            "content": {"id": "1", "filename": "a.ogg"}}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "image", "content": "https://example.com/a.jpg"}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "image",
                                       "content": {"url": "https://example.com/a.jpg", "captoin": "typo"}}),
            ),
        ]);
    }

    #[test]
    fn location_rules() {
        let to = "15551234567";
        assert_refused(vec![
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 91, "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": -90.5, "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0, "longitude": 180.1}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0, "longitude": -181}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": "north", "longitude": 0}}),
            ),
            (
                "invalid_coordinates",
                json!({"to": to, "type": "location", "content": {"latitude": "NaN", "longitude": 0}}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "location", "content": [25.2, 55.3]}),
            ),
        ]);
    }

    #[test]
    fn contacts_rules() {
        let to = "15551234567";
        let card = json!({"name": {"formattedName": "A"}});
        assert_refused(vec![
            (
                "missing_content",
                json!({"to": to, "type": "contacts", "content": []}),
            ),
            (
                "too_many_contacts",
                json!({"to": to, "type": "contacts", "content": vec![card; 258]}),
            ),
            (
                "missing_contact_name",
                json!({"to": to, "type": "contacts",
                                            "content": [{"name": {"formattedName": " "}}]}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "contacts", "content": [{"phones": []}]}),
            ),
            (
                "invalid_content",
                json!({"to": to, "type": "contacts", "content": {"name": {"formattedName": "A"}}}),
            ),
        ]);
    }

    #[test]
    fn reaction_rules() {
        let to = "15551234567";
        let reaction = |content: Value| json!({"to": to, "type": "reaction", "content": content});
        assert_refused(vec![
            ("missing_message_id", reaction(json!({"emoji": "👍"}))),
            (
                "missing_message_id",
                reaction(json!({"messageId": "", "emoji": "👍"})),
            ),
            ("invalid_emoji", reaction(json!({"messageId": "wamid.X"}))),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": ""})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "ok"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": ":+1:"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍👍"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍 "})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "1"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🇦"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🇦🇪🇦🇪"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "\u{200D}👍"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍\u{200D}"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "🏽"})),
            ),
            (
                "invalid_emoji",
                reaction(json!({"messageId": "wamid.X", "emoji": "👍".repeat(11)})),
            ),
        ]);
    }

    fn interactive(content: Value) -> Value {
        json!({"to": "15551234567", "type": "interactive", "content": content})
    }

    fn buttons(extra: Value) -> Value {
        let mut content =
            json!({"type": "button", "body": "Pick", "buttons": [{"id": "a", "title": "A"}]});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    fn list(extra: Value) -> Value {
        let mut content = json!({"type": "list", "body": "Pick", "button": "Choose",
                                 "sections": [{"rows": [{"id": "a", "title": "A"}]}]});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    fn cta(extra: Value) -> Value {
        let mut content = json!({"type": "cta_url", "body": "Go", "displayText": "Open",
                                 "url": "https://example.com"});
        content
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        interactive(content)
    }

    #[test]
    fn interactive_rules() {
        let button = |id: &str, title: &str| json!({"id": id, "title": title});
        let row = |id: String| json!({"id": id, "title": "Row"});
        assert_refused(vec![
            (
                "unsupported_interactive_type",
                interactive(json!({"type": "flow", "body": "x"})),
            ),
            (
                "unsupported_interactive_type",
                interactive(json!({"body": "x"})),
            ),
            ("invalid_content", interactive(json!("Pick one"))),
            ("invalid_content", buttons(json!({"bodyText": "x"}))),
            // Shared by the three kinds.
            ("missing_body", buttons(json!({"body": " "}))),
            ("missing_body", list(json!({"body": null}))),
            ("missing_body", cta(json!({"body": ""}))),
            ("body_too_long", buttons(json!({"body": chars(1025)}))),
            ("body_too_long", list(json!({"body": chars(1025)}))),
            ("body_too_long", cta(json!({"body": chars(1025)}))),
            ("footer_too_long", buttons(json!({"footer": chars(61)}))),
            ("footer_too_long", list(json!({"footer": chars(61)}))),
            ("footer_too_long", cta(json!({"footer": chars(61)}))),
            ("header_too_long", buttons(json!({"header": chars(61)}))),
            (
                "header_too_long",
                list(json!({"header": {"type": "text", "text": chars(61)}})),
            ),
            ("header_too_long", cta(json!({"header": chars(61)}))),
            (
                "invalid_header",
                list(json!({"header": {"type": "image", "url": "https://example.com/a.png"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "audio", "id": "1"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "text", "text": "a", "url": "https://e.com"}})),
            ),
            (
                "invalid_header",
                buttons(json!({"header": {"type": "image", "text": "a"}})),
            ),
            (
                "invalid_media",
                buttons(json!({"header": {"type": "image"}})),
            ),
            (
                "invalid_media",
                cta(json!({"header": {"type": "video", "url": "file:///etc/passwd"}})),
            ),
            // Reply buttons.
            ("missing_buttons", buttons(json!({"buttons": []}))),
            (
                "too_many_buttons",
                buttons(json!({"buttons": [
                button("a", "A"), button("b", "B"), button("c", "C"), button("d", "D")]})),
            ),
            (
                "missing_button_title",
                buttons(json!({"buttons": [{"id": "a"}]})),
            ),
            (
                "button_title_too_long",
                buttons(json!({"buttons": [button("a", &chars(21))]})),
            ),
            (
                "missing_button_id",
                buttons(json!({"buttons": [{"title": "A"}]})),
            ),
            (
                "button_id_too_long",
                buttons(json!({"buttons": [button(&chars(257), "A")]})),
            ),
            (
                "duplicate_button_id",
                buttons(json!({"buttons": [button("a", "A"), button("a", "B")]})),
            ),
            // Lists.
            ("missing_list_button", list(json!({"button": ""}))),
            ("list_button_too_long", list(json!({"button": chars(21)}))),
            ("missing_list_sections", list(json!({"sections": []}))),
            (
                "too_many_list_sections",
                list(json!({"sections": (0..11)
                .map(|i| json!({"title": format!("S{i}"), "rows": [row(format!("r{i}"))]}))
                .collect::<Vec<_>>()})),
            ),
            (
                "missing_list_section_title",
                list(json!({"sections": [
                {"title": "One", "rows": [row("a".into())]}, {"rows": [row("b".into())]}]})),
            ),
            (
                "list_section_title_too_long",
                list(json!({"sections": [
                {"title": chars(25), "rows": [row("a".into())]}]})),
            ),
            (
                "missing_list_rows",
                list(json!({"sections": [{"title": "S", "rows": []}]})),
            ),
            (
                "too_many_list_rows",
                list(json!({"sections": [
                {"title": "S1", "rows": (0..6).map(|i| row(format!("a{i}"))).collect::<Vec<_>>()},
                {"title": "S2", "rows": (0..5).map(|i| row(format!("b{i}"))).collect::<Vec<_>>()}]})),
            ),
            (
                "missing_list_row_title",
                list(json!({"sections": [{"rows": [{"id": "a"}]}]})),
            ),
            (
                "list_row_title_too_long",
                list(json!({"sections": [{"rows": [{"id": "a", "title": chars(25)}]}]})),
            ),
            (
                "missing_list_row_id",
                list(json!({"sections": [{"rows": [{"title": "A"}]}]})),
            ),
            (
                "list_row_id_too_long",
                list(json!({"sections": [{"rows": [{"id": chars(201), "title": "A"}]}]})),
            ),
            (
                "duplicate_list_row_id",
                list(json!({"sections": [
                {"title": "S1", "rows": [row("a".into())]}, {"title": "S2", "rows": [row("a".into())]}]})),
            ),
            (
                "list_row_description_too_long",
                list(json!({"sections": [{"rows": [
                {"id": "a", "title": "A", "description": chars(73)}]}]})),
            ),
            // Call-to-action URL.
            (
                "missing_cta_display_text",
                cta(json!({"displayText": null})),
            ),
            (
                "cta_display_text_too_long",
                cta(json!({"displayText": chars(21)})),
            ),
            ("invalid_cta_url", cta(json!({"url": null}))),
            (
                "invalid_cta_url",
                cta(json!({"url": "javascript:alert(1)"})),
            ),
            ("invalid_cta_url", cta(json!({"url": "www.example.com"}))),
        ]);
    }

    #[test]
    fn template_rules() {
        let to = "15551234567";
        let template = |t: Value| json!({"to": to, "type": "template", "template": t});
        assert_refused(vec![
            ("missing_template", json!({"to": to, "type": "template"})),
            ("invalid_template", template(json!("order_update"))),
            (
                "invalid_template",
                template(json!({"name": "a", "language": "en", "components": {}})),
            ),
            (
                "invalid_template",
                template(
                    json!({"name": "a", "language": "en", "components": [{"parameters": []}]}),
                ),
            ),
            (
                "invalid_template",
                template(json!({"name": "a", "language": "en", "lang": "en"})),
            ),
            ("invalid_template_name", template(json!({"language": "en"}))),
            (
                "invalid_template_name",
                template(json!({"name": "", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": "Order Update", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": "order-update", "language": "en"})),
            ),
            (
                "invalid_template_name",
                template(json!({"name": chars(513), "language": "en"})),
            ),
            ("invalid_template_language", template(json!({"name": "a"}))),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "english"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "en-US"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": "en_us"})),
            ),
            (
                "invalid_template_language",
                template(json!({"name": "a", "language": {"code": "EN"}})),
            ),
        ]);
        assert!(send(template(json!({"name": chars(512), "language": "en"}))).is_ok());
    }

    #[test]
    fn messages_say_the_limit_and_what_was_given() {
        let error =
            send(json!({"to": "15551234567", "type": "text", "content": chars(5000)})).unwrap_err();
        assert_eq!(
            error.message,
            "the text is 5000 characters long; WhatsApp allows at most 4096"
        );
        let error = send(buttons(
            json!({"buttons": [{"id": "a", "title": chars(23)}]}),
        ))
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
