//! [`ApiKeyStore`] on DynamoDB: an item per key hash, listed under its bot by a second item so
//! that revoking finds every key with a consistent read.

use std::collections::HashMap;

use async_trait::async_trait;
use futures::future::try_join_all;

use super::items::{ApiKeyItem, Attrs, BOT_ID, ItemReader, KEY_HASH, bot_api_key_item, n, s};
use super::keys::{self, Key};
use super::{DynamoDbStore, unavailable};
use crate::domain::ApiKey;
use crate::ports::{ApiKeyStore, StoreError};

impl DynamoDbStore {
    /// Deletes one key if it still belongs to `bot_id`, then its listing under the bot.
    /// Returns whether a key was revoked.
    async fn revoke(&self, bot_id: &str, key_hash: &str) -> Result<bool, StoreError> {
        let revoked = self
            .delete_if(
                Key::api_key(key_hash),
                "#bot = :bot",
                HashMap::from([("#bot".to_owned(), BOT_ID.to_owned())]),
                Attrs::from([(":bot".to_owned(), s(bot_id))]),
            )
            .await?;
        self.delete_if(
            Key::bot_api_key(bot_id, key_hash),
            "attribute_exists(pk)",
            HashMap::new(),
            Attrs::new(),
        )
        .await?;
        Ok(revoked)
    }
}

#[async_trait]
impl ApiKeyStore for DynamoDbStore {
    async fn put_api_key(&self, key_hash: &str, key: &ApiKey) -> Result<(), StoreError> {
        // Listing first: a crash in between leaves a listing without a key (harmless), never a
        // key that revoking cannot find.
        self.put(bot_api_key_item(&key.bot_id, key_hash)).await?;
        self.put(Attrs::from(ApiKeyItem { key_hash, key })).await
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get_item(Key::api_key(key_hash))
            .await?
            .as_ref()
            .map(ApiKey::try_from)
            .transpose()
    }

    async fn delete_api_keys(&self, bot_id: &str) -> Result<usize, StoreError> {
        let hashes = self.api_key_hashes(bot_id).await?;
        let revoked = try_join_all(hashes.iter().map(|hash| self.revoke(bot_id, hash))).await?;
        Ok(revoked.into_iter().filter(|r| *r).count())
    }

    async fn set_api_keys_rate_limit(
        &self,
        bot_id: &str,
        rate_limit_per_second: u32,
    ) -> Result<usize, StoreError> {
        let hashes = self.api_key_hashes(bot_id).await?;
        let updates = hashes.iter().map(|hash| {
            self.update_if(
                Key::api_key(hash),
                "SET #limit = :limit",
                "#bot = :bot",
                HashMap::from([
                    ("#bot".to_owned(), BOT_ID.to_owned()),
                    ("#limit".to_owned(), "rateLimitPerSecond".to_owned()),
                ]),
                Attrs::from([
                    (":bot".to_owned(), s(bot_id)),
                    (":limit".to_owned(), n(i64::from(rate_limit_per_second))),
                ]),
            )
        });
        let updated = try_join_all(updates).await?;
        Ok(updated.into_iter().filter(|u| *u).count())
    }
}

impl DynamoDbStore {
    /// The hashes of every key of the bot, from their listing in its partition.
    async fn api_key_hashes(&self, bot_id: &str) -> Result<Vec<String>, StoreError> {
        let listed: Vec<Attrs> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::bot_partition(bot_id)))
            .expression_attribute_values(":prefix", s(keys::BOT_API_KEY_SK_PREFIX))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| unavailable("Query", err))?;
        listed
            .iter()
            .map(|item| ItemReader::new(item).s(KEY_HASH).map(str::to_owned))
            .collect()
    }
}
