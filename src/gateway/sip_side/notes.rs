//! The SIP side's notes for the call records ([`crate::ops::record`]): a port's call
//! started, was answered, ended — with the Call-ID, the parties and the INVITE's final
//! status only this side knows. Each `Ended` goes out after the port's own event about
//! the end, so the line side has stopped the call's bridge (and kept its counters) first.

use super::{Dir, PortEvent, SipSide};
use crate::ops::record::{Direction, EndCause, LegNote};
use tipring_sip::ua::{CallHandle, EndReason};

impl SipSide {
    /// A port's call exists: INVITE sent (`Dir::Out`) or taken (`Dir::In`).
    pub(super) fn note_started(
        &mut self,
        port: u8,
        call: CallHandle,
        dir: Dir,
        caller: &str,
        called: &str,
    ) {
        let note = LegNote::Started {
            call_id: self.ua.call_id(call).unwrap_or_default().to_owned(),
            direction: match dir {
                Dir::In => Direction::Incoming,
                Dir::Out => Direction::Outgoing,
            },
            caller: caller.to_owned(),
            called: called.to_owned(),
        };
        self.events.push_back(PortEvent::Leg { port, note });
    }

    /// The port's call was answered (200 sent or received).
    pub(super) fn note_answered(&mut self, port: u8) {
        if let Some(c) = self.slots.get_mut(&port).and_then(|s| s.call.as_mut()) {
            c.answered = true;
        }
        self.events.push_back(PortEvent::Leg {
            port,
            note: LegNote::Answered,
        });
    }

    /// The port's call is over.
    pub(super) fn note_ended(&mut self, port: u8, code: u16, cause: EndCause) {
        self.events.push_back(PortEvent::Leg {
            port,
            note: LegNote::Ended { code, cause },
        });
    }
}

/// The record's final status and cause of a call the UA ended for `reason`.
pub(super) fn end_of(reason: &EndReason, dir: Dir, answered: bool) -> (u16, EndCause) {
    let code = |unanswered: u16| if answered { 200 } else { unanswered };
    match *reason {
        EndReason::LocalBye => (code(487), EndCause::LocalHangup),
        EndReason::RemoteBye => (code(487), EndCause::RemoteHangup),
        EndReason::Cancelled => match dir {
            Dir::In => (487, EndCause::CallerCancelled),
            Dir::Out => (487, EndCause::Abandoned),
        },
        EndReason::LocalReject(c) => (c, EndCause::Rejected),
        EndReason::Failed { code, .. } => (code, EndCause::FarEndRejected),
        EndReason::AuthFailed(c) => (c, EndCause::AuthFailed),
        EndReason::TooManyRedirects => (code(480), EndCause::RedirectLoop),
        EndReason::Timeout => (code(408), EndCause::NoResponse),
        EndReason::NoAck => (200, EndCause::NoAck),
        EndReason::DialogGone(c) => (code(c), EndCause::DialogLost),
        EndReason::SessionExpired => (200, EndCause::SessionExpired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answered_call_keeps_200_whatever_ends_it() {
        assert_eq!(
            end_of(&EndReason::RemoteBye, Dir::Out, true),
            (200, EndCause::RemoteHangup)
        );
        assert_eq!(
            end_of(&EndReason::DialogGone(481), Dir::In, true),
            (200, EndCause::DialogLost)
        );
        assert_eq!(
            end_of(&EndReason::Timeout, Dir::Out, false),
            (408, EndCause::NoResponse)
        );
        let failed = EndReason::Failed {
            code: 486,
            retry_after: None,
        };
        assert_eq!(
            end_of(&failed, Dir::Out, false),
            (486, EndCause::FarEndRejected)
        );
        assert_eq!(
            end_of(&EndReason::Cancelled, Dir::In, false),
            (487, EndCause::CallerCancelled)
        );
    }
}
