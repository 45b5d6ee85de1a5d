//! A batch from the responder's FIFO queue: each record a new inbound message's stream record,
//! one message group per conversation. A message that fails is retried by the queue (partial
//! batch response), and so are the later messages of its conversation in the batch, so that a
//! customer's messages still reach the bot in order; other conversations go on.

use std::collections::HashSet;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use intaj_shared::adapters::dynamodb::stream::inbound_of_stream_record;
use intaj_shared::clock::unix_now;
use serde_json::Value;

use crate::{ResponderDeps, respond, send_fallback};

/// The queue's `maxReceiveCount` in template.yaml: the try after which a message goes to the
/// dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

pub async fn handle_batch(deps: &ResponderDeps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut held_back: HashSet<String> = HashSet::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        if held_back.contains(&group) {
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
            if receives >= MAX_RECEIVES {
                tracing::error!(
                    bot_id, message_id = %message.message_id, %error, receives,
                    "bot answer given up; to the dead-letter queue (the message stays recorded)"
                );
                if let Err(error) = send_fallback(deps, &bot_id, &message, unix_now()).await {
                    tracing::error!(bot_id, message_id = %message.message_id, %error, "fallback reply not sent");
                }
            } else {
                tracing::warn!(
                    bot_id, message_id = %message.message_id, %error, receives,
                    "bot answer failed; the queue retries it and holds the conversation's later messages"
                );
            }
            held_back.insert(group);
            response.add_failure(id);
        }
    }
    response
}
