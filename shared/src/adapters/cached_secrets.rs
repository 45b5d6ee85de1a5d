//! A time-limited in-process cache in front of any [`SecretStore`]: a warm Lambda reads each
//! bot's secret once per TTL instead of once per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use foldhash::{HashMap, HashMapExt};
use tokio::time::Instant;

use crate::ports::{BotSecrets, SecretStore, SecretsError};

/// A bot's secrets (or their absence) and when they were read.
type CacheEntry = (Instant, Option<Arc<BotSecrets>>);

/// A bot without secrets is remembered only briefly: long enough that a flood of requests for
/// unknown bots costs one Secrets Manager read per bot id every few seconds, short enough that a
/// connection created after a failed verification attempt works right away.
const ABSENT_TTL: Duration = Duration::from_secs(10);
/// Above this many entries, absences and expired entries are dropped before adding another, so
/// requests for random bot ids cannot grow the cache without bound.
const MAX_ENTRIES: usize = 10_000;

pub struct CachedSecrets<S> {
    inner: S,
    ttl: Duration,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl<S: SecretStore> CachedSecrets<S> {
    pub fn new(inner: S, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, bot_id: &str) -> Option<Option<Arc<BotSecrets>>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(bot_id)
            .filter(|(fetched, value)| fetched.elapsed() < self.ttl_of(value))
            .map(|(_, value)| value.clone())
    }

    fn ttl_of(&self, value: &Option<Arc<BotSecrets>>) -> Duration {
        match value {
            Some(_) => self.ttl,
            None => self.ttl.min(ABSENT_TTL),
        }
    }

    fn remember(&self, bot_id: &str, value: Option<Arc<BotSecrets>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(bot_id) {
            let ttl = self.ttl;
            entries.retain(|_, (fetched, value)| value.is_some() && fetched.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                // Every entry is a live bot: this many bots in one process is not expected.
                return;
            }
        }
        entries.insert(bot_id.to_owned(), (Instant::now(), value));
    }

    fn forget(&self, bot_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(bot_id);
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for CachedSecrets<S> {
    async fn bot_secrets(&self, bot_id: &str) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        if let Some(hit) = self.cached(bot_id) {
            return Ok(hit);
        }
        self.refresh_bot_secrets(bot_id).await
    }

    fn bot_secrets_now(&self, bot_id: &str) -> Option<Option<Arc<BotSecrets>>> {
        self.cached(bot_id)
    }

    async fn refresh_bot_secrets(
        &self,
        bot_id: &str,
    ) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        let fresh = self.inner.refresh_bot_secrets(bot_id).await?;
        self.remember(bot_id, fresh.clone());
        Ok(fresh)
    }

    async fn put_bot_secrets(
        &self,
        bot_id: &str,
        secrets: &BotSecrets,
    ) -> Result<(), SecretsError> {
        self.inner.put_bot_secrets(bot_id, secrets).await?;
        self.forget(bot_id);
        Ok(())
    }

    async fn delete_bot_secrets(&self, bot_id: &str) -> Result<(), SecretsError> {
        self.inner.delete_bot_secrets(bot_id).await?;
        self.forget(bot_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::MemorySecrets;
    use crate::ports::Secret;

    struct CountingReads {
        inner: MemorySecrets,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl SecretStore for CountingReads {
        async fn bot_secrets(&self, b: &str) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
            self.refresh_bot_secrets(b).await
        }
        async fn refresh_bot_secrets(
            &self,
            b: &str,
        ) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.bot_secrets(b).await
        }
        async fn put_bot_secrets(&self, b: &str, s: &BotSecrets) -> Result<(), SecretsError> {
            self.inner.put_bot_secrets(b, s).await
        }
        async fn delete_bot_secrets(&self, b: &str) -> Result<(), SecretsError> {
            self.inner.delete_bot_secrets(b).await
        }
    }

    fn secrets(token: &str) -> BotSecrets {
        BotSecrets {
            access_token: Secret::new(token),
            app_secret: Secret::new("app"),
            verify_token: Secret::new("verify"),
            responder_secret: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reads_once_per_ttl_and_refresh_bypasses_the_cache() {
        let cache = counting_cache();
        cache.put_bot_secrets("demo", &secrets("t1")).await.unwrap();
        assert!(cache.bot_secrets_now("demo").is_none(), "not read yet");
        for _ in 0..3 {
            let got = cache.bot_secrets("demo").await.unwrap().unwrap();
            assert_eq!(got.access_token.expose(), "t1");
        }
        assert_eq!(cache.inner.reads.load(Ordering::SeqCst), 1);
        let now = cache.bot_secrets_now("demo").flatten().unwrap();
        assert_eq!(now.access_token.expose(), "t1");

        // Rotated behind the cache's back: the cache serves the old value until refresh or TTL.
        cache
            .inner
            .inner
            .put_bot_secrets("demo", &secrets("t2"))
            .await
            .unwrap();
        assert_eq!(
            cache
                .bot_secrets("demo")
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "t1"
        );
        let fresh = cache.refresh_bot_secrets("demo").await.unwrap().unwrap();
        assert_eq!(fresh.access_token.expose(), "t2");

        cache
            .inner
            .inner
            .put_bot_secrets("demo", &secrets("t3"))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(
            cache
                .bot_secrets("demo")
                .await
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "t3"
        );
    }

    fn counting_cache() -> CachedSecrets<CountingReads> {
        CachedSecrets::new(
            CountingReads {
                inner: MemorySecrets::new(),
                reads: AtomicUsize::new(0),
            },
            Duration::from_secs(300),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_bot_is_remembered_only_briefly() {
        let cache = counting_cache();
        assert!(cache.bot_secrets("late").await.unwrap().is_none());
        assert!(cache.bot_secrets("late").await.unwrap().is_none());
        assert_eq!(
            cache.inner.reads.load(Ordering::SeqCst),
            1,
            "absence cached"
        );

        // The connection is created elsewhere (another Lambda instance) just after.
        cache
            .inner
            .inner
            .put_bot_secrets("late", &secrets("t1"))
            .await
            .unwrap();
        tokio::time::advance(ABSENT_TTL).await;
        let found = cache.bot_secrets("late").await.unwrap();
        assert_eq!(found.unwrap().access_token.expose(), "t1");
    }

    #[tokio::test(start_paused = true)]
    async fn random_bot_ids_cannot_grow_the_cache_without_bound() {
        let cache = counting_cache();
        cache.put_bot_secrets("demo", &secrets("t1")).await.unwrap();
        cache.bot_secrets("demo").await.unwrap();
        for n in 0..MAX_ENTRIES + 50 {
            cache.bot_secrets(&format!("random-{n}")).await.unwrap();
        }
        let entries = cache.entries.lock().unwrap();
        assert!(entries.len() <= MAX_ENTRIES, "{}", entries.len());
        assert!(entries.contains_key("demo"), "live bots are kept");
    }
}
