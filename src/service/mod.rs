//! Running as a system service: readiness, status and watchdog notifications to systemd,
//! and the log (the journal under systemd).

pub mod log;
pub mod notify;
pub mod panic;
pub(crate) mod wire_log;

pub use notify::{Notifier, WatchdogPacer};
