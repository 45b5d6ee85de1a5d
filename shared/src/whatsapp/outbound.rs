//! The body of Meta's `POST /{phone-number-id}/messages` (Cloud API send), as Rust types.
//!
//! Each message type is its own variant with its own object, so a body Meta would reject for
//! its shape (a caption on a sticker, a list with an image header, a button without `reply`)
//! cannot be built. Limits on lengths and counts are checked by [`crate::sending`] for API
//! callers; code that builds messages itself is trusted to stay within them.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::phone::Recipient;

/// One message to send, serialised exactly as Meta documents the request body.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    pub recipient: Recipient,
    pub content: MessageContent,
    /// The id of the message this one replies to (`context.message_id`).
    pub reply_to: Option<String>,
    /// Echoed back by Meta in this message's status webhooks.
    pub biz_opaque_callback_data: Option<String>,
}

/// The message's `type` and the object of that name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    Text { text: Text },
    Image { image: CaptionedMedia },
    Video { video: CaptionedMedia },
    Audio { audio: Media },
    Document { document: DocumentMedia },
    Sticker { sticker: Media },
    Location { location: Location },
    Contacts { contacts: Vec<Contact> },
    Interactive { interactive: Interactive },
    Reaction { reaction: Reaction },
    Template { template: Template },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    pub body: String,
    /// Whether WhatsApp renders a preview of the first URL in `body`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
}

/// Where Meta gets the media: an id from a media upload, or a public URL it downloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSource {
    Id(String),
    Link(String),
}

/// Audio and sticker: WhatsApp shows no caption for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    #[serde(flatten)]
    pub source: MediaSource,
}

/// Image and video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptionedMedia {
    #[serde(flatten)]
    pub source: MediaSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// Documents are the only media with a file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentMedia {
    #[serde(flatten)]
    pub source: MediaSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A shared contact card, in Meta's shape. It also reads camelCase (`formattedName`, `waId`, …)
/// because API callers send it that way; it is always written in Meta's snake_case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: ContactName,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<ContactUrl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ContactAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<ContactOrg>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactName {
    /// The only required field: what WhatsApp shows on the card.
    #[serde(alias = "formattedName")]
    pub formatted_name: String,
    #[serde(default, alias = "firstName", skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, alias = "middleName", skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, alias = "lastName", skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPhone {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `CELL`, `MAIN`, `IPHONE`, `HOME`, `WORK`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Adds the card's "Message" button for this WhatsApp account.
    #[serde(default, alias = "waId", skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEmail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUrl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(
        default,
        alias = "countryCode",
        skip_serializing_if = "Option::is_none"
    )]
    pub country_code: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactOrg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// An interactive message, by its own `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interactive {
    /// Up to three quick-reply buttons.
    Button {
        #[serde(skip_serializing_if = "Option::is_none")]
        header: Option<Header>,
        body: BodyText,
        #[serde(skip_serializing_if = "Option::is_none")]
        footer: Option<BodyText>,
        action: ButtonAction,
    },
    /// A menu of up to ten rows. Meta allows only a text header here.
    List {
        #[serde(skip_serializing_if = "Option::is_none")]
        header: Option<TextHeader>,
        body: BodyText,
        #[serde(skip_serializing_if = "Option::is_none")]
        footer: Option<BodyText>,
        action: ListAction,
    },
    /// One button that opens a URL.
    CtaUrl {
        #[serde(skip_serializing_if = "Option::is_none")]
        header: Option<Header>,
        body: BodyText,
        #[serde(skip_serializing_if = "Option::is_none")]
        footer: Option<BodyText>,
        action: CtaUrlAction,
    },
}

/// `{"text": …}`, the shape of an interactive body and footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyText {
    pub text: String,
}

impl BodyText {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Header {
    Text { text: String },
    Image { image: Media },
    Video { video: Media },
    Document { document: Media },
}

/// A text header, the only kind a list message takes: `{"type":"text","text":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextHeader(pub String);

impl Serialize for TextHeader {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut header = serializer.serialize_struct("TextHeader", 2)?;
        header.serialize_field("type", "text")?;
        header.serialize_field("text", &self.0)?;
        header.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ButtonAction {
    pub buttons: Vec<ReplyButton>,
}

/// A quick-reply button: `{"type":"reply","reply":{"id","title"}}`. The id comes back in the
/// customer's `button_reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

impl ReplyButton {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

impl Serialize for ReplyButton {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Reply<'a> {
            id: &'a str,
            title: &'a str,
        }
        let mut button = serializer.serialize_struct("ReplyButton", 2)?;
        button.serialize_field("type", "reply")?;
        button.serialize_field(
            "reply",
            &Reply {
                id: &self.id,
                title: &self.title,
            },
        )?;
        button.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListAction {
    /// The label of the button that opens the list.
    pub button: String,
    pub sections: Vec<ListSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListSection {
    /// Required by Meta when there is more than one section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `{"name":"cta_url","parameters":{"display_text","url"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtaUrlAction {
    pub display_text: String,
    pub url: String,
}

impl Serialize for CtaUrlAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Parameters<'a> {
            display_text: &'a str,
            url: &'a str,
        }
        let mut action = serializer.serialize_struct("CtaUrlAction", 2)?;
        action.serialize_field("name", "cta_url")?;
        action.serialize_field(
            "parameters",
            &Parameters {
                display_text: &self.display_text,
                url: &self.url,
            },
        )?;
        action.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reaction {
    /// The message reacted to.
    pub message_id: String,
    pub emoji: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub name: String,
    pub language: TemplateLanguage,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TemplateComponent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateLanguage {
    /// `en`, `en_US`, …
    pub code: String,
}

/// One of a template's `components` (`header`, `body`, `button`, `carousel`, …). Only `type`
/// and `parameters` are read; every other field (`sub_type`, `index`, `cards`, …) is passed to
/// Meta verbatim, so component kinds Meta adds later work without a code change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateComponent {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<TemplateParameter>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A template parameter (`text`, `currency`, `date_time`, `image`, `payload`, …): its `type`
/// is read, the rest is passed to Meta verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateParameter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl TemplateParameter {
    /// A `{"type":"text","text":…}` parameter, the common case.
    pub fn text(text: impl Into<String>) -> Self {
        let mut other = Map::new();
        other.insert("text".to_owned(), Value::String(text.into()));
        Self {
            kind: "text".to_owned(),
            other,
        }
    }
}

impl TemplateComponent {
    /// A `body` component with these parameters.
    pub fn body(parameters: Vec<TemplateParameter>) -> Self {
        Self {
            kind: "body".to_owned(),
            parameters,
            other: Map::new(),
        }
    }

    pub fn is_body(&self) -> bool {
        self.kind.eq_ignore_ascii_case("body")
    }
}

impl Template {
    pub fn new(name: impl Into<String>, language: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            language: TemplateLanguage {
                code: language.into(),
            },
            components: Vec::new(),
        }
    }
}

impl MessageContent {
    /// Meta's `type` for this content.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Video { .. } => "video",
            Self::Audio { .. } => "audio",
            Self::Document { .. } => "document",
            Self::Sticker { .. } => "sticker",
            Self::Location { .. } => "location",
            Self::Contacts { .. } => "contacts",
            Self::Interactive { .. } => "interactive",
            Self::Reaction { .. } => "reaction",
            Self::Template { .. } => "template",
        }
    }
}

impl OutboundMessage {
    pub fn new(recipient: Recipient, content: MessageContent) -> Self {
        Self {
            recipient,
            content,
            reply_to: None,
            biz_opaque_callback_data: None,
        }
    }

    pub fn text(recipient: Recipient, body: impl Into<String>) -> Self {
        Self::new(
            recipient,
            MessageContent::Text {
                text: Text {
                    body: body.into(),
                    preview_url: None,
                },
            },
        )
    }

    pub fn image(recipient: Recipient, source: MediaSource, caption: Option<String>) -> Self {
        Self::new(
            recipient,
            MessageContent::Image {
                image: CaptionedMedia { source, caption },
            },
        )
    }

    pub fn document(
        recipient: Recipient,
        source: MediaSource,
        caption: Option<String>,
        filename: Option<String>,
    ) -> Self {
        Self::new(
            recipient,
            MessageContent::Document {
                document: DocumentMedia {
                    source,
                    caption,
                    filename,
                },
            },
        )
    }

    /// Quick-reply buttons under a body text.
    pub fn buttons(
        recipient: Recipient,
        body: impl Into<String>,
        buttons: Vec<ReplyButton>,
    ) -> Self {
        Self::interactive(
            recipient,
            Interactive::Button {
                header: None,
                body: BodyText::new(body),
                footer: None,
                action: ButtonAction { buttons },
            },
        )
    }

    pub fn interactive(recipient: Recipient, interactive: Interactive) -> Self {
        Self::new(recipient, MessageContent::Interactive { interactive })
    }

    pub fn reaction(
        recipient: Recipient,
        message_id: impl Into<String>,
        emoji: impl Into<String>,
    ) -> Self {
        Self::new(
            recipient,
            MessageContent::Reaction {
                reaction: Reaction {
                    message_id: message_id.into(),
                    emoji: emoji.into(),
                },
            },
        )
    }

    pub fn template(recipient: Recipient, template: Template) -> Self {
        Self::new(recipient, MessageContent::Template { template })
    }

    /// Sends this as a reply to (a quote of) the message with this id.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to = Some(message_id.into());
        self
    }

    pub fn with_callback_data(mut self, data: impl Into<String>) -> Self {
        self.biz_opaque_callback_data = Some(data.into());
        self
    }

    /// Meta's `type`.
    pub fn kind(&self) -> &'static str {
        self.content.kind()
    }

    pub fn template_ref(&self) -> Option<&Template> {
        match &self.content {
            MessageContent::Template { template } => Some(template),
            _ => None,
        }
    }
}

impl Serialize for OutboundMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Context<'a> {
            message_id: &'a str,
        }
        // Flattened so the content's `type` and object sit beside the envelope, as Meta wants.
        #[derive(Serialize)]
        struct Wire<'a> {
            messaging_product: &'static str,
            recipient_type: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            to: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            recipient: Option<&'a str>,
            #[serde(flatten)]
            content: &'a MessageContent,
            #[serde(skip_serializing_if = "Option::is_none")]
            context: Option<Context<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            biz_opaque_callback_data: Option<&'a str>,
        }
        let (to, recipient) = match &self.recipient {
            Recipient::Phone(digits) => (Some(digits.as_str()), None),
            Recipient::Bsuid(id) => (None, Some(id.as_str())),
        };
        Wire {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to,
            recipient,
            content: &self.content,
            context: self
                .reply_to
                .as_deref()
                .map(|message_id| Context { message_id }),
            biz_opaque_callback_data: self.biz_opaque_callback_data.as_deref(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn phone() -> Recipient {
        Recipient::Phone("15551234567".to_owned())
    }

    fn wire(message: &OutboundMessage) -> Value {
        serde_json::to_value(message).unwrap()
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

    #[test]
    fn text() {
        assert_eq!(
            wire(&OutboundMessage::text(phone(), "Hello from Intaj!")),
            envelope("text", json!({"body": "Hello from Intaj!"}))
        );
        let preview = OutboundMessage::new(
            phone(),
            MessageContent::Text {
                text: Text {
                    body: "see https://intaj.example".to_owned(),
                    preview_url: Some(true),
                },
            },
        );
        assert_eq!(
            wire(&preview),
            envelope(
                "text",
                json!({"body": "see https://intaj.example", "preview_url": true})
            )
        );
    }

    #[test]
    fn bsuid_goes_in_recipient_not_to() {
        let message =
            OutboundMessage::text(Recipient::Bsuid("US.13491208655302741918".into()), "hi");
        assert_eq!(
            wire(&message),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "recipient": "US.13491208655302741918",
                "type": "text",
                "text": {"body": "hi"},
            })
        );
    }

    #[test]
    fn reply_context_and_callback_data() {
        let message = OutboundMessage::text(phone(), "yes")
            .reply_to("wamid.ABC")
            .with_callback_data("order-42");
        let mut want = envelope("text", json!({"body": "yes"}));
        want["context"] = json!({"message_id": "wamid.ABC"});
        want["biz_opaque_callback_data"] = json!("order-42");
        assert_eq!(wire(&message), want);
    }

    #[test]
    fn media() {
        let link = || MediaSource::Link("https://example.com/a.jpg".to_owned());
        let id = || MediaSource::Id("1234".to_owned());
        let cases = [
            (
                OutboundMessage::image(phone(), link(), Some("Check this out!".to_owned())),
                envelope(
                    "image",
                    json!({"link": "https://example.com/a.jpg", "caption": "Check this out!"}),
                ),
            ),
            (
                OutboundMessage::new(
                    phone(),
                    MessageContent::Video {
                        video: CaptionedMedia {
                            source: id(),
                            caption: None,
                        },
                    },
                ),
                envelope("video", json!({"id": "1234"})),
            ),
            (
                OutboundMessage::new(
                    phone(),
                    MessageContent::Audio {
                        audio: Media { source: id() },
                    },
                ),
                envelope("audio", json!({"id": "1234"})),
            ),
            (
                OutboundMessage::new(
                    phone(),
                    MessageContent::Sticker {
                        sticker: Media { source: link() },
                    },
                ),
                envelope("sticker", json!({"link": "https://example.com/a.jpg"})),
            ),
            (
                OutboundMessage::document(
                    phone(),
                    id(),
                    Some("Your invoice".to_owned()),
                    Some("invoice.pdf".to_owned()),
                ),
                envelope(
                    "document",
                    json!({"id": "1234", "caption": "Your invoice", "filename": "invoice.pdf"}),
                ),
            ),
        ];
        for (message, want) in cases {
            assert_eq!(wire(&message), want);
        }
    }

    #[test]
    fn location() {
        let message = OutboundMessage::new(
            phone(),
            MessageContent::Location {
                location: Location {
                    latitude: 25.2048,
                    longitude: 55.2708,
                    name: Some("Intaj HQ".to_owned()),
                    address: None,
                },
            },
        );
        assert_eq!(
            wire(&message),
            envelope(
                "location",
                json!({"latitude": 25.2048, "longitude": 55.2708, "name": "Intaj HQ"})
            )
        );
    }

    #[test]
    fn contacts() {
        let contact = Contact {
            name: ContactName {
                formatted_name: "Barbara Johnson".to_owned(),
                first_name: Some("Barbara".to_owned()),
                ..Default::default()
            },
            phones: vec![ContactPhone {
                phone: Some("+1 (940) 555-1234".to_owned()),
                kind: Some("CELL".to_owned()),
                wa_id: Some("19405551234".to_owned()),
            }],
            emails: vec![ContactEmail {
                email: Some("b@example.com".to_owned()),
                kind: Some("WORK".to_owned()),
            }],
            org: Some(ContactOrg {
                company: Some("Intaj".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let message = OutboundMessage::new(
            phone(),
            MessageContent::Contacts {
                contacts: vec![contact],
            },
        );
        assert_eq!(
            wire(&message),
            envelope(
                "contacts",
                json!([{
                    "name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"},
                    "phones": [{"phone": "+1 (940) 555-1234", "type": "CELL", "wa_id": "19405551234"}],
                    "emails": [{"email": "b@example.com", "type": "WORK"}],
                    "org": {"company": "Intaj"},
                }])
            )
        );
    }

    #[test]
    fn contact_reads_both_cases() {
        let camel: Contact = serde_json::from_value(json!({
            "name": {"formattedName": "A B", "firstName": "A", "lastName": "B"},
            "phones": [{"phone": "1", "waId": "2"}],
            "addresses": [{"countryCode": "us"}],
        }))
        .unwrap();
        let snake: Contact = serde_json::from_value(json!({
            "name": {"formatted_name": "A B", "first_name": "A", "last_name": "B"},
            "phones": [{"phone": "1", "wa_id": "2"}],
            "addresses": [{"country_code": "us"}],
        }))
        .unwrap();
        assert_eq!(camel, snake);
        assert_eq!(camel.addresses[0].country_code.as_deref(), Some("us"));
    }

    #[test]
    fn interactive_buttons() {
        let message = OutboundMessage::interactive(
            phone(),
            Interactive::Button {
                header: Some(Header::Image {
                    image: Media {
                        source: MediaSource::Link("https://example.com/h.png".to_owned()),
                    },
                }),
                body: BodyText::new("Pick one"),
                footer: Some(BodyText::new("Intaj")),
                action: ButtonAction {
                    buttons: vec![ReplyButton::new("yes", "Yes"), ReplyButton::new("no", "No")],
                },
            },
        );
        assert_eq!(
            wire(&message),
            envelope(
                "interactive",
                json!({
                    "type": "button",
                    "header": {"type": "image", "image": {"link": "https://example.com/h.png"}},
                    "body": {"text": "Pick one"},
                    "footer": {"text": "Intaj"},
                    "action": {"buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "no", "title": "No"}},
                    ]},
                })
            )
        );
        assert_eq!(
            wire(&OutboundMessage::buttons(
                phone(),
                "Ok?",
                vec![ReplyButton::new("ok", "OK")]
            ))["interactive"],
            json!({
                "type": "button",
                "body": {"text": "Ok?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "ok", "title": "OK"}}]},
            })
        );
    }

    #[test]
    fn interactive_list() {
        let message = OutboundMessage::interactive(
            phone(),
            Interactive::List {
                header: Some(TextHeader("Menu".to_owned())),
                body: BodyText::new("What would you like?"),
                footer: None,
                action: ListAction {
                    button: "Choose".to_owned(),
                    sections: vec![ListSection {
                        title: Some("Drinks".to_owned()),
                        rows: vec![
                            ListRow {
                                id: "tea".to_owned(),
                                title: "Tea".to_owned(),
                                description: Some("Hot".to_owned()),
                            },
                            ListRow {
                                id: "water".to_owned(),
                                title: "Water".to_owned(),
                                description: None,
                            },
                        ],
                    }],
                },
            },
        );
        assert_eq!(
            wire(&message),
            envelope(
                "interactive",
                json!({
                    "type": "list",
                    "header": {"type": "text", "text": "Menu"},
                    "body": {"text": "What would you like?"},
                    "action": {
                        "button": "Choose",
                        "sections": [{"title": "Drinks", "rows": [
                            {"id": "tea", "title": "Tea", "description": "Hot"},
                            {"id": "water", "title": "Water"},
                        ]}],
                    },
                })
            )
        );
    }

    #[test]
    fn interactive_cta_url() {
        let message = OutboundMessage::interactive(
            phone(),
            Interactive::CtaUrl {
                header: Some(Header::Text {
                    text: "Dates".to_owned(),
                }),
                body: BodyText::new("Tap to see dates"),
                footer: Some(BodyText::new("Subject to change")),
                action: CtaUrlAction {
                    display_text: "See Dates".to_owned(),
                    url: "https://example.com/dates".to_owned(),
                },
            },
        );
        assert_eq!(
            wire(&message),
            envelope(
                "interactive",
                json!({
                    "type": "cta_url",
                    "header": {"type": "text", "text": "Dates"},
                    "body": {"text": "Tap to see dates"},
                    "footer": {"text": "Subject to change"},
                    "action": {
                        "name": "cta_url",
                        "parameters": {"display_text": "See Dates", "url": "https://example.com/dates"},
                    },
                })
            )
        );
    }

    #[test]
    fn reaction() {
        assert_eq!(
            wire(&OutboundMessage::reaction(phone(), "wamid.XYZ", "👍")),
            envelope(
                "reaction",
                json!({"message_id": "wamid.XYZ", "emoji": "👍"})
            )
        );
    }

    #[test]
    fn template() {
        let mut template = Template::new("order_update", "en_US");
        assert_eq!(
            wire(&OutboundMessage::template(phone(), template.clone())),
            envelope(
                "template",
                json!({"name": "order_update", "language": {"code": "en_US"}})
            )
        );
        let button: TemplateComponent = serde_json::from_value(json!({
            "type": "button", "sub_type": "quick_reply", "index": "0",
            "parameters": [{"type": "payload", "payload": "STOP"}],
        }))
        .unwrap();
        template.components = vec![
            TemplateComponent::body(vec![
                TemplateParameter::text("Ada"),
                TemplateParameter::text("#42"),
            ]),
            button,
        ];
        assert_eq!(template.components[0].parameters.len(), 2);
        let message = OutboundMessage::template(phone(), template);
        assert_eq!(message.kind(), "template");
        assert_eq!(
            wire(&message),
            envelope(
                "template",
                json!({
                    "name": "order_update",
                    "language": {"code": "en_US"},
                    "components": [
                        {"type": "body", "parameters": [
                            {"type": "text", "text": "Ada"},
                            {"type": "text", "text": "#42"},
                        ]},
                        {"type": "button", "sub_type": "quick_reply", "index": "0",
                         "parameters": [{"type": "payload", "payload": "STOP"}]},
                    ],
                })
            )
        );
    }
}
