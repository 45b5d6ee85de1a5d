//! What the product stores and reasons about. No AWS or wire type appears here.

mod connection;
mod customer;
mod message;
mod status;
mod window;

pub use connection::Connection;
pub use customer::CustomerIds;
pub use message::{Direction, InboundMessage, MessageRecord, RawEvent, RawEventKind};
pub use status::{MessageStatus, StatusEvent};
pub use window::{ConversationWindow, WINDOW_SECONDS};

/// Result of trying to record something that may have been delivered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time seen: it is now stored.
    New,
    /// Seen before: nothing changed.
    Duplicate,
}
