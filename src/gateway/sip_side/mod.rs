//! TEMPORARY placeholder of gw-sip's SIP side, with exactly its announced interface, so
//! the runtime builds before that branch is merged. It is replaced wholesale by the merge.

pub mod io;

use crate::call::{SipEvent, SipIntent};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;
use tipring_media::g711::Law;

/// What the media bridge needs to run a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaParams {
    pub law: Law,
    pub payload_type: u8,
    pub event_payload_type: Option<u8>,
    pub remote: SocketAddr,
}

/// What the SIP side tells the ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortEvent {
    Call {
        port: u8,
        event: SipEvent,
    },
    Media {
        port: u8,
        media: MediaParams,
    },
    Wire {
        outbound: bool,
        peer: SocketAddr,
        summary: String,
    },
    Notice(String),
}

/// Why the SIP side cannot start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SipSideError(pub String);

/// The SIP side (placeholder).
pub struct SipSide {
    pub(crate) local: SocketAddr,
}

impl SipSide {
    pub fn new(
        _cfg: &crate::config::Loaded,
        local: SocketAddr,
        _rtp: &BTreeMap<u8, SocketAddr>,
        _seed: u64,
    ) -> Result<SipSide, SipSideError> {
        Ok(SipSide { local })
    }
    pub fn intent(&mut self, _now: Instant, _port: u8, _intent: SipIntent) {}
    pub fn start(&mut self, _now: Instant) {}
    pub fn shutdown(&mut self, _now: Instant) {}
}
