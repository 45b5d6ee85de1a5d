//! A time-limited in-process cache of which connection owns a phone number, in front of any
//! [`ConnectionStore`]: a warm webhook routes each number without a store read per body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use foldhash::{HashMap, HashMapExt};
use tokio::time::Instant;

use crate::domain::Connection;
use crate::ports::{ConnectionStore, StoreError};

/// Above this many numbers, expired entries are dropped before adding another, then the oldest.
const MAX_ENTRIES: usize = 10_000;

/// Only owners found are remembered: a number not connected yet is asked again every time, so a
/// connection made a moment ago routes its very next webhook. A number moved to another bot is
/// routed to the old one for at most the TTL (in other processes; this one forgets at once).
/// A connection found, when, and its bot id ready to share.
struct Cached {
    fetched: Instant,
    connection: Connection,
    owner: Arc<str>,
}

pub struct CachedConnections {
    inner: Arc<dyn ConnectionStore>,
    ttl: Duration,
    by_phone: Mutex<HashMap<String, Cached>>,
}

impl CachedConnections {
    pub fn new(inner: Arc<dyn ConnectionStore>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            by_phone: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.by_phone.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What `read` takes from the entry for a number, if still within the TTL.
    fn fresh<T>(&self, phone_number_id: &str, read: impl FnOnce(&Cached) -> T) -> Option<T> {
        let entries = self.entries();
        let cached = entries.get(phone_number_id)?;
        (cached.fetched.elapsed() < self.ttl).then(|| read(cached))
    }

    fn forget_bot(&self, bot_id: &str) {
        self.entries()
            .retain(|_, cached| cached.connection.bot_id != bot_id);
    }
}

#[async_trait]
impl ConnectionStore for CachedConnections {
    async fn connection(&self, bot_id: &str) -> Result<Option<Connection>, StoreError> {
        self.inner.connection(bot_id).await
    }

    async fn connection_by_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Connection>, StoreError> {
        if let Some(connection) = self.fresh(phone_number_id, |c| c.connection.clone()) {
            return Ok(Some(connection));
        }
        let found = self
            .inner
            .connection_by_phone_number(phone_number_id)
            .await?;
        let mut entries = self.entries();
        match &found {
            Some(connection) => {
                if entries.len() >= MAX_ENTRIES && !entries.contains_key(phone_number_id) {
                    let ttl = self.ttl;
                    entries.retain(|_, cached| cached.fetched.elapsed() < ttl);
                    if entries.len() >= MAX_ENTRIES
                        && let Some(oldest) = entries
                            .iter()
                            .min_by_key(|(_, cached)| cached.fetched)
                            .map(|(phone, _)| phone.clone())
                    {
                        entries.remove(&oldest);
                    }
                }
                let cached = Cached {
                    fetched: Instant::now(),
                    connection: connection.clone(),
                    owner: Arc::from(connection.bot_id.as_str()),
                };
                entries.insert(phone_number_id.to_owned(), cached);
            }
            None => {
                entries.remove(phone_number_id);
            }
        }
        Ok(found)
    }

    async fn phone_number_owner(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Arc<str>>, StoreError> {
        if let Some(owner) = self.fresh(phone_number_id, |c| c.owner.clone()) {
            return Ok(Some(owner));
        }
        let connection = self.connection_by_phone_number(phone_number_id).await?;
        Ok(connection.map(|c| Arc::from(c.bot_id)))
    }

    fn cached_phone_number_owner(&self, phone_number_id: &str) -> Option<Arc<str>> {
        self.fresh(phone_number_id, |c| c.owner.clone())
    }

    async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        self.inner.connections().await
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.forget_bot(&connection.bot_id);
        self.entries().remove(&connection.phone_number_id);
        self.inner.put_connection(connection).await
    }

    async fn delete_connection(&self, bot_id: &str) -> Result<bool, StoreError> {
        self.forget_bot(bot_id);
        self.inner.delete_connection(bot_id).await
    }

    async fn record_webhook_received(&self, bot_id: &str, at: i64) -> Result<(), StoreError> {
        self.inner.record_webhook_received(bot_id, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::MemoryStore;

    fn connection(bot: &str, phone: &str) -> Connection {
        Connection {
            bot_id: bot.into(),
            business_account_id: "waba".into(),
            phone_number_id: phone.into(),
            created_at: 0,
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn owners_are_remembered_for_the_ttl_and_absences_never() {
        let store = Arc::new(MemoryStore::new());
        let cached = CachedConnections::new(store.clone(), Duration::from_secs(60));
        assert_eq!(
            cached.connection_by_phone_number("100").await.unwrap(),
            None
        );
        // Connected behind the cache's back (another process): found at once, no absence kept.
        store.put_connection(&connection("a", "100")).await.unwrap();
        let found = cached.connection_by_phone_number("100").await.unwrap();
        assert_eq!(found.unwrap().bot_id, "a");

        // Moved to another bot elsewhere: the old owner holds until the TTL runs out.
        store.delete_connection("a").await.unwrap();
        store.put_connection(&connection("b", "100")).await.unwrap();
        let cached_owner = cached.connection_by_phone_number("100").await.unwrap();
        assert_eq!(cached_owner.unwrap().bot_id, "a");
        let owner = cached.phone_number_owner("100").await.unwrap();
        assert_eq!(owner.as_deref(), Some("a"));
        assert_eq!(
            cached.cached_phone_number_owner("100").as_deref(),
            Some("a")
        );
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(cached.cached_phone_number_owner("100"), None);
        let owner = cached.phone_number_owner("100").await.unwrap();
        assert_eq!(owner.as_deref(), Some("b"));
        let fresh = cached.connection_by_phone_number("100").await.unwrap();
        assert_eq!(fresh.unwrap().bot_id, "b");

        // A change made through the cache is seen at once.
        cached.delete_connection("b").await.unwrap();
        assert_eq!(
            cached.connection_by_phone_number("100").await.unwrap(),
            None
        );
    }
}
