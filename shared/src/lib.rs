//! Everything the intaj-whatsapp functions share.
//!
//! - [`whatsapp`]: Meta's wire formats (webhook payloads) and the webhook's security checks.
//! - [`domain`]: what the product stores and reasons about, free of any AWS type.
//! - [`ports`]: the traits the functions depend on (store, secrets).
//! - [`adapters`]: implementations of the ports (DynamoDB, Secrets Manager, in-memory).
//! - [`api`]: the JSON error shape every HTTP route answers with; [`access`]: API keys and rate
//!   limits of the Bearer routes.
//! - [`graph`]: the Graph API client; [`sending`]: the one send path (API and responder).
//! - [`connecting`]: the credentials check and keys of a connection; [`responding`]: what a bot
//!   receives, how it is signed, the built-in rules.
//! - [`template_sync`]: syncing a bot's message templates from Meta.
//! - [`bootstrap`]: the composition root of every Lambda main; [`http_clients`]: the one TLS
//!   stack of the AWS and Graph clients; [`clock`]: unix seconds.

pub mod access;
pub mod adapters;
pub mod api;
pub mod bootstrap;
pub mod business_urls;
pub mod clock;
pub mod config;
pub mod connecting;
pub mod domain;
pub mod graph;
pub mod http_clients;
pub mod ports;
pub mod responding;
pub mod sending;
pub mod template_sync;
pub mod whatsapp;
