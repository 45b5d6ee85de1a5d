use serde::{Deserialize, Serialize};

/// WhatsApp's customer service window: free-form messages are allowed for 24 h after the
/// customer's last message.
pub const WINDOW_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationWindow {
    /// Unix seconds at which free-form messages stop being allowed.
    pub expires_at: i64,
    /// Unix seconds of the customer's latest message.
    pub last_inbound_at: i64,
}

impl ConversationWindow {
    pub fn opened_by(inbound_at: i64) -> Self {
        Self {
            expires_at: inbound_at + WINDOW_SECONDS,
            last_inbound_at: inbound_at,
        }
    }

    pub fn is_open_at(&self, now: i64) -> bool {
        now < self.expires_at
    }

    /// Whether a customer's message sent at `inbound_at` (or a later one) raised this window.
    pub fn covers(&self, inbound_at: i64) -> bool {
        self.expires_at >= Self::opened_by(inbound_at).expires_at
    }

    /// Combines two views of one customer's window: the later of each instant wins, so a window
    /// is never shortened.
    pub fn merge(self, other: Self) -> Self {
        Self {
            expires_at: self.expires_at.max(other.expires_at),
            last_inbound_at: self.last_inbound_at.max(other.last_inbound_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lasts_24_hours_and_never_shrinks() {
        let w = ConversationWindow::opened_by(1_000);
        assert!(w.is_open_at(1_000 + WINDOW_SECONDS - 1));
        assert!(!w.is_open_at(1_000 + WINDOW_SECONDS));
        let older = ConversationWindow::opened_by(500);
        assert_eq!(w.clone().merge(older), w);
    }
}

/// A person took the conversation over: the bot does not answer this customer until `until`
/// (unix seconds), or until resumed when `until` is `None`. Messages are still recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponderPause {
    pub paused_at: i64,
    pub until: Option<i64>,
}

impl ResponderPause {
    pub fn is_active_at(&self, now: i64) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}
