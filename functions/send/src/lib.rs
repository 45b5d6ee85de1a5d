//! The send function: `POST /api/whatsapp/send`, `GET /api/whatsapp/messages/{messageId}`,
//! `POST /api/whatsapp/messages/{messageId}/read` and the conversation routes. `main.rs` wires
//! it into Lambda; the local stack and the tests call [`handler::handle`] directly.

pub mod handler;
mod read_receipt;
mod reads;

pub use handler::{SendDeps, handle};
