//! The table's stream, as the responder receives it (NEW_AND_OLD_IMAGES): the pipe in
//! `template.yaml` puts each new inbound message's record on the responder's FIFO queue,
//! grouped by the item's `conversation` attribute, deduplicated by its message id; the stream
//! trigger hands it the message heads and templates whose statuses changed.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::items::{
    self, Attrs, BOT_ID, ENTITY, MESSAGE_ID, PHONE_NUMBER_ID, STATUS_CALLBACK_URL, TemplateRecord,
};
use crate::domain::{CustomerIds, InboundMessage, Recorded, StatusChange, TemplateStatusChange};
use crate::ports::StoreError;

/// The bot and the inbound message of a stream record (`{"dynamodb":{"NewImage":{…}}}`), or
/// `None` when the record is not a whole inbound message item.
pub fn inbound_of_stream_record(record: &Value) -> Option<(String, InboundMessage)> {
    let image = &record["dynamodb"]["NewImage"];
    let s = |name: &str| image[name]["S"].as_str().map(str::to_owned);
    if s("direction").as_deref() != Some("inbound") {
        return None;
    }
    let message = InboundMessage {
        message_id: s(MESSAGE_ID)?,
        customer: CustomerIds {
            wa_id: s("customerWaId"),
            bsuid: s("customerBsuid"),
        },
        phone_number_id: s(PHONE_NUMBER_ID)?,
        kind: s("kind")?,
        timestamp: image["createdAt"]["N"].as_str()?.parse().ok()?,
        profile_name: s("profileName"),
        content: s("content")?,
    };
    Some((s(BOT_ID)?, message))
}

/// What a stream record (Lambda's JSON of one record) brings the responder: a new inbound
/// message, the new statuses of a message (for the business's URLs), or a known template's
/// status change. Nothing for the other items.
pub fn recorded_of_stream_record(record: &Value) -> Result<Vec<Recorded>, StoreError> {
    let change = &record["dynamodb"];
    let old = image(&change["OldImage"]);
    let Some(new) = image(&change["NewImage"]) else {
        return Ok(Vec::new()); // a removal
    };
    // Seconds in Lambda's events; the same on every delivery of this record.
    let at = change["ApproximateCreationDateTime"]
        .as_f64()
        .map_or_else(crate::clock::unix_now, |t| t as i64);
    let entity = match new.get(ENTITY) {
        Some(AttributeValue::S(entity)) => entity.as_str(),
        _ => return Ok(Vec::new()),
    };
    match entity {
        "message" => {
            if old.is_none()
                && let Some((bot_id, message)) = inbound_of_stream_record(record)
            {
                return Ok(vec![Recorded::Inbound(bot_id, message)]);
            }
            message_statuses(old.as_ref(), &new)
        }
        "template" => Ok(template_status(old.as_ref(), &new, at)?
            .map(Recorded::TemplateStatus)
            .into_iter()
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// Statuses the new image holds and the old did not, for the connection's `eventsUrl` and
/// the send's `statusCallbackUrl`; when that URL came with this write (the send's record
/// after its first statuses), the statuses already there are owed to it alone.
fn message_statuses(old: Option<&Attrs>, new: &Attrs) -> Result<Vec<Recorded>, StoreError> {
    let Some(AttributeValue::S(bot_id)) = new.get(BOT_ID) else {
        return Ok(Vec::new());
    };
    let url_of = |item: &Attrs| match item.get(STATUS_CALLBACK_URL) {
        Some(AttributeValue::S(url)) => Some(url.clone()),
        _ => None,
    };
    let callback_url = url_of(new);
    let url_is_new = callback_url.is_some() && old.and_then(url_of).is_none();
    let before = match old {
        Some(old) => items::head_statuses(old)?,
        None => Default::default(),
    };
    let mut changes = Vec::new();
    for (name, event) in items::head_statuses(new)? {
        let seen = before.contains_key(&name);
        if seen && !url_is_new {
            continue;
        }
        changes.push(Recorded::Status(StatusChange {
            bot_id: bot_id.clone(),
            event,
            callback_url: callback_url.clone(),
            to_events_url: !seen,
        }));
    }
    Ok(changes)
}

/// A known template whose newest status differs between the images.
fn template_status(
    old: Option<&Attrs>,
    new: &Attrs,
    at: i64,
) -> Result<Option<TemplateStatusChange>, StoreError> {
    let Some(old) = old else {
        return Ok(None); // first seen: no change to tell
    };
    let Some(AttributeValue::S(bot_id)) = new.get(BOT_ID) else {
        return Ok(None);
    };
    let (before, after) = (
        TemplateRecord::try_from(old)?,
        TemplateRecord::try_from(new)?,
    );
    let (Some(before), Some(after)) = (before.newest(), after.newest()) else {
        return Ok(None);
    };
    if before.status == after.status {
        return Ok(None);
    }
    Ok(Some(TemplateStatusChange {
        bot_id: bot_id.clone(),
        template_id: Some(after.id.clone()).filter(|id| !id.is_empty()),
        key: after.key(),
        status: after.status.clone(),
        previous_status: before.status.clone(),
        reason: after.status_reason.clone(),
        at,
    }))
}

/// An image in the stream's typed JSON (`{"S":…}`, `{"N":…}`, `{"M":…}`, …) as the item's
/// attributes; `None` when the record has no such image.
fn image(value: &Value) -> Option<Attrs> {
    let fields = value.as_object()?;
    Some(
        fields
            .iter()
            .filter_map(|(name, typed)| Some((name.clone(), attribute(typed)?)))
            .collect(),
    )
}

fn attribute(typed: &Value) -> Option<AttributeValue> {
    let (kind, value) = typed.as_object()?.iter().next()?;
    let strings = || -> Option<Vec<String>> {
        value
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    Some(match kind.as_str() {
        "S" => AttributeValue::S(value.as_str()?.to_owned()),
        "N" => AttributeValue::N(value.as_str()?.to_owned()),
        "BOOL" => AttributeValue::Bool(value.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "M" => AttributeValue::M(image(value)?),
        "L" => AttributeValue::L(value.as_array()?.iter().filter_map(attribute).collect()),
        "SS" => AttributeValue::Ss(strings()?),
        "NS" => AttributeValue::Ns(strings()?),
        // Binary attributes: this table keeps none.
        _ => return None,
    })
}

/// The FIFO queue's message group of a conversation: one bot's one customer, by the customer's
/// stable id (the BSUID when known).
pub fn conversation_key(bot_id: &str, customer: &CustomerIds) -> Option<String> {
    customer.stable_id().map(|id| format!("{bot_id}#{id}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapters::dynamodb::items::{CONVERSATION, InboundItem, OutboundItem};
    use crate::domain::{MessageStatus, MessageTemplate, OutboundRecord, StatusEvent, TemplateKey};

    /// An attribute as DynamoDB Streams writes it (`{"S":…}`, `{"M":{…}}`, …).
    fn typed(value: &AttributeValue) -> Value {
        match value {
            AttributeValue::S(s) => json!({"S": s}),
            AttributeValue::N(n) => json!({"N": n}),
            AttributeValue::Bool(b) => json!({"BOOL": b}),
            AttributeValue::M(fields) => json!({"M": stream_image(fields)}),
            other => panic!("unexpected attribute {other:?}"),
        }
    }

    fn stream_image(item: &Attrs) -> Value {
        Value::Object(
            item.iter()
                .map(|(name, value)| (name.clone(), typed(value)))
                .collect(),
        )
    }

    fn record(event_name: &str, old: Option<&Attrs>, new: &Attrs) -> Value {
        let mut change = json!({
            "ApproximateCreationDateTime": 1_760_000_100.0,
            "NewImage": stream_image(new),
            "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if let Some(old) = old {
            change["OldImage"] = stream_image(old);
        }
        json!({"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": change})
    }

    fn outbound_head(callback_url: Option<&str>) -> Attrs {
        Attrs::from(OutboundItem {
            bot_id: "shop",
            message: &OutboundRecord {
                message_id: "wamid.OUT".into(),
                customer: CustomerIds::new(Some("15551234567"), None),
                phone_number_id: "100000000000001".into(),
                kind: "text".into(),
                created_at: 1_760_000_000,
                content: "{}".into(),
                status_callback_url: callback_url.map(str::to_owned),
            },
        })
    }

    fn status(status: MessageStatus) -> StatusEvent {
        StatusEvent {
            message_id: "wamid.OUT".into(),
            status,
            timestamp: 1_760_000_050,
            recipient: CustomerIds::new(Some("15551234567"), None),
            errors: None,
            conversation: Some(r#"{"id":"c1"}"#.into()),
            pricing: None,
            biz_opaque_callback_data: None,
        }
    }

    /// A head with `event` recorded as the webhook records it (sharing its conversation).
    fn with_status(mut head: Attrs, event: &StatusEvent) -> Attrs {
        head.insert(
            items::status_attribute(&event.status),
            items::status_entry_sharing(event),
        );
        head.insert(
            items::SHARED_CONVERSATION.to_owned(),
            AttributeValue::S(r#"{"id":"c1"}"#.into()),
        );
        head
    }

    fn status_changes(record: &Value) -> Vec<StatusChange> {
        recorded_of_stream_record(record)
            .unwrap()
            .into_iter()
            .map(|recorded| match recorded {
                Recorded::Status(change) => change,
                other => panic!("not a status: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_stored_inbound_item_reads_back_from_its_stream_record() {
        let message = InboundMessage {
            message_id: "wamid.1".into(),
            customer: CustomerIds::new(Some("15551234567"), Some("US.1")),
            phone_number_id: "100000000000001".into(),
            kind: "text".into(),
            timestamp: 1_760_000_000,
            profile_name: Some("Sam".into()),
            content: r#"{"text":{"body":"hi"}}"#.into(),
        };
        let item = Attrs::from(InboundItem {
            bot_id: "demo",
            message: message.clone(),
        });
        let record = record("INSERT", None, &item);
        assert_eq!(
            inbound_of_stream_record(&record),
            Some(("demo".to_owned(), message.clone()))
        );
        assert_eq!(
            recorded_of_stream_record(&record).unwrap(),
            vec![Recorded::Inbound("demo".to_owned(), message)]
        );
        assert_eq!(
            record["dynamodb"]["NewImage"][CONVERSATION]["S"],
            "demo#US.1"
        );
        let status_only = json!({"dynamodb": {"NewImage": {"botId": {"S": "demo"}}}});
        assert_eq!(inbound_of_stream_record(&status_only), None);
    }

    #[test]
    fn only_the_status_a_write_added_is_told_with_the_sends_callback_url() {
        let url = "https://shop.example.com/status";
        let sent = status(MessageStatus::Sent);
        let delivered = status(MessageStatus::Delivered);
        let old = with_status(outbound_head(Some(url)), &sent);
        let new = with_status(old.clone(), &delivered);
        let changes = status_changes(&record("MODIFY", Some(&old), &new));
        assert_eq!(
            changes,
            vec![StatusChange {
                bot_id: "shop".into(),
                event: delivered,
                callback_url: Some(url.into()),
                to_events_url: true,
            }]
        );
        // A write that adds no status (a repeated send record) tells nothing.
        assert!(status_changes(&record("MODIFY", Some(&new), &new)).is_empty());
    }

    #[test]
    fn statuses_before_the_sends_record_are_owed_to_its_callback_url_alone() {
        let sent = status(MessageStatus::Sent);
        // The webhook's status made the head (no direction yet): for the eventsUrl.
        let mut early = with_status(Attrs::new(), &sent);
        early.insert(BOT_ID.into(), AttributeValue::S("shop".into()));
        early.insert(MESSAGE_ID.into(), AttributeValue::S("wamid.OUT".into()));
        early.insert(ENTITY.into(), AttributeValue::S("message".into()));
        let first = status_changes(&record("INSERT", None, &early));
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].to_events_url, &first[0].callback_url),
            (true, &None)
        );
        assert_eq!(first[0].event, sent);
        // Then the send's record arrives with its URL: the status is owed to it alone.
        let url = "https://shop.example.com/status";
        let mut recorded = early.clone();
        recorded.extend(outbound_head(Some(url)));
        let owed = status_changes(&record("MODIFY", Some(&early), &recorded));
        assert_eq!(
            owed,
            vec![StatusChange {
                bot_id: "shop".into(),
                event: sent,
                callback_url: Some(url.into()),
                to_events_url: false,
            }]
        );
    }

    fn template_item(status: &str) -> Attrs {
        let template = MessageTemplate::new("77", "order_update", "en_US", status, "UTILITY", "[]");
        Attrs::from([
            (ENTITY.into(), AttributeValue::S("template".into())),
            (BOT_ID.into(), AttributeValue::S("shop".into())),
            ("name".into(), AttributeValue::S("order_update".into())),
            ("language".into(), AttributeValue::S("en_US".into())),
            (
                "template".into(),
                AttributeValue::S(items::template_json(&template)),
            ),
            ("rev".into(), AttributeValue::N("3".into())),
        ])
    }

    #[test]
    fn a_known_templates_status_change_is_told_once_with_a_stable_time() {
        let (pending, approved) = (template_item("PENDING"), template_item("APPROVED"));
        let told = recorded_of_stream_record(&record("MODIFY", Some(&pending), &approved)).unwrap();
        assert_eq!(
            told,
            vec![Recorded::TemplateStatus(TemplateStatusChange {
                bot_id: "shop".into(),
                template_id: Some("77".into()),
                key: TemplateKey::new("order_update", "en_US"),
                status: "APPROVED".into(),
                previous_status: "PENDING".into(),
                reason: None,
                at: 1_760_000_100,
            })]
        );
        // No change of status, or a template first seen: nothing to tell.
        assert!(
            recorded_of_stream_record(&record("MODIFY", Some(&approved), &approved))
                .unwrap()
                .is_empty()
        );
        assert!(
            recorded_of_stream_record(&record("INSERT", None, &approved))
                .unwrap()
                .is_empty()
        );
    }
}
