//! [`WindowStore`] on DynamoDB: a WINDOW item per customer id, raised by conditional updates,
//! and LINK items joining a customer's BSUID and `wa_id`.

use std::collections::HashMap;

use async_trait::async_trait;
use futures::future::{try_join, try_join_all};

use super::DynamoDbStore;
use super::items::{
    self, Attrs, BOT_ID, CUSTOMER_ID, ENTITY, ItemReader, LAST_INBOUND_AT, OTHER_ID,
    WINDOW_EXPIRES_AT, n, s,
};
use super::keys::{self, Key};
use super::unavailable;
use crate::domain::{ConversationWindow, CustomerIds};
use crate::ports::{StoreError, WindowStore};

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl DynamoDbStore {
    /// Makes the window under one id at least `opened`, each instant independently.
    async fn raise_window(
        &self,
        bot_id: &str,
        customer_id: &str,
        opened: &ConversationWindow,
    ) -> Result<(), StoreError> {
        let key = || Key::window(bot_id, customer_id);
        let e = || (":e".to_owned(), n(opened.expires_at));
        let t = || (":t".to_owned(), n(opened.last_inbound_at));
        // The usual case, a later message: one write raises both.
        let raised = self
            .update_if(
                key(),
                "SET #e = :e, #t = :t, #entity = :entity, #bot = :bot, #id = :id",
                "attribute_not_exists(#e) OR (#e < :e AND #t < :t)",
                names(&[
                    ("#e", WINDOW_EXPIRES_AT),
                    ("#t", LAST_INBOUND_AT),
                    ("#entity", ENTITY),
                    ("#bot", BOT_ID),
                    ("#id", CUSTOMER_ID),
                ]),
                Attrs::from([
                    e(),
                    t(),
                    (":entity".to_owned(), s("window")),
                    (":bot".to_owned(), s(bot_id)),
                    (":id".to_owned(), s(customer_id)),
                ]),
            )
            .await?;
        if raised {
            return Ok(());
        }
        // A redelivery or an older message: raise whichever instant is still behind (usually
        // neither), so each ends as the maximum ever seen, as `ConversationWindow::merge` does.
        try_join(
            self.update_if(
                key(),
                "SET #e = :e",
                "attribute_not_exists(#e) OR #e < :e",
                names(&[("#e", WINDOW_EXPIRES_AT)]),
                Attrs::from([e()]),
            ),
            self.update_if(
                key(),
                "SET #t = :t",
                "attribute_not_exists(#t) OR #t < :t",
                names(&[("#t", LAST_INBOUND_AT)]),
                Attrs::from([t()]),
            ),
        )
        .await?;
        Ok(())
    }

    /// Lets `customer_id` find the window of `other_id`. Overwrites: a customer's number can
    /// change, and the latest pairing is the one that holds.
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
        let opened = ConversationWindow::opened_by(inbound_at);
        let windows = try_join_all(
            customer
                .all()
                .map(|id| self.raise_window(bot_id, id, &opened)),
        );
        let links = async {
            if let (Some(bsuid), Some(wa_id)) = (&customer.bsuid, &customer.wa_id) {
                try_join(
                    self.link(bot_id, bsuid, wa_id),
                    self.link(bot_id, wa_id, bsuid),
                )
                .await?;
            }
            Ok(())
        };
        try_join(windows, links).await?;
        Ok(())
    }

    async fn window(
        &self,
        bot_id: &str,
        customer_id: &str,
    ) -> Result<Option<ConversationWindow>, StoreError> {
        let mut own = None;
        let mut other_id = None;
        for item in self
            .partition(keys::customer_partition(bot_id, customer_id))
            .await?
        {
            let reader = ItemReader::new(&item);
            match reader.s(keys::SK)? {
                keys::WINDOW_SK => own = Some(ConversationWindow::try_from(&item)?),
                keys::LINK_SK => other_id = Some(reader.s(OTHER_ID)?.to_owned()),
                _ => {}
            }
        }
        let linked = match other_id {
            Some(other) => self
                .get_item(Key::window(bot_id, &other))
                .await?
                .as_ref()
                .map(ConversationWindow::try_from)
                .transpose()?,
            None => None,
        };
        Ok(match (own, linked) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        })
    }
}
