//! The HTTP side of the Graph API: one pooled `reqwest` client per process, the two endpoints this
//! project calls, and the mapping of Meta's answers to [`SendAccepted`], [`TemplatePage`] and
//! [`GraphError`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::GraphFailure;
use super::error::{GraphError, redact, snippet};
use super::retry::{self, Failure, RetryPolicy};
use crate::config::{DEFAULT_API_BASE, DEFAULT_API_VERSION};

/// The fields SPEC §5 stores for each template, and what else Meta tells of its review.
const TEMPLATE_FIELDS: &str = "name,language,status,category,sub_category,parameter_format,\
                               components,quality_score,rejected_reason,id";

/// The account's template count and limit, beside the first page.
const TEMPLATE_SUMMARY: &str = "total_count,message_template_count,message_template_limit";

/// A WABA with more pages than this is a paging loop, not a real template set.
const MAX_TEMPLATE_PAGES: usize = 1000;

/// Meta's code for a paging cursor it no longer accepts (the set changed under the listing).
pub const INVALID_CURSOR: i64 = 131059;
/// Meta's code for an access token it refuses (expired, revoked, malformed).
pub const INVALID_TOKEN: i64 = 190;
/// Meta's code for an object the token cannot see, or that does not exist.
pub const UNKNOWN_OBJECT: i64 = 100;

/// Meta's error subcode for an object that does not exist (with code 100): an expired media id.
pub const OBJECT_DOES_NOT_EXIST: i64 = 33;

/// A media download's or upload's whole time, body included (the client's own timeout is for API
/// calls); under API Gateway's 30 s.
const MEDIA_TRANSFER_TIMEOUT: Duration = Duration::from_secs(25);

/// `GET /{media_id}`: where a media object is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: String,
    /// Hex.
    pub sha256: String,
    pub file_size: u64,
    pub id: String,
}

/// What a file sent to `POST /{phone_number_id}/media` is.
#[derive(Debug, Clone, Copy)]
pub struct MediaUpload<'a> {
    pub mime_type: &'a str,
    /// Exactly the bytes the body will yield.
    pub size: u64,
    pub filename: Option<&'a str>,
}

#[derive(Deserialize)]
struct UploadedMedia {
    id: String,
}

/// How to reach the Graph API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// `WHATSAPP_API_BASE`, e.g. `https://graph.facebook.com` (a path prefix is kept).
    pub base_url: String,
    /// `WHATSAPP_API_VERSION`, e.g. `v25.0`.
    pub api_version: String,
    /// Whole request, connect to last body byte.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Used by every retried method of [`GraphClient`].
    pub retry: RetryPolicy,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_API_BASE.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            retry: RetryPolicy::default(),
        }
    }
}

impl GraphConfig {
    /// Default timeouts and retry policy for this base URL and version.
    pub fn new(base_url: impl Into<String>, api_version: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_version: api_version.into(),
            ..Self::default()
        }
    }
}

/// Meta accepted a message: `{"messaging_product","contacts":[{"input","wa_id"}],
/// "messages":[{"id","message_status"?}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    /// The `wamid.…` that later status webhooks refer to.
    pub message_id: String,
    /// The recipient's WhatsApp id as Meta resolved it (absent for some BSUID sends).
    pub wa_id: Option<String>,
    /// `accepted`, or `held_for_quality_assessment` for some marketing templates.
    pub message_status: Option<String>,
}

/// One template as `GET /{waba-id}/message_templates` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    pub status: String,
    #[serde(default)]
    pub category: String,
    /// `POSITIONAL` or `NAMED`; Meta omits it for older templates.
    #[serde(default)]
    pub parameter_format: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    /// `{"score":"GREEN","date":…}`.
    #[serde(default)]
    pub quality_score: Option<QualityScore>,
    /// `NONE` unless Meta rejected it.
    #[serde(default)]
    pub rejected_reason: Option<String>,
    /// Kept as Meta sent it: the send path reads the placeholders, the API returns it verbatim.
    #[serde(default = "empty_components")]
    pub components: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityScore {
    pub score: String,
}

fn empty_components() -> serde_json::Value {
    serde_json::Value::Array(Vec::new())
}

/// One page of templates; `next_after` is the cursor of the next page, `None` on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePage {
    pub templates: Vec<GraphTemplate>,
    pub next_after: Option<String>,
    /// `summary.message_template_limit`, when Meta gave it.
    pub template_limit: Option<u64>,
}

/// Every template of an account, and its template limit.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateListing {
    pub templates: Vec<GraphTemplate>,
    pub template_limit: Option<u64>,
    /// Pages read, restarts included.
    pub pages: usize,
}

/// The Graph API client. Build one per process and clone it freely (an `Arc` inside): every clone
/// shares the connection pool.
#[derive(Debug, Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base_url: Url,
    api_version: String,
    retry: RetryPolicy,
}

impl GraphClient {
    /// Fails only on a base URL that is not `http(s)://…` or a TLS backend that cannot start.
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        let base_url = Url::parse(&config.base_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base())
            .ok_or_else(|| {
                GraphError::Transport(format!("invalid Graph API base URL {:?}", config.base_url))
            })?;
        let http = crate::http_clients::http_client_builder()
            .user_agent(concat!("intaj-whatsapp/", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(transport_error)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                api_version: config.api_version.trim_matches('/').to_owned(),
                retry: config.retry,
            }),
        })
    }

    /// Opens a pooled connection (TCP and TLS) to the Graph API, so that a function's first
    /// send does not pay for it. Meant for Lambda init; any answer or failure is fine.
    pub async fn warm_up(&self) {
        let request = self.inner.http.head(self.inner.base_url.clone());
        match request.timeout(Duration::from_secs(2)).send().await {
            Ok(_) => tracing::debug!("Graph API connection opened"),
            Err(error) => tracing::warn!(error = %error.without_url(), "Graph API warm-up failed"),
        }
    }

    /// The policy the retried methods use; handy for composing [`retry::run`] around
    /// [`GraphClient::send_message_once`] with a smaller budget.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// `POST /{version}/{phone_number_id}/messages`, retrying retryable failures under the
    /// client's policy. `body` is the whole Cloud API message object (`messaging_product`, `to` or
    /// `recipient`, `type`, …). The body is encoded once; an encoding failure is returned with
    /// `attempts: 0`, since nothing was sent.
    pub async fn send_message<B>(
        &self,
        phone_number_id: &str,
        access_token: &str,
        body: &B,
    ) -> Result<SendAccepted, GraphFailure>
    where
        B: Serialize + ?Sized,
    {
        let body = encode(body).map_err(not_attempted)?;
        let url = self
            .endpoint(&[phone_number_id, "messages"])
            .map_err(not_attempted)?;
        retry::run(self.inner.retry, || {
            self.post_message(&url, access_token, body.clone())
        })
        .await
    }

    /// One `POST /{version}/{phone_number_id}/messages` attempt, no retry.
    pub async fn send_message_once<B>(
        &self,
        phone_number_id: &str,
        access_token: &str,
        body: &B,
    ) -> Result<SendAccepted, GraphError>
    where
        B: Serialize + ?Sized,
    {
        let body = encode(body)?;
        let url = self.endpoint(&[phone_number_id, "messages"])?;
        self.post_message(&url, access_token, body).await
    }

    /// Marks a customer's message read (blue ticks) and, with `typing`, shows the typing
    /// indicator until the next message or 25 s: `POST /{phone_number_id}/messages` with
    /// `{"status":"read","message_id",…}`. One attempt: it is a courtesy, not worth a retry.
    pub async fn mark_read(
        &self,
        phone_number_id: &str,
        access_token: &str,
        message_id: &str,
        typing: bool,
    ) -> Result<(), GraphError> {
        let mut body = serde_json::json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        });
        if typing {
            body["typing_indicator"] = serde_json::json!({"type": "text"});
        }
        let url = self.endpoint(&[phone_number_id, "messages"])?;
        let request = self
            .inner
            .http
            .post(url)
            .bearer_auth(access_token)
            .header(CONTENT_TYPE, "application/json")
            .body(encode(&body)?);
        let _: serde_json::Value = self.execute(request, access_token).await?;
        Ok(())
    }

    /// One page of `GET /{version}/{waba_id}/message_templates` with the fields SPEC §5 stores,
    /// `limit` templates per page (Meta's default is 25), starting after the cursor `after`.
    /// Retried under the client's policy (a GET is safe to repeat).
    pub async fn message_templates_page(
        &self,
        waba_id: &str,
        access_token: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TemplatePage, GraphFailure> {
        let mut url = self
            .endpoint(&[waba_id, "message_templates"])
            .map_err(not_attempted)?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("fields", TEMPLATE_FIELDS)
                .append_pair("summary", TEMPLATE_SUMMARY)
                .append_pair("limit", &limit.to_string());
            if let Some(after) = after {
                query.append_pair("after", after);
            }
        }
        retry::run(self.inner.retry, || async {
            let request = self.inner.http.get(url.clone()).bearer_auth(access_token);
            let page: TemplatesResponse = self.execute(request, access_token).await?;
            Ok(page.into_page())
        })
        .await
    }

    /// Every template of the WABA, following the cursors to the last page. A cursor Meta no
    /// longer accepts (code 131059: the set changed under the listing) restarts the listing
    /// once. A repeated cursor or more than 1000 pages is an error (`Decode` with HTTP 200),
    /// never a partial list: a sync would otherwise delete the templates it did not see.
    pub async fn all_message_templates(
        &self,
        waba_id: &str,
        access_token: &str,
        limit: u32,
    ) -> Result<TemplateListing, GraphFailure> {
        let mut pages = 0;
        let mut restarted = false;
        'listing: loop {
            let mut listing = TemplateListing {
                templates: Vec::new(),
                template_limit: None,
                pages,
            };
            let mut seen = HashSet::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_TEMPLATE_PAGES {
                let page = match self
                    .message_templates_page(waba_id, access_token, after.as_deref(), limit)
                    .await
                {
                    Ok(page) => page,
                    Err(failure)
                        if !restarted
                            && after.is_some()
                            && failure.error.meta_code() == Some(INVALID_CURSOR) =>
                    {
                        tracing::info!(waba_id, "template cursor expired; listing again");
                        restarted = true;
                        pages = listing.pages + 1;
                        continue 'listing;
                    }
                    Err(failure) => return Err(failure),
                };
                listing.pages += 1;
                listing.templates.extend(page.templates);
                listing.template_limit = listing.template_limit.or(page.template_limit);
                match page.next_after {
                    None => return Ok(listing),
                    Some(cursor) if !seen.insert(cursor.clone()) => {
                        return Err(paging_failure("the paging cursor repeated"));
                    }
                    Some(cursor) => after = Some(cursor),
                }
            }
            return Err(paging_failure("more than 1000 pages of templates"));
        }
    }

    /// `GET /{phone_number_id}`: the number as Meta shows it to this token. A token Meta refuses
    /// fails with code 190; a number the token cannot see with code 100. Retried like any GET.
    pub async fn phone_number(
        &self,
        phone_number_id: &str,
        access_token: &str,
    ) -> Result<PhoneNumber, GraphFailure> {
        let mut url = self.endpoint(&[phone_number_id]).map_err(not_attempted)?;
        url.query_pairs_mut()
            .append_pair("fields", PHONE_NUMBER_FIELDS);
        retry::run(self.inner.retry, || async {
            let request = self.inner.http.get(url.clone()).bearer_auth(access_token);
            self.execute(request, access_token).await
        })
        .await
    }

    /// `GET /{media_id}`: where to download a media object, and what it is. An id Meta no longer
    /// keeps (media expire after 30 days) fails with code 100, subcode 33. Retried like any GET.
    pub async fn media_info(
        &self,
        media_id: &str,
        access_token: &str,
    ) -> Result<MediaInfo, GraphFailure> {
        let url = self.endpoint(&[media_id]).map_err(not_attempted)?;
        retry::run(self.inner.retry, || async {
            let request = self.inner.http.get(url.clone()).bearer_auth(access_token);
            self.execute(request, access_token).await
        })
        .await
    }

    /// The file behind a [`MediaInfo::url`], as a stream (with the token, as Meta requires).
    /// Not retried: the caller retries the whole copy.
    pub async fn download_media(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<crate::ports::ByteStream, GraphError> {
        use futures::TryStreamExt;

        let url = Url::parse(url)
            .map_err(|error| GraphError::Transport(format!("bad media URL: {error}")))?;
        let response = self
            .inner
            .http
            .get(url)
            .bearer_auth(access_token)
            .timeout(MEDIA_TRANSFER_TIMEOUT)
            .send()
            .await
            .map_err(transport_error)?;
        let http_status = response.status().as_u16();
        if !response_is_success(http_status) {
            let retry_after = parse_retry_after(response.headers());
            let body = response.bytes().await.unwrap_or_default();
            return Err(GraphError::from_error_body(
                http_status,
                &body,
                retry_after,
                access_token,
            ));
        }
        Ok(Box::pin(
            response.bytes_stream().map_err(std::io::Error::other),
        ))
    }

    /// `POST /{phone_number_id}/media`: uploads a file of `size` bytes as multipart form data,
    /// streamed from `body` (never whole in memory); answers the media id. Not retried: the
    /// stream is spent by the first try, so the caller retries the whole upload.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        access_token: &str,
        upload: MediaUpload<'_>,
        body: crate::ports::ByteStream,
    ) -> Result<String, GraphError> {
        use futures::StreamExt;

        let url = self.endpoint(&[phone_number_id, "media"])?;
        let boundary = format!("intaj-{}", hex::encode(rand::random::<[u8; 12]>()));
        let filename: String = upload
            .filename
            .unwrap_or("file")
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '"' | '\\'))
            .collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{mime}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {mime}\r\n\r\n",
            mime = upload.mime_type,
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = head.len() as u64 + upload.size + tail.len() as u64;
        let parts = futures::stream::once(async move { Ok(bytes::Bytes::from(head)) })
            .chain(body)
            .chain(futures::stream::once(async move {
                Ok(bytes::Bytes::from(tail))
            }));
        let request = self
            .inner
            .http
            .post(url)
            .bearer_auth(access_token)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(reqwest::header::CONTENT_LENGTH, length)
            .timeout(MEDIA_TRANSFER_TIMEOUT)
            .body(reqwest::Body::wrap_stream(parts));
        let uploaded: UploadedMedia = self.execute(request, access_token).await?;
        Ok(uploaded.id)
    }

    /// `GET /{waba_id}/phone_numbers`, every page: the numbers of a business account.
    pub async fn account_phone_numbers(
        &self,
        waba_id: &str,
        access_token: &str,
    ) -> Result<Vec<PhoneNumber>, GraphFailure> {
        let mut numbers = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PHONE_NUMBER_PAGES {
            let mut url = self
                .endpoint(&[waba_id, "phone_numbers"])
                .map_err(not_attempted)?;
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("fields", PHONE_NUMBER_FIELDS);
                if let Some(after) = &after {
                    query.append_pair("after", after);
                }
            }
            let page: PhoneNumbersResponse = retry::run(self.inner.retry, || async {
                let request = self.inner.http.get(url.clone()).bearer_auth(access_token);
                self.execute(request, access_token).await
            })
            .await?;
            numbers.extend(page.data);
            match page.paging.and_then(|p| p.next.and(p.cursors?.after)) {
                Some(cursor) if after.as_deref() != Some(cursor.as_str()) => after = Some(cursor),
                _ => return Ok(numbers),
            }
        }
        Err(paging_failure("more than 100 pages of phone numbers"))
    }

    async fn post_message(
        &self,
        url: &Url,
        access_token: &str,
        body: Vec<u8>,
    ) -> Result<SendAccepted, GraphError> {
        let request = self
            .inner
            .http
            .post(url.clone())
            .bearer_auth(access_token)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let response: SendResponse = self.execute(request, access_token).await?;
        response.into_accepted()
    }

    /// Sends the request and decodes a 2xx body as `T`, anything else as Meta's error shape.
    async fn execute<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        access_token: &str,
    ) -> Result<T, GraphError> {
        let response = request.send().await.map_err(transport_error)?;
        let http_status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers());
        let body = response.bytes().await;
        if !response_is_success(http_status) {
            // An unreadable error body still says "failed"; retryable iff the status is.
            let body = body.unwrap_or_default();
            return Err(GraphError::from_error_body(
                http_status,
                &body,
                retry_after,
                access_token,
            ));
        }
        // Past a 2xx, failures are Decode (not retried): Meta may already have sent the message.
        let body = body.map_err(|error| GraphError::Decode {
            http_status,
            detail: format!("could not read the body: {}", error_chain(&error)),
        })?;
        serde_json::from_slice(&body).map_err(|error| GraphError::Decode {
            http_status,
            detail: format!(
                "{error}; body: {}",
                snippet(&redact(&String::from_utf8_lossy(&body), access_token))
            ),
        })
    }

    /// `{base}/{version}/{segments…}`, each segment percent-encoded (`.`/`..` are dropped).
    fn endpoint(&self, segments: &[&str]) -> Result<Url, GraphError> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| GraphError::Transport("Graph API base URL cannot take a path".into()))?
            .pop_if_empty()
            .push(&self.inner.api_version)
            .extend(segments);
        Ok(url)
    }
}

fn response_is_success(http_status: u16) -> bool {
    (200..300).contains(&http_status)
}

fn encode<B: Serialize + ?Sized>(body: &B) -> Result<Vec<u8>, GraphError> {
    serde_json::to_vec(body).map_err(|error| GraphError::Encode(error.to_string()))
}

/// A failure before any request went out.
fn not_attempted(error: GraphError) -> GraphFailure {
    Failure {
        error,
        attempts: 0,
        retry_after: Duration::from_secs(1),
    }
}

fn paging_failure(detail: &str) -> GraphFailure {
    Failure {
        error: GraphError::Decode {
            http_status: 200,
            detail: detail.to_owned(),
        },
        attempts: 1,
        retry_after: Duration::from_secs(1),
    }
}

/// Timeouts become `Timeout`; everything else `Transport` with the whole cause chain (the URL is
/// dropped: it is long and says nothing the log does not; the token is only ever in a header).
fn transport_error(error: reqwest::Error) -> GraphError {
    if error.is_timeout() {
        GraphError::Timeout
    } else {
        GraphError::Transport(error_chain(&error.without_url()))
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` in delta-seconds, the form Meta uses; an HTTP-date is ignored.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    contacts: Vec<SendContact>,
    #[serde(default)]
    messages: Vec<SendMessage>,
}

#[derive(Deserialize)]
struct SendContact {
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct SendMessage {
    id: String,
    message_status: Option<String>,
}

impl SendResponse {
    fn into_accepted(self) -> Result<SendAccepted, GraphError> {
        let message = self
            .messages
            .into_iter()
            .next()
            .ok_or_else(|| GraphError::Decode {
                http_status: 200,
                detail: "success answer without messages[0].id".into(),
            })?;
        Ok(SendAccepted {
            message_id: message.id,
            wa_id: self.contacts.into_iter().next().and_then(|c| c.wa_id),
            message_status: message.message_status,
        })
    }
}

/// `{"data":[…],"paging":{"cursors":{"before","after"},"next"?},"summary"?:{…}}`.
#[derive(Deserialize)]
struct TemplatesResponse {
    #[serde(default)]
    data: Vec<GraphTemplate>,
    paging: Option<Paging>,
    summary: Option<Summary>,
}

/// The fields read of a business phone number.
const PHONE_NUMBER_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,throughput";
const MAX_PHONE_NUMBER_PAGES: usize = 100;

/// A business phone number as Meta shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhoneNumber {
    pub id: String,
    /// As Meta formats it, e.g. `+1 555-010-0001`.
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
    #[serde(default)]
    pub throughput: Option<Throughput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Throughput {
    /// `STANDARD` (80 messages/s) or `HIGH`.
    #[serde(default)]
    pub level: Option<String>,
}

#[derive(Deserialize)]
struct PhoneNumbersResponse {
    #[serde(default)]
    data: Vec<PhoneNumber>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Summary {
    message_template_limit: Option<u64>,
}

#[derive(Deserialize)]
struct Paging {
    cursors: Option<Cursors>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    after: Option<String>,
}

impl TemplatesResponse {
    fn into_page(self) -> TemplatePage {
        // Meta sends `cursors.after` on the last page too; only `next` says there is more.
        let next_after = self.paging.and_then(|paging| {
            let next = paging.next?;
            paging
                .cursors
                .and_then(|cursors| cursors.after)
                .or_else(|| after_from_next_url(&next))
        });
        TemplatePage {
            templates: self.data,
            next_after,
            template_limit: self.summary.and_then(|s| s.message_template_limit),
        }
    }
}

fn after_from_next_url(next: &str) -> Option<String> {
    let url = Url::parse(next).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == "after")
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> GraphClient {
        GraphClient::new(GraphConfig::new(base, "v25.0")).unwrap()
    }

    #[test]
    fn endpoint_keeps_a_path_prefix_and_encodes_segments() {
        let url = client("http://127.0.0.1:3001/graph/")
            .endpoint(&["1 2/3", "messages"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:3001/graph/v25.0/1%202%2F3/messages"
        );
        let url = client("https://graph.facebook.com")
            .endpoint(&["123", "messages"])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.facebook.com/v25.0/123/messages"
        );
    }

    #[test]
    fn rejects_a_base_that_is_not_http() {
        assert!(GraphClient::new(GraphConfig::new("mailto:x@y", "v25.0")).is_err());
        assert!(GraphClient::new(GraphConfig::new("not a url", "v25.0")).is_err());
    }

    #[test]
    fn last_page_has_no_next_cursor_even_with_cursors() {
        let last: TemplatesResponse =
            serde_json::from_str(r#"{"data":[],"paging":{"cursors":{"before":"b","after":"a"}}}"#)
                .unwrap();
        assert_eq!(last.into_page().next_after, None);
        let middle: TemplatesResponse = serde_json::from_str(
            r#"{"data":[],"paging":{"next":"https://graph.facebook.com/v25.0/1/message_templates?after=xyz"}}"#,
        )
        .unwrap();
        assert_eq!(middle.into_page().next_after.as_deref(), Some("xyz"));
    }

    #[test]
    fn success_without_a_message_id_is_not_retryable() {
        let response: SendResponse =
            serde_json::from_str(r#"{"messaging_product":"whatsapp","contacts":[]}"#).unwrap();
        let error = response.into_accepted().unwrap_err();
        assert!(!error.is_retryable());
    }
}
