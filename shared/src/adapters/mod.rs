//! Implementations of the [`crate::ports`]: AWS services for Lambda, memory for the local stack
//! and fast tests. Both kinds pass the same conformance tests (`shared/tests/`).

pub mod admin_token;
pub mod cached_connections;
pub mod cached_secrets;
pub mod dynamodb;
pub mod media_folder;
pub mod memory_secrets;
pub mod memory_store;
pub mod s3_media;
pub mod secrets_manager;
pub mod sqs_retry_delay;

pub use admin_token::{FixedAdminToken, SecretsManagerAdminToken};
pub use cached_connections::CachedConnections;
pub use cached_secrets::CachedSecrets;
pub use dynamodb::DynamoDbStore;
pub use media_folder::{LocalMediaFolder, UploadRefused};
pub use memory_secrets::MemorySecrets;
pub use memory_store::MemoryStore;
pub use s3_media::S3MediaStore;
pub use secrets_manager::SecretsManager;
pub use sqs_retry_delay::SqsRetryDelay;
