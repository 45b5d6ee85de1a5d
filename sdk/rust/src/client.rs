//! The HTTP side: credentials, one request with its retries, the API's errors.

use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::IntajError;
use crate::connections::Connections;
use crate::whatsapp::WhatsApp;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RETRIES: u32 = 2;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A longer `Retry-After` is the caller's to wait out: the error is returned at once.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A client of one deployment (or the local stack). Cheap to clone.
#[derive(Clone)]
pub struct Intaj {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    admin_token: Option<String>,
    max_retries: u32,
    timeout: Duration,
}

/// What the API says of the caller's rate limit (`X-RateLimit-*`), on every answer to a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Unix seconds at which the count starts again.
    pub reset: Option<i64>,
}

impl RateLimit {
    fn of(headers: &HeaderMap) -> Self {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.parse().ok();
        Self {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset").map(|n: u64| n as i64),
        }
    }
}

pub struct IntajBuilder {
    base_url: Option<String>,
    api_key: Option<String>,
    admin_token: Option<String>,
    max_retries: u32,
    timeout: Duration,
}

impl IntajBuilder {
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// For the connections operations.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }
    /// Retries of a request that may succeed later (network, 429, 503); default 2.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }
    /// Per attempt; default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn build(self) -> Result<Intaj, IntajError> {
        let base_url = self
            .base_url
            .ok_or(IntajError::Configuration(
                "a base URL is needed: the deployment's API URL, or INTAJ_BASE_URL",
            ))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Intaj {
            inner: Arc::new(Inner {
                http: intaj_shared::http_clients::http_client(),
                base_url,
                api_key: self.api_key,
                admin_token: self.admin_token,
                max_retries: self.max_retries,
                timeout: self.timeout,
            }),
        })
    }
}

/// Which credential a route takes.
#[derive(Clone, Copy)]
pub(crate) enum Auth {
    ApiKey,
    Admin,
}

/// One API call, before it is sent (and maybe sent again).
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub auth: Auth,
    pub body: Option<Value>,
    /// Bytes and their content type, sent as they are instead of a JSON `body`.
    pub raw_body: Option<(Vec<u8>, String)>,
    pub query: Vec<(&'static str, String)>,
    pub idempotency_key: Option<String>,
    /// Whether a lost answer may be asked again (a repeat must not act twice).
    pub retry_lost_answers: bool,
}

impl Call {
    pub fn new(method: Method, path: String, auth: Auth) -> Self {
        Self {
            method,
            path,
            auth,
            body: None,
            raw_body: None,
            query: Vec::new(),
            idempotency_key: None,
            retry_lost_answers: true,
        }
    }
}

/// An answer and what came with it.
pub(crate) struct Answer<T> {
    pub value: T,
    pub rate_limit: RateLimit,
    pub replayed: bool,
}

impl Intaj {
    /// A client with an API key; for the local stack, `http://127.0.0.1:3000`.
    pub fn new(api_key: impl Into<String>, base_url: impl Into<String>) -> Self {
        Self::builder()
            .api_key(api_key)
            .base_url(base_url)
            .build()
            .expect("a base URL is given")
    }

    /// Defaults from the environment: `INTAJ_BASE_URL`, `INTAJ_API_KEY`, `INTAJ_ADMIN_TOKEN`.
    pub fn builder() -> IntajBuilder {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        IntajBuilder {
            base_url: var("INTAJ_BASE_URL"),
            api_key: var("INTAJ_API_KEY"),
            admin_token: var("INTAJ_ADMIN_TOKEN"),
            max_retries: DEFAULT_MAX_RETRIES,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn whatsapp(&self) -> WhatsApp<'_> {
        WhatsApp { client: self }
    }

    pub fn connections(&self) -> Connections<'_> {
        Connections { client: self }
    }

    /// Sends `call`, again after a network error, a 429, a 503 or a 409 `idempotency_in_progress`
    /// (waiting `Retry-After`, else backing off with full jitter), at most `max_retries` more
    /// times; every other error at once.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<Answer<T>, IntajError> {
        let credential = match call.auth {
            Auth::ApiKey => self.inner.api_key.as_deref().ok_or(IntajError::Configuration(
                "this call needs an API key (IntajBuilder::api_key or INTAJ_API_KEY)",
            ))?,
            Auth::Admin => self.inner.admin_token.as_deref().ok_or(IntajError::Configuration(
                "this call needs the admin token (IntajBuilder::admin_token or INTAJ_ADMIN_TOKEN)",
            ))?,
        };
        let mut url = reqwest::Url::parse(&format!("{}{}", self.inner.base_url, call.path))
            .map_err(|_| IntajError::Configuration("the base URL is not a URL"))?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let mut attempt = 0;
        loop {
            let mut request = self
                .inner
                .http
                .request(call.method.clone(), url.clone())
                .timeout(self.inner.timeout)
                .header(AUTHORIZATION, format!("Bearer {credential}"));
            if let Some(key) = &call.idempotency_key {
                request = request.header("idempotency-key", key);
            }
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            if let Some((bytes, content_type)) = &call.raw_body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(bytes.clone());
            }
            let wait = match request.send().await {
                Err(error) => {
                    let error = IntajError::Connection(error.without_url().to_string());
                    if !call.retry_lost_answers || attempt >= self.inner.max_retries {
                        return Err(error);
                    }
                    backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| IntajError::Connection(e.without_url().to_string()))?;
                    if status.is_success() {
                        let value =
                            serde_json::from_slice(&bytes).map_err(|e| IntajError::Unexpected {
                                status: status.as_u16(),
                                detail: e.to_string(),
                            })?;
                        return Ok(Answer {
                            value,
                            rate_limit: RateLimit::of(&headers),
                            replayed: headers.contains_key("idempotent-replayed"),
                        });
                    }
                    let error = api_error(status, &headers, &bytes);
                    // 409 `idempotency_in_progress`: the first request with this key (often this
                    // client's own, timed out) is still running; the same request after
                    // `Retry-After` gets its answer.
                    let in_progress = status == StatusCode::CONFLICT
                        && error.code() == Some("idempotency_in_progress");
                    let retryable = in_progress
                        || matches!(
                            status,
                            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                        );
                    let retry_after = retry_after(&headers);
                    if !retryable
                        || attempt >= self.inner.max_retries
                        || retry_after.is_some_and(|wait| wait > MAX_RETRY_AFTER)
                    {
                        return Err(error);
                    }
                    retry_after.unwrap_or_else(|| backoff(attempt))
                }
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Full jitter: anywhere up to the doubled ceiling, so that many clients spread out.
fn backoff(attempt: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(MAX_BACKOFF);
    let millis = rand::rng().random_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(millis)
}

impl Intaj {
    /// `PUT url` with `headers` and the file, no credentials (a presigned URL is its own). Not
    /// retried: a new upload URL is the retry.
    pub(crate) async fn put_file(
        &self,
        url: &str,
        headers: &std::collections::HashMap<String, String>,
        file: Vec<u8>,
    ) -> Result<(), IntajError> {
        let mut request = self
            .inner
            .http
            .put(url)
            .timeout(self.inner.timeout)
            .body(file);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| IntajError::Connection(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        Err(api_error(status, &headers, &bytes))
    }
}

fn api_error(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> IntajError {
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let error = &body["error"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let request_id = ["apigw-requestid", "x-amzn-requestid"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok().map(str::to_owned));
    match (text(&error["code"]), text(&error["message"])) {
        (Some(code), Some(message)) => IntajError::Api {
            status: status.as_u16(),
            code,
            message,
            upstream: Some(error["upstream"].clone()).filter(|u| !u.is_null()),
            retry_after: retry_after(headers).map(|d| d.as_secs()),
            request_id,
        },
        _ => IntajError::Unexpected {
            status: status.as_u16(),
            detail: String::from_utf8_lossy(bytes).chars().take(200).collect(),
        },
    }
}

/// An idempotency key for one logical send, kept across its retries.
pub(crate) fn idempotency_key() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Path segments are ids and phone numbers: keep them one segment.
pub(crate) fn segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
