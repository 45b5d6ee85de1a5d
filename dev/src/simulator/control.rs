//! The simulator's own routes under `/_sim` (camelCase JSON, errors as
//! `{"error":{"code","message"}}`): the outbox, run-time settings, inbound messages, numbers and
//! templates. They mirror [`super::SimulatorHandle`] for callers outside the process.
//!
//! Templates: `GET`/`PUT /_sim/templates/{wabaId}` read and replace a WABA's set;
//! `POST /_sim/templates/{wabaId}/generate` `{"count","append"?}` fills it with generated
//! `bench_…` templates; `POST /_sim/templates/{wabaId}/{name}/status`
//! `{"language","status","reason"?,"otherInfo"?:{"title","description"}}` changes one template's
//! status and posts the signed `message_template_status_update` webhook, answering
//! `{"template","webhooks":[{"phoneNumberId","url","status"?,"error"?}],"delivered"}`. The
//! latency of template reads is `templateDelayMs` of `POST /_sim/config`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as StateExtractor};
use axum::response::{IntoResponse, Response};
use intaj_shared::api::ApiError;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimulatorError;
use super::config::{
    FailNext, FailureDelivery, PairRateLimit, RecipientFailure, SimulatedNumber, SimulatorSettings,
};
use super::graph_api::AppState;
use super::inbound::{InboundMessage, post_inbound};
use super::state::{SimulatorHandle, lock};
use super::templates::{self, TemplateStatusUpdate};

fn error_response(error: ApiError) -> Response {
    error.to_response().into_response()
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request("invalid_json", format!("The body is not valid: {error}"))
    })
}

/// `GET /_sim/health`: answers as soon as the simulator serves.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OutboxQuery {
    to: Option<String>,
    phone_number_id: Option<String>,
}

/// `GET /_sim/messages?to=&phoneNumberId=`: the outbox, oldest first.
pub(crate) async fn outbox(
    StateExtractor(state): AppState,
    Query(query): Query<OutboxQuery>,
) -> Json<Value> {
    let messages: Vec<_> = lock(&state.outbox)
        .iter()
        .filter(|message| {
            query.to.as_deref().is_none_or(|to| {
                message.to.as_deref() == Some(to.trim_start_matches('+'))
                    || message.recipient.as_deref() == Some(to)
            })
        })
        .filter(|message| {
            query
                .phone_number_id
                .as_deref()
                .is_none_or(|id| message.phone_number_id == id)
        })
        .cloned()
        .collect();
    Json(json!({ "messages": messages }))
}

/// `DELETE /_sim/messages`.
pub(crate) async fn clear_outbox(StateExtractor(state): AppState) -> Json<Value> {
    let cleared = std::mem::take(&mut *lock(&state.outbox)).len();
    Json(json!({ "cleared": cleared }))
}

/// A recipient failure in JSON: a bare code (answered in the response), or `{"code","async"}`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum RecipientFailureInput {
    Code(u32),
    Detailed {
        code: u32,
        #[serde(default, rename = "async")]
        asynchronous: bool,
    },
}

impl From<RecipientFailureInput> for RecipientFailure {
    fn from(input: RecipientFailureInput) -> Self {
        match input {
            RecipientFailureInput::Code(code)
            | RecipientFailureInput::Detailed {
                code,
                asynchronous: false,
            } => RecipientFailure::response(code),
            RecipientFailureInput::Detailed {
                code,
                asynchronous: true,
            } => RecipientFailure::status_webhook(code),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PairRateLimitJson {
    burst: u32,
    interval_ms: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct FailNextJson {
    count: u32,
    code: u32,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultPatch {
    error_rate: Option<f64>,
    delay_ms: Option<u64>,
}

/// `POST /_sim/config`: every field optional; `null` turns a limit off.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsPatch {
    #[serde(default, deserialize_with = "explicit_null")]
    throughput_per_second: Option<Option<u32>>,
    #[serde(default, deserialize_with = "explicit_null")]
    pair_rate_limit: Option<Option<PairRateLimitJson>>,
    fault: Option<FaultPatch>,
    /// Removes every recipient failure before `recipient_failures` is applied.
    #[serde(default)]
    clear_recipient_failures: bool,
    /// Recipient → failure; `null` removes that recipient's failure.
    recipient_failures: Option<HashMap<String, Option<RecipientFailureInput>>>,
    #[serde(default, deserialize_with = "explicit_null")]
    fail_next: Option<Option<FailNextJson>>,
    status_delay_ms: Option<u64>,
    template_delay_ms: Option<u64>,
    message_template_limit: Option<u32>,
}

/// Tells a field set to `null` (`Some(None)`) from an absent one (`None`).
fn explicit_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    throughput_per_second: Option<u32>,
    pair_rate_limit: Option<PairRateLimitJson>,
    fault: FaultView,
    recipient_failures: BTreeMap<String, RecipientFailureView>,
    fail_next: Option<FailNextJson>,
    status_delay_ms: u64,
    template_delay_ms: u64,
    message_template_limit: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultView {
    error_rate: f64,
    delay_ms: u64,
}

#[derive(Debug, Serialize)]
struct RecipientFailureView {
    code: u32,
    #[serde(rename = "async")]
    asynchronous: bool,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn view(settings: &SimulatorSettings) -> SettingsView {
    SettingsView {
        throughput_per_second: settings.throughput_per_second,
        pair_rate_limit: settings.pair_rate_limit.map(|limit| PairRateLimitJson {
            burst: limit.burst,
            interval_ms: millis(limit.interval),
        }),
        fault: FaultView {
            error_rate: settings.fault.error_rate,
            delay_ms: millis(settings.fault.delay),
        },
        recipient_failures: settings
            .recipient_failures
            .iter()
            .map(|(recipient, failure)| {
                let asynchronous = failure.delivery == FailureDelivery::StatusWebhook;
                (
                    recipient.clone(),
                    RecipientFailureView {
                        code: failure.code,
                        asynchronous,
                    },
                )
            })
            .collect(),
        fail_next: settings.fail_next.map(|fail| FailNextJson {
            count: fail.count,
            code: fail.code,
        }),
        status_delay_ms: millis(settings.status_delay),
        template_delay_ms: millis(settings.template_delay),
        message_template_limit: settings.message_template_limit,
    }
}

fn apply(patch: SettingsPatch, settings: &mut SimulatorSettings) -> Result<(), ApiError> {
    if let Some(throughput) = patch.throughput_per_second {
        settings.throughput_per_second = throughput;
    }
    if let Some(limit) = patch.pair_rate_limit {
        settings.pair_rate_limit = limit.map(|limit| PairRateLimit {
            burst: limit.burst,
            interval: Duration::from_millis(limit.interval_ms),
        });
    }
    if let Some(fault) = patch.fault {
        if let Some(rate) = fault.error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ApiError::bad_request(
                    "invalid_config",
                    "fault.errorRate must be between 0 and 1",
                ));
            }
            settings.fault.error_rate = rate;
        }
        if let Some(delay) = fault.delay_ms {
            settings.fault.delay = Duration::from_millis(delay);
        }
    }
    if patch.clear_recipient_failures {
        settings.recipient_failures.clear();
    }
    for (recipient, failure) in patch.recipient_failures.unwrap_or_default() {
        match failure {
            Some(failure) => settings
                .recipient_failures
                .insert(recipient, failure.into()),
            None => settings.recipient_failures.remove(&recipient),
        };
    }
    if let Some(fail_next) = patch.fail_next {
        settings.fail_next = fail_next
            .filter(|fail| fail.count > 0)
            .map(|fail| FailNext {
                count: fail.count,
                code: fail.code,
            });
    }
    if let Some(delay) = patch.status_delay_ms {
        settings.status_delay = Duration::from_millis(delay);
    }
    if let Some(delay) = patch.template_delay_ms {
        settings.template_delay = Duration::from_millis(delay);
    }
    if let Some(limit) = patch.message_template_limit {
        settings.message_template_limit = limit;
    }
    Ok(())
}

/// `GET /_sim/config`.
pub(crate) async fn get_config(StateExtractor(state): AppState) -> Response {
    Json(view(&state.settings())).into_response()
}

/// `POST /_sim/config`: applies the patch, answers the new settings.
pub(crate) async fn post_config(StateExtractor(state): AppState, body: Bytes) -> Response {
    let patch: SettingsPatch = match parse_json(&body) {
        Ok(patch) => patch,
        Err(error) => return error_response(error),
    };
    let handle = SimulatorHandle { state };
    let mut settings = handle.settings();
    if let Err(error) = apply(patch, &mut settings) {
        return error_response(error);
    }
    handle.set_settings(settings.clone());
    Json(view(&settings)).into_response()
}

/// `POST /_sim/inbound`: posts a customer's message to the number's webhook.
pub(crate) async fn inbound(StateExtractor(state): AppState, body: Bytes) -> Response {
    let message: InboundMessage = match parse_json(&body) {
        Ok(message) => message,
        Err(error) => return error_response(error),
    };
    match post_inbound(&state, message).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error) => error_response(api_error(&error)),
    }
}

fn api_error(error: &SimulatorError) -> ApiError {
    match error {
        SimulatorError::UnknownNumber(_) | SimulatorError::NoNumbers => {
            ApiError::not_found("unknown_phone_number", error.to_string())
        }
        SimulatorError::NoWebhookUrl(_) => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no_webhook_url",
            error.to_string(),
        ),
        SimulatorError::InvalidInbound(_) => {
            ApiError::bad_request("invalid_inbound", error.to_string())
        }
        SimulatorError::Bind(_) | SimulatorError::HttpClient(_) => {
            ApiError::unavailable("simulator_error", error.to_string())
        }
    }
}

/// A number in JSON (camelCase).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NumberInput {
    phone_number_id: String,
    waba_id: String,
    access_token: String,
    app_secret: String,
    webhook_url: Option<String>,
    display_phone_number: Option<String>,
    verified_name: Option<String>,
    quality_rating: Option<String>,
    throughput_level: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberView {
    phone_number_id: String,
    waba_id: String,
    display_phone_number: String,
    webhook_url: Option<String>,
}

/// `GET /_sim/numbers`: the numbers, without their secrets.
pub(crate) async fn numbers(StateExtractor(state): AppState) -> Json<Value> {
    let numbers: Vec<NumberView> = SimulatorHandle { state }
        .numbers()
        .into_iter()
        .map(|number| NumberView {
            phone_number_id: number.phone_number_id,
            waba_id: number.waba_id,
            display_phone_number: number.display_phone_number,
            webhook_url: number.webhook_url,
        })
        .collect();
    Json(json!({ "numbers": numbers }))
}

/// `POST /_sim/numbers`: adds a number or replaces the one with the same id.
pub(crate) async fn upsert_number(StateExtractor(state): AppState, body: Bytes) -> Response {
    let input: NumberInput = match parse_json(&body) {
        Ok(input) => input,
        Err(error) => return error_response(error),
    };
    let mut number = SimulatedNumber::new(
        input.phone_number_id,
        input.waba_id,
        input.access_token,
        input.app_secret,
    );
    number.webhook_url = input.webhook_url;
    if let Some(display) = input.display_phone_number {
        number.display_phone_number = display;
    }
    if let Some(name) = input.verified_name {
        number.verified_name = name;
    }
    if let Some(rating) = input.quality_rating {
        number.quality_rating = rating;
    }
    if let Some(level) = input.throughput_level {
        number.throughput_level = level;
    }
    let id = number.phone_number_id.clone();
    SimulatorHandle { state }.upsert_number(number);
    Json(json!({ "phoneNumberId": id })).into_response()
}

/// `GET /_sim/templates/{wabaId}`.
pub(crate) async fn templates(
    StateExtractor(state): AppState,
    Path(waba_id): Path<String>,
) -> Json<Value> {
    Json(json!({ "templates": SimulatorHandle { state }.templates(&waba_id) }))
}

/// `PUT /_sim/templates/{wabaId}` with a JSON array of Meta template objects.
pub(crate) async fn put_templates(
    StateExtractor(state): AppState,
    Path(waba_id): Path<String>,
    body: Bytes,
) -> Response {
    let templates: Vec<Value> = match parse_json(&body) {
        Ok(templates) => templates,
        Err(error) => return error_response(error),
    };
    if templates.iter().any(|template| !template.is_object()) {
        return error_response(ApiError::bad_request(
            "invalid_templates",
            "every template must be a JSON object",
        ));
    }
    let count = templates.len();
    SimulatorHandle { state }.set_templates(waba_id, templates);
    Json(json!({ "templates": count })).into_response()
}

/// The most templates one `generate` call makes: plenty for benchmarks, bounded for memory.
const MAX_GENERATED: usize = 100_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenerateInput {
    count: usize,
    /// Keeps the WABA's current templates and adds the generated ones after them.
    #[serde(default)]
    append: bool,
}

/// `POST /_sim/templates/{wabaId}/generate` `{"count","append"?}`: answers the set's new size.
pub(crate) async fn generate_templates(
    StateExtractor(state): AppState,
    Path(waba_id): Path<String>,
    body: Bytes,
) -> Response {
    let input: GenerateInput = match parse_json(&body) {
        Ok(input) => input,
        Err(error) => return error_response(error),
    };
    if input.count > MAX_GENERATED {
        return error_response(ApiError::bad_request(
            "invalid_count",
            format!("count must be at most {MAX_GENERATED}"),
        ));
    }
    let generated = templates::generated_templates(input.count);
    let total = state.change_templates(&waba_id, |set| {
        if !input.append {
            set.clear();
        }
        set.extend(generated);
        set.len()
    });
    Json(json!({ "templates": total, "generated": input.count })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusInput {
    language: String,
    #[serde(flatten)]
    update: TemplateStatusUpdate,
}

/// `POST /_sim/templates/{wabaId}/{name}/status`: see the module docs.
pub(crate) async fn set_template_status(
    StateExtractor(state): AppState,
    Path((waba_id, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let input: StatusInput = match parse_json(&body) {
        Ok(input) => input,
        Err(error) => return error_response(error),
    };
    if input.update.status.trim().is_empty() {
        return error_response(ApiError::bad_request(
            "invalid_status",
            "status must not be empty",
        ));
    }
    let handle = SimulatorHandle { state };
    match handle
        .set_template_status(&waba_id, &name, &input.language, input.update)
        .await
    {
        Some(outcome) => {
            let delivered = outcome.delivered();
            let mut answer = serde_json::to_value(&outcome).unwrap_or_default();
            answer["delivered"] = json!(delivered);
            Json(answer).into_response()
        }
        None => error_response(ApiError::not_found(
            "unknown_template",
            format!(
                "WABA {waba_id} has no template {name} in {}",
                input.language
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::FaultConfig;
    use super::*;

    fn patched(json: Value) -> Result<SimulatorSettings, ApiError> {
        let patch: SettingsPatch = serde_json::from_value(json).expect("valid patch");
        let mut settings = SimulatorSettings::default();
        apply(patch, &mut settings)?;
        Ok(settings)
    }

    #[test]
    fn null_turns_a_limit_off_and_absence_keeps_it() {
        assert_eq!(patched(json!({})).unwrap().throughput_per_second, Some(80));
        assert_eq!(
            patched(json!({"throughputPerSecond": null}))
                .unwrap()
                .throughput_per_second,
            None
        );
        assert_eq!(
            patched(json!({"throughputPerSecond": 5}))
                .unwrap()
                .throughput_per_second,
            Some(5)
        );
    }

    #[test]
    fn recipient_failures_accept_codes_and_objects() {
        let settings = patched(json!({"recipientFailures": {
            "15550000026": 131026, "15550000047": {"code": 131047, "async": true}
        }}))
        .unwrap();
        assert_eq!(
            settings.recipient_failures["15550000026"],
            RecipientFailure::response(131026)
        );
        assert_eq!(
            settings.recipient_failures["15550000047"],
            RecipientFailure::status_webhook(131047)
        );
    }

    #[test]
    fn faults_are_checked() {
        assert!(patched(json!({"fault": {"errorRate": 1.5}})).is_err());
        let settings = patched(json!({"fault": {"errorRate": 0.25, "delayMs": 40}, "failNext": {"count": 2, "code": 131000}}))
            .unwrap();
        assert_eq!(
            settings.fault,
            FaultConfig {
                error_rate: 0.25,
                delay: Duration::from_millis(40)
            }
        );
        assert_eq!(
            settings.fail_next,
            Some(FailNext {
                count: 2,
                code: 131000
            })
        );
        assert!(serde_json::from_value::<SettingsPatch>(json!({"bogus": 1})).is_err());
    }

    #[test]
    fn template_settings_are_patched() {
        let settings =
            patched(json!({"templateDelayMs": 120, "messageTemplateLimit": 6000})).unwrap();
        assert_eq!(settings.template_delay, Duration::from_millis(120));
        assert_eq!(settings.message_template_limit, 6000);
        assert_eq!(
            patched(json!({})).unwrap().message_template_limit,
            templates::DEFAULT_MESSAGE_TEMPLATE_LIMIT
        );
    }

    #[test]
    fn a_status_change_reads_language_status_and_other_info() {
        let input: StatusInput = serde_json::from_value(json!({
            "language": "en", "status": "PAUSED",
            "otherInfo": {"title": "FIRST_PAUSE", "description": "Low quality."}
        }))
        .unwrap();
        assert_eq!(input.language, "en");
        assert_eq!(
            input.update,
            TemplateStatusUpdate::new("PAUSED").with_other_info("FIRST_PAUSE", "Low quality.")
        );
    }
}
