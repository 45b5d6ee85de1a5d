//! How a bot answers its customers (SPEC §7): what a bot backend receives and how it is signed,
//! the built-in keyword rules, and the status events a business's `eventsUrl` receives. The
//! responder function and the connections API use it.

pub mod bot_message;
pub mod rules;
pub mod signature;
pub mod status_callback;

pub use bot_message::BotMessage;
pub use rules::{CompiledRules, RulesError};
pub use signature::{SIGNATURE_HEADER, sign, verify};
pub use status_callback::{StatusCallback, TemplateStatusCallback};
