//! HTTP in and out for `/webhook/whatsapp/{botId}`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use foldhash::HashMap;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use intaj_shared::adapters::CachedConnections;
use intaj_shared::api::{ApiError, query_param};
use intaj_shared::clock::unix_now;
use intaj_shared::connecting::is_valid_bot_id;
use intaj_shared::ports::{
    BotSecrets, ConnectionStore, ConversationStore, SecretStore, Store, TemplateStore,
};
use intaj_shared::whatsapp::signature::{self, SIGNATURE_HEADER};
use intaj_shared::whatsapp::verification::{self, Handshake, VerificationError};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::receipt::{self, ReceiptError, ReceiptPorts};

/// Meta's largest webhook payload.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
const PATH_PREFIX: &str = "/webhook/whatsapp/";
/// Looked up as a ready name: a `&str` key is parsed and checked on every request.
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// What the webhook function needs (only the store ports it uses); built once per process.
#[derive(Clone)]
pub struct WebhookDeps {
    /// Customers' messages and windows, statuses, raw events.
    pub conversations: Arc<dyn ConversationStore>,
    /// Template webhooks change the stored template.
    pub templates: Arc<dyn TemplateStore>,
    pub secrets: Arc<dyn SecretStore>,
    /// Which bot owns a phone number, remembered by the warm function; arrivals noted on it.
    pub routes: Arc<dyn ConnectionStore>,
    /// When this process last noted each bot's webhooks on its connection.
    reported: Arc<ReportedArrivals>,
}

/// How often a warm function notes on a connection that its webhooks arrive (the connections
/// API's `lastWebhookAt`): one write per bot this often, not one per webhook.
const ARRIVAL_REPORT_EVERY_SECONDS: i64 = 300;
/// More bots than this in one process is not expected; the map starts over rather than grow.
const MAX_REPORTED_BOTS: usize = 10_000;

#[derive(Default)]
struct ReportedArrivals(Mutex<HashMap<String, i64>>);

impl ReportedArrivals {
    /// Whether an arrival at `now` is to be noted; it counts as noted from here on.
    fn due(&self, bot_id: &str, now: i64) -> bool {
        let mut reported = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if reported
            .get(bot_id)
            .is_some_and(|last| now - last < ARRIVAL_REPORT_EVERY_SECONDS)
        {
            return false;
        }
        if reported.len() >= MAX_REPORTED_BOTS {
            reported.clear();
        }
        reported.insert(bot_id.to_owned(), now);
        true
    }
}

/// How long a warm function trusts a phone number's owner before asking the store again.
const ROUTE_CACHE_TTL: Duration = Duration::from_secs(60);

impl WebhookDeps {
    /// The ports of one full store.
    pub fn new(store: Arc<dyn Store>, secrets: Arc<dyn SecretStore>) -> Self {
        let routes = Arc::new(CachedConnections::new(store.clone(), ROUTE_CACHE_TTL));
        Self {
            conversations: store.clone(),
            templates: store,
            secrets,
            routes,
            reported: Arc::default(),
        }
    }
}

pub async fn handle(request: Request, deps: &WebhookDeps) -> Response<Body> {
    let response = match route(&request, deps).await {
        Ok(response) => response,
        Err(error) => error.to_response(),
    };
    response.map(Body::from)
}

async fn route(request: &Request, deps: &WebhookDeps) -> Result<http::Response<String>, ApiError> {
    let bot_id = bot_id(request).ok_or_else(|| {
        ApiError::not_found(
            "not_found",
            "use /webhook/whatsapp/{botId} with your connection's bot id",
        )
    })?;
    match *request.method() {
        Method::GET => verify(request, bot_id, deps).await,
        Method::POST => receive(request, bot_id, deps).await,
        _ => Err(ApiError::method_not_allowed("GET, POST")),
    }
}

async fn verify(
    request: &Request,
    bot_id: &str,
    deps: &WebhookDeps,
) -> Result<http::Response<String>, ApiError> {
    let secrets = bot_secrets(bot_id, deps).await?;
    let mode = query_param(request, "hub.mode");
    let token = query_param(request, "hub.verify_token");
    let challenge = query_param(request, "hub.challenge");
    let handshake = Handshake {
        mode: mode.as_deref(),
        verify_token: token.as_deref(),
        challenge: challenge.as_deref(),
    };
    match verification::answer(handshake, secrets.verify_token.expose()) {
        Ok(challenge) => {
            tracing::info!(bot_id, "webhook verification accepted");
            let mut response = http::Response::new(challenge.to_owned());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(response)
        }
        Err(error @ (VerificationError::MissingParameter | VerificationError::WrongMode)) => Err(
            ApiError::bad_request("invalid_verification_request", error.to_string()),
        ),
        Err(VerificationError::WrongToken) => {
            tracing::warn!(bot_id, "webhook verification refused: wrong verify token");
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_verify_token",
                "hub.verify_token does not match; enter the connection's verify token in Meta's \
                 webhook settings",
            ))
        }
    }
}

async fn receive(
    request: &Request,
    bot_id: &str,
    deps: &WebhookDeps,
) -> Result<http::Response<String>, ApiError> {
    let body = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        tracing::warn!(
            bot_id,
            bytes = body.len(),
            "webhook body too large; refused"
        );
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("webhook bodies are at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    let secrets = bot_secrets(bot_id, deps).await?;
    let header = request.headers().get(SIGNATURE).map(HeaderValue::as_bytes);
    if let Err(error) = signature::verify(secrets.app_secret.expose().as_bytes(), body, header) {
        tracing::warn!(bot_id, reason = %error, "webhook refused: bad signature");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            error.to_string(),
        ));
    }
    let now = unix_now();
    let ports = ReceiptPorts {
        conversations: deps.conversations.as_ref(),
        templates: deps.templates.as_ref(),
        connections: deps.routes.as_ref(),
        secrets: deps.secrets.as_ref(),
    };
    let record = receipt::record(bot_id, &secrets.app_secret, body, ports, now);
    // Beside the receipt's own writes, not after them: no round trip is added. Most webhooks
    // have nothing to note, and run the receipt alone.
    let summary = if deps.reported.due(bot_id, now) {
        futures::join!(record, report_arrival(bot_id, now, deps)).0
    } else {
        record.await
    };
    let summary = summary.map_err(|error| match error {
        ReceiptError::Payload(_) => {
            tracing::warn!(bot_id, %error, "signed webhook body is not a webhook payload");
            ApiError::bad_request("invalid_payload", error.to_string())
        }
        ReceiptError::Object(_) => ApiError::bad_request("unsupported_object", error.to_string()),
        ReceiptError::Store(_) | ReceiptError::Secrets(_) => {
            // Not acknowledged, so Meta delivers it again.
            tracing::error!(bot_id, %error, "webhook not stored; answering 503 so Meta retries");
            ApiError::unavailable(
                "storage_unavailable",
                "the webhook could not be stored; retry later",
            )
        }
    })?;
    // A count of zero is left out: most webhooks carry one kind of item, and CloudWatch bills
    // every byte of the line (BENCHMARKS.md, log volume).
    tracing::info!(
        bot_id,
        messages_new = nonzero(summary.messages_new),
        messages_duplicate = nonzero(summary.messages_duplicate),
        statuses_new = nonzero(summary.statuses_new),
        statuses_duplicate = nonzero(summary.statuses_duplicate),
        raw_events = nonzero(summary.raw_events),
        ignored_changes = nonzero(summary.ignored_changes),
        "webhook recorded"
    );
    let mut response = http::Response::new(RECEIVED.to_owned());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Notes on the bot's connection that its webhooks arrive (when [`ReportedArrivals::due`]). A
/// failure is logged and tried again with a later webhook; the webhook itself is answered
/// regardless.
async fn report_arrival(bot_id: &str, now: i64, deps: &WebhookDeps) {
    if let Err(error) = deps.routes.record_webhook_received(bot_id, now).await {
        tracing::warn!(bot_id, %error, "last webhook time not noted; a later webhook tries again");
        deps.reported
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(bot_id);
    }
}

/// A log field's value, or none (the field left out) for zero.
fn nonzero(count: usize) -> Option<usize> {
    (count > 0).then_some(count)
}

/// The answer to a recorded webhook, always the same: no serialiser run for it.
const RECEIVED: &str = r#"{"received":true}"#;

async fn bot_secrets(bot_id: &str, deps: &WebhookDeps) -> Result<Arc<BotSecrets>, ApiError> {
    // A warm function's secrets are known at once: no future to box for them.
    let found = match deps.secrets.bot_secrets_now(bot_id) {
        Some(known) => Ok(known),
        None => deps.secrets.bot_secrets(bot_id).await,
    };
    match found {
        Ok(Some(secrets)) => Ok(secrets),
        Ok(None) => Err(ApiError::not_found(
            "unknown_bot",
            format!("no WhatsApp connection exists for bot \"{bot_id}\"; check the webhook URL"),
        )),
        Err(error) => {
            tracing::error!(bot_id, %error, "bot secrets unavailable");
            Err(ApiError::unavailable(
                "secrets_unavailable",
                "credentials could not be read; retry later",
            ))
        }
    }
}

/// The `{botId}` path parameter: from API Gateway's route match, or from the path itself when
/// the request comes from the local stack.
fn bot_id(request: &Request) -> Option<&str> {
    let from_route = request.path_parameters_ref().and_then(|p| p.first("botId"));
    let id = from_route.or_else(|| {
        let rest = request.uri().path().strip_prefix(PATH_PREFIX)?;
        Some(rest.trim_end_matches('/'))
    })?;
    is_valid_bot_id(id).then_some(id)
}
