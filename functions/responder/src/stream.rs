//! A batch from the table's stream trigger: message heads with new statuses and templates
//! whose status changed, pushed to the business's URLs in the shard's order. The first record
//! that cannot be delivered is reported with the records after it untried: Lambda retries the
//! shard from there (bounded in template.yaml, then the batch goes to the dead-letter queue),
//! and what was delivered before it is not sent again.

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use intaj_shared::adapters::dynamodb::stream::recorded_of_stream_record;
use intaj_shared::clock::unix_now;
use serde_json::Value;

use crate::{EventsUrls, ResponderDeps, notify_in_batch};

pub async fn handle_batch(deps: &ResponderDeps, event: &Value) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let mut events_urls = EventsUrls::default();
    let records = event["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let sequence = record["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap_or_default();
        let changes = match recorded_of_stream_record(record) {
            Ok(changes) => changes,
            Err(error) => {
                // Retrying cannot make it readable; the item itself is in the table.
                tracing::error!(sequence, %error, "stream record unreadable; skipped");
                continue;
            }
        };
        for change in &changes {
            if let Err(error) = notify_in_batch(deps, change, &mut events_urls, unix_now()).await {
                tracing::warn!(sequence, %error, "status event failed; the stream retries from this record");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence.to_owned());
                response.batch_item_failures.push(failure);
                return response;
            }
        }
    }
    response
}
