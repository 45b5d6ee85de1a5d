use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a connection's bot answers its customers (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Responder {
    /// The inbound message is posted, signed, to the bot's backend at `url`.
    #[serde(rename_all = "camelCase")]
    Forward {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Built-in keyword rules; each reply is a `/send` body without `to`.
    Rules {
        rules: Vec<ResponderRule>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<Value>,
    },
    /// Messages are only recorded.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponderRule {
    /// A case-insensitive regular expression, e.g. `hi|hello`, matched against the text, a
    /// button's payload or a reply's id (the responder issue gives it behaviour).
    #[serde(rename = "match")]
    pub pattern: String,
    pub reply: Value,
}

impl Responder {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Forward { .. } => "forward",
            Self::Rules { .. } => "rules",
            Self::None => "none",
        }
    }
}
