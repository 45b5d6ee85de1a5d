//! [`WindowStore`] on DynamoDB: one WINDOW item per customer, under its stable id (the BSUID when
//! known, else the `wa_id`), raised by one conditional update per message; a BSUID's window names
//! the customer's `wa_id`, and a LINK item under the `wa_id` points back, written once when the
//! pairing is first seen. Items of the earlier layout (a WINDOW under each id, LINKs both ways)
//! read the same.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures::future::try_join_all;

use super::DynamoDbStore;
use super::items::{
    self, Attrs, BOT_ID, CUSTOMER_ID, ENTITY, ItemReader, LAST_INBOUND_AT, OTHER_ID,
    WINDOW_EXPIRES_AT, n, s,
};
use super::keys::{self, Key};
use super::unavailable;
use crate::domain::{ConversationWindow, CustomerIds, ResponderPause};
use crate::ports::{StoreError, WindowStore};

const PAUSED_AT: &str = "pausedAt";
const PAUSED_UNTIL: &str = "pausedUntil";

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// What a customer's partition holds, read in one query.
struct CustomerItems {
    window: Option<Attrs>,
    pause: Option<Attrs>,
    /// The customer's other ids: named by its window (a BSUID's), or by a LINK item (a wa_id's,
    /// and both ids' in the earlier layout).
    others: Vec<String>,
}

impl DynamoDbStore {
    /// The items kept under one of a customer's ids, and the ids it is linked to.
    async fn customer(&self, bot_id: &str, customer_id: &str) -> Result<CustomerItems, StoreError> {
        let mut customer = CustomerItems {
            window: None,
            pause: None,
            others: Vec::new(),
        };
        for item in self
            .partition(keys::customer_partition(bot_id, customer_id))
            .await?
        {
            let reader = ItemReader::new(&item);
            match reader.s(keys::SK)? {
                keys::WINDOW_SK => {
                    let other = reader.opt_s(OTHER_ID)?.map(str::to_owned);
                    customer.others.extend(other);
                    customer.window = Some(item);
                }
                keys::LINK_SK => customer.others.push(reader.s(OTHER_ID)?.to_owned()),
                keys::PAUSE_SK => customer.pause = Some(item),
                _ => {}
            }
        }
        customer.others.sort();
        customer.others.dedup();
        customer.others.retain(|other| other != customer_id);
        Ok(customer)
    }

    /// Raises the window kept under the customer's stable id to at least `opened`, in one write
    /// that also names the customer's `wa_id` when the stable id is a BSUID. Returns the `wa_id`
    /// the window named before, so a new pairing is linked once.
    async fn raise_window(
        &self,
        bot_id: &str,
        stable_id: &str,
        wa_id: Option<&str>,
        opened: &ConversationWindow,
    ) -> Result<Option<String>, StoreError> {
        let mut update =
            "SET #e = :e, #t = :t, #entity = :entity, #bot = :bot, #id = :id".to_owned();
        let mut attribute_names = names(&[
            ("#e", WINDOW_EXPIRES_AT),
            ("#t", LAST_INBOUND_AT),
            ("#entity", ENTITY),
            ("#bot", BOT_ID),
            ("#id", CUSTOMER_ID),
        ]);
        let mut values = Attrs::from([
            (":e".to_owned(), n(opened.expires_at)),
            (":t".to_owned(), n(opened.last_inbound_at)),
            (":entity".to_owned(), s("window")),
            (":bot".to_owned(), s(bot_id)),
            (":id".to_owned(), s(stable_id)),
        ]);
        if let Some(wa_id) = wa_id {
            update.push_str(", #other = :other");
            attribute_names.insert("#other".to_owned(), OTHER_ID.to_owned());
            values.insert(":other".to_owned(), s(wa_id));
        }
        // Expiry and last message move together (expiry is always last + 24 h), so one
        // condition keeps both at the maximum ever seen; an older message changes nothing.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::window(bot_id, stable_id).into_attrs()))
            .update_expression(update)
            .condition_expression("attribute_not_exists(#e) OR #e < :e")
            .set_expression_attribute_names(Some(attribute_names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let other_of = |item: Option<&Attrs>| -> Result<Option<String>, StoreError> {
            Ok(match item {
                Some(item) => ItemReader::new(item).opt_s(OTHER_ID)?.map(str::to_owned),
                None => None,
            })
        };
        let refused = match result {
            Ok(out) => return other_of(out.attributes.as_ref()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    refused.item.clone()
                }
                _ => return Err(unavailable("UpdateItem", err)),
            },
        };
        let before = other_of(refused.as_ref())?;
        // An older message that brings a new pairing still names it.
        if let Some(wa_id) = wa_id
            && before.as_deref() != Some(wa_id)
        {
            self.update_if(
                Key::window(bot_id, stable_id),
                "SET #other = :other",
                "attribute_exists(#e)",
                names(&[("#other", OTHER_ID), ("#e", WINDOW_EXPIRES_AT)]),
                Attrs::from([(":other".to_owned(), s(wa_id))]),
            )
            .await?;
        }
        Ok(before)
    }

    /// Lets `customer_id` find the window kept under `other_id`. Overwrites: a customer's number
    /// can change, and the latest pairing is the one that holds.
    async fn link(
        &self,
        bot_id: &str,
        customer_id: &str,
        other_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::link_item(bot_id, customer_id, other_id)))
            .send()
            .await
            .map_err(|err| unavailable("PutItem", err))?;
        Ok(())
    }
}

#[async_trait]
impl WindowStore for DynamoDbStore {
    async fn extend_window(
        &self,
        bot_id: &str,
        customer: &CustomerIds,
        inbound_at: i64,
    ) -> Result<(), StoreError> {
        let Some(stable_id) = customer.stable_id() else {
            return Ok(());
        };
        // Kept under the stable id; a BSUID's window names the wa_id, and the wa_id gets a link
        // back, written once when the pairing is first seen.
        let wa_id = customer.bsuid.as_ref().and(customer.wa_id.as_deref());
        let opened = ConversationWindow::opened_by(inbound_at);
        let named_before = self.raise_window(bot_id, stable_id, wa_id, &opened).await?;
        if let Some(wa_id) = wa_id
            && named_before.as_deref() != Some(wa_id)
        {
            self.link(bot_id, wa_id, stable_id).await?;
        }
        Ok(())
    }

    async fn window(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ConversationWindow>, StoreError> {
        let customer = self.customer(bot_id, customer_id).await?;
        let mut window = match &customer.window {
            Some(item) => Some(ConversationWindow::try_from(item)?),
            None => None,
        };
        let linked = try_join_all(
            customer
                .others
                .iter()
                .map(|other| self.get_item(Key::window(bot_id, other))),
        )
        .await?;
        for item in linked.iter().flatten() {
            let found = ConversationWindow::try_from(item)?;
            window = Some(match window {
                Some(window) => window.merge(found),
                None => found,
            });
        }
        Ok(window)
    }

    async fn set_responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
        pause: Option<ResponderPause>,
    ) -> Result<(), StoreError> {
        // Kept under the id it was set by; one set under the customer's other id is the earlier
        // decision, so it goes (pauses change seldom: a person takes over or hands back).
        let customer = self.customer(bot_id, customer_id).await?;
        let mut lifted: Vec<&str> = customer.others.iter().map(String::as_str).collect();
        match pause {
            Some(pause) => {
                let mut item = Key::responder_pause(bot_id, customer_id).into_attrs();
                item.insert(ENTITY.to_owned(), s("responderPause"));
                item.insert(PAUSED_AT.to_owned(), n(pause.paused_at));
                if let Some(until) = pause.until {
                    item.insert(PAUSED_UNTIL.to_owned(), n(until));
                    // Gone by itself a day after it ends.
                    item.insert(keys::TTL.to_owned(), n(until + 24 * 60 * 60));
                }
                self.put(item).await?;
            }
            None => lifted.push(customer_id),
        }
        // Resuming a bot that is not paused changes nothing.
        try_join_all(lifted.into_iter().map(|id| {
            self.delete_if(
                Key::responder_pause(bot_id, id),
                "attribute_exists(pk)",
                HashMap::new(),
                Attrs::new(),
            )
        }))
        .await
        .map(drop)
    }

    async fn responder_pause(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ResponderPause>, StoreError> {
        let customer = self.customer(bot_id, customer_id).await?;
        let linked = try_join_all(
            customer
                .others
                .iter()
                .map(|other| self.get_item(Key::responder_pause(bot_id, other))),
        )
        .await?;
        let mut latest: Option<ResponderPause> = None;
        for item in customer.pause.iter().chain(linked.iter().flatten()) {
            let r = ItemReader::new(item);
            let pause = ResponderPause {
                paused_at: r.n(PAUSED_AT)?,
                until: r.opt_n(PAUSED_UNTIL)?,
            };
            // Set under both ids only by a write that did not finish: the later decision holds.
            if latest.is_none_or(|l| pause.paused_at > l.paused_at) {
                latest = Some(pause);
            }
        }
        Ok(latest)
    }
}
