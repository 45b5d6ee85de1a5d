//! The send route's model: what an API caller asks to send, checked against WhatsApp's rules
//! before Meta is called.

pub mod idempotency;
pub mod request;
pub mod service;
pub mod template_checks;

pub use request::{SendRequest, ValidatedSend, ValidationError};
pub use template_checks::{TemplateCheckError, check_template_message};
