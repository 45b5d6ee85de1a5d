//! The capabilities the functions depend on. One small trait per capability, so that a handler
//! asks only for what it uses and tests can stand in for any of them.

mod media;
mod queue;
mod secrets;
mod store;

pub use media::{
    ByteStream, MediaError, MediaObject, MediaStore, MediaUrl, OpenedUpload, UploadTerms, UploadUrl,
};
pub use queue::{QueueError, RetryDelay};
pub use secrets::{AdminToken, BotSecrets, Secret, SecretStore, SecretsError};
pub use store::{
    ApiKeyStore, ConnectionStore, ConversationStore, IdempotencyStore, MessageStore,
    RateLimitStore, SendStore, Store, StoreError, TemplateStore, WindowStore,
};
