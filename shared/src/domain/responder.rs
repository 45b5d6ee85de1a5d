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
    /// Keywords separated by `|`, matched case-insensitively as whole words.
    #[serde(rename = "match")]
    pub keywords: String,
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
