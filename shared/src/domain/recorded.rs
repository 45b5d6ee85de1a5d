//! What the responder acts on: something recorded for the first time. The table's stream
//! carries it when deployed, the memory store's feed in the local stack.

use super::{InboundMessage, StatusEvent, TemplateKey};

#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// A customer's message, for the bot to answer.
    Inbound(String, InboundMessage),
    /// A new status of an outbound message, for the business's URLs.
    Status(StatusChange),
    /// A known template's status changed (by Meta's webhook or a sync).
    TemplateStatus(TemplateStatusChange),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub bot_id: String,
    pub event: StatusEvent,
    /// The send's own `statusCallbackUrl`, when it named one.
    pub callback_url: Option<String>,
    /// False when only the send's callback URL is still owed the event: the status came
    /// before the send's record, and the connection's `eventsUrl` had it then.
    pub to_events_url: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateStatusChange {
    pub bot_id: String,
    pub template_id: Option<String>,
    pub key: TemplateKey,
    pub status: String,
    pub previous_status: String,
    pub reason: Option<String>,
    /// Unix seconds at which it was recorded; the same on every delivery of this change.
    pub at: i64,
}
