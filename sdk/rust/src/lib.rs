//! Rust client of the intaj-whatsapp REST API (`docs/openapi.yaml`): the same operations,
//! retries, idempotency and errors as the JavaScript SDK.
//!
//! ```no_run
//! # async fn example() -> Result<(), intaj_sdk::IntajError> {
//! use intaj_sdk::{Intaj, SendRequest};
//! let intaj = Intaj::new("your_api_key", "https://abc123.execute-api.eu-west-1.amazonaws.com");
//! let sent = intaj
//!     .whatsapp()
//!     .send(&SendRequest::text("15551234567", "Hello from Intaj!"))
//!     .await?;
//! println!("{} (left this second: {:?})", sent.message_id, sent.rate_limit.remaining);
//! # Ok(()) }
//! ```

mod client;
mod connections;
mod error;
mod types;
mod whatsapp;

pub use client::{Intaj, IntajBuilder, RateLimit};
pub use connections::Connections;
pub use error::IntajError;
pub use intaj_shared::sending::SendRequest;
pub use types::{
    Connection, ConnectionCreated, ConnectionPage, Conversation, Deleted, Media, MediaSent,
    MediaUpload, Message, MessageStatus, Sent, SyncReport, Template, TemplatePage, TemplateQuery,
};
pub use whatsapp::{TemplatePages, WhatsApp};

/// Checks the `X-Intaj-Signature` of a forward or a status event the responder sent a bot
/// backend, refusing one signed more than `tolerance_seconds` ago (a replay).
pub mod webhooks {
    pub use intaj_shared::responding::{SIGNATURE_HEADER, verify};
}
