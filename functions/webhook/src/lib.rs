//! The webhook function: Meta's verification handshake (`GET`) and signed webhook receipt
//! (`POST`) on `/webhook/whatsapp/{botId}`. `main.rs` wires it into Lambda; the local stack and
//! the tests call [`handler::handle`] directly.

pub mod allocator;
pub mod handler;
pub mod receipt;
mod template_events;

pub use handler::{WebhookDeps, handle};
