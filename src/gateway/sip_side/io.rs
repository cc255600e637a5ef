//! The tokio driver of a [`SipSide`]:
//!
//! ```text
//! pub async fn run(
//!     side: SipSide,
//!     intents: tokio::sync::mpsc::Receiver<(u8, SipIntent)>,
//!     events: tokio::sync::mpsc::Sender<PortEvent>,
//!     shutdown: tokio::sync::watch::Receiver<bool>,
//! ) -> std::io::Result<()>
//! ```
