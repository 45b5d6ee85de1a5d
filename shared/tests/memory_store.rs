//! The in-memory store against the conformance suite.

mod conformance;

use std::sync::Arc;

use intaj_shared::adapters::MemoryStore;
use intaj_shared::ports::Store;

async fn memory_store() -> Option<Arc<dyn Store>> {
    Some(Arc::new(MemoryStore::new()))
}

conformance::conformance_suite!(memory_store());
