//! [`RateLimitStore`] on DynamoDB: one counter item per (API key, window), incremented
//! atomically so that every Lambda instance counts into the same window.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use super::items::{ENTITY, ItemReader, KEY_HASH, REQUESTS, n, s};
use super::keys::{self, Key};
use super::{DynamoDbStore, unavailable};
use crate::ports::{RateLimitStore, StoreError};

#[async_trait]
impl RateLimitStore for DynamoDbStore {
    async fn count_request(
        &self,
        key_hash: &str,
        window_start: i64,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::rate_counter(key_hash, window_start).into_attrs()))
            .update_expression(
                "ADD #requests :one \
                 SET #expires = if_not_exists(#expires, :expires), #entity = :entity, \
                 #hash = :hash, #window = :window",
            )
            .expression_attribute_names("#requests", REQUESTS)
            .expression_attribute_names("#expires", keys::TTL)
            .expression_attribute_names("#entity", ENTITY)
            .expression_attribute_names("#hash", KEY_HASH)
            .expression_attribute_names("#window", "windowStart")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at))
            .expression_attribute_values(":entity", s("rateCounter"))
            .expression_attribute_values(":hash", s(key_hash))
            .expression_attribute_values(":window", n(window_start))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|err| unavailable("UpdateItem", err))?;
        let updated = out.attributes.unwrap_or_default();
        ItemReader::new(&updated).unsigned(REQUESTS)
    }
}
