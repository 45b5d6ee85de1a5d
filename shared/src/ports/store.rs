use async_trait::async_trait;

use crate::domain::{
    Claim, Connection, ConversationWindow, CustomerIds, InboundMessage, MessageRecord, RawEvent,
    StatusEvent,
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

/// Connections: which bot owns which WhatsApp number.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn connection(&self, bot_id: &str) -> Result<Option<Connection>, StoreError>;
    /// The connection that owns a phone number id (webhook routing).
    async fn connection_by_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Connection>, StoreError>;
    /// Every connection (the hourly schedule).
    async fn connections(&self) -> Result<Vec<Connection>, StoreError>;
    /// Creates or replaces a connection. A phone number id owned by another bot is a
    /// [`StoreError::Conflict`].
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    /// Returns whether there was one to delete.
    async fn delete_connection(&self, bot_id: &str) -> Result<bool, StoreError>;
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
}

/// Messages, their status history, and webhook content kept verbatim.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores an inbound message once: a second call with the same id (a redelivery, also a
    /// concurrent one) is [`Claim::Duplicate`] and changes nothing.
    async fn record_inbound(
        &self,
        bot_id: &str,
        message: &InboundMessage,
    ) -> Result<Claim, StoreError>;
    /// Appends a status event once per (message id, status), and raises the message's current
    /// status when this one is further (failed is final). Raising is re-applied on duplicates,
    /// so a crash between the two steps heals on Meta's redelivery.
    async fn record_status(&self, bot_id: &str, event: &StatusEvent) -> Result<Claim, StoreError>;
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
}

/// Everything a full adapter provides.
pub trait Store: ConnectionStore + WindowStore + MessageStore {}
impl<T: ConnectionStore + WindowStore + MessageStore> Store for T {}
