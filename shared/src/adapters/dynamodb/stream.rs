//! The table's stream, as the responder receives it: the pipe in `template.yaml` puts each new
//! inbound message's stream record on the responder's FIFO queue, grouped by the item's
//! `conversation` attribute, deduplicated by its message id.

use serde_json::Value;

use super::items::{BOT_ID, MESSAGE_ID, PHONE_NUMBER_ID};
use crate::domain::{CustomerIds, InboundMessage};

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

/// The FIFO queue's message group of a conversation: one bot's one customer, by the customer's
/// stable id (the BSUID when known).
pub fn conversation_key(bot_id: &str, customer: &CustomerIds) -> Option<String> {
    customer.stable_id().map(|id| format!("{bot_id}#{id}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::adapters::dynamodb::items::{Attrs, CONVERSATION, InboundItem};

    /// What DynamoDB Streams writes for an item: each attribute as `{"S":…}` or `{"N":…}`.
    fn stream_image(item: &Attrs) -> Value {
        let mut image = serde_json::Map::new();
        for (name, value) in item {
            let typed = match value {
                aws_sdk_dynamodb::types::AttributeValue::S(s) => json!({"S": s}),
                aws_sdk_dynamodb::types::AttributeValue::N(n) => json!({"N": n}),
                other => panic!("unexpected attribute {other:?}"),
            };
            image.insert(name.clone(), typed);
        }
        json!({"eventName": "INSERT", "dynamodb": {"NewImage": image}})
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
        let record = stream_image(&item);
        assert_eq!(
            inbound_of_stream_record(&record),
            Some(("demo".to_owned(), message))
        );
        assert_eq!(
            record["dynamodb"]["NewImage"][CONVERSATION]["S"],
            "demo#US.1"
        );
        let status_only = json!({"dynamodb": {"NewImage": {"botId": {"S": "demo"}}}});
        assert_eq!(inbound_of_stream_record(&status_only), None);
    }
}
