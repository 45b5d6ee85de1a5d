//! The table's stream on DynamoDB Local, read the way the deployed triggers read it: each
//! record, as Lambda's JSON, through the same `recorded_of_stream_record`, onto the local
//! responder's feed. Records written before the stack started are not replayed.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use intaj_shared::adapters::dynamodb::stream::recorded_of_stream_record;
use intaj_shared::domain::Recorded;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How often an idle shard is asked again: DynamoDB Local answers at once when it has nothing.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How often the stream's shards are listed again, to follow split and rotated shards.
const SHARDS_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
#[error("reading the table's stream: {0}")]
pub struct StreamError(String);

fn failed(operation: &str, error: impl std::fmt::Display) -> StreamError {
    StreamError(format!("{operation}: {error}"))
}

/// Starts following `stream_arn` from now on; the feed ends when its receiver is dropped.
pub async fn follow(
    client: Client,
    stream_arn: String,
) -> Result<UnboundedReceiver<Recorded>, StreamError> {
    let (feed, receiver) = unbounded_channel();
    let mut reader = Reader {
        client,
        stream_arn,
        iterators: HashMap::new(),
    };
    // Shards that exist now start at their end: only what the stack records is fed.
    reader.discover(ShardIteratorType::Latest, &[]).await?;
    tokio::spawn(async move { reader.run(feed).await });
    Ok(receiver)
}

struct Reader {
    client: Client,
    stream_arn: String,
    /// Open shard → where to read next.
    iterators: HashMap<String, String>,
}

impl Reader {
    async fn run(mut self, feed: UnboundedSender<Recorded>) {
        let mut listed = tokio::time::Instant::now();
        let mut closed: Vec<String> = Vec::new();
        while !feed.is_closed() {
            if listed.elapsed() >= SHARDS_EVERY {
                // Shards found later are read from their start: they are children of ones read.
                let found = self.discover(ShardIteratorType::TrimHorizon, &closed).await;
                if let Err(error) = found {
                    tracing::warn!(%error, "stream shards not listed; trying again");
                }
                listed = tokio::time::Instant::now();
            }
            let mut idle = true;
            let shards: Vec<(String, String)> = self.iterators.drain().collect();
            for (shard, iterator) in shards {
                match self
                    .client
                    .get_records()
                    .shard_iterator(&iterator)
                    .send()
                    .await
                {
                    Ok(page) => {
                        for record in page.records() {
                            idle = false;
                            feed_record(&feed, record);
                        }
                        match page.next_shard_iterator() {
                            Some(next) => {
                                self.iterators.insert(shard, next.to_owned());
                            }
                            None => closed.push(shard),
                        }
                    }
                    Err(error)
                        if error
                            .as_service_error()
                            .is_some_and(|e| e.is_trimmed_data_access_exception()) =>
                    {
                        // DynamoDB Local refuses a LATEST iterator of one table once another
                        // table's stream moved on (its sequence numbers are shared); the shard's
                        // start is then this stack's first write, so read it from there.
                        match self.iterator(&shard, ShardIteratorType::TrimHorizon).await {
                            Ok(Some(start)) => {
                                self.iterators.insert(shard, start);
                            }
                            Ok(None) => closed.push(shard),
                            Err(error) => {
                                tracing::warn!(shard, %error, "trying again");
                                self.iterators.insert(shard, iterator);
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(shard, error = %failed("GetRecords", error), "trying again");
                        self.iterators.insert(shard, iterator);
                    }
                }
            }
            if idle {
                tokio::time::sleep(POLL_EVERY).await;
            }
        }
    }

    /// Starts reading the open shards not read yet at `start`.
    async fn discover(
        &mut self,
        start: ShardIteratorType,
        closed: &[String],
    ) -> Result<(), StreamError> {
        let described = self
            .client
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(|e| failed("DescribeStream", e))?;
        let shards = described
            .stream_description()
            .map(|d| d.shards().to_vec())
            .unwrap_or_default();
        for shard in shards {
            let Some(id) = shard.shard_id() else { continue };
            if self.iterators.contains_key(id) || closed.iter().any(|c| c == id) {
                continue;
            }
            if let Some(iterator) = self.iterator(id, start.clone()).await? {
                self.iterators.insert(id.to_owned(), iterator);
            }
        }
        Ok(())
    }

    async fn iterator(
        &self,
        shard: &str,
        start: ShardIteratorType,
    ) -> Result<Option<String>, StreamError> {
        let iterator = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(start)
            .send()
            .await
            .map_err(|e| failed("GetShardIterator", e))?;
        Ok(iterator.shard_iterator().map(str::to_owned))
    }
}

fn feed_record(feed: &UnboundedSender<Recorded>, record: &Record) {
    let json = lambda_json(record);
    match recorded_of_stream_record(&json) {
        Ok(changes) => {
            for change in changes {
                // A dropped receiver (the stack stopping) ends the loop on its next turn.
                let _ = feed.send(change);
            }
        }
        Err(error) => tracing::error!(%error, "stream record unreadable; skipped"),
    }
}

/// A record as Lambda hands it to the deployed function.
pub fn lambda_json(record: &Record) -> Value {
    let mut change = Map::new();
    if let Some(data) = record.dynamodb() {
        if let Some(at) = data.approximate_creation_date_time() {
            change.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
        if let Some(sequence) = data.sequence_number() {
            change.insert("SequenceNumber".into(), json!(sequence));
        }
        for (name, image) in [
            ("OldImage", data.old_image()),
            ("NewImage", data.new_image()),
        ] {
            if let Some(image) = image {
                change.insert(name.into(), typed_image(image));
            }
        }
    }
    json!({
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    })
}

fn typed_image(image: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        image
            .iter()
            .map(|(name, value)| (name.clone(), typed(value)))
            .collect(),
    )
}

fn typed(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::M(fields) => json!({"M": typed_image(fields)}),
        AttributeValue::L(items) => json!({"L": items.iter().map(typed).collect::<Vec<_>>()}),
        AttributeValue::Ss(items) => json!({"SS": items}),
        AttributeValue::Ns(items) => json!({"NS": items}),
        // Binary attributes: this table keeps none.
        _ => Value::Null,
    }
}
