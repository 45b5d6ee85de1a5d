//! The media function. Inbound: `GET /api/whatsapp/media/{mediaId}`, a customer's media copied
//! from Meta into the stack's own storage and answered as a short-lived URL. Outbound:
//! `POST /api/whatsapp/media/uploads` and `POST /api/whatsapp/media`, a business's file checked
//! against WhatsApp's rules and streamed to Meta. `main.rs` wires it into Lambda; the local stack
//! and the tests call [`handler::handle`] directly.

mod fetch;
pub mod handler;
mod outbound;

pub use fetch::URL_VALID_FOR;
pub use handler::{MediaDeps, handle};
pub use outbound::{DIRECT_MAX_BYTES, UPLOAD_URL_VALID_FOR};
