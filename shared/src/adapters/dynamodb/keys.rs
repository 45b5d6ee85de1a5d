//! Key formats of the single table. Every item's `pk` / `sk` is built here, so the layout
//! documented in `mod.rs` has exactly one implementation.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

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
pub(super) const MESSAGE_SK: &str = "MESSAGE";
pub(super) const STATUS_SK_PREFIX: &str = "STATUS#";
const RAW_SK_PREFIX: &str = "RAW#";

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

    pub fn link(bot_id: &str, customer_id: &str) -> Self {
        Self::new(customer_partition(bot_id, customer_id), LINK_SK)
    }

    pub fn message(bot_id: &str, message_id: &str) -> Self {
        Self::new(message_partition(bot_id, message_id), MESSAGE_SK)
    }

    pub fn status(bot_id: &str, message_id: &str, status: &str) -> Self {
        Self::new(
            message_partition(bot_id, message_id),
            format!("{STATUS_SK_PREFIX}{status}"),
        )
    }

    pub fn raw_event(bot_id: &str, key: &str) -> Self {
        Self::new(raw_partition(bot_id), format!("{RAW_SK_PREFIX}{key}"))
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
        assert_eq!(Key::status("b1", "wamid.X", "read").sk, "STATUS#read");
        assert_eq!(Key::message("b1", "wamid.X").pk, "BOT#b1#MSG#wamid.X");
        assert_eq!(
            Key::raw_event("b1", "abc"),
            Key::new("BOT#b1#RAW".into(), "RAW#abc")
        );
    }
}
