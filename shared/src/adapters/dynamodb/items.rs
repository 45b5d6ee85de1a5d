//! Mapping between domain types and DynamoDB attribute maps. Nothing outside this module (and
//! the store code beside it) sees an SDK type; an item that does not read back as its domain
//! type is [`StoreError::Corrupt`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::{self, Key};
use crate::domain::{
    ApiKey, Connection, ConversationWindow, CustomerIds, Direction, IdempotencyRecord,
    InboundMessage, MessageRecord, MessageStatus, MessageTemplate, OutboundRecord, RawEvent,
    RawEventKind, StatusEvent, StoredResponse, TemplateKey, TemplateSyncState,
};
use crate::ports::StoreError;

pub(super) type Attrs = HashMap<String, AttributeValue>;

/// What an item is, kept on every item so operators and stream consumers need not parse keys.
pub(super) const ENTITY: &str = "entity";
pub(super) const BOT_ID: &str = "botId";
pub(super) const MESSAGE_ID: &str = "messageId";
pub(super) const PHONE_NUMBER_ID: &str = "phoneNumberId";
pub(super) const WINDOW_EXPIRES_AT: &str = "windowExpiresAt";
pub(super) const LAST_INBOUND_AT: &str = "lastInboundAt";
pub(super) const CUSTOMER_ID: &str = "customerId";
pub(super) const OTHER_ID: &str = "otherId";
pub(super) const DIRECTION: &str = "direction";
/// `{botId}#{customer's stable id}` on inbound message items: the responder queue's message
/// group (see `stream.rs`).
pub(super) const CONVERSATION: &str = "conversation";
pub(super) const CURRENT_STATUS: &str = "currentStatus";
pub(super) const KEY_HASH: &str = "keyHash";
/// The state of an idempotency record, and a template's review status.
pub(super) const STATUS: &str = "status";
pub(super) const IN_PROGRESS_UNTIL: &str = "inProgressUntil";
pub(super) const REQUESTS: &str = "requests";
pub(super) const VERSION: &str = "version";
pub(super) const NEXT_VERSION: &str = "nextVersion";
pub(super) const SYNCED_AT: &str = "syncedAt";

/// `status` of an idempotency record whose request is being handled.
pub(super) const IN_PROGRESS: &str = "INPROGRESS";
/// `status` of an idempotency record that holds its answer.
pub(super) const COMPLETED: &str = "COMPLETED";

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An item under construction: its key plus attributes; optional values are left out rather
/// than stored as NULL.
struct ItemBuilder(Attrs);

impl ItemBuilder {
    fn new(key: Key, entity: &str) -> Self {
        let mut attrs = key.into_attrs();
        attrs.insert(ENTITY.to_owned(), s(entity));
        Self(attrs)
    }

    fn s(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_owned(), s(value));
        self
    }

    fn opt_s(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(value) => self.s(name, value),
            None => self,
        }
    }

    fn n(mut self, name: &str, value: i64) -> Self {
        self.0.insert(name.to_owned(), n(value));
        self
    }

    fn build(self) -> Attrs {
        self.0
    }
}

/// Typed reads from one item; errors name the item's key and the attribute.
pub(super) struct ItemReader<'a> {
    item: &'a Attrs,
}

impl<'a> ItemReader<'a> {
    pub fn new(item: &'a Attrs) -> Self {
        Self { item }
    }

    pub fn corrupt(&self, name: &str, problem: &str) -> StoreError {
        let key = |k| match self.item.get(k) {
            Some(AttributeValue::S(v)) => v.as_str(),
            _ => "?",
        };
        StoreError::Corrupt(format!(
            "item {}/{}: attribute {name} {problem}",
            key(keys::PK),
            key(keys::SK)
        ))
    }

    pub fn opt_s(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(true)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value)),
            Some(_) => Err(self.corrupt(name, "is not a string")),
        }
    }

    pub fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| self.corrupt(name, "is missing"))
    }

    pub fn opt_n(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(true)) => Ok(None),
            Some(AttributeValue::N(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(name, "is not an integer")),
            Some(_) => Err(self.corrupt(name, "is not a number")),
        }
    }

    pub fn n(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_n(name)?
            .ok_or_else(|| self.corrupt(name, "is missing"))
    }

    /// A non-negative number that fits `T`.
    pub fn opt_unsigned<T: TryFrom<i64>>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.opt_n(name)?
            .map(|value| T::try_from(value).map_err(|_| self.corrupt(name, "is out of range")))
            .transpose()
    }

    pub fn unsigned<T: TryFrom<i64>>(&self, name: &str) -> Result<T, StoreError> {
        self.opt_unsigned(name)?
            .ok_or_else(|| self.corrupt(name, "is missing"))
    }
}

// --- connections -------------------------------------------------------------------------------

/// Written by the webhook function alone (see `record_webhook_received`).
pub(super) const LAST_WEBHOOK_AT: &str = "lastWebhookAt";

impl From<&Connection> for Attrs {
    fn from(c: &Connection) -> Self {
        // The responder is kept as its JSON text: its shape belongs to the domain, not the table.
        let responder = c
            .responder
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("a responder serialises to JSON"));
        let fallback_reply = c.fallback_reply.as_ref().map(serde_json::Value::to_string);
        let mut builder = ItemBuilder::new(Key::connection(&c.bot_id), "connection")
            .s(keys::GSI1_PK, keys::CONNECTIONS_GSI1_PK)
            .s(keys::GSI1_SK, keys::bot_partition(&c.bot_id))
            .s(BOT_ID, &c.bot_id)
            .s("businessAccountId", &c.business_account_id)
            .s(PHONE_NUMBER_ID, &c.phone_number_id)
            .n("createdAt", c.created_at)
            .n("updatedAt", c.updated_at)
            .opt_s("displayPhoneNumber", c.display_phone_number.as_deref())
            .opt_s("verifiedName", c.verified_name.as_deref())
            .opt_s("responder", responder)
            .opt_s("eventsUrl", c.events_url.as_deref())
            .opt_s("fallbackReply", fallback_reply);
        if let Some(limit) = c.rate_limit_per_second {
            builder = builder.n("rateLimitPerSecond", i64::from(limit));
        }
        if let Some(on) = c.typing_indicator {
            builder = builder.n("typingIndicator", i64::from(on));
        }
        if let Some(at) = c.last_webhook_at {
            builder = builder.n(LAST_WEBHOOK_AT, at);
        }
        builder.build()
    }
}

impl TryFrom<&Attrs> for Connection {
    type Error = StoreError;

    /// Items written before the connections API have only the ids and `createdAt`.
    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        let created_at = r.n("createdAt")?;
        let responder = r
            .opt_s("responder")?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| r.corrupt("responder", "is not a responder"))?;
        Ok(Self {
            bot_id: r.s(BOT_ID)?.to_owned(),
            business_account_id: r.s("businessAccountId")?.to_owned(),
            phone_number_id: r.s(PHONE_NUMBER_ID)?.to_owned(),
            created_at,
            updated_at: r.opt_n("updatedAt")?.unwrap_or(created_at),
            display_phone_number: r.opt_s("displayPhoneNumber")?.map(str::to_owned),
            verified_name: r.opt_s("verifiedName")?.map(str::to_owned),
            rate_limit_per_second: r.opt_unsigned("rateLimitPerSecond")?,
            responder,
            events_url: r.opt_s("eventsUrl")?.map(str::to_owned),
            fallback_reply: r
                .opt_s("fallbackReply")?
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| r.corrupt("fallbackReply", "is not JSON"))?,
            last_webhook_at: r.opt_n(LAST_WEBHOOK_AT)?,
            typing_indicator: r.opt_n("typingIndicator")?.map(|on| on != 0),
        })
    }
}

/// The item that makes a phone number id belong to one bot.
pub(super) fn phone_owner_item(connection: &Connection) -> Attrs {
    ItemBuilder::new(Key::phone_owner(&connection.phone_number_id), "phoneOwner")
        .s(PHONE_NUMBER_ID, &connection.phone_number_id)
        .s(BOT_ID, &connection.bot_id)
        .build()
}

// --- windows -----------------------------------------------------------------------------------

impl TryFrom<&Attrs> for ConversationWindow {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        Ok(Self {
            expires_at: r.n(WINDOW_EXPIRES_AT)?,
            last_inbound_at: r.n(LAST_INBOUND_AT)?,
        })
    }
}

/// Lets `customer_id` find the window kept under `other_id`.
pub(super) fn link_item(bot_id: &str, customer_id: &str, other_id: &str) -> Attrs {
    ItemBuilder::new(Key::link(bot_id, customer_id), "customerLink")
        .s(BOT_ID, bot_id)
        .s(CUSTOMER_ID, customer_id)
        .s(OTHER_ID, other_id)
        .build()
}

// --- messages ----------------------------------------------------------------------------------

/// An inbound message under its bot: the head item's attributes, the message's strings moved
/// into them.
pub(super) struct InboundItem<'a> {
    pub bot_id: &'a str,
    pub message: InboundMessage,
}

impl From<InboundItem<'_>> for Attrs {
    fn from(InboundItem { bot_id, message: m }: InboundItem<'_>) -> Self {
        let conversation = super::stream::conversation_key(bot_id, &m.customer);
        let media_id = crate::domain::inbound_media_id(&m.kind, &m.content);
        ItemBuilder::new(Key::message(bot_id, &m.message_id), "message")
            .opt_s(
                keys::GSI1_PK,
                media_id
                    .as_deref()
                    .map(|id| keys::media_gsi1_pk(bot_id, id)),
            )
            .opt_s(
                keys::GSI1_SK,
                media_id.is_some().then(|| m.message_id.clone()),
            )
            .s(BOT_ID, bot_id)
            .opt_s(CONVERSATION, conversation)
            .s(MESSAGE_ID, m.message_id)
            .s(DIRECTION, direction_name(Direction::Inbound))
            .opt_s("customerWaId", m.customer.wa_id)
            .opt_s("customerBsuid", m.customer.bsuid)
            .s(PHONE_NUMBER_ID, m.phone_number_id)
            .s("kind", m.kind)
            .n("createdAt", m.timestamp)
            .opt_s("profileName", m.profile_name)
            .s("content", m.content)
            .build()
    }
}

/// An inbound message head's customer and time (`None` for another kind of head).
pub(super) fn inbound_customer_and_time(item: &Attrs) -> Option<(CustomerIds, i64)> {
    let r = ItemReader::new(item);
    if r.opt_s(DIRECTION).ok().flatten() != Some(direction_name(Direction::Inbound)) {
        return None;
    }
    let customer = CustomerIds::new(
        r.opt_s("customerWaId").ok().flatten(),
        r.opt_s("customerBsuid").ok().flatten(),
    );
    let at = r.opt_n("createdAt").ok().flatten()?;
    (!customer.is_empty()).then_some((customer, at))
}

/// An outbound message under its bot: the head item's attributes, except its status (which a
/// webhook may have set first).
pub(super) struct OutboundItem<'a> {
    pub bot_id: &'a str,
    pub message: &'a OutboundRecord,
}

impl From<OutboundItem<'_>> for Attrs {
    fn from(OutboundItem { bot_id, message: m }: OutboundItem<'_>) -> Self {
        ItemBuilder::new(Key::message(bot_id, &m.message_id), "message")
            .s(BOT_ID, bot_id)
            .s(MESSAGE_ID, &m.message_id)
            .s(DIRECTION, direction_name(Direction::Outbound))
            .opt_s("customerWaId", m.customer.wa_id.as_deref())
            .opt_s("customerBsuid", m.customer.bsuid.as_deref())
            .s(PHONE_NUMBER_ID, &m.phone_number_id)
            .s("kind", &m.kind)
            .n("createdAt", m.created_at)
            .s("content", &m.content)
            .opt_s(STATUS_CALLBACK_URL, m.status_callback_url.as_deref())
            .build()
    }
}

/// The send's own URL for the message's status changes; the stream hands it to the responder.
pub(super) const STATUS_CALLBACK_URL: &str = "statusCallbackUrl";

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

/// The message head's attribute that holds one status event (`STATUS#sent`, …): its presence is
/// the (message id, status) dedupe. The earlier layout kept the same event as an item of the
/// message's partition under this sort key; both are read.
pub(super) fn status_attribute(status: &MessageStatus) -> String {
    format!("{}{}", keys::STATUS_SK_PREFIX, status.as_str())
}

/// A status event as the map its head attribute holds (the fields an item of the earlier layout
/// held, so one reader serves both).
impl From<&StatusEvent> for AttributeValue {
    fn from(e: &StatusEvent) -> Self {
        let mut fields = ItemBuilder(Attrs::new())
            .s(MESSAGE_ID, &e.message_id)
            .s("status", e.status.as_str())
            .n("timestamp", e.timestamp)
            .opt_s("recipientWaId", e.recipient.wa_id.as_deref())
            .opt_s("recipientBsuid", e.recipient.bsuid.as_deref())
            .opt_s("errors", e.errors.as_deref())
            .opt_s("conversation", e.conversation.as_deref())
            .opt_s("pricing", e.pricing.as_deref())
            .opt_s(
                "bizOpaqueCallbackData",
                e.biz_opaque_callback_data.as_deref(),
            )
            .build();
        fields.remove(ENTITY);
        AttributeValue::M(fields)
    }
}

/// Head attributes holding a message's `conversation` and `pricing` once: Meta repeats the same
/// ones with each status, and the head stays under 1 KB (one write unit a status) without the
/// copies. A status entry that carried one says so with a flag.
pub(super) const SHARED_CONVERSATION: &str = "sharedConversation";
pub(super) const SHARED_PRICING: &str = "sharedPricing";
const CONVERSATION_SHARED: &str = "conversationShared";
const PRICING_SHARED: &str = "pricingShared";

/// A status entry whose `conversation` and `pricing` are the head's shared ones, and whose
/// message id is the head's own.
pub(super) fn status_entry_sharing(event: &StatusEvent) -> AttributeValue {
    let AttributeValue::M(mut fields) = AttributeValue::from(event) else {
        unreachable!("a status entry is a map")
    };
    fields.remove(MESSAGE_ID);
    for (inline, flag) in [
        ("conversation", CONVERSATION_SHARED),
        ("pricing", PRICING_SHARED),
    ] {
        if fields.remove(inline).is_some() {
            fields.insert(flag.to_owned(), AttributeValue::Bool(true));
        }
    }
    AttributeValue::M(fields)
}

/// A status entry of a message head, with the head's shared parts it points to filled in.
fn status_entry(fields: &Attrs, head: &ItemReader<'_>) -> Result<StatusEvent, StoreError> {
    let mut event = if fields.contains_key(MESSAGE_ID) {
        StatusEvent::try_from(fields)?
    } else {
        let mut whole = fields.clone();
        whole.insert(MESSAGE_ID.to_owned(), s(head.s(MESSAGE_ID)?));
        StatusEvent::try_from(&whole)?
    };
    let flagged = |flag: &str| matches!(fields.get(flag), Some(AttributeValue::Bool(true)));
    if flagged(CONVERSATION_SHARED) {
        event.conversation = head.opt_s(SHARED_CONVERSATION)?.map(str::to_owned);
    }
    if flagged(PRICING_SHARED) {
        event.pricing = head.opt_s(SHARED_PRICING)?.map(str::to_owned);
    }
    Ok(event)
}

/// The status events a message head holds, by attribute name.
pub(super) fn head_statuses(head: &Attrs) -> Result<BTreeMap<String, StatusEvent>, StoreError> {
    let r = ItemReader::new(head);
    let mut statuses = BTreeMap::new();
    for (name, value) in head {
        if name.starts_with(keys::STATUS_SK_PREFIX)
            && let AttributeValue::M(fields) = value
        {
            statuses.insert(name.clone(), status_entry(fields, &r)?);
        }
    }
    Ok(statuses)
}

impl TryFrom<&Attrs> for StatusEvent {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        let owned = |v: Option<&str>| v.map(str::to_owned);
        Ok(Self {
            message_id: r.s(MESSAGE_ID)?.to_owned(),
            status: MessageStatus::parse(r.s("status")?),
            timestamp: r.n("timestamp")?,
            recipient: CustomerIds {
                wa_id: owned(r.opt_s("recipientWaId")?),
                bsuid: owned(r.opt_s("recipientBsuid")?),
            },
            errors: owned(r.opt_s("errors")?),
            conversation: owned(r.opt_s("conversation")?),
            pricing: owned(r.opt_s("pricing")?),
            biz_opaque_callback_data: owned(r.opt_s("bizOpaqueCallbackData")?),
        })
    }
}

/// Builds a message from every item of its partition (head and status events, any order).
/// `None` when the partition is empty.
pub(super) fn message_record(
    message_id: &str,
    items: &[Attrs],
) -> Result<Option<MessageRecord>, StoreError> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut record = MessageRecord {
        message_id: message_id.to_owned(),
        direction: None,
        customer: CustomerIds::default(),
        kind: None,
        status: None,
        statuses: Vec::new(),
        created_at: None,
        content: None,
    };
    let mut statuses: BTreeMap<String, StatusEvent> = BTreeMap::new();
    for item in items {
        let r = ItemReader::new(item);
        let sk = r.s(keys::SK)?;
        if sk == keys::MESSAGE_SK {
            let owned = |v: Option<&str>| v.map(str::to_owned);
            record.direction = match r.opt_s(DIRECTION)? {
                None => None,
                Some("inbound") => Some(Direction::Inbound),
                Some("outbound") => Some(Direction::Outbound),
                Some(_) => return Err(r.corrupt(DIRECTION, "is not inbound or outbound")),
            };
            record.customer = CustomerIds {
                wa_id: owned(r.opt_s("customerWaId")?),
                bsuid: owned(r.opt_s("customerBsuid")?),
            };
            record.kind = owned(r.opt_s("kind")?);
            record.status = r.opt_s(CURRENT_STATUS)?.map(MessageStatus::parse);
            record.created_at = r.opt_n("createdAt")?;
            record.content = owned(r.opt_s("content")?);
            statuses.extend(head_statuses(item)?);
        } else if sk.starts_with(keys::STATUS_SK_PREFIX) {
            // An event item of the earlier layout.
            statuses.insert(sk.to_owned(), StatusEvent::try_from(item)?);
        }
    }
    // Furthest wins, failed is final; `accepted` (or an earlier layout's raise) is the floor.
    for event in statuses.values() {
        if event.status.advances(record.status.as_ref()) {
            record.status = Some(event.status.clone());
        }
    }
    record.statuses = statuses.into_values().collect();
    record
        .statuses
        .sort_by(|a, b| a.history_key().cmp(&b.history_key()));
    Ok(Some(record))
}

// --- raw events --------------------------------------------------------------------------------

/// Most body bytes one raw event item holds: room is left under DynamoDB's 400 KB item cap for
/// the keys and other attributes. A body up to this size stays on its head item; a bigger one
/// (Meta sends up to 3 MiB) is split into parts of at most this size.
const RAW_PART_BYTES: usize = 300 * 1024;
const RAW_KEY: &str = "key";
const BODY: &str = "body";
/// On a head whose body is in parts: how many, and their total length in bytes.
const BODY_PARTS: &str = "bodyParts";
const BODY_BYTES: &str = "bodyBytes";
/// On a part: its index, from 0.
const PART: &str = "part";

/// `body` cut on char boundaries into pieces of at most `max_bytes` (at least 4, so any
/// character fits); an empty body is one empty piece.
fn split_on_char_boundaries(body: &str, max_bytes: usize) -> Vec<&str> {
    assert!(max_bytes >= 4, "a piece must hold any UTF-8 character");
    let mut pieces = Vec::new();
    let mut rest = body;
    while rest.len() > max_bytes {
        let mut end = max_bytes;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

pub(super) struct RawItem<'a> {
    pub bot_id: &'a str,
    pub event: &'a RawEvent,
}

/// The items that hold one raw event: its head, which decides New / Duplicate, and the parts of
/// a body too big for the head (none for a body that fits).
pub(super) struct RawItems {
    pub head: Attrs,
    pub parts: Vec<Attrs>,
}

impl From<RawItem<'_>> for RawItems {
    fn from(RawItem { bot_id, event: e }: RawItem<'_>) -> Self {
        let head = ItemBuilder::new(Key::raw_event(bot_id, &e.key), "rawEvent")
            .s(BOT_ID, bot_id)
            .s("kind", e.kind.as_str())
            .s(RAW_KEY, &e.key)
            .opt_s(PHONE_NUMBER_ID, e.phone_number_id.as_deref())
            .n("receivedAt", e.received_at);
        if e.body.len() <= RAW_PART_BYTES {
            return Self {
                head: head.s(BODY, &e.body).build(),
                parts: Vec::new(),
            };
        }
        let parts: Vec<Attrs> = split_on_char_boundaries(&e.body, RAW_PART_BYTES)
            .into_iter()
            .enumerate()
            .map(|(index, piece)| {
                ItemBuilder::new(Key::raw_event_part(bot_id, &e.key, index), "rawEventPart")
                    .s(BOT_ID, bot_id)
                    .s(RAW_KEY, &e.key)
                    .n(PART, count(index))
                    .s(BODY, piece)
                    .build()
            })
            .collect();
        Self {
            head: head
                .n(BODY_PARTS, count(parts.len()))
                .n(BODY_BYTES, count(e.body.len()))
                .build(),
            parts,
        }
    }
}

/// A length or index as a DynamoDB number (a `usize` of a string always fits).
fn count(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The raw events among every item of a bot's raw partition (any order), each with its whole
/// body. Parts without a head are not an event yet: their write stopped before the head, and
/// Meta's redelivery writes them again with it.
pub(super) fn raw_events(items: &[Attrs]) -> Result<Vec<RawEvent>, StoreError> {
    let mut heads = Vec::new();
    let mut parts: HashMap<&str, HashMap<usize, &str>> = HashMap::new();
    for item in items {
        let r = ItemReader::new(item);
        let sk = r.s(keys::SK)?;
        if sk.starts_with(keys::RAW_PART_SK_PREFIX) {
            parts
                .entry(r.s(RAW_KEY)?)
                .or_default()
                .insert(r.unsigned(PART)?, r.s(BODY)?);
        } else if sk.starts_with(keys::RAW_SK_PREFIX) {
            heads.push(r);
        }
    }
    heads.iter().map(|head| head.raw_event(&parts)).collect()
}

impl ItemReader<'_> {
    fn raw_event(
        &self,
        parts: &HashMap<&str, HashMap<usize, &str>>,
    ) -> Result<RawEvent, StoreError> {
        let kind = RawEventKind::parse(self.s("kind")?)
            .ok_or_else(|| self.corrupt("kind", "is not a known raw event kind"))?;
        let key = self.s(RAW_KEY)?;
        let body = match self.opt_unsigned::<usize>(BODY_PARTS)? {
            None => self.s(BODY)?.to_owned(),
            Some(count) => self.joined_body(count, parts.get(key))?,
        };
        Ok(RawEvent {
            kind,
            key: key.to_owned(),
            phone_number_id: self.opt_s(PHONE_NUMBER_ID)?.map(str::to_owned),
            received_at: self.n("receivedAt")?,
            body,
        })
    }

    /// Parts `0..count` in order. Parts past `count` are ignored: only an earlier attempt that
    /// split the same body into more parts (another part size) leaves them, and the attempt
    /// that wrote this head rewrote `0..count` first.
    fn joined_body(
        &self,
        count: usize,
        parts: Option<&HashMap<usize, &str>>,
    ) -> Result<String, StoreError> {
        if count == 0 {
            return Err(self.corrupt(BODY_PARTS, "is 0"));
        }
        let pieces = (0..count)
            .map(|index| {
                parts.and_then(|p| p.get(&index)).copied().ok_or_else(|| {
                    self.corrupt(
                        BODY_PARTS,
                        &format!("is {count} but part {index} is missing"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = pieces.concat();
        let bytes: usize = self.unsigned(BODY_BYTES)?;
        if body.len() != bytes {
            return Err(self.corrupt(
                BODY_BYTES,
                &format!("is {bytes} but the parts hold {} bytes", body.len()),
            ));
        }
        Ok(body)
    }
}

// --- API keys ----------------------------------------------------------------------------------

pub(super) struct ApiKeyItem<'a> {
    pub key_hash: &'a str,
    pub key: &'a ApiKey,
}

impl From<ApiKeyItem<'_>> for Attrs {
    fn from(ApiKeyItem { key_hash, key }: ApiKeyItem<'_>) -> Self {
        ItemBuilder::new(Key::api_key(key_hash), "apiKey")
            .s(KEY_HASH, key_hash)
            .s(BOT_ID, &key.bot_id)
            .n("rateLimitPerSecond", i64::from(key.rate_limit_per_second))
            .n("createdAt", key.created_at)
            .build()
    }
}

impl TryFrom<&Attrs> for ApiKey {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        Ok(Self {
            bot_id: r.s(BOT_ID)?.to_owned(),
            rate_limit_per_second: r.unsigned("rateLimitPerSecond")?,
            created_at: r.n("createdAt")?,
        })
    }
}

/// Lists a key under its bot (see [`Key::bot_api_key`]).
pub(super) fn bot_api_key_item(bot_id: &str, key_hash: &str) -> Attrs {
    ItemBuilder::new(Key::bot_api_key(bot_id, key_hash), "botApiKey")
        .s(BOT_ID, bot_id)
        .s(KEY_HASH, key_hash)
        .build()
}

// --- idempotency -------------------------------------------------------------------------------

pub(super) struct IdempotencyItem<'a> {
    pub bot_id: &'a str,
    pub key: &'a str,
    pub record: &'a IdempotencyRecord,
}

impl From<IdempotencyItem<'_>> for Attrs {
    fn from(
        IdempotencyItem {
            bot_id,
            key,
            record,
        }: IdempotencyItem<'_>,
    ) -> Self {
        let mut item = ItemBuilder::new(Key::idempotency(bot_id, key), "idempotency")
            .s(BOT_ID, bot_id)
            .s("idempotencyKey", key)
            .s("fingerprint", &record.fingerprint)
            .n(keys::TTL, record.expires_at)
            .n(IN_PROGRESS_UNTIL, record.in_progress_until)
            .s(STATUS, IN_PROGRESS)
            .build();
        if let Some(response) = &record.response {
            item.extend(response_attrs(response));
        }
        item
    }
}

/// The attributes that complete an idempotency record.
pub(super) fn response_attrs(response: &StoredResponse) -> Attrs {
    let headers = response
        .headers
        .iter()
        .map(|(name, value)| {
            AttributeValue::M(HashMap::from([
                ("name".to_owned(), s(name)),
                ("value".to_owned(), s(value)),
            ]))
        })
        .collect();
    HashMap::from([
        (STATUS.to_owned(), s(COMPLETED)),
        ("responseStatus".to_owned(), n(i64::from(response.status))),
        ("responseBody".to_owned(), s(&response.body)),
        ("responseHeaders".to_owned(), AttributeValue::L(headers)),
    ])
}

impl TryFrom<&Attrs> for IdempotencyRecord {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        let response = match r.s(STATUS)? {
            IN_PROGRESS => None,
            COMPLETED => Some(StoredResponse {
                status: r.unsigned("responseStatus")?,
                body: r.s("responseBody")?.to_owned(),
                headers: r.headers("responseHeaders")?,
            }),
            _ => return Err(r.corrupt(STATUS, "is not INPROGRESS or COMPLETED")),
        };
        Ok(Self {
            fingerprint: r.s("fingerprint")?.to_owned(),
            expires_at: r.n(keys::TTL)?,
            in_progress_until: r.n(IN_PROGRESS_UNTIL)?,
            response,
        })
    }
}

impl ItemReader<'_> {
    /// A list of `{name, value}` maps.
    fn headers(&self, name: &str) -> Result<Vec<(String, String)>, StoreError> {
        let bad = || self.corrupt(name, "is not a list of {name, value} maps");
        let Some(AttributeValue::L(list)) = self.item.get(name) else {
            return Err(bad());
        };
        list.iter()
            .map(|entry| {
                let AttributeValue::M(pair) = entry else {
                    return Err(bad());
                };
                match (pair.get("name"), pair.get("value")) {
                    (Some(AttributeValue::S(n)), Some(AttributeValue::S(v))) => {
                        Ok((n.clone(), v.clone()))
                    }
                    _ => Err(bad()),
                }
            })
            .collect()
    }
}

// --- templates ---------------------------------------------------------------------------------

/// `pending` of a template a sync removes: it is deleted once the sync is committed.
pub(super) const REMOVED: &str = "REMOVED";

/// A template as JSON text, the form `template` and `pending` hold.
pub(super) fn template_json(template: &MessageTemplate) -> String {
    serde_json::to_string(template).unwrap_or_default()
}

fn parse_template(
    r: &ItemReader<'_>,
    name: &str,
    json: &str,
) -> Result<MessageTemplate, StoreError> {
    serde_json::from_str(json).map_err(|e| r.corrupt(name, &format!("is not a template: {e}")))
}

/// One template item as read: what readers saw before the last committed sync (`template`),
/// and what a sync wrote for its version (`pending`, a template or [`REMOVED`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TemplateRecord {
    pub key: TemplateKey,
    pub template_id: Option<String>,
    pub template: Option<MessageTemplate>,
    pub pending: Option<Pending>,
    pub pending_version: Option<i64>,
    /// Raised by every write; each writer's condition names the one it read.
    pub rev: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pending {
    Template(Box<MessageTemplate>),
    Removed,
}

impl TemplateRecord {
    /// The newest view of the template the item holds (a sync's pending one, else the
    /// committed one); `None` when a sync found it removed.
    pub fn newest(&self) -> Option<&MessageTemplate> {
        match &self.pending {
            Some(Pending::Template(template)) => Some(template.as_ref()),
            Some(Pending::Removed) => None,
            None => self.template.as_ref(),
        }
    }

    /// What a reader of the committed `version` sees.
    pub fn visible(&self, version: Option<i64>) -> Option<&MessageTemplate> {
        match (&self.pending, self.pending_version) {
            (Some(pending), Some(v)) if Some(v) == version => match pending {
                Pending::Template(template) => Some(template.as_ref()),
                Pending::Removed => None,
            },
            _ => self.template.as_ref(),
        }
    }
}

impl TryFrom<&Attrs> for TemplateRecord {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        let template = r
            .opt_s("template")?
            .map(|json| parse_template(&r, "template", json))
            .transpose()?;
        let pending = match r.opt_s("pending")? {
            None => None,
            Some(REMOVED) => Some(Pending::Removed),
            Some(json) => Some(Pending::Template(Box::new(parse_template(
                &r, "pending", json,
            )?))),
        };
        Ok(Self {
            key: TemplateKey::new(r.s("name")?, r.s("language")?),
            template_id: r.opt_s("templateId")?.map(str::to_owned),
            template,
            pending,
            pending_version: r.opt_n("pendingVersion")?,
            rev: r.n("rev")?,
        })
    }
}

/// The pointer item of a bot's templates, as read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct TemplatePointer {
    /// The committed sync version readers use; `None` before the first sync.
    pub version: Option<i64>,
    pub synced_at: Option<i64>,
    pub template_limit: Option<u64>,
    /// Unix seconds until which a sync holds the right to write (see `templates.rs`).
    pub lease_until: Option<i64>,
}

impl TryFrom<&Attrs> for TemplatePointer {
    type Error = StoreError;

    fn try_from(item: &Attrs) -> Result<Self, StoreError> {
        let r = ItemReader::new(item);
        Ok(Self {
            version: r.opt_n(VERSION)?,
            synced_at: r.opt_n(SYNCED_AT)?,
            template_limit: r.opt_unsigned("templateLimit")?,
            lease_until: r.opt_n("leaseUntil")?,
        })
    }
}

impl TemplatePointer {
    pub fn state(&self) -> TemplateSyncState {
        TemplateSyncState {
            synced_at: self.synced_at,
            template_limit: self.template_limit,
        }
    }
}

// --- update expressions ------------------------------------------------------------------------

/// `SET` of every non-key attribute of `item`, with placeholders so that reserved words
/// (`status`, `timestamp`, …) are safe. Returns (expression, names, values).
pub(super) fn set_all(mut item: Attrs) -> (String, HashMap<String, String>, Attrs) {
    item.remove(keys::PK);
    item.remove(keys::SK);
    let mut sorted: Vec<_> = item.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut assignments = Vec::new();
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        assignments.push(format!("#a{i} = :a{i}"));
        names.insert(format!("#a{i}"), name);
        values.insert(format!(":a{i}"), value);
    }
    (format!("SET {}", assignments.join(", ")), names, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        Connection {
            bot_id: "b1".into(),
            business_account_id: "waba".into(),
            phone_number_id: "100".into(),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn a_full_connection_round_trips() {
        let full = Connection {
            updated_at: 1_700_000_500,
            display_phone_number: Some("+1 555-010-0001".into()),
            verified_name: Some("Shop".into()),
            rate_limit_per_second: Some(20),
            responder: Some(crate::domain::Responder::Forward {
                url: "https://bot.example.com/in".into(),
                timeout_ms: Some(5000),
            }),
            events_url: Some("https://shop.example.com/events".into()),
            fallback_reply: Some(serde_json::json!({"type": "text", "content": "Sorry!"})),
            typing_indicator: Some(false),
            last_webhook_at: Some(1_700_000_900),
            ..connection()
        };
        assert_eq!(Connection::try_from(&Attrs::from(&full)).unwrap(), full);
    }

    #[test]
    fn a_connection_written_before_the_connections_api_reads_with_defaults() {
        let mut item = Attrs::from(&connection());
        item.remove("updatedAt");
        let read = Connection::try_from(&item).unwrap();
        assert_eq!(read.updated_at, read.created_at);
        assert_eq!(read.rate_limit_per_second, None);
    }

    #[test]
    fn connection_round_trips_and_is_listed_on_gsi1() {
        let item = Attrs::from(&connection());
        assert_eq!(item["gsi1pk"], s("CONNECTIONS"));
        assert_eq!(item["gsi1sk"], s("BOT#b1"));
        assert_eq!(Connection::try_from(&item).unwrap(), connection());
    }

    #[test]
    fn malformed_items_are_corrupt_not_panics() {
        let mut item = Attrs::from(&connection());
        item.insert("createdAt".into(), s("yesterday"));
        let err = Connection::try_from(&item).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("createdAt")),
            "{err}"
        );
        item.remove(BOT_ID);
        assert!(matches!(
            Connection::try_from(&item),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn status_event_round_trips_with_optional_fields() {
        let event = StatusEvent {
            message_id: "wamid.1".into(),
            status: MessageStatus::Failed,
            timestamp: 5,
            recipient: CustomerIds::new(None, Some("US.1")),
            errors: Some(r#"[{"code":131026}]"#.into()),
            conversation: None,
            pricing: None,
            biz_opaque_callback_data: Some("cb".into()),
        };
        let AttributeValue::M(fields) = AttributeValue::from(&event) else {
            panic!("a status event is a map")
        };
        assert!(!fields.contains_key("conversation"));
        assert_eq!(StatusEvent::try_from(&fields).unwrap(), event);
        assert_eq!(status_attribute(&event.status), "STATUS#failed");
    }

    fn raw_event(key: &str, body: String) -> RawEvent {
        RawEvent {
            kind: RawEventKind::WebhookError,
            key: key.into(),
            phone_number_id: None,
            received_at: 9,
            body,
        }
    }

    fn raw_items(event: &RawEvent) -> RawItems {
        RawItems::from(RawItem {
            bot_id: "b1",
            event,
        })
    }

    /// `bytes` long: an odd-length ASCII start, then only 2- and 4-byte characters (every even
    /// offset among them falls inside one), then ASCII padding.
    fn multibyte_body(bytes: usize) -> String {
        const UNIT: &str = "مرحبا😀";
        let mut body = String::from("{\"tx\":\"");
        while body.len() + UNIT.len() <= bytes {
            body.push_str(UNIT);
        }
        body.extend(std::iter::repeat_n('x', bytes - body.len()));
        body
    }

    #[test]
    fn splitting_keeps_characters_whole_and_loses_nothing() {
        let body = multibyte_body(1000);
        for max in [4, 5, 10, 64, 999, 1000, 5000] {
            let pieces = split_on_char_boundaries(&body, max);
            assert!(pieces.iter().all(|p| p.len() <= max && !p.is_empty()));
            // Each piece is as long as a char boundary allows: never more pieces than needed.
            assert!(pieces.iter().rev().skip(1).all(|p| p.len() + 4 > max));
            assert_eq!(pieces.concat(), body, "max {max}");
        }
        assert!(
            !body.is_char_boundary(10),
            "a naive split at 10 bytes cuts a character"
        );
        assert_eq!(split_on_char_boundaries("", 10), [""]);
        assert_eq!(split_on_char_boundaries("héllo", 10), ["héllo"]);
        assert_eq!(split_on_char_boundaries("héllo", 6), ["héllo"]);
        assert_eq!(split_on_char_boundaries("héllo", 4), ["hél", "lo"]);
        assert_eq!(split_on_char_boundaries("héllo", 5), ["héll", "o"]);
    }

    #[test]
    fn raw_event_that_fits_is_one_item_and_round_trips() {
        for body in [String::new(), "{}".into(), "x".repeat(RAW_PART_BYTES)] {
            let event = raw_event("k", body);
            let RawItems { head, parts } = raw_items(&event);
            assert!(parts.is_empty());
            assert_eq!(head["kind"], s("webhook_error"));
            assert_eq!(head["entity"], s("rawEvent"));
            assert!(!head.contains_key(BODY_PARTS));
            assert_eq!(raw_events(&[head]).unwrap(), [event]);
        }
    }

    #[test]
    fn raw_event_too_big_for_an_item_is_split_into_parts_and_rebuilt() {
        let event = raw_event("k", multibyte_body(3 * 1024 * 1024));
        assert!(!event.body.is_char_boundary(RAW_PART_BYTES));
        let RawItems { head, parts } = raw_items(&event);
        assert_eq!(parts.len(), 11);
        assert!(!head.contains_key(BODY));
        assert_eq!(head[BODY_PARTS], n(11));
        assert_eq!(head[BODY_BYTES], n(3 * 1024 * 1024));
        assert_eq!(parts[3]["sk"], s("RAWPART#k#0003"));
        assert_eq!(parts[3]["entity"], s("rawEventPart"));
        assert!(parts.iter().all(|p| match &p[BODY] {
            AttributeValue::S(body) => body.len() <= RAW_PART_BYTES,
            _ => false,
        }));

        // Any order, beside an event kept whole and the parts of an event with no head yet.
        let small = raw_event("a", "{}".into());
        let headless = raw_items(&raw_event("z", multibyte_body(RAW_PART_BYTES + 1))).parts;
        let mut items: Vec<Attrs> = parts.iter().rev().cloned().collect();
        items.extend(headless);
        items.push(head.clone());
        items.extend(raw_items(&small).parts);
        items.push(raw_items(&small).head);
        let read = raw_events(&items).unwrap();
        assert_eq!(read.len(), 2);
        assert!(read[0] == event, "the split body reads back whole");
        assert_eq!(read[1], small);
    }

    #[test]
    fn raw_event_with_missing_or_inconsistent_parts_is_corrupt() {
        let event = raw_event("k", multibyte_body(RAW_PART_BYTES * 2 + 1));
        let RawItems { head, parts } = raw_items(&event);
        let corrupt = |items: Vec<Attrs>, needle: &str| {
            let err = raw_events(&items).unwrap_err();
            assert!(
                matches!(&err, StoreError::Corrupt(m) if m.contains(needle)),
                "{err}"
            );
        };
        corrupt(vec![head.clone()], "part 0 is missing");
        corrupt(
            vec![head.clone(), parts[0].clone(), parts[2].clone()],
            "part 1 is missing",
        );
        let mut short = parts.clone();
        short[1].insert(BODY.into(), s("cut"));
        short.push(head.clone());
        corrupt(short, BODY_BYTES);
        let mut none = head.clone();
        none.insert(BODY_PARTS.into(), n(0));
        corrupt(vec![none], BODY_PARTS);
    }

    #[test]
    fn api_key_round_trips() {
        let key = ApiKey {
            bot_id: "b1".into(),
            rate_limit_per_second: 80,
            created_at: 3,
        };
        let item = Attrs::from(ApiKeyItem {
            key_hash: "ab",
            key: &key,
        });
        assert_eq!(item["pk"], s("APIKEY#ab"));
        assert_eq!(ApiKey::try_from(&item).unwrap(), key);
    }

    #[test]
    fn idempotency_record_round_trips_in_progress_and_completed() {
        let mut record = IdempotencyRecord {
            fingerprint: "f".into(),
            expires_at: 100,
            in_progress_until: 10,
            response: None,
        };
        let item = |record: &IdempotencyRecord| {
            Attrs::from(IdempotencyItem {
                bot_id: "b1",
                key: "k",
                record,
            })
        };
        assert_eq!(item(&record)["status"], s("INPROGRESS"));
        assert_eq!(item(&record)["expiresAt"], n(100));
        assert_eq!(IdempotencyRecord::try_from(&item(&record)).unwrap(), record);
        record.response = Some(StoredResponse {
            status: 200,
            body: r#"{"ok":true}"#.into(),
            headers: vec![("content-type".into(), "application/json".into())],
        });
        assert_eq!(item(&record)["status"], s("COMPLETED"));
        assert_eq!(IdempotencyRecord::try_from(&item(&record)).unwrap(), record);
    }

    #[test]
    fn template_record_shows_pending_only_to_its_committed_version() {
        let old = MessageTemplate::new("1", "order_update", "en_US", "APPROVED", "UTILITY", "[]");
        let new = MessageTemplate {
            status: "PAUSED".into(),
            ..old.clone()
        };
        let item = HashMap::from([
            ("name".to_owned(), s("order_update")),
            ("language".to_owned(), s("en_US")),
            ("template".to_owned(), s(template_json(&old))),
            ("pending".to_owned(), s(template_json(&new))),
            ("pendingVersion".to_owned(), n(4)),
            ("rev".to_owned(), n(2)),
        ]);
        let record = TemplateRecord::try_from(&item).unwrap();
        assert_eq!(record.visible(Some(3)), Some(&old));
        assert_eq!(record.visible(Some(4)), Some(&new));
        let mut removed = item.clone();
        removed.insert("pending".to_owned(), s(REMOVED));
        assert_eq!(
            TemplateRecord::try_from(&removed).unwrap().visible(Some(4)),
            None
        );
        removed.insert("template".to_owned(), s("{"));
        assert!(matches!(
            TemplateRecord::try_from(&removed),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn set_all_skips_the_key_and_escapes_every_name() {
        let (expr, names, values) = set_all(HashMap::from([
            ("pk".into(), s("p")),
            ("sk".into(), s("s")),
            ("status".into(), s("read")),
        ]));
        assert_eq!(expr, "SET #a0 = :a0");
        assert_eq!(names["#a0"], "status");
        assert_eq!(values[":a0"], s("read"));
    }
}
