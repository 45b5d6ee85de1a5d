//! In-memory [`Store`](crate::ports::Store) for the local stack and fast tests.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{
    Claim, Connection, ConversationWindow, CustomerIds, Direction, InboundMessage, MessageRecord,
    MessageStatus, RawEvent, StatusEvent,
};
use crate::ports::{ConnectionStore, MessageStore, StoreError, WindowStore};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    connections: HashMap<String, Connection>,
    /// phone number id → bot id
    phone_owners: HashMap<String, String>,
    /// (bot, customer id) → window
    windows: HashMap<(String, String), ConversationWindow>,
    /// (bot, customer id) → the customer's other id
    links: HashMap<(String, String), String>,
    /// (bot, message id) → message
    messages: HashMap<(String, String), StoredMessage>,
    /// (bot, content key) → event
    raw_events: HashMap<(String, String), RawEvent>,
}

#[derive(Default)]
struct StoredMessage {
    inbound: Option<InboundMessage>,
    current: Option<MessageStatus>,
    statuses: Vec<StatusEvent>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written entry behind (every write
        // is a single map operation), so a poisoned lock is still safe to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn key(bot_id: &str, id: &str) -> (String, String) {
    (bot_id.to_owned(), id.to_owned())
}

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn connection(&self, bot_id: &str) -> Result<Option<Connection>, StoreError> {
        Ok(self.lock().connections.get(bot_id).cloned())
    }

    async fn connection_by_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Connection>, StoreError> {
        let state = self.lock();
        Ok(state
            .phone_owners
            .get(phone_number_id)
            .and_then(|bot| state.connections.get(bot))
            .cloned())
    }

    async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        let mut all: Vec<_> = self.lock().connections.values().cloned().collect();
        all.sort_by(|a, b| a.bot_id.cmp(&b.bot_id));
        Ok(all)
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(owner) = state.phone_owners.get(&connection.phone_number_id)
            && owner != &connection.bot_id
        {
            return Err(StoreError::Conflict(format!(
                "phone number id {} is already connected to another bot",
                connection.phone_number_id
            )));
        }
        if let Some(previous) = state.connections.get(&connection.bot_id).cloned()
            && previous.phone_number_id != connection.phone_number_id
        {
            state.phone_owners.remove(&previous.phone_number_id);
        }
        state.phone_owners.insert(
            connection.phone_number_id.clone(),
            connection.bot_id.clone(),
        );
        state
            .connections
            .insert(connection.bot_id.clone(), connection.clone());
        Ok(())
    }

    async fn delete_connection(&self, bot_id: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.connections.remove(bot_id) {
            Some(removed) => {
                state.phone_owners.remove(&removed.phone_number_id);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[async_trait]
impl WindowStore for MemoryStore {
    async fn extend_window(
        &self,
        bot_id: &str,
        customer: &CustomerIds,
        inbound_at: i64,
    ) -> Result<(), StoreError> {
        let opened = ConversationWindow::opened_by(inbound_at);
        let mut state = self.lock();
        for id in customer.all() {
            let window = state
                .windows
                .entry(key(bot_id, id))
                .or_insert_with(|| opened.clone());
            *window = window.clone().merge(opened.clone());
        }
        if let (Some(bsuid), Some(wa_id)) = (&customer.bsuid, &customer.wa_id) {
            state.links.insert(key(bot_id, bsuid), wa_id.clone());
            state.links.insert(key(bot_id, wa_id), bsuid.clone());
        }
        Ok(())
    }

    async fn window(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ConversationWindow>, StoreError> {
        let state = self.lock();
        let own = state.windows.get(&key(bot_id, customer_id)).cloned();
        let linked = state
            .links
            .get(&key(bot_id, customer_id))
            .and_then(|other| state.windows.get(&key(bot_id, other)))
            .cloned();
        Ok(match (own, linked) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        })
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn record_inbound(
        &self,
        bot_id: &str,
        message: &InboundMessage,
    ) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        let stored = state
            .messages
            .entry(key(bot_id, &message.message_id))
            .or_default();
        if stored.inbound.is_some() {
            return Ok(Claim::Duplicate);
        }
        stored.inbound = Some(message.clone());
        Ok(Claim::New)
    }

    async fn record_status(&self, bot_id: &str, event: &StatusEvent) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        let stored = state
            .messages
            .entry(key(bot_id, &event.message_id))
            .or_default();
        let claim = if stored
            .statuses
            .iter()
            .any(|seen| seen.status == event.status)
        {
            Claim::Duplicate
        } else {
            let at = stored
                .statuses
                .partition_point(|seen| seen.timestamp <= event.timestamp);
            stored.statuses.insert(at, event.clone());
            Claim::New
        };
        if event.status.advances(stored.current.as_ref()) {
            stored.current = Some(event.status.clone());
        }
        Ok(claim)
    }

    async fn record_raw_event(&self, bot_id: &str, event: &RawEvent) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        let slot = key(bot_id, &event.key);
        if state.raw_events.contains_key(&slot) {
            return Ok(Claim::Duplicate);
        }
        state.raw_events.insert(slot, event.clone());
        Ok(Claim::New)
    }

    async fn raw_events(&self, bot_id: &str) -> Result<Vec<RawEvent>, StoreError> {
        let state = self.lock();
        let mut events: Vec<_> = state
            .raw_events
            .iter()
            .filter(|((bot, _), _)| bot == bot_id)
            .map(|(_, event)| event.clone())
            .collect();
        events.sort_by(|a, b| (a.received_at, &a.key).cmp(&(b.received_at, &b.key)));
        Ok(events)
    }

    async fn message(
        &self,
        bot_id: &str,
        message_id: &str,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let state = self.lock();
        let Some(stored) = state.messages.get(&key(bot_id, message_id)) else {
            return Ok(None);
        };
        let inbound = stored.inbound.as_ref();
        Ok(Some(MessageRecord {
            message_id: message_id.to_owned(),
            direction: inbound.map(|_| Direction::Inbound),
            customer: inbound.map(|m| m.customer.clone()).unwrap_or_default(),
            kind: inbound.map(|m| m.kind.clone()),
            status: stored.current.clone(),
            statuses: stored.statuses.clone(),
            created_at: inbound.map(|m| m.timestamp),
            content: inbound.map(|m| m.content.clone()),
        }))
    }
}
