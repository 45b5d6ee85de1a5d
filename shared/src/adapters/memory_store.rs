//! In-memory [`Store`](crate::ports::Store) for the local stack and fast tests.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;

use async_trait::async_trait;
// Std's SipHash was 7 % of a receipt's instructions outside the HMAC (BENCHMARKS.md).
use foldhash::{HashMap, HashMapExt};

use crate::domain::{
    ApiKey, Claim, Connection, ConversationWindow, CustomerIds, Direction, IdempotencyClaim,
    IdempotencyRecord, InboundMessage, MessageRecord, MessageStatus, MessageTemplate,
    OutboundRecord, RawEvent, Recorded, ResponderPause, StatusChange, StatusEvent, StoredResponse,
    TemplateChange, TemplateKey, TemplatePage, TemplateQuery, TemplateRef, TemplateSet,
    TemplateStatusChange, TemplateSync, TemplateSyncCounts, TemplateSyncState, diff_templates,
};
use crate::ports::{
    ApiKeyStore, ConnectionStore, ConversationStore, IdempotencyStore, MessageStore,
    RateLimitStore, SendStore, Store, StoreError, TemplateStore, WindowStore,
};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Each new inbound message and status, in the order recorded: the memory store's
    /// counterpart of the table's stream, which feeds the responder.
    feed: Option<tokio::sync::mpsc::UnboundedSender<Recorded>>,
}

#[derive(Default)]
struct State {
    connections: HashMap<String, Connection>,
    /// phone number id → bot id
    phone_owners: HashMap<String, String>,
    /// (bot, customer id) → the bot's pause for that customer
    pauses: HashMap<(String, String), ResponderPause>,
    /// bot → customer id → window
    windows: HashMap<String, HashMap<String, ConversationWindow>>,
    /// bot → customer id → the customer's other id
    links: HashMap<String, HashMap<String, String>>,
    /// bot → message id → message
    messages: HashMap<String, HashMap<String, StoredMessage>>,
    /// (bot, content key) → event
    raw_events: HashMap<(String, String), RawEvent>,
    /// key hash → key
    api_keys: HashMap<String, ApiKey>,
    /// (bot, idempotency key) → record
    idempotency: HashMap<(String, String), IdempotencyRecord>,
    /// (key hash, window start) → (requests, expires at)
    rate_counters: HashMap<(String, i64), (u64, i64)>,
    /// bot → its last synced set
    templates: HashMap<String, SyncedTemplates>,
}

/// A message as known so far: the head comes from the webhook (inbound) or the send route
/// (outbound), statuses from the webhook, in any order.
#[derive(Default)]
struct StoredMessage {
    head: Option<MessageHead>,
    current: Option<MessageStatus>,
    /// Webhook status events only, oldest first.
    statuses: Vec<StatusEvent>,
}

struct MessageHead {
    direction: Direction,
    customer: CustomerIds,
    kind: String,
    created_at: i64,
    content: String,
    status_callback_url: Option<String>,
}

#[derive(Default)]
struct SyncedTemplates {
    by_key: BTreeMap<TemplateKey, MessageTemplate>,
    state: TemplateSyncState,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands a newly recorded status to the feed, if there is one, with the callback URL its
    /// send named.
    fn feed_status(
        &self,
        bot_id: &str,
        claim: Claim,
        event: &StatusEvent,
        messages: &HashMap<String, StoredMessage>,
    ) {
        if let (Some(feed), Claim::New) = (&self.feed, claim) {
            let callback_url = messages
                .get(&event.message_id)
                .and_then(|m| m.head.as_ref())
                .and_then(|head| head.status_callback_url.clone());
            let _ = feed.send(Recorded::Status(StatusChange {
                bot_id: bot_id.to_owned(),
                event: event.clone(),
                callback_url,
                to_events_url: true,
            }));
        }
    }

    fn feed(&self, recorded: Recorded) {
        if let Some(feed) = &self.feed {
            // A dropped receiver (the stack stopping) is no failure of the write.
            let _ = feed.send(recorded);
        }
    }

    /// A store that also hands every new inbound message and status to the receiver, in the
    /// order recorded (redeliveries are not handed on).
    pub fn with_feed() -> (Self, tokio::sync::mpsc::UnboundedReceiver<Recorded>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        let store = Self {
            feed: Some(sender),
            ..Self::default()
        };
        (store, receiver)
    }

    /// Hands a known template's status change to the feed, if there is one.
    fn feed_template_status(&self, bot_id: &str, before: &MessageTemplate, now: &MessageTemplate) {
        if before.status != now.status {
            self.feed(Recorded::TemplateStatus(TemplateStatusChange {
                bot_id: bot_id.to_owned(),
                template_id: Some(now.id.clone()).filter(|id| !id.is_empty()),
                key: now.key(),
                status: now.status.clone(),
                previous_status: before.status.clone(),
                reason: now.status_reason.clone(),
                at: crate::clock::unix_now(),
            }));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written entry behind (no write can
        // panic between its steps), so a poisoned lock is still safe to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims an inbound message's id and keeps the message, and with `raise_window` raises its
    /// customer's window too, under the one lock.
    fn record_inbound_now(
        &self,
        bot_id: &str,
        message: InboundMessage,
        raise_window: bool,
    ) -> Claim {
        // The feed's copy (the local stack's only): the message itself moves into the store.
        let fed = self.feed.as_ref().map(|feed| (feed, message.clone()));
        let mut guard = self.lock();
        let state = &mut *guard;
        let stored = of_bot(&mut state.messages, bot_id)
            .entry(message.message_id)
            .or_default();
        if let Some(first) = &stored.head {
            // A window raised apart from its message (`record_inbound` first) is raised now to
            // the first delivery's time, as the DynamoDB store heals it; otherwise the raise
            // keeps what it had.
            if raise_window && !first.customer.is_empty() {
                let (customer, at) = (first.customer.clone(), first.created_at);
                raise(&mut state.windows, &mut state.links, bot_id, &customer, at);
            }
            return Claim::Duplicate;
        }
        let head = stored.head.insert(MessageHead {
            direction: Direction::Inbound,
            customer: message.customer,
            kind: message.kind,
            created_at: message.timestamp,
            content: message.content,
            status_callback_url: None,
        });
        if raise_window && !head.customer.is_empty() {
            raise(
                &mut state.windows,
                &mut state.links,
                bot_id,
                &head.customer,
                head.created_at,
            );
        }
        if let Some((feed, copy)) = fed {
            // Sent under the lock, so the feed's order is the order of the claims. A dropped
            // receiver (the stack stopping) is no failure of the write.
            let _ = feed.send(Recorded::Inbound(bot_id.to_owned(), copy));
        }
        Claim::New
    }
}

impl State {
    /// A bot's messages, by id.
    fn messages_of(&mut self, bot_id: &str) -> &mut HashMap<String, StoredMessage> {
        of_bot(&mut self.messages, bot_id)
    }

    /// A message's entry, made empty if new.
    fn message_entry(&mut self, bot_id: &str, message_id: &str) -> &mut StoredMessage {
        self.messages_of(bot_id)
            .entry(message_id.to_owned())
            .or_default()
    }
}

/// Raises a customer's window under each of its ids, and links the ids (the state's `windows`
/// and `links`, taken apart so that a caller may hold a message of the state meanwhile).
fn raise(
    windows: &mut HashMap<String, HashMap<String, ConversationWindow>>,
    links: &mut HashMap<String, HashMap<String, String>>,
    bot_id: &str,
    customer: &CustomerIds,
    inbound_at: i64,
) {
    let opened = ConversationWindow::opened_by(inbound_at);
    let windows = of_bot(windows, bot_id);
    for id in customer.all() {
        match windows.get_mut(id) {
            Some(window) => *window = window.clone().merge(opened.clone()),
            None => {
                windows.insert(id.to_owned(), opened.clone());
            }
        }
    }
    if let (Some(bsuid), Some(wa_id)) = (&customer.bsuid, &customer.wa_id) {
        let links = of_bot(links, bot_id);
        links.insert(bsuid.clone(), wa_id.clone());
        links.insert(wa_id.clone(), bsuid.clone());
    }
}

/// A bot's part of a map kept per bot (no copy of the bot id once it has one).
fn of_bot<'m, V>(
    map: &'m mut HashMap<String, HashMap<String, V>>,
    bot_id: &str,
) -> &'m mut HashMap<String, V> {
    if !map.contains_key(bot_id) {
        map.insert(bot_id.to_owned(), HashMap::new());
    }
    map.get_mut(bot_id).expect("inserted above")
}

/// Records one status among a bot's messages (one lookup of the message).
fn record_status(messages: &mut HashMap<String, StoredMessage>, event: StatusEvent) -> Claim {
    let stored = messages.entry(event.message_id.clone()).or_default();
    if event.status.advances(stored.current.as_ref()) {
        stored.current = Some(event.status.clone());
    }
    if stored
        .statuses
        .iter()
        .any(|seen| seen.status == event.status)
    {
        return Claim::Duplicate;
    }
    let at = stored
        .statuses
        .partition_point(|seen| seen.history_key() <= event.history_key());
    stored.statuses.insert(at, event);
    Claim::New
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

    async fn record_webhook_received(&self, bot_id: &str, at: i64) -> Result<(), StoreError> {
        if let Some(connection) = self.lock().connections.get_mut(bot_id) {
            connection.last_webhook_at = connection.last_webhook_at.max(Some(at));
        }
        Ok(())
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
        let mut guard = self.lock();
        let state = &mut *guard;
        raise(
            &mut state.windows,
            &mut state.links,
            bot_id,
            customer,
            inbound_at,
        );
        Ok(())
    }

    async fn window(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ConversationWindow>, StoreError> {
        let state = self.lock();
        let windows = state.windows.get(bot_id);
        let own = windows.and_then(|w| w.get(customer_id)).cloned();
        let linked = state
            .links
            .get(bot_id)
            .and_then(|links| links.get(customer_id))
            .and_then(|other| windows?.get(other))
            .cloned();
        Ok(match (own, linked) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        })
    }

    async fn set_responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
        pause: Option<ResponderPause>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        // One pause per customer: a pause under the customer's other id was the earlier decision.
        if let Some(other) = linked_id(&state, bot_id, customer_id) {
            state.pauses.remove(&key(bot_id, &other));
        }
        let slot = key(bot_id, customer_id);
        match pause {
            Some(pause) => state.pauses.insert(slot, pause),
            None => state.pauses.remove(&slot),
        };
        Ok(())
    }

    async fn responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ResponderPause>, StoreError> {
        let state = self.lock();
        let own = state.pauses.get(&key(bot_id, customer_id)).copied();
        let linked = linked_id(&state, bot_id, customer_id)
            .and_then(|other| state.pauses.get(&key(bot_id, &other)).copied());
        Ok(match (own, linked) {
            (Some(a), Some(b)) => Some(if b.paused_at > a.paused_at { b } else { a }),
            (a, b) => a.or(b),
        })
    }
}

/// The customer's other id (a BSUID's `wa_id`, or the reverse), once a message named both.
fn linked_id(state: &State, bot_id: &str, customer_id: &str) -> Option<String> {
    state.links.get(bot_id)?.get(customer_id).cloned()
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn record_inbound(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError> {
        Ok(self.record_inbound_now(bot_id, message, false))
    }

    async fn record_outbound(
        &self,
        bot_id: &str,
        message: &OutboundRecord,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let stored = state.message_entry(bot_id, &message.message_id);
        if stored.head.is_some() {
            return Ok(());
        }
        stored.head = Some(MessageHead {
            direction: Direction::Outbound,
            customer: message.customer.clone(),
            kind: message.kind.clone(),
            created_at: message.created_at,
            content: message.content.clone(),
            status_callback_url: message.status_callback_url.clone(),
        });
        // A status webhook that came first is further than `accepted`: keep it.
        if MessageStatus::Accepted.advances(stored.current.as_ref()) {
            stored.current = Some(MessageStatus::Accepted);
        }
        // Statuses that came first reached the eventsUrl then; the send's own URL is owed them.
        if let Some(url) = &message.status_callback_url {
            for event in &stored.statuses {
                self.feed(Recorded::Status(StatusChange {
                    bot_id: bot_id.to_owned(),
                    event: event.clone(),
                    callback_url: Some(url.clone()),
                    to_events_url: false,
                }));
            }
        }
        Ok(())
    }

    async fn record_status(&self, bot_id: &str, event: &StatusEvent) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        let messages = state.messages_of(bot_id);
        let claim = record_status(messages, event.clone());
        self.feed_status(bot_id, claim, event, messages);
        Ok(claim)
    }

    async fn record_statuses(
        &self,
        bot_id: &str,
        events: Vec<StatusEvent>,
    ) -> Result<Vec<Claim>, StoreError> {
        let mut state = self.lock();
        let messages = state.messages_of(bot_id);
        messages.reserve(events.len());
        Ok(events
            .into_iter()
            .map(|event| {
                // The feed's copy (the local stack's only): the event moves into the store.
                let copy = self.feed.is_some().then(|| event.clone());
                let claim = record_status(messages, event);
                if let Some(copy) = copy {
                    self.feed_status(bot_id, claim, &copy, messages);
                }
                claim
            })
            .collect())
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
        let Some(stored) = state.messages.get(bot_id).and_then(|m| m.get(message_id)) else {
            return Ok(None);
        };
        let head = stored.head.as_ref();
        Ok(Some(MessageRecord {
            message_id: message_id.to_owned(),
            direction: head.map(|h| h.direction),
            customer: head.map(|h| h.customer.clone()).unwrap_or_default(),
            kind: head.map(|h| h.kind.clone()),
            status: stored.current.clone(),
            statuses: stored.statuses.clone(),
            created_at: head.map(|h| h.created_at),
            content: head.map(|h| h.content.clone()),
        }))
    }

    async fn inbound_media(
        &self,
        bot_id: &str,
        media_id: &str,
    ) -> Result<Option<String>, StoreError> {
        // A scan of the bot's messages: the memory store serves the local stack and tests.
        let state = self.lock();
        let Some(messages) = state.messages.get(bot_id) else {
            return Ok(None);
        };
        Ok(messages.iter().find_map(|(message_id, stored)| {
            let head = stored.head.as_ref()?;
            (head.direction == Direction::Inbound
                && crate::domain::inbound_media_id(&head.kind, &head.content).as_deref()
                    == Some(media_id))
            .then(|| message_id.clone())
        }))
    }
}

/// A customer's message and its window in one step, under one lock.
#[async_trait]
impl ConversationStore for MemoryStore {
    async fn record_customer_message(
        &self,
        bot_id: &str,
        message: InboundMessage,
    ) -> Result<Claim, StoreError> {
        Ok(self.record_inbound_now(bot_id, message, true))
    }
}

impl SendStore for MemoryStore {}

impl Store for MemoryStore {}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn put_api_key(&self, key_hash: &str, key: &ApiKey) -> Result<(), StoreError> {
        self.lock()
            .api_keys
            .insert(key_hash.to_owned(), key.clone());
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(self.lock().api_keys.get(key_hash).cloned())
    }

    async fn delete_api_keys(&self, bot_id: &str) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let before = state.api_keys.len();
        state.api_keys.retain(|_, key| key.bot_id != bot_id);
        Ok(before - state.api_keys.len())
    }

    async fn set_api_keys_rate_limit(
        &self,
        bot_id: &str,
        rate_limit_per_second: u32,
    ) -> Result<usize, StoreError> {
        let mut state = self.lock();
        let keys = state
            .api_keys
            .values_mut()
            .filter(|key| key.bot_id == bot_id);
        Ok(keys
            .map(|key| key.rate_limit_per_second = rate_limit_per_second)
            .count())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        ttl_seconds: i64,
        in_progress_seconds: i64,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut state = self.lock();
        // What TTL would have deleted by now (keeps the local stack's memory bounded).
        state.idempotency.retain(|_, r| r.expires_at >= now);
        let slot = self::key(bot_id, key);
        if let Some(record) = state.idempotency.get(&slot)
            && record.holds_key_at(now)
        {
            return Ok(record.answer(fingerprint));
        }
        state.idempotency.insert(
            slot,
            IdempotencyRecord {
                fingerprint: fingerprint.to_owned(),
                expires_at: now + ttl_seconds,
                in_progress_until: now + in_progress_seconds,
                response: None,
            },
        );
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete_idempotency(
        &self,
        bot_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        if let Some(record) = self.lock().idempotency.get_mut(&self::key(bot_id, key)) {
            record.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release_idempotency(&self, bot_id: &str, key: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        let slot = self::key(bot_id, key);
        if state
            .idempotency
            .get(&slot)
            .is_some_and(|r| r.response.is_none())
        {
            state.idempotency.remove(&slot);
        }
        Ok(())
    }
}

#[async_trait]
impl RateLimitStore for MemoryStore {
    async fn count_request(
        &self,
        key_hash: &str,
        window_start: i64,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let slot = (key_hash.to_owned(), window_start);
        if !state.rate_counters.contains_key(&slot) {
            // A new window: drop the counters whose time has passed.
            state
                .rate_counters
                .retain(|_, (_, expires)| *expires > window_start);
        }
        let (requests, _) = state.rate_counters.entry(slot).or_insert((0, expires_at));
        *requests += 1;
        Ok(*requests)
    }
}

#[async_trait]
impl TemplateStore for MemoryStore {
    async fn replace_templates(
        &self,
        bot_id: &str,
        sync: &TemplateSync,
    ) -> Result<TemplateSyncCounts, StoreError> {
        let by_key: BTreeMap<_, _> = sync
            .templates
            .iter()
            .map(|t| (t.key(), t.clone()))
            .collect();
        let mut state = self.lock();
        let old: Vec<_> = state
            .templates
            .get(bot_id)
            .map(|set| set.by_key.values().cloned().collect())
            .unwrap_or_default();
        let new: Vec<_> = by_key.values().cloned().collect();
        let (_, counts) = diff_templates(&old, &new);
        for template in &old {
            if let Some(now) = by_key.get(&template.key()) {
                self.feed_template_status(bot_id, template, now);
            }
        }
        state.templates.insert(
            bot_id.to_owned(),
            SyncedTemplates {
                by_key,
                state: TemplateSyncState {
                    synced_at: Some(sync.synced_at),
                    template_limit: sync.template_limit,
                },
            },
        );
        Ok(counts)
    }

    async fn templates(&self, bot_id: &str) -> Result<TemplateSet, StoreError> {
        Ok(match self.lock().templates.get(bot_id) {
            Some(set) => TemplateSet {
                templates: set.by_key.values().cloned().collect(),
                state: set.state,
            },
            None => TemplateSet::default(),
        })
    }

    async fn template_page(
        &self,
        bot_id: &str,
        query: &TemplateQuery,
    ) -> Result<TemplatePage, StoreError> {
        let state = self.lock();
        let Some(set) = state.templates.get(bot_id) else {
            return Ok(TemplatePage::default());
        };
        let start = match &query.after {
            Some(after) => Bound::Excluded(after.clone()),
            None => Bound::Unbounded,
        };
        let mut matching = set
            .by_key
            .range((start, Bound::Unbounded))
            .map(|(_, template)| template)
            .filter(|template| query.matches(template));
        let templates: Vec<MessageTemplate> = matching
            .by_ref()
            .take(query.limit.max(1))
            .cloned()
            .collect();
        let next = match matching.next() {
            Some(_) => templates.last().map(MessageTemplate::key),
            None => None,
        };
        Ok(TemplatePage {
            templates,
            next,
            state: set.state,
        })
    }

    async fn template(
        &self,
        bot_id: &str,
        key: &TemplateKey,
    ) -> Result<Option<MessageTemplate>, StoreError> {
        Ok(self
            .lock()
            .templates
            .get(bot_id)
            .and_then(|set| set.by_key.get(key).cloned()))
    }

    async fn template_sync_state(&self, bot_id: &str) -> Result<TemplateSyncState, StoreError> {
        Ok(self
            .lock()
            .templates
            .get(bot_id)
            .map(|set| set.state)
            .unwrap_or_default())
    }

    async fn update_template(
        &self,
        bot_id: &str,
        target: &TemplateRef,
        change: &TemplateChange,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let Some(set) = state.templates.get_mut(bot_id) else {
            return Ok(false);
        };
        let by_id = target.id.as_deref().and_then(|id| {
            set.by_key
                .values()
                .find(|template| template.id == id)
                .map(MessageTemplate::key)
        });
        let key = by_id.unwrap_or_else(|| target.key.clone());
        let Some(template) = set.by_key.get_mut(&key) else {
            return Ok(false);
        };
        let before = self.feed.is_some().then(|| template.clone());
        template.apply(change);
        if let Some(before) = before {
            self.feed_template_status(bot_id, &before, template);
        }
        Ok(true)
    }
}
