//! [`Store`](crate::ports::Store) on one DynamoDB table (single-table design).
//!
//! Keys: `pk` (S, hash), `sk` (S, range); index `gsi1` on `gsi1pk` / `gsi1sk` (projection ALL);
//! TTL attribute `expiresAt` (epoch seconds); stream NEW_AND_OLD_IMAGES; on-demand billing.
//! Every item also carries `entity` (its kind) so operators and stream consumers need not parse
//! keys.
//!
//! | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | other attributes |
//! |---|---|---|---|---|
//! | connection | `BOT#{botId}` | `CONNECTION` | `CONNECTIONS` / `BOT#{botId}` | botId, businessAccountId, phoneNumberId, createdAt |
//! | phone owner | `PHONE#{phoneNumberId}` | `OWNER` | — | phoneNumberId, botId |
//! | window | `BOT#{botId}#CUSTOMER#{customerId}` | `WINDOW` | — | botId, customerId (the stable id: BSUID, else wa_id), windowExpiresAt, lastInboundAt, otherId? (a BSUID window's wa_id) |
//! | customer link | `BOT#{botId}#CUSTOMER#{customerId}` | `LINK` | — | botId, customerId (a wa_id; both ids in the earlier layout), otherId |
//! | message head | `BOT#{botId}#MSG#{messageId}` | `MESSAGE` | — | botId, messageId, direction, customerWaId?, customerBsuid?, phoneNumberId, kind, createdAt, profileName?, content, currentStatus? (`accepted`; an earlier layout raised it), and one map attribute `STATUS#{status}` per status event: messageId, status, timestamp, recipientWaId?, recipientBsuid?, errors?, conversation?, pricing?, bizOpaqueCallbackData? |
//! | status event (earlier layout, read only) | `BOT#{botId}#MSG#{messageId}` | `STATUS#{status}` | — | the same fields as the head's map attribute |
//! | raw event | `BOT#{botId}#RAW` | `RAW#{key}` | — | botId, kind, key, phoneNumberId?, receivedAt, body? (up to 300 KiB), bodyParts? and bodyBytes? (a bigger body: its part count and length) |
//! | raw event part | `BOT#{botId}#RAW` | `RAWPART#{key}#{index:04}` | — | botId, key, part (index from 0), body (≤ 300 KiB of the event's body) |
//! | API key | `APIKEY#{sha256 hex of the key}` | `APIKEY` | — | keyHash, botId, rateLimitPerSecond, createdAt |
//! | bot's API key | `BOT#{botId}` | `APIKEY#{keyHash}` | — | botId, keyHash |
//! | idempotency record | `BOT#{botId}#IDEMP#{key}` | `IDEMPOTENCY` | — | botId, idempotencyKey, fingerprint, status (`INPROGRESS` / `COMPLETED`), inProgressUntil, expiresAt, responseStatus?, responseBody?, responseHeaders? (list of {name, value}) |
//! | rate counter | `RATE#{keyHash}#{windowStart}` | `RATE` | — | keyHash, windowStart, requests, expiresAt |
//! | template set | `BOT#{botId}` | `TEMPLATESET` | — | botId, version?, syncedAt?, nextVersion, cleanBelow? |
//! | template | `BOT#{botId}#TPL#{version}` | `TEMPLATE#{name}#{language}` | — | botId, version, name, language, status, category, parameterFormat?, components, templateId |
//!
//! How each pattern is served:
//! - **Connections**: GetItem by bot; by phone number, GetItem of the phone owner (consistent)
//!   then of the connection; all of them, Query `gsi1pk = CONNECTIONS` (eventually consistent).
//!   A put is one transaction: claim the phone owner (`attribute_not_exists(pk) OR botId = :bot`,
//!   else [`StoreError::Conflict`]), write the connection, release the bot's previous number.
//! - **Windows**: one WINDOW item per customer under its stable id (the BSUID when known, else
//!   the wa_id), raised by one conditional update per new message (`attribute_not_exists(e) OR
//!   e < :e`: expiry and last message move together) that also names the customer's wa_id on a
//!   BSUID's window; when that pairing is new (the update's old image says so), a LINK item under
//!   the wa_id points back, so it is written once per pairing. A read is one Query of the id's
//!   partition (WINDOW and LINK) plus a GetItem of the window of each other id named there; they
//!   are merged. Items of the earlier layout (a WINDOW under each id, LINKs both ways) read the
//!   same way.
//! - **Messages**: one head item holds the message and its status events, so one read gives a
//!   message with its history. Inbound dedupe is a conditional update of the head
//!   (`attribute_not_exists(direction)`: a status may have created the head first). A status is
//!   one write: an update that sets the head's attribute `STATUS#{status}` only if absent (its
//!   presence is the (message id, status) dedupe). The current status is derived when read: the
//!   furthest of the events present (failed ranks highest, so it is final), over `accepted`.
//!   Heads written by the earlier layout (events as items `STATUS#{status}` of the partition,
//!   `currentStatus` raised on the head) read the same, merged with events recorded since; one
//!   caveat: Meta's redelivery of a status the earlier layout recorded counts as new once. For
//!   the responder, a new inbound message reaches the stream as the head's INSERT, or MODIFY
//!   when a status created the head first, with `entity = message` and `direction = inbound`;
//!   later statuses MODIFY it again, so the reply claim dedupes.
//!   An outbound message is the same head, written by the send route with a conditional update
//!   (`attribute_not_exists(direction)`) that sets `currentStatus` to `accepted`
//!   only `if_not_exists`: the simulator's (or Meta's) first status webhook can beat the write.
//!   `accepted` is never a status event; the history holds webhook events only.
//! - **Raw events**: one conditional put per content key. A body over 300 KiB (Meta sends up to
//!   3 MiB; an item holds 400 KB) is split on UTF-8 character boundaries into parts of at most
//!   300 KiB, written with BatchWriteItem before the head, which then holds `bodyParts` and
//!   `bodyBytes` instead of `body`; a reader that finds a head therefore finds every part.
//!   Parts are plain puts (the content key fixes their content), and a consistent GetItem of
//!   the head first spares a redelivery rewriting them. A read is one Query of the partition,
//!   rebuilding each body from its parts; a missing part or a wrong length is
//!   [`StoreError::Corrupt`], and parts with no head (a write that stopped before its head,
//!   which Meta's redelivery completes) are skipped.
//! - **API keys**: GetItem by key hash. Each key is also listed under its bot's partition, so
//!   revoking is one consistent Query (`begins_with(sk, "APIKEY#")`) then a delete of each key
//!   (only if it still names the bot) and its listing; an index would be eventually consistent
//!   and could miss a key created just before. The listing is written first.
//! - **Idempotency** (as Powertools does it): one PutItem claims a key with
//!   `attribute_not_exists(pk) OR expiresAt < :now OR (status = INPROGRESS AND
//!   inProgressUntil < :now)` (expired records count as absent: TTL deletion lags) and
//!   `ReturnValuesOnConditionCheckFailure = ALL_OLD`, so a repeat is answered from the record
//!   that failed the condition without a second read. Completing is an update of that item;
//!   releasing deletes it while it is still `INPROGRESS`.
//! - **Rate limits**: one UpdateItem per request, `ADD requests :one` with `ReturnValues =
//!   UPDATED_NEW` (atomic across Lambda instances), `expiresAt` set `if_not_exists`.
//! - **Templates**: a sync reserves a version (`ADD nextVersion :one` on the pointer item),
//!   writes the whole set under `BOT#{botId}#TPL#{version}` (BatchWriteItem), flips the pointer
//!   (`SET version, syncedAt` if `version` is still the one it read, else it deletes its items
//!   and starts again), then deletes every version below the new one (from `cleanBelow`, so one
//!   left by a crash goes too) and raises `cleanBelow`. Readers GetItem the pointer, then read
//!   that version (one GetItem per template, one Query per set); since a version is deleted only
//!   after the pointer has moved on, a read that finds the pointer unchanged afterwards saw a
//!   whole set, and one that does not reads again.
//!
//! Retention: messages, status history, API keys and templates set no `expiresAt`; messages and
//! status history are kept, and their dedupe is the record itself. Idempotency records and rate
//! counters expire by TTL.
//!
//! Malformed items are [`StoreError::Corrupt`]; SDK failures are [`StoreError::Unavailable`]
//! (their text holds the operation, error code and message; the table holds no secret); a failed
//! condition that means "seen before" is [`Claim::Duplicate`](crate::domain::Claim), not an error.

mod api_keys;
mod connections;
mod idempotency;
mod items;
mod keys;
mod messages;
mod rate_limits;
mod schema;
pub mod stream;
mod templates;
mod windows;

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure, WriteRequest};
use futures::{StreamExt, TryStreamExt};

use items::Attrs;
use keys::Key;
use messages::InboundClaim;

use crate::domain::{Claim, ConversationWindow, InboundMessage};
use crate::ports::{ConversationStore, SendStore, Store, StoreError, WindowStore};

pub use schema::{
    IndexDefinition, KeyElement, TableAttribute, TableDefinition, create_table_if_missing,
    table_definition,
};

/// The DynamoDB adapter. Cheap to clone (the SDK client is an `Arc` inside).
#[derive(Clone, Debug)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

/// A customer's message is the claim, then the window's raise: two writes, the second only for
/// a new message. A redelivery reads the window kept under the customer's stable id and raises
/// it only when the first delivery's raise was lost (a crash between the writes, or the body's
/// other writes failing first, so that the webhook answered 503): no write otherwise.
#[async_trait::async_trait]
impl ConversationStore for DynamoDbStore {
    async fn record_customer_message(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError> {
        let customer = (!message.customer.is_empty()).then(|| message.customer.clone());
        let sent_at = message.timestamp;
        match self.claim_inbound(bot_id, message).await? {
            InboundClaim::New => {
                if let Some(customer) = customer {
                    self.extend_window(bot_id, &customer, sent_at).await?;
                }
                Ok(Claim::New)
            }
            // The first delivery's customer and time, not this copy's: a redelivery raises
            // nothing the first one did not.
            InboundClaim::Duplicate { first } => {
                if let Some((customer, first_at)) = first
                    && let Some(stable_id) = customer.stable_id()
                {
                    let window = self.get_item(Key::window(bot_id, stable_id)).await?;
                    let raised = match &window {
                        Some(item) => ConversationWindow::try_from(item)?.covers(first_at),
                        None => false,
                    };
                    if !raised {
                        tracing::warn!(
                            bot_id,
                            "redelivered message's window was not raised; raised now"
                        );
                        self.extend_window(bot_id, &customer, first_at).await?;
                    }
                }
                Ok(Claim::Duplicate)
            }
        }
    }
}

impl SendStore for DynamoDbStore {}

impl Store for DynamoDbStore {}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item, read consistently (dedupe and routing must see the latest write).
    async fn get_item(&self, key: Key) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.into_attrs()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| unavailable("GetItem", err))?;
        Ok(out.item)
    }

    /// Creates or replaces one item.
    async fn put(&self, item: Attrs) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|err| unavailable("PutItem", err))?;
        Ok(())
    }
}

impl DynamoDbStore {
    /// A conditional UpdateItem that, when its condition does not hold, gives the item as it
    /// stands (`Err(old)`, `None` if there is none), read by the refused write itself.
    async fn update_or_old(
        &self,
        key: Key,
        update: impl Into<String>,
        condition: impl Into<String>,
        names: HashMap<String, String>,
        values: Attrs,
    ) -> Result<Result<(), Option<Attrs>>, StoreError> {
        let result = self
            .conditional_update(key, update, condition, names, values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    Ok(Err(refused.item().cloned()))
                }
                _ => Err(unavailable("UpdateItem", err)),
            },
        }
    }

    /// A conditional UpdateItem: `Ok(false)` when the condition did not hold, which callers
    /// use for "already recorded" or "already further".
    async fn update_if(
        &self,
        key: Key,
        update: impl Into<String>,
        condition: impl Into<String>,
        names: HashMap<String, String>,
        values: Attrs,
    ) -> Result<bool, StoreError> {
        let result = self
            .conditional_update(key, update, condition, names, values)
            .send()
            .await;
        condition_held("UpdateItem", result)
    }

    /// The UpdateItem request both conditional updates send.
    fn conditional_update(
        &self,
        key: Key,
        update: impl Into<String>,
        condition: impl Into<String>,
        names: HashMap<String, String>,
        values: Attrs,
    ) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.into_attrs()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
    }

    /// A PutItem that only creates: `Ok(false)` when an item with that key exists.
    async fn put_new(&self, item: Attrs) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        condition_held("PutItem", result)
    }

    /// A conditional DeleteItem: `Ok(false)` when the condition did not hold (e.g. nothing to
    /// delete).
    async fn delete_if(
        &self,
        key: Key,
        condition: impl Into<String>,
        names: HashMap<String, String>,
        values: Attrs,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key.into_attrs()))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names).filter(|n| !n.is_empty()))
            .set_expression_attribute_values(Some(values).filter(|v| !v.is_empty()))
            .send()
            .await;
        condition_held("DeleteItem", result)
    }

    /// Unconditional puts and deletes in BatchWriteItem requests (25 each, a few at a time),
    /// re-sending what DynamoDB leaves unprocessed (throttling) with backoff.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        const BATCH: usize = 25;
        const IN_FLIGHT: usize = 4;
        let batches: Vec<Vec<WriteRequest>> = requests.chunks(BATCH).map(<[_]>::to_vec).collect();
        futures::stream::iter(batches)
            .map(|batch| self.write_batch(batch))
            .buffer_unordered(IN_FLIGHT)
            .try_collect()
            .await
    }

    async fn write_batch(&self, mut pending: Vec<WriteRequest>) -> Result<(), StoreError> {
        const ATTEMPTS: u32 = 8;
        let mut pause = Duration::from_millis(50);
        for _ in 0..ATTEMPTS {
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(|err| unavailable("BatchWriteItem", err))?;
            pending = out
                .unprocessed_items
                .and_then(|mut tables| tables.remove(&self.table))
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
        Err(StoreError::Unavailable(format!(
            "DynamoDB BatchWriteItem: {} items still unprocessed after {ATTEMPTS} attempts",
            pending.len()
        )))
    }

    /// Every item of one partition, read consistently, across pages.
    async fn partition(&self, pk: String) -> Result<Vec<Attrs>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| unavailable("Query", err))
    }
}

fn build_error(err: BuildError) -> StoreError {
    StoreError::Unavailable(format!("DynamoDB request could not be built: {err}"))
}

/// A conditional write's outcome: `Ok(false)` when its condition did not hold.
fn condition_held<O, E, R>(
    operation: &str,
    result: Result<O, SdkError<E, R>>,
) -> Result<bool, StoreError>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: Debug + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(err) => Err(unavailable(operation, err)),
    }
}

/// An SDK failure as a 5xx-worthy store error.
fn unavailable<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: Debug + 'static,
{
    StoreError::Unavailable(format!(
        "DynamoDB {operation}: {}",
        DisplayErrorContext(&err)
    ))
}
