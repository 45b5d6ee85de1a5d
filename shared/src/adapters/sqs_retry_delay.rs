//! [`RetryDelay`] on SQS: `ChangeMessageVisibility` of the received message. The queue's URL is
//! asked once per queue ARN (`GetQueueUrl`), so the adapter works against any endpoint.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{QueueError, RetryDelay};

/// SQS's longest visibility timeout: 12 hours.
const MAX_DELAY: Duration = Duration::from_secs(12 * 3600);

pub struct SqsRetryDelay {
    client: aws_sdk_sqs::Client,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsRetryDelay {
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self {
            client,
            urls: Mutex::default(),
        }
    }

    async fn queue_url(&self, queue_arn: &str) -> Result<String, QueueError> {
        if let Some(url) = self
            .urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(queue_arn)
        {
            return Ok(url.clone());
        }
        // arn:aws:sqs:<region>:<account>:<name>
        let mut parts = queue_arn.rsplitn(3, ':');
        let (Some(name), Some(account)) = (parts.next(), parts.next()) else {
            return Err(QueueError(format!("{queue_arn:?} is not a queue ARN")));
        };
        let url = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| {
                QueueError(format!(
                    "GetQueueUrl: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                ))
            })?
            .queue_url
            .ok_or_else(|| QueueError("GetQueueUrl answered no URL".into()))?;
        self.urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(queue_arn.to_owned(), url.clone());
        Ok(url)
    }
}

#[async_trait]
impl RetryDelay for SqsRetryDelay {
    async fn delay_retry(
        &self,
        queue_arn: &str,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let url = self.queue_url(queue_arn).await?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.min(MAX_DELAY).as_secs() as i32)
            .send()
            .await
            .map_err(|e| {
                QueueError(format!(
                    "ChangeMessageVisibility: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                ))
            })?;
        Ok(())
    }
}
