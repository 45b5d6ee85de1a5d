//! The media function: `GET /api/whatsapp/media/{mediaId}`, a customer's media copied from Meta
//! into the stack's own storage and answered as a short-lived URL. `main.rs` wires it into
//! Lambda; the local stack and the tests call [`handler::handle`] directly.

mod fetch;
pub mod handler;

pub use fetch::URL_VALID_FOR;
pub use handler::{MediaDeps, handle};
