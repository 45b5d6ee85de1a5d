//! In-memory [`SecretStore`] for the local stack and tests.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use foldhash::HashMap;

use crate::ports::{BotSecrets, SecretStore, SecretsError};

#[derive(Default)]
pub struct MemorySecrets {
    by_bot: RwLock<HashMap<String, Arc<BotSecrets>>>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn bot_secrets(&self, bot_id: &str) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        let map = self.by_bot.read().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(bot_id).cloned())
    }

    fn bot_secrets_now(&self, bot_id: &str) -> Option<Option<Arc<BotSecrets>>> {
        let map = self.by_bot.read().unwrap_or_else(|p| p.into_inner());
        Some(map.get(bot_id).cloned())
    }

    async fn refresh_bot_secrets(
        &self,
        bot_id: &str,
    ) -> Result<Option<Arc<BotSecrets>>, SecretsError> {
        self.bot_secrets(bot_id).await
    }

    async fn put_bot_secrets(
        &self,
        bot_id: &str,
        secrets: &BotSecrets,
    ) -> Result<(), SecretsError> {
        let mut map = self.by_bot.write().unwrap_or_else(|p| p.into_inner());
        map.insert(bot_id.to_owned(), Arc::new(secrets.clone()));
        Ok(())
    }

    async fn delete_bot_secrets(&self, bot_id: &str) -> Result<(), SecretsError> {
        let mut map = self.by_bot.write().unwrap_or_else(|p| p.into_inner());
        map.remove(bot_id);
        Ok(())
    }
}
