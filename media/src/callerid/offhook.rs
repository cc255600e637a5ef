//! Caller ID on call waiting (off-hook, "type II" caller ID; Telcordia GR-575-CORE with
//! the FSK of GR-30-CORE, ETSI EN 300 659-2 with V.23): while the phone talks, the
//! subscriber alerting signal (the call-waiting tone's first burst) is followed by the
//! CPE alerting signal (CAS, ETSI's DT-AS: 2130 Hz + 2750 Hz for 80 ms). A phone that
//! can show the caller mutes its handset and acknowledges with DTMF `D` (or `A`); only
//! then is the FSK message sent, without channel seizure. A phone that does not
//! acknowledge within the window hears the CAS chirp and nothing more.
//!
//! [`OffHookCallerId`] is the sequence as a sans-IO machine over 8 kHz samples: the
//! media session asks it for each frame it plays ([`OffHookCallerId::fill`]), tells it
//! the digits it detects in the phone's audio ([`OffHookCallerId::digit`]), and mutes
//! the phone's audio towards the far party while [`OffHookCallerId::mutes_line`] says so.

use super::fsk::FskTransmitter;
use crate::tone::{ToneGenerator, ToneSpec};

/// The CAS: 2130 Hz + 2750 Hz (GR-30-CORE, EN 300 659-2 DT-AS).
pub const CAS_HZ: [f32; 2] = [2130.0, 2750.0];
/// Its length, ms.
pub const CAS_MS: u32 = 80;
/// Its level per tone, dBm0.
pub const CAS_DBM0: f32 = -15.0;
/// How long the phone's acknowledgement may take to be recognised after the CAS ends:
/// the phone has 100 ms to start it (GR-30-CORE), a DTMF detector needs about 40 ms of
/// it, and the frames around it add up to 40 ms more.
pub const ACK_WINDOW_MS: u32 = 300;
/// From the acknowledgement recognised to the first FSK bit: the rest of the 60 ms
/// `D` and the 45..75 ms GR-30 allows after it.
pub const ACK_TO_FSK_MS: u32 = 100;
/// Mark bits before the message (no channel seizure off-hook).
pub const MARK_BITS: u16 = 80;

const SAMPLES_PER_MS: u32 = 8;

/// Where the sequence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The subscriber alerting signal plays (the call-waiting tone, not ours).
    Sas,
    /// Our CAS plays.
    Cas,
    /// Silence while the phone's `D`/`A` is awaited.
    AwaitAck,
    /// Acknowledged: silence before the FSK.
    Acknowledged,
    /// The message goes.
    Fsk,
    /// Over: sent, or not acknowledged.
    Done,
}

/// One caller-ID-on-call-waiting sequence.
#[derive(Debug, Clone)]
pub struct OffHookCallerId {
    phase: Phase,
    /// Samples left in the phase.
    left: u32,
    cas: ToneGenerator,
    fsk: FskTransmitter,
    acknowledged: bool,
}

impl OffHookCallerId {
    /// The sequence for `fsk` (built with no seizure and [`MARK_BITS`] of mark), its CAS
    /// starting `sas_ms` after now (the call-waiting tone's first burst).
    pub fn new(sas_ms: u32, fsk: FskTransmitter) -> OffHookCallerId {
        let spec = ToneSpec::new(&CAS_HZ, CAS_DBM0, &[]).expect("CAS frequencies are valid");
        OffHookCallerId {
            phase: Phase::Sas,
            left: sas_ms * SAMPLES_PER_MS,
            cas: ToneGenerator::new(&spec),
            fsk,
            acknowledged: false,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the phone acknowledged (the message went or goes).
    pub fn acknowledged(&self) -> bool {
        self.acknowledged
    }

    /// Whether the phone's audio must not reach the far party now (from the CAS to the
    /// end of the message: the acknowledgement is signalling, not speech).
    pub fn mutes_line(&self) -> bool {
        matches!(
            self.phase,
            Phase::Cas | Phase::AwaitAck | Phase::Acknowledged | Phase::Fsk
        )
    }

    /// A DTMF key heard from the phone; `true` when it was the acknowledgement (and is
    /// not the far party's business).
    pub fn digit(&mut self, key: char) -> bool {
        match self.phase {
            Phase::Cas | Phase::AwaitAck if matches!(key, 'A' | 'D') => {
                self.acknowledged = true;
                self.phase = Phase::Acknowledged;
                self.left = ACK_TO_FSK_MS * SAMPLES_PER_MS;
                true
            }
            // The rest of the acknowledgement's tone.
            Phase::Acknowledged | Phase::Fsk => matches!(key, 'A' | 'D'),
            _ => false,
        }
    }

    /// Writes this frame's part of the sequence over `out` (the frame the line would
    /// hear); `false` while the call-waiting tone plays and the frame is left as it is.
    pub fn fill(&mut self, out: &mut [i16]) -> bool {
        let n = out.len() as u32;
        match self.phase {
            Phase::Sas => {
                if self.left > n {
                    self.left -= n;
                    return false;
                }
                self.phase = Phase::Cas;
                self.left = CAS_MS * SAMPLES_PER_MS;
                false
            }
            Phase::Cas => {
                let k = self.left.min(n) as usize;
                self.cas.fill(&mut out[..k]);
                out[k..].fill(0);
                self.left -= k as u32;
                if self.left == 0 {
                    self.phase = Phase::AwaitAck;
                    self.left = ACK_WINDOW_MS * SAMPLES_PER_MS;
                }
                true
            }
            Phase::AwaitAck | Phase::Acknowledged => {
                out.fill(0);
                self.left = self.left.saturating_sub(n);
                if self.left == 0 {
                    self.phase = if self.phase == Phase::AwaitAck {
                        Phase::Done
                    } else {
                        Phase::Fsk
                    };
                }
                true
            }
            Phase::Fsk => {
                let k = self.fsk.fill(out);
                out[k..].fill(0);
                if self.fsk.is_done() {
                    self.phase = Phase::Done;
                }
                true
            }
            Phase::Done => false,
        }
    }

    /// Whether the sequence is over.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callerid::{CallerIdRepr, Format, FskParams, FskReceiver, FskStandard};
    use crate::callerid::{Field, Text};

    fn fsk() -> FskTransmitter {
        let repr = CallerIdRepr {
            datetime: None,
            number: Some(Field::Present(Text::new(b"5559876").unwrap())),
            name: None,
        };
        let mut buf = [0u8; 64];
        let n = repr.emit(Format::Mdmf, &mut buf).unwrap();
        let params = FskParams {
            seizure_bits: 0,
            mark_bits: MARK_BITS,
            ..FskParams::new(FskStandard::Bell202)
        };
        FskTransmitter::new(params, &buf[..n]).unwrap()
    }

    /// Frames of 160 samples until `phase`, at most `limit`; how many.
    fn frames_until(s: &mut OffHookCallerId, phase: Phase, limit: usize) -> usize {
        let mut f = [0i16; 160];
        (0..limit)
            .find(|_| {
                s.fill(&mut f);
                s.phase() == phase
            })
            .map_or(limit, |i| i + 1)
    }

    #[test]
    fn the_cas_follows_the_sas_and_without_acknowledgement_nothing_is_sent() {
        let mut s = OffHookCallerId::new(300, fsk());
        let mut f = [7i16; 160];
        assert!(!s.fill(&mut f), "the SAS is the call-waiting tone's");
        assert_eq!(f, [7; 160]);
        assert!(!s.mutes_line());
        assert_eq!(frames_until(&mut s, Phase::Cas, 100), 14, "300 ms of SAS");
        assert!(s.mutes_line());
        assert_eq!(
            frames_until(&mut s, Phase::AwaitAck, 100),
            4,
            "80 ms of CAS"
        );
        assert_eq!(
            frames_until(&mut s, Phase::Done, 100),
            15,
            "300 ms of window"
        );
        assert!(!s.acknowledged() && !s.mutes_line());
        assert!(!s.digit('D'), "too late: the phone's D is the far party's");
    }

    #[test]
    fn an_acknowledgement_brings_the_message_without_seizure() {
        let mut s = OffHookCallerId::new(100, fsk());
        frames_until(&mut s, Phase::AwaitAck, 100);
        assert!(!s.digit('5'));
        assert!(s.digit('D'));
        assert!(s.digit('D'), "the rest of the D is muted too");
        let mut audio = Vec::new();
        let mut f = [0i16; 160];
        while !s.is_done() {
            s.fill(&mut f);
            audio.extend_from_slice(&f);
        }
        assert!(s.acknowledged());
        // 100 ms of silence, then marks and the message.
        assert!(audio[..800].iter().all(|&x| x == 0));
        let mut rx = FskReceiver::new(FskStandard::Bell202);
        let mut number = None;
        rx.process(&audio, |e| {
            if let crate::callerid::FskEvent::Message(m) = e
                && let Ok((_, r)) = CallerIdRepr::parse(&m)
                && let Some(Field::Present(t)) = r.number
            {
                number = Some(t.as_bytes().to_vec());
            }
        });
        assert_eq!(number.as_deref(), Some(&b"5559876"[..]));
    }
}
