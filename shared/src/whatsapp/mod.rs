//! Meta's WhatsApp Cloud API wire formats and the webhook's security checks.

pub mod outbound;
pub mod phone;
pub mod signature;
pub mod verification;
pub mod webhook;
