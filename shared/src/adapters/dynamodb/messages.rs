//! [`MessageStore`] on DynamoDB: a message's head and status events share a partition; raw
//! events share one partition per bot.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

use super::items::{
    self, Attrs, BOT_ID, CURRENT_STATUS, DIRECTION, ENTITY, InboundItem, MESSAGE_ID, OutboundItem,
    RawItem, RawItems, SHARED_CONVERSATION, SHARED_PRICING, s,
};
use super::keys::{self, Key};
use super::{DynamoDbStore, build_error};
use crate::domain::{
    Claim, CustomerIds, InboundMessage, MessageRecord, MessageStatus, OutboundRecord, RawEvent,
    StatusEvent,
};
use crate::ports::{MessageStore, StoreError};

/// How an inbound message's claim went.
pub(super) enum InboundClaim {
    New,
    /// Recorded before: the first delivery's customer and time, from the refused write's old
    /// item (no read).
    Duplicate {
        first: Option<(CustomerIds, i64)>,
    },
}

/// How a status written with the head's shared conversation and pricing went.
enum Sharing {
    Recorded,
    Duplicate,
    /// The head keeps another conversation or pricing: the event goes in whole.
    Differs,
}

impl DynamoDbStore {
    /// Claims an inbound message: an update, not a put, since a status may have created the
    /// head already; whoever sets `direction` first owns the message.
    pub(super) async fn claim_inbound(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<InboundClaim, StoreError> {
        let key = Key::message(bot_id, &message.message_id);
        let (update, mut names, values) =
            items::set_all(Attrs::from(InboundItem { bot_id, message }));
        names.insert("#direction".to_owned(), DIRECTION.to_owned());
        let claimed = self
            .update_or_old(
                key,
                update,
                "attribute_not_exists(#direction)",
                names,
                values,
            )
            .await?;
        Ok(match claimed {
            Ok(()) => InboundClaim::New,
            Err(old) => InboundClaim::Duplicate {
                first: old.as_ref().and_then(items::inbound_customer_and_time),
            },
        })
    }

    async fn record_status_sharing(
        &self,
        bot_id: &str,
        event: &StatusEvent,
    ) -> Result<Sharing, StoreError> {
        let status = items::status_attribute(&event.status);
        let mut update =
            "SET #status = :event, #entity = :entity, #bot = :bot, #id = :id".to_owned();
        let mut condition = "attribute_not_exists(#status)".to_owned();
        let mut names = HashMap::from([
            ("#status".to_owned(), status.clone()),
            ("#entity".to_owned(), ENTITY.to_owned()),
            ("#bot".to_owned(), BOT_ID.to_owned()),
            ("#id".to_owned(), MESSAGE_ID.to_owned()),
        ]);
        let mut values = Attrs::from([
            (":event".to_owned(), items::status_entry_sharing(event)),
            (":entity".to_owned(), s("message")),
            (":bot".to_owned(), s(bot_id)),
            (":id".to_owned(), s(&event.message_id)),
        ]);
        for (part, attribute, name, value) in [
            (&event.conversation, SHARED_CONVERSATION, "#conv", ":conv"),
            (&event.pricing, SHARED_PRICING, "#pricing", ":pricing"),
        ] {
            if let Some(part) = part {
                update.push_str(&format!(", {name} = if_not_exists({name}, {value})"));
                condition.push_str(&format!(
                    " AND (attribute_not_exists({name}) OR {name} = {value})"
                ));
                names.insert(name.to_owned(), attribute.to_owned());
                values.insert(value.to_owned(), s(part));
            }
        }
        let written = self
            .update_or_old(
                Key::message(bot_id, &event.message_id),
                update,
                condition,
                names,
                values,
            )
            .await?;
        Ok(match written {
            Ok(()) => Sharing::Recorded,
            Err(Some(old)) if old.contains_key(&status) => Sharing::Duplicate,
            Err(_) => Sharing::Differs,
        })
    }
}

fn claim(created: bool) -> Claim {
    if created {
        Claim::New
    } else {
        Claim::Duplicate
    }
}

#[async_trait]
impl MessageStore for DynamoDbStore {
    async fn record_inbound(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError> {
        Ok(match self.claim_inbound(bot_id, message).await? {
            InboundClaim::New => Claim::New,
            InboundClaim::Duplicate { .. } => Claim::Duplicate,
        })
    }

    async fn record_outbound(
        &self,
        bot_id: &str,
        message: &OutboundRecord,
    ) -> Result<(), StoreError> {
        let (update, mut names, mut values) =
            items::set_all(Attrs::from(OutboundItem { bot_id, message }));
        names.extend([
            ("#direction".to_owned(), DIRECTION.to_owned()),
            ("#current".to_owned(), CURRENT_STATUS.to_owned()),
        ]);
        values.insert(":accepted".to_owned(), s(MessageStatus::Accepted.as_str()));
        // The floor the read derives the current status from; statuses recorded before this
        // write (the first webhook can beat the send's answer) stay above it.
        let update = format!("{update}, #current = if_not_exists(#current, :accepted)");
        // A message recorded already (a retried write) keeps its first record.
        self.update_if(
            Key::message(bot_id, &message.message_id),
            update,
            "attribute_not_exists(#direction)",
            names,
            values,
        )
        .await?;
        Ok(())
    }

    async fn record_status(&self, bot_id: &str, event: &StatusEvent) -> Result<Claim, StoreError> {
        // One write: the event becomes an attribute of the message's head, set only if absent
        // (its presence is the dedupe); the current status is derived from those present.
        // Its conversation and pricing are kept once per message when they repeat; only one that
        // differs from the kept one (rare) costs a second write, with the event whole.
        if event.conversation.is_some() || event.pricing.is_some() {
            match self.record_status_sharing(bot_id, event).await? {
                Sharing::Recorded => return Ok(Claim::New),
                Sharing::Duplicate => return Ok(Claim::Duplicate),
                Sharing::Differs => {}
            }
        }
        let created = self
            .update_if(
                Key::message(bot_id, &event.message_id),
                "SET #status = :event, #entity = :entity, #bot = :bot, #id = :id",
                "attribute_not_exists(#status)",
                HashMap::from([
                    ("#status".to_owned(), items::status_attribute(&event.status)),
                    ("#entity".to_owned(), ENTITY.to_owned()),
                    ("#bot".to_owned(), BOT_ID.to_owned()),
                    ("#id".to_owned(), MESSAGE_ID.to_owned()),
                ]),
                Attrs::from([
                    (":event".to_owned(), event.into()),
                    (":entity".to_owned(), s("message")),
                    (":bot".to_owned(), s(bot_id)),
                    (":id".to_owned(), s(&event.message_id)),
                ]),
            )
            .await?;
        Ok(claim(created))
    }

    async fn record_raw_event(&self, bot_id: &str, event: &RawEvent) -> Result<Claim, StoreError> {
        let RawItems { head, parts } = RawItems::from(RawItem { bot_id, event });
        if !parts.is_empty() {
            // A redelivery need not rewrite megabytes of parts to learn that it is one.
            if self
                .get_item(Key::raw_event(bot_id, &event.key))
                .await?
                .is_some()
            {
                return Ok(Claim::Duplicate);
            }
            // Every part before the head, so a reader that finds a head finds its whole body.
            // Plain puts: the content key fixes every part's content, so a rewrite is harmless.
            let puts = parts
                .into_iter()
                .map(|item| {
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(build_error)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.batch_write(puts).await?;
        }
        Ok(claim(self.put_new(head).await?))
    }

    async fn raw_events(&self, bot_id: &str) -> Result<Vec<RawEvent>, StoreError> {
        let items = self.partition(keys::raw_partition(bot_id)).await?;
        let mut events = items::raw_events(&items)?;
        events.sort_by(|a, b| (a.received_at, &a.key).cmp(&(b.received_at, &b.key)));
        Ok(events)
    }

    async fn message(
        &self,
        bot_id: &str,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let items = self
            .partition(keys::message_partition(bot_id, message_id))
            .await?;
        items::message_record(message_id, &items)
    }

    async fn inbound_media(
        &self,
        bot_id: &str,
        media_id: &str,
    ) -> Result<Option<String>, StoreError> {
        // The head of an inbound media message is on gsi1 under its bot and media id (sparse:
        // only media messages carry gsi1 keys). An index read is eventually consistent: a
        // message recorded a moment ago may take up to a second to be found.
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :media")
            .expression_attribute_values(":media", s(keys::media_gsi1_pk(bot_id, media_id)))
            .limit(1)
            .send()
            .await
            .map_err(|err| super::unavailable("Query gsi1", err))?;
        Ok(found
            .items()
            .first()
            .and_then(|item| match item.get(keys::GSI1_SK) {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            }))
    }
}
