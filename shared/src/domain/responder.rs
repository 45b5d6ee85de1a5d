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
    #[serde(rename = "match")]
    pub matches: RuleMatch,
    /// One message or an array of them, each a `/send` body whose `to` defaults to the customer.
    pub reply: Value,
}

/// What a rule answers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleMatch {
    /// A case-insensitive regular expression, e.g. `hi|hello`, matched against the text, a
    /// button's payload or an interactive reply's id.
    Pattern(String),
    /// A message type, e.g. `{"type":"image"}`.
    Kind {
        #[serde(rename = "type")]
        kind: String,
    },
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
