use std::fmt;

use serde::{Deserialize, Serialize};

use super::CustomerIds;

/// Where an outbound message stands. Statuses can arrive out of order; the furthest one wins
/// and `Failed` is final.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Stored by the send route, not yet confirmed by Meta.
    Accepted,
    Sent,
    Delivered,
    Read,
    /// A voice message was played.
    Played,
    Failed,
    /// A status Meta added after this code was written: kept, never raises the current status.
    Other(String),
}

impl MessageStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "accepted" => Self::Accepted,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Accepted => "accepted",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }

    /// Progress order used for "furthest status wins". `None` for statuses that never become
    /// the current one.
    pub fn rank(&self) -> Option<u8> {
        match self {
            Self::Accepted => Some(0),
            Self::Sent => Some(1),
            Self::Delivered => Some(2),
            Self::Read => Some(3),
            Self::Played => Some(4),
            Self::Failed => Some(u8::MAX),
            Self::Other(_) => None,
        }
    }

    /// Whether `self` should replace `current` as a message's status.
    pub fn advances(&self, current: Option<&MessageStatus>) -> bool {
        match (self.rank(), current.and_then(MessageStatus::rank)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(new), Some(old)) => new > old,
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MessageStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

/// One status webhook for one message, as kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusEvent {
    pub message_id: String,
    pub status: MessageStatus,
    /// Unix seconds, from Meta.
    pub timestamp: i64,
    pub recipient: CustomerIds,
    /// Meta's `errors`, `conversation` and `pricing` objects, kept verbatim as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

impl StatusEvent {
    /// A message's history order, the same in every store: oldest first; within one second
    /// (Meta's timestamps are whole seconds) by progress, so `sent` precedes `delivered`.
    pub fn history_key(&self) -> (i64, Option<u8>, &str) {
        (self.timestamp, self.status.rank(), self.status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::*;

    #[test]
    fn furthest_status_wins_and_failed_is_final() {
        assert!(Delivered.advances(Some(&Sent)));
        assert!(!Sent.advances(Some(&Delivered)));
        assert!(!Delivered.advances(Some(&Delivered)));
        assert!(Failed.advances(Some(&Read)));
        assert!(!Read.advances(Some(&Failed)));
        assert!(Sent.advances(None));
        assert!(!Other("deleted".into()).advances(None));
    }

    #[test]
    fn parses_and_prints_meta_names() {
        for name in [
            "accepted",
            "sent",
            "delivered",
            "read",
            "played",
            "failed",
            "warning",
        ] {
            assert_eq!(MessageStatus::parse(name).as_str(), name);
        }
    }
}
