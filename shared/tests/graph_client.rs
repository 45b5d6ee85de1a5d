//! `GraphClient` against a tiny fake Graph API (axum on 127.0.0.1:0): answers, Meta's error
//! shapes, the retry rules of SPEC §4 and template paging (SPEC §5).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use intaj_shared::graph::{
    self, GraphClient, GraphConfig, GraphError, GraphFailure, RetryPolicy, Retryable, retry,
};
use serde_json::{Value, json};
use tokio::time::Instant;

const TOKEN: &str = "EAAG-test-access-token";
const PHONE_NUMBER_ID: &str = "100000000000001";
const WABA_ID: &str = "200000000000001";

// ---------------------------------------------------------------------------------------------
// The fake Graph API
// ---------------------------------------------------------------------------------------------

/// One scripted answer of the fake.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: ReplyBody,
    retry_after: Option<&'static str>,
    delay: Duration,
}

#[derive(Clone)]
enum ReplyBody {
    Json(Value),
    Text(&'static str),
}

impl Reply {
    fn accepted(id: &str) -> Self {
        Self::json(
            200,
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": "+1 (555) 123-4567", "wa_id": "15551234567"}],
                "messages": [{"id": id, "message_status": "accepted"}]
            }),
        )
    }

    fn meta(status: u16, code: i64) -> Self {
        Self::json(
            status,
            json!({"error": {
                "message": format!("(#{code}) Something"),
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": "details here"},
                "fbtrace_id": "AbCdEf123"
            }}),
        )
    }

    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
            retry_after: None,
            delay: Duration::ZERO,
        }
    }

    fn text(status: u16, body: &'static str) -> Self {
        Self {
            status,
            body: ReplyBody::Text(body),
            retry_after: None,
            delay: Duration::ZERO,
        }
    }

    fn with_retry_after(mut self, seconds: &'static str) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

struct Seen {
    path: String,
    authorization: Option<String>,
    body: String,
}

#[derive(Default)]
struct FakeState {
    /// Answers in order; the last one repeats forever.
    replies: Mutex<VecDeque<Reply>>,
    calls: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    /// How many templates `message_templates` lists.
    templates: usize,
    /// Always answer a `next` page with the same cursor (a misbehaving paging).
    looping_cursor: bool,
    /// Refuse this many requests that carry a cursor with 131059 (the set changed meanwhile).
    stale_cursors: AtomicUsize,
}

struct Fake {
    base_url: String,
    state: Arc<FakeState>,
}

impl Fake {
    async fn start(replies: Vec<Reply>) -> Self {
        Self::start_with(FakeState {
            replies: Mutex::new(replies.into()),
            ..FakeState::default()
        })
        .await
    }

    async fn start_with(state: FakeState) -> Self {
        let state = Arc::new(state);
        let app = Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .route("/{version}/{waba}/message_templates", get(templates))
            .route("/{version}/{waba}/phone_numbers", get(phone_numbers))
            .with_state(state.clone());
        // Bound before serving: requests queue in the backlog, so no readiness wait is needed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base_url, state }
    }

    fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    fn client(&self, retry: RetryPolicy) -> GraphClient {
        client_for(&self.base_url, retry, Duration::from_secs(5))
    }
}

fn client_for(base_url: &str, retry: RetryPolicy, request_timeout: Duration) -> GraphClient {
    GraphClient::new(GraphConfig {
        request_timeout,
        retry,
        ..GraphConfig::new(base_url, "v25.0")
    })
    .unwrap()
}

fn next_reply(state: &FakeState) -> Reply {
    let mut replies = state.replies.lock().unwrap();
    if replies.len() > 1 {
        replies.pop_front().unwrap()
    } else {
        replies
            .front()
            .cloned()
            .expect("the fake has no reply scripted")
    }
}

async fn messages(
    State(state): State<Arc<FakeState>>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    state.seen.lock().unwrap().push(Seen {
        path: format!("/{version}/{phone}/messages"),
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap().to_owned()),
        body,
    });
    let reply = next_reply(&state);
    tokio::time::sleep(reply.delay).await;
    let mut response = match reply.body {
        ReplyBody::Json(body) => axum::Json(body).into_response(),
        ReplyBody::Text(body) => body.into_response(),
    };
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.parse().unwrap());
    }
    response
}

/// Pages of `state.templates` templates; cursors are `c{offset}`.
async fn templates(
    State(state): State<Arc<FakeState>>,
    Path((version, waba)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190}}))).into_response();
    }
    assert_eq!(
        query.get("fields").map(String::as_str),
        Some(
            "name,language,status,category,sub_category,parameter_format,components,\
             quality_score,rejected_reason,id"
        )
    );
    if query.contains_key("after")
        && state
            .stale_cursors
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"message": "(#131059) Invalid cursor", "type": "OAuthException", "code": 131059}}))).into_response();
    }
    let limit: usize = query["limit"].parse().unwrap();
    let start: usize = query
        .get("after")
        .map(|cursor| cursor.trim_start_matches('c').parse().unwrap())
        .unwrap_or(0);
    let end = (start + limit).min(state.templates);
    let data: Vec<Value> = (start..end)
        .map(|i| {
            json!({
                "name": format!("template_{i:03}"),
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "parameter_format": "POSITIONAL",
                "components": [{"type": "BODY", "text": "Hello {{1}}"}],
                "id": format!("{}", 9_000 + i)
            })
        })
        .collect();
    let after = if state.looping_cursor {
        "c0".to_owned()
    } else {
        format!("c{end}")
    };
    let mut paging = json!({"cursors": {"before": format!("c{start}"), "after": after}});
    if state.looping_cursor || end < state.templates {
        paging["next"] = json!(format!(
            "https://graph.facebook.com/{version}/{waba}/message_templates?limit={limit}&after={after}"
        ));
    }
    let summary = json!({"total_count": state.templates, "message_template_limit": 250});
    axum::Json(json!({"data": data, "paging": paging, "summary": summary})).into_response()
}

/// Tiny delays so retry tests take milliseconds.
/// Two pages of three numbers: `next` on the first only, `cursors.after` on both (as Meta does).
async fn phone_numbers(
    State(state): State<Arc<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let (first, last) = match query.get("after").map(String::as_str) {
        None => (1, 3),
        Some("n3") => (4, 6),
        Some(other) => panic!("unexpected cursor {other}"),
    };
    assert!(query["fields"].contains("verified_name"));
    let data: Vec<Value> = (first..=last)
        .map(|i| {
            json!({"id": format!("10000000000000{i}"), "verified_name": format!("Shop {i}"),
            "display_phone_number": format!("+1 555-010-000{i}"), "quality_rating": "GREEN",
            "throughput": {"level": "STANDARD"}})
        })
        .collect();
    let mut paging =
        json!({"cursors": {"before": format!("n{first}"), "after": format!("n{last}")}});
    if last == 3 {
        paging["next"] = json!("https://graph.facebook.com/next-page");
    }
    Json(json!({"data": data, "paging": paging}))
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        budget: Duration::from_secs(5),
    }
}

async fn send(client: &GraphClient) -> Result<graph::SendAccepted, GraphFailure> {
    let body = json!({"messaging_product": "whatsapp", "to": "15551234567", "type": "text", "text": {"body": "Hi"}});
    client.send_message(PHONE_NUMBER_ID, TOKEN, &body).await
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn success_is_parsed_and_the_request_is_what_meta_expects() {
    let fake = Fake::start(vec![Reply::accepted("wamid.HBgL")]).await;
    let accepted = send(&fake.client(fast_policy())).await.unwrap();

    assert_eq!(accepted.message_id, "wamid.HBgL");
    assert_eq!(accepted.wa_id.as_deref(), Some("15551234567"));
    assert_eq!(accepted.message_status.as_deref(), Some("accepted"));

    let seen = fake.state.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, format!("/v25.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["text"]["body"], "Hi");
}

#[tokio::test]
async fn success_without_message_status_is_accepted() {
    let fake = Fake::start(vec![Reply::json(
        200,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "1"}], "messages": [{"id": "wamid.A"}]}),
    )])
    .await;
    let accepted = send(&fake.client(fast_policy())).await.unwrap();
    assert_eq!(accepted.message_id, "wamid.A");
    assert_eq!(accepted.message_status, None);
}

#[tokio::test]
async fn each_meta_error_shape_is_parsed() {
    struct Case {
        status: u16,
        body: Value,
        code: i64,
        subcode: Option<i64>,
        details: Option<&'static str>,
        fbtrace: Option<&'static str>,
        error_type: Option<&'static str>,
    }
    let cases = [
        // WhatsApp-level error with error_data.details.
        Case {
            status: 400,
            body: json!({"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
                "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed"},
                "fbtrace_id": "A1b2C3"}}),
            code: 131047,
            subcode: None,
            details: Some("Message failed to send because more than 24 hours have passed"),
            fbtrace: Some("A1b2C3"),
            error_type: Some("OAuthException"),
        },
        // Graph-level token error with a subcode and no error_data.
        Case {
            status: 401,
            body: json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException",
                "code": 190, "error_subcode": 463, "fbtrace_id": "Zz9"}}),
            code: 190,
            subcode: Some(463),
            details: None,
            fbtrace: Some("Zz9"),
            error_type: Some("OAuthException"),
        },
        // Unknown object: code 100 subcode 33.
        Case {
            status: 400,
            body: json!({"error": {"message": "Unsupported post request.", "type": "GraphMethodException", "code": 100,
                "error_subcode": 33, "fbtrace_id": "Q"}}),
            code: 100,
            subcode: Some(33),
            details: None,
            fbtrace: Some("Q"),
            error_type: Some("GraphMethodException"),
        },
        // Minimal shape: only code and message.
        Case {
            status: 400,
            body: json!({"error": {"message": "(#132001) Template name does not exist in the translation", "code": 132001}}),
            code: 132001,
            subcode: None,
            details: None,
            fbtrace: None,
            error_type: None,
        },
    ];
    for case in cases {
        let fake = Fake::start(vec![Reply::json(case.status, case.body)]).await;
        let failure = send(&fake.client(RetryPolicy::none())).await.unwrap_err();
        let GraphError::Meta {
            http_status, error, ..
        } = &failure.error
        else {
            panic!("expected a Meta error, got {:?}", failure.error);
        };
        assert_eq!(*http_status, case.status);
        assert_eq!(error.code, case.code);
        assert_eq!(error.error_subcode, case.subcode);
        assert_eq!(error.details.as_deref(), case.details);
        assert_eq!(error.fbtrace_id.as_deref(), case.fbtrace);
        assert_eq!(error.error_type.as_deref(), case.error_type);
        assert!(!error.message.is_empty());
        assert_eq!(failure.error.meta_code(), Some(case.code));
        assert_eq!(failure.attempts, 1);
    }
}

#[tokio::test]
async fn retryable_failures_are_retried_until_success() {
    let cases = [
        (Reply::meta(400, 131000), Reply::meta(500, 131000)),
        (
            Reply::text(503, "<html>Service Unavailable</html>"),
            Reply::meta(503, 2),
        ),
        (Reply::meta(400, 130429), Reply::meta(429, 4)),
        (Reply::meta(400, 80007), Reply::meta(400, 131016)),
        (Reply::meta(400, 1), Reply::meta(502, 131026)),
    ];
    for (first, second) in cases {
        let fake = Fake::start(vec![first, second, Reply::accepted("wamid.OK")]).await;
        let accepted = send(&fake.client(fast_policy())).await.unwrap();
        assert_eq!(accepted.message_id, "wamid.OK");
        assert_eq!(fake.calls(), 3);
    }
}

#[tokio::test]
async fn non_retryable_errors_are_tried_once() {
    for code in [131026, 131047, 100, 190, 131056, 131048, 132000, 131062] {
        let status = if code == 190 { 401 } else { 400 };
        let fake = Fake::start(vec![Reply::meta(status, code), Reply::accepted("wamid.NO")]).await;
        let failure = send(&fake.client(fast_policy())).await.unwrap_err();
        assert_eq!(fake.calls(), 1, "code {code}");
        assert_eq!(failure.attempts, 1);
        assert_eq!(failure.error.meta_code(), Some(code));
        assert!(!failure.error.is_retryable());
        assert!(failure.retry_after >= Duration::from_secs(1));
    }
}

#[tokio::test]
async fn retries_stop_within_the_budget() {
    let fake = Fake::start(vec![Reply::text(500, "boom")]).await;
    let budget = Duration::from_millis(300);
    let policy = RetryPolicy {
        max_attempts: 1_000,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        budget,
    };
    let client = fake.client(policy);
    let started = std::time::Instant::now();
    let failure = send(&client).await.unwrap_err();
    let elapsed = started.elapsed();

    assert!(fake.calls() > 1);
    // The last attempt may be cut off by the budget before the fake counts it (then: Timeout).
    let attempts = failure.attempts as usize;
    assert!(attempts == fake.calls() || attempts == fake.calls() + 1);
    assert!(
        matches!(
            failure.error,
            GraphError::Decode {
                http_status: 500,
                ..
            } | GraphError::Timeout
        ),
        "{:?}",
        failure.error
    );
    assert!(failure.error.is_retryable());
    assert!(
        elapsed < budget + Duration::from_millis(250),
        "took {elapsed:?}"
    );
    assert!(failure.retry_after >= Duration::from_secs(1));
}

#[tokio::test]
async fn max_attempts_is_respected() {
    let fake = Fake::start(vec![Reply::meta(400, 131000)]).await;
    let failure = send(&fake.client(fast_policy())).await.unwrap_err();
    assert_eq!(fake.calls(), 6);
    assert_eq!(failure.attempts, 6);
    assert_eq!(failure.error.meta_code(), Some(131000));
}

#[tokio::test]
async fn a_timeout_is_retryable_and_retried() {
    let slow = Reply::accepted("wamid.SLOW").after(Duration::from_secs(3));
    let fake = Fake::start(vec![slow.clone(), Reply::accepted("wamid.FAST")]).await;
    let client = client_for(&fake.base_url, fast_policy(), Duration::from_millis(200));
    let accepted = send(&client).await.unwrap();
    assert_eq!(accepted.message_id, "wamid.FAST");
    assert_eq!(fake.calls(), 2);

    let fake = Fake::start(vec![slow]).await;
    let client = client_for(
        &fake.base_url,
        RetryPolicy::none(),
        Duration::from_millis(200),
    );
    let failure = send(&client).await.unwrap_err();
    assert_eq!(failure.error, GraphError::Timeout);
    assert!(failure.error.is_retryable());
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_transport_error() {
    // A port that was just free: connecting is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = client_for(&base_url, RetryPolicy::none(), Duration::from_secs(2));
    let failure = send(&client).await.unwrap_err();
    assert!(
        matches!(
            failure.error,
            GraphError::Transport(_) | GraphError::Timeout
        ),
        "{:?}",
        failure.error
    );
    assert!(failure.error.is_retryable());
    assert!(!failure.to_string().contains(TOKEN));
}

#[tokio::test]
async fn retry_after_is_honoured_as_a_floor() {
    let fake = Fake::start(vec![
        Reply::meta(429, 130429).with_retry_after("1"),
        Reply::accepted("wamid.LATER"),
    ])
    .await;
    let client = fake.client(fast_policy());
    let started = std::time::Instant::now();
    let accepted = send(&client).await.unwrap();
    assert_eq!(accepted.message_id, "wamid.LATER");
    assert_eq!(fake.calls(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once_and_is_passed_on() {
    let fake = Fake::start(vec![Reply::meta(429, 130429).with_retry_after("30")]).await;
    let policy = RetryPolicy {
        budget: Duration::from_secs(2),
        ..fast_policy()
    };
    let client = fake.client(policy);
    let started = std::time::Instant::now();
    let failure = send(&client).await.unwrap_err();
    assert_eq!(fake.calls(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(failure.error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(failure.retry_after, Duration::from_secs(30));
    assert_eq!(failure.retry_after_secs(), 30);
}

#[tokio::test]
async fn the_access_token_never_appears_in_errors() {
    let echo = Reply::json(
        401,
        json!({"error": {"message": format!("Invalid token {TOKEN}"), "code": 190,
            "error_data": {"details": format!("token {TOKEN} expired")}}}),
    );
    let fake = Fake::start(vec![echo]).await;
    let failure = send(&fake.client(RetryPolicy::none())).await.unwrap_err();
    assert_eq!(failure.error.meta_code(), Some(190));
    assert!(!failure.to_string().contains(TOKEN));
    assert!(!format!("{failure:?}").contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn templates_are_read_across_pages_until_the_end() {
    let fake = Fake::start_with(FakeState {
        templates: 60,
        ..FakeState::default()
    })
    .await;
    let client = fake.client(fast_policy());

    let first = client
        .message_templates_page(WABA_ID, TOKEN, None, 25)
        .await
        .unwrap();
    assert_eq!(first.templates.len(), 25);
    assert_eq!(first.next_after.as_deref(), Some("c25"));
    let last = client
        .message_templates_page(WABA_ID, TOKEN, Some("c50"), 25)
        .await
        .unwrap();
    assert_eq!(last.templates.len(), 10);
    assert_eq!(last.next_after, None);

    let before = fake.calls();
    let all = client
        .all_message_templates(WABA_ID, TOKEN, 25)
        .await
        .unwrap();
    assert_eq!(fake.calls() - before, 3);
    assert_eq!(all.pages, 3);
    assert_eq!(all.template_limit, Some(250));
    let all = all.templates;
    assert_eq!(all.len(), 60);
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names[0], "template_000");
    assert_eq!(names[59], "template_059");
    let template = &all[7];
    assert_eq!(template.id, "9007");
    assert_eq!(template.language, "en_US");
    assert_eq!(template.status, "APPROVED");
    assert_eq!(template.category, "UTILITY");
    assert_eq!(template.parameter_format.as_deref(), Some("POSITIONAL"));
    assert_eq!(template.components[0]["text"], "Hello {{1}}");
}

#[tokio::test]
async fn an_empty_template_set_is_one_page() {
    let fake = Fake::start_with(FakeState::default()).await;
    let all = fake
        .client(fast_policy())
        .all_message_templates(WABA_ID, TOKEN, 25)
        .await
        .unwrap();
    assert!(all.templates.is_empty());
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn an_expired_cursor_restarts_the_listing_once() {
    let fake = Fake::start_with(FakeState {
        templates: 60,
        stale_cursors: AtomicUsize::new(1),
        ..FakeState::default()
    })
    .await;
    let client = fake.client(fast_policy());
    let all = client
        .all_message_templates(WABA_ID, TOKEN, 25)
        .await
        .unwrap();
    // Page 1, the refused page 2, then pages 1 to 3 again: every template once.
    assert_eq!(fake.calls(), 5);
    assert_eq!(all.templates.len(), 60);
    let names: std::collections::BTreeSet<_> = all.templates.iter().map(|t| &t.name).collect();
    assert_eq!(names.len(), 60);

    // A second expiry in the same listing is Meta's error, not a loop.
    let fake = Fake::start_with(FakeState {
        templates: 60,
        stale_cursors: AtomicUsize::new(2),
        ..FakeState::default()
    })
    .await;
    let failure = fake
        .client(fast_policy())
        .all_message_templates(WABA_ID, TOKEN, 25)
        .await
        .unwrap_err();
    assert_eq!(failure.error.meta_code(), Some(131059));
}

#[tokio::test]
async fn a_repeating_cursor_is_an_error_not_a_loop() {
    let fake = Fake::start_with(FakeState {
        templates: 60,
        looping_cursor: true,
        ..FakeState::default()
    })
    .await;
    let failure = fake
        .client(fast_policy())
        .all_message_templates(WABA_ID, TOKEN, 25)
        .await
        .unwrap_err();
    assert!(matches!(failure.error, GraphError::Decode { .. }));
    assert!(!failure.error.is_retryable());
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn templates_with_a_bad_token_fail_with_code_190() {
    let fake = Fake::start_with(FakeState {
        templates: 3,
        ..FakeState::default()
    })
    .await;
    let failure = fake
        .client(fast_policy())
        .all_message_templates(WABA_ID, "wrong-token", 25)
        .await
        .unwrap_err();
    assert_eq!(failure.error.meta_code(), Some(190));
    assert_eq!(fake.calls(), 1);
}

// ---------------------------------------------------------------------------------------------
// retry::run on its own, on tokio's paused clock
// ---------------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[error("flaky ({retry_after:?})")]
struct Flaky {
    retryable: bool,
    retry_after: Option<Duration>,
    timed_out: bool,
}

impl Flaky {
    fn retryable(retry_after: Option<Duration>) -> Self {
        Self {
            retryable: true,
            retry_after,
            timed_out: false,
        }
    }
}

impl Retryable for Flaky {
    fn is_retryable(&self) -> bool {
        self.retryable
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    fn timed_out() -> Self {
        Self {
            retryable: true,
            retry_after: None,
            timed_out: true,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn run_sleeps_at_least_retry_after_between_attempts() {
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    let result = retry::run(RetryPolicy::default(), || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(Flaky::retryable(Some(Duration::from_secs(3)))),
            _ => Ok("done"),
        }
    })
    .await;
    assert_eq!(result.unwrap(), "done");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() >= Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn run_never_goes_past_the_budget() {
    let policy = RetryPolicy {
        max_attempts: 1_000,
        ..RetryPolicy::default()
    };
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    let failure = retry::run(policy, || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err::<(), _>(Flaky::retryable(None))
    })
    .await
    .unwrap_err();
    assert!(started.elapsed() <= policy.budget);
    assert!(failure.attempts > 1);
    assert_eq!(failure.attempts as usize, calls.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn run_cuts_off_an_attempt_that_outlives_the_budget() {
    let policy = RetryPolicy {
        budget: Duration::from_secs(2),
        ..RetryPolicy::default()
    };
    let started = Instant::now();
    let failure = retry::run(policy, || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, Flaky>(())
    })
    .await
    .unwrap_err();
    assert!(failure.error.timed_out);
    assert_eq!(failure.attempts, 1);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn run_does_not_retry_a_non_retryable_error() {
    let calls = AtomicUsize::new(0);
    let failure = retry::run(RetryPolicy::default(), || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err::<(), _>(Flaky {
            retryable: false,
            retry_after: None,
            timed_out: false,
        })
    })
    .await
    .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(failure.attempts, 1);
    assert_eq!(failure.retry_after, Duration::from_secs(1));
}

/// Handlers run the client on multi-threaded runtimes: its futures must be `Send`.
#[allow(dead_code)]
fn client_futures_are_send(client: &GraphClient) {
    fn is_send<T: Send>(_: T) {}
    is_send(client.send_message(PHONE_NUMBER_ID, TOKEN, &json!({})));
    is_send(client.send_message_once(PHONE_NUMBER_ID, TOKEN, &json!({})));
    is_send(client.all_message_templates(WABA_ID, TOKEN, 25));
}

#[tokio::test]
async fn an_accounts_phone_numbers_are_read_across_pages() {
    let fake = Fake::start_with(FakeState::default()).await;
    let numbers = fake
        .client(fast_policy())
        .account_phone_numbers(WABA_ID, TOKEN)
        .await
        .unwrap();
    assert_eq!(fake.calls(), 2);
    let ids: Vec<&str> = numbers.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], "100000000000001");
    assert_eq!(ids[5], "100000000000006");
    assert_eq!(numbers[4].verified_name.as_deref(), Some("Shop 5"));
}
