//! The one send path: used by `POST /api/whatsapp/send` and by the bot responder alike.
//!
//! Checks the 24-hour window and the template before calling Meta, calls Meta with retries,
//! re-reads the access token once when Meta rejects it, maps Meta's errors to the API's codes,
//! and records the outbound message.

use std::time::Duration;

use http::StatusCode;

use crate::access::{connection_of, secrets_of};
use crate::api::{ApiError, UpstreamError};
use crate::domain::{CustomerIds, OutboundRecord, TemplateKey};
use crate::graph::{GraphClient, GraphFailure, INVALID_TOKEN, RetryPolicy, retry};
use crate::ports::{MessageStore, SecretStore, SendStore};
use crate::sending::request::ValidatedSend;
use crate::sending::template_checks::check_template_message;
use crate::whatsapp::outbound::Template;
use crate::whatsapp::phone::Recipient;

/// Meta allows roughly one message every 6 s to the same customer.
const PAIR_RATE_RETRY_AFTER: u64 = 6;

/// What the send path needs.
#[derive(Clone, Copy)]
pub struct SendContext<'a> {
    pub store: &'a dyn SendStore,
    pub secrets: &'a dyn SecretStore,
    pub graph: &'a GraphClient,
}

/// Meta accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    /// The recipient as sent: E.164 digits without `+`, or the BSUID.
    pub to: String,
}

/// Sends one validated message for `bot_id`. `now` is unix seconds.
pub async fn send(
    ctx: SendContext<'_>,
    bot_id: &str,
    request: &ValidatedSend,
    now: i64,
) -> Result<Sent, ApiError> {
    let connection = connection_of(ctx.store, bot_id).await?;
    let to = recipient_id(request.recipient()).to_owned();

    if !request.is_template() {
        let window = ctx.store.window(bot_id, &to).await?;
        if !window.is_some_and(|w| w.is_open_at(now)) {
            tracing::info!(bot_id, "free-form message refused: customer window closed");
            return Err(outside_window(None));
        }
    }
    if let Some(template) = request.outbound.template_ref() {
        check_template(ctx, bot_id, template).await?;
    }

    let secrets = secrets_of(ctx.secrets, bot_id).await?;
    let phone_number_id = &connection.phone_number_id;
    let body = &request.outbound;
    let started = tokio::time::Instant::now();
    let mut result = ctx
        .graph
        .send_message(phone_number_id, secrets.access_token.expose(), body)
        .await;
    if let Err(failure) = &result
        && failure.error.meta_code() == Some(INVALID_TOKEN)
    {
        // The token may have been rotated since it was cached: read it again, try once more.
        tracing::warn!(bot_id, "Meta rejected the access token; re-reading it");
        if let Some(fresh) = ctx.secrets.refresh_bot_secrets(bot_id).await? {
            // Within what is left of the one budget, so the whole request still fits API
            // Gateway's 29 s.
            let policy = ctx.graph.retry_policy();
            let left = RetryPolicy {
                budget: policy.budget.saturating_sub(started.elapsed()),
                ..policy
            };
            let token = fresh.access_token.expose();
            result = retry::run(left, || {
                ctx.graph.send_message_once(phone_number_id, token, body)
            })
            .await;
        }
    }
    let accepted = result.map_err(|failure| upstream_error(bot_id, failure))?;

    let record = OutboundRecord {
        message_id: accepted.message_id.clone(),
        customer: customer_of(request.recipient()),
        phone_number_id: phone_number_id.clone(),
        kind: request.kind().to_owned(),
        created_at: now,
        content: serde_json::to_string(body).unwrap_or_default(),
        status_callback_url: request.status_callback_url.clone(),
    };
    record_sent(ctx.store, bot_id, &record).await;
    tracing::info!(
        bot_id,
        message_id = accepted.message_id,
        kind = record.kind,
        "message sent"
    );
    Ok(Sent {
        message_id: accepted.message_id,
        to,
    })
}

/// Meta already has the message: a failed write must not become an error that makes the
/// caller send it again. Try a few times, then log; the status webhooks are still kept.
async fn record_sent(messages: &dyn MessageStore, bot_id: &str, record: &OutboundRecord) {
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=3 {
        match messages.record_outbound(bot_id, record).await {
            Ok(()) => return,
            Err(error) if attempt == 3 => tracing::error!(
                bot_id, message_id = record.message_id, %error,
                "sent message could not be recorded; its statuses will still be kept"
            ),
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

/// Checks a template message against the synced template it names (SPEC §4, §5). Before the
/// first sync there is nothing to check against, and Meta judges.
async fn check_template(
    ctx: SendContext<'_>,
    bot_id: &str,
    message: &Template,
) -> Result<(), ApiError> {
    let (name, language) = (message.name.as_str(), message.language.code.as_str());
    // One template read on the hot path; the whole set only to tell "unknown" from "never synced".
    let found = ctx
        .store
        .template(bot_id, &TemplateKey::new(name, language))
        .await?;
    let Some(template) = found else {
        let state = ctx.store.template_sync_state(bot_id).await?;
        if state.synced_at.is_none() {
            // Never synced: nothing to check against yet; Meta will judge.
            return Ok(());
        }
        return Err(unprocessable(
            "unknown_template",
            format!(
                "no template \"{name}\" in language \"{language}\"; create it in WhatsApp \
                 Manager, then POST /api/whatsapp/sync-templates"
            ),
        ));
    };
    check_template_message(&template, message).map_err(|error| {
        tracing::info!(
            bot_id,
            template = name,
            code = error.code(),
            "template message refused"
        );
        ApiError::from(error)
    })
}

fn recipient_id(recipient: &Recipient) -> &str {
    match recipient {
        Recipient::Phone(digits) => digits,
        Recipient::Bsuid(id) => id,
    }
}

fn customer_of(recipient: &Recipient) -> CustomerIds {
    match recipient {
        Recipient::Phone(digits) => CustomerIds::new(Some(digits), None),
        Recipient::Bsuid(id) => CustomerIds::new(None, Some(id)),
    }
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn outside_window(upstream: Option<UpstreamError>) -> ApiError {
    let error = unprocessable(
        "outside_window",
        "the customer has not written in the last 24 hours, so WhatsApp only allows an approved \
         template message; send {\"type\":\"template\",…} instead",
    );
    match upstream {
        Some(upstream) => error.with_upstream(upstream),
        None => error,
    }
}

/// Maps Meta's failure to the API's answer (SPEC §4), keeping Meta's error in `upstream`.
fn upstream_error(bot_id: &str, failure: GraphFailure) -> ApiError {
    let retry_after = failure.retry_after_secs().max(1);
    let upstream = failure.error.meta_error().map(UpstreamError::from);
    tracing::warn!(
        bot_id, attempts = failure.attempts, error = %failure.error,
        "Meta did not accept the message"
    );
    let with = |error: ApiError| match upstream.clone() {
        Some(upstream) => error.with_upstream(upstream),
        None => error,
    };
    if failure.error.is_retryable() {
        return with(ApiError::upstream_unavailable(retry_after));
    }
    let Some(code) = failure.error.meta_code() else {
        return with(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            format!("WhatsApp answered in an unexpected way: {}", failure.error),
        ));
    };
    let rejected = |code: &'static str, message: &str| with(unprocessable(code, message));
    match code {
        131056 => with(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "recipient_rate_limited",
                "too many messages to this customer in a short time; wait before sending again",
            )
            .with_retry_after(PAIR_RATE_RETRY_AFTER.max(retry_after)),
        ),
        131047 => outside_window(upstream),
        131026 => rejected(
            "undeliverable",
            "WhatsApp could not deliver to this number (not on WhatsApp, or an old app version)",
        ),
        131048 | 131049 => rejected(
            "blocked_by_meta_limits",
            "WhatsApp refused the message under its spam or marketing limits for this customer",
        ),
        131062 => rejected(
            "bsuid_not_supported",
            "this message cannot be sent to a username (BSUID); send it to the phone number",
        ),
        INVALID_TOKEN => with(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "invalid_access_token",
            "Meta rejects this connection's access token; generate a new one and update the \
             connection",
        )),
        132000 => rejected(
            "template_parameter_mismatch",
            "the number of template parameters does not match the template",
        ),
        132001 => rejected(
            "unknown_template",
            "Meta has no such template in this language; check its name and language",
        ),
        132005 => rejected(
            "template_text_too_long",
            "the template's text with parameters is too long",
        ),
        132007 => rejected(
            "template_policy_violation",
            "the template's content breaks WhatsApp policy",
        ),
        132012 => rejected(
            "template_parameter_format_mismatch",
            "a template parameter has the wrong format for its placeholder",
        ),
        132015 => rejected("template_paused", "the template is paused for low quality"),
        132016 => rejected(
            "template_disabled",
            "the template is disabled for low quality",
        ),
        132018 => rejected(
            "template_parameter_invalid",
            "a template parameter breaks WhatsApp's rules (a newline, a tab or more than 4 \
             consecutive spaces in a text parameter)",
        ),
        132002..=132999 => rejected("template_rejected", "Meta rejected the template message"),
        _ => rejected(
            "rejected_by_whatsapp",
            "WhatsApp rejected the message; see error.upstream for Meta's reason",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphError, MetaApiError};

    fn meta(code: i64, http_status: u16) -> GraphFailure {
        GraphFailure {
            error: GraphError::Meta {
                http_status,
                error: Box::new(MetaApiError {
                    code,
                    error_subcode: None,
                    message: format!("meta message {code}"),
                    error_type: Some("OAuthException".into()),
                    fbtrace_id: Some("AbCdEf".into()),
                    details: None,
                }),
                retry_after: None,
            },
            attempts: 1,
            retry_after: Duration::from_secs(2),
        }
    }

    #[test]
    fn meta_errors_map_to_the_documented_codes() {
        let cases = [
            (131000, 500, 503, "upstream_unavailable"),
            (130429, 400, 503, "upstream_unavailable"),
            (131056, 400, 429, "recipient_rate_limited"),
            (131047, 400, 422, "outside_window"),
            (131026, 400, 422, "undeliverable"),
            (131048, 400, 422, "blocked_by_meta_limits"),
            (131049, 400, 422, "blocked_by_meta_limits"),
            (131062, 400, 422, "bsuid_not_supported"),
            (190, 401, 502, "invalid_access_token"),
            (132001, 404, 422, "unknown_template"),
            (132000, 400, 422, "template_parameter_mismatch"),
            (132005, 400, 422, "template_text_too_long"),
            (132012, 400, 422, "template_parameter_format_mismatch"),
            (132015, 400, 422, "template_paused"),
            (132016, 400, 422, "template_disabled"),
            (132018, 400, 422, "template_parameter_invalid"),
            (132069, 400, 422, "template_rejected"),
            (100, 400, 422, "rejected_by_whatsapp"),
        ];
        for (code, http, status, api_code) in cases {
            let error = upstream_error("demo", meta(code, http));
            assert_eq!(
                (error.status.as_u16(), error.code),
                (status, api_code),
                "Meta code {code}"
            );
            let upstream = error.upstream.expect("Meta's error is kept");
            assert_eq!(upstream.code, code);
            assert_eq!(upstream.fbtrace_id.as_deref(), Some("AbCdEf"));
        }
    }

    #[test]
    fn throttling_answers_carry_retry_after() {
        assert_eq!(
            upstream_error("demo", meta(131000, 500)).retry_after,
            Some(2)
        );
        assert_eq!(
            upstream_error("demo", meta(131056, 400)).retry_after,
            Some(6)
        );
    }
}
