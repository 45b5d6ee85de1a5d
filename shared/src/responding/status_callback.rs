//! What a business's `eventsUrl` receives when one of its messages changes status: one event
//! per (message, status), with an id that stays the same on every delivery, so that the
//! receiver can drop repeats (delivery is at least once).

use serde::Serialize;
use serde_json::Value;

use crate::domain::{CustomerIds, StatusEvent};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCallback {
    /// `<messageId>:<status>`: the same for every delivery of this change.
    pub event_id: String,
    /// `message.status`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub bot_id: String,
    pub message_id: String,
    /// `sent`, `delivered`, `read` or `failed` (or what else Meta reports).
    pub status: String,
    /// Unix seconds, from Meta.
    pub timestamp: i64,
    pub recipient: CustomerIds,
    /// Meta's `errors` array, for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Value>,
}

impl StatusCallback {
    pub fn of(bot_id: &str, event: &StatusEvent) -> Self {
        let status = event.status.as_str().to_owned();
        Self {
            event_id: format!("{}:{status}", event.message_id),
            kind: "message.status",
            bot_id: bot_id.to_owned(),
            message_id: event.message_id.clone(),
            status,
            timestamp: event.timestamp,
            recipient: event.recipient.clone(),
            errors: event
                .errors
                .as_deref()
                .and_then(|raw| serde_json::from_str(raw).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MessageStatus;

    #[test]
    fn a_failed_status_carries_metas_errors_and_a_stable_id() {
        let event = StatusEvent {
            message_id: "wamid.X".into(),
            status: MessageStatus::Failed,
            timestamp: 1_760_000_000,
            recipient: CustomerIds::new(Some("15551234567"), None),
            errors: Some(r#"[{"code":131047,"title":"Re-engagement message"}]"#.into()),
            conversation: None,
            pricing: None,
            biz_opaque_callback_data: None,
        };
        let callback = StatusCallback::of("shop", &event);
        assert_eq!(callback.event_id, "wamid.X:failed");
        let shown = serde_json::to_value(&callback).unwrap();
        assert_eq!(shown["type"], "message.status");
        assert_eq!(shown["errors"][0]["code"], 131047);
        assert_eq!(shown["recipient"]["waId"], "15551234567");
    }
}
