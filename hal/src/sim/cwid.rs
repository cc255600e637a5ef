//! A simulated phone that shows caller ID on call waiting (a "type II" phone, Telcordia
//! GR-30-CORE / ETSI EN 300 659-2): off-hook, it listens to what the gateway plays for
//! the CPE alerting signal (CAS, 2130 + 2750 Hz), answers it with DTMF `D` at once, and
//! keeps what it hears next, where the FSK message comes.

use super::audio::{FrameSink, FrameSource};
use super::scenario::ToneDetector;
use crate::audio::Frame;
use std::sync::{Arc, Mutex};

/// How much audio after the CAS is kept (the message takes well under a second).
const KEPT_BYTES: usize = 3 * 8000 * 2;

struct State {
    cas: Arc<Mutex<dyn ToneDetector>>,
    alerted: bool,
    ack: Option<Box<dyn FrameSource>>,
    heard: Vec<u8>,
}

/// The phone: [`TypeTwoPhone::sink`] is fed what the gateway plays, [`TypeTwoPhone::source`]
/// is what the phone sends.
#[derive(Clone)]
pub struct TypeTwoPhone(Arc<Mutex<State>>);

impl TypeTwoPhone {
    /// A phone recognising the CAS with `cas` and acknowledging with `ack` (DTMF `D`).
    pub fn new(cas: Arc<Mutex<dyn ToneDetector>>, ack: Box<dyn FrameSource>) -> TypeTwoPhone {
        TypeTwoPhone(Arc::new(Mutex::new(State {
            cas,
            alerted: false,
            ack: Some(ack),
            heard: Vec::new(),
        })))
    }

    pub fn sink(&self) -> Box<dyn FrameSink> {
        Box::new(self.clone())
    }

    pub fn source(&self) -> Box<dyn FrameSource> {
        Box::new(self.clone())
    }

    /// Whether the CAS was heard.
    pub fn alerted(&self) -> bool {
        self.lock().alerted
    }

    /// What the phone heard after the CAS, S16_LE.
    pub fn heard(&self) -> Vec<u8> {
        self.lock().heard.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl FrameSink for TypeTwoPhone {
    fn frame(&mut self, f: &Frame) {
        let mut s = self.lock();
        if s.alerted {
            if s.heard.len() < KEPT_BYTES {
                s.heard.extend(f.iter().flat_map(|x| x.to_le_bytes()));
            }
            return;
        }
        let heard = match s.cas.lock() {
            Ok(mut d) => {
                d.frame(f);
                d.detected()
            }
            Err(_) => false,
        };
        s.alerted = heard;
    }
}

impl FrameSource for TypeTwoPhone {
    fn fill(&mut self, out: &mut Frame) -> bool {
        let mut s = self.lock();
        if !s.alerted {
            // The handset is quiet while it waits.
            out.fill(0);
            return true;
        }
        let more = s.ack.as_mut().is_some_and(|a| a.fill(out));
        if !more {
            s.ack = None;
        }
        more
    }
}
