//! Implementations of the [`crate::ports`]: AWS services for Lambda, memory for the local stack
//! and fast tests. Both kinds pass the same conformance tests (`shared/tests/`).

pub mod cached_secrets;
pub mod memory_secrets;
pub mod memory_store;

pub use cached_secrets::CachedSecrets;
pub use memory_secrets::MemorySecrets;
pub use memory_store::MemoryStore;
