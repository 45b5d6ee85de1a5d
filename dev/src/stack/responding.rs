//! The responder of the local stack: what the store records (the memory store's feed, or
//! DynamoDB Local's stream) handed to the same `respond` the responder function runs, and status
//! changes pushed to the business's URLs. A customer's messages are answered one at a time in
//! the order recorded, different customers at once (what the deployed queue's message groups
//! give).

use std::collections::HashMap;
use std::time::Duration;

use intaj_responder::{ResponderDeps, notify, respond, send_fallback};
use intaj_shared::clock::unix_now;
use intaj_shared::domain::{InboundMessage, Recorded};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// Attempts per message before it is given up (the deployed queue's dead-letter count).
const ATTEMPTS: u32 = 3;
const FIRST_RETRY: Duration = Duration::from_millis(500);

/// Runs until the feed closes (the store is dropped).
pub fn spawn(deps: ResponderDeps, mut feed: UnboundedReceiver<Recorded>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut customers: HashMap<(String, String), UnboundedSender<InboundMessage>> =
            HashMap::new();
        while let Some(recorded) = feed.recv().await {
            let Recorded::Inbound(bot_id, message) = recorded else {
                // Status events go to the business's URLs at once, in parallel.
                let deps = deps.clone();
                tokio::spawn(async move {
                    if let Err(error) = notify(&deps, &recorded, unix_now()).await {
                        tracing::error!(?recorded, %error, "status event given up");
                    }
                });
                continue;
            };
            // The deployed queue's message group: the customer's stable id.
            let customer = message.customer.stable_id().unwrap_or_default().to_owned();
            let key = (bot_id.clone(), customer);
            let queue = customers
                .entry(key)
                .or_insert_with(|| customer_queue(deps.clone(), bot_id));
            // The queue lives as long as the dispatcher; a send cannot fail.
            let _ = queue.send(message);
        }
    })
}

/// One customer's messages, answered one after the other.
fn customer_queue(deps: ResponderDeps, bot_id: String) -> UnboundedSender<InboundMessage> {
    let (sender, mut messages) = unbounded_channel::<InboundMessage>();
    tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            answer_with_retries(&deps, &bot_id, &message).await;
        }
    });
    sender
}

async fn answer_with_retries(deps: &ResponderDeps, bot_id: &str, message: &InboundMessage) {
    let mut pause = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        match respond(deps, bot_id, message, unix_now()).await {
            Ok(_) => return,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(
                    bot_id, message_id = %message.message_id, attempt, %error,
                    "bot answer failed; trying again"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(error) => {
                tracing::error!(
                    bot_id, message_id = %message.message_id, attempts = ATTEMPTS, %error,
                    "bot answer given up; the message stays recorded"
                );
                if let Err(error) = send_fallback(deps, bot_id, message, unix_now()).await {
                    tracing::error!(bot_id, message_id = %message.message_id, %error, "fallback reply not sent");
                }
            }
        }
    }
}
