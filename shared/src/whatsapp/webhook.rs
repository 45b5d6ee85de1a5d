//! Typed, borrowing views of the webhook bodies Meta posts (`object: whatsapp_business_account`).
//!
//! Parsing is layered so that nothing is ever lost: the envelope (entries, changes) is typed, each
//! change's `value` is kept as raw JSON until its `field` says what it is, and each message is
//! kept as raw JSON beside its typed [`MessageEnvelope`] so unknown types and unknown fields
//! survive verbatim. [`Message`] gives the full typed content for consumers such as the responder.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The only `object` WhatsApp webhooks carry.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// Message types Meta documents; anything else is stored as `unsupported`.
pub const KNOWN_MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
    "request_welcome",
];

#[derive(Debug, Deserialize)]
pub struct WebhookPayload<'a> {
    #[serde(borrow)]
    pub object: Cow<'a, str>,
    #[serde(default, borrow)]
    pub entry: Vec<Entry<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Entry<'a> {
    /// The WhatsApp Business Account id.
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    /// Unix seconds of the event; template changes carry nothing else that tells two alike apart.
    #[serde(default)]
    pub time: Option<i64>,
    #[serde(default, borrow)]
    pub changes: Vec<Change<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Change<'a> {
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    /// Parsed once `field` is known: [`MessagesValue`] for `messages`,
    /// [`TemplateUpdate`] for the four template changes.
    #[serde(borrow)]
    pub value: &'a RawValue,
}

/// Any body, read part by part: each entry and change is typed on its own ([`EntryParts`],
/// [`Change`]), so a malformed one is kept verbatim while the others are recorded.
#[derive(Debug, Deserialize)]
pub struct WebhookParts<'a> {
    #[serde(borrow)]
    pub object: Cow<'a, str>,
    /// An array of entries; anything else is kept verbatim.
    #[serde(default, borrow)]
    pub entry: Option<&'a RawValue>,
}

/// One entry of [`WebhookParts`], its changes still raw.
#[derive(Debug, Deserialize)]
pub struct EntryParts<'a> {
    /// The WhatsApp Business Account id (a string from Meta; anything else is not trusted).
    #[serde(default, borrow)]
    pub id: Option<&'a RawValue>,
    /// Unix seconds of the event; template changes carry nothing else that tells two alike apart.
    #[serde(default, borrow)]
    pub time: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub changes: Vec<&'a RawValue>,
}

impl EntryParts<'_> {
    /// The business account `id`: Meta's string, or a number's digits.
    pub fn account(&self) -> Option<String> {
        let raw = self.id?.get();
        serde_json::from_str::<String>(raw).ok().or_else(|| {
            raw.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| raw.to_owned())
        })
    }

    /// `time` when it is a whole number of seconds.
    pub fn time(&self) -> Option<i64> {
        self.time.and_then(|raw| raw.get().parse().ok())
    }
}

/// `value` of a `messages` change that does not type as a whole: each contact, status and
/// error is typed on its own, so one malformed item is kept verbatim and the rest recorded.
#[derive(Debug, Deserialize)]
pub struct MessagesValueItems<'a> {
    #[serde(borrow)]
    pub metadata: Metadata<'a>,
    #[serde(default, borrow)]
    pub contacts: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub messages: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub statuses: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub errors: Vec<&'a RawValue>,
}

impl<'a> MessagesValueItems<'a> {
    /// The items that type, as a [`MessagesValue`], and the ones that do not, verbatim.
    pub fn split(self) -> (MessagesValue<'a>, Vec<&'a RawValue>) {
        let mut unreadable = Vec::new();
        let contacts = typed_each(self.contacts, &mut unreadable);
        let statuses = typed_each(self.statuses, &mut unreadable);
        let errors = typed_each(self.errors, &mut unreadable);
        let value = MessagesValue {
            messaging_product: None,
            metadata: self.metadata,
            contacts,
            messages: self.messages,
            statuses,
            errors,
        };
        (value, unreadable)
    }
}

/// Each item typed as `T`; the ones that are not go to `unreadable`, verbatim.
fn typed_each<'a, T: Deserialize<'a>>(
    items: Vec<&'a RawValue>,
    unreadable: &mut Vec<&'a RawValue>,
) -> Vec<T> {
    items
        .into_iter()
        .filter_map(|raw| match serde_json::from_str(raw.get()) {
            Ok(item) => Some(item),
            Err(_) => {
                unreadable.push(raw);
                None
            }
        })
        .collect()
}

/// The usual body read in one pass: every change's `value` typed as a [`MessagesValue`].
/// A body this does not read (a template change, any other kind, a part of an unexpected
/// shape) is read with [`WebhookParts`], whose layered parse keeps such parts verbatim.
#[derive(Debug, Deserialize)]
pub struct MessagesPayload<'a> {
    #[serde(borrow)]
    pub object: Cow<'a, str>,
    #[serde(default, borrow)]
    pub entry: Vec<MessagesEntry<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct MessagesEntry<'a> {
    #[serde(default, borrow)]
    pub changes: Vec<MessagesChange<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct MessagesChange<'a> {
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    #[serde(borrow)]
    pub value: MessagesValue<'a>,
}

impl MessagesPayload<'_> {
    /// Whether every change is a `messages` change, so nothing needs its raw JSON.
    pub fn only_messages(&self) -> bool {
        self.entry
            .iter()
            .flat_map(|entry| &entry.changes)
            .all(|change| change.field == "messages")
    }
}

/// `value` of a `messages` change.
#[derive(Debug, Deserialize)]
pub struct MessagesValue<'a> {
    #[serde(default, borrow)]
    pub messaging_product: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub metadata: Metadata<'a>,
    #[serde(default, borrow)]
    pub contacts: Vec<ContactProfile<'a>>,
    /// Each message verbatim; read it with [`MessageEnvelope`] or [`Message`].
    #[serde(default, borrow)]
    pub messages: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub statuses: Vec<Status<'a>>,
    #[serde(default, borrow)]
    pub errors: Vec<MetaError<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata<'a> {
    #[serde(default, borrow)]
    pub display_phone_number: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub phone_number_id: Cow<'a, str>,
}

/// `contacts[]` beside messages: who wrote.
#[derive(Debug, Deserialize)]
pub struct ContactProfile<'a> {
    #[serde(default, borrow)]
    pub wa_id: Option<Cow<'a, str>>,
    /// Business-scoped user id (customers with a username, since 2026).
    #[serde(default, borrow)]
    pub user_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub profile: Option<Profile<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Profile<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
}

/// The fields every message has, whatever its type: enough to store and route it.
#[derive(Debug, Deserialize)]
pub struct MessageEnvelope<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub from: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub from_user_id: Option<Cow<'a, str>>,
    /// Unix seconds as a string.
    #[serde(default, borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
}

impl MessageEnvelope<'_> {
    /// The type to store: Meta's own, or `unsupported` for one this code does not know.
    pub fn stored_kind(&self) -> &'static str {
        KNOWN_MESSAGE_TYPES
            .iter()
            .find(|known| **known == self.kind)
            .unwrap_or(&"unsupported")
    }
}

/// One entry of `statuses[]`.
#[derive(Debug, Deserialize)]
pub struct Status<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    #[serde(default, borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub recipient_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub recipient_user_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub biz_opaque_callback_data: Option<Cow<'a, str>>,
    /// Verbatim, see [`Conversation`].
    #[serde(default, borrow)]
    pub conversation: Option<&'a RawValue>,
    /// Verbatim, see [`Pricing`].
    #[serde(default, borrow)]
    pub pricing: Option<&'a RawValue>,
    /// Verbatim, see [`MetaError`].
    #[serde(default, borrow)]
    pub errors: Option<&'a RawValue>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Conversation<'a> {
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub expiration_timestamp: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub origin: Option<ConversationOrigin<'a>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConversationOrigin<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pricing<'a> {
    #[serde(default)]
    pub billable: Option<bool>,
    #[serde(default, borrow)]
    pub pricing_model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub category: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
}

/// An error object as Meta puts it in webhooks (`errors[]` of statuses, messages and values).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetaError<'a> {
    pub code: i64,
    #[serde(default, borrow)]
    pub title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub message: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub error_data: Option<ErrorData<'a>>,
    #[serde(default, borrow)]
    pub href: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorData<'a> {
    #[serde(default, borrow)]
    pub details: Option<Cow<'a, str>>,
}

/// `value` of any of the four template changes: `message_template_status_update`,
/// `message_template_quality_update`, `template_category_update` (impending or done) and
/// `message_template_components_update`. Each carries some of these fields; statuses,
/// categories and scores are open sets, so they are kept as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TemplateUpdate<'a> {
    /// Meta sends a JSON number; a string is read too.
    #[serde(default)]
    pub message_template_id: Option<serde_json::Value>,
    #[serde(default, borrow)]
    pub message_template_name: Option<Cow<'a, str>>,
    /// `en`, `en_US`, sometimes `en-US`.
    #[serde(default, borrow)]
    pub message_template_language: Option<Cow<'a, str>>,
    /// Status update: the new status (`APPROVED`, `PAUSED`, …).
    #[serde(default, borrow)]
    pub event: Option<Cow<'a, str>>,
    /// Status update: `NONE`, `INVALID_FORMAT`, …; may be `null`.
    #[serde(default, borrow)]
    pub reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub other_info: Option<TemplateInfo>,
    #[serde(default)]
    pub rejection_info: Option<TemplateInfo>,
    #[serde(default)]
    pub disable_info: Option<serde_json::Value>,
    /// Quality update.
    #[serde(default, borrow)]
    pub new_quality_score: Option<Cow<'a, str>>,
    /// Category update: done (`previous_category` → `new_category`), or impending
    /// (`correct_category` from `category_update_timestamp`).
    #[serde(default, borrow)]
    pub new_category: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub correct_category: Option<Cow<'a, str>>,
    #[serde(default)]
    pub category_update_timestamp: Option<i64>,
    /// Components update: the body text, footer and buttons as they are now.
    #[serde(default, borrow)]
    pub message_template_element: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub message_template_footer: Option<Cow<'a, str>>,
    #[serde(default)]
    pub message_template_buttons: Option<Vec<TemplateButtonUpdate>>,
}

/// `other_info` (`title`, `description`) or `rejection_info` (`reason`, `recommendation`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TemplateInfo {
    #[serde(default, alias = "reason")]
    pub title: Option<String>,
    #[serde(default, alias = "recommendation")]
    pub description: Option<String>,
}

/// One button of a components update.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TemplateButtonUpdate {
    #[serde(default)]
    pub message_template_button_type: Option<String>,
    #[serde(default)]
    pub message_template_button_text: Option<String>,
    #[serde(default)]
    pub message_template_button_url: Option<String>,
    #[serde(default)]
    pub message_template_button_phone_number: Option<String>,
}

/// A message with its type-specific content, for consumers that act on it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub from: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub from_user_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub context: Option<Context<'a>>,
    #[serde(default, borrow)]
    pub referral: Option<Referral<'a>>,
    #[serde(default, borrow)]
    pub text: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub image: Option<Media<'a>>,
    #[serde(default, borrow)]
    pub audio: Option<Media<'a>>,
    #[serde(default, borrow)]
    pub video: Option<Media<'a>>,
    #[serde(default, borrow)]
    pub document: Option<Media<'a>>,
    #[serde(default, borrow)]
    pub sticker: Option<Media<'a>>,
    #[serde(default, borrow)]
    pub location: Option<Location<'a>>,
    #[serde(default, borrow)]
    pub contacts: Option<Vec<SharedContact<'a>>>,
    #[serde(default, borrow)]
    pub interactive: Option<Interactive<'a>>,
    #[serde(default, borrow)]
    pub button: Option<Button<'a>>,
    #[serde(default, borrow)]
    pub reaction: Option<Reaction<'a>>,
    #[serde(default, borrow)]
    pub order: Option<Order<'a>>,
    #[serde(default, borrow)]
    pub system: Option<System<'a>>,
    #[serde(default, borrow)]
    pub errors: Option<Vec<MetaError<'a>>>,
}

/// What a message says, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent<'m, 'a> {
    Text(&'m Text<'a>),
    Image(&'m Media<'a>),
    Audio(&'m Media<'a>),
    Video(&'m Media<'a>),
    Document(&'m Media<'a>),
    Sticker(&'m Media<'a>),
    Location(&'m Location<'a>),
    Contacts(&'m [SharedContact<'a>]),
    Interactive(&'m Interactive<'a>),
    Button(&'m Button<'a>),
    Reaction(&'m Reaction<'a>),
    Order(&'m Order<'a>),
    System(&'m System<'a>),
    /// A type Meta cannot show (`unsupported`) or one this code does not know: read the raw JSON.
    Unsupported,
}

impl<'a> Message<'a> {
    pub fn content(&self) -> MessageContent<'_, 'a> {
        use MessageContent as C;
        let content = match self.kind.as_ref() {
            "text" => self.text.as_ref().map(C::Text),
            "image" => self.image.as_ref().map(C::Image),
            "audio" => self.audio.as_ref().map(C::Audio),
            "video" => self.video.as_ref().map(C::Video),
            "document" => self.document.as_ref().map(C::Document),
            "sticker" => self.sticker.as_ref().map(C::Sticker),
            "location" => self.location.as_ref().map(C::Location),
            "contacts" => self.contacts.as_deref().map(C::Contacts),
            "interactive" => self.interactive.as_ref().map(C::Interactive),
            "button" => self.button.as_ref().map(C::Button),
            "reaction" => self.reaction.as_ref().map(C::Reaction),
            "order" => self.order.as_ref().map(C::Order),
            "system" => self.system.as_ref().map(C::System),
            _ => None,
        };
        content.unwrap_or(C::Unsupported)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Context<'a> {
    /// Sender of the message replied to.
    #[serde(default, borrow)]
    pub from: Option<Cow<'a, str>>,
    /// Id of the message replied to.
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub forwarded: Option<bool>,
    #[serde(default)]
    pub frequently_forwarded: Option<bool>,
    #[serde(default, borrow)]
    pub referred_product: Option<ReferredProduct<'a>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReferredProduct<'a> {
    #[serde(default, borrow)]
    pub catalog_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub product_retailer_id: Option<Cow<'a, str>>,
}

/// Click-to-WhatsApp ad or post the customer came from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Referral<'a> {
    #[serde(default, borrow)]
    pub source_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub source_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub source_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub headline: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub body: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub media_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub image_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub video_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub thumbnail_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub ctwa_clid: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Text<'a> {
    #[serde(borrow)]
    pub body: Cow<'a, str>,
}

/// Image, audio, video, document or sticker: the media is fetched separately by `id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Media<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub mime_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub sha256: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub caption: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub filename: Option<Cow<'a, str>>,
    /// Audio recorded as a voice note.
    #[serde(default)]
    pub voice: Option<bool>,
    /// Animated sticker.
    #[serde(default)]
    pub animated: Option<bool>,
    #[serde(default, borrow)]
    pub url: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Location<'a> {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub address: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub url: Option<Cow<'a, str>>,
}

/// A contact card the customer shared.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SharedContact<'a> {
    #[serde(default, borrow)]
    pub name: Option<ContactName<'a>>,
    #[serde(default, borrow)]
    pub phones: Vec<ContactPhone<'a>>,
    #[serde(default, borrow)]
    pub emails: Vec<ContactEmail<'a>>,
    #[serde(default, borrow)]
    pub org: Option<ContactOrg<'a>>,
    #[serde(default, borrow)]
    pub addresses: Vec<ContactAddress<'a>>,
    #[serde(default, borrow)]
    pub urls: Vec<ContactUrl<'a>>,
    #[serde(default, borrow)]
    pub birthday: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactName<'a> {
    #[serde(default, borrow)]
    pub formatted_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub first_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub last_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub middle_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub prefix: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub suffix: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactPhone<'a> {
    #[serde(default, borrow)]
    pub phone: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub wa_id: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactEmail<'a> {
    #[serde(default, borrow)]
    pub email: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactOrg<'a> {
    #[serde(default, borrow)]
    pub company: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub department: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub title: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactAddress<'a> {
    #[serde(default, borrow)]
    pub street: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub city: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub state: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub zip: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub country: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub country_code: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContactUrl<'a> {
    #[serde(default, borrow)]
    pub url: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Interactive<'a> {
    /// `button_reply`, `list_reply` or `nfm_reply`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub button_reply: Option<ReplyChoice<'a>>,
    #[serde(default, borrow)]
    pub list_reply: Option<ReplyChoice<'a>>,
    #[serde(default, borrow)]
    pub nfm_reply: Option<FlowReply<'a>>,
}

/// The button or list row the customer picked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReplyChoice<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub description: Option<Cow<'a, str>>,
}

/// A WhatsApp Flow's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FlowReply<'a> {
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub body: Option<Cow<'a, str>>,
    /// JSON text of the flow's answers.
    #[serde(default, borrow)]
    pub response_json: Option<Cow<'a, str>>,
}

/// A template's quick-reply button pressed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Button<'a> {
    #[serde(default, borrow)]
    pub payload: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reaction<'a> {
    #[serde(borrow)]
    pub message_id: Cow<'a, str>,
    /// Absent or empty when the customer removed the reaction.
    #[serde(default, borrow)]
    pub emoji: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order<'a> {
    #[serde(default, borrow)]
    pub catalog_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub product_items: Vec<ProductItem<'a>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProductItem<'a> {
    #[serde(borrow)]
    pub product_retailer_id: Cow<'a, str>,
    #[serde(default)]
    pub quantity: Option<serde_json::Number>,
    #[serde(default)]
    pub item_price: Option<serde_json::Number>,
    #[serde(default, borrow)]
    pub currency: Option<Cow<'a, str>>,
}

/// A system notice, e.g. the customer changed number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct System<'a> {
    #[serde(default, borrow)]
    pub body: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub wa_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub new_wa_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub customer: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub identity: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub user_id: Option<Cow<'a, str>>,
}
