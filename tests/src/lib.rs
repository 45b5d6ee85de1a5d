//! Support for the end-to-end tests: the local AWS services the test command started, the local
//! stack with a client for its routes, unique names, and child processes that are stopped
//! however a test ends.

mod captured_logs;
mod counted_webhook;
mod dynamodb_requests;
pub mod event_pattern;
mod local_stack;
mod table_permissions;

pub use captured_logs::{CapturedLogs, captured_logs};
pub use counted_webhook::{CountedWebhook, EventCost, fixture_body, next_message};
pub use dynamodb_requests::{DynamoDbRequests, SentRequest};
pub use local_stack::{DEMO_API_KEY, StackClient};
pub use table_permissions::{CountedTable, access_of, allowed_table_access};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use intaj_shared::adapters::DynamoDbStore;
use intaj_shared::adapters::dynamodb::create_table_if_missing;
use intaj_shared::ports::Store;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Endpoints of DynamoDB Local and moto, as exported by `scripts/test.sh`.
pub struct LocalServices {
    pub dynamodb: String,
    pub secrets_manager: String,
}

impl LocalServices {
    /// `None` (with a notice) when the services are not running, unless the test command
    /// requires them, in which case their absence is a failure.
    pub fn from_env(test: &str) -> Option<Self> {
        let dynamodb = std::env::var("INTAJ_TEST_DYNAMODB_ENDPOINT").ok();
        let secrets_manager = std::env::var("INTAJ_TEST_SECRETS_ENDPOINT").ok();
        match (dynamodb, secrets_manager) {
            (Some(dynamodb), Some(secrets_manager)) => Some(Self {
                dynamodb,
                secrets_manager,
            }),
            _ if std::env::var("INTAJ_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
                panic!("{test}: INTAJ_TEST_DYNAMODB_ENDPOINT / INTAJ_TEST_SECRETS_ENDPOINT unset")
            }
            _ => {
                eprintln!(
                    "{test}: skipped; run ./scripts/test.sh to start DynamoDB Local and moto"
                );
                None
            }
        }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        intaj_shared::http_clients::aws_defaults()
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "intaj-tests",
            ))
            .load()
            .await
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(self.dynamodb_config().await)
    }

    async fn dynamodb_config(&self) -> aws_sdk_dynamodb::Config {
        aws_sdk_dynamodb::config::Builder::from(&self.sdk_config().await)
            .endpoint_url(&self.dynamodb)
            .build()
    }

    /// A store on a new table named after `name`, every request to it counted.
    pub async fn counted_store(&self, name: &str) -> (Arc<dyn Store>, DynamoDbRequests) {
        let requests = DynamoDbRequests::default();
        let client = requests.client(self.dynamodb_config().await);
        let table = unique(name);
        create_table_if_missing(&client, &table).await.unwrap();
        (Arc::new(DynamoDbStore::new(client, table)), requests)
    }

    pub async fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::config::Builder::from(&self.sdk_config().await)
            .endpoint_url(&self.secrets_manager)
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }
}

/// A name no other run has used, for tables and secret prefixes.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
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
