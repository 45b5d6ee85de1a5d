//! The send function: `POST /api/whatsapp/send`, `GET /api/whatsapp/messages/{messageId}` and
//! `GET /api/whatsapp/conversations/{phone}`. `main.rs` wires it into Lambda; the local stack and
//! the tests call [`handler::handle`] directly.

pub mod handler;
mod reads;

pub use handler::{SendDeps, handle};
