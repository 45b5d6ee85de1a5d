//! How a bot answers its customers (SPEC §7): what a bot backend receives and how it is signed,
//! and the built-in keyword rules. The responder function and the connections API use it.

pub mod bot_message;
pub mod rules;
pub mod signature;

pub use bot_message::BotMessage;
pub use rules::{CompiledRules, RulesError};
pub use signature::{SIGNATURE_HEADER, sign, verify};
