//! What a business's `eventsUrl` (and a send's `statusCallbackUrl`) receives when one of its
//! messages or templates changes status: one event per change, with an id that stays the same
//! on every delivery, so that the receiver can drop repeats (delivery is at least once).

use serde::Serialize;
use serde_json::Value;

use crate::domain::{CustomerIds, StatusEvent, TemplateStatusChange};

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

/// A template's status changed (`APPROVED`, `REJECTED`, `PAUSED`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStatusCallback {
    /// `template:<templateId or name:language>:<status>:<at>`.
    pub event_id: String,
    /// `template.status`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub bot_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub status: String,
    pub previous_status: String,
    /// Meta's reason, for a rejection or a pause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unix seconds at which the change was recorded.
    pub timestamp: i64,
}

impl TemplateStatusCallback {
    pub fn of(change: &TemplateStatusChange) -> Self {
        let template = match &change.template_id {
            Some(id) => id.clone(),
            None => format!("{}:{}", change.key.name, change.key.language),
        };
        Self {
            event_id: format!("template:{template}:{}:{}", change.status, change.at),
            kind: "template.status",
            bot_id: change.bot_id.clone(),
            template_id: change.template_id.clone(),
            name: change.key.name.clone(),
            language: change.key.language.clone(),
            status: change.status.clone(),
            previous_status: change.previous_status.clone(),
            reason: change.reason.clone(),
            timestamp: change.at,
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
