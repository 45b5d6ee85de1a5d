//! The template-sync function: `POST /api/whatsapp/sync-templates`, `GET /api/whatsapp/templates`
//! and the hourly schedule that syncs every connection. `main.rs` wires it into Lambda; the local
//! stack and the tests call [`handler::handle`] and [`schedule::sync_all`] directly.

pub mod handler;
mod invocation;
mod listing;
pub mod schedule;

pub use handler::{TemplateSyncDeps, handle};
pub use invocation::invoke;
pub use schedule::{ScheduleReport, ScheduleSettings, sync_all};
