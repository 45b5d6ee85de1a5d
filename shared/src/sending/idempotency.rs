//! `Idempotency-Key`: the same key within 24 h returns the first answer and sends nothing twice.
//! The send route and the responder's replies (a key per inbound message and reply) use it.

use std::future::Future;
use std::time::Duration;

use crate::api::ApiError;
use crate::domain::{IdempotencyClaim, StoredResponse};
use crate::ports::IdempotencyStore;
use http::StatusCode;
use sha2::{Digest, Sha256};

const TTL_SECONDS: i64 = 24 * 60 * 60;
/// A claim whose request died (e.g. the Lambda timed out) is taken over after this long.
const IN_PROGRESS_SECONDS: i64 = 60;
/// How long a repeat waits for the first request's answer: a first send usually takes well
/// under a second; the wait stays short so that a repeat that then sends itself (the first
/// failed and released the key) still fits API Gateway's 29 s with the send's 20 s budget.
const IN_PROGRESS_WAIT: Duration = Duration::from_secs(5);
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// Runs `work` once per (bot, key): repeats get the stored answer, waiting for it while the
/// first request runs. Only successes are stored; a failed attempt releases the key so that the
/// caller can retry with it.
pub async fn once<F, Fut>(
    store: &dyn IdempotencyStore,
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
    let fingerprint = fingerprint(body);
    // Records written before fingerprints were of the JSON's meaning (24 h at most) hold the
    // raw bytes' hash: a repeat of such a request is still a repeat.
    let mut earlier_fingerprint =
        Some(hex::encode(Sha256::digest(body))).filter(|raw| *raw != fingerprint);
    let mut fingerprint = fingerprint;
    // A repeat that races the first request waits for its answer, so that both callers get
    // the same one; only a first request slower than the wait leaves the repeat with a 409.
    let waiting_since = tokio::time::Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut at = now;
    loop {
        let claim = store.claim_idempotency(
            bot_id,
            key,
            &fingerprint,
            at,
            TTL_SECONDS,
            IN_PROGRESS_SECONDS,
        );
        match claim.await? {
            IdempotencyClaim::Claimed => break,
            IdempotencyClaim::Completed(stored) => {
                tracing::info!(bot_id, "idempotent repeat answered from the first request");
                return Ok(replay(stored));
            }
            IdempotencyClaim::InProgress if waiting_since.elapsed() + pause <= IN_PROGRESS_WAIT => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                at = now + waiting_since.elapsed().as_secs() as i64;
            }
            IdempotencyClaim::InProgress => {
                tracing::warn!(
                    bot_id,
                    "idempotent repeat gave up waiting for the first request"
                );
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_in_progress",
                    "a request with this Idempotency-Key is still being handled; retry shortly",
                )
                .with_retry_after(1));
            }
            IdempotencyClaim::FingerprintMismatch if earlier_fingerprint.is_some() => {
                fingerprint = earlier_fingerprint.take().expect("checked");
            }
            IdempotencyClaim::FingerprintMismatch => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different body; use a new key per message",
                ));
            }
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

/// What a repeat must match: the body's JSON re-written compactly with its keys sorted (a
/// `serde_json::Value` keeps object keys sorted, as the template sync's comparison relies on),
/// so that a client that serialises the same request again (other spacing, other key order)
/// repeats it. A body that is not JSON is taken byte for byte.
fn fingerprint(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => hex::encode(Sha256::digest(value.to_string().as_bytes())),
        Err(_) => hex::encode(Sha256::digest(body)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::MemoryStore;
    use crate::ports::IdempotencyStore;

    const BODY: &[u8] = br#"{"to":"15551234567","type":"text","content":"hi"}"#;

    fn sent(id: &str) -> http::Response<String> {
        http::Response::new(format!(r#"{{"messageId":"{id}"}}"#))
    }

    /// Another request holds the key, as if it were sending right now. Its record has the raw
    /// bytes' hash, as the version before JSON fingerprints wrote it: still a repeat.
    async fn first_request_in_flight(store: &MemoryStore) {
        let fingerprint = hex::encode(Sha256::digest(BODY));
        let claim = store
            .claim_idempotency(
                "bot",
                "k",
                &fingerprint,
                0,
                TTL_SECONDS,
                IN_PROGRESS_SECONDS,
            )
            .await
            .unwrap();
        assert_eq!(claim, IdempotencyClaim::Claimed);
    }

    #[tokio::test]
    async fn the_same_json_written_again_is_a_repeat_and_other_json_is_not() {
        let store = MemoryStore::new();
        let first = once(&store, "bot", Some("k"), BODY, 0, || async {
            Ok(sent("a"))
        });
        assert_eq!(first.await.unwrap().body(), r#"{"messageId":"a"}"#);
        // Another client library: other key order, other spacing.
        let again = br#"{ "content": "hi", "type": "text", "to": "15551234567" }"#;
        let repeat = once(&store, "bot", Some("k"), again, 1, || async {
            panic!("a repeat must not send")
        });
        let repeat = repeat.await.unwrap();
        assert_eq!(repeat.body(), r#"{"messageId":"a"}"#);
        assert_eq!(repeat.headers()["idempotent-replayed"], "true");
        let other = br#"{"to":"15551234567","type":"text","content":"hi!"}"#;
        let other = once(&store, "bot", Some("k"), other, 2, || async {
            Ok(sent("b"))
        });
        assert_eq!(other.await.unwrap_err().code, "idempotency_key_reused");
    }

    #[tokio::test(start_paused = true)]
    async fn a_racing_repeat_waits_for_the_first_answer_and_sends_nothing() {
        let store = std::sync::Arc::new(MemoryStore::new());
        first_request_in_flight(&store).await;
        let finisher = {
            let store = store.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let stored = StoredResponse {
                    status: 200,
                    body: r#"{"messageId":"wamid.first"}"#.into(),
                    headers: vec![],
                };
                store
                    .complete_idempotency("bot", "k", &stored)
                    .await
                    .unwrap();
            })
        };
        let repeat = once(store.as_ref(), "bot", Some("k"), BODY, 0, || async {
            panic!("a repeat must not send")
        })
        .await
        .unwrap();
        finisher.await.unwrap();
        assert_eq!(repeat.body(), r#"{"messageId":"wamid.first"}"#);
        assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeat_gives_up_with_409_when_the_first_takes_too_long() {
        let store = MemoryStore::new();
        first_request_in_flight(&store).await;
        let started = tokio::time::Instant::now();
        let error = once(&store, "bot", Some("k"), BODY, 0, || async {
            Ok(sent("x"))
        })
        .await
        .unwrap_err();
        assert_eq!(error.status, StatusCode::CONFLICT);
        assert_eq!(error.code, "idempotency_in_progress");
        assert!(
            started.elapsed() <= IN_PROGRESS_WAIT,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_key_is_taken_over_by_the_waiting_repeat() {
        let store = std::sync::Arc::new(MemoryStore::new());
        first_request_in_flight(&store).await;
        let releaser = {
            let store = store.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                store.release_idempotency("bot", "k").await.unwrap();
            })
        };
        let repeat = once(store.as_ref(), "bot", Some("k"), BODY, 0, || async {
            Ok(sent("wamid.second"))
        })
        .await
        .unwrap();
        releaser.await.unwrap();
        assert_eq!(repeat.body(), r#"{"messageId":"wamid.second"}"#);
        assert!(!repeat.headers().contains_key("idempotent-replayed"));
    }
}
