//! [`IdempotencyStore`] on DynamoDB, the Powertools way: one conditional PutItem claims a key,
//! and a failed condition returns the record that holds it (`ALL_OLD`), so a repeat is answered
//! without a second read.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::items::{self, Attrs, IN_PROGRESS, IN_PROGRESS_UNTIL, IdempotencyItem, STATUS, n, s};
use super::keys::{self, Key};
use super::{DynamoDbStore, unavailable};
use crate::domain::{IdempotencyClaim, IdempotencyRecord, StoredResponse};
use crate::ports::{IdempotencyStore, StoreError};

/// The key is free when no record holds it: none, expired (TTL deletion lags, so the clock is
/// checked), or an in-progress claim whose handler gave up or died.
/// The negation of [`IdempotencyRecord::holds_key_at`].
const KEY_IS_FREE: &str = "attribute_not_exists(pk) OR #expires < :now \
                           OR (#status = :inProgress AND #until < :now)";

/// A claim that loses to a record which then disappears (released, or read back too late)
/// is tried again; this bounds how often.
const MAX_ATTEMPTS: usize = 3;

#[async_trait]
impl IdempotencyStore for DynamoDbStore {
    async fn claim_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        ttl_seconds: i64,
        in_progress_seconds: i64,
    ) -> Result<IdempotencyClaim, StoreError> {
        let claim = IdempotencyRecord {
            fingerprint: fingerprint.to_owned(),
            expires_at: now + ttl_seconds,
            in_progress_until: now + in_progress_seconds,
            response: None,
        };
        let item = Attrs::from(IdempotencyItem {
            bot_id,
            key,
            record: &claim,
        });
        for _ in 0..MAX_ATTEMPTS {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression(KEY_IS_FREE)
                .expression_attribute_names("#expires", keys::TTL)
                .expression_attribute_names("#status", STATUS)
                .expression_attribute_names("#until", IN_PROGRESS_UNTIL)
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":inProgress", s(IN_PROGRESS))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let held = match result {
                Ok(_) => return Ok(IdempotencyClaim::Claimed),
                Err(err) => match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(e)) => match e.item() {
                        Some(old) => Some(old.clone()),
                        // An emulator that ignores ALL_OLD: read the record instead.
                        None => self.get_item(Key::idempotency(bot_id, key)).await?,
                    },
                    _ => return Err(unavailable("PutItem", err)),
                },
            };
            if let Some(held) = held {
                let record = IdempotencyRecord::try_from(&held)?;
                if record.holds_key_at(now) {
                    return Ok(record.answer(fingerprint));
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "idempotency key {key} kept changing during the claim; try again"
        )))
    }

    async fn complete_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let (update, names, values) = items::set_all(items::response_attrs(response));
        // Only an existing record: one TTL already deleted must not come back without expiry.
        self.update_if(
            Key::idempotency(bot_id, key),
            update,
            "attribute_exists(pk)",
            names,
            values,
        )
        .await?;
        Ok(())
    }

    async fn release_idempotency(&self, bot_id: &str, key: &str) -> Result<(), StoreError> {
        self.delete_if(
            Key::idempotency(bot_id, key),
            "#status = :inProgress",
            HashMap::from([("#status".to_owned(), STATUS.to_owned())]),
            Attrs::from([(":inProgress".to_owned(), s(IN_PROGRESS))]),
        )
        .await?;
        Ok(())
    }
}
