//! The responder: each customer message handed to the connection's bot (its built-in rules or
//! its own backend), whose replies go out through the one send path, once per message.

pub mod forward;
pub mod queue;
pub mod respond;
pub mod status_callbacks;

pub use respond::{Handled, RespondError, ResponderDeps, respond, send_fallback};
pub use status_callbacks::notify_status;
