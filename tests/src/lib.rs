//! Support for the end-to-end tests: the local AWS services the test command started, the local
//! stack with a client for its routes, unique names, and child processes that are stopped
//! however a test ends.

mod captured_logs;
mod cargo_lambda;
mod counted_webhook;
mod dynamodb_requests;
pub mod event_pattern;
mod local_stack;
mod table_permissions;

pub use captured_logs::captured_logs;
pub use cargo_lambda::{DemoBot, WatchedFunction, answer_body};
pub use counted_webhook::{CountedWebhook, EventCost, fixture_body, next_message};
pub use dynamodb_requests::{DynamoDbRequests, SentRequest};
pub use local_stack::{DEMO_API_KEY, StackClient};
pub use table_permissions::{CountedTable, access_of, allowed_table_access};

pub use intaj_test_support::{LocalServices, unique};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use intaj_shared::adapters::DynamoDbStore;
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::ports::Store;
use std::process::Child;
use std::time::{Duration, Instant};

/// A store on a new table named after `name`, every request to it counted.
pub async fn counted_store(
    services: &LocalServices,
    name: &str,
) -> (Arc<dyn Store>, DynamoDbRequests) {
    let requests = DynamoDbRequests::default();
    let client = requests.client(services.dynamodb_config().await);
    let table = unique(name);
    create_table_if_missing(&client, &table).await.unwrap();
    (Arc::new(DynamoDbStore::new(client, table)), requests)
}

/// An API request as API Gateway hands it to a function: `method path`, with `Authorization:
/// Bearer <token>` when one is given. Add headers, then a body ([`json_body`]).
pub fn api_request(method: &str, path: &str, bearer: Option<&str>) -> http::request::Builder {
    let request = http::Request::builder().method(method).uri(path);
    match bearer {
        Some(token) => request.header("authorization", format!("Bearer {token}")),
        None => request,
    }
}

/// `body` as a request's JSON text; no body for `null`.
pub fn json_body(body: &serde_json::Value) -> lambda_http::Body {
    if body.is_null() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::from(body.to_string())
    }
}

/// A response's status and its JSON answer (`null` when it is not JSON).
pub fn status_and_json(response: &http::Response<lambda_http::Body>) -> (u16, serde_json::Value) {
    let answer = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    (response.status().as_u16(), answer)
}

/// A responder queue record: bot `bot`'s new inbound text from `customer`, as the table's
/// stream puts it on the FIFO queue, on its `try_number`th delivery.
pub fn queued_text(
    bot: &str,
    phone_number_id: &str,
    id: &str,
    customer: &str,
    text: &str,
    try_number: u32,
) -> serde_json::Value {
    use serde_json::json;
    let content = json!({"from": customer, "id": id, "type": "text", "text": {"body": text}});
    let image = json!({
        "botId": {"S": bot}, "messageId": {"S": id}, "direction": {"S": "inbound"},
        "customerWaId": {"S": customer}, "phoneNumberId": {"S": phone_number_id},
        "kind": {"S": "text"}, "createdAt": {"N": intaj_shared::clock::unix_now().to_string()},
        "content": {"S": content.to_string()},
    });
    json!({
        "messageId": format!("queue-{id}"),
        "receiptHandle": format!("handle-{id}"),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:responder.fifo",
        "body": json!({"eventName": "INSERT", "dynamodb": {"NewImage": image}}).to_string(),
        "attributes": {"MessageGroupId": format!("{bot}#{customer}"),
                       "ApproximateReceiveCount": try_number.to_string()},
    })
}

/// The local stack's documented demo connection (SPEC §9: bot `demo`, key `dev-api-key`), the
/// one the sample events are made for.
pub fn demo_connection() -> intaj_shared::connecting::NewConnection {
    use intaj_shared::ports::Secret;
    let settings = intaj_dev::stack::StackSettings::default();
    intaj_shared::connecting::NewConnection {
        bot_id: settings.bot_id,
        business_account_id: settings.waba_id,
        phone_number_id: settings.phone_number_id,
        access_token: Secret::new(&settings.access_token),
        app_secret: Secret::new(&settings.app_secret),
        verify_token: Secret::new(&settings.verify_token),
        api_key: Secret::new(&settings.api_key),
        rate_limit_per_second: 80,
    }
}

/// A sample event of `events/`, as Lambda delivers it.
pub fn sample_event(name: &str) -> serde_json::Value {
    let path = workspace_root().join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (and its process group) killed when dropped, so a failing test leaves
/// nothing running.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The child leads its own process group: take its children (the function) too. A
        // syscall, not the `kill` command: procps-ng 4.0.2 reads `kill -TERM -PGID` as
        // `kill(-1)`, which signals every process on the machine.
        #[cfg(unix)]
        if let Ok(pgid) = libc::pid_t::try_from(self.0.id())
            && pgid > 1
        {
            // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
            unsafe { libc::killpg(pgid, libc::SIGTERM) };
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `attempt` until it returns `Some`, or panics after `deadline`.
pub fn poll_until<T>(what: &str, deadline: Duration, mut attempt: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = attempt() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "{what}: not ready after {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
