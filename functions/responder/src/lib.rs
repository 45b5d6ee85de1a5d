//! The responder: each customer message handed to the connection's bot (its built-in rules or
//! its own backend), whose replies go out through the one send path, once per message; and
//! the status changes pushed to the business's URLs.

use aws_lambda_events::sqs::SqsEvent;
use intaj_shared::ports::RetryDelay;
use serde_json::Value;

pub mod forward;
pub mod queue;
pub mod respond;
pub mod status_callbacks;
pub mod stream;

pub use respond::{Handled, RespondError, ResponderDeps, respond, send_fallback};
pub use status_callbacks::{
    EventsUrls, notify, notify_in_batch, notify_status, notify_template_status,
};

/// One invocation: a batch from the responder's queue (new customer messages) or from the
/// table's stream trigger (status changes), told apart by the records' source. Answers the
/// partial batch response both triggers read.
pub async fn handle_event(
    deps: &ResponderDeps,
    retry: &dyn RetryDelay,
    event: Value,
) -> Result<Value, serde_json::Error> {
    let source = event["Records"][0]["eventSource"]
        .as_str()
        .unwrap_or_default();
    if source == "aws:dynamodb" {
        serde_json::to_value(stream::handle_batch(deps, &event).await)
    } else {
        let batch: SqsEvent = serde_json::from_value(event)?;
        serde_json::to_value(queue::handle_batch(deps, retry, batch).await)
    }
}
