//! What the product stores and reasons about. No AWS or wire type appears here.

mod api_key;
mod connection;
mod customer;
mod idempotency;
mod media_rules;
mod message;
mod recorded;
mod responder;
mod status;
mod template;
mod template_parameters;
mod window;

pub use api_key::{ApiKey, api_key_hash};
pub use connection::Connection;
pub use customer::CustomerIds;
pub use idempotency::{IdempotencyClaim, IdempotencyRecord, StoredResponse};
pub use media_rules::{
    MAX_MEDIA_BYTES, MEDIA_RULES, MediaKind, MediaRefusal, MediaRule, SNIFF_BYTES,
    check as check_media, check_declared, human_size, mime_essence,
};
pub use message::{
    Direction, InboundMessage, MEDIA_KINDS, MessageRecord, OutboundRecord, RawEvent, RawEventKind,
    inbound_media_id,
};
pub use recorded::{Recorded, StatusChange, TemplateStatusChange};
pub use responder::{Responder, ResponderRule, RuleMatch};
pub use status::{MessageStatus, StatusEvent};
pub use template::{
    MessageTemplate, TemplateChange, TemplateDiff, TemplateKey, TemplatePage, TemplateQuery,
    TemplateRef, TemplateSet, TemplateSync, TemplateSyncCounts, TemplateSyncState, diff_templates,
};
pub use template_parameters::{
    BodyParameters, ButtonKind, ButtonParameter, HeaderFormat, HeaderParameter, TemplateParameters,
};
pub use window::{ConversationWindow, ResponderPause, WINDOW_SECONDS};

/// Result of trying to record something that may have been delivered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen: it is now stored.
    New,
    /// Seen before: nothing changed.
    Duplicate,
}
