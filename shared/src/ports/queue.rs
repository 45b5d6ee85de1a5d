//! The responder's queue, for what its event source mapping does not do: space the retries of
//! a message the bot could not answer.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
#[error("the queue could not be reached: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait RetryDelay: Send + Sync {
    /// Makes a received message (by its queue's ARN and its receipt handle) visible again only
    /// after `delay`.
    async fn delay_retry(
        &self,
        queue_arn: &str,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), QueueError>;
}
