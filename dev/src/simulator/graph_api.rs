//! The Graph API routes: `POST /{version}/{phoneNumberId}/messages`,
//! `GET /{version}/{wabaId}/message_templates`, `GET /{version}/{phoneNumberId}`, and what every
//! Graph route shares: the version check, the Bearer token, and fault injection.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State as StateExtractor};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::config::{FailNext, FailureDelivery, SimulatedNumber};
use super::errors::GraphError;
use super::ids;
use super::state::{OutboxMessage, ReadReceipt, State, TokenBucket, lock};
use super::templates::{self, Paging, TemplateList, TemplateQuery};
use super::validation::{self, Recipient};
use super::webhooks::{AcceptedMessage, spawn_status_updates};

pub(crate) type AppState = StateExtractor<Arc<State>>;

/// `access_token` may come in the query string, as Graph allows.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenQuery {
    pub access_token: Option<String>,
}

/// The access token of a request: `Authorization: Bearer …`, else `?access_token=`.
pub(crate) fn access_token<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .or(query)
        .filter(|token| !token.is_empty())
}

/// The numbers the request's token may use; 401 when it is missing or unknown.
pub(crate) fn authenticate(
    state: &State,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<Vec<SimulatedNumber>, GraphError> {
    let token = access_token(headers, query_token).ok_or_else(GraphError::invalid_token)?;
    let numbers = state.numbers_for_token(token);
    if numbers.is_empty() {
        Err(GraphError::invalid_token())
    } else {
        Ok(numbers)
    }
}

/// The Graph version must look like `v25.0` and, when the simulator is pinned, be that version.
pub(crate) fn check_version(state: &State, version: &str, path: &str) -> Result<(), GraphError> {
    let well_formed = version
        .strip_prefix('v')
        .and_then(|number| number.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|byte| byte.is_ascii_digit())
                && minor.bytes().all(|byte| byte.is_ascii_digit())
        });
    let served = state
        .api_version
        .as_deref()
        .is_none_or(|pinned| pinned == version);
    if well_formed && served {
        Ok(())
    } else {
        Err(GraphError::unknown_path(path))
    }
}

/// The added delay, then a forced failure if `fail_next` or the 5xx rate says so.
pub(crate) async fn inject_faults(state: &State) -> Result<(), GraphError> {
    let (delay, failure) = {
        let mut settings = lock(&state.settings);
        let failure = match settings.fail_next {
            Some(FailNext { count, code }) => {
                settings.fail_next = (count > 1).then_some(FailNext {
                    count: count - 1,
                    code,
                });
                Some(GraphError::code(code))
            }
            None => {
                let rate = settings.fault.error_rate.clamp(0.0, 1.0);
                // Half of the injected faults are 500 code 1, half 503 code 2, like Graph's outages.
                (rate > 0.0 && rand::random_bool(rate))
                    .then(|| GraphError::code(if rand::random_bool(0.5) { 1 } else { 2 }))
            }
        };
        (settings.fault.delay, failure)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match failure {
        Some(error) => {
            tracing::debug!(code = error.error.code, "injected fault");
            Err(error)
        }
        None => Ok(()),
    }
}

/// The number `phone_number_id` if the token may use it; Graph's 100/33 otherwise.
fn number_for(
    numbers: Vec<SimulatedNumber>,
    phone_number_id: &str,
    method: &str,
) -> Result<SimulatedNumber, GraphError> {
    numbers
        .into_iter()
        .find(|number| number.phone_number_id == phone_number_id)
        .ok_or_else(|| GraphError::unknown_object(method, phone_number_id))
}

/// The absolute URL of the simulator for links in answers: the configured one, else the request's
/// `Host`.
pub(crate) fn base_url(state: &State, headers: &HeaderMap) -> String {
    state.base_url().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    })
}

#[derive(Debug, Serialize)]
pub(crate) struct SendResponse {
    messaging_product: &'static str,
    contacts: Vec<ContactResult>,
    messages: Vec<MessageResult>,
}

#[derive(Debug, Serialize)]
struct ContactResult {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    wa_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct MessageResult {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_status: Option<&'static str>,
}

/// `POST /{version}/{phoneNumberId}/messages`.
pub(crate) async fn send_message(
    StateExtractor(state): AppState,
    Path((version, phone_number_id)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, query.access_token.as_deref())?;
    let number = number_for(numbers, &phone_number_id, "post")?;
    inject_faults(&state).await?;
    if let Some(receipt) = read_receipt(&body, &number)? {
        tracing::info!(message_id = %receipt.message_id, typing = receipt.typing_indicator, "message marked read");
        lock(&state.read_receipts).push(receipt);
        return Ok(Json(serde_json::json!({"success": true})).into_response());
    }

    let message = validation::validate(&body)?;
    let template = match &message.template {
        Some(wanted) => Some(state.with_templates(&number.waba_id, |set| {
            templates::check_send(&set.templates, wanted)
        })?),
        None => None,
    };
    let recipient_key = message.recipient.key().to_owned();
    if recipient_key == number.display_phone_number {
        return Err(GraphError::code(131021));
    }
    take_throughput(&state, &number)?;
    take_pair_rate(&state, &number, &recipient_key)?;
    let failure = state
        .settings()
        .recipient_failures
        .get(&recipient_key)
        .copied();
    if let Some(failure) = failure.filter(|failure| failure.delivery == FailureDelivery::Response) {
        tracing::debug!(recipient = %recipient_key, code = failure.code, "forced recipient failure");
        return Err(GraphError::code(failure.code));
    }

    let id = ids::wamid(&recipient_key);
    let (to, recipient) = match &message.recipient {
        Recipient::Phone(digits) => (Some(digits.clone()), None),
        Recipient::UserId(user_id) => (None, Some(user_id.clone())),
    };
    lock(&state.outbox).push(OutboxMessage {
        id: id.clone(),
        phone_number_id: number.phone_number_id.clone(),
        to: to.clone(),
        recipient: recipient.clone(),
        kind: message.kind.clone(),
        status: "accepted".to_owned(),
        received_at_ms: ids::unix_now_ms(),
        request: message.request.clone(),
    });
    tracing::info!(%id, phone_number_id = %number.phone_number_id, recipient = %recipient_key, kind = %message.kind, "message accepted");
    spawn_status_updates(
        Arc::clone(&state),
        AcceptedMessage {
            id: id.clone(),
            phone_number_id: number.phone_number_id.clone(),
            recipient: message.recipient.clone(),
            category: template.map_or_else(|| "service".to_owned(), |template| template.category),
            biz_opaque_callback_data: message.biz_opaque_callback_data.clone(),
            failure_code: failure.map(|failure| failure.code),
        },
    );
    Ok(Json(SendResponse {
        messaging_product: "whatsapp",
        contacts: vec![ContactResult {
            input: message.input,
            wa_id: to,
            user_id: recipient,
        }],
        messages: vec![MessageResult {
            id,
            message_status: message.template.is_some().then_some("accepted"),
        }],
    })
    .into_response())
}

/// `{"messaging_product":"whatsapp","status":"read","message_id",…}`: a read receipt (and the
/// typing indicator with `"typing_indicator":{"type":"text"}`), not a message. `None` for a
/// message.
fn read_receipt(body: &[u8], number: &SimulatedNumber) -> Result<Option<ReadReceipt>, GraphError> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(None);
    };
    if value.get("status").is_none() {
        return Ok(None);
    }
    if value["status"] != "read" {
        return Err(GraphError::invalid_parameter(
            "status must be \"read\" to mark a message read",
        ));
    }
    let message_id = value["message_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| GraphError::required("message_id"))?;
    Ok(Some(ReadReceipt {
        phone_number_id: number.phone_number_id.clone(),
        message_id: message_id.to_owned(),
        typing_indicator: value["typing_indicator"]["type"] == "text",
        received_at_ms: ids::unix_now_ms(),
    }))
}

/// Throughput per phone number (token bucket of one second's worth) → 130429.
fn take_throughput(state: &State, number: &SimulatedNumber) -> Result<(), GraphError> {
    let Some(per_second) = state.settings().throughput_per_second else {
        return Ok(());
    };
    let mut buckets = lock(&state.throughput_buckets);
    let bucket = buckets
        .entry(number.phone_number_id.clone())
        .or_insert_with(|| TokenBucket::new(per_second, f64::from(per_second)));
    if per_second > 0 && bucket.try_take() {
        Ok(())
    } else {
        Err(GraphError::code(130429))
    }
}

/// The pair rate limit (business number → one customer), when configured → 131056.
fn take_pair_rate(
    state: &State,
    number: &SimulatedNumber,
    recipient: &str,
) -> Result<(), GraphError> {
    let Some(limit) = state.settings().pair_rate_limit else {
        return Ok(());
    };
    let per_second = if limit.interval.is_zero() {
        f64::INFINITY
    } else {
        1.0 / limit.interval.as_secs_f64()
    };
    let mut buckets = lock(&state.pair_buckets);
    let bucket = buckets
        .entry((number.phone_number_id.clone(), recipient.to_owned()))
        .or_insert_with(|| TokenBucket::new(limit.burst, per_second));
    if bucket.try_take() {
        Ok(())
    } else {
        Err(GraphError::code(131056))
    }
}

/// The added latency of template reads, when set (after the injected faults); `waba_id` adds
/// its own when it is one of the slow accounts.
pub(crate) async fn template_delay(state: &State, waba_id: Option<&str>) {
    let settings = state.settings();
    let own = waba_id
        .and_then(|waba| settings.slow_wabas.get(waba).copied())
        .unwrap_or_default();
    let delay = settings.template_delay + own;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// `GET /{version}/{wabaId}/message_templates?limit=&after=&before=&fields=&status=&name=&language=&category=&summary=`.
pub(crate) async fn list_templates(
    StateExtractor(state): AppState,
    Path((version, waba_id)): Path<(String, String)>,
    Query(query): Query<TemplateQuery>,
    Query(token): Query<TokenQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<TemplateList>, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    if !numbers.iter().any(|number| number.waba_id == waba_id) {
        return Err(GraphError::unknown_object("get", &waba_id));
    }
    inject_faults(&state).await?;
    template_delay(&state, Some(&waba_id)).await;
    let (page, message_template_count) = state.with_templates(&waba_id, |set| {
        templates::page(set, &query).map(|page| (page, set.templates.len()))
    })?;
    let summary = query.summary.as_deref().and_then(|asked| {
        templates::summary(
            asked,
            page.total_count,
            message_template_count,
            state.settings().message_template_limit,
        )
    });
    let (Some(before), Some(after)) = (page.before.clone(), page.after.clone()) else {
        return Ok(Json(TemplateList {
            data: page.data,
            paging: None,
            summary,
        }));
    };
    let link = |cursor_name: &str, cursor: &str| {
        let mut url = format!(
            "{}{}?limit={}",
            base_url(&state, &headers),
            uri.path(),
            page.limit
        );
        for (name, value) in [
            ("fields", &query.fields),
            ("status", &query.status),
            ("name", &query.name),
            ("language", &query.language),
            ("category", &query.category),
            ("summary", &query.summary),
        ] {
            if let Some(value) = value {
                url.push_str(&format!("&{name}={}", encode_query(value)));
            }
        }
        url.push_str(&format!("&{cursor_name}={cursor}"));
        url
    };
    let next = page.has_next.then(|| link("after", &after));
    let previous = page.has_previous.then(|| link("before", &before));
    Ok(Json(TemplateList {
        data: page.data,
        paging: Some(Paging {
            cursors: templates::Cursors { before, after },
            next,
            previous,
        }),
        summary,
    }))
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `GET /{version}/{phoneNumberId}`: the phone number object, as the Graph API describes it.
pub(crate) fn phone_number_info(number: &SimulatedNumber) -> serde_json::Value {
    serde_json::json!({
        "verified_name": number.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": format!("+{}", number.display_phone_number),
        "quality_rating": number.quality_rating,
        "platform_type": "CLOUD_API",
        "throughput": {"level": number.throughput_level},
        "id": number.phone_number_id,
    })
}

fn lock_read<T>(lock: &std::sync::RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `GET /{version}/{waba_id}/phone_numbers`: every number of the business account, for a token
/// of one of them (Meta's system-user tokens see the whole account). One page.
pub(crate) async fn list_phone_numbers(
    StateExtractor(state): AppState,
    Path((version, waba_id)): Path<(String, String)>,
    Query(token): Query<TokenQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, GraphError> {
    check_version(&state, &version, uri.path())?;
    let numbers = authenticate(&state, &headers, token.access_token.as_deref())?;
    if !numbers.iter().any(|number| number.waba_id == waba_id) {
        return Err(GraphError::unknown_object("get", &waba_id));
    }
    inject_faults(&state).await?;
    let mut numbers: Vec<SimulatedNumber> = lock_read(&state.numbers)
        .values()
        .filter(|number| number.waba_id == waba_id)
        .cloned()
        .collect();
    numbers.sort_by(|a, b| a.phone_number_id.cmp(&b.phone_number_id));
    let data: Vec<serde_json::Value> = numbers.iter().map(phone_number_info).collect();
    Ok(Json(serde_json::json!({ "data": data })))
}

/// Any path the simulator does not serve: Graph's "Unknown path components".
pub(crate) async fn unknown_path(OriginalUri(uri): OriginalUri) -> GraphError {
    GraphError::unknown_path(uri.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_header_or_the_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(access_token(&headers, Some("q")), Some("q"));
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(access_token(&headers, Some("q")), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(access_token(&headers, None), None);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query("name,status"), "name%2Cstatus");
        assert_eq!(encode_query("a b&c"), "a%20b%26c");
    }
}
