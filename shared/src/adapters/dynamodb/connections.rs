//! [`ConnectionStore`] on DynamoDB: a connection item plus a phone-owner item per number, kept
//! consistent by transactions.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::items::{self, Attrs, BOT_ID, LAST_WEBHOOK_AT, PHONE_NUMBER_ID, s};
use super::keys::{self, Key};
use super::{DynamoDbStore, build_error, unavailable};
use crate::domain::Connection;
use crate::ports::{ConnectionStore, StoreError};

/// Transactions that lose a race with another write of the same bot are re-run from a fresh
/// read; this bounds how often.
const MAX_ATTEMPTS: usize = 5;

/// Why a transaction did not commit.
enum Cancelled {
    /// The condition of the item at this index failed.
    Condition(usize),
    /// Another transaction touched the same items; worth re-running.
    Contended,
}

fn cancelled(err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Cancelled> {
    let TransactWriteItemsError::TransactionCanceledException(e) = err.as_service_error()? else {
        return None;
    };
    let reasons = e.cancellation_reasons();
    if let Some(i) = reasons
        .iter()
        .position(|r| r.code() == Some("ConditionalCheckFailed"))
    {
        return Some(Cancelled::Condition(i));
    }
    reasons
        .iter()
        .any(|r| r.code() == Some("TransactionConflict"))
        .then_some(Cancelled::Contended)
}

impl DynamoDbStore {
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(err) => match cancelled(&err) {
                Some(why) => Ok(Err(why)),
                None => Err(unavailable("TransactWriteItems", err)),
            },
        }
    }

    /// Claims `connection`'s number for its bot (or keeps it, when the bot already owns it).
    fn claim_phone(&self, connection: &Connection) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::phone_owner_item(connection)))
            .condition_expression("attribute_not_exists(pk) OR botId = :bot")
            .expression_attribute_values(":bot", s(&connection.bot_id))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Frees a number the bot owned; a missing owner item is already free.
    fn release_phone(&self, previous: &Connection) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(
                Key::phone_owner(&previous.phone_number_id).into_attrs(),
            ))
            .condition_expression("attribute_not_exists(pk) OR botId = :bot")
            .expression_attribute_values(":bot", s(&previous.bot_id))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Writes the connection, provided it is still as read (so a concurrent change of the same
    /// bot cannot leave a number owned by nobody's connection).
    fn write_connection(
        &self,
        connection: &Connection,
        previous: Option<&Connection>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Attrs::from(connection)));
        let put = match previous {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(previous) => put
                .condition_expression("phoneNumberId = :previous")
                .expression_attribute_values(":previous", s(&previous.phone_number_id)),
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }
}

#[async_trait]
impl ConnectionStore for DynamoDbStore {
    async fn connection(&self, bot_id: &str) -> Result<Option<Connection>, StoreError> {
        self.get_item(Key::connection(bot_id))
            .await?
            .as_ref()
            .map(Connection::try_from)
            .transpose()
    }

    async fn connection_by_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Connection>, StoreError> {
        let Some(owner) = self.get_item(Key::phone_owner(phone_number_id)).await? else {
            return Ok(None);
        };
        let bot_id = items::ItemReader::new(&owner).s(BOT_ID)?.to_owned();
        let connection = self.connection(&bot_id).await?;
        // The two reads are not atomic: a bot that moved to another number in between no
        // longer owns this one.
        Ok(connection.filter(|c| c.phone_number_id == phone_number_id))
    }

    async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        let items: Vec<Attrs> = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :all")
            .expression_attribute_values(":all", s(keys::CONNECTIONS_GSI1_PK))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| unavailable("Query gsi1", err))?;
        let mut all = items
            .iter()
            .map(Connection::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| a.bot_id.cmp(&b.bot_id));
        Ok(all)
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let previous = self.connection(&connection.bot_id).await?;
            let mut writes = vec![
                self.claim_phone(connection)?,
                self.write_connection(connection, previous.as_ref())?,
            ];
            if let Some(previous) = &previous
                && previous.phone_number_id != connection.phone_number_id
            {
                writes.push(self.release_phone(previous)?);
            }
            match self.transact(writes).await? {
                Ok(()) => return Ok(()),
                Err(Cancelled::Condition(0)) => {
                    return Err(StoreError::Conflict(format!(
                        "phone number id {} is already connected to another bot",
                        connection.phone_number_id
                    )));
                }
                // The connection changed since it was read, or a transaction raced: re-read.
                Err(Cancelled::Condition(_) | Cancelled::Contended) => continue,
            }
        }
        Err(StoreError::Unavailable(format!(
            "connection {} kept changing during the write; try again",
            connection.bot_id
        )))
    }

    async fn record_webhook_received(&self, bot_id: &str, at: i64) -> Result<(), StoreError> {
        // Refused (and so unchanged) for an unknown bot or a later time already kept.
        self.update_if(
            Key::connection(bot_id),
            "SET #at = :at",
            "attribute_exists(pk) AND (attribute_not_exists(#at) OR #at < :at)",
            HashMap::from([("#at".to_owned(), LAST_WEBHOOK_AT.to_owned())]),
            Attrs::from([(":at".to_owned(), items::n(at))]),
        )
        .await?;
        Ok(())
    }

    async fn delete_connection(&self, bot_id: &str) -> Result<bool, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(existing) = self.connection(bot_id).await? else {
                return Ok(false);
            };
            let remove = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Key::connection(bot_id).into_attrs()))
                .condition_expression("#phone = :phone")
                .expression_attribute_names("#phone", PHONE_NUMBER_ID)
                .expression_attribute_values(":phone", s(&existing.phone_number_id))
                .build()
                .map_err(build_error)?;
            let writes = vec![
                TransactWriteItem::builder().delete(remove).build(),
                self.release_phone(&existing)?,
            ];
            match self.transact(writes).await? {
                Ok(()) => return Ok(true),
                Err(Cancelled::Condition(1)) => {
                    return Err(StoreError::Corrupt(format!(
                        "phone number id {} of bot {bot_id} is owned by another bot",
                        existing.phone_number_id
                    )));
                }
                // Changed or deleted meanwhile: re-read.
                Err(Cancelled::Condition(_) | Cancelled::Contended) => continue,
            }
        }
        Err(StoreError::Unavailable(format!(
            "connection {bot_id} kept changing during the delete; try again"
        )))
    }
}
