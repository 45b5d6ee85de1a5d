//! The simulator's memory (numbers, settings, templates, outbox, media, rate buckets) and the
//! [`SimulatorHandle`] that tests and the local stack drive it with.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use super::SimulatorError;
use super::config::{
    FailNext, FaultConfig, PairRateLimit, RecipientFailure, SimulatedNumber, SimulatorConfig,
    SimulatorSettings,
};
use super::templates::{self, TemplateSet};

/// An accepted message as the simulator received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    /// The `wamid.…` the simulator answered with.
    pub id: String,
    pub phone_number_id: String,
    /// `to` of the request (digits), when the message went to a phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `recipient` of the request (BSUID), when the message went to a business-scoped user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    /// The furthest simulated status: accepted, sent, delivered, read or failed.
    pub status: String,
    /// Unix milliseconds.
    pub received_at_ms: u64,
    /// The request body exactly as parsed.
    pub request: Value,
}

/// A customer's message marked read by the business, with or without the typing indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    pub phone_number_id: String,
    pub message_id: String,
    pub typing_indicator: bool,
    /// Unix milliseconds.
    pub received_at_ms: u64,
}

/// A media file the simulator keeps, uploaded or added.
#[derive(Debug, Clone)]
pub struct StoredMedia {
    pub phone_number_id: String,
    pub mime_type: String,
    pub sha256: String,
    /// The multipart file part's name, for an upload that gave one.
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// A token bucket: `capacity` tokens, refilled at `per_second`.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            tokens: capacity,
            capacity,
            per_second,
            refilled_at: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The conversation a recipient is in, per category (for status webhooks).
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub id: String,
    pub expires_at: u64,
}

/// Locks a mutex, carrying on with the data if a panicking thread poisoned it (a test simulator
/// should keep answering).
/// How long a media download URL works, as Meta documents it.
pub const MEDIA_URL_LIFETIME_SECS: i64 = 300;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct State {
    pub api_version: Option<String>,
    pub numbers: RwLock<HashMap<String, SimulatedNumber>>,
    pub settings: Mutex<SimulatorSettings>,
    /// Templates per WABA id.
    pub templates: Mutex<HashMap<String, TemplateSet>>,
    /// The last template-set epoch handed out; shared by every WABA so that a cursor of one set
    /// never matches another.
    template_epoch: AtomicU64,
    pub outbox: Mutex<Vec<OutboxMessage>>,
    /// `{"status":"read"}` calls: the customer's messages marked read, oldest first.
    pub read_receipts: Mutex<Vec<ReadReceipt>>,
    pub media: Mutex<HashMap<String, StoredMedia>>,
    /// Files served by `GET /_sim/media/{mediaId}`, so tests can tell a copy from a reuse.
    pub media_downloads: AtomicU64,
    /// While set, media downloads serve their file with one byte changed (a sha256 mismatch).
    pub corrupt_media_downloads: std::sync::atomic::AtomicBool,
    /// Signs download URLs, which work for `media_url_lifetime` seconds (Meta's: 5 minutes).
    pub media_url_key: [u8; 32],
    pub media_url_lifetime: std::sync::atomic::AtomicI64,
    pub throughput_buckets: Mutex<HashMap<String, TokenBucket>>,
    pub pair_buckets: Mutex<HashMap<(String, String), TokenBucket>>,
    pub conversations: Mutex<HashMap<(String, String, String), Conversation>>,
    pub webhook_attempts: u32,
    pub webhook_retry_backoff: Duration,
    pub http: reqwest::Client,
    /// The simulator's own address, for absolute URLs; `None` uses the request's `Host`.
    pub base_url: RwLock<Option<String>>,
    /// Flips to `true` at shutdown so that webhook tasks stop.
    pub shutdown: watch::Sender<bool>,
}

impl State {
    pub fn new(config: SimulatorConfig) -> Result<Self, SimulatorError> {
        let http = intaj_shared::http_clients::http_client_builder()
            .timeout(config.webhook_timeout)
            .user_agent("facebookexternalua")
            .build()
            .map_err(SimulatorError::HttpClient)?;
        let mut initial = config.templates;
        for number in &config.numbers {
            initial
                .entry(number.waba_id.clone())
                .or_insert_with(templates::default_templates);
        }
        let template_epoch = AtomicU64::new(0);
        let templates = initial
            .into_iter()
            .map(|(waba_id, mut set)| {
                templates::assign_ids(&mut set);
                let epoch = template_epoch.fetch_add(1, Ordering::Relaxed) + 1;
                (
                    waba_id,
                    TemplateSet {
                        epoch,
                        templates: set,
                    },
                )
            })
            .collect();
        let numbers = config
            .numbers
            .into_iter()
            .map(|number| (number.phone_number_id.clone(), number))
            .collect();
        Ok(Self {
            api_version: config.api_version,
            numbers: RwLock::new(numbers),
            settings: Mutex::new(config.settings),
            templates: Mutex::new(templates),
            template_epoch,
            outbox: Mutex::new(Vec::new()),
            read_receipts: Mutex::new(Vec::new()),
            media: Mutex::new(HashMap::new()),
            media_downloads: AtomicU64::new(0),
            corrupt_media_downloads: std::sync::atomic::AtomicBool::new(false),
            media_url_key: rand::random(),
            media_url_lifetime: std::sync::atomic::AtomicI64::new(MEDIA_URL_LIFETIME_SECS),
            throughput_buckets: Mutex::new(HashMap::new()),
            pair_buckets: Mutex::new(HashMap::new()),
            conversations: Mutex::new(HashMap::new()),
            webhook_attempts: config.webhook_attempts.max(1),
            webhook_retry_backoff: config.webhook_retry_backoff,
            http,
            base_url: RwLock::new(None),
            shutdown: watch::Sender::new(false),
        })
    }

    pub fn number(&self, phone_number_id: &str) -> Option<SimulatedNumber> {
        self.numbers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(phone_number_id)
            .cloned()
    }

    /// Every number whose access token is `token`.
    pub fn numbers_for_token(&self, token: &str) -> Vec<SimulatedNumber> {
        self.numbers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|number| number.access_token == token)
            .cloned()
            .collect()
    }

    /// The first configured number (sorted by id, so the choice is stable).
    pub fn default_number(&self) -> Option<SimulatedNumber> {
        let numbers = self.numbers.read().unwrap_or_else(PoisonError::into_inner);
        numbers
            .values()
            .min_by(|a, b| a.phone_number_id.cmp(&b.phone_number_id))
            .cloned()
    }

    pub fn settings(&self) -> SimulatorSettings {
        lock(&self.settings).clone()
    }

    pub fn base_url(&self) -> Option<String> {
        self.base_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `read` on the templates of `waba_id` (an empty set when it has none).
    pub fn with_templates<R>(&self, waba_id: &str, read: impl FnOnce(&TemplateSet) -> R) -> R {
        let sets = lock(&self.templates);
        match sets.get(waba_id) {
            Some(set) => read(set),
            None => read(&TemplateSet::default()),
        }
    }

    /// Changes the templates of `waba_id` with `change` and gives the set a new epoch, so that
    /// cursors into the old set go stale.
    pub fn change_templates<R>(
        &self,
        waba_id: &str,
        change: impl FnOnce(&mut Vec<Value>) -> R,
    ) -> R {
        let mut sets = lock(&self.templates);
        let set = sets.entry(waba_id.to_owned()).or_default();
        let answer = change(&mut set.templates);
        templates::assign_ids(&mut set.templates);
        set.epoch = self.template_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        answer
    }

    /// The template with `id` among the WABAs `waba_ids`.
    pub fn template_by_id<'a>(
        &self,
        mut waba_ids: impl Iterator<Item = &'a str>,
        id: &str,
    ) -> Option<Value> {
        let sets = lock(&self.templates);
        waba_ids.find_map(|waba_id| {
            sets.get(waba_id)?
                .templates
                .iter()
                .find(|template| template.get("id").and_then(Value::as_str) == Some(id))
                .cloned()
        })
    }

    pub fn set_outbox_status(&self, message_id: &str, status: &str) {
        if let Some(message) = lock(&self.outbox)
            .iter_mut()
            .find(|message| message.id == message_id)
        {
            message.status = status.to_owned();
        }
    }
}

/// Drives a simulator at run time: faults, throughput, per-recipient failures, templates,
/// numbers, and the outbox. Cheap to clone; every clone drives the same simulator.
#[derive(Clone)]
pub struct SimulatorHandle {
    pub(crate) state: Arc<State>,
}

impl std::fmt::Debug for SimulatorHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SimulatorHandle")
            .field("base_url", &self.state.base_url())
            .finish()
    }
}

impl SimulatorHandle {
    /// The current run-time settings.
    pub fn settings(&self) -> SimulatorSettings {
        self.state.settings()
    }

    /// Replaces every run-time setting at once.
    pub fn set_settings(&self, settings: SimulatorSettings) {
        *lock(&self.state.settings) = settings;
        self.reset_rate_buckets();
    }

    /// Changes the settings with `change` (e.g. `|s| s.status_delay = Duration::ZERO`).
    pub fn update_settings(&self, change: impl FnOnce(&mut SimulatorSettings)) {
        change(&mut lock(&self.state.settings));
        self.reset_rate_buckets();
    }

    /// Injected 5xx rate and added delay.
    pub fn set_fault(&self, fault: FaultConfig) {
        lock(&self.state.settings).fault = fault;
    }

    /// Messages per second per phone number; `None` is unlimited.
    pub fn set_throughput(&self, per_second: Option<u32>) {
        lock(&self.state.settings).throughput_per_second = per_second;
        lock(&self.state.throughput_buckets).clear();
    }

    pub fn set_pair_rate_limit(&self, limit: Option<PairRateLimit>) {
        lock(&self.state.settings).pair_rate_limit = limit;
        lock(&self.state.pair_buckets).clear();
    }

    /// Every message to `recipient` (digits or BSUID) fails as `failure` says.
    pub fn set_recipient_failure(&self, recipient: impl Into<String>, failure: RecipientFailure) {
        lock(&self.state.settings)
            .recipient_failures
            .insert(recipient.into(), failure);
    }

    pub fn remove_recipient_failure(&self, recipient: &str) {
        lock(&self.state.settings)
            .recipient_failures
            .remove(recipient);
    }

    pub fn clear_recipient_failures(&self) {
        lock(&self.state.settings).recipient_failures.clear();
    }

    /// The next `count` Graph API calls fail with Meta's error `code`.
    pub fn fail_next(&self, count: u32, code: u32) {
        lock(&self.state.settings).fail_next = (count > 0).then_some(FailNext { count, code });
    }

    /// Pause before each status webhook; tests use `Duration::ZERO`.
    pub fn set_status_delay(&self, delay: Duration) {
        lock(&self.state.settings).status_delay = delay;
    }

    /// Keeps a file as if `phone_number_id`'s customer had sent it (or the business had
    /// uploaded it); answers its media id, for an inbound message's `image.id` and the like.
    pub fn add_media(&self, phone_number_id: &str, mime_type: &str, bytes: Vec<u8>) -> String {
        use sha2::{Digest, Sha256};
        let id = super::ids::numeric_id();
        let media = StoredMedia {
            phone_number_id: phone_number_id.to_owned(),
            mime_type: mime_type.to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            filename: None,
            bytes,
        };
        lock(&self.state.media).insert(id.clone(), media);
        id
    }

    /// The file kept under a media id (uploaded by a business, or added).
    pub fn media(&self, media_id: &str) -> Option<StoredMedia> {
        lock(&self.state.media).get(media_id).cloned()
    }

    /// How many media files `GET /_sim/media/{mediaId}` has served.
    pub fn media_downloads(&self) -> u64 {
        self.state.media_downloads.load(Ordering::Relaxed)
    }

    /// How long the download URLs handed out from now on work, in seconds (Meta's: 300); a
    /// negative lifetime hands out URLs that have already expired.
    pub fn set_media_url_lifetime(&self, seconds: i64) {
        self.state
            .media_url_lifetime
            .store(seconds, Ordering::Relaxed);
    }

    /// While `true`, media downloads serve their file with one byte changed.
    pub fn set_corrupt_media_downloads(&self, corrupt: bool) {
        self.state
            .corrupt_media_downloads
            .store(corrupt, Ordering::Relaxed);
    }

    /// Every accepted message, oldest first.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        lock(&self.state.outbox).clone()
    }

    /// Every read receipt (and typing indicator) the business sent, oldest first.
    pub fn read_receipts(&self) -> Vec<ReadReceipt> {
        lock(&self.state.read_receipts).clone()
    }

    /// Empties the outbox; answers how many messages it held.
    pub fn clear_outbox(&self) -> usize {
        std::mem::take(&mut *lock(&self.state.outbox)).len()
    }

    /// Replaces the templates of `waba_id` (Meta's template objects; `id` added where missing).
    /// Cursors into the previous set answer 131059 from now on.
    pub fn set_templates(&self, waba_id: impl Into<String>, templates: Vec<Value>) {
        self.state
            .change_templates(&waba_id.into(), |set| *set = templates);
    }

    /// The templates of `waba_id`.
    pub fn templates(&self, waba_id: &str) -> Vec<Value> {
        self.state
            .with_templates(waba_id, |set| set.templates.clone())
    }

    /// Replaces the templates of `waba_id` with `count` generated ones
    /// ([`super::generated_templates`]: `bench_0000`…); answers `count`.
    pub fn generate_templates(&self, waba_id: &str, count: usize) -> usize {
        self.set_templates(waba_id, templates::generated_templates(count));
        count
    }

    /// Makes template reads of one business account this much slower (zero: no longer slow).
    pub fn set_slow_waba(&self, waba_id: impl Into<String>, delay: Duration) {
        let waba_id = waba_id.into();
        self.update_settings(|settings| {
            if delay.is_zero() {
                settings.slow_wabas.remove(&waba_id);
            } else {
                settings.slow_wabas.insert(waba_id, delay);
            }
        });
    }

    /// Added latency of template reads (listing pages and one template by id).
    pub fn set_template_delay(&self, delay: Duration) {
        lock(&self.state.settings).template_delay = delay;
    }

    /// Adds a number, or replaces the one with the same `phone_number_id` (e.g. to point its
    /// webhooks at a new URL). A WABA without templates gets [`super::default_templates`].
    pub fn upsert_number(&self, number: SimulatedNumber) {
        let known = lock(&self.state.templates).contains_key(&number.waba_id);
        if !known {
            self.state.change_templates(&number.waba_id, |set| {
                *set = templates::default_templates();
            });
        }
        self.state
            .numbers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number.phone_number_id.clone(), number);
    }

    /// The configured numbers, sorted by phone number id.
    pub fn numbers(&self) -> Vec<SimulatedNumber> {
        let mut numbers: Vec<SimulatedNumber> = self
            .state
            .numbers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        numbers.sort_by(|a, b| a.phone_number_id.cmp(&b.phone_number_id));
        numbers
    }

    /// The absolute URL the simulator's links are built on, once known.
    pub fn base_url(&self) -> Option<String> {
        self.state.base_url()
    }

    /// Sets the absolute URL of the simulator (when it is served by hand from [`super::Simulator`]).
    pub fn set_base_url(&self, url: impl Into<String>) {
        let url = url.into().trim_end_matches('/').to_owned();
        *self
            .state
            .base_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(url);
    }

    fn reset_rate_buckets(&self) {
        lock(&self.state.throughput_buckets).clear();
        lock(&self.state.pair_buckets).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_capacity_then_refuses() {
        let mut bucket = TokenBucket::new(2, 0.0);
        assert!(bucket.try_take());
        assert!(bucket.try_take());
        assert!(!bucket.try_take());
    }

    #[test]
    fn a_bucket_refills_over_time() {
        let mut bucket = TokenBucket::new(1, 1000.0);
        assert!(bucket.try_take());
        bucket.refilled_at -= Duration::from_millis(5);
        assert!(bucket.try_take());
    }
}
