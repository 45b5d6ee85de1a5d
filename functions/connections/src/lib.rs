//! The connections function: a business connects its WhatsApp number (credentials checked with
//! Meta, then stored) and gets its webhook URL and API key; admins read, rotate and delete.

mod handler;
pub mod request;
pub mod service;
mod view;

pub use handler::{ConnectionsDeps, handle};
