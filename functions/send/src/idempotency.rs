//! `Idempotency-Key`: the same key within 24 h returns the first answer and sends nothing twice.

use std::future::Future;

use http::StatusCode;
use intaj_shared::api::ApiError;
use intaj_shared::domain::{IdempotencyClaim, StoredResponse};
use intaj_shared::ports::Store;
use sha2::{Digest, Sha256};

const TTL_SECONDS: i64 = 24 * 60 * 60;
/// A claim whose request died (e.g. the Lambda timed out) is taken over after this long.
const IN_PROGRESS_SECONDS: i64 = 60;

/// Runs `work` once per (bot, key): repeats get the stored answer. Only successes are stored;
/// a failed attempt releases the key so that the caller can retry with it.
pub async fn once<F, Fut>(
    store: &dyn Store,
    bot_id: &str,
    key: Option<&str>,
    body: &[u8],
    now: i64,
    work: F,
) -> Result<http::Response<String>, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<http::Response<String>, ApiError>>,
{
    let Some(key) = key else { return work().await };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID",
        ));
    }
    let fingerprint = hex::encode(Sha256::digest(body));
    let claim = store
        .claim_idempotency(
            bot_id,
            key,
            &fingerprint,
            now,
            TTL_SECONDS,
            IN_PROGRESS_SECONDS,
        )
        .await
        .map_err(unavailable)?;
    match claim {
        IdempotencyClaim::Claimed => {}
        IdempotencyClaim::Completed(stored) => {
            tracing::info!(bot_id, "idempotent repeat answered from the first request");
            return Ok(replay(stored));
        }
        IdempotencyClaim::InProgress => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being handled; retry shortly",
            )
            .with_retry_after(1));
        }
        IdempotencyClaim::FingerprintMismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different body; use a new key per message",
            ));
        }
    }
    let result = work().await;
    match &result {
        Ok(response) if response.status().is_success() => {
            let stored = StoredResponse {
                status: response.status().as_u16(),
                body: response.body().clone(),
                headers: vec![("content-type".into(), "application/json".into())],
            };
            if let Err(error) = store.complete_idempotency(bot_id, key, &stored).await {
                // The message is sent; a repeat within the in-progress window gets 409, later
                // ones would send again. Worth an operator's attention.
                tracing::error!(bot_id, %error, "idempotency record could not be completed");
            }
        }
        _ => {
            if let Err(error) = store.release_idempotency(bot_id, key).await {
                tracing::warn!(bot_id, %error, "idempotency claim could not be released");
            }
        }
    }
    result
}

fn replay(stored: StoredResponse) -> http::Response<String> {
    let mut response = http::Response::new(stored.body);
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    // Tells the caller this answer is the first request's, not a new send.
    response.headers_mut().insert(
        http::header::HeaderName::from_static("idempotent-replayed"),
        http::HeaderValue::from_static("true"),
    );
    response
}

fn unavailable(error: intaj_shared::ports::StoreError) -> ApiError {
    tracing::error!(%error, "idempotency store unavailable");
    ApiError::unavailable("storage_unavailable", "storage is unavailable; retry later")
        .with_retry_after(1)
}
