//! What the simulator is started with, and the settings that can change while it runs.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

/// One business phone number the simulator serves, with the credentials it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedNumber {
    pub phone_number_id: String,
    /// The WhatsApp Business Account that owns the number (entry id of its webhooks, owner of its
    /// templates).
    pub waba_id: String,
    /// The Bearer token accepted for this number (and its WABA's templates).
    pub access_token: String,
    /// Signs this number's webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Where status and inbound webhooks go; `None` keeps them in the outbox only.
    pub webhook_url: Option<String>,
    /// `metadata.display_phone_number` of its webhooks (digits).
    pub display_phone_number: String,
    /// What a read of the number shows (`GET /{phone-number-id}`, `GET /{waba-id}/phone_numbers`).
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: String,
    /// `throughput.level`: `STANDARD` (80 messages/s) or `HIGH`.
    pub throughput_level: String,
}

impl SimulatedNumber {
    /// A number without webhook URL, displayed as `1555` followed by the id's last 7 digits.
    pub fn new(
        phone_number_id: impl Into<String>,
        waba_id: impl Into<String>,
        access_token: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        let phone_number_id = phone_number_id.into();
        let digits: String = phone_number_id
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let tail = &digits[digits.len().saturating_sub(7)..];
        Self {
            display_phone_number: format!("1555{tail:0>7}"),
            phone_number_id,
            waba_id: waba_id.into(),
            access_token: access_token.into(),
            app_secret: app_secret.into(),
            webhook_url: None,
            verified_name: "Intaj Simulator".to_owned(),
            quality_rating: "GREEN".to_owned(),
            throughput_level: "STANDARD".to_owned(),
        }
    }

    pub fn with_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }

    pub fn with_display_phone_number(mut self, digits: impl Into<String>) -> Self {
        self.display_phone_number = digits.into();
        self
    }
}

/// Faults injected into every Graph API call (not into `/_sim/…`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultConfig {
    /// Share of calls answered with a server error (0.0 to 1.0): 500 code 1 or 503 code 2.
    pub error_rate: f64,
    /// Added before every Graph API answer.
    pub delay: Duration,
}

/// Meta's pair rate limit (one business number → one customer): a bucket of `burst` messages
/// refilled by one every `interval`. Over it → code 131056.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairRateLimit {
    pub burst: u32,
    pub interval: Duration,
}

/// How a forced per-recipient failure reaches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureDelivery {
    /// The send call itself fails with Meta's documented HTTP status.
    #[default]
    Response,
    /// The send call succeeds; a `failed` status webhook with `errors` follows.
    StatusWebhook,
}

/// A failure forced for every message to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientFailure {
    /// Meta's error code, e.g. 131026, 131047, 131056, 190, 132001, 131048.
    pub code: u32,
    pub delivery: FailureDelivery,
}

impl RecipientFailure {
    /// The send call fails with `code`.
    pub fn response(code: u32) -> Self {
        Self {
            code,
            delivery: FailureDelivery::Response,
        }
    }

    /// The send call succeeds and a `failed` status webhook with `code` follows.
    pub fn status_webhook(code: u32) -> Self {
        Self {
            code,
            delivery: FailureDelivery::StatusWebhook,
        }
    }
}

/// The next `count` Graph API calls fail with `code` (handy for retry tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailNext {
    pub count: u32,
    pub code: u32,
}

/// Settings that can change while the simulator runs (through [`super::SimulatorHandle`] or
/// `POST /_sim/config`).
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatorSettings {
    /// Messages per second per phone number; `None` is unlimited. Over it → code 130429.
    pub throughput_per_second: Option<u32>,
    pub pair_rate_limit: Option<PairRateLimit>,
    pub fault: FaultConfig,
    /// Recipient (`to` digits or BSUID) → forced failure.
    pub recipient_failures: HashMap<String, RecipientFailure>,
    pub fail_next: Option<FailNext>,
    /// Pause before each status webhook (sent, delivered, read).
    pub status_delay: Duration,
    /// Added latency of template reads (`message_templates` pages and one template by id), on
    /// top of `fault.delay`: a slow Meta for template-sync benchmarks.
    pub template_delay: Duration,
    /// Added latency of template reads for one business account only (a slow account among
    /// several), on top of `template_delay`.
    pub slow_wabas: HashMap<String, Duration>,
    /// `message_template_limit` answered in the `summary` of `message_templates`.
    pub message_template_limit: u32,
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self {
            // Meta's default throughput for a registered number.
            throughput_per_second: Some(80),
            pair_rate_limit: None,
            fault: FaultConfig::default(),
            recipient_failures: HashMap::new(),
            fail_next: None,
            status_delay: Duration::from_millis(300),
            template_delay: Duration::ZERO,
            slow_wabas: HashMap::new(),
            message_template_limit: super::templates::DEFAULT_MESSAGE_TEMPLATE_LIMIT,
        }
    }
}

/// Everything [`super::start`] and [`super::Simulator::new`] need.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// When set, only this Graph version (e.g. `v25.0`) is served; otherwise any `vN.M`.
    pub api_version: Option<String>,
    pub numbers: Vec<SimulatedNumber>,
    /// The initial run-time settings.
    pub settings: SimulatorSettings,
    /// Templates per WABA id; a WABA of `numbers` missing here gets [`super::default_templates`].
    pub templates: HashMap<String, Vec<Value>>,
    /// Attempts per webhook delivery (first try included) while the receiver answers non-2xx.
    pub webhook_attempts: u32,
    /// Pause before the first retry of a webhook, doubled for each further one.
    pub webhook_retry_backoff: Duration,
    /// Timeout of one webhook POST.
    pub webhook_timeout: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            api_version: None,
            numbers: Vec::new(),
            settings: SimulatorSettings::default(),
            templates: HashMap::new(),
            webhook_attempts: 4,
            webhook_retry_backoff: Duration::from_millis(250),
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

impl SimulatorConfig {
    /// A config serving `numbers` with the default settings.
    pub fn with_numbers(numbers: impl IntoIterator<Item = SimulatedNumber>) -> Self {
        Self {
            numbers: numbers.into_iter().collect(),
            ..Self::default()
        }
    }
}
