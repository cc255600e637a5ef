//! The messages carried in a frame, postcard-encoded (see `hal/PROTOCOL.md` §4).

use crate::model::{CardInfo, CmdResult, Command, PortId, TimedEvent};
use serde::{Deserialize, Serialize};

/// Sequence number of a reliable message (command or event), per direction, wrapping.
pub type Seq = u16;

/// Who sent a hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Gateway,
    Card,
}

/// Opening message of a link session, sent by both ends until answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub role: Role,
    /// Oldest protocol version the sender speaks.
    pub min_version: u8,
    /// Newest protocol version the sender speaks.
    pub max_version: u8,
    /// Random value chosen at each start of the sender; a change means the peer restarted
    /// and its sequence numbers begin anew.
    pub boot_id: u32,
    /// True when this hello answers a hello of the peer (an answer is never answered).
    pub answer: bool,
    /// Present when `role` is `Card`.
    pub card: Option<CardInfo>,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// Variant 0: session opening.
    Hello(Hello),
    /// Variant 1: keep-alive; `now_ms` is the sender's clock.
    Heartbeat { now_ms: u32 },
    /// Variant 2: gateway → card, reliable.
    Command {
        seq: Seq,
        port: PortId,
        command: Command,
    },
    /// Variant 3: card → gateway, reliable.
    Event { seq: Seq, event: TimedEvent },
    /// Variant 4: acknowledges the reliable message `seq` of the other direction.
    Ack { seq: Seq, result: CmdResult },
}
