//! The responder's retry delay on SQS, on moto (skipped when it is not running, unless
//! `INTAJ_TEST_REQUIRE_SERVICES=1`).

use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use intaj_shared::adapters::SqsRetryDelay;
use intaj_shared::ports::RetryDelay;
use intaj_test_support::{LocalServices, unique};

/// A FIFO queue of this run, with one message received (out of sight for 5 minutes): its ARN,
/// URL and receipt handle.
async fn received(client: &Client) -> (String, String, String) {
    let created = client
        .create_queue()
        .queue_name(format!("{}.fifo", unique("intaj-responder")))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "300")
        .send()
        .await
        .unwrap();
    let url = created.queue_url().unwrap().to_owned();
    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    client
        .send_message()
        .queue_url(&url)
        .message_body("{}")
        .message_group_id("shop#15551234567")
        .message_deduplication_id("wamid.1")
        .send()
        .await
        .unwrap();
    let handle = receive(client, &url).await.expect("the message is there");
    (arn, url, handle)
}

async fn receive(client: &Client, url: &str) -> Option<String> {
    let answer = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(1)
        .send()
        .await
        .unwrap();
    answer
        .messages()
        .first()
        .and_then(|m| m.receipt_handle().map(str::to_owned))
}

#[tokio::test]
async fn a_failed_message_comes_back_after_the_delay_it_was_given() {
    let Some(services) = LocalServices::from_env("sqs_retry_delay") else {
        return;
    };
    let client = Client::new(&services.moto_config().await);
    let delay = SqsRetryDelay::new(client.clone());
    let (arn, url, handle) = received(&client).await;
    assert_eq!(
        receive(&client, &url).await,
        None,
        "out of sight once received"
    );

    // Two seconds instead of the queue's five minutes: hidden now, back within the deadline.
    delay
        .delay_retry(&arn, &handle, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(receive(&client, &url).await, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    let again = loop {
        if let Some(handle) = receive(&client, &url).await {
            break handle;
        }
        assert!(Instant::now() < deadline, "the message never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // A zero delay hands it back at once (what the last try does, for the dead-letter queue).
    delay
        .delay_retry(&arn, &again, Duration::ZERO)
        .await
        .unwrap();
    assert!(receive(&client, &url).await.is_some());

    let refused = delay
        .delay_retry("not-an-arn", &again, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not a queue ARN"), "{refused}");
}
