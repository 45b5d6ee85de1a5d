//! A batch from the responder's FIFO queue: each record a new inbound message's stream record,
//! one message group per conversation. A message that fails is retried by the queue (partial
//! batch response), and so are the later messages of its conversation in the batch, so that a
//! customer's messages still reach the bot in order; other conversations go on. The retries
//! back off: each failed try keeps the message (and its conversation) out of sight twice as
//! long as the one before.

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use intaj_shared::adapters::dynamodb::stream::inbound_of_stream_record;
use intaj_shared::clock::unix_now;
use intaj_shared::ports::RetryDelay;
use serde_json::Value;

use crate::{ResponderDeps, respond, send_fallback};

/// The queue's `maxReceiveCount` in template.yaml: the try after which a message goes to the
/// dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;
/// How long the first failed try keeps a message out of sight; then 40 s, 80 s, 160 s: the
/// bot has about five minutes to come back before the fallback reply.
pub const FIRST_RETRY: Duration = Duration::from_secs(20);

/// The wait after the `receives`th failed try.
pub fn retry_delay(receives: u32) -> Duration {
    FIRST_RETRY * 2u32.pow(receives.clamp(1, 10) - 1)
}

pub async fn handle_batch(
    deps: &ResponderDeps,
    retry: &dyn RetryDelay,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    // Failed conversations, and how long their messages wait.
    let mut held_back: HashMap<String, Duration> = HashMap::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        if let Some(delay) = held_back.get(&group) {
            later(retry, &record, *delay).await;
            response.add_failure(id);
            continue;
        }
        let inbound = record
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<Value>(body).ok())
            .and_then(|record| inbound_of_stream_record(&record));
        let Some((bot_id, message)) = inbound else {
            // Retrying cannot make it readable; the message itself is in the table.
            tracing::error!(
                queue_message_id = id,
                "queue record is not a new inbound message; dropped"
            );
            continue;
        };
        if let Err(error) = respond(deps, &bot_id, &message, unix_now()).await {
            let receives: u32 = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let delay = retry_delay(receives);
            if receives >= MAX_RECEIVES {
                tracing::error!(
                    bot_id, message_id = %message.message_id, %error, receives,
                    "bot answer given up; to the dead-letter queue (the message stays recorded)"
                );
                if let Err(error) = send_fallback(deps, &bot_id, &message, unix_now()).await {
                    tracing::error!(bot_id, message_id = %message.message_id, %error, "fallback reply not sent");
                }
                // Back at once, for the queue to move it on; the conversation goes on without it.
                later(retry, &record, Duration::ZERO).await;
                response.add_failure(id);
                continue;
            }
            tracing::warn!(
                bot_id, message_id = %message.message_id, %error, receives,
                retry_in_seconds = delay.as_secs(),
                "bot answer failed; the queue retries it and holds the conversation's later messages"
            );
            later(retry, &record, delay).await;
            held_back.insert(group, delay);
            response.add_failure(id);
        }
    }
    response
}

/// Keeps a failed record out of sight for `delay`. If that fails, the queue's own visibility
/// timeout brings it back instead: later, never lost.
async fn later(retry: &dyn RetryDelay, record: &SqsMessage, delay: Duration) {
    let (Some(queue), Some(handle)) = (&record.event_source_arn, &record.receipt_handle) else {
        return;
    };
    if let Err(error) = retry.delay_retry(queue, handle, delay).await {
        tracing::warn!(%error, "retry delay not set; the queue's visibility timeout applies");
    }
}
