//! Status changes pushed to the business: each new status of an outbound message to the
//! connection's `eventsUrl` and to the send's own `statusCallbackUrl`, each template status
//! change to the `eventsUrl`. Signed like the bot's forwards, at least once: retried with
//! backoff while a URL fails.

use std::collections::HashMap;
use std::time::Duration;

use intaj_shared::domain::{Recorded, StatusChange, TemplateStatusChange};
use intaj_shared::ports::Secret;
use intaj_shared::responding::{StatusCallback, TemplateStatusCallback};

use crate::forward::{ForwardError, post_signed};
use crate::{RespondError, ResponderDeps};

/// Tries per URL; then the failure is the caller's (the stream's retry, or a log line).
const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(10);

/// The bots' events URLs, each read once per batch: a batch of one busy bot's statuses reads
/// its connection once, not once per status.
#[derive(Debug, Default)]
pub struct EventsUrls(HashMap<String, Option<String>>);

impl EventsUrls {
    async fn of(
        &mut self,
        deps: &ResponderDeps,
        bot_id: &str,
    ) -> Result<Option<String>, RespondError> {
        if let Some(url) = self.0.get(bot_id) {
            return Ok(url.clone());
        }
        let url = deps
            .store
            .connection(bot_id)
            .await?
            .and_then(|c| c.events_url);
        self.0.insert(bot_id.to_owned(), url.clone());
        Ok(url)
    }
}

/// Delivers a status change, or a template's, to the URLs that want it; an inbound message
/// is the bot's (see [`crate::respond`]) and is ignored here. Returns how many URLs got it.
pub async fn notify(
    deps: &ResponderDeps,
    recorded: &Recorded,
    now: i64,
) -> Result<usize, RespondError> {
    notify_in_batch(deps, recorded, &mut EventsUrls::default(), now).await
}

/// [`notify`] for one of a batch's changes, the batch's events URLs read once in `urls`.
pub async fn notify_in_batch(
    deps: &ResponderDeps,
    recorded: &Recorded,
    urls: &mut EventsUrls,
    now: i64,
) -> Result<usize, RespondError> {
    match recorded {
        Recorded::Inbound(..) => Ok(0),
        Recorded::Status(change) => notify_status(deps, change, urls, now).await,
        Recorded::TemplateStatus(change) => notify_template_status(deps, change, urls, now).await,
    }
}

pub async fn notify_status(
    deps: &ResponderDeps,
    change: &StatusChange,
    events_urls: &mut EventsUrls,
    now: i64,
) -> Result<usize, RespondError> {
    let bot_id = &change.bot_id;
    let mut urls = Vec::new();
    if change.to_events_url
        && let Some(url) = events_urls.of(deps, bot_id).await?
    {
        urls.push(url);
    }
    if let Some(url) = &change.callback_url
        && !urls.contains(url)
    {
        urls.push(url.clone());
    }
    let callback = StatusCallback::of(bot_id, &change.event);
    let body = serde_json::to_vec(&callback).expect("a status event serialises to JSON");
    deliver(deps, bot_id, &callback.event_id, &urls, body, now).await
}

pub async fn notify_template_status(
    deps: &ResponderDeps,
    change: &TemplateStatusChange,
    events_urls: &mut EventsUrls,
    now: i64,
) -> Result<usize, RespondError> {
    let bot_id = &change.bot_id;
    let urls: Vec<String> = events_urls.of(deps, bot_id).await?.into_iter().collect();
    let callback = TemplateStatusCallback::of(change);
    let body = serde_json::to_vec(&callback).expect("a template event serialises to JSON");
    deliver(deps, bot_id, &callback.event_id, &urls, body, now).await
}

/// Posts `body` to each URL, retrying each with backoff; every URL is tried before a failure
/// is reported, so one business URL that is down does not starve the other.
async fn deliver(
    deps: &ResponderDeps,
    bot_id: &str,
    event_id: &str,
    urls: &[String],
    body: Vec<u8>,
    now: i64,
) -> Result<usize, RespondError> {
    if urls.is_empty() {
        return Ok(0);
    }
    let secrets = deps.secrets.bot_secrets(bot_id).await?;
    let secret = secrets
        .as_ref()
        .and_then(|s| s.responder_secret.as_ref())
        .ok_or(RespondError::NoResponderSecret)?;
    let mut failure = None;
    for url in urls {
        if let Err(error) = deliver_to(deps, bot_id, event_id, url, secret, &body, now).await {
            failure = Some(error);
        }
    }
    match failure {
        None => Ok(urls.len()),
        Some(error) => Err(RespondError::Bot(error)),
    }
}

async fn deliver_to(
    deps: &ResponderDeps,
    bot_id: &str,
    event_id: &str,
    url: &str,
    secret: &Secret,
    body: &[u8],
    now: i64,
) -> Result<(), ForwardError> {
    let mut pause = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let sent = post_signed(&deps.http, url, TIMEOUT, secret, body.to_vec(), now).await;
        let error = match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(bot_id, event_id, attempt, "status event delivered");
                return Ok(());
            }
            Ok(response) => ForwardError::Status(response.status().as_u16()),
            Err(error) => error,
        };
        tracing::warn!(bot_id, event_id, attempt, %error, "status event not delivered");
        if attempt == ATTEMPTS {
            return Err(error);
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    unreachable!("the last attempt returns")
}
