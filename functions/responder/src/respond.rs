//! One customer message handed to its bot, and the bot's replies sent. Each reply carries an
//! idempotency key made of the message id and its place, so whatever redelivers the message
//! (Meta, the stream, the queue, a crash and retry), each reply leaves at most once.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use intaj_shared::api::{ApiError, json};
use intaj_shared::business_urls::{BusinessHttp, Reach};
use intaj_shared::domain::{ConversationWindow, InboundMessage, Responder, ResponderPause};
use intaj_shared::graph::GraphClient;
use intaj_shared::ports::{
    IdempotencyStore, SecretStore, SecretsError, SendStore, Store, StoreError,
};
use intaj_shared::responding::{BotMessage, CompiledRules};
use intaj_shared::sending::idempotency;
use intaj_shared::sending::service::{self, SendContext};
use intaj_shared::sending::{SendRequest, ValidatedSend};
use serde_json::{Value, json};

use crate::forward::{self, BotAnswer, ForwardError};

/// What the responder needs (only the store ports it uses); built once per process.
#[derive(Clone)]
pub struct ResponderDeps {
    /// Connections, windows and pauses, and what the send path reads and writes.
    pub store: Arc<dyn SendStore>,
    /// Each reply sent once.
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub graph: GraphClient,
    /// For the bots' backends and the businesses' events URLs.
    pub http: BusinessHttp,
}

impl ResponderDeps {
    /// The ports of one full store, and an HTTP client for the bots' backends that reaches
    /// `reach`.
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<dyn SecretStore>,
        graph: GraphClient,
        reach: Reach,
    ) -> Self {
        Self {
            store: store.clone(),
            idempotency: store,
            secrets,
            graph,
            http: BusinessHttp::new(reach),
        }
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The connection has no responder (or no longer exists): the message is only recorded.
    NotAnswered,
    /// Replies sent now (a redelivery finds them sent already and sends nothing again), and
    /// replies dropped because the customer's window had closed.
    Replied { sent: usize, window_closed: usize },
    /// The bot answers later through `/send`.
    Later,
    /// The bot handed the conversation to a person (after its replies, if it gave some).
    HandedOver { sent: usize },
    /// A person has the conversation: the bot was not asked.
    Paused,
}

/// Worth retrying: the message was not answered yet.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error(transparent)]
    Bot(#[from] ForwardError),
    #[error("reply {index} is not a message /send accepts: {reason}")]
    InvalidReply { index: usize, reason: String },
    #[error("the connection's rules no longer compile: {0}")]
    Rules(String),
    #[error("the connection has no responder secret; update the connection to get one")]
    NoResponderSecret,
    #[error("reply {index} was not sent: {error}")]
    Send { index: usize, error: ApiError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Answers `message`, received for `bot_id`, with the connection's responder.
pub async fn respond(
    deps: &ResponderDeps,
    bot_id: &str,
    message: &InboundMessage,
    now: i64,
) -> Result<Handled, RespondError> {
    let Some(connection) = deps.store.connection(bot_id).await? else {
        return Ok(Handled::NotAnswered);
    };
    let Some(responder) = connection.responder else {
        return Ok(Handled::NotAnswered);
    };
    let Some(customer) = reply_to(message).map(str::to_owned) else {
        return Ok(Handled::NotAnswered);
    };
    for id in message.customer.all() {
        let pause = deps.store.responder_pause(bot_id, id).await?;
        if pause.is_some_and(|p| p.is_active_at(now)) {
            tracing::info!(bot_id, message_id = %message.message_id, "bot paused for this customer; not asked");
            return Ok(Handled::Paused);
        }
    }
    let mut window = deps.store.window(bot_id, &customer).await?;
    // The customer's message opened a window itself. Short of it, the webhook's raise was lost
    // (it answered 503, and Meta's redelivery would raise it later): raised here, so that
    // this message's answer is not refused meanwhile.
    let opened = ConversationWindow::opened_by(message.timestamp);
    if opened.is_open_at(now) && !window.as_ref().is_some_and(|w| w.covers(message.timestamp)) {
        tracing::warn!(bot_id, message_id = %message.message_id, "customer window short of the message being answered; raised");
        deps.store
            .extend_window(bot_id, &message.customer, message.timestamp)
            .await?;
        window = Some(window.map_or(opened.clone(), |w| w.merge(opened)));
    }
    let bot_message = BotMessage::from_inbound(bot_id, message, window.map(|w| w.expires_at));
    let (replies, handover) = match &responder {
        Responder::None => return Ok(Handled::NotAnswered),
        Responder::Rules { rules, fallback } => {
            let compiled = CompiledRules::compile(rules, fallback.as_ref())
                .map_err(|error| RespondError::Rules(error.to_string()))?;
            (compiled.replies(&bot_message).to_vec(), false)
        }
        Responder::Forward { url, timeout_ms } => {
            let secrets = deps.secrets.bot_secrets(bot_id).await?;
            if let Some(secrets) = &secrets {
                // Blue ticks and "typing…" while the bot thinks; a failure only costs those.
                let typing = connection.typing_indicator.unwrap_or(true);
                let marked = deps.graph.mark_read(
                    &connection.phone_number_id,
                    secrets.access_token.expose(),
                    &message.message_id,
                    typing,
                );
                if let Err(error) = marked.await {
                    tracing::warn!(bot_id, message_id = %message.message_id, %error, "message not marked read");
                }
            }
            let secret = secrets
                .as_ref()
                .and_then(|s| s.responder_secret.as_ref())
                .ok_or(RespondError::NoResponderSecret)?;
            let timeout = timeout_ms.map_or(forward::DEFAULT_TIMEOUT, Duration::from_millis);
            match forward::forward(&deps.http, url, timeout, secret, &bot_message, now).await? {
                BotAnswer::Later => {
                    tracing::info!(bot_id, message_id = %message.message_id, "bot answers later");
                    return Ok(Handled::Later);
                }
                BotAnswer::Replies(replies) => (replies, false),
                BotAnswer::Handover(replies) => (replies, true),
            }
        }
    };
    let checked = replies
        .iter()
        .enumerate()
        .map(|(index, reply)| checked_reply(reply, &customer, index))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut sent, mut window_closed) = (0, 0);
    for (index, (body, reply)) in checked.iter().enumerate() {
        let key = format!("reply:{}:{index}", message.message_id);
        match send_once(deps, bot_id, &key, body, reply, now).await {
            Ok(()) => sent += 1,
            // A message handled after the window closed (e.g. after a long outage): a retry
            // cannot help, so the reply is dropped and said so.
            Err(error) if error.code == "outside_window" => {
                tracing::warn!(
                    bot_id, message_id = %message.message_id, reply = index,
                    "reply dropped: the customer's 24-hour window is closed"
                );
                window_closed += 1;
            }
            Err(error) => return Err(RespondError::Send { index, error }),
        }
    }
    tracing::info!(
        bot_id, message_id = %message.message_id, responder = responder.kind(), sent,
        window_closed, handover, "bot answered"
    );
    if handover {
        // Until a person resumes the bot (PUT …/conversations/{phone}/responder).
        let pause = ResponderPause {
            paused_at: now,
            until: None,
        };
        deps.store
            .set_responder_pause(bot_id, &customer, Some(pause))
            .await?;
        return Ok(Handled::HandedOver { sent });
    }
    Ok(Handled::Replied {
        sent,
        window_closed,
    })
}

/// After the last try failed: the connection's `fallbackReply`, if it has one, once per
/// message. Returns whether it went out.
pub async fn send_fallback(
    deps: &ResponderDeps,
    bot_id: &str,
    message: &InboundMessage,
    now: i64,
) -> Result<bool, RespondError> {
    let connection = deps.store.connection(bot_id).await?;
    let Some(fallback) = connection.and_then(|c| c.fallback_reply) else {
        return Ok(false);
    };
    let Some(customer) = reply_to(message) else {
        return Ok(false);
    };
    let (body, reply) = checked_reply(&fallback, customer, 0)?;
    let key = format!("fallback:{}", message.message_id);
    match send_once(deps, bot_id, &key, &body, &reply, now).await {
        Ok(()) => {
            tracing::info!(bot_id, message_id = %message.message_id, "fallback reply sent");
            Ok(true)
        }
        Err(error) if error.code == "outside_window" => Ok(false),
        Err(error) => Err(RespondError::Send { index: 0, error }),
    }
}

/// Whom replies go to: the customer's phone number, else their BSUID.
fn reply_to(message: &InboundMessage) -> Option<&str> {
    let ids = &message.customer;
    ids.wa_id.as_deref().or(ids.bsuid.as_deref())
}

/// A reply as `/send` takes it, `to` defaulting to the customer; checked before anything is
/// sent, so an invalid reply sends none of the message's replies.
fn checked_reply(
    reply: &Value,
    customer: &str,
    index: usize,
) -> Result<(Vec<u8>, ValidatedSend), RespondError> {
    let invalid = |reason: String| RespondError::InvalidReply { index, reason };
    let mut reply = reply.clone();
    if let Some(fields) = reply.as_object_mut() {
        fields
            .entry("to")
            .or_insert_with(|| Value::String(customer.to_owned()));
    }
    let body = serde_json::to_vec(&reply).expect("a JSON value serialises");
    let request: SendRequest =
        serde_json::from_value(reply).map_err(|error| invalid(error.to_string()))?;
    let validated = request
        .validate()
        .map_err(|error| invalid(error.to_string()))?;
    Ok((body, validated))
}

/// Sends `reply` unless a reply with this idempotency key was sent before.
async fn send_once(
    deps: &ResponderDeps,
    bot_id: &str,
    key: &str,
    body: &[u8],
    reply: &ValidatedSend,
    now: i64,
) -> Result<(), ApiError> {
    let ctx = SendContext {
        store: deps.store.as_ref(),
        secrets: deps.secrets.as_ref(),
        graph: &deps.graph,
    };
    let keys = deps.idempotency.as_ref();
    idempotency::once(keys, bot_id, Some(key), body, now, || async {
        let sent = service::send(ctx, bot_id, reply, now).await?;
        Ok(json(
            StatusCode::OK,
            &json!({"messageId": sent.message_id, "to": sent.to}),
        ))
    })
    .await
    .map(drop)
}
