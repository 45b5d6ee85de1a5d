//! A WhatsApp Cloud API simulator (SPEC §10): the Graph API paths the project calls, with Meta's
//! validation, answers and error shapes, a Bearer token check, a throughput limit, fault
//! injection, signed status webhooks, inbound messages on request, and an outbox.
//!
//! # Use
//! ```no_run
//! # async fn demo() -> Result<(), intaj_dev::simulator::SimulatorError> {
//! use intaj_dev::simulator::{SimulatedNumber, SimulatorConfig, start};
//! let number = SimulatedNumber::new("100000000000001", "200000000000001", "dev-access-token", "dev-app-secret")
//!     .with_webhook_url("http://127.0.0.1:3000/webhook/whatsapp/demo");
//! let simulator = start(SimulatorConfig::with_numbers([number]), "127.0.0.1:3001".parse().unwrap()).await?;
//! println!("WHATSAPP_API_BASE={}", simulator.base_url());
//! simulator.handle().fail_next(2, 131000); // the next two Graph calls fail with 500 code 131000
//! simulator.shutdown().await;
//! # Ok(()) }
//! ```
//! Tests that serve it themselves use [`Simulator::new`], [`Simulator::router`] and
//! [`SimulatorHandle::set_base_url`].
//!
//! # Graph API routes
//! | route | answer |
//! |---|---|
//! | `POST /{version}/{phoneNumberId}/messages` | `{"messaging_product","contacts":[{"input","wa_id"\|"user_id"}],"messages":[{"id","message_status"?}]}` |
//! | `GET /{version}/{wabaId}/message_templates?limit=&after=&before=&fields=&status=&name=&language=&category=&summary=` | `{"data":[…],"paging":{"cursors":{"before","after"},"next"?,"previous"?},"summary"?}` |
//! | `POST /{version}/{phoneNumberId}/media` (multipart `messaging_product`, `type`, `file`) | `{"id"}` |
//! | `GET /{version}/{mediaId}` | `{"messaging_product","url","mime_type","sha256","file_size","id"}` |
//! | `DELETE /{version}/{mediaId}` | `{"success":true}` |
//! | `GET /{version}/{phoneNumberId}` | the phone number object |
//! | `GET /{version}/{templateId}?fields=` | one template object |
//!
//! Every Graph route wants `Authorization: Bearer <token>` (or `?access_token=`): missing or
//! unknown → 401 code 190 "Invalid OAuth access token - Cannot parse access token". A token is
//! valid for the numbers it is configured for and their WABAs; any other id → 400 code 100,
//! subcode 33, type GraphMethodException ("Unsupported post request. Object with ID '…' does not
//! exist…"). The version must look like `v25.0` (and equal [`SimulatorConfig::api_version`] when
//! that is set), else 400 code 2500 "Unknown path components". Paging links never carry the
//! access token.
//!
//! # Templates
//! A WABA starts with [`default_templates`] (every status, two languages of `order_update`, every
//! header format and button kind, a NAMED and an AUTHENTICATION template). Template objects carry
//! Meta's `id`, `name`, `language`, `status`, `category`, `sub_category`?, `parameter_format`,
//! `components`, `quality_score` `{"score","date"}` and `rejected_reason` (`NONE` unless
//! rejected). `message_templates` pages 25 by default; `limit` is honoured up to
//! [`MAX_PAGE_SIZE`]; the last page has `paging.cursors` but no `next`; `fields` picks fields (`id`
//! always comes); `status`, `language` and `category` filter by comma-separated values, `name`
//! by substring; `summary=total_count,message_template_count,message_template_limit` (or `true`)
//! adds those counts (`total_count` after the filters; the limit is
//! [`SimulatorSettings::message_template_limit`], 250 by default). Cursors belong to one version
//! of the WABA's set: after any change (replace, generate, status change) and for cursors that
//! are not the simulator's, the answer is 400 code 131059 `(#131059) Invalid cursor`, and the
//! client restarts the listing. `GET /{templateId}` answers a template of any WABA the token may
//! use; both reads wait [`SimulatorSettings::template_delay`] on top of the injected faults.
//!
//! # Message rules and their codes
//! Missing required parameters answer Meta's `(#100) The parameter <path> is required.`; values of
//! the wrong kind answer `(#100) Invalid parameter`; values outside WhatsApp's documented limits
//! answer `(#131009) Parameter value is not valid`. All are HTTP 400 with
//! `error_data.details` naming the field.
//!
//! | rule | code |
//! |---|---|
//! | `messaging_product` present and `"whatsapp"` | 100 |
//! | `recipient_type`, when present, `"individual"` | 100 |
//! | exactly one of `to` (7–15 digits, optional `+`) and `recipient` (BSUID such as `US.1349…`) | 100 |
//! | `type` one of text, image, audio, video, document, sticker, location, contacts, interactive, template, reaction (absent = text, as Meta) | 100 |
//! | the object named by `type` present | 100 |
//! | `text.body` present | 100; over 4096 characters → 131009 |
//! | media: exactly one of `id` and `link`; `link` http(s) | 100; bad link → 131009 |
//! | `caption` only on image, video, document, at most 1024 characters; `filename` only on document | 100; too long → 131009 |
//! | `location.latitude` / `longitude` present, within ±90 / ±180 | 100; out of range → 131009 |
//! | `contacts` non-empty, each with `name.formatted_name` | 100 |
//! | `interactive.type` known; `body.text` for button, list, cta_url (≤ 1024, list ≤ 4096); header and footer text ≤ 60 | 100; too long → 131009 |
//! | button: 1–3 reply buttons, title 1–20, id ≤ 256 and unique | 131009 (missing fields 100) |
//! | list: `action.button` ≤ 20, 1–10 sections, 1–10 rows in total, row title ≤ 24, row id ≤ 200 and unique, description ≤ 72, section title ≤ 24 (required with several sections) | 131009 (missing fields 100) |
//! | cta_url: `action.name` = cta_url, `display_text` ≤ 20, http(s) `url` | 100 / 131009 |
//! | `template.name`, `template.language.code`; text parameters carry `text`; `components[].index` a number | 100 |
//! | template exists in that language for the WABA and is APPROVED (PENDING, REJECTED and unknown statuses count as missing) | 132001 (HTTP 404); PAUSED 132015; DISABLED 132016 |
//! | `components[].type` one of header, body, button; button `sub_type` one of url, quick_reply, copy_code, with `index` | 100 |
//! | body parameters = distinct placeholders of the template's BODY; NAMED templates: each carries a distinct `parameter_name` of the body | 132000 |
//! | body parameters are text, currency or date_time | 132012 |
//! | IMAGE / VIDEO / DOCUMENT / LOCATION header: one parameter of that type (missing → 132012), with `id`/`link` (or `latitude`/`longitude`) | 132012; object incomplete 100 |
//! | TEXT header: one text parameter per placeholder (none without placeholders) | 132000; not text 132012 |
//! | `button` `url` only at the index of a URL button with a variable or an OTP button, one text parameter; `quick_reply` at a QUICK_REPLY button, optional `payload` parameter; `copy_code` at a COPY_CODE button, one `coupon_code` parameter; each index once | 132000; wrong parameter type 132012 |
//! | every URL button with a variable, OTP and COPY_CODE button gets its `button` component | 132000 |
//! | text parameters without newline, tab or more than 4 consecutive spaces | 132018 |
//! | `reaction.message_id` present, `reaction.emoji` present (empty removes a reaction) | 100 |
//! | `context.message_id` present when `context` is | 100 |
//! | recipient is not the business number itself | 131021 |
//!
//! Media ids in messages are not checked against uploads (Meta reports bad ids asynchronously).
//!
//! # Limits and faults
//! Checked in this order after the token: injected faults (added delay, then "fail the next N
//! calls with code X", then the 5xx rate answering 500 code 1 "An unknown error occurred" or 503
//! code 2 "Service temporarily unavailable"), validation, throughput (token bucket per phone
//! number, `throughput_per_second`, default 80 → 400 code 130429 "Rate limit hit"), the optional
//! pair rate limit (→ 400 code 131056), then per-recipient failures: answered with Meta's
//! documented HTTP status for the code ([`errors::catalogue`]), or accepted and followed by a
//! `failed` status webhook when set to [`FailureDelivery::StatusWebhook`].
//!
//! # Webhooks
//! For each accepted message a background task posts `sent`, `delivered`, `read` (or `failed`
//! with `errors`) status webhooks to the number's `webhook_url`, `status_delay` apart, in Meta's
//! format (`conversation` and `pricing` on sent and delivered, `recipient_user_id` for a BSUID,
//! `biz_opaque_callback_data` echoed), retried on non-2xx. Bodies are encoded as Meta encodes them
//! (`\uXXXX` for non-ASCII, `\/`) and signed over those exact bytes.
//!
//! # `/_sim` routes
//! `GET /_sim/health`; `GET /_sim/messages?to=&phoneNumberId=` (outbox), `DELETE /_sim/messages`;
//! `GET`/`POST /_sim/config` (settings; see [`SimulatorSettings`]); `POST /_sim/inbound` (see
//! [`InboundMessage`]); `GET`/`POST /_sim/numbers`; `GET /_sim/media/{mediaId}?ext=&hash=` (the
//! download behind media URLs, Bearer required, signed and valid 5 minutes like Meta's;
//! [`SimulatorHandle::set_media_url_lifetime`] changes that; [`SimulatorHandle::add_media`] keeps
//! a customer's file without a multipart upload, [`SimulatorHandle::media`] reads a kept file,
//! [`SimulatorHandle::media_downloads`] counts downloads, and
//! [`SimulatorHandle::set_corrupt_media_downloads`] changes a byte of each, for sha256
//! checks); and for templates:
//!
//! | route | does | handle |
//! |---|---|---|
//! | `GET`/`PUT /_sim/templates/{wabaId}` | reads / replaces the set (`PUT` takes an array of template objects) | [`SimulatorHandle::templates`], [`SimulatorHandle::set_templates`] |
//! | `POST /_sim/templates/{wabaId}/generate` `{"count","append"?}` | `count` generated templates `bench_0000`… (mixed statuses, languages, components), replacing the set unless `append` | [`SimulatorHandle::generate_templates`], [`generated_templates`] |
//! | `POST /_sim/templates/{wabaId}/{name}/status` `{"language","status","reason"?,"otherInfo"?:{"title","description"}}` | sets the status and posts the signed `message_template_status_update` webhook (`{"event","message_template_id":<number>,"message_template_name","message_template_language","reason","other_info"?}`, entry with `time`) to every number of the WABA; answers `{"template","webhooks":[{"phoneNumberId","url","status"?,"error"?}],"delivered"}`, 404 for an unknown template | [`SimulatorHandle::set_template_status`] |
//! | `POST /_sim/config` `{"templateDelayMs","messageTemplateLimit"}` | latency of template reads; `message_template_limit` of `summary` | [`SimulatorHandle::set_template_delay`], [`SimulatorHandle::update_settings`] |

mod config;
mod control;
pub mod errors;
mod graph_api;
mod ids;
mod inbound;
mod media;
mod state;
mod template_status;
mod templates;
mod validation;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::background::BackgroundServer;

pub use config::{
    FailNext, FailureDelivery, FaultConfig, PairRateLimit, RecipientFailure, SimulatedNumber,
    SimulatorConfig, SimulatorSettings,
};
pub use errors::{GraphError, MetaError};
pub use inbound::{InboundMessage, InboundOutcome};
pub use state::{OutboxMessage, ReadReceipt, SimulatorHandle, StoredMedia};
pub use template_status::{TemplateStatusOutcome, WebhookDelivery};
pub use templates::{
    DEFAULT_MESSAGE_TEMPLATE_LIMIT, MAX_PAGE_SIZE, OtherInfo, TemplateStatusUpdate,
    default_templates, generated_templates,
};

/// Why the simulator could not start or could not post an inbound message.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("cannot listen on the simulator's address: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot build the webhook HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("no simulated number has the phone number id {0}")]
    UnknownNumber(String),
    #[error("the simulator has no phone number configured")]
    NoNumbers,
    #[error("the simulated number {0} has no webhook URL")]
    NoWebhookUrl(String),
    #[error("invalid inbound message: {0}")]
    InvalidInbound(String),
}

/// A simulator not yet served: its router and its handle.
#[derive(Debug, Clone)]
pub struct Simulator {
    handle: SimulatorHandle,
}

impl Simulator {
    pub fn new(config: SimulatorConfig) -> Result<Self, SimulatorError> {
        let state = state::State::new(config)?;
        Ok(Self {
            handle: SimulatorHandle {
                state: Arc::new(state),
            },
        })
    }

    pub fn handle(&self) -> SimulatorHandle {
        self.handle.clone()
    }

    /// Every route of the simulator, ready to serve.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_sim/health", get(control::health))
            .route(
                "/_sim/messages",
                get(control::outbox).delete(control::clear_outbox),
            )
            .route(
                "/_sim/config",
                get(control::get_config).post(control::post_config),
            )
            .route("/_sim/inbound", post(control::inbound))
            .route(
                "/_sim/numbers",
                get(control::numbers).post(control::upsert_number),
            )
            .route(
                "/_sim/templates/{waba_id}",
                get(control::templates).put(control::put_templates),
            )
            .route(
                "/_sim/templates/{waba_id}/generate",
                post(control::generate_templates),
            )
            .route(
                "/_sim/templates/{waba_id}/{name}/status",
                post(control::set_template_status),
            )
            .route("/_sim/media/{media_id}", get(media::download))
            .route(
                "/{version}/{phone_number_id}/messages",
                post(graph_api::send_message),
            )
            .route("/{version}/{phone_number_id}/media", post(media::upload))
            .route(
                "/{version}/{waba_id}/message_templates",
                get(graph_api::list_templates),
            )
            .route(
                "/{version}/{waba_id}/phone_numbers",
                get(graph_api::list_phone_numbers),
            )
            .route(
                "/{version}/{object_id}",
                get(media::get_object).delete(media::delete),
            )
            .fallback(graph_api::unknown_path)
            .method_not_allowed_fallback(graph_api::unknown_path)
            .layer(DefaultBodyLimit::max(media::MAX_UPLOAD_BYTES + 64 * 1024))
            .with_state(Arc::clone(&self.handle.state))
    }
}

/// A simulator serving in the background.
#[derive(Debug)]
pub struct RunningSimulator {
    base_url: String,
    local_addr: SocketAddr,
    handle: SimulatorHandle,
    server: Option<BackgroundServer>,
}

impl RunningSimulator {
    /// `http://127.0.0.1:<port>`: what `WHATSAPP_API_BASE` points at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn handle(&self) -> &SimulatorHandle {
        &self.handle
    }

    /// Stops serving and stops the webhook tasks; waits for the server to finish.
    pub async fn shutdown(mut self) {
        self.stop_signals();
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    fn stop_signals(&mut self) {
        self.handle.state.shutdown.send_replace(true);
        if let Some(server) = self.server.as_mut() {
            server.signal_stop();
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.stop_signals();
    }
}

/// Binds `bind` (port 0 picks a free port) and serves the simulator in the background.
pub async fn start(
    config: SimulatorConfig,
    bind: SocketAddr,
) -> Result<RunningSimulator, SimulatorError> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(SimulatorError::Bind)?;
    serve(Simulator::new(config)?, listener)
}

/// Serves `simulator` on an already bound `listener` in the background.
pub fn serve(
    simulator: Simulator,
    listener: TcpListener,
) -> Result<RunningSimulator, SimulatorError> {
    let local_addr = listener.local_addr().map_err(SimulatorError::Bind)?;
    let base_url = format!("http://{local_addr}");
    let handle = simulator.handle();
    if handle.base_url().is_none() {
        handle.set_base_url(base_url.clone());
    }
    let server = BackgroundServer::spawn(listener, simulator.router(), "Cloud API simulator");
    tracing::info!(%base_url, "Cloud API simulator listening");
    Ok(RunningSimulator {
        base_url,
        local_addr,
        handle,
        server: Some(server),
    })
}
