//! Dialogs (RFC 3261 §12): the peer-to-peer relationship an INVITE sets up, with its
//! identifier, route set, remote target and sequence numbers. A [`Dialog`] owns its state
//! (it outlives the messages that created it) and builds the requests sent inside it.

#[allow(clippy::module_inception)]
mod dialog;

pub use dialog::{Dialog, DialogError, DialogId, DialogState, RemoteCSeq};
