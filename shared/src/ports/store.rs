use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};

use crate::domain::{
    ApiKey, Claim, Connection, ConversationWindow, CustomerIds, IdempotencyClaim, InboundMessage,
    MessageRecord, MessageTemplate, OutboundRecord, RawEvent, ResponderPause, StatusEvent,
    StoredResponse, TemplateChange, TemplateKey, TemplatePage, TemplateQuery, TemplateRef,
    TemplateSet, TemplateSync, TemplateSyncCounts, TemplateSyncState,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed or could not be reached; the caller should answer 5xx so that the
    /// sender retries.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A write would break a uniqueness rule (e.g. a phone number owned by another bot).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored item could not be read back as the domain type.
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

/// How many status writes of one body [`MessageStore::record_statuses`] runs at once by default.
pub const STATUS_WRITE_CONCURRENCY: usize = 16;

/// Connections: which bot owns which WhatsApp number.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn connection(&self, bot_id: &str) -> Result<Option<Connection>, StoreError>;
    /// The connection that owns a phone number id (webhook routing).
    async fn connection_by_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Connection>, StoreError>;
    /// The bot that owns a phone number id: what webhook routing needs, which a cache can
    /// answer without copying the whole connection.
    async fn phone_number_owner(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Arc<str>>, StoreError> {
        let connection = self.connection_by_phone_number(phone_number_id).await?;
        Ok(connection.map(|c| Arc::from(c.bot_id)))
    }
    /// The owner [`phone_number_owner`](Self::phone_number_owner) would answer, when a warm
    /// cache knows it; `None` to ask. Spares the webhook's hot path a boxed future.
    fn cached_phone_number_owner(&self, _phone_number_id: &str) -> Option<Arc<str>> {
        None
    }
    /// Every connection (the hourly schedule).
    async fn connections(&self) -> Result<Vec<Connection>, StoreError>;
    /// Creates or replaces a connection. A phone number id owned by another bot is a
    /// [`StoreError::Conflict`].
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    /// Returns whether there was one to delete.
    async fn delete_connection(&self, bot_id: &str) -> Result<bool, StoreError>;
    /// Notes that a webhook for the bot arrived at `at`; an earlier time than the one kept, or
    /// a bot without connection, changes nothing.
    async fn record_webhook_received(&self, bot_id: &str, at: i64) -> Result<(), StoreError>;
}

/// The 24-hour customer service windows.
#[async_trait]
pub trait WindowStore: Send + Sync {
    /// Records a customer message sent at `inbound_at`: the window becomes at least
    /// `inbound_at + 24h` (never shorter), under every id the customer is known by, and links the
    /// ids so that either finds the window. Idempotent.
    async fn extend_window(
        &self,
        bot_id: &str,
        customer: &CustomerIds,
        inbound_at: i64,
    ) -> Result<(), StoreError>;
    /// The window of a customer by BSUID or `wa_id`, whichever was given.
    async fn window(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ConversationWindow>, StoreError>;
    /// Pauses the bot for a customer (`Some`), or resumes it (`None`), by either of its ids: a
    /// pause set earlier under the customer's other id is replaced.
    async fn set_responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
        pause: Option<ResponderPause>,
    ) -> Result<(), StoreError>;
    /// The pause set for a customer, under this id or its linked one, if any (expired or not).
    async fn responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ResponderPause>, StoreError>;
}

/// Messages, their status history, and webhook content kept verbatim.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores an inbound message once: a second call with the same id (a redelivery, also a
    /// concurrent one) is [`Claim::Duplicate`] and changes nothing. Takes the message so that a
    /// store keeps its strings without copying them.
    async fn record_inbound(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError>;
    /// Appends a status event once per (message id, status), and raises the message's current
    /// status when this one is further (failed is final). Raising is re-applied on duplicates,
    /// so a crash between the two steps heals on Meta's redelivery.
    async fn record_status(&self, bot_id: &str, event: &StatusEvent) -> Result<Claim, StoreError>;
    /// [`record_status`](Self::record_status) for each status of a webhook body, the claims in
    /// the same order. By default 16 at a time, so that remote writes overlap; a store that
    /// can take them in one go does.
    async fn record_statuses(
        &self,
        bot_id: &str,
        events: Vec<StatusEvent>,
    ) -> Result<Vec<Claim>, StoreError> {
        let writes: Vec<_> = events
            .iter()
            .map(|event| self.record_status(bot_id, event))
            .collect();
        futures::stream::iter(writes)
            .buffered(STATUS_WRITE_CONCURRENCY)
            .try_collect()
            .await
    }
    /// Stores a message the send route handed to Meta, with current status `accepted`. A status
    /// webhook may have arrived first: a status already further is kept, and the statuses stay
    /// the webhook events only. A message already recorded (a retried write, in either
    /// direction) is left as it is, without error.
    async fn record_outbound(
        &self,
        bot_id: &str,
        message: &OutboundRecord,
    ) -> Result<(), StoreError>;
    /// Keeps webhook content that has no richer record, once per content key.
    async fn record_raw_event(&self, bot_id: &str, event: &RawEvent) -> Result<Claim, StoreError>;
    /// Raw events kept for a bot, oldest first (for operators and tests).
    async fn raw_events(&self, bot_id: &str) -> Result<Vec<RawEvent>, StoreError>;
    /// A message with all its status events (oldest first).
    async fn message(
        &self,
        bot_id: &str,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError>;
    /// The id of the bot's inbound message that carries this media id (`image.id`, `audio.id`,
    /// …), if any. Another bot's media is `None`, like an unknown id.
    async fn inbound_media(
        &self,
        bot_id: &str,
        media_id: &str,
    ) -> Result<Option<String>, StoreError>;
}

/// API keys, stored by their hash ([`crate::domain::api_key_hash`]), never in clear.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Creates or replaces the key with this hash.
    async fn put_api_key(&self, key_hash: &str, key: &ApiKey) -> Result<(), StoreError>;
    /// The key with this hash, for authenticating a Bearer token.
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Revokes every key of a bot; returns how many there were.
    async fn delete_api_keys(&self, bot_id: &str) -> Result<usize, StoreError>;
    /// Sets the rate limit of every key of the bot at once; returns how many keys it has.
    async fn set_api_keys_rate_limit(
        &self,
        bot_id: &str,
        rate_limit_per_second: u32,
    ) -> Result<usize, StoreError>;
}

/// Idempotency records: a request repeated with the same key gets the first answer and does
/// the work once. A record expires at `now + ttl_seconds` of its claim; an expired record counts
/// as absent whether or not TTL has deleted it yet.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request whose body hashes to `fingerprint`, atomically (of concurrent
    /// claims exactly one is [`IdempotencyClaim::Claimed`]). A claim left in progress for longer
    /// than `in_progress_seconds` (its handler died) can be claimed again. A different
    /// fingerprint is [`IdempotencyClaim::FingerprintMismatch`] whatever the record's state.
    async fn claim_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        ttl_seconds: i64,
        in_progress_seconds: i64,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Stores the answer of a claimed request; repeats get it until the record expires. Does
    /// nothing when the record is gone.
    async fn complete_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
    /// Gives up a claim whose request failed, so that a retry can run. A completed record is
    /// kept (its answer stands).
    async fn release_idempotency(&self, bot_id: &str, key: &str) -> Result<(), StoreError>;
}

/// Fixed-window request counters, shared by every instance of a function.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one request of the API key with this hash in the window starting at
    /// `window_start`, atomically; returns the window's count including this request. The
    /// counter expires at `expires_at` (set by the window's first request).
    async fn count_request(
        &self,
        key_hash: &str,
        window_start: i64,
        expires_at: i64,
    ) -> Result<u64, StoreError>;
}

/// Message templates, synced from Meta. A reader sees either the whole previous sync or the
/// whole new one, never a mix; of two concurrent syncs of one bot, one whole result stays.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Makes a bot's templates those of `sync` and says what changed. Writes only what
    /// changed: an unchanged re-run writes no template, only the sync time.
    async fn replace_templates(
        &self,
        bot_id: &str,
        sync: &TemplateSync,
    ) -> Result<TemplateSyncCounts, StoreError>;
    /// A bot's templates, ordered by name then language.
    async fn templates(&self, bot_id: &str) -> Result<TemplateSet, StoreError>;
    /// One page of a bot's templates (see [`TemplateQuery`]).
    async fn template_page(
        &self,
        bot_id: &str,
        query: &TemplateQuery,
    ) -> Result<TemplatePage, StoreError>;
    /// One template of the current set by name and language code (e.g. `en_US`).
    async fn template(
        &self,
        bot_id: &str,
        key: &TemplateKey,
    ) -> Result<Option<MessageTemplate>, StoreError>;
    /// When the bot's templates were last synced, and the account's template limit.
    async fn template_sync_state(&self, bot_id: &str) -> Result<TemplateSyncState, StoreError>;
    /// Applies a template webhook's change to the stored template (found by Meta's id, else
    /// name and language); returns whether there was one. The next sync overwrites it with
    /// Meta's.
    async fn update_template(
        &self,
        bot_id: &str,
        target: &TemplateRef,
        change: &TemplateChange,
    ) -> Result<bool, StoreError>;
}

/// A customer's messages and the window they open: what a webhook's receipt writes.
#[async_trait]
pub trait ConversationStore: MessageStore + WindowStore {
    /// A customer's message received: recorded once ([`MessageStore::record_inbound`]) and, when
    /// new, its customer's window raised to its time ([`WindowStore::extend_window`]). A
    /// redelivery costs the refused claim and no other write. By default the two writes one
    /// after the other; a store that can take both at once does.
    ///
    /// When the window's write was lost (a crash between the two, or the webhook's other writes
    /// failing first: the webhook then answers 503), Meta's redelivery finds the message
    /// recorded and the window short of it, and raises it then: reads, and no write, for a
    /// redelivery whose window was raised.
    async fn record_customer_message(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError> {
        // The store takes the message; the window needs only its customer and time.
        let customer = (!message.customer.is_empty()).then(|| message.customer.clone());
        let (sent_at, message_id) = (message.timestamp, message.message_id.clone());
        let claim = self.record_inbound(bot_id, message).await?;
        let Some(customer) = customer else {
            return Ok(claim);
        };
        let raise = match claim {
            Claim::New => Some((customer, sent_at)),
            // For the first delivery's customer and time, not this copy's: a redelivery raises
            // nothing the first one did not.
            Claim::Duplicate => match self.message(bot_id, &message_id).await? {
                Some(MessageRecord {
                    customer,
                    created_at: Some(first),
                    ..
                }) if customer.stable_id().is_some() => {
                    let id = customer.stable_id().unwrap_or_default();
                    let window = self.window(bot_id, id).await?;
                    (!window.is_some_and(|w| w.covers(first))).then_some((customer, first))
                }
                _ => None,
            },
        };
        if let Some((customer, at)) = raise {
            self.extend_window(bot_id, &customer, at).await?;
        }
        Ok(claim)
    }
}

/// What the one send path reads and writes: the caller's connection, the customer's window, the
/// stored templates, the sent message's record.
pub trait SendStore: ConnectionStore + WindowStore + TemplateStore + MessageStore {}

/// Everything a full adapter provides. A function's deps keep only the ports it uses (each an
/// upcast of the one store), as its IAM policy allows only their requests.
pub trait Store:
    ConnectionStore
    + ConversationStore
    + SendStore
    + MessageStore
    + WindowStore
    + ApiKeyStore
    + IdempotencyStore
    + RateLimitStore
    + TemplateStore
{
}
