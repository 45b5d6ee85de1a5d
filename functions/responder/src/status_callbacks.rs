//! Status changes pushed to the business's `eventsUrl`, signed like the bot's forwards, at
//! least once: retried with backoff while the business's URL fails.

use std::time::Duration;

use intaj_shared::domain::StatusEvent;
use intaj_shared::responding::StatusCallback;

use crate::forward::{ForwardError, post_signed};
use crate::{RespondError, ResponderDeps};

/// Tries per event; then the failure is the caller's (the queue's retry, or a log line).
const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(10);

/// Posts `event` to the bot's `eventsUrl`, if the connection names one. Returns whether it
/// was delivered.
pub async fn notify_status(
    deps: &ResponderDeps,
    bot_id: &str,
    event: &StatusEvent,
    now: i64,
) -> Result<bool, RespondError> {
    let Some(url) = deps
        .store
        .connection(bot_id)
        .await?
        .and_then(|c| c.events_url)
    else {
        return Ok(false);
    };
    let secrets = deps.secrets.bot_secrets(bot_id).await?;
    let secret = secrets
        .as_ref()
        .and_then(|s| s.responder_secret.as_ref())
        .ok_or(RespondError::NoResponderSecret)?;
    let callback = StatusCallback::of(bot_id, event);
    let body = serde_json::to_vec(&callback).expect("a status event serialises to JSON");
    let mut pause = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let sent = post_signed(&deps.http, &url, TIMEOUT, secret, body.clone(), now).await;
        let error = match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(bot_id, event_id = %callback.event_id, attempt, "status event delivered");
                return Ok(true);
            }
            Ok(response) => ForwardError::Status(response.status().as_u16()),
            Err(error) => error,
        };
        tracing::warn!(bot_id, event_id = %callback.event_id, attempt, %error, "status event not delivered");
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        } else {
            return Err(RespondError::Bot(error));
        }
    }
    unreachable!("the last attempt returns")
}
