//! Key formats of the single table. Every item's `pk` / `sk` is built here, so the layout
//! documented in `mod.rs` has exactly one implementation.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::TemplateKey;

pub(super) const PK: &str = "pk";
pub(super) const SK: &str = "sk";
pub(super) const GSI1: &str = "gsi1";
pub(super) const GSI1_PK: &str = "gsi1pk";
pub(super) const GSI1_SK: &str = "gsi1sk";
/// The table's TTL attribute: only items that guard against redelivery or abuse set it.
pub(super) const TTL: &str = "expiresAt";

pub(super) const CONNECTION_SK: &str = "CONNECTION";
/// `gsi1pk` of every connection item: one Query lists them all.
pub(super) const CONNECTIONS_GSI1_PK: &str = "CONNECTIONS";
pub(super) const OWNER_SK: &str = "OWNER";
pub(super) const WINDOW_SK: &str = "WINDOW";
pub(super) const LINK_SK: &str = "LINK";
pub(super) const PAUSE_SK: &str = "RESPONDER_PAUSE";
pub(super) const MESSAGE_SK: &str = "MESSAGE";
pub(super) const STATUS_SK_PREFIX: &str = "STATUS#";
pub(super) const RAW_SK_PREFIX: &str = "RAW#";
/// Not `RAW#…`: a part never reads as a head, and all parts sort after the heads, in order.
pub(super) const RAW_PART_SK_PREFIX: &str = "RAWPART#";
pub(super) const API_KEY_SK: &str = "APIKEY";
/// Sort-key prefix of the items that list a bot's API keys in its partition.
pub(super) const BOT_API_KEY_SK_PREFIX: &str = "APIKEY#";
pub(super) const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
pub(super) const RATE_SK: &str = "RATE";
/// Not the earlier layout's `TEMPLATESET`: a table that still holds that pointer reads as never
/// synced until the first sync, so sends go to Meta unchecked meanwhile.
pub(super) const TEMPLATES_SK: &str = "TEMPLATES";
const TEMPLATE_SK_PREFIX: &str = "TEMPLATE#";

/// `gsi1pk` of an inbound media message's head: its bot and media id, so the media route finds
/// the message with one Query and the webhook writes nothing more (the head carries it).
pub(super) fn media_gsi1_pk(bot_id: &str, media_id: &str) -> String {
    format!("{}#MEDIA#{media_id}", bot_partition(bot_id))
}

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    pub fn connection(bot_id: &str) -> Self {
        Self::new(bot_partition(bot_id), CONNECTION_SK)
    }

    pub fn phone_owner(phone_number_id: &str) -> Self {
        Self::new(format!("PHONE#{phone_number_id}"), OWNER_SK)
    }

    pub fn window(bot_id: &str, customer_id: &str) -> Self {
        Self::new(customer_partition(bot_id, customer_id), WINDOW_SK)
    }

    pub fn responder_pause(bot_id: &str, customer_id: &str) -> Self {
        Self::new(customer_partition(bot_id, customer_id), PAUSE_SK)
    }

    pub fn link(bot_id: &str, customer_id: &str) -> Self {
        Self::new(customer_partition(bot_id, customer_id), LINK_SK)
    }

    pub fn message(bot_id: &str, message_id: &str) -> Self {
        Self::new(message_partition(bot_id, message_id), MESSAGE_SK)
    }

    pub fn raw_event(bot_id: &str, key: &str) -> Self {
        Self::new(raw_partition(bot_id), format!("{RAW_SK_PREFIX}{key}"))
    }

    /// Part `index` of the body of a raw event too big for one item; zero-padded so the parts
    /// of one event sort in order.
    pub fn raw_event_part(bot_id: &str, key: &str, index: usize) -> Self {
        Self::new(
            raw_partition(bot_id),
            format!("{RAW_PART_SK_PREFIX}{key}#{index:04}"),
        )
    }

    pub fn api_key(key_hash: &str) -> Self {
        Self::new(format!("APIKEY#{key_hash}"), API_KEY_SK)
    }

    /// Lists one API key under its bot, so that revoking reads the bot's keys consistently
    /// (an index would be eventually consistent and could miss a key created just before).
    pub fn bot_api_key(bot_id: &str, key_hash: &str) -> Self {
        Self::new(
            bot_partition(bot_id),
            format!("{BOT_API_KEY_SK_PREFIX}{key_hash}"),
        )
    }

    pub fn idempotency(bot_id: &str, key: &str) -> Self {
        Self::new(format!("BOT#{bot_id}#IDEMP#{key}"), IDEMPOTENCY_SK)
    }

    pub fn rate_counter(key_hash: &str, window_start: i64) -> Self {
        Self::new(format!("RATE#{key_hash}#{window_start}"), RATE_SK)
    }

    /// The pointer to a bot's committed template sync, and the sync lease.
    pub fn template_set(bot_id: &str) -> Self {
        Self::new(bot_partition(bot_id), TEMPLATES_SK)
    }

    pub fn template(bot_id: &str, key: &TemplateKey) -> Self {
        Self::new(
            template_partition(bot_id),
            format!("{TEMPLATE_SK_PREFIX}{}#{}", key.name, key.language),
        )
    }

    /// The key as the SDK wants it for GetItem / UpdateItem / DeleteItem.
    pub fn into_attrs(self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk)),
            (SK.to_owned(), AttributeValue::S(self.sk)),
        ])
    }
}

pub(super) fn bot_partition(bot_id: &str) -> String {
    format!("BOT#{bot_id}")
}

/// Holds a customer's WINDOW and LINK items, so one Query reads both.
pub(super) fn customer_partition(bot_id: &str, customer_id: &str) -> String {
    format!("BOT#{bot_id}#CUSTOMER#{customer_id}")
}

/// Holds a message's head and all its status events, so one Query reads the whole history.
pub(super) fn message_partition(bot_id: &str, message_id: &str) -> String {
    format!("BOT#{bot_id}#MSG#{message_id}")
}

pub(super) fn raw_partition(bot_id: &str) -> String {
    format!("BOT#{bot_id}#RAW")
}

/// Holds a bot's templates, ordered by name then language, so one Query reads them all.
pub(super) fn template_partition(bot_id: &str) -> String {
    format!("BOT#{bot_id}#TPL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        assert_eq!(
            Key::connection("b1"),
            Key::new("BOT#b1".into(), "CONNECTION")
        );
        assert_eq!(
            Key::phone_owner("100"),
            Key::new("PHONE#100".into(), "OWNER")
        );
        assert_eq!(Key::window("b1", "US.1").pk, "BOT#b1#CUSTOMER#US.1");
        assert_eq!(Key::link("b1", "155").sk, "LINK");
        assert_eq!(Key::message("b1", "wamid.X").pk, "BOT#b1#MSG#wamid.X");
        assert_eq!(
            Key::raw_event("b1", "abc"),
            Key::new("BOT#b1#RAW".into(), "RAW#abc")
        );
        assert_eq!(
            Key::raw_event_part("b1", "abc", 2),
            Key::new("BOT#b1#RAW".into(), "RAWPART#abc#0002")
        );
        assert_eq!(
            Key::api_key("ab12"),
            Key::new("APIKEY#ab12".into(), "APIKEY")
        );
        assert_eq!(
            Key::bot_api_key("b1", "ab12"),
            Key::new("BOT#b1".into(), "APIKEY#ab12")
        );
        assert_eq!(
            Key::idempotency("b1", "k-1"),
            Key::new("BOT#b1#IDEMP#k-1".into(), "IDEMPOTENCY")
        );
        assert_eq!(
            Key::rate_counter("ab12", 1_700_000_000),
            Key::new("RATE#ab12#1700000000".into(), "RATE")
        );
        assert_eq!(
            Key::template_set("b1"),
            Key::new("BOT#b1".into(), "TEMPLATES")
        );
        assert_eq!(
            Key::template("b1", &TemplateKey::new("order_update", "en_US")),
            Key::new("BOT#b1#TPL".into(), "TEMPLATE#order_update#en_US")
        );
    }
}
