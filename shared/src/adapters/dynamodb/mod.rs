//! [`Store`](crate::ports::Store) on one DynamoDB table (single-table design).
//!
//! Keys: `pk` (S, hash), `sk` (S, range); index `gsi1` on `gsi1pk` / `gsi1sk` (projection ALL);
//! TTL attribute `expiresAt` (epoch seconds); stream NEW_IMAGE; on-demand billing. Every item
//! also carries `entity` (its kind) so operators and stream consumers need not parse keys.
//!
//! | item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | other attributes |
//! |---|---|---|---|---|
//! | connection | `BOT#{botId}` | `CONNECTION` | `CONNECTIONS` / `BOT#{botId}` | botId, businessAccountId, phoneNumberId, createdAt |
//! | phone owner | `PHONE#{phoneNumberId}` | `OWNER` | — | phoneNumberId, botId |
//! | window | `BOT#{botId}#CUSTOMER#{customerId}` | `WINDOW` | — | botId, customerId, windowExpiresAt, lastInboundAt |
//! | customer link | `BOT#{botId}#CUSTOMER#{customerId}` | `LINK` | — | botId, customerId, otherId |
//! | message head | `BOT#{botId}#MSG#{messageId}` | `MESSAGE` | — | botId, messageId, direction, customerWaId?, customerBsuid?, phoneNumberId, kind, createdAt, profileName?, content, currentStatus?, statusRank? |
//! | status event | `BOT#{botId}#MSG#{messageId}` | `STATUS#{status}` | — | botId, messageId, status, timestamp, recipientWaId?, recipientBsuid?, errors?, conversation?, pricing?, bizOpaqueCallbackData? |
//! | raw event | `BOT#{botId}#RAW` | `RAW#{key}` | — | botId, kind, key, phoneNumberId?, receivedAt, body |
//!
//! How each pattern is served:
//! - **Connections**: GetItem by bot; by phone number, GetItem of the phone owner (consistent)
//!   then of the connection; all of them, Query `gsi1pk = CONNECTIONS` (eventually consistent).
//!   A put is one transaction: claim the phone owner (`attribute_not_exists(pk) OR botId = :bot`,
//!   else [`StoreError::Conflict`]), write the connection, release the bot's previous number.
//! - **Windows**: one item per known customer id, raised with conditional updates so it never
//!   shrinks; when both a BSUID and a `wa_id` are known, a LINK item under each points at the
//!   other. A read is one Query of the id's partition (WINDOW and LINK) plus, when linked, a
//!   GetItem of the other id's window; the two are merged.
//! - **Messages**: the head (inbound content, current status) and every status event share one
//!   partition, so one Query reads a message with its history. Inbound dedupe is a conditional
//!   update of the head (`attribute_not_exists(direction)`: a status may have created the head
//!   first); status dedupe is a conditional put of `STATUS#{status}`; the current status is
//!   raised with `attribute_not_exists(statusRank) OR statusRank < :rank` (failed ranks highest,
//!   so it is final). For the responder, a new inbound message reaches the stream as the head's
//!   INSERT, or MODIFY when a status created the head first, with `entity = message` and
//!   `direction = inbound`; later status raises MODIFY it again, so the reply claim dedupes.
//! - **Raw events**: one conditional put per content key.
//!
//! Retention: none of these items sets `expiresAt`; messages and status history are kept, and
//! their dedupe is the record itself.
//!
//! Malformed items are [`StoreError::Corrupt`]; SDK failures are [`StoreError::Unavailable`]
//! (their text holds the operation, error code and message; the table holds no secret); a failed
//! condition that means "seen before" is [`Claim::Duplicate`](crate::domain::Claim), not an error.

mod connections;
mod items;
mod keys;
mod messages;
mod schema;
mod windows;

use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use items::Attrs;
use keys::Key;

use crate::ports::StoreError;

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
}

impl DynamoDbStore {
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
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.into_attrs()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(unavailable("UpdateItem", err)),
        }
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
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(unavailable("PutItem", err)),
        }
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
